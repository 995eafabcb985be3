/* hubs-json-hub-protocol.c: the "json" hub protocol
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Messages are JSON objects, each followed by the record separator 0x1E
 * (SignalR's HubProtocol.md). Reading follows ASP.NET Core's JsonHubProtocol:
 * the same checks in the same order with the same error texts; a record is
 * checked whole and indexed first (HubsJsonDoc below), and arguments, items
 * and results stay in that index until the dispatcher knows their types.
 * Writing is our own: property order and presence as JsonHubProtocol writes
 * them, strings escaped as System.Text.Json escapes them.
 */

#include <math.h>
#include <string.h>

#include "hubs-error.h"
#include "hubs-json-private.h"

/* The record reader */

typedef struct
{
  HubsJsonDoc *doc;
  const guint8 *p;
  gsize length;
  gsize pos;
} Reader;

static guint
add_token (HubsJsonDoc  *doc,
           HubsJsonKind  kind,
           gsize         start)
{
  HubsJsonToken *token;

  if (doc->n_tokens == doc->allocated_tokens)
    {
      doc->allocated_tokens = MAX (16, doc->allocated_tokens * 2);
      doc->tokens = g_renew (HubsJsonToken, doc->tokens, doc->allocated_tokens);
    }

  token = &doc->tokens[doc->n_tokens];
  token->kind = kind;
  token->flags = 0;
  token->start = (guint32) start;
  token->length = 0;
  token->end = 0;
  token->count = 0;

  return doc->n_tokens++;
}

static inline void
skip_whitespace (Reader *r)
{
  while (r->pos < r->length)
    {
      guint8 c = r->p[r->pos];

      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      r->pos++;
    }
}

