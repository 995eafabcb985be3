/* test-metrics.c: what a server counts and logs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Prometheus text of known counters byte for byte; the counters of a
 * server after a known sequence of calls by WebSocket clients in the same
 * process; the structured log records of that sequence, field by field;
 * and a library that prints nothing while G_MESSAGES_DEBUG is unset.
 */

#include <string.h>

#include "hubs.h"
#include "hubs-test-util.h"
#include "hubs-metrics-private.h"

#define WAIT_TIMEOUT_MS 10000

#define HANDSHAKE "{\"protocol\":\"json\",\"version\":1}\x1e"
#define HANDSHAKE_OK "{}\x1e"
#define CLOSE "{\"type\":7}\x1e"

/* A hub: Echo and Fail */

#define TEST_TYPE_HUB (test_hub_get_type ())
G_DECLARE_FINAL_TYPE (TestHub, test_hub, TEST, HUB, HubsHub)

struct _TestHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (TestHub, test_hub, HUBS_TYPE_HUB)

static gboolean
test_hub_echo (HubsHub        *hub,
               HubsInvocation *invocation,
               const char     *text)
{
  hubs_invocation_return_string (invocation, text);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_fail (HubsHub        *hub,
               HubsInvocation *invocation,
               const char     *text)
{
  hubs_invocation_take_error (invocation, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, text));
  return HUBS_INVOCATION_HANDLED;
}

