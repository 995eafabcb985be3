/* hubs-client-websocket.c: the client's WebSockets transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup's SoupWebsocketConnection as a client, the way the JavaScript
 * client uses the WebSocket API (WebSocketTransport.js): text frames for the
 * JSON protocol, binary ones for MessagePack, no permessage-deflate (ASP.NET
 * Core does not compress by default either), and stop() reports the close at
 * once instead of waiting for the server's closing frame.
 */

#include "hubs-client-private.h"

#include <string.h>

typedef struct
{
  HubsClientTransport parent_instance;

  SoupWebsocketConnection *websocket;
  gulong message_id;
  gulong closed_id;
  gulong error_id;
  GError *error;                /* the first "error" signal's */
} HubsClientWebsocketTransport;

typedef HubsClientTransportClass HubsClientWebsocketTransportClass;

G_DEFINE_FINAL_TYPE (HubsClientWebsocketTransport, hubs_client_websocket_transport,
                     HUBS_TYPE_CLIENT_TRANSPORT)

static void
disconnect_websocket (HubsClientWebsocketTransport *self)
{
  if (self->websocket == NULL)
    return;

  g_clear_signal_handler (&self->message_id, self->websocket);
  g_clear_signal_handler (&self->closed_id, self->websocket);
  g_clear_signal_handler (&self->error_id, self->websocket);
}

static void
on_message (SoupWebsocketConnection *websocket,
            int                      type,
            GBytes                  *message,
            gpointer                 user_data)
{
  hubs_client_transport_received (user_data, message);
}

static void
on_error (SoupWebsocketConnection *websocket,
          GError                  *error,
          gpointer                 user_data)
{
  HubsClientWebsocketTransport *self = user_data;

  if (self->error == NULL)
    self->error = g_error_copy (error);
}

static void
on_closed (SoupWebsocketConnection *websocket,
           gpointer                 user_data)
{
  HubsClientWebsocketTransport *self = user_data;
  g_autoptr(GError) error = NULL;
  gushort code = soup_websocket_connection_get_close_code (websocket);

  if (self->error != NULL)
    error = g_error_copy (self->error);
  else if (code != SOUP_WEBSOCKET_CLOSE_NORMAL && code != SOUP_WEBSOCKET_CLOSE_NO_STATUS &&
           code != SOUP_WEBSOCKET_CLOSE_GOING_AWAY)
    {
      const char *reason = soup_websocket_connection_get_close_data (websocket);

      /* libsoup reports a connection lost without a Close frame as 0;
       * browsers, and the JavaScript client's text, as 1006. */
      error = g_error_new (HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED,
                           "WebSocket closed with status code: %u (%s).",
                           code == 0 ? SOUP_WEBSOCKET_CLOSE_ABNORMAL : code,
                           reason != NULL && *reason != '\0' ? reason : "no reason given");
    }

  disconnect_websocket (self);
  hubs_client_transport_closed (HUBS_CLIENT_TRANSPORT (self), error);
}

