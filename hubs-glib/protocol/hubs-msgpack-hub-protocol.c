/* hubs-msgpack-hub-protocol.c: the "messagepack" hub protocol
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each message is a MessagePack array preceded by its length as a VarInt
 * (SignalR's HubProtocol.md, "MessagePack (MsgPack) encoding" and "Binary
 * encoding"). Reading follows ASP.NET Core's BinaryMessageParser and
 * MessagePackHubProtocolWorker: the same checks in the same order with the
 * same error texts. The body is checked first (hubs_msgpack_check()), then
 * unpacked by msgpack-c; arguments, items and results stay unpacked until
 * the dispatcher knows their types. Writing is MessagePackHubProtocolWorker's
 * layout byte for byte, through msgpack-c's packer.
 *
 * Where the current reference and signalr-wire.md §5 differ, the spec wins:
 * empty header keys and values are accepted (only nil is refused), and a
 * type mismatch reports JSON's "Error binding arguments." text.
 */

#include <string.h>

#include "hubs-error.h"
#include "hubs-msgpack-private.h"

/* What a typical outgoing message needs, allocated at once rather than
 * grown by the writer a few bytes at a time. */
#define OUTGOING_MESSAGE_SIZE 256

/* BinaryMessageParser: 7 bits a byte, at most 5 bytes, at most 2^31 - 1. */
#define MAX_LENGTH_PREFIX 5

#define END_OF_DATA "Attempted to read past the end of the stream."

static gboolean
invalid_data (GError     **error,
              const char  *format,
              ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid_data (GError     **error,
              const char  *format,
              ...)
{
  va_list args;

  va_start (args, format);
  if (error != NULL)
    *error = g_error_new_valist (HUBS_ERROR, HUBS_ERROR_INVALID_DATA, format, args);
  va_end (args);

  return FALSE;
}

/* The checker */

static gboolean
read_be (const guint8 *data,
         gsize         length,
         gsize        *pos,
         guint         size,
         guint64      *value)
{
  guint64 v = 0;

  if (length - *pos < size)
    return FALSE;
  for (guint i = 0; i < size; i++)
    v = (v << 8) | data[*pos + i];
  *pos += size;
  *value = v;
  return TRUE;
}

gboolean
hubs_msgpack_check (const guint8  *data,
                    gsize          length,
                    gsize         *end,
                    GError       **error)
{
  /* Elements still to read in each open container; level 0 is the value
   * itself. */
  guint64 pending[HUBS_MSGPACK_MAX_DEPTH + 1];
  guint depth = 0;
  gsize pos = 0;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (end != NULL, FALSE);

  pending[0] = 1;
  for (;;)
    {
      guint64 skip = 0, elements = 0, n;
      gboolean container = FALSE;
      guint8 c;

      while (depth > 0 && pending[depth] == 0)
        depth--;
      if (pending[depth] == 0)
        break;
      pending[depth]--;

      if (pos >= length)
        return invalid_data (error, END_OF_DATA);
      c = data[pos++];

      if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        ;
      else if (c <= 0x8f)
        {
          container = TRUE;
          elements = (guint64) (c & 0x0f) * 2;
        }
      else if (c <= 0x9f)
        {
          container = TRUE;
          elements = c & 0x0f;
        }
      else if (c <= 0xbf)
        skip = c & 0x1f;
      else
        switch (c)
          {
          case 0xc4: case 0xc5: case 0xc6:          /* bin 8, 16, 32 */
          case 0xd9: case 0xda: case 0xdb:          /* str 8, 16, 32 */
            {
              guint size = c == 0xc4 || c == 0xd9 ? 1 : c == 0xc5 || c == 0xda ? 2 : 4;

              if (!read_be (data, length, &pos, size, &skip))
                return invalid_data (error, END_OF_DATA);
            }
            break;
          case 0xc7: case 0xc8: case 0xc9:          /* ext 8, 16, 32 */
            if (!read_be (data, length, &pos, c == 0xc7 ? 1 : c == 0xc8 ? 2 : 4, &skip))
              return invalid_data (error, END_OF_DATA);
            skip += 1;                              /* the type */
            break;
          case 0xca: skip = 4; break;               /* float 32 */
          case 0xcb: skip = 8; break;               /* float 64 */
          case 0xcc: case 0xd0: skip = 1; break;    /* (u)int 8 */
          case 0xcd: case 0xd1: skip = 2; break;
          case 0xce: case 0xd2: skip = 4; break;
          case 0xcf: case 0xd3: skip = 8; break;
          case 0xd4: skip = 2; break;               /* fixext 1, with its type */
          case 0xd5: skip = 3; break;
          case 0xd6: skip = 5; break;
          case 0xd7: skip = 9; break;
          case 0xd8: skip = 17; break;
          case 0xdc: case 0xdd:                     /* array 16, 32 */
          case 0xde: case 0xdf:                     /* map 16, 32 */
            if (!read_be (data, length, &pos, c == 0xdc || c == 0xde ? 2 : 4, &n))
              return invalid_data (error, END_OF_DATA);
            container = TRUE;
            elements = c >= 0xde ? n * 2 : n;
            break;
          case 0xc1:
          default:
            return invalid_data (error, "Unexpected msgpack code %u (never used) encountered.", c);
          }

      if (skip > length - pos)
        return invalid_data (error, END_OF_DATA);
      pos += skip;

      if (container)
        {
          if (depth + 1 > HUBS_MSGPACK_MAX_DEPTH)
            return invalid_data (error, "The MessagePack data nests deeper than %d levels.",
                                 HUBS_MSGPACK_MAX_DEPTH);
          /* Every element takes a byte at least: a count the remaining
           * bytes cannot hold is truncated data, found before msgpack-c
           * allocates for it. */
          if (elements > length - pos)
            return invalid_data (error, END_OF_DATA);
          if (elements > 0)
            pending[++depth] = elements;
        }
    }

  *end = pos;
  return TRUE;
}

/* The protocol */

typedef struct
{
  guint8 *body;                         /* the unpacked objects point into it */
  msgpack_unpacked unpacked;
  const msgpack_object *arguments;      /* NULL: missing or not an array */
  const msgpack_object *value;          /* item or result; NULL: nil */
} MsgpackWireData;

static void
msgpack_wire_data_free (gpointer data)
{
  MsgpackWireData *wire = data;

  msgpack_unpacked_destroy (&wire->unpacked);
  g_free (wire->body);
  g_free (wire);
}

static const msgpack_object *
item_at (const msgpack_object *array,
         guint                 index)
{
  return index < array->via.array.size ? &array->via.array.ptr[index] : NULL;
}

static gboolean
read_int64 (const msgpack_object *o,
            const char           *type_name,
            gint64                min,
            gint64                max,
            const char           *field,
            gint64               *value,
            GError              **error)
{
  if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (guint64) max)
    *value = (gint64) o->via.u64;
  else if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 >= min)
    *value = o->via.i64;
  else
    return invalid_data (error, "Reading '%s' as %s failed.", field, type_name);

  return TRUE;
}

