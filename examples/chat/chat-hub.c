/* chat-hub.c: the ChatHub of SignalR's documentation, on hubs-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run it and open http://127.0.0.1:5000/index.html in two browser windows:
 *
 *   hubs-chat --port 5000 --static examples/chat
 *
 * The hub has one method, SendMessage(user, message), which calls
 * ReceiveMessage(user, message) on every connected client.
 */

#include <stdio.h>

#include <glib-unix.h>
#include <hubs-glib/hubs.h>

#define CHAT_TYPE_HUB (chat_hub_get_type ())
G_DECLARE_FINAL_TYPE (ChatHub, chat_hub, CHAT, HUB, HubsHub)

struct _ChatHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (ChatHub, chat_hub, HUBS_TYPE_HUB)

static gboolean
chat_hub_send_message (HubsHub        *hub,
                       HubsInvocation *invocation,
                       const char     *user,
                       const char     *message)
{
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_get_clients (hub));

  hubs_client_proxy_send (all, "ReceiveMessage",
                          G_TYPE_STRING, user,
                          G_TYPE_STRING, message,
                          G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static void
chat_hub_class_init (ChatHubClass *klass)
{
  hubs_hub_class_add_method (HUBS_HUB_CLASS (klass), "send-message",
                             G_CALLBACK (chat_hub_send_message),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
chat_hub_init (ChatHub *self)
{
}

/* The page and the client script, so that a browser can try it. */
static void
serve_file (SoupServer        *server,
            SoupServerMessage *message,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  const char *static_dir = user_data;
  g_autofree char *file = NULL;
  g_autofree char *contents = NULL;
  const char *content_type;
  gsize length = 0;

  if (g_str_equal (path, "/index.html"))
    {
      file = g_build_filename (static_dir, "index.html", NULL);
      content_type = "text/html; charset=utf-8";
    }
  else if (g_str_equal (path, "/signalr.js"))
    {
      file = g_build_filename (static_dir, "node_modules", "@microsoft", "signalr",
                               "dist", "browser", "signalr.js", NULL);
      content_type = "text/javascript";
    }
  else
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  if (!g_file_get_contents (file, &contents, &length, NULL))
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, content_type, SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&contents), length);
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
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *static_dir = NULL;
  int port = 5000;
  App app;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (0: any free port)", "PORT" },
    { "static", 's', 0, G_OPTION_ARG_FILENAME, &static_dir, "Folder of index.html and node_modules", "DIR" },
    { NULL }
  };

  options = g_option_context_new ("- the ChatHub of SignalR's documentation");
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
  if (static_dir == NULL)
    static_dir = g_strdup (CHAT_STATIC_DIR);

  server = hubs_server_new ();
  hubs_server_map_hub (server, "/chathub", CHAT_TYPE_HUB, NULL);
  soup_server_add_handler (hubs_server_get_soup_server (server), "/index.html", serve_file, static_dir, NULL);
  soup_server_add_handler (hubs_server_get_soup_server (server), "/signalr.js", serve_file, static_dir, NULL);

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
  g_print ("Chat page: http://127.0.0.1:%u/index.html\n", hubs_server_get_port (server));
  fflush (stdout);

  g_main_loop_run (loop);

  return 0;
}
