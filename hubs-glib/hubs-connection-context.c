/* hubs-connection-context.c: one hub connection: handshake, messages,
 * keep-alive, client timeout and close
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-connection-context-private.h"

#include "hubs-caller-context-private.h"
#include "hubs-error.h"
#include "hubs-hub-dispatcher-private.h"
#include "hubs-hub-filter-private.h"
#include "hubs-hub-private.h"
#include "hubs-http-connection-private.h"
#include "hubs-http-context.h"
#include "hubs-log-private.h"
#include "hubs-metrics-private.h"
#include "hubs-message-buffer-private.h"
#include "hubs-stream-private.h"
#include "hubs-ticker-private.h"
#include "hubs-user.h"

/* What a typical outgoing message needs, allocated at once rather than
 * grown by the writer a few bytes at a time. */
#define OUTGOING_MESSAGE_SIZE 256

/* A connection whose outgoing queue holds more than this is not reading: it
 * is closed rather than let the server's memory grow without bound. */
#define MAX_OUTGOING_BYTES (1024 * 1024)

/* ASP.NET Core's TransportMaxBufferSize. */
#define MAX_WAITING_INPUT_BYTES (64 * 1024)

/* A stream's writes wait while more than this waits for the client: the
 * WebSocket transport's high watermark, past which it reports draining. */
#define STREAM_HIGH_WATERMARK (64 * 1024)

typedef enum
{
  STATE_HANDSHAKE,
  STATE_CONNECTED,
  STATE_CLOSING,                /* Close written, transport closing */
  STATE_CLOSED,
} State;

struct _HubsConnectionContext
{
  GObject parent_instance;

  HubsHubContext *hub_context;
  HubsHttpConnection *http;
  HubsCallerContext *caller;
  const HubsHubProtocol *protocol;
  State state;

  GByteArray *input;
  gboolean parsing;             /* inside parse_input(): do not re-enter */
  guint n_invoking;             /* invocations holding one of the slots */
  guint n_lent;                 /* slots lent while client results are due */
  HubsHubMessage *waiting;      /* an invocation waiting for a slot */
  HubsHubMessage *blocked_item; /* a StreamItem for a full upload stream */

  GHashTable *stream_writers;   /* invocation id → HubsStreamWriter */
  GHashTable *upload_streams;   /* stream id → HubsStreamReader */
  GHashTable *client_results;   /* invocation id → GTask */
  GQueue drain_waiters;         /* GTask: stream writes waiting for room */
  gboolean in_on_connected;

  guint handshake_timeout_id;
  HubsTickerEntry *heartbeat;
  gint64 last_ping_sent;
  gint64 last_received;
  gboolean client_timeout_active;

  HubsMessageBuffer *buffer;    /* with stateful reconnect only */
  gint64 last_ack_sent;

  gboolean connected_notified;  /* on_connected ran: on_disconnected must */
  gboolean finished;            /* the hub side has ended */
  GError *close_error;          /* why the connection ended, for on_disconnected */

  const guint8 *frame;          /* the message being handled, as received */
  gsize frame_length;
};

G_DEFINE_FINAL_TYPE (HubsConnectionContext, hubs_connection_context, G_TYPE_OBJECT)

static void parse_input (HubsConnectionContext *self);
static void finish (HubsConnectionContext *self);
static void resume (HubsConnectionContext *self);
static gboolean paused (HubsConnectionContext *self);
static void on_drained (gpointer user_data);

static void
hubs_connection_context_dispose (GObject *object)
{
  HubsConnectionContext *self = HUBS_CONNECTION_CONTEXT (object);

  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);
  g_clear_pointer (&self->heartbeat, hubs_ticker_remove);
  if (self->caller != NULL)
    hubs_caller_context_detach (self->caller);

  G_OBJECT_CLASS (hubs_connection_context_parent_class)->dispose (object);
}

static void
hubs_connection_context_finalize (GObject *object)
{
  HubsConnectionContext *self = HUBS_CONNECTION_CONTEXT (object);

  g_clear_object (&self->caller);
  g_clear_object (&self->http);
  g_clear_object (&self->hub_context);
  g_clear_pointer (&self->input, g_byte_array_unref);
  g_clear_pointer (&self->waiting, hubs_hub_message_unref);
  g_clear_pointer (&self->blocked_item, hubs_hub_message_unref);
  g_clear_pointer (&self->stream_writers, g_hash_table_unref);
  g_clear_pointer (&self->upload_streams, g_hash_table_unref);
  g_clear_pointer (&self->client_results, g_hash_table_unref);
  g_clear_pointer (&self->buffer, hubs_message_buffer_free);
  g_clear_error (&self->close_error);

  G_OBJECT_CLASS (hubs_connection_context_parent_class)->finalize (object);
}

static void
hubs_connection_context_class_init (HubsConnectionContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_connection_context_dispose;
  object_class->finalize = hubs_connection_context_finalize;
}

static void
hubs_connection_context_init (HubsConnectionContext *self)
{
  self->input = g_byte_array_new ();
  self->stream_writers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->upload_streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->client_results = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_queue_init (&self->drain_waiters);
}

static const HubsHubSettings *
settings (HubsConnectionContext *self)
{
  return hubs_hub_context_get_settings (self->hub_context);
}

