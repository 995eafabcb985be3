/* hubs-connection-context.c: one hub connection: handshake, messages,
 * keep-alive, client timeout and close
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-connection-context-private.h"

#include "hubs-caller-context-private.h"
#include "hubs-error.h"
#include "hubs-hub-dispatcher-private.h"
#include "hubs-hub-private.h"
#include "hubs-http-connection-private.h"
#include "hubs-http-context.h"
#include "hubs-user.h"

/* A connection whose outgoing queue holds more than this is not reading: it
 * is closed rather than let the server's memory grow without bound. */
#define MAX_OUTGOING_BYTES (1024 * 1024)

/* ASP.NET Core's TransportMaxBufferSize. */
#define MAX_WAITING_INPUT_BYTES (64 * 1024)

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
  gboolean invoking;            /* an invocation holds the connection's slot */
  HubsHubMessage *waiting;      /* an invocation waiting for the slot */

  guint handshake_timeout_id;
  guint heartbeat_id;
  gint64 last_ping_sent;
  gint64 last_received;
  gboolean client_timeout_active;

  gboolean connected_notified;  /* on_connected ran: on_disconnected must */
  gboolean finished;            /* the hub side has ended */
  GError *close_error;          /* why the connection ended, for on_disconnected */
};

G_DEFINE_FINAL_TYPE (HubsConnectionContext, hubs_connection_context, G_TYPE_OBJECT)

static void parse_input (HubsConnectionContext *self);
static void finish (HubsConnectionContext *self);

static void
hubs_connection_context_dispose (GObject *object)
{
  HubsConnectionContext *self = HUBS_CONNECTION_CONTEXT (object);

  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);
  g_clear_handle_id (&self->heartbeat_id, g_source_remove);
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

static void
write_bytes (HubsConnectionContext *self,
             GBytes                *bytes)
{
  hubs_http_connection_send (self->http, bytes);
}

void
hubs_connection_context_write_message (HubsConnectionContext *self,
                                       HubsHubMessage        *message)
{
  g_autoptr(GByteArray) out = NULL;

  if (self->state != STATE_CONNECTED && message->type != HUBS_MESSAGE_CLOSE)
    return;

  out = g_byte_array_new ();
  self->protocol->write_message (message, out);
  write_bytes (self, g_byte_array_free_to_bytes (g_steal_pointer (&out)));
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
  g_clear_handle_id (&self->heartbeat_id, g_source_remove);
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
  if (self->state != STATE_CONNECTED)
    return FALSE;

  if (hubs_http_connection_get_queued_bytes (self->http) > MAX_OUTGOING_BYTES)
    {
      g_autoptr(GError) error = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                             "The client did not read its messages: more than %u bytes were waiting.",
                                             MAX_OUTGOING_BYTES);
      g_debug ("Closing connection %s: %s", hubs_connection_context_get_connection_id (self), error->message);
      set_close_error (self, error);
      /* No Close message: it would only wait behind the rest. */
      self->state = STATE_CLOSING;
      g_clear_handle_id (&self->heartbeat_id, g_source_remove);
      hubs_http_connection_abort (self->http);
      return FALSE;
    }

  write_bytes (self, hubs_serialized_message_get_bytes (message, self->protocol));
  return TRUE;
}

static gboolean
heartbeat (gpointer user_data)
{
  HubsConnectionContext *self = user_data;
  gint64 now = g_get_monotonic_time ();
  const HubsHubSettings *s = settings (self);

  if (self->client_timeout_active && !self->invoking &&
      now - self->last_received > (gint64) s->client_timeout_interval_ms * 1000)
    {
      g_autoptr(GError) error = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_TIMED_OUT,
                                                     "Client hasn't sent a message/ping within the configured ClientTimeoutInterval.");
      self->heartbeat_id = 0;
      close_with_error (self, error);
      return G_SOURCE_REMOVE;
    }

  /* As ASP.NET Core: the ping tick runs whatever the traffic. */
  if (s->keep_alive_interval_ms > 0 &&
      now - self->last_ping_sent >= (gint64) s->keep_alive_interval_ms * 1000)
    {
      g_autoptr(HubsHubMessage) ping = hubs_hub_message_new_ping ();

      self->last_ping_sent = now;
      hubs_connection_context_write_message (self, ping);
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
   * Whole seconds let GLib wake every connection's timer at once. */
  if (shortest >= 4000)
    self->heartbeat_id = g_timeout_add_seconds (1, heartbeat, self);
  else
    self->heartbeat_id = g_timeout_add (MAX (shortest / 4, 5), heartbeat, self);
}