static void
test_hub_class_init (TestHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (test_hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "fail", G_CALLBACK (test_hub_fail),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
test_hub_init (TestHub *self)
{
}

/* The log records of the domain "Hubs", while capturing */

typedef struct
{
  GLogLevelFlags level;
  GHashTable *fields;           /* key → value, both strings */
} Record;

static gboolean capturing;
static GPtrArray *records;      /* Record */

static void
record_free (gpointer data)
{
  Record *record = data;

  g_hash_table_unref (record->fields);
  g_free (record);
}

static GLogWriterOutput
writer (GLogLevelFlags   level,
        const GLogField *fields,
        gsize            n_fields,
        gpointer         user_data)
{
  Record *record;

  if (!capturing)
    return g_log_writer_default (level, fields, n_fields, user_data);

  record = g_new0 (Record, 1);
  record->level = level;
  record->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (gsize i = 0; i < n_fields; i++)
    {
      gsize length = fields[i].length < 0 ? strlen (fields[i].value) : (gsize) fields[i].length;

      g_hash_table_insert (record->fields, g_strdup (fields[i].key),
                           g_strndup (fields[i].value, length));
    }

  if (g_strcmp0 (g_hash_table_lookup (record->fields, "GLIB_DOMAIN"), "Hubs") == 0)
    g_ptr_array_add (records, record);
  else
    record_free (record);

  return G_LOG_WRITER_HANDLED;
}

/* The one record of @event (of @connection_id when given), asserted single */
static Record *
find_record (const char *event,
             const char *connection_id)
{
  Record *found = NULL;

  for (guint i = 0; i < records->len; i++)
    {
      Record *record = records->pdata[i];

      if (g_strcmp0 (g_hash_table_lookup (record->fields, "HUBS_EVENT"), event) != 0)
        continue;
      if (connection_id != NULL &&
          g_strcmp0 (g_hash_table_lookup (record->fields, "CONNECTION_ID"), connection_id) != 0)
        continue;
      if (found != NULL)
        g_error ("two %s records", event);
      found = record;
    }
  if (found == NULL)
    g_error ("no %s record", event);

  return found;
}

static guint
count_records (const char *event)
{
  guint n = 0;

  for (guint i = 0; i < records->len; i++)
    if (g_strcmp0 (g_hash_table_lookup (((Record *) records->pdata[i])->fields, "HUBS_EVENT"), event) == 0)
      n++;
  return n;
}

#define assert_field(record, key, expected) \
  g_assert_cmpstr (g_hash_table_lookup ((record)->fields, (key)), ==, (expected))

/* The fixture: a server with the hub on /hub, and WebSocket clients that
 * skip negotiation. Every byte each client sends and receives is counted. */

typedef struct
{
  HubsServer *server;
  guint port;
  SoupSession *session;
} Fixture;

typedef struct
{
  SoupWebsocketConnection *ws;
  GQueue messages;              /* char * */
  gboolean closed;
  gsize bytes_sent;
  gsize bytes_received;
  guint next_id;
  char *connection_id;
} Client;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->server = hubs_server_new ();
  hubs_server_map_hub (f->server, "/hub", TEST_TYPE_HUB, NULL);
  hubs_server_map_metrics (f->server, "/metrics");
  hubs_server_listen_local (f->server, 0, &error);
  g_assert_no_error (error);
  f->port = hubs_server_get_port (f->server);
  f->session = soup_session_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->session);
  g_clear_object (&f->server);
  /* The transports' last reports come in idle callbacks */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
client_message (SoupWebsocketConnection *ws,
                int                      type,
                GBytes                  *message,
                gpointer                 user_data)
{
  Client *c = user_data;
  gsize size;
  const char *data = g_bytes_get_data (message, &size);

  c->bytes_received += size;
  g_queue_push_tail (&c->messages, g_strndup (data ? data : "", size));
}

static void
client_closed (SoupWebsocketConnection *ws,
               gpointer                 user_data)
{
  Client *c = user_data;

  c->closed = TRUE;
}

static void
client_send (Client     *c,
             const char *text)
{
  c->bytes_sent += strlen (text);
  soup_websocket_connection_send_text (c->ws, text);
}

static char *
client_next (Client *c)
{
  WAIT_UNTIL (!g_queue_is_empty (&c->messages) || c->closed);
  g_assert_false (g_queue_is_empty (&c->messages));
  return g_queue_pop_head (&c->messages);
}

static void
client_expect (Client     *c,
               const char *expected)
{
  g_autofree char *text = client_next (c);

  g_assert_cmpstr (text, ==, expected);
}

static Client *
client_open (Fixture *f)
{
  g_autofree char *text = g_strdup_printf ("ws://127.0.0.1:%u/hub", f->port);
  g_autoptr(SoupMessage) message = soup_message_new (SOUP_METHOD_GET, text);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Client *c = g_new0 (Client, 1);

  g_queue_init (&c->messages);
  soup_session_websocket_connect_async (f->session, message, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  c->ws = soup_session_websocket_connect_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_signal_connect (c->ws, "message", G_CALLBACK (client_message), c);
  g_signal_connect (c->ws, "closed", G_CALLBACK (client_closed), c);

  client_send (c, HANDSHAKE);
  client_expect (c, HANDSHAKE_OK);
  return c;
}

/* The client's connection id, from the records of its connect */
static void
client_learn_id (Client *c)
{
  Record *record = NULL;

  for (guint i = 0; i < records->len; i++)
    {
      Record *r = records->pdata[i];
      const char *id = g_hash_table_lookup (r->fields, "CONNECTION_ID");

      if (g_strcmp0 (g_hash_table_lookup (r->fields, "HUBS_EVENT"), "HandshakeComplete") == 0 &&
          id != NULL && (record == NULL || g_strcmp0 (id, c->connection_id) != 0))
        record = r;
    }
  g_assert_nonnull (record);
  c->connection_id = g_strdup (g_hash_table_lookup (record->fields, "CONNECTION_ID"));
}

static void
client_call (Client     *c,
             const char *target,
             const char *argument,
             const char *expected_body)
{
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;

  c->next_id++;
  text = g_strdup_printf ("{\"type\":1,\"invocationId\":\"%u\",\"target\":\"%s\",\"arguments\":[\"%s\"]}\x1e",
                          c->next_id, target, argument);
  client_send (c, text);
  expected = g_strdup_printf ("{\"type\":3,\"invocationId\":\"%u\",%s}\x1e", c->next_id, expected_body);
  client_expect (c, expected);
}

static void
client_free (Client *c)
{
  if (!c->closed)
    {
      soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      WAIT_UNTIL (c->closed);
    }
  g_signal_handlers_disconnect_by_data (c->ws, c);
  g_object_unref (c->ws);
  g_queue_clear_full (&c->messages, g_free);
  g_free (c->connection_id);
  g_free (c);
}

static guint64
counter (Fixture            *f,
         HubsMetricsCounter  which,
         HubsTransportType   transports)
{
  return hubs_metrics_get_counter (hubs_server_get_metrics (f->server), which, transports);
}

/* The Prometheus text, byte for byte */

static void
test_prometheus_empty (void)
{
  g_autoptr(HubsServer) server = hubs_server_new ();
  g_autofree char *text = hubs_metrics_to_prometheus (hubs_server_get_metrics (server));

  g_assert_cmpstr (text, ==,
    "# HELP signalr_server_active_connections Number of connections that are currently active on the server.\n"
    "# TYPE signalr_server_active_connections gauge\n"
    "signalr_server_active_connections{signalr_transport=\"web_sockets\"} 0\n"
    "signalr_server_active_connections{signalr_transport=\"server_sent_events\"} 0\n"
    "signalr_server_active_connections{signalr_transport=\"long_polling\"} 0\n"
    "# HELP signalr_server_connection_duration_seconds The duration of connections on the server.\n"
    "# TYPE signalr_server_connection_duration_seconds histogram\n"
    "# HELP hubs_server_connections_total Number of connections whose transport started.\n"
    "# TYPE hubs_server_connections_total counter\n"
    "hubs_server_connections_total{signalr_transport=\"web_sockets\"} 0\n"
    "hubs_server_connections_total{signalr_transport=\"server_sent_events\"} 0\n"
    "hubs_server_connections_total{signalr_transport=\"long_polling\"} 0\n"
    "# HELP hubs_server_messages_received_total Hub protocol messages received, the handshake aside.\n"
    "# TYPE hubs_server_messages_received_total counter\n"
    "hubs_server_messages_received_total{signalr_transport=\"web_sockets\"} 0\n"
    "hubs_server_messages_received_total{signalr_transport=\"server_sent_events\"} 0\n"
    "hubs_server_messages_received_total{signalr_transport=\"long_polling\"} 0\n"
    "# HELP hubs_server_messages_sent_total Hub protocol messages sent, the handshake aside.\n"
    "# TYPE hubs_server_messages_sent_total counter\n"
    "hubs_server_messages_sent_total{signalr_transport=\"web_sockets\"} 0\n"
    "hubs_server_messages_sent_total{signalr_transport=\"server_sent_events\"} 0\n"
    "hubs_server_messages_sent_total{signalr_transport=\"long_polling\"} 0\n"
    "# HELP hubs_server_received_bytes_total Bytes received by the transports, without framing.\n"
    "# TYPE hubs_server_received_bytes_total counter\n"
    "hubs_server_received_bytes_total{signalr_transport=\"web_sockets\"} 0\n"
    "hubs_server_received_bytes_total{signalr_transport=\"server_sent_events\"} 0\n"
    "hubs_server_received_bytes_total{signalr_transport=\"long_polling\"} 0\n"
    "# HELP hubs_server_sent_bytes_total Bytes sent by the transports, without framing.\n"
    "# TYPE hubs_server_sent_bytes_total counter\n"
    "hubs_server_sent_bytes_total{signalr_transport=\"web_sockets\"} 0\n"
    "hubs_server_sent_bytes_total{signalr_transport=\"server_sent_events\"} 0\n"
    "hubs_server_sent_bytes_total{signalr_transport=\"long_polling\"} 0\n"
    "# HELP hubs_server_invocations_total Hub method invocations received.\n"
    "# TYPE hubs_server_invocations_total counter\n"
    "hubs_server_invocations_total{signalr_transport=\"web_sockets\"} 0\n"
    "hubs_server_invocations_total{signalr_transport=\"server_sent_events\"} 0\n"
    "hubs_server_invocations_total{signalr_transport=\"long_polling\"} 0\n"
    "# HELP hubs_server_invocation_failures_total Hub method invocations answered with an error.\n"
    "# TYPE hubs_server_invocation_failures_total counter\n"
    "hubs_server_invocation_failures_total{signalr_transport=\"web_sockets\"} 0\n"
    "hubs_server_invocation_failures_total{signalr_transport=\"server_sent_events\"} 0\n"
    "hubs_server_invocation_failures_total{signalr_transport=\"long_polling\"} 0\n");
}

/* The lines of @text that start with @prefix, joined */
static char *
lines_with_prefix (const char *text,
                   const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

static void
test_prometheus_values (void)
{
  g_autoptr(HubsMetrics) metrics = hubs_metrics_new ();
  g_autofree char *text = NULL;
  g_autofree char *durations = NULL;
  g_autofree char *sent = NULL;
  guint64 value = 0;

  hubs_metrics_add (metrics, HUBS_TRANSPORT_WEB_SOCKETS, HUBS_METRICS_BYTES_SENT, 1000);
  hubs_metrics_add (metrics, HUBS_TRANSPORT_LONG_POLLING, HUBS_METRICS_BYTES_SENT, 24);
  hubs_metrics_add (metrics, HUBS_TRANSPORT_SERVER_SENT_EVENTS, HUBS_METRICS_BYTES_SENT, G_MAXUINT32 + (guint64) 1);
  /* Nothing is counted without a transport */
  hubs_metrics_add (metrics, HUBS_TRANSPORT_NONE, HUBS_METRICS_BYTES_SENT, 7);

  /* On a bound (buckets are "less than or equal"), between two, past the
   * last; and another status and transport. */
  hubs_metrics_record_duration (metrics, HUBS_TRANSPORT_WEB_SOCKETS, HUBS_METRICS_STATUS_NORMAL_CLOSURE, 0.01);
  hubs_metrics_record_duration (metrics, HUBS_TRANSPORT_WEB_SOCKETS, HUBS_METRICS_STATUS_NORMAL_CLOSURE, 1.5);
  hubs_metrics_record_duration (metrics, HUBS_TRANSPORT_WEB_SOCKETS, HUBS_METRICS_STATUS_NORMAL_CLOSURE, 301);
  hubs_metrics_record_duration (metrics, HUBS_TRANSPORT_LONG_POLLING, HUBS_METRICS_STATUS_TIMEOUT, 20);
  hubs_metrics_record_duration (metrics, HUBS_TRANSPORT_NONE, HUBS_METRICS_STATUS_TIMEOUT, 20);

  text = hubs_metrics_to_prometheus (metrics);
  durations = lines_with_prefix (text, "signalr_server_connection_duration_seconds");
  g_assert_cmpstr (durations, ==,
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"0.01\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"0.02\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"0.05\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"0.1\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"0.2\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"0.5\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"1\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"2\"} 2\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"5\"} 2\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"10\"} 2\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"30\"} 2\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"60\"} 2\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"120\"} 2\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"300\"} 2\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\",le=\"+Inf\"} 3\n"
    "signalr_server_connection_duration_seconds_sum{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\"} 302.51\n"
    "signalr_server_connection_duration_seconds_count{signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\"} 3\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"0.01\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"0.02\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"0.05\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"0.1\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"0.2\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"0.5\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"1\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"2\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"5\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"10\"} 0\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"30\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"60\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"120\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"300\"} 1\n"
    "signalr_server_connection_duration_seconds_bucket{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\",le=\"+Inf\"} 1\n"
    "signalr_server_connection_duration_seconds_sum{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\"} 20\n"
    "signalr_server_connection_duration_seconds_count{signalr_connection_status=\"timeout\",signalr_transport=\"long_polling\"} 1\n");

  sent = lines_with_prefix (text, "hubs_server_sent_bytes_total{");
  g_assert_cmpstr (sent, ==,
    "hubs_server_sent_bytes_total{signalr_transport=\"web_sockets\"} 1000\n"
    "hubs_server_sent_bytes_total{signalr_transport=\"server_sent_events\"} 4294967296\n"
    "hubs_server_sent_bytes_total{signalr_transport=\"long_polling\"} 24\n");

  /* The properties add every transport up; the getter some of them */
  g_object_get (metrics, "bytes-sent", &value, NULL);
  g_assert_cmpuint (value, ==, (guint64) G_MAXUINT32 + 1 + 1024);
  g_assert_cmpuint (hubs_metrics_get_counter (metrics, HUBS_METRICS_BYTES_SENT,
                                              HUBS_TRANSPORT_WEB_SOCKETS | HUBS_TRANSPORT_LONG_POLLING), ==, 1024);
  g_assert_cmpuint (hubs_metrics_get_counter (metrics, HUBS_METRICS_BYTES_RECEIVED, HUBS_TRANSPORT_ALL), ==, 0);
}

/* A known sequence: two clients, three invocations of which one fails, one
 * client leaves. */
static void
run_sequence (Fixture  *f,
              Client  **a_out,
              Client  **b_out)
{
  Client *a = client_open (f);
  Client *b = client_open (f);

  client_call (a, "Echo", "one", "\"result\":\"one\"");
  client_call (a, "Echo", "two", "\"result\":\"two\"");
  client_call (b, "Fail", "boom", "\"error\":\"An unexpected error occurred invoking 'Fail' on the server.\"");

  /* A leaves cleanly: the server answers its Close with one */
  client_send (a, CLOSE);
  client_expect (a, CLOSE);
  WAIT_UNTIL (a->closed);
  WAIT_UNTIL (counter (f, HUBS_METRICS_ACTIVE_CONNECTIONS, HUBS_TRANSPORT_ALL) == 1);

  *a_out = a;
  *b_out = b;
}

static void
test_server_counters (Fixture       *f,
                      gconstpointer  data)
{
  HubsMetrics *metrics = hubs_server_get_metrics (f->server);
  Client *a, *b;
  guint64 active = 99, failures = 99;
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *served = NULL;

  run_sequence (f, &a, &b);

  g_assert_cmpuint (counter (f, HUBS_METRICS_ACTIVE_CONNECTIONS, HUBS_TRANSPORT_WEB_SOCKETS), ==, 1);
  g_assert_cmpuint (counter (f, HUBS_METRICS_CONNECTIONS, HUBS_TRANSPORT_WEB_SOCKETS), ==, 2);
  g_assert_cmpuint (counter (f, HUBS_METRICS_INVOCATIONS, HUBS_TRANSPORT_WEB_SOCKETS), ==, 3);
  g_assert_cmpuint (counter (f, HUBS_METRICS_INVOCATION_FAILURES, HUBS_TRANSPORT_WEB_SOCKETS), ==, 1);
  /* Three invocations and a Close each way, the handshakes aside */
  g_assert_cmpuint (counter (f, HUBS_METRICS_MESSAGES_RECEIVED, HUBS_TRANSPORT_WEB_SOCKETS), ==, 4);
  g_assert_cmpuint (counter (f, HUBS_METRICS_MESSAGES_SENT, HUBS_TRANSPORT_WEB_SOCKETS), ==, 4);
  /* Every byte of every WebSocket message, the handshakes included */
  g_assert_cmpuint (counter (f, HUBS_METRICS_BYTES_RECEIVED, HUBS_TRANSPORT_WEB_SOCKETS), ==,
                    a->bytes_sent + b->bytes_sent);
  g_assert_cmpuint (counter (f, HUBS_METRICS_BYTES_SENT, HUBS_TRANSPORT_WEB_SOCKETS), ==,
                    a->bytes_received + b->bytes_received);
  for (HubsMetricsCounter c = HUBS_METRICS_ACTIVE_CONNECTIONS; c <= HUBS_METRICS_INVOCATION_FAILURES; c++)
    g_assert_cmpuint (counter (f, c, HUBS_TRANSPORT_SERVER_SENT_EVENTS | HUBS_TRANSPORT_LONG_POLLING), ==, 0);

  g_object_get (metrics, "active-connections", &active, "invocation-failures", &failures, NULL);
  g_assert_cmpuint (active, ==, 1);
  g_assert_cmpuint (failures, ==, 1);

  /* The connection that ended: one normal closure, short */
  g_assert_cmpuint (metrics->durations[0][HUBS_METRICS_STATUS_NORMAL_CLOSURE].count, ==, 1);
  g_assert_cmpfloat (metrics->durations[0][HUBS_METRICS_STATUS_NORMAL_CLOSURE].sum, <, WAIT_TIMEOUT_MS / 1000.0);

  /* /metrics serves the same text */
  url = g_strdup_printf ("http://127.0.0.1:%u/metrics", f->port);
  message = soup_message_new (SOUP_METHOD_GET, url);
  soup_session_send_and_read_async (f->session, message, G_PRIORITY_DEFAULT, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  body = soup_session_send_and_read_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_OK);
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (message), "Content-Type"),
                   ==, "text/plain; version=0.0.4; charset=utf-8");
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  served = hubs_metrics_to_prometheus (metrics);
  g_assert_cmpstr (text, ==, served);
  g_assert_nonnull (strstr (text, "\nsignalr_server_active_connections{signalr_transport=\"web_sockets\"} 1\n"));
  g_assert_nonnull (strstr (text, "\nhubs_server_invocation_failures_total{signalr_transport=\"web_sockets\"} 1\n"));
  g_assert_nonnull (strstr (text, "\nsignalr_server_connection_duration_seconds_count{"
                                  "signalr_connection_status=\"normal_closure\",signalr_transport=\"web_sockets\"} 1\n"));

  client_free (a);
  client_free (b);
  WAIT_UNTIL (counter (f, HUBS_METRICS_ACTIVE_CONNECTIONS, HUBS_TRANSPORT_ALL) == 0);
  g_assert_cmpuint (metrics->durations[0][HUBS_METRICS_STATUS_NORMAL_CLOSURE].count, ==, 2);
}

static void
test_metrics_path (Fixture       *f,
                   gconstpointer  data)
{
  const char *paths[] = { "/metrics/more", "/hub/metrics" };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", f->port, paths[i]);
      g_autoptr(SoupMessage) message = soup_message_new (SOUP_METHOD_GET, url);
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GError) error = NULL;

      soup_session_send_and_read_async (f->session, message, G_PRIORITY_DEFAULT, NULL, got_result, &result);
      WAIT_UNTIL (result != NULL);
      body = soup_session_send_and_read_finish (f->session, result, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_NOT_FOUND);
    }

  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/metrics", f->port);
    g_autoptr(SoupMessage) message = soup_message_new (SOUP_METHOD_POST, url);
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GBytes) body = NULL;
    g_autoptr(GError) error = NULL;

    soup_session_send_and_read_async (f->session, message, G_PRIORITY_DEFAULT, NULL, got_result, &result);
    WAIT_UNTIL (result != NULL);
    body = soup_session_send_and_read_finish (f->session, result, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_METHOD_NOT_ALLOWED);
  }
}

