/* hubs-hub-context-private.h: a mapped hub
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-hub-context.h"
#include "hubs-hub-settings-private.h"
#include "hubs-lifetime-manager-private.h"

G_BEGIN_DECLS

HubsHubContext        *hubs_hub_context_new          (const char          *path,
                                                      GType                hub_type,
                                                      HubsHubOptions      *options,
                                                      HubsLifetimeManager *lifetime_manager);
const HubsHubSettings *hubs_hub_context_get_settings (HubsHubContext      *self);
HubsLifetimeManager   *hubs_hub_context_get_lifetime_manager (HubsHubContext *self);
/* The server that mapped the hub, and the hub's own filters (nullable),
 * kept at map time. */
void                   hubs_hub_context_set_server   (HubsHubContext      *self,
                                                      HubsServer          *server,
                                                      GPtrArray           *filters);
HubsServer            *hubs_hub_context_get_server   (HubsHubContext      *self);
GPtrArray             *hubs_hub_context_get_filters  (HubsHubContext      *self);
/* "s1", "s2", …: the ids of client results, per hub as in ASP.NET Core,
 * prefixed so that they never clash with the client's own stream ids. */
char                  *hubs_hub_context_next_client_invocation_id (HubsHubContext *self);

G_END_DECLS
