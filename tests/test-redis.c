/* test-redis.c: the Redis backplane with several servers in one process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Starts its own redis-server on a free loopback port (skipped without
 * one), two or three HubsServers on it, and HubsConnection clients on
 * different servers: every send target crosses servers, groups change
 * across servers, client results cross servers, Redis restarts under
 * traffic, and nothing is left in Redis once the servers are gone.
 *
 * A send and a sentinel broadcast after it leave one server through one
 * Redis connection, and Redis delivers them to each server in that order:
 * once every client has the sentinel, every copy of the send has arrived,
 * and a missing or doubled copy is an error.
 */

#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "hubs.h"
#include "hubs-test-util.h"
#include "hubs-redis-private.h"
#include "hubs-lifetime-manager-private.h"

#define WAIT_TIMEOUT_MS 20000
#define N_SERVERS 3

/* The hub */

#define TEST_TYPE_REDIS_HUB (test_redis_hub_get_type ())
G_DECLARE_FINAL_TYPE (TestRedisHub, test_redis_hub, TEST, REDIS_HUB, HubsHub)

struct _TestRedisHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (TestRedisHub, test_redis_hub, HUBS_TYPE_HUB)

static gboolean
redis_hub_others_in_group (HubsHub        *hub,
                           HubsInvocation *invocation,
                           const char     *group,
                           const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = hubs_hub_clients_others_in_group (hubs_hub_get_clients (hub), group);

  hubs_client_proxy_send (proxy, "Message", G_TYPE_STRING, text, G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static void
test_redis_hub_class_init (TestRedisHubClass *klass)
{
  hubs_hub_class_add_method (HUBS_HUB_CLASS (klass), "others-in-group", G_CALLBACK (redis_hub_others_in_group),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
test_redis_hub_init (TestRedisHub *self)
{
}

/* redis-server */

static guint redis_port;
static GPid redis_pid;

static guint
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static char *
redis_cli (const char *command)
{
  g_autofree char *cmdline = g_strdup_printf ("redis-cli -h 127.0.0.1 -p %u %s", redis_port, command);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!g_spawn_command_line_sync (cmdline, &out, NULL, &status, &error) || !g_spawn_check_wait_status (status, NULL))
    return NULL;
  return g_strdup (g_strstrip (out));
}

static void
redis_start (void)
{
  g_autofree char *port = g_strdup_printf ("%u", redis_port);
  const char *argv[] = { "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no", "--loglevel", "warning", NULL };
  g_autoptr(GError) error = NULL;

  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &redis_pid, &error));
  g_assert_no_error (error);

  for (int i = 0; i < 200; i++)
    {
      g_autofree char *pong = redis_cli ("ping");

      if (g_strcmp0 (pong, "PONG") == 0)
        return;
      g_usleep (20000);
    }
  g_error ("redis-server did not start on port %u", redis_port);
}

static void
redis_stop (void)
{
  int status;

  if (redis_pid == 0)
    return;
  kill (redis_pid, SIGKILL);
  waitpid (redis_pid, &status, 0);
  g_spawn_close_pid (redis_pid);
  redis_pid = 0;
}

static guint
numsub (const char *channel)
{
  g_autofree char *command = g_strdup_printf ("pubsub numsub %s", channel);
  g_autofree char *out = redis_cli (command);
  const char *nl = out != NULL ? strrchr (out, '\n') : NULL;

  return nl != NULL ? (guint) g_ascii_strtoull (nl + 1, NULL, 10) : 0;
}

/* Servers and clients */

typedef struct
{
  HubsServer *server;
  HubsRedisBackplane *backplane;
  HubsHubContext *hub;
} Server;

typedef struct
{
  HubsConnection *connection;
  GPtrArray *messages;          /* char * */
  HubsClientInvocation *held;   /* a client result answered later */
  int answer;                   /* 0: double, 1: error, 2: a string, 3: hold */
} Client;

typedef struct
{
  Server servers[N_SERVERS];
  Client clients[N_SERVERS];
  guint sentinel;
} Fixture;

static char *
user_from_query (HubsServer        *server,
                 HubsCallerContext *context,
                 gpointer           user_data)
{
  return g_strdup (hubs_http_context_get_query_value (hubs_caller_context_get_http_context (context), "user"));
}

static void
server_start (Server *s,
              guint   ack_timeout)
{
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", redis_port);
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  g_autoptr(GError) error = NULL;

  s->backplane = hubs_redis_backplane_new (address, &error);
  g_assert_no_error (error);
  g_object_set (s->backplane, "ack-timeout", ack_timeout, NULL);

  s->server = hubs_server_new ();
  hubs_server_set_user_id_provider (s->server, user_from_query, NULL, NULL);
  hubs_server_set_redis_backplane (s->server, s->backplane);
  hubs_hub_options_set_redis_hub_name (options, "Tests.RedisHub");
  s->hub = hubs_server_map_hub (s->server, "/hub", TEST_TYPE_REDIS_HUB, options);
  g_assert_true (hubs_server_listen_local (s->server, 0, &error));
  g_assert_no_error (error);

  WAIT_UNTIL (hubs_redis_backplane_get_state (s->backplane) == HUBS_REDIS_STATE_CONNECTED);
}

static void
server_stop (Server *s)
{
  g_autoptr(GAsyncResult) result = NULL;

  if (s->server == NULL)
    return;
  hubs_server_shutdown_async (s->server, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_server_shutdown_finish (s->server, result, NULL));
  g_clear_object (&s->server);
  g_clear_object (&s->backplane);
  s->hub = NULL;
}

static gboolean
on_message (HubsConnection       *connection,
            HubsClientInvocation *invocation,
            gpointer              user_data)
{
  Client *c = user_data;

  g_ptr_array_add (c->messages, g_value_dup_string (hubs_client_invocation_get_argument (invocation, 0)));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
on_double (HubsConnection       *connection,
           HubsClientInvocation *invocation,
           gpointer              user_data)
{
  Client *c = user_data;
  g_auto(GValue) result = G_VALUE_INIT;

  switch (c->answer)
    {
    case 1:
      hubs_client_invocation_return_error_literal (invocation, "no doubling today");
      break;
    case 2:
      g_value_init (&result, G_TYPE_STRING);
      g_value_set_string (&result, "not a number");
      hubs_client_invocation_return_value (invocation, &result);
      break;
    case 3:
      g_set_object (&c->held, invocation);
      break;
    default:
      g_value_init (&result, G_TYPE_INT);
      g_value_set_int (&result, 2 * g_value_get_int (hubs_client_invocation_get_argument (invocation, 0)));
      hubs_client_invocation_return_value (invocation, &result);
    }
  return HUBS_INVOCATION_HANDLED;
}

static void
client_start (Client     *c,
              Server     *s,
              const char *user)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/hub?user=%s", hubs_server_get_port (s->server), user);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *channel = NULL;
  GType string_type[] = { G_TYPE_STRING };
  GType int_type[] = { G_TYPE_INT };

  c->messages = g_ptr_array_new_with_free_func (g_free);
  c->connection = hubs_connection_new (url);
  hubs_connection_on (c->connection, "Message", 1, string_type, on_message, c, NULL);
  hubs_connection_on (c->connection, "Double", 1, int_type, on_double, c, NULL);
  hubs_connection_start_async (c->connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_start_finish (c->connection, result, &error));
  g_assert_no_error (error);

  /* Its channel is subscribed asynchronously. */
  channel = g_strdup_printf ("Tests.RedisHub:connection:%s", hubs_connection_get_connection_id (c->connection));
  WAIT_UNTIL (numsub (channel) == 1);
}

static void
client_stop (Client *c)
{
  g_autoptr(GAsyncResult) result = NULL;

  if (c->connection == NULL)
    return;
  hubs_connection_stop_async (c->connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  hubs_connection_stop_finish (c->connection, result, NULL);
  g_clear_object (&c->connection);
  g_clear_object (&c->held);
  g_clear_pointer (&c->messages, g_ptr_array_unref);
}

static const char *
id_of (Client *c)
{
  return hubs_connection_get_connection_id (c->connection);
}

static guint
count (Client     *c,
       const char *text)
{
  guint n = 0;

  for (guint i = 0; i < c->messages->len; i++)
    n += g_str_equal (g_ptr_array_index (c->messages, i), text);
  return n;
}

static gboolean
all_have (Fixture    *f,
          guint       n_clients,
          const char *text)
{
  for (guint i = 0; i < n_clients; i++)
    if (f->clients[i].connection != NULL && count (&f->clients[i], text) == 0)
      return FALSE;
  return TRUE;
}

/* Sends a sentinel to all from @from and waits until every client has it. */
static void
settle (Fixture *f,
        guint    n_clients,
        Server  *from)
{
  g_autofree char *sentinel = g_strdup_printf ("#%u", ++f->sentinel);
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_context_get_clients (from->hub));

  hubs_client_proxy_send (all, "Message", G_TYPE_STRING, sentinel, G_TYPE_INVALID);
  WAIT_UNTIL (all_have (f, n_clients, sentinel));
}

/* Each client got @text as many times as @expected says, one character a
 * client ('0', '1', '2'). */
static void
assert_got (Fixture    *f,
            guint       n_clients,
            const char *text,
            const char *expected)
{
  for (guint i = 0; i < n_clients; i++)
    {
      g_test_message ("%s: client %u", text, i);
      g_assert_cmpuint (count (&f->clients[i], text), ==, expected[i] - '0');
    }
}

static void
send_and_check (Fixture         *f,
                Server          *from,
                HubsClientProxy *proxy,
                const char      *text,
                const char      *expected)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GValue arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_STRING);
  g_value_set_string (&arg, text);
  hubs_client_proxy_send_async (proxy, "Message", 1, &arg, NULL, got_result, &result);
  g_value_unset (&arg);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_client_proxy_send_finish (proxy, result, &error));
  g_assert_no_error (error);

  settle (f, N_SERVERS, from);
  assert_got (f, N_SERVERS, text, expected);
  g_object_unref (proxy);
}

