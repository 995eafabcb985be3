/* hubs-connection.c: a SignalR client connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rules are those of the JavaScript client (HubConnection.js,
 * HttpConnection.js, DefaultReconnectPolicy.js in dotnet/aspnetcore
 * src/SignalR/clients/ts/signalr), and so are the error texts where a caller
 * may want to compare them.
 */

#include "hubs-connection-private.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "hubs-enums.h"
#include "hubs-version.h"

/**
 * HubsConnection:
 *
 * A connection to a SignalR hub on a server, hubs-glib's or ASP.NET Core's:
 * SignalR's `HubConnection`.
 *
 * ```c
 * g_autoptr(HubsConnection) connection = hubs_connection_new ("https://example.com/chat");
 *
 * hubs_connection_on (connection, "ReceiveMessage", 0, NULL,
 *                     on_receive_message, NULL, NULL);
 * hubs_connection_start_async (connection, NULL, on_started, NULL);
 * ```
 *
 * Starting negotiates with the server (versions 1 and 0, following
 * redirects), connects the first transport the server offers that
 * [property@Hubs.Connection:transports] allows, in the server's order, and
 * performs the hub protocol handshake. Once connected, the connection calls
 * hub methods ([method@Hubs.Connection.invoke_async],
 * [method@Hubs.Connection.send_async], [method@Hubs.Connection.stream]) and
 * the server calls the handlers registered with [method@Hubs.Connection.on].
 *
 * It pings the server every [property@Hubs.Connection:keep-alive-interval]
 * and gives up on a server silent for
 * [property@Hubs.Connection:server-timeout]. When the connection is lost, it
 * emits [signal@Hubs.Connection::closed], or, with
 * [property@Hubs.Connection:automatic-reconnect],
 * [signal@Hubs.Connection::reconnecting] and then
 * [signal@Hubs.Connection::reconnected] or
 * [signal@Hubs.Connection::closed] after the last attempt: by default after
 * 0, 2, 10 and 30 seconds, like the JavaScript client's default policy.
 *
 * Every callback and signal runs on the thread-default main context of the
 * thread that created the connection.
 *
 * Since: 0.1
 */

#define DEFAULT_SERVER_TIMEOUT_MS 30000
#define DEFAULT_KEEP_ALIVE_MS 15000
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 15000
/* Far above what SignalR servers send by default (ASP.NET Core refuses to
 * receive more than 32 KB), far below what would hurt a desktop. */
#define DEFAULT_MAX_RECEIVE_SIZE (16 * 1024 * 1024)
/* HttpConnectionOptions.timeout of the JavaScript client */
#define DEFAULT_HTTP_TIMEOUT_MS 100000

static const gint64 default_retry_delays[] = { 0, 2000, 10000, 30000 };

enum
{
  PROP_0,
  PROP_URL,
  PROP_TRANSPORTS,
  PROP_SKIP_NEGOTIATION,
  PROP_PROTOCOL,
  PROP_SERVER_TIMEOUT,
  PROP_KEEP_ALIVE_INTERVAL,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_MAX_RECEIVE_SIZE,
  PROP_HTTP_TIMEOUT,
  PROP_AUTOMATIC_RECONNECT,
  PROP_STATEFUL_RECONNECT,
  PROP_TLS_DATABASE,
  PROP_STATE,
  PROP_CONNECTION_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CLOSED,
  SIGNAL_RECONNECTING,
  SIGNAL_RECONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HubsConnection, hubs_connection, G_TYPE_OBJECT)

static void start_reconnect (HubsConnection *self, const GError *error);

/* Small helpers */

void
hubs_connection_set_state (HubsConnection      *self,
                           HubsConnectionState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
hubs_connection_set_connection_id (HubsConnection *self,
                                   const char     *connection_id)
{
  if (g_strcmp0 (self->connection_id, connection_id) == 0)
    return;
  g_free (self->connection_id);
  self->connection_id = g_strdup (connection_id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTION_ID]);
}

void
hubs_connection_clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

GSource *
hubs_connection_add_timeout (HubsConnection *self,
                             guint           msec,
                             GSourceFunc     func)
{
  GSource *source = g_timeout_source_new (msec);

  g_source_set_callback (source, func, self, NULL);
  g_source_set_static_name (source, "[hubs] client timer");
  g_source_attach (source, self->context);
  return source;
}

static void
handler_free (gpointer data)
{
  Handler *handler = data;

  if (handler->destroy != NULL)
    handler->destroy (handler->user_data);
  g_free (handler->param_types);
  g_free (handler);
}

void
hubs_connection_pending_call_free (gpointer data)
{
  PendingCall *call = data;

  if (call->cancelled_id != 0)
    g_cancellable_disconnect (call->cancellable, call->cancelled_id);
  g_clear_object (&call->cancellable);
  g_clear_object (&call->task);
  g_clear_object (&call->stream);
  g_free (call->invocation_id);
  g_free (call);
}

void
hubs_connection_value_free (gpointer data)
{
  GValue *value = data;

  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

static char *
next_invocation_id (HubsConnection *self)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT, self->next_invocation_id++);
}

void
hubs_connection_apply_request_headers (HubsConnection *self,
                                       SoupMessage    *message,
                                       const char     *access_token)
{
  SoupMessageHeaders *headers = soup_message_get_request_headers (message);

  soup_message_headers_replace (headers, "X-SignalR-User-Agent",
                                "hubs-glib/" HUBS_VERSION_STRING " (Unknown OS; GLib; Unknown Runtime Version)");
  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    soup_message_headers_replace (headers, self->headers->pdata[i], self->headers->pdata[i + 1]);
  if (access_token != NULL)
    {
      g_autofree char *bearer = g_strdup_printf ("Bearer %s", access_token);

      soup_message_headers_replace (headers, "Authorization", bearer);
    }
}

/* Sending */

void
hubs_connection_reset_keep_alive (HubsConnection *self)
{
  self->next_keep_alive = g_get_monotonic_time () + (gint64) self->keep_alive_interval * 1000;
}

void
hubs_connection_send_message (HubsConnection *self,
                              HubsHubMessage *message)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;

  if (self->transport == NULL && self->resuming == NULL)
    return;

  self->protocol->write_message (message, out);
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&out));
  /* Kept until the server acknowledges them, and sent again on a resumed
   * connection. */
  if (self->message_buffer != NULL && hubs_message_type_is_sequenced (message->type))
    hubs_message_buffer_add (self->message_buffer, message->type, bytes);
  if (self->transport == NULL)
    return;
  hubs_connection_reset_keep_alive (self);
  hubs_client_transport_send (self->transport, bytes);
}

void
hubs_connection_send_completion (HubsConnection *self,
                                 guint           transport_serial,
                                 const char     *invocation_id,
                                 const GValue   *result,
                                 const char     *error)
{
  g_autoptr(HubsHubMessage) message = NULL;

  if (self->state != HUBS_CONNECTION_STATE_CONNECTED || transport_serial != self->transport_serial)
    {
      g_debug ("The answer to the server's invocation '%s' was dropped: the connection is not connected",
               invocation_id);
      return;
    }
  message = hubs_hub_message_new_completion (invocation_id, result, result != NULL && error == NULL, error);
  hubs_connection_send_message (self, message);
}

void
hubs_connection_send_upload_item (HubsConnection *self,
                                  guint           transport_serial,
                                  const char     *stream_id,
                                  const GValue   *item)
{
  g_autoptr(HubsHubMessage) message = NULL;

  if (self->state != HUBS_CONNECTION_STATE_CONNECTED || transport_serial != self->transport_serial)
    return;
  message = hubs_hub_message_new_stream_item (stream_id, item);
  hubs_connection_send_message (self, message);
}

/* The arguments without the uploads among them, whose stream ids are
 * given in order before the invocation's own id, as HubConnection.js
 * `_replaceStreamingParams` does. */
