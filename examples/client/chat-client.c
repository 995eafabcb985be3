/* hubs-chat-client: a terminal client of the chat example
 *
 * Connects to the chat example's hub (examples/chat, `hubs-chat`), prints
 * every message as it arrives, sends each line typed on standard input as
 * SendMessage(name, line), reconnects by itself when the server goes away
 * (and says so), and leaves cleanly at the end of input or on Ctrl-C.
 *
 *   hubs-chat --port 5000 &
 *   hubs-chat-client --url http://127.0.0.1:5000/chathub --name ada
 *
 * Nothing here needs GTK: the connection runs on the GLib main loop, so
 * the same code sits in a desktop application as it is.
 */

#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <hubs-glib/hubs.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  GMainLoop *loop;
  HubsConnection *connection;
  GDataInputStream *input;
  GCancellable *reading;
  char *name;
  guint pending_sends;
  gboolean reading_pending;
  gboolean leaving;
  gboolean stopping;
  int status;
} App;

static void read_next_line (App *app);

static void
stopped (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!hubs_connection_stop_finish (HUBS_CONNECTION (source), result, &error))
    {
      g_printerr ("Stopping: %s\n", error->message);
      app->status = 1;
    }
  g_print ("Bye.\n");
  g_main_loop_quit (app->loop);
}

/* Stops the connection once every line read has been handed over. */
static void
stop_when_idle (App *app)
{
  if (!app->leaving || app->pending_sends > 0 || app->stopping)
    return;
  app->stopping = TRUE;
  if (hubs_connection_get_state (app->connection) == HUBS_CONNECTION_STATE_DISCONNECTED)
    {
      g_print ("Bye.\n");
      g_main_loop_quit (app->loop);
      return;
    }
  hubs_connection_stop_async (app->connection, NULL, stopped, app);
}

static void
leave (App *app)
{
  app->leaving = TRUE;
  g_cancellable_cancel (app->reading);
  stop_when_idle (app);
}

static gboolean
on_signal (gpointer user_data)
{
  leave (user_data);
  return G_SOURCE_CONTINUE;
}

static void
sent (GObject      *source,
      GAsyncResult *result,
      gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!hubs_connection_send_finish (HUBS_CONNECTION (source), result, &error))
    g_print ("(not sent: %s)\n", error->message);
  app->pending_sends--;
  stop_when_idle (app);
}

static void
send_line (App        *app,
           const char *line)
{
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };

  /* While reconnecting a message would fail anyway; say why now. */
  if (hubs_connection_get_state (app->connection) != HUBS_CONNECTION_STATE_CONNECTED)
    {
      g_print ("(not sent: not connected)\n");
      return;
    }

  g_value_init (&args[0], G_TYPE_STRING);
  g_value_set_string (&args[0], app->name);
  g_value_init (&args[1], G_TYPE_STRING);
  g_value_set_string (&args[1], line);
  app->pending_sends++;
  hubs_connection_send_async (app->connection, "SendMessage", G_N_ELEMENTS (args), args,
                              NULL, sent, app);
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
}

static void
line_read (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gsize length;

  app->reading_pending = FALSE;
  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                    &length, &error);
  if (line == NULL)
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_printerr ("Reading standard input: %s\n", error->message);
      /* The end of input, an unreadable line or Ctrl-C: time to go. */
      leave (app);
      return;
    }

  g_strchomp (line);
  if (*line != '\0')
    send_line (app, line);
  read_next_line (app);
}

static void
read_next_line (App *app)
{
  if (app->leaving)
    return;
  app->reading_pending = TRUE;
  g_data_input_stream_read_line_async (app->input, G_PRIORITY_DEFAULT, app->reading,
                                       line_read, app);
}

static gboolean
on_receive_message (HubsConnection       *connection,
                    HubsClientInvocation *invocation,
                    gpointer              user_data)
{
  const char *user = g_value_get_string (hubs_client_invocation_get_argument (invocation, 0));
  const char *text = g_value_get_string (hubs_client_invocation_get_argument (invocation, 1));

  g_print ("%s: %s\n", user != NULL ? user : "(nobody)", text != NULL ? text : "");
  return HUBS_INVOCATION_UNHANDLED;
}

