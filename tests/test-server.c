/* test-server.c: the public server API end to end: a HubsServer and SoupSession
 * clients in one process, on one main context, over WebSockets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every expectation on the wire is byte for byte: the strings are those of
 * ASP.NET Core SignalR (see the wire checklist, §1-3, §5, §8-10).
 */

#include <string.h>

#include <json-glib/json-glib.h>

#include "hubs.h"
#include "hubs-test-util.h"

/* Generous: a sanitizer build is slow, and a hang must still end. */
#define WAIT_TIMEOUT_MS 10000

#define HANDSHAKE "{\"protocol\":\"json\",\"version\":1}\x1e"
#define HANDSHAKE_OK "{}\x1e"

/* Shared state of the test hubs: hub instances exist only for one call, so
 * what they see is kept here. Reset before each test. */

typedef enum
{
  CONNECTED_ACCEPT,
  CONNECTED_WELCOME,            /* send Welcome(connection id) to the caller */
  CONNECTED_REFUSE_HUB,         /* fail with a HUBS_HUB_ERROR */
  CONNECTED_REFUSE_OTHER,       /* fail with a G_IO_ERROR */
} ConnectedMode;

typedef struct
{
  int hubs_alive;
  int hubs_created;
  ConnectedMode connected_mode;
  guint n_connected;
  guint n_disconnected;
  GPtrArray *disconnect_errors;         /* GError or NULL, in order */
  gboolean aborted_before_disconnect;   /* of the last on_disconnected */
  char *recorded;                       /* Record()'s argument */
  GCancellable *aborted;                /* WatchAborted()'s connection */
  HubsCallerContext *caller;            /* weak, WatchAborted()'s */
  char *last_token;                     /* the authentication handler's */
  guint n_authenticated;
  guint n_later_done;
  gboolean later_cancelled;             /* the last Later()'s cancellable */
} State;

static State state;

static void
error_free_nullable (gpointer data)
{
  if (data != NULL)
    g_error_free (data);
}

static void
state_reset (void)
{
  g_clear_pointer (&state.disconnect_errors, g_ptr_array_unref);
  g_clear_pointer (&state.recorded, g_free);
  g_clear_object (&state.aborted);
  g_clear_weak_pointer (&state.caller);
  g_clear_pointer (&state.last_token, g_free);
  memset (&state, 0, sizeof state);
  state.disconnect_errors = g_ptr_array_new_with_free_func (error_free_nullable);
}

/* The test hub */

#define TEST_TYPE_HUB (test_hub_get_type ())
G_DECLARE_FINAL_TYPE (TestHub, test_hub, TEST, HUB, HubsHub)

struct _TestHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (TestHub, test_hub, HUBS_TYPE_HUB)

static const char *
caller_id (HubsHub *hub)
{
  return hubs_caller_context_get_connection_id (hubs_hub_get_context (hub));
}

static gboolean
test_hub_on_connected (HubsHub  *hub,
                       GError  **error)
{
  state.n_connected++;

  switch (state.connected_mode)
    {
    case CONNECTED_ACCEPT:
      break;

    case CONNECTED_WELCOME:
      {
        g_autoptr(HubsClientProxy) caller = hubs_hub_clients_caller (hubs_hub_get_clients (hub));

        hubs_client_proxy_send (caller, "Welcome", G_TYPE_STRING, caller_id (hub), G_TYPE_INVALID);
      }
      break;

    case CONNECTED_REFUSE_HUB:
      g_set_error_literal (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED, "Not welcome");
      return FALSE;

    case CONNECTED_REFUSE_OTHER:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "Not welcome");
      return FALSE;
    }

  return TRUE;
}

static void
test_hub_on_disconnected (HubsHub      *hub,
                          const GError *error)
{
  state.n_disconnected++;
  state.aborted_before_disconnect =
    g_cancellable_is_cancelled (hubs_caller_context_get_connection_aborted (hubs_hub_get_context (hub)));
  g_ptr_array_add (state.disconnect_errors, error ? g_error_copy (error) : NULL);
}

