/* hubs-http-connection.c: a connection of the HTTP endpoint, below hubs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-http-connection-private.h"

#include "hubs-enums.h"
#include "hubs-http-context.h"

/* How long a connection whose WebSocket dropped waits for its client to come
 * back with stateful reconnect: ASP.NET Core's DisconnectTimeout. */
#define RECONNECT_WINDOW_SECONDS 15

/**
 * HubsHttpConnection:
 *
 * A client connection as the HTTP endpoint sees it, below any hub protocol:
 * an id, the request that opened it and a transport that carries bytes.
 *
 * Hub connections are built on these; a raw endpoint mapped with
 * [method@Hubs.Server.map_connection_handler] hands them to the
 * application, which reads with the [signal@Hubs.HttpConnection::received]
 * signal and writes with [method@Hubs.HttpConnection.send], as ASP.NET
 * Core's `ConnectionHandler` does.
 *
 * ```c
 * static void
 * echo_received (HubsHttpConnection *connection, GBytes *data, gpointer user_data)
 * {
 *   hubs_http_connection_send (connection, data);
 * }
 * ```
 *
 * Since: 0.1
 */

struct _HubsHttpConnection
{
  GObject parent_instance;

  char *connection_id;
  char *connection_token;
  HubsHttpContext *http_context;
  HubsTransport *transport;
  HubsTransportType transport_type;     /* kept across a reconnect */
  gboolean closing;
  gboolean closed;
  gboolean aborted;
  HubsTransferFormat transfer_format;

  /* Stateful reconnect: negotiated, then enabled by the application; while
   * the client is away, the transport is NULL and the window runs. */
  gboolean stateful_reconnect;
  HubsHttpResumedFunc resumed;
  gpointer resumed_data;
  guint reconnect_window_id;
  GError *detach_error;

  const HubsTransportCallbacks *application;
  gpointer application_data;
};

enum
{
  RECEIVED,
  CLOSED,
  DRAINED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HubsHttpConnection, hubs_http_connection, G_TYPE_OBJECT)

static void
hubs_http_connection_dispose (GObject *object)
{
  HubsHttpConnection *self = HUBS_HTTP_CONNECTION (object);

  g_clear_handle_id (&self->reconnect_window_id, g_source_remove);
  if (self->transport != NULL)
    {
      hubs_transport_set_callbacks (self->transport, NULL, NULL);
      if (!hubs_transport_is_closed (self->transport))
        hubs_transport_abort (self->transport);
    }
  g_clear_object (&self->transport);

  G_OBJECT_CLASS (hubs_http_connection_parent_class)->dispose (object);
}

static void
hubs_http_connection_finalize (GObject *object)
{
  HubsHttpConnection *self = HUBS_HTTP_CONNECTION (object);

  g_free (self->connection_id);
  g_free (self->connection_token);
  g_clear_object (&self->http_context);
  g_clear_error (&self->detach_error);

  G_OBJECT_CLASS (hubs_http_connection_parent_class)->finalize (object);
}

