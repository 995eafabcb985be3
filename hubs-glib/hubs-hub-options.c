/* hubs-hub-options.c: how a hub is served
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-options.h"
#include "hubs-enums.h"
#include "hubs-hub-settings-private.h"

#define DEFAULT_TRANSPORTS HUBS_TRANSPORT_ALL
#define DEFAULT_KEEP_ALIVE_INTERVAL_MS 15000
#define DEFAULT_CLIENT_TIMEOUT_INTERVAL_MS 30000
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 15000
#define DEFAULT_MAXIMUM_RECEIVE_MESSAGE_SIZE 32768
#define DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE 100000 /* StatefulReconnectBufferSize */

/**
 * HubsHubOptions:
 *
 * The settings of a hub (or of a raw connection endpoint) on its path:
 * which transports it offers, its timers, its message size limit, whether it
 * shows errors in detail and whether it admits anonymous users.
 *
 * They are what ASP.NET Core sets with `AddSignalR (o => …)` /
 * `AddHubOptions<THub>` (`HubOptions`), with `MapHub<THub> (path, o => …)`
 * (`HttpConnectionDispatcherOptions`) and with `[Authorize]`, and they start
 * with the same defaults.
 *
 * The server copies the options when a hub is mapped: changing them
 * afterwards does not change the hub already mapped, and one options object
 * can serve to map several hubs.
 *
 * ```c
 * g_autoptr (HubsHubOptions) options = hubs_hub_options_new ();
 *
 * hubs_hub_options_set_transports (options, HUBS_TRANSPORT_WEB_SOCKETS |
 *                                           HUBS_TRANSPORT_LONG_POLLING);
 * hubs_hub_options_set_keep_alive_interval (options, 10000);
 * hubs_hub_options_set_client_timeout_interval (options, 20000);
 * hubs_hub_options_set_require_authentication (options, TRUE);
 *
 * hubs_server_map_hub (server, "/chat", CHAT_TYPE_HUB, options);
 * ```
 *
 * Since: 0.1
 */

struct _HubsHubOptions
{
  GObject parent_instance;

  HubsTransportType transports;
  guint keep_alive_interval;
  guint client_timeout_interval;
  guint handshake_timeout;
  gsize maximum_receive_message_size;
  guint detailed_errors : 1;
  guint require_authentication : 1;
  guint close_on_authentication_expiration : 1;
  GPtrArray *hub_filters;       /* HubsHubFilter */
  guint maximum_parallel_invocations;
  guint allow_stateful_reconnects : 1;
  gsize stateful_reconnect_buffer_size;
  char *redis_hub_name;
};

