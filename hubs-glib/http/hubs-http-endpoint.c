/* hubs-http-endpoint.c: negotiate and transport requests of a mapped path
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-http-endpoint-private.h"

#include <string.h>
#include <sys/random.h>

#include "hubs-error.h"
#include "hubs-http-context-private.h"
#include "hubs-metrics-private.h"
#include "hubs-user.h"

/* A negotiated connection that no transport claims within this is dropped,
 * as ASP.NET Core's DisconnectTimeout does. */
#define INACTIVE_TIMEOUT_SECONDS 15

/* A POST body larger than this is refused with 413: libsoup reads a body
 * whole before the handler runs, so this bounds what one request can make
 * the server hold. It must stay large: the JS client joins every send
 * queued while a POST is in flight into the next one (tens of MiB when a
 * hub method is slow), and ASP.NET Core, which streams the body into the
 * connection's input, accepts such batches. */
#define MAX_POST_BODY_BYTES (64 * 1024 * 1024)

/* Outgoing queue of the HTTP transports, as the WebSocket one. */
static const HubsHttpTransportOptions http_transport_options = {
  .high_watermark = 64 * 1024,
  .low_watermark = 16 * 1024,
};

struct _HubsConnectionManager
{
  GHashTable *connections;      /* token → HubsHttpConnection */
  GHashTable *inactive;         /* token → source id of its reaper */
};

struct _HubsHttpEndpoint
{
  HubsServer *server;           /* unowned: it owns us */
  HubsConnectionManager *manager;
  char *path;
  HubsHubSettings settings;
  HubsEndpointConnectedFunc connected;
  gpointer connected_data;
  GDestroyNotify connected_destroy;
};

/* Connection manager */

HubsConnectionManager *
hubs_connection_manager_new (void)
{
  HubsConnectionManager *self = g_new0 (HubsConnectionManager, 1);

  self->connections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->inactive = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  return self;
}

static gboolean
remove_source (gpointer key,
               gpointer value,
               gpointer user_data)
{
  g_source_remove (GPOINTER_TO_UINT (value));
  return TRUE;
}

void
hubs_connection_manager_free (HubsConnectionManager *self)
{
  GHashTableIter iter;
  HubsHttpConnection *connection;

  g_hash_table_foreach_remove (self->inactive, remove_source, NULL);

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &connection))
    g_signal_handlers_disconnect_by_data (connection, self);

  g_hash_table_unref (self->connections);
  g_hash_table_unref (self->inactive);
  g_free (self);
}

guint
hubs_connection_manager_get_n_connections (HubsConnectionManager *self)
{
  return g_hash_table_size (self->connections);
}

GList *
hubs_connection_manager_list (HubsConnectionManager *self)
{
  return g_hash_table_get_values (self->connections);
}

void
hubs_connection_manager_drop_unclaimed (HubsConnectionManager *self)
{
  GHashTableIter iter;
  const char *token;
  gpointer source_id;

  g_hash_table_iter_init (&iter, self->inactive);
  while (g_hash_table_iter_next (&iter, (gpointer *) &token, &source_id))
    {
      g_hash_table_remove (self->connections, token);
      g_source_remove (GPOINTER_TO_UINT (source_id));
      g_hash_table_iter_remove (&iter);
    }
}

static char *
random_id (void)
{
  guint8 bytes[16];
  gsize filled = 0;
  char *id;

  /* Connection ids and tokens are secrets that open a connection: they come
   * from the kernel's CSPRNG, 16 bytes as in ASP.NET Core. */
  while (filled < sizeof bytes)
    {
      gssize n = getrandom (bytes + filled, sizeof bytes - filled, 0);

      if (n < 0)
        g_error ("getrandom() failed: %s", g_strerror (errno));
      filled += n;
    }

  id = g_base64_encode (bytes, sizeof bytes);
  for (char *p = id; *p; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }

  return id;
}

typedef struct
{
  HubsConnectionManager *manager;
  char *token;
} Reaper;

static void
reaper_free (gpointer data)
{
  Reaper *reaper = data;

  g_free (reaper->token);
  g_free (reaper);
}

