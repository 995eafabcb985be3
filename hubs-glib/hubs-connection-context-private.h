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

G_END_DECLS