G_DEFINE_FINAL_TYPE (HubsHubOptions, hubs_hub_options, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_TRANSPORTS,
  PROP_DETAILED_ERRORS,
  PROP_KEEP_ALIVE_INTERVAL,
  PROP_CLIENT_TIMEOUT_INTERVAL,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_MAXIMUM_RECEIVE_MESSAGE_SIZE,
  PROP_REQUIRE_AUTHENTICATION,
  PROP_CLOSE_ON_AUTHENTICATION_EXPIRATION,
  PROP_MAXIMUM_PARALLEL_INVOCATIONS,
  PROP_ALLOW_STATEFUL_RECONNECTS,
  PROP_STATEFUL_RECONNECT_BUFFER_SIZE,
  PROP_REDIS_HUB_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
hubs_hub_options_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  HubsHubOptions *self = HUBS_HUB_OPTIONS (object);

  switch (prop_id)
    {
    case PROP_TRANSPORTS:
      g_value_set_flags (value, self->transports);
      break;

    case PROP_DETAILED_ERRORS:
      g_value_set_boolean (value, self->detailed_errors);
      break;

    case PROP_KEEP_ALIVE_INTERVAL:
      g_value_set_uint (value, self->keep_alive_interval);
      break;

    case PROP_CLIENT_TIMEOUT_INTERVAL:
      g_value_set_uint (value, self->client_timeout_interval);
      break;

    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;

    case PROP_MAXIMUM_RECEIVE_MESSAGE_SIZE:
      g_value_set_uint64 (value, self->maximum_receive_message_size);
      break;

    case PROP_REQUIRE_AUTHENTICATION:
      g_value_set_boolean (value, self->require_authentication);
      break;

    case PROP_CLOSE_ON_AUTHENTICATION_EXPIRATION:
      g_value_set_boolean (value, self->close_on_authentication_expiration);
      break;
    case PROP_MAXIMUM_PARALLEL_INVOCATIONS:
      g_value_set_uint (value, self->maximum_parallel_invocations);
      break;
    case PROP_ALLOW_STATEFUL_RECONNECTS:
      g_value_set_boolean (value, self->allow_stateful_reconnects);
      break;
    case PROP_STATEFUL_RECONNECT_BUFFER_SIZE:
      g_value_set_uint64 (value, self->stateful_reconnect_buffer_size);
      break;
    case PROP_REDIS_HUB_NAME:
      g_value_set_string (value, self->redis_hub_name);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_hub_options_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  HubsHubOptions *self = HUBS_HUB_OPTIONS (object);

  switch (prop_id)
    {
    case PROP_TRANSPORTS:
      hubs_hub_options_set_transports (self, g_value_get_flags (value));
      break;

    case PROP_DETAILED_ERRORS:
      hubs_hub_options_set_detailed_errors (self, g_value_get_boolean (value));
      break;

    case PROP_KEEP_ALIVE_INTERVAL:
      hubs_hub_options_set_keep_alive_interval (self, g_value_get_uint (value));
      break;

    case PROP_CLIENT_TIMEOUT_INTERVAL:
      hubs_hub_options_set_client_timeout_interval (self, g_value_get_uint (value));
      break;

    case PROP_HANDSHAKE_TIMEOUT:
      hubs_hub_options_set_handshake_timeout (self, g_value_get_uint (value));
      break;

    case PROP_MAXIMUM_RECEIVE_MESSAGE_SIZE:
      /* The pspec's maximum is G_MAXSIZE, so this does not truncate. */
      hubs_hub_options_set_maximum_receive_message_size (self, (gsize) g_value_get_uint64 (value));
      break;

    case PROP_REQUIRE_AUTHENTICATION:
      hubs_hub_options_set_require_authentication (self, g_value_get_boolean (value));
      break;

    case PROP_CLOSE_ON_AUTHENTICATION_EXPIRATION:
      hubs_hub_options_set_close_on_authentication_expiration (self, g_value_get_boolean (value));
      break;
    case PROP_MAXIMUM_PARALLEL_INVOCATIONS:
      hubs_hub_options_set_maximum_parallel_invocations (self, g_value_get_uint (value));
      break;
    case PROP_ALLOW_STATEFUL_RECONNECTS:
      hubs_hub_options_set_allow_stateful_reconnects (self, g_value_get_boolean (value));
      break;
    case PROP_STATEFUL_RECONNECT_BUFFER_SIZE:
      hubs_hub_options_set_stateful_reconnect_buffer_size (self, g_value_get_uint64 (value));
      break;
    case PROP_REDIS_HUB_NAME:
      hubs_hub_options_set_redis_hub_name (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_hub_options_finalize (GObject *object)
{
  HubsHubOptions *self = HUBS_HUB_OPTIONS (object);

  g_clear_pointer (&self->hub_filters, g_ptr_array_unref);
  g_free (self->redis_hub_name);

  G_OBJECT_CLASS (hubs_hub_options_parent_class)->finalize (object);
}

static void
hubs_hub_options_class_init (HubsHubOptionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hubs_hub_options_finalize;

  object_class->get_property = hubs_hub_options_get_property;
  object_class->set_property = hubs_hub_options_set_property;

  /**
   * HubsHubOptions:transports: (getter get_transports) (setter set_transports)
   *
   * The transports the hub offers in negotiate and accepts.
   *
   * Default: `HUBS_TRANSPORT_ALL`, that is WebSockets, Server-Sent Events and
   * Long Polling, as ASP.NET Core's `HttpConnectionDispatcherOptions.Transports`.
   *
   * Since: 0.1
   */
  properties[PROP_TRANSPORTS] =
    g_param_spec_flags ("transports", NULL, NULL,
                        HUBS_TYPE_TRANSPORT_TYPE,
                        DEFAULT_TRANSPORTS,
                        G_PARAM_READWRITE |
                        G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:detailed-errors: (getter get_detailed_errors) (setter set_detailed_errors)
   *
   * Whether the client sees the message of any error that ends an
   * invocation or the connection. When it is off, the client sees the message
   * of [error@Hubs.HubError] errors only and SignalR's generic message for
   * the others, which may hold details a client should not learn.
   *
   * Default: %FALSE, as ASP.NET Core's `HubOptions.EnableDetailedErrors`.
   *
   * Since: 0.1
   */
  properties[PROP_DETAILED_ERRORS] =
    g_param_spec_boolean ("detailed-errors", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE |
                          G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:keep-alive-interval: (getter get_keep_alive_interval) (setter set_keep_alive_interval)
   *
   * How long, in milliseconds, the server waits without sending anything to
   * a client before it sends a ping to keep the connection open.
   *
   * Default: 15000 (15 seconds), as ASP.NET Core's
   * `HubOptions.KeepAliveInterval`. Clients' server timeout should be about
   * twice this value.
   *
   * Since: 0.1
   */
  properties[PROP_KEEP_ALIVE_INTERVAL] =
    g_param_spec_uint ("keep-alive-interval", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_KEEP_ALIVE_INTERVAL_MS,
                       G_PARAM_READWRITE |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:client-timeout-interval: (getter get_client_timeout_interval) (setter set_client_timeout_interval)
   *
   * How long, in milliseconds, the server waits without receiving anything
   * from a client (not even a ping) before it considers the client gone and
   * closes the connection.
   *
   * Default: 30000 (30 seconds), as ASP.NET Core's
   * `HubOptions.ClientTimeoutInterval`; it should be about twice the clients'
   * keep-alive interval.
   *
   * Since: 0.1
   */
  properties[PROP_CLIENT_TIMEOUT_INTERVAL] =
    g_param_spec_uint ("client-timeout-interval", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_CLIENT_TIMEOUT_INTERVAL_MS,
                       G_PARAM_READWRITE |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:handshake-timeout: (getter get_handshake_timeout) (setter set_handshake_timeout)
   *
   * How long, in milliseconds, a new connection has to complete the hub
   * protocol handshake before the server closes it.
   *
   * Default: 15000 (15 seconds), as ASP.NET Core's `HubOptions.HandshakeTimeout`.
   *
   * Since: 0.1
   */
  properties[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL,
                       1, G_MAXUINT, DEFAULT_HANDSHAKE_TIMEOUT_MS,
                       G_PARAM_READWRITE |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:maximum-receive-message-size: (getter get_maximum_receive_message_size) (setter set_maximum_receive_message_size)
   *
   * The largest message, in bytes, the server accepts from a client; a
   * larger one ends the connection with an error.
   *
   * 0 means no limit. That is dangerous: any client can then make the server
   * buffer as much memory as it likes, so use it only with clients you trust.
   *
   * Default: 32768 (32 KiB), as ASP.NET Core's
   * `HubOptions.MaximumReceiveMessageSize` (where `null` means no limit).
   *
   * Since: 0.1
   */
  properties[PROP_MAXIMUM_RECEIVE_MESSAGE_SIZE] =
    g_param_spec_uint64 ("maximum-receive-message-size", NULL, NULL,
                         0, G_MAXSIZE, DEFAULT_MAXIMUM_RECEIVE_MESSAGE_SIZE,
                         G_PARAM_READWRITE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:require-authentication: (getter get_require_authentication) (setter set_require_authentication)
   *
   * Whether every request of the hub (negotiate and transport) must come
   * from an authenticated user ([method@Hubs.User.is_authenticated]); the
   * others are answered `401 Unauthorized`.
   *
   * Default: %FALSE. ASP.NET Core does this with `[Authorize]` on the hub
   * class (or `RequireAuthorization()` on its endpoint).
   *
   * Since: 0.1
   */
  properties[PROP_REQUIRE_AUTHENTICATION] =
    g_param_spec_boolean ("require-authentication", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE |
                          G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:maximum-parallel-invocations: (getter get_maximum_parallel_invocations) (setter set_maximum_parallel_invocations)
   *
   * How many invocations of one connection may run at once. A further
   * invocation waits, and the connection's later messages with it, until
   * one of them completes. Streaming methods and methods that take upload
   * streams run outside this limit, and an invocation waiting for a client
   * result ([method@Hubs.ClientProxy.invoke_async]) lends its place.
   *
   * Default: 1, in order. ASP.NET Core calls it
   * `MaximumParallelInvocationsPerClient`.
   *
   * Since: 0.1
   */
  properties[PROP_MAXIMUM_PARALLEL_INVOCATIONS] =
    g_param_spec_uint ("maximum-parallel-invocations", NULL, NULL,
                       1, G_MAXUINT, 1,
                       G_PARAM_READWRITE |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:allow-stateful-reconnects: (getter get_allow_stateful_reconnects) (setter set_allow_stateful_reconnects)
   *
   * Whether clients that ask for it (`withStatefulReconnect()` in the
   * JavaScript client) may use stateful reconnect: when their WebSocket
   * drops without a close, the connection waits 15 s for them to come back
   * on a new one, and the messages lost in between, both ways, are sent
   * again, none twice. Groups, items and running invocations stay;
   * [vfunc@Hubs.Hub.on_disconnected] runs only if the client does not come
   * back. Only WebSockets carry it.
   *
   * Default: %FALSE. ASP.NET Core calls it `AllowStatefulReconnects`.
   *
   * Since: 0.1
   */
  properties[PROP_ALLOW_STATEFUL_RECONNECTS] =
    g_param_spec_boolean ("allow-stateful-reconnects", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE |
                          G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:stateful-reconnect-buffer-size: (getter get_stateful_reconnect_buffer_size) (setter set_stateful_reconnect_buffer_size)
   *
   * With stateful reconnect, how many bytes of messages a connection keeps
   * until the client acknowledges them. Above it, the connection's own
   * invocations and streams wait for acknowledgements; messages sent to it
   * from elsewhere are still kept, up to the 1 MiB a connection may have
   * waiting before it is closed as a client that does not read.
   *
   * Default: 100000. ASP.NET Core calls it `StatefulReconnectBufferSize`.
   *
   * Since: 0.1
   */
  properties[PROP_STATEFUL_RECONNECT_BUFFER_SIZE] =
    g_param_spec_uint64 ("stateful-reconnect-buffer-size", NULL, NULL,
                         1, G_MAXSIZE, DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE,
                         G_PARAM_READWRITE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:close-on-authentication-expiration: (getter get_close_on_authentication_expiration) (setter set_close_on_authentication_expiration)
   *
   * Whether a connection is closed once its user's authentication expires
   * ([property@Hubs.User:expiration]). The client gets a Close message
   * without error that allows it to reconnect, with a fresh token.
   *
   * Default: %FALSE: a connection outlives its token, as in ASP.NET Core,
   * whose `CloseOnAuthenticationExpiration` this is.
   *
   * Since: 0.1
   */
  properties[PROP_CLOSE_ON_AUTHENTICATION_EXPIRATION] =
    g_param_spec_boolean ("close-on-authentication-expiration", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE |
                          G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHubOptions:redis-hub-name: (getter get_redis_hub_name) (setter set_redis_hub_name)
   *
   * The hub's name in the channels of a [class@Hubs.RedisBackplane]:
   * servers share a hub through Redis when they give it the same name.
   * %NULL (the default) is the hub's GType name. ASP.NET Core names a hub by
   * its .NET type's full name (`typeof(THub).FullName`): set it to that,
   * such as `MyApp.ChatHub`, to share the hub with an ASP.NET Core server.
   *
   * Since: 0.1
   */
  properties[PROP_REDIS_HUB_NAME] =
    g_param_spec_string ("redis-hub-name", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hubs_hub_options_init (HubsHubOptions *self)
{
  self->transports = DEFAULT_TRANSPORTS;
  self->keep_alive_interval = DEFAULT_KEEP_ALIVE_INTERVAL_MS;
  self->client_timeout_interval = DEFAULT_CLIENT_TIMEOUT_INTERVAL_MS;
  self->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  self->maximum_receive_message_size = DEFAULT_MAXIMUM_RECEIVE_MESSAGE_SIZE;
  self->detailed_errors = FALSE;
  self->require_authentication = FALSE;
  self->maximum_parallel_invocations = 1;
  self->allow_stateful_reconnects = FALSE;
  self->stateful_reconnect_buffer_size = DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE;
}

/**
 * hubs_hub_options_new:
 *
 * Creates options with ASP.NET Core SignalR's defaults.
 *
 * Returns: (transfer full): new options
 *
 * Since: 0.1
 */
HubsHubOptions *
hubs_hub_options_new (void)
{
  return g_object_new (HUBS_TYPE_HUB_OPTIONS, NULL);
}

/**
 * hubs_hub_options_get_transports: (get-property transports)
 * @self: hub options
 *
 * Gets the transports the hub offers.
 *
 * Returns: the transports
 *
 * Since: 0.1
 */
HubsTransportType
hubs_hub_options_get_transports (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), HUBS_TRANSPORT_NONE);

  return self->transports;
}

/**
 * hubs_hub_options_set_transports: (set-property transports)
 * @self: hub options
 * @transports: the transports to offer
 *
 * Sets the transports the hub offers. See
 * [property@Hubs.HubOptions:transports].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_transports (HubsHubOptions    *self,
                                 HubsTransportType  transports)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));
  g_return_if_fail ((transports & ~HUBS_TRANSPORT_ALL) == 0);

  if (self->transports == transports)
    return;

  self->transports = transports;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRANSPORTS]);
}

/**
 * hubs_hub_options_get_detailed_errors: (get-property detailed-errors)
 * @self: hub options
 *
 * Gets whether clients see the messages of all errors.
 *
 * Returns: %TRUE if errors are detailed
 *
 * Since: 0.1
 */
gboolean
hubs_hub_options_get_detailed_errors (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), FALSE);

  return self->detailed_errors;
}

/**
 * hubs_hub_options_set_detailed_errors: (set-property detailed-errors)
 * @self: hub options
 * @detailed_errors: whether clients see the messages of all errors
 *
 * Sets whether clients see the messages of all errors. See
 * [property@Hubs.HubOptions:detailed-errors].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_detailed_errors (HubsHubOptions *self,
                                      gboolean        detailed_errors)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));

  detailed_errors = !!detailed_errors;
  if (self->detailed_errors == (guint) detailed_errors)
    return;

  self->detailed_errors = detailed_errors;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DETAILED_ERRORS]);
}

/**
 * hubs_hub_options_get_keep_alive_interval: (get-property keep-alive-interval)
 * @self: hub options
 *
 * Gets the keep-alive interval.
 *
 * Returns: the keep-alive interval, in milliseconds
 *
 * Since: 0.1
 */
guint
hubs_hub_options_get_keep_alive_interval (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), 0);

  return self->keep_alive_interval;
}

/**
 * hubs_hub_options_set_keep_alive_interval: (set-property keep-alive-interval)
 * @self: hub options
 * @msec: the keep-alive interval, in milliseconds; not 0
 *
 * Sets how long the server stays silent before it pings a client. See
 * [property@Hubs.HubOptions:keep-alive-interval].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_keep_alive_interval (HubsHubOptions *self,
                                          guint           msec)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));
  g_return_if_fail (msec > 0);

  if (self->keep_alive_interval == msec)
    return;

  self->keep_alive_interval = msec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEP_ALIVE_INTERVAL]);
}

/**
 * hubs_hub_options_get_client_timeout_interval: (get-property client-timeout-interval)
 * @self: hub options
 *
 * Gets the client timeout.
 *
 * Returns: the client timeout, in milliseconds
 *
 * Since: 0.1
 */
guint
hubs_hub_options_get_client_timeout_interval (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), 0);

  return self->client_timeout_interval;
}

/**
 * hubs_hub_options_set_client_timeout_interval: (set-property client-timeout-interval)
 * @self: hub options
 * @msec: the client timeout, in milliseconds; not 0
 *
 * Sets how long a client may stay silent before the server drops it. See
 * [property@Hubs.HubOptions:client-timeout-interval].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_client_timeout_interval (HubsHubOptions *self,
                                              guint           msec)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));
  g_return_if_fail (msec > 0);

  if (self->client_timeout_interval == msec)
    return;

  self->client_timeout_interval = msec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT_TIMEOUT_INTERVAL]);
}

/**
 * hubs_hub_options_get_handshake_timeout: (get-property handshake-timeout)
 * @self: hub options
 *
 * Gets the handshake timeout.
 *
 * Returns: the handshake timeout, in milliseconds
 *
 * Since: 0.1
 */
guint
hubs_hub_options_get_handshake_timeout (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), 0);

  return self->handshake_timeout;
}

/**
 * hubs_hub_options_set_handshake_timeout: (set-property handshake-timeout)
 * @self: hub options
 * @msec: the handshake timeout, in milliseconds; not 0
 *
 * Sets how long a new connection has to complete the handshake. See
 * [property@Hubs.HubOptions:handshake-timeout].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_handshake_timeout (HubsHubOptions *self,
                                        guint           msec)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));
  g_return_if_fail (msec > 0);

  if (self->handshake_timeout == msec)
    return;

  self->handshake_timeout = msec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HANDSHAKE_TIMEOUT]);
}

/**
 * hubs_hub_options_get_maximum_receive_message_size: (get-property maximum-receive-message-size)
 * @self: hub options
 *
 * Gets the largest message the server accepts from a client.
 *
 * Returns: the limit, in bytes, or 0 for none
 *
 * Since: 0.1
 */
gsize
hubs_hub_options_get_maximum_receive_message_size (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), 0);

  return self->maximum_receive_message_size;
}

/**
 * hubs_hub_options_set_maximum_receive_message_size: (set-property maximum-receive-message-size)
 * @self: hub options
 * @size: the limit, in bytes, or 0 for none (dangerous)
 *
 * Sets the largest message the server accepts from a client. See
 * [property@Hubs.HubOptions:maximum-receive-message-size], and why no limit
 * is dangerous.
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_maximum_receive_message_size (HubsHubOptions *self,
                                                   gsize           size)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));

  if (self->maximum_receive_message_size == size)
    return;

  self->maximum_receive_message_size = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAXIMUM_RECEIVE_MESSAGE_SIZE]);
}

/**
 * hubs_hub_options_get_require_authentication: (get-property require-authentication)
 * @self: hub options
 *
 * Gets whether the hub admits authenticated users only.
 *
 * Returns: %TRUE if anonymous requests are refused
 *
 * Since: 0.1
 */
gboolean
hubs_hub_options_get_require_authentication (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), FALSE);

  return self->require_authentication;
}

/**
 * hubs_hub_options_set_require_authentication: (set-property require-authentication)
 * @self: hub options
 * @require: whether to refuse anonymous requests
 *
 * Sets whether the hub admits authenticated users only. See
 * [property@Hubs.HubOptions:require-authentication].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_require_authentication (HubsHubOptions *self,
                                             gboolean        require)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));

  require = !!require;
  if (self->require_authentication == (guint) require)
    return;

  self->require_authentication = require;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUIRE_AUTHENTICATION]);
}

/**
 * hubs_hub_options_get_maximum_parallel_invocations: (get-property maximum-parallel-invocations)
 * @self: hub options
 *
 * Gets how many invocations of one connection may run at once.
 *
 * Returns: the limit, at least 1
 *
 * Since: 0.1
 */
guint
hubs_hub_options_get_maximum_parallel_invocations (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), 1);

  return self->maximum_parallel_invocations;
}

/**
 * hubs_hub_options_set_maximum_parallel_invocations: (set-property maximum-parallel-invocations)
 * @self: hub options
 * @maximum: the limit, at least 1
 *
 * Sets how many invocations of one connection may run at once. See
 * [property@Hubs.HubOptions:maximum-parallel-invocations].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_maximum_parallel_invocations (HubsHubOptions *self,
                                                   guint           maximum)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));
  g_return_if_fail (maximum >= 1);

  if (self->maximum_parallel_invocations == maximum)
    return;

  self->maximum_parallel_invocations = maximum;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAXIMUM_PARALLEL_INVOCATIONS]);
}

/**
 * hubs_hub_options_get_allow_stateful_reconnects: (get-property allow-stateful-reconnects)
 * @self: hub options
 *
 * Gets whether clients may use stateful reconnect.
 *
 * Returns: %TRUE if they may
 *
 * Since: 0.1
 */
gboolean
hubs_hub_options_get_allow_stateful_reconnects (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), FALSE);

  return self->allow_stateful_reconnects;
}