static gboolean
test_hub_echo (HubsHub        *hub,
               HubsInvocation *invocation,
               const char     *text)
{
  hubs_invocation_return_string (invocation, text);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_add_ints (HubsHub        *hub,
                   HubsInvocation *invocation,
                   int             a,
                   int             b)
{
  hubs_invocation_return_int (invocation, (gint64) a + b);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_negate (HubsHub        *hub,
                 HubsInvocation *invocation,
                 gboolean        value)
{
  hubs_invocation_return_boolean (invocation, !value);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_half (HubsHub        *hub,
               HubsInvocation *invocation,
               double          value)
{
  hubs_invocation_return_double (invocation, value / 2);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_nothing (HubsHub        *hub,
                  HubsInvocation *invocation)
{
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

typedef struct
{
  HubsInvocation *invocation;
  char *tag;
} Later;

static gboolean
later_done (gpointer user_data)
{
  Later *later = user_data;

  state.n_later_done++;
  state.later_cancelled = g_cancellable_is_cancelled (hubs_invocation_get_cancellable (later->invocation));
  hubs_invocation_return_string (later->invocation, later->tag);
  g_object_unref (later->invocation);
  g_free (later->tag);
  g_free (later);
  return G_SOURCE_REMOVE;
}

static gboolean
test_hub_later (HubsHub        *hub,
                HubsInvocation *invocation,
                int             msec,
                const char     *tag)
{
  Later *later = g_new0 (Later, 1);

  later->invocation = g_object_ref (invocation);
  later->tag = g_strdup (tag);
  g_timeout_add (msec, later_done, later);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_fail (HubsHub        *hub,
               HubsInvocation *invocation,
               const char     *message)
{
  hubs_invocation_return_error_literal (invocation, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED, message);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_fail_other (HubsHub        *hub,
                     HubsInvocation *invocation,
                     const char     *message)
{
  hubs_invocation_take_error (invocation, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, message));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_reverse_bytes (HubsHub        *hub,
                        HubsInvocation *invocation,
                        GBytes         *bytes)
{
  g_auto(GValue) value = G_VALUE_INIT;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint8 *reversed = g_malloc (size + 1);

  for (gsize i = 0; i < size; i++)
    reversed[i] = data[size - 1 - i];

  g_value_init (&value, G_TYPE_BYTES);
  g_value_take_boxed (&value, g_bytes_new_take (reversed, size));
  hubs_invocation_return_value (invocation, &value);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_add_hour (HubsHub        *hub,
                   HubsInvocation *invocation,
                   GDateTime      *date_time)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_DATE_TIME);
  g_value_take_boxed (&value, g_date_time_add_hours (date_time, 1));
  hubs_invocation_return_value (invocation, &value);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_sum (HubsHub        *hub,
              HubsInvocation *invocation,
              GVariant       *numbers)
{
  gint64 sum = 0;

  g_assert_true (g_variant_is_of_type (numbers, G_VARIANT_TYPE ("ax")));
  for (gsize i = 0; i < g_variant_n_children (numbers); i++)
    {
      gint64 n;

      g_variant_get_child (numbers, i, "x", &n);
      sum += n;
    }

  hubs_invocation_return_int (invocation, sum);
  return HUBS_INVOCATION_HANDLED;
}

/* Takes nothing: the server fails the invocation itself. */
static gboolean
test_hub_unhandled (HubsHub        *hub,
                    HubsInvocation *invocation)
{
  return HUBS_INVOCATION_UNHANDLED;
}

static gboolean
test_hub_renamed (HubsHub        *hub,
                  HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation, "renamed");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_record (HubsHub        *hub,
                 HubsInvocation *invocation,
                 const char     *text)
{
  g_free (state.recorded);
  state.recorded = g_strdup (text);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_set_item (HubsHub        *hub,
                   HubsInvocation *invocation,
                   const char     *key,
                   const char     *text)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, text);
  hubs_caller_context_set_item (hubs_hub_get_context (hub), key, &value);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_get_item (HubsHub        *hub,
                   HubsInvocation *invocation,
                   const char     *key)
{
  const GValue *value = hubs_caller_context_get_item (hubs_hub_get_context (hub), key);

  hubs_invocation_return_string (invocation, value ? g_value_get_string (value) : NULL);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_connection_id (HubsHub        *hub,
                        HubsInvocation *invocation)
{
  /* Both ways to the context see the same one. */
  g_assert_true (hubs_invocation_get_context (invocation) == hubs_hub_get_context (hub));
  g_assert_true (hubs_invocation_get_hub (invocation) == hub);
  hubs_invocation_return_string (invocation, caller_id (hub));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_http_info (HubsHub        *hub,
                    HubsInvocation *invocation)
{
  HubsCallerContext *context = hubs_hub_get_context (hub);
  HubsHttpContext *http = hubs_caller_context_get_http_context (context);
  g_autofree char *header = hubs_http_context_get_header (http, "X-Test");
  g_autofree char *cookie = hubs_http_context_get_cookie (http, "c");
  const char *query = hubs_http_context_get_query_value (http, "q");
  g_autofree char *text = NULL;

  g_assert_true (hubs_caller_context_get_feature (context, HUBS_TYPE_HTTP_CONTEXT) == G_OBJECT (http));
  text = g_strdup_printf ("%s|%s|%s|%s|%s|%s|%d",
                          header ? header : "(none)",
                          query ? query : "(none)",
                          cookie ? cookie : "(none)",
                          hubs_http_context_get_method (http),
                          hubs_http_context_get_path (http),
                          hubs_caller_context_get_protocol (context),
                          hubs_caller_context_get_transport (context));
  hubs_invocation_return_string (invocation, text);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_user_id (HubsHub        *hub,
                  HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation,
                                 hubs_caller_context_get_user_identifier (hubs_hub_get_context (hub)));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_watch_aborted (HubsHub        *hub,
                        HubsInvocation *invocation)
{
  HubsCallerContext *context = hubs_hub_get_context (hub);
  GCancellable *aborted = hubs_caller_context_get_connection_aborted (context);

  g_set_object (&state.aborted, aborted);
  g_set_weak_pointer (&state.caller, context);
  g_assert_true (hubs_invocation_get_cancellable (invocation) == aborted);
  hubs_invocation_return_boolean (invocation, g_cancellable_is_cancelled (aborted));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_abort (HubsHub        *hub,
                HubsInvocation *invocation)
{
  hubs_caller_context_abort (hubs_hub_get_context (hub));
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static void
group_changed (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  if (g_async_result_is_tagged (result, hubs_group_manager_add_to_group_async))
    hubs_group_manager_add_to_group_finish (HUBS_GROUP_MANAGER (source), result, &error);
  else
    hubs_group_manager_remove_from_group_finish (HUBS_GROUP_MANAGER (source), result, &error);
  g_assert_no_error (error);
  hubs_invocation_return_void (invocation);
}

static gboolean
test_hub_join_group (HubsHub        *hub,
                     HubsInvocation *invocation,
                     const char     *group)
{
  hubs_group_manager_add_to_group_async (hubs_hub_get_groups (hub), caller_id (hub), group,
                                         NULL, group_changed, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_leave_group (HubsHub        *hub,
                      HubsInvocation *invocation,
                      const char     *group)
{
  hubs_group_manager_remove_from_group_async (hubs_hub_get_groups (hub), caller_id (hub), group,
                                              NULL, group_changed, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static HubsClientProxy *
proxy_for (HubsHubClients     *clients,
           const char         *kind,
           const char * const *names,
           const char * const *excluded)
{
  if (g_str_equal (kind, "all"))
    return hubs_hub_clients_all (clients);
  if (g_str_equal (kind, "caller"))
    return hubs_hub_clients_caller (clients);
  if (g_str_equal (kind, "others"))
    return hubs_hub_clients_others (clients);
  if (g_str_equal (kind, "client"))
    return hubs_hub_clients_client (clients, names[0]);
  if (g_str_equal (kind, "clients"))
    return hubs_hub_clients_clients (clients, names);
  if (g_str_equal (kind, "all-except"))
    return hubs_hub_clients_all_except (clients, excluded);
  if (g_str_equal (kind, "group"))
    return hubs_hub_clients_group (clients, names[0]);
  if (g_str_equal (kind, "groups"))
    return hubs_hub_clients_groups (clients, names);
  if (g_str_equal (kind, "group-except"))
    return hubs_hub_clients_group_except (clients, names[0], excluded);
  if (g_str_equal (kind, "others-in-group"))
    return hubs_hub_clients_others_in_group (clients, names[0]);
  if (g_str_equal (kind, "user"))
    return hubs_hub_clients_user (clients, names[0]);
  if (g_str_equal (kind, "users"))
    return hubs_hub_clients_users (clients, names);

  g_assert_not_reached ();
}

static void
sent (GObject      *source,
      GAsyncResult *result,
      gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  hubs_client_proxy_send_finish (HUBS_CLIENT_PROXY (source), result, &error);
  g_assert_no_error (error);
  hubs_invocation_return_void (invocation);
}

/* SendTo(kind, names, excluded, text): Msg(text) to whom @kind says */
static gboolean
test_hub_send_to (HubsHub            *hub,
                  HubsInvocation     *invocation,
                  const char         *kind,
                  const char * const *names,
                  const char * const *excluded,
                  const char         *text)
{
  g_autoptr(HubsClientProxy) proxy = proxy_for (hubs_hub_get_clients (hub), kind, names, excluded);
  g_auto(GValue) arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_STRING);
  g_value_set_string (&arg, text);
  hubs_client_proxy_send_async (proxy, "Msg", 1, &arg, NULL, sent, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static void
test_hub_finalize (GObject *object)
{
  state.hubs_alive--;

  G_OBJECT_CLASS (test_hub_parent_class)->finalize (object);
}

static void
test_hub_class_init (TestHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_hub_finalize;
  hub_class->on_connected = test_hub_on_connected;
  hub_class->on_disconnected = test_hub_on_disconnected;

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (test_hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "add-ints", G_CALLBACK (test_hub_add_ints),
                             G_TYPE_INT64, 2, G_TYPE_INT, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "negate", G_CALLBACK (test_hub_negate),
                             G_TYPE_BOOLEAN, 1, G_TYPE_BOOLEAN);
  hubs_hub_class_add_method (hub_class, "half", G_CALLBACK (test_hub_half),
                             G_TYPE_DOUBLE, 1, G_TYPE_DOUBLE);
  hubs_hub_class_add_method (hub_class, "nothing", G_CALLBACK (test_hub_nothing),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "later", G_CALLBACK (test_hub_later),
                             G_TYPE_STRING, 2, G_TYPE_INT, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "fail", G_CALLBACK (test_hub_fail),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "fail-other", G_CALLBACK (test_hub_fail_other),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "reverse-bytes", G_CALLBACK (test_hub_reverse_bytes),
                             G_TYPE_BYTES, 1, G_TYPE_BYTES);
  hubs_hub_class_add_method (hub_class, "add-hour", G_CALLBACK (test_hub_add_hour),
                             G_TYPE_DATE_TIME, 1, G_TYPE_DATE_TIME);
  hubs_hub_class_add_method (hub_class, "sum", G_CALLBACK (test_hub_sum),
                             G_TYPE_INT64, 1, G_TYPE_VARIANT);
  hubs_hub_class_set_parameter_variant_type (hub_class, "sum", 0, G_VARIANT_TYPE ("ax"));
  hubs_hub_class_add_method (hub_class, "unhandled", G_CALLBACK (test_hub_unhandled),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "renamed", G_CALLBACK (test_hub_renamed),
                             G_TYPE_STRING, 0);
  hubs_hub_class_set_method_name (hub_class, "renamed", "Custom.Name");
  hubs_hub_class_add_method (hub_class, "record", G_CALLBACK (test_hub_record),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "set-item", G_CALLBACK (test_hub_set_item),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-item", G_CALLBACK (test_hub_get_item),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "connection-id", G_CALLBACK (test_hub_connection_id),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "http-info", G_CALLBACK (test_hub_http_info),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "user-id", G_CALLBACK (test_hub_user_id),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "watch-aborted", G_CALLBACK (test_hub_watch_aborted),
                             G_TYPE_BOOLEAN, 0);
  hubs_hub_class_add_method (hub_class, "abort", G_CALLBACK (test_hub_abort),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "join-group", G_CALLBACK (test_hub_join_group),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "leave-group", G_CALLBACK (test_hub_leave_group),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to", G_CALLBACK (test_hub_send_to),
                             G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRV, G_TYPE_STRV, G_TYPE_STRING);
}

static void
test_hub_init (TestHub *self)
{
  state.hubs_alive++;
  state.hubs_created++;
}

/* The fixture: a server with TestHub on /hub, and a session */

typedef struct
{
  HubsServer *server;
  guint port;
  SoupSession *session;
  GPtrArray *clients;           /* Client */
  GPtrArray *log;               /* "name:message", every client's, in order */
} Fixture;

static HubsUser *
authenticate (HubsServer       *server,
              HubsHttpContext  *request,
              const char       *access_token,
              GError          **error,
              gpointer          user_data)
{
  HubsUser *user;

  g_assert_true (HUBS_IS_SERVER (server));
  g_assert_true (HUBS_IS_HTTP_CONTEXT (request));
  state.n_authenticated++;
  g_free (state.last_token);
  state.last_token = g_strdup (access_token);

  if (access_token == NULL)
    return NULL;

  if (!g_str_has_prefix (access_token, "user:"))
    {
      g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_UNAUTHORIZED, "The token is invalid");
      return NULL;
    }

  user = hubs_user_new ("Bearer");
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER, access_token + strlen ("user:"));
  return user;
}

static void client_free (gpointer data);

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsHubOptions) detailed = hubs_hub_options_new ();
  HubsHubContext *hub_context;

  state_reset ();

  f->server = hubs_server_new ();
  hub_context = hubs_server_map_hub (f->server, "/hub", TEST_TYPE_HUB, NULL);
  g_assert_true (HUBS_IS_HUB_CONTEXT (hub_context));
  hubs_hub_options_set_detailed_errors (detailed, TRUE);
  hubs_server_map_hub (f->server, "/detailed", TEST_TYPE_HUB, detailed);
  hubs_server_set_authentication_handler (f->server, authenticate, NULL, NULL);

  g_assert_cmpuint (hubs_server_get_port (f->server), ==, 0);
  hubs_server_listen_local (f->server, 0, &error);
  g_assert_no_error (error);
  f->port = hubs_server_get_port (f->server);
  g_assert_cmpuint (f->port, >, 0);

  f->session = soup_session_new_with_options ("max-conns-per-host", 32, NULL);
  f->clients = g_ptr_array_new_with_free_func (client_free);
  f->log = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  /* Clients close first, so that the hub side ends as it would in life. */
  g_clear_pointer (&f->clients, g_ptr_array_unref);
  g_clear_object (&f->session);
  g_clear_object (&f->server);
  spin (20);

  /* Whatever the test did, no hub instance outlives its call. */
  g_assert_cmpint (state.hubs_alive, ==, 0);
  g_clear_pointer (&f->log, g_ptr_array_unref);
  state_reset ();
}

static GUri *
fixture_uri (Fixture    *f,
             const char *scheme,
             const char *path_and_query)
{
  g_autofree char *text = g_strdup_printf ("%s://127.0.0.1:%u%s", scheme, f->port, path_and_query);
  g_autoptr(GError) error = NULL;
  GUri *uri = g_uri_parse (text, SOUP_HTTP_URI_FLAGS, &error);

  g_assert_no_error (error);
  return uri;
}

/* Sends a request; the body comes back in @body (nullable). */
static SoupMessage *
http_request (Fixture     *f,
              const char  *method,
              const char  *path_and_query,
              const char  *authorization,
              GBytes     **body)
{
  g_autoptr(GUri) uri = fixture_uri (f, "http", path_and_query);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  SoupMessage *message = soup_message_new_from_uri (method, uri);

  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (message),
                                  "Authorization", authorization);

  soup_session_send_and_read_async (f->session, message, G_PRIORITY_DEFAULT, NULL,
                                    got_result, &result);
  WAIT_UNTIL (result != NULL);
  bytes = soup_session_send_and_read_finish (f->session, result, &error);
  g_assert_no_error (error);

  if (body != NULL)
    *body = g_steal_pointer (&bytes);
  return message;
}

static char *
bytes_to_string (GBytes *bytes)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  /* An empty GBytes may have no data at all. */
  return g_strndup (data ? data : "", size);
}

/* POSTs a negotiate and returns its JSON body, checking status and type. */
static char *
negotiate (Fixture    *f,
           const char *path_and_query,
           const char *authorization)
{
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) body = NULL;

  message = http_request (f, "POST", path_and_query, authorization, &body);
  g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_OK);
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (message), NULL),
                   ==, "application/json");
  g_assert_cmpint (soup_message_headers_get_content_length (soup_message_get_response_headers (message)),
                   ==, g_bytes_get_size (body));

  return bytes_to_string (body);
}

static gboolean
is_base64url_id (const char *id)
{
  if (id == NULL || strlen (id) != 22)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

/* WebSocket clients */

typedef struct
{
  Fixture *fixture;
  char *name;
  SoupWebsocketConnection *ws;
  GQueue messages;              /* char *, one per WebSocket message */
  gboolean closed;
  gushort close_code;
  char *connection_id;
  char *token;
  guint next_id;
  guint status;                 /* of the upgrade request */
} Client;

static void
client_free (gpointer data)
{
  Client *c = data;

  if (c->ws != NULL)
    {
      if (!c->closed)
        {
          soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          WAIT_UNTIL (c->closed);
        }
      g_signal_handlers_disconnect_by_data (c->ws, c);
      g_clear_object (&c->ws);
    }
  g_queue_clear_full (&c->messages, g_free);
  g_free (c->name);
  g_free (c->connection_id);
  g_free (c->token);
  g_free (c);
}

static void
client_message (SoupWebsocketConnection *ws,
                int                      type,
                GBytes                  *message,
                gpointer                 user_data)
{
  Client *c = user_data;
  char *text = bytes_to_string (message);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_queue_push_tail (&c->messages, text);
  g_ptr_array_add (c->fixture->log, g_strdup_printf ("%s:%s", c->name, text));
}

static void
client_closed (SoupWebsocketConnection *ws,
               gpointer                 user_data)
{
  Client *c = user_data;

  c->closed = TRUE;
  c->close_code = soup_websocket_connection_get_close_code (ws);
}

typedef struct
{
  const char *query;            /* appended to both requests, without '&' */
  const char *authorization;    /* header of both requests */
  const char * const *headers;  /* name, value, …, NULL: of the upgrade only */
  int negotiate_version;        /* -1: none (v0) */
  gboolean skip_negotiate;      /* connect with ?id=@id */
  const char *id;
} ConnectOptions;

/* Negotiates and opens the WebSocket; the client is the fixture's. On a
 * failed upgrade, the client has no ws and @status says why. */
static Client *
client_new_full (Fixture              *f,
                 const char           *name,
                 const char           *path,
                 const ConnectOptions *options)
{
  static const ConnectOptions defaults = { NULL, NULL, NULL, 1, FALSE, NULL };
  Client *c = g_new0 (Client, 1);
  g_autofree char *ws_path = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;

  if (options == NULL)
    options = &defaults;

  c->fixture = f;
  c->name = g_strdup (name);
  g_queue_init (&c->messages);
  g_ptr_array_add (f->clients, c);

  if (!options->skip_negotiate)
    {
      g_autofree char *negotiate_path = NULL;
      g_autofree char *body = NULL;
      g_autoptr(JsonNode) root = NULL;
      JsonObject *object;

      if (options->negotiate_version >= 0)
        negotiate_path = g_strdup_printf ("%s/negotiate?negotiateVersion=%d%s%s", path,
                                          options->negotiate_version,
                                          options->query ? "&" : "", options->query ? options->query : "");
      else
        negotiate_path = g_strdup_printf ("%s/negotiate%s%s", path,
                                          options->query ? "?" : "", options->query ? options->query : "");
      body = negotiate (f, negotiate_path, options->authorization);
      root = json_from_string (body, &error);
      g_assert_no_error (error);
      object = json_node_get_object (root);
      c->connection_id = g_strdup (json_object_get_string_member (object, "connectionId"));
      if (json_object_has_member (object, "connectionToken"))
        c->token = g_strdup (json_object_get_string_member (object, "connectionToken"));
      g_assert_true (is_base64url_id (c->connection_id));
      id = c->token ? c->token : c->connection_id;
    }
  else
    id = options->id;

  ws_path = g_strdup_printf ("%s?id=%s%s%s", path, id,
                             options->query ? "&" : "", options->query ? options->query : "");
  uri = fixture_uri (f, "ws", ws_path);
  message = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  if (options->authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (message),
                                  "Authorization", options->authorization);
  for (guint i = 0; options->headers && options->headers[i]; i += 2)
    soup_message_headers_append (soup_message_get_request_headers (message),
                                 options->headers[i], options->headers[i + 1]);

  soup_session_websocket_connect_async (f->session, message, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  c->ws = soup_session_websocket_connect_finish (f->session, result, &error);
  c->status = soup_message_get_status (message);
  if (c->ws == NULL)
    {
      c->closed = TRUE;
      return c;
    }
  g_assert_no_error (error);

  g_signal_connect (c->ws, "message", G_CALLBACK (client_message), c);
  g_signal_connect (c->ws, "closed", G_CALLBACK (client_closed), c);

  return c;
}

static void
client_send (Client     *c,
             const char *text)
{
  g_assert_nonnull (c->ws);
  soup_websocket_connection_send_text (c->ws, text);
}

/* Returns the next message (free it), waiting for it. */
static char *
client_next (Client *c)
{
  WAIT_UNTIL (!g_queue_is_empty (&c->messages) || c->closed);
  if (g_queue_is_empty (&c->messages))
    g_error ("%s: closed (%u) while a message was expected", c->name, c->close_code);
  return g_queue_pop_head (&c->messages);
}

static void
client_expect (Client     *c,
               const char *expected)
{
  g_autofree char *text = client_next (c);

  g_assert_cmpstr (text, ==, expected);
}

static void
client_wait_closed (Client *c)
{
  WAIT_UNTIL (c->closed);
}

static Client *
client_open_full (Fixture              *f,
                  const char           *name,
                  const char           *path,
                  const ConnectOptions *options)
{
  Client *c = client_new_full (f, name, path, options);

  g_assert_nonnull (c->ws);
  client_send (c, HANDSHAKE);
  client_expect (c, HANDSHAKE_OK);
  return c;
}

static Client *
client_open (Fixture    *f,
             const char *name,
             const char *path)
{
  return client_open_full (f, name, path, NULL);
}

/* Sends an invocation with the next id and returns its id. */
static char *
client_invoke (Client     *c,
               const char *target,
               const char *arguments)
{
  char *id = g_strdup_printf ("%u", ++c->next_id);
  g_autofree char *text = NULL;

  text = g_strdup_printf ("{\"type\":1,\"invocationId\":\"%s\",\"target\":\"%s\",\"arguments\":%s}\x1e",
                          id, target, arguments);

  client_send (c, text);
  return id;
}

/* Checks that @text is the completion of @id and returns what follows
 * `"invocationId":"id",` without the closing `}\x1e`. */
static char *
completion_body (const char *text,
                 const char *id)
{
  g_autofree char *prefix = g_strdup_printf ("{\"type\":3,\"invocationId\":\"%s\",", id);
  gsize len = strlen (text);

  if (!g_str_has_prefix (text, prefix) || !g_str_has_suffix (text, "}\x1e"))
    g_error ("not the completion of %s: %s", id, text);
  return g_strndup (text + strlen (prefix), len - strlen (prefix) - 2);
}

/* Invokes and returns the completion's body, such as `"result":1`: the
 * next message must be that completion. */
static char *
client_call (Client     *c,
             const char *target,
             const char *arguments)
{
  g_autofree char *id = client_invoke (c, target, arguments);
  g_autofree char *text = client_next (c);

  return completion_body (text, id);
}

static void
client_call_expect (Client     *c,
                    const char *target,
                    const char *arguments,
                    const char *expected)
{
  g_autofree char *body = client_call (c, target, arguments);

  g_assert_cmpstr (body, ==, expected);
}

/* What the hub returns as a string; NULL for null. */
static char *
client_call_string (Client     *c,
                    const char *target,
                    const char *arguments)
{
  g_autofree char *body = client_call (c, target, arguments);
  g_autofree char *json = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_str_has_prefix (body, "\"result\":"));
  json = g_strdup (body + strlen ("\"result\":"));
  node = json_from_string (json, &error);
  g_assert_no_error (error);
  if (JSON_NODE_HOLDS_NULL (node))
    return NULL;
  return g_strdup (json_node_get_string (node));
}

/* A round trip: no message for @c was waiting before this call's answer. */
static void
client_barrier (Client *c)
{
  client_call_expect (c, "Echo", "[\"barrier\"]", "\"result\":\"barrier\"");
}

/* Negotiate */

static void
test_negotiate_v1 (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GRegex) shape = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;
  g_autofree char *token = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *transports;
  JsonObject *websockets;
  JsonArray *formats;

  body = negotiate (f, "/hub/negotiate?negotiateVersion=1", NULL);
  g_test_message ("negotiate: %s", body);

  /* The reference's field order; the transports follow. */
  shape = g_regex_new ("^\\{\"negotiateVersion\":1,\"connectionId\":\"([A-Za-z0-9_-]{22})\","
                       "\"connectionToken\":\"([A-Za-z0-9_-]{22})\",\"availableTransports\":\\[",
                       0, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_regex_match (shape, body, 0, &match));
  id = g_match_info_fetch (match, 1);
  token = g_match_info_fetch (match, 2);
  g_assert_cmpstr (id, !=, token);
  g_assert_true (g_str_has_suffix (body, "]}"));

  root = json_from_string (body, &error);
  g_assert_no_error (error);
  transports = json_object_get_array_member (json_node_get_object (root), "availableTransports");
  g_assert_cmpuint (json_array_get_length (transports), >=, 1);
  websockets = json_array_get_object_element (transports, 0);
  g_assert_cmpstr (json_object_get_string_member (websockets, "transport"), ==, "WebSockets");
  formats = json_object_get_array_member (websockets, "transferFormats");
  g_assert_cmpuint (json_array_get_length (formats), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (formats, 0), ==, "Text");
  g_assert_cmpstr (json_array_get_string_element (formats, 1), ==, "Binary");

  /* A negotiated connection exists before any transport claims it. */
  g_assert_cmpuint (hubs_server_get_n_connections (f->server), ==, 1);
}

static void
test_negotiate_random (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *body = negotiate (f, "/hub/negotiate?negotiateVersion=1", NULL);
      g_autoptr(JsonNode) root = json_from_string (body, NULL);
      JsonObject *object = json_node_get_object (root);
      const char *id = json_object_get_string_member (object, "connectionId");
      const char *token = json_object_get_string_member (object, "connectionToken");

      g_assert_true (is_base64url_id (id));
      g_assert_true (is_base64url_id (token));
      g_assert_false (g_hash_table_contains (seen, id));
      g_hash_table_add (seen, g_strdup (id));
      g_assert_false (g_hash_table_contains (seen, token));
      g_hash_table_add (seen, g_strdup (token));
    }

  g_assert_cmpuint (hubs_server_get_n_connections (f->server), ==, 8);
}

static void
test_negotiate_v0 (Fixture       *f,
                   gconstpointer  data)
{
  static const ConnectOptions v0 = { .negotiate_version = -1 };
  g_autoptr(GRegex) shape = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GError) error = NULL;
  Client *c;

  body = negotiate (f, "/hub/negotiate", NULL);
  shape = g_regex_new ("^\\{\"negotiateVersion\":0,\"connectionId\":\"[A-Za-z0-9_-]{22}\","
                       "\"availableTransports\":\\[\\{\"transport\":\"WebSockets\",", 0, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_regex_match (shape, body, 0, NULL));
  g_assert_null (strstr (body, "connectionToken"));

  /* In v0 the connection id is what ?id= carries, and what the hub sees. */
  c = client_open_full (f, "a", "/hub", &v0);
  g_assert_null (c->token);
  id = client_call_string (c, "ConnectionId", "[]");
  g_assert_cmpstr (id, ==, c->connection_id);
}

typedef struct
{
  const char *method;
  const char *path;
  guint status;
  const char *body;             /* NULL: not checked */
  const char *content_type;     /* NULL: not checked */
} HttpCase;

static void
serve_home (SoupServer        *server,
            SoupServerMessage *message,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  static const char page[] = "<p>home</p>";

  (*(guint *) user_data)++;
  if (strcmp (path, "/") != 0)
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "text/html", SOUP_MEMORY_STATIC, page, strlen (page));
}

/* The application's handler takes what no hub takes, "/" among them; hub
 * paths still match whatever their case. */
static void
test_default_handler (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(SoupMessage) home = NULL;
  g_autoptr(SoupMessage) other = NULL;
  g_autoptr(SoupMessage) negotiate = NULL;
  g_autoptr(GBytes) body = NULL;
  guint calls = 0;
  gsize size;
  const char *text;

  hubs_server_set_default_handler (f->server, serve_home, &calls, NULL);

  home = http_request (f, "GET", "/", NULL, &body);
  g_assert_cmpuint (soup_message_get_status (home), ==, SOUP_STATUS_OK);
  text = g_bytes_get_data (body, &size);
  g_assert_cmpmem (text, size, "<p>home</p>", 11);
  g_clear_pointer (&body, g_bytes_unref);

  other = http_request (f, "GET", "/nothing", NULL, NULL);
  g_assert_cmpuint (soup_message_get_status (other), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpuint (calls, ==, 2);

  negotiate = http_request (f, "POST", "/HUB/negotiate?negotiateVersion=1", NULL, &body);
  g_assert_cmpuint (soup_message_get_status (negotiate), ==, SOUP_STATUS_OK);
  g_assert_cmpuint (calls, ==, 2);

  /* Replaced, then taken away: 404 again. */
  hubs_server_set_default_handler (f->server, NULL, NULL, NULL);
  g_clear_object (&home);
  home = http_request (f, "GET", "/", NULL, NULL);
  g_assert_cmpuint (soup_message_get_status (home), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpuint (calls, ==, 2);
}

static void
test_negotiate_http (Fixture       *f,
                     gconstpointer  data)
{
  static const HttpCase cases[] = {
    { "GET", "/hub/negotiate?negotiateVersion=1", 405, "", "text/plain" },
    { "PUT", "/hub/negotiate", 405, "", "text/plain" },
    { "PUT", "/hub", 405, "", "text/plain" },
    { "POST", "/hub/negotiate?negotiateVersion=abc", 200,
      "{\"error\":\"The client requested a non-integer protocol version.\"}", "application/json" },
    { "POST", "/hub/negotiate?negotiateVersion=1.5", 200,
      "{\"error\":\"The client requested a non-integer protocol version.\"}", "application/json" },
    { "POST", "/hub/negotiate?negotiateVersion=", 200,
      "{\"error\":\"The client requested a non-integer protocol version.\"}", "application/json" },
    { "POST", "/hub/negotiate?negotiateVersion=-1", 200,
      "{\"error\":\"The client requested version '-1', but the server does not support this version.\"}",
      "application/json" },
    { "POST", "/nothing/negotiate?negotiateVersion=1", 404, NULL, NULL },
    { "GET", "/nothing", 404, NULL, NULL },
    { "POST", "/hubs/negotiate?negotiateVersion=1", 404, NULL, NULL },
    { "POST", "/hub/negotiate/x?negotiateVersion=1", 404, NULL, NULL },
    { "POST", "/hub?id=unknown", 404, "No Connection with that ID", "text/plain" },
    { "POST", "/hub", 400, "Connection ID required", "text/plain" },
    { "DELETE", "/hub", 400, "Connection ID required", "text/plain" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SoupMessage) message = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autofree char *text = NULL;

      g_test_message ("%s %s", cases[i].method, cases[i].path);
      message = http_request (f, cases[i].method, cases[i].path, NULL, &body);
      g_assert_cmpuint (soup_message_get_status (message), ==, cases[i].status);
      text = bytes_to_string (body);
      if (cases[i].body != NULL)
        g_assert_cmpstr (text, ==, cases[i].body);
      if (cases[i].content_type != NULL)
        g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (message), NULL),
                         ==, cases[i].content_type);
    }

  /* None of them made a connection. */
  g_assert_cmpuint (hubs_server_get_n_connections (f->server), ==, 0);
}

typedef struct
{
  const char *path;
  int version;                  /* -1: no connectionToken expected */
} NegotiateVersionCase;

static void
test_negotiate_versions (Fixture       *f,
                         gconstpointer  data)
{
  static const NegotiateVersionCase cases[] = {
    { "/hub/negotiate?negotiateVersion=1", 1 },
    { "/HUB/negotiate?negotiateVersion=1", 1 },
    { "/Hub/Negotiate?negotiateVersion=1", 1 },
    { "/hub/negotiate/?negotiateVersion=1", 1 },
    { "/hub/negotiate?NEGOTIATEVERSION=1", 1 },
    { "/hub/negotiate?negotiateVersion=7", 1 },
    { "/hub/negotiate?negotiateVersion=0", 0 },
    { "/hub/negotiate", 0 },
    { "/DETAILED/negotiate?negotiateVersion=1", 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = NULL;
      g_autofree char *prefix = NULL;
      g_autoptr(JsonNode) root = NULL;

      g_test_message ("%s", cases[i].path);
      body = negotiate (f, cases[i].path, NULL);
      prefix = g_strdup_printf ("{\"negotiateVersion\":%d,\"connectionId\":\"", cases[i].version);
      g_assert_true (g_str_has_prefix (body, prefix));
      root = json_from_string (body, NULL);
      g_assert_nonnull (root);
      g_assert_cmpint (json_object_has_member (json_node_get_object (root), "connectionToken"),
                       ==, cases[i].version > 0);
    }
}

/* A v1 connection is found by its token, never by its id. */
static void
test_negotiate_token_not_id (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *body = negotiate (f, "/hub/negotiate?negotiateVersion=1", NULL);
  g_autoptr(JsonNode) root = json_from_string (body, NULL);
  ConnectOptions options = {
    .skip_negotiate = TRUE,
    .id = json_object_get_string_member (json_node_get_object (root), "connectionId"),
  };
  Client *c;

  c = client_new_full (f, "a", "/hub", &options);
  g_assert_null (c->ws);
  g_assert_cmpuint (c->status, ==, SOUP_STATUS_NOT_FOUND);

  /* A token serves one transport at a time. */
  c = client_open (f, "b", "/hub");
  options.id = c->token;
  c = client_new_full (f, "c", "/hub", &options);
  g_assert_null (c->ws);
  g_assert_cmpuint (c->status, ==, SOUP_STATUS_CONFLICT);
}

/* A hub whose options leave WebSockets out neither offers nor takes them. */
static void
test_negotiate_no_websockets (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  g_autofree char *body = NULL;
  g_autoptr(JsonNode) root = NULL;
  ConnectOptions connect = { .skip_negotiate = TRUE };
  Client *c;

  hubs_hub_options_set_transports (options, HUBS_TRANSPORT_LONG_POLLING);
  hubs_server_map_hub (f->server, "/nows", TEST_TYPE_HUB, options);

  body = negotiate (f, "/nows/negotiate?negotiateVersion=1", NULL);
  g_assert_null (strstr (body, "WebSockets"));
  root = json_from_string (body, NULL);
  connect.id = json_object_get_string_member (json_node_get_object (root), "connectionToken");
  c = client_new_full (f, "a", "/nows", &connect);
  g_assert_null (c->ws);
  g_assert_cmpuint (c->status, ==, SOUP_STATUS_NOT_FOUND);
}

/* Handshake */

typedef struct
{
  const char *path;
  const char *request;
  const char *response;
  gboolean closes;
} HandshakeCase;

static void
test_handshake_responses (Fixture       *f,
                          gconstpointer  data)
{
  static const HandshakeCase cases[] = {
    { "/hub", HANDSHAKE, HANDSHAKE_OK, FALSE },
    { "/hub", "{\"protocol\":\"json\",\"version\":2}\x1e", HANDSHAKE_OK, FALSE },
    { "/hub", "{\"version\":1,\"extra\":[1,{}],\"protocol\":\"json\"}\x1e", HANDSHAKE_OK, FALSE },
    { "/hub", "{\"protocol\":\"JSON\",\"version\":1}\x1e", HANDSHAKE_OK, FALSE },
    { "/hub", "{\"protocol\":\"foo\",\"version\":1}\x1e",
      "{\"error\":\"The protocol 'foo' is not supported.\"}\x1e", TRUE },
    { "/hub", "{\"protocol\":\"json\",\"version\":3}\x1e",
      "{\"error\":\"The server does not support version 3 of the 'json' protocol.\"}\x1e", TRUE },
    { "/hub", "{\"protocol\":\"json\"}\x1e",
      "{\"error\":\"An unexpected error occurred during connection handshake.\"}\x1e", TRUE },
    { "/hub", "not json\x1e",
      "{\"error\":\"An unexpected error occurred during connection handshake.\"}\x1e", TRUE },
    { "/detailed", "{\"protocol\":\"json\"}\x1e",
      "{\"error\":\"An unexpected error occurred during connection handshake. InvalidDataException: "
      "Missing required property 'version'. Message content: {\\\"protocol\\\":\\\"json\\\"}\"}\x1e", TRUE },
    { "/detailed", "{\"protocol\":\"foo\",\"version\":1}\x1e",
      "{\"error\":\"The protocol 'foo' is not supported.\"}\x1e", TRUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Client *c;

      g_test_message ("%s %s", cases[i].path, cases[i].request);
      c = client_new_full (f, "a", cases[i].path, NULL);
      client_send (c, cases[i].request);
      client_expect (c, cases[i].response);

      if (cases[i].closes)
        {
          client_wait_closed (c);
          g_assert_cmpuint (c->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
          g_assert_true (g_queue_is_empty (&c->messages));
        }
      else
        {
          client_barrier (c);
          g_assert_false (c->closed);
        }
    }

  /* Only the accepted handshakes reached the hub. */
  g_assert_cmpuint (state.n_connected, ==, 4);
}

static void
test_handshake_timeout (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  Client *c;
  gint64 start;

  hubs_hub_options_set_handshake_timeout (options, 200);
  hubs_server_map_hub (f->server, "/short", TEST_TYPE_HUB, options);

  c = client_new_full (f, "a", "/short", NULL);
  start = g_get_monotonic_time ();
  client_expect (c, "{\"error\":\"Handshake was canceled.\"}\x1e");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 150 * 1000);
  client_wait_closed (c);
  g_assert_cmpuint (state.n_connected, ==, 0);

  /* A client that shakes hands in time stays. */
  c = client_open (f, "b", "/short");
  spin (300);
  g_assert_false (c->closed);
  client_barrier (c);
}

/* What follows the handshake in the same frame is the first messages. */
static void
test_handshake_with_messages (Fixture       *f,
                              gconstpointer  data)
{
  Client *c = client_new_full (f, "a", "/hub", NULL);

  client_send (c, HANDSHAKE "{\"type\":6}\x1e"
               "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\x1e");
  client_expect (c, HANDSHAKE_OK);
  client_expect (c, "{\"type\":3,\"invocationId\":\"1\",\"result\":\"x\"}\x1e");
}

/* Invocations */

typedef struct
{
  int type;                     /* 1: Invocation, 4: StreamInvocation */
  const char *target;
  const char *arguments;
  const char *extra;            /* more fields, with a leading comma */
  const char *body;             /* what follows the invocation id */
  const char *detailed_body;    /* with detailed errors; NULL: as @body */
} InvocationCase;

#define BINDING_ERROR "Error binding arguments. Make sure that the types of the provided values " \
  "match the types of the hub method being invoked."

static const InvocationCase invocation_cases[] = {
  { 1, "Echo", "[\"hi\"]", "", "\"result\":\"hi\"", NULL },
  { 1, "echo", "[\"hi\"]", "", "\"result\":\"hi\"", NULL },
  { 1, "ECHO", "[\"h\\u00e9 \\\"q\\\" <b> & \\ud83d\\ude00\"]", "",
    "\"result\":\"hé \\\"q\\\" <b> & \\uD83D\\uDE00\"", NULL },
  { 1, "Echo", "[null]", "", "\"result\":null", NULL },
  { 1, "AddInts", "[2,40]", "", "\"result\":42", NULL },
  { 1, "AddInts", "[-2147483648,-1]", "", "\"result\":-2147483649", NULL },
  { 1, "Negate", "[true]", "", "\"result\":false", NULL },
  { 1, "Half", "[3]", "", "\"result\":1.5", NULL },
  { 1, "Half", "[4]", "", "\"result\":2", NULL },
  { 1, "Nothing", "[]", "", "\"result\":null", NULL },
  { 1, "Fail", "[\"boom\"]", "",
    "\"error\":\"An unexpected error occurred invoking 'Fail' on the server. HubException: boom\"", NULL },
  { 1, "fail", "[\"boom\"]", "",
    "\"error\":\"An unexpected error occurred invoking 'Fail' on the server. HubException: boom\"", NULL },
  { 1, "FailOther", "[\"boom\"]", "",
    "\"error\":\"An unexpected error occurred invoking 'FailOther' on the server.\"",
    "\"error\":\"An unexpected error occurred invoking 'FailOther' on the server. InvalidOperationException: boom\"" },
  { 1, "Nope", "[]", "",
    "\"error\":\"Failed to invoke 'Nope' due to an error on the server. HubException: Method does not exist.\"", NULL },
  { 1, "nope", "[1,2]", "",
    "\"error\":\"Failed to invoke 'nope' due to an error on the server. HubException: Method does not exist.\"", NULL },
  { 1, "echo", "[]", "",
    "\"error\":\"Failed to invoke 'Echo' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'Echo' due to an error on the server. InvalidDataException: "
    "Invocation provides 0 argument(s) but target expects 1.\"" },
  { 1, "Echo", "[\"a\",\"b\"]", "",
    "\"error\":\"Failed to invoke 'Echo' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'Echo' due to an error on the server. InvalidDataException: "
    "Invocation provides 2 argument(s) but target expects 1.\"" },
  { 1, "echo", "[1]", "",
    "\"error\":\"Failed to invoke 'Echo' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'Echo' due to an error on the server. InvalidDataException: " BINDING_ERROR "\"" },
  { 1, "AddInts", "[1,\"2\"]", "",
    "\"error\":\"Failed to invoke 'AddInts' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'AddInts' due to an error on the server. InvalidDataException: " BINDING_ERROR "\"" },
  /* The first argument that does not bind fails before the count. */
  { 1, "AddInts", "[\"1\"]", "",
    "\"error\":\"Failed to invoke 'AddInts' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'AddInts' due to an error on the server. InvalidDataException: " BINDING_ERROR "\"" },
  { 1, "AddInts", "[1,2147483648]", "",
    "\"error\":\"Failed to invoke 'AddInts' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'AddInts' due to an error on the server. InvalidDataException: " BINDING_ERROR "\"" },
  { 1, "Unhandled", "[]", "",
    "\"error\":\"An unexpected error occurred invoking 'Unhandled' on the server.\"",
    "\"error\":\"An unexpected error occurred invoking 'Unhandled' on the server. InvalidOperationException: "
    "No handler took the invocation of \u2018Unhandled\u2019.\"" },
  { 1, "Custom.Name", "[]", "", "\"result\":\"renamed\"", NULL },
  { 1, "custom.NAME", "[]", "", "\"result\":\"renamed\"", NULL },
  { 1, "Renamed", "[]", "",
    "\"error\":\"Failed to invoke 'Renamed' due to an error on the server. "
    "HubException: Method does not exist.\"", NULL },
  { 1, "ReverseBytes", "[\"AQID\"]", "", "\"result\":\"AwIB\"", NULL },
  { 1, "ReverseBytes", "[\"\"]", "", "\"result\":\"\"", NULL },
  { 1, "ReverseBytes", "[\"AQI\"]", "",
    "\"error\":\"Failed to invoke 'ReverseBytes' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'ReverseBytes' due to an error on the server. "
    "InvalidDataException: " BINDING_ERROR "\"" },
  { 1, "AddHour", "[\"2024-01-02T03:04:05Z\"]", "", "\"result\":\"2024-01-02T04:04:05Z\"", NULL },
  { 1, "AddHour", "[\"2024-12-31T23:30:00.25+02:00\"]", "", "\"result\":\"2025-01-01T00:30:00.25+02:00\"", NULL },
  { 1, "AddHour", "[\"yesterday\"]", "",
    "\"error\":\"Failed to invoke 'AddHour' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'AddHour' due to an error on the server. InvalidDataException: " BINDING_ERROR "\"" },
  { 1, "Sum", "[[1,2,3]]", "", "\"result\":6", NULL },
  { 1, "Sum", "[[]]", "", "\"result\":0", NULL },
  { 1, "Sum", "[[\"a\"]]", "",
    "\"error\":\"Failed to invoke 'Sum' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'Sum' due to an error on the server. InvalidDataException: " BINDING_ERROR "\"" },
  { 1, "Sum", "[{\"a\":1}]", "",
    "\"error\":\"Failed to invoke 'Sum' due to an error on the server.\"",
    "\"error\":\"Failed to invoke 'Sum' due to an error on the server. InvalidDataException: " BINDING_ERROR "\"" },
  { 4, "Echo", "[\"x\"]", "",
    "\"error\":\"The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.\"", NULL },
  { 4, "echo", "[\"x\"]", "",
    "\"error\":\"The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.\"", NULL },
  { 1, "Echo", "[\"x\"]", ",\"streamIds\":[\"s1\"]",
    "\"error\":\"An unexpected error occurred invoking 'Echo' on the server. HubException: "
    "Client sent 1 stream(s), Hub method expects 0.\"", NULL },
  { 1, "echo", "[\"x\"]", ",\"streamIds\":[\"s1\",\"s2\"]",
    "\"error\":\"An unexpected error occurred invoking 'Echo' on the server. HubException: "
    "Client sent 2 stream(s), Hub method expects 0.\"", NULL },
  { 1, "Echo", "[\"x\"]", ",\"streamIds\":[]", "\"result\":\"x\"", NULL },
  { 1, "Echo", "[\"x\"]", ",\"headers\":{\"a\":\"b\"}", "\"result\":\"x\"", NULL },
};

static void
test_invocation_results (Fixture       *f,
                         gconstpointer  data)
{
  gboolean detailed = GPOINTER_TO_INT (data);
  Client *c = client_open (f, "a", detailed ? "/detailed" : "/hub");

  for (gsize i = 0; i < G_N_ELEMENTS (invocation_cases); i++)
    {
      const InvocationCase *row = &invocation_cases[i];
      const char *expected = detailed && row->detailed_body ? row->detailed_body : row->body;
      g_autofree char *id = g_strdup_printf ("i%" G_GSIZE_FORMAT, i);
      g_autofree char *request = NULL;
      g_autofree char *text = NULL;
      g_autofree char *body = NULL;

      request = g_strdup_printf ("{\"type\":%d,\"invocationId\":\"%s\",\"target\":\"%s\",\"arguments\":%s%s}\x1e",
                                 row->type, id, row->target, row->arguments, row->extra);
      g_test_message ("%s", request);
      client_send (c, request);
      text = client_next (c);
      body = completion_body (text, id);
      g_assert_cmpstr (body, ==, expected);
    }

  g_assert_false (c->closed);
  g_assert_cmpint (state.hubs_alive, ==, 0);
}

/* Where ASP.NET Core binds the arguments while parsing, before it looks at
 * the invocation's kind or its streams: a binding failure wins. */
static void
test_invocation_check_order (Fixture       *f,
                             gconstpointer  data)
{
  static const InvocationCase cases[] = {
    { 4, "Echo", "[]", "",
      "\"error\":\"Failed to invoke 'Echo' due to an error on the server. InvalidDataException: "
      "Invocation provides 0 argument(s) but target expects 1.\"", NULL },
    { 1, "Echo", "[]", ",\"streamIds\":[\"s1\"]",
      "\"error\":\"Failed to invoke 'Echo' due to an error on the server. InvalidDataException: "
      "Invocation provides 0 argument(s) but target expects 1.\"", NULL },
  };
  Client *c = client_open (f, "a", "/detailed");
  g_autoptr(GString) divergences = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *request = NULL;
      g_autofree char *text = NULL;
      g_autofree char *body = NULL;

      request = g_strdup_printf ("{\"type\":%d,\"invocationId\":\"1\",\"target\":\"%s\",\"arguments\":%s%s}",
                                 cases[i].type, cases[i].target, cases[i].arguments, cases[i].extra);
      client_send (c, request);
      client_send (c, "\x1e");
      text = client_next (c);
      body = completion_body (text, "1");
      if (!g_str_equal (body, cases[i].body))
        g_string_append_printf (divergences, "; %s gave %s", request, body);
    }

  if (divergences->len > 0)
    g_test_incomplete_printf ("hubs_hub_dispatcher_invoke() checks the invocation kind and stream count "
                              "before binding the arguments; ASP.NET Core binds first%s", divergences->str);
}

static void
test_invocation_later (Fixture       *f,
                       gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");
  gint64 start = g_get_monotonic_time ();

  client_call_expect (c, "Later", "[100,\"done\"]", "\"result\":\"done\"");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 90 * 1000);
}

/* Without an invocation id nothing comes back, not even an error. */
static void
test_invocation_non_blocking (Fixture       *f,
                              gconstpointer  data)
{
  Client *c = client_open (f, "a", "/detailed");

  client_send (c, "{\"type\":1,\"target\":\"Record\",\"arguments\":[\"first\"]}\x1e");
  client_send (c, "{\"type\":1,\"target\":\"Fail\",\"arguments\":[\"boom\"]}\x1e");
  client_send (c, "{\"type\":1,\"target\":\"FailOther\",\"arguments\":[\"boom\"]}\x1e");
  client_send (c, "{\"type\":1,\"target\":\"Nope\",\"arguments\":[]}\x1e");
  client_send (c, "{\"type\":1,\"target\":\"Echo\",\"arguments\":[1,2]}\x1e");
  client_send (c, "{\"type\":1,\"invocationId\":\"\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\x1e");
  client_send (c, "{\"type\":1,\"target\":\"Echo\",\"arguments\":[\"x\"],\"streamIds\":[\"s\"]}\x1e");
  client_send (c, "{\"type\":1,\"target\":\"Later\",\"arguments\":[50,\"x\"]}\x1e");
  client_send (c, "{\"type\":1,\"target\":\"Record\",\"arguments\":[\"second\"]}\x1e");

  client_call_expect (c, "Echo", "[\"blocking\"]", "\"result\":\"blocking\"");
  g_assert_cmpstr (state.recorded, ==, "second");
  g_assert_true (g_queue_is_empty (&c->messages));
}

/* Messages for streams, client results and stateful reconnect, which this
 * server has none of, and messages of unknown types are skipped. */
static void
test_invocation_ignored_messages (Fixture       *f,
                                  gconstpointer  data)
{
  Client *c = client_open (f, "a", "/detailed");

  client_send (c, "{\"type\":2,\"invocationId\":\"s1\",\"item\":1}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"s1\",\"result\":1}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"s1\",\"error\":\"e\"}\x1e");
  client_send (c, "{\"type\":5,\"invocationId\":\"nothing\"}\x1e");
  client_send (c, "{\"type\":8,\"sequenceId\":1}\x1e");
  client_send (c, "{\"type\":99,\"whatever\":[1]}\x1e");
  client_send (c, "{\"type\":6}\x1e{\"type\":6}\x1e");
  /* One record over three frames. */
  client_send (c, "{\"type\":1,\"invocationId\":\"split\",");
  client_send (c, "\"target\":\"Echo\",\"arguments\":[\"s\"]}");
  client_send (c, "\x1e");

  client_expect (c, "{\"type\":3,\"invocationId\":\"split\",\"result\":\"s\"}\x1e");
  client_barrier (c);
  g_assert_cmpuint (state.n_disconnected, ==, 0);
}

/* A client that leaves while an invocation runs: the hub side ends at once,
 * and the invocation's cancellable tells the method so. */
static void
test_invocation_after_close (Fixture       *f,
                             gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");
  g_autofree char *slow = NULL;

  slow = client_invoke (c, "Later", "[300,\"slow\"]");
  spin (20);
  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_closed (c);
  WAIT_UNTIL (state.n_disconnected == 1);
  g_assert_cmpuint (state.n_later_done, ==, 0);

  /* It completes into the void. */
  WAIT_UNTIL (state.n_later_done == 1);
  g_assert_true (state.later_cancelled);
  spin (20);
  g_assert_true (g_queue_is_empty (&c->messages));
  g_assert_cmpint (state.hubs_alive, ==, 0);
}

/* The same with a second invocation waiting for the first. ASP.NET Core's
 * transport goes on reading the socket while the hub's reader waits for the
 * invocation slot (up to its 64 KiB buffer), and the transport's end aborts
 * the connection (HubConnectionContext registers Abort() on ConnectionClosed):
 * the running invocation sees ConnectionAborted fire at once, although
 * OnDisconnectedAsync waits for the reader. */
static void
test_invocation_after_close_queued (Fixture       *f,
                                    gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");
  g_autofree char *slow = NULL;
  g_autofree char *queued = NULL;

  slow = client_invoke (c, "Later", "[300,\"slow\"]");
  queued = client_invoke (c, "Echo", "[\"queued\"]");
  spin (20);
  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_closed (c);
  WAIT_UNTIL (state.n_disconnected == 1);
  WAIT_UNTIL (state.n_later_done == 1);
  spin (20);
  g_assert_cmpint (state.hubs_alive, ==, 0);

  if (!state.later_cancelled)
    g_test_incomplete ("while an invocation runs and another waits for it, the server stops reading the "
                       "WebSocket (hubs-connection-context.c, handle_message() calls "
                       "hubs_http_connection_set_receiving (FALSE)): a client that leaves is only noticed "
                       "once the running invocation has completed, so its cancellable "
                       "(get_connection_aborted()) is not cancelled while it runs");
}

/* One connection's invocations run one at a time, in order; other
 * connections are served meanwhile. */
static void
test_invocation_sequential (Fixture       *f,
                            gconstpointer  data)
{
  Client *a = client_open (f, "a", "/hub");
  Client *b = client_open (f, "b", "/hub");
  g_autofree char *slow = NULL;
  g_autofree char *fast = NULL;
  g_autofree char *other = NULL;
  gint64 start;

  g_ptr_array_set_size (f->log, 0);
  start = g_get_monotonic_time ();
  slow = client_invoke (a, "Later", "[300,\"slow\"]");
  fast = client_invoke (a, "Echo", "[\"fast\"]");
  spin (20);
  other = client_invoke (b, "Echo", "[\"other\"]");

  client_expect (b, "{\"type\":3,\"invocationId\":\"1\",\"result\":\"other\"}\x1e");
  g_assert_true (g_queue_is_empty (&a->messages));

  client_expect (a, "{\"type\":3,\"invocationId\":\"1\",\"result\":\"slow\"}\x1e");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 290 * 1000);
  client_expect (a, "{\"type\":3,\"invocationId\":\"2\",\"result\":\"fast\"}\x1e");

  g_assert_cmpuint (f->log->len, ==, 3);
  g_assert_cmpstr (f->log->pdata[0], ==, "b:{\"type\":3,\"invocationId\":\"1\",\"result\":\"other\"}\x1e");
  g_assert_cmpstr (f->log->pdata[1], ==, "a:{\"type\":3,\"invocationId\":\"1\",\"result\":\"slow\"}\x1e");
  g_assert_cmpstr (f->log->pdata[2], ==, "a:{\"type\":3,\"invocationId\":\"2\",\"result\":\"fast\"}\x1e");
}

/* A hub instance for each call, and none left afterwards. */
static void
test_invocation_hub_instances (Fixture       *f,
                               gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");
  g_autofree char *id = NULL;
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;

  /* on_connected had one. */
  g_assert_cmpint (state.hubs_created, ==, 1);
  g_assert_cmpint (state.hubs_alive, ==, 0);

  client_barrier (c);
  client_call_expect (c, "Nothing", "[]", "\"result\":null");
  client_call_expect (c, "Nope", "[]",
                      "\"error\":\"Failed to invoke 'Nope' due to an error on the server. "
                      "HubException: Method does not exist.\"");
  client_call_expect (c, "Fail", "[\"x\"]",
                      "\"error\":\"An unexpected error occurred invoking 'Fail' on the server. HubException: x\"");
  /* An unknown method makes no hub. */
  g_assert_cmpint (state.hubs_created, ==, 4);
  g_assert_cmpint (state.hubs_alive, ==, 0);

  /* The invocation keeps its hub until it completes. */
  id = client_invoke (c, "Later", "[100,\"x\"]");
  spin (30);
  g_assert_cmpint (state.hubs_alive, ==, 1);
  text = client_next (c);
  body = completion_body (text, id);
  g_assert_cmpstr (body, ==, "\"result\":\"x\"");
  g_assert_cmpint (state.hubs_alive, ==, 0);
  g_assert_cmpint (state.hubs_created, ==, 5);

  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_closed (c);
  WAIT_UNTIL (state.n_disconnected == 1);
  g_assert_cmpint (state.hubs_created, ==, 6);
  g_assert_cmpint (state.hubs_alive, ==, 0);
}

/* Context */

static void
test_context_connection_id (Fixture       *f,
                            gconstpointer  data)
{
  Client *a = client_open (f, "a", "/hub");
  Client *b = client_open (f, "b", "/hub");
  g_autofree char *a_id = client_call_string (a, "ConnectionId", "[]");
  g_autofree char *b_id = client_call_string (b, "ConnectionId", "[]");

  g_assert_cmpstr (a_id, ==, a->connection_id);
  g_assert_cmpstr (a_id, !=, a->token);
  g_assert_cmpstr (b_id, ==, b->connection_id);
  g_assert_cmpstr (a_id, !=, b_id);
}

static void
test_context_items (Fixture       *f,
                    gconstpointer  data)
{
  Client *a = client_open (f, "a", "/hub");
  Client *b = client_open (f, "b", "/hub");

  client_call_expect (a, "GetItem", "[\"k\"]", "\"result\":null");
  client_call_expect (a, "SetItem", "[\"k\",\"v\"]", "\"result\":null");
  client_call_expect (a, "GetItem", "[\"k\"]", "\"result\":\"v\"");
  client_call_expect (b, "GetItem", "[\"k\"]", "\"result\":null");
  client_call_expect (b, "SetItem", "[\"k\",\"w\"]", "\"result\":null");
  client_call_expect (a, "Nothing", "[]", "\"result\":null");
  client_call_expect (a, "GetItem", "[\"k\"]", "\"result\":\"v\"");
  client_call_expect (b, "GetItem", "[\"k\"]", "\"result\":\"w\"");
}

static void
test_context_http (Fixture       *f,
                   gconstpointer  data)
{
  static const char * const headers[] = {
    "X-Test", "hello",
    "Cookie", "a=1; c=cookie-value",
    NULL
  };
  ConnectOptions options = { .query = "q=search%20term", .headers = headers, .negotiate_version = 1 };
  g_autofree char *expected = g_strdup_printf ("hello|search term|cookie-value|GET|/hub|json|%d",
                                               HUBS_TRANSPORT_WEB_SOCKETS);
  Client *a = client_open_full (f, "a", "/hub", &options);
  Client *b = client_open (f, "b", "/hub");
  g_autofree char *a_info = client_call_string (a, "HttpInfo", "[]");
  g_autofree char *b_info = client_call_string (b, "HttpInfo", "[]");

  g_assert_cmpstr (a_info, ==, expected);
  g_assert_true (g_str_has_prefix (b_info, "(none)|(none)|(none)|GET|/hub|"));
}

static void
test_context_aborted (Fixture       *f,
                      gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");

  client_call_expect (c, "WatchAborted", "[]", "\"result\":false");
  g_assert_nonnull (state.aborted);
  g_assert_false (g_cancellable_is_cancelled (state.aborted));
  g_assert_nonnull (state.caller);

  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  WAIT_UNTIL (g_cancellable_is_cancelled (state.aborted));
  WAIT_UNTIL (state.n_disconnected == 1);
  /* As ASP.NET Core's ConnectionAborted: before on_disconnected runs. */
  g_assert_true (state.aborted_before_disconnect);
  /* A WebSocket closed without a Close message is no error either. */
  g_assert_null (state.disconnect_errors->pdata[0]);
  client_wait_closed (c);

  /* The connection's context goes with the connection. */
  WAIT_UNTIL (state.caller == NULL);
}

/* Lifetime */

static void
test_lifetime_on_connected_first (Fixture       *f,
                                  gconstpointer  data)
{
  Client *c;
  g_autofree char *welcome = NULL;

  state.connected_mode = CONNECTED_WELCOME;
  c = client_new_full (f, "a", "/hub", NULL);
  client_send (c, HANDSHAKE "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\x1e");
  client_expect (c, HANDSHAKE_OK);
  welcome = g_strdup_printf ("{\"type\":1,\"target\":\"Welcome\",\"arguments\":[\"%s\"]}\x1e", c->connection_id);
  client_expect (c, welcome);
  client_expect (c, "{\"type\":3,\"invocationId\":\"1\",\"result\":\"x\"}\x1e");
}

typedef struct
{
  ConnectedMode mode;
  const char *path;
  const char *close;
} RefusedCase;

static void
test_lifetime_on_connected_refused (Fixture       *f,
                                    gconstpointer  data)
{
  static const RefusedCase cases[] = {
    { CONNECTED_REFUSE_OTHER, "/hub", "{\"type\":7,\"error\":\"Connection closed with an error.\"}\x1e" },
    { CONNECTED_REFUSE_OTHER, "/detailed",
      "{\"type\":7,\"error\":\"Connection closed with an error. InvalidOperationException: Not welcome\"}\x1e" },
    { CONNECTED_REFUSE_HUB, "/hub",
      "{\"type\":7,\"error\":\"Connection closed with an error. HubException: Not welcome\"}\x1e" },
  };
  guint n_disconnected = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Client *c;

      g_test_message ("%s %d", cases[i].path, cases[i].mode);
      state.connected_mode = cases[i].mode;
      c = client_new_full (f, "a", cases[i].path, NULL);
      /* No message is dispatched once on_connected has refused. */
      client_send (c, HANDSHAKE "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Record\",\"arguments\":[\"x\"]}\x1e");
      client_expect (c, HANDSHAKE_OK);
      client_expect (c, cases[i].close);
      client_wait_closed (c);
      g_assert_cmpuint (c->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
      g_assert_true (g_queue_is_empty (&c->messages));
      g_assert_null (state.recorded);
      n_disconnected = state.n_disconnected;
    }

  g_assert_cmpuint (state.n_connected, ==, G_N_ELEMENTS (cases));
  /* ASP.NET Core's HubConnectionHandler.RunHubAsync returns at once when
   * OnConnectedAsync throws: the hub's OnDisconnectedAsync never runs. */
  if (n_disconnected != 0)
    g_test_incomplete_printf ("on_disconnected ran %u times for connections that on_connected refused "
                              "(hubs-connection-context.c, run_on_connected() sets connected_notified "
                              "before on_connected and finish() then calls on_disconnected)",
                              n_disconnected);
}

static void
test_lifetime_client_close (Fixture       *f,
                            gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");
  Client *d = client_open (f, "b", "/hub");
  GError *error;

  client_send (c, "{\"type\":7}\x1e");
  client_expect (c, "{\"type\":7}\x1e");
  client_wait_closed (c);
  g_assert_cmpuint (c->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  WAIT_UNTIL (state.n_disconnected == 1);
  g_assert_null (state.disconnect_errors->pdata[0]);

  /* With an error, which on_disconnected gets as a hub error. */
  client_send (d, "{\"type\":7,\"error\":\"bye\"}\x1e");
  client_expect (d, "{\"type\":7}\x1e");
  client_wait_closed (d);
  WAIT_UNTIL (state.n_disconnected == 2);
  error = state.disconnect_errors->pdata[1];
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "bye");
}

typedef struct
{
  const char *path;
  const char *message;
  int code;
  const char *error;
  const char *close;
} BadMessageCase;

static void
test_lifetime_bad_messages (Fixture       *f,
                            gconstpointer  data)
{
  static const BadMessageCase cases[] = {
    { "/hub", "{\"type\":1,\x1e", HUBS_ERROR_INVALID_DATA, "Error reading JSON.",
      "{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\x1e" },
    { "/detailed", "{\"type\":1,\x1e", HUBS_ERROR_INVALID_DATA, "Error reading JSON.",
      "{\"type\":7,\"error\":\"Connection closed with an error. InvalidDataException: Error reading JSON.\","
      "\"allowReconnect\":true}\x1e" },
    { "/detailed", "{\"arguments\":[]}\x1e", HUBS_ERROR_INVALID_DATA, "Missing required property 'type'.",
      "{\"type\":7,\"error\":\"Connection closed with an error. InvalidDataException: "
      "Missing required property 'type'.\",\"allowReconnect\":true}\x1e" },
    { "/detailed", "{\"type\":1,\"invocationId\":\"1\",\"arguments\":[]}\x1e", HUBS_ERROR_INVALID_DATA,
      "Missing required property 'target'.",
      "{\"type\":7,\"error\":\"Connection closed with an error. InvalidDataException: "
      "Missing required property 'target'.\",\"allowReconnect\":true}\x1e" },
    { "/detailed", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Echo\"}\x1e", HUBS_ERROR_INVALID_DATA,
      "Missing required property 'arguments'.",
      "{\"type\":7,\"error\":\"Connection closed with an error. InvalidDataException: "
      "Missing required property 'arguments'.\",\"allowReconnect\":true}\x1e" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Client *c = client_open (f, "a", cases[i].path);
      GError *error;

      g_test_message ("%s %s", cases[i].path, cases[i].message);
      client_send (c, cases[i].message);
      client_expect (c, cases[i].close);
      client_wait_closed (c);
      g_assert_true (g_queue_is_empty (&c->messages));
      WAIT_UNTIL (state.n_disconnected == i + 1);
      error = state.disconnect_errors->pdata[i];
      g_assert_error (error, HUBS_ERROR, cases[i].code);
      g_assert_cmpstr (error->message, ==, cases[i].error);
    }
}

/* ASP.NET Core's read loop ends with "Connection terminated while reading a
 * message." when the transport ends in the middle of a record. */
static void
test_lifetime_partial_message (Fixture       *f,
                               gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");
  const GError *error;

  client_barrier (c);
  client_send (c, "{\"type\":1,\"invocationId\":\"1\",");
  spin (50);
  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_closed (c);
  WAIT_UNTIL (state.n_disconnected == 1);

  error = state.disconnect_errors->pdata[0];
  if (error == NULL)
    {
      g_test_incomplete ("on_disconnected gets no error when the transport ends in the middle of a record "
                         "(hubs-connection-context.c, on_closed() ignores what is left in the input); "
                         "ASP.NET Core's read loop throws InvalidDataException \"Connection terminated while "
                         "reading a message.\" when its input completes on a partial record");
      return;
    }
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "Connection terminated while reading a message.");
}

/* A message ends the connection when no whole record fits in the maximum
 * size, separator included. */
static void
test_lifetime_too_large (Fixture       *f,
                         gconstpointer  data)
{
  static const char prefix[] = "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Echo\",\"arguments\":[\"";
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  g_autoptr(GString) fits = g_string_new (prefix);
  g_autoptr(GString) over = NULL;
  g_autofree char *echoed = NULL;
  Client *c;
  GError *error;

  hubs_hub_options_set_maximum_receive_message_size (options, 80);
  hubs_hub_options_set_detailed_errors (options, TRUE);
  hubs_server_map_hub (f->server, "/small", TEST_TYPE_HUB, options);

  while (fits->len < 80 - strlen ("\"]}\x1e"))
    g_string_append_c (fits, 'x');
  over = g_string_new (fits->str);
  g_string_append (fits, "\"]}\x1e");
  g_string_append (over, "x\"]}\x1e");
  g_assert_cmpuint (fits->len, ==, 80);
  g_assert_cmpuint (over->len, ==, 81);

  c = client_open (f, "a", "/small");
  client_send (c, fits->str);
  echoed = client_next (c);
  g_assert_true (g_str_has_prefix (echoed, "{\"type\":3,\"invocationId\":\"1\",\"result\":\"xxx"));

  client_send (c, over->str);
  client_expect (c, "{\"type\":7,\"error\":\"Connection closed with an error. InvalidDataException: "
                 "The maximum message size of 80B was exceeded. The message size can be configured "
                 "in AddHubOptions.\",\"allowReconnect\":true}\x1e");
  client_wait_closed (c);
  WAIT_UNTIL (state.n_disconnected == 1);
  error = state.disconnect_errors->pdata[0];
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE);
  g_assert_cmpstr (error->message, ==, "The maximum message size of 80B was exceeded. "
                   "The message size can be configured in AddHubOptions.");
}

static void
test_lifetime_keep_alive (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  Client *c;
  gint64 start;

  hubs_hub_options_set_keep_alive_interval (options, 100);
  hubs_server_map_hub (f->server, "/ping", TEST_TYPE_HUB, options);

  c = client_open (f, "a", "/ping");
  start = g_get_monotonic_time ();
  for (guint i = 0; i < 3; i++)
    client_expect (c, "{\"type\":6}\x1e");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250 * 1000);

  /* Pings do not disturb invocations. */
  client_send (c, "{\"type\":1,\"invocationId\":\"x\",\"target\":\"Echo\",\"arguments\":[\"y\"]}\x1e");
  for (;;)
    {
      g_autofree char *text = client_next (c);

      if (g_str_equal (text, "{\"type\":6}\x1e"))
        continue;
      g_assert_cmpstr (text, ==, "{\"type\":3,\"invocationId\":\"x\",\"result\":\"y\"}\x1e");
      break;
    }

  /* The default interval is 15 s: none in a short while. */
  c = client_open (f, "b", "/hub");
  spin (300);
  g_assert_true (g_queue_is_empty (&c->messages));
}

static void
test_lifetime_client_timeout (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  Client *c, *quiet;
  GError *error;
  gint64 start;

  hubs_hub_options_set_client_timeout_interval (options, 300);
  hubs_server_map_hub (f->server, "/timeout", TEST_TYPE_HUB, options);

  /* Without a first ping from the client, no timeout. */
  quiet = client_open (f, "quiet", "/timeout");

  c = client_open (f, "a", "/timeout");
  client_send (c, "{\"type\":6}\x1e");
  start = g_get_monotonic_time ();
  client_expect (c, "{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\x1e");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250 * 1000);
  client_wait_closed (c);
  WAIT_UNTIL (state.n_disconnected == 1);
  error = state.disconnect_errors->pdata[0];
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_TIMED_OUT);
  g_assert_cmpstr (error->message, ==,
                   "Client hasn't sent a message/ping within the configured ClientTimeoutInterval.");

  spin (400);
  g_assert_false (quiet->closed);
  g_assert_true (g_queue_is_empty (&quiet->messages));
  client_barrier (quiet);
}

