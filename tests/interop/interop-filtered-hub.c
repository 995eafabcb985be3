/* interop-filtered-hub.c: hub filters and method authorization, at
 * /filteredhub
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Not part of interop-server.md's contract (which the ASP.NET Core server
 * serves too): hubs-glib's own tests of SignalR's IHubFilter and
 * [Authorize] on methods, with the seed documentation's examples, a logging
 * filter and a filter of banned phrases. tests/js/filters.test.mjs and
 * tests/js/authorization.test.mjs call it.
 *
 * Users: a token `NAME[;role=R][;department=D][;expires=SECONDS]` (the
 * `Authorization` header or `access_token`) makes a user named NAME (also
 * its name identifier) with those claims, whose authentication expires
 * SECONDS after the request. No token: anonymous.
 *
 * Filters, outermost first: the server's "global" logging filter (it only
 * passes the call on for the other hubs), then this hub's "hub" logging
 * filter, then the banned-phrase filter. The logging filters write
 * `NAME:before:Method`, `NAME:after:Method:ok|error` and `NAME:connected`
 * to the connection's log, which GetLog() returns (and empties);
 * disconnections go to a log of the server, which GetDisconnections()
 * returns.
 */

#include "interop-server.h"

#include <string.h>

#define LOG_ITEM "interop-filter-log"

/* Connection ids and filter names of ended connections, for
 * GetDisconnections(). */
static GPtrArray *disconnections;

static void
log_append (HubsCallerContext *context,
            const char        *entry)
{
  const GValue *current = hubs_caller_context_get_item (context, LOG_ITEM);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GValue) value = G_VALUE_INIT;

  if (current != NULL && G_VALUE_HOLDS (current, G_TYPE_STRV) && g_value_get_boxed (current) != NULL)
    g_strv_builder_addv (builder, (const char **) g_value_get_boxed (current));
  g_strv_builder_add (builder, entry);

  g_value_init (&value, G_TYPE_STRV);
  g_value_take_boxed (&value, g_strv_builder_end (builder));
  hubs_caller_context_set_item (context, LOG_ITEM, &value);
}

/* The logging filter */

#define INTEROP_TYPE_LOG_FILTER (interop_log_filter_get_type ())
G_DECLARE_FINAL_TYPE (InteropLogFilter, interop_log_filter, INTEROP, LOG_FILTER, GObject)

struct _InteropLogFilter
{
  GObject parent_instance;

  char *name;
  gboolean filtered_hub_only;   /* pass every other hub's calls on quietly */
};

static void interop_log_filter_iface_init (HubsHubFilterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (InteropLogFilter, interop_log_filter, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HUBS_TYPE_HUB_FILTER, interop_log_filter_iface_init))

static gboolean
log_filter_applies (InteropLogFilter *self,
                    HubsHub          *hub)
{
  return !self->filtered_hub_only || INTEROP_IS_FILTERED_HUB (hub);
}

static void
log_filter_next_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  HubsHubInvocationContext *context = HUBS_HUB_INVOCATION_CONTEXT (source);
  g_autoptr(InteropLogFilter) self = user_data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  gboolean ok;
  g_autofree char *entry = NULL;

  ok = hubs_hub_invocation_context_invoke_next_finish (context, result, &value, &error);
  entry = g_strdup_printf ("%s:after:%s:%s", self->name,
                           hubs_hub_invocation_context_get_method_name (context),
                           ok ? "ok" : "error");
  log_append (hubs_hub_invocation_context_get_context (context), entry);

  if (ok)
    hubs_hub_invocation_context_return_value (context, &value);
  else
    hubs_hub_invocation_context_return_gerror (context, error);
}

static void
log_filter_invoke_method (HubsHubFilter            *filter,
                          HubsHubInvocationContext *context)
{
  InteropLogFilter *self = INTEROP_LOG_FILTER (filter);
  g_autofree char *entry = NULL;

  if (!log_filter_applies (self, hubs_hub_invocation_context_get_hub (context)))
    {
      hubs_hub_invocation_context_invoke_next (context);
      return;
    }

  entry = g_strdup_printf ("%s:before:%s", self->name, hubs_hub_invocation_context_get_method_name (context));
  log_append (hubs_hub_invocation_context_get_context (context), entry);
  hubs_hub_invocation_context_invoke_next_async (context, log_filter_next_done, g_object_ref (self));
}

