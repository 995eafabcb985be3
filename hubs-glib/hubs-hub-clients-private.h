/* hubs-hub-clients-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-hub-clients.h"
#include "hubs-client-proxy.h"
#include "hubs-lifetime-manager-private.h"

G_BEGIN_DECLS

/* @caller_id: the caller's connection id, or NULL outside a hub. */
HubsHubClients  *hubs_hub_clients_new       (HubsHubContext *hub_context,
                                             const char     *caller_id);
/* Takes @target. */
HubsClientProxy *hubs_client_proxy_new      (HubsLifetimeManager *lifetime_manager,
                                             HubsTarget     *target);
HubsGroupManager *hubs_group_manager_new    (HubsHubContext *hub_context);

G_END_DECLS