static gboolean
group_change (Server     *s,
              const char *connection_id,
              const char *group,
              gboolean    add,
              GError    **error)
{
  HubsGroupManager *groups = hubs_hub_context_get_groups (s->hub);
  g_autoptr(GAsyncResult) result = NULL;

  if (add)
    hubs_group_manager_add_to_group_async (groups, connection_id, group, NULL, got_result, &result);
  else
    hubs_group_manager_remove_from_group_async (groups, connection_id, group, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  return add
    ? hubs_group_manager_add_to_group_finish (groups, result, error)
    : hubs_group_manager_remove_from_group_finish (groups, result, error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  if (redis_pid == 0)
    return;
  for (guint i = 0; i < N_SERVERS; i++)
    server_start (&f->servers[i], 400);
  client_start (&f->clients[0], &f->servers[0], "u1");
  client_start (&f->clients[1], &f->servers[1], "u2");
  client_start (&f->clients[2], &f->servers[2], "u1");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *channels = NULL;
  g_autofree char *dbsize = NULL;

  if (redis_pid == 0)
    return;
  for (guint i = 0; i < N_SERVERS; i++)
    client_stop (&f->clients[i]);
  for (guint i = 0; i < N_SERVERS; i++)
    server_stop (&f->servers[i]);

  /* Nothing left behind: no key, and (once the sockets are closed) no
   * subscription. */
  dbsize = redis_cli ("dbsize");
  g_assert_cmpstr (dbsize, ==, "0");
  for (int i = 0; i < 200; i++)
    {
      g_free (channels);
      channels = redis_cli ("pubsub channels");
      if (channels != NULL && *channels == '\0')
        break;
      g_usleep (10000);
    }
  g_assert_cmpstr (channels, ==, "");
}

/* Every target of HubsHubClients, from a hub context and from a hub */

static void
test_targets (Fixture       *f,
              gconstpointer  data)
{
  HubsHubClients *clients;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_autofree char *metrics = NULL;

  if (redis_pid == 0)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }
  clients = hubs_hub_context_get_clients (f->servers[0].hub);

  /* c1 (server 0), c2 (server 1) and c3 (server 2) join "g"; c2 also "h". */
  g_assert_true (group_change (&f->servers[1], id_of (&f->clients[1]), "g", TRUE, &error));
  g_assert_true (group_change (&f->servers[2], id_of (&f->clients[2]), "g", TRUE, &error));
  g_assert_true (group_change (&f->servers[1], id_of (&f->clients[1]), "h", TRUE, &error));
  g_assert_no_error (error);

  send_and_check (f, &f->servers[0], hubs_hub_clients_all (clients), "all", "111");
  send_and_check (f, &f->servers[0],
                  hubs_hub_clients_all_except (clients, (const char *[]) { id_of (&f->clients[1]), NULL }),
                  "all-except", "101");
  send_and_check (f, &f->servers[0], hubs_hub_clients_client (clients, id_of (&f->clients[1])),
                  "client", "010");
  send_and_check (f, &f->servers[0], hubs_hub_clients_client (clients, id_of (&f->clients[0])),
                  "client-local", "100");
  send_and_check (f, &f->servers[0],
                  hubs_hub_clients_clients (clients, (const char *[]) { id_of (&f->clients[0]), id_of (&f->clients[2]), NULL }),
                  "clients", "101");
  send_and_check (f, &f->servers[0], hubs_hub_clients_group (clients, "g"), "group", "011");
  send_and_check (f, &f->servers[0], hubs_hub_clients_groups (clients, (const char *[]) { "g", "h", NULL }),
                  "groups", "021");
  send_and_check (f, &f->servers[0],
                  hubs_hub_clients_group_except (clients, "g", (const char *[]) { id_of (&f->clients[2]), NULL }),
                  "group-except", "010");
  send_and_check (f, &f->servers[0], hubs_hub_clients_user (clients, "u1"), "user", "101");
  send_and_check (f, &f->servers[0], hubs_hub_clients_users (clients, (const char *[]) { "u2", "nobody", NULL }),
                  "users", "010");

  /* From a hub: others in the group of the caller (c2). */
  g_value_init (&args[0], G_TYPE_STRING);
  g_value_set_string (&args[0], "g");
  g_value_init (&args[1], G_TYPE_STRING);
  g_value_set_string (&args[1], "others-in-group");
  hubs_connection_invoke_async (f->clients[1].connection, "OthersInGroup", 2, args, G_TYPE_NONE,
                                NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_invoke_finish (f->clients[1].connection, result, NULL, &error));
  g_assert_no_error (error);
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
  settle (f, N_SERVERS, &f->servers[1]);
  assert_got (f, N_SERVERS, "others-in-group", "001");

  metrics = hubs_metrics_to_prometheus (hubs_server_get_metrics (f->servers[0].server));
  g_assert_nonnull (strstr (metrics, "hubs_redis_connected 1\n"));
  g_assert_nonnull (strstr (metrics, "hubs_redis_failed_publishes_total 0\n"));
}

/* Groups changed from another server; disconnects leave groups */

static void
test_groups (Fixture       *f,
             gconstpointer  data)
{
  HubsHubClients *clients;
  g_autoptr(GError) error = NULL;
  g_autofree char *c2_group = NULL;
  g_autofree char *c2_channel = NULL;
  gint64 started;

  if (redis_pid == 0)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }
  clients = hubs_hub_context_get_clients (f->servers[2].hub);

  /* Server 0 adds c2, which lives on server 1; twice: one copy. */
  g_assert_true (group_change (&f->servers[0], id_of (&f->clients[1]), "remote", TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (group_change (&f->servers[0], id_of (&f->clients[1]), "remote", TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (group_change (&f->servers[1], id_of (&f->clients[1]), "remote", TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (numsub ("Tests.RedisHub:group:remote"), ==, 1);
  send_and_check (f, &f->servers[2], hubs_hub_clients_group (clients, "remote"), "remote-added", "010");

  /* Removed from another server: the channel goes with the last member. */
  g_assert_true (group_change (&f->servers[2], id_of (&f->clients[1]), "remote", FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (numsub ("Tests.RedisHub:group:remote"), ==, 0);
  send_and_check (f, &f->servers[2], hubs_hub_clients_group (clients, "remote"), "remote-removed", "000");

  /* A connection no server has: the ack never comes (ack-timeout 400 ms). */
  started = g_get_monotonic_time ();
  g_assert_false (group_change (&f->servers[0], "no-such-connection", "remote", TRUE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_true (g_str_has_prefix (error->message, "A task was canceled."));
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 350 * 1000);
  g_clear_error (&error);

  /* A disconnect leaves its groups and unsubscribes its channels. */
  g_assert_true (group_change (&f->servers[1], id_of (&f->clients[1]), "leaving", TRUE, &error));
  g_assert_cmpuint (numsub ("Tests.RedisHub:group:leaving"), ==, 1);
  c2_channel = g_strdup_printf ("Tests.RedisHub:connection:%s", id_of (&f->clients[1]));
  client_stop (&f->clients[1]);
  WAIT_UNTIL (numsub ("Tests.RedisHub:group:leaving") == 0);
  WAIT_UNTIL (numsub (c2_channel) == 0);
  g_assert_cmpuint (numsub ("Tests.RedisHub:user:u2"), ==, 0);
  g_assert_cmpuint (numsub ("Tests.RedisHub:user:u1"), ==, 2);
}

/* Client results across servers */

static gboolean
ask (Server      *s,
     const char  *connection_id,
     GType        type,
     GValue      *value,
     GError     **error)
{
  g_autoptr(HubsClientProxy) proxy = hubs_hub_clients_client (hubs_hub_context_get_clients (s->hub), connection_id);
  g_autoptr(GAsyncResult) result = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_INT);
  g_value_set_int (&arg, 21);
  hubs_client_proxy_invoke_async (proxy, "Double", 1, &arg, type, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  return hubs_client_proxy_invoke_finish (proxy, result, value, error);
}

static void
test_client_results (Fixture       *f,
                     gconstpointer  data)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsClientProxy) proxy = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;

  if (redis_pid == 0)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }

  /* A value, from a connection of another server */
  g_assert_true (ask (&f->servers[0], id_of (&f->clients[1]), G_TYPE_INT, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_value_unset (&value);

  /* … and of this one */
  g_assert_true (ask (&f->servers[0], id_of (&f->clients[0]), G_TYPE_INT, &value, &error));
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_value_unset (&value);

  /* The client's error */
  f->clients[1].answer = 1;
  g_assert_false (ask (&f->servers[0], id_of (&f->clients[1]), G_TYPE_INT, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "no doubling today");
  g_clear_error (&error);

  /* A result of the wrong type */
  f->clients[1].answer = 2;
  g_assert_false (ask (&f->servers[0], id_of (&f->clients[1]), G_TYPE_INT, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Error trying to deserialize result to Int32."));
  g_clear_error (&error);

  /* A connection that exists nowhere */
  g_assert_false (ask (&f->servers[0], "no-such-connection", G_TYPE_INT, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "Connection 'no-such-connection' does not exist.");
  g_clear_error (&error);

  /* The client goes away before it answers: its server answers for it. */
  f->clients[1].answer = 3;
  proxy = hubs_hub_clients_client (hubs_hub_context_get_clients (f->servers[0].hub), id_of (&f->clients[1]));
  g_value_init (&arg, G_TYPE_INT);
  g_value_set_int (&arg, 1);
  hubs_client_proxy_invoke_async (proxy, "Double", 1, &arg, G_TYPE_INT, NULL, got_result, &result);
  WAIT_UNTIL (f->clients[1].held != NULL);
  g_assert_null (result);
  client_stop (&f->clients[1]);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_client_proxy_invoke_finish (proxy, result, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "Connection disconnected.");
}

/* Redis restarted while messages flow */

static void
test_restart (Fixture       *f,
              gconstpointer  data)
{
  HubsHubClients *clients;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(HubsClientProxy) all = NULL;
  g_autofree char *metrics = NULL;
  GValue arg = G_VALUE_INIT;
  guint64 failed = 0;

  if (redis_pid == 0)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }
  clients = hubs_hub_context_get_clients (f->servers[0].hub);
  g_assert_true (group_change (&f->servers[1], id_of (&f->clients[1]), "kept", TRUE, &error));
  g_assert_no_error (error);

  redis_stop ();
  for (guint i = 0; i < N_SERVERS; i++)
    WAIT_UNTIL (hubs_redis_backplane_get_state (f->servers[i].backplane) != HUBS_REDIS_STATE_CONNECTED);
  WAIT_UNTIL (hubs_redis_backplane_get_state (f->servers[0].backplane) == HUBS_REDIS_STATE_DISCONNECTED);

  /* Local members still get what is sent; the publish fails and counts. */
  all = hubs_hub_clients_all (clients);
  g_value_init (&arg, G_TYPE_STRING);
  g_value_set_string (&arg, "during-outage");
  hubs_client_proxy_send_async (all, "Message", 1, &arg, NULL, got_result, &result);
  g_value_unset (&arg);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_client_proxy_send_finish (all, result, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  WAIT_UNTIL (count (&f->clients[0], "during-outage") == 1);
  g_object_get (f->servers[0].backplane, "n-failed-publishes", &failed, NULL);
  g_assert_cmpuint (failed, >=, 1);
  metrics = hubs_metrics_to_prometheus (hubs_server_get_metrics (f->servers[0].server));
  g_assert_nonnull (strstr (metrics, "hubs_redis_connected 0\n"));

  redis_start ();
  for (guint i = 0; i < N_SERVERS; i++)
    WAIT_UNTIL (hubs_redis_backplane_get_state (f->servers[i].backplane) == HUBS_REDIS_STATE_CONNECTED);

  /* Everything was subscribed again: groups, connections, users. */
  send_and_check (f, &f->servers[0], hubs_hub_clients_group (clients, "kept"), "after-restart", "010");
  send_and_check (f, &f->servers[0], hubs_hub_clients_user (clients, "u1"), "user-after-restart", "101");
  send_and_check (f, &f->servers[2], hubs_hub_clients_client (hubs_hub_context_get_clients (f->servers[2].hub),
                                                              id_of (&f->clients[0])),
                  "client-after-restart", "100");
  assert_got (f, N_SERVERS, "during-outage", "100");
}

/* A slow Redis does not grow memory: past max-pending-bytes a publish
 * fails, is counted, and this server's members still get the message. */
static void
test_pending_bound (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(HubsClientProxy) all = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *big = NULL;
  g_autofree char *metrics = NULL;
  GValue arg = G_VALUE_INIT;
  guint64 failed = 0;

  if (redis_pid == 0)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }

  g_object_set (f->servers[0].backplane, "max-pending-bytes", (guint64) 1000, NULL);
  all = hubs_hub_clients_all (hubs_hub_context_get_clients (f->servers[0].hub));
  big = g_strnfill (2000, 'x');
  g_value_init (&arg, G_TYPE_STRING);
  g_value_set_string (&arg, big);
  hubs_client_proxy_send_async (all, "Message", 1, &arg, NULL, got_result, &result);
  g_value_unset (&arg);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_client_proxy_send_finish (all, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_object_get (f->servers[0].backplane, "n-failed-publishes", &failed, NULL);
  g_assert_cmpuint (failed, ==, 1);
  WAIT_UNTIL (count (&f->clients[0], big) == 1);

  metrics = hubs_metrics_to_prometheus (hubs_server_get_metrics (f->servers[0].server));
  g_assert_nonnull (strstr (metrics, "hubs_redis_failed_publishes_total 1\n"));

  /* Small ones still go through. */
  send_and_check (f, &f->servers[0], hubs_hub_clients_all (hubs_hub_context_get_clients (f->servers[0].hub)),
                  "small", "111");
  assert_got (f, N_SERVERS, big, "100");
}

/* AUTH and SELECT; a wrong password keeps trying without connecting; a
 * host name is resolved */
static void
test_password (void)
{
  g_autofree char *address = g_strdup_printf ("localhost:%u", redis_port);
  g_autoptr(HubsRedisBackplane) good = NULL;
  g_autoptr(HubsRedisBackplane) wrong = NULL;
  g_autoptr(HubsLifetimeManager) good_manager = NULL;
  g_autoptr(HubsLifetimeManager) wrong_manager = NULL;
  g_autofree char *set = NULL;
  g_autofree char *unset = NULL;
  g_autofree char *channels = NULL;
  gint64 deadline;

  if (redis_pid == 0)
    {
      g_test_skip ("redis-server is not installed");
      return;
    }

  set = redis_cli ("config set requirepass s3cret");
  g_assert_cmpstr (set, ==, "OK");

  good = g_object_new (HUBS_TYPE_REDIS_BACKPLANE, "address", address, "password", "s3cret", "database", 3,
                       "channel-prefix", "app1/", NULL);
  g_assert_true (g_initable_init (G_INITABLE (good), NULL, NULL));
  wrong = g_object_new (HUBS_TYPE_REDIS_BACKPLANE, "address", address, "password", "nope", NULL);
  g_assert_true (g_initable_init (G_INITABLE (wrong), NULL, NULL));

  /* Connecting starts with the first hub. */
  g_assert_cmpint (hubs_redis_backplane_get_state (good), ==, HUBS_REDIS_STATE_DISCONNECTED);
  good_manager = hubs_redis_lifetime_manager_new (good, "Tests.Password");
  wrong_manager = hubs_redis_lifetime_manager_new (wrong, "Tests.Password");
  WAIT_UNTIL (hubs_redis_backplane_get_state (good) == HUBS_REDIS_STATE_CONNECTED);
  /* The channel prefix goes before everything, verbatim, as
   * StackExchange.Redis's ChannelPrefix. */
  channels = redis_cli ("-a s3cret --no-auth-warning pubsub channels *Tests.Password:all");
  g_assert_cmpstr (channels, ==, "app1/Tests.Password:all");

  deadline = g_get_monotonic_time () + 500 * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (hubs_redis_backplane_get_state (wrong), !=, HUBS_REDIS_STATE_CONNECTED);
      g_usleep (1000);
    }

  unset = redis_cli ("-a s3cret config set requirepass \"\"");
  g_assert_cmpstr (unset, ==, "OK");
  g_clear_object (&wrong_manager);
  g_clear_object (&good_manager);
}

/* Nothing listens: connection attempts fail again and again, quietly
 * (G_DEBUG=fatal-criticals in the tests' environment), and publishes fail. */
static void
test_unreachable (void)
{
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", free_port ());
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsRedisBackplane) backplane = hubs_redis_backplane_new (address, &error);
  g_autoptr(HubsLifetimeManager) manager = NULL;
  g_autoptr(HubsHubMessage) message = NULL;
  g_autoptr(HubsSerializedMessage) serialized = NULL;
  g_autoptr(HubsTarget) target = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  gboolean seen_disconnected = FALSE;
  gint64 deadline;

  g_assert_no_error (error);
  manager = hubs_redis_lifetime_manager_new (backplane, "Tests.Unreachable");

  deadline = g_get_monotonic_time () + 600 * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      HubsRedisState state = hubs_redis_backplane_get_state (backplane);

      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (state, !=, HUBS_REDIS_STATE_CONNECTED);
      seen_disconnected |= state == HUBS_REDIS_STATE_DISCONNECTED;
      g_usleep (1000);
    }
  /* Attempts failed (after connect() said EINPROGRESS) and were retried. */
  g_assert_true (seen_disconnected);

  message = hubs_hub_message_new_invocation (NULL, "Message", 0, NULL);
  serialized = hubs_serialized_message_new (message);
  target = hubs_target_new (HUBS_TARGET_ALL, NULL, NULL);
  hubs_lifetime_manager_send_async (manager, target, serialized, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_lifetime_manager_send_finish (manager, result, &error));
  g_assert_nonnull (error);
}

/* Addresses */

static void
test_addresses (void)
{
  const char *good[] = { "localhost", "127.0.0.1:6380", "[::1]:6379", "[::1]", "unix:/run/redis.sock", "/tmp/r.sock" };
  const char *bad[] = { "", ":6379", "host:", "host:0", "host:70000", "::1:6379", "[::1", "unix:relative", "[]:1" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HubsRedisBackplane) backplane = hubs_redis_backplane_new (good[i], &error);

      g_assert_no_error (error);
      g_assert_cmpint (hubs_redis_backplane_get_state (backplane), ==, HUBS_REDIS_STATE_DISCONNECTED);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HubsRedisBackplane) backplane = hubs_redis_backplane_new (bad[i], &error);

      g_test_message ("%s", bad[i]);
      g_assert_null (backplane);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *redis_server = NULL;
  g_autofree char *redis_client = NULL;
  int status;

  /* The client would look up proxies through GSettings otherwise. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  signal (SIGPIPE, SIG_IGN);

  redis_server = g_find_program_in_path ("redis-server");
  redis_client = g_find_program_in_path ("redis-cli");
  if (redis_server != NULL && redis_client != NULL)
    {
      redis_port = free_port ();
      redis_start ();
    }

  g_test_add_func ("/hubs/redis/addresses", test_addresses);
  g_test_add ("/hubs/redis/targets", Fixture, NULL, fixture_set_up, test_targets, fixture_tear_down);
  g_test_add ("/hubs/redis/groups", Fixture, NULL, fixture_set_up, test_groups, fixture_tear_down);
  g_test_add ("/hubs/redis/client-results", Fixture, NULL, fixture_set_up, test_client_results, fixture_tear_down);
  g_test_add ("/hubs/redis/restart", Fixture, NULL, fixture_set_up, test_restart, fixture_tear_down);
  g_test_add ("/hubs/redis/pending-bound", Fixture, NULL, fixture_set_up, test_pending_bound, fixture_tear_down);
  g_test_add_func ("/hubs/redis/password", test_password);
  g_test_add_func ("/hubs/redis/unreachable", test_unreachable);

  status = g_test_run ();
  redis_stop ();
  return status;
}
