/* desktop.c: a hub beside a desktop application's other GLib work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A GApplication that keeps notes as text files in a folder and shares them
 * live: a GFileMonitor watches the folder, and every note created, changed
 * or deleted, by a client or by anyone else, is pushed to every client. The
 * hub, the file monitor, the asynchronous file operations and the
 * application's own life (startup, hold, quit) all run on the one main
 * loop: no threads, no locks.
 *
 *   hubs-desktop --port 5000 --directory ~/Notes
 *
 * Hub methods:  ListNotes() → [names], ReadNote(name) → text,
 *               WriteNote(name, text), DeleteNote(name), GetStatus() → {…}
 * Client calls: NoteChanged(name, "created" | "changed" | "deleted")
 *
 * Only GIO: the same shape holds in a GTK application, whose windows would
 * sit on this main loop too.
 */

#define G_LOG_DOMAIN "hubs-desktop"

#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <hubs-glib/hubs.h>

#define MAX_NOTE_NAME 100

typedef struct
{
  GApplication *app;
  HubsServer *server;
  HubsHubContext *hub_context;  /* lives as long as the server */
  GFile *directory;
  GFileMonitor *monitor;
  GHashTable *notes;            /* the names in the folder, as last seen */
  GTimer *uptime;
  gboolean quitting;
  int exit_status;              /* of a failure after startup */
} Desktop;

/* The application. Hub instances are made by the server for each call,
 * with no arguments, so this is how they reach it. */
static Desktop desktop;

/* Notes are the visible files directly in the folder. */
static gboolean
is_note_name (const char *name)
{
  return name != NULL && name[0] != '\0' && name[0] != '.' &&
         strlen (name) <= MAX_NOTE_NAME && strchr (name, '/') == NULL &&
         g_utf8_validate (name, -1, NULL);
}

static GFile *
note_file (const char *name)
{
  return g_file_get_child (desktop.directory, name);
}

/* The folder, as the monitor tells it */

static void
note_changed (const char *name,
              const char *event)
{
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_context_get_clients (desktop.hub_context));

  g_debug ("%s: %s", name, event);
  hubs_client_proxy_send (all, "NoteChanged",
                          G_TYPE_STRING, name,
                          G_TYPE_STRING, event,
                          G_TYPE_INVALID);
}

/* What changed is told from what is there now and what was there before,
 * rather than from the event: saves write a temporary file and rename it
 * over the note, and editors have their own ways. */
static void
check_note (GFile *file)
{
  g_autofree char *name = NULL;
  gboolean known, exists;

  if (file == NULL)
    return;
  name = g_file_get_basename (file);
  if (!is_note_name (name))
    return;

  known = g_hash_table_contains (desktop.notes, name);
  exists = g_file_query_file_type (file, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL) == G_FILE_TYPE_REGULAR;
  if (exists && !known)
    {
      g_hash_table_add (desktop.notes, g_strdup (name));
      note_changed (name, "created");
    }
  else if (exists)
    note_changed (name, "changed");
  else if (known)
    {
      g_hash_table_remove (desktop.notes, name);
      note_changed (name, "deleted");
    }
}

static void
folder_changed (GFileMonitor      *monitor,
                GFile             *file,
                GFile             *other_file,
                GFileMonitorEvent  event,
                gpointer           user_data)
{
  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
      check_note (file);
      break;
    case G_FILE_MONITOR_EVENT_RENAMED:
      check_note (file);
      check_note (other_file);
      break;
    default:
      /* CHANGED comes many times while a file is written; CHANGES_DONE_HINT
       * follows once. */
      break;
    }
}

static gboolean
watch_folder (GError **error)
{
  g_autoptr(GFileEnumerator) children = NULL;
  GFileInfo *info;

  desktop.monitor = g_file_monitor_directory (desktop.directory, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
  if (desktop.monitor == NULL)
    return FALSE;
  g_signal_connect (desktop.monitor, "changed", G_CALLBACK (folder_changed), NULL);

  children = g_file_enumerate_children (desktop.directory,
                                        G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, error);
  if (children == NULL)
    return FALSE;
  while ((info = g_file_enumerator_next_file (children, NULL, error)) != NULL)
    {
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR &&
          is_note_name (g_file_info_get_name (info)))
        g_hash_table_add (desktop.notes, g_strdup (g_file_info_get_name (info)));
      g_object_unref (info);
    }
  return error == NULL || *error == NULL;
}

/* The hub */

#define NOTES_TYPE_HUB (notes_hub_get_type ())
G_DECLARE_FINAL_TYPE (NotesHub, notes_hub, NOTES, HUB, HubsHub)

struct _NotesHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (NotesHub, notes_hub, HUBS_TYPE_HUB)