static void
hubs_http_connection_class_init (HubsHttpConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_http_connection_dispose;
  object_class->finalize = hubs_http_connection_finalize;

  /**
   * HubsHttpConnection::received:
   * @self: the connection
   * @data: the bytes received
   *
   * Bytes arrived from the client. Chunks follow no message boundary of the
   * client's: a WebSocket message may come in pieces, and a POST body
   * whole.
   *
   * Since: 0.1
   */
  signals[RECEIVED] =
    g_signal_new ("received",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_BYTES);

  /**
   * HubsHttpConnection::closed:
   * @self: the connection
   * @error: (nullable): why it ended, or %NULL when it ended normally
   *
   * The connection has ended. Emitted once.
   *
   * Since: 0.1
   */
  signals[CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * HubsHttpConnection::drained:
   * @self: the connection
   *
   * The bytes queued for the client, after having piled up, have mostly
   * been written: a good moment to send more.
   *
   * Since: 0.1
   */
  signals[DRAINED] =
    g_signal_new ("drained",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
hubs_http_connection_init (HubsHttpConnection *self)
{
}

HubsHttpConnection *
hubs_http_connection_new (const char *connection_id,
                          const char *connection_token)
{
  HubsHttpConnection *self = g_object_new (HUBS_TYPE_HTTP_CONNECTION, NULL);

  self->connection_id = g_strdup (connection_id);
  self->connection_token = g_strdup (connection_token);

  return self;
}

const char *
hubs_http_connection_get_token (HubsHttpConnection *self)
{
  return self->connection_token;
}

static void
transport_received (gpointer      user_data,
                    const guint8 *data,
                    gsize         length)
{
  HubsHttpConnection *self = user_data;

  if (self->application != NULL)
    self->application->received (self->application_data, data, length);
  else
    {
      g_autoptr(GBytes) bytes = g_bytes_new (data, length);

      g_signal_emit (self, signals[RECEIVED], 0, bytes);
    }
}

/* The end, for good. */
static void
end (HubsHttpConnection *self,
     const GError       *error)
{
  g_autoptr(HubsHttpConnection) keep = g_object_ref (self);

  if (self->closed)
    return;

  self->closed = TRUE;
  g_clear_handle_id (&self->reconnect_window_id, g_source_remove);
  if (self->application != NULL)
    self->application->closed (self->application_data, error);
  g_signal_emit (self, signals[CLOSED], 0, error);
}

static gboolean
reconnect_window_expired (gpointer user_data)
{
  HubsHttpConnection *self = user_data;
  g_autoptr(GError) error = g_steal_pointer (&self->detach_error);

  self->reconnect_window_id = 0;
  end (self, error);
  return G_SOURCE_REMOVE;
}

/* Lets go of the transport and waits for the client to come back. */
static void
detach (HubsHttpConnection *self,
        const GError       *error)
{
  g_autoptr(HubsTransport) transport = g_steal_pointer (&self->transport);

  hubs_transport_set_callbacks (transport, NULL, NULL);
  if (!hubs_transport_is_closed (transport))
    hubs_transport_abort (transport);

  g_clear_error (&self->detach_error);
  if (error != NULL)
    self->detach_error = g_error_copy (error);
  self->reconnect_window_id = g_timeout_add_seconds (RECONNECT_WINDOW_SECONDS,
                                                     reconnect_window_expired, self);
}

static void
transport_closed (gpointer      user_data,
                  const GError *error)
{
  HubsHttpConnection *self = user_data;

  /* As HttpConnectionDispatcher: a WebSocket that the client did not close
   * leaves a stateful connection waiting for it. */
  if (self->resumed != NULL && !self->closing && !self->aborted &&
      hubs_transport_ended_abruptly (self->transport))
    {
      detach (self, error);
      return;
    }

  end (self, error);
}

static void
transport_drained (gpointer user_data)
{
  HubsHttpConnection *self = user_data;

  if (self->application != NULL)
    self->application->drained (self->application_data);
  else
    g_signal_emit (self, signals[DRAINED], 0);
}

void
hubs_http_connection_attach (HubsHttpConnection *self,
                             HubsTransport      *transport,
                             HubsHttpContext    *http_context)
{
  static const HubsTransportCallbacks callbacks = {
    .received = transport_received,
    .closed = transport_closed,
    .drained = transport_drained,
  };

  gboolean resuming = hubs_http_connection_can_resume (self);

  g_return_if_fail (self->transport == NULL || resuming);

  /* A client that comes back before its old socket was seen to end: the
   * new one replaces it (HttpConnectionContext.CancelPreviousPoll). */
  if (resuming && self->transport != NULL)
    detach (self, NULL);
  g_clear_handle_id (&self->reconnect_window_id, g_source_remove);
  g_clear_error (&self->detach_error);

  self->transport = g_object_ref (transport);
  self->transport_type = hubs_transport_get_transport_type (transport);
  /* The request that began the connection stays its HTTP context. */
  if (self->http_context == NULL)
    g_set_object (&self->http_context, http_context);
  hubs_transport_set_callbacks (transport, &callbacks, self);
  hubs_transport_start (transport);

  if (resuming)
    {
      hubs_transport_set_transfer_format (transport, self->transfer_format);
      self->resumed (self->resumed_data);
    }
}

void
hubs_http_connection_set_stateful_reconnect (HubsHttpConnection *self,
                                             gboolean            stateful_reconnect)
{
  self->stateful_reconnect = stateful_reconnect;
}

gboolean
hubs_http_connection_get_stateful_reconnect (HubsHttpConnection *self)
{
  return self->stateful_reconnect;
}

void
hubs_http_connection_enable_reconnect (HubsHttpConnection  *self,
                                       HubsHttpResumedFunc  resumed,
                                       gpointer             user_data)
{
  g_return_if_fail (self->stateful_reconnect);
  g_return_if_fail (self->transport_type == HUBS_TRANSPORT_WEB_SOCKETS);

  self->resumed = resumed;
  self->resumed_data = user_data;
}

gboolean
hubs_http_connection_can_resume (HubsHttpConnection *self)
{
  return self->resumed != NULL && !self->closed && !self->closing && !self->aborted;
}

gboolean
hubs_http_connection_is_detached (HubsHttpConnection *self)
{
  return self->reconnect_window_id != 0;
}

gboolean
hubs_http_connection_is_attached (HubsHttpConnection *self)
{
  return self->transport != NULL;
}

HubsTransport *
hubs_http_connection_get_transport_object (HubsHttpConnection *self)
{
  return self->transport;
}

void
hubs_http_connection_set_application (HubsHttpConnection           *self,
                                      const HubsTransportCallbacks *callbacks,
                                      gpointer                      user_data)
{
  self->application = callbacks;
  self->application_data = user_data;
}

void
hubs_http_connection_set_receiving (HubsHttpConnection *self,
                                    gboolean            receiving)
{
  if (self->transport != NULL && !self->closed)
    hubs_transport_set_receiving (self->transport, receiving);
}

void
hubs_http_connection_set_transfer_format (HubsHttpConnection *self,
                                          HubsTransferFormat  format)
{
  self->transfer_format = format;
  if (self->transport != NULL)
    hubs_transport_set_transfer_format (self->transport, format);
}

void
hubs_http_connection_abort (HubsHttpConnection *self)
{
  self->aborted = TRUE;
  if (self->transport != NULL && !self->closed)
    hubs_transport_abort (self->transport);
  else if (hubs_http_connection_is_detached (self))
    end (self, NULL);
}

/**
 * hubs_http_connection_get_connection_id:
 * @self: a connection
 *
 * Gets the connection id: the `connectionId` of negotiate.
 *
 * Returns: the connection id
 *
 * Since: 0.1
 */
const char *
hubs_http_connection_get_connection_id (HubsHttpConnection *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONNECTION (self), NULL);
  return self->connection_id;
}

/**
 * hubs_http_connection_get_http_context:
 * @self: a connection
 *
 * Gets the request that opened the transport.
 *
 * Returns: (transfer none) (nullable): the HTTP context, %NULL before a
 *   transport is attached
 *
 * Since: 0.1
 */
HubsHttpContext *
hubs_http_connection_get_http_context (HubsHttpConnection *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONNECTION (self), NULL);
  return self->http_context;
}

/**
 * hubs_http_connection_get_transport:
 * @self: a connection
 *
 * Gets the transport the connection uses.
 *
 * Returns: the transport, %HUBS_TRANSPORT_NONE before one is attached
 *
 * Since: 0.1
 */
HubsTransportType
hubs_http_connection_get_transport (HubsHttpConnection *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONNECTION (self), HUBS_TRANSPORT_NONE);

  return self->transport_type;
}

