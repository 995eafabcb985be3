/* hubs-redis-protocol-private.h: the payloads of ASP.NET Core's Redis
 * backplane
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The layouts of RedisProtocol.cs in Microsoft.AspNetCore.SignalR.
 * StackExchangeRedis, byte for byte, so that hubs-glib and ASP.NET Core
 * servers share one Redis. All MessagePack:
 *
 * - invocation: [ [excluded ids…], { protocol name: bin framed message, … } ]
 *   and, for a client result, two more items: the invocation id and the
 *   channel the owner of the connection answers on;
 * - group command: [ id, server name, action (1 add, 2 remove), group,
 *   connection id ];
 * - ack: [ id ];
 * - completion: [ protocol name, bin framed Completion message ].
 *
 * Readers take untrusted bytes (anyone who can publish on the Redis): they
 * bound the size, check the MessagePack before msgpack-c allocates, accept
 * extra trailing items as the reference does, and fail with
 * HUBS_ERROR_INVALID_DATA rather than guess.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Larger payloads are refused before anything is parsed. */
#define HUBS_REDIS_MAX_PAYLOAD (64 * 1024 * 1024)

typedef enum
{
  HUBS_REDIS_GROUP_ADD = 1,
  HUBS_REDIS_GROUP_REMOVE = 2,
} HubsRedisGroupAction;

typedef struct
{
  GStrv excluded;               /* nullable */
  GStrv protocol_names;         /* parallel to @payloads */
  GPtrArray *payloads;          /* GBytes: the framed message */
  char *invocation_id;          /* nullable */
  char *return_channel;         /* nullable */
} HubsRedisInvocation;

void hubs_redis_invocation_free (HubsRedisInvocation *invocation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HubsRedisInvocation, hubs_redis_invocation_free)

/* @payloads: @n_protocols GBytes; @invocation_id and @return_channel both
 * or neither. */
GBytes *hubs_redis_write_invocation (const char * const *excluded,
                                     guint               n_protocols,
                                     const char * const *protocol_names,
                                     GBytes * const     *payloads,
                                     const char         *invocation_id,
                                     const char         *return_channel);
HubsRedisInvocation *hubs_redis_read_invocation (const guint8 *data,
                                                 gsize         length,
                                                 GError      **error);

GBytes  *hubs_redis_write_group_command (gint32                id,
                                         const char           *server_name,
                                         HubsRedisGroupAction  action,
                                         const char           *group,
                                         const char           *connection_id);
gboolean hubs_redis_read_group_command  (const guint8          *data,
                                         gsize                  length,
                                         gint32                *id,
                                         char                 **server_name,
                                         HubsRedisGroupAction  *action,
                                         char                 **group,
                                         char                 **connection_id,
                                         GError               **error);

GBytes  *hubs_redis_write_ack (gint32        id);
gboolean hubs_redis_read_ack  (const guint8 *data,
                               gsize         length,
                               gint32       *id,
                               GError      **error);

GBytes  *hubs_redis_write_completion (const char    *protocol_name,
                                      const guint8  *message,
                                      gsize          message_length);
gboolean hubs_redis_read_completion  (const guint8  *data,
                                      gsize          length,
                                      char         **protocol_name,
                                      GBytes       **message,
                                      GError       **error);

G_END_DECLS