HubsConnectionContext *
hubs_connection_context_new (HubsHubContext     *hub_context,
                             HubsHttpConnection *http_connection)
{
  HubsConnectionContext *self = g_object_new (HUBS_TYPE_CONNECTION_CONTEXT, NULL);

  self->hub_context = g_object_ref (hub_context);
  self->http = g_object_ref (http_connection);
  self->caller = hubs_caller_context_new (self,
                                          hubs_http_connection_get_connection_id (http_connection),
                                          hubs_http_connection_get_http_context (http_connection),
                                          hubs_http_connection_get_transport (http_connection));

  return self;
}

const char *
hubs_connection_context_get_connection_id (HubsConnectionContext *self)
{
  return hubs_caller_context_get_connection_id (self->caller);
}

const char *
hubs_connection_context_get_user_identifier (HubsConnectionContext *self)
{
  return hubs_caller_context_get_user_identifier (self->caller);
}

HubsCallerContext *
hubs_connection_context_get_caller_context (HubsConnectionContext *self)
{
  return self->caller;
}

HubsHubContext *
hubs_connection_context_get_hub_context (HubsConnectionContext *self)
{
  return self->hub_context;
}

const HubsHubProtocol *
hubs_connection_context_get_protocol (HubsConnectionContext *self)
{
  return self->protocol;
}

gboolean
hubs_connection_context_is_closed (HubsConnectionContext *self)
{
  return self->state >= STATE_CLOSING;
}

/* Everything written to the client goes through here. With stateful
 * reconnect, sequenced messages are kept until the client acknowledges
 * them, and written again if it comes back on a new socket; while it is
 * away, nothing is written. @type: 0 for what is not a hub message. */
static void
write_bytes (HubsConnectionContext *self,
             HubsMessageType        type,
             GBytes                *bytes)
{
  if (self->buffer != NULL)
    hubs_message_buffer_add (self->buffer, type, bytes);
  hubs_http_connection_send (self->http, bytes);
}

/* Sends what @out holds and frees it: the transport keeps its own
 * reference on the bytes until they are written. */
static void
write_buffer (HubsConnectionContext *self,
              HubsMessageType        type,
              GByteArray            *out)
{
  g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (out);

  write_bytes (self, type, bytes);
}

void
hubs_connection_context_write_message (HubsConnectionContext *self,
                                       HubsHubMessage        *message)
{
  g_autoptr(GByteArray) out = NULL;

  if (self->state != STATE_CONNECTED && message->type != HUBS_MESSAGE_CLOSE)
    return;

  out = g_byte_array_sized_new (OUTGOING_MESSAGE_SIZE);
  self->protocol->write_message (message, out);
  hubs_metrics_count_message_sent (hubs_http_connection_get_transport_object (self->http),
                                   message->type == HUBS_MESSAGE_COMPLETION && message->error != NULL);
  write_buffer (self, message->type, g_steal_pointer (&out));
}

static void
set_close_error (HubsConnectionContext *self,
                 const GError          *error)
{
  if (self->close_error == NULL && error != NULL)
    self->close_error = g_error_copy (error);
}

/* Writes a Close message (when the protocol is known) and closes the
 * transport once it has been written. */
static void
close_with_message (HubsConnectionContext *self,
                    const char            *error,
                    gboolean               allow_reconnect)
{
  if (self->state >= STATE_CLOSING)
    return;

  if (self->protocol != NULL && self->state == STATE_CONNECTED)
    {
      g_autoptr(HubsHubMessage) close = hubs_hub_message_new_close (error, allow_reconnect);

      hubs_connection_context_write_message (self, close);
    }

  self->state = STATE_CLOSING;
  g_clear_pointer (&self->heartbeat, hubs_ticker_remove);
  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);
  hubs_http_connection_close (self->http, NULL);
  /* As HubConnectionHandler: the hub side ends now, while the transport
   * still flushes the Close and waits for the client's close. */
  finish (self);
}

/* The connection ends because of @error, which on_disconnected receives; the
 * client gets "Connection closed with an error." and may reconnect. */
static void
close_with_error (HubsConnectionContext *self,
                  const GError          *error)
{
  g_autofree char *text = NULL;

  set_close_error (self, error);
  text = hubs_build_error_message ("Connection closed with an error.", error,
                                   settings (self)->detailed_errors);
  close_with_message (self, text, TRUE);
}

void
hubs_connection_context_close (HubsConnectionContext *self,
                               const char            *error,
                               gboolean               allow_reconnect)
{
  g_return_if_fail (HUBS_IS_CONNECTION_CONTEXT (self));

  if (self->state == STATE_HANDSHAKE)
    {
      self->state = STATE_CLOSING;
      g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);
      hubs_http_connection_close (self->http, NULL);
      return;
    }
  close_with_message (self, error, allow_reconnect);
}

void
hubs_connection_context_abort (HubsConnectionContext *self)
{
  g_return_if_fail (HUBS_IS_CONNECTION_CONTEXT (self));

  /* As HubConnectionContext.Abort(): a Close without error and without
   * permission to reconnect; on_disconnected sees no error. */
  hubs_connection_context_close (self, NULL, FALSE);
}

