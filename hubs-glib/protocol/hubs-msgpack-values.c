/* hubs-msgpack-values.c: GValues as MessagePack and back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one place that decides how a GType looks in MessagePack. The mapping
 * is the JSON one (hubs-json-values.c) wherever MessagePack has the same
 * kind of value, so that the same hub code serves both protocols; it
 * differs where MessagePack-CSharp, SignalR's serializer, differs from
 * System.Text.Json:
 *
 * | GType                 | MessagePack                                   |
 * |-----------------------|-----------------------------------------------|
 * | gboolean              | true, false                                   |
 * | integers              | int or uint within the type's range           |
 * | enums                 | the value; read also by nick or name          |
 * | flags                 | the value                                     |
 * | gfloat, gdouble       | float 32, float 64 (read also from integers)  |
 * | utf8                  | str or nil                                    |
 * | GStrv                 | array of str or nil                           |
 * | GBytes, GByteArray    | bin (read also from str) or nil               |
 * | GDateTime             | the timestamp extension (type -1) or nil      |
 * | GVariant              | see below                                     |
 * | JsonNode, JsonObject, JsonArray | maps, arrays and scalars            |
 * | GObject               | map of its properties, or nil                 |
 * | other boxed types     | through json-glib's boxed serialization       |
 *
 * Properties are keyed by their names as written, without JSON's camelCase
 * (MessagePack-CSharp writes member names as declared); reading matches
 * them as the JSON side does, ignoring case, '-' and '_'.
 *
 * A GVariant declared without a type takes any value: nil is a NULL
 * variant (inside a container, `@mv nothing`), booleans are `b`, integers
 * `x` (`t` past G_MAXINT64), floats `d`, str `s`, bin `ay`, arrays `av`,
 * maps with str keys `a{sv}`, and a timestamp `(xu)` (seconds since the
 * epoch, nanoseconds), so that a value passed through keeps its wire type.
 * Writing is the JSON side's, except that `ay` is bin, `(xu)` the timestamp
 * extension, and dictionaries with other keys are maps too.
 */

#include <float.h>
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <msgpack/timestamp.h>

#include "hubs-error.h"
#include "hubs-msgpack-private.h"

#define TIMESTAMP_TYPE HUBS_MSGPACK_TIMESTAMP_VARIANT_TYPE

/* Binding */

static gboolean bind_gtype (const msgpack_object *o, GType type,
                            const GVariantType *variant_type, GValue *value);
static GVariant *bind_variant (const msgpack_object *o, const GVariantType *type);

static inline msgpack_object_type
kind_of (const msgpack_object *o)
{
  return o == NULL ? MSGPACK_OBJECT_NIL : o->type;
}

char *
hubs_msgpack_dup_string (const msgpack_object *o)
{
  if (kind_of (o) != MSGPACK_OBJECT_STR)
    return NULL;
  /* An empty str may come without a pointer. */
  if (o->via.str.size == 0)
    return g_strdup ("");
  if (memchr (o->via.str.ptr, '\0', o->via.str.size) != NULL)
    return NULL;
  /* .NET decodes bad UTF-8 as U+FFFD rather than failing. */
  if (!g_utf8_validate_len (o->via.str.ptr, o->via.str.size, NULL))
    return g_utf8_make_valid (o->via.str.ptr, o->via.str.size);
  return g_strndup (o->via.str.ptr, o->via.str.size);
}