/* The log records of the same sequence, and of a protocol error */
static void
test_log_records (Fixture       *f,
                  gconstpointer  data)
{
  Client *a, *b, *c;
  Record *record;
  g_autofree char *expected = NULL;

  records = g_ptr_array_new_with_free_func (record_free);
  capturing = TRUE;

  run_sequence (f, &a, &b);
  client_learn_id (b);

  /* Connect: Debug in ASP.NET Core, with the protocol */
  g_assert_cmpuint (count_records ("HandshakeComplete"), ==, 2);
  record = find_record ("HandshakeComplete", b->connection_id);
  g_assert_cmpint (record->level, ==, G_LOG_LEVEL_DEBUG);
  assert_field (record, "HUB", "TestHub");
  assert_field (record, "TRANSPORT", "WebSockets");
  assert_field (record, "PRIORITY", "7");
  assert_field (record, "MESSAGE", "Completed connection handshake. Using HubProtocol 'json'.");
  g_assert_null (g_hash_table_lookup (record->fields, "METHOD"));

  /* The failure: Error in ASP.NET Core, Info here (see hubs-log-private.h) */
  record = find_record ("FailedInvokingHubMethod", b->connection_id);
  g_assert_cmpint (record->level, ==, G_LOG_LEVEL_INFO);
  assert_field (record, "HUB", "TestHub");
  assert_field (record, "METHOD", "Fail");
  assert_field (record, "TRANSPORT", "WebSockets");
  assert_field (record, "MESSAGE", "Failed to invoke hub method 'Fail': boom");

  /* A's clean end */
  g_assert_cmpuint (count_records ("ConnectionClosed"), ==, 1);
  record = find_record ("ConnectionClosed", NULL);
  g_assert_cmpstr (g_hash_table_lookup (record->fields, "CONNECTION_ID"), !=, b->connection_id);
  assert_field (record, "MESSAGE", "Connection closed: normal closure.");
  assert_field (record, "TRANSPORT", "WebSockets");

  /* A protocol error: C sends what is not JSON */
  c = client_open (f);
  client_learn_id (c);
  client_send (c, "not json\x1e");
  {
    g_autofree char *close = client_next (c);

    g_assert_true (g_str_has_prefix (close, "{\"type\":7,\"error\":\"Connection closed with an error.\""));
  }
  WAIT_UNTIL (c->closed);
  record = find_record ("ErrorProcessingRequest", c->connection_id);
  g_assert_cmpint (record->level, ==, G_LOG_LEVEL_DEBUG);
  assert_field (record, "HUB", "TestHub");
  assert_field (record, "TRANSPORT", "WebSockets");
  g_assert_true (g_str_has_prefix (g_hash_table_lookup (record->fields, "MESSAGE"), "Error when processing requests: "));
  /* … and its end, with the reason */
  record = find_record ("ConnectionClosed", c->connection_id);
  expected = g_strdup_printf ("Connection closed: %s.",
                              (char *) g_hash_table_lookup (find_record ("ErrorProcessingRequest", c->connection_id)->fields,
                                                            "MESSAGE") + strlen ("Error when processing requests: "));
  assert_field (record, "MESSAGE", expected);

  /* No record carries what the clients sent */
  for (guint i = 0; i < records->len; i++)
    {
      const char *message = g_hash_table_lookup (((Record *) records->pdata[i])->fields, "MESSAGE");

      g_assert_null (strstr (message, "one"));
      g_assert_null (strstr (message, "two"));
      g_assert_null (strstr (message, "not json"));
    }

  capturing = FALSE;
  client_free (a);
  client_free (b);
  client_free (c);
  g_clear_pointer (&records, g_ptr_array_unref);
}

