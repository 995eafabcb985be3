/* hubs-redis-protocol.c: the payloads of ASP.NET Core's Redis backplane
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-redis-protocol-private.h"

#include <msgpack.h>

#include "hubs-error.h"
#include "hubs-msgpack-private.h"

void
hubs_redis_invocation_free (HubsRedisInvocation *invocation)
{
  g_strfreev (invocation->excluded);
  g_strfreev (invocation->protocol_names);
  g_clear_pointer (&invocation->payloads, g_ptr_array_unref);
  g_free (invocation->invocation_id);
  g_free (invocation->return_channel);
  g_free (invocation);
}

static void
pack_string (msgpack_packer *pk,
             const char     *str)
{
  gsize length = strlen (str);

  msgpack_pack_str (pk, length);
  msgpack_pack_str_body (pk, str, length);
}

GBytes *
hubs_redis_write_invocation (const char * const *excluded,
                             guint               n_protocols,
                             const char * const *protocol_names,
                             GBytes * const     *payloads,
                             const char         *invocation_id,
                             const char         *return_channel)
{
  GByteArray *out = g_byte_array_new ();
  gboolean with_result = return_channel != NULL && *return_channel != '\0';
  guint n_excluded = excluded != NULL ? g_strv_length ((char **) excluded) : 0;
  msgpack_packer pk;

  g_return_val_if_fail (!with_result || invocation_id != NULL, NULL);

  hubs_msgpack_packer_init (&pk, out);
  msgpack_pack_array (&pk, with_result ? 4 : 2);

  msgpack_pack_array (&pk, n_excluded);
  for (guint i = 0; i < n_excluded; i++)
    pack_string (&pk, excluded[i]);

  msgpack_pack_map (&pk, n_protocols);
  for (guint i = 0; i < n_protocols; i++)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (payloads[i], &size);

      pack_string (&pk, protocol_names[i]);
      msgpack_pack_bin (&pk, size);
      msgpack_pack_bin_body (&pk, data, size);
    }

  if (with_result)
    {
      pack_string (&pk, invocation_id);
      pack_string (&pk, return_channel);
    }

  return g_byte_array_free_to_bytes (out);
}

GBytes *
hubs_redis_write_group_command (gint32                id,
                                const char           *server_name,
                                HubsRedisGroupAction  action,
                                const char           *group,
                                const char           *connection_id)
{
  GByteArray *out = g_byte_array_new ();
  msgpack_packer pk;

  hubs_msgpack_packer_init (&pk, out);
  msgpack_pack_array (&pk, 5);
  msgpack_pack_int32 (&pk, id);
  pack_string (&pk, server_name);
  msgpack_pack_uint8 (&pk, action);
  pack_string (&pk, group);
  pack_string (&pk, connection_id);

  return g_byte_array_free_to_bytes (out);
}

GBytes *
hubs_redis_write_ack (gint32 id)
{
  GByteArray *out = g_byte_array_new ();
  msgpack_packer pk;

  hubs_msgpack_packer_init (&pk, out);
  msgpack_pack_array (&pk, 1);
  msgpack_pack_int32 (&pk, id);

  return g_byte_array_free_to_bytes (out);
}

GBytes *
hubs_redis_write_completion (const char   *protocol_name,
                             const guint8 *message,
                             gsize         message_length)
{
  GByteArray *out = g_byte_array_new ();
  msgpack_packer pk;

  hubs_msgpack_packer_init (&pk, out);
  msgpack_pack_array (&pk, 2);
  pack_string (&pk, protocol_name);
  msgpack_pack_bin (&pk, message_length);
  msgpack_pack_bin_body (&pk, message, message_length);

  return g_byte_array_free_to_bytes (out);
}

/* Reading */

/* One checked, unpacked payload whose top is an array of at least
 * @min_items; its strings and bins point into the caller's bytes. */
static gboolean
unpack_array (const guint8      *data,
              gsize              length,
              guint              min_items,
              const char        *what,
              msgpack_unpacked  *unpacked,
              GError           **error)
{
  gsize end = 0, offset = 0;

  msgpack_unpacked_init (unpacked);

  if (length > HUBS_REDIS_MAX_PAYLOAD)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                   "The %s payload is larger than %d bytes.", what, HUBS_REDIS_MAX_PAYLOAD);
      return FALSE;
    }
  if (!hubs_msgpack_check (data, length, &end, error))
    return FALSE;
  if (msgpack_unpack_next (unpacked, (const char *) data, end, &offset) != MSGPACK_UNPACK_SUCCESS)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Unreadable %s payload.", what);
      return FALSE;
    }
  if (unpacked->data.type != MSGPACK_OBJECT_ARRAY || unpacked->data.via.array.size < min_items)
    {
      /* RedisProtocol.ValidateArraySize's text */
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                   "Insufficient items in %s array.", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_string (const msgpack_object  *object,
             const char            *what,
             char                 **out,
             GError               **error)
{
  char *str = hubs_msgpack_dup_string (object);

  if (str == NULL)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Expected a string for %s.", what);
      return FALSE;
    }
  *out = str;
  return TRUE;
}

/* A string or nil (NULL) */
static gboolean
read_nullable_string (const msgpack_object  *object,
                      const char            *what,
                      char                 **out,
                      GError               **error)
{
  if (object->type == MSGPACK_OBJECT_NIL)
    {
      *out = NULL;
      return TRUE;
    }
  return read_string (object, what, out, error);
}

