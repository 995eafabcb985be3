/* hubs-redis-connection-private.h: one connection to Redis on the main
 * context, reconnecting by itself
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * hiredis's asynchronous context on the GMainContext of the thread that
 * starts it (hiredis's own GLib adapter). As StackExchange.Redis, the
 * backplane keeps two: one for commands, pipelined (hiredis writes every
 * queued command at once and matches replies in order), and one in
 * subscriber mode. Each authenticates and selects its database first,
 * reconnects with a jittered backoff (0.1 s doubling to 5 s) after a failure,
 * and the subscriber subscribes again to every channel it was asked for.
 * Channels are literal names only: never PSUBSCRIBE (CVE-2023-35391).
 */

#pragma once

#include <glib.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

typedef struct _HubsRedisConnection HubsRedisConnection;

typedef struct
{
  char *host;                   /* nullable: a Unix socket */
  int port;
  char *unix_path;              /* nullable */
} HubsRedisAddress;

/* Called when the connection becomes ready (authenticated, selected and,
 * for a subscriber, subscribed again) or stops being, and when a socket
 * opens or closes (connecting). */
typedef void (*HubsRedisReadyFunc)   (HubsRedisConnection *connection,
                                      gboolean             ready,
                                      gpointer             user_data);
/* A message on a subscribed channel. */
typedef void (*HubsRedisMessageFunc) (const char          *channel,
                                      const guint8        *data,
                                      gsize                length,
                                      gpointer             user_data);
/* @reply is NULL when the command could not complete (the connection
 * ended); it is freed after the call. */
typedef void (*HubsRedisReplyFunc)   (redisReply          *reply,
                                      gpointer             user_data);

HubsRedisConnection *hubs_redis_connection_new (const HubsRedisAddress *address,
                                                gboolean                subscriber,
                                                const char             *password,
                                                int                     database,
                                                HubsRedisReadyFunc      ready_func,
                                                HubsRedisMessageFunc    message_func,
                                                gpointer                user_data);
/* Disconnects at once: pending commands get a NULL reply, no callback of
 * the connection runs afterwards. */
void     hubs_redis_connection_free       (HubsRedisConnection *self);
void     hubs_redis_connection_start      (HubsRedisConnection *self);
gboolean hubs_redis_connection_is_ready   (HubsRedisConnection *self);
/* Whether a socket exists (connecting or connected): commands can queue. */
gboolean hubs_redis_connection_is_open    (HubsRedisConnection *self);

/* Queues a command; FALSE (and no callback) when no socket exists. The
 * arguments are copied. @payload_size is counted in the pending bytes until
 * the reply comes. */
gboolean hubs_redis_connection_command    (HubsRedisConnection *self,
                                           HubsRedisReplyFunc   reply_func,
                                           gpointer             user_data,
                                           int                  argc,
                                           const char         **argv,
                                           const size_t        *argvlen,
                                           gsize                payload_size);
guint64  hubs_redis_connection_get_pending_bytes (HubsRedisConnection *self);

/* Subscriber only. @ready_func runs once Redis confirms the subscription,
 * or at once when it cannot be confirmed now (no connection: it will be
 * when the connection is back) or already is. */
void     hubs_redis_connection_subscribe   (HubsRedisConnection *self,
                                            const char          *channel,
                                            GSourceFunc          ready_func,
                                            gpointer             ready_data);
void     hubs_redis_connection_unsubscribe (HubsRedisConnection *self,
                                            const char          *channel);
/* How many channels Redis has confirmed. */
guint    hubs_redis_connection_get_n_confirmed (HubsRedisConnection *self);

G_END_DECLS