static void
websocket_connected (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HubsClientWebsocketTransport *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *websocket;

  websocket = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (websocket == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (hubs_client_transport_is_closed (HUBS_CLIENT_TRANSPORT (self)))
    {
      soup_websocket_connection_close (websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (websocket);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The transport was stopped while connecting.");
      return;
    }

  self->websocket = websocket;
  /* The reference clients accept frames of any size; ours stops at
   * HubsConnection:max-receive-size (libsoup closes with 1009 beyond). */
  soup_websocket_connection_set_max_incoming_payload_size (websocket,
                                                           hubs_client_transport_get_options (HUBS_CLIENT_TRANSPORT (self))->max_receive_size);
  soup_websocket_connection_set_keepalive_interval (websocket, 0);
  self->message_id = g_signal_connect (websocket, "message", G_CALLBACK (on_message), self);
  self->closed_id = g_signal_connect (websocket, "closed", G_CALLBACK (on_closed), self);
  self->error_id = g_signal_connect (websocket, "error", G_CALLBACK (on_error), self);
  g_task_return_boolean (task, TRUE);
}

static void
hubs_client_websocket_transport_connect_async (HubsClientTransport *transport,
                                               const char          *url,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data)
{
  const HubsClientRequestOptions *options = hubs_client_transport_get_options (transport);
  g_autoptr(GTask) task = g_task_new (transport, cancellable, callback, user_data);
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;

  g_task_set_source_tag (task, hubs_client_websocket_transport_connect_async);
  g_task_set_name (task, "[hubs] WebSocket connect");

  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &error);
  if (uri == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* SoupSession speaks http(s) and upgrades; ws(s) URLs name the same. */
  if (g_strcmp0 (g_uri_get_scheme (uri), "ws") == 0 || g_strcmp0 (g_uri_get_scheme (uri), "wss") == 0)
    {
      GUri *http = soup_uri_copy (uri, SOUP_URI_SCHEME,
                                  g_strcmp0 (g_uri_get_scheme (uri), "ws") == 0 ? "http" : "https",
                                  SOUP_URI_NONE);
      g_uri_unref (uri);
      uri = http;
    }

  message = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  soup_message_disable_feature (message, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);
  hubs_client_transport_apply_headers (transport, message);
  soup_session_websocket_connect_async (options->session, message, NULL, NULL,
                                        G_PRIORITY_DEFAULT, cancellable,
                                        websocket_connected, g_steal_pointer (&task));
}

static void
hubs_client_websocket_transport_send (HubsClientTransport *transport,
                                      GBytes              *data)
{
  HubsClientWebsocketTransport *self = (HubsClientWebsocketTransport *) transport;
  const HubsClientRequestOptions *options = hubs_client_transport_get_options (transport);

  if (self->websocket == NULL ||
      soup_websocket_connection_get_state (self->websocket) != SOUP_WEBSOCKET_STATE_OPEN)
    return;

  soup_websocket_connection_send_message (self->websocket,
                                          options->transfer_format == HUBS_TRANSFER_FORMAT_BINARY ?
                                          SOUP_WEBSOCKET_DATA_BINARY : SOUP_WEBSOCKET_DATA_TEXT,
                                          data);
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

/* The closing handshake goes on without us: the socket keeps a reference
 * until libsoup has finished with it. */
static void
closed_for_good (SoupWebsocketConnection *websocket,
                 gpointer                 user_data)
{
  g_signal_handlers_disconnect_by_func (websocket, closed_for_good, user_data);
  g_object_unref (websocket);
}

static void
hubs_client_websocket_transport_stop (HubsClientTransport *transport,
                                      const GError        *error)
{
  HubsClientWebsocketTransport *self = (HubsClientWebsocketTransport *) transport;
  ClosedLater *later = g_new0 (ClosedLater, 1);
  GSource *source;

  if (self->websocket != NULL)
    {
      SoupWebsocketConnection *websocket = g_steal_pointer (&self->websocket);

      g_signal_handler_disconnect (websocket, self->message_id);
      g_signal_handler_disconnect (websocket, self->closed_id);
      g_signal_handler_disconnect (websocket, self->error_id);
      self->message_id = self->closed_id = self->error_id = 0;

      if (soup_websocket_connection_get_state (websocket) == SOUP_WEBSOCKET_STATE_CLOSED)
        g_object_unref (websocket);
      else
        {
          g_signal_connect (websocket, "closed", G_CALLBACK (closed_for_good), NULL);
          if (soup_websocket_connection_get_state (websocket) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close (websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
        }
    }

  later->transport = g_object_ref (transport);
  later->error = error != NULL ? g_error_copy (error) : NULL;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, report_closed, later, NULL);
  g_source_set_static_name (source, "[hubs] WebSocket closed");
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
}

static void
hubs_client_websocket_transport_dispose (GObject *object)
{
  HubsClientWebsocketTransport *self = (HubsClientWebsocketTransport *) object;

  if (self->websocket != NULL)
    {
      disconnect_websocket (self);
      if (soup_websocket_connection_get_state (self->websocket) == SOUP_WEBSOCKET_STATE_OPEN)
        {
          g_signal_connect (self->websocket, "closed", G_CALLBACK (closed_for_good), NULL);
          soup_websocket_connection_close (self->websocket, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          self->websocket = NULL;
        }
      else
        g_clear_object (&self->websocket);
    }
  g_clear_error (&self->error);

  G_OBJECT_CLASS (hubs_client_websocket_transport_parent_class)->dispose (object);
}

static void
hubs_client_websocket_transport_class_init (HubsClientWebsocketTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hubs_client_websocket_transport_dispose;
  klass->type = HUBS_TRANSPORT_WEB_SOCKETS;
  klass->inherent_keep_alive = FALSE;
  klass->connect_async = hubs_client_websocket_transport_connect_async;
  klass->send = hubs_client_websocket_transport_send;
  klass->stop = hubs_client_websocket_transport_stop;
}

static void
hubs_client_websocket_transport_init (HubsClientWebsocketTransport *self)
{
}
