/* hubs-sse-transport.c: Server-Sent Events
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The response to the client's GET stays open: libsoup writes it chunked,
 * pausing the message whenever its body runs dry, and each send appends one
 * event and unpauses it. The body does not accumulate, so what has been
 * written is freed; what has not is the queue whose size backpressure
 * watches. Client data comes by POST (HubsPostReceiver).
 *
 * The stream ends when the connection does: closing completes the body,
 * aborting also shuts the socket down so that queued events are dropped.
 */

#include "hubs-transport-private.h"
#include "hubs-error.h"

#include <string.h>

struct _HubsSseTransport
{
  HubsTransport parent_instance;

  SoupServerMessage *message;
  HubsHttpTransportOptions options;
  HubsPostReceiver *posts;
  gulong finished_id;
  gulong disconnected_id;
  gulong wrote_id;
  GSource *gone_source;

  gsize queued_bytes;
  gboolean above_high;
  gboolean ended;               /* the body is complete */
};

G_DEFINE_FINAL_TYPE (HubsSseTransport, hubs_sse_transport, HUBS_TYPE_TRANSPORT)

static void
release_message (HubsSseTransport *self)
{
  if (self->message == NULL)
    return;

  g_clear_signal_handler (&self->finished_id, self->message);
  g_clear_signal_handler (&self->disconnected_id, self->message);
  g_clear_signal_handler (&self->wrote_id, self->message);
  g_clear_object (&self->message);
  if (self->gone_source != NULL)
    {
      g_source_destroy (self->gone_source);
      g_clear_pointer (&self->gone_source, g_source_unref);
    }
}

/* The response is over: written to its end, or the client went away, or
 * the server dropped the socket (soup_server_disconnect() when it stops,
 * which ends a paused message without "finished"). */
static void
on_finished (SoupServerMessage *message,
             gpointer           user_data)
{
  HubsSseTransport *self = user_data;
  g_autoptr(HubsSseTransport) keep = g_object_ref (self);

  release_message (self);
  self->queued_bytes = 0;
  hubs_post_receiver_fail_all (self->posts);
  hubs_transport_emit_closed (HUBS_TRANSPORT (self), NULL);
}

static void
on_wrote_body_data (SoupServerMessage *message,
                    guint              chunk_size,
                    gpointer           user_data)
{
  HubsSseTransport *self = user_data;

  self->queued_bytes -= MIN (self->queued_bytes, chunk_size);

  if (self->above_high && self->queued_bytes <= self->options.low_watermark)
    {
      self->above_high = FALSE;
      hubs_post_receiver_set_output_blocked (self->posts, FALSE);
      hubs_transport_emit_drained (HUBS_TRANSPORT (self));
    }
}

static void
append (HubsSseTransport *self,
        GBytes           *bytes)
{
  self->queued_bytes += g_bytes_get_size (bytes);
  soup_message_body_append_bytes (soup_server_message_get_response_body (self->message), bytes);
  soup_server_message_unpause (self->message);

  if (self->queued_bytes > self->options.high_watermark && !self->above_high)
    {
      self->above_high = TRUE;
      hubs_post_receiver_set_output_blocked (self->posts, TRUE);
    }
}

/* As ASP.NET Core's ServerSentEventsMessageFormatter: one "data: " line per
 * line of the payload (a trailing CR dropped from lines longer than one
 * byte), then an empty line. */
static GBytes *
format_event (GBytes *data)
{
  gsize length;
  const guint8 *payload = g_bytes_get_data (data, &length);
  GByteArray *event = g_byte_array_sized_new (length + 16);
  gsize start = 0;

  for (;;)
    {
      const guint8 *newline = length > start ? memchr (payload + start, '\n', length - start) : NULL;
      gsize end = newline != NULL ? (gsize) (newline - payload) : length;
      gsize line_len = end - start;

      if (line_len > 1 && payload[end - 1] == '\r')
        line_len--;

      g_byte_array_append (event, (const guint8 *) "data: ", 6);
      g_byte_array_append (event, payload + start, line_len);
      g_byte_array_append (event, (const guint8 *) "\r\n", 2);

      if (newline == NULL)
        break;
      start = end + 1;
    }
  g_byte_array_append (event, (const guint8 *) "\r\n", 2);

  return g_byte_array_free_to_bytes (event);
}

static void
hubs_sse_transport_start (HubsTransport *transport)
{
}

static void
hubs_sse_transport_send (HubsTransport *transport,
                         GBytes        *data)
{
  HubsSseTransport *self = HUBS_SSE_TRANSPORT (transport);
  g_autoptr(GBytes) event = NULL;

  if (self->message == NULL || self->ended)
    return;

  event = format_event (data);
  append (self, event);
}

static void
end_body (HubsSseTransport *self)
{
  if (self->message == NULL || self->ended)
    return;

  self->ended = TRUE;
  soup_message_body_complete (soup_server_message_get_response_body (self->message));
  soup_server_message_unpause (self->message);
}

