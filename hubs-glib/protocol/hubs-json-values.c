/* hubs-json-values.c: GValues as JSON and back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one place that decides how a GType looks in JSON. The mapping follows
 * System.Text.Json with SignalR's settings (camelCase properties written,
 * case-insensitive properties read, byte arrays as base64, dates as
 * ISO 8601, at most 64 levels), translated to GLib types:
 *
 * | GType                 | JSON                                          |
 * |-----------------------|-----------------------------------------------|
 * | gboolean              | true, false                                   |
 * | integers              | integers within the type's range              |
 * | enums                 | the value; read also by nick or name          |
 * | flags                 | the value                                     |
 * | gfloat, gdouble       | numbers                                       |
 * | utf8                  | string or null                                |
 * | GStrv                 | array of strings or null                      |
 * | GBytes, GByteArray    | base64 string or null                         |
 * | GDateTime             | ISO 8601 string or null                       |
 * | GVariant              | see below                                     |
 * | JsonNode, JsonObject, JsonArray | themselves                          |
 * | GObject               | object of its properties, or null             |
 * | other boxed types     | through json-glib's boxed serialization       |
 *
 * A GVariant declared without a type takes any JSON value: null is a NULL
 * variant (inside a container, `@mv nothing`), booleans are `b`, integers
 * `x` (`t` past G_MAXINT64, `d` past G_MAXUINT64), other numbers `d`,
 * strings `s`, arrays `av` and objects `a{sv}` in their order. A declared
 * variant type is bound exactly or not at all. Writing: integer types are
 * integers, `d` numbers, `s` `o` `g` strings, `v` and `m` their content or
 * null, `ay` base64, `a{s*}`, `a{o*}` and `a{g*}` objects, other arrays and
 * tuples arrays, other dictionary entries `[key, value]`.
 *
 * GObjects implementing JsonSerializable are treated like any other: the
 * mapping has to be the same whichever protocol a connection speaks, and
 * json-glib's deserializer cannot report a value that does not fit.
 */

#include <float.h>
#include <math.h>
#include <string.h>

#include "hubs-error.h"
#include "hubs-json-private.h"

/* Recursion that writes nothing, such as a variant inside a variant, is
 * bounded separately from the JSON depth. */
#define MAX_RECURSION 256

/* Writing */

static void write_value_at (GByteArray *out, const GValue *value, guint depth, guint recursion);
static void write_variant_at (GByteArray *out, GVariant *variant, guint depth, guint recursion);
static void write_node_at (GByteArray *out, JsonNode *node, guint depth);

/* A container may start only below the depth limit; past it, and past the
 * recursion limit, the value is written as null, since System.Text.Json
 * would fail the whole message. */
static gboolean
can_write_container (GByteArray *out,
                     guint       depth,
                     guint       recursion)
{
  if (depth < HUBS_JSON_MAX_DEPTH && recursion < MAX_RECURSION)
    return TRUE;

  g_warning ("A value nests deeper than JSON's maximum depth of %d; writing null instead",
             HUBS_JSON_MAX_DEPTH);
  hubs_json_write_null (out);
  return FALSE;
}

static void
write_comma (GByteArray *out,
             gboolean   *first)
{
  if (!*first)
    g_byte_array_append (out, (const guint8 *) ",", 1);
  *first = FALSE;
}

/* "user-name" → "userName"; the first letter is kept as it is, as
 * JsonNamingPolicy.CamelCase would keep it for names already camelCased. */
static char *
camel_case_name (const char *name)
{
  GString *key = g_string_sized_new (strlen (name));
  gboolean upper_next = FALSE;

  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '-' || *p == '_')
        {
          upper_next = key->len > 0;
          continue;
        }
      g_string_append_c (key, upper_next ? g_ascii_toupper (*p) : *p);
      upper_next = FALSE;
    }

  return g_string_free (key, FALSE);
}

static void
write_object (GByteArray *out,
              GObject    *object,
              guint       depth,
              guint       recursion)
{
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs = 0;
  gboolean first = TRUE;

  if (!can_write_container (out, depth, recursion))
    return;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_pspecs);

  g_byte_array_append (out, (const guint8 *) "{", 1);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autofree char *key = NULL;

      if (!(pspecs[i]->flags & G_PARAM_READABLE))
        continue;

      key = camel_case_name (pspecs[i]->name);
      write_comma (out, &first);
      hubs_json_write_string (out, key);
      g_byte_array_append (out, (const guint8 *) ":", 1);

      g_value_init (&value, G_PARAM_SPEC_VALUE_TYPE (pspecs[i]));
      g_object_get_property (object, pspecs[i]->name, &value);
      write_value_at (out, &value, depth + 1, recursion + 1);
    }
  g_byte_array_append (out, (const guint8 *) "}", 1);
}

/* .NET writes DateTime (UTC) as "2000-01-01T00:00:00Z" and DateTimeOffset
 * as "2000-01-01T00:00:00+02:00", with a fraction only when there is one,
 * trailing zeros trimmed. */
/* @value in exactly @width decimal digits (zero-padded; @value fits). */
static gsize
put_digits (char *buf,
            gsize len,
            int   value,
            int   width)
{
  for (int i = width - 1; i >= 0; i--)
    {
      buf[len + i] = '0' + value % 10;
      value /= 10;
    }
  return len + width;
}

