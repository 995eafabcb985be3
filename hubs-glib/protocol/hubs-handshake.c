/* hubs-handshake.c: the hub protocol handshake
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whatever the hub protocol, a client opens with one JSON record,
 * {"protocol":"json","version":1} and 0x1E, and the server answers {} or
 * {"error":"…"} and 0x1E. Checks and texts follow ASP.NET Core's
 * HandshakeProtocol.
 */

#include <string.h>

#include "hubs-error.h"
#include "hubs-json-private.h"

static gboolean
missing_property (const char   *name,
                  const guint8 *record,
                  gsize         length,
                  GError      **error)
{
  /* The reference quotes the whole request; the record is valid UTF-8
   * by now. */
  g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
               "Missing required property '%s'. Message content: %.*s",
               name, (int) length, (const char *) record);
  return FALSE;
}

static gboolean
parse_record (const guint8  *record,
              gsize          length,
              char         **protocol,
              int           *version,
              GError       **error)
{
  g_autofree char *name = NULL;
  gboolean has_version = FALSE;
  gint64 number = 0;
  HubsJsonDoc doc;
  gboolean ok = FALSE;
  guint end;

  if (!hubs_json_doc_init (&doc, record, length, error))
    return FALSE;

  if (hubs_json_doc_kind (&doc, 0) != HUBS_JSON_OBJECT)
    {
      static const char * const names[] = {
        [HUBS_JSON_NULL] = "Null", [HUBS_JSON_FALSE] = "False", [HUBS_JSON_TRUE] = "True",
        [HUBS_JSON_NUMBER] = "Number", [HUBS_JSON_STRING] = "String",
        [HUBS_JSON_ARRAY] = "Array", [HUBS_JSON_OBJECT] = "Object",
      };

      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                   "Unexpected JSON Token Type '%s'. Expected a JSON Object.",
                   names[hubs_json_doc_kind (&doc, 0)]);
      goto out;
    }

  end = hubs_json_doc_next (&doc, 0);
  for (guint key = 1; key < end; key = hubs_json_doc_next (&doc, key + 1))
    {
      guint value = key + 1;

      if (hubs_json_doc_string_equal (&doc, key, "protocol"))
        {
          if (hubs_json_doc_kind (&doc, value) != HUBS_JSON_STRING)
            {
              g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                                   "Expected 'protocol' to be of type String.");
              goto out;
            }
          g_free (name);
          name = hubs_json_doc_dup_string (&doc, value);
          if (name == NULL)
            {
              g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA, "Error reading JSON.");
              goto out;
            }
        }
      else if (hubs_json_doc_string_equal (&doc, key, "version"))
        {
          /* Null reads as "no version", as ReadAsInt32 makes it. */
          if (hubs_json_doc_kind (&doc, value) == HUBS_JSON_NULL)
            has_version = FALSE;
          else if (!hubs_json_doc_get_int64 (&doc, value, &number) ||
                   number < G_MININT32 || number > G_MAXINT32)
            {
              g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                                   "Expected 'version' to be of type Number.");
              goto out;
            }
          else
            has_version = TRUE;
        }
    }

  if (name == NULL)
    {
      missing_property ("protocol", record, length, error);
      goto out;
    }
  if (!has_version)
    {
      missing_property ("version", record, length, error);
      goto out;
    }

  *protocol = g_steal_pointer (&name);
  *version = (int) number;
  ok = TRUE;

out:
  hubs_json_doc_clear (&doc);
  return ok;
}

gboolean
hubs_handshake_parse_request (const guint8  *data,
                              gsize          length,
                              gsize          max_size,
                              gsize         *consumed,
                              char         **protocol,
                              int           *version,
                              GError       **error)
{
  const guint8 *separator;
  gsize window;

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (consumed != NULL, FALSE);
  g_return_val_if_fail (protocol != NULL, FALSE);
  g_return_val_if_fail (version != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *consumed = 0;
  *protocol = NULL;
  *version = 0;

  window = max_size > 0 && max_size < length ? max_size : length;
  separator = window > 0 ? memchr (data, HUBS_JSON_RECORD_SEPARATOR, window) : NULL;

  if (separator == NULL)
    {
      if (max_size > 0 && length >= max_size)
        {
          g_set_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE,
                       "The maximum message size of %" G_GSIZE_FORMAT "B was exceeded. "
                       "The message size can be configured in AddHubOptions.",
                       max_size);
          return FALSE;
        }
      return TRUE;
    }

  if (!parse_record (data, (gsize) (separator - data), protocol, version, error))
    return FALSE;

  /* Only the record: what follows is the first hub messages. */
  *consumed = (gsize) (separator - data) + 1;
  return TRUE;
}

void
hubs_handshake_write_response (const char *error,
                               GByteArray *out)
{
  g_return_if_fail (out != NULL);

  /* As the reference, an empty error is no error. */
  if (error == NULL || error[0] == '\0')
    {
      hubs_json_write_literal (out, "{}\x1e");
      return;
    }

  hubs_json_write_literal (out, "{\"error\":");
  hubs_json_write_string (out, error);
  hubs_json_write_literal (out, "}\x1e");
}