/* An invocation that takes longer than the client timeout is no silence. */
static void
test_lifetime_client_timeout_busy (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  Client *c;

  hubs_hub_options_set_client_timeout_interval (options, 200);
  hubs_server_map_hub (f->server, "/timeout", TEST_TYPE_HUB, options);

  c = client_open (f, "a", "/timeout");
  client_send (c, "{\"type\":6}\x1e");
  client_call_expect (c, "Later", "[400,\"late\"]", "\"result\":\"late\"");
  g_assert_false (c->closed);
}

static void
test_lifetime_abort (Fixture       *f,
                     gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");
  g_autofree char *id = NULL;

  id = client_invoke (c, "Abort", "[]");
  client_expect (c, "{\"type\":7}\x1e");
  client_wait_closed (c);
  g_assert_cmpuint (c->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  /* The completion of Abort() itself is not sent after the Close. */
  g_assert_true (g_queue_is_empty (&c->messages));
  WAIT_UNTIL (state.n_disconnected == 1);
  g_assert_null (state.disconnect_errors->pdata[0]);
}

/* Disposing the server ends its connections; nothing of them is left. */
static void
test_lifetime_server_disposed (Fixture       *f,
                               gconstpointer  data)
{
  Client *c = client_open (f, "a", "/hub");

  client_call_expect (c, "WatchAborted", "[]", "\"result\":false");
  g_assert_nonnull (state.caller);

  g_clear_object (&f->server);
  spin (300);

  if (!c->closed || state.n_disconnected != 1 || state.caller != NULL)
    {
      gboolean answers = FALSE;

      if (!c->closed)
        {
          client_barrier (c);
          answers = TRUE;
        }
      g_test_incomplete_printf ("after g_object_unref() of its HubsServer, a hub connection lives on "
                                "(WebSocket closed: %d, on_disconnected: %u, caller context finalized: %d, "
                                "still answers invocations: %d)",
                                c->closed, state.n_disconnected, state.caller == NULL, answers);
      return;
    }
  g_assert_true (g_cancellable_is_cancelled (state.aborted));
}

/* Clients and groups */

typedef struct
{
  const char *kind;
  const char *names;            /* comma-separated; A-D are the clients' ids */
  const char *excluded;         /* idem */
  guint counts[4];              /* Msg received by A, B, C, D */
} TargetCase;

static char *
names_json (const char *names,
            Client    **clients)
{
  g_auto(GStrv) split = g_strsplit (names ? names : "", ",", -1);
  g_autoptr(GString) json = g_string_new ("[");

  for (guint i = 0; split[i] && split[i][0]; i++)
    {
      const char *name = split[i];

      if (strlen (name) == 1 && name[0] >= 'A' && name[0] <= 'D')
        name = clients[name[0] - 'A']->connection_id;
      g_string_append_printf (json, "%s\"%s\"", i > 0 ? "," : "", name);
    }
  g_string_append_c (json, ']');
  return g_string_free (g_steal_pointer (&json), FALSE);
}

/* Counts Msg("hi") until the completion of @id, which must come. */
static guint
count_until_completion (Client     *c,
                        const char *id,
                        const char *expected_body)
{
  guint n = 0;

  for (;;)
    {
      g_autofree char *text = client_next (c);
      g_autofree char *body = NULL;

      if (g_str_equal (text, "{\"type\":1,\"target\":\"Msg\",\"arguments\":[\"hi\"]}\x1e"))
        {
          n++;
          continue;
        }
      body = completion_body (text, id);
      g_assert_cmpstr (body, ==, expected_body);
      return n;
    }
}

static void
test_clients_targets (Fixture       *f,
                      gconstpointer  data)
{
  static const TargetCase cases[] = {
    { "all", NULL, NULL, { 1, 1, 1, 1 } },
    { "caller", NULL, NULL, { 1, 0, 0, 0 } },
    { "others", NULL, NULL, { 0, 1, 1, 1 } },
    { "client", "B", NULL, { 0, 1, 0, 0 } },
    { "client", "A", NULL, { 1, 0, 0, 0 } },
    { "client", "unknown", NULL, { 0, 0, 0, 0 } },
    { "clients", "B,D", NULL, { 0, 1, 0, 1 } },
    { "clients", "", NULL, { 0, 0, 0, 0 } },
    { "all-except", NULL, "A,C", { 0, 1, 0, 1 } },
    { "all-except", NULL, "", { 1, 1, 1, 1 } },
    { "group", "g1", NULL, { 1, 1, 0, 0 } },
    { "group", "G1", NULL, { 0, 0, 0, 0 } },
    { "group", "none", NULL, { 0, 0, 0, 0 } },
    { "groups", "g1,g2", NULL, { 2, 1, 1, 0 } },
    { "groups", "g2", NULL, { 1, 0, 1, 0 } },
    { "group-except", "g1", "B", { 1, 0, 0, 0 } },
    { "group-except", "g2", "A,C", { 0, 0, 0, 0 } },
    { "others-in-group", "g2", NULL, { 0, 0, 1, 0 } },
    { "others-in-group", "g1", NULL, { 0, 1, 0, 0 } },
    { "user", "alice", NULL, { 1, 0, 1, 0 } },
    { "user", "bob", NULL, { 0, 1, 0, 0 } },
    { "user", "Alice", NULL, { 0, 0, 0, 0 } },
    { "users", "alice,bob", NULL, { 1, 1, 1, 0 } },
    { "users", "carol", NULL, { 0, 0, 0, 0 } },
    /* Named twice, still one copy each */
    { "users", "alice,bob,alice", NULL, { 1, 1, 1, 0 } },
  };
  static const ConnectOptions alice = { .query = "access_token=user:alice", .negotiate_version = 1 };
  static const ConnectOptions bob = { .query = "access_token=user:bob", .negotiate_version = 1 };
  Client *clients[4];

  clients[0] = client_open_full (f, "A", "/hub", &alice);
  clients[1] = client_open_full (f, "B", "/hub", &bob);
  clients[2] = client_open_full (f, "C", "/hub", &alice);
  clients[3] = client_open (f, "D", "/hub");

  client_call_expect (clients[0], "JoinGroup", "[\"g1\"]", "\"result\":null");
  client_call_expect (clients[0], "JoinGroup", "[\"g2\"]", "\"result\":null");
  client_call_expect (clients[0], "JoinGroup", "[\"g2\"]", "\"result\":null");
  client_call_expect (clients[1], "JoinGroup", "[\"g1\"]", "\"result\":null");
  client_call_expect (clients[2], "JoinGroup", "[\"g2\"]", "\"result\":null");
  client_call_expect (clients[3], "JoinGroup", "[\"g3\"]", "\"result\":null");
  client_call_expect (clients[3], "LeaveGroup", "[\"g3\"]", "\"result\":null");
  client_call_expect (clients[3], "LeaveGroup", "[\"g1\"]", "\"result\":null");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *names = names_json (cases[i].names, clients);
      g_autofree char *excluded = names_json (cases[i].excluded, clients);
      g_autofree char *arguments = g_strdup_printf ("[\"%s\",%s,%s,\"hi\"]", cases[i].kind, names, excluded);
      g_autofree char *id = NULL;

      g_test_message ("SendTo %s", arguments);
      id = client_invoke (clients[0], "SendTo", arguments);
      g_assert_cmpuint (count_until_completion (clients[0], id, "\"result\":null"), ==, cases[i].counts[0]);

      for (guint k = 1; k < 4; k++)
        {
          g_autofree char *barrier = client_invoke (clients[k], "Echo", "[\"barrier\"]");

          g_test_message ("  %s", clients[k]->name);
          g_assert_cmpuint (count_until_completion (clients[k], barrier, "\"result\":\"barrier\""),
                            ==, cases[i].counts[k]);
        }
    }
}

