/* hubs-msgpack-writer.c: GValues written as MessagePack
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The writing half of the mapping that hubs-msgpack-values.c describes, on
 * msgpack-c's packer.
 */

#include <string.h>

#include <json-glib/json-glib.h>
#include <msgpack/timestamp.h>

#include "hubs-msgpack-private.h"

/* Recursion that writes nothing, such as a variant inside a variant, is
 * bounded separately from the depth. */
#define MAX_RECURSION 256

#define TIMESTAMP_TYPE HUBS_MSGPACK_TIMESTAMP_VARIANT_TYPE

static int
append_to_byte_array (void       *data,
                      const char *buf,
                      size_t      len)
{
  g_byte_array_append (data, (const guint8 *) buf, len);
  return 0;
}

void
hubs_msgpack_packer_init (msgpack_packer *packer,
                          GByteArray     *out)
{
  msgpack_packer_init (packer, out, append_to_byte_array);
}

static void write_value_at (msgpack_packer *pk, const GValue *value, guint depth, guint recursion);
static void write_variant_at (msgpack_packer *pk, GVariant *variant, guint depth, guint recursion);
static void write_node_at (msgpack_packer *pk, JsonNode *node, guint depth);

/* Past the limits a value is written as nil: a peer could not read it. */
static gboolean
can_write_container (msgpack_packer *pk,
                     guint           depth,
                     guint           recursion)
{
  if (depth < HUBS_MSGPACK_MAX_DEPTH - 2 && recursion < MAX_RECURSION)
    return TRUE;

  g_warning ("A value nests deeper than MessagePack's maximum depth of %d; writing nil instead",
             HUBS_MSGPACK_MAX_DEPTH);
  msgpack_pack_nil (pk);
  return FALSE;
}

static void
write_string_len (msgpack_packer *pk,
                  const char     *str,
                  gsize           length)
{
  msgpack_pack_str (pk, length);
  msgpack_pack_str_body (pk, str, length);
}

static void
write_string (msgpack_packer *pk,
              const char     *str)
{
  if (str == NULL)
    msgpack_pack_nil (pk);
  else
    write_string_len (pk, str, strlen (str));
}

static void
write_bin (msgpack_packer *pk,
           const guint8   *data,
           gsize           length)
{
  msgpack_pack_bin (pk, length);
  msgpack_pack_bin_body (pk, data, length);
}

static void
write_timestamp (msgpack_packer *pk,
                 gint64          seconds,
                 guint32         nanoseconds)
{
  msgpack_timestamp ts = { seconds, nanoseconds };

  msgpack_pack_timestamp (pk, &ts);
}

/* The timestamp counts whole seconds down and nanoseconds up: before
 * 1970, x.5 s is (x - 1) s + 0.5 s, where g_date_time_to_unix() would
 * round towards zero. */
static void
write_date_time (msgpack_packer *pk,
                 GDateTime      *date_time)
{
  g_autoptr(GDateTime) epoch = g_date_time_new_from_unix_utc (0);
  GTimeSpan usec = g_date_time_difference (date_time, epoch);
  gint64 seconds = usec / G_USEC_PER_SEC;
  gint64 rest = usec % G_USEC_PER_SEC;

  if (rest < 0)
    {
      rest += G_USEC_PER_SEC;
      seconds--;
    }

  write_timestamp (pk, seconds, (guint32) rest * 1000);
}

static void
write_object (msgpack_packer *pk,
              GObject        *object,
              guint           depth,
              guint           recursion)
{
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs = 0, n_readable = 0;

  if (!can_write_container (pk, depth, recursion))
    return;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    if (pspecs[i]->flags & G_PARAM_READABLE)
      n_readable++;

  msgpack_pack_map (pk, n_readable);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      if (!(pspecs[i]->flags & G_PARAM_READABLE))
        continue;

      write_string (pk, pspecs[i]->name);
      g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspecs[i]));
      g_object_get_property (object, pspecs[i]->name, &value);
      write_value_at (pk, &value, depth + 1, recursion + 1);
    }
}

static void
write_boxed (msgpack_packer *pk,
             GType           type,
             gpointer        boxed,
             guint           depth,
             guint           recursion)
{
  g_autoptr(JsonNode) node = NULL;

  if (boxed == NULL)
    msgpack_pack_nil (pk);
  else if (type == G_TYPE_STRV)
    {
      const char * const *strv = boxed;

      if (!can_write_container (pk, depth, recursion))
        return;
      msgpack_pack_array (pk, g_strv_length ((GStrv) strv));
      for (guint i = 0; strv[i] != NULL; i++)
        write_string (pk, strv[i]);
    }
  else if (type == G_TYPE_BYTES)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (boxed, &size);

      write_bin (pk, data, size);
    }
  else if (type == G_TYPE_BYTE_ARRAY)
    write_bin (pk, ((GByteArray *) boxed)->data, ((GByteArray *) boxed)->len);
  else if (type == G_TYPE_DATE_TIME)
    write_date_time (pk, boxed);
  else if ((node = hubs_boxed_to_node (type, boxed)) != NULL)
    write_node_at (pk, node, depth);
  else
    {
      g_warning ("Cannot write a value of type %s as MessagePack; writing nil instead",
                 g_type_name (type));
      msgpack_pack_nil (pk);
    }
}

