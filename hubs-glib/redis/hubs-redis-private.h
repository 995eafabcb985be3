/* hubs-redis-private.h: what the Redis lifetime manager needs of the
 * backplane
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-redis-backplane.h"
#include "hubs-lifetime-manager-private.h"
#include "hubs-metrics.h"

G_BEGIN_DECLS

/* A message on a channel a manager subscribed to. */
typedef void (*HubsRedisChannelFunc) (const char   *channel,
                                      const guint8 *data,
                                      gsize         length,
                                      gpointer      user_data);

/* How a publish ended: @receivers as PUBLISH answers, or @error. */
typedef void (*HubsRedisPublishFunc) (gint64        receivers,
                                      const GError *error,
                                      gpointer      user_data);

const char *hubs_redis_backplane_get_server_name    (HubsRedisBackplane *self);
const char *hubs_redis_backplane_get_channel_prefix (HubsRedisBackplane *self);
guint       hubs_redis_backplane_get_ack_timeout    (HubsRedisBackplane *self);
guint64     hubs_redis_backplane_get_n_failed_publishes (HubsRedisBackplane *self);
/* Unique among the managers of the backplane, as the group command ids of
 * ASP.NET Core (all managers of one Redis hub name share its ack channel). */
gint32      hubs_redis_backplane_next_id            (HubsRedisBackplane *self);

/* Several handlers may share a channel (hubs mapped on several paths with
 * one Redis hub name): it is subscribed while one is left. @ready runs when
 * Redis confirmed it (at once if it is already, or if Redis is away). */
void hubs_redis_backplane_subscribe   (HubsRedisBackplane   *self,
                                       const char           *channel,
                                       HubsRedisChannelFunc  func,
                                       gpointer              user_data,
                                       GSourceFunc           ready,
                                       gpointer              ready_data);
void hubs_redis_backplane_unsubscribe (HubsRedisBackplane   *self,
                                       const char           *channel,
                                       HubsRedisChannelFunc  func,
                                       gpointer              user_data);
/* @ready runs once @channel, subscribed already by someone, is confirmed
 * (at once if it is, or if Redis is away). */
void hubs_redis_backplane_when_subscribed (HubsRedisBackplane *self,
                                           const char         *channel,
                                           GSourceFunc         ready,
                                           gpointer            ready_data);
/* @done may be NULL; it may run before this returns (a publish that cannot
 * be queued). A failed publish is counted and logged here. */
void hubs_redis_backplane_publish     (HubsRedisBackplane   *self,
                                       const char           *channel,
                                       GBytes               *payload,
                                       HubsRedisPublishFunc  done,
                                       gpointer              user_data);

/* The Redis lifetime manager of a hub named @hub_name in channels. */
HubsLifetimeManager *hubs_redis_lifetime_manager_new (HubsRedisBackplane *backplane,
                                                      const char         *hub_name);

/* hubs-metrics.c: the backplane's state and failures in /metrics. */
void hubs_metrics_set_redis_backplane (HubsMetrics        *metrics,
                                       HubsRedisBackplane *backplane);

G_END_DECLS
