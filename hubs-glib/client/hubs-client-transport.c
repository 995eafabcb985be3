/* hubs-client-transport.c: what the client's transports share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A transport carries a connection's bytes both ways and reports, once, that
 * it ended. The connection sets its handlers and clears them before it lets
 * go of a transport, so a late report from a transport being dropped never
 * reaches it.
 */

#include "hubs-client-private.h"

#include "hubs-version.h"

#include <string.h>

typedef struct
{
  HubsClientRequestOptions options;
  HubsClientTransportReceiveFunc receive;
  HubsClientTransportCloseFunc close;
  gpointer user_data;
  gboolean closed;

  /* Sending by POST (Server-Sent Events, Long Polling) */
  char *post_url;
  GByteArray *post_pending;
  gboolean posting;
  GCancellable *post_cancellable;
} HubsClientTransportPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (HubsClientTransport, hubs_client_transport, G_TYPE_OBJECT)

void
hubs_client_request_options_clear (HubsClientRequestOptions *options)
{
  g_clear_object (&options->session);
  g_clear_pointer (&options->headers, g_ptr_array_unref);
  g_clear_pointer (&options->access_token, g_free);
}

static void
hubs_client_transport_finalize (GObject *object)
{
  HubsClientTransportPrivate *priv =
    hubs_client_transport_get_instance_private (HUBS_CLIENT_TRANSPORT (object));

  hubs_client_request_options_clear (&priv->options);
  g_free (priv->post_url);
  g_clear_pointer (&priv->post_pending, g_byte_array_unref);
  g_clear_object (&priv->post_cancellable);

  G_OBJECT_CLASS (hubs_client_transport_parent_class)->finalize (object);
}

static void
hubs_client_transport_class_init (HubsClientTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_client_transport_finalize;
}

static void
hubs_client_transport_init (HubsClientTransport *self)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  priv->post_pending = g_byte_array_new ();
  priv->post_cancellable = g_cancellable_new ();
}

HubsClientTransport *
hubs_client_transport_new (HubsTransportType               type,
                           const HubsClientRequestOptions *options)
{
  HubsClientTransport *self;
  HubsClientTransportPrivate *priv;
  GType gtype;

  switch (type)
    {
    case HUBS_TRANSPORT_WEB_SOCKETS:
      gtype = hubs_client_websocket_transport_get_type ();
      break;
    case HUBS_TRANSPORT_SERVER_SENT_EVENTS:
      gtype = hubs_client_sse_transport_get_type ();
      break;
    case HUBS_TRANSPORT_LONG_POLLING:
      gtype = hubs_client_long_polling_transport_get_type ();
      break;
    default:
      g_return_val_if_reached (NULL);
    }

  self = g_object_new (gtype, NULL);
  priv = hubs_client_transport_get_instance_private (self);
  priv->options.session = g_object_ref (options->session);
  priv->options.transfer_format = options->transfer_format;
  priv->options.headers = g_ptr_array_ref (options->headers);
  priv->options.access_token = g_strdup (options->access_token);
  priv->options.max_receive_size = options->max_receive_size;
  return self;
}

void
hubs_client_transport_set_handlers (HubsClientTransport            *self,
                                    HubsClientTransportReceiveFunc  receive,
                                    HubsClientTransportCloseFunc    close,
                                    gpointer                        user_data)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  priv->receive = receive;
  priv->close = close;
  priv->user_data = user_data;
}

void
hubs_client_transport_connect_async (HubsClientTransport *self,
                                     const char          *url,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  HUBS_CLIENT_TRANSPORT_GET_CLASS (self)->connect_async (self, url, cancellable, callback, user_data);
}

gboolean
hubs_client_transport_connect_finish (HubsClientTransport *self,
                                      GAsyncResult        *result,
                                      GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
hubs_client_transport_send (HubsClientTransport *self,
                            GBytes              *data)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  if (!priv->closed)
    HUBS_CLIENT_TRANSPORT_GET_CLASS (self)->send (self, data);
}

