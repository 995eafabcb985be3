/* interop-routes.c: the HTTP rows of the contract outside the hubs, and the
 * raw /echo endpoint
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rows are checked in the contract's order for every request, including
 * those of the hubs: CORS headers and the negotiate cookies must be on the
 * answers hubs-glib's own handlers write too. A SoupServer early handler
 * cannot do that: libsoup matches early and normal handlers together by the
 * longest registered path, so an early handler on "/" never runs for a path
 * under which hubs-glib registered a handler. Instead every message gets a
 * "got-headers" handler from SoupServer::request-started. It runs once the
 * request headers are read, after libsoup's own got-headers work (and any
 * early handler); setting a status there makes libsoup skip the normal
 * handlers, and the response is written only after the request body is
 * read, so headers added there reach every answer.
 */

#include "interop-server.h"

#include <string.h>

/* @path is @prefix or below it, compared without regard to case, by whole
 * segments: "/redirect" covers "/redirect/negotiate", not "/redirectx". */
gboolean
interop_path_is_under (const char *path,
                       const char *prefix)
{
  gsize length = strlen (prefix);

  if (path == NULL || g_ascii_strncasecmp (path, prefix, length) != 0)
    return FALSE;

  return path[length] == '\0' || path[length] == '/';
}

/* An endpoint route: the path itself, with or without a trailing slash */
static gboolean
path_is (const char *path,
         const char *route)
{
  gsize length = strlen (route);

  if (g_ascii_strncasecmp (path, route, length) != 0)
    return FALSE;

  return path[length] == '\0' || (path[length] == '/' && path[length + 1] == '\0');
}

static void
answer (SoupServerMessage *msg,
        guint              status,
        const char        *content_type,
        const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);

  if (body == NULL)
    return;

  /* Without a content type the reference sends none, and
   * soup_server_message_set_response() would drop the body. */
  if (content_type != NULL)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
  else
    soup_message_body_append (soup_server_message_get_response_body (msg),
                              SOUP_MEMORY_COPY, body, strlen (body));
}

static void
add_cors_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const char *origin = soup_message_headers_get_one (request, "Origin");
  const char *method;
  const char *headers;

  if (origin == NULL || *origin == '\0')
    return;

  soup_message_headers_replace (response, "Access-Control-Allow-Origin", origin);
  soup_message_headers_replace (response, "Access-Control-Allow-Credentials", "true");

  method = soup_message_headers_get_list (request, "Access-Control-Request-Method");
  if (method != NULL && *method != '\0')
    soup_message_headers_replace (response, "Access-Control-Allow-Methods", method);

  headers = soup_message_headers_get_list (request, "Access-Control-Request-Headers");
  if (headers != NULL && *headers != '\0')
    soup_message_headers_replace (response, "Access-Control-Allow-Headers", headers);
}

static void
add_negotiate_cookies (SoupServerMessage *msg)
{
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) an_hour_ago = g_date_time_add_hours (now, -1);
  g_autofree char *expires = soup_date_time_to_string (an_hour_ago, SOUP_DATE_HTTP);
  g_autofree char *expired_cookie = g_strdup_printf ("expiredCookie=doesntmatter; expires=%s; path=/", expires);

  /* The server speaks plain HTTP only, so the cookies never get the
   * "secure; samesite=none; partitioned" of HTTPS answers. */
  soup_message_headers_append (response, "Set-Cookie", "testCookie=testValue; path=/");
  soup_message_headers_append (response, "Set-Cookie", "testCookie2=testValue2; path=/");
  soup_message_headers_append (response, "Set-Cookie", expired_cookie);
}

static gboolean
is_negotiate (const char *path)
{
  /* Case-sensitive, anywhere in the path, as the reference checks it */
  return strstr (path, "/negotiate") != NULL;
}

/* 307 to the same path on /echo. The target is absolute because the
 * EventSource of the Node SignalR client cannot follow a relative one. */
static void
redirect_to_echo (InteropApp        *app,
                  SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);
  g_autoptr(GString) path = g_string_new (g_uri_get_path (uri));
  g_autofree char *escaped_path = NULL;
  g_autofree char *location = NULL;

  /* string.Replace in the reference: ordinal, every occurrence */
  g_string_replace (path, "echoredirect", "echo", 0);
  escaped_path = g_uri_escape_string (path->str, G_URI_RESERVED_CHARS_ALLOWED_IN_PATH, FALSE);
  location = g_strdup_printf ("http://127.0.0.1:%u%s%s%s",
                              hubs_server_get_port (app->server), escaped_path,
                              query ? "?" : "", query ? query : "");

  answer (msg, SOUP_STATUS_TEMPORARY_REDIRECT, NULL, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", location);
}

/* A negotiate answer that sends the client on to /testHub, counting the
 * redirects server-wide so that GetNumRedirects can tell them apart. */