typedef struct
{
  GArray *args;                 /* GValue, copies */
  GPtrArray *uploads;           /* HubsClientUpload */
  GPtrArray *stream_ids;        /* char *, NULL-terminated once built */
} Arguments;

static void
arguments_clear (Arguments *arguments)
{
  g_clear_pointer (&arguments->args, g_array_unref);
  g_clear_pointer (&arguments->uploads, g_ptr_array_unref);
  g_clear_pointer (&arguments->stream_ids, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Arguments, arguments_clear)

static void
unset_value (gpointer data)
{
  g_value_unset (data);
}

static gboolean
split_arguments (HubsConnection  *self,
                 guint            n_args,
                 const GValue    *args,
                 Arguments       *arguments,
                 GError         **error)
{
  arguments->args = g_array_sized_new (FALSE, TRUE, sizeof (GValue), n_args);
  g_array_set_clear_func (arguments->args, unset_value);
  arguments->uploads = g_ptr_array_new_with_free_func (g_object_unref);
  arguments->stream_ids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n_args; i++)
    {
      if (G_VALUE_HOLDS (&args[i], HUBS_TYPE_CLIENT_UPLOAD) && g_value_get_object (&args[i]) != NULL)
        {
          HubsClientUpload *upload = g_value_get_object (&args[i]);

          if (hubs_client_upload_is_bound (upload))
            {
              g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_FAILED,
                                   "An upload stream can be sent with one invocation only.");
              return FALSE;
            }
          g_ptr_array_add (arguments->uploads, g_object_ref (upload));
          g_ptr_array_add (arguments->stream_ids, next_invocation_id (self));
        }
      else
        {
          GValue copy = G_VALUE_INIT;

          g_value_init (&copy, G_VALUE_TYPE (&args[i]));
          g_value_copy (&args[i], &copy);
          g_array_append_val (arguments->args, copy);
        }
    }
  g_ptr_array_add (arguments->stream_ids, NULL);
  return TRUE;
}

/* Sends @message with the uploads' ids, then what the uploads hold. */
static void
send_with_uploads (HubsConnection *self,
                   HubsHubMessage *message,
                   Arguments      *arguments)
{
  if (arguments->uploads->len > 0)
    message->stream_ids = g_strdupv ((char **) arguments->stream_ids->pdata);
  hubs_connection_send_message (self, message);
  for (guint i = 0; i < arguments->uploads->len; i++)
    hubs_client_upload_bind (arguments->uploads->pdata[i], self, self->transport_serial,
                             arguments->stream_ids->pdata[i]);
}

void
hubs_connection_cancel_stream (HubsConnection *self,
                               const char     *invocation_id)
{
  g_autoptr(HubsHubMessage) message = NULL;

  if (!g_hash_table_remove (self->pending, invocation_id))
    return;
  if (self->state != HUBS_CONNECTION_STATE_CONNECTED)
    return;

  message = hubs_hub_message_new (HUBS_MESSAGE_CANCEL_INVOCATION);
  message->invocation_id = g_strdup (invocation_id);
  hubs_connection_send_message (self, message);
}

void
hubs_connection_stop_transport (HubsConnection *self,
                                const GError   *error)
{
  self->transport_stopping = TRUE;
  if (self->transport != NULL)
    hubs_client_transport_stop (self->transport, error);
}

static gboolean
ack_fired (gpointer user_data)
{
  HubsConnection *self = user_data;
  guint64 sequence_id;

  g_clear_pointer (&self->ack_source, g_source_unref);
  if (self->message_buffer != NULL && self->transport != NULL &&
      hubs_message_buffer_take_ack (self->message_buffer, &sequence_id))
    {
      g_autoptr(HubsHubMessage) ack = hubs_hub_message_new (HUBS_MESSAGE_ACK);

      ack->sequence_id = sequence_id;
      hubs_connection_send_message (self, ack);
    }
  return G_SOURCE_REMOVE;
}

void
hubs_connection_schedule_ack (HubsConnection *self)
{
  if (self->ack_source == NULL)
    self->ack_source = hubs_connection_add_timeout (self, 1000, ack_fired);
}

/* Timers */

static gboolean
keep_alive_fired (gpointer user_data)
{
  HubsConnection *self = user_data;
  gint64 now = g_get_monotonic_time ();

  if (now >= self->next_keep_alive)
    {
      g_autoptr(HubsHubMessage) ping = hubs_hub_message_new_ping ();

      if (self->state == HUBS_CONNECTION_STATE_CONNECTED)
        hubs_connection_send_message (self, ping);
      else
        hubs_connection_reset_keep_alive (self);
    }

  /* Due again a whole interval after the last message sent. */
  g_clear_pointer (&self->keep_alive_source, g_source_unref);
  self->keep_alive_source = hubs_connection_add_timeout (self, MAX ((self->next_keep_alive - now) / 1000, 1),
                                                         keep_alive_fired);
  return G_SOURCE_REMOVE;
}

static gboolean
server_timeout_fired (gpointer user_data)
{
  HubsConnection *self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->server_timeout_source, g_source_unref);
  error = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_TIMED_OUT,
                               "Server timeout elapsed without receiving a message from the server.");
  hubs_connection_stop_transport (self, error);
  return G_SOURCE_REMOVE;
}

void
hubs_connection_reset_server_timeout (HubsConnection *self)
{
  hubs_connection_clear_source (&self->server_timeout_source);
  if (self->transport == NULL || hubs_client_transport_has_inherent_keep_alive (self->transport))
    return;
  self->server_timeout_source = hubs_connection_add_timeout (self, self->server_timeout, server_timeout_fired);
}

static void
start_keep_alive (HubsConnection *self)
{
  hubs_connection_clear_source (&self->keep_alive_source);
  if (self->transport == NULL || hubs_client_transport_has_inherent_keep_alive (self->transport))
    return;
  hubs_connection_reset_keep_alive (self);
  self->keep_alive_source = hubs_connection_add_timeout (self, self->keep_alive_interval, keep_alive_fired);
}

void
hubs_connection_clear_timers (HubsConnection *self)
{
  hubs_connection_clear_source (&self->server_timeout_source);
  hubs_connection_clear_source (&self->keep_alive_source);
  hubs_connection_clear_source (&self->handshake_timeout_source);
}

/* Calls and streams ending with the connection */

static void
fail_pending_calls (HubsConnection *self,
                    const GError   *error)
{
  g_autoptr(GError) canceled = NULL;
  g_autoptr(GPtrArray) calls = NULL;
  GHashTableIter iter;
  gpointer value;

  if (g_hash_table_size (self->pending) == 0)
    return;
  if (error == NULL)
    error = canceled = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED,
                                            "Invocation canceled due to the underlying connection being closed.");

  calls = g_ptr_array_new_with_free_func (hubs_connection_pending_call_free);
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_ptr_array_add (calls, value);
      g_hash_table_iter_steal (&iter);
    }

  for (guint i = 0; i < calls->len; i++)
    {
      PendingCall *call = calls->pdata[i];

      if (call->task != NULL)
        g_task_return_error (call->task, g_error_copy (error));
      else if (call->stream != NULL)
        hubs_client_stream_complete (call->stream, error);
    }
}

static void
complete_stop_tasks (HubsConnection *self)
{
  g_autoptr(GPtrArray) tasks = g_steal_pointer (&self->stop_tasks);

  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < tasks->len; i++)
    g_task_return_boolean (tasks->pdata[i], TRUE);
}

static void
drop_resuming (HubsConnection *self)
{
  if (self->resuming == NULL)
    return;
  g_cancellable_cancel (self->resume_cancellable);
  g_clear_object (&self->resume_cancellable);
  hubs_client_transport_set_handlers (self->resuming, NULL, NULL, NULL);
  hubs_client_transport_stop (self->resuming, NULL);
  g_clear_object (&self->resuming);
  g_clear_error (&self->resume_error);
}