static gboolean
log_filter_on_connected (HubsHubFilter           *filter,
                         HubsHubLifetimeContext  *context,
                         GError                 **error)
{
  InteropLogFilter *self = INTEROP_LOG_FILTER (filter);

  if (log_filter_applies (self, hubs_hub_lifetime_context_get_hub (context)))
    {
      g_autofree char *entry = g_strdup_printf ("%s:connected", self->name);

      log_append (hubs_hub_lifetime_context_get_context (context), entry);
    }

  return hubs_hub_lifetime_context_next_connected (context, error);
}

static void
log_filter_on_disconnected (HubsHubFilter          *filter,
                            HubsHubLifetimeContext *context,
                            const GError           *error)
{
  InteropLogFilter *self = INTEROP_LOG_FILTER (filter);

  if (log_filter_applies (self, hubs_hub_lifetime_context_get_hub (context)))
    {
      HubsCallerContext *caller = hubs_hub_lifetime_context_get_context (context);

      if (disconnections == NULL)
        disconnections = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (disconnections,
                       g_strdup_printf ("%s:disconnected:%s", self->name,
                                        hubs_caller_context_get_connection_id (caller)));
    }

  hubs_hub_lifetime_context_next_disconnected (context);
}

static void
interop_log_filter_iface_init (HubsHubFilterInterface *iface)
{
  iface->invoke_method = log_filter_invoke_method;
  iface->on_connected = log_filter_on_connected;
  iface->on_disconnected = log_filter_on_disconnected;
}

static void
interop_log_filter_finalize (GObject *object)
{
  g_free (INTEROP_LOG_FILTER (object)->name);

  G_OBJECT_CLASS (interop_log_filter_parent_class)->finalize (object);
}

static void
interop_log_filter_class_init (InteropLogFilterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = interop_log_filter_finalize;
}

static void
interop_log_filter_init (InteropLogFilter *self)
{
}

static HubsHubFilter *
log_filter_new (const char *name,
                gboolean    filtered_hub_only)
{
  InteropLogFilter *self = g_object_new (INTEROP_TYPE_LOG_FILTER, NULL);

  self->name = g_strdup (name);
  self->filtered_hub_only = filtered_hub_only;
  return HUBS_HUB_FILTER (self);
}

/* The banned-phrase filter of the seed documentation: "darn" becomes "***"
 * in string arguments and string results; an argument with "forbidden" is
 * refused without calling the method; a user named "refused" may not
 * connect. */

#define INTEROP_TYPE_BANNED_PHRASE_FILTER (interop_banned_phrase_filter_get_type ())
G_DECLARE_FINAL_TYPE (InteropBannedPhraseFilter, interop_banned_phrase_filter, INTEROP, BANNED_PHRASE_FILTER, GObject)

struct _InteropBannedPhraseFilter
{
  GObject parent_instance;
};

static void interop_banned_phrase_filter_iface_init (HubsHubFilterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (InteropBannedPhraseFilter, interop_banned_phrase_filter, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HUBS_TYPE_HUB_FILTER, interop_banned_phrase_filter_iface_init))

static char *
mask (const char *text)
{
  g_autoptr(GString) masked = g_string_new (text);

  g_string_replace (masked, "darn", "***", 0);
  return g_string_free (g_steal_pointer (&masked), FALSE);
}

static void
banned_phrase_next_done (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  HubsHubInvocationContext *context = HUBS_HUB_INVOCATION_CONTEXT (source);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (!hubs_hub_invocation_context_invoke_next_finish (context, result, &value, &error))
    {
      hubs_hub_invocation_context_return_gerror (context, error);
      return;
    }

  if (G_VALUE_HOLDS_STRING (&value) && g_value_get_string (&value) != NULL)
    g_value_take_string (&value, mask (g_value_get_string (&value)));
  hubs_hub_invocation_context_return_value (context, &value);
}