static void
write_date_time (GByteArray *out,
                 GDateTime  *date_time)
{
  g_autoptr(GDateTime) utc = NULL;
  GTimeSpan offset = g_date_time_get_utc_offset (date_time);
  int year, month, day, usec;
  char buf[64];
  gsize len = 0;

  /* Offsets with seconds (local mean time) have no ISO 8601 form. */
  if (offset % G_TIME_SPAN_MINUTE != 0)
    {
      date_time = utc = g_date_time_to_utc (date_time);
      offset = 0;
    }

  /* By hand: two g_snprintf() calls were 10 % of an echo of a DateTime. */
  g_date_time_get_ymd (date_time, &year, &month, &day);
  len = put_digits (buf, len, year, 4);
  buf[len++] = '-';
  len = put_digits (buf, len, month, 2);
  buf[len++] = '-';
  len = put_digits (buf, len, day, 2);
  buf[len++] = 'T';
  len = put_digits (buf, len, g_date_time_get_hour (date_time), 2);
  buf[len++] = ':';
  len = put_digits (buf, len, g_date_time_get_minute (date_time), 2);
  buf[len++] = ':';
  len = put_digits (buf, len, g_date_time_get_second (date_time), 2);

  usec = g_date_time_get_microsecond (date_time);
  if (usec != 0)
    {
      buf[len++] = '.';
      len = put_digits (buf, len, usec, 6);
      while (buf[len - 1] == '0')
        len--;
    }

  if (offset == 0)
    buf[len++] = 'Z';
  else
    {
      GTimeSpan minutes = (offset < 0 ? -offset : offset) / G_TIME_SPAN_MINUTE;

      buf[len++] = offset < 0 ? '-' : '+';
      len = put_digits (buf, len, (int) (minutes / 60), 2);
      buf[len++] = ':';
      len = put_digits (buf, len, (int) (minutes % 60), 2);
    }

  hubs_json_write_string_len (out, buf, len);
}

static void
write_strv (GByteArray   *out,
            const char  **strv,
            guint         depth,
            guint         recursion)
{
  if (!can_write_container (out, depth, recursion))
    return;

  g_byte_array_append (out, (const guint8 *) "[", 1);
  for (guint i = 0; strv[i] != NULL; i++)
    {
      if (i > 0)
        g_byte_array_append (out, (const guint8 *) ",", 1);
      hubs_json_write_string (out, strv[i]);
    }
  g_byte_array_append (out, (const guint8 *) "]", 1);
}

static void
write_boxed (GByteArray *out,
             GType       type,
             gpointer    boxed,
             guint       depth,
             guint       recursion)
{
  g_autoptr(JsonNode) node = NULL;

  if (boxed == NULL)
    hubs_json_write_null (out);
  else if (type == G_TYPE_STRV)
    write_strv (out, boxed, depth, recursion);
  else if (type == G_TYPE_BYTES)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (boxed, &size);

      hubs_json_write_base64 (out, data, size);
    }
  else if (type == G_TYPE_BYTE_ARRAY)
    hubs_json_write_base64 (out, ((GByteArray *) boxed)->data, ((GByteArray *) boxed)->len);
  else if (type == G_TYPE_DATE_TIME)
    write_date_time (out, boxed);
  else if ((node = hubs_boxed_to_node (type, boxed)) != NULL)
    write_node_at (out, node, depth);
  else
    {
      g_warning ("Cannot write a value of type %s as JSON; writing null instead",
                 g_type_name (type));
      hubs_json_write_null (out);
    }
}

static void
write_value_at (GByteArray   *out,
                const GValue *value,
                guint         depth,
                guint         recursion)
{
  GType type;

  if (value == NULL || !G_IS_VALUE (value))
    {
      hubs_json_write_null (out);
      return;
    }

  type = G_VALUE_TYPE (value);

  /* Before the fundamental type: a GValue of an interface type with a
   * GObject prerequisite holds an object too. */
  if (g_type_is_a (type, G_TYPE_OBJECT))
    {
      GObject *object = g_value_get_object (value);

      if (object == NULL)
        hubs_json_write_null (out);
      else
        write_object (out, object, depth, recursion);
      return;
    }

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_NONE:
      hubs_json_write_null (out);
      break;
    case G_TYPE_BOOLEAN:
      hubs_json_write_boolean (out, g_value_get_boolean (value));
      break;
    case G_TYPE_CHAR:
      hubs_json_write_int64 (out, g_value_get_schar (value));
      break;
    case G_TYPE_UCHAR:
      hubs_json_write_uint64 (out, g_value_get_uchar (value));
      break;
    case G_TYPE_INT:
      hubs_json_write_int64 (out, g_value_get_int (value));
      break;
    case G_TYPE_UINT:
      hubs_json_write_uint64 (out, g_value_get_uint (value));
      break;
    case G_TYPE_LONG:
      hubs_json_write_int64 (out, g_value_get_long (value));
      break;
    case G_TYPE_ULONG:
      hubs_json_write_uint64 (out, g_value_get_ulong (value));
      break;
    case G_TYPE_INT64:
      hubs_json_write_int64 (out, g_value_get_int64 (value));
      break;
    case G_TYPE_UINT64:
      hubs_json_write_uint64 (out, g_value_get_uint64 (value));
      break;
    case G_TYPE_ENUM:
      /* System.Text.Json writes enums as their numbers by default. */
      hubs_json_write_int64 (out, g_value_get_enum (value));
      break;
    case G_TYPE_FLAGS:
      hubs_json_write_uint64 (out, g_value_get_flags (value));
      break;
    case G_TYPE_FLOAT:
      hubs_json_write_float (out, g_value_get_float (value));
      break;
    case G_TYPE_DOUBLE:
      hubs_json_write_double (out, g_value_get_double (value));
      break;
    case G_TYPE_STRING:
      hubs_json_write_string (out, g_value_get_string (value));
      break;
    case G_TYPE_VARIANT:
      if (g_value_get_variant (value) == NULL)
        hubs_json_write_null (out);
      else
        write_variant_at (out, g_value_get_variant (value), depth, recursion);
      break;
    case G_TYPE_BOXED:
      write_boxed (out, type, g_value_get_boxed (value), depth, recursion);
      break;
    default:
      g_warning ("Cannot write a value of type %s as JSON; writing null instead",
                 g_type_name (type));
      hubs_json_write_null (out);
      break;
    }
}

