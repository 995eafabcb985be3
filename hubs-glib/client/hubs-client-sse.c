/* hubs-client-sse.c: the client's Server-Sent Events transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * As ServerSentEventsTransport.js with an EventSource: a GET with
 * `Accept: text/event-stream` whose `data:` lines make one message per
 * event (lines joined with "\n"), comments and other fields ignored. Data
 * goes up by POST. Text only: the MessagePack protocol cannot use it.
 */

#include "hubs-client-private.h"

#include <string.h>

typedef struct
{
  HubsClientTransport parent_instance;

  GInputStream *input;
  GCancellable *cancellable;
  GByteArray *pending;          /* the line still being read */
  gboolean after_cr;            /* a CR ended the last line: skip an LF */
  GString *event;
  gboolean has_data;
  gboolean stopping;
} HubsClientSseTransport;

typedef HubsClientTransportClass HubsClientSseTransportClass;

G_DEFINE_FINAL_TYPE (HubsClientSseTransport, hubs_client_sse_transport, HUBS_TYPE_CLIENT_TRANSPORT)

static void read_next_line (HubsClientSseTransport *self);

static void
dispatch_event (HubsClientSseTransport *self)
{
  g_autoptr(GBytes) data = NULL;

  if (!self->has_data)
    return;
  data = g_bytes_new (self->event->str, self->event->len);
  g_string_truncate (self->event, 0);
  self->has_data = FALSE;
  hubs_client_transport_received (HUBS_CLIENT_TRANSPORT (self), data);
}

static void
process_line (HubsClientSseTransport *self,
              const char             *line)
{
  const char *colon;
  const char *value;
  gsize max;

  if (*line == '\0')
    {
      dispatch_event (self);
      return;
    }
  if (*line == ':')
    return;

  colon = strchr (line, ':');
  if (colon == NULL)
    return;
  if (colon - line != strlen ("data") || strncmp (line, "data", colon - line) != 0)
    return;

  value = colon + 1;
  if (*value == ' ')
    value++;
  if (self->has_data)
    g_string_append_c (self->event, '\n');
  g_string_append (self->event, value);
  self->has_data = TRUE;
  max = hubs_client_transport_get_options (HUBS_CLIENT_TRANSPORT (self))->max_receive_size;
  if (max > 0 && self->event->len > max)
    {
      g_autoptr(GError) error = g_error_new (HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE,
                                             "The server sent an event larger than the maximum "
                                             "receive size of %" G_GSIZE_FORMAT "B.", max);

      g_string_truncate (self->event, 0);
      self->has_data = FALSE;
      hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), error);
    }
}

/* Splits what arrived into lines ended by CRLF, LF or CR, as the event
 * stream format says. GDataInputStream would do it, but would also keep a
 * line of any length. */
static void
chunk_read (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  HubsClientSseTransport *self = user_data;
  g_autoptr(GObject) keep = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  const guint8 *data;
  gsize length;
  gsize start = 0;
  gsize max;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (self->stopping)
    return;
  if (chunk == NULL || g_bytes_get_size (chunk) == 0)
    {
      /* The end of the stream is the end of the connection. */
      hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), error);
      return;
    }

  data = g_bytes_get_data (chunk, &length);
  for (gsize i = 0; i < length && !self->stopping; i++)
    {
      if (data[i] == '\n' && self->after_cr && i == start && self->pending->len == 0)
        {
          start = i + 1;
          self->after_cr = FALSE;
          continue;
        }
      self->after_cr = FALSE;
      if (data[i] != '\n' && data[i] != '\r')
        continue;
      self->after_cr = data[i] == '\r';
      g_byte_array_append (self->pending, data + start, i - start);
      start = i + 1;
      if (!g_utf8_validate ((const char *) self->pending->data, self->pending->len, NULL))
        {
          g_autoptr(GError) invalid = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                                                           "Invalid UTF-8 in the event stream.");

          hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), invalid);
          return;
        }
      g_byte_array_append (self->pending, (const guint8 *) "", 1);
      process_line (self, (const char *) self->pending->data);
      g_byte_array_set_size (self->pending, 0);
    }
  if (self->stopping)
    return;
  g_byte_array_append (self->pending, data + start, length - start);

  max = hubs_client_transport_get_options (HUBS_CLIENT_TRANSPORT (self))->max_receive_size;
  if (max > 0 && self->event->len + self->pending->len > max)
    {
      g_autoptr(GError) too_large = g_error_new (HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE,
                                                 "The server sent an event larger than the maximum "
                                                 "receive size of %" G_GSIZE_FORMAT "B.", max);

      g_byte_array_set_size (self->pending, 0);
      hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), too_large);
      return;
    }
  if (!hubs_client_transport_is_closed (HUBS_CLIENT_TRANSPORT (self)))
    read_next_line (self);
}

