/* echo-server.c: the EchoHub of the benchmarks, on hubs-glib's public API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The same hub as bench/peers/aspnetcore (aspnet/Benchmarks' EchoHub):
 *
 *   Echo(DateTime)       returns its argument
 *   EchoAll(DateTime)    sends "send"(argument) to all clients
 *   Broadcast(int)       sends "send"(argument) to all clients
 *   SendPayload(string)  sends "send"(argument) to all clients
 *   GetCurrentTime()     returns the server's time
 *   JoinGroup(string)    adds the caller to the group
 *   LeaveGroup(string)   removes the caller from the group
 *   SendToGroup(string, DateTime)  sends "send"(DateTime) to the group
 *   SendToUser(string, DateTime)   sends "send"(DateTime) to the user
 *
 * at /echo, detailed errors on, default limits, no compression. A
 * connection's user is its query parameter "user" (bench/loadgen's
 * sendToUser scenario sets it). With --redis HOST:PORT the hub scales out
 * on that Redis under the name "EchoHub", the peer's hub type name, so
 * hubs-glib and ASP.NET Core servers can share it.
 *
 *   bench-echo-server --port 5000 [--redis 127.0.0.1:6379]
 */

#include <stdio.h>

#include <glib-unix.h>
#include <hubs-glib/hubs.h>

#define ECHO_TYPE_HUB (echo_hub_get_type ())
G_DECLARE_FINAL_TYPE (EchoHub, echo_hub, ECHO, HUB, HubsHub)

struct _EchoHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (EchoHub, echo_hub, HUBS_TYPE_HUB)