static gboolean
get_int64 (const msgpack_object *o,
           gint64               *value)
{
  switch (kind_of (o))
    {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      if (o->via.u64 > G_MAXINT64)
        return FALSE;
      *value = (gint64) o->via.u64;
      return TRUE;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      *value = o->via.i64;
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
get_uint64 (const msgpack_object *o,
            guint64              *value)
{
  if (kind_of (o) != MSGPACK_OBJECT_POSITIVE_INTEGER)
    return FALSE;
  *value = o->via.u64;
  return TRUE;
}

static gboolean
get_bounded_int (const msgpack_object *o,
                 gint64                min,
                 gint64                max,
                 gint64               *value)
{
  return get_int64 (o, value) && *value >= min && *value <= max;
}

static gboolean
get_bounded_uint (const msgpack_object *o,
                  guint64               max,
                  guint64              *value)
{
  return get_uint64 (o, value) && *value <= max;
}

/* Floats, and integers as MessagePack-CSharp's ReadDouble takes them. */
static gboolean
get_double (const msgpack_object *o,
            double               *value)
{
  switch (kind_of (o))
    {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      *value = o->via.f64;
      return TRUE;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      *value = (double) o->via.u64;
      return TRUE;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      *value = (double) o->via.i64;
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
get_timestamp (const msgpack_object *o,
               gint64               *seconds,
               guint32              *nanoseconds)
{
  msgpack_timestamp ts;

  if (kind_of (o) != MSGPACK_OBJECT_EXT || o->via.ext.type != HUBS_MSGPACK_EXT_TIMESTAMP)
    return FALSE;
  /* msgpack_object_to_timestamp() checks only the size. */
  if (!msgpack_object_to_timestamp (o, &ts) || ts.tv_nsec > 999999999)
    return FALSE;

  *seconds = ts.tv_sec;
  *nanoseconds = ts.tv_nsec;
  return TRUE;
}

/* GDateTime keeps microseconds: the rest of the nanoseconds is dropped. */
static GDateTime *
date_time_from_timestamp (gint64  seconds,
                          guint32 nanoseconds)
{
  g_autoptr(GDateTime) whole = g_date_time_new_from_unix_utc (seconds);

  if (whole == NULL)
    return NULL;
  return g_date_time_add (whole, nanoseconds / 1000);
}

static GBytes *
get_bytes (const msgpack_object *o)
{
  switch (kind_of (o))
    {
    case MSGPACK_OBJECT_BIN:
      return g_bytes_new (o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_STR:
      /* The old format's raw, which MessagePack-CSharp still reads as bytes. */
      return g_bytes_new (o->via.str.ptr, o->via.str.size);
    default:
      return NULL;
    }
}

/* A json-glib copy of @o: bin as base64 and timestamps as ISO 8601 text, as
 * the JSON protocol would have carried them. */
static JsonNode *
object_to_node (const msgpack_object *o)
{
  g_autoptr(JsonNode) node = NULL;

  switch (kind_of (o))
    {
    case MSGPACK_OBJECT_NIL:
      return json_node_new (JSON_NODE_NULL);

    case MSGPACK_OBJECT_BOOLEAN:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_boolean (node, o->via.boolean);
      break;

    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      {
        gint64 i;
        double d;

        node = json_node_new (JSON_NODE_VALUE);
        if (get_int64 (o, &i))
          json_node_set_int (node, i);
        else if (get_double (o, &d) && isfinite (d))
          json_node_set_double (node, d);
        else
          return NULL;
      }
      break;

    case MSGPACK_OBJECT_STR:
      {
        g_autofree char *str = hubs_msgpack_dup_string (o);

        if (str == NULL)
          return NULL;
        node = json_node_new (JSON_NODE_VALUE);
        json_node_set_string (node, str);
      }
      break;

    case MSGPACK_OBJECT_BIN:
      {
        g_autofree char *str = g_base64_encode ((const guchar *) o->via.bin.ptr, o->via.bin.size);

        node = json_node_new (JSON_NODE_VALUE);
        json_node_set_string (node, str);
      }
      break;

    case MSGPACK_OBJECT_EXT:
      {
        g_autoptr(GDateTime) date_time = NULL;
        g_autofree char *str = NULL;
        gint64 seconds;
        guint32 nanoseconds;

        if (!get_timestamp (o, &seconds, &nanoseconds) ||
            (date_time = date_time_from_timestamp (seconds, nanoseconds)) == NULL)
          return NULL;
        str = g_date_time_format_iso8601 (date_time);
        node = json_node_new (JSON_NODE_VALUE);
        json_node_set_string (node, str);
      }
      break;

    case MSGPACK_OBJECT_ARRAY:
      {
        g_autoptr(JsonArray) array = json_array_sized_new (o->via.array.size);

        for (guint32 i = 0; i < o->via.array.size; i++)
          {
            JsonNode *child = object_to_node (&o->via.array.ptr[i]);

            if (child == NULL)
              return NULL;
            json_array_add_element (array, child);
          }
        node = json_node_new (JSON_NODE_ARRAY);
        json_node_set_array (node, array);
      }
      break;

    case MSGPACK_OBJECT_MAP:
      {
        g_autoptr(JsonObject) object = json_object_new ();

        for (guint32 i = 0; i < o->via.map.size; i++)
          {
            g_autofree char *name = hubs_msgpack_dup_string (&o->via.map.ptr[i].key);
            JsonNode *child;

            if (name == NULL)
              return NULL;
            child = object_to_node (&o->via.map.ptr[i].val);
            if (child == NULL)
              return NULL;
            json_object_set_member (object, name, child);
          }
        node = json_node_new (JSON_NODE_OBJECT);
        json_node_set_object (node, object);
      }
      break;

    default:
      return NULL;
    }

  return g_steal_pointer (&node);
}

/* Any value; nil becomes `@mv nothing`. Returns a floating reference, or
 * NULL if the value has no GVariant form. */
static GVariant *
bind_natural_variant (const msgpack_object *o)
{
  switch (kind_of (o))
    {
    case MSGPACK_OBJECT_NIL:
      return g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL);

    case MSGPACK_OBJECT_BOOLEAN:
      return g_variant_new_boolean (o->via.boolean);

    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      if (o->via.u64 > G_MAXINT64)
        return g_variant_new_uint64 (o->via.u64);
      return g_variant_new_int64 ((gint64) o->via.u64);

    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      return g_variant_new_int64 (o->via.i64);

    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      return g_variant_new_double (o->via.f64);

    case MSGPACK_OBJECT_STR:
      {
        char *str = hubs_msgpack_dup_string (o);

        return str != NULL ? g_variant_new_take_string (str) : NULL;
      }

    case MSGPACK_OBJECT_BIN:
      return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, o->via.bin.ptr, o->via.bin.size, 1);

    case MSGPACK_OBJECT_EXT:
      {
        gint64 seconds;
        guint32 nanoseconds;

        if (!get_timestamp (o, &seconds, &nanoseconds))
          return NULL;
        return g_variant_new ("(xu)", seconds, nanoseconds);
      }

    case MSGPACK_OBJECT_ARRAY:
      {
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));

        for (guint32 i = 0; i < o->via.array.size; i++)
          {
            GVariant *child = bind_natural_variant (&o->via.array.ptr[i]);

            if (child == NULL)
              return NULL;
            g_variant_builder_add_value (&builder, g_variant_new_variant (child));
          }
        return g_variant_builder_end (&builder);
      }

    case MSGPACK_OBJECT_MAP:
      {
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

        for (guint32 i = 0; i < o->via.map.size; i++)
          {
            char *name = hubs_msgpack_dup_string (&o->via.map.ptr[i].key);
            GVariant *child;

            if (name == NULL)
              return NULL;
            child = bind_natural_variant (&o->via.map.ptr[i].val);
            if (child == NULL)
              {
                g_free (name);
                return NULL;
              }
            g_variant_builder_add_value (&builder,
                                         g_variant_new_dict_entry (g_variant_new_take_string (name),
                                                                   g_variant_new_variant (child)));
          }
        return g_variant_builder_end (&builder);
      }

    default:
      return NULL;
    }
}

/* Basic types, numbers by range. Returns a floating reference or NULL. */
static GVariant *
bind_basic_variant (const msgpack_object *o,
                    const GVariantType   *type)
{
  gint64 i;
  guint64 u;
  double d;

  switch (g_variant_type_peek_string (type)[0])
    {
    case 'b':
      return kind_of (o) == MSGPACK_OBJECT_BOOLEAN ? g_variant_new_boolean (o->via.boolean) : NULL;
    case 'y':
      return get_bounded_uint (o, G_MAXUINT8, &u) ? g_variant_new_byte ((guint8) u) : NULL;
    case 'n':
      return get_bounded_int (o, G_MININT16, G_MAXINT16, &i) ? g_variant_new_int16 ((gint16) i) : NULL;
    case 'q':
      return get_bounded_uint (o, G_MAXUINT16, &u) ? g_variant_new_uint16 ((guint16) u) : NULL;
    case 'i':
      return get_bounded_int (o, G_MININT32, G_MAXINT32, &i) ? g_variant_new_int32 ((gint32) i) : NULL;
    case 'h':
      return get_bounded_int (o, G_MININT32, G_MAXINT32, &i) ? g_variant_new_handle ((gint32) i) : NULL;
    case 'u':
      return get_bounded_uint (o, G_MAXUINT32, &u) ? g_variant_new_uint32 ((guint32) u) : NULL;
    case 'x':
      return get_int64 (o, &i) ? g_variant_new_int64 (i) : NULL;
    case 't':
      return get_uint64 (o, &u) ? g_variant_new_uint64 (u) : NULL;
    case 'd':
      return get_double (o, &d) ? g_variant_new_double (d) : NULL;
    case 's':
    case 'o':
    case 'g':
      {
        g_autofree char *str = hubs_msgpack_dup_string (o);

        if (str == NULL)
          return NULL;
        if (g_variant_type_equal (type, G_VARIANT_TYPE_STRING))
          return g_variant_new_take_string (g_steal_pointer (&str));
        if (g_variant_type_equal (type, G_VARIANT_TYPE_OBJECT_PATH))
          return g_variant_is_object_path (str) ? g_variant_new_object_path (str) : NULL;
        return g_variant_is_signature (str) ? g_variant_new_signature (str) : NULL;
      }
    default:
      return NULL;
    }
}

/* A dictionary key: of its own type, or as text, the way JSON carries keys
 * that are not strings. */
static GVariant *
bind_key (const msgpack_object *o,
          const GVariantType   *type)
{
  GVariant *key = bind_basic_variant (o, type);
  g_autofree char *text = NULL;
  char c;

  if (key != NULL || kind_of (o) != MSGPACK_OBJECT_STR)
    return key;

  text = hubs_msgpack_dup_string (o);
  if (text == NULL || text[0] == '\0' || g_ascii_isspace (text[0]))
    return NULL;

  c = g_variant_type_peek_string (type)[0];
  if (c == 'b')
    {
      if (g_ascii_strcasecmp (text, "true") == 0)
        return g_variant_new_boolean (TRUE);
      if (g_ascii_strcasecmp (text, "false") == 0)
        return g_variant_new_boolean (FALSE);
      return NULL;
    }
  if (c == 'd')
    {
      char *end = NULL;
      double d = g_ascii_strtod (text, &end);

      return *end == '\0' && isfinite (d) ? g_variant_new_double (d) : NULL;
    }
  if (strchr ("ynqihuxt", c) != NULL)
    {
      msgpack_object number = { 0, };
      gint64 i;
      guint64 u;

      if (text[0] == '-')
        {
          if (!g_ascii_string_to_signed (text, 10, G_MININT64, -1, &i, NULL))
            return NULL;
          number.type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
          number.via.i64 = i;
        }
      else
        {
          if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &u, NULL))
            return NULL;
          number.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
          number.via.u64 = u;
        }
      return bind_basic_variant (&number, type);
    }

  return NULL;
}