static void
write_value_at (msgpack_packer *pk,
                const GValue   *value,
                guint           depth,
                guint           recursion)
{
  GType type;

  if (value == NULL || !G_IS_VALUE (value))
    {
      msgpack_pack_nil (pk);
      return;
    }

  type = G_VALUE_TYPE (value);

  /* Before the fundamental type: a GValue of an interface type with a
   * GObject prerequisite holds an object too. */
  if (g_type_is_a (type, G_TYPE_OBJECT))
    {
      GObject *object = g_value_get_object (value);

      if (object == NULL)
        msgpack_pack_nil (pk);
      else
        write_object (pk, object, depth, recursion);
      return;
    }

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_NONE:
      msgpack_pack_nil (pk);
      break;
    case G_TYPE_BOOLEAN:
      if (g_value_get_boolean (value))
        msgpack_pack_true (pk);
      else
        msgpack_pack_false (pk);
      break;
    case G_TYPE_CHAR:
      msgpack_pack_int64 (pk, g_value_get_schar (value));
      break;
    case G_TYPE_UCHAR:
      msgpack_pack_uint64 (pk, g_value_get_uchar (value));
      break;
    case G_TYPE_INT:
      msgpack_pack_int64 (pk, g_value_get_int (value));
      break;
    case G_TYPE_UINT:
      msgpack_pack_uint64 (pk, g_value_get_uint (value));
      break;
    case G_TYPE_LONG:
      msgpack_pack_int64 (pk, g_value_get_long (value));
      break;
    case G_TYPE_ULONG:
      msgpack_pack_uint64 (pk, g_value_get_ulong (value));
      break;
    case G_TYPE_INT64:
      msgpack_pack_int64 (pk, g_value_get_int64 (value));
      break;
    case G_TYPE_UINT64:
      msgpack_pack_uint64 (pk, g_value_get_uint64 (value));
      break;
    case G_TYPE_ENUM:
      msgpack_pack_int64 (pk, g_value_get_enum (value));
      break;
    case G_TYPE_FLAGS:
      msgpack_pack_uint64 (pk, g_value_get_flags (value));
      break;
    case G_TYPE_FLOAT:
      msgpack_pack_float (pk, g_value_get_float (value));
      break;
    case G_TYPE_DOUBLE:
      msgpack_pack_double (pk, g_value_get_double (value));
      break;
    case G_TYPE_STRING:
      write_string (pk, g_value_get_string (value));
      break;
    case G_TYPE_VARIANT:
      if (g_value_get_variant (value) == NULL)
        msgpack_pack_nil (pk);
      else
        write_variant_at (pk, g_value_get_variant (value), depth, recursion);
      break;
    case G_TYPE_BOXED:
      write_boxed (pk, type, g_value_get_boxed (value), depth, recursion);
      break;
    default:
      g_warning ("Cannot write a value of type %s as MessagePack; writing nil instead",
                 g_type_name (type));
      msgpack_pack_nil (pk);
      break;
    }
}

void
hubs_msgpack_write_value (msgpack_packer *packer,
                          const GValue   *value)
{
  g_return_if_fail (packer != NULL);

  write_value_at (packer, value, 0, 0);
}

static void
write_variant_children (msgpack_packer *pk,
                        GVariant       *variant,
                        guint           depth,
                        guint           recursion)
{
  gsize n = g_variant_n_children (variant);

  msgpack_pack_array (pk, n);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (variant, i);

      write_variant_at (pk, child, depth + 1, recursion + 1);
    }
}