/* Fails @invocation with a message for the client unless @name is one. */
static gboolean
check_note_name (HubsInvocation *invocation,
                 const char     *name)
{
  if (is_note_name (name))
    return TRUE;
  hubs_invocation_return_error_literal (invocation, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                        "A note's name is a file name: not empty, no ‘/’, "
                                        "not starting with ‘.’");
  return FALSE;
}

/* The client learns what went wrong with its note, not the server's paths. */
static void
return_file_error (HubsInvocation *invocation,
                   const char     *name,
                   const GError   *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    hubs_invocation_return_error (invocation, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                  "There is no note named %s", name);
  else
    hubs_invocation_return_gerror (invocation, error);
}

/* qsort() passes pointers to the array's elements. */
static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static gboolean
notes_hub_list_notes (HubsHub        *hub,
                      HubsInvocation *invocation)
{
  g_autofree const char **names = (const char **) g_hash_table_get_keys_as_array (desktop.notes, NULL);
  g_auto(GValue) value = G_VALUE_INIT;

  qsort (names, g_hash_table_size (desktop.notes), sizeof (char *), compare_names);
  g_value_init (&value, G_TYPE_STRV);
  g_value_set_boxed (&value, names);
  hubs_invocation_return_value (invocation, &value);
  return HUBS_INVOCATION_HANDLED;
}

static void
note_read (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (source));
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    return_file_error (invocation, name, error);
  else if (!g_utf8_validate_len (contents, length, NULL))
    hubs_invocation_return_error (invocation, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                  "The note %s is not text", name);
  else
    hubs_invocation_return_string (invocation, contents);
}

/* The file is read on the main loop, without blocking it: the invocation
 * completes in the callback. */
