/* hubs-client-private.h: what the client's files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The client stands beside the server, on the protocol layer: a
 * HubsConnection speaks to a SignalR server through one HubsClientTransport
 * at a time (WebSockets, Server-Sent Events or Long Polling over a
 * SoupSession) and turns its bytes into hub messages with the same
 * HubsHubProtocol the server uses.
 */

#pragma once

#include <libsoup/soup.h>

#include "hubs-types.h"
#include "hubs-error.h"
#include "hubs-hub-protocol-private.h"
#include "hubs-connection.h"
#include "hubs-client-invocation.h"
#include "hubs-client-stream.h"
#include "hubs-client-upload.h"
#include "hubs-access-token-request.h"

G_BEGIN_DECLS

/* Negotiation (hubs-client-negotiate.c) */

typedef struct
{
  char *name;                   /* "WebSockets", as the server wrote it */
  HubsTransportType type;       /* HUBS_TRANSPORT_NONE when unknown */
  gboolean text;
  gboolean binary;
} HubsNegotiatedTransport;

typedef struct
{
  int negotiate_version;
  char *connection_id;
  char *connection_token;       /* the connection id in version 0 */
  char *url;                    /* a redirect */
  char *access_token;           /* a redirect's */
  char *error;
  gboolean use_stateful_reconnect;
  gboolean old_server;          /* ASP.NET SignalR's "ProtocolVersion" */
  GPtrArray *transports;        /* HubsNegotiatedTransport */
} HubsNegotiation;

char            *hubs_negotiate_url        (const char      *url,
                                            gboolean         stateful_reconnect);
char            *hubs_connect_url          (const char      *url,
                                            const char      *connection_token);
HubsNegotiation *hubs_negotiation_parse    (GBytes          *body,
                                            GError         **error);
void             hubs_negotiation_free     (HubsNegotiation *negotiation);
const char      *hubs_transport_type_name  (HubsTransportType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HubsNegotiation, hubs_negotiation_free)

/* Transports (hubs-client-transport.c and one file each) */

#define HUBS_TYPE_CLIENT_TRANSPORT (hubs_client_transport_get_type ())
G_DECLARE_DERIVABLE_TYPE (HubsClientTransport, hubs_client_transport, HUBS, CLIENT_TRANSPORT, GObject)

typedef void (*HubsClientTransportReceiveFunc) (HubsClientTransport *transport,
                                                GBytes              *data,
                                                gpointer             user_data);
/* Called once, when the transport has ended: @error is NULL after a clean
 * stop. */
typedef void (*HubsClientTransportCloseFunc)   (HubsClientTransport *transport,
                                                const GError        *error,
                                                gpointer             user_data);

struct _HubsClientTransportClass
{
  GObjectClass parent_class;

  HubsTransportType type;
  gboolean inherent_keep_alive;

  void (*connect_async) (HubsClientTransport *self,
                         const char          *url,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data);
  /* Queues @data; a failure ends the transport. */
  void (*send)          (HubsClientTransport *self,
                         GBytes              *data);
  /* Ends the transport; close is reported with @error (nullable). */
  void (*stop)          (HubsClientTransport *self,
                         const GError        *error);
};

/* What every request of a connection carries. */
typedef struct
{
  SoupSession *session;
  HubsTransferFormat transfer_format;
  GPtrArray *headers;           /* name, value, name, value, … */
  char *access_token;           /* nullable */
  gsize max_receive_size;       /* of a frame or event; 0 for no limit */
} HubsClientRequestOptions;

HubsClientTransport *hubs_client_transport_new        (HubsTransportType               type,
                                                       const HubsClientRequestOptions *options);
void                 hubs_client_transport_set_handlers (HubsClientTransport           *self,
                                                       HubsClientTransportReceiveFunc  receive,
                                                       HubsClientTransportCloseFunc    close,
                                                       gpointer                        user_data);
