/* hubs-client-long-polling.c: the client's Long Polling transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * As LongPollingTransport.js: the first GET must answer 200 (the server
 * starts the connection with it), then GETs follow one another, each
 * answered with data, with 200 and nothing when the server's poll timed
 * out, or with 204 when the connection is over. Data goes up by POST and
 * stop() sends DELETE. Long polling has inherent keep-alive: no pings, no
 * server timeout.
 */

#include "hubs-client-private.h"

typedef struct
{
  HubsClientTransport parent_instance;

  char *url;
  GCancellable *poll_cancellable;
  gboolean stopping;
} HubsClientLongPollingTransport;

typedef HubsClientTransportClass HubsClientLongPollingTransportClass;

G_DEFINE_FINAL_TYPE (HubsClientLongPollingTransport, hubs_client_long_polling_transport,
                     HUBS_TYPE_CLIENT_TRANSPORT)

static void poll_once (HubsClientLongPollingTransport *self, GTask *first);

static void
polled (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) first = user_data;   /* the connect task, for the first poll */
  SoupMessage *message = hubs_client_send_and_read_get_message (result);
  HubsClientLongPollingTransport *self;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) keep = NULL;
  guint status;

  body = hubs_client_send_and_read_finish (result, &error);
  self = g_object_get_data (G_OBJECT (message), "hubs-transport");
  keep = g_object_ref (G_OBJECT (self));

  if (first != NULL)
    {
      if (body == NULL)
        {
          g_task_return_error (first, g_steal_pointer (&error));
          return;
        }
      status = soup_message_get_status (message);
      if (status != SOUP_STATUS_OK)
        {
          g_task_return_error (first, hubs_client_http_error (message));
          return;
        }
      g_task_return_boolean (first, TRUE);
      if (g_bytes_get_size (body) > 0)
        hubs_client_transport_received (HUBS_CLIENT_TRANSPORT (self), body);
      poll_once (self, NULL);
      return;
    }

  if (self->stopping)
    return;
  if (body == NULL)
    {
      hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), error);
      return;
    }

  status = soup_message_get_status (message);
  if (status == SOUP_STATUS_NO_CONTENT)
    {
      /* The server ended the connection. */
      hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), NULL);
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      error = hubs_client_http_error (message);
      hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), error);
      return;
    }

  if (g_bytes_get_size (body) > 0)
    hubs_client_transport_received (HUBS_CLIENT_TRANSPORT (self), body);
  if (!self->stopping)
    poll_once (self, NULL);
}

static void
poll_once (HubsClientLongPollingTransport *self,
           GTask                          *first)
{
  const HubsClientRequestOptions *options = hubs_client_transport_get_options (HUBS_CLIENT_TRANSPORT (self));
  g_autofree char *url = hubs_client_poll_url (self->url);
  g_autoptr(SoupMessage) message = soup_message_new (SOUP_METHOD_GET, url);

  if (message == NULL)
    {
      g_autoptr(GError) error = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED, "Invalid URL '%s'", url);

      if (first != NULL)
        g_task_return_error (first, g_steal_pointer (&error));
      else
        hubs_client_transport_stop (HUBS_CLIENT_TRANSPORT (self), error);
      return;
    }
  hubs_client_transport_apply_headers (HUBS_CLIENT_TRANSPORT (self), message);
  g_object_set_data_full (G_OBJECT (message), "hubs-transport", g_object_ref (self), g_object_unref);
  /* A poll's body is read whole; max-receive-size bounds it. */
  hubs_client_send_and_read_async (options->session, message, options->max_receive_size,
                                   first != NULL ? g_task_get_cancellable (first) : self->poll_cancellable,
                                   polled, first != NULL ? g_object_ref (first) : NULL);
}

static void
hubs_client_long_polling_transport_connect_async (HubsClientTransport *transport,
                                                  const char          *url,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data)
{
  HubsClientLongPollingTransport *self = (HubsClientLongPollingTransport *) transport;
  g_autoptr(GTask) task = g_task_new (transport, cancellable, callback, user_data);

  g_task_set_source_tag (task, hubs_client_long_polling_transport_connect_async);
  g_task_set_name (task, "[hubs] Long Polling connect");
  self->url = g_strdup (url);
  hubs_client_transport_set_post_url (transport, url);
  poll_once (self, task);
}

static void
hubs_client_long_polling_transport_send (HubsClientTransport *transport,
                                         GBytes              *data)
{
  hubs_client_transport_post (transport, data);
}

typedef struct
{
  HubsClientTransport *transport;
  GError *error;
} Deleting;

static void
deleted (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Deleting *deleting = user_data;
  g_autoptr(GBytes) body = NULL;

  /* Whatever the answer (404 when the server already forgot the
   * connection), the transport is over. */
  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  hubs_client_transport_closed (deleting->transport, deleting->error);
  g_object_unref (deleting->transport);
  g_clear_error (&deleting->error);
  g_free (deleting);
}

static void
hubs_client_long_polling_transport_stop (HubsClientTransport *transport,
                                         const GError        *error)
{
  HubsClientLongPollingTransport *self = (HubsClientLongPollingTransport *) transport;
  const HubsClientRequestOptions *options = hubs_client_transport_get_options (transport);
  g_autoptr(SoupMessage) message = NULL;
  Deleting *deleting;

  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_cancellable_cancel (self->poll_cancellable);
  hubs_client_transport_cancel_posts (transport);

  deleting = g_new0 (Deleting, 1);
  deleting->transport = g_object_ref (transport);
  deleting->error = error != NULL ? g_error_copy (error) : NULL;
  if (self->url == NULL || (message = soup_message_new (SOUP_METHOD_DELETE, self->url)) == NULL)
    {
      hubs_client_transport_closed (transport, error);
      g_object_unref (deleting->transport);
      g_clear_error (&deleting->error);
      g_free (deleting);
      return;
    }
  hubs_client_transport_apply_headers (transport, message);
  soup_session_send_and_read_async (options->session, message, G_PRIORITY_DEFAULT, NULL,
                                    deleted, deleting);
}

static void
hubs_client_long_polling_transport_finalize (GObject *object)
{
  HubsClientLongPollingTransport *self = (HubsClientLongPollingTransport *) object;

  g_free (self->url);
  g_clear_object (&self->poll_cancellable);

  G_OBJECT_CLASS (hubs_client_long_polling_transport_parent_class)->finalize (object);
}

static void
hubs_client_long_polling_transport_class_init (HubsClientLongPollingTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_client_long_polling_transport_finalize;
  klass->type = HUBS_TRANSPORT_LONG_POLLING;
  klass->inherent_keep_alive = TRUE;
  klass->connect_async = hubs_client_long_polling_transport_connect_async;
  klass->send = hubs_client_long_polling_transport_send;
  klass->stop = hubs_client_long_polling_transport_stop;
}

static void
hubs_client_long_polling_transport_init (HubsClientLongPollingTransport *self)
{
  self->poll_cancellable = g_cancellable_new ();
}
