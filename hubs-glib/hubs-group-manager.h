/* hubs-group-manager.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <gio/gio.h>
#include "hubs-types.h"

G_BEGIN_DECLS

#define HUBS_TYPE_GROUP_MANAGER (hubs_group_manager_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsGroupManager, hubs_group_manager, HUBS, GROUP_MANAGER, GObject)

HUBS_AVAILABLE_IN_ALL
void     hubs_group_manager_add_to_group             (HubsGroupManager    *self,
                                                      const char          *connection_id,
                                                      const char          *group);
HUBS_AVAILABLE_IN_ALL
void     hubs_group_manager_remove_from_group        (HubsGroupManager    *self,
                                                      const char          *connection_id,
                                                      const char          *group);
HUBS_AVAILABLE_IN_ALL
void     hubs_group_manager_add_to_group_async       (HubsGroupManager    *self,
                                                      const char          *connection_id,
                                                      const char          *group,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
HUBS_AVAILABLE_IN_ALL
gboolean hubs_group_manager_add_to_group_finish      (HubsGroupManager    *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
HUBS_AVAILABLE_IN_ALL
void     hubs_group_manager_remove_from_group_async  (HubsGroupManager    *self,
                                                      const char          *connection_id,
                                                      const char          *group,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
HUBS_AVAILABLE_IN_ALL
gboolean hubs_group_manager_remove_from_group_finish (HubsGroupManager    *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

G_END_DECLS