static gboolean
reap_inactive (gpointer user_data)
{
  Reaper *reaper = user_data;

  g_hash_table_remove (reaper->manager->inactive, reaper->token);
  g_hash_table_remove (reaper->manager->connections, reaper->token);
  return G_SOURCE_REMOVE;
}

static void
connection_closed (HubsHttpConnection *connection,
                   const GError       *error,
                   gpointer            user_data)
{
  HubsConnectionManager *self = user_data;

  g_signal_handlers_disconnect_by_data (connection, self);
  g_hash_table_remove (self->connections, hubs_http_connection_get_token (connection));
}

static HubsHttpConnection *
manager_create (HubsConnectionManager *self,
                gboolean               with_token)
{
  g_autofree char *id = random_id ();
  g_autofree char *token = with_token ? random_id () : g_strdup (id);
  HubsHttpConnection *connection = hubs_http_connection_new (id, token);
  Reaper *reaper;
  guint source_id;

  g_hash_table_insert (self->connections, g_strdup (token), connection);
  g_signal_connect (connection, "closed", G_CALLBACK (connection_closed), self);

  reaper = g_new0 (Reaper, 1);
  reaper->manager = self;
  reaper->token = g_strdup (token);
  source_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, INACTIVE_TIMEOUT_SECONDS,
                                          reap_inactive, reaper, reaper_free);
  g_hash_table_insert (self->inactive, g_strdup (token), GUINT_TO_POINTER (source_id));

  return connection;
}

static void
manager_activate (HubsConnectionManager *self,
                  HubsHttpConnection    *connection)
{
  const char *token = hubs_http_connection_get_token (connection);
  gpointer key, source_id;

  if (g_hash_table_steal_extended (self->inactive, token, &key, &source_id))
    {
      g_source_remove (GPOINTER_TO_UINT (source_id));
      g_free (key);
    }
}

/* Endpoint */

HubsHttpEndpoint *
hubs_http_endpoint_new (HubsServer                *server,
                        HubsConnectionManager     *manager,
                        const char                *path,
                        const HubsHubSettings     *settings,
                        HubsEndpointConnectedFunc  connected,
                        gpointer                   user_data,
                        GDestroyNotify             destroy)
{
  HubsHttpEndpoint *self = g_new0 (HubsHttpEndpoint, 1);

  self->server = server;
  self->manager = manager;
  self->path = g_strdup (path);
  self->settings = *settings;
  self->connected = connected;
  self->connected_data = user_data;
  self->connected_destroy = destroy;

  return self;
}

void
hubs_http_endpoint_free (HubsHttpEndpoint *self)
{
  if (self->connected_destroy != NULL)
    self->connected_destroy (self->connected_data);
  g_free (self->path);
  g_free (self);
}

const char *
hubs_http_endpoint_get_path (HubsHttpEndpoint *self)
{
  return self->path;
}

static void
respond_text (SoupServerMessage *message,
              guint              status,
              const char        *body)
{
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, "text/plain", SOUP_MEMORY_COPY,
                                    body ? body : "", body ? strlen (body) : 0);
}

static const char *
query_value (SoupServerMessage *message,
             const char        *name,
             gboolean           case_insensitive)
{
  static GQuark quark;
  GHashTable *query;
  const char *query_string = g_uri_get_query (soup_server_message_get_uri (message));
  GHashTableIter iter;
  const char *key, *value;

  if (query_string == NULL)
    return NULL;

  /* Parsed once per request and kept with it. */
  if (quark == 0)
    quark = g_quark_from_static_string ("hubs-query");
  query = g_object_get_qdata (G_OBJECT (message), quark);
  if (query == NULL)
    {
      query = soup_form_decode (query_string);
      g_object_set_qdata_full (G_OBJECT (message), quark, query, (GDestroyNotify) g_hash_table_unref);
    }

  if (!case_insensitive)
    return g_hash_table_lookup (query, name);

  g_hash_table_iter_init (&iter, query);
  while (g_hash_table_iter_next (&iter, (gpointer *) &key, (gpointer *) &value))
    if (g_ascii_strcasecmp (key, name) == 0)
      return value;

  return NULL;
}