/**
 * hubs_hub_options_set_allow_stateful_reconnects: (set-property allow-stateful-reconnects)
 * @self: hub options
 * @allow: whether clients may use stateful reconnect
 *
 * Sets whether clients that ask for it may use stateful reconnect. See
 * [property@Hubs.HubOptions:allow-stateful-reconnects].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_allow_stateful_reconnects (HubsHubOptions *self,
                                                gboolean        allow)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));

  allow = !!allow;
  if (self->allow_stateful_reconnects == (guint) allow)
    return;

  self->allow_stateful_reconnects = allow;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLOW_STATEFUL_RECONNECTS]);
}

/**
 * hubs_hub_options_get_stateful_reconnect_buffer_size: (get-property stateful-reconnect-buffer-size)
 * @self: hub options
 *
 * Gets how many bytes of unacknowledged messages a connection keeps for
 * stateful reconnect before its writers wait.
 *
 * Returns: the size in bytes
 *
 * Since: 0.1
 */
gsize
hubs_hub_options_get_stateful_reconnect_buffer_size (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), DEFAULT_STATEFUL_RECONNECT_BUFFER_SIZE);

  return self->stateful_reconnect_buffer_size;
}

/**
 * hubs_hub_options_set_stateful_reconnect_buffer_size: (set-property stateful-reconnect-buffer-size)
 * @self: hub options
 * @size: the size in bytes, at least 1
 *
 * Sets how many bytes of unacknowledged messages a connection keeps for
 * stateful reconnect before its writers wait. See
 * [property@Hubs.HubOptions:stateful-reconnect-buffer-size].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_stateful_reconnect_buffer_size (HubsHubOptions *self,
                                                     gsize           size)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));
  g_return_if_fail (size >= 1);

  if (self->stateful_reconnect_buffer_size == size)
    return;

  self->stateful_reconnect_buffer_size = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATEFUL_RECONNECT_BUFFER_SIZE]);
}

/**
 * hubs_hub_options_get_close_on_authentication_expiration: (get-property close-on-authentication-expiration)
 * @self: hub options
 *
 * Gets whether connections close when their authentication expires.
 *
 * Returns: %TRUE if they do
 *
 * Since: 0.1
 */
