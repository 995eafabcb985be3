/* interop-main.c: hubs-interop-server, the program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   hubs-interop-server --port N [--metrics] [--redis HOST:PORT]
 *
 * listens on 127.0.0.1:N (0: a free port), prints one line
 * "Now listening on: http://127.0.0.1:PORT" and serves until SIGINT or
 * SIGTERM, then closes every connection gracefully and exits 0.
 *
 * An addition to the contract: --metrics serves the server's metrics in the
 * Prometheus text format on GET /metrics (tests/js/metrics.test.mjs).
 */

#include "interop-server.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

typedef struct
{
  InteropApp app;
  GMainLoop *loop;
  gboolean shutting_down;
  int exit_status;
} InteropMain;

static void
shutdown_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  InteropMain *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!hubs_server_shutdown_finish (HUBS_SERVER (source), result, &error))
    {
      g_printerr ("Shutting down: %s\n", error->message);
      self->exit_status = 1;
    }

  g_main_loop_quit (self->loop);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  InteropMain *self = user_data;

  if (!self->shutting_down)
    {
      self->shutting_down = TRUE;
      hubs_server_shutdown_async (self->app.server, NULL, shutdown_done, self);
    }
  else
    {
      /* A second signal: stop waiting for the connections to close */
      g_printerr ("Stopping without waiting for the connections to close\n");
      self->exit_status = 1;
      g_main_loop_quit (self->loop);
    }

  return G_SOURCE_CONTINUE;
}

static HubsHubOptions *
hub_options (gboolean          detailed_errors,
             HubsTransportType transports)
{
  HubsHubOptions *options = hubs_hub_options_new ();

  hubs_hub_options_set_detailed_errors (options, detailed_errors);
  hubs_hub_options_set_transports (options, transports);

  return options;
}

static gboolean
map_hub (HubsServer      *server,
         const char      *path,
         GType            hub_type,
         HubsHubOptions  *options,
         HubsHubContext **context)
{
  HubsHubContext *mapped = hubs_server_map_hub (server, path, hub_type, options);

  if (mapped == NULL)
    {
      g_printerr ("Cannot map %s on %s\n", g_type_name (hub_type), path);
      return FALSE;
    }

  if (context != NULL)
    *context = mapped;
  return TRUE;
}

/* The endpoints of the contract. With --redis, every hub shares its
 * clients, groups and users through Redis, TestHub and FeatureHub under the
 * reference application's type names so that one Redis can mix them with
 * ASP.NET Core servers. */