void                 hubs_client_transport_connect_async (HubsClientTransport *self,
                                                        const char          *url,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean             hubs_client_transport_connect_finish (HubsClientTransport *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
void                 hubs_client_transport_send       (HubsClientTransport *self,
                                                       GBytes              *data);
void                 hubs_client_transport_stop       (HubsClientTransport *self,
                                                       const GError        *error);
HubsTransportType    hubs_client_transport_get_kind   (HubsClientTransport *self);
gboolean             hubs_client_transport_has_inherent_keep_alive (HubsClientTransport *self);

/* For the implementations */
const HubsClientRequestOptions *hubs_client_transport_get_options (HubsClientTransport *self);
void                 hubs_client_transport_apply_headers (HubsClientTransport *self,
                                                         SoupMessage         *message);
void                 hubs_client_transport_received   (HubsClientTransport *self,
                                                       GBytes              *data);
void                 hubs_client_transport_closed     (HubsClientTransport *self,
                                                       const GError        *error);
gboolean             hubs_client_transport_is_closed  (HubsClientTransport *self);
void                 hubs_client_transport_set_post_url (HubsClientTransport *self,
                                                        const char          *url);
void                 hubs_client_transport_post       (HubsClientTransport *self,
                                                       GBytes              *data);
void                 hubs_client_transport_cancel_posts (HubsClientTransport *self);
GError              *hubs_client_http_error           (SoupMessage         *message);
void                 hubs_client_send_and_read_async  (SoupSession         *session,
                                                       SoupMessage         *message,
                                                       gsize                max,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
GBytes              *hubs_client_send_and_read_finish (GAsyncResult        *result,
                                                       GError             **error);
SoupMessage         *hubs_client_send_and_read_get_message (GAsyncResult   *result);
char                *hubs_client_poll_url             (const char          *url);

GType hubs_client_websocket_transport_get_type    (void);
GType hubs_client_sse_transport_get_type          (void);
GType hubs_client_long_polling_transport_get_type (void);

void hubs_client_request_options_clear (HubsClientRequestOptions *options);

/* Between the connection, its invocations and its streams */

HubsClientInvocation *hubs_client_invocation_new            (HubsConnection *connection,
                                                             guint           transport_serial,
                                                             const char     *method,
                                                             const char     *invocation_id);
void                  hubs_client_invocation_set_arguments  (HubsClientInvocation *self,
                                                             GValue               *values,
                                                             guint                 n_values);
gboolean              hubs_client_invocation_is_completed   (HubsClientInvocation *self);
void                  hubs_client_invocation_complete_unanswered (HubsClientInvocation *self,
                                                                  const char           *error);
/* Around the handlers of one call: the answer goes once all have given
 * theirs (multiple values are an error, as in the JavaScript client). */
void                  hubs_client_invocation_begin_dispatch  (HubsClientInvocation *self);
guint                 hubs_client_invocation_get_n_answers   (HubsClientInvocation *self);
void                  hubs_client_invocation_handler_returned (HubsClientInvocation *self,
                                                              gboolean              handled,
                                                              guint                 answers_before);
void                  hubs_client_invocation_end_dispatch    (HubsClientInvocation *self);

/* Dropped unless @transport_serial names the transport still in use: an
 * answer belongs to the connection the call came on. A NULL @result
 * writes no result (an upload's end); a null one is an unset GValue. */
void hubs_connection_send_completion (HubsConnection *self,
                                      guint           transport_serial,
                                      const char     *invocation_id,
                                      const GValue   *result,
                                      const char     *error);

void hubs_connection_send_upload_item (HubsConnection *self,
                                       guint           transport_serial,
                                       const char     *stream_id,
                                       const GValue   *item);

gboolean hubs_client_upload_is_bound (HubsClientUpload *self);
void     hubs_client_upload_bind     (HubsClientUpload *self,
                                      HubsConnection   *connection,
                                      guint             transport_serial,
                                      const char       *stream_id);

typedef void (*HubsAccessTokenReadyFunc) (const char   *token,
                                          const GError *error,
                                          gpointer      user_data);

HubsAccessTokenRequest *hubs_access_token_request_new (GCancellable             *cancellable,
                                                       HubsAccessTokenReadyFunc  ready,
                                                       gpointer                  ready_data,
                                                       GDestroyNotify            ready_destroy);

HubsClientStream *hubs_client_stream_new      (HubsConnection   *connection,
                                               const char       *invocation_id);
void              hubs_client_stream_item     (HubsClientStream *self,
                                               const GValue     *item);
void              hubs_client_stream_complete (HubsClientStream *self,
                                               const GError     *error);
void              hubs_connection_cancel_stream (HubsConnection *self,
                                                 const char     *invocation_id);

G_END_DECLS