/**
 * hubs_http_connection_get_queued_bytes:
 * @self: a connection
 *
 * Gets how many bytes wait to be written to the client.
 *
 * Returns: the number of bytes queued
 *
 * Since: 0.1
 */
gsize
hubs_http_connection_get_queued_bytes (HubsHttpConnection *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONNECTION (self), 0);

  return self->transport ? hubs_transport_get_queued_bytes (self->transport) : 0;
}

/**
 * hubs_http_connection_send:
 * @self: a connection
 * @data: the bytes to send
 *
 * Queues bytes for the client, as one unit: one WebSocket message, one
 * Server-Sent Event, or part of one poll's body. Never blocks; nothing is
 * sent once the connection is closed.
 *
 * Since: 0.1
 */
void
hubs_http_connection_send (HubsHttpConnection *self,
                           GBytes             *data)
{
  g_return_if_fail (HUBS_IS_HTTP_CONNECTION (self));
  g_return_if_fail (data != NULL);

  if (self->transport != NULL && !self->closed)
    hubs_transport_send (self->transport, data);
}

/**
 * hubs_http_connection_close:
 * @self: a connection
 * @error: (nullable): why the server ends it, or %NULL for a normal end
 *
 * Ends the connection once what is queued has been written. A WebSocket
 * closes with status 1000, or 1011 with an error.
 *
 * Since: 0.1
 */
void
hubs_http_connection_close (HubsHttpConnection *self,
                            const GError       *error)
{
  g_return_if_fail (HUBS_IS_HTTP_CONNECTION (self));

  if (self->transport != NULL && !self->closed && !self->closing)
    {
      self->closing = TRUE;
      hubs_transport_close (self->transport, error != NULL);
    }
  else if (hubs_http_connection_is_detached (self))
    {
      /* Nobody to tell: the client is away. */
      self->closing = TRUE;
      end (self, NULL);
    }
}

/**
 * hubs_http_connection_is_closed:
 * @self: a connection
 *
 * Whether the connection has ended.
 *
 * Returns: %TRUE once [signal@Hubs.HttpConnection::closed] was emitted
 *
 * Since: 0.1
 */
gboolean
hubs_http_connection_is_closed (HubsHttpConnection *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONNECTION (self), TRUE);
  return self->closed;
}