static void
redirect_negotiate (InteropApp        *app,
                    SoupServerMessage *msg)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) form = query ? soup_form_decode (query) : NULL;
  const char *base_url = form ? g_hash_table_lookup (form, "baseUrl") : NULL;
  g_autofree char *body = NULL;

  app->redirect_count++;
  body = g_strdup_printf ("{ \"url\": \"%s/testHub?numRedirects=%u\" }",
                          base_url ? base_url : "", app->redirect_count);
  answer (msg, SOUP_STATUS_OK, NULL, body);
}

static void
generate_jwt_token (InteropApp        *app,
                    SoupServerMessage *msg)
{
  g_autofree char *token = interop_jwt_key_issue (app->jwt_key, "testuser", 5);

  answer (msg, SOUP_STATUS_OK, "text/plain", token);
}

/* /featurehub-notify answers once Notify has been handed to every
 * connection's transport, so the message stays paused meanwhile. */
typedef struct
{
  SoupServerMessage *msg;
  gulong finished_id;
  gboolean finished;
} PausedMessage;

static void
paused_message_finished (SoupServerMessage *msg,
                         gpointer           user_data)
{
  PausedMessage *paused = user_data;

  /* The client went away: unpausing a finished message is an error */
  paused->finished = TRUE;
}

static void
notify_sent (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  PausedMessage *paused = user_data;
  g_autoptr(GError) error = NULL;

  if (!hubs_client_proxy_send_finish (HUBS_CLIENT_PROXY (source), result, &error))
    g_warning ("Sending Notify to /featurehub: %s", error->message);

  if (!paused->finished)
    {
      if (error == NULL)
        answer (paused->msg, SOUP_STATUS_OK, "text/plain", "ok");
      else
        answer (paused->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/plain", error->message);
      soup_server_message_unpause (paused->msg);
    }

  g_signal_handler_disconnect (paused->msg, paused->finished_id);
  g_object_unref (paused->msg);
  g_free (paused);
}

static void
notify_feature_hub (InteropApp        *app,
                    SoupServerMessage *msg)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) form = query ? soup_form_decode (query) : NULL;
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_context_get_clients (app->feature_hub));
  PausedMessage *paused = g_new0 (PausedMessage, 1);
  GValue text = G_VALUE_INIT;

  paused->msg = g_object_ref (msg);
  paused->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (paused_message_finished), paused);
  soup_server_message_pause (msg);

  g_value_init (&text, G_TYPE_STRING);
  g_value_set_string (&text, form ? g_hash_table_lookup (form, "text") : NULL);
  hubs_client_proxy_send_async (all, "Notify", 1, &text, NULL, notify_sent, paused);
  g_value_unset (&text);
}

/* /clientresult/{connectionId}: the client's Result() through /testhub's
 * hub context, or the error's message, both as 200 text. */
static void
client_result_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  PausedMessage *paused = user_data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (hubs_client_proxy_invoke_finish (HUBS_CLIENT_PROXY (source), result, &value, &error))
    text = g_strdup_printf ("%d", g_value_get_int (&value));
  else
    text = g_strdup (error->message);

  if (!paused->finished)
    {
      answer (paused->msg, SOUP_STATUS_OK, "text/plain", text);
      soup_server_message_unpause (paused->msg);
    }

  g_signal_handler_disconnect (paused->msg, paused->finished_id);
  g_object_unref (paused->msg);
  g_free (paused);
}

static void
client_result (InteropApp        *app,
               SoupServerMessage *msg,
               const char        *connection_id)
{
  g_autoptr(HubsClientProxy) client =
    hubs_hub_clients_client (hubs_hub_context_get_clients (app->test_hub), connection_id);
  PausedMessage *paused = g_new0 (PausedMessage, 1);

  paused->msg = g_object_ref (msg);
  paused->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (paused_message_finished), paused);
  soup_server_message_pause (msg);

  hubs_client_proxy_invoke_async (client, "Result", 0, NULL, G_TYPE_INT, NULL,
                                  client_result_done, paused);
}

/* Beyond the contract, for the scale-out tests (as tests/aspnetcore-redis
 * serves it): POST /featurehub-group/{add,remove}?connectionId=ID&group=G
 * changes the group membership of a connection on any server through
 * /featurehub's hub context, and answers 200 text "ok" once done (for a
 * connection on another server: once its owner acknowledged), or the
 * error's message. */
typedef struct
{
  PausedMessage paused;  /* first: paused_message_finished takes it */
  gboolean add;
} GroupRequest;

static void
feature_group_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GroupRequest *request = user_data;
  PausedMessage *paused = &request->paused;
  HubsGroupManager *groups = HUBS_GROUP_MANAGER (source);
  g_autoptr(GError) error = NULL;
  gboolean done;

  if (request->add)
    done = hubs_group_manager_add_to_group_finish (groups, result, &error);
  else
    done = hubs_group_manager_remove_from_group_finish (groups, result, &error);

  if (!paused->finished)
    {
      answer (paused->msg, SOUP_STATUS_OK, "text/plain", done ? "ok" : error->message);
      soup_server_message_unpause (paused->msg);
    }

  g_signal_handler_disconnect (paused->msg, paused->finished_id);
  g_object_unref (paused->msg);
  g_free (request);
}

