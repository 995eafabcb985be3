/* hubs-http-context.c: what a connection's HTTP request carried
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "hubs-http-context-private.h"
#include "hubs-user.h"

/**
 * HubsHttpContext:
 *
 * A snapshot of the HTTP request that started a connection (the WebSocket
 * upgrade, the Server-Sent Events GET or the first long poll) or of a
 * negotiate request: its method, URI, headers, query, cookies, the peer's
 * address and the authenticated user. It is what ASP.NET Core's
 * `Context.GetHttpContext()` gives a hub, reduced to the request.
 *
 * The snapshot is copied from the request when the request arrives and stays
 * valid for as long as you hold a reference, long after the request itself
 * is gone; it does not change afterwards, but for its user: the server sets
 * it once the request is authenticated and, as ASP.NET Core does, replaces
 * it with the user of each later poll of a Long Polling connection (a client
 * that renews its access token renews the connection's user and the
 * expiration that [property@Hubs.HubOptions:close-on-authentication-expiration]
 * watches). The POSTs that carry client messages do not update it.
 *
 * ```c
 * static char *
 * chat_hub_describe_caller (ChatHub *hub)
 * {
 *   HubsCallerContext *caller = hubs_hub_get_context (HUBS_HUB (hub));
 *   HubsHttpContext *http = hubs_caller_context_get_http_context (caller);
 *   g_autofree char *agent = hubs_http_context_get_header (http, "User-Agent");
 *   g_autofree char *theme = hubs_http_context_get_cookie (http, "theme");
 *   const char *room = hubs_http_context_get_query_value (http, "room");
 *
 *   return g_strdup_printf ("%s on %s, room %s, theme %s",
 *                           agent ? agent : "an unknown client",
 *                           hubs_http_context_get_path (http),
 *                           room ? room : "none",
 *                           theme ? theme : "default");
 * }
 * ```
 *
 * Since: 0.1
 */

struct _HubsHttpContext
{
  GObject parent_instance;

  char *method;
  char *path;
  GUri *uri;
  SoupMessageHeaders *request_headers;
  GHashTable *query;
  GSocketAddress *remote_address;
  char *remote_host;
  HubsUser *user;
};

