/* hubs-server.c: hubs mapped on the paths of an HTTP server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-server.h"

#include <string.h>
#include <sys/socket.h>

#include "hubs-connection-context-private.h"
#include "hubs-authorization-private.h"
#include "hubs-caller-context.h"
#include "hubs-error.h"
#include "hubs-hub-context-private.h"
#include "hubs-hub-filter-private.h"
#include "hubs-hub-options.h"
#include "hubs-hub-private.h"
#include "hubs-http-context-private.h"
#include "hubs-http-endpoint-private.h"
#include "hubs-metrics-private.h"
#include "redis/hubs-redis-private.h"
#include "hubs-user.h"

/**
 * HubsServer:
 *
 * Serves hubs on the paths of a #SoupServer, its own or one the application
 * already runs, with SignalR's protocols, so that every official SignalR
 * client connects to it unchanged.
 *
 * ```c
 * g_autoptr(HubsServer) server = hubs_server_new ();
 * g_autoptr(GError) error = NULL;
 *
 * hubs_server_map_hub (server, "/chat", CHAT_TYPE_HUB, NULL);
 * if (!hubs_server_listen_local (server, 5000, &error))
 *   g_error ("%s", error->message);
 * g_main_loop_run (g_main_loop_new (NULL, FALSE));
 * ```
 *
 * Everything runs on the thread-default main context of the thread that
 * made the server; every callback comes back there.
 *
 * Since: 0.1
 */

struct _HubsServer
{
  GObject parent_instance;

  SoupServer *soup_server;
  gboolean owns_soup_server;
  GTlsCertificate *tls_certificate;
  HubsConnectionManager *manager;
  GPtrArray *endpoints;         /* HubsHttpEndpoint */
  GHashTable *hub_contexts;     /* casefolded path → HubsHubContext */
  GHashTable *handled_paths;    /* paths given to soup_server_add_handler */

  HubsAuthenticateFunc authenticate;
  gpointer authenticate_data;
  GDestroyNotify authenticate_destroy;

  SoupServerCallback default_handler;
  gpointer default_handler_data;
  GDestroyNotify default_handler_destroy;

  GPtrArray *hub_filters;       /* HubsHubFilter, for every hub */
  HubsUserIdProviderFunc user_id_provider;
  gpointer user_id_provider_data;
  GDestroyNotify user_id_provider_destroy;

  GTask *shutdown_task;
  guint shutdown_timeout_id;
  gboolean shut_down;           /* refuses new requests */
  HubsWriteScheduler *write_scheduler;
  HubsMetrics *metrics;
  char *metrics_path;           /* hubs_server_map_metrics()'s */
  HubsRedisBackplane *redis_backplane;  /* for hubs mapped after it is set */
};

enum
{
  PROP_0,
  PROP_SOUP_SERVER,
  PROP_TLS_CERTIFICATE,
  PROP_REDIS_BACKPLANE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (HubsServer, hubs_server, G_TYPE_OBJECT)

/* No new requests reach the hubs: the application's own server goes on
 * serving its other handlers. */
static void
stop_serving (HubsServer *self)
{
  GHashTableIter iter;
  const char *path;

  self->shut_down = TRUE;
  if (self->soup_server == NULL)
    return;

  g_hash_table_iter_init (&iter, self->handled_paths);
  while (g_hash_table_iter_next (&iter, (gpointer *) &path, NULL))
    soup_server_remove_handler (self->soup_server, g_str_equal (path, "/") ? NULL : path);
  g_hash_table_remove_all (self->handled_paths);

  if (self->owns_soup_server)
    soup_server_disconnect (self->soup_server);
}

static void
hubs_server_dispose (GObject *object)
{
  HubsServer *self = HUBS_SERVER (object);

  hubs_metrics_set_shutting_down (self->metrics);
  stop_serving (self);

  /* Connections end with the server: nothing would be left to serve them. */
  if (self->manager != NULL)
    {
      GList *connections = hubs_object_list_ref (hubs_connection_manager_list (self->manager));

      for (GList *l = connections; l; l = l->next)
        hubs_http_connection_abort (l->data);
      g_list_free_full (connections, g_object_unref);
    }

  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  g_clear_object (&self->shutdown_task);
  g_clear_pointer (&self->endpoints, g_ptr_array_unref);
  g_clear_pointer (&self->hub_contexts, g_hash_table_unref);
  g_clear_pointer (&self->manager, hubs_connection_manager_free);
  g_clear_object (&self->soup_server);
  g_clear_pointer (&self->write_scheduler, hubs_write_scheduler_unref);
  g_clear_object (&self->tls_certificate);
  g_clear_object (&self->metrics);

  if (self->authenticate_destroy != NULL)
    self->authenticate_destroy (self->authenticate_data);
  self->authenticate = NULL;
  self->authenticate_destroy = NULL;

  if (self->default_handler_destroy != NULL)
    self->default_handler_destroy (self->default_handler_data);
  self->default_handler = NULL;
  self->default_handler_destroy = NULL;

  g_clear_pointer (&self->hub_filters, g_ptr_array_unref);
  if (self->user_id_provider_destroy != NULL)
    self->user_id_provider_destroy (self->user_id_provider_data);
  self->user_id_provider = NULL;
  self->user_id_provider_destroy = NULL;

  G_OBJECT_CLASS (hubs_server_parent_class)->dispose (object);
}

static void
hubs_server_finalize (GObject *object)
{
  HubsServer *self = HUBS_SERVER (object);

  g_hash_table_unref (self->handled_paths);
  g_free (self->metrics_path);
  g_clear_object (&self->redis_backplane);

  G_OBJECT_CLASS (hubs_server_parent_class)->finalize (object);
}

static void
hubs_server_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  HubsServer *self = HUBS_SERVER (object);