static void
banned_phrase_invoke_method (HubsHubFilter            *filter,
                             HubsHubInvocationContext *context)
{
  guint n = hubs_hub_invocation_context_get_n_arguments (context);

  for (guint i = 0; i < n; i++)
    {
      const GValue *argument = hubs_hub_invocation_context_get_argument (context, i);
      g_auto(GValue) masked = G_VALUE_INIT;

      if (!G_VALUE_HOLDS_STRING (argument) || g_value_get_string (argument) == NULL)
        continue;
      if (strstr (g_value_get_string (argument), "forbidden") != NULL)
        {
          hubs_hub_invocation_context_return_error_literal (context, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                                            "The message contains a banned phrase.");
          return;
        }
      g_value_init (&masked, G_TYPE_STRING);
      g_value_take_string (&masked, mask (g_value_get_string (argument)));
      hubs_hub_invocation_context_set_argument (context, i, &masked);
    }

  hubs_hub_invocation_context_invoke_next_async (context, banned_phrase_next_done, NULL);
}

static gboolean
banned_phrase_on_connected (HubsHubFilter           *filter,
                            HubsHubLifetimeContext  *context,
                            GError                 **error)
{
  HubsUser *user = hubs_caller_context_get_user (hubs_hub_lifetime_context_get_context (context));

  if (user != NULL && g_strcmp0 (hubs_user_get_name (user), "refused") == 0)
    {
      g_set_error_literal (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                           "A filter refused the connection.");
      return FALSE;
    }

  return hubs_hub_lifetime_context_next_connected (context, error);
}

static void
interop_banned_phrase_filter_iface_init (HubsHubFilterInterface *iface)
{
  iface->invoke_method = banned_phrase_invoke_method;
  iface->on_connected = banned_phrase_on_connected;
}

static void
interop_banned_phrase_filter_class_init (InteropBannedPhraseFilterClass *klass)
{
}

static void
interop_banned_phrase_filter_init (InteropBannedPhraseFilter *self)
{
}

/* The hub */

struct _InteropFilteredHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (InteropFilteredHub, interop_filtered_hub, HUBS_TYPE_HUB)

static gboolean
filtered_hub_echo (HubsHub        *hub,
                   HubsInvocation *invocation,
                   const char     *message)
{
  hubs_invocation_return_string (invocation, message);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
filtered_hub_reveal (HubsHub        *hub,
                     HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation, "the darn secret");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
filtered_hub_fail (HubsHub        *hub,
                   HubsInvocation *invocation)
{
  hubs_invocation_return_error_literal (invocation, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                        "The method failed.");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
filtered_hub_get_log (HubsHub        *hub,
                      HubsInvocation *invocation)
{
  HubsCallerContext *context = hubs_hub_get_context (hub);
  const GValue *log = hubs_caller_context_get_item (context, LOG_ITEM);
  g_auto(GValue) result = G_VALUE_INIT;
  g_auto(GValue) empty = G_VALUE_INIT;
  static const char *none[] = { NULL };

  g_value_init (&result, G_TYPE_STRV);
  g_value_set_boxed (&result, log != NULL && g_value_get_boxed (log) != NULL ? g_value_get_boxed (log) : none);
  hubs_invocation_return_value (invocation, &result);

  g_value_init (&empty, G_TYPE_STRV);
  g_value_set_static_boxed (&empty, none);
  hubs_caller_context_set_item (context, LOG_ITEM, &empty);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
filtered_hub_get_disconnections (HubsHub        *hub,
                                 HubsInvocation *invocation)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GValue) result = G_VALUE_INIT;

  for (guint i = 0; disconnections != NULL && i < disconnections->len; i++)
    g_strv_builder_add (builder, disconnections->pdata[i]);
  g_value_init (&result, G_TYPE_STRV);
  g_value_take_boxed (&result, g_strv_builder_end (builder));
  hubs_invocation_return_value (invocation, &result);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
filtered_hub_whoami (HubsHub        *hub,
                     HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation, hubs_caller_context_get_user_identifier (hubs_hub_get_context (hub)));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
filtered_hub_counter (HubsHub          *hub,
                      HubsStreamWriter *writer,
                      gint              count)
{
  for (gint i = 0; i < count; i++)
    {
      g_auto(GValue) item = G_VALUE_INIT;

      g_value_init (&item, G_TYPE_INT);
      g_value_set_int (&item, i);
      hubs_stream_writer_write (writer, &item);
    }
  hubs_stream_writer_complete (writer);
  return HUBS_INVOCATION_HANDLED;
}

/* Words(text): the words of text, one item each */
static gboolean
filtered_hub_words (HubsHub          *hub,
                    HubsStreamWriter *writer,
                    const char       *text)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_auto(GValue) item = G_VALUE_INIT;

      g_value_init (&item, G_TYPE_STRING);
      g_value_set_string (&item, words[i]);
      hubs_stream_writer_write (writer, &item);
    }
  hubs_stream_writer_complete (writer);
  return HUBS_INVOCATION_HANDLED;
}