/* A connection that ends leaves its groups; the others stay in them. */
static void
test_clients_groups_left (Fixture       *f,
                          gconstpointer  data)
{
  Client *a = client_open (f, "A", "/hub");
  Client *b = client_open (f, "B", "/hub");
  Client *c = client_open (f, "C", "/hub");
  g_autofree char *id = NULL;

  client_call_expect (a, "JoinGroup", "[\"g\"]", "\"result\":null");
  client_call_expect (b, "JoinGroup", "[\"g\"]", "\"result\":null");
  client_call_expect (b, "JoinGroup", "[\"only-b\"]", "\"result\":null");
  client_call_expect (a, "LeaveGroup", "[\"g\"]", "\"result\":null");

  id = client_invoke (c, "SendTo", "[\"groups\",[\"g\",\"only-b\"],[],\"hi\"]");
  g_assert_cmpuint (count_until_completion (c, id, "\"result\":null"), ==, 0);
  g_clear_pointer (&id, g_free);
  id = client_invoke (b, "Echo", "[\"barrier\"]");
  g_assert_cmpuint (count_until_completion (b, id, "\"result\":\"barrier\""), ==, 2);
  client_barrier (a);

  client_call_expect (a, "JoinGroup", "[\"g\"]", "\"result\":null");
  soup_websocket_connection_close (b->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_closed (b);
  WAIT_UNTIL (state.n_disconnected == 1);

  g_clear_pointer (&id, g_free);
  id = client_invoke (c, "SendTo", "[\"groups\",[\"g\",\"only-b\"],[],\"hi\"]");
  g_assert_cmpuint (count_until_completion (c, id, "\"result\":null"), ==, 0);
  g_clear_pointer (&id, g_free);
  id = client_invoke (a, "Echo", "[\"barrier\"]");
  g_assert_cmpuint (count_until_completion (a, id, "\"result\":\"barrier\""), ==, 1);
}

/* A connection that ends is no longer one of its user's; the user's other
 * connections still are, and a new one of the user's joins them. */
static void
test_clients_user_left (Fixture       *f,
                        gconstpointer  data)
{
  static const ConnectOptions alice = { .query = "access_token=user:alice", .negotiate_version = 1 };
  Client *a = client_open_full (f, "A", "/hub", &alice);
  Client *b = client_open_full (f, "B", "/hub", &alice);
  Client *c = client_open (f, "C", "/hub");
  Client *d;
  g_autofree char *id = NULL;

  id = client_invoke (c, "SendTo", "[\"user\",[\"alice\"],[],\"hi\"]");
  g_assert_cmpuint (count_until_completion (c, id, "\"result\":null"), ==, 0);
  g_clear_pointer (&id, g_free);
  client_expect (a, "{\"type\":1,\"target\":\"Msg\",\"arguments\":[\"hi\"]}\x1e");
  client_expect (b, "{\"type\":1,\"target\":\"Msg\",\"arguments\":[\"hi\"]}\x1e");

  soup_websocket_connection_close (a->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_closed (a);
  WAIT_UNTIL (state.n_disconnected == 1);
  d = client_open_full (f, "D", "/hub", &alice);

  id = client_invoke (c, "SendTo", "[\"user\",[\"alice\"],[],\"hi\"]");
  g_assert_cmpuint (count_until_completion (c, id, "\"result\":null"), ==, 0);
  g_clear_pointer (&id, g_free);
  for (guint i = 0; i < 2; i++)
    {
      Client *k = i == 0 ? b : d;

      id = client_invoke (k, "Echo", "[\"barrier\"]");
      g_assert_cmpuint (count_until_completion (k, id, "\"result\":\"barrier\""), ==, 1);
      g_clear_pointer (&id, g_free);
    }
}

/* A message to many is written once: the same bytes for every recipient. */
static void
test_clients_identical_bytes (Fixture       *f,
                              gconstpointer  data)
{
  static const char expected[] = "{\"type\":1,\"target\":\"Msg\",\"arguments\":[\"h\u00e9llo \\\"q\\\" <b> & "
                                 "\\uD83D\\uDE00 \\u0001\"]}\x1e";
  Client *clients[3];
  g_autofree char *id = NULL;
  g_autofree char *completion = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      g_autofree char *name = g_strdup_printf ("%c", 'A' + i);

      clients[i] = client_open (f, name, "/hub");
    }

  id = client_invoke (clients[0], "SendTo",
                      "[\"all\",[],[],\"h\\u00e9llo \\\"q\\\" <b> & \\ud83d\\ude00 \\u0001\"]");
  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    client_expect (clients[i], expected);
  completion = client_next (clients[0]);
  g_assert_cmpstr (completion, ==, "{\"type\":3,\"invocationId\":\"1\",\"result\":null}\x1e");
}

static void
send_async_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Fixture *f = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (hubs_client_proxy_send_finish (HUBS_CLIENT_PROXY (source), result, &error));
  g_assert_no_error (error);

  /* The message is queued already: what comes next comes after it. */
  hubs_server_shutdown_async (f->server, NULL, NULL, NULL);
}

