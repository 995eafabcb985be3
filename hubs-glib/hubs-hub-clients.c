/* hubs-hub-clients.c: who to send to
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-clients-private.h"

#include "hubs-hub-context-private.h"

/**
 * HubsHubClients:
 *
 * The clients of a hub, SignalR's `Clients`: each method gives a
 * [class@Hubs.ClientProxy] that sends to some of them.
 *
 * From a hub method ([method@Hubs.Hub.get_clients]) the caller is known, so
 * [method@Hubs.HubClients.caller], [method@Hubs.HubClients.others] and
 * [method@Hubs.HubClients.others_in_group] work; from a
 * [class@Hubs.HubContext] they do not.
 *
 * Group names, user identifiers and connection ids are compared as plain
 * strings, exactly.
 *
 * Since: 0.1
 */

struct _HubsHubClients
{
  GObject parent_instance;

  HubsLifetimeManager *lifetime_manager;
  char *caller_id;
};

G_DEFINE_FINAL_TYPE (HubsHubClients, hubs_hub_clients, G_TYPE_OBJECT)

static void
hubs_hub_clients_finalize (GObject *object)
{
  HubsHubClients *self = HUBS_HUB_CLIENTS (object);

  g_clear_object (&self->lifetime_manager);
  g_free (self->caller_id);

  G_OBJECT_CLASS (hubs_hub_clients_parent_class)->finalize (object);
}

static void
hubs_hub_clients_class_init (HubsHubClientsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_hub_clients_finalize;
}

static void
hubs_hub_clients_init (HubsHubClients *self)
{
}

HubsHubClients *
hubs_hub_clients_new (HubsHubContext *hub_context,
                      const char     *caller_id)
{
  HubsHubClients *self = g_object_new (HUBS_TYPE_HUB_CLIENTS, NULL);

  self->lifetime_manager = g_object_ref (hubs_hub_context_get_lifetime_manager (hub_context));
  self->caller_id = g_strdup (caller_id);

  return self;
}

static HubsClientProxy *
proxy_new (HubsHubClients      *self,
           HubsTargetKind       kind,
           const char * const  *names,
           const char * const  *excluded)
{
  return hubs_client_proxy_new (self->lifetime_manager, hubs_target_new (kind, names, excluded));
}

/**
 * hubs_hub_clients_all:
 * @self: the clients
 *
 * Gets a proxy that sends to every connection of the hub.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_all (HubsHubClients *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  return proxy_new (self, HUBS_TARGET_ALL, NULL, NULL);
}

/**
 * hubs_hub_clients_caller:
 * @self: the clients of a hub method
 *
 * Gets a proxy that sends to the caller. Only from a hub method.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_caller (HubsHubClients *self)
{
  const char *ids[] = { NULL, NULL };

  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (self->caller_id != NULL, NULL);

  ids[0] = self->caller_id;
  return proxy_new (self, HUBS_TARGET_CONNECTIONS, ids, NULL);
}

/**
 * hubs_hub_clients_others:
 * @self: the clients of a hub method
 *
 * Gets a proxy that sends to every connection but the caller. Only from a
 * hub method.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_others (HubsHubClients *self)
{
  const char *ids[] = { NULL, NULL };

  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (self->caller_id != NULL, NULL);

  ids[0] = self->caller_id;
  return proxy_new (self, HUBS_TARGET_ALL_EXCEPT, NULL, ids);
}

/**
 * hubs_hub_clients_client:
 * @self: the clients
 * @connection_id: a connection id
 *
 * Gets a proxy that sends to one connection.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_client (HubsHubClients *self,
                         const char     *connection_id)
{
  const char *ids[] = { connection_id, NULL };

  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (connection_id != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_CONNECTIONS, ids, NULL);
}

/**
 * hubs_hub_clients_clients:
 * @self: the clients
 * @connection_ids: (array zero-terminated=1): connection ids
 *
 * Gets a proxy that sends to some connections.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_clients (HubsHubClients     *self,
                          const char * const *connection_ids)
{
  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (connection_ids != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_CONNECTIONS, connection_ids, NULL);
}

/**
 * hubs_hub_clients_all_except:
 * @self: the clients
 * @excluded_connection_ids: (array zero-terminated=1): connection ids
 *
 * Gets a proxy that sends to every connection but some.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_all_except (HubsHubClients     *self,
                             const char * const *excluded_connection_ids)
{
  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (excluded_connection_ids != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_ALL_EXCEPT, NULL, excluded_connection_ids);
}

/**
 * hubs_hub_clients_group:
 * @self: the clients
 * @group: a group name
 *
 * Gets a proxy that sends to the connections in a group.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_group (HubsHubClients *self,
                        const char     *group)
{
  const char *groups[] = { group, NULL };

  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (group != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_GROUPS, groups, NULL);
}

/**
 * hubs_hub_clients_groups:
 * @self: the clients
 * @groups: (array zero-terminated=1): group names
 *
 * Gets a proxy that sends to the connections of each group in turn: a
 * connection in two of the groups gets the message twice, as in ASP.NET
 * Core.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_groups (HubsHubClients     *self,
                         const char * const *groups)
{
  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (groups != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_GROUPS, groups, NULL);
}

/**
 * hubs_hub_clients_group_except:
 * @self: the clients
 * @group: a group name
 * @excluded_connection_ids: (array zero-terminated=1): connection ids
 *
 * Gets a proxy that sends to the connections in a group but some.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_group_except (HubsHubClients     *self,
                               const char         *group,
                               const char * const *excluded_connection_ids)
{
  const char *groups[] = { group, NULL };

  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (excluded_connection_ids != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_GROUP_EXCEPT, groups, excluded_connection_ids);
}

/**
 * hubs_hub_clients_others_in_group:
 * @self: the clients of a hub method
 * @group: a group name
 *
 * Gets a proxy that sends to the connections in a group but the caller.
 * Only from a hub method.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_others_in_group (HubsHubClients *self,
                                  const char     *group)
{
  const char *groups[] = { group, NULL };
  const char *ids[] = { NULL, NULL };

  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (self->caller_id != NULL, NULL);

  ids[0] = self->caller_id;
  return proxy_new (self, HUBS_TARGET_GROUP_EXCEPT, groups, ids);
}

/**
 * hubs_hub_clients_user:
 * @self: the clients
 * @user_id: a user identifier
 *
 * Gets a proxy that sends to every connection of a user.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_user (HubsHubClients *self,
                       const char     *user_id)
{
  const char *users[] = { user_id, NULL };

  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (user_id != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_USERS, users, NULL);
}

/**
 * hubs_hub_clients_users:
 * @self: the clients
 * @user_ids: (array zero-terminated=1): user identifiers
 *
 * Gets a proxy that sends to every connection of some users.
 *
 * Returns: (transfer full): a proxy
 *
 * Since: 0.1
 */
HubsClientProxy *
hubs_hub_clients_users (HubsHubClients     *self,
                        const char * const *user_ids)
{
  g_return_val_if_fail (HUBS_IS_HUB_CLIENTS (self), NULL);
  g_return_val_if_fail (user_ids != NULL, NULL);

  return proxy_new (self, HUBS_TARGET_USERS, user_ids, NULL);
}
