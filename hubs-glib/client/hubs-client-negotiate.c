/* hubs-client-negotiate.c: the client side of negotiate
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * URLs are built the way the JavaScript client builds them
 * (HttpConnection.js `_resolveNegotiateUrl`, `_createConnectUrl`), and the
 * answer is read the way it reads it: unknown fields are ignored, version 0
 * uses the connection id as the token.
 */

#include "hubs-client-private.h"

#include <string.h>
#include <json-glib/json-glib.h>

/* {url}/negotiate?negotiateVersion=1, keeping the URL's query, and asking
 * for stateful reconnect when the client wants it. */
char *
hubs_negotiate_url (const char *url,
                    gboolean    stateful_reconnect)
{
  const char *query = strchr (url, '?');
  GString *negotiate = g_string_new (NULL);

  g_string_append_len (negotiate, url, query != NULL ? query - url : (gssize) strlen (url));
  if (negotiate->len == 0 || negotiate->str[negotiate->len - 1] != '/')
    g_string_append_c (negotiate, '/');
  g_string_append (negotiate, "negotiate");
  if (query != NULL)
    g_string_append (negotiate, query);
  if (strstr (negotiate->str, "negotiateVersion") == NULL)
    g_string_append_printf (negotiate, "%cnegotiateVersion=1", query == NULL ? '?' : '&');
  if (stateful_reconnect && strstr (negotiate->str, "useStatefulReconnect") == NULL)
    g_string_append (negotiate, "&useStatefulReconnect=true");

  return g_string_free (negotiate, FALSE);
}

char *
hubs_connect_url (const char *url,
                  const char *connection_token)
{
  g_autofree char *escaped = NULL;

  if (connection_token == NULL || *connection_token == '\0')
    return g_strdup (url);

  escaped = g_uri_escape_string (connection_token, NULL, FALSE);
  return g_strdup_printf ("%s%cid=%s", url, strchr (url, '?') == NULL ? '?' : '&', escaped);
}

static const struct
{
  const char *name;
  HubsTransportType type;
} transport_names[] = {
  { "WebSockets", HUBS_TRANSPORT_WEB_SOCKETS },
  { "ServerSentEvents", HUBS_TRANSPORT_SERVER_SENT_EVENTS },
  { "LongPolling", HUBS_TRANSPORT_LONG_POLLING },
};

const char *
hubs_transport_type_name (HubsTransportType type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (transport_names); i++)
    if (transport_names[i].type == type)
      return transport_names[i].name;
  return "None";
}

static void
negotiated_transport_free (gpointer data)
{
  HubsNegotiatedTransport *transport = data;

  g_free (transport->name);
  g_free (transport);
}

void
hubs_negotiation_free (HubsNegotiation *negotiation)
{
  if (negotiation == NULL)
    return;

  g_free (negotiation->connection_id);
  g_free (negotiation->connection_token);
  g_free (negotiation->url);
  g_free (negotiation->access_token);
  g_free (negotiation->error);
  g_clear_pointer (&negotiation->transports, g_ptr_array_unref);
  g_free (negotiation);
}

static char *
dup_string_member (JsonObject *object,
                   const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return NULL;
}

static gboolean
get_boolean_member (JsonObject *object,
                    const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

HubsNegotiation *
hubs_negotiation_parse (GBytes  *body,
                        GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(HubsNegotiation) negotiation = g_new0 (HubsNegotiation, 1);
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;
  const char *data = g_bytes_get_data (body, &length);
  JsonObject *object;
  JsonNode *node;

  if (!json_parser_load_from_data (parser, data != NULL ? data : "", length, &local_error) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                   "The negotiate response is not a JSON object%s%s",
                   local_error != NULL ? ": " : ".",
                   local_error != NULL ? local_error->message : "");
      return NULL;
    }
  object = json_node_get_object (json_parser_get_root (parser));

  node = json_object_get_member (object, "negotiateVersion");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    negotiation->negotiate_version = (int) CLAMP (json_node_get_int (node), 0, G_MAXINT);

  negotiation->connection_id = dup_string_member (object, "connectionId");
  negotiation->connection_token = dup_string_member (object, "connectionToken");
  negotiation->url = dup_string_member (object, "url");
  negotiation->access_token = dup_string_member (object, "accessToken");
  negotiation->error = dup_string_member (object, "error");
  negotiation->use_stateful_reconnect = get_boolean_member (object, "useStatefulReconnect");
  negotiation->old_server = json_object_has_member (object, "ProtocolVersion");
  negotiation->transports = g_ptr_array_new_with_free_func (negotiated_transport_free);

  if (negotiation->negotiate_version < 1)
    {
      g_free (negotiation->connection_token);
      negotiation->connection_token = g_strdup (negotiation->connection_id);
    }

  node = json_object_get_member (object, "availableTransports");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          HubsNegotiatedTransport *transport;
          JsonNode *formats;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          transport = g_new0 (HubsNegotiatedTransport, 1);
          transport->name = dup_string_member (json_node_get_object (element), "transport");
          if (transport->name == NULL)
            transport->name = g_strdup ("");
          for (gsize j = 0; j < G_N_ELEMENTS (transport_names); j++)
            if (g_strcmp0 (transport->name, transport_names[j].name) == 0)
              transport->type = transport_names[j].type;

          formats = json_object_get_member (json_node_get_object (element), "transferFormats");
          if (formats != NULL && JSON_NODE_HOLDS_ARRAY (formats))
            {
              JsonArray *list = json_node_get_array (formats);

              for (guint j = 0; j < json_array_get_length (list); j++)
                {
                  JsonNode *format = json_array_get_element (list, j);

                  if (!JSON_NODE_HOLDS_VALUE (format) || json_node_get_value_type (format) != G_TYPE_STRING)
                    continue;
                  if (g_strcmp0 (json_node_get_string (format), "Text") == 0)
                    transport->text = TRUE;
                  else if (g_strcmp0 (json_node_get_string (format), "Binary") == 0)
                    transport->binary = TRUE;
                }
            }
          g_ptr_array_add (negotiation->transports, transport);
        }
    }

  return g_steal_pointer (&negotiation);
}