static void
write_variant_at (msgpack_packer *pk,
                  GVariant       *variant,
                  guint           depth,
                  guint           recursion)
{
  switch (g_variant_classify (variant))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      if (g_variant_get_boolean (variant))
        msgpack_pack_true (pk);
      else
        msgpack_pack_false (pk);
      break;
    case G_VARIANT_CLASS_BYTE:
      msgpack_pack_uint64 (pk, g_variant_get_byte (variant));
      break;
    case G_VARIANT_CLASS_INT16:
      msgpack_pack_int64 (pk, g_variant_get_int16 (variant));
      break;
    case G_VARIANT_CLASS_UINT16:
      msgpack_pack_uint64 (pk, g_variant_get_uint16 (variant));
      break;
    case G_VARIANT_CLASS_INT32:
      msgpack_pack_int64 (pk, g_variant_get_int32 (variant));
      break;
    case G_VARIANT_CLASS_HANDLE:
      msgpack_pack_int64 (pk, g_variant_get_handle (variant));
      break;
    case G_VARIANT_CLASS_UINT32:
      msgpack_pack_uint64 (pk, g_variant_get_uint32 (variant));
      break;
    case G_VARIANT_CLASS_INT64:
      msgpack_pack_int64 (pk, g_variant_get_int64 (variant));
      break;
    case G_VARIANT_CLASS_UINT64:
      msgpack_pack_uint64 (pk, g_variant_get_uint64 (variant));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      msgpack_pack_double (pk, g_variant_get_double (variant));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      {
        gsize length;
        const char *str = g_variant_get_string (variant, &length);

        write_string_len (pk, str, length);
      }
      break;
    case G_VARIANT_CLASS_VARIANT:
    case G_VARIANT_CLASS_MAYBE:
      if (recursion >= MAX_RECURSION)
        can_write_container (pk, depth, recursion);
      else if (g_variant_n_children (variant) == 0)
        msgpack_pack_nil (pk);
      else
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (variant, 0);

          write_variant_at (pk, child, depth, recursion + 1);
        }
      break;
    case G_VARIANT_CLASS_ARRAY:
      {
        const GVariantType *element = g_variant_type_element (g_variant_get_type (variant));

        if (g_variant_type_equal (element, G_VARIANT_TYPE_BYTE))
          {
            gsize size;
            const guint8 *data = g_variant_get_fixed_array (variant, &size, 1);

            write_bin (pk, data, size);
          }
        else if (!can_write_container (pk, depth, recursion))
          break;
        else if (g_variant_type_is_dict_entry (element))
          {
            /* MessagePack maps take keys of any type. */
            gsize n = g_variant_n_children (variant);

            msgpack_pack_map (pk, n);
            for (gsize i = 0; i < n; i++)
              {
                g_autoptr(GVariant) entry = g_variant_get_child_value (variant, i);
                g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
                g_autoptr(GVariant) value = g_variant_get_child_value (entry, 1);

                write_variant_at (pk, key, depth + 1, recursion + 1);
                write_variant_at (pk, value, depth + 1, recursion + 1);
              }
          }
        else
          write_variant_children (pk, variant, depth, recursion);
      }
      break;
    case G_VARIANT_CLASS_TUPLE:
      if (g_variant_is_of_type (variant, TIMESTAMP_TYPE))
        {
          gint64 seconds;
          guint32 nanoseconds;

          g_variant_get (variant, "(xu)", &seconds, &nanoseconds);
          write_timestamp (pk, seconds, MIN (nanoseconds, 999999999));
        }
      else if (can_write_container (pk, depth, recursion))
        write_variant_children (pk, variant, depth, recursion);
      break;
    case G_VARIANT_CLASS_DICT_ENTRY:
      if (can_write_container (pk, depth, recursion))
        write_variant_children (pk, variant, depth, recursion);
      break;
    default:
      g_assert_not_reached ();
    }
}

void
hubs_msgpack_write_variant (msgpack_packer *packer,
                            GVariant       *variant)
{
  g_return_if_fail (packer != NULL);

  if (variant == NULL)
    msgpack_pack_nil (packer);
  else
    write_variant_at (packer, variant, 0, 0);
}

static void
write_node_at (msgpack_packer *pk,
               JsonNode       *node,
               guint           depth)
{
  if (node == NULL)
    {
      msgpack_pack_nil (pk);
      return;
    }

  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        if (!can_write_container (pk, depth, 0))
          break;

        msgpack_pack_map (pk, json_object_get_size (object));
        json_object_iter_init_ordered (&iter, object);
        while (json_object_iter_next_ordered (&iter, &name, &member))
          {
            write_string (pk, name);
            write_node_at (pk, member, depth + 1);
          }
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint n = json_array_get_length (array);

        if (!can_write_container (pk, depth, 0))
          break;

        msgpack_pack_array (pk, n);
        for (guint i = 0; i < n; i++)
          write_node_at (pk, json_array_get_element (array, i), depth + 1);
      }
      break;

    case JSON_NODE_VALUE:
      {
        GType type = json_node_get_value_type (node);

        if (type == G_TYPE_INT64)
          msgpack_pack_int64 (pk, json_node_get_int (node));
        else if (type == G_TYPE_DOUBLE)
          msgpack_pack_double (pk, json_node_get_double (node));
        else if (type == G_TYPE_BOOLEAN)
          {
            if (json_node_get_boolean (node))
              msgpack_pack_true (pk);
            else
              msgpack_pack_false (pk);
          }
        else if (type == G_TYPE_STRING)
          write_string (pk, json_node_get_string (node));
        else
          msgpack_pack_nil (pk);
      }
      break;

    case JSON_NODE_NULL:
    default:
      msgpack_pack_nil (pk);
      break;
    }
}