static void
hubs_sse_transport_close (HubsTransport *transport,
                          gboolean       failed)
{
  HubsSseTransport *self = HUBS_SSE_TRANSPORT (transport);

  /* Reported closed once the rest has been written ("finished"); until
   * then POSTs are still taken, and ignored above. */
  end_body (self);
}

static void
hubs_sse_transport_abort (HubsTransport *transport)
{
  HubsSseTransport *self = HUBS_SSE_TRANSPORT (transport);
  g_autoptr(HubsSseTransport) keep = g_object_ref (self);

  if (self->message != NULL)
    {
      GSocket *socket = soup_server_message_get_socket (self->message);

      /* What is queued is not written: the write fails and libsoup ends
       * the message, whose "finished" we no longer listen to. */
      if (socket != NULL)
        g_socket_shutdown (socket, TRUE, TRUE, NULL);
      end_body (self);
      release_message (self);
    }
  self->queued_bytes = 0;
  hubs_post_receiver_fail_all (self->posts);
  hubs_transport_emit_closed (transport, NULL);
}

/* The client closed the event stream (an EventSource closed): as ASP.NET
 * Core's request abort, the connection ends. */
static void
on_client_gone (gpointer user_data)
{
  HubsSseTransport *self = user_data;

  /* The source goes with the message. */
  g_clear_pointer (&self->gone_source, g_source_unref);
  hubs_transport_abort (HUBS_TRANSPORT (self));
}

static void
hubs_sse_transport_set_receiving (HubsTransport *transport,
                                  gboolean       receiving)
{
  hubs_post_receiver_set_receiving (HUBS_SSE_TRANSPORT (transport)->posts, receiving);
}

static gsize
hubs_sse_transport_get_queued_bytes (HubsTransport *transport)
{
  return HUBS_SSE_TRANSPORT (transport)->queued_bytes;
}

static void
hubs_sse_transport_receive_post (HubsTransport     *transport,
                                 SoupServerMessage *message)
{
  hubs_post_receiver_push (HUBS_SSE_TRANSPORT (transport)->posts, message);
}

static void
hubs_sse_transport_dispose (GObject *object)
{
  HubsSseTransport *self = HUBS_SSE_TRANSPORT (object);

  g_clear_pointer (&self->posts, hubs_post_receiver_free);
  end_body (self);
  release_message (self);

  G_OBJECT_CLASS (hubs_sse_transport_parent_class)->dispose (object);
}

static void
hubs_sse_transport_class_init (HubsSseTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  HubsTransportClass *transport_class = HUBS_TRANSPORT_CLASS (klass);

  object_class->dispose = hubs_sse_transport_dispose;

  transport_class->start = hubs_sse_transport_start;
  transport_class->send = hubs_sse_transport_send;
  transport_class->close = hubs_sse_transport_close;
  transport_class->abort = hubs_sse_transport_abort;
  transport_class->set_receiving = hubs_sse_transport_set_receiving;
  transport_class->get_queued_bytes = hubs_sse_transport_get_queued_bytes;
  transport_class->receive_post = hubs_sse_transport_receive_post;
  transport_class->supported_formats = HUBS_TRANSFER_FORMAT_TEXT;
}

static void
hubs_sse_transport_init (HubsSseTransport *self)
{
  self->posts = hubs_post_receiver_new (HUBS_TRANSPORT (self));
}

/* Writes the response head and the opening comment to @message, a GET that
 * asked for text/event-stream. */
HubsTransport *
hubs_sse_transport_new (SoupServerMessage              *message,
                        const HubsHttpTransportOptions *options)
{
  HubsSseTransport *self = g_object_new (HUBS_TYPE_SSE_TRANSPORT,
                                         "transport-type", HUBS_TRANSPORT_SERVER_SENT_EVENTS,
                                         NULL);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (message);
  SoupMessageBody *body = soup_server_message_get_response_body (message);
  static const char opening[] = ":\r\n";

  self->message = g_object_ref (message);
  self->options = *options;

  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (headers, "Content-Type", "text/event-stream");
  soup_message_headers_replace (headers, "Cache-Control", "no-cache,no-store");
  soup_message_headers_replace (headers, "Pragma", "no-cache");
  soup_message_headers_replace (headers, "Content-Encoding", "identity");
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_body_set_accumulate (body, FALSE);
  /* The Firefox open-event workaround of ASP.NET Core. */
  soup_message_body_append (body, SOUP_MEMORY_STATIC, opening, strlen (opening));

  self->finished_id = g_signal_connect (message, "finished", G_CALLBACK (on_finished), self);
  self->disconnected_id = g_signal_connect (message, "disconnected", G_CALLBACK (on_finished), self);
  self->wrote_id = g_signal_connect (message, "wrote-body-data", G_CALLBACK (on_wrote_body_data), self);
  self->gone_source = hubs_http_watch_client_gone (message, on_client_gone, self);

  return HUBS_TRANSPORT (self);
}