gboolean
hubs_hub_options_get_close_on_authentication_expiration (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), FALSE);

  return self->close_on_authentication_expiration;
}

/**
 * hubs_hub_options_set_close_on_authentication_expiration: (set-property close-on-authentication-expiration)
 * @self: hub options
 * @close: whether to close connections whose authentication expires
 *
 * Sets whether connections close when their authentication expires. See
 * [property@Hubs.HubOptions:close-on-authentication-expiration].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_close_on_authentication_expiration (HubsHubOptions *self,
                                                         gboolean        close)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));

  close = !!close;
  if (self->close_on_authentication_expiration == (guint) close)
    return;

  self->close_on_authentication_expiration = close;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLOSE_ON_AUTHENTICATION_EXPIRATION]);
}

/**
 * hubs_hub_options_add_hub_filter:
 * @self: hub options
 * @filter: a hub filter
 *
 * Adds a filter that runs around the methods and the connect and
 * disconnect events of this hub only, after the server's filters
 * ([method@Hubs.Server.add_hub_filter]) and after the filters added here
 * before it, as `AddFilter` in a hub's own options does in ASP.NET Core.
 *
 * Since: 0.1
 */
void
hubs_hub_options_add_hub_filter (HubsHubOptions *self,
                                 HubsHubFilter  *filter)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));
  g_return_if_fail (HUBS_IS_HUB_FILTER (filter));

  if (self->hub_filters == NULL)
    self->hub_filters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->hub_filters, g_object_ref (filter));
}