static gboolean
read_int32 (const msgpack_object *o,
            const char           *field,
            int                  *value,
            GError              **error)
{
  gint64 v = 0;

  if (!read_int64 (o, "Int32", G_MININT32, G_MAXINT32, field, &v, error))
    return FALSE;
  *value = (int) v;
  return TRUE;
}

/* A str or nil (*value = NULL), as MessagePackReader.ReadString. */
static gboolean
read_string (const msgpack_object  *o,
             const char            *field,
             char                 **value,
             GError               **error)
{
  if (o != NULL && o->type == MSGPACK_OBJECT_NIL)
    {
      *value = NULL;
      return TRUE;
    }

  *value = hubs_msgpack_dup_string (o);
  if (*value == NULL)
    return invalid_data (error, "Reading '%s' as String failed.", field);

  return TRUE;
}

static gboolean
read_headers (const msgpack_object  *o,
              GHashTable           **headers,
              GError               **error)
{
  g_autoptr(GHashTable) table = NULL;

  if (o == NULL || o->type != MSGPACK_OBJECT_MAP)
    return invalid_data (error, "Reading map length for 'headers' failed.");

  if (o->via.map.size == 0)
    return TRUE;

  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint32 i = 0; i < o->via.map.size; i++)
    {
      g_autofree char *field = NULL;
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;

      field = g_strdup_printf ("headers[%u].Key", i);
      if (!read_string (&o->via.map.ptr[i].key, field, &key, error))
        return FALSE;
      if (key == NULL)
        return invalid_data (error, "Null or empty key in header.");

      g_free (field);
      field = g_strdup_printf ("headers[%u].Value", i);
      if (!read_string (&o->via.map.ptr[i].val, field, &value, error))
        return FALSE;
      if (value == NULL)
        return invalid_data (error, "Null or empty value in header.");

      /* Dictionary.Add refuses a repeated key. */
      if (g_hash_table_contains (table, key))
        return invalid_data (error, "An item with the same key has already been added. Key: %s", key);
      g_hash_table_insert (table, g_steal_pointer (&key), g_steal_pointer (&value));
    }

  *headers = g_steal_pointer (&table);
  return TRUE;
}