/* HubsHubContext: sending and grouping from outside any hub */
static void
test_clients_hub_context (Fixture       *f,
                          gconstpointer  data)
{
  HubsHubContext *context = hubs_server_get_hub_context (f->server, "/hub");
  g_autoptr(HubsClientProxy) all = NULL;
  g_autoptr(HubsClientProxy) group = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  Client *a, *b;

  g_assert_true (HUBS_IS_HUB_CONTEXT (context));
  g_assert_true (hubs_server_get_hub_context (f->server, "/HUB") == context);
  g_assert_true (hubs_server_get_hub_context (f->server, "/hub/") == context);
  g_assert_null (hubs_server_get_hub_context (f->server, "/nothing"));
  g_assert_cmpstr (hubs_hub_context_get_path (context), ==, "/hub");
  g_assert_true (hubs_hub_context_get_hub_type (context) == TEST_TYPE_HUB);

  a = client_open (f, "a", "/hub");
  b = client_open (f, "b", "/hub");

  hubs_group_manager_add_to_group_async (hubs_hub_context_get_groups (context), b->connection_id, "outside",
                                         NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_group_manager_add_to_group_finish (hubs_hub_context_get_groups (context), result, &error));
  g_assert_no_error (error);

  group = hubs_hub_clients_group (hubs_hub_context_get_clients (context), "outside");
  hubs_client_proxy_send (group, "ToGroup", G_TYPE_INT, 7, G_TYPE_STRING, "x", G_TYPE_BOOLEAN, TRUE, G_TYPE_INVALID);
  client_expect (b, "{\"type\":1,\"target\":\"ToGroup\",\"arguments\":[7,\"x\",true]}\x1e");
  client_barrier (a);

  all = hubs_hub_clients_all (hubs_hub_context_get_clients (context));
  g_value_init (&arg, G_TYPE_INT);
  g_value_set_int (&arg, 42);
  hubs_client_proxy_send_async (all, "Broadcast", 1, &arg, NULL, send_async_done, f);

  client_expect (a, "{\"type\":1,\"target\":\"Broadcast\",\"arguments\":[42]}\x1e");
  client_expect (b, "{\"type\":1,\"target\":\"Broadcast\",\"arguments\":[42]}\x1e");
  client_expect (a, "{\"type\":7,\"allowReconnect\":true}\x1e");
  client_expect (b, "{\"type\":7,\"allowReconnect\":true}\x1e");
  client_wait_closed (a);
  client_wait_closed (b);
}

