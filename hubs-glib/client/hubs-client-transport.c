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

typedef struct
{
  HubsClientRequestOptions options;
  HubsClientTransportReceiveFunc receive;
  HubsClientTransportCloseFunc close;
  gpointer user_data;
  gboolean closed;
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