static void
on_reconnecting (HubsConnection *connection,
                 const GError   *error,
                 gpointer        user_data)
{
  g_print ("Connection lost (%s); reconnecting...\n",
           error != NULL ? error->message : "no reason given");
}

static void
on_reconnected (HubsConnection *connection,
                const char     *connection_id,
                gpointer        user_data)
{
  g_print ("Reconnected.\n");
}

static void
on_closed (HubsConnection *connection,
           const GError   *error,
           gpointer        user_data)
{
  App *app = user_data;

  if (app->stopping)
    return;
  /* The server refused us for good (a Close without allowReconnect). */
  g_print ("Connection closed: %s\n", error != NULL ? error->message : "by the server");
  app->status = 1;
  app->stopping = TRUE;
  g_main_loop_quit (app->loop);
}

/* A desktop client never gives up: the reference's first delays, then a
 * try every five seconds for as long as the program runs. */
static gint64
retry_delay (HubsConnection *connection,
             guint           previous_retry_count,
             gint64          elapsed_ms,
             const GError   *retry_reason,
             gpointer        user_data)
{
  static const gint64 delays[] = { 0, 1000, 2000 };

  if (previous_retry_count < G_N_ELEMENTS (delays))
    return delays[previous_retry_count];
  return 5000;
}

static void
started (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (!hubs_connection_start_finish (HUBS_CONNECTION (source), result, &error))
    {
      /* Ctrl-C while connecting: stopped() ends the program. */
      if (app->stopping)
        return;
      g_printerr ("Cannot connect to %s: %s\n", hubs_connection_get_url (app->connection),
                  error->message);
      app->status = 1;
      app->stopping = TRUE;
      g_main_loop_quit (app->loop);
      return;
    }

  g_print ("Connected to %s as %s. Type a message and press Enter; "
           "Ctrl-D or Ctrl-C leaves.\n", hubs_connection_get_url (app->connection), app->name);
  if (app->leaving)
    stop_when_idle (app);
  else
    read_next_line (app);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  g_autofree char *url = NULL;
  g_autofree char *name = NULL;
  GType message_types[] = { G_TYPE_STRING, G_TYPE_STRING };
  App app = { 0 };
  guint sigint_id, sigterm_id;
  GOptionEntry entries[] = {
    { "url", 'u', 0, G_OPTION_ARG_STRING, &url, "The chat hub (default http://127.0.0.1:5000/chathub)", "URL" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "The name to chat under (default: your user name)", "NAME" },
    G_OPTION_ENTRY_NULL
  };

  /* g_print() writes in the locale's character set. */
  setlocale (LC_ALL, "");
  /* One line at a time, also into a pipe: whoever reads us sees each
   * message as it arrives. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  options = g_option_context_new ("- chat in the terminal with the chat example");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  app.name = name != NULL ? g_strdup (name) : g_strdup (g_get_user_name ());
  app.loop = g_main_loop_new (NULL, FALSE);
  app.reading = g_cancellable_new ();
  stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  app.input = g_data_input_stream_new (stdin_stream);
  app.connection = hubs_connection_new (url != NULL ? url : "http://127.0.0.1:5000/chathub");
  hubs_connection_set_reconnect_policy (app.connection, retry_delay, NULL, NULL);
  hubs_connection_on (app.connection, "ReceiveMessage", G_N_ELEMENTS (message_types),
                      message_types, on_receive_message, NULL, NULL);
  g_signal_connect (app.connection, "reconnecting", G_CALLBACK (on_reconnecting), &app);
  g_signal_connect (app.connection, "reconnected", G_CALLBACK (on_reconnected), &app);
  g_signal_connect (app.connection, "closed", G_CALLBACK (on_closed), &app);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &app);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &app);

  hubs_connection_start_async (app.connection, NULL, started, &app);
  g_main_loop_run (app.loop);

  /* The cancelled read of standard input still has to come back. */
  while (app.reading_pending)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_signal_handlers_disconnect_by_data (app.connection, &app);
  g_object_unref (app.connection);
  g_object_unref (app.input);
  g_object_unref (app.reading);
  g_main_loop_unref (app.loop);
  g_free (app.name);
  return app.status;
}