static GVariant *
bind_dictionary (const msgpack_object *o,
                 const GVariantType   *type)
{
  const GVariantType *entry_type = g_variant_type_element (type);
  const GVariantType *key_type = g_variant_type_key (entry_type);
  const GVariantType *value_type = g_variant_type_value (entry_type);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);

  switch (kind_of (o))
    {
    case MSGPACK_OBJECT_MAP:
      for (guint32 i = 0; i < o->via.map.size; i++)
        {
          GVariant *k, *v;

          k = bind_key (&o->via.map.ptr[i].key, key_type);
          if (k == NULL)
            return NULL;
          v = bind_variant (&o->via.map.ptr[i].val, value_type);
          if (v == NULL)
            {
              g_variant_unref (g_variant_ref_sink (k));
              return NULL;
            }
          g_variant_builder_add_value (&builder, g_variant_new_dict_entry (k, v));
        }
      return g_variant_builder_end (&builder);

    case MSGPACK_OBJECT_ARRAY:
      /* What the JSON side writes such a dictionary as. */
      for (guint32 i = 0; i < o->via.array.size; i++)
        {
          GVariant *entry = bind_variant (&o->via.array.ptr[i], entry_type);

          if (entry == NULL)
            return NULL;
          g_variant_builder_add_value (&builder, entry);
        }
      return g_variant_builder_end (&builder);

    default:
      return NULL;
    }
}