/* As the JavaScript client's MessageBuffer: a send that finds the buffer
 * of unacknowledged messages over its limit completes only once the
 * server's acknowledgements make room, so that a program that waits for
 * its sends cannot outrun a server that does not acknowledge. */
void
hubs_connection_release_buffer_waiters (HubsConnection *self)
{
  while (!g_queue_is_empty (&self->buffer_waiters) &&
         self->message_buffer != NULL && !hubs_message_buffer_is_full (self->message_buffer))
    {
      g_autoptr(GTask) task = g_queue_pop_head (&self->buffer_waiters);

      g_task_return_boolean (task, TRUE);
    }
}

void
hubs_connection_drop_message_buffer (HubsConnection *self,
                                     const GError   *error)
{
  GTask *task;

  g_clear_pointer (&self->message_buffer, hubs_message_buffer_free);
  while ((task = g_queue_pop_head (&self->buffer_waiters)) != NULL)
    {
      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_new_error (task, HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED,
                                 "The connection closed before the server acknowledged the message.");
      g_object_unref (task);
    }
}

void
hubs_connection_drop_transport (HubsConnection *self)
{
  if (self->transport == NULL)
    return;
  hubs_client_transport_set_handlers (self->transport, NULL, NULL, NULL);
  hubs_client_transport_stop (self->transport, NULL);
  g_clear_object (&self->transport);
  self->transport_type = HUBS_TRANSPORT_NONE;
  g_byte_array_set_size (self->received, 0);
  self->handshake_done = FALSE;
}

static void
complete_close (HubsConnection *self,
                const GError   *error)
{
  g_autoptr(HubsConnection) keep = g_object_ref (self);
  gboolean started = self->connection_started;

  hubs_connection_clear_source (&self->reconnect_source);
  g_clear_error (&self->reconnect_error);
  hubs_connection_drop_transport (self);
  drop_resuming (self);
  hubs_connection_clear_source (&self->ack_source);
  hubs_connection_drop_message_buffer (self, error);
  self->connection_started = FALSE;
  hubs_connection_set_state (self, HUBS_CONNECTION_STATE_DISCONNECTED);
  if (started)
    g_signal_emit (self, signals[SIGNAL_CLOSED], 0, error);
  complete_stop_tasks (self);
}

/* The connection ending */

/* The connection is lost for good: what waited fails, and it reconnects
 * or closes. */
static void
connection_lost (HubsConnection *self,
                 const GError   *error)
{
  hubs_connection_clear_timers (self);
  hubs_connection_clear_source (&self->ack_source);
  hubs_connection_drop_transport (self);
  hubs_connection_drop_message_buffer (self, error);
  fail_pending_calls (self, error);

  switch (self->state)
    {
    case HUBS_CONNECTION_STATE_DISCONNECTING:
      complete_close (self, error);
      break;

    case HUBS_CONNECTION_STATE_CONNECTED:
      if (self->automatic_reconnect)
        start_reconnect (self, error);
      else
        complete_close (self, error);
      break;

    case HUBS_CONNECTION_STATE_DISCONNECTED:
    case HUBS_CONNECTION_STATE_CONNECTING:
    case HUBS_CONNECTION_STATE_RECONNECTING:
    default:
      break;
    }
}

static void
resumed (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(HubsConnection) self = user_data;
  HubsClientTransport *transport = HUBS_CLIENT_TRANSPORT (source);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(HubsHubMessage) sequence = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) lost = NULL;

  if (!hubs_client_transport_connect_finish (transport, result, &error) && self->resuming == transport)
    g_debug ("The WebSocket could not be reconnected: %s", error->message);
  if (self->resuming != transport)
    return;     /* stopped meanwhile */

  if (error != NULL)
    {
      lost = g_steal_pointer (&self->resume_error);
      hubs_client_transport_set_handlers (self->resuming, NULL, NULL, NULL);
      g_clear_object (&self->resuming);
      g_clear_object (&self->resume_cancellable);
      connection_lost (self, lost);
      return;
    }

  /* The same connection goes on: no handshake, and the server first sends
   * its Sequence, then what it had not seen acknowledged. */
  self->transport = g_steal_pointer (&self->resuming);
  self->transport_type = HUBS_TRANSPORT_WEB_SOCKETS;
  g_clear_object (&self->resume_cancellable);
  g_clear_error (&self->resume_error);
  self->transport_stopping = FALSE;
  self->handshake_done = TRUE;
  g_byte_array_set_size (self->received, 0);
  hubs_client_transport_set_handlers (self->transport, hubs_connection_on_transport_receive,
                                      hubs_connection_on_transport_close, self);

  sequence = hubs_hub_message_new (HUBS_MESSAGE_SEQUENCE);
  sequence->sequence_id = hubs_message_buffer_get_resend (self->message_buffer, &messages);
  hubs_connection_send_message (self, sequence);
  for (guint i = 0; messages != NULL && i < messages->len; i++)
    hubs_client_transport_send (self->transport, messages->pdata[i]);
  hubs_connection_reset_server_timeout (self);
  start_keep_alive (self);
}

/* A WebSocket lost with stateful reconnect: connected again to the same
 * connection, transparently (HttpConnection.js `_startTransport`). */
static void
resume (HubsConnection *self,
        const GError   *error)
{
  HubsClientRequestOptions options = { 0, };

  hubs_connection_clear_timers (self);
  hubs_connection_drop_transport (self);
  hubs_message_buffer_expect_sequence (self->message_buffer);
  self->resume_error = error != NULL ? g_error_copy (error) :
    g_error_new_literal (HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED, "The WebSocket closed.");

  options.session = self->session;
  options.transfer_format = self->protocol->transfer_format;
  options.headers = self->headers;
  options.max_receive_size = self->max_receive_size;
  options.access_token = self->access_token;
  self->resuming = hubs_client_transport_new (HUBS_TRANSPORT_WEB_SOCKETS, &options);
  self->resume_cancellable = g_cancellable_new ();
  hubs_client_transport_connect_async (self->resuming, self->transport_url, self->resume_cancellable,
                                       resumed, g_object_ref (self));
}

void
hubs_connection_handle_close (HubsConnection *self,
                              const GError   *error)
{
  g_autoptr(HubsConnection) keep = g_object_ref (self);

  if (self->attempt_task != NULL)
    {
      GError *failure = error != NULL ? g_error_copy (error) :
        g_error_new_literal (HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED,
                             "The underlying connection was closed before the hub handshake could complete.");

      hubs_connection_attempt_return (self, failure);
      return;
    }

  if (self->message_buffer != NULL && self->state == HUBS_CONNECTION_STATE_CONNECTED &&
      !self->transport_stopping && self->transport_type == HUBS_TRANSPORT_WEB_SOCKETS &&
      self->transport_url != NULL)
    {
      resume (self, error);
      return;
    }

  connection_lost (self, error);
}

/* Reconnecting */

static gint64
next_retry_delay (HubsConnection *self,
                  guint           previous_retry_count,
                  gint64          elapsed_ms,
                  const GError   *retry_reason)
{
  if (self->policy_func != NULL)
    return self->policy_func (self, previous_retry_count, elapsed_ms, retry_reason, self->policy_data);
  if (previous_retry_count < G_N_ELEMENTS (default_retry_delays))
    return default_retry_delays[previous_retry_count];
  return -1;
}

static gboolean reconnect_fired (gpointer user_data);

static void
schedule_reconnect (HubsConnection *self,
                    gint64          delay)
{
  g_debug ("Reconnect attempt number %u will start in %" G_GINT64_FORMAT " ms.",
           self->reconnect_attempts + 1, delay);
  hubs_connection_clear_source (&self->reconnect_source);
  self->reconnect_source = hubs_connection_add_timeout (self, (guint) MIN (delay, G_MAXUINT), reconnect_fired);
}