/* Authentication */

static void
test_auth_invalid_token (Fixture       *f,
                         gconstpointer  data)
{
  static const struct
  {
    const char *path;
    const char *authorization;
  } cases[] = {
    { "/hub/negotiate?negotiateVersion=1&access_token=bad", NULL },
    { "/hub/negotiate?negotiateVersion=1", "Bearer bad" },
    { "/hub/negotiate?negotiateVersion=1&access_token=user:alice", "Bearer bad" },
    { "/hub?id=whatever&access_token=bad", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SoupMessage) message = NULL;
      g_autoptr(GBytes) body = NULL;

      g_test_message ("%s %s", cases[i].path, cases[i].authorization ? cases[i].authorization : "");
      message = http_request (f, "POST", cases[i].path, cases[i].authorization, &body);
      g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_UNAUTHORIZED);
      g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (message), "WWW-Authenticate"),
                       ==, "Bearer error=\"invalid_token\", error_description=\"The token is invalid\"");
      g_assert_cmpuint (g_bytes_get_size (body), ==, 0);
      g_assert_cmpstr (state.last_token, ==, "bad");
    }

  /* The upgrade too. */
  {
    g_autofree char *body = negotiate (f, "/hub/negotiate?negotiateVersion=1", NULL);
    g_autoptr(JsonNode) root = json_from_string (body, NULL);
    g_autofree char *query = g_strdup_printf ("%s&access_token=bad",
                                              json_object_get_string_member (json_node_get_object (root),
                                                                             "connectionToken"));
    ConnectOptions options = { .skip_negotiate = TRUE, .id = query };
    Client *c = client_new_full (f, "a", "/hub", &options);

    g_assert_null (c->ws);
    g_assert_cmpuint (c->status, ==, SOUP_STATUS_UNAUTHORIZED);
  }

  g_assert_cmpuint (state.n_connected, ==, 0);
}

