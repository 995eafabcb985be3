/* hubs-hub-context.c: a mapped hub, seen from outside any hub
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-context-private.h"

#include "hubs-hub-clients-private.h"
#include "hubs-hub-options.h"
#include "hubs-group-manager.h"

/**
 * HubsHubContext:
 *
 * A mapped hub, to send to its clients and manage its groups from outside
 * any hub method: a timer, an HTTP handler, a D-Bus call. It is SignalR's
 * `IHubContext`, returned by [method@Hubs.Server.map_hub].
 *
 * ```c
 * static gboolean
 * tick (gpointer user_data)
 * {
 *   HubsHubContext *hub_context = user_data;
 *   g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_context_get_clients (hub_context));
 *
 *   hubs_client_proxy_send (all, "Tick", G_TYPE_INT64, g_get_real_time (), G_TYPE_INVALID);
 *   return G_SOURCE_CONTINUE;
 * }
 * ```
 *
 * Its clients have no caller: [method@Hubs.HubClients.caller],
 * [method@Hubs.HubClients.others] and [method@Hubs.HubClients.others_in_group]
 * are for hub methods only.
 *
 * Since: 0.1
 */

struct _HubsHubContext
{
  GObject parent_instance;

  char *path;
  GType hub_type;
  HubsHubSettings settings;
  HubsLifetimeManager *lifetime_manager;
  HubsHubClients *clients;
  HubsGroupManager *groups;
  guint64 last_client_invocation_id;
  HubsServer *server;           /* unowned: it owns the hub contexts */
  GPtrArray *filters;           /* HubsHubFilter: the hub's own */
};

G_DEFINE_FINAL_TYPE (HubsHubContext, hubs_hub_context, G_TYPE_OBJECT)

void
hubs_hub_settings_init (HubsHubSettings *settings,
                        HubsHubOptions  *options)
{
  g_autoptr(HubsHubOptions) defaults = NULL;

  if (options == NULL)
    options = defaults = hubs_hub_options_new ();

  settings->transports = hubs_hub_options_get_transports (options);
  settings->detailed_errors = hubs_hub_options_get_detailed_errors (options);
  settings->keep_alive_interval_ms = hubs_hub_options_get_keep_alive_interval (options);
  settings->client_timeout_interval_ms = hubs_hub_options_get_client_timeout_interval (options);
  settings->handshake_timeout_ms = hubs_hub_options_get_handshake_timeout (options);
  settings->maximum_receive_message_size = hubs_hub_options_get_maximum_receive_message_size (options);
  settings->require_authentication = hubs_hub_options_get_require_authentication (options);
  settings->maximum_parallel_invocations = hubs_hub_options_get_maximum_parallel_invocations (options);
  settings->allow_stateful_reconnects = hubs_hub_options_get_allow_stateful_reconnects (options);
  settings->stateful_reconnect_buffer_size = hubs_hub_options_get_stateful_reconnect_buffer_size (options);
  settings->close_on_authentication_expiration =
    hubs_hub_options_get_close_on_authentication_expiration (options);
  settings->hub_type = G_TYPE_INVALID;
}

static void
hubs_hub_context_finalize (GObject *object)
{
  HubsHubContext *self = HUBS_HUB_CONTEXT (object);

  g_free (self->path);
  g_clear_object (&self->lifetime_manager);
  g_clear_pointer (&self->filters, g_ptr_array_unref);

  G_OBJECT_CLASS (hubs_hub_context_parent_class)->finalize (object);
}

static void
hubs_hub_context_dispose (GObject *object)
{
  HubsHubContext *self = HUBS_HUB_CONTEXT (object);

  /* The clients and the group manager point back here. */
  g_clear_object (&self->clients);
  g_clear_object (&self->groups);

  G_OBJECT_CLASS (hubs_hub_context_parent_class)->dispose (object);
}

static void
hubs_hub_context_class_init (HubsHubContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_hub_context_dispose;
  object_class->finalize = hubs_hub_context_finalize;
}

static void
hubs_hub_context_init (HubsHubContext *self)
{
}

HubsHubContext *
hubs_hub_context_new (const char          *path,
                      GType                hub_type,
                      HubsHubOptions      *options,
                      HubsLifetimeManager *lifetime_manager)
{
  HubsHubContext *self = g_object_new (HUBS_TYPE_HUB_CONTEXT, NULL);

  self->path = g_strdup (path);
  self->hub_type = hub_type;
  hubs_hub_settings_init (&self->settings, options);
  self->settings.hub_type = hub_type;
  self->lifetime_manager = g_object_ref (lifetime_manager);

  return self;
}

const HubsHubSettings *
hubs_hub_context_get_settings (HubsHubContext *self)
{
  return &self->settings;
}

void
hubs_hub_context_set_server (HubsHubContext *self,
                             HubsServer     *server,
                             GPtrArray      *filters)
{
  self->server = server;
  g_clear_pointer (&self->filters, g_ptr_array_unref);
  if (filters != NULL && filters->len > 0)
    self->filters = g_ptr_array_ref (filters);
}

HubsServer *
hubs_hub_context_get_server (HubsHubContext *self)
{
  return self->server;
}

GPtrArray *
hubs_hub_context_get_filters (HubsHubContext *self)
{
  return self->filters;
}

HubsLifetimeManager *
hubs_hub_context_get_lifetime_manager (HubsHubContext *self)
{
  return self->lifetime_manager;
}

/**
 * hubs_hub_context_get_clients:
 * @self: a hub context
 *
 * Gets the hub's clients, to send to all of them, to some connections, to
 * groups or to users.
 *
 * Returns: (transfer none): the clients
 *
 * Since: 0.1
 */
HubsHubClients *
hubs_hub_context_get_clients (HubsHubContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_CONTEXT (self), NULL);

  if (self->clients == NULL)
    self->clients = hubs_hub_clients_new (self, NULL);

  return self->clients;
}

/**
 * hubs_hub_context_get_groups:
 * @self: a hub context
 *
 * Gets the hub's group manager.
 *
 * Returns: (transfer none): the group manager
 *
 * Since: 0.1
 */
HubsGroupManager *
hubs_hub_context_get_groups (HubsHubContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_CONTEXT (self), NULL);

  if (self->groups == NULL)
    self->groups = hubs_group_manager_new (self);

  return self->groups;
}

/**
 * hubs_hub_context_get_path:
 * @self: a hub context
 *
 * Gets the path the hub is mapped on.
 *
 * Returns: the path
 *
 * Since: 0.1
 */
const char *
hubs_hub_context_get_path (HubsHubContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_CONTEXT (self), NULL);
  return self->path;
}

/**
 * hubs_hub_context_get_hub_type:
 * @self: a hub context
 *
 * Gets the hub type mapped.
 *
 * Returns: the hub type
 *
 * Since: 0.1
 */
GType
hubs_hub_context_get_hub_type (HubsHubContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_CONTEXT (self), G_TYPE_INVALID);
  return self->hub_type;
}

char *
hubs_hub_context_next_client_invocation_id (HubsHubContext *self)
{
  return g_strdup_printf ("s%" G_GUINT64_FORMAT, ++self->last_client_invocation_id);
}