static void
reconnect_attempt_done (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  HubsConnection *self = HUBS_CONNECTION (source);
  g_autoptr(GError) error = NULL;
  gint64 delay;

  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      hubs_connection_set_state (self, HUBS_CONNECTION_STATE_CONNECTED);
      g_clear_error (&self->reconnect_error);
      start_keep_alive (self);
      {
        g_autoptr(HubsHubMessage) ping = hubs_hub_message_new_ping ();

        if (!hubs_client_transport_has_inherent_keep_alive (self->transport))
          hubs_connection_send_message (self, ping);
      }
      g_signal_emit (self, signals[SIGNAL_RECONNECTED], 0, self->connection_id);
      return;
    }

  g_debug ("Reconnect attempt failed because of error '%s'.", error->message);
  if (self->state != HUBS_CONNECTION_STATE_RECONNECTING)
    {
      if (self->state == HUBS_CONNECTION_STATE_DISCONNECTING)
        complete_close (self, NULL);
      return;
    }

  self->reconnect_attempts++;
  g_clear_error (&self->reconnect_error);
  self->reconnect_error = g_steal_pointer (&error);
  delay = next_retry_delay (self, self->reconnect_attempts,
                            (g_get_monotonic_time () - self->reconnect_started) / 1000,
                            self->reconnect_error);
  if (delay < 0)
    {
      complete_close (self, NULL);
      return;
    }
  schedule_reconnect (self, delay);
}

static gboolean
reconnect_fired (gpointer user_data)
{
  HubsConnection *self = user_data;

  g_clear_pointer (&self->reconnect_source, g_source_unref);
  if (self->state == HUBS_CONNECTION_STATE_RECONNECTING)
    hubs_connection_start_attempt (self, reconnect_attempt_done);
  return G_SOURCE_REMOVE;
}

static void
start_reconnect (HubsConnection *self,
                 const GError   *error)
{
  g_autoptr(GError) reason = NULL;
  gint64 delay;

  self->reconnect_started = g_get_monotonic_time ();
  self->reconnect_attempts = 0;
  reason = error != NULL ? g_error_copy (error) :
    g_error_new_literal (HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED,
                         "Attempting to reconnect due to a unknown error.");
  delay = next_retry_delay (self, 0, 0, reason);
  if (delay < 0)
    {
      complete_close (self, error);
      return;
    }

  hubs_connection_set_state (self, HUBS_CONNECTION_STATE_RECONNECTING);
  g_signal_emit (self, signals[SIGNAL_RECONNECTING], 0, error);
  if (self->state != HUBS_CONNECTION_STATE_RECONNECTING)
    return;
  schedule_reconnect (self, delay);
}

/* GObject */

static void
hubs_connection_dispose (GObject *object)
{
  HubsConnection *self = HUBS_CONNECTION (object);

  hubs_connection_abort_attempt (self, "The connection was disposed.");
  drop_resuming (self);
  hubs_connection_clear_source (&self->ack_source);
  hubs_connection_drop_message_buffer (self, NULL);
  hubs_connection_clear_timers (self);
  hubs_connection_clear_source (&self->reconnect_source);
  hubs_connection_drop_transport (self);
  if (self->pending != NULL)
    fail_pending_calls (self, NULL);

  G_OBJECT_CLASS (hubs_connection_parent_class)->dispose (object);
}

static void
hubs_connection_finalize (GObject *object)
{
  HubsConnection *self = HUBS_CONNECTION (object);

  if (self->token_destroy != NULL)
    self->token_destroy (self->token_data);
  if (self->token_request_destroy != NULL)
    self->token_request_destroy (self->token_request_data);
  if (self->policy_destroy != NULL)
    self->policy_destroy (self->policy_data);
  g_clear_pointer (&self->handlers, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_clear_pointer (&self->stop_tasks, g_ptr_array_unref);
  g_clear_pointer (&self->received, g_byte_array_unref);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_error (&self->reconnect_error);
  g_clear_object (&self->session);
  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->url);
  g_free (self->transport_url);
  g_free (self->access_token);
  g_free (self->protocol_name);
  g_free (self->connection_id);

  G_OBJECT_CLASS (hubs_connection_parent_class)->finalize (object);
}

static void
hubs_connection_constructed (GObject *object)
{
  HubsConnection *self = HUBS_CONNECTION (object);

  G_OBJECT_CLASS (hubs_connection_parent_class)->constructed (object);

  self->protocol = hubs_hub_protocol_lookup (self->protocol_name);
  if (self->protocol == NULL)
    {
      g_critical ("Unknown hub protocol '%s'; using 'json'", self->protocol_name);
      self->protocol = hubs_json_hub_protocol_get ();
    }

  /* Cookies are kept between requests, for sticky sessions. */
  self->session = soup_session_new_with_options ("max-conns-per-host", 32,
                                                 "timeout", (self->http_timeout + 999) / 1000,
                                                 NULL);
  soup_session_add_feature_by_type (self->session, SOUP_TYPE_COOKIE_JAR);
  if (self->tls_database != NULL)
    soup_session_set_tls_database (self->session, self->tls_database);
}