void
hubs_json_write_value (GByteArray   *out,
                       const GValue *value)
{
  g_return_if_fail (out != NULL);

  write_value_at (out, value, 0, 0);
}

static gboolean
is_string_key_type (const GVariantType *type)
{
  return g_variant_type_equal (type, G_VARIANT_TYPE_STRING) ||
         g_variant_type_equal (type, G_VARIANT_TYPE_OBJECT_PATH) ||
         g_variant_type_equal (type, G_VARIANT_TYPE_SIGNATURE);
}

static void
write_variant_children (GByteArray *out,
                        GVariant   *variant,
                        guint       depth,
                        guint       recursion)
{
  gsize n = g_variant_n_children (variant);

  g_byte_array_append (out, (const guint8 *) "[", 1);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (variant, i);

      if (i > 0)
        g_byte_array_append (out, (const guint8 *) ",", 1);
      write_variant_at (out, child, depth + 1, recursion + 1);
    }
  g_byte_array_append (out, (const guint8 *) "]", 1);
}

static void
write_variant_at (GByteArray *out,
                  GVariant   *variant,
                  guint       depth,
                  guint       recursion)
{
  switch (g_variant_classify (variant))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      hubs_json_write_boolean (out, g_variant_get_boolean (variant));
      break;
    case G_VARIANT_CLASS_BYTE:
      hubs_json_write_uint64 (out, g_variant_get_byte (variant));
      break;
    case G_VARIANT_CLASS_INT16:
      hubs_json_write_int64 (out, g_variant_get_int16 (variant));
      break;
    case G_VARIANT_CLASS_UINT16:
      hubs_json_write_uint64 (out, g_variant_get_uint16 (variant));
      break;
    case G_VARIANT_CLASS_INT32:
      hubs_json_write_int64 (out, g_variant_get_int32 (variant));
      break;
    case G_VARIANT_CLASS_HANDLE:
      hubs_json_write_int64 (out, g_variant_get_handle (variant));
      break;
    case G_VARIANT_CLASS_UINT32:
      hubs_json_write_uint64 (out, g_variant_get_uint32 (variant));
      break;
    case G_VARIANT_CLASS_INT64:
      hubs_json_write_int64 (out, g_variant_get_int64 (variant));
      break;
    case G_VARIANT_CLASS_UINT64:
      hubs_json_write_uint64 (out, g_variant_get_uint64 (variant));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      hubs_json_write_double (out, g_variant_get_double (variant));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      {
        gsize length;
        const char *str = g_variant_get_string (variant, &length);

        hubs_json_write_string_len (out, str, length);
      }
      break;
    case G_VARIANT_CLASS_VARIANT:
    case G_VARIANT_CLASS_MAYBE:
      if (recursion >= MAX_RECURSION)
        can_write_container (out, depth, recursion);
      else if (g_variant_n_children (variant) == 0)
        hubs_json_write_null (out);
      else
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (variant, 0);

          write_variant_at (out, child, depth, recursion + 1);
        }
      break;
    case G_VARIANT_CLASS_ARRAY:
      {
        const GVariantType *element = g_variant_type_element (g_variant_get_type (variant));

        if (g_variant_type_equal (element, G_VARIANT_TYPE_BYTE))
          {
            gsize size;
            const guint8 *data = g_variant_get_fixed_array (variant, &size, 1);

            hubs_json_write_base64 (out, data, size);
          }
        else if (!can_write_container (out, depth, recursion))
          break;
        else if (g_variant_type_is_dict_entry (element) &&
                 is_string_key_type (g_variant_type_key (element)))
          {
            gsize n = g_variant_n_children (variant);

            g_byte_array_append (out, (const guint8 *) "{", 1);
            for (gsize i = 0; i < n; i++)
              {
                g_autoptr(GVariant) entry = g_variant_get_child_value (variant, i);
                g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
                g_autoptr(GVariant) value = g_variant_get_child_value (entry, 1);
                gsize length;
                const char *str = g_variant_get_string (key, &length);

                if (i > 0)
                  g_byte_array_append (out, (const guint8 *) ",", 1);
                hubs_json_write_string_len (out, str, length);
                g_byte_array_append (out, (const guint8 *) ":", 1);
                write_variant_at (out, value, depth + 1, recursion + 1);
              }
            g_byte_array_append (out, (const guint8 *) "}", 1);
          }
        else
          write_variant_children (out, variant, depth, recursion);
      }
      break;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
      if (can_write_container (out, depth, recursion))
        write_variant_children (out, variant, depth, recursion);
      break;
    default:
      g_assert_not_reached ();
    }
}

void
hubs_json_write_variant (GByteArray *out,
                         GVariant   *variant)
{
  g_return_if_fail (out != NULL);

  if (variant == NULL)
    hubs_json_write_null (out);
  else
    write_variant_at (out, variant, 0, 0);
}

