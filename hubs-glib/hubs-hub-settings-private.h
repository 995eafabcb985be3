/* hubs-hub-settings-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-types.h"

G_BEGIN_DECLS

/* The options of a mapped endpoint, copied at map time so that later changes
 * to the HubsHubOptions object do not reach running connections. */
typedef struct
{
  HubsTransportType transports;
  gboolean detailed_errors;
  guint keep_alive_interval_ms;
  guint client_timeout_interval_ms;
  guint handshake_timeout_ms;
  gsize maximum_receive_message_size;
  gboolean require_authentication;
  guint maximum_parallel_invocations;
  gboolean allow_stateful_reconnects;
  gsize stateful_reconnect_buffer_size;
  gboolean close_on_authentication_expiration;
  GType hub_type;               /* G_TYPE_INVALID for a raw endpoint */
} HubsHubSettings;

/* @options may be NULL: the defaults. */
void hubs_hub_settings_init (HubsHubSettings *settings,
                             HubsHubOptions  *options);

/* The hub filters of @options (HubsHubFilter), or NULL. */
GPtrArray *hubs_hub_options_get_hub_filters (HubsHubOptions *options);

G_END_DECLS