  switch (prop_id)
    {
    case PROP_SOUP_SERVER:
      g_value_set_object (value, self->soup_server);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_object (value, self->tls_certificate);
      break;
    case PROP_REDIS_BACKPLANE:
      g_value_set_object (value, self->redis_backplane);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_server_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  HubsServer *self = HUBS_SERVER (object);

  switch (prop_id)
    {
    case PROP_SOUP_SERVER:
      self->soup_server = g_value_dup_object (value);
      break;
    case PROP_TLS_CERTIFICATE:
      self->tls_certificate = g_value_dup_object (value);
      break;
    case PROP_REDIS_BACKPLANE:
      hubs_server_set_redis_backplane (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_server_constructed (GObject *object)
{
  HubsServer *self = HUBS_SERVER (object);

  G_OBJECT_CLASS (hubs_server_parent_class)->constructed (object);

  if (self->soup_server == NULL)
    {
      self->soup_server = soup_server_new ("tls-certificate", self->tls_certificate, NULL);
      self->owns_soup_server = TRUE;
    }
  else if (self->tls_certificate != NULL)
    soup_server_set_tls_certificate (self->soup_server, self->tls_certificate);
}

static void
hubs_server_class_init (HubsServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = hubs_server_constructed;
  object_class->dispose = hubs_server_dispose;
  object_class->finalize = hubs_server_finalize;
  object_class->get_property = hubs_server_get_property;
  object_class->set_property = hubs_server_set_property;

  /**
   * HubsServer:soup-server:
   *
   * The HTTP server the hubs are served on.
   *
   * Since: 0.1
   */
  properties[PROP_SOUP_SERVER] =
    g_param_spec_object ("soup-server", NULL, NULL,
                         SOUP_TYPE_SERVER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsServer:tls-certificate:
   *
   * The certificate, with its private key, that the server presents to
   * clients: with one, [method@Hubs.Server.listen_local] serves HTTPS and
   * WSS only. It is set on the #SoupServer, the server's own or the one it
   * was given. %NULL (the default) serves plain HTTP.
   *
   * ```c
   * g_autoptr(GTlsCertificate) certificate =
   *   g_tls_certificate_new_from_files ("cert.pem", "key.pem", &error);
   * g_autoptr(HubsServer) server =
   *   g_object_new (HUBS_TYPE_SERVER, "tls-certificate", certificate, NULL);
   * ```
   *
   * Since: 0.1
   */
  properties[PROP_TLS_CERTIFICATE] =
    g_param_spec_object ("tls-certificate", NULL, NULL,
                         G_TYPE_TLS_CERTIFICATE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsServer:redis-backplane: (getter get_redis_backplane) (setter set_redis_backplane)
   *
   * The Redis backplane that hubs mapped from now on use, so that they
   * share their connections, groups and users with other servers; %NULL
   * (the default): each hub keeps them in memory. Hubs mapped before it is
   * set keep what they had.
   *
   * Since: 0.1
   */
  properties[PROP_REDIS_BACKPLANE] =
    g_param_spec_object ("redis-backplane", NULL, NULL,
                         HUBS_TYPE_REDIS_BACKPLANE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

HubsWriteScheduler *
hubs_server_get_write_scheduler (HubsServer *self)
{
  /* Made on first use, on the main context of the thread that serves. */
  if (self->write_scheduler == NULL)
    self->write_scheduler = hubs_write_scheduler_new (g_main_context_get_thread_default ());

  return self->write_scheduler;
}

static void
hubs_server_init (HubsServer *self)
{
  self->manager = hubs_connection_manager_new ();
  self->endpoints = g_ptr_array_new_with_free_func ((GDestroyNotify) hubs_http_endpoint_free);
  self->hub_contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->handled_paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->metrics = hubs_metrics_new ();
}

/**
 * hubs_server_new:
 *
 * Creates a server with a #SoupServer of its own. Make it listen with
 * [method@Hubs.Server.listen_local], or with the #SoupServer's own listen
 * functions ([method@Hubs.Server.get_soup_server]).
 *
 * Returns: (transfer full): a new server
 *
 * Since: 0.1
 */
HubsServer *
hubs_server_new (void)
{
  return g_object_new (HUBS_TYPE_SERVER, NULL);
}

/**
 * hubs_server_new_for_soup_server:
 * @soup_server: an HTTP server the application runs
 *
 * Creates a server that serves its hubs on @soup_server, beside the
 * application's own handlers. Hub paths are matched without regard to
 * case, as ASP.NET Core routes; to serve differently-cased requests the
 * server also installs a default handler (path %NULL) on @soup_server that
 * answers 404 for any path that is no hub's.
 *
 * Returns: (transfer full): a new server
 *
 * Since: 0.1
 */
HubsServer *
hubs_server_new_for_soup_server (SoupServer *soup_server)
{
  g_return_val_if_fail (SOUP_IS_SERVER (soup_server), NULL);

  return g_object_new (HUBS_TYPE_SERVER, "soup-server", soup_server, NULL);
}

/**
 * hubs_server_get_soup_server:
 * @self: a server
 *
 * Gets the HTTP server the hubs are served on: add handlers of your own
 * to it, or set its TLS certificate.
 *
 * Returns: (transfer none): the HTTP server
 *
 * Since: 0.1
 */
SoupServer *
hubs_server_get_soup_server (HubsServer *self)
{
  g_return_val_if_fail (HUBS_IS_SERVER (self), NULL);
  return self->soup_server;
}

/**
 * hubs_server_listen_local:
 * @self: a server
 * @port: the port, or 0 for any free one
 * @error: return location for an error
 *
 * Listens on the loopback interface (127.0.0.1) only: HTTPS (and WSS)
 * when the server has a [property@Hubs.Server:tls-certificate], plain HTTP
 * otherwise.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
hubs_server_listen_local (HubsServer  *self,
                          guint        port,
                          GError     **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  g_return_val_if_fail (HUBS_IS_SERVER (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Our own socket rather than soup_server_listen_local(): GLib listens
   * with a backlog of 10, and clients that connect at once beyond it wait
   * for TCP's retransmissions (1 s, 3 s, 7 s…). Long Polling and
   * Server-Sent Events open several connections per client. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;

  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, port);
  g_socket_set_listen_backlog (socket, SOMAXCONN);
  if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error))
    return FALSE;

  return soup_server_listen_socket (self->soup_server, socket,
                                    self->tls_certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0,
                                    error);
}

/**
 * hubs_server_get_port:
 * @self: a server
 *
 * Gets the port of the first address the server listens on.
 *
 * Returns: the port, or 0 when it does not listen
 *
 * Since: 0.1
 */
guint
hubs_server_get_port (HubsServer *self)
{
  GSList *uris;
  guint port = 0;

  g_return_val_if_fail (HUBS_IS_SERVER (self), 0);

  uris = soup_server_get_uris (self->soup_server);
  if (uris != NULL)
    port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return port;
}

static char *
path_key (const char *path)
{
  g_autofree char *lower = g_utf8_casefold (path, -1);
  gsize len = strlen (lower);

  while (len > 1 && lower[len - 1] == '/')
    lower[--len] = '\0';

  return g_steal_pointer (&lower);
}

static HubsHttpEndpoint *
find_endpoint (HubsServer *self,
               const char *request_path,
               gboolean   *negotiate)
{
  g_autofree char *key = path_key (request_path);
  gsize key_len = strlen (key);

  for (guint i = 0; i < self->endpoints->len; i++)
    {
      HubsHttpEndpoint *endpoint = g_ptr_array_index (self->endpoints, i);
      g_autofree char *base = path_key (hubs_http_endpoint_get_path (endpoint));
      gsize base_len = strlen (base);

      if (key_len == base_len && memcmp (key, base, base_len) == 0)
        {
          *negotiate = FALSE;
          return endpoint;
        }
      if (key_len == base_len + strlen ("/negotiate") &&
          memcmp (key, base, base_len) == 0 &&
          strcmp (key + base_len, "/negotiate") == 0)
        {
          *negotiate = TRUE;
          return endpoint;
        }
    }

  return NULL;
}

static void
soup_handler (SoupServer        *soup_server,
              SoupServerMessage *message,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  HubsServer *self = user_data;
  HubsHttpEndpoint *endpoint;
  gboolean negotiate = FALSE;

  if (self->shut_down)
    {
      soup_server_message_set_status (message, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
      return;
    }

  endpoint = find_endpoint (self, path, &negotiate);
  if (endpoint == NULL)
    {
      if (self->default_handler != NULL)
        self->default_handler (soup_server, message, path, query, self->default_handler_data);
      else
        soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  hubs_http_endpoint_handle (endpoint, message, negotiate);
}

/* Before the body is read: a POST too large for any hub is refused before
 * libsoup buffers it. */
static void
soup_early_handler (SoupServer        *soup_server,
                    SoupServerMessage *message,
                    const char        *path,
                    GHashTable        *query,
                    gpointer           user_data)
{
  HubsServer *self = user_data;
  gboolean negotiate = FALSE;

  if (!self->shut_down && find_endpoint (self, path, &negotiate) != NULL && !negotiate)
    hubs_http_endpoint_check_request_size (message);
}

static void
add_endpoint (HubsServer       *self,
              HubsHttpEndpoint *endpoint)
{
  const char *path = hubs_http_endpoint_get_path (endpoint);

  g_ptr_array_add (self->endpoints, endpoint);

  if (!g_hash_table_contains (self->handled_paths, path))
    {
      soup_server_add_handler (self->soup_server, path, soup_handler, self, NULL);
      soup_server_add_early_handler (self->soup_server, path, soup_early_handler, self, NULL);
      g_hash_table_add (self->handled_paths, g_strdup (path));
    }
  /* Paths that differ only in case reach the default handler. */
  if (!g_hash_table_contains (self->handled_paths, "/"))
    {
      soup_server_add_handler (self->soup_server, NULL, soup_handler, self, NULL);
      soup_server_add_early_handler (self->soup_server, NULL, soup_early_handler, self, NULL);
      g_hash_table_add (self->handled_paths, g_strdup ("/"));
    }
}

static gboolean
check_path (HubsServer *self,
            const char *path)
{
  gboolean negotiate;

  g_return_val_if_fail (path != NULL && path[0] == '/', FALSE);
  g_return_val_if_fail (strchr (path, '?') == NULL && strchr (path, '#') == NULL, FALSE);

  if (find_endpoint (self, path, &negotiate) != NULL && !negotiate)
    {
      g_critical ("Path %s is mapped already", path);
      return FALSE;
    }

  return TRUE;
}

static void
hub_connected (HubsHttpConnection *connection,
               gpointer            user_data)
{
  HubsHubContext *hub_context = user_data;
  g_autoptr(HubsConnectionContext) context = hubs_connection_context_new (hub_context, connection);

  hubs_connection_context_start (context);
  hubs_authorization_watch_expiration (context);
}

/**
 * hubs_server_map_hub:
 * @self: a server
 * @path: the path, such as `/chat`
 * @hub_type: a subtype of [class@Hubs.Hub]
 * @options: (nullable): the hub's options, or %NULL for SignalR's defaults
 *
 * Serves the hub @hub_type on @path: negotiate on `{path}/negotiate` and
 * the transports on @path. The options are copied: later changes to
 * @options do not reach this hub.
 *
 * Returns: (transfer none): the hub's context, to send to its clients from
 *   outside the hub; it lives as long as the server
 *
 * Since: 0.1
 */
HubsHubContext *
hubs_server_map_hub (HubsServer     *self,
                     const char     *path,
                     GType           hub_type,
                     HubsHubOptions *options)
{
  g_autoptr(HubsLifetimeManager) lifetime_manager = NULL;
  g_autoptr(GError) error = NULL;
  HubsHubContext *hub_context;
  HubsHttpEndpoint *endpoint;

  g_return_val_if_fail (HUBS_IS_SERVER (self), NULL);
  g_return_val_if_fail (g_type_is_a (hub_type, HUBS_TYPE_HUB), NULL);
  g_return_val_if_fail (!G_TYPE_IS_ABSTRACT (hub_type), NULL);
  g_return_val_if_fail (options == NULL || HUBS_IS_HUB_OPTIONS (options), NULL);

  if (!check_path (self, path))
    return NULL;

  if (!hubs_hub_type_check_methods (hub_type, &error))
    {
      g_critical ("%s", error->message);
      return NULL;
    }

  if (self->redis_backplane != NULL)
    {
      const char *hub_name = options != NULL ? hubs_hub_options_get_redis_hub_name (options) : NULL;

      lifetime_manager = hubs_redis_lifetime_manager_new (self->redis_backplane,
                                                          hub_name != NULL ? hub_name : g_type_name (hub_type));
    }
  else
    lifetime_manager = hubs_memory_lifetime_manager_new ();
  hub_context = hubs_hub_context_new (path, hub_type, options, lifetime_manager);
  hubs_hub_context_set_server (hub_context, self, hubs_hub_options_get_hub_filters (options));
  g_hash_table_insert (self->hub_contexts, path_key (path), hub_context);

  endpoint = hubs_http_endpoint_new (self, self->manager, path,
                                     hubs_hub_context_get_settings (hub_context),
                                     hub_connected, hub_context, NULL);
  add_endpoint (self, endpoint);

  return hub_context;
}

/**
 * hubs_server_get_hub_context:
 * @self: a server
 * @path: the path a hub is mapped on
 *
 * Gets the context of the hub mapped on @path.
 *
 * Returns: (transfer none) (nullable): the hub's context, or %NULL
 *
 * Since: 0.1
 */
HubsHubContext *
hubs_server_get_hub_context (HubsServer *self,
                             const char *path)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (HUBS_IS_SERVER (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  key = path_key (path);
  return g_hash_table_lookup (self->hub_contexts, key);
}

typedef struct
{
  HubsServer *server;
  HubsConnectionHandlerFunc handler;
  gpointer user_data;
  GDestroyNotify destroy;
} RawEndpoint;

static void
raw_connected (HubsHttpConnection *connection,
               gpointer            user_data)
{
  RawEndpoint *raw = user_data;

  raw->handler (raw->server, connection, raw->user_data);
}

static void
raw_endpoint_free (gpointer data)
{
  RawEndpoint *raw = data;

  if (raw->destroy != NULL)
    raw->destroy (raw->user_data);
  g_free (raw);
}

/**
 * hubs_server_map_connection_handler:
 * @self: a server
 * @path: the path, such as `/echo`
 * @options: (nullable): transports, authentication and limits, or %NULL
 * @handler: (scope notified) (closure user_data) (destroy destroy): called
 *   with each new connection
 * @user_data: data for @handler
 * @destroy: (nullable): frees @user_data when the server goes
 *
 * Serves a raw connection endpoint on @path, without any hub protocol, as
 * ASP.NET Core's `MapConnectionHandler`: negotiate and the transports
 * work as for hubs, and @handler gets each [class@Hubs.HttpConnection] once
 * its transport is up.
 *
 * Since: 0.1
 */
void
hubs_server_map_connection_handler (HubsServer                *self,
                                    const char                *path,
                                    HubsHubOptions            *options,
                                    HubsConnectionHandlerFunc  handler,
                                    gpointer                   user_data,
                                    GDestroyNotify             destroy)
{
  HubsHubSettings settings;
  RawEndpoint *raw;

  g_return_if_fail (HUBS_IS_SERVER (self));
  g_return_if_fail (handler != NULL);
  g_return_if_fail (options == NULL || HUBS_IS_HUB_OPTIONS (options));

  if (!check_path (self, path))
    return;

  hubs_hub_settings_init (&settings, options);

  raw = g_new0 (RawEndpoint, 1);
  raw->server = self;
  raw->handler = handler;
  raw->user_data = user_data;
  raw->destroy = destroy;

  add_endpoint (self, hubs_http_endpoint_new (self, self->manager, path, &settings,
                                              raw_connected, raw, raw_endpoint_free));
}

/**
 * hubs_server_set_authentication_handler:
 * @self: a server
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the handler, or %NULL for none (every request is anonymous)
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets the function that turns requests into users. It is called for
 * negotiate and for every transport request, with the bearer token of the
 * `Authorization` header, or else of the `access_token` query parameter
 * (which browsers' WebSocket and EventSource must use). Tokens are never
 * logged.
 *
 * A hub whose options require authentication answers 401 to anonymous
 * requests; a handler that fails answers 401 on any path.
 *
 * Since: 0.1
 */
void
hubs_server_set_authentication_handler (HubsServer           *self,
                                        HubsAuthenticateFunc  func,
                                        gpointer              user_data,
                                        GDestroyNotify        destroy)
{
  g_return_if_fail (HUBS_IS_SERVER (self));

  if (self->authenticate_destroy != NULL)
    self->authenticate_destroy (self->authenticate_data);

  self->authenticate = func;
  self->authenticate_data = user_data;
  self->authenticate_destroy = destroy;
}

/**
 * hubs_server_set_default_handler:
 * @self: a server
 * @callback: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the handler, or %NULL to answer 404
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data
 *
 * Sets the handler of the requests that no hub and no other handler takes.
 * Mapping a hub makes the server's own handler libsoup's default handler
 * (the one for `/`), so that hub paths match whatever their case; a page
 * served at `/`, or anything else that needs the default handler, is
 * served through this instead of soup_server_add_handler() with `/` or
 * %NULL. More specific paths can still be added to
 * [method@Hubs.Server.get_soup_server] directly.
 *
 * ```c
 * static void
 * serve_page (SoupServer *server, SoupServerMessage *msg, const char *path,
 *             GHashTable *query, gpointer user_data)
 * {
 *   if (strcmp (path, "/") != 0)
 *     {
 *       soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
 *       return;
 *     }
 *   soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
 *   soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
 *                                     page, strlen (page));
 * }
 *
 * hubs_server_set_default_handler (server, serve_page, NULL, NULL);
 * ```
 *
 * Since: 0.1
 */
void
hubs_server_set_default_handler (HubsServer         *self,
                                 SoupServerCallback  callback,
                                 gpointer            user_data,
                                 GDestroyNotify      destroy)
{
  g_return_if_fail (HUBS_IS_SERVER (self));

  if (self->default_handler_destroy != NULL)
    self->default_handler_destroy (self->default_handler_data);

  self->default_handler = callback;
  self->default_handler_data = user_data;
  self->default_handler_destroy = destroy;

  /* Without a hub yet, nothing has claimed the default handler. */
  if (!g_hash_table_contains (self->handled_paths, "/"))
    {
      soup_server_add_handler (self->soup_server, NULL, soup_handler, self, NULL);
      soup_server_add_early_handler (self->soup_server, NULL, soup_early_handler, self, NULL);
      g_hash_table_add (self->handled_paths, g_strdup ("/"));
    }
}

/**
 * hubs_server_add_hub_filter:
 * @self: a server
 * @filter: a hub filter
 *
 * Adds a filter that runs around the methods and the connect and
 * disconnect events of every hub of the server, as `AddFilter` in the
 * global hub options of ASP.NET Core. The server's filters run first, in
 * the order they were added, then each hub's own
 * ([method@Hubs.HubOptions.add_hub_filter]). It applies from the next
 * invocation or connection on.
 *
 * Since: 0.1
 */
void
hubs_server_add_hub_filter (HubsServer    *self,
                            HubsHubFilter *filter)
{
  g_return_if_fail (HUBS_IS_SERVER (self));
  g_return_if_fail (HUBS_IS_HUB_FILTER (filter));

  if (self->hub_filters == NULL)
    self->hub_filters = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->hub_filters, g_object_ref (filter));
}

GPtrArray *
hubs_server_get_hub_filters (HubsServer *server)
{
  return server->hub_filters;
}

/**
 * hubs_server_set_user_id_provider:
 * @self: a server
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the provider, or %NULL for the default
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Replaces the way a connection's user identifier
 * ([method@Hubs.CallerContext.get_user_identifier]) is found, as a custom
 * `IUserIdProvider` does. The default is the user's first
 * [const@Hubs.CLAIM_TYPE_NAME_IDENTIFIER] claim. The provider runs once per
 * connection, when it starts; [method@Hubs.HubClients.user] sends to the
 * connections with that identifier.
 *
 * Since: 0.1
 */
void
hubs_server_set_user_id_provider (HubsServer             *self,
                                  HubsUserIdProviderFunc  func,
                                  gpointer                user_data,
                                  GDestroyNotify          destroy)
{
  g_return_if_fail (HUBS_IS_SERVER (self));

  if (self->user_id_provider_destroy != NULL)
    self->user_id_provider_destroy (self->user_id_provider_data);

  self->user_id_provider = func;
  self->user_id_provider_data = user_data;
  self->user_id_provider_destroy = destroy;
}

char *
hubs_server_get_user_identifier (HubsServer        *server,
                                 HubsCallerContext *context)
{
  HubsUser *user;

  if (server != NULL && server->user_id_provider != NULL)
    return server->user_id_provider (server, context, server->user_id_provider_data);

  /* DefaultUserIdProvider */
  user = hubs_caller_context_get_user (context);
  return user ? g_strdup (hubs_user_find_first_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER)) : NULL;
}

static char *
request_token (SoupServerMessage *message)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (message);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const char *query;

  if (authorization != NULL && *authorization != '\0')
    {
      if (g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
        authorization += 7;
      return g_strstrip (g_strdup (authorization));
    }

  query = g_uri_get_query (soup_server_message_get_uri (message));
  if (query != NULL)
    {
      g_autoptr(GHashTable) form = soup_form_decode (query);
      const char *token = g_hash_table_lookup (form, "access_token");

      if (token != NULL && *token != '\0')
        return g_strdup (token);
    }

  return NULL;
}

static void
respond_unauthorized (SoupServerMessage *message,
                      const char        *challenge)
{
  soup_server_message_set_status (message, SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
  soup_message_headers_replace (soup_server_message_get_response_headers (message),
                                "WWW-Authenticate", challenge);
  soup_server_message_set_response (message, NULL, SOUP_MEMORY_STATIC, NULL, 0);
}

gboolean
hubs_server_authenticate_request (HubsServer            *self,
                                  SoupServerMessage     *message,
                                  HubsHttpContext       *request,
                                  const HubsHubSettings *settings)
{
  g_autofree char *token = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsUser) user = NULL;

  if (self->authenticate != NULL)
    {
      token = request_token (message);
      user = self->authenticate (self, request, token, &error, self->authenticate_data);
      if (error != NULL)
        {
          g_autofree char *escaped = g_strescape (error->message, NULL);
          g_autofree char *challenge = NULL;

          /* The token itself stays out of every answer and every log. */
          challenge = token != NULL
            ? g_strdup_printf ("Bearer error=\"invalid_token\", error_description=\"%s\"", escaped)
            : g_strdup ("Bearer");
          respond_unauthorized (message, challenge);
          return FALSE;
        }
    }

  if (settings->require_authentication && (user == NULL || !hubs_user_is_authenticated (user)))
    {
      respond_unauthorized (message, "Bearer");
      return FALSE;
    }

  /* The authorization middleware's answers: a challenge for an anonymous
   * user, Forbidden for one the policies turn away. */
  if (settings->hub_type != G_TYPE_INVALID &&
      !hubs_authorization_check_hub_user (settings->hub_type, user))
    {
      if (user == NULL || !hubs_user_is_authenticated (user))
        respond_unauthorized (message, "Bearer");
      else
        {
          soup_server_message_set_status (message, SOUP_STATUS_FORBIDDEN, "Forbidden");
          soup_server_message_set_response (message, NULL, SOUP_MEMORY_STATIC, NULL, 0);
        }
      return FALSE;
    }

  hubs_http_context_set_user (request, user);
  return TRUE;
}

/**
 * hubs_server_get_n_connections:
 * @self: a server
 *
 * Gets the number of connections, of every endpoint, including negotiated
 * connections that no transport has claimed yet.
 *
 * Returns: the number of connections
 *
 * Since: 0.1
 */
guint
hubs_server_get_n_connections (HubsServer *self)
{
  g_return_val_if_fail (HUBS_IS_SERVER (self), 0);
  return hubs_connection_manager_get_n_connections (self->manager);
}

static void
shutdown_complete (HubsServer *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->shutdown_task);

  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

static gboolean
shutdown_check (gpointer user_data)
{
  HubsServer *self = user_data;
  g_autoptr(GList) connections = hubs_connection_manager_list (self->manager);
  gboolean active = FALSE;

  for (GList *l = connections; l; l = l->next)
    if (hubs_http_connection_is_attached (l->data) && !hubs_http_connection_is_closed (l->data))
      active = TRUE;

  if (!active)
    {
      /* shutdown_complete() removes the 5 s timeout, which holds no
       * reference on the server. */
      shutdown_complete (self);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
shutdown_timed_out (gpointer user_data)
{
  HubsServer *self = user_data;
  GList *connections = hubs_object_list_ref (hubs_connection_manager_list (self->manager));

  for (GList *l = connections; l; l = l->next)
    hubs_http_connection_abort (l->data);
  g_list_free_full (connections, g_object_unref);

  self->shutdown_timeout_id = 0;
  shutdown_complete (self);
  return G_SOURCE_REMOVE;
}

/**
 * hubs_server_shutdown_async:
 * @self: a server
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called once every
 *   connection has ended
 * @user_data: data for @callback
 *
 * Stops listening and ends every connection: hub clients receive a Close
 * message that lets them reconnect elsewhere, every
 * [vfunc@Hubs.Hub.on_disconnected] runs, and connections that have not
 * closed within 5 seconds are dropped.
 *
 * Since: 0.1
 */
void
hubs_server_shutdown_async (HubsServer          *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GList *connections;
  GHashTableIter iter;
  HubsHubContext *hub_context;

  g_return_if_fail (HUBS_IS_SERVER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_server_shutdown_async);
  g_task_set_name (task, "[hubs-glib] hubs_server_shutdown_async");

  if (self->shutdown_task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, "The server is shutting down already");
      return;
    }
  self->shutdown_task = g_steal_pointer (&task);

  hubs_metrics_set_shutting_down (self->metrics);
  stop_serving (self);
  hubs_connection_manager_drop_unclaimed (self->manager);

  g_hash_table_iter_init (&iter, self->hub_contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &hub_context))
    {
      HubsLifetimeManager *manager = hubs_hub_context_get_lifetime_manager (hub_context);
      GList *hub_connections = hubs_object_list_ref (hubs_lifetime_manager_list_connections (manager));

      for (GList *l = hub_connections; l; l = l->next)
        hubs_connection_context_close (l->data, NULL, TRUE);
      g_list_free_full (hub_connections, g_object_unref);
    }

  connections = hubs_object_list_ref (hubs_connection_manager_list (self->manager));
  for (GList *l = connections; l; l = l->next)
    {
      /* No poll can reach us any more to take what is left: a Long
       * Polling connection ends now rather than wait for one. */
      if (hubs_http_connection_get_transport (l->data) == HUBS_TRANSPORT_LONG_POLLING)
        hubs_http_connection_abort (l->data);
      else
        hubs_http_connection_close (l->data, NULL);
    }
  g_list_free_full (connections, g_object_unref);

  self->shutdown_timeout_id = g_timeout_add (5000, shutdown_timed_out, self);
  /* Closes finish in later iterations: look again every few milliseconds
   * rather than spin. */
  g_timeout_add_full (G_PRIORITY_DEFAULT, 10, shutdown_check, g_object_ref (self), g_object_unref);
}

/**
 * hubs_server_shutdown_finish:
 * @self: a server
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.Server.shutdown_async].
 *
 * Returns: %TRUE once every connection has ended
 *
 * Since: 0.1
 */
gboolean
hubs_server_shutdown_finish (HubsServer    *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (HUBS_IS_SERVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hubs_server_get_metrics:
 * @self: a server
 *
 * Gets the server's counters: connections, messages, bytes and
 * invocations, of every path it serves.
 *
 * Returns: (transfer none): the metrics, which live as long as the server
 *
 * Since: 0.1
 */
HubsMetrics *
hubs_server_get_metrics (HubsServer *self)
{
  g_return_val_if_fail (HUBS_IS_SERVER (self), NULL);
  return self->metrics;
}

static void
metrics_handler (SoupServer        *soup_server,
                 SoupServerMessage *message,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  HubsServer *self = user_data;
  const char *method = soup_server_message_get_method (message);
  char *text;

  /* libsoup hands us everything below the path too */
  if (!g_str_equal (path, self->metrics_path))
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_server_message_set_status (message, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (message), "Allow", "GET, HEAD");
      return;
    }

  text = hubs_metrics_to_prometheus (self->metrics);
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "text/plain; version=0.0.4; charset=utf-8",
                                    SOUP_MEMORY_TAKE, text, strlen (text));
}

/**
 * hubs_server_map_metrics:
 * @self: a server
 * @path: the path, such as `/metrics`
 *
 * Serves the server's [class@Hubs.Metrics] on @path in the Prometheus text
 * format ([method@Hubs.Metrics.to_prometheus]), for a Prometheus server to
 * scrape with `GET`. Like the hubs, it stops being served once the server
 * shuts down.
 *
 * The metrics say how busy the server is and nothing of who uses it, but
 * they are served to anyone who can reach the server: map them on a server
 * that only your monitoring reaches, or keep them off and read
 * [method@Hubs.Server.get_metrics] yourself.
 *
 * Since: 0.1
 */
void
hubs_server_map_metrics (HubsServer *self,
                         const char *path)
{
  g_return_if_fail (HUBS_IS_SERVER (self));
  g_return_if_fail (self->metrics_path == NULL);

  if (!check_path (self, path))
    return;

  self->metrics_path = g_strdup (path);
  soup_server_add_handler (self->soup_server, path, metrics_handler, self, NULL);
  g_hash_table_add (self->handled_paths, g_strdup (path));
}

/**
 * hubs_server_set_redis_backplane: (set-property redis-backplane)
 * @self: a server
 * @backplane: (nullable): a Redis backplane, or %NULL
 *
 * Makes the hubs mapped from now on share their connections, groups and
 * users through @backplane with the other servers on the same Redis (and
 * ASP.NET Core servers with its Redis backplane). Call it before
 * [method@Hubs.Server.map_hub]: hubs mapped before keep what they had
 * (in memory, or an earlier backplane). The server's metrics show the
 * backplane's state and failed publishes.
 *
 * Since: 0.1
 */
void
hubs_server_set_redis_backplane (HubsServer         *self,
                                 HubsRedisBackplane *backplane)
{
  g_return_if_fail (HUBS_IS_SERVER (self));
  g_return_if_fail (backplane == NULL || HUBS_IS_REDIS_BACKPLANE (backplane));

  if (!g_set_object (&self->redis_backplane, backplane))
    return;

  hubs_metrics_set_redis_backplane (self->metrics, backplane);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REDIS_BACKPLANE]);
}

/**
 * hubs_server_get_redis_backplane: (get-property redis-backplane)
 * @self: a server
 *
 * Gets the Redis backplane that hubs mapped from now on use.
 *
 * Returns: (transfer none) (nullable): the backplane, or %NULL
 *
 * Since: 0.1
 */
HubsRedisBackplane *
hubs_server_get_redis_backplane (HubsServer *self)
{
  g_return_val_if_fail (HUBS_IS_SERVER (self), NULL);

  return self->redis_backplane;
}