gboolean
hubs_connection_context_send (HubsConnectionContext *self,
                              HubsSerializedMessage *message)
{
  GBytes *bytes;

  if (self->state != STATE_CONNECTED)
    return FALSE;

  if (hubs_http_connection_get_queued_bytes (self->http) > MAX_OUTGOING_BYTES ||
      (self->buffer != NULL && hubs_message_buffer_get_buffered (self->buffer) > MAX_OUTGOING_BYTES))
    {
      g_autoptr(GError) error = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                             "The client did not read its messages: more than %u bytes were waiting.",
                                             MAX_OUTGOING_BYTES);
      HUBS_LOG_CONNECTION (G_LOG_LEVEL_INFO, "SlowClientAborted", self, NULL, "Aborting the connection: %s", error->message);
      set_close_error (self, error);
      /* No Close message: it would only wait behind the rest. */
      self->state = STATE_CLOSING;
      g_clear_pointer (&self->heartbeat, hubs_ticker_remove);
      hubs_http_connection_abort (self->http);
      return FALSE;
    }

  bytes = hubs_serialized_message_get_bytes (message, self->protocol);
  /* From another server that does not speak this connection's protocol. */
  if (G_UNLIKELY (bytes == NULL))
    return FALSE;
  write_bytes (self, hubs_serialized_message_get_message (message)->type, bytes);
  hubs_metrics_count_message_sent (hubs_http_connection_get_transport_object (self->http), FALSE);
  return TRUE;
}

/* The client reads slower than the connection writes. Unlike a full
 * stateful reconnect buffer, this holds the client's invocations back: the
 * Ack that would release the buffer may wait behind them in the input. */
static gboolean
output_backed_up (HubsConnectionContext *self)
{
  return hubs_http_connection_get_queued_bytes (self->http) > STREAM_HIGH_WATERMARK;
}

/* Streams wait while this is TRUE. */
gboolean
hubs_connection_context_is_congested (HubsConnectionContext *self)
{
  return output_backed_up (self) ||
         (self->buffer != NULL && hubs_message_buffer_is_full (self->buffer));
}

void
hubs_connection_context_wait_drained (HubsConnectionContext *self,
                                      GTask                 *task)
{
  g_queue_push_tail (&self->drain_waiters, task);
}

/* @error: NULL when there is room again. */
static void
release_drain_waiters (HubsConnectionContext *self,
                       const GError          *error)
{
  GTask *task;

  while ((task = g_queue_pop_head (&self->drain_waiters)) != NULL)
    {
      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }
}

gboolean
hubs_connection_context_has_stream_writer (HubsConnectionContext *self,
                                           const char            *invocation_id)
{
  return invocation_id != NULL && g_hash_table_contains (self->stream_writers, invocation_id);
}

gboolean
hubs_connection_context_add_stream_writer (HubsConnectionContext *self,
                                           HubsStreamWriter      *writer)
{
  const char *id = hubs_stream_writer_get_invocation_id (writer);

  if (g_hash_table_contains (self->stream_writers, id))
    return FALSE;
  g_hash_table_insert (self->stream_writers, g_strdup (id), g_object_ref (writer));
  return TRUE;
}

void
hubs_connection_context_remove_stream_writer (HubsConnectionContext *self,
                                              HubsStreamWriter      *writer)
{
  const char *id = hubs_stream_writer_get_invocation_id (writer);

  if (self->stream_writers != NULL &&
      g_hash_table_lookup (self->stream_writers, id) == writer)
    g_hash_table_remove (self->stream_writers, id);
}

gboolean
hubs_connection_context_add_upload_stream (HubsConnectionContext *self,
                                           HubsStreamReader      *reader)
{
  const char *id = hubs_stream_reader_get_stream_id (reader);

  if (g_hash_table_contains (self->upload_streams, id))
    return FALSE;
  g_hash_table_insert (self->upload_streams, g_strdup (id), g_object_ref (reader));
  return TRUE;
}

void
hubs_connection_context_end_upload_stream (HubsConnectionContext *self,
                                           HubsStreamReader      *reader)
{
  g_autoptr(HubsStreamReader) keep = g_object_ref (reader);
  const char *id = hubs_stream_reader_get_stream_id (reader);

  if (g_hash_table_lookup (self->upload_streams, id) != reader)
    return;

  g_hash_table_remove (self->upload_streams, id);
  hubs_stream_reader_push_end (reader, NULL);

  /* Its waiting item goes nowhere now, and the connection reads on. */
  if (self->blocked_item != NULL && g_strcmp0 (self->blocked_item->invocation_id, id) == 0)
    {
      g_clear_pointer (&self->blocked_item, hubs_hub_message_unref);
      resume (self);
    }
}