static void
run_on_connected (HubsConnectionContext *self)
{
  g_autoptr(HubsHub) hub = hubs_hub_new_for_connection (hubs_hub_context_get_hub_type (self->hub_context), self);
  g_autoptr(GError) error = NULL;

  /* A refused connection never was connected: as in ASP.NET Core, its
   * on_disconnected does not run. */
  if (HUBS_HUB_GET_CLASS (hub)->on_connected (hub, &error))
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

  hubs_handshake_write_response (text, out);
  write_bytes (self, g_byte_array_free_to_bytes (g_steal_pointer (&out)));

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

  self->protocol = protocol;
  hubs_caller_context_set_protocol (self->caller, protocol->name);
  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);

  out = g_byte_array_new ();
  hubs_handshake_write_response (NULL, out);
  write_bytes (self, g_byte_array_free_to_bytes (g_steal_pointer (&out)));
  hubs_http_connection_set_transfer_format (self->http, protocol->transfer_format);

  self->state = STATE_CONNECTED;
  hubs_lifetime_manager_on_connected (hubs_hub_context_get_lifetime_manager (self->hub_context), self);
  start_heartbeat (self);
  run_on_connected (self);

  return self->state == STATE_CONNECTED;
}

static void invoke (HubsConnectionContext *self,
                    HubsHubMessage        *message);

static void
invocation_done (HubsConnectionContext *self,
                 gpointer               user_data)
{
  self->invoking = FALSE;
  /* A reply may have been due while the method ran. */
  self->last_received = g_get_monotonic_time ();

  if (self->state != STATE_CONNECTED)
    return;

  if (self->waiting != NULL)
    {
      g_autoptr(HubsHubMessage) next = g_steal_pointer (&self->waiting);

      hubs_http_connection_set_receiving (self->http, TRUE);
      invoke (self, next);
    }
  if (!self->invoking && !self->parsing)
    parse_input (self);
}

static void
invoke (HubsConnectionContext *self,
        HubsHubMessage        *message)
{
  self->invoking = TRUE;
  hubs_hub_dispatcher_invoke (self, message, invocation_done, NULL);
}

static void
handle_message (HubsConnectionContext *self,
                HubsHubMessage        *message)
{
  switch (message->type)
    {
    case HUBS_MESSAGE_INVOCATION:
    case HUBS_MESSAGE_STREAM_INVOCATION:
      if (self->invoking)
        {
          /* One invocation at a time: parsing waits, as ASP.NET Core's reader
           * does at its semaphore, while the transport goes on reading (so
           * that a client that leaves is noticed) up to a bound. */
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
    case HUBS_MESSAGE_COMPLETION:
    case HUBS_MESSAGE_CANCEL_INVOCATION:
    case HUBS_MESSAGE_ACK:
    case HUBS_MESSAGE_SEQUENCE:
      /* No upload streams, client results or stateful reconnect yet: a
       * message for none of them is ignored, as ASP.NET Core ignores one for
       * an unknown stream or invocation. */
      break;

    default:
      break;
    }
}

static void
parse_input (HubsConnectionContext *self)
{
  g_autoptr(HubsConnectionContext) keep = g_object_ref (self);
  gsize offset = 0;

  self->parsing = TRUE;

  if (self->state == STATE_HANDSHAKE && !process_handshake (self))
    goto out;

  while (self->state == STATE_CONNECTED && self->waiting == NULL && offset < self->input->len)
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
          close_with_error (self, error);
          break;
        }
      if (consumed == 0)
        break;
      offset += consumed;

      if (message != NULL)
        handle_message (self, message);
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
  if (self->waiting != NULL &&
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

  g_clear_handle_id (&self->heartbeat_id, g_source_remove);
  g_clear_handle_id (&self->handshake_timeout_id, g_source_remove);
  g_clear_pointer (&self->waiting, hubs_hub_message_unref);

  if (self->protocol != NULL)
    hubs_lifetime_manager_on_disconnected (hubs_hub_context_get_lifetime_manager (self->hub_context), self);

  /* Work tied to the connection stops before on_disconnected runs, as the
   * ConnectionAborted token fires first in ASP.NET Core. */
  hubs_caller_context_detach (self->caller);

  if (self->connected_notified)
    {
      g_autoptr(HubsHub) hub = hubs_hub_new_for_connection (hubs_hub_context_get_hub_type (self->hub_context), self);

      HUBS_HUB_GET_CLASS (hub)->on_disconnected (hub, self->close_error);
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
      self->waiting == NULL && self->input->len > 0)
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