static gboolean
read_stream_ids (const msgpack_object  *o,
                 GStrv                 *stream_ids,
                 GError               **error)
{
  g_autoptr(GPtrArray) ids = NULL;

  if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY)
    return invalid_data (error, "Reading array length for 'streamIds' failed.");

  /* The reference keeps no array for none. */
  if (o->via.array.size == 0)
    return TRUE;

  ids = g_ptr_array_new_with_free_func (g_free);
  for (guint32 i = 0; i < o->via.array.size; i++)
    {
      char *id = NULL;

      if (!read_string (&o->via.array.ptr[i], "streamIds", &id, error))
        return FALSE;
      if (id == NULL || id[0] == '\0')
        {
          g_free (id);
          return invalid_data (error, "Null or empty value in streamIds received.");
        }
      g_ptr_array_add (ids, id);
    }
  g_ptr_array_add (ids, NULL);

  *stream_ids = (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
  return TRUE;
}

/* Reads the invocation id of an invocation-family message; @what names
 * the message for a missing one ("StreamItem"), NULL when it is optional. */
static gboolean
read_invocation_id (const msgpack_object  *o,
                    const char            *what,
                    char                 **id,
                    GError               **error)
{
  if (!read_string (o, "invocationId", id, error))
    return FALSE;

  if (what != NULL && (*id == NULL || (*id)[0] == '\0'))
    return invalid_data (error, "Null or empty invocation ID for %s message.", what);

  return TRUE;
}