/* The connection ends: its streams and pending client results with it. */
static void
end_streams (HubsConnectionContext *self)
{
  g_autoptr(GError) closed = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, "The connection ended.");
  g_autoptr(GError) disconnected = NULL;
  GHashTableIter iter;
  gpointer value;
  GList *list;

  list = hubs_object_list_ref (g_hash_table_get_values (self->stream_writers));
  for (GList *l = list; l != NULL; l = l->next)
    hubs_stream_writer_cancel (l->data);
  g_list_free_full (list, g_object_unref);

  release_drain_waiters (self, closed);

  list = hubs_object_list_ref (g_hash_table_get_values (self->upload_streams));
  g_hash_table_remove_all (self->upload_streams);
  for (GList *l = list; l != NULL; l = l->next)
    hubs_stream_reader_push_end (l->data, closed);
  g_list_free_full (list, g_object_unref);

  disconnected = g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED, "Connection '%s' disconnected.",
                              hubs_connection_context_get_connection_id (self));
  list = NULL;
  g_hash_table_iter_init (&iter, self->client_results);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    list = g_list_prepend (list, g_object_ref (value));
  g_hash_table_remove_all (self->client_results);
  self->n_lent = 0;
  for (GList *l = list; l != NULL; l = l->next)
    g_task_return_error (l->data, g_error_copy (disconnected));
  g_list_free_full (list, g_object_unref);
}

void
hubs_connection_context_invoke_client_async (HubsConnectionContext *self,
                                             const char            *method,
                                             guint                  n_args,
                                             const GValue          *args,
                                             GType                  result_type,
                                             GCancellable          *cancellable,
                                             GAsyncReadyCallback    callback,
                                             gpointer               user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(HubsHubMessage) message = NULL;
  g_autofree char *id = NULL;
  HubsParamType *type;

  g_task_set_source_tag (task, hubs_connection_context_invoke_client_async);

  if (self->in_on_connected)
    {
      g_task_return_new_error (task, HUBS_ERROR, HUBS_ERROR_FAILED,
                               "Client results inside OnConnectedAsync Hub methods are not allowed.");
      return;
    }
  if (self->state != STATE_CONNECTED)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED, "Connection '%s' disconnected.",
                               hubs_connection_context_get_connection_id (self));
      return;
    }

  type = g_new0 (HubsParamType, 1);
  type->type = result_type == G_TYPE_INVALID || result_type == G_TYPE_NONE ? G_TYPE_VARIANT : result_type;
  g_task_set_task_data (task, type, g_free);

  id = hubs_hub_context_next_client_invocation_id (self->hub_context);
  message = hubs_hub_message_new_invocation (id, method, n_args, args);
  g_hash_table_insert (self->client_results, g_steal_pointer (&id), g_object_ref (task));
  hubs_connection_context_write_message (self, message);

  /* As ASP.NET Core since 7: the invocation that waits for its client lends
   * its slot, so that the client's next invocation (or the reading of its
   * answer behind one) goes on even with one invocation at a time. */
  self->n_lent++;
  resume (self);
}

gboolean
hubs_connection_context_invoke_client_finish (HubsConnectionContext  *self,
                                              GAsyncResult           *result,
                                              GValue                 *value,
                                              GError                **error)
{
  g_autofree GValue *result_value = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  result_value = g_task_propagate_pointer (G_TASK (result), error);
  if (result_value == NULL)
    return FALSE;

  if (value != NULL)
    *value = *result_value;
  else if (G_IS_VALUE (result_value))
    g_value_unset (result_value);
  return TRUE;
}

/* As MessageBuffer's timer: every second, an Ack of what arrived since. */
static void
send_ack (HubsConnectionContext *self,
          gint64                 now)
{
  g_autoptr(HubsHubMessage) ack = NULL;
  guint64 sequence_id;

  self->last_ack_sent = now;
  if (!hubs_message_buffer_take_ack (self->buffer, &sequence_id))
    return;

  ack = hubs_hub_message_new (HUBS_MESSAGE_ACK);
  ack->sequence_id = sequence_id;
  hubs_connection_context_write_message (self, ack);
}

static gboolean
heartbeat (gpointer user_data)
{
  HubsConnectionContext *self = user_data;
  gint64 now = g_get_monotonic_time ();
  const HubsHubSettings *s = settings (self);

  /* A stateful connection whose client is away: no pings, and the client
   * timeout starts again when it comes back. */
  if (hubs_http_connection_is_detached (self->http))
    {
      self->last_received = now;
      return G_SOURCE_CONTINUE;
    }

  if (self->buffer != NULL && now - self->last_ack_sent >= G_USEC_PER_SEC)
    send_ack (self, now);

  if (self->client_timeout_active && self->n_invoking == 0 &&
      now - self->last_received > (gint64) s->client_timeout_interval_ms * 1000)
    {
      g_autoptr(GError) error = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_TIMED_OUT,
                                                     "Client hasn't sent a message/ping within the configured ClientTimeoutInterval.");
      self->heartbeat = NULL;
      HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "ClientTimeout", self, NULL,
                           "Client timeout (%ums) elapsed without receiving a message from the client. "
                           "Closing connection.", s->client_timeout_interval_ms);
      close_with_error (self, error);
      return G_SOURCE_REMOVE;
    }

  /* As ASP.NET Core: the ping tick runs whatever the traffic.
   * (Transports edit:) none on a transport with inherent keep-alive (Long
   * Polling), where HubConnectionContext skips keep-alive. */
  if (s->keep_alive_interval_ms > 0 &&
      !hubs_transport_has_inherent_keep_alive (hubs_http_connection_get_transport_object (self->http)) &&
      now - self->last_ping_sent >= (gint64) s->keep_alive_interval_ms * 1000)
    {
      g_autoptr(HubsHubMessage) ping = hubs_hub_message_new_ping ();

      self->last_ping_sent = now;
      hubs_connection_context_write_message (self, ping);
    }

  /* Transports that do not report draining still release waiting writes
   * and invocations. */
  if (!hubs_connection_context_is_congested (self))
    {
      release_drain_waiters (self, NULL);
      if (self->waiting != NULL)
        resume (self);
    }

  return G_SOURCE_CONTINUE;
}

