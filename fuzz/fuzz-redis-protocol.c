/* fuzz-redis-protocol.c: libFuzzer target for the Redis backplane's
 * payloads, which anyone who can publish on the Redis can send
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-redis-protocol-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        gsize         size)
{
  g_autoptr(HubsRedisInvocation) invocation = NULL;
  g_autofree char *server = NULL, *group = NULL, *connection = NULL, *protocol = NULL;
  g_autoptr(GBytes) message = NULL;
  HubsRedisGroupAction action;
  gint32 id;

  invocation = hubs_redis_read_invocation (data, size, NULL);
  if (invocation != NULL)
    {
      /* What was read writes back and reads again the same. */
      g_autoptr(GBytes) again = hubs_redis_write_invocation ((const char * const *) invocation->excluded,
                                                             invocation->payloads->len,
                                                             (const char * const *) invocation->protocol_names,
                                                             (GBytes * const *) invocation->payloads->pdata,
                                                             invocation->invocation_id,
                                                             invocation->return_channel != NULL &&
                                                             invocation->invocation_id != NULL
                                                             ? invocation->return_channel : NULL);
      g_autoptr(HubsRedisInvocation) reread = hubs_redis_read_invocation (g_bytes_get_data (again, NULL),
                                                                          g_bytes_get_size (again), NULL);

      g_assert (reread != NULL);
      g_assert (reread->payloads->len == invocation->payloads->len);
    }
  if (hubs_redis_read_group_command (data, size, &id, &server, &action, &group, &connection, NULL))
    g_assert (server != NULL && group != NULL && connection != NULL);
  hubs_redis_read_ack (data, size, &id, NULL);
  if (hubs_redis_read_completion (data, size, &protocol, &message, NULL))
    g_assert (protocol != NULL && message != NULL);

  return 0;
}