static int
hex_value (guint8 c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads the four hex digits after "\u" at @pos. */
static gboolean
read_hex4 (const guint8 *p,
           gsize         length,
           gsize         pos,
           guint        *unit)
{
  guint value = 0;

  if (pos + 4 > length)
    return FALSE;

  for (gsize i = 0; i < 4; i++)
    {
      int h = hex_value (p[pos + i]);

      if (h < 0)
        return FALSE;
      value = (value << 4) | (guint) h;
    }

  *unit = value;
  return TRUE;
}

static gboolean
read_string (Reader *r)
{
  guint index;
  gsize start;

  /* At the opening quote. */
  r->pos++;
  start = r->pos;
  index = add_token (r->doc, HUBS_JSON_STRING, start);

  while (r->pos < r->length)
    {
      guint8 c = r->p[r->pos];

      if (c == '"')
        {
          r->doc->tokens[index].length = (guint32) (r->pos - start);
          r->doc->tokens[index].end = r->doc->n_tokens;
          r->pos++;
          return TRUE;
        }
      else if (c < 0x20)
        return FALSE;
      else if (c == '\\')
        {
          r->doc->tokens[index].flags |= HUBS_JSON_TOKEN_ESCAPED;
          r->pos++;
          if (r->pos >= r->length)
            return FALSE;

          switch (r->p[r->pos])
            {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
              r->pos++;
              break;

            case 'u':
              {
                guint unit, low;

                if (!read_hex4 (r->p, r->length, r->pos + 1, &unit))
                  return FALSE;
                r->pos += 5;

                /* Text must decode to valid Unicode: a high surrogate
                 * needs its low one, and a low one cannot stand alone. */
                if (unit >= 0xdc00 && unit <= 0xdfff)
                  return FALSE;
                if (unit >= 0xd800 && unit <= 0xdbff)
                  {
                    if (r->pos + 2 > r->length || r->p[r->pos] != '\\' || r->p[r->pos + 1] != 'u' ||
                        !read_hex4 (r->p, r->length, r->pos + 2, &low) ||
                        low < 0xdc00 || low > 0xdfff)
                      return FALSE;
                    r->pos += 6;
                  }
              }
              break;

            default:
              return FALSE;
            }
        }
      else
        r->pos++;
    }

  return FALSE;
}

static gboolean
read_digits (Reader *r)
{
  gsize start = r->pos;

  while (r->pos < r->length && g_ascii_isdigit (r->p[r->pos]))
    r->pos++;

  return r->pos > start;
}

static gboolean
read_number (Reader *r)
{
  gsize start = r->pos;
  gboolean integer = TRUE;
  guint index;

  if (r->p[r->pos] == '-')
    r->pos++;

  if (r->pos < r->length && r->p[r->pos] == '0')
    r->pos++;
  else if (!read_digits (r))
    return FALSE;

  if (r->pos < r->length && r->p[r->pos] == '.')
    {
      r->pos++;
      integer = FALSE;
      if (!read_digits (r))
        return FALSE;
    }

  if (r->pos < r->length && (r->p[r->pos] == 'e' || r->p[r->pos] == 'E'))
    {
      r->pos++;
      integer = FALSE;
      if (r->pos < r->length && (r->p[r->pos] == '+' || r->p[r->pos] == '-'))
        r->pos++;
      if (!read_digits (r))
        return FALSE;
    }

  index = add_token (r->doc, HUBS_JSON_NUMBER, start);
  r->doc->tokens[index].length = (guint32) (r->pos - start);
  r->doc->tokens[index].end = r->doc->n_tokens;
  if (integer)
    r->doc->tokens[index].flags |= HUBS_JSON_TOKEN_INTEGER;

  return TRUE;
}

static gboolean
read_literal (Reader       *r,
              const char   *literal,
              HubsJsonKind  kind)
{
  gsize len = strlen (literal);
  guint index;

  if (r->length - r->pos < len || memcmp (r->p + r->pos, literal, len) != 0)
    return FALSE;

  index = add_token (r->doc, kind, r->pos);
  r->doc->tokens[index].length = (guint32) len;
  r->doc->tokens[index].end = r->doc->n_tokens;
  r->pos += len;

  return TRUE;
}

/* Recursion is bounded by HUBS_JSON_MAX_DEPTH, so hostile nesting costs at
 * most 64 frames. @depth counts the containers around the value. */
static gboolean
read_value (Reader *r,
            guint   depth)
{
  guint8 c;

  skip_whitespace (r);
  if (r->pos >= r->length)
    return FALSE;

  c = r->p[r->pos];
  switch (c)
    {
    case '{':
    case '[':
      {
        gboolean object = c == '{';
        guint8 close = object ? '}' : ']';
        gsize start = r->pos;
        guint index;
        guint32 count = 0;

        if (depth + 1 > HUBS_JSON_MAX_DEPTH)
          return FALSE;

        index = add_token (r->doc, object ? HUBS_JSON_OBJECT : HUBS_JSON_ARRAY, start);
        r->pos++;
        skip_whitespace (r);

        if (r->pos < r->length && r->p[r->pos] == close)
          r->pos++;
        else
          {
            for (;;)
              {
                if (object)
                  {
                    skip_whitespace (r);
                    if (r->pos >= r->length || r->p[r->pos] != '"' || !read_string (r))
                      return FALSE;
                    skip_whitespace (r);
                    if (r->pos >= r->length || r->p[r->pos] != ':')
                      return FALSE;
                    r->pos++;
                  }

                if (!read_value (r, depth + 1))
                  return FALSE;
                count++;

                skip_whitespace (r);
                if (r->pos >= r->length)
                  return FALSE;
                if (r->p[r->pos] == ',')
                  r->pos++;
                else if (r->p[r->pos] == close)
                  {
                    r->pos++;
                    break;
                  }
                else
                  return FALSE;
              }
          }

        r->doc->tokens[index].count = count;
        r->doc->tokens[index].length = (guint32) (r->pos - start);
        r->doc->tokens[index].end = r->doc->n_tokens;
        return TRUE;
      }

    case '"':
      return read_string (r);

    case 't':
      return read_literal (r, "true", HUBS_JSON_TRUE);

    case 'f':
      return read_literal (r, "false", HUBS_JSON_FALSE);

    case 'n':
      return read_literal (r, "null", HUBS_JSON_NULL);

    default:
      if (c == '-' || g_ascii_isdigit (c))
        return read_number (r);
      return FALSE;
    }
}

static gboolean
set_reading_error (GError **error)
{
  g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Error reading JSON.");
  return FALSE;
}

gboolean
hubs_json_doc_init (HubsJsonDoc   *doc,
                    const guint8  *data,
                    gsize          length,
                    GError       **error)
{
  Reader r = { doc, data, length, 0 };

  memset (doc, 0, sizeof *doc);
  doc->text = (const char *) data;
  doc->length = length;

  /* Offsets are 32-bit; no sane message size allows more. */
  if (length >= G_MAXUINT32)
    return set_reading_error (error);

  /* Utf8JsonReader rejects invalid UTF-8, and so do we, before anything
   * else looks at the text. This also rejects NUL bytes. */
  if (!g_utf8_validate_len ((const char *) data, length, NULL))
    return set_reading_error (error);

  doc->allocated_tokens = MIN (length / 4 + 8, 1024);
  doc->tokens = g_new (HubsJsonToken, doc->allocated_tokens);

  if (!read_value (&r, 0))
    {
      hubs_json_doc_clear (doc);
      return set_reading_error (error);
    }

  skip_whitespace (&r);
  if (r.pos != length)
    {
      hubs_json_doc_clear (doc);
      return set_reading_error (error);
    }

  return TRUE;
}

void
hubs_json_doc_take_copy (HubsJsonDoc *doc)
{
  if (doc->owned_text != NULL)
    return;

  doc->owned_text = g_malloc (doc->length + 1);
  memcpy (doc->owned_text, doc->text, doc->length);
  doc->owned_text[doc->length] = '\0';
  doc->text = doc->owned_text;
}

void
hubs_json_doc_clear (HubsJsonDoc *doc)
{
  g_clear_pointer (&doc->owned_text, g_free);
  g_clear_pointer (&doc->tokens, g_free);
  doc->text = NULL;
  doc->length = 0;
  doc->n_tokens = 0;
  doc->allocated_tokens = 0;
}

/* Decodes an escaped string; the reader has checked every escape. Returns
 * FALSE if the text holds U+0000. */
static gboolean
decode_string (const char *p,
               gsize       length,
               char       *out,
               gsize      *out_length)
{
  gsize i = 0, n = 0;

  while (i < length)
    {
      if (p[i] != '\\')
        {
          out[n++] = p[i++];
          continue;
        }

      i++;
      switch (p[i])
        {
        case 'b': out[n++] = '\b'; i++; break;
        case 'f': out[n++] = '\f'; i++; break;
        case 'n': out[n++] = '\n'; i++; break;
        case 'r': out[n++] = '\r'; i++; break;
        case 't': out[n++] = '\t'; i++; break;
        case 'u':
          {
            guint unit = 0, low = 0;
            gunichar c;

            read_hex4 ((const guint8 *) p, length, i + 1, &unit);
            i += 5;
            c = unit;
            if (unit >= 0xd800 && unit <= 0xdbff)
              {
                read_hex4 ((const guint8 *) p, length, i + 2, &low);
                i += 6;
                c = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
              }
            if (c == 0)
              return FALSE;
            n += g_unichar_to_utf8 (c, out + n);
          }
          break;
        default:
          out[n++] = p[i++];
          break;
        }
    }

  out[n] = '\0';
  *out_length = n;
  return TRUE;
}

char *
hubs_json_doc_dup_string (const HubsJsonDoc *doc,
                          guint              token)
{
  const HubsJsonToken *t = &doc->tokens[token];
  const char *p = doc->text + t->start;
  g_autofree char *out = NULL;
  gsize n;

  g_return_val_if_fail (t->kind == HUBS_JSON_STRING, NULL);

  if (!(t->flags & HUBS_JSON_TOKEN_ESCAPED))
    return g_strndup (p, t->length);

  /* Escapes never decode to more bytes than they take. */
  out = g_malloc (t->length + 1);
  if (!decode_string (p, t->length, out, &n))
    return NULL;

  return g_steal_pointer (&out);
}

gboolean
hubs_json_doc_string_equal (const HubsJsonDoc *doc,
                            guint              token,
                            const char        *str)
{
  const HubsJsonToken *t = &doc->tokens[token];
  g_autofree char *decoded = NULL;

  if (t->kind != HUBS_JSON_STRING)
    return FALSE;

  if (!(t->flags & HUBS_JSON_TOKEN_ESCAPED))
    return strlen (str) == t->length && memcmp (doc->text + t->start, str, t->length) == 0;

  decoded = hubs_json_doc_dup_string (doc, token);
  return decoded != NULL && strcmp (decoded, str) == 0;
}

/* The magnitude of an integer token, and its sign. FALSE past 2^64 - 1. */
static gboolean
integer_magnitude (const HubsJsonDoc *doc,
                   guint              token,
                   gboolean          *negative,
                   guint64           *magnitude)
{
  const HubsJsonToken *t;
  const char *p;
  gsize i = 0;
  guint64 value = 0;

  if (token == HUBS_JSON_NO_TOKEN)
    return FALSE;

  t = &doc->tokens[token];
  if (t->kind != HUBS_JSON_NUMBER || !(t->flags & HUBS_JSON_TOKEN_INTEGER))
    return FALSE;

  p = doc->text + t->start;
  *negative = p[0] == '-';
  if (*negative)
    i++;

  for (; i < t->length; i++)
    {
      guint digit = (guint) (p[i] - '0');

      if (value > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }

  *magnitude = value;
  return TRUE;
}

gboolean
hubs_json_doc_get_int64 (const HubsJsonDoc *doc,
                         guint              token,
                         gint64            *value)
{
  gboolean negative;
  guint64 magnitude;

  if (!integer_magnitude (doc, token, &negative, &magnitude))
    return FALSE;

  if (negative)
    {
      if (magnitude > (guint64) G_MAXINT64 + 1)
        return FALSE;
      *value = magnitude == (guint64) G_MAXINT64 + 1 ? G_MININT64 : -(gint64) magnitude;
    }
  else
    {
      if (magnitude > G_MAXINT64)
        return FALSE;
      *value = (gint64) magnitude;
    }

  return TRUE;
}

gboolean
hubs_json_doc_get_uint64 (const HubsJsonDoc *doc,
                          guint              token,
                          guint64           *value)
{
  gboolean negative;
  guint64 magnitude;

  if (!integer_magnitude (doc, token, &negative, &magnitude))
    return FALSE;

  /* "-0" is zero, and zero is unsigned. */
  if (negative && magnitude != 0)
    return FALSE;

  *value = magnitude;
  return TRUE;
}

gboolean
hubs_json_doc_get_double (const HubsJsonDoc *doc,
                          guint              token,
                          double            *value)
{
  const HubsJsonToken *t;
  char small[64];
  g_autofree char *large = NULL;
  char *text;
  double d;

  if (token == HUBS_JSON_NO_TOKEN)
    return FALSE;

  t = &doc->tokens[token];
  if (t->kind != HUBS_JSON_NUMBER)
    return FALSE;

  /* The token is not nul-terminated inside the record. */
  if (t->length < sizeof small)
    text = small;
  else
    text = large = g_malloc (t->length + 1);
  memcpy (text, doc->text + t->start, t->length);
  text[t->length] = '\0';

  d = g_ascii_strtod (text, NULL);
  if (!isfinite (d))
    return FALSE;

  *value = d;
  return TRUE;
}

/* The protocol */

#define MISSING(name) "Missing required property '" name "'."

typedef struct
{
  HubsJsonDoc doc;
  guint arguments;              /* the arguments array, or HUBS_JSON_NO_TOKEN */
  guint value;                  /* item or result, or HUBS_JSON_NO_TOKEN */
} JsonWireData;

static void
json_wire_data_free (gpointer data)
{
  JsonWireData *wire = data;

  hubs_json_doc_clear (&wire->doc);
  g_free (wire);
}

/* Utf8JsonReader's names for token types, as they appear in the
 * reference's messages. */
static const char *
token_type_name (HubsJsonKind kind,
                 gboolean     in_expectation)
{
  switch (kind)
    {
    case HUBS_JSON_NULL: return "Null";
    case HUBS_JSON_FALSE: return "False";
    case HUBS_JSON_TRUE: return "True";
    case HUBS_JSON_NUMBER: return "Number";
    case HUBS_JSON_STRING: return "String";
    case HUBS_JSON_ARRAY: return in_expectation ? "Array" : "StartArray";
    case HUBS_JSON_OBJECT: return in_expectation ? "Object" : "StartObject";
    default: return "None";
    }
}

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

/* Reads a string property that must be a string (null is not). */
static gboolean
read_string_property (const HubsJsonDoc  *doc,
                      guint               token,
                      const char         *name,
                      char              **value,
                      GError            **error)
{
  char *str;

  if (hubs_json_doc_kind (doc, token) != HUBS_JSON_STRING)
    return invalid_data (error, "Expected '%s' to be of type String.", name);

  str = hubs_json_doc_dup_string (doc, token);
  if (str == NULL)
    return set_reading_error (error);

  g_free (*value);
  *value = str;
  return TRUE;
}

static gboolean
read_headers (const HubsJsonDoc  *doc,
              guint               token,
              GHashTable        **headers,
              GError            **error)
{
  g_autoptr(GHashTable) table = NULL;
  guint end;

  if (hubs_json_doc_kind (doc, token) != HUBS_JSON_OBJECT)
    return invalid_data (error, "Expected 'headers' to be of type StartObject.");

  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  end = hubs_json_doc_next (doc, token);
  for (guint key = token + 1; key < end; key = hubs_json_doc_next (doc, key + 1))
    {
      g_autofree char *name = hubs_json_doc_dup_string (doc, key);
      g_autofree char *value = NULL;

      if (name == NULL)
        return set_reading_error (error);
      if (hubs_json_doc_kind (doc, key + 1) != HUBS_JSON_STRING)
        return invalid_data (error, "Expected header '%s' to be of type String.", name);

      value = hubs_json_doc_dup_string (doc, key + 1);
      if (value == NULL)
        return set_reading_error (error);

      /* A repeated name keeps the last value, like the reference's
       * dictionary indexer. */
      g_hash_table_replace (table, g_steal_pointer (&name), g_steal_pointer (&value));
    }

  g_clear_pointer (headers, g_hash_table_unref);
  *headers = g_steal_pointer (&table);
  return TRUE;
}

static gboolean
read_stream_ids (const HubsJsonDoc  *doc,
                 guint               token,
                 GStrv              *stream_ids,
                 GError            **error)
{
  g_autoptr(GPtrArray) ids = NULL;
  guint end;

  if (hubs_json_doc_kind (doc, token) != HUBS_JSON_ARRAY)
    return invalid_data (error, "Expected 'streamIds' to be of type Array.");

  ids = g_ptr_array_new_with_free_func (g_free);
  end = hubs_json_doc_next (doc, token);
  for (guint item = token + 1; item < end; item = hubs_json_doc_next (doc, item))
    {
      HubsJsonKind kind = hubs_json_doc_kind (doc, item);
      char *id;

      if (kind == HUBS_JSON_NULL)
        return invalid_data (error, "Null value for 'streamIds' is not valid.");
      if (kind != HUBS_JSON_STRING)
        return invalid_data (error, "Cannot get the value of a token type '%s' as a string.",
                             token_type_name (kind, FALSE));

      id = hubs_json_doc_dup_string (doc, item);
      if (id == NULL)
        return set_reading_error (error);
      g_ptr_array_add (ids, id);
    }
  g_ptr_array_add (ids, NULL);

  g_strfreev (*stream_ids);
  *stream_ids = (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
  return TRUE;
}

typedef struct
{
  gboolean has_type;
  gint64 type;
  char *invocation_id;
  char *target;
  char *error;
  GHashTable *headers;
  GStrv stream_ids;
  guint arguments;
  guint item;
  gboolean has_item;
  guint result;
  gboolean has_result;
  gboolean allow_reconnect;
  gboolean has_sequence_id;
  gint64 sequence_id;
} Fields;

static void
fields_clear (Fields *f)
{
  g_free (f->invocation_id);
  g_free (f->target);
  g_free (f->error);
  g_clear_pointer (&f->headers, g_hash_table_unref);
  g_strfreev (f->stream_ids);
}

/* Reads the members in order, so that the first bad one is the one
 * reported, as with the reference's forward-only reader. */
static gboolean
read_fields (const HubsJsonDoc  *doc,
             Fields             *f,
             GError            **error)
{
  guint end = hubs_json_doc_next (doc, 0);

  for (guint key = 1; key < end; key = hubs_json_doc_next (doc, key + 1))
    {
      guint value = key + 1;
      HubsJsonKind kind = hubs_json_doc_kind (doc, value);

      if (hubs_json_doc_string_equal (doc, key, "type"))
        {
          gint64 type;

          if (!hubs_json_doc_get_int64 (doc, value, &type) || type < G_MININT32 || type > G_MAXINT32)
            return invalid_data (error, "Expected 'type' to be of type Number.");
          f->has_type = TRUE;
          f->type = type;
        }
      else if (hubs_json_doc_string_equal (doc, key, "invocationId"))
        {
          if (!read_string_property (doc, value, "invocationId", &f->invocation_id, error))
            return FALSE;
        }
      else if (hubs_json_doc_string_equal (doc, key, "target"))
        {
          if (!read_string_property (doc, value, "target", &f->target, error))
            return FALSE;
        }
      else if (hubs_json_doc_string_equal (doc, key, "arguments"))
        {
          if (kind != HUBS_JSON_ARRAY)
            return invalid_data (error, "Expected 'arguments' to be of type Array.");
          f->arguments = value;
        }
      else if (hubs_json_doc_string_equal (doc, key, "streamIds"))
        {
          if (!read_stream_ids (doc, value, &f->stream_ids, error))
            return FALSE;
        }
      else if (hubs_json_doc_string_equal (doc, key, "headers"))
        {
          if (!read_headers (doc, value, &f->headers, error))
            return FALSE;
        }
      else if (hubs_json_doc_string_equal (doc, key, "item"))
        {
          f->has_item = TRUE;
          f->item = value;
        }
      else if (hubs_json_doc_string_equal (doc, key, "result"))
        {
          f->has_result = TRUE;
          f->result = value;
        }
      else if (hubs_json_doc_string_equal (doc, key, "error"))
        {
          /* The reference insists on a string; null is taken here as no
           * error, which is what a peer writing null means. */
          if (kind == HUBS_JSON_NULL)
            g_clear_pointer (&f->error, g_free);
          else if (!read_string_property (doc, value, "error", &f->error, error))
            return FALSE;
        }
      else if (hubs_json_doc_string_equal (doc, key, "allowReconnect"))
        {
          if (kind != HUBS_JSON_TRUE && kind != HUBS_JSON_FALSE)
            return invalid_data (error, "Expected 'allowReconnect' to be true or false.");
          f->allow_reconnect = kind == HUBS_JSON_TRUE;
        }
      else if (hubs_json_doc_string_equal (doc, key, "sequenceId"))
        {
          gint64 id;

          if (kind == HUBS_JSON_NULL)
            f->has_sequence_id = FALSE;
          else if (!hubs_json_doc_get_int64 (doc, value, &id) || id < 0)
            return invalid_data (error, "Expected 'sequenceId' to be of type Number.");
          else
            {
              f->has_sequence_id = TRUE;
              f->sequence_id = id;
            }
        }
    }

  return TRUE;
}

static HubsHubMessage *
parse_record (const guint8  *data,
              gsize          length,
              GError       **error)
{
  HubsJsonDoc doc;
  Fields f = { 0, };
  g_autoptr(HubsHubMessage) message = NULL;
  guint value_token = HUBS_JSON_NO_TOKEN;
  gboolean keep_doc = FALSE;

  f.arguments = HUBS_JSON_NO_TOKEN;
  f.item = HUBS_JSON_NO_TOKEN;
  f.result = HUBS_JSON_NO_TOKEN;

  if (!hubs_json_doc_init (&doc, data, length, error))
    return NULL;

  if (hubs_json_doc_kind (&doc, 0) != HUBS_JSON_OBJECT)
    {
      invalid_data (error, "Unexpected JSON Token Type '%s'. Expected a JSON Object.",
                    token_type_name (hubs_json_doc_kind (&doc, 0), TRUE));
      goto out;
    }

  if (!read_fields (&doc, &f, error))
    goto out;

  if (!f.has_type)
    {
      invalid_data (error, MISSING ("type"));
      goto out;
    }

  switch (f.type)
    {
    case HUBS_MESSAGE_INVOCATION:
    case HUBS_MESSAGE_STREAM_INVOCATION:
      if (f.target == NULL)
        {
          invalid_data (error, MISSING ("target"));
          goto out;
        }
      if (f.type == HUBS_MESSAGE_STREAM_INVOCATION &&
          (f.invocation_id == NULL || f.invocation_id[0] == '\0'))
        {
          invalid_data (error, MISSING ("invocationId"));
          goto out;
        }
      if (f.type == HUBS_MESSAGE_INVOCATION && f.target[0] == '\0')
        {
          invalid_data (error, MISSING ("target"));
          goto out;
        }
      if (f.arguments == HUBS_JSON_NO_TOKEN)
        {
          invalid_data (error, MISSING ("arguments"));
          goto out;
        }
      if (f.target[0] == '\0')
        {
          invalid_data (error, MISSING ("target"));
          goto out;
        }
      /* Without arguments there is nothing to bind later. */
      keep_doc = doc.tokens[f.arguments].count > 0;
      break;

    case HUBS_MESSAGE_STREAM_ITEM:
      if (f.invocation_id == NULL || f.invocation_id[0] == '\0')
        {
          invalid_data (error, MISSING ("invocationId"));
          goto out;
        }
      if (!f.has_item)
        {
          invalid_data (error, MISSING ("item"));
          goto out;
        }
      value_token = f.item;
      keep_doc = TRUE;
      break;

    case HUBS_MESSAGE_COMPLETION:
      if (f.invocation_id == NULL || f.invocation_id[0] == '\0')
        {
          invalid_data (error, MISSING ("invocationId"));
          goto out;
        }
      if (f.error != NULL && f.has_result)
        {
          invalid_data (error, "The 'error' and 'result' properties are mutually exclusive.");
          goto out;
        }
      value_token = f.result;
      keep_doc = f.has_result;
      break;

    case HUBS_MESSAGE_CANCEL_INVOCATION:
      if (f.invocation_id == NULL || f.invocation_id[0] == '\0')
        {
          invalid_data (error, MISSING ("invocationId"));
          goto out;
        }
      break;

    case HUBS_MESSAGE_PING:
    case HUBS_MESSAGE_CLOSE:
      break;

    case HUBS_MESSAGE_ACK:
    case HUBS_MESSAGE_SEQUENCE:
      if (!f.has_sequence_id)
        {
          invalid_data (error, MISSING ("sequenceId"));
          goto out;
        }
      break;

    default:
      /* "Future protocol changes can add message types, old clients can
       * ignore them": no message, no error. */
      goto out;
    }

  message = hubs_hub_message_new ((HubsMessageType) f.type);

  switch (message->type)
    {
    case HUBS_MESSAGE_INVOCATION:
    case HUBS_MESSAGE_STREAM_INVOCATION:
      message->target = g_steal_pointer (&f.target);
      message->stream_ids = g_steal_pointer (&f.stream_ids);
      message->n_wire_arguments = doc.tokens[f.arguments].count;
      G_GNUC_FALLTHROUGH;
    case HUBS_MESSAGE_STREAM_ITEM:
    case HUBS_MESSAGE_COMPLETION:
    case HUBS_MESSAGE_CANCEL_INVOCATION:
      message->invocation_id = g_steal_pointer (&f.invocation_id);
      message->headers = g_steal_pointer (&f.headers);
      break;
    case HUBS_MESSAGE_PING:
    case HUBS_MESSAGE_CLOSE:
    case HUBS_MESSAGE_ACK:
    case HUBS_MESSAGE_SEQUENCE:
    default:
      break;
    }

  switch (message->type)
    {
    case HUBS_MESSAGE_STREAM_ITEM:
      message->has_result = TRUE;
      break;
    case HUBS_MESSAGE_COMPLETION:
      message->has_result = f.has_result;
      message->error = g_steal_pointer (&f.error);
      break;
    case HUBS_MESSAGE_CLOSE:
      message->error = g_steal_pointer (&f.error);
      message->allow_reconnect = f.allow_reconnect;
      break;
    case HUBS_MESSAGE_ACK:
    case HUBS_MESSAGE_SEQUENCE:
      message->sequence_id = (guint64) f.sequence_id;
      break;
    default:
      break;
    }

  if (keep_doc)
    {
      JsonWireData *wire = g_new0 (JsonWireData, 1);

      /* The caller's buffer goes away once the record is consumed. */
      hubs_json_doc_take_copy (&doc);
      wire->doc = doc;
      wire->arguments = f.arguments;
      wire->value = value_token;
      memset (&doc, 0, sizeof doc);

      message->wire_data = wire;
      message->wire_data_free = json_wire_data_free;
    }

out:
  hubs_json_doc_clear (&doc);
  fields_clear (&f);
  return g_steal_pointer (&message);
}

static HubsHubMessage *
json_parse_message (const guint8  *data,
                    gsize          length,
                    gsize          max_message_size,
                    gsize         *consumed,
                    GError       **error)
{
  const guint8 *separator;
  gsize window;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (consumed != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  *consumed = 0;

  /* The limit is applied before any parsing: a record, separator
   * included, must fit in the first @max_message_size bytes. */
  window = max_message_size > 0 && max_message_size < length ? max_message_size : length;
  separator = window > 0 ? memchr (data, HUBS_JSON_RECORD_SEPARATOR, window) : NULL;

  if (separator == NULL)
    {
      if (max_message_size > 0 && length >= max_message_size)
        g_set_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE,
                     "The maximum message size of %" G_GSIZE_FORMAT "B was exceeded. "
                     "The message size can be configured in AddHubOptions.",
                     max_message_size);
      return NULL;
    }

  /* Even a bad record is known to end there. */
  *consumed = (gsize) (separator - data) + 1;

  return parse_record (data, (gsize) (separator - data), error);
}

static void
write_invocation_id (const HubsHubMessage *message,
                     GByteArray           *out)
{
  if (message->invocation_id != NULL && message->invocation_id[0] != '\0')
    {
      hubs_json_write_literal (out, ",\"invocationId\":");
      hubs_json_write_string (out, message->invocation_id);
    }
}

static void
write_headers (const HubsHubMessage *message,
               GByteArray           *out)
{
  GHashTableIter iter;
  gpointer key, value;
  gboolean first = TRUE;

  if (message->headers == NULL || g_hash_table_size (message->headers) == 0)
    return;

  hubs_json_write_literal (out, ",\"headers\":{");
  g_hash_table_iter_init (&iter, message->headers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (!first)
        hubs_json_write_literal (out, ",");
      first = FALSE;
      hubs_json_write_string (out, key);
      hubs_json_write_literal (out, ":");
      hubs_json_write_string (out, value);
    }
  hubs_json_write_literal (out, "}");
}

static void
json_write_message (const HubsHubMessage *message,
                    GByteArray           *out)
{
  g_return_if_fail (message != NULL);
  g_return_if_fail (out != NULL);

  hubs_json_write_literal (out, "{\"type\":");
  hubs_json_write_int64 (out, message->type);

  switch (message->type)
    {
    case HUBS_MESSAGE_INVOCATION:
    case HUBS_MESSAGE_STREAM_INVOCATION:
      write_headers (message, out);
      write_invocation_id (message, out);
      hubs_json_write_literal (out, ",\"target\":");
      hubs_json_write_string (out, message->target != NULL ? message->target : "");
      hubs_json_write_literal (out, ",\"arguments\":[");
      for (guint i = 0; i < message->n_arguments; i++)
        {
          if (i > 0)
            hubs_json_write_literal (out, ",");
          hubs_json_write_value (out, &message->arguments[i]);
        }
      hubs_json_write_literal (out, "]");
      if (message->stream_ids != NULL)
        {
          hubs_json_write_literal (out, ",\"streamIds\":[");
          for (guint i = 0; message->stream_ids[i] != NULL; i++)
            {
              if (i > 0)
                hubs_json_write_literal (out, ",");
              hubs_json_write_string (out, message->stream_ids[i]);
            }
          hubs_json_write_literal (out, "]");
        }
      break;

    case HUBS_MESSAGE_STREAM_ITEM:
      write_headers (message, out);
      write_invocation_id (message, out);
      hubs_json_write_literal (out, ",\"item\":");
      hubs_json_write_value (out, &message->value);
      break;

    case HUBS_MESSAGE_COMPLETION:
      write_headers (message, out);
      write_invocation_id (message, out);
      if (message->error != NULL && message->error[0] != '\0')
        {
          hubs_json_write_literal (out, ",\"error\":");
          hubs_json_write_string (out, message->error);
        }
      else if (message->has_result)
        {
          hubs_json_write_literal (out, ",\"result\":");
          hubs_json_write_value (out, &message->value);
        }
      break;

    case HUBS_MESSAGE_CANCEL_INVOCATION:
      write_headers (message, out);
      write_invocation_id (message, out);
      break;

    case HUBS_MESSAGE_PING:
      break;

    case HUBS_MESSAGE_CLOSE:
      if (message->error != NULL)
        {
          hubs_json_write_literal (out, ",\"error\":");
          hubs_json_write_string (out, message->error);
        }
      if (message->allow_reconnect)
        hubs_json_write_literal (out, ",\"allowReconnect\":true");
      break;

    case HUBS_MESSAGE_ACK:
    case HUBS_MESSAGE_SEQUENCE:
      hubs_json_write_literal (out, ",\"sequenceId\":");
      hubs_json_write_uint64 (out, message->sequence_id);
      break;

    default:
      g_critical ("Cannot write a hub message of unknown type %d", (int) message->type);
      break;
    }

  hubs_json_write_literal (out, "}\x1e");
}

static const JsonWireData *
get_wire_data (const HubsHubMessage *message)
{
  /* A message this protocol did not read has nothing to bind: zero
   * arguments, a null value. */
  if (message->wire_data == NULL || message->wire_data_free != json_wire_data_free)
    return NULL;

  return message->wire_data;
}

static gboolean
json_bind_arguments (const HubsHubMessage  *message,
                     guint                  n_params,
                     const HubsParamType   *params,
                     GValue                *values,
                     GError               **error)
{
  const JsonWireData *wire;
  guint n_provided = 0;
  guint token = HUBS_JSON_NO_TOKEN;
  guint n_bound = 0;

  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (n_params == 0 || (params != NULL && values != NULL), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wire = get_wire_data (message);
  if (wire != NULL && wire->arguments != HUBS_JSON_NO_TOKEN)
    {
      n_provided = wire->doc.tokens[wire->arguments].count;
      token = wire->arguments + 1;
    }

  /* As the reference's BindTypes: the first argument that does not bind
   * fails the invocation, before the count is checked. */
  for (; n_bound < MIN (n_provided, n_params); n_bound++)
    {
      if (!hubs_json_bind_value (&wire->doc, token, &params[n_bound], &values[n_bound], NULL))
        {
          g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED,
                               "Error binding arguments. Make sure that the types of the "
                               "provided values match the types of the hub method being invoked.");
          goto failed;
        }
      token = hubs_json_doc_next (&wire->doc, token);
    }

  if (n_provided != n_params)
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED,
                   "Invocation provides %u argument(s) but target expects %u.",
                   n_provided, n_params);
      goto failed;
    }

  return TRUE;

failed:
  for (guint i = 0; i < n_bound; i++)
    g_value_unset (&values[i]);
  return FALSE;
}

static gboolean
json_bind_value (const HubsHubMessage  *message,
                 const HubsParamType   *type,
                 GValue                *value,
                 GError               **error)
{
  static const HubsJsonDoc empty_doc = { NULL, };
  const JsonWireData *wire;

  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (type != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wire = get_wire_data (message);
  if (wire == NULL)
    return hubs_json_bind_value (&empty_doc, HUBS_JSON_NO_TOKEN, type, value, error);

  return hubs_json_bind_value (&wire->doc, wire->value, type, value, error);
}

static const HubsHubProtocol json_hub_protocol = {
  .name = "json",
  .version = 2,
  .transfer_format = HUBS_TRANSFER_FORMAT_TEXT,
  .parse_message = json_parse_message,
  .write_message = json_write_message,
  .bind_arguments = json_bind_arguments,
  .bind_value = json_bind_value,
};

const HubsHubProtocol *
hubs_json_hub_protocol_get (void)
{
  return &json_hub_protocol;
}