static HubsHubMessage *
parse_body (const guint8  *data,
            gsize          length,
            GError       **error)
{
  g_autoptr(HubsHubMessage) message = NULL;
  MsgpackWireData *wire = NULL;
  const msgpack_object *array;
  gboolean keep_wire = FALSE;
  gsize end = 0, offset = 0;
  int type;

  if (!hubs_msgpack_check (data, length, &end, error))
    return NULL;

  wire = g_new0 (MsgpackWireData, 1);
  /* The caller's buffer goes away once the message is consumed, and the
   * unpacked strings point into it. */
  wire->body = g_memdup2 (data, end);
  msgpack_unpacked_init (&wire->unpacked);
  if (msgpack_unpack_next (&wire->unpacked, (const char *) wire->body, end, &offset) != MSGPACK_UNPACK_SUCCESS)
    {
      /* The checker admits only what msgpack-c reads. */
      invalid_data (error, END_OF_DATA);
      goto out;
    }

  array = &wire->unpacked.data;
  if (array->type != MSGPACK_OBJECT_ARRAY)
    {
      invalid_data (error, "Reading the message's array header failed.");
      goto out;
    }

  if (!read_int32 (item_at (array, 0), "messageType", &type, error))
    goto out;

  switch (type)
    {
    case HUBS_MESSAGE_INVOCATION:
    case HUBS_MESSAGE_STREAM_INVOCATION:
      {
        gboolean streaming = type == HUBS_MESSAGE_STREAM_INVOCATION;
        const char *what = streaming ? "StreamInvocation" : "Invocation";
        const msgpack_object *arguments;

        message = hubs_hub_message_new ((HubsMessageType) type);
        if (!read_headers (item_at (array, 1), &message->headers, error) ||
            !read_invocation_id (item_at (array, 2), streaming ? what : NULL,
                                 &message->invocation_id, error) ||
            !read_string (item_at (array, 3), "target", &message->target, error))
          goto failed;

        /* An empty id is how MessagePack says "no id": non-blocking. */
        if (message->invocation_id != NULL && message->invocation_id[0] == '\0')
          g_clear_pointer (&message->invocation_id, g_free);

        if (message->target == NULL || message->target[0] == '\0')
          {
            invalid_data (error, "Null or empty target for %s message.", what);
            goto failed;
          }

        /* The reference reads the arguments while binding, so a bad
         * array is a binding failure: bind_arguments() reports it. */
        arguments = item_at (array, 4);
        if (arguments != NULL && arguments->type == MSGPACK_OBJECT_ARRAY)
          {
            wire->arguments = arguments;
            message->n_wire_arguments = arguments->via.array.size;
            keep_wire = arguments->via.array.size > 0;

            /* Older clients send 5 items, without stream ids. */
            if (array->via.array.size > 5 &&
                !read_stream_ids (item_at (array, 5), &message->stream_ids, error))
              goto failed;
          }
        else
          keep_wire = TRUE;
      }
      break;

    case HUBS_MESSAGE_STREAM_ITEM:
      message = hubs_hub_message_new (HUBS_MESSAGE_STREAM_ITEM);
      if (!read_headers (item_at (array, 1), &message->headers, error) ||
          !read_invocation_id (item_at (array, 2), "StreamItem", &message->invocation_id, error))
        goto failed;
      if (array->via.array.size < 4)
        {
          invalid_data (error, END_OF_DATA);
          goto failed;
        }
      message->has_result = TRUE;
      wire->value = item_at (array, 3);
      keep_wire = TRUE;
      break;

    case HUBS_MESSAGE_COMPLETION:
      {
        int kind;

        message = hubs_hub_message_new (HUBS_MESSAGE_COMPLETION);
        if (!read_headers (item_at (array, 1), &message->headers, error) ||
            !read_invocation_id (item_at (array, 2), "Completion", &message->invocation_id, error) ||
            !read_int32 (item_at (array, 3), "resultKind", &kind, error))
          goto failed;

        switch (kind)
          {
          case 1:
            if (!read_string (item_at (array, 4), "error", &message->error, error))
              goto failed;
            break;
          case 2:
            break;
          case 3:
            if (array->via.array.size < 5)
              {
                invalid_data (error, END_OF_DATA);
                goto failed;
              }
            message->has_result = TRUE;
            wire->value = item_at (array, 4);
            keep_wire = TRUE;
            break;
          default:
            invalid_data (error, "Invalid invocation result kind.");
            goto failed;
          }
      }
      break;

    case HUBS_MESSAGE_CANCEL_INVOCATION:
      message = hubs_hub_message_new (HUBS_MESSAGE_CANCEL_INVOCATION);
      if (!read_headers (item_at (array, 1), &message->headers, error) ||
          !read_invocation_id (item_at (array, 2), "CancelInvocation", &message->invocation_id, error))
        goto failed;
      break;

    case HUBS_MESSAGE_PING:
      message = hubs_hub_message_new (HUBS_MESSAGE_PING);
      break;

    case HUBS_MESSAGE_CLOSE:
      message = hubs_hub_message_new (HUBS_MESSAGE_CLOSE);
      if (!read_string (item_at (array, 1), "error", &message->error, error))
        goto failed;
      if (array->via.array.size > 2)
        {
          const msgpack_object *allow = item_at (array, 2);

          if (allow->type != MSGPACK_OBJECT_BOOLEAN)
            {
              invalid_data (error, "Reading 'allowReconnect' as Boolean failed.");
              goto failed;
            }
          message->allow_reconnect = allow->via.boolean;
        }
      break;

    case HUBS_MESSAGE_ACK:
    case HUBS_MESSAGE_SEQUENCE:
      {
        gint64 id = 0;

        /* Int64 as the reference reads it; a negative id means nothing
         * here and is refused with the same text. */
        if (!read_int64 (item_at (array, 1), "Int64", 0, G_MAXINT64, "sequenceId", &id, error))
          goto out;
        message = hubs_hub_message_new ((HubsMessageType) type);
        message->sequence_id = (guint64) id;
      }
      break;

    default:
      /* "Future protocol changes can add message types, old clients can
       * ignore them": no message, no error. */
      break;
    }

  if (message != NULL && keep_wire)
    {
      message->wire_data = g_steal_pointer (&wire);
      message->wire_data_free = msgpack_wire_data_free;
    }
  goto out;

failed:
  g_clear_pointer (&message, hubs_hub_message_unref);
out:
  if (wire != NULL)
    msgpack_wire_data_free (wire);
  return g_steal_pointer (&message);
}