static void
append_transports (GString                *json,
                   const HubsHubSettings  *settings)
{
  HubsTransportType transports = settings->transports;
  gboolean first = TRUE;

  g_string_append (json, "\"availableTransports\":[");
  if (transports & HUBS_TRANSPORT_WEB_SOCKETS)
    {
      g_string_append (json, "{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\",\"Binary\"]}");
      first = FALSE;
    }
  if (transports & HUBS_TRANSPORT_SERVER_SENT_EVENTS)
    {
      g_string_append (json, first ? "" : ",");
      g_string_append (json, "{\"transport\":\"ServerSentEvents\",\"transferFormats\":[\"Text\"]}");
      first = FALSE;
    }
  if (transports & HUBS_TRANSPORT_LONG_POLLING)
    {
      g_string_append (json, first ? "" : ",");
      g_string_append (json, "{\"transport\":\"LongPolling\",\"transferFormats\":[\"Text\",\"Binary\"]}");
    }
  g_string_append_c (json, ']');
}

static void
respond_json (SoupServerMessage *message,
              GString           *json)
{
  gsize length = json->len;

  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "application/json", SOUP_MEMORY_TAKE,
                                    g_string_free (json, FALSE), length);
}

/* As HttpConnectionDispatcher: the query's UseStatefulReconnect, read as
 * .NET's bool.TryParse reads it. */
static gboolean
wants_stateful_reconnect (SoupServerMessage *message)
{
  const char *value = query_value (message, "useStatefulReconnect", TRUE);
  g_autofree char *stripped = NULL;

  if (value == NULL)
    return FALSE;
  stripped = g_strstrip (g_strdup (value));
  return g_ascii_strcasecmp (stripped, "true") == 0;
}