/* Exactly @type, or NULL. Returns a floating reference. */
static GVariant *
bind_variant (const msgpack_object *o,
              const GVariantType   *type)
{
  msgpack_object_type kind = kind_of (o);

  if (!g_variant_type_is_definite (type))
    {
      GVariant *natural = bind_natural_variant (o);

      if (natural != NULL && !g_variant_is_of_type (natural, type))
        {
          g_variant_unref (g_variant_ref_sink (natural));
          return NULL;
        }
      return natural;
    }

  if (g_variant_type_is_basic (type))
    return bind_basic_variant (o, type);

  if (g_variant_type_is_variant (type))
    {
      GVariant *natural = bind_natural_variant (o);

      return natural != NULL ? g_variant_new_variant (natural) : NULL;
    }

  if (g_variant_type_is_maybe (type))
    {
      const GVariantType *element = g_variant_type_element (type);
      GVariant *child;

      if (kind == MSGPACK_OBJECT_NIL)
        return g_variant_new_maybe (element, NULL);
      child = bind_variant (o, element);
      return child != NULL ? g_variant_new_maybe (element, child) : NULL;
    }

  if (g_variant_type_is_array (type))
    {
      const GVariantType *element = g_variant_type_element (type);

      if (g_variant_type_equal (element, G_VARIANT_TYPE_BYTE) && kind != MSGPACK_OBJECT_ARRAY)
        {
          g_autoptr(GBytes) bytes = get_bytes (o);

          if (bytes == NULL)
            return NULL;
          return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
        }

      if (g_variant_type_is_dict_entry (element))
        return bind_dictionary (o, type);

      if (kind != MSGPACK_OBJECT_ARRAY)
        return NULL;

      {
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);

        for (guint32 i = 0; i < o->via.array.size; i++)
          {
            GVariant *child = bind_variant (&o->via.array.ptr[i], element);

            if (child == NULL)
              return NULL;
            g_variant_builder_add_value (&builder, child);
          }
        return g_variant_builder_end (&builder);
      }
    }

  if (g_variant_type_equal (type, TIMESTAMP_TYPE) && kind == MSGPACK_OBJECT_EXT)
    {
      gint64 seconds;
      guint32 nanoseconds;

      if (!get_timestamp (o, &seconds, &nanoseconds))
        return NULL;
      return g_variant_new ("(xu)", seconds, nanoseconds);
    }

  if (g_variant_type_is_tuple (type) || g_variant_type_is_dict_entry (type))
    {
      gsize n = g_variant_type_n_items (type);
      const GVariantType *item_type;
      GVariant **children;
      GVariant *result;

      if (kind != MSGPACK_OBJECT_ARRAY || o->via.array.size != n)
        return NULL;

      children = g_new0 (GVariant *, MAX (n, 1));
      item_type = g_variant_type_first (type);
      for (gsize i = 0; i < n; i++)
        {
          children[i] = bind_variant (&o->via.array.ptr[i], item_type);
          if (children[i] == NULL)
            {
              hubs_variant_children_free (children, i);
              return NULL;
            }
          item_type = g_variant_type_next (item_type);
        }

      /* A dictionary entry's key must be basic; the type said so already. */
      if (g_variant_type_is_dict_entry (type))
        result = g_variant_new_dict_entry (children[0], children[1]);
      else
        result = g_variant_new_tuple (children, n);
      g_free (children);
      return result;
    }

  return NULL;
}