static HubsHubMessage *
msgpack_parse_message (const guint8  *data,
                       gsize          length,
                       gsize          max_message_size,
                       gsize         *consumed,
                       GError       **error)
{
  guint32 body_length = 0;
  guint n = 0;
  guint8 byte;
  guint64 total;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (consumed != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *consumed = 0;
  if (length == 0)
    return NULL;

  do
    {
      byte = data[n];
      body_length |= (guint32) (byte & 0x7f) << (n * 7);
      n++;
    }
  while (n < MIN (length, MAX_LENGTH_PREFIX) && (byte & 0x80) != 0);

  if ((byte & 0x80) != 0 && n < MAX_LENGTH_PREFIX)
    {
      /* The prefix goes on in bytes still to come. */
      if (max_message_size > 0 && length >= max_message_size)
        goto too_large;
      return NULL;
    }

  if ((byte & 0x80) != 0 || (n == MAX_LENGTH_PREFIX && byte > 7))
    {
      g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                           "Messages over 2GB in size are not supported.");
      return NULL;
    }

  /* The limit counts the prefix. A message that cannot fit fails now,
   * before its bytes are waited for, let alone kept. */
  total = (guint64) n + body_length;
  if (max_message_size > 0 && total > max_message_size)
    goto too_large;

  if (length < total)
    return NULL;

  /* Even a bad message is known to end there. */
  *consumed = (gsize) total;
  return parse_body (data + n, body_length, error);

too_large:
  g_set_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE,
               "The maximum message size of %" G_GSIZE_FORMAT "B was exceeded. "
               "The message size can be configured in AddHubOptions.",
               max_message_size);
  return NULL;
}

/* Writing */

static void
write_length_prefix (GByteArray *out,
                     gsize       length)
{
  guint8 prefix[MAX_LENGTH_PREFIX];
  guint n = 0;

  g_assert (length <= G_MAXINT32);
  do
    {
      prefix[n] = length & 0x7f;
      length >>= 7;
      if (length > 0)
        prefix[n] |= 0x80;
      n++;
    }
  while (length > 0);

  g_byte_array_append (out, prefix, n);
}

static void
pack_string (msgpack_packer *pk,
             const char     *str)
{
  if (str == NULL)
    {
      msgpack_pack_nil (pk);
      return;
    }
  msgpack_pack_str (pk, strlen (str));
  msgpack_pack_str_body (pk, str, strlen (str));
}

static void
pack_headers (msgpack_packer       *pk,
              const HubsHubMessage *message)
{
  GHashTableIter iter;
  gpointer key, value;

  if (message->headers == NULL)
    {
      msgpack_pack_map (pk, 0);
      return;
    }

  msgpack_pack_map (pk, g_hash_table_size (message->headers));
  g_hash_table_iter_init (&iter, message->headers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      pack_string (pk, key);
      pack_string (pk, value);
    }
}

static void
pack_arguments (msgpack_packer       *pk,
                const HubsHubMessage *message)
{
  msgpack_pack_array (pk, message->n_arguments);
  for (guint i = 0; i < message->n_arguments; i++)
    hubs_msgpack_write_value (pk, &message->arguments[i]);
}

static void
pack_stream_ids (msgpack_packer       *pk,
                 const HubsHubMessage *message)
{
  guint n = message->stream_ids != NULL ? g_strv_length (message->stream_ids) : 0;

  msgpack_pack_array (pk, n);
  for (guint i = 0; i < n; i++)
    pack_string (pk, message->stream_ids[i]);
}

