/* test-values-api.c: the small public classes: errors, users, hub options
 * and HTTP contexts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "hubs.h"
#include "hubs-http-context-private.h"

/* Counts "notify" emissions by property name. */
typedef struct
{
  GHashTable *counts;
} NotifyCounter;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  NotifyCounter *counter = user_data;
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counter->counts, pspec->name));

  g_hash_table_insert (counter->counts, (gpointer) pspec->name, GUINT_TO_POINTER (count + 1));
}

static void
notify_counter_init (NotifyCounter *counter,
                     gpointer       object)
{
  counter->counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_signal_connect (object, "notify", G_CALLBACK (on_notify), counter);
}

static guint
notify_count (NotifyCounter *counter,
              const char    *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counter->counts, name));
}

static guint
notify_total (NotifyCounter *counter)
{
  GHashTableIter iter;
  gpointer value;
  guint total = 0;

  g_hash_table_iter_init (&iter, counter->counts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    total += GPOINTER_TO_UINT (value);

  return total;
}

static void
notify_counter_clear (NotifyCounter *counter,
                      gpointer       object)
{
  g_signal_handlers_disconnect_by_func (object, on_notify, counter);
  g_clear_pointer (&counter->counts, g_hash_table_unref);
}

/* Errors */

static void
test_error_quarks (void)
{
  g_autoptr (GError) hub_error = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (HUBS_HUB_ERROR, !=, 0);
  g_assert_cmpuint (HUBS_ERROR, !=, 0);
  g_assert_cmpuint (HUBS_HUB_ERROR, !=, HUBS_ERROR);
  g_assert_cmpuint (HUBS_HUB_ERROR, ==, hubs_hub_error_quark ());
  g_assert_cmpuint (HUBS_ERROR, ==, hubs_error_quark ());
  g_assert_cmpstr (g_quark_to_string (HUBS_HUB_ERROR), ==, "hubs-hub-error-quark");
  g_assert_cmpstr (g_quark_to_string (HUBS_ERROR), ==, "hubs-error-quark");

  hub_error = g_error_new_literal (HUBS_HUB_ERROR, HUBS_HUB_ERROR_UNAUTHORIZED, "no");
  g_assert_error (hub_error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_UNAUTHORIZED);
  error = g_error_new_literal (HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE, "too large");
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE);
  g_assert_false (g_error_matches (error, HUBS_HUB_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE));
}

static void
test_error_enum_types (void)
{
  g_autoptr (GEnumClass) hub_error_class = g_type_class_ref (HUBS_TYPE_HUB_ERROR);
  g_autoptr (GEnumClass) error_class = g_type_class_ref (HUBS_TYPE_ERROR);
  g_autoptr (GFlagsClass) transports_class = g_type_class_ref (HUBS_TYPE_TRANSPORT_TYPE);

  g_assert_cmpuint (hub_error_class->n_values, ==, 2);
  g_assert_cmpuint (error_class->n_values, ==, 9);
  g_assert_cmpint (g_enum_get_value_by_nick (error_class, "binding-failed")->value, ==,
                   HUBS_ERROR_BINDING_FAILED);
  g_assert_cmpuint (g_flags_get_value_by_nick (transports_class, "long-polling")->value, ==,
                    HUBS_TRANSPORT_LONG_POLLING);
}

/* Users */

static void
test_user_anonymous (void)
{
  g_autoptr (HubsUser) user = hubs_user_new (NULL);
  g_autoptr (HubsUser) empty = hubs_user_new ("");
  g_autofree char *authentication_type = NULL;
  g_autofree char *name = NULL;

  g_assert_true (HUBS_IS_USER (user));
  g_assert_null (hubs_user_get_authentication_type (user));
  g_assert_false (hubs_user_is_authenticated (user));
  g_assert_cmpuint (hubs_user_get_n_claims (user), ==, 0);
  g_assert_null (hubs_user_get_name (user));
  g_assert_null (hubs_user_find_first_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER));
  g_assert_false (hubs_user_has_claim (user, HUBS_CLAIM_TYPE_ROLE, "admin"));
  g_assert_false (hubs_user_is_in_role (user, "admin"));

  g_object_get (user, "authentication-type", &authentication_type, "name", &name, NULL);
  g_assert_null (authentication_type);
  g_assert_null (name);

  /* Claims do not make a user authenticated; only its authentication type. */
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME, "alice");
  g_assert_false (hubs_user_is_authenticated (user));
  g_assert_cmpstr (hubs_user_get_name (user), ==, "alice");

  g_assert_cmpstr (hubs_user_get_authentication_type (empty), ==, "");
  g_assert_false (hubs_user_is_authenticated (empty));
}