static void
test_auth_required (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *anonymous_query = NULL;
  g_autofree char *user = NULL;
  ConnectOptions with_token = { .query = "access_token=user:alice", .negotiate_version = 1 };
  ConnectOptions anonymous = { .skip_negotiate = TRUE };
  Client *c;

  hubs_hub_options_set_require_authentication (options, TRUE);
  hubs_server_map_hub (f->server, "/secure", TEST_TYPE_HUB, options);

  message = http_request (f, "POST", "/secure/negotiate?negotiateVersion=1", NULL, &body);
  g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpstr (soup_message_get_reason_phrase (message), ==, "Unauthorized");
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (message), "WWW-Authenticate"),
                   ==, "Bearer");
  g_assert_cmpuint (g_bytes_get_size (body), ==, 0);
  g_assert_cmpuint (hubs_server_get_n_connections (f->server), ==, 0);

  /* With a token negotiate works; the upgrade without one does not. */
  c = client_open_full (f, "a", "/secure", &with_token);
  user = client_call_string (c, "UserId", "[]");
  g_assert_cmpstr (user, ==, "alice");

  {
    g_autofree char *negotiated = negotiate (f, "/secure/negotiate?negotiateVersion=1&access_token=user:alice", NULL);
    g_autoptr(JsonNode) root = json_from_string (negotiated, NULL);

    anonymous_query = g_strdup (json_object_get_string_member (json_node_get_object (root), "connectionToken"));
  }
  anonymous.id = anonymous_query;
  c = client_new_full (f, "b", "/secure", &anonymous);
  g_assert_null (c->ws);
  g_assert_cmpuint (c->status, ==, SOUP_STATUS_UNAUTHORIZED);

  /* Other hubs stay open to anonymous clients. */
  c = client_open (f, "c", "/hub");
  g_clear_pointer (&user, g_free);
  user = client_call_string (c, "UserId", "[]");
  g_assert_null (user);
}