static gboolean
read_int32 (const msgpack_object  *object,
            const char            *what,
            gint32                *out,
            GError               **error)
{
  if (object->type == MSGPACK_OBJECT_POSITIVE_INTEGER && object->via.u64 <= G_MAXINT32)
    *out = (gint32) object->via.u64;
  else if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && object->via.i64 >= G_MININT32)
    *out = (gint32) object->via.i64;
  else
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Expected a 32-bit integer for %s.", what);
      return FALSE;
    }
  return TRUE;
}

HubsRedisInvocation *
hubs_redis_read_invocation (const guint8  *data,
                            gsize          length,
                            GError       **error)
{
  g_autoptr(HubsRedisInvocation) invocation = g_new0 (HubsRedisInvocation, 1);
  msgpack_unpacked unpacked;
  const msgpack_object *items, *ids, *map;
  gboolean ok = FALSE;

  if (!unpack_array (data, length, 2, "Invocation", &unpacked, error))
    goto out;

  items = unpacked.data.via.array.ptr;
  ids = &items[0];
  if (ids->type != MSGPACK_OBJECT_ARRAY)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Expected an array of excluded connection ids.");
      goto out;
    }
  if (ids->via.array.size > 0)
    {
      invocation->excluded = g_new0 (char *, ids->via.array.size + 1);
      for (guint i = 0; i < ids->via.array.size; i++)
        if (!read_string (&ids->via.array.ptr[i], "an excluded connection id", &invocation->excluded[i], error))
          goto out;
    }

  map = &items[1];
  if (map->type != MSGPACK_OBJECT_MAP)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Expected a map of serialized messages.");
      goto out;
    }
  invocation->protocol_names = g_new0 (char *, map->via.map.size + 1);
  invocation->payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < map->via.map.size; i++)
    {
      const msgpack_object_kv *kv = &map->via.map.ptr[i];
      char *name;

      if (!read_string (&kv->key, "a protocol name", &name, error))
        goto out;
      /* The reference reads a nil payload as empty. */
      if (kv->val.type != MSGPACK_OBJECT_BIN && kv->val.type != MSGPACK_OBJECT_NIL)
        {
          g_free (name);
          g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Expected binary data for a serialized message.");
          goto out;
        }
      invocation->protocol_names[i] = name;
      g_ptr_array_add (invocation->payloads,
                       kv->val.type == MSGPACK_OBJECT_BIN
                       ? g_bytes_new (kv->val.via.bin.ptr, kv->val.via.bin.size)
                       : g_bytes_new (NULL, 0));
    }

  if (unpacked.data.via.array.size > 3)
    {
      if (!read_nullable_string (&items[2], "the invocation id", &invocation->invocation_id, error) ||
          !read_nullable_string (&items[3], "the return channel", &invocation->return_channel, error))
        goto out;
    }
  ok = TRUE;

out:
  msgpack_unpacked_destroy (&unpacked);
  return ok ? g_steal_pointer (&invocation) : NULL;
}

gboolean
hubs_redis_read_group_command (const guint8          *data,
                               gsize                  length,
                               gint32                *id,
                               char                 **server_name,
                               HubsRedisGroupAction  *action,
                               char                 **group,
                               char                 **connection_id,
                               GError               **error)
{
  msgpack_unpacked unpacked;
  const msgpack_object *items;
  g_autofree char *server = NULL, *group_name = NULL, *connection = NULL;
  gboolean ok = FALSE;

  if (!unpack_array (data, length, 5, "GroupCommand", &unpacked, error))
    goto out;

  items = unpacked.data.via.array.ptr;
  if (!read_int32 (&items[0], "the command id", id, error) ||
      !read_string (&items[1], "the server name", &server, error))
    goto out;
  if (items[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER || items[2].via.u64 > G_MAXUINT8)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Expected a byte for the group action.");
      goto out;
    }
  *action = (HubsRedisGroupAction) items[2].via.u64;
  if (!read_string (&items[3], "the group name", &group_name, error) ||
      !read_string (&items[4], "the connection id", &connection, error))
    goto out;

  *server_name = g_steal_pointer (&server);
  *group = g_steal_pointer (&group_name);
  *connection_id = g_steal_pointer (&connection);
  ok = TRUE;

out:
  msgpack_unpacked_destroy (&unpacked);
  return ok;
}

gboolean
hubs_redis_read_ack (const guint8  *data,
                     gsize          length,
                     gint32        *id,
                     GError       **error)
{
  msgpack_unpacked unpacked;
  gboolean ok;

  ok = unpack_array (data, length, 1, "Ack", &unpacked, error) &&
       read_int32 (&unpacked.data.via.array.ptr[0], "the acknowledged id", id, error);
  msgpack_unpacked_destroy (&unpacked);
  return ok;
}

gboolean
hubs_redis_read_completion (const guint8  *data,
                            gsize          length,
                            char         **protocol_name,
                            GBytes       **message,
                            GError       **error)
{
  msgpack_unpacked unpacked;
  const msgpack_object *items;
  g_autofree char *name = NULL;
  gboolean ok = FALSE;

  if (!unpack_array (data, length, 2, "CompletionMessage", &unpacked, error))
    goto out;

  items = unpacked.data.via.array.ptr;
  if (!read_string (&items[0], "the protocol name", &name, error))
    goto out;
  if (items[1].type == MSGPACK_OBJECT_BIN)
    *message = g_bytes_new (items[1].via.bin.ptr, items[1].via.bin.size);
  else if (items[1].type == MSGPACK_OBJECT_NIL)
    *message = g_bytes_new (NULL, 0);
  else
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Expected binary data for the completion message.");
      goto out;
    }
  *protocol_name = g_steal_pointer (&name);
  ok = TRUE;

out:
  msgpack_unpacked_destroy (&unpacked);
  return ok;
}
