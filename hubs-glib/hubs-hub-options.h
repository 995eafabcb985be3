/* hubs-hub-options.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "hubs-types.h"
#include "hubs-hub-filter.h"

G_BEGIN_DECLS

#define HUBS_TYPE_HUB_OPTIONS (hubs_hub_options_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsHubOptions, hubs_hub_options, HUBS, HUB_OPTIONS, GObject)

HUBS_AVAILABLE_IN_ALL
HubsHubOptions    *hubs_hub_options_new                          (void);
HUBS_AVAILABLE_IN_ALL
HubsTransportType  hubs_hub_options_get_transports               (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_transports               (HubsHubOptions    *self,
                                                                  HubsTransportType  transports);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_hub_options_get_detailed_errors          (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_detailed_errors          (HubsHubOptions    *self,
                                                                  gboolean           detailed_errors);
HUBS_AVAILABLE_IN_ALL
guint              hubs_hub_options_get_keep_alive_interval      (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_keep_alive_interval      (HubsHubOptions    *self,
                                                                  guint              msec);
HUBS_AVAILABLE_IN_ALL
guint              hubs_hub_options_get_client_timeout_interval  (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_client_timeout_interval  (HubsHubOptions    *self,
                                                                  guint              msec);
HUBS_AVAILABLE_IN_ALL
guint              hubs_hub_options_get_handshake_timeout        (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_handshake_timeout        (HubsHubOptions    *self,
                                                                  guint              msec);
HUBS_AVAILABLE_IN_ALL
gsize              hubs_hub_options_get_maximum_receive_message_size (HubsHubOptions *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_maximum_receive_message_size (HubsHubOptions *self,
                                                                  gsize              size);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_hub_options_get_require_authentication   (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_require_authentication   (HubsHubOptions    *self,
                                                                  gboolean           require);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_hub_options_get_close_on_authentication_expiration (HubsHubOptions *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_close_on_authentication_expiration (HubsHubOptions *self,
                                                                  gboolean           close);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_add_hub_filter               (HubsHubOptions    *self,
                                                                  HubsHubFilter     *filter);
HUBS_AVAILABLE_IN_ALL
guint              hubs_hub_options_get_maximum_parallel_invocations (HubsHubOptions *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_maximum_parallel_invocations (HubsHubOptions *self,
                                                                  guint              maximum);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_hub_options_get_allow_stateful_reconnects (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_allow_stateful_reconnects (HubsHubOptions    *self,
                                                                  gboolean           allow);
HUBS_AVAILABLE_IN_ALL
gsize              hubs_hub_options_get_stateful_reconnect_buffer_size (HubsHubOptions *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_stateful_reconnect_buffer_size (HubsHubOptions *self,
                                                                  gsize              size);
HUBS_AVAILABLE_IN_ALL
const char        *hubs_hub_options_get_redis_hub_name (HubsHubOptions    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_options_set_redis_hub_name (HubsHubOptions    *self,
                                                        const char        *name);

G_END_DECLS
