/* hubs-hub-clients.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "hubs-types.h"

G_BEGIN_DECLS

#define HUBS_TYPE_HUB_CLIENTS (hubs_hub_clients_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsHubClients, hubs_hub_clients, HUBS, HUB_CLIENTS, GObject)

HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_all             (HubsHubClients     *self);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_caller          (HubsHubClients     *self);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_others          (HubsHubClients     *self);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_client          (HubsHubClients     *self,
                                                   const char         *connection_id);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_clients         (HubsHubClients     *self,
                                                   const char * const *connection_ids);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_all_except      (HubsHubClients     *self,
                                                   const char * const *excluded_connection_ids);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_group           (HubsHubClients     *self,
                                                   const char         *group);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_groups          (HubsHubClients     *self,
                                                   const char * const *groups);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_group_except    (HubsHubClients     *self,
                                                   const char         *group,
                                                   const char * const *excluded_connection_ids);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_others_in_group (HubsHubClients     *self,
                                                   const char         *group);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_user            (HubsHubClients     *self,
                                                   const char         *user_id);
HUBS_AVAILABLE_IN_ALL
HubsClientProxy *hubs_hub_clients_users           (HubsHubClients     *self,
                                                   const char * const *user_ids);

G_END_DECLS