static void
test_user_authenticated (void)
{
  g_autoptr (HubsUser) user = hubs_user_new ("Bearer");
  g_autoptr (HubsUser) from_properties = NULL;
  g_autofree char *authentication_type = NULL;

  g_assert_cmpstr (hubs_user_get_authentication_type (user), ==, "Bearer");
  g_assert_true (hubs_user_is_authenticated (user));

  from_properties = g_object_new (HUBS_TYPE_USER, "authentication-type", "Cookies", NULL);
  g_assert_true (hubs_user_is_authenticated (from_properties));
  g_object_get (from_properties, "authentication-type", &authentication_type, NULL);
  g_assert_cmpstr (authentication_type, ==, "Cookies");
}

static void
test_user_claims (void)
{
  g_autoptr (HubsUser) user = hubs_user_new ("Bearer");

  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER, "u-42");
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_ROLE, "admin");
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME, "alice");
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_ROLE, "editor");
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME, "alice2");
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_ROLE, "admin");
  hubs_user_add_claim (user, "email", "");

  g_assert_cmpuint (hubs_user_get_n_claims (user), ==, 7);
  g_assert_cmpstr (hubs_user_get_claim_type (user, 0), ==, HUBS_CLAIM_TYPE_NAME_IDENTIFIER);
  g_assert_cmpstr (hubs_user_get_claim_value (user, 0), ==, "u-42");
  g_assert_cmpstr (hubs_user_get_claim_type (user, 3), ==, HUBS_CLAIM_TYPE_ROLE);
  g_assert_cmpstr (hubs_user_get_claim_value (user, 3), ==, "editor");
  g_assert_cmpstr (hubs_user_get_claim_type (user, 5), ==, HUBS_CLAIM_TYPE_ROLE);
  g_assert_cmpstr (hubs_user_get_claim_value (user, 5), ==, "admin");
  g_assert_cmpstr (hubs_user_get_claim_type (user, 6), ==, "email");
  g_assert_cmpstr (hubs_user_get_claim_value (user, 6), ==, "");

  g_assert_cmpstr (hubs_user_find_first_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER), ==, "u-42");
  g_assert_cmpstr (hubs_user_find_first_claim (user, HUBS_CLAIM_TYPE_ROLE), ==, "admin");
  g_assert_cmpstr (hubs_user_find_first_claim (user, "email"), ==, "");
  g_assert_null (hubs_user_find_first_claim (user, "EMAIL"));
  g_assert_null (hubs_user_find_first_claim (user, "phone"));

  g_assert_true (hubs_user_has_claim (user, HUBS_CLAIM_TYPE_ROLE, "editor"));
  g_assert_true (hubs_user_has_claim (user, "email", ""));
  g_assert_false (hubs_user_has_claim (user, HUBS_CLAIM_TYPE_ROLE, "Editor"));
  g_assert_false (hubs_user_has_claim (user, HUBS_CLAIM_TYPE_NAME, "editor"));

  g_assert_cmpstr (hubs_user_get_name (user), ==, "alice");

  g_assert_true (hubs_user_is_in_role (user, "admin"));
  g_assert_true (hubs_user_is_in_role (user, "editor"));
  g_assert_false (hubs_user_is_in_role (user, "Admin"));
  g_assert_false (hubs_user_is_in_role (user, "alice"));
  g_assert_false (hubs_user_is_in_role (user, ""));
}

static void
test_user_name_notify (void)
{
  g_autoptr (HubsUser) user = hubs_user_new ("Bearer");
  g_autofree char *name = NULL;
  NotifyCounter counter;

  notify_counter_init (&counter, user);

  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_ROLE, "admin");
  g_assert_cmpuint (notify_total (&counter), ==, 0);

  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME, "alice");
  g_assert_cmpuint (notify_count (&counter, "name"), ==, 1);

  /* A second name claim does not change the name. */
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME, "bob");
  g_assert_cmpuint (notify_count (&counter, "name"), ==, 1);
  g_assert_cmpuint (notify_total (&counter), ==, 1);

  g_object_get (user, "name", &name, NULL);
  g_assert_cmpstr (name, ==, "alice");

  notify_counter_clear (&counter, user);
}