static void
msgpack_write_message (const HubsHubMessage *message,
                       GByteArray           *out)
{
  g_autoptr(GByteArray) body = NULL;
  msgpack_packer pk;

  g_return_if_fail (message != NULL);
  g_return_if_fail (out != NULL);

  body = g_byte_array_sized_new (OUTGOING_MESSAGE_SIZE);
  hubs_msgpack_packer_init (&pk, body);

  switch (message->type)
    {
    case HUBS_MESSAGE_INVOCATION:
      msgpack_pack_array (&pk, 6);
      msgpack_pack_int (&pk, message->type);
      pack_headers (&pk, message);
      if (message->invocation_id == NULL || message->invocation_id[0] == '\0')
        msgpack_pack_nil (&pk);
      else
        pack_string (&pk, message->invocation_id);
      pack_string (&pk, message->target != NULL ? message->target : "");
      pack_arguments (&pk, message);
      pack_stream_ids (&pk, message);
      break;

    case HUBS_MESSAGE_STREAM_INVOCATION:
      msgpack_pack_array (&pk, 6);
      msgpack_pack_int (&pk, message->type);
      pack_headers (&pk, message);
      pack_string (&pk, message->invocation_id);
      pack_string (&pk, message->target != NULL ? message->target : "");
      pack_arguments (&pk, message);
      pack_stream_ids (&pk, message);
      break;

    case HUBS_MESSAGE_STREAM_ITEM:
      msgpack_pack_array (&pk, 4);
      msgpack_pack_int (&pk, message->type);
      pack_headers (&pk, message);
      pack_string (&pk, message->invocation_id);
      hubs_msgpack_write_value (&pk, &message->value);
      break;

    case HUBS_MESSAGE_COMPLETION:
      {
        int kind = message->error != NULL ? 1 : message->has_result ? 3 : 2;

        msgpack_pack_array (&pk, kind != 2 ? 5 : 4);
        msgpack_pack_int (&pk, message->type);
        pack_headers (&pk, message);
        pack_string (&pk, message->invocation_id);
        msgpack_pack_int (&pk, kind);
        if (kind == 1)
          pack_string (&pk, message->error);
        else if (kind == 3)
          hubs_msgpack_write_value (&pk, &message->value);
      }
      break;

    case HUBS_MESSAGE_CANCEL_INVOCATION:
      msgpack_pack_array (&pk, 3);
      msgpack_pack_int (&pk, message->type);
      pack_headers (&pk, message);
      pack_string (&pk, message->invocation_id);
      break;

    case HUBS_MESSAGE_PING:
      msgpack_pack_array (&pk, 1);
      msgpack_pack_int (&pk, message->type);
      break;

    case HUBS_MESSAGE_CLOSE:
      msgpack_pack_array (&pk, 3);
      msgpack_pack_int (&pk, message->type);
      pack_string (&pk, message->error != NULL && message->error[0] != '\0' ? message->error : NULL);
      if (message->allow_reconnect)
        msgpack_pack_true (&pk);
      else
        msgpack_pack_false (&pk);
      break;

    case HUBS_MESSAGE_ACK:
    case HUBS_MESSAGE_SEQUENCE:
      msgpack_pack_array (&pk, 2);
      msgpack_pack_int (&pk, message->type);
      msgpack_pack_uint64 (&pk, message->sequence_id);
      break;

    default:
      g_critical ("Cannot write a hub message of unknown type %d", (int) message->type);
      return;
    }

  write_length_prefix (out, body->len);
  g_byte_array_append (out, body->data, body->len);
}

/* Binding */

static const MsgpackWireData *
get_wire_data (const HubsHubMessage *message)
{
  /* A message this protocol did not read has nothing to bind: zero
   * arguments, a nil value. */
  if (message->wire_data == NULL || message->wire_data_free != msgpack_wire_data_free)
    return NULL;

  return message->wire_data;
}

static gboolean
msgpack_bind_arguments (const HubsHubMessage  *message,
                        guint                  n_params,
                        const HubsParamType   *params,
                        GValue                *values,
                        GError               **error)
{
  const MsgpackWireData *wire;
  guint n_provided = 0;
  guint n_bound = 0;

  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (n_params == 0 || (params != NULL && values != NULL), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wire = get_wire_data (message);
  if (wire != NULL && wire->arguments == NULL)
    {
      g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED,
                           "Reading array length for 'arguments' failed.");
      return FALSE;
    }
  if (wire != NULL)
    n_provided = wire->arguments->via.array.size;

  /* Unlike JSON, the count comes first (MessagePackHubProtocolWorker's
   * BindArguments). */
  if (n_provided != n_params)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED,
                   "Invocation provides %u argument(s) but target expects %u.",
                   n_provided, n_params);
      return FALSE;
    }

  for (; n_bound < n_params; n_bound++)
    {
      if (!hubs_msgpack_bind_value (&wire->arguments->via.array.ptr[n_bound], &params[n_bound],
                                    &values[n_bound], NULL))
        {
          g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED,
                               "Error binding arguments. Make sure that the types of the "
                               "provided values match the types of the hub method being invoked.");
          for (guint i = 0; i < n_bound; i++)
            g_value_unset (&values[i]);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
msgpack_bind_value (const HubsHubMessage  *message,
                    const HubsParamType   *type,
                    GValue                *value,
                    GError               **error)
{
  const MsgpackWireData *wire;

  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (type != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wire = get_wire_data (message);

  return hubs_msgpack_bind_value (wire != NULL ? wire->value : NULL, type, value, error);
}

static const HubsHubProtocol msgpack_hub_protocol = {
  .name = "messagepack",
  .version = 2,
  .transfer_format = HUBS_TRANSFER_FORMAT_BINARY,
  .parse_message = msgpack_parse_message,
  .write_message = msgpack_write_message,
  .bind_arguments = msgpack_bind_arguments,
  .bind_value = msgpack_bind_value,
};

const HubsHubProtocol *
hubs_msgpack_hub_protocol_get (void)
{
  return &msgpack_hub_protocol;
}