static void
read_next_line (HubsClientSseTransport *self)
{
  g_input_stream_read_bytes_async (self->input, 16384, G_PRIORITY_DEFAULT, self->cancellable,
                                   chunk_read, g_object_ref (self));
}

static void
opened (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HubsClientSseTransport *self = g_task_get_source_object (task);
  SoupMessage *message = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;

  stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (stream == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (soup_message_get_status (message) != SOUP_STATUS_OK)
    {
      g_task_return_new_error (task, HUBS_ERROR, HUBS_ERROR_FAILED,
                               "EventSource failed to connect. The connection could not be found on the server, "
                               "either the connection ID is not present on the server, or a proxy is "
                               "refusing/buffering the connection. If you have multiple servers check that "
                               "sticky sessions are enabled.");
      return;
    }

  self->input = g_steal_pointer (&stream);
  g_task_return_boolean (task, TRUE);
  read_next_line (self);
}

static void
hubs_client_sse_transport_connect_async (HubsClientTransport *transport,
                                         const char          *url,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  HubsClientSseTransport *self = (HubsClientSseTransport *) transport;
  const HubsClientRequestOptions *options = hubs_client_transport_get_options (transport);
  g_autoptr(GTask) task = g_task_new (transport, cancellable, callback, user_data);
  g_autoptr(SoupMessage) message = NULL;
  g_autofree char *get_url = NULL;

  g_task_set_source_tag (task, hubs_client_sse_transport_connect_async);
  g_task_set_name (task, "[hubs] Server-Sent Events connect");

  if (options->transfer_format != HUBS_TRANSFER_FORMAT_TEXT)
    {
      g_task_return_new_error (task, HUBS_ERROR, HUBS_ERROR_FAILED,
                               "The Server-Sent Events transport only supports the 'Text' transfer format");
      return;
    }

  /* An EventSource cannot set headers in a browser, so servers expect the
   * token in the query, as the JavaScript client sends it. */
  if (options->access_token != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (options->access_token, NULL, FALSE);

      get_url = g_strdup_printf ("%s%caccess_token=%s", url, strchr (url, '?') == NULL ? '?' : '&', escaped);
    }
  else
    get_url = g_strdup (url);

  message = soup_message_new (SOUP_METHOD_GET, get_url);
  if (message == NULL)
    {
      g_task_return_new_error (task, HUBS_ERROR, HUBS_ERROR_FAILED, "Invalid URL '%s'", url);
      return;
    }
  hubs_client_transport_apply_headers (transport, message);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Accept", "text/event-stream");
  hubs_client_transport_set_post_url (transport, url);
  soup_session_send_async (options->session, message, G_PRIORITY_DEFAULT, self->cancellable,
                           opened, g_steal_pointer (&task));
}

static void
hubs_client_sse_transport_send (HubsClientTransport *transport,
                                GBytes              *data)
{
  hubs_client_transport_post (transport, data);
}

typedef struct
{
  HubsClientTransport *transport;
  GError *error;
} ClosedLater;

static gboolean
report_closed (gpointer user_data)
{
  ClosedLater *later = user_data;

  hubs_client_transport_closed (later->transport, later->error);
  g_object_unref (later->transport);
  g_clear_error (&later->error);
  g_free (later);
  return G_SOURCE_REMOVE;
}

static void
hubs_client_sse_transport_stop (HubsClientTransport *transport,
                                const GError        *error)
{
  HubsClientSseTransport *self = (HubsClientSseTransport *) transport;
  ClosedLater *later;
  GSource *source;

  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_cancellable_cancel (self->cancellable);
  hubs_client_transport_cancel_posts (transport);

  later = g_new0 (ClosedLater, 1);
  later->transport = g_object_ref (transport);
  later->error = error != NULL ? g_error_copy (error) : NULL;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, report_closed, later, NULL);
  g_source_set_static_name (source, "[hubs] Server-Sent Events closed");
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
}

static void
hubs_client_sse_transport_finalize (GObject *object)
{
  HubsClientSseTransport *self = (HubsClientSseTransport *) object;

  g_clear_object (&self->input);
  g_clear_object (&self->cancellable);
  g_string_free (self->event, TRUE);
  g_byte_array_unref (self->pending);

  G_OBJECT_CLASS (hubs_client_sse_transport_parent_class)->finalize (object);
}

static void
hubs_client_sse_transport_class_init (HubsClientSseTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_client_sse_transport_finalize;
  klass->type = HUBS_TRANSPORT_SERVER_SENT_EVENTS;
  klass->inherent_keep_alive = FALSE;
  klass->connect_async = hubs_client_sse_transport_connect_async;
  klass->send = hubs_client_sse_transport_send;
  klass->stop = hubs_client_sse_transport_stop;
}

static void
hubs_client_sse_transport_init (HubsClientSseTransport *self)
{
  self->cancellable = g_cancellable_new ();
  self->event = g_string_new (NULL);
  self->pending = g_byte_array_new ();
}