static void
start_heartbeat (HubsConnectionContext *self)
{
  const HubsHubSettings *s = settings (self);
  guint shortest = MIN (s->keep_alive_interval_ms ? s->keep_alive_interval_ms : G_MAXUINT,
                        s->client_timeout_interval_ms ? s->client_timeout_interval_ms : G_MAXUINT);

  self->last_ping_sent = self->last_received = g_get_monotonic_time ();

  /* ASP.NET Core ticks every second; shorter intervals (tests) tick faster.
   * One timer for all the connections of an interval. */
  if (shortest >= 4000)
    self->heartbeat = hubs_ticker_add (1000, heartbeat, self);
  else
    self->heartbeat = hubs_ticker_add (MAX (shortest / 4, 5), heartbeat, self);
}

static void
run_on_connected (HubsConnectionContext *self)
{
  g_autoptr(HubsHub) hub = hubs_hub_new_for_connection (hubs_hub_context_get_hub_type (self->hub_context), self);
  g_autoptr(GError) error = NULL;

  gboolean accepted;

  /* A refused connection never was connected: as in ASP.NET Core, its
   * on_disconnected does not run. */
  self->in_on_connected = TRUE;
  accepted = hubs_hub_filters_run_on_connected (self, hub, &error);
  self->in_on_connected = FALSE;
  if (accepted)
    self->connected_notified = TRUE;
  else
    {
      g_autofree char *text = NULL;

      if (error == NULL)
        error = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_FAILED, "The hub refused the connection.");

      /* As HubConnectionHandler.RunHubAsync: no permission to reconnect. */
      set_close_error (self, error);
      text = hubs_build_error_message ("Connection closed with an error.", error,
                                       settings (self)->detailed_errors);
      close_with_message (self, text, FALSE);
    }
}

static void
fail_handshake (HubsConnectionContext *self,
                const char            *text)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "HandshakeFailed", self, NULL, "Failed connection handshake: %s", text);
  hubs_handshake_write_response (text, out);
  write_buffer (self, 0, g_steal_pointer (&out));

  self->state = STATE_CLOSING;
  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);
  hubs_http_connection_close (self->http, NULL);
}

static gboolean
handshake_timed_out (gpointer user_data)
{
  HubsConnectionContext *self = user_data;

  self->handshake_timeout_id = 0;
  fail_handshake (self, "Handshake was canceled.");
  return G_SOURCE_REMOVE;
}

/* The client is back on a new WebSocket: before anything else, Sequence
 * and every message it has not acknowledged (MessageBuffer.ResendAsync). */
static void
on_resumed (gpointer user_data)
{
  HubsConnectionContext *self = user_data;
  g_autoptr(HubsHubMessage) sequence = hubs_hub_message_new (HUBS_MESSAGE_SEQUENCE);
  g_autoptr(GPtrArray) messages = NULL;

  /* What the old socket brought and was not parsed is not acknowledged:
   * the client sends it again, and a message cut in two with it. */
  g_byte_array_set_size (self->input, 0);
  self->last_received = g_get_monotonic_time ();
  hubs_message_buffer_expect_sequence (self->buffer);

  sequence->sequence_id = hubs_message_buffer_get_resend (self->buffer, &messages);
  hubs_connection_context_write_message (self, sequence);
  /* Already kept: written again as they are, not added a second time. */
  for (guint i = 0; i < messages->len; i++)
    hubs_http_connection_send (self->http, messages->pdata[i]);

  if (paused (self))
    hubs_http_connection_set_receiving (self->http, FALSE);
}