static void
hubs_connection_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  HubsConnection *self = HUBS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_TRANSPORTS:
      g_value_set_flags (value, self->transports);
      break;
    case PROP_SKIP_NEGOTIATION:
      g_value_set_boolean (value, self->skip_negotiation);
      break;
    case PROP_PROTOCOL:
      g_value_set_string (value, self->protocol_name);
      break;
    case PROP_SERVER_TIMEOUT:
      g_value_set_uint (value, self->server_timeout);
      break;
    case PROP_KEEP_ALIVE_INTERVAL:
      g_value_set_uint (value, self->keep_alive_interval);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;
    case PROP_MAX_RECEIVE_SIZE:
      g_value_set_uint (value, self->max_receive_size);
      break;
    case PROP_HTTP_TIMEOUT:
      g_value_set_uint (value, self->http_timeout);
      break;
    case PROP_AUTOMATIC_RECONNECT:
      g_value_set_boolean (value, self->automatic_reconnect);
      break;
    case PROP_STATEFUL_RECONNECT:
      g_value_set_boolean (value, self->stateful_reconnect);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, self->tls_database);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_CONNECTION_ID:
      g_value_set_string (value, self->connection_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_connection_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  HubsConnection *self = HUBS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_URL:
      self->url = g_value_dup_string (value);
      break;
    case PROP_TRANSPORTS:
      self->transports = g_value_get_flags (value);
      break;
    case PROP_SKIP_NEGOTIATION:
      self->skip_negotiation = g_value_get_boolean (value);
      break;
    case PROP_PROTOCOL:
      g_free (self->protocol_name);
      self->protocol_name = g_value_dup_string (value);
      if (self->protocol_name == NULL)
        self->protocol_name = g_strdup ("json");
      break;
    case PROP_SERVER_TIMEOUT:
      self->server_timeout = g_value_get_uint (value);
      break;
    case PROP_KEEP_ALIVE_INTERVAL:
      self->keep_alive_interval = g_value_get_uint (value);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      self->handshake_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_RECEIVE_SIZE:
      self->max_receive_size = g_value_get_uint (value);
      break;
    case PROP_HTTP_TIMEOUT:
      self->http_timeout = g_value_get_uint (value);
      break;
    case PROP_AUTOMATIC_RECONNECT:
      if (self->automatic_reconnect != g_value_get_boolean (value))
        {
          self->automatic_reconnect = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_STATEFUL_RECONNECT:
      self->stateful_reconnect = g_value_get_boolean (value);
      break;
    case PROP_TLS_DATABASE:
      self->tls_database = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_connection_class_init (HubsConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = hubs_connection_constructed;
  object_class->dispose = hubs_connection_dispose;
  object_class->finalize = hubs_connection_finalize;
  object_class->get_property = hubs_connection_get_property;
  object_class->set_property = hubs_connection_set_property;

  /**
   * HubsConnection:url:
   *
   * The hub's URL, `http`, `https`, `ws` or `wss`, such as
   * `https://example.com/chat`. Negotiate is sent to `{url}/negotiate`.
   *
   * Since: 0.1
   */
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:transports:
   *
   * The transports the connection may use; it takes the first of them the
   * server offers, in the server's order.
   *
   * Since: 0.1
   */
  properties[PROP_TRANSPORTS] =
    g_param_spec_flags ("transports", NULL, NULL,
                        HUBS_TYPE_TRANSPORT_TYPE, HUBS_TRANSPORT_ALL,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:skip-negotiation:
   *
   * Whether to connect a WebSocket to the URL directly, without negotiate;
   * only with [property@Hubs.Connection:transports] set to WebSockets alone.
   *
   * Since: 0.1
   */
  properties[PROP_SKIP_NEGOTIATION] =
    g_param_spec_boolean ("skip-negotiation", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:protocol:
   *
   * The hub protocol: `json` or `messagepack`.
   *
   * Since: 0.1
   */
  properties[PROP_PROTOCOL] =
    g_param_spec_string ("protocol", NULL, NULL, "json",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:server-timeout:
   *
   * Milliseconds without any message from the server after which the
   * connection is considered lost; the server pings every 15 seconds by
   * default. Not applied over Long Polling.
   *
   * Since: 0.1
   */
  properties[PROP_SERVER_TIMEOUT] =
    g_param_spec_uint ("server-timeout", NULL, NULL, 1, G_MAXUINT, DEFAULT_SERVER_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:keep-alive-interval:
   *
   * Milliseconds after the last message sent at which the connection pings
   * the server. Not applied over Long Polling.
   *
   * Since: 0.1
   */
  properties[PROP_KEEP_ALIVE_INTERVAL] =
    g_param_spec_uint ("keep-alive-interval", NULL, NULL, 1, G_MAXUINT, DEFAULT_KEEP_ALIVE_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:handshake-timeout:
   *
   * Milliseconds the connection waits for the server's handshake answer;
   * 0 waits for the server timeout only.
   *
   * Since: 0.1
   */
  properties[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL, 0, G_MAXUINT, DEFAULT_HANDSHAKE_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:max-receive-size:
   *
   * The largest message, in bytes, the connection accepts from the server
   * (16 MiB by default; 0 for no limit, as in the reference clients). It
   * also bounds a WebSocket frame, a Server-Sent Events event and each of
   * its lines, the body of a long poll, and the handshake answer. A server that sends more loses the connection with
   * %HUBS_ERROR_MESSAGE_TOO_LARGE, as after any other protocol error, which
   * fails the calls waiting and reconnects when automatic reconnect is on.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_RECEIVE_SIZE] =
    g_param_spec_uint ("max-receive-size", NULL, NULL, 0, G_MAXUINT, DEFAULT_MAX_RECEIVE_SIZE,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:http-timeout:
   *
   * Milliseconds an HTTP request of the connection (negotiate, a send, a
   * poll, the opening of a transport) may wait for the server to read or
   * answer anything: the JavaScript client's `timeout` option, 100 seconds
   * by default; 0 waits for ever. It is applied in whole seconds, rounded
   * up. Without it, a server that accepts the connection and then says
   * nothing would keep a start waiting for ever. It also bounds the
   * silences of a Server-Sent Events stream (where the shorter
   * [property@Hubs.Connection:server-timeout] acts first), not those of a
   * WebSocket once open.
   *
   * Since: 0.1
   */
  properties[PROP_HTTP_TIMEOUT] =
    g_param_spec_uint ("http-timeout", NULL, NULL, 0, G_MAXUINT, DEFAULT_HTTP_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:automatic-reconnect:
   *
   * Whether a lost connection reconnects by itself, after the delays of
   * [method@Hubs.Connection.set_reconnect_policy] (0, 2, 10 and 30 seconds
   * by default). A connection the server closed without `allowReconnect`,
   * or one stopped by [method@Hubs.Connection.stop_async], does not.
   *
   * Since: 0.1
   */
  properties[PROP_AUTOMATIC_RECONNECT] =
    g_param_spec_boolean ("automatic-reconnect", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:stateful-reconnect:
   *
   * Whether to ask the server for stateful reconnect (SignalR's
   * `withStatefulReconnect()`): when the server allows it and the transport
   * is WebSockets, a lost WebSocket is connected again to the same
   * connection, and the messages either side had not seen acknowledged are
   * sent again, without [signal@Hubs.Connection::reconnecting]. The
   * handshake then asks for version 2 of the hub protocol.
   *
   * Since: 0.1
   */
  properties[PROP_STATEFUL_RECONNECT] =
    g_param_spec_boolean ("stateful-reconnect", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:tls-database:
   *
   * The certificates to trust for `https` and `wss`, or %NULL for the
   * system's.
   *
   * Since: 0.1
   */
  properties[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL, G_TYPE_TLS_DATABASE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:state:
   *
   * The connection's state.
   *
   * Since: 0.1
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, HUBS_TYPE_CONNECTION_STATE,
                       HUBS_CONNECTION_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsConnection:connection-id:
   *
   * The connection id the server gave in negotiate, or %NULL (before
   * connecting, or when negotiation was skipped).
   *
   * Since: 0.1
   */
  properties[PROP_CONNECTION_ID] =
    g_param_spec_string ("connection-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HubsConnection::closed:
   * @self: the connection
   * @error: (nullable): why the connection ended, or %NULL after a clean stop
   *
   * Emitted when a started connection has ended for good: stopped, closed by
   * the server, lost without automatic reconnect, or after the last failed
   * reconnect attempt.
   *
   * Since: 0.1
   */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * HubsConnection::reconnecting:
   * @self: the connection
   * @error: (nullable): why the connection was lost
   *
   * Emitted when a lost connection begins to reconnect. Calls made now fail
   * until [signal@Hubs.Connection::reconnected].
   *
   * Since: 0.1
   */
  signals[SIGNAL_RECONNECTING] =
    g_signal_new ("reconnecting", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * HubsConnection::reconnected:
   * @self: the connection
   * @connection_id: (nullable): the new connection id
   *
   * Emitted when a reconnect attempt has succeeded.
   *
   * Since: 0.1
   */
  signals[SIGNAL_RECONNECTED] =
    g_signal_new ("reconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
hubs_connection_init (HubsConnection *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->protocol_name = g_strdup ("json");
  self->transports = HUBS_TRANSPORT_ALL;
  self->server_timeout = DEFAULT_SERVER_TIMEOUT_MS;
  self->keep_alive_interval = DEFAULT_KEEP_ALIVE_MS;
  self->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  self->max_receive_size = DEFAULT_MAX_RECEIVE_SIZE;
  self->http_timeout = DEFAULT_HTTP_TIMEOUT_MS;
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->received = g_byte_array_new ();
  self->stop_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, hubs_connection_pending_call_free);
  self->handlers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_ptr_array_unref);
  self->next_handler_id = 1;
}

/* Public API */

/**
 * hubs_connection_new:
 * @url: the hub's URL, such as `https://example.com/chat`
 *
 * Creates a connection to a hub with the default settings: every transport,
 * the JSON protocol, no automatic reconnect. Other settings are construct
 * properties, for g_object_new().
 *
 * Returns: (transfer full): a new connection, disconnected
 *
 * Since: 0.1
 */
HubsConnection *
hubs_connection_new (const char *url)
{
  g_return_val_if_fail (url != NULL, NULL);

  return g_object_new (HUBS_TYPE_CONNECTION, "url", url, NULL);
}

/**
 * hubs_connection_get_url:
 * @self: a connection
 *
 * Gets [property@Hubs.Connection:url].
 *
 * Returns: (transfer none): the hub's URL
 *
 * Since: 0.1
 */
const char *
hubs_connection_get_url (HubsConnection *self)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), NULL);

  return self->url;
}

/**
 * hubs_connection_get_state:
 * @self: a connection
 *
 * Gets [property@Hubs.Connection:state].
 *
 * Returns: the connection's state
 *
 * Since: 0.1
 */
HubsConnectionState
hubs_connection_get_state (HubsConnection *self)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), HUBS_CONNECTION_STATE_DISCONNECTED);

  return self->state;
}

/**
 * hubs_connection_get_connection_id:
 * @self: a connection
 *
 * Gets [property@Hubs.Connection:connection-id].
 *
 * Returns: (transfer none) (nullable): the connection id
 *
 * Since: 0.1
 */
const char *
hubs_connection_get_connection_id (HubsConnection *self)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), NULL);

  return self->connection_id;
}

/**
 * hubs_connection_get_transport:
 * @self: a connection
 *
 * Gets the transport in use.
 *
 * Returns: the transport, or %HUBS_TRANSPORT_NONE when not connected
 *
 * Since: 0.1
 */
HubsTransportType
hubs_connection_get_transport (HubsConnection *self)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), HUBS_TRANSPORT_NONE);

  return self->transport != NULL ? self->transport_type : HUBS_TRANSPORT_NONE;
}

/**
 * hubs_connection_get_protocol:
 * @self: a connection
 *
 * Gets [property@Hubs.Connection:protocol].
 *
 * Returns: (transfer none): `json` or `messagepack`
 *
 * Since: 0.1
 */
const char *
hubs_connection_get_protocol (HubsConnection *self)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), NULL);

  return self->protocol->name;
}