static gboolean
bind_enum (const msgpack_object *o,
           GType                 type,
           GValue               *value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  const GEnumValue *member = NULL;
  gint64 i;

  if (kind_of (o) == MSGPACK_OBJECT_STR)
    {
      g_autofree char *str = hubs_msgpack_dup_string (o);

      if (str != NULL)
        member = hubs_enum_member_lookup (klass, str);
    }
  else if (get_bounded_int (o, G_MININT, G_MAXINT, &i))
    {
      /* Only declared values: C code switches on them. */
      member = g_enum_get_value (klass, (int) i);
    }

  return hubs_bind_enum_member (type, member, value);
}

static gboolean
bind_flags (const msgpack_object *o,
            GType                 type,
            GValue               *value)
{
  guint64 u;

  return get_bounded_uint (o, G_MAXUINT, &u) && hubs_bind_flags_bits (type, u, value);
}

static JsonNode *
msgpack_value_to_node (gconstpointer source)
{
  return object_to_node (source);
}

/* JsonNode, JsonObject, JsonArray and json-glib's boxed types. */
static gboolean
bind_boxed_from_node (const msgpack_object *o,
                      GType                 type,
                      GValue               *value)
{
  msgpack_object_type kind = kind_of (o);

  return hubs_bind_boxed_from_node (type,
                                    kind == MSGPACK_OBJECT_MAP ? JSON_NODE_OBJECT :
                                    kind == MSGPACK_OBJECT_ARRAY ? JSON_NODE_ARRAY : JSON_NODE_VALUE,
                                    msgpack_value_to_node, o, value);
}