static void
handle_negotiate (HubsHttpEndpoint  *self,
                  SoupServerMessage *message)
{
  const char *requested = query_value (message, "negotiateVersion", TRUE);
  g_autoptr(HubsHttpContext) request = NULL;
  HubsHttpConnection *connection;
  GString *json;
  gint64 version = 0;

  if (soup_server_message_get_method (message) != SOUP_METHOD_POST)
    {
      respond_text (message, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  request = hubs_http_context_new (message, NULL);
  if (!hubs_server_authenticate_request (self->server, message, request, &self->settings))
    return;

  if (requested != NULL)
    {
      char *end = NULL;

      errno = 0;
      version = g_ascii_strtoll (requested, &end, 10);
      if (*requested == '\0' || *end != '\0' || errno != 0 || version < G_MININT32 || version > G_MAXINT32)
        {
          json = g_string_new ("{\"error\":\"The client requested a non-integer protocol version.\"}");
          respond_json (message, json);
          return;
        }
      if (version < 0)
        {
          json = g_string_new (NULL);
          g_string_printf (json, "{\"error\":\"The client requested version '%" G_GINT64_FORMAT "', "
                           "but the server does not support this version.\"}", version);
          respond_json (message, json);
          return;
        }
      version = MIN (version, 1);
    }

  connection = manager_create (self->manager, version > 0);

  json = g_string_new ("{");
  if (self->settings.allow_stateful_reconnects && wants_stateful_reconnect (message))
    {
      hubs_http_connection_set_stateful_reconnect (connection, TRUE);
      g_string_append (json, "\"useStatefulReconnect\":true,");
    }
  g_string_append_printf (json, "\"negotiateVersion\":%d,\"connectionId\":\"%s\",", (int) version,
                          hubs_http_connection_get_connection_id (connection));
  if (version > 0)
    g_string_append_printf (json, "\"connectionToken\":\"%s\",", hubs_http_connection_get_token (connection));
  append_transports (json, &self->settings);
  g_string_append_c (json, '}');
  respond_json (message, json);
}

typedef struct
{
  HubsHttpEndpoint *endpoint;
  HubsHttpConnection *connection;
  HubsHttpContext *http_context;
} Upgrade;

static void
upgrade_free (gpointer data,
              GClosure *closure)
{
  Upgrade *upgrade = data;

  g_clear_object (&upgrade->connection);
  g_clear_object (&upgrade->http_context);
  g_free (upgrade);
}

static void
websocket_upgraded (SoupServerMessage *message,
                    gpointer           user_data)
{
  Upgrade *upgrade = user_data;
  HubsWebSocketOptions options = {
    .max_frame_size = 0,
    .high_watermark = 64 * 1024,
    .low_watermark = 16 * 1024,
    .close_timeout_ms = 5000,
    .scheduler = hubs_server_get_write_scheduler (upgrade->endpoint->server),
  };
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(HubsTransport) transport = NULL;

  if (soup_server_message_get_status (message) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;

  g_signal_handlers_disconnect_by_func (message, websocket_upgraded, user_data);

  /* Below libsoup's stream, the socket, for the poller; not under TLS,
   * whose stream holds decrypted input the socket does not show. */
  if (g_strcmp0 (g_uri_get_scheme (soup_server_message_get_uri (message)), "http") == 0)
    options.socket = soup_server_message_get_socket (message);

  stream = soup_server_message_steal_connection (message);
  transport = hubs_websocket_transport_new (stream, &options);
  hubs_metrics_attach_transport (hubs_server_get_metrics (upgrade->endpoint->server), transport);

  /* A stateful connection whose client comes back: its application goes
   * on, on the new socket. */
  if (hubs_http_connection_can_resume (upgrade->connection))
    {
      hubs_http_connection_attach (upgrade->connection, transport, upgrade->http_context);
      return;
    }

  manager_activate (upgrade->endpoint->manager, upgrade->connection);
  hubs_http_connection_attach (upgrade->connection, transport, upgrade->http_context);
  upgrade->endpoint->connected (upgrade->connection, upgrade->endpoint->connected_data);
}

static gboolean
is_websocket_request (SoupServerMessage *message)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (message);

  return soup_message_headers_header_contains (headers, "Upgrade", "websocket");
}

static void
handle_websocket (HubsHttpEndpoint  *self,
                  SoupServerMessage *message,
                  HubsHttpContext   *request)
{
  const char *token = query_value (message, "id", FALSE);
  g_autoptr(HubsHttpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  Upgrade *upgrade;

  if (!(self->settings.transports & HUBS_TRANSPORT_WEB_SOCKETS))
    {
      respond_text (message, SOUP_STATUS_NOT_FOUND,
                    "WebSockets transport not supported by this end point type");
      return;
    }

  if (!soup_websocket_server_check_handshake (message, NULL, NULL, NULL, &error))
    {
      respond_text (message, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }

  if (token != NULL)
    {
      HubsHttpConnection *existing = g_hash_table_lookup (self->manager->connections, token);

      if (existing == NULL)
        {
          /* As ASP.NET Core: no Content-Type on this one. */
          soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
          soup_message_body_append (soup_server_message_get_response_body (message), SOUP_MEMORY_STATIC,
                                    "No Connection with that ID", strlen ("No Connection with that ID"));
          return;
        }
      if (hubs_http_connection_get_transport (existing) != HUBS_TRANSPORT_NONE &&
          hubs_http_connection_get_transport (existing) != HUBS_TRANSPORT_WEB_SOCKETS)
        {
          respond_text (message, SOUP_STATUS_BAD_REQUEST, "Cannot change transports mid-connection");
          return;
        }
      if (hubs_http_connection_is_closed (existing))
        {
          respond_text (message, SOUP_STATUS_NOT_FOUND, NULL);
          return;
        }
      if (hubs_http_connection_is_attached (existing) && !hubs_http_connection_can_resume (existing))
        {
          soup_server_message_set_status (message, SOUP_STATUS_CONFLICT, NULL);
          return;
        }
      connection = g_object_ref (existing);
    }
  else
    {
      /* Skipped negotiation: a new connection the client never learns. */
      connection = g_object_ref (manager_create (self->manager, FALSE));
    }

  if (!soup_websocket_server_process_handshake (message, NULL, NULL, NULL, NULL))
    return;

  upgrade = g_new0 (Upgrade, 1);
  upgrade->endpoint = self;
  upgrade->connection = g_steal_pointer (&connection);
  upgrade->http_context = g_object_ref (request);
  g_signal_connect_data (message, "wrote-informational", G_CALLBACK (websocket_upgraded),
                         upgrade, upgrade_free, 0);
}

static HubsHttpConnection *
lookup_for_request (HubsHttpEndpoint  *self,
                    SoupServerMessage *message)
{
  const char *token = query_value (message, "id", FALSE);
  HubsHttpConnection *connection;

  if (token == NULL)
    {
      respond_text (message, SOUP_STATUS_BAD_REQUEST, "Connection ID required");
      return NULL;
    }

  connection = g_hash_table_lookup (self->manager->connections, token);
  if (connection == NULL)
    {
      respond_text (message, SOUP_STATUS_NOT_FOUND, "No Connection with that ID");
      return NULL;
    }

  return connection;
}

static const char *
transport_name (HubsTransportType transport)
{
  switch (transport)
    {
    case HUBS_TRANSPORT_WEB_SOCKETS:
      return "WebSockets";
    case HUBS_TRANSPORT_SERVER_SENT_EVENTS:
      return "ServerSentEvents";
    case HUBS_TRANSPORT_LONG_POLLING:
      return "LongPolling";
    default:
      return "None";
    }
}

/* As HttpConnectionDispatcher.EnsureConnectionStateAsync: the transport
 * must be enabled here, and a connection keeps the transport it began
 * with. Returns FALSE when the request has been answered. */
static gboolean
check_transport (HubsHttpEndpoint   *self,
                 SoupServerMessage  *message,
                 HubsHttpConnection *connection,
                 HubsTransportType   wanted)
{
  HubsTransportType current = hubs_http_connection_get_transport (connection);

  if (!(self->settings.transports & wanted))
    {
      g_autofree char *text = g_strdup_printf ("%s transport not supported by this end point type",
                                               transport_name (wanted));

      respond_text (message, SOUP_STATUS_NOT_FOUND, text);
      return FALSE;
    }
  if (current != HUBS_TRANSPORT_NONE && current != wanted)
    {
      respond_text (message, SOUP_STATUS_BAD_REQUEST, "Cannot change transports mid-connection");
      return FALSE;
    }
  /* Disposed but not yet forgotten (HttpConnectionContext's
   * FailActivationUnsynchronized). */
  if (hubs_http_connection_is_closed (connection))
    {
      respond_text (message, SOUP_STATUS_NOT_FOUND, NULL);
      return FALSE;
    }

  return TRUE;
}

static void
start_connection (HubsHttpEndpoint   *self,
                  HubsHttpConnection *connection,
                  HubsTransport      *transport,
                  HubsHttpContext    *request)
{
  g_autoptr(HubsHttpConnection) keep = g_object_ref (connection);

  manager_activate (self->manager, connection);
  hubs_metrics_attach_transport (hubs_server_get_metrics (self->server), transport);
  hubs_http_connection_attach (connection, transport, request);
  self->connected (connection, self->connected_data);
}

static void
handle_sse (HubsHttpEndpoint  *self,
            SoupServerMessage *message,
            HubsHttpContext   *request)
{
  HubsHttpConnection *connection = lookup_for_request (self, message);
  g_autoptr(HubsTransport) transport = NULL;

  if (connection == NULL ||
      !check_transport (self, message, connection, HUBS_TRANSPORT_SERVER_SENT_EVENTS))
    return;

  if (hubs_http_connection_is_attached (connection))
    {
      respond_text (message, SOUP_STATUS_CONFLICT, NULL);
      return;
    }

  transport = hubs_sse_transport_new (message, &http_transport_options);
  start_connection (self, connection, transport, request);
}

static void
add_no_cache_headers (SoupServerMessage *message)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (message);

  soup_message_headers_replace (headers, "Cache-Control", "no-cache, no-store");
  soup_message_headers_replace (headers, "Pragma", "no-cache");
  soup_message_headers_replace (headers, "Expires", "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void
handle_poll (HubsHttpEndpoint  *self,
             SoupServerMessage *message,
             HubsHttpContext   *request)
{
  HubsHttpConnection *connection;
  g_autoptr(HubsTransport) transport = NULL;

  /* Before the lookup: its 400 and 404 carry them too. */
  add_no_cache_headers (message);

  connection = lookup_for_request (self, message);
  if (connection == NULL ||
      !check_transport (self, message, connection, HUBS_TRANSPORT_LONG_POLLING))
    return;

  if (hubs_http_connection_is_attached (connection))
    {
      HubsTransport *current = hubs_http_connection_get_transport_object (connection);

      /* As HttpConnectionDispatcher.EnsureConnectionStateAsync: each poll
       * brings the connection the user it was authenticated as (and so the
       * expiration of a renewed token). */
      hubs_http_context_set_user (hubs_http_connection_get_http_context (connection),
                                  hubs_http_context_get_user (request));
      hubs_long_polling_transport_poll (HUBS_LONG_POLLING_TRANSPORT (current), message);
      return;
    }

  /* The first poll starts the connection and returns at once. */
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "application/octet-stream", SOUP_MEMORY_STATIC, "", 0);

  transport = hubs_long_polling_transport_new (&http_transport_options);
  start_connection (self, connection, transport, request);
}

static void
handle_send (HubsHttpEndpoint  *self,
             SoupServerMessage *message)
{
  HubsHttpConnection *connection = lookup_for_request (self, message);
  HubsTransportType transport;

  if (connection == NULL)
    return;

  transport = hubs_http_connection_get_transport (connection);
  if (transport == HUBS_TRANSPORT_WEB_SOCKETS)
    {
      respond_text (message, SOUP_STATUS_METHOD_NOT_ALLOWED,
                    "POST requests are not allowed for WebSocket connections.");
      return;
    }

  /* No transport yet, so no application to take the data; or gone. */
  if (transport == HUBS_TRANSPORT_NONE || hubs_http_connection_is_closed (connection))
    {
      respond_text (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  if (soup_server_message_get_request_body (message)->length > MAX_POST_BODY_BYTES)
    {
      respond_text (message, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
      return;
    }

  hubs_transport_receive_post (hubs_http_connection_get_transport_object (connection), message);
}

static void
handle_delete (HubsHttpEndpoint  *self,
               SoupServerMessage *message)
{
  HubsHttpConnection *connection = lookup_for_request (self, message);
  g_autoptr(HubsHttpConnection) keep = NULL;

  if (connection == NULL)
    return;

  if (hubs_http_connection_get_transport (connection) != HUBS_TRANSPORT_LONG_POLLING)
    {
      respond_text (message, SOUP_STATUS_BAD_REQUEST,
                    "Cannot terminate this connection using the DELETE endpoint.");
      return;
    }

  respond_text (message, SOUP_STATUS_ACCEPTED, NULL);
  keep = g_object_ref (connection);
  hubs_long_polling_transport_terminate (HUBS_LONG_POLLING_TRANSPORT (hubs_http_connection_get_transport_object (connection)));
}

/* Refuses a POST whose declared body is too large before libsoup reads it. */
gboolean
hubs_http_endpoint_check_request_size (SoupServerMessage *message)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (message);

  if (soup_server_message_get_method (message) == SOUP_METHOD_POST &&
      soup_message_headers_get_content_length (headers) > MAX_POST_BODY_BYTES)
    {
      respond_text (message, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, NULL);
      return FALSE;
    }
  return TRUE;
}

void
hubs_http_endpoint_handle (HubsHttpEndpoint  *self,
                           SoupServerMessage *message,
                           gboolean           negotiate)
{
  const char *method = soup_server_message_get_method (message);
  g_autoptr(HubsHttpContext) request = NULL;

  if (negotiate)
    {
      handle_negotiate (self, message);
      return;
    }

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_POST &&
      method != SOUP_METHOD_DELETE && method != SOUP_METHOD_CONNECT)
    {
      respond_text (message, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  request = hubs_http_context_new (message, NULL);
  if (!hubs_server_authenticate_request (self->server, message, request, &self->settings))
    return;

  if (method == SOUP_METHOD_GET && is_websocket_request (message))
    {
      handle_websocket (self, message, request);
      return;
    }

  if (method == SOUP_METHOD_GET)
    {
      const char *accept = soup_message_headers_get_one (soup_server_message_get_request_headers (message),
                                                         "Accept");

      if (accept != NULL && strstr (accept, "text/event-stream") != NULL)
        handle_sse (self, message, request);
      else
        handle_poll (self, message, request);
      return;
    }

  if (method == SOUP_METHOD_POST)
    {
      handle_send (self, message);
      return;
    }

  if (method == SOUP_METHOD_DELETE)
    {
      handle_delete (self, message);
      return;
    }

  respond_text (message, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
}