GPtrArray *
hubs_hub_options_get_hub_filters (HubsHubOptions *options)
{
  return options != NULL ? options->hub_filters : NULL;
}

/**
 * hubs_hub_options_get_redis_hub_name: (get-property redis-hub-name)
 * @self: hub options
 *
 * Gets the hub's name in the channels of a Redis backplane.
 *
 * Returns: (nullable): the name, or %NULL for the hub's GType name
 *
 * Since: 0.1
 */
const char *
hubs_hub_options_get_redis_hub_name (HubsHubOptions *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_OPTIONS (self), NULL);

  return self->redis_hub_name;
}

/**
 * hubs_hub_options_set_redis_hub_name: (set-property redis-hub-name)
 * @self: hub options
 * @name: (nullable): the name, or %NULL for the hub's GType name
 *
 * Sets the hub's name in the channels of a Redis backplane. See
 * [property@Hubs.HubOptions:redis-hub-name].
 *
 * Since: 0.1
 */
void
hubs_hub_options_set_redis_hub_name (HubsHubOptions *self,
                                     const char     *name)
{
  g_return_if_fail (HUBS_IS_HUB_OPTIONS (self));

  if (g_strcmp0 (self->redis_hub_name, name) == 0)
    return;

  g_free (self->redis_hub_name);
  self->redis_hub_name = g_strdup (name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REDIS_HUB_NAME]);
}