static void
test_auth_header_wins (Fixture       *f,
                       gconstpointer  data)
{
  ConnectOptions options = {
    .query = "access_token=user:alice",
    .authorization = "Bearer user:bob",
    .negotiate_version = 1,
  };
  Client *c = client_open_full (f, "a", "/hub", &options);
  g_autofree char *user = client_call_string (c, "UserId", "[]");

  g_assert_cmpstr (user, ==, "bob");
  g_assert_cmpstr (state.last_token, ==, "user:bob");
}

/* Shutdown */

static void
shutdown_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (hubs_server_shutdown_finish (HUBS_SERVER (source), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
test_shutdown (Fixture       *f,
               gconstpointer  data)
{
  Client *a = client_open (f, "a", "/hub");
  Client *b = client_open (f, "b", "/detailed");
  gboolean done = FALSE;

  client_barrier (a);
  client_barrier (b);
  g_assert_cmpuint (hubs_server_get_n_connections (f->server), ==, 2);

  hubs_server_shutdown_async (f->server, NULL, shutdown_done, &done);
  client_expect (a, "{\"type\":7,\"allowReconnect\":true}\x1e");
  client_expect (b, "{\"type\":7,\"allowReconnect\":true}\x1e");
  client_wait_closed (a);
  client_wait_closed (b);
  g_assert_cmpuint (a->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  WAIT_UNTIL (done);
  WAIT_UNTIL (state.n_disconnected == 2);
  g_assert_null (state.disconnect_errors->pdata[0]);
  g_assert_null (state.disconnect_errors->pdata[1]);
  WAIT_UNTIL (hubs_server_get_n_connections (f->server) == 0);
}

/* A negotiated connection that no transport claimed goes too. */
static void
test_shutdown_unclaimed (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *body = negotiate (f, "/hub/negotiate?negotiateVersion=1", NULL);
  gboolean done = FALSE;
  gint64 start;

  g_assert_cmpuint (hubs_server_get_n_connections (f->server), ==, 1);
  hubs_server_shutdown_async (f->server, NULL, shutdown_done, &done);
  WAIT_UNTIL (done);

  start = g_get_monotonic_time ();
  while (hubs_server_get_n_connections (f->server) != 0 &&
         g_get_monotonic_time () - start < 1000 * 1000)
    spin (20);
  if (hubs_server_get_n_connections (f->server) != 0)
    g_test_incomplete ("hubs_server_shutdown_async() leaves negotiated connections that no transport "
                       "claimed until the 15 s reaper; ASP.NET Core's shutdown disposes every connection");
}

/* On an application's SoupServer, which goes on listening, a server that
 * has shut down takes no new hub connection. */
static void
test_shutdown_app_server (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(SoupServer) soup_server = soup_server_new (NULL, NULL);
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;
  Client *c;

  g_clear_object (&f->server);
  f->server = hubs_server_new_for_soup_server (soup_server);
  g_assert_true (hubs_server_get_soup_server (f->server) == soup_server);
  hubs_server_map_hub (f->server, "/hub", TEST_TYPE_HUB, NULL);
  soup_server_listen_local (soup_server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  f->port = hubs_server_get_port (f->server);

  c = client_open (f, "a", "/hub");
  client_barrier (c);
  hubs_server_shutdown_async (f->server, NULL, shutdown_done, &done);
  client_expect (c, "{\"type\":7,\"allowReconnect\":true}\x1e");
  client_wait_closed (c);
  WAIT_UNTIL (done);
  WAIT_UNTIL (state.n_disconnected == 1);

  message = http_request (f, "POST", "/hub/negotiate?negotiateVersion=1", NULL, NULL);
  if (soup_message_get_status (message) == SOUP_STATUS_OK)
    {
      c = client_new_full (f, "b", "/hub", NULL);
      if (c->ws != NULL)
        {
          client_send (c, HANDSHAKE);
          WAIT_UNTIL (c->closed || !g_queue_is_empty (&c->messages));
          if (!c->closed && g_str_equal (g_queue_peek_head (&c->messages), HANDSHAKE_OK))
            g_test_incomplete ("after hubs_server_shutdown_async() has completed on an application's "
                               "SoupServer, negotiate still answers 200 and new hub connections are served");
        }
    }
}

/* Raw connection endpoints */

typedef struct
{
  HubsHttpConnection *connection;
  guint n_closed;
  gboolean closed_with_error;
  guint n_destroyed;
} RawState;

static void
raw_received (HubsHttpConnection *connection,
              GBytes             *data,
              gpointer            user_data)
{
  hubs_http_connection_send (connection, data);
}

static void
raw_closed (HubsHttpConnection *connection,
            const GError       *error,
            gpointer            user_data)
{
  RawState *raw = user_data;

  raw->n_closed++;
  raw->closed_with_error = error != NULL;
}

static void
raw_handler (HubsServer         *server,
             HubsHttpConnection *connection,
             gpointer            user_data)
{
  RawState *raw = user_data;

  g_assert_null (raw->connection);
  raw->connection = g_object_ref (connection);
  g_signal_connect (connection, "received", G_CALLBACK (raw_received), raw);
  g_signal_connect (connection, "closed", G_CALLBACK (raw_closed), raw);
}

static void
raw_destroyed (gpointer user_data)
{
  RawState *raw = user_data;

  raw->n_destroyed++;
}

static void
test_raw_echo (Fixture       *f,
               gconstpointer  data)
{
  RawState raw = { NULL, };
  HubsHttpContext *http;
  Client *c;

  hubs_server_map_connection_handler (f->server, "/echo", NULL, raw_handler, &raw, raw_destroyed);

  c = client_new_full (f, "a", "/echo", NULL);
  g_assert_nonnull (c->ws);
  WAIT_UNTIL (raw.connection != NULL);
  g_assert_cmpstr (hubs_http_connection_get_connection_id (raw.connection), ==, c->connection_id);
  g_assert_cmpuint (hubs_http_connection_get_transport (raw.connection), ==, HUBS_TRANSPORT_WEB_SOCKETS);
  http = hubs_http_connection_get_http_context (raw.connection);
  g_assert_cmpstr (hubs_http_context_get_path (http), ==, "/echo");
  g_assert_false (hubs_http_connection_is_closed (raw.connection));

  /* No hub protocol: no handshake, bytes as they are. */
  client_send (c, "hello");
  client_expect (c, "hello");
  client_send (c, "{\"protocol\":\"json\",\"version\":1}\x1e");
  client_expect (c, "{\"protocol\":\"json\",\"version\":1}\x1e");

  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_closed (c);
  WAIT_UNTIL (raw.n_closed == 1);
  g_assert_false (raw.closed_with_error);
  g_assert_true (hubs_http_connection_is_closed (raw.connection));
  WAIT_UNTIL (hubs_server_get_n_connections (f->server) == 0);

  g_assert_cmpuint (raw.n_destroyed, ==, 0);
  g_clear_object (&f->server);
  g_assert_cmpuint (raw.n_destroyed, ==, 1);
  g_signal_handlers_disconnect_by_data (raw.connection, &raw);
  g_clear_object (&raw.connection);
}

int
main (int   argc,
      char *argv[])
{
  /* Isolated directories hold no GSettings schemas: keep the session from
   * looking up the desktop's proxy settings, as libsoup's own tests do. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/hubs/server/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
#define ADD_DATA(path, data, func) \
  g_test_add ("/hubs/server/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  ADD ("negotiate/v1", test_negotiate_v1);
  ADD ("negotiate/random", test_negotiate_random);
  ADD ("negotiate/v0", test_negotiate_v0);
  ADD ("negotiate/http", test_negotiate_http);
  ADD ("default-handler", test_default_handler);
  ADD ("negotiate/versions", test_negotiate_versions);
  ADD ("negotiate/token-not-id", test_negotiate_token_not_id);
  ADD ("negotiate/no-websockets", test_negotiate_no_websockets);

  ADD ("handshake/responses", test_handshake_responses);
  ADD ("handshake/timeout", test_handshake_timeout);
  ADD ("handshake/with-messages", test_handshake_with_messages);

  ADD_DATA ("invocation/results", GINT_TO_POINTER (FALSE), test_invocation_results);
  ADD_DATA ("invocation/results-detailed", GINT_TO_POINTER (TRUE), test_invocation_results);
  ADD ("invocation/check-order", test_invocation_check_order);
  ADD ("invocation/later", test_invocation_later);
  ADD ("invocation/non-blocking", test_invocation_non_blocking);
  ADD ("invocation/ignored-messages", test_invocation_ignored_messages);
  ADD ("invocation/after-close", test_invocation_after_close);
  ADD ("invocation/after-close-queued", test_invocation_after_close_queued);
  ADD ("invocation/sequential", test_invocation_sequential);
  ADD ("invocation/hub-instances", test_invocation_hub_instances);

  ADD ("context/connection-id", test_context_connection_id);
  ADD ("context/items", test_context_items);
  ADD ("context/http", test_context_http);
  ADD ("context/aborted", test_context_aborted);

  ADD ("lifetime/on-connected-first", test_lifetime_on_connected_first);
  ADD ("lifetime/on-connected-refused", test_lifetime_on_connected_refused);
  ADD ("lifetime/client-close", test_lifetime_client_close);
  ADD ("lifetime/bad-messages", test_lifetime_bad_messages);
  ADD ("lifetime/partial-message", test_lifetime_partial_message);
  ADD ("lifetime/too-large", test_lifetime_too_large);
  ADD ("lifetime/keep-alive", test_lifetime_keep_alive);
  ADD ("lifetime/client-timeout", test_lifetime_client_timeout);
  ADD ("lifetime/client-timeout-busy", test_lifetime_client_timeout_busy);
  ADD ("lifetime/abort", test_lifetime_abort);
  ADD ("lifetime/server-disposed", test_lifetime_server_disposed);

  ADD ("clients/targets", test_clients_targets);
  ADD ("clients/groups-left", test_clients_groups_left);
  ADD ("clients/user-left", test_clients_user_left);
  ADD ("clients/identical-bytes", test_clients_identical_bytes);
  ADD ("clients/hub-context", test_clients_hub_context);

  ADD ("auth/invalid-token", test_auth_invalid_token);
  ADD ("auth/required", test_auth_required);
  ADD ("auth/header-wins", test_auth_header_wins);

  ADD ("shutdown/all", test_shutdown);
  ADD ("shutdown/unclaimed", test_shutdown_unclaimed);
  ADD ("shutdown/app-server", test_shutdown_app_server);

  ADD ("raw/echo", test_raw_echo);

  return g_test_run ();
}