/* Returns TRUE once the handshake is done and messages may follow. */
static gboolean
process_handshake (HubsConnectionContext *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GByteArray) out = NULL;
  const HubsHubProtocol *protocol;
  gsize consumed = 0;
  int version = 0;

  if (!hubs_handshake_parse_request (self->input->data, self->input->len,
                                     settings (self)->maximum_receive_message_size,
                                     &consumed, &name, &version, &error))
    {
      if (g_error_matches (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE))
        fail_handshake (self, "Handshake was canceled.");
      else
        {
          text = hubs_build_error_message ("An unexpected error occurred during connection handshake.",
                                           error, settings (self)->detailed_errors);
          fail_handshake (self, text);
        }
      return FALSE;
    }
  if (consumed == 0)
    return FALSE;

  g_byte_array_remove_range (self->input, 0, consumed);

  protocol = hubs_hub_protocol_lookup (name);
  if (protocol == NULL)
    {
      text = g_strdup_printf ("The protocol '%s' is not supported.", name);
      fail_handshake (self, text);
      return FALSE;
    }
  if (version > protocol->version)
    {
      text = g_strdup_printf ("The server does not support version %d of the '%s' protocol.", version, name);
      fail_handshake (self, text);
      return FALSE;
    }

  /* (Transports edit:) Server-Sent Events carry text only: a binary
   * protocol is refused with HubConnectionContext's handshake error. */
  if (!hubs_transport_supports_format (hubs_http_connection_get_transport_object (self->http),
                                       protocol->transfer_format))
    {
      text = g_strdup_printf ("Cannot use the '%s' protocol on the current transport. "
                              "The transport does not support '%s' transfer format.", name,
                              protocol->transfer_format == HUBS_TRANSFER_FORMAT_BINARY ? "Binary" : "Text");
      fail_handshake (self, text);
      return FALSE;
    }

  self->protocol = protocol;
  hubs_caller_context_set_protocol (self->caller, protocol->name);
  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);

  out = g_byte_array_new ();
  hubs_handshake_write_response (NULL, out);
  write_buffer (self, 0, g_steal_pointer (&out));
  hubs_http_connection_set_transfer_format (self->http, protocol->transfer_format);

  /* As HubConnectionContext: stateful reconnect when negotiate agreed to it
   * and the client speaks version 2 of the protocol; WebSockets only. */
  if (version >= 2 && hubs_http_connection_get_stateful_reconnect (self->http) &&
      hubs_http_connection_get_transport (self->http) == HUBS_TRANSPORT_WEB_SOCKETS)
    {
      self->buffer = hubs_message_buffer_new (settings (self)->stateful_reconnect_buffer_size);
      hubs_http_connection_enable_reconnect (self->http, on_resumed, self);
    }

  HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "HandshakeComplete", self, NULL,
                       "Completed connection handshake. Using HubProtocol '%s'.", protocol->name);
  self->state = STATE_CONNECTED;
  hubs_lifetime_manager_on_connected (hubs_hub_context_get_lifetime_manager (self->hub_context), self);
  start_heartbeat (self);
  run_on_connected (self);

  return self->state == STATE_CONNECTED;
}

static void invoke (HubsConnectionContext *self,
                    HubsHubMessage        *message);

static gboolean
slot_free (HubsConnectionContext *self)
{
  guint limit = MAX (settings (self)->maximum_parallel_invocations, 1);

  return self->n_invoking < limit + self->n_lent;
}

static gboolean
paused (HubsConnectionContext *self)
{
  return self->waiting != NULL || self->blocked_item != NULL;
}

/* Runs what waited and goes on parsing, once nothing holds parsing back. */
static void
resume (HubsConnectionContext *self)
{
  if (self->state != STATE_CONNECTED)
    return;

  if (self->waiting != NULL && slot_free (self) && !output_backed_up (self))
    {
      g_autoptr(HubsHubMessage) next = g_steal_pointer (&self->waiting);

      invoke (self, next);
    }
  if (!paused (self))
    {
      hubs_http_connection_set_receiving (self->http, TRUE);
      if (!self->parsing)
        parse_input (self);
    }
}

static void
invocation_done (HubsConnectionContext *self,
                 gpointer               user_data)
{
  self->n_invoking--;
  /* A reply may have been due while the method ran. */
  self->last_received = g_get_monotonic_time ();

  resume (self);
}

static void
invoke (HubsConnectionContext *self,
        HubsHubMessage        *message)
{
  self->n_invoking++;
  hubs_hub_dispatcher_invoke (self, message, invocation_done, NULL);
}

static void
deliver_item (HubsConnectionContext *self,
              HubsStreamReader      *reader,
              HubsHubMessage        *message)
{
  g_autoptr(GError) error = NULL;
  GValue *item = g_new0 (GValue, 1);

  if (!self->protocol->bind_value (message, hubs_stream_reader_get_param_type (reader), item, &error))
    {
      g_autoptr(HubsStreamReader) keep = g_object_ref (reader);

      g_free (item);
      g_hash_table_remove (self->upload_streams, hubs_stream_reader_get_stream_id (reader));
      hubs_stream_reader_push_end (keep, error);
      return;
    }
  hubs_stream_reader_push_item (reader, item);
}

static void
handle_stream_item (HubsConnectionContext *self,
                    HubsHubMessage        *message)
{
  HubsStreamReader *reader = NULL;

  if (message->invocation_id != NULL)
    reader = g_hash_table_lookup (self->upload_streams, message->invocation_id);
  if (reader == NULL)
    {
      HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "UnexpectedStreamItem", self, NULL,
                           "StreamItem for unknown stream '%s' ignored.", message->invocation_id);
      return;
    }

  /* StreamBufferCapacity: a full stream holds the whole connection's
   * reading back until the method reads, as ASP.NET Core's channel write
   * does. */
  if (hubs_stream_reader_is_full (reader))
    self->blocked_item = hubs_hub_message_ref (message);
  else
    deliver_item (self, reader, message);
}

void
hubs_connection_context_upload_consumed (HubsConnectionContext *self)
{
  g_autoptr(HubsConnectionContext) keep = g_object_ref (self);
  HubsStreamReader *reader;

  if (self->blocked_item == NULL)
    return;

  reader = g_hash_table_lookup (self->upload_streams, self->blocked_item->invocation_id);
  if (reader != NULL && hubs_stream_reader_is_full (reader))
    return;

  {
    g_autoptr(HubsHubMessage) item = g_steal_pointer (&self->blocked_item);

    if (reader != NULL)
      deliver_item (self, reader, item);
  }
  resume (self);
}