static gboolean
echo_hub_echo (HubsHub        *hub,
               HubsInvocation *invocation,
               GDateTime      *time)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_DATE_TIME);
  g_value_set_boxed (&value, time);
  hubs_invocation_return_value (invocation, &value);
  g_value_unset (&value);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_echo_all (HubsHub        *hub,
                   HubsInvocation *invocation,
                   GDateTime      *time)
{
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_get_clients (hub));

  hubs_client_proxy_send (all, "send", G_TYPE_DATE_TIME, time, G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_broadcast (HubsHub        *hub,
                    HubsInvocation *invocation,
                    gint            duration)
{
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_get_clients (hub));

  hubs_client_proxy_send (all, "send", G_TYPE_INT, duration, G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_send_payload (HubsHub        *hub,
                       HubsInvocation *invocation,
                       const char     *payload)
{
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_get_clients (hub));

  hubs_client_proxy_send (all, "send", G_TYPE_STRING, payload, G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_get_current_time (HubsHub        *hub,
                           HubsInvocation *invocation)
{
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_DATE_TIME);
  g_value_take_boxed (&value, g_date_time_new_now_utc ());
  hubs_invocation_return_value (invocation, &value);
  g_value_unset (&value);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_join_group (HubsHub        *hub,
                     HubsInvocation *invocation,
                     const char     *group)
{
  hubs_group_manager_add_to_group (hubs_hub_get_groups (hub),
                                   hubs_caller_context_get_connection_id (hubs_hub_get_context (hub)),
                                   group);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_leave_group (HubsHub        *hub,
                      HubsInvocation *invocation,
                      const char     *group)
{
  hubs_group_manager_remove_from_group (hubs_hub_get_groups (hub),
                                        hubs_caller_context_get_connection_id (hubs_hub_get_context (hub)),
                                        group);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_send_to_group (HubsHub        *hub,
                        HubsInvocation *invocation,
                        const char     *group,
                        GDateTime      *time)
{
  g_autoptr(HubsClientProxy) members = hubs_hub_clients_group (hubs_hub_get_clients (hub), group);

  hubs_client_proxy_send (members, "send", G_TYPE_DATE_TIME, time, G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
echo_hub_send_to_user (HubsHub        *hub,
                       HubsInvocation *invocation,
                       const char     *user,
                       GDateTime      *time)
{
  g_autoptr(HubsClientProxy) connections = hubs_hub_clients_user (hubs_hub_get_clients (hub), user);

  hubs_client_proxy_send (connections, "send", G_TYPE_DATE_TIME, time, G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static void
echo_hub_class_init (EchoHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (echo_hub_echo),
                             G_TYPE_DATE_TIME, 1, G_TYPE_DATE_TIME);
  hubs_hub_class_add_method (hub_class, "echo-all", G_CALLBACK (echo_hub_echo_all),
                             G_TYPE_NONE, 1, G_TYPE_DATE_TIME);
  hubs_hub_class_add_method (hub_class, "broadcast", G_CALLBACK (echo_hub_broadcast),
                             G_TYPE_NONE, 1, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "send-payload", G_CALLBACK (echo_hub_send_payload),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-current-time", G_CALLBACK (echo_hub_get_current_time),
                             G_TYPE_DATE_TIME, 0);
  hubs_hub_class_add_method (hub_class, "join-group", G_CALLBACK (echo_hub_join_group),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "leave-group", G_CALLBACK (echo_hub_leave_group),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-group", G_CALLBACK (echo_hub_send_to_group),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_DATE_TIME);
  hubs_hub_class_add_method (hub_class, "send-to-user", G_CALLBACK (echo_hub_send_to_user),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_DATE_TIME);
}

static void
echo_hub_init (EchoHub *self)
{
}

/* The user of a connection: its query parameter "user". */
static char *
user_from_query (HubsServer        *server,
                 HubsCallerContext *context,
                 gpointer           user_data)
{
  HubsHttpContext *http = hubs_caller_context_get_http_context (context);

  return http != NULL ? g_strdup (hubs_http_context_get_query_value (http, "user")) : NULL;
}

static void
shut_down (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  hubs_server_shutdown_finish (HUBS_SERVER (source), result, NULL);
  g_main_loop_quit (user_data);
}

typedef struct
{
  HubsServer *server;
  GMainLoop *loop;
} App;

static gboolean
quit (gpointer user_data)
{
  App *app = user_data;

  hubs_server_shutdown_async (app->server, NULL, shut_down, app->loop);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(HubsServer) server = NULL;
  g_autoptr(HubsHubOptions) hub_options = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GError) error = NULL;
  int port = 5000;
  g_autofree char *redis = NULL;
  App app;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (0: any free port)", "PORT" },
    { "redis", 0, 0, G_OPTION_ARG_STRING, &redis, "Scale out on the Redis at this address", "HOST:PORT" },
    { NULL }
  };

  options = g_option_context_new ("- the EchoHub of the benchmarks");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (port < 0 || port > 65535)
    {
      g_printerr ("--port: %d is not a port\n", port);
      return 2;
    }

  server = hubs_server_new ();
  hubs_server_set_user_id_provider (server, user_from_query, NULL, NULL);
  hub_options = hubs_hub_options_new ();
  hubs_hub_options_set_detailed_errors (hub_options, TRUE);
  if (redis != NULL)
    {
#ifdef HUBS_TYPE_REDIS_BACKPLANE
      g_autoptr(HubsRedisBackplane) backplane = hubs_redis_backplane_new (redis, &error);

      if (backplane == NULL)
        {
          g_printerr ("--redis %s: %s\n", redis, error->message);
          return 2;
        }
      hubs_server_set_redis_backplane (server, backplane);
      g_object_set (hub_options, "redis-hub-name", "EchoHub", NULL);
#else
      g_printerr ("--redis: this hubs-glib has no Redis backplane\n");
      return 2;
#endif
    }
  hubs_server_map_hub (server, "/echo", ECHO_TYPE_HUB, hub_options);

  if (!hubs_server_listen_local (server, port, &error))
    {
      g_printerr ("Cannot listen on port %d: %s\n", port, error->message);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  app.server = server;
  app.loop = loop;
  g_unix_signal_add (SIGINT, quit, &app);
  g_unix_signal_add (SIGTERM, quit, &app);

  g_print ("Now listening on: http://127.0.0.1:%u\n", hubs_server_get_port (server));
  fflush (stdout);

  g_main_loop_run (loop);

  return 0;
}