/* AskCaller(text): the caller's Repeat(text), a client result; the filters
 * see it when it comes. */
static void
ask_caller_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (hubs_client_proxy_invoke_finish (HUBS_CLIENT_PROXY (source), result, &value, &error))
    hubs_invocation_return_value (invocation, &value);
  else
    hubs_invocation_return_gerror (invocation, error);
}

static gboolean
filtered_hub_ask_caller (HubsHub        *hub,
                         HubsInvocation *invocation,
                         const char     *text)
{
  g_autoptr(HubsClientProxy) caller = hubs_hub_clients_caller (hubs_hub_get_clients (hub));
  g_auto(GValue) arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_STRING);
  g_value_set_string (&arg, text);
  hubs_client_proxy_invoke_async (caller, "Repeat", 1, &arg, G_TYPE_STRING, NULL,
                                  ask_caller_done, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

/* Allowed when the connection's request had ?allow=yes. */
static gboolean
query_allows (HubsCallerContext *context,
              const char        *method_name,
              gpointer           user_data)
{
  HubsHttpContext *http = hubs_caller_context_get_http_context (context);

  return g_strcmp0 (hubs_http_context_get_query_value (http, "allow"), "yes") == 0;
}

/* Every method: anyone but a user named "blocked". */
static gboolean
not_blocked (HubsCallerContext *context,
             const char        *method_name,
             gpointer           user_data)
{
  HubsUser *user = hubs_caller_context_get_user (context);

  return user == NULL || g_strcmp0 (hubs_user_get_name (user), "blocked") != 0;
}

static void
interop_filtered_hub_class_init (InteropFilteredHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);
  g_autoptr(HubsAuthorizationPolicy) hub_wide = hubs_authorization_policy_new ();
  g_autoptr(HubsAuthorizationPolicy) admins = hubs_authorization_policy_new ();
  g_autoptr(HubsAuthorizationPolicy) departments = hubs_authorization_policy_new ();
  g_autoptr(HubsAuthorizationPolicy) query = hubs_authorization_policy_new ();
  const char *admin_roles[] = { "admin", "owner", NULL };
  const char *allowed_departments[] = { "sales", "support", NULL };

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (filtered_hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "reveal", G_CALLBACK (filtered_hub_reveal),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "fail", G_CALLBACK (filtered_hub_fail),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "get-log", G_CALLBACK (filtered_hub_get_log),
                             G_TYPE_STRV, 0);
  hubs_hub_class_add_method (hub_class, "get-disconnections", G_CALLBACK (filtered_hub_get_disconnections),
                             G_TYPE_STRV, 0);
  hubs_hub_class_add_streaming_method (hub_class, "counter", G_CALLBACK (filtered_hub_counter),
                                       G_TYPE_INT, 1, G_TYPE_INT);
  hubs_hub_class_add_streaming_method (hub_class, "words", G_CALLBACK (filtered_hub_words),
                                       G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "ask-caller", G_CALLBACK (filtered_hub_ask_caller),
                             G_TYPE_STRING, 1, G_TYPE_STRING);

  /* [Authorize] on methods, each kind of requirement once */
  hubs_hub_class_add_method (hub_class, "whoami", G_CALLBACK (filtered_hub_whoami),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method_authorization (hub_class, "whoami", NULL);

  hubs_hub_class_add_method (hub_class, "admin-only", G_CALLBACK (filtered_hub_whoami),
                             G_TYPE_STRING, 0);
  hubs_authorization_policy_require_role (admins, admin_roles);
  hubs_hub_class_add_method_authorization (hub_class, "admin-only", admins);

  hubs_hub_class_add_method (hub_class, "department-only", G_CALLBACK (filtered_hub_whoami),
                             G_TYPE_STRING, 0);
  hubs_authorization_policy_require_claim (departments, "department", allowed_departments);
  hubs_hub_class_add_method_authorization (hub_class, "department-only", departments);

  hubs_hub_class_add_method (hub_class, "query-only", G_CALLBACK (filtered_hub_whoami),
                             G_TYPE_STRING, 0);
  hubs_authorization_policy_require_assertion (query, query_allows, NULL, NULL);
  hubs_hub_class_add_method_authorization (hub_class, "query-only", query);

  hubs_authorization_policy_require_assertion (hub_wide, not_blocked, NULL, NULL);
  hubs_hub_class_add_authorization (hub_class, hub_wide);
}

static void
interop_filtered_hub_init (InteropFilteredHub *self)
{
}

/* /adminhub: [Authorize(Roles = "admin,owner")] on the hub class. The
 * endpoint applies it to every request, as ASP.NET Core's authorization
 * middleware does: 401 for an anonymous request, 403 for a user without the
 * role, at negotiate, on the transport's requests and on each poll. Its
 * users are /filteredhub's tokens. */

struct _InteropAdminHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (InteropAdminHub, interop_admin_hub, HUBS_TYPE_HUB)

static void
interop_admin_hub_class_init (InteropAdminHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);
  g_autoptr(HubsAuthorizationPolicy) admins = hubs_authorization_policy_new ();
  const char *admin_roles[] = { "admin", "owner", NULL };

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (filtered_hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_authorization_policy_require_role (admins, admin_roles);
  hubs_hub_class_add_authorization (hub_class, admins);
}

static void
interop_admin_hub_init (InteropAdminHub *self)
{
}

/* The server's user-id provider: the default (the name identifier) but on
 * /filteredhub, whose user identifiers are "filtered:" and that. */
static char *
filtered_user_id (HubsServer        *server,
                  HubsCallerContext *context,
                  gpointer           user_data)
{
  HubsUser *user = hubs_caller_context_get_user (context);
  const char *id = user ? hubs_user_find_first_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER) : NULL;
  const char *path = hubs_http_context_get_path (hubs_caller_context_get_http_context (context));

  if (id == NULL)
    return NULL;
  if (interop_path_is_under (path, "/filteredhub"))
    return g_strconcat ("filtered:", id, NULL);
  return g_strdup (id);
}