static void
complete_client_result (HubsConnectionContext *self,
                        GTask                 *task,
                        HubsHubMessage        *message)
{
  GError *error = NULL;
  GValue *value = hubs_client_result_bind (self->protocol, message, g_task_get_task_data (task), &error);

  if (value != NULL)
    g_task_return_pointer (task, value, hubs_value_free);
  else
    g_task_return_error (task, error);
}

static void
handle_completion (HubsConnectionContext *self,
                   HubsHubMessage        *message)
{
  HubsStreamReader *reader;
  GTask *task;

  if (message->invocation_id == NULL)
    return;

  /* As DefaultHubDispatcher: upload streams first, then client results. */
  reader = g_hash_table_lookup (self->upload_streams, message->invocation_id);
  if (reader != NULL)
    {
      g_autoptr(HubsStreamReader) keep = g_object_ref (reader);
      g_autoptr(GError) error = NULL;

      if (message->error != NULL)
        error = g_error_new_literal (HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED, message->error);
      g_hash_table_remove (self->upload_streams, message->invocation_id);
      hubs_stream_reader_push_end (keep, error);
      return;
    }

  task = g_hash_table_lookup (self->client_results, message->invocation_id);
  if (task != NULL)
    {
      g_autoptr(GTask) keep = g_object_ref (task);

      g_hash_table_remove (self->client_results, message->invocation_id);
      self->n_lent--;
      complete_client_result (self, keep, message);
      return;
    }

  /* A client result that another server waits for. */
  if (self->frame != NULL &&
      hubs_lifetime_manager_take_completion (hubs_hub_context_get_lifetime_manager (self->hub_context),
                                             self, message, self->frame, self->frame_length))
    return;

  HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "UnexpectedCompletion", self, NULL,
                       "CompletionMessage for invocation ID '%s' received unexpectedly.", message->invocation_id);
}

static void
handle_message (HubsConnectionContext *self,
                HubsHubMessage        *message)
{
  hubs_metrics_count_transport (hubs_http_connection_get_transport_object (self->http), HUBS_METRICS_MESSAGES_RECEIVED);

  switch (message->type)
    {
    case HUBS_MESSAGE_INVOCATION:
    case HUBS_MESSAGE_STREAM_INVOCATION:
      hubs_metrics_count_transport (hubs_http_connection_get_transport_object (self->http), HUBS_METRICS_INVOCATIONS);
      if (hubs_hub_dispatcher_runs_in_background (self, message))
        {
          /* Streams and methods with upload streams run beside the others,
           * outside the limit, as in ASP.NET Core. */
          hubs_hub_dispatcher_invoke (self, message, NULL, NULL);
        }
      else if (!slot_free (self) || output_backed_up (self))
        {
          /* Parsing waits, as ASP.NET Core's reader does at its semaphore,
           * while the transport goes on reading (so that a client that
           * leaves is noticed) up to a bound. It waits too while the
           * client's own output is above the watermark, as ASP.NET Core's
           * invocations wait for their sends to the caller to flush: a
           * client that sends faster than it reads slows down rather than
           * being cut off. */
          self->waiting = hubs_hub_message_ref (message);
        }
      else
        invoke (self, message);
      break;

    case HUBS_MESSAGE_PING:
      self->client_timeout_active = TRUE;
      break;

    case HUBS_MESSAGE_CLOSE:
      if (message->error != NULL)
        {
          g_autoptr(GError) error = g_error_new_literal (HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                                         message->error);
          set_close_error (self, error);
        }
      close_with_message (self, NULL, FALSE);
      break;

    case HUBS_MESSAGE_STREAM_ITEM:
      handle_stream_item (self, message);
      break;

    case HUBS_MESSAGE_COMPLETION:
      handle_completion (self, message);
      break;

    case HUBS_MESSAGE_CANCEL_INVOCATION:
      {
        HubsStreamWriter *writer = NULL;

        /* An unknown id is ignored, as in ASP.NET Core. */
        if (message->invocation_id != NULL)
          writer = g_hash_table_lookup (self->stream_writers, message->invocation_id);
        if (writer != NULL)
          hubs_stream_writer_cancel (writer);
      }
      break;

    case HUBS_MESSAGE_ACK:
      /* Ignored without stateful reconnect, as in ASP.NET Core. */
      if (self->buffer != NULL)
        {
          gboolean was_congested = hubs_connection_context_is_congested (self);

          hubs_message_buffer_ack (self->buffer, message->sequence_id);
          if (was_congested && !hubs_connection_context_is_congested (self))
            on_drained (self);
        }
      break;

    case HUBS_MESSAGE_SEQUENCE:
      /* Handled before, with stateful reconnect; ignored without. */
      break;

    default:
      break;
    }
}

/* With stateful reconnect: FALSE for a message the client sends again
 * after coming back, for anything before its Sequence on a new socket, and
 * for the Sequence, which says where it starts. */
static gboolean
accept_sequenced (HubsConnectionContext *self,
                  HubsHubMessage        *message)
{
  if (!hubs_message_buffer_should_process (self->buffer, message->type))
    return FALSE;

  if (message->type == HUBS_MESSAGE_SEQUENCE)
    {
      g_autoptr(GError) error = NULL;

      if (!hubs_message_buffer_reset_sequence (self->buffer, message->sequence_id, &error))
        close_with_error (self, error);
      return FALSE;
    }

  return TRUE;
}