static void
write_node_at (GByteArray *out,
               JsonNode   *node,
               guint       depth)
{
  if (node == NULL)
    {
      hubs_json_write_null (out);
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
        gboolean first = TRUE;

        if (!can_write_container (out, depth, 0))
          break;

        g_byte_array_append (out, (const guint8 *) "{", 1);
        json_object_iter_init_ordered (&iter, object);
        while (json_object_iter_next_ordered (&iter, &name, &member))
          {
            write_comma (out, &first);
            hubs_json_write_string (out, name);
            g_byte_array_append (out, (const guint8 *) ":", 1);
            write_node_at (out, member, depth + 1);
          }
        g_byte_array_append (out, (const guint8 *) "}", 1);
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint n = json_array_get_length (array);

        if (!can_write_container (out, depth, 0))
          break;

        g_byte_array_append (out, (const guint8 *) "[", 1);
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_byte_array_append (out, (const guint8 *) ",", 1);
            write_node_at (out, json_array_get_element (array, i), depth + 1);
          }
        g_byte_array_append (out, (const guint8 *) "]", 1);
      }
      break;

    case JSON_NODE_VALUE:
      {
        GType type = json_node_get_value_type (node);

        if (type == G_TYPE_INT64)
          hubs_json_write_int64 (out, json_node_get_int (node));
        else if (type == G_TYPE_DOUBLE)
          hubs_json_write_double (out, json_node_get_double (node));
        else if (type == G_TYPE_BOOLEAN)
          hubs_json_write_boolean (out, json_node_get_boolean (node));
        else if (type == G_TYPE_STRING)
          hubs_json_write_string (out, json_node_get_string (node));
        else
          hubs_json_write_null (out);
      }
      break;

    case JSON_NODE_NULL:
    default:
      hubs_json_write_null (out);
      break;
    }
}

void
hubs_json_write_node (GByteArray *out,
                      JsonNode   *node)
{
  g_return_if_fail (out != NULL);

  write_node_at (out, node, 0);
}

/* Binding */

static gboolean bind_gtype (const HubsJsonDoc *doc, guint token, GType type,
                            const GVariantType *variant_type, GValue *value);

