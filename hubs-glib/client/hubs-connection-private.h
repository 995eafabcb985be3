/* hubs-connection-private.h: what the connection's two files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * hubs-connection.c holds the object, its public API, its state and the
 * reconnect loop; hubs-connection-wire.c what happens on the wire: the
 * start attempt (negotiate, transports, handshake) and the messages
 * received.
 */

#pragma once

#include "hubs-client-private.h"
#include "hubs-message-buffer-private.h"

G_BEGIN_DECLS

#define MAX_REDIRECTS 100
/* The reference clients' default (statefulReconnectBufferSize). */
#define STATEFUL_RECONNECT_BUFFER_SIZE 100000

typedef struct
{
  guint id;
  guint n_params;
  GType *param_types;
  HubsClientMethodFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Handler;

typedef struct
{
  HubsConnection *connection;   /* weak: the call is the connection's */
  char *invocation_id;
  GTask *task;                  /* invoke */
  HubsClientStream *stream;     /* stream */
  GType result_type;
  GCancellable *cancellable;
  gulong cancelled_id;
} PendingCall;

/* One try at starting: negotiate, transports, handshake. */
typedef struct
{
  char *url;
  char *access_token;           /* the token function's, or a redirect's */
  guint redirects;
  HubsNegotiation *negotiation; /* the one the next transport uses */
  GPtrArray *offered;           /* HubsNegotiatedTransport, the first answer's */
  guint transport_index;
  GString *transport_errors;
  HubsClientTransport *transport;
  char *connect_url;            /* the transport's, with the id */
  gboolean stateful;            /* stateful reconnect was negotiated */
} Attempt;

struct _HubsConnection
{
  GObject parent_instance;

  char *url;
  HubsTransportType transports;
  gboolean skip_negotiation;
  char *protocol_name;
  const HubsHubProtocol *protocol;
  guint server_timeout;
  guint keep_alive_interval;
  guint handshake_timeout;
  guint max_receive_size;
  guint http_timeout;
  gboolean automatic_reconnect;
  gboolean stateful_reconnect;
  GTlsDatabase *tls_database;

  GMainContext *context;
  SoupSession *session;
  GPtrArray *headers;
  HubsAccessTokenFunc token_func;
  HubsAccessTokenRequestFunc token_request_func;
  gpointer token_request_data;
  GDestroyNotify token_request_destroy;
  gpointer token_data;
  GDestroyNotify token_destroy;
  HubsReconnectPolicyFunc policy_func;
  gpointer policy_data;
  GDestroyNotify policy_destroy;

  HubsConnectionState state;
  gboolean connection_started;
  char *connection_id;
  HubsTransportType transport_type;

  GTask *attempt_task;          /* the start attempt under way */
  GTask *start_task;
  gulong start_cancelled_id;
  GPtrArray *stop_tasks;

  HubsClientTransport *transport;
  char *transport_url;          /* for a stateful reconnect */
  char *access_token;           /* the attempt's, for the same */
  gboolean transport_stopping;  /* we ended the transport */
  gboolean use_stateful;        /* negotiated for this connection */
  HubsMessageBuffer *message_buffer; /* with stateful reconnect */
  GQueue buffer_waiters;        /* GTask: sends held back while it is full */
  GSource *ack_source;
  GCancellable *resume_cancellable;
  HubsClientTransport *resuming;   /* the WebSocket being reconnected */
  GError *resume_error;            /* why, for when it fails */
  guint transport_serial;       /* counts the transports connected */
  gboolean handshake_done;
  GByteArray *received;
  GSource *server_timeout_source;
  GSource *keep_alive_source;
  GSource *handshake_timeout_source;
  gint64 next_keep_alive;

  GSource *reconnect_source;
  guint reconnect_attempts;
  gint64 reconnect_started;
  GError *reconnect_error;

  guint64 next_invocation_id;
  GHashTable *pending;          /* id → PendingCall */
  GHashTable *handlers;         /* lower-case method → GPtrArray of Handler */
  guint next_handler_id;
};

void     hubs_connection_set_state          (HubsConnection      *self,
                                             HubsConnectionState  state);
void     hubs_connection_set_connection_id  (HubsConnection      *self,
                                             const char          *connection_id);
void     hubs_connection_clear_source       (GSource            **source);
GSource *hubs_connection_add_timeout        (HubsConnection      *self,
                                             guint                msec,
                                             GSourceFunc          func);
void     hubs_connection_pending_call_free  (gpointer             data);
void     hubs_connection_value_free         (gpointer             data);
void     hubs_connection_apply_request_headers (HubsConnection   *self,
                                             SoupMessage         *message,
                                             const char          *access_token);
void     hubs_connection_reset_keep_alive   (HubsConnection      *self);
void     hubs_connection_send_message       (HubsConnection      *self,
                                             HubsHubMessage      *message);
void     hubs_connection_reset_server_timeout (HubsConnection    *self);
void     hubs_connection_clear_timers       (HubsConnection      *self);
void     hubs_connection_drop_transport     (HubsConnection      *self);
/* The stateful reconnect buffer: sends held back while it is full go on
 * once acknowledgements make room, and fail when it goes (@error, or
 * "closed" for NULL). */
void     hubs_connection_release_buffer_waiters (HubsConnection  *self);
void     hubs_connection_drop_message_buffer (HubsConnection     *self,
                                              const GError       *error);
/* Ends the transport on purpose: no stateful reconnect follows. */
void     hubs_connection_stop_transport     (HubsConnection      *self,
                                             const GError        *error);
/* The transport ended, with @error or cleanly. */
void     hubs_connection_handle_close       (HubsConnection      *self,
                                             const GError        *error);

/* Sends an Ack within a second, once (MessageBuffer.js `_ackTimer`). */
void     hubs_connection_schedule_ack       (HubsConnection      *self);

/* hubs-connection-wire.c */
void     hubs_connection_start_attempt      (HubsConnection      *self,
                                             GAsyncReadyCallback  callback);
void     hubs_connection_attempt_return     (HubsConnection      *self,
                                             GError              *error);
void     hubs_connection_abort_attempt      (HubsConnection      *self,
                                             const char          *message);
void     hubs_connection_on_transport_receive (HubsClientTransport *transport,
                                             GBytes              *data,
                                             gpointer             user_data);
void     hubs_connection_on_transport_close (HubsClientTransport *transport,
                                             const GError        *error,
                                             gpointer             user_data);

G_END_DECLS