/**
 * hubs_connection_add_header:
 * @self: a connection
 * @name: the header's name
 * @value: its value
 *
 * Adds a header to every HTTP request of the connection: negotiate, the
 * WebSocket upgrade, and the requests of Server-Sent Events and Long
 * Polling. A header set twice keeps the last value.
 *
 * Since: 0.1
 */
void
hubs_connection_add_header (HubsConnection *self,
                            const char     *name,
                            const char     *value)
{
  g_return_if_fail (HUBS_IS_CONNECTION (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (value != NULL);

  for (guint i = 0; i + 1 < self->headers->len; i += 2)
    if (g_ascii_strcasecmp (self->headers->pdata[i], name) == 0)
      {
        g_free (self->headers->pdata[i + 1]);
        self->headers->pdata[i + 1] = g_strdup (value);
        return;
      }
  g_ptr_array_add (self->headers, g_strdup (name));
  g_ptr_array_add (self->headers, g_strdup (value));
}

/**
 * hubs_connection_set_access_token_func:
 * @self: a connection
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   gives the access token, or %NULL to send none
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets the function that gives the bearer token sent with every request of
 * a start or reconnect attempt (SignalR's `accessTokenFactory`). A token a
 * negotiate redirect hands out replaces it until the next attempt.
 *
 * Since: 0.1
 */
void
hubs_connection_set_access_token_func (HubsConnection      *self,
                                       HubsAccessTokenFunc  func,
                                       gpointer             user_data,
                                       GDestroyNotify       destroy)
{
  g_return_if_fail (HUBS_IS_CONNECTION (self));

  if (self->token_destroy != NULL)
    self->token_destroy (self->token_data);
  self->token_func = func;
  self->token_data = user_data;
  self->token_destroy = destroy;
}

/**
 * hubs_connection_set_access_token_request_func:
 * @self: a connection
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   asked for the access token, or %NULL
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets the function that gives the bearer token asynchronously (see
 * [class@Hubs.AccessTokenRequest]). When both this and
 * [method@Hubs.Connection.set_access_token_func] are set, this one is
 * asked.
 *
 * Since: 0.1
 */
void
hubs_connection_set_access_token_request_func (HubsConnection             *self,
                                               HubsAccessTokenRequestFunc  func,
                                               gpointer                    user_data,
                                               GDestroyNotify              destroy)
{
  g_return_if_fail (HUBS_IS_CONNECTION (self));

  if (self->token_request_destroy != NULL)
    self->token_request_destroy (self->token_request_data);
  self->token_request_func = func;
  self->token_request_data = user_data;
  self->token_request_destroy = destroy;
}

/**
 * hubs_connection_set_reconnect_policy:
 * @self: a connection
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the delay before each attempt, or %NULL for the default delays
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets when a lost connection tries again and turns
 * [property@Hubs.Connection:automatic-reconnect] on. Without a function,
 * the attempts come after 0, 2, 10 and 30 seconds, then the connection
 * closes, like the JavaScript client's `withAutomaticReconnect()`.
 *
 * Since: 0.1
 */
void
hubs_connection_set_reconnect_policy (HubsConnection          *self,
                                      HubsReconnectPolicyFunc  func,
                                      gpointer                 user_data,
                                      GDestroyNotify           destroy)
{
  g_return_if_fail (HUBS_IS_CONNECTION (self));

  if (self->policy_destroy != NULL)
    self->policy_destroy (self->policy_data);
  self->policy_func = func;
  self->policy_data = user_data;
  self->policy_destroy = destroy;
  g_object_set (self, "automatic-reconnect", TRUE, NULL);
}

static gboolean
abort_cancelled_start (gpointer user_data)
{
  HubsConnection *self = user_data;

  if (self->state == HUBS_CONNECTION_STATE_CONNECTING && self->attempt_task != NULL)
    hubs_connection_abort_attempt (self, "The start was cancelled.");
  return G_SOURCE_REMOVE;
}

/* Runs where the cancellable was cancelled: the start ends from the
 * connection's own context. */
static void
start_cancelled (GCancellable *cancellable,
                 gpointer      user_data)
{
  HubsConnection *self = user_data;
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, abort_cancelled_start, g_object_ref (self), g_object_unref);
  g_source_set_static_name (source, "[hubs] cancelled start");
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static void
start_attempt_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  HubsConnection *self = HUBS_CONNECTION (source);
  g_autoptr(GTask) task = g_steal_pointer (&self->start_task);
  g_autoptr(GError) error = NULL;

  if (self->start_cancelled_id != 0 && task != NULL)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), self->start_cancelled_id);
      self->start_cancelled_id = 0;
    }

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_debug ("Failed to start the connection: %s", error->message);
      if (self->state == HUBS_CONNECTION_STATE_DISCONNECTING)
        complete_close (self, NULL);
      else
        hubs_connection_set_state (self, HUBS_CONNECTION_STATE_DISCONNECTED);
      if (task != NULL)
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  hubs_connection_set_state (self, HUBS_CONNECTION_STATE_CONNECTED);
  self->connection_started = TRUE;
  start_keep_alive (self);
  if (!hubs_client_transport_has_inherent_keep_alive (self->transport))
    {
      g_autoptr(HubsHubMessage) ping = hubs_hub_message_new_ping ();

      hubs_connection_send_message (self, ping);
    }
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

/**
 * hubs_connection_start_async:
 * @self: a disconnected connection
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (closure user_data): called once connected, or
 *   when starting failed
 * @user_data: data for @callback
 *
 * Starts the connection: negotiate, transport, handshake. Fails with the
 * negotiate's or the handshake's error (%HUBS_ERROR_HANDSHAKE_FAILED,
 * `Server returned handshake error: …`), with `Unable to connect to the
 * server with any of the available transports. …` when no transport
 * connected, or with %G_IO_ERROR_CANCELLED when stopped or cancelled first.
 *
 * Since: 0.1
 */