void
hubs_client_transport_stop (HubsClientTransport *self,
                            const GError        *error)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  if (!priv->closed)
    HUBS_CLIENT_TRANSPORT_GET_CLASS (self)->stop (self, error);
}

HubsTransportType
hubs_client_transport_get_kind (HubsClientTransport *self)
{
  return HUBS_CLIENT_TRANSPORT_GET_CLASS (self)->type;
}

gboolean
hubs_client_transport_has_inherent_keep_alive (HubsClientTransport *self)
{
  return HUBS_CLIENT_TRANSPORT_GET_CLASS (self)->inherent_keep_alive;
}

const HubsClientRequestOptions *
hubs_client_transport_get_options (HubsClientTransport *self)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  return &priv->options;
}

void
hubs_client_transport_apply_headers (HubsClientTransport *self,
                                     SoupMessage         *message)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);
  SoupMessageHeaders *headers = soup_message_get_request_headers (message);

  soup_message_headers_replace (headers, "X-SignalR-User-Agent", "hubs-glib/" HUBS_VERSION_STRING " (Unknown OS; GLib; Unknown Runtime Version)");
  for (guint i = 0; i + 1 < priv->options.headers->len; i += 2)
    soup_message_headers_replace (headers, priv->options.headers->pdata[i], priv->options.headers->pdata[i + 1]);
  if (priv->options.access_token != NULL)
    {
      g_autofree char *bearer = g_strdup_printf ("Bearer %s", priv->options.access_token);

      soup_message_headers_replace (headers, "Authorization", bearer);
    }
}

void
hubs_client_transport_received (HubsClientTransport *self,
                                GBytes              *data)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  if (!priv->closed && priv->receive != NULL)
    priv->receive (self, data, priv->user_data);
}

void
hubs_client_transport_closed (HubsClientTransport *self,
                              const GError        *error)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);
  g_autoptr(HubsClientTransport) keep = g_object_ref (self);

  if (priv->closed)
    return;
  priv->closed = TRUE;
  if (priv->close != NULL)
    priv->close (self, error, priv->user_data);
}

gboolean
hubs_client_transport_is_closed (HubsClientTransport *self)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  return priv->closed;
}

/* Sending by POST, one request at a time, with whatever was queued while
 * the previous one was on its way: the order of messages is kept and the
 * server gets them in as few requests as it can. */

static void post_next (HubsClientTransport *self);

static void
posted (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(HubsClientTransport) self = user_data;
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);
  SoupMessage *message = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  guint status;

  priv->posting = FALSE;
  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (body == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        hubs_client_transport_stop (self, error);
      return;
    }
  status = soup_message_get_status (message);
  if (status < 200 || status >= 300)
    {
      error = hubs_client_http_error (message);
      hubs_client_transport_stop (self, error);
      return;
    }
  post_next (self);
}

static void
post_next (HubsClientTransport *self)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) body = NULL;

  if (priv->posting || priv->post_pending->len == 0 || priv->closed || priv->post_url == NULL)
    return;

  body = g_byte_array_free_to_bytes (g_steal_pointer (&priv->post_pending));
  priv->post_pending = g_byte_array_new ();
  message = soup_message_new (SOUP_METHOD_POST, priv->post_url);
  soup_message_set_request_body_from_bytes (message,
                                            priv->options.transfer_format == HUBS_TRANSFER_FORMAT_BINARY ?
                                            "application/octet-stream" : "text/plain;charset=UTF-8",
                                            body);
  hubs_client_transport_apply_headers (self, message);
  priv->posting = TRUE;
  soup_session_send_and_read_async (priv->options.session, message, G_PRIORITY_DEFAULT,
                                    priv->post_cancellable, posted, g_object_ref (self));
}

void
hubs_client_transport_set_post_url (HubsClientTransport *self,
                                    const char          *url)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  g_free (priv->post_url);
  priv->post_url = g_strdup (url);
}

