/* hubs-connection-context-private.h: one hub connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-hub-context-private.h"
#include "hubs-hub-protocol-private.h"
#include "hubs-lifetime-manager-private.h"

G_BEGIN_DECLS

#define HUBS_TYPE_CONNECTION_CONTEXT (hubs_connection_context_get_type ())
G_DECLARE_FINAL_TYPE (HubsConnectionContext, hubs_connection_context, HUBS, CONNECTION_CONTEXT, GObject)

HubsConnectionContext *hubs_connection_context_new                 (HubsHubContext        *hub_context,
                                                                    HubsHttpConnection    *http_connection);
void                   hubs_connection_context_start               (HubsConnectionContext *self);
const char            *hubs_connection_context_get_connection_id   (HubsConnectionContext *self);
const char            *hubs_connection_context_get_user_identifier (HubsConnectionContext *self);
HubsCallerContext     *hubs_connection_context_get_caller_context  (HubsConnectionContext *self);
HubsHubContext        *hubs_connection_context_get_hub_context     (HubsConnectionContext *self);
const HubsHubProtocol *hubs_connection_context_get_protocol        (HubsConnectionContext *self);
/* Queues the message's bytes in this connection's protocol; FALSE when the
 * connection can no longer send (closed, or its outgoing buffer is full and
 * it has been aborted for it). */
gboolean               hubs_connection_context_send                (HubsConnectionContext *self,
                                                                    HubsSerializedMessage *message);
void                   hubs_connection_context_write_message       (HubsConnectionContext *self,
                                                                    HubsHubMessage        *message);
/* Ends the connection from the server's side with a Close message. */
void                   hubs_connection_context_close               (HubsConnectionContext *self,
                                                                    const char            *error,
                                                                    gboolean               allow_reconnect);
void                   hubs_connection_context_abort               (HubsConnectionContext *self);
gboolean               hubs_connection_context_is_closed           (HubsConnectionContext *self);

/* Streams (hubs-stream-writer.c, hubs-stream-reader.c). */
typedef struct _HubsStreamWriter HubsStreamWriter;
typedef struct _HubsStreamReader HubsStreamReader;

gboolean hubs_connection_context_has_stream_writer    (HubsConnectionContext *self,
                                                       const char            *invocation_id);
/* FALSE when the writer's invocation id is in use. */
gboolean hubs_connection_context_add_stream_writer    (HubsConnectionContext *self,
                                                       HubsStreamWriter      *writer);
void     hubs_connection_context_remove_stream_writer (HubsConnectionContext *self,
                                                       HubsStreamWriter      *writer);
/* Whether stream writes must wait for the client to read. */
gboolean hubs_connection_context_is_congested         (HubsConnectionContext *self);
/* Takes @task; returns TRUE on it once there is room, or an error once the
 * connection ends. */
void     hubs_connection_context_wait_drained         (HubsConnectionContext *self,
                                                       GTask                 *task);
/* FALSE when the stream id is in use. */
gboolean hubs_connection_context_add_upload_stream    (HubsConnectionContext *self,
                                                       HubsStreamReader      *reader);
/* The method is done with @reader: it ends, and later items are dropped. */
void     hubs_connection_context_end_upload_stream    (HubsConnectionContext *self,
                                                       HubsStreamReader      *reader);
/* The method read an item: a blocked connection may read on. */
void     hubs_connection_context_upload_consumed      (HubsConnectionContext *self);

/* Client results: invokes @method on this client and waits for its
 * Completion. @result_type G_TYPE_INVALID accepts any value (a GVariant). */
void     hubs_connection_context_invoke_client_async  (HubsConnectionContext *self,
                                                       const char            *method,
                                                       guint                  n_args,
                                                       const GValue          *args,
                                                       GType                  result_type,
                                                       GCancellable          *cancellable,
                                                       GAsyncReadyCallback    callback,
                                                       gpointer               user_data);
/* @value: (out caller-allocates) (optional) */
gboolean hubs_connection_context_invoke_client_finish (HubsConnectionContext *self,
                                                       GAsyncResult          *result,
                                                       GValue                *value,
                                                       GError               **error);

G_END_DECLS
