/* hubs-group-manager.c: adding connections to groups
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-group-manager.h"

#include "hubs-hub-clients-private.h"
#include "hubs-hub-context-private.h"

/**
 * HubsGroupManager:
 *
 * Adds connections of a hub to groups and removes them, SignalR's `Groups`.
 * A group exists while it has members; a connection leaves all its groups
 * when it ends. Group names are compared as plain strings, exactly.
 *
 * Since: 0.1
 */

struct _HubsGroupManager
{
  GObject parent_instance;

  HubsLifetimeManager *lifetime_manager;
};

G_DEFINE_FINAL_TYPE (HubsGroupManager, hubs_group_manager, G_TYPE_OBJECT)

static void
hubs_group_manager_finalize (GObject *object)
{
  g_clear_object (&HUBS_GROUP_MANAGER (object)->lifetime_manager);

  G_OBJECT_CLASS (hubs_group_manager_parent_class)->finalize (object);
}

static void
hubs_group_manager_class_init (HubsGroupManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_group_manager_finalize;
}

static void
hubs_group_manager_init (HubsGroupManager *self)
{
}

HubsGroupManager *
hubs_group_manager_new (HubsHubContext *hub_context)
{
  HubsGroupManager *self = g_object_new (HUBS_TYPE_GROUP_MANAGER, NULL);

  self->lifetime_manager = g_object_ref (hubs_hub_context_get_lifetime_manager (hub_context));

  return self;
}

static void
group_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (hubs_lifetime_manager_group_finish (HUBS_LIFETIME_MANAGER (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
change_group (HubsGroupManager    *self,
              const char          *connection_id,
              const char          *group,
              gboolean             add,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data,
              gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  hubs_lifetime_manager_group_async (self->lifetime_manager, connection_id, group, add,
                                     cancellable, group_done, task);
}

/**
 * hubs_group_manager_add_to_group_async:
 * @self: a group manager
 * @connection_id: a connection id
 * @group: a group name
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Adds a connection to a group. Adding a connection that does not exist, or
 * is a member already, is no error.
 *
 * Since: 0.1
 */
void
hubs_group_manager_add_to_group_async (HubsGroupManager    *self,
                                       const char          *connection_id,
                                       const char          *group,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (HUBS_IS_GROUP_MANAGER (self));
  g_return_if_fail (connection_id != NULL);
  g_return_if_fail (group != NULL);

  change_group (self, connection_id, group, TRUE, cancellable, callback, user_data,
                hubs_group_manager_add_to_group_async);
}

/**
 * hubs_group_manager_add_to_group_finish:
 * @self: a group manager
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.GroupManager.add_to_group_async].
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
hubs_group_manager_add_to_group_finish (HubsGroupManager  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  g_return_val_if_fail (HUBS_IS_GROUP_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hubs_group_manager_remove_from_group_async:
 * @self: a group manager
 * @connection_id: a connection id
 * @group: a group name
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called when done
 * @user_data: data for @callback
 *
 * Removes a connection from a group.
 *
 * Since: 0.1
 */
void
hubs_group_manager_remove_from_group_async (HubsGroupManager    *self,
                                            const char          *connection_id,
                                            const char          *group,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_return_if_fail (HUBS_IS_GROUP_MANAGER (self));
  g_return_if_fail (connection_id != NULL);
  g_return_if_fail (group != NULL);

  change_group (self, connection_id, group, FALSE, cancellable, callback, user_data,
                hubs_group_manager_remove_from_group_async);
}

/**
 * hubs_group_manager_remove_from_group_finish:
 * @self: a group manager
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.GroupManager.remove_from_group_async].
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
hubs_group_manager_remove_from_group_finish (HubsGroupManager  *self,
                                             GAsyncResult      *result,
                                             GError           **error)
{
  g_return_val_if_fail (HUBS_IS_GROUP_MANAGER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hubs_group_manager_add_to_group:
 * @self: a group manager
 * @connection_id: a connection id
 * @group: a group name
 *
 * Adds a connection to a group without waiting. With the in-memory lifetime
 * manager the change is made before this returns.
 *
 * Since: 0.1
 */
void
hubs_group_manager_add_to_group (HubsGroupManager *self,
                                 const char       *connection_id,
                                 const char       *group)
{
  hubs_group_manager_add_to_group_async (self, connection_id, group, NULL, NULL, NULL);
}

/**
 * hubs_group_manager_remove_from_group:
 * @self: a group manager
 * @connection_id: a connection id
 * @group: a group name
 *
 * Removes a connection from a group without waiting. With the in-memory
 * lifetime manager the change is made before this returns.
 *
 * Since: 0.1
 */
void
hubs_group_manager_remove_from_group (HubsGroupManager *self,
                                      const char       *connection_id,
                                      const char       *group)
{
  hubs_group_manager_remove_from_group_async (self, connection_id, group, NULL, NULL, NULL);
}