G_DEFINE_FINAL_TYPE (HubsHttpContext, hubs_http_context, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_METHOD,
  PROP_PATH,
  PROP_URI,
  PROP_REQUEST_HEADERS,
  PROP_REMOTE_ADDRESS,
  PROP_REMOTE_HOST,
  PROP_USER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
hubs_http_context_dispose (GObject *object)
{
  HubsHttpContext *self = HUBS_HTTP_CONTEXT (object);

  g_clear_object (&self->remote_address);
  g_clear_object (&self->user);

  G_OBJECT_CLASS (hubs_http_context_parent_class)->dispose (object);
}

static void
hubs_http_context_finalize (GObject *object)
{
  HubsHttpContext *self = HUBS_HTTP_CONTEXT (object);

  g_clear_pointer (&self->method, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->uri, g_uri_unref);
  g_clear_pointer (&self->request_headers, soup_message_headers_unref);
  g_clear_pointer (&self->query, g_hash_table_unref);
  g_clear_pointer (&self->remote_host, g_free);

  G_OBJECT_CLASS (hubs_http_context_parent_class)->finalize (object);
}

static void
hubs_http_context_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  HubsHttpContext *self = HUBS_HTTP_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_METHOD:
      g_value_set_string (value, self->method);
      break;

    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    case PROP_URI:
      g_value_set_boxed (value, self->uri);
      break;

    case PROP_REQUEST_HEADERS:
      g_value_set_boxed (value, self->request_headers);
      break;

    case PROP_REMOTE_ADDRESS:
      g_value_set_object (value, self->remote_address);
      break;

    case PROP_REMOTE_HOST:
      g_value_set_string (value, self->remote_host);
      break;

    case PROP_USER:
      g_value_set_object (value, self->user);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_http_context_class_init (HubsHttpContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_http_context_dispose;
  object_class->finalize = hubs_http_context_finalize;
  object_class->get_property = hubs_http_context_get_property;

  /**
   * HubsHttpContext:method: (getter get_method)
   *
   * The request's method, such as `GET` or `POST`.
   *
   * Since: 0.1
   */
  properties[PROP_METHOD] =
    g_param_spec_string ("method", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHttpContext:path: (getter get_path)
   *
   * The path of the request's URI, percent-decoded.
   *
   * Since: 0.1
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHttpContext:uri: (getter get_uri)
   *
   * The request's whole URI.
   *
   * Since: 0.1
   */
  properties[PROP_URI] =
    g_param_spec_boxed ("uri", NULL, NULL,
                        G_TYPE_URI,
                        G_PARAM_READABLE |
                        G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHttpContext:request-headers: (getter get_request_headers)
   *
   * A copy of the request's headers.
   *
   * Since: 0.1
   */
  properties[PROP_REQUEST_HEADERS] =
    g_param_spec_boxed ("request-headers", NULL, NULL,
                        SOUP_TYPE_MESSAGE_HEADERS,
                        G_PARAM_READABLE |
                        G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHttpContext:remote-address: (getter get_remote_address)
   *
   * The address of the peer that sent the request.
   *
   * Since: 0.1
   */
  properties[PROP_REMOTE_ADDRESS] =
    g_param_spec_object ("remote-address", NULL, NULL,
                         G_TYPE_SOCKET_ADDRESS,
                         G_PARAM_READABLE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHttpContext:remote-host: (getter get_remote_host)
   *
   * The IP address of the peer that sent the request, as a string.
   *
   * Since: 0.1
   */
  properties[PROP_REMOTE_HOST] =
    g_param_spec_string ("remote-host", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsHttpContext:user: (getter get_user)
   *
   * The user the server's authentication handler made of the request, or
   * %NULL for an anonymous request (or before it is authenticated).
   *
   * Since: 0.1
   */
  properties[PROP_USER] =
    g_param_spec_object ("user", NULL, NULL,
                         HUBS_TYPE_USER,
                         G_PARAM_READABLE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hubs_http_context_init (HubsHttpContext *self)
{
}

/* Takes what a hub may want from @message now, because the message is
 * recycled or freed once its response is written. */
HubsHttpContext *
hubs_http_context_new (SoupServerMessage *message,
                       HubsUser          *user)
{
  HubsHttpContext *self;
  SoupMessageHeaders *headers;
  SoupMessageHeadersIter iter;
  const char *name;
  const char *value;
  const char *query;
  GSocketAddress *remote_address;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (message), NULL);
  g_return_val_if_fail (user == NULL || HUBS_IS_USER (user), NULL);

  self = g_object_new (HUBS_TYPE_HTTP_CONTEXT, NULL);

  self->method = g_strdup (soup_server_message_get_method (message));
  self->uri = g_uri_ref (soup_server_message_get_uri (message));
  self->path = g_strdup (g_uri_get_path (self->uri));

  self->request_headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  headers = soup_server_message_get_request_headers (message);
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    soup_message_headers_append (self->request_headers, name, value);

  query = g_uri_get_query (self->uri);
  self->query = soup_form_decode (query != NULL ? query : "");

  remote_address = soup_server_message_get_remote_address (message);
  self->remote_address = remote_address != NULL ? g_object_ref (remote_address) : NULL;
  self->remote_host = g_strdup (soup_server_message_get_remote_host (message));

  self->user = user != NULL ? g_object_ref (user) : NULL;

  return self;
}

void
hubs_http_context_set_user (HubsHttpContext *self,
                            HubsUser        *user)
{
  g_return_if_fail (HUBS_IS_HTTP_CONTEXT (self));
  g_return_if_fail (user == NULL || HUBS_IS_USER (user));

  if (g_set_object (&self->user, user))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER]);
}

/**
 * hubs_http_context_get_method: (get-property method)
 * @self: an HTTP context
 *
 * Gets the request's method.
 *
 * Returns: the method, such as `GET`
 *
 * Since: 0.1
 */
const char *
hubs_http_context_get_method (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->method;
}

/**
 * hubs_http_context_get_path: (get-property path)
 * @self: an HTTP context
 *
 * Gets the path of the request's URI. libsoup's server has decoded its
 * percent-escapes, `%2F` included (ASP.NET Core's `Request.Path` keeps that
 * one encoded).
 *
 * Returns: the path, such as `/chat`
 *
 * Since: 0.1
 */
const char *
hubs_http_context_get_path (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->path;
}

/**
 * hubs_http_context_get_uri: (get-property uri)
 * @self: an HTTP context
 *
 * Gets the request's whole URI, with the query.
 *
 * Returns: (transfer none): the URI
 *
 * Since: 0.1
 */
GUri *
hubs_http_context_get_uri (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->uri;
}

/**
 * hubs_http_context_get_request_headers: (get-property request-headers)
 * @self: an HTTP context
 *
 * Gets a copy of the request's headers. It belongs to @self: do not change
 * it.
 *
 * Returns: (transfer none): the request headers
 *
 * Since: 0.1
 */
SoupMessageHeaders *
hubs_http_context_get_request_headers (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->request_headers;
}

/**
 * hubs_http_context_get_header:
 * @self: an HTTP context
 * @name: a header name, in any case
 *
 * Gets the value of a request header. When the header was sent several
 * times, its values are joined with `,` in the order they came, as ASP.NET
 * Core's `Request.Headers[name].ToString()` does (libsoup's
 * [method@Soup.MessageHeaders.get_list] joins them with `, `).
 *
 * Returns: (transfer full) (nullable): the header's value, or %NULL if the
 *   request did not have it
 *
 * Since: 0.1
 */
char *
hubs_http_context_get_header (HubsHttpContext *self,
                              const char      *name)
{
  SoupMessageHeadersIter iter;
  const char *header_name;
  const char *header_value;
  GString *joined = NULL;

  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  soup_message_headers_iter_init (&iter, self->request_headers);
  while (soup_message_headers_iter_next (&iter, &header_name, &header_value))
    {
      if (g_ascii_strcasecmp (header_name, name) != 0)
        continue;

      if (joined == NULL)
        joined = g_string_new (header_value);
      else
        {
          g_string_append_c (joined, ',');
          g_string_append (joined, header_value);
        }
    }

  return joined != NULL ? g_string_free (joined, FALSE) : NULL;
}

/**
 * hubs_http_context_get_query:
 * @self: an HTTP context
 *
 * Gets the query of the request's URI, decoded as a form (`+` is a space,
 * `%XX` escapes are decoded) by [func@Soup.form_decode]: a parameter that
 * occurs several times keeps its last value, one without `=` or with a bad
 * escape is left out. Names are compared exactly.
 *
 * Returns: (transfer none) (element-type utf8 utf8): the query parameters
 *   by name; empty when the URI has no query
 *
 * Since: 0.1
 */
GHashTable *
hubs_http_context_get_query (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->query;
}

/**
 * hubs_http_context_get_query_value:
 * @self: an HTTP context
 * @name: the name of a query parameter
 *
 * Gets a query parameter, decoded. See [method@Hubs.HttpContext.get_query].
 *
 * Returns: (nullable): the parameter's value, or %NULL if the query does not
 *   have it
 *
 * Since: 0.1
 */
const char *
hubs_http_context_get_query_value (HubsHttpContext *self,
                                   const char      *name)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (self->query, name);
}

static inline gboolean
is_ows (char c)
{
  return c == ' ' || c == '\t';
}

/* Looks for the cookie @name in one `Cookie` header value: `name=value`
 * pairs separated by `;`. Sets @value_start and @value_len on success. */
static gboolean
find_cookie (const char  *header,
             const char  *name,
             gsize        name_len,
             const char **value_start,
             gsize       *value_len)
{
  const char *pair = header;

  while (*pair != '\0')
    {
      const char *end = strchr (pair, ';');
      const char *equals;

      if (end == NULL)
        end = pair + strlen (pair);

      equals = memchr (pair, '=', end - pair);
      if (equals != NULL)
        {
          const char *name_start = pair;
          const char *name_end = equals;
          const char *start = equals + 1;
          const char *stop = end;

          while (name_start < name_end && is_ows (*name_start))
            name_start++;
          while (name_end > name_start && is_ows (name_end[-1]))
            name_end--;

          if ((gsize) (name_end - name_start) == name_len &&
              memcmp (name_start, name, name_len) == 0)
            {
              while (start < stop && is_ows (*start))
                start++;
              while (stop > start && is_ows (stop[-1]))
                stop--;

              *value_start = start;
              *value_len = stop - start;
              return TRUE;
            }
        }

      pair = *end != '\0' ? end + 1 : end;
    }

  return FALSE;
}

/**
 * hubs_http_context_get_cookie:
 * @self: an HTTP context
 * @name: a cookie name
 *
 * Gets a cookie the request carried in its `Cookie` headers.
 *
 * Each header is read as `name=value` pairs separated by `;`, with the
 * spaces and tabs around names and values left out. Names are compared
 * exactly, case included (RFC 6265); the first cookie of that name wins, as
 * browsers send the most specific cookie first. The value is returned as it
 * was sent: double quotes around it are kept, as ASP.NET Core keeps them, and
 * `%XX` escapes are not decoded (ASP.NET Core's `Request.Cookies` decodes
 * them; use [func@GLib.Uri.unescape_string] for that).
 *
 * Returns: (transfer full) (nullable): the cookie's value, possibly empty,
 *   or %NULL if the request had no cookie of that name
 *
 * Since: 0.1
 */
char *
hubs_http_context_get_cookie (HubsHttpContext *self,
                              const char      *name)
{
  SoupMessageHeadersIter iter;
  const char *header_name;
  const char *header_value;
  gsize name_len;

  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  name_len = strlen (name);
  if (name_len == 0)
    return NULL;

  soup_message_headers_iter_init (&iter, self->request_headers);
  while (soup_message_headers_iter_next (&iter, &header_name, &header_value))
    {
      const char *value_start;
      gsize value_len;

      if (g_ascii_strcasecmp (header_name, "Cookie") != 0)
        continue;

      if (find_cookie (header_value, name, name_len, &value_start, &value_len))
        return g_strndup (value_start, value_len);
    }

  return NULL;
}

/**
 * hubs_http_context_get_remote_address: (get-property remote-address)
 * @self: an HTTP context
 *
 * Gets the address of the peer that sent the request: the client, or the
 * last proxy in front of it.
 *
 * Returns: (transfer none) (nullable): the peer's address, or %NULL if it
 *   was not known
 *
 * Since: 0.1
 */
GSocketAddress *
hubs_http_context_get_remote_address (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->remote_address;
}

/**
 * hubs_http_context_get_remote_host: (get-property remote-host)
 * @self: an HTTP context
 *
 * Gets the IP address of the peer that sent the request, as a string such
 * as `127.0.0.1`.
 *
 * Returns: (nullable): the peer's IP address, or %NULL if it was not known
 *
 * Since: 0.1
 */
const char *
hubs_http_context_get_remote_host (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->remote_host;
}

/**
 * hubs_http_context_get_user: (get-property user)
 * @self: an HTTP context
 *
 * Gets the user the request was authenticated as.
 *
 * Returns: (transfer none) (nullable): the user, or %NULL for an anonymous
 *   request
 *
 * Since: 0.1
 */
HubsUser *
hubs_http_context_get_user (HubsHttpContext *self)
{
  g_return_val_if_fail (HUBS_IS_HTTP_CONTEXT (self), NULL);

  return self->user;
}