void
hubs_client_transport_post (HubsClientTransport *self,
                            GBytes              *data)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  g_byte_array_append (priv->post_pending, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  post_next (self);
}

void
hubs_client_transport_cancel_posts (HubsClientTransport *self)
{
  HubsClientTransportPrivate *priv = hubs_client_transport_get_instance_private (self);

  g_cancellable_cancel (priv->post_cancellable);
}

/* The JavaScript client's HttpError: "Not Found: Status code '404'". */
GError *
hubs_client_http_error (SoupMessage *message)
{
  guint status = soup_message_get_status (message);
  const char *reason = soup_message_get_reason_phrase (message);

  return g_error_new (HUBS_ERROR,
                      status == SOUP_STATUS_UNAUTHORIZED ? HUBS_ERROR_UNAUTHORIZED :
                      status == SOUP_STATUS_NOT_FOUND ? HUBS_ERROR_NOT_FOUND : HUBS_ERROR_FAILED,
                      "%s: Status code '%u'",
                      reason != NULL && *reason != '\0' ? reason : soup_status_get_phrase (status),
                      status);
}

/* {url}&_=<milliseconds>, as the JavaScript client defeats caches. */
char *
hubs_client_poll_url (const char *url)
{
  return g_strdup_printf ("%s%c_=%" G_GINT64_FORMAT, url, strchr (url, '?') == NULL ? '?' : '&',
                          g_get_real_time () / 1000);
}

/* soup_session_send_and_read_async() with a limit: a body beyond @max
 * bytes (0: none) fails with %HUBS_ERROR_MESSAGE_TOO_LARGE before more of
 * it is kept, where libsoup would read it whole. */

#define BODY_CHUNK 16384

typedef struct
{
  SoupMessage *message;
  GInputStream *stream;
  GByteArray *body;
  gsize max;
} BodyRead;

static void
body_read_free (gpointer data)
{
  BodyRead *read = data;

  g_clear_object (&read->message);
  g_clear_object (&read->stream);
  g_clear_pointer (&read->body, g_byte_array_unref);
  g_free (read);
}

static void body_chunk_read (GObject *source, GAsyncResult *result, gpointer user_data);

static void
body_read_next (GTask *task)
{
  BodyRead *read = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (read->stream, BODY_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), body_chunk_read, task);
}

static void
body_chunk_read (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  BodyRead *read = g_task_get_task_data (task);
  g_autoptr(GBytes) chunk = NULL;
  GError *error = NULL;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      g_input_stream_close_async (read->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
      g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&read->body)),
                             (GDestroyNotify) g_bytes_unref);
      g_object_unref (task);
      return;
    }
  if (read->max > 0 && read->body->len + g_bytes_get_size (chunk) > read->max)
    {
      g_task_return_new_error (task, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE,
                               "The server sent a response larger than the maximum receive size of %"
                               G_GSIZE_FORMAT "B.", read->max);
      g_object_unref (task);
      return;
    }
  g_byte_array_append (read->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  body_read_next (task);
}

static void
body_sent (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  BodyRead *read = g_task_get_task_data (task);
  GError *error = NULL;

  read->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (read->stream == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  body_read_next (task);
}

void
hubs_client_send_and_read_async (SoupSession         *session,
                                 SoupMessage         *message,
                                 gsize                max,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  BodyRead *read = g_new0 (BodyRead, 1);

  g_task_set_source_tag (task, hubs_client_send_and_read_async);
  g_task_set_name (task, "[hubs] HTTP request");
  read->message = g_object_ref (message);
  read->body = g_byte_array_new ();
  read->max = max;
  g_task_set_task_data (task, read, body_read_free);
  soup_session_send_async (session, message, G_PRIORITY_DEFAULT, cancellable, body_sent, task);
}

GBytes *
hubs_client_send_and_read_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

SoupMessage *
hubs_client_send_and_read_get_message (GAsyncResult *result)
{
  BodyRead *read = g_task_get_task_data (G_TASK (result));

  return read->message;
}