static void
test_user_bad_input (void)
{
  g_autoptr (HubsUser) user = hubs_user_new ("Bearer");

  hubs_user_add_claim (user, "a", "b");

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*index < *");
  g_assert_null (hubs_user_get_claim_type (user, 1));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*index < *");
  g_assert_null (hubs_user_get_claim_value (user, 1));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*type != NULL*");
  hubs_user_add_claim (user, NULL, "b");
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*value != NULL*");
  hubs_user_add_claim (user, "a", NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*type != NULL*");
  g_assert_null (hubs_user_find_first_claim (user, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*role != NULL*");
  g_assert_false (hubs_user_is_in_role (user, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*HUBS_IS_USER*");
  g_assert_cmpuint (hubs_user_get_n_claims (NULL), ==, 0);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (hubs_user_get_n_claims (user), ==, 1);
}

/* Hub options */

static void
test_hub_options_defaults (void)
{
  g_autoptr (HubsHubOptions) options = hubs_hub_options_new ();
  HubsTransportType transports;
  gboolean detailed_errors;
  gboolean require_authentication;
  guint keep_alive_interval;
  guint client_timeout_interval;
  guint handshake_timeout;
  guint64 maximum_receive_message_size;

  g_assert_cmpuint (hubs_hub_options_get_transports (options), ==, HUBS_TRANSPORT_ALL);
  g_assert_false (hubs_hub_options_get_detailed_errors (options));
  g_assert_cmpuint (hubs_hub_options_get_keep_alive_interval (options), ==, 15000);
  g_assert_cmpuint (hubs_hub_options_get_client_timeout_interval (options), ==, 30000);
  g_assert_cmpuint (hubs_hub_options_get_handshake_timeout (options), ==, 15000);
  g_assert_cmpuint (hubs_hub_options_get_maximum_receive_message_size (options), ==, 32768);
  g_assert_false (hubs_hub_options_get_require_authentication (options));

  g_object_get (options,
                "transports", &transports,
                "detailed-errors", &detailed_errors,
                "keep-alive-interval", &keep_alive_interval,
                "client-timeout-interval", &client_timeout_interval,
                "handshake-timeout", &handshake_timeout,
                "maximum-receive-message-size", &maximum_receive_message_size,
                "require-authentication", &require_authentication,
                NULL);
  g_assert_cmpuint (transports, ==, HUBS_TRANSPORT_ALL);
  g_assert_false (detailed_errors);
  g_assert_cmpuint (keep_alive_interval, ==, 15000);
  g_assert_cmpuint (client_timeout_interval, ==, 30000);
  g_assert_cmpuint (handshake_timeout, ==, 15000);
  g_assert_cmpuint (maximum_receive_message_size, ==, 32768);
  g_assert_false (require_authentication);
}

static void
test_hub_options_setters (void)
{
  g_autoptr (HubsHubOptions) options = hubs_hub_options_new ();
  NotifyCounter counter;

  notify_counter_init (&counter, options);

  /* Setting the value a property already has notifies nothing. */
  hubs_hub_options_set_transports (options, HUBS_TRANSPORT_ALL);
  hubs_hub_options_set_detailed_errors (options, FALSE);
  hubs_hub_options_set_keep_alive_interval (options, 15000);
  hubs_hub_options_set_client_timeout_interval (options, 30000);
  hubs_hub_options_set_handshake_timeout (options, 15000);
  hubs_hub_options_set_maximum_receive_message_size (options, 32768);
  hubs_hub_options_set_require_authentication (options, FALSE);
  g_assert_cmpuint (notify_total (&counter), ==, 0);

  hubs_hub_options_set_transports (options, HUBS_TRANSPORT_WEB_SOCKETS | HUBS_TRANSPORT_LONG_POLLING);
  hubs_hub_options_set_detailed_errors (options, TRUE);
  hubs_hub_options_set_keep_alive_interval (options, 1000);
  hubs_hub_options_set_client_timeout_interval (options, 2000);
  hubs_hub_options_set_handshake_timeout (options, 3000);
  hubs_hub_options_set_maximum_receive_message_size (options, 1 << 20);
  hubs_hub_options_set_require_authentication (options, TRUE);

  g_assert_cmpuint (hubs_hub_options_get_transports (options), ==,
                    HUBS_TRANSPORT_WEB_SOCKETS | HUBS_TRANSPORT_LONG_POLLING);
  g_assert_true (hubs_hub_options_get_detailed_errors (options));
  g_assert_cmpuint (hubs_hub_options_get_keep_alive_interval (options), ==, 1000);
  g_assert_cmpuint (hubs_hub_options_get_client_timeout_interval (options), ==, 2000);
  g_assert_cmpuint (hubs_hub_options_get_handshake_timeout (options), ==, 3000);
  g_assert_cmpuint (hubs_hub_options_get_maximum_receive_message_size (options), ==, 1 << 20);
  g_assert_true (hubs_hub_options_get_require_authentication (options));

  g_assert_cmpuint (notify_count (&counter, "transports"), ==, 1);
  g_assert_cmpuint (notify_count (&counter, "detailed-errors"), ==, 1);
  g_assert_cmpuint (notify_count (&counter, "keep-alive-interval"), ==, 1);
  g_assert_cmpuint (notify_count (&counter, "client-timeout-interval"), ==, 1);
  g_assert_cmpuint (notify_count (&counter, "handshake-timeout"), ==, 1);
  g_assert_cmpuint (notify_count (&counter, "maximum-receive-message-size"), ==, 1);
  g_assert_cmpuint (notify_count (&counter, "require-authentication"), ==, 1);
  g_assert_cmpuint (notify_total (&counter), ==, 7);

  /* Any true gboolean is the same value. */
  hubs_hub_options_set_detailed_errors (options, 2);
  hubs_hub_options_set_require_authentication (options, 42);
  g_assert_cmpuint (notify_total (&counter), ==, 7);
  g_assert_true (hubs_hub_options_get_detailed_errors (options) == TRUE);

  /* No transport at all is allowed: negotiate then offers none. */
  hubs_hub_options_set_transports (options, HUBS_TRANSPORT_NONE);
  g_assert_cmpuint (hubs_hub_options_get_transports (options), ==, HUBS_TRANSPORT_NONE);
  g_assert_cmpuint (notify_count (&counter, "transports"), ==, 2);

  notify_counter_clear (&counter, options);
}

static void
test_hub_options_properties (void)
{
  g_autoptr (HubsHubOptions) options = hubs_hub_options_new ();
  NotifyCounter counter;

  notify_counter_init (&counter, options);

  /* Through g_object_set too, notify only on change (explicit notify). */
  g_object_set (options,
                "transports", HUBS_TRANSPORT_ALL,
                "detailed-errors", FALSE,
                "keep-alive-interval", 15000,
                "client-timeout-interval", 30000,
                "handshake-timeout", 15000,
                "maximum-receive-message-size", (guint64) 32768,
                "require-authentication", FALSE,
                NULL);
  g_assert_cmpuint (notify_total (&counter), ==, 0);

  g_object_set (options,
                "transports", HUBS_TRANSPORT_SERVER_SENT_EVENTS,
                "detailed-errors", TRUE,
                "keep-alive-interval", 5,
                "client-timeout-interval", 10,
                "handshake-timeout", 20,
                "maximum-receive-message-size", (guint64) 0,
                "require-authentication", TRUE,
                NULL);
  g_assert_cmpuint (notify_total (&counter), ==, 7);

  g_assert_cmpuint (hubs_hub_options_get_transports (options), ==, HUBS_TRANSPORT_SERVER_SENT_EVENTS);
  g_assert_true (hubs_hub_options_get_detailed_errors (options));
  g_assert_cmpuint (hubs_hub_options_get_keep_alive_interval (options), ==, 5);
  g_assert_cmpuint (hubs_hub_options_get_client_timeout_interval (options), ==, 10);
  g_assert_cmpuint (hubs_hub_options_get_handshake_timeout (options), ==, 20);
  g_assert_cmpuint (hubs_hub_options_get_maximum_receive_message_size (options), ==, 0);
  g_assert_true (hubs_hub_options_get_require_authentication (options));

  notify_counter_clear (&counter, options);
}

static void
test_hub_options_unlimited_size (void)
{
  g_autoptr (HubsHubOptions) options = hubs_hub_options_new ();
  guint64 size = 1;

  hubs_hub_options_set_maximum_receive_message_size (options, 0);
  g_assert_cmpuint (hubs_hub_options_get_maximum_receive_message_size (options), ==, 0);
  g_object_get (options, "maximum-receive-message-size", &size, NULL);
  g_assert_cmpuint (size, ==, 0);

  hubs_hub_options_set_maximum_receive_message_size (options, G_MAXSIZE);
  g_assert_cmpuint (hubs_hub_options_get_maximum_receive_message_size (options), ==, G_MAXSIZE);
  g_object_get (options, "maximum-receive-message-size", &size, NULL);
  g_assert_cmpuint (size, ==, G_MAXSIZE);
}

typedef struct
{
  const char *message;
  void (*call) (HubsHubOptions *options);
} BadOptionsCase;

static void
set_unknown_transport (HubsHubOptions *options)
{
  hubs_hub_options_set_transports (options, 1 << 5);
}

static void
set_zero_keep_alive (HubsHubOptions *options)
{
  hubs_hub_options_set_keep_alive_interval (options, 0);
}

static void
set_zero_client_timeout (HubsHubOptions *options)
{
  hubs_hub_options_set_client_timeout_interval (options, 0);
}

static void
set_zero_handshake_timeout (HubsHubOptions *options)
{
  hubs_hub_options_set_handshake_timeout (options, 0);
}

static void
get_transports_of_null (HubsHubOptions *options)
{
  g_assert_cmpuint (hubs_hub_options_get_transports (NULL), ==, HUBS_TRANSPORT_NONE);
}

static void
test_hub_options_bad_input (void)
{
  static const BadOptionsCase cases[] = {
    { "*transports & ~HUBS_TRANSPORT_ALL*", set_unknown_transport },
    { "*msec > 0*", set_zero_keep_alive },
    { "*msec > 0*", set_zero_client_timeout },
    { "*msec > 0*", set_zero_handshake_timeout },
    { "*HUBS_IS_HUB_OPTIONS*", get_transports_of_null },
  };
  g_autoptr (HubsHubOptions) options = hubs_hub_options_new ();
  NotifyCounter counter;

  notify_counter_init (&counter, options);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, cases[i].message);
      cases[i].call (options);
      g_test_assert_expected_messages ();
    }

  /* Nothing changed. */
  g_assert_cmpuint (notify_total (&counter), ==, 0);
  g_assert_cmpuint (hubs_hub_options_get_transports (options), ==, HUBS_TRANSPORT_ALL);
  g_assert_cmpuint (hubs_hub_options_get_keep_alive_interval (options), ==, 15000);
  g_assert_cmpuint (hubs_hub_options_get_client_timeout_interval (options), ==, 30000);
  g_assert_cmpuint (hubs_hub_options_get_handshake_timeout (options), ==, 15000);

  notify_counter_clear (&counter, options);
}

/* HTTP contexts, made from real requests */

typedef struct
{
  GMainLoop *loop;
  SoupServer *server;
  SoupSession *session;
  GUri *base_uri;
  HubsUser *user;
  HubsHttpContext *context;  /* made by the handler */
  SoupServerMessage *message;  /* weak: the request itself */
  guint handler_calls;
} HttpFixture;

static void
server_handler (SoupServer        *server,
                SoupServerMessage *message,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  HttpFixture *fixture = user_data;

  fixture->handler_calls++;
  g_clear_object (&fixture->context);
  fixture->context = hubs_http_context_new (message, fixture->user);

  g_clear_weak_pointer (&fixture->message);
  g_set_weak_pointer (&fixture->message, message);

  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "text/plain", SOUP_MEMORY_STATIC, "ok", 2);
}

static void
http_fixture_set_up (HttpFixture   *fixture,
                     gconstpointer  data)
{
  g_autoptr (GError) error = NULL;
  GSList *uris;

  fixture->loop = g_main_loop_new (NULL, FALSE);
  fixture->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fixture->server, NULL, server_handler, fixture, NULL);
  soup_server_listen_local (fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fixture->server);
  g_assert_nonnull (uris);
  fixture->base_uri = g_uri_ref (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  fixture->session = soup_session_new ();
}

static void
http_fixture_tear_down (HttpFixture   *fixture,
                        gconstpointer  data)
{
  g_clear_weak_pointer (&fixture->message);
  g_clear_object (&fixture->context);
  g_clear_object (&fixture->user);
  g_clear_object (&fixture->session);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  g_clear_pointer (&fixture->base_uri, g_uri_unref);
  g_clear_pointer (&fixture->loop, g_main_loop_unref);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  HttpFixture *fixture = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "ok", 2);
  g_main_loop_quit (fixture->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
  g_error ("timed out");
  return G_SOURCE_REMOVE;
}

/* Sends @message and runs the loop until its answer has been read, so the
 * server's handler has returned and the response has been written. */
static void
send_request (HttpFixture *fixture,
              SoupMessage *message)
{
  guint timeout_id = g_timeout_add_seconds (10, on_timeout, NULL);

  soup_session_send_and_read_async (fixture->session, message, G_PRIORITY_DEFAULT,
                                    NULL, on_sent, fixture);
  g_main_loop_run (fixture->loop);
  g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_OK);

  /* Let the server finish with its message, so that the context is all
   * that is left of the request. */
  while (fixture->message != NULL)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (timeout_id);
}

static SoupMessage *
new_request (HttpFixture *fixture,
             const char  *path_and_query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = g_uri_parse_relative (fixture->base_uri, path_and_query,
                                               SOUP_HTTP_URI_FLAGS, &error);

  g_assert_no_error (error);
  return soup_message_new_from_uri (SOUP_METHOD_GET, uri);
}

static void
test_http_context_snapshot (HttpFixture   *fixture,
                            gconstpointer  data)
{
  g_autoptr (SoupMessage) request = NULL;
  g_autoptr (HubsUser) other_user = hubs_user_new ("Cookies");
  g_autofree char *x_header = NULL;
  g_autofree char *x_header_lower = NULL;
  g_autofree char *authorization = NULL;
  g_autofree char *method = NULL;
  g_autofree char *path = NULL;
  g_autofree char *remote_host = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (SoupMessageHeaders) headers_property = NULL;
  g_autoptr (GSocketAddress) address_property = NULL;
  g_autoptr (HubsUser) user_property = NULL;
  HubsHttpContext *context;
  SoupMessageHeaders *request_headers;
  SoupMessageHeaders *headers;
  GHashTable *query;
  GSocketAddress *address;
  g_autofree char *address_string = NULL;
  NotifyCounter counter;

  fixture->user = hubs_user_new ("Bearer");
  hubs_user_add_claim (fixture->user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER, "testuser");

  request = new_request (fixture, "/values/api?x=1&y=%20z");
  request_headers = soup_message_get_request_headers (request);
  soup_message_headers_append (request_headers, "X-Header", "one");
  soup_message_headers_append (request_headers, "X-Header", "two, three");
  soup_message_headers_append (request_headers, "Cookie", "a=1; b = 2 ;c=3");
  soup_message_headers_append (request_headers, "Cookie", "c=4; d=\"quoted\"; e=; f=x%20y");
  soup_message_headers_append (request_headers, "Authorization", "Bearer abc.def");

  send_request (fixture, request);

  g_assert_cmpuint (fixture->handler_calls, ==, 1);
  /* The request is gone; the snapshot is all that is left. */
  g_assert_null (fixture->message);
  context = fixture->context;
  g_assert_true (HUBS_IS_HTTP_CONTEXT (context));

  g_assert_cmpstr (hubs_http_context_get_method (context), ==, "GET");
  g_assert_cmpstr (hubs_http_context_get_path (context), ==, "/values/api");
  g_assert_cmpstr (g_uri_get_path (hubs_http_context_get_uri (context)), ==, "/values/api");
  g_assert_cmpstr (g_uri_get_query (hubs_http_context_get_uri (context)), ==, "x=1&y=%20z");
  g_assert_cmpint (g_uri_get_port (hubs_http_context_get_uri (context)), ==,
                   g_uri_get_port (fixture->base_uri));

  x_header = hubs_http_context_get_header (context, "X-Header");
  g_assert_cmpstr (x_header, ==, "one,two, three");
  x_header_lower = hubs_http_context_get_header (context, "x-header");
  g_assert_cmpstr (x_header_lower, ==, "one,two, three");
  authorization = hubs_http_context_get_header (context, "AUTHORIZATION");
  g_assert_cmpstr (authorization, ==, "Bearer abc.def");
  g_assert_null (hubs_http_context_get_header (context, "X-Missing"));

  headers = hubs_http_context_get_request_headers (context);
  g_assert_nonnull (headers);
  g_assert_true (headers != request_headers);
  g_assert_cmpint (soup_message_headers_get_headers_type (headers), ==, SOUP_MESSAGE_HEADERS_REQUEST);
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Authorization"), ==, "Bearer abc.def");
  g_assert_nonnull (soup_message_headers_get_one (headers, "Host"));

  query = hubs_http_context_get_query (context);
  g_assert_cmpuint (g_hash_table_size (query), ==, 2);
  g_assert_cmpstr (hubs_http_context_get_query_value (context, "x"), ==, "1");
  g_assert_cmpstr (hubs_http_context_get_query_value (context, "y"), ==, " z");
  g_assert_null (hubs_http_context_get_query_value (context, "X"));
  g_assert_null (hubs_http_context_get_query_value (context, "z"));

  {
    static const struct
    {
      const char *name;
      const char *value;
    } cookies[] = {
      { "a", "1" },
      { "b", "2" },
      { "c", "3" },  /* the first of two wins */
      { "d", "\"quoted\"" },
      { "e", "" },
      { "f", "x%20y" },
      { "A", NULL },  /* names keep their case */
      { "g", NULL },
      { "", NULL },
      { "*", NULL },
      { "a=1", NULL },
      { " a", NULL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (cookies); i++)
      {
        g_autofree char *value = hubs_http_context_get_cookie (context, cookies[i].name);

        g_test_message ("cookie '%s'", cookies[i].name);
        g_assert_cmpstr (value, ==, cookies[i].value);
      }
  }

  g_assert_cmpstr (hubs_http_context_get_remote_host (context), ==, "127.0.0.1");
  address = hubs_http_context_get_remote_address (context);
  g_assert_true (G_IS_INET_SOCKET_ADDRESS (address));
  address_string = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
  g_assert_cmpstr (address_string, ==, "127.0.0.1");

  g_assert_true (hubs_http_context_get_user (context) == fixture->user);

  g_object_get (context,
                "method", &method,
                "path", &path,
                "uri", &uri,
                "request-headers", &headers_property,
                "remote-address", &address_property,
                "remote-host", &remote_host,
                "user", &user_property,
                NULL);
  g_assert_cmpstr (method, ==, "GET");
  g_assert_cmpstr (path, ==, "/values/api");
  g_assert_true (uri == hubs_http_context_get_uri (context));
  g_assert_true (headers_property == headers);
  g_assert_true (address_property == address);
  g_assert_cmpstr (remote_host, ==, "127.0.0.1");
  g_assert_true (user_property == fixture->user);

  /* The user is the one thing that changes, and notifies only on change. */
  notify_counter_init (&counter, context);
  hubs_http_context_set_user (context, fixture->user);
  g_assert_cmpuint (notify_total (&counter), ==, 0);
  hubs_http_context_set_user (context, other_user);
  g_assert_cmpuint (notify_count (&counter, "user"), ==, 1);
  g_assert_true (hubs_http_context_get_user (context) == other_user);
  hubs_http_context_set_user (context, NULL);
  g_assert_cmpuint (notify_count (&counter, "user"), ==, 2);
  g_assert_null (hubs_http_context_get_user (context));
  hubs_http_context_set_user (context, NULL);
  g_assert_cmpuint (notify_total (&counter), ==, 2);
  notify_counter_clear (&counter, context);
}

static void
test_http_context_bare (HttpFixture   *fixture,
                        gconstpointer  data)
{
  g_autoptr (SoupMessage) request = NULL;
  HubsHttpContext *context;

  request = new_request (fixture, "/bare%20path");
  send_request (fixture, request);

  context = fixture->context;
  g_assert_true (HUBS_IS_HTTP_CONTEXT (context));
  /* libsoup's server decodes the request path. */
  g_assert_cmpstr (hubs_http_context_get_path (context), ==, "/bare path");
  g_assert_null (g_uri_get_query (hubs_http_context_get_uri (context)));
  g_assert_nonnull (hubs_http_context_get_query (context));
  g_assert_cmpuint (g_hash_table_size (hubs_http_context_get_query (context)), ==, 0);
  g_assert_null (hubs_http_context_get_query_value (context, "x"));
  g_assert_null (hubs_http_context_get_cookie (context, "a"));
  g_assert_null (hubs_http_context_get_header (context, "Cookie"));
  g_assert_null (hubs_http_context_get_user (context));
}

static void
test_http_context_query_forms (HttpFixture   *fixture,
                               gconstpointer  data)
{
  g_autoptr (SoupMessage) request = NULL;
  HubsHttpContext *context;

  request = new_request (fixture, "/q?a=1&a=2&plus=x+y&flag&empty=&caf%C3%A9=%C3%A9t%C3%A9");
  send_request (fixture, request);

  context = fixture->context;
  /* As soup_form_decode: the last of repeated names, no value-less names. */
  g_assert_cmpstr (hubs_http_context_get_query_value (context, "a"), ==, "2");
  g_assert_cmpstr (hubs_http_context_get_query_value (context, "plus"), ==, "x y");
  g_assert_null (hubs_http_context_get_query_value (context, "flag"));
  g_assert_cmpstr (hubs_http_context_get_query_value (context, "empty"), ==, "");
  g_assert_cmpstr (hubs_http_context_get_query_value (context, "café"), ==, "été");
}

static void
test_http_context_bad_input (HttpFixture   *fixture,
                             gconstpointer  data)
{
  g_autoptr (SoupMessage) request = new_request (fixture, "/");

  send_request (fixture, request);

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*SOUP_IS_SERVER_MESSAGE*");
  g_assert_null (hubs_http_context_new (NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*name != NULL*");
  g_assert_null (hubs_http_context_get_header (fixture->context, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*name != NULL*");
  g_assert_null (hubs_http_context_get_cookie (fixture->context, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*name != NULL*");
  g_assert_null (hubs_http_context_get_query_value (fixture->context, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*HUBS_IS_HTTP_CONTEXT*");
  g_assert_null (hubs_http_context_get_path (NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Hubs", G_LOG_LEVEL_CRITICAL, "*HUBS_IS_USER*");
  hubs_http_context_set_user (fixture->context, (HubsUser *) fixture->session);
  g_test_assert_expected_messages ();
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

  g_test_add_func ("/hubs/error/quarks", test_error_quarks);
  g_test_add_func ("/hubs/error/enum-types", test_error_enum_types);

  g_test_add_func ("/hubs/user/anonymous", test_user_anonymous);
  g_test_add_func ("/hubs/user/authenticated", test_user_authenticated);
  g_test_add_func ("/hubs/user/claims", test_user_claims);
  g_test_add_func ("/hubs/user/name-notify", test_user_name_notify);
  g_test_add_func ("/hubs/user/bad-input", test_user_bad_input);

  g_test_add_func ("/hubs/hub-options/defaults", test_hub_options_defaults);
  g_test_add_func ("/hubs/hub-options/setters", test_hub_options_setters);
  g_test_add_func ("/hubs/hub-options/properties", test_hub_options_properties);
  g_test_add_func ("/hubs/hub-options/unlimited-size", test_hub_options_unlimited_size);
  g_test_add_func ("/hubs/hub-options/bad-input", test_hub_options_bad_input);

  g_test_add ("/hubs/http-context/snapshot", HttpFixture, NULL,
              http_fixture_set_up, test_http_context_snapshot, http_fixture_tear_down);
  g_test_add ("/hubs/http-context/bare", HttpFixture, NULL,
              http_fixture_set_up, test_http_context_bare, http_fixture_tear_down);
  g_test_add ("/hubs/http-context/query-forms", HttpFixture, NULL,
              http_fixture_set_up, test_http_context_query_forms, http_fixture_tear_down);
  g_test_add ("/hubs/http-context/bad-input", HttpFixture, NULL,
              http_fixture_set_up, test_http_context_bad_input, http_fixture_tear_down);

  return g_test_run ();
}