static gboolean
bind_boxed (const msgpack_object *o,
            GType                 type,
            GValue               *value)
{
  msgpack_object_type kind = kind_of (o);
  gpointer boxed = NULL;

  if (type == JSON_TYPE_NODE)
    return bind_boxed_from_node (o, type, value);
  else if (kind == MSGPACK_OBJECT_NIL)
    {
      /* Nil is a NULL pointer for every other boxed type, provided
       * json-glib would know the type when it is not nil. */
      if (!hubs_boxed_accepts_null (type))
        return FALSE;
    }
  else if (type == G_TYPE_STRV)
    {
      g_autoptr(GPtrArray) strings = NULL;

      if (kind != MSGPACK_OBJECT_ARRAY)
        return FALSE;

      strings = g_ptr_array_new_full (o->via.array.size + 1, g_free);
      for (guint32 i = 0; i < o->via.array.size; i++)
        {
          char *str = hubs_msgpack_dup_string (&o->via.array.ptr[i]);

          if (str == NULL)
            return FALSE;
          g_ptr_array_add (strings, str);
        }
      g_ptr_array_add (strings, NULL);
      boxed = g_ptr_array_free (g_steal_pointer (&strings), FALSE);
    }
  else if (type == G_TYPE_BYTES || type == G_TYPE_BYTE_ARRAY)
    {
      GBytes *bytes = get_bytes (o);

      if (bytes == NULL)
        return FALSE;
      boxed = type == G_TYPE_BYTES ? (gpointer) bytes : (gpointer) g_bytes_unref_to_array (bytes);
    }
  else if (type == G_TYPE_DATE_TIME)
    {
      gint64 seconds;
      guint32 nanoseconds;

      if (!get_timestamp (o, &seconds, &nanoseconds))
        return FALSE;
      boxed = date_time_from_timestamp (seconds, nanoseconds);
      if (boxed == NULL)
        return FALSE;
    }
  else
    return bind_boxed_from_node (o, type, value);

  g_value_init (value, type);
  g_value_take_boxed (value, boxed);
  return TRUE;
}

static gboolean
bind_object (const msgpack_object *o,
             GType                 type,
             GValue               *value)
{
  HubsObjectBuilder builder;
  gboolean ok = TRUE;

  if (!hubs_object_type_is_bindable (type))
    return FALSE;

  if (kind_of (o) == MSGPACK_OBJECT_NIL)
    {
      g_value_init (value, type);
      return TRUE;
    }
  if (kind_of (o) != MSGPACK_OBJECT_MAP)
    return FALSE;

  hubs_object_builder_init (&builder, type);
  for (guint32 i = 0; ok && i < o->via.map.size; i++)
    {
      g_autofree char *name = hubs_msgpack_dup_string (&o->via.map.ptr[i].key);
      HubsParamType property_type;
      GParamSpec *pspec;
      GValue *slot;

      if (name == NULL ||
          (slot = hubs_object_builder_slot (&builder, name, &property_type, &pspec)) == NULL)
        continue;

      ok = bind_gtype (&o->via.map.ptr[i].val, property_type.type, property_type.variant_type, slot);

      /* Out of the property's range: GObject would clamp it and warn. */
      if (ok && g_param_value_validate (pspec, slot))
        ok = FALSE;
    }

  if (ok)
    hubs_object_builder_finish (&builder, value);
  hubs_object_builder_clear (&builder);
  return ok;
}