JsonNode *
hubs_json_doc_to_node (const HubsJsonDoc *doc,
                       guint              token)
{
  g_autoptr(JsonNode) node = NULL;

  switch (hubs_json_doc_kind (doc, token))
    {
    case HUBS_JSON_NULL:
      return json_node_new (JSON_NODE_NULL);

    case HUBS_JSON_FALSE:
    case HUBS_JSON_TRUE:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_boolean (node, hubs_json_doc_kind (doc, token) == HUBS_JSON_TRUE);
      break;

    case HUBS_JSON_NUMBER:
      {
        gint64 i;
        double d;

        node = json_node_new (JSON_NODE_VALUE);
        if (hubs_json_doc_get_int64 (doc, token, &i))
          json_node_set_int (node, i);
        else if (hubs_json_doc_get_double (doc, token, &d))
          json_node_set_double (node, d);
        else
          return NULL;
      }
      break;

    case HUBS_JSON_STRING:
      {
        g_autofree char *str = hubs_json_doc_dup_string (doc, token);

        if (str == NULL)
          return NULL;
        node = json_node_new (JSON_NODE_VALUE);
        json_node_set_string (node, str);
      }
      break;

    case HUBS_JSON_ARRAY:
      {
        g_autoptr(JsonArray) array = json_array_sized_new (doc->tokens[token].count);
        guint end = hubs_json_doc_next (doc, token);

        for (guint item = token + 1; item < end; item = hubs_json_doc_next (doc, item))
          {
            JsonNode *child = hubs_json_doc_to_node (doc, item);

            if (child == NULL)
              return NULL;
            json_array_add_element (array, child);
          }
        node = json_node_new (JSON_NODE_ARRAY);
        json_node_set_array (node, array);
      }
      break;

    case HUBS_JSON_OBJECT:
      {
        g_autoptr(JsonObject) object = json_object_new ();
        guint end = hubs_json_doc_next (doc, token);

        for (guint key = token + 1; key < end; key = hubs_json_doc_next (doc, key + 1))
          {
            g_autofree char *name = hubs_json_doc_dup_string (doc, key);
            JsonNode *child;

            if (name == NULL)
              return NULL;
            child = hubs_json_doc_to_node (doc, key + 1);
            if (child == NULL)
              return NULL;
            json_object_set_member (object, name, child);
          }
        node = json_node_new (JSON_NODE_OBJECT);
        json_node_set_object (node, object);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  return g_steal_pointer (&node);
}

/* Convert.FromBase64String accepts whitespace; System.Text.Json does not,
 * and neither does this: standard alphabet, padded, nothing else.
 * g_base64_decode() alone would skip any garbage. */
static GBytes *
decode_base64 (const char *str)
{
  gsize length = strlen (str);
  gsize padding = 0;
  guchar *data;
  gsize size;

  if (length % 4 != 0)
    return NULL;

  while (padding < 2 && padding < length && str[length - 1 - padding] == '=')
    padding++;

  for (gsize i = 0; i < length - padding; i++)
    {
      char c = str[i];

      if (!g_ascii_isalnum (c) && c != '+' && c != '/')
        return NULL;
    }

  if (length == 0)
    return g_bytes_new (NULL, 0);

  data = g_base64_decode (str, &size);
  return g_bytes_new_take (data, size);
}

static gboolean
get_bounded_int (const HubsJsonDoc *doc,
                 guint              token,
                 gint64             min,
                 gint64             max,
                 gint64            *value)
{
  return hubs_json_doc_get_int64 (doc, token, value) && *value >= min && *value <= max;
}

static gboolean
get_bounded_uint (const HubsJsonDoc *doc,
                  guint              token,
                  guint64            max,
                  guint64           *value)
{
  return hubs_json_doc_get_uint64 (doc, token, value) && *value <= max;
}

static GVariant *bind_basic_variant (const HubsJsonDoc *doc, guint token, const GVariantType *type);

/* Parses the text of an object key for a dictionary whose keys are not
 * strings: System.Text.Json writes such keys as their text. */
static GVariant *
variant_from_key (const char         *key,
                  const GVariantType *type)
{
  char *end = NULL;

  if (g_variant_type_equal (type, G_VARIANT_TYPE_STRING))
    return g_variant_new_string (key);
  if (g_variant_type_equal (type, G_VARIANT_TYPE_OBJECT_PATH))
    return g_variant_is_object_path (key) ? g_variant_new_object_path (key) : NULL;
  if (g_variant_type_equal (type, G_VARIANT_TYPE_SIGNATURE))
    return g_variant_is_signature (key) ? g_variant_new_signature (key) : NULL;
  if (g_variant_type_equal (type, G_VARIANT_TYPE_BOOLEAN))
    {
      if (g_ascii_strcasecmp (key, "true") == 0)
        return g_variant_new_boolean (TRUE);
      if (g_ascii_strcasecmp (key, "false") == 0)
        return g_variant_new_boolean (FALSE);
      return NULL;
    }
  if (g_variant_type_equal (type, G_VARIANT_TYPE_DOUBLE))
    {
      double d;

      if (*key == '\0' || g_ascii_isspace (*key))
        return NULL;
      d = g_ascii_strtod (key, &end);
      return *end == '\0' && isfinite (d) ? g_variant_new_double (d) : NULL;
    }

  /* Integer types: the text as JSON would write the number. */
  {
    HubsJsonDoc key_doc;
    GVariant *result = NULL;

    if (!hubs_json_doc_init (&key_doc, (const guint8 *) key, strlen (key), NULL))
      return NULL;
    if (hubs_json_doc_kind (&key_doc, 0) == HUBS_JSON_NUMBER)
      result = bind_basic_variant (&key_doc, 0, type);
    hubs_json_doc_clear (&key_doc);
    return result;
  }
}

static GVariant *bind_variant (const HubsJsonDoc *doc, guint token, const GVariantType *type);

/* Any JSON value; null becomes `@mv nothing`. Returns a floating
 * reference, or NULL if the value has no GVariant form. */
static GVariant *
bind_natural_variant (const HubsJsonDoc *doc,
                      guint              token)
{
  switch (hubs_json_doc_kind (doc, token))
    {
    case HUBS_JSON_NULL:
      return g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL);

    case HUBS_JSON_FALSE:
      return g_variant_new_boolean (FALSE);

    case HUBS_JSON_TRUE:
      return g_variant_new_boolean (TRUE);

    case HUBS_JSON_NUMBER:
      {
        gint64 i;
        guint64 u;
        double d;

        if (hubs_json_doc_get_int64 (doc, token, &i))
          return g_variant_new_int64 (i);
        if (hubs_json_doc_get_uint64 (doc, token, &u))
          return g_variant_new_uint64 (u);
        if (hubs_json_doc_get_double (doc, token, &d))
          return g_variant_new_double (d);
        return NULL;
      }

    case HUBS_JSON_STRING:
      {
        char *str = hubs_json_doc_dup_string (doc, token);

        return str != NULL ? g_variant_new_take_string (str) : NULL;
      }

    case HUBS_JSON_ARRAY:
      {
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
        guint end = hubs_json_doc_next (doc, token);

        for (guint item = token + 1; item < end; item = hubs_json_doc_next (doc, item))
          {
            GVariant *child = bind_natural_variant (doc, item);

            if (child == NULL)
              return NULL;
            g_variant_builder_add_value (&builder, g_variant_new_variant (child));
          }
        return g_variant_builder_end (&builder);
      }

    case HUBS_JSON_OBJECT:
      {
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
        guint end = hubs_json_doc_next (doc, token);

        for (guint key = token + 1; key < end; key = hubs_json_doc_next (doc, key + 1))
          {
            char *name = hubs_json_doc_dup_string (doc, key);
            GVariant *child;

            if (name == NULL)
              return NULL;
            child = bind_natural_variant (doc, key + 1);
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
      g_assert_not_reached ();
    }
}

/* Basic types, numbers by range. Returns a floating reference or NULL. */
static GVariant *
bind_basic_variant (const HubsJsonDoc  *doc,
                    guint               token,
                    const GVariantType *type)
{
  HubsJsonKind kind = hubs_json_doc_kind (doc, token);
  gint64 i;
  guint64 u;
  double d;

  switch (g_variant_type_peek_string (type)[0])
    {
    case 'b':
      if (kind == HUBS_JSON_TRUE || kind == HUBS_JSON_FALSE)
        return g_variant_new_boolean (kind == HUBS_JSON_TRUE);
      return NULL;
    case 'y':
      return get_bounded_uint (doc, token, G_MAXUINT8, &u) ? g_variant_new_byte ((guint8) u) : NULL;
    case 'n':
      return get_bounded_int (doc, token, G_MININT16, G_MAXINT16, &i) ? g_variant_new_int16 ((gint16) i) : NULL;
    case 'q':
      return get_bounded_uint (doc, token, G_MAXUINT16, &u) ? g_variant_new_uint16 ((guint16) u) : NULL;
    case 'i':
      return get_bounded_int (doc, token, G_MININT32, G_MAXINT32, &i) ? g_variant_new_int32 ((gint32) i) : NULL;
    case 'h':
      return get_bounded_int (doc, token, G_MININT32, G_MAXINT32, &i) ? g_variant_new_handle ((gint32) i) : NULL;
    case 'u':
      return get_bounded_uint (doc, token, G_MAXUINT32, &u) ? g_variant_new_uint32 ((guint32) u) : NULL;
    case 'x':
      return hubs_json_doc_get_int64 (doc, token, &i) ? g_variant_new_int64 (i) : NULL;
    case 't':
      return hubs_json_doc_get_uint64 (doc, token, &u) ? g_variant_new_uint64 (u) : NULL;
    case 'd':
      return hubs_json_doc_get_double (doc, token, &d) ? g_variant_new_double (d) : NULL;
    case 's':
    case 'o':
    case 'g':
      {
        g_autofree char *str = NULL;

        if (kind != HUBS_JSON_STRING)
          return NULL;
        str = hubs_json_doc_dup_string (doc, token);
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

static GVariant *
bind_dictionary (const HubsJsonDoc  *doc,
                 guint               token,
                 const GVariantType *type)
{
  const GVariantType *entry_type = g_variant_type_element (type);
  const GVariantType *key_type = g_variant_type_key (entry_type);
  const GVariantType *value_type = g_variant_type_value (entry_type);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);
  guint end = hubs_json_doc_next (doc, token);

  switch (hubs_json_doc_kind (doc, token))
    {
    case HUBS_JSON_OBJECT:
      for (guint key = token + 1; key < end; key = hubs_json_doc_next (doc, key + 1))
        {
          g_autofree char *name = hubs_json_doc_dup_string (doc, key);
          GVariant *k, *v;

          if (name == NULL || (k = variant_from_key (name, key_type)) == NULL)
            return NULL;
          v = bind_variant (doc, key + 1, value_type);
          if (v == NULL)
            {
              g_variant_unref (g_variant_ref_sink (k));
              return NULL;
            }
          g_variant_builder_add_value (&builder, g_variant_new_dict_entry (k, v));
        }
      return g_variant_builder_end (&builder);

    case HUBS_JSON_ARRAY:
      /* What a dictionary with non-string keys is written as. */
      for (guint item = token + 1; item < end; item = hubs_json_doc_next (doc, item))
        {
          GVariant *entry = bind_variant (doc, item, entry_type);

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
bind_variant (const HubsJsonDoc  *doc,
              guint               token,
              const GVariantType *type)
{
  HubsJsonKind kind = hubs_json_doc_kind (doc, token);

  if (!g_variant_type_is_definite (type))
    {
      GVariant *natural = bind_natural_variant (doc, token);

      if (natural != NULL && !g_variant_is_of_type (natural, type))
        {
          g_variant_unref (g_variant_ref_sink (natural));
          return NULL;
        }
      return natural;
    }

  if (g_variant_type_is_basic (type))
    return bind_basic_variant (doc, token, type);

  if (g_variant_type_is_variant (type))
    {
      GVariant *natural = bind_natural_variant (doc, token);

      return natural != NULL ? g_variant_new_variant (natural) : NULL;
    }

  if (g_variant_type_is_maybe (type))
    {
      const GVariantType *element = g_variant_type_element (type);
      GVariant *child;

      if (kind == HUBS_JSON_NULL)
        return g_variant_new_maybe (element, NULL);
      child = bind_variant (doc, token, element);
      return child != NULL ? g_variant_new_maybe (element, child) : NULL;
    }

  if (g_variant_type_is_array (type))
    {
      const GVariantType *element = g_variant_type_element (type);

      if (g_variant_type_equal (element, G_VARIANT_TYPE_BYTE))
        {
          g_autofree char *str = NULL;
          g_autoptr(GBytes) bytes = NULL;

          if (kind != HUBS_JSON_STRING ||
              (str = hubs_json_doc_dup_string (doc, token)) == NULL ||
              (bytes = decode_base64 (str)) == NULL)
            return NULL;
          return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);
        }

      if (g_variant_type_is_dict_entry (element))
        return bind_dictionary (doc, token, type);

      if (kind != HUBS_JSON_ARRAY)
        return NULL;

      {
        g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (type);
        guint end = hubs_json_doc_next (doc, token);

        for (guint item = token + 1; item < end; item = hubs_json_doc_next (doc, item))
          {
            GVariant *child = bind_variant (doc, item, element);

            if (child == NULL)
              return NULL;
            g_variant_builder_add_value (&builder, child);
          }
        return g_variant_builder_end (&builder);
      }
    }

  if (g_variant_type_is_tuple (type) || g_variant_type_is_dict_entry (type))
    {
      gsize n = g_variant_type_n_items (type);
      GVariant **children;
      const GVariantType *item_type;
      guint item;
      gsize i = 0;

      if (kind != HUBS_JSON_ARRAY || doc->tokens[token].count != n)
        return NULL;

      children = g_new0 (GVariant *, MAX (n, 1));
      item_type = g_variant_type_first (type);
      for (item = token + 1; i < n; item = hubs_json_doc_next (doc, item))
        {
          children[i] = bind_variant (doc, item, item_type);
          if (children[i] == NULL)
            {
              hubs_variant_children_free (children, i);
              return NULL;
            }
          i++;
          item_type = g_variant_type_next (item_type);
        }

      {
        GVariant *result;

        if (g_variant_type_is_dict_entry (type))
          {
            /* A dictionary entry's key must be basic; g_variant_new_dict_entry()
             * would fail on anything else, so the type said so already. */
            result = g_variant_new_dict_entry (children[0], children[1]);
          }
        else
          result = g_variant_new_tuple (children, n);
        g_free (children);
        return result;
      }
    }

  return NULL;
}

static gboolean
bind_enum (const HubsJsonDoc *doc,
           guint              token,
           GType              type,
           GValue            *value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  const GEnumValue *member = NULL;
  gint64 i;

  if (hubs_json_doc_kind (doc, token) == HUBS_JSON_STRING)
    {
      g_autofree char *str = hubs_json_doc_dup_string (doc, token);

      if (str != NULL)
        member = hubs_enum_member_lookup (klass, str);
    }
  else if (get_bounded_int (doc, token, G_MININT, G_MAXINT, &i))
    {
      /* Unlike .NET, only declared values: C code switches on them. */
      member = g_enum_get_value (klass, (int) i);
    }

  return hubs_bind_enum_member (type, member, value);
}

static gboolean
bind_flags (const HubsJsonDoc *doc,
            guint              token,
            GType              type,
            GValue            *value)
{
  guint64 u;

  return get_bounded_uint (doc, token, G_MAXUINT, &u) && hubs_bind_flags_bits (type, u, value);
}

typedef struct
{
  const HubsJsonDoc *doc;
  guint token;
} DocValue;

static JsonNode *
doc_value_to_node (gconstpointer source)
{
  const DocValue *at = source;

  return hubs_json_doc_to_node (at->doc, at->token);
}

/* JsonNode, JsonObject, JsonArray and json-glib's boxed types. */
static gboolean
bind_boxed_from_node (const HubsJsonDoc *doc,
                      guint              token,
                      GType              type,
                      GValue            *value)
{
  HubsJsonKind kind = hubs_json_doc_kind (doc, token);
  DocValue at = { doc, token };

  return hubs_bind_boxed_from_node (type,
                                    kind == HUBS_JSON_OBJECT ? JSON_NODE_OBJECT :
                                    kind == HUBS_JSON_ARRAY ? JSON_NODE_ARRAY : JSON_NODE_VALUE,
                                    doc_value_to_node, &at, value);
}

static gboolean
bind_boxed (const HubsJsonDoc *doc,
            guint              token,
            GType              type,
            GValue            *value)
{
  HubsJsonKind kind = hubs_json_doc_kind (doc, token);
  gpointer boxed = NULL;

  if (type == JSON_TYPE_NODE)
    return bind_boxed_from_node (doc, token, type, value);
  else if (kind == HUBS_JSON_NULL)
    {
      /* Null is a NULL pointer for every other boxed type, provided
       * json-glib would know the type when it is not null. */
      if (!hubs_boxed_accepts_null (type))
        return FALSE;
    }
  else if (type == G_TYPE_STRV)
    {
      g_autoptr(GPtrArray) strings = NULL;
      guint end = hubs_json_doc_next (doc, token);

      if (kind != HUBS_JSON_ARRAY)
        return FALSE;

      strings = g_ptr_array_new_full (doc->tokens[token].count + 1, g_free);
      for (guint item = token + 1; item < end; item = hubs_json_doc_next (doc, item))
        {
          char *str;

          if (hubs_json_doc_kind (doc, item) != HUBS_JSON_STRING ||
              (str = hubs_json_doc_dup_string (doc, item)) == NULL)
            return FALSE;
          g_ptr_array_add (strings, str);
        }
      g_ptr_array_add (strings, NULL);
      boxed = g_ptr_array_free (g_steal_pointer (&strings), FALSE);
    }
  else if (type == G_TYPE_BYTES || type == G_TYPE_BYTE_ARRAY)
    {
      g_autofree char *str = NULL;
      GBytes *bytes;

      if (kind != HUBS_JSON_STRING ||
          (str = hubs_json_doc_dup_string (doc, token)) == NULL ||
          (bytes = decode_base64 (str)) == NULL)
        return FALSE;
      boxed = type == G_TYPE_BYTES ? (gpointer) bytes : (gpointer) g_bytes_unref_to_array (bytes);
    }
  else if (type == G_TYPE_DATE_TIME)
    {
      g_autofree char *str = NULL;
      g_autoptr(GTimeZone) utc = NULL;

      if (kind != HUBS_JSON_STRING || (str = hubs_json_doc_dup_string (doc, token)) == NULL)
        return FALSE;
      utc = g_time_zone_new_utc ();
      boxed = g_date_time_new_from_iso8601 (str, utc);
      if (boxed == NULL)
        return FALSE;
    }
  else
    return bind_boxed_from_node (doc, token, type, value);

  g_value_init (value, type);
  g_value_take_boxed (value, boxed);
  return TRUE;
}

static gboolean
bind_object (const HubsJsonDoc *doc,
             guint              token,
             GType              type,
             GValue            *value)
{
  HubsObjectBuilder builder;
  gboolean ok = TRUE;
  guint end;

  if (!hubs_object_type_is_bindable (type))
    return FALSE;

  if (hubs_json_doc_kind (doc, token) == HUBS_JSON_NULL)
    {
      g_value_init (value, type);
      return TRUE;
    }
  if (hubs_json_doc_kind (doc, token) != HUBS_JSON_OBJECT)
    return FALSE;

  hubs_object_builder_init (&builder, type);
  end = hubs_json_doc_next (doc, token);
  for (guint key = token + 1; ok && key < end; key = hubs_json_doc_next (doc, key + 1))
    {
      g_autofree char *name = hubs_json_doc_dup_string (doc, key);
      HubsParamType property_type;
      GParamSpec *pspec;
      GValue *slot;

      if (name == NULL ||
          (slot = hubs_object_builder_slot (&builder, name, &property_type, &pspec)) == NULL)
        continue;

      ok = bind_gtype (doc, key + 1, property_type.type, property_type.variant_type, slot);

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
bind_gtype (const HubsJsonDoc  *doc,
            guint               token,
            GType               type,
            const GVariantType *variant_type,
            GValue             *value)
{
  HubsJsonKind kind = hubs_json_doc_kind (doc, token);
  gint64 i;
  guint64 u;
  double d;

  /* Abstract types (G_TYPE_ENUM, G_TYPE_BOXED, …) have no values. */
  if (G_TYPE_IS_ABSTRACT (type))
    return FALSE;

  if (g_type_is_a (type, G_TYPE_OBJECT))
    return bind_object (doc, token, type, value);

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      if (kind != HUBS_JSON_TRUE && kind != HUBS_JSON_FALSE)
        return FALSE;
      g_value_init (value, type);
      g_value_set_boolean (value, kind == HUBS_JSON_TRUE);
      return TRUE;

    case G_TYPE_CHAR:
      if (!get_bounded_int (doc, token, G_MININT8, G_MAXINT8, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_schar (value, (gint8) i);
      return TRUE;

    case G_TYPE_UCHAR:
      if (!get_bounded_uint (doc, token, G_MAXUINT8, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_uchar (value, (guchar) u);
      return TRUE;

    case G_TYPE_INT:
      if (!get_bounded_int (doc, token, G_MININT, G_MAXINT, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_int (value, (int) i);
      return TRUE;

    case G_TYPE_UINT:
      if (!get_bounded_uint (doc, token, G_MAXUINT, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_uint (value, (guint) u);
      return TRUE;

    case G_TYPE_LONG:
      if (!get_bounded_int (doc, token, G_MINLONG, G_MAXLONG, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_long (value, (glong) i);
      return TRUE;

    case G_TYPE_ULONG:
      if (!get_bounded_uint (doc, token, G_MAXULONG, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_ulong (value, (gulong) u);
      return TRUE;

    case G_TYPE_INT64:
      if (!hubs_json_doc_get_int64 (doc, token, &i))
        return FALSE;
      g_value_init (value, type);
      g_value_set_int64 (value, i);
      return TRUE;

    case G_TYPE_UINT64:
      if (!hubs_json_doc_get_uint64 (doc, token, &u))
        return FALSE;
      g_value_init (value, type);
      g_value_set_uint64 (value, u);
      return TRUE;

    case G_TYPE_ENUM:
      return bind_enum (doc, token, type, value);

    case G_TYPE_FLAGS:
      return bind_flags (doc, token, type, value);

    case G_TYPE_FLOAT:
      if (!hubs_json_doc_get_double (doc, token, &d) || d > FLT_MAX || d < -FLT_MAX)
        return FALSE;
      g_value_init (value, type);
      g_value_set_float (value, (float) d);
      return TRUE;

    case G_TYPE_DOUBLE:
      if (!hubs_json_doc_get_double (doc, token, &d))
        return FALSE;
      g_value_init (value, type);
      g_value_set_double (value, d);
      return TRUE;

    case G_TYPE_STRING:
      {
        char *str = NULL;

        if (kind == HUBS_JSON_STRING)
          {
            str = hubs_json_doc_dup_string (doc, token);
            if (str == NULL)
              return FALSE;
          }
        else if (kind != HUBS_JSON_NULL)
          return FALSE;
        g_value_init (value, type);
        g_value_take_string (value, str);
        return TRUE;
      }

    case G_TYPE_VARIANT:
      {
        GVariant *variant = NULL;

        /* Null is a NULL variant, except where the type itself says
         * what null means. */
        if (kind != HUBS_JSON_NULL ||
            (variant_type != NULL && g_variant_type_is_maybe (variant_type)))
          {
            if (variant_type == NULL)
              variant = bind_natural_variant (doc, token);
            else
              variant = bind_variant (doc, token, variant_type);
            if (variant == NULL)
              return FALSE;
          }
        g_value_init (value, type);
        g_value_take_variant (value, variant);
        return TRUE;
      }

    case G_TYPE_BOXED:
      return bind_boxed (doc, token, type, value);

    default:
      return FALSE;
    }
}

gboolean
hubs_json_bind_value (const HubsJsonDoc    *doc,
                      guint                 token,
                      const HubsParamType  *type,
                      GValue               *value,
                      GError              **error)
{
  g_return_val_if_fail (doc != NULL, FALSE);
  g_return_val_if_fail (token == HUBS_JSON_NO_TOKEN || token < doc->n_tokens, FALSE);
  g_return_val_if_fail (type != NULL, FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!bind_gtype (doc, token, type->type, type->variant_type, value))
    {
      g_autofree char *name = hubs_param_type_describe (type);

      g_set_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED,
                   "The JSON value could not be converted to %s.", name);
      return FALSE;
    }

  return TRUE;
}