void
hubs_connection_start_async (HubsConnection      *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HUBS_IS_CONNECTION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_connection_start_async);
  g_task_set_name (task, "[hubs] connection start");
  /* A start that got through reports it, cancelled or not. */
  g_task_set_check_cancellable (task, FALSE);

  if (self->state != HUBS_CONNECTION_STATE_DISCONNECTED)
    {
      g_task_return_new_error (task, HUBS_ERROR, HUBS_ERROR_FAILED,
                               "Cannot start a HubConnection that is not in the 'Disconnected' state.");
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  hubs_connection_set_state (self, HUBS_CONNECTION_STATE_CONNECTING);
  self->start_task = g_steal_pointer (&task);
  if (cancellable != NULL)
    self->start_cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (start_cancelled),
                                                      self, NULL);
  hubs_connection_start_attempt (self, start_attempt_done);
}

/**
 * hubs_connection_start_finish:
 * @self: a connection
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.Connection.start_async].
 *
 * Returns: %TRUE once connected
 *
 * Since: 0.1
 */
gboolean
hubs_connection_start_finish (HubsConnection  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hubs_connection_stop_async:
 * @self: a connection
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (closure user_data): called once disconnected
 * @user_data: data for @callback
 *
 * Stops the connection: sends a Close message, ends the transport, fails
 * the invocations still waiting, and emits [signal@Hubs.Connection::closed]
 * without an error if the connection had started. A start under way fails
 * with %G_IO_ERROR_CANCELLED; a reconnect under way ends. Stopping a
 * disconnected connection succeeds at once.
 *
 * Since: 0.1
 */
void
hubs_connection_stop_async (HubsConnection      *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(HubsConnection) keep = NULL;
  HubsConnectionState previous;

  g_return_if_fail (HUBS_IS_CONNECTION (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  keep = g_object_ref (self);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_connection_stop_async);
  g_task_set_name (task, "[hubs] connection stop");

  if (self->state == HUBS_CONNECTION_STATE_DISCONNECTED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_ptr_array_add (self->stop_tasks, g_steal_pointer (&task));
  if (self->state == HUBS_CONNECTION_STATE_DISCONNECTING)
    return;

  previous = self->state;
  hubs_connection_set_state (self, HUBS_CONNECTION_STATE_DISCONNECTING);

  if (self->reconnect_source != NULL)
    {
      complete_close (self, NULL);
      return;
    }

  if (previous == HUBS_CONNECTION_STATE_CONNECTED)
    {
      g_autoptr(HubsHubMessage) close = hubs_hub_message_new_close (NULL, FALSE);

      hubs_connection_send_message (self, close);
    }
  hubs_connection_clear_timers (self);

  if (self->attempt_task != NULL)
    {
      hubs_connection_abort_attempt (self, self->handshake_done || self->transport != NULL ?
                                     "The connection was stopped before the hub handshake could complete." :
                                     "The connection was stopped during negotiation.");
      return;
    }
  if (self->transport != NULL)
    hubs_connection_stop_transport (self, NULL);
  else
    complete_close (self, NULL);
}

/**
 * hubs_connection_stop_finish:
 * @self: a connection
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.Connection.stop_async].
 *
 * Returns: %TRUE once disconnected
 *
 * Since: 0.1
 */
gboolean
hubs_connection_stop_finish (HubsConnection  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
check_connected (HubsConnection  *self,
                 GError         **error)
{
  if (self->state == HUBS_CONNECTION_STATE_CONNECTED && (self->transport != NULL || self->resuming != NULL))
    return TRUE;
  g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED,
                       "Cannot send data if the connection is not in the 'Connected' State.");
  return FALSE;
}

static void
invocation_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  PendingCall *call = user_data;
  HubsConnection *self = call->connection;
  g_autoptr(GTask) task = g_object_ref (call->task);

  /* Runs inside g_cancellable_connect() when already cancelled: the call
   * is not in the table yet then, and the caller returns the error. */
  if (self == NULL || g_hash_table_lookup (self->pending, call->invocation_id) != call)
    return;
  call->cancelled_id = 0;
  g_hash_table_steal (self->pending, call->invocation_id);
  hubs_connection_pending_call_free (call);
  g_task_return_error_if_cancelled (task);
}

/**
 * hubs_connection_invoke_async:
 * @self: a connected connection
 * @method: the hub method's name
 * @n_args: the number of arguments
 * @args: (array length=n_args) (nullable): the arguments, written by the
 *   protocol according to their types; a [class@Hubs.ClientUpload] among
 *   them is sent as an upload stream
 * @result_type: the type to bind the result to, or %G_TYPE_NONE (or
 *   %G_TYPE_INVALID) to take any value as a `GVariant`
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (closure user_data): called with the result
 * @user_data: data for @callback
 *
 * Calls a hub method and waits for its completion (SignalR's `invoke`).
 *
 * It fails with the server's error text as a %HUBS_HUB_ERROR, with
 * %HUBS_ERROR_CONNECTION_CLOSED when not connected or when the connection
 * ends first, with %HUBS_ERROR_BINDING_FAILED when the result does not fit
 * @result_type, and with %G_IO_ERROR_CANCELLED when @cancellable is
 * cancelled (the server still runs the method).
 *
 * Since: 0.1
 */
void
hubs_connection_invoke_async (HubsConnection      *self,
                              const char          *method,
                              guint                n_args,
                              const GValue        *args,
                              GType                result_type,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(HubsHubMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Arguments) arguments = { NULL, };
  PendingCall *call;

  g_return_if_fail (HUBS_IS_CONNECTION (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (n_args == 0 || args != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_connection_invoke_async);
  g_task_set_name (task, "[hubs] connection invoke");

  if (!check_connected (self, &error) ||
      !split_arguments (self, n_args, args, &arguments, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  call = g_new0 (PendingCall, 1);
  call->connection = self;
  call->invocation_id = next_invocation_id (self);
  call->task = g_object_ref (task);
  call->result_type = result_type == G_TYPE_INVALID || result_type == G_TYPE_NONE ?
                      G_TYPE_VARIANT : result_type;
  g_hash_table_insert (self->pending, call->invocation_id, call);
  if (cancellable != NULL)
    {
      call->cancellable = g_object_ref (cancellable);
      call->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (invocation_cancelled), call, NULL);
    }

  message = hubs_hub_message_new_invocation (call->invocation_id, method, arguments.args->len,
                                             (GValue *) arguments.args->data);
  send_with_uploads (self, message, &arguments);
}

/**
 * hubs_connection_invoke_finish:
 * @self: a connection
 * @result: the result given to the callback
 * @value: (out caller-allocates) (optional): an unset value that receives
 *   the method's result
 * @error: return location for an error
 *
 * Finishes [method@Hubs.Connection.invoke_async]. The result of a method
 * that returns nothing is a `GVariant` value holding %NULL.
 *
 * Returns: %TRUE if the method completed without an error
 *
 * Since: 0.1
 */
gboolean
hubs_connection_invoke_finish (HubsConnection  *self,
                               GAsyncResult    *result,
                               GValue          *value,
                               GError         **error)
{
  GValue *result_value;

  g_return_val_if_fail (HUBS_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  result_value = g_task_propagate_pointer (G_TASK (result), error);
  if (result_value == NULL)
    return FALSE;

  if (value != NULL && G_IS_VALUE (result_value))
    {
      g_value_init (value, G_VALUE_TYPE (result_value));
      g_value_copy (result_value, value);
    }
  hubs_connection_value_free (result_value);
  return TRUE;
}

/**
 * hubs_connection_send_async:
 * @self: a connected connection
 * @method: the hub method's name
 * @n_args: the number of arguments
 * @args: (array length=n_args) (nullable): the arguments, uploads
 *   included (see [method@Hubs.Connection.invoke_async])
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (nullable) (closure user_data): called once the
 *   invocation is sent
 * @user_data: data for @callback
 *
 * Calls a hub method without waiting for it (SignalR's `send`): the server
 * answers nothing, not even errors. Fails only when not connected.
 *
 * With stateful reconnect, the messages the server has not acknowledged
 * yet are kept to be sent again; as the JavaScript client does, when they
 * reach 100,000 bytes the send completes only once the server's
 * acknowledgements make room (or fails if the connection ends first). A
 * program that waits for each send so goes at the server's pace.
 *
 * Since: 0.1
 */
void
hubs_connection_send_async (HubsConnection      *self,
                            const char          *method,
                            guint                n_args,
                            const GValue        *args,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(HubsHubMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Arguments) arguments = { NULL, };

  g_return_if_fail (HUBS_IS_CONNECTION (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (n_args == 0 || args != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_connection_send_async);
  g_task_set_name (task, "[hubs] connection send");

  if (!check_connected (self, &error) ||
      !split_arguments (self, n_args, args, &arguments, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  message = hubs_hub_message_new_invocation (NULL, method, arguments.args->len,
                                             (GValue *) arguments.args->data);
  send_with_uploads (self, message, &arguments);
  if (self->message_buffer != NULL && hubs_message_buffer_is_full (self->message_buffer))
    {
      g_queue_push_tail (&self->buffer_waiters, g_steal_pointer (&task));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/**
 * hubs_connection_send_finish:
 * @self: a connection
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.Connection.send_async].
 *
 * Returns: %TRUE if the invocation was sent
 *
 * Since: 0.1
 */
gboolean
hubs_connection_send_finish (HubsConnection  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (HUBS_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
stream_fail_later (gpointer user_data)
{
  GPtrArray *args = user_data;

  hubs_client_stream_complete (args->pdata[0], args->pdata[1]);
  return G_SOURCE_REMOVE;
}

static void
stream_fail_later_free (gpointer user_data)
{
  GPtrArray *args = user_data;

  g_object_unref (args->pdata[0]);
  g_error_free (args->pdata[1]);
  g_ptr_array_unref (args);
}

/**
 * hubs_connection_stream:
 * @self: a connected connection
 * @method: the streaming hub method's name
 * @n_args: the number of arguments
 * @args: (array length=n_args) (nullable): the arguments, uploads
 *   included (see [method@Hubs.Connection.invoke_async])
 * @item_type: the type to bind each item to, or %G_TYPE_NONE (or
 *   %G_TYPE_INVALID) to take any value as a `GVariant`
 *
 * Calls a streaming hub method (SignalR's `stream`). Its items arrive in
 * the returned stream's [signal@Hubs.ClientStream::item] signal and its end
 * in [signal@Hubs.ClientStream::completed]; when not connected, the stream
 * completes with %HUBS_ERROR_CONNECTION_CLOSED once the main context runs.
 *
 * Returns: (transfer full): the stream
 *
 * Since: 0.1
 */
HubsClientStream *
hubs_connection_stream (HubsConnection *self,
                        const char     *method,
                        guint           n_args,
                        const GValue   *args,
                        GType           item_type)
{
  g_autoptr(HubsHubMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Arguments) arguments = { NULL, };
  HubsClientStream *stream;
  PendingCall *call;

  g_return_val_if_fail (HUBS_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (n_args == 0 || args != NULL, NULL);

  if (!check_connected (self, &error) ||
      !split_arguments (self, n_args, args, &arguments, &error))
    {
      g_autofree char *invocation_id = next_invocation_id (self);
      GPtrArray *later = g_ptr_array_new_full (2, NULL);
      GSource *source = g_idle_source_new ();

      stream = hubs_client_stream_new (self, invocation_id);
      g_ptr_array_add (later, g_object_ref (stream));
      g_ptr_array_add (later, g_steal_pointer (&error));
      g_source_set_callback (source, stream_fail_later, later, stream_fail_later_free);
      g_source_attach (source, self->context);
      g_source_unref (source);
      return stream;
    }

  call = g_new0 (PendingCall, 1);
  call->connection = self;
  call->invocation_id = next_invocation_id (self);
  stream = hubs_client_stream_new (self, call->invocation_id);
  call->stream = g_object_ref (stream);
  call->result_type = item_type == G_TYPE_INVALID || item_type == G_TYPE_NONE ?
                      G_TYPE_VARIANT : item_type;
  g_hash_table_insert (self->pending, call->invocation_id, call);

  message = hubs_hub_message_new_invocation (call->invocation_id, method, arguments.args->len,
                                             (GValue *) arguments.args->data);
  message->type = HUBS_MESSAGE_STREAM_INVOCATION;
  send_with_uploads (self, message, &arguments);
  return stream;
}

/**
 * hubs_connection_on:
 * @self: a connection
 * @method: the client method's name, matched without regard to case
 * @n_params: the number of parameters, or 0 to take the arguments as sent
 * @param_types: (array length=n_params) (nullable): the type to bind each
 *   argument to
 * @func: (scope notified) (closure user_data) (destroy destroy): the handler
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data once the handler is removed
 *
 * Registers a handler of a client method: when the server calls @method,
 * every handler registered for it runs, in order, with the arguments bound
 * to its @param_types, or, without types, each as a `GVariant` holding the
 * value in its natural form (the protocol's docs list the forms). A handler
 * whose types do not fit the arguments is skipped with a warning.
 *
 * As in the JavaScript client, the same handler is not registered twice:
 * @func with the same @user_data and parameter types as a handler of
 * @method already registered gives that handler's id, and @destroy is not
 * called for the second registration (it is the same data).
 *
 * Returns: the handler's id, for [method@Hubs.Connection.off]
 *
 * Since: 0.1
 */
guint
hubs_connection_on (HubsConnection       *self,
                    const char           *method,
                    guint                 n_params,
                    const GType          *param_types,
                    HubsClientMethodFunc  func,
                    gpointer              user_data,
                    GDestroyNotify        destroy)
{
  g_autofree char *name = NULL;
  GPtrArray *handlers;
  Handler *handler;

  g_return_val_if_fail (HUBS_IS_CONNECTION (self), 0);
  g_return_val_if_fail (method != NULL, 0);
  g_return_val_if_fail (n_params == 0 || param_types != NULL, 0);
  g_return_val_if_fail (func != NULL, 0);

  name = g_utf8_strdown (method, -1);
  handlers = g_hash_table_lookup (self->handlers, name);
  if (handlers == NULL)
    {
      handlers = g_ptr_array_new_with_free_func (handler_free);
      g_hash_table_insert (self->handlers, g_steal_pointer (&name), handlers);
    }

  /* HubConnection.ts: "Preventing adding the same handler multiple times." */
  for (guint i = 0; i < handlers->len; i++)
    {
      Handler *existing = handlers->pdata[i];

      if (existing->func == func && existing->user_data == user_data && existing->n_params == n_params &&
          (n_params == 0 || memcmp (existing->param_types, param_types, n_params * sizeof (GType)) == 0))
        return existing->id;
    }

  handler = g_new0 (Handler, 1);
  handler->id = self->next_handler_id++;
  handler->n_params = n_params;
  handler->param_types = n_params > 0 ? g_memdup2 (param_types, n_params * sizeof (GType)) : NULL;
  handler->func = func;
  handler->user_data = user_data;
  handler->destroy = destroy;
  g_ptr_array_add (handlers, handler);
  return handler->id;
}

/**
 * hubs_connection_off:
 * @self: a connection
 * @handler_id: an id from [method@Hubs.Connection.on]
 *
 * Removes a handler of a client method.
 *
 * Since: 0.1
 */
void
hubs_connection_off (HubsConnection *self,
                     guint           handler_id)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_if_fail (HUBS_IS_CONNECTION (self));

  g_hash_table_iter_init (&iter, self->handlers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *handlers = value;

      for (guint i = 0; i < handlers->len; i++)
        if (((Handler *) handlers->pdata[i])->id == handler_id)
          {
            g_ptr_array_remove_index (handlers, i);
            if (handlers->len == 0)
              g_hash_table_iter_remove (&iter);
            return;
          }
    }
  g_critical ("%s: no handler with id %u", G_STRFUNC, handler_id);
}