static gboolean
bind_gtype (const msgpack_object *o,
            GType                 type,
            const GVariantType   *variant_type,
            GValue               *value)
{
  msgpack_object_type kind = kind_of (o);
  gint64 i;
  guint64 u;
  double d;

  /* Abstract types (G_TYPE_ENUM, G_TYPE_BOXED, …) have no values. */
  if (G_TYPE_IS_ABSTRACT (type))
    return FALSE;

  if (g_type_is_a (type, G_TYPE_OBJECT))
    return bind_object (o, type, value);

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      if (kind != MSGPACK_OBJECT_BOOLEAN)
        return FALSE;
      g_value_init (value, type);
      g_value_set_boolean (value, o->via.boolean);
      return TRUE;

    case G_TYPE_CHAR:
      if (!get_bounded_int (o, G_MININT8, G_MAXINT8, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_schar (value, (gint8) i);
      return TRUE;

    case G_TYPE_UCHAR:
      if (!get_bounded_uint (o, G_MAXUINT8, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_uchar (value, (guchar) u);
      return TRUE;

    case G_TYPE_INT:
      if (!get_bounded_int (o, G_MININT, G_MAXINT, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_int (value, (int) i);
      return TRUE;

    case G_TYPE_UINT:
      if (!get_bounded_uint (o, G_MAXUINT, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_uint (value, (guint) u);
      return TRUE;

    case G_TYPE_LONG:
      if (!get_bounded_int (o, G_MINLONG, G_MAXLONG, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_long (value, (glong) i);
      return TRUE;

    case G_TYPE_ULONG:
      if (!get_bounded_uint (o, G_MAXULONG, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_ulong (value, (gulong) u);
      return TRUE;

    case G_TYPE_INT64:
      if (!get_int64 (o, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_int64 (value, i);
      return TRUE;

    case G_TYPE_UINT64:
      if (!get_uint64 (o, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_uint64 (value, u);
      return TRUE;

    case G_TYPE_ENUM:
      return bind_enum (o, type, value);

    case G_TYPE_FLAGS:
      return bind_flags (o, type, value);

    case G_TYPE_FLOAT:
      if (!get_double (o, &d) || (isfinite (d) && (d > FLT_MAX || d < -FLT_MAX)))
        return FALSE;
      g_value_init (value, type);
      g_value_set_float (value, (float) d);
      return TRUE;

    case G_TYPE_DOUBLE:
      if (!get_double (o, &d))
        return FALSE;
      g_value_init (value, type);
      g_value_set_double (value, d);
      return TRUE;

    case G_TYPE_STRING:
      {
        char *str = NULL;

        if (kind == MSGPACK_OBJECT_STR)
          {
            str = hubs_msgpack_dup_string (o);
            if (str == NULL)
              return FALSE;
          }
        else if (kind != MSGPACK_OBJECT_NIL)
          return FALSE;
        g_value_init (value, type);
        g_value_take_string (value, str);
        return TRUE;
      }

    case G_TYPE_VARIANT:
      {
        GVariant *variant = NULL;

        /* Nil is a NULL variant, except where the type itself says what
         * nil means. */
        if (kind != MSGPACK_OBJECT_NIL ||
            (variant_type != NULL && g_variant_type_is_maybe (variant_type)))
          {
            if (variant_type == NULL)
              variant = bind_natural_variant (o);
            else
              variant = bind_variant (o, variant_type);
            if (variant == NULL)
              return FALSE;
          }
        g_value_init (value, type);
        g_value_take_variant (value, variant);
        return TRUE;
      }

    case G_TYPE_BOXED:
      return bind_boxed (o, type, value);

    default:
      return FALSE;
    }
}

gboolean
hubs_msgpack_bind_value (const msgpack_object  *object,
                         const HubsParamType   *type,
                         GValue                *value,
                         GError               **error)
{
  g_return_val_if_fail (type != NULL, FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!bind_gtype (object, type->type, type->variant_type, value))
    {
      g_autofree char *name = hubs_param_type_describe (type);

      g_set_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED,
                   "The MessagePack value could not be converted to %s.", name);
      return FALSE;
    }

  return TRUE;
}