static void
parse_input (HubsConnectionContext *self)
{
  g_autoptr(HubsConnectionContext) keep = g_object_ref (self);
  gsize offset = 0;

  self->parsing = TRUE;

  if (self->state == STATE_HANDSHAKE && !process_handshake (self))
    goto out;

  while (self->state == STATE_CONNECTED && !paused (self) && offset < self->input->len)
    {
      g_autoptr(HubsHubMessage) message = NULL;
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      message = self->protocol->parse_message (self->input->data + offset,
                                               self->input->len - offset,
                                               settings (self)->maximum_receive_message_size,
                                               &consumed, &error);
      if (error != NULL)
        {
          HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "ErrorProcessingRequest", self, NULL,
                               "Error when processing requests: %s", error->message);
          close_with_error (self, error);
          break;
        }
      if (consumed == 0)
        break;
      offset += consumed;

      if (message != NULL && self->buffer != NULL && !accept_sequenced (self, message))
        continue;
      if (message != NULL)
        {
          self->frame = self->input->data + offset - consumed;
          self->frame_length = consumed;
          handle_message (self, message);
          self->frame = NULL;
        }
    }

  if (offset > 0 && self->input != NULL)
    g_byte_array_remove_range (self->input, 0, offset);

out:
  self->parsing = FALSE;
}

static void
on_received (gpointer      user_data,
             const guint8 *data,
             gsize         length)
{
  HubsConnectionContext *self = user_data;

  if (self->state >= STATE_CLOSING)
    return;

  self->last_received = g_get_monotonic_time ();
  g_byte_array_append (self->input, data, length);

  /* While an invocation waits for the running one, input piles up: past
   * ASP.NET Core's 64 KiB transport buffer (or one whole message), the
   * client's socket waits instead. */
  if (paused (self) &&
      self->input->len > MAX (MAX_WAITING_INPUT_BYTES, settings (self)->maximum_receive_message_size))
    hubs_http_connection_set_receiving (self->http, FALSE);

  if (!self->parsing)
    parse_input (self);
}

/* The hub side of the connection ends: it leaves the lifetime manager and
 * its groups, work tied to it is cancelled, and on_disconnected runs. Once. */
static void
finish (HubsConnectionContext *self)
{
  g_autoptr(HubsConnectionContext) keep = g_object_ref (self);

  if (self->finished)
    return;
  self->finished = TRUE;
  if (self->protocol != NULL)
    HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "ConnectionClosed", self, NULL, "Connection closed: %s.",
                         self->close_error ? self->close_error->message : "normal closure");

  g_clear_pointer (&self->heartbeat, hubs_ticker_remove);
  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);
  g_clear_pointer (&self->waiting, hubs_hub_message_unref);
  g_clear_pointer (&self->blocked_item, hubs_hub_message_unref);
  end_streams (self);

  if (self->protocol != NULL)
    hubs_lifetime_manager_on_disconnected (hubs_hub_context_get_lifetime_manager (self->hub_context), self);

  /* Work tied to the connection stops before on_disconnected runs, as the
   * ConnectionAborted token fires first in ASP.NET Core. */
  hubs_caller_context_detach (self->caller);

  if (self->connected_notified)
    {
      g_autoptr(HubsHub) hub = hubs_hub_new_for_connection (hubs_hub_context_get_hub_type (self->hub_context), self);

      hubs_hub_filters_run_on_disconnected (self, hub, self->close_error);
    }
}

static void
on_closed (gpointer      user_data,
           const GError *error)
{
  HubsConnectionContext *self = user_data;
  g_autoptr(HubsConnectionContext) keep = g_object_ref (self);

  /* As HubConnectionHandler's read loop: input that ends inside a message
   * is an error, not a clean end. */
  if (error == NULL && self->state == STATE_CONNECTED &&
      !paused (self) && self->input->len > 0)
    {
      g_autoptr(GError) truncated = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                                                         "Connection terminated while reading a message.");
      set_close_error (self, truncated);
    }

  set_close_error (self, error);
  self->state = STATE_CLOSED;
  finish (self);

  /* The HTTP connection held us through its callbacks. */
  hubs_http_connection_set_application (self->http, NULL, NULL);
  g_object_unref (self);
}

static void
on_drained (gpointer user_data)
{
  HubsConnectionContext *self = user_data;

  release_drain_waiters (self, NULL);
  resume (self);
}

void
hubs_connection_context_start (HubsConnectionContext *self)
{
  static const HubsTransportCallbacks callbacks = {
    .received = on_received,
    .closed = on_closed,
    .drained = on_drained,
  };
  guint timeout = settings (self)->handshake_timeout_ms;

  g_return_if_fail (HUBS_IS_CONNECTION_CONTEXT (self));

  /* Owned by the HTTP connection's callbacks until on_closed(). */
  hubs_http_connection_set_application (self->http, &callbacks, g_object_ref (self));
  if (timeout > 0)
    self->handshake_timeout_id = g_timeout_add (timeout, handshake_timed_out, self);
}
