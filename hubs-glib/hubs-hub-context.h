/* hubs-hub-context.h
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

#define HUBS_TYPE_HUB_CONTEXT (hubs_hub_context_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsHubContext, hubs_hub_context, HUBS, HUB_CONTEXT, GObject)

HUBS_AVAILABLE_IN_ALL
HubsHubClients   *hubs_hub_context_get_clients  (HubsHubContext *self);
HUBS_AVAILABLE_IN_ALL
HubsGroupManager *hubs_hub_context_get_groups   (HubsHubContext *self);
HUBS_AVAILABLE_IN_ALL
const char       *hubs_hub_context_get_path     (HubsHubContext *self);
HUBS_AVAILABLE_IN_ALL
GType             hubs_hub_context_get_hub_type (HubsHubContext *self);

G_END_DECLS