static void
feature_group (InteropApp        *app,
               SoupServerMessage *msg,
               const char        *action)
{
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) form = query ? soup_form_decode (query) : NULL;
  const char *connection_id = form ? g_hash_table_lookup (form, "connectionId") : NULL;
  const char *group = form ? g_hash_table_lookup (form, "group") : NULL;
  HubsGroupManager *groups = hubs_hub_context_get_groups (app->feature_hub);
  GroupRequest *request;

  if (g_ascii_strcasecmp (action, "add") != 0 && g_ascii_strcasecmp (action, "remove") != 0)
    {
      answer (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "add or remove");
      return;
    }

  request = g_new0 (GroupRequest, 1);
  request->add = g_ascii_strcasecmp (action, "add") == 0;
  request->paused.msg = g_object_ref (msg);
  request->paused.finished_id = g_signal_connect (msg, "finished", G_CALLBACK (paused_message_finished),
                                                  &request->paused);
  soup_server_message_pause (msg);

  /* ASP.NET Core's query values are "" when absent */
  if (request->add)
    hubs_group_manager_add_to_group_async (groups, connection_id ? connection_id : "",
                                           group ? group : "", NULL, feature_group_done, request);
  else
    hubs_group_manager_remove_from_group_async (groups, connection_id ? connection_id : "",
                                                group ? group : "", NULL, feature_group_done, request);
}

static void
message_got_headers (SoupServerMessage *msg,
                     gpointer           user_data)
{
  InteropApp *app = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

  add_cors_headers (msg);

  /* Something before us (hubs-glib's early handler, say) has answered
   * already: it gets the headers every answer gets, and nothing else. */
  if (soup_server_message_get_status (msg) != 0)
    {
      if (is_negotiate (path) &&
          !interop_path_is_under (path, "/echoredirect") &&
          !interop_path_is_under (path, "/redirect"))
        add_negotiate_cookies (msg);
      return;
    }

  /* A preflight: no authorization, no hub */
  if (g_str_equal (method, SOUP_METHOD_OPTIONS))
    {
      answer (msg, SOUP_STATUS_NO_CONTENT, NULL, NULL);
      return;
    }

  if (interop_path_is_under (path, "/echoredirect"))
    {
      redirect_to_echo (app, msg);
      return;
    }

  if (interop_path_is_under (path, "/redirect"))
    {
      redirect_negotiate (app, msg);
      return;
    }

  if (is_negotiate (path))
    add_negotiate_cookies (msg);

  if (interop_path_is_under (path, "/bad-negotiate"))
    {
      answer (msg, SOUP_STATUS_BAD_REQUEST, NULL, "Some response from server");
      return;
    }

  if (g_str_equal (method, SOUP_METHOD_GET) && path_is (path, "/generateJwtToken"))
    {
      generate_jwt_token (app, msg);
      return;
    }

  if (g_str_equal (method, SOUP_METHOD_GET) &&
      g_ascii_strncasecmp (path, "/clientresult/", strlen ("/clientresult/")) == 0 &&
      path[strlen ("/clientresult/")] != '\0')
    {
      g_autofree char *id = g_uri_unescape_string (path + strlen ("/clientresult/"), NULL);

      client_result (app, msg, id ? id : path + strlen ("/clientresult/"));
      return;
    }

  if (g_str_equal (method, SOUP_METHOD_POST) && path_is (path, "/featurehub-notify"))
    {
      notify_feature_hub (app, msg);
      return;
    }

  if (g_str_equal (method, SOUP_METHOD_POST) &&
      g_ascii_strncasecmp (path, "/featurehub-group/", strlen ("/featurehub-group/")) == 0 &&
      strchr (path + strlen ("/featurehub-group/"), '/') == NULL)
    {
      feature_group (app, msg, path + strlen ("/featurehub-group/"));
      return;
    }

  /* Anything else is hubs-glib's (or libsoup's 404) */
}

static void
request_started (SoupServer        *soup_server,
                 SoupServerMessage *msg,
                 gpointer           user_data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (message_got_headers), user_data);
}

void
interop_routes_install (InteropApp *app)
{
  g_signal_connect (hubs_server_get_soup_server (app->server), "request-started",
                    G_CALLBACK (request_started), app);
}

/* /echo: every chunk comes back unchanged and in one piece. Nothing is kept
 * per connection, so "closed" needs no handler: the server keeps the
 * connection until the client ends it, and it ends with it. */
static void
echo_received (HubsHttpConnection *connection,
               GBytes             *data,
               gpointer            user_data)
{
  hubs_http_connection_send (connection, data);
}

void
interop_echo_connection (HubsServer         *server,
                         HubsHttpConnection *connection,
                         gpointer            user_data)
{
  g_signal_connect (connection, "received", G_CALLBACK (echo_received), NULL);
}