static gboolean
notes_hub_read_note (HubsHub        *hub,
                     HubsInvocation *invocation,
                     const char     *name)
{
  g_autoptr(GFile) file = NULL;

  if (!check_note_name (invocation, name))
    return HUBS_INVOCATION_HANDLED;
  file = note_file (name);
  g_file_load_contents_async (file, hubs_invocation_get_cancellable (invocation),
                              note_read, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static void
note_written (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    hubs_invocation_return_gerror (invocation, error);
  else
    hubs_invocation_return_void (invocation);
}

static gboolean
notes_hub_write_note (HubsHub        *hub,
                      HubsInvocation *invocation,
                      const char     *name,
                      const char     *text)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) contents = NULL;

  if (!check_note_name (invocation, name))
    return HUBS_INVOCATION_HANDLED;
  file = note_file (name);
  contents = g_bytes_new (text != NULL ? text : "", text != NULL ? strlen (text) : 0);
  /* Clients hear of the new note from the monitor, as of any other. */
  g_file_replace_contents_bytes_async (file, contents, NULL, FALSE, G_FILE_CREATE_NONE,
                                       NULL, note_written, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static void
note_deleted (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (source));

  if (!g_file_delete_finish (G_FILE (source), result, &error))
    return_file_error (invocation, name, error);
  else
    hubs_invocation_return_void (invocation);
}

static gboolean
notes_hub_delete_note (HubsHub        *hub,
                       HubsInvocation *invocation,
                       const char     *name)
{
  g_autoptr(GFile) file = NULL;

  if (!check_note_name (invocation, name))
    return HUBS_INVOCATION_HANDLED;
  file = note_file (name);
  g_file_delete_async (file, G_PRIORITY_DEFAULT, NULL, note_deleted, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
notes_hub_get_status (HubsHub        *hub,
                      HubsInvocation *invocation)
{
  g_autofree char *path = g_file_get_path (desktop.directory);
  GVariantDict status;

  g_variant_dict_init (&status, NULL);
  g_variant_dict_insert (&status, "directory", "s", path);
  g_variant_dict_insert (&status, "notes", "u", g_hash_table_size (desktop.notes));
  g_variant_dict_insert (&status, "clients", "u", hubs_server_get_n_connections (desktop.server));
  g_variant_dict_insert (&status, "uptimeSeconds", "d", g_timer_elapsed (desktop.uptime, NULL));
  hubs_invocation_return_variant (invocation, g_variant_dict_end (&status));
  return HUBS_INVOCATION_HANDLED;
}

static void
notes_hub_class_init (NotesHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hubs_hub_class_add_method (hub_class, "list-notes", G_CALLBACK (notes_hub_list_notes),
                             G_TYPE_STRV, 0);
  hubs_hub_class_add_method (hub_class, "read-note", G_CALLBACK (notes_hub_read_note),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "write-note", G_CALLBACK (notes_hub_write_note),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "delete-note", G_CALLBACK (notes_hub_delete_note),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-status", G_CALLBACK (notes_hub_get_status),
                             G_TYPE_VARIANT, 0);
}

static void
notes_hub_init (NotesHub *self)
{
}

/* The application's life */

static void
server_shut_down (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  hubs_server_shutdown_finish (HUBS_SERVER (source), result, NULL);
  /* The hold of startup: without it, and with no window, the application
   * ends. */
  g_application_release (desktop.app);
}

/* Clients get a Close message and the connections end before the main loop
 * does. */
static void
desktop_quit (void)
{
  if (desktop.quitting)
    return;
  desktop.quitting = TRUE;
  if (desktop.monitor != NULL)
    g_file_monitor_cancel (desktop.monitor);
  hubs_server_shutdown_async (desktop.server, NULL, server_shut_down, NULL);
}

static gboolean
on_signal (gpointer user_data)
{
  desktop_quit ();
  return G_SOURCE_CONTINUE;
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  desktop_quit ();
}

/* Runs before the application registers: options, the folder and the
 * listening socket, so that a mistake ends it with a message and a status. */
static int
handle_local_options (GApplication *app,
                      GVariantDict *options,
                      gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *directory = NULL;
  gint32 port = 5000;

  g_variant_dict_lookup (options, "port", "i", &port);
  if (port < 0 || port > 65535)
    {
      g_printerr ("--port: %d is not a port\n", port);
      return 2;
    }
  if (!g_variant_dict_lookup (options, "directory", "^ay", &directory))
    directory = g_build_filename (g_get_user_data_dir (), "hubs-desktop", "notes", NULL);

  desktop.directory = g_file_new_for_commandline_arg (directory);
  if (!g_file_make_directory_with_parents (desktop.directory, NULL, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_printerr ("Cannot make %s: %s\n", directory, error->message);
      return 1;
    }
  g_clear_error (&error);

  desktop.server = hubs_server_new ();
  desktop.hub_context = hubs_server_map_hub (desktop.server, "/notes", NOTES_TYPE_HUB, NULL);
  if (!hubs_server_listen_local (desktop.server, port, &error))
    {
      g_printerr ("Cannot listen on port %d: %s\n", port, error->message);
      return 1;
    }
  return -1;
}

static void
startup (GApplication *app,
         gpointer      user_data)
{
  static const GActionEntry actions[] = {
    { "quit", quit_activated, NULL, NULL, NULL, { 0 } },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_file_get_path (desktop.directory);

  g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), NULL);

  if (!watch_folder (&error))
    {
      g_printerr ("Cannot watch %s: %s\n", path, error->message);
      desktop.exit_status = 1;
      /* Quit through the server's shutdown, as any other way out. */
      g_application_hold (app);
      desktop_quit ();
      return;
    }

  /* An application without windows ends when nothing holds it. */
  g_application_hold (app);
  g_unix_signal_add (SIGINT, on_signal, NULL);
  g_unix_signal_add (SIGTERM, on_signal, NULL);

  g_print ("Now listening on: http://127.0.0.1:%u\n", hubs_server_get_port (desktop.server));
  g_print ("Notes in %s, hub on /notes\n", path);
  fflush (stdout);
}

/* A second launch of a unique application would land here; a desktop
 * application would present its window. */
static void
activate (GApplication *app,
          gpointer      user_data)
{
}

int
main (int   argc,
      char *argv[])
{
  static const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, NULL, "Port to listen on (0: any free port)", "PORT" },
    { "directory", 'd', 0, G_OPTION_ARG_FILENAME, NULL, "Folder of the notes", "DIR" },
    { NULL }
  };
  g_autoptr(GApplication) app = NULL;
  int status;

  /* NON_UNIQUE: several may run side by side, each on its own folder and
   * port (the tests do). */
  app = g_application_new ("org.example.HubsDesktop", G_APPLICATION_NON_UNIQUE);
  g_application_add_main_option_entries (app, entries);
  g_application_set_option_context_summary (app, "Notes in a folder, shared live through a hub");
  g_signal_connect (app, "handle-local-options", G_CALLBACK (handle_local_options), NULL);
  g_signal_connect (app, "startup", G_CALLBACK (startup), NULL);
  g_signal_connect (app, "activate", G_CALLBACK (activate), NULL);

  desktop.app = app;
  desktop.notes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  desktop.uptime = g_timer_new ();

  status = g_application_run (app, argc, argv);

  g_clear_object (&desktop.monitor);
  g_clear_object (&desktop.server);
  g_clear_object (&desktop.directory);
  g_clear_pointer (&desktop.notes, g_hash_table_unref);
  g_clear_pointer (&desktop.uptime, g_timer_destroy);
  return status != 0 ? status : desktop.exit_status;
}
