/* hubs-json-private.h: JSON text for the JSON hub protocol and the handshake
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three pieces share this header:
 *
 * - the writer (hubs-json-writer.c) appends JSON text to a GByteArray the
 *   way System.Text.Json does with JavaScriptEncoder.UnsafeRelaxedJsonEscaping
 *   and no indentation, so that what we send is byte for byte what an
 *   ASP.NET Core server sends;
 * - the reader (HubsJsonDoc, in hubs-json-hub-protocol.c) checks one record
 *   strictly (RFC 8259, UTF-8, at most HUBS_JSON_MAX_DEPTH nested containers)
 *   and indexes it as a flat array of tokens, without copying or decoding
 *   anything, so that values can be bound later, once their declared types
 *   are known;
 * - the value conversions (hubs-json-values.c) between GValues and JSON,
 *   the only place that knows how a GType looks in JSON.
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "hubs-hub-protocol-private.h"

G_BEGIN_DECLS

/* System.Text.Json's default MaxDepth, for reading and for writing. */
#define HUBS_JSON_MAX_DEPTH 64

/* The record separator that ends every JSON record. */
#define HUBS_JSON_RECORD_SEPARATOR 0x1e

/* Writer */

/* Appends a string literal without measuring it at run time. */
#define hubs_json_write_literal(out, literal) \
  g_byte_array_append ((out), (const guint8 *) "" literal, sizeof (literal) - 1)

void hubs_json_write_raw            (GByteArray   *out,
                                     const char   *text);
void hubs_json_write_null           (GByteArray   *out);
void hubs_json_write_boolean        (GByteArray   *out,
                                     gboolean      value);
void hubs_json_write_int64          (GByteArray   *out,
                                     gint64        value);
void hubs_json_write_uint64         (GByteArray   *out,
                                     guint64       value);
/* Shortest text that reads back as the same double, formatted as .NET
 * formats it ("1", "0.1", "1E+21", "1E-05"). NaN and infinities have no
 * JSON form: they are written as null, with a warning. */
void hubs_json_write_double         (GByteArray   *out,
                                     double        value);
/* The same for a float, whose shortest form is usually shorter. */
void hubs_json_write_float          (GByteArray   *out,
                                     float         value);
/* @length may be -1 for a nul-terminated @str. Invalid UTF-8 is written as
 * U+FFFD, one for each maximal invalid subpart. */
void hubs_json_write_string_len     (GByteArray   *out,
                                     const char   *str,
                                     gssize        length);
/* Standard alphabet, padded, as a JSON string. */
void hubs_json_write_base64         (GByteArray   *out,
                                     const guint8 *data,
                                     gsize         length);

/* Reader */

typedef enum
{
  HUBS_JSON_NULL,
  HUBS_JSON_FALSE,
  HUBS_JSON_TRUE,
  HUBS_JSON_NUMBER,
  HUBS_JSON_STRING,
  HUBS_JSON_ARRAY,
  HUBS_JSON_OBJECT,
} HubsJsonKind;

typedef enum
{
  HUBS_JSON_TOKEN_ESCAPED = 1 << 0,  /* string: contains backslash escapes */
  HUBS_JSON_TOKEN_INTEGER = 1 << 1,  /* number: no fraction, no exponent */
} HubsJsonTokenFlags;

/* A value of the record, or an object member's key (a string token that
 * comes right before its value). A container's children follow it, and
 * @end is the index just past its last descendant, so skipping a subtree
 * costs nothing. */
typedef struct
{
  guint8 kind;                  /* HubsJsonKind */
  guint8 flags;                 /* HubsJsonTokenFlags */
  guint32 start;                /* offset in the text; a string's starts after its quote */
  guint32 length;               /* bytes; a string's without its quotes */
  guint32 end;
  guint32 count;                /* elements of an array, members of an object */
} HubsJsonToken;

/* "No token": a missing value, which binds like JSON null. */
#define HUBS_JSON_NO_TOKEN G_MAXUINT32

typedef struct
{
  const char *text;             /* the record, without its separator */
  gsize length;
  char *owned_text;             /* set once the text was copied */
  HubsJsonToken *tokens;
  guint n_tokens;
  guint allocated_tokens;
} HubsJsonDoc;

/* Checks and indexes @length bytes. @data is not copied: keep it alive or
 * call hubs_json_doc_take_copy(). Fails with HUBS_ERROR_INVALID_DATA
 * "Error reading JSON." */
gboolean     hubs_json_doc_init          (HubsJsonDoc        *doc,
                                          const guint8       *data,
                                          gsize               length,
                                          GError            **error);
void         hubs_json_doc_take_copy     (HubsJsonDoc        *doc);
void         hubs_json_doc_clear         (HubsJsonDoc        *doc);

static inline HubsJsonKind
hubs_json_doc_kind (const HubsJsonDoc *doc,
                    guint              token)
{
  return token == HUBS_JSON_NO_TOKEN ? HUBS_JSON_NULL : (HubsJsonKind) doc->tokens[token].kind;
}

/* The index of the token after @token's subtree: its next sibling. */
static inline guint
hubs_json_doc_next (const HubsJsonDoc *doc,
                    guint              token)
{
  return doc->tokens[token].end;
}

/* Decodes a string token. NULL when the string holds U+0000, which no C
 * string can carry. */
char        *hubs_json_doc_dup_string    (const HubsJsonDoc  *doc,
                                          guint               token);
gboolean     hubs_json_doc_string_equal  (const HubsJsonDoc  *doc,
                                          guint               token,
                                          const char         *str);
/* Integer numbers only (no fraction or exponent), within range. */
gboolean     hubs_json_doc_get_int64     (const HubsJsonDoc  *doc,
                                          guint               token,
                                          gint64             *value);
gboolean     hubs_json_doc_get_uint64    (const HubsJsonDoc  *doc,
                                          guint               token,
                                          guint64            *value);
/* Any number whose value is finite as a double. */
gboolean     hubs_json_doc_get_double    (const HubsJsonDoc  *doc,
                                          guint               token,
                                          double             *value);

/* Values */

/* Writes @value by its own type; an unset value is null. */
void         hubs_json_write_value       (GByteArray         *out,
                                          const GValue       *value);
void         hubs_json_write_variant     (GByteArray         *out,
                                          GVariant           *variant);
void         hubs_json_write_node        (GByteArray         *out,
                                          JsonNode           *node);

/* Binds @token (HUBS_JSON_NO_TOKEN: null) to @type into @value, which must
 * be zeroed. On failure @value is left zeroed and @error is
 * HUBS_ERROR_BINDING_FAILED. */
gboolean     hubs_json_bind_value        (const HubsJsonDoc  *doc,
                                          guint               token,
                                          const HubsParamType *type,
                                          GValue             *value,
                                          GError            **error);
/* A json-glib copy of @token's subtree. */
JsonNode    *hubs_json_doc_to_node       (const HubsJsonDoc  *doc,
                                          guint               token);

G_END_DECLS