void
interop_filtered_hub_add_filters (HubsServer     *server,
                                  HubsHubOptions *options)
{
  g_autoptr(HubsHubFilter) global = log_filter_new ("global", TRUE);
  g_autoptr(HubsHubFilter) own = log_filter_new ("hub", FALSE);
  g_autoptr(HubsHubFilter) banned = g_object_new (INTEROP_TYPE_BANNED_PHRASE_FILTER, NULL);

  hubs_server_add_hub_filter (server, global);
  hubs_server_set_user_id_provider (server, filtered_user_id, NULL, NULL);
  hubs_hub_options_add_hub_filter (options, own);
  hubs_hub_options_add_hub_filter (options, banned);
  hubs_hub_options_set_close_on_authentication_expiration (options, TRUE);
}

void
interop_filtered_hub_cleanup (void)
{
  g_clear_pointer (&disconnections, g_ptr_array_unref);
}

HubsUser *
interop_filtered_hub_user (const char *access_token)
{
  g_auto(GStrv) parts = g_strsplit (access_token, ";", -1);
  g_autoptr(HubsUser) user = hubs_user_new ("Bearer");

  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER, parts[0]);
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME, parts[0]);
  for (guint i = 1; parts[i] != NULL; i++)
    {
      if (g_str_has_prefix (parts[i], "role="))
        hubs_user_add_claim (user, HUBS_CLAIM_TYPE_ROLE, parts[i] + strlen ("role="));
      else if (g_str_has_prefix (parts[i], "department="))
        hubs_user_add_claim (user, "department", parts[i] + strlen ("department="));
      else if (g_str_has_prefix (parts[i], "expires="))
        {
          g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
          g_autoptr(GDateTime) expiration =
            g_date_time_add_seconds (now, g_ascii_strtod (parts[i] + strlen ("expires="), NULL));

          hubs_user_set_expiration (user, expiration);
        }
    }

  return g_steal_pointer (&user);
}