/* Nothing is printed by default: run in a subprocess without
 * G_MESSAGES_DEBUG, through GLib's default writer. */
static void
test_log_silent (void)
{
  if (g_test_subprocess ())
    {
      Fixture fixture = { 0 };
      Client *a, *b, *c;

      g_unsetenv ("G_MESSAGES_DEBUG");
      fixture_set_up (&fixture, NULL);
      run_sequence (&fixture, &a, &b);
      c = client_open (&fixture);
      client_send (c, "not json\x1e");
      WAIT_UNTIL (c->closed);
      client_free (a);
      client_free (b);
      client_free (c);
      fixture_tear_down (&fixture, NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("");
}

/* … and the same records are printed with G_MESSAGES_DEBUG=Hubs */
static void
test_log_debug (void)
{
  if (g_test_subprocess ())
    {
      Fixture fixture = { 0 };
      Client *a, *b;

      g_setenv ("G_MESSAGES_DEBUG", "Hubs", TRUE);
      fixture_set_up (&fixture, NULL);
      run_sequence (&fixture, &a, &b);
      client_free (a);
      client_free (b);
      fixture_tear_down (&fixture, NULL);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*Completed connection handshake. Using HubProtocol 'json'.*");
  g_test_trap_assert_stdout ("*Failed to invoke hub method 'Fail': boom*");
  g_test_trap_assert_stdout ("*Connection closed: normal closure.*");
}

int
main (int    argc,
      char **argv)
{
  /* As test-server.c: isolated directories hold no GSettings schemas */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_log_set_writer_func (writer, NULL, NULL);

  g_test_add_func ("/hubs/metrics/prometheus/empty", test_prometheus_empty);
  g_test_add_func ("/hubs/metrics/prometheus/values", test_prometheus_values);
  g_test_add ("/hubs/metrics/server/counters", Fixture, NULL,
              fixture_set_up, test_server_counters, fixture_tear_down);
  g_test_add ("/hubs/metrics/server/path", Fixture, NULL,
              fixture_set_up, test_metrics_path, fixture_tear_down);
  g_test_add ("/hubs/logging/records", Fixture, NULL,
              fixture_set_up, test_log_records, fixture_tear_down);
  g_test_add_func ("/hubs/logging/silent", test_log_silent);
  g_test_add_func ("/hubs/logging/debug", test_log_debug);

  return g_test_run ();
}
