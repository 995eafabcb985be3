/* hubs-redis-backplane.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <gio/gio.h>
#include "hubs-version-macros.h"

G_BEGIN_DECLS

/**
 * HubsRedisState:
 * @HUBS_REDIS_STATE_DISCONNECTED: not connected: not used yet, or waiting
 *   to connect again after Redis went away
 * @HUBS_REDIS_STATE_CONNECTING: connecting, authenticating or subscribing
 * @HUBS_REDIS_STATE_CONNECTED: both connections (commands and
 *   subscriptions) are up and every channel is subscribed
 *
 * The state of a [class@Hubs.RedisBackplane].
 *
 * Since: 0.1
 */
typedef enum
{
  HUBS_REDIS_STATE_DISCONNECTED,
  HUBS_REDIS_STATE_CONNECTING,
  HUBS_REDIS_STATE_CONNECTED,
} HubsRedisState;

#define HUBS_TYPE_REDIS_BACKPLANE (hubs_redis_backplane_get_type ())
HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsRedisBackplane, hubs_redis_backplane, HUBS, REDIS_BACKPLANE, GObject)

HUBS_AVAILABLE_IN_ALL
HubsRedisBackplane *hubs_redis_backplane_new       (const char          *address,
                                                    GError             **error);
HUBS_AVAILABLE_IN_ALL
HubsRedisState      hubs_redis_backplane_get_state (HubsRedisBackplane  *self);

G_END_DECLS