static gboolean
map_endpoints (InteropApp *app,
               gboolean    redis)
{
  HubsServer *server = app->server;
  g_autoptr(HubsHubOptions) test_options = hub_options (TRUE, HUBS_TRANSPORT_ALL);
  g_autoptr(HubsHubOptions) no_websockets_options =
    hub_options (TRUE, HUBS_TRANSPORT_SERVER_SENT_EVENTS | HUBS_TRANSPORT_LONG_POLLING);
  g_autoptr(HubsHubOptions) authorized_options = hub_options (TRUE, HUBS_TRANSPORT_ALL);
  g_autoptr(HubsHubOptions) echo_options = hub_options (FALSE, HUBS_TRANSPORT_ALL);
  g_autoptr(HubsHubOptions) feature_options = hub_options (FALSE, HUBS_TRANSPORT_ALL);
  g_autoptr(HubsHubOptions) filtered_options = hub_options (FALSE, HUBS_TRANSPORT_ALL);
  /* An addition to the contract: TestHub and FeatureHub with stateful
   * reconnect allowed, for tests/js/stateful-reconnect.test.mjs. */
  g_autoptr(HubsHubOptions) stateful_options = hub_options (TRUE, HUBS_TRANSPORT_ALL);
  g_autoptr(HubsHubOptions) feature_stateful_options = hub_options (TRUE, HUBS_TRANSPORT_ALL);

  HubsHubContext *no_websockets = NULL;
  HubsHubContext *stateful = NULL;

  hubs_hub_options_set_require_authentication (authorized_options, TRUE);
  hubs_hub_options_set_allow_stateful_reconnects (stateful_options, TRUE);
  hubs_hub_options_set_allow_stateful_reconnects (feature_stateful_options, TRUE);
  if (redis)
    {
      hubs_hub_options_set_redis_hub_name (test_options, "FunctionalTests.TestHub");
      hubs_hub_options_set_redis_hub_name (no_websockets_options, "FunctionalTests.TestHub");
      hubs_hub_options_set_redis_hub_name (stateful_options, "FunctionalTests.TestHub");
      hubs_hub_options_set_redis_hub_name (feature_options, "Interop.FeatureHub");
      hubs_hub_options_set_redis_hub_name (feature_stateful_options, "Interop.FeatureHub");
    }

  if (!map_hub (server, "/testhub", INTEROP_TYPE_TEST_HUB, test_options, &app->test_hub) ||
      !map_hub (server, "/testhub-nowebsockets", INTEROP_TYPE_TEST_HUB, no_websockets_options, &no_websockets) ||
      !map_hub (server, "/uncreatable", INTEROP_TYPE_UNCREATABLE_HUB, test_options, NULL) ||
      !map_hub (server, "/authorizedhub", INTEROP_TYPE_AUTHORIZED_HUB, authorized_options, NULL) ||
      !map_hub (server, "/featurehub", INTEROP_TYPE_FEATURE_HUB, feature_options, &app->feature_hub) ||
      !map_hub (server, "/testhub-statefulreconnect", INTEROP_TYPE_TEST_HUB, stateful_options, &stateful) ||
      !map_hub (server, "/featurehub-statefulreconnect", INTEROP_TYPE_FEATURE_HUB, feature_stateful_options, NULL))
    return FALSE;
  interop_test_hub_add_context (app->test_hub);
  interop_test_hub_add_context (no_websockets);

  /* hubs-glib's own, beyond the contract: filters and method authorization */
  interop_filtered_hub_add_filters (server, filtered_options);
  if (!map_hub (server, "/filteredhub", INTEROP_TYPE_FILTERED_HUB, filtered_options, NULL) ||
      !map_hub (server, "/adminhub", INTEROP_TYPE_ADMIN_HUB, filtered_options, NULL))
    return FALSE;
  interop_test_hub_add_context (stateful);

  hubs_server_map_connection_handler (server, "/echo", echo_options,
                                      interop_echo_connection, NULL, NULL);

  hubs_server_set_authentication_handler (server, interop_authenticate, app->jwt_key, NULL);
  interop_routes_install (app);

  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  int port = 0;
  gboolean metrics = FALSE;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *redis = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(HubsRedisBackplane) backplane = NULL;
  const GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Listen on this port of 127.0.0.1 (0: any free port)", "N" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "Serve HTTPS/WSS with this PEM certificate", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "… and this PEM private key", "FILE" },
    { "metrics", 0, 0, G_OPTION_ARG_NONE, &metrics, "Serve the metrics on /metrics (Prometheus text)", NULL },
    { "redis", 0, 0, G_OPTION_ARG_STRING, &redis, "Share clients, groups and users with other servers through this Redis", "HOST:PORT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) option_context = NULL;
  g_autoptr(GError) error = NULL;
  InteropMain self = { 0 };
  guint sigint_id;
  guint sigterm_id;

  option_context = g_option_context_new ("- serve the hubs of the SignalR interop tests");
  g_option_context_add_main_entries (option_context, entries, NULL);
  if (!g_option_context_parse (option_context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("Unexpected argument ‘%s’\n", argv[1]);
      return 2;
    }
  if (port < 0 || port > 65535)
    {
      g_printerr ("The port must be between 0 and 65535\n");
      return 2;
    }

  /* A client that drops its connection must not end the server with it */
  signal (SIGPIPE, SIG_IGN);

  self.loop = g_main_loop_new (NULL, FALSE);
  if (tls_cert != NULL)
    {
      certificate = g_tls_certificate_new_from_files (tls_cert, tls_key ? tls_key : tls_cert, &error);
      if (certificate == NULL)
        {
          g_printerr ("Cannot load the TLS certificate: %s\n", error->message);
          return 2;
        }
    }
  self.app.server = g_object_new (HUBS_TYPE_SERVER, "tls-certificate", certificate, NULL);
  self.app.jwt_key = interop_jwt_key_new ();

  if (redis != NULL)
    {
      backplane = hubs_redis_backplane_new (redis, &error);
      if (backplane == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 2;
        }
      hubs_server_set_redis_backplane (self.app.server, backplane);
    }

  if (!map_endpoints (&self.app, redis != NULL))
    return 1;
  if (metrics)
    hubs_server_map_metrics (self.app.server, "/metrics");

  if (!hubs_server_listen_local (self.app.server, port, &error))
    {
      g_printerr ("Cannot listen on 127.0.0.1:%d: %s\n", port, error->message);
      return 1;
    }

  /* Before the line below: a runner may signal as soon as it reads it. */
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, &self);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, &self);

  /* Test runners wait for this exact line to learn the port */
  printf ("Now listening on: %s://127.0.0.1:%u\n", certificate ? "https" : "http",
          hubs_server_get_port (self.app.server));
  fflush (stdout);

  g_main_loop_run (self.loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_clear_object (&self.app.server);
  g_clear_pointer (&self.app.jwt_key, interop_jwt_key_free);
  interop_filtered_hub_cleanup ();
  g_main_loop_unref (self.loop);

  return self.exit_status;
}
