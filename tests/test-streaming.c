/* test-streaming.c: streams both ways, client results and parallel
 * invocations, through the public API, with SoupSession WebSocket clients in
 * the same process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Expectations on the wire are byte for byte those of ASP.NET Core SignalR
 * (the wire checklist, §8 and §10).
 */

#include <string.h>
#include <sys/socket.h>

#include "hubs.h"
#include "hubs-test-util.h"

#define WAIT_TIMEOUT_MS 10000
#define HANDSHAKE "{\"protocol\":\"json\",\"version\":1}\x1e"
#define HANDSHAKE_OK "{}\x1e"

/* What the hub instances (one per call) leave for the test. */
typedef struct
{
  HubsStreamWriter *held;               /* Hold()'s writer */
  gboolean held_cancelled;              /* its cancellable fired */
  HubsStreamReader *taken;              /* Take()'s reader */
  HubsInvocation *taken_invocation;
  GPtrArray *blocked;                   /* Block()'s invocations */
  guint n_blocked_started;
  guint n_flood_written;                /* Flood()'s items queued */
  gboolean flood_ended;
  GError *flood_error;
  gboolean ask_in_on_connected;
  GError *on_connected_error;
  HubsHubContext *hub_context;
} State;

static State state;

static void
state_reset (void)
{
  g_clear_object (&state.held);
  g_clear_object (&state.taken);
  g_clear_object (&state.taken_invocation);
  g_clear_pointer (&state.blocked, g_ptr_array_unref);
  g_clear_error (&state.flood_error);
  g_clear_error (&state.on_connected_error);
  memset (&state, 0, sizeof state);
  state.blocked = g_ptr_array_new_with_free_func (g_object_unref);
}

/* The hub */

#define TEST_TYPE_STREAM_HUB (test_stream_hub_get_type ())
G_DECLARE_FINAL_TYPE (TestStreamHub, test_stream_hub, TEST, STREAM_HUB, HubsHub)

struct _TestStreamHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (TestStreamHub, test_stream_hub, HUBS_TYPE_HUB)

static void
on_connected_ask_done (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  hubs_client_proxy_invoke_finish (HUBS_CLIENT_PROXY (source), result, NULL, &state.on_connected_error);
}

static gboolean
stream_hub_on_connected (HubsHub  *hub,
                         GError  **error)
{
  if (state.ask_in_on_connected)
    {
      g_autoptr(HubsClientProxy) caller = hubs_hub_clients_caller (hubs_hub_get_clients (hub));

      hubs_client_proxy_invoke_async (caller, "Double", 0, NULL, G_TYPE_INT, NULL,
                                      on_connected_ask_done, NULL);
    }
  return TRUE;
}

static gboolean
stream_hub_count (HubsHub          *hub,
                  HubsStreamWriter *writer,
                  gint              n)
{
  for (gint i = 0; i < n; i++)
    {
      g_auto(GValue) item = G_VALUE_INIT;

      g_value_init (&item, G_TYPE_INT);
      g_value_set_int (&item, i);
      g_assert_true (hubs_stream_writer_write (writer, &item));
    }
  hubs_stream_writer_complete (writer);
  return HUBS_INVOCATION_HANDLED;
}

static void
held_cancelled (GCancellable *cancellable,
                gpointer      user_data)
{
  state.held_cancelled = TRUE;
}

static gboolean
stream_hub_hold (HubsHub          *hub,
                 HubsStreamWriter *writer)
{
  g_set_object (&state.held, writer);
  g_signal_connect (hubs_stream_writer_get_cancellable (writer), "cancelled",
                    G_CALLBACK (held_cancelled), NULL);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stream_hub_fail_now (HubsHub          *hub,
                     HubsStreamWriter *writer,
                     const char       *message)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, message);

  hubs_stream_writer_complete_with_error (writer, error);
  return HUBS_INVOCATION_HANDLED;
}

static void flood_next (HubsStreamWriter *writer);

static void
flood_written (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  HubsStreamWriter *writer = HUBS_STREAM_WRITER (source);

  if (!hubs_stream_writer_write_finish (writer, result, &state.flood_error))
    {
      state.flood_ended = TRUE;
      hubs_stream_writer_complete (writer);
      return;
    }
  state.n_flood_written++;
  flood_next (writer);
}

static void
flood_next (HubsStreamWriter *writer)
{
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, G_TYPE_STRING);
  g_value_take_string (&item, g_strnfill (4096, 'x'));
  hubs_stream_writer_write_async (writer, &item, NULL, flood_written, NULL);
}

/* Writes 4 KiB items as fast as the writer lets it, for ever. */
static gboolean
stream_hub_flood (HubsHub          *hub,
                  HubsStreamWriter *writer)
{
  flood_next (writer);
  return HUBS_INVOCATION_HANDLED;
}

typedef struct
{
  HubsInvocation *invocation;
  HubsStreamReader *reader;
  gint64 sum;
} Sum;

static void
sum_read (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Sum *sum = user_data;
  g_autoptr(GError) error = NULL;
  GValue *item = hubs_stream_reader_read_finish (sum->reader, result, &error);

  if (item != NULL)
    {
      g_assert_true (G_VALUE_HOLDS_INT (item));
      sum->sum += g_value_get_int (item);
      g_boxed_free (G_TYPE_VALUE, item);
      hubs_stream_reader_read_async (sum->reader, NULL, sum_read, sum);
      return;
    }
  if (error != NULL)
    hubs_invocation_return_gerror (sum->invocation, error);
  else
    hubs_invocation_return_int (sum->invocation, sum->sum);
  g_object_unref (sum->invocation);
  g_object_unref (sum->reader);
  g_free (sum);
}

static gboolean
stream_hub_sum (HubsHub          *hub,
                HubsInvocation   *invocation,
                HubsStreamReader *reader)
{
  Sum *sum = g_new0 (Sum, 1);

  g_assert_cmpuint (hubs_stream_reader_get_item_type (reader), ==, G_TYPE_INT);
  sum->invocation = g_object_ref (invocation);
  sum->reader = g_object_ref (reader);
  hubs_stream_reader_read_async (reader, NULL, sum_read, sum);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stream_hub_take (HubsHub          *hub,
                 HubsInvocation   *invocation,
                 HubsStreamReader *reader)
{
  g_set_object (&state.taken, reader);
  g_set_object (&state.taken_invocation, invocation);
  return HUBS_INVOCATION_HANDLED;
}

static void
ask_done (GObject      *source,
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
stream_hub_ask (HubsHub        *hub,
                HubsInvocation *invocation,
                gint            x)
{
  g_autoptr(HubsClientProxy) caller = hubs_hub_clients_caller (hubs_hub_get_clients (hub));
  g_auto(GValue) arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_INT);
  g_value_set_int (&arg, x);
  hubs_client_proxy_invoke_async (caller, "Double", 1, &arg, G_TYPE_INT, NULL,
                                  ask_done, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stream_hub_block (HubsHub        *hub,
                  HubsInvocation *invocation)
{
  state.n_blocked_started++;
  g_ptr_array_add (state.blocked, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stream_hub_echo (HubsHub        *hub,
                 HubsInvocation *invocation,
                 const char     *text)
{
  hubs_invocation_return_string (invocation, text);
  return HUBS_INVOCATION_HANDLED;
}

static void
test_stream_hub_class_init (TestStreamHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hub_class->on_connected = stream_hub_on_connected;

  hubs_hub_class_add_streaming_method (hub_class, "count", G_CALLBACK (stream_hub_count),
                                       G_TYPE_INT, 1, G_TYPE_INT);
  hubs_hub_class_add_streaming_method (hub_class, "hold", G_CALLBACK (stream_hub_hold),
                                       G_TYPE_INT, 0);
  hubs_hub_class_add_streaming_method (hub_class, "fail-now", G_CALLBACK (stream_hub_fail_now),
                                       G_TYPE_INT, 1, G_TYPE_STRING);
  hubs_hub_class_add_streaming_method (hub_class, "flood", G_CALLBACK (stream_hub_flood),
                                       G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "sum", G_CALLBACK (stream_hub_sum),
                             G_TYPE_INT64, 1, HUBS_TYPE_STREAM_READER);
  hubs_hub_class_set_upload_item_type (hub_class, "sum", 0, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "take", G_CALLBACK (stream_hub_take),
                             G_TYPE_NONE, 1, HUBS_TYPE_STREAM_READER);
  hubs_hub_class_set_upload_item_type (hub_class, "take", 0, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "ask", G_CALLBACK (stream_hub_ask),
                             G_TYPE_INT, 1, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "block", G_CALLBACK (stream_hub_block),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (stream_hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
}

static void
test_stream_hub_init (TestStreamHub *self)
{
}

/* The fixture: a server with the hub on /hub (and with two invocations at
 * once on /parallel), and WebSocket clients */

typedef struct
{
  HubsServer *server;
  guint port;
  SoupSession *session;
  GPtrArray *clients;
} Fixture;

typedef struct
{
  SoupWebsocketConnection *ws;
  GQueue messages;
  gboolean closed;
  char *connection_id;
  guint next_id;
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
  g_free (c->connection_id);
  g_free (c);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsHubOptions) parallel = hubs_hub_options_new ();

  state_reset ();

  f->server = hubs_server_new ();
  state.hub_context = hubs_server_map_hub (f->server, "/hub", TEST_TYPE_STREAM_HUB, NULL);
  g_assert_cmpuint (hubs_hub_options_get_maximum_parallel_invocations (parallel), ==, 1);
  hubs_hub_options_set_maximum_parallel_invocations (parallel, 2);
  hubs_server_map_hub (f->server, "/parallel", TEST_TYPE_STREAM_HUB, parallel);
  hubs_server_listen_local (f->server, 0, &error);
  g_assert_no_error (error);
  f->port = hubs_server_get_port (f->server);

  f->session = soup_session_new ();
  f->clients = g_ptr_array_new_with_free_func (client_free);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  /* Whatever the test left unfinished ends with the connections. */
  for (guint i = 0; i < state.blocked->len; i++)
    if (!hubs_invocation_is_completed (state.blocked->pdata[i]))
      hubs_invocation_return_void (state.blocked->pdata[i]);
  if (state.taken_invocation != NULL && !hubs_invocation_is_completed (state.taken_invocation))
    hubs_invocation_return_void (state.taken_invocation);

  g_clear_pointer (&f->clients, g_ptr_array_unref);
  g_clear_object (&f->session);
  spin (20);
  if (state.held != NULL && !hubs_stream_writer_is_completed (state.held))
    hubs_stream_writer_complete (state.held);
  g_clear_object (&f->server);
  spin (20);
  state_reset ();
  g_clear_pointer (&state.blocked, g_ptr_array_unref);
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

  g_queue_push_tail (&c->messages, g_strndup (data ? data : "", size));
}

static void
client_closed (SoupWebsocketConnection *ws,
               gpointer                 user_data)
{
  ((Client *) user_data)->closed = TRUE;
}

static void
client_send (Client     *c,
             const char *text)
{
  soup_websocket_connection_send_text (c->ws, text);
}

static char *
client_next (Client *c)
{
  WAIT_UNTIL (!g_queue_is_empty (&c->messages) || c->closed);
  if (g_queue_is_empty (&c->messages))
    g_error ("closed while a message was expected");
  return g_queue_pop_head (&c->messages);
}

/* The next message that is not a ping. */
static void
client_expect (Client     *c,
               const char *expected)
{
  g_autofree char *text = NULL;

  do
    {
      g_free (text);
      text = client_next (c);
    }
  while (g_str_equal (text, "{\"type\":6}\x1e"));
  g_assert_cmpstr (text, ==, expected);
}

static void
client_expect_nothing (Client *c)
{
  spin (100);
  while (!g_queue_is_empty (&c->messages))
    {
      g_autofree char *text = g_queue_pop_head (&c->messages);

      if (!g_str_equal (text, "{\"type\":6}\x1e"))
        g_error ("unexpected message: %s", text);
    }
}

static Client *
client_open (Fixture    *f,
             const char *path)
{
  Client *c = g_new0 (Client, 1);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s/negotiate?negotiateVersion=1", f->port, path);
  g_autofree char *ws_url = NULL;
  g_autoptr(SoupMessage) negotiate = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr(SoupMessage) upgrade = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *text = NULL;
  const char *token;

  g_queue_init (&c->messages);
  g_ptr_array_add (f->clients, c);

  soup_session_send_and_read_async (f->session, negotiate, G_PRIORITY_DEFAULT, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  body = soup_session_send_and_read_finish (f->session, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  /* Just enough JSON: "connectionId":"…", then "connectionToken":"…". */
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  c->connection_id = g_strndup (strstr (text, "\"connectionId\":\"") + 16, 22);
  token = strstr (text, "\"connectionToken\":\"") + 19;
  ws_url = g_strdup_printf ("ws://127.0.0.1:%u%s?id=%.22s", f->port, path, token);

  upgrade = soup_message_new (SOUP_METHOD_GET, ws_url);
  soup_session_websocket_connect_async (f->session, upgrade, NULL, NULL, G_PRIORITY_DEFAULT,
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

/* Server streams */

static void
test_stream_items (Fixture       *f,
                   gconstpointer  data)
{
  Client *c = client_open (f, "/hub");

  client_send (c, "{\"type\":4,\"invocationId\":\"1\",\"target\":\"Count\",\"arguments\":[3]}\x1e");
  client_expect (c, "{\"type\":2,\"invocationId\":\"1\",\"item\":0}\x1e");
  client_expect (c, "{\"type\":2,\"invocationId\":\"1\",\"item\":1}\x1e");
  client_expect (c, "{\"type\":2,\"invocationId\":\"1\",\"item\":2}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"1\"}\x1e");

  /* An empty stream is a Completion alone. */
  client_send (c, "{\"type\":4,\"invocationId\":\"2\",\"target\":\"count\",\"arguments\":[0]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"2\"}\x1e");
}

static void
write_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GError **error = user_data;

  g_assert_false (hubs_stream_writer_write_finish (HUBS_STREAM_WRITER (source), result, error));
}

static void
test_stream_cancel (Fixture       *f,
                    gconstpointer  data)
{
  Client *c = client_open (f, "/hub");
  g_auto(GValue) item = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  client_send (c, "{\"type\":4,\"invocationId\":\"7\",\"target\":\"Hold\",\"arguments\":[]}\x1e");
  WAIT_UNTIL (state.held != NULL);
  g_assert_cmpstr (hubs_stream_writer_get_invocation_id (state.held), ==, "7");
  g_assert_true (TEST_IS_STREAM_HUB (hubs_stream_writer_get_hub (state.held)));
  g_assert_cmpstr (hubs_caller_context_get_connection_id (hubs_stream_writer_get_context (state.held)),
                   ==, c->connection_id);

  /* A stream does not hold up the connection's invocations. */
  client_send (c, "{\"type\":1,\"invocationId\":\"8\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"8\",\"result\":\"x\"}\x1e");

  g_value_init (&item, G_TYPE_INT);
  g_value_set_int (&item, 5);
  g_assert_true (hubs_stream_writer_write (state.held, &item));
  client_expect (c, "{\"type\":2,\"invocationId\":\"7\",\"item\":5}\x1e");

  /* An unknown id is ignored; the stream's own id ends it without error
   * at once, whatever the method does next. */
  client_send (c, "{\"type\":5,\"invocationId\":\"99\"}\x1e");
  client_send (c, "{\"type\":5,\"invocationId\":\"7\"}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"7\"}\x1e");
  g_assert_true (state.held_cancelled);
  g_assert_true (g_cancellable_is_cancelled (hubs_stream_writer_get_cancellable (state.held)));

  g_assert_false (hubs_stream_writer_write (state.held, &item));
  hubs_stream_writer_write_async (state.held, &item, NULL, write_done, &error);
  WAIT_UNTIL (error != NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_assert_false (hubs_stream_writer_is_completed (state.held));
  hubs_stream_writer_complete (state.held);
  g_assert_true (hubs_stream_writer_is_completed (state.held));
  client_expect_nothing (c);
}

static void
test_stream_disconnect (Fixture       *f,
                        gconstpointer  data)
{
  Client *c = client_open (f, "/hub");

  client_send (c, "{\"type\":4,\"invocationId\":\"1\",\"target\":\"Hold\",\"arguments\":[]}\x1e");
  WAIT_UNTIL (state.held != NULL);
  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  WAIT_UNTIL (state.held_cancelled && c->closed);
  hubs_stream_writer_complete (state.held);
}

static void
test_stream_errors (Fixture       *f,
                    gconstpointer  data)
{
  Client *c = client_open (f, "/hub");
  g_autoptr(GError) late = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "hidden");
  g_autoptr(GError) late_hub = g_error_new_literal (HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED, "shown");

  client_send (c, "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Count\",\"arguments\":[1]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"1\",\"error\":\"The client attempted to invoke the streaming 'Count' method with a non-streaming invocation.\"}\x1e");
  client_send (c, "{\"type\":4,\"invocationId\":\"2\",\"target\":\"Echo\",\"arguments\":[\"a\"]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"2\",\"error\":\"The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.\"}\x1e");

  /* Failing before the handler returns is failing to invoke. */
  client_send (c, "{\"type\":4,\"invocationId\":\"3\",\"target\":\"FailNow\",\"arguments\":[\"m\"]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"3\",\"error\":\"An unexpected error occurred invoking 'FailNow' on the server.\"}\x1e");

  /* Later it is an error while streaming, with a hub error's text only. */
  client_send (c, "{\"type\":4,\"invocationId\":\"4\",\"target\":\"Hold\",\"arguments\":[]}\x1e");
  WAIT_UNTIL (state.held != NULL);
  client_send (c, "{\"type\":4,\"invocationId\":\"4\",\"target\":\"Count\",\"arguments\":[1]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"4\",\"error\":\"Invocation ID '4' is already in use.\"}\x1e");
  hubs_stream_writer_complete_with_error (state.held, late);
  client_expect (c, "{\"type\":3,\"invocationId\":\"4\",\"error\":\"An error occurred on the server while streaming results.\"}\x1e");
  g_clear_object (&state.held);

  client_send (c, "{\"type\":4,\"invocationId\":\"5\",\"target\":\"Hold\",\"arguments\":[]}\x1e");
  WAIT_UNTIL (state.held != NULL);
  hubs_stream_writer_complete_with_error (state.held, late_hub);
  client_expect (c, "{\"type\":3,\"invocationId\":\"5\",\"error\":\"An error occurred on the server while streaming results. HubException: shown\"}\x1e");

  /* The id is free again once its stream has ended. */
  client_send (c, "{\"type\":4,\"invocationId\":\"4\",\"target\":\"Count\",\"arguments\":[0]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"4\"}\x1e");
}

/* A client that reads nothing: a raw socket with a small receive buffer,
 * which sends the upgrade, the handshake and a StreamInvocation, then never
 * reads again. */
static GSocketConnection *
stalled_client_open (Fixture    *f,
                     const char *first_message)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) request = g_string_new (NULL);
  GSocketConnection *connection;
  const char *messages[] = { HANDSHAKE, first_message };
  GOutputStream *out;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", f->port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_option (g_socket_connection_get_socket (connection), SOL_SOCKET, SO_RCVBUF, 4096, &error);
  g_assert_no_error (error);

  g_string_append_printf (request,
                          "GET /hub HTTP/1.1\r\n"
                          "Host: 127.0.0.1:%u\r\n"
                          "Upgrade: websocket\r\n"
                          "Connection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n", f->port);
  /* Masked text frames, with a zero mask so that the payload reads as is. */
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      gsize length = strlen (messages[i]);

      g_assert_cmpuint (length, <, 126);
      g_string_append_c (request, (char) 0x81);
      g_string_append_c (request, (char) (0x80 | length));
      g_string_append_len (request, "\0\0\0\0", 4);
      g_string_append_len (request, messages[i], length);
    }

  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_output_stream_write_all (out, request->str, request->len, NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static void
test_stream_slow_reader (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSocketConnection) stalled = NULL;
  guint plateau;

  stalled = stalled_client_open (f, "{\"type\":4,\"invocationId\":\"1\",\"target\":\"Flood\",\"arguments\":[]}\x1e");

  /* The producer runs until the kernel's buffers and the connection's queue
   * are full, then waits for a client that never reads. */
  WAIT_UNTIL (state.n_flood_written > 0);
  spin (500);
  plateau = state.n_flood_written;
  spin (500);
  g_assert_cmpuint (state.n_flood_written, ==, plateau);
  g_assert_false (state.flood_ended);
  /* Bounded by the socket buffers plus 64 KiB: a few MiB of 4 KiB items at
   * most, not the 250,000 a second it would write unchecked. */
  g_assert_cmpuint (plateau, <, 4000);
  g_test_message ("%u items of 4 KiB queued before the producer waited", plateau);

  /* The waiting write fails once the client has gone. */
  g_io_stream_close (G_IO_STREAM (stalled), NULL, NULL);
  WAIT_UNTIL (state.flood_ended);
  g_assert_error (state.flood_error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

/* Upload streams */

static void
test_upload_sum (Fixture       *f,
                 gconstpointer  data)
{
  Client *c = client_open (f, "/hub");

  client_send (c, "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Sum\",\"arguments\":[],\"streamIds\":[\"2\"]}\x1e");
  client_send (c, "{\"type\":2,\"invocationId\":\"2\",\"item\":1}\x1e");
  client_send (c, "{\"type\":2,\"invocationId\":\"2\",\"item\":20}\x1e");
  /* An unknown stream's items and completion are ignored. */
  client_send (c, "{\"type\":2,\"invocationId\":\"9\",\"item\":1000}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"9\"}\x1e");
  client_send (c, "{\"type\":2,\"invocationId\":\"2\",\"item\":300}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"2\"}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"1\",\"result\":321}\x1e");

  /* The client's error is the method's hub error. */
  client_send (c, "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Sum\",\"arguments\":[],\"streamIds\":[\"4\"]}\x1e");
  client_send (c, "{\"type\":2,\"invocationId\":\"4\",\"item\":1}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"4\",\"error\":\"Error: bad\"}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"3\",\"error\":\"An unexpected error occurred invoking 'Sum' on the server. HubException: Error: bad\"}\x1e");

  /* Stream counts must match. */
  client_send (c, "{\"type\":1,\"invocationId\":\"5\",\"target\":\"Sum\",\"arguments\":[]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"5\",\"error\":\"An unexpected error occurred invoking 'Sum' on the server. HubException: Client sent 0 stream(s), Hub method expects 1.\"}\x1e");
  client_send (c, "{\"type\":1,\"invocationId\":\"6\",\"target\":\"Echo\",\"arguments\":[\"a\"],\"streamIds\":[\"7\"]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"6\",\"error\":\"An unexpected error occurred invoking 'Echo' on the server. HubException: Client sent 1 stream(s), Hub method expects 0.\"}\x1e");
}

static void
read_one (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GValue **item = user_data;
  g_autoptr(GError) error = NULL;

  *item = hubs_stream_reader_read_finish (HUBS_STREAM_READER (source), result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*item);
}

static void
test_upload_backpressure (Fixture       *f,
                          gconstpointer  data)
{
  Client *c = client_open (f, "/hub");

  client_send (c, "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Take\",\"arguments\":[],\"streamIds\":[\"s\"]}\x1e");
  WAIT_UNTIL (state.taken != NULL);
  g_assert_cmpstr (hubs_stream_reader_get_stream_id (state.taken), ==, "s");

  /* Ten items fill the stream; the eleventh holds the connection's reading
   * back, so the Echo behind it waits for the method to read. */
  for (int i = 0; i < 11; i++)
    {
      g_autofree char *item = g_strdup_printf ("{\"type\":2,\"invocationId\":\"s\",\"item\":%d}\x1e", i);

      client_send (c, item);
    }
  client_send (c, "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Echo\",\"arguments\":[\"late\"]}\x1e");
  client_expect_nothing (c);

  for (int i = 0; i < 11; i++)
    {
      GValue *item = NULL;

      hubs_stream_reader_read_async (state.taken, NULL, read_one, &item);
      WAIT_UNTIL (item != NULL);
      g_assert_cmpint (g_value_get_int (item), ==, i);
      g_boxed_free (G_TYPE_VALUE, item);
      if (i == 0)
        client_expect (c, "{\"type\":3,\"invocationId\":\"2\",\"result\":\"late\"}\x1e");
    }

  /* The method's end closes the stream: later items go nowhere. */
  hubs_invocation_return_void (state.taken_invocation);
  client_expect (c, "{\"type\":3,\"invocationId\":\"1\",\"result\":null}\x1e");
  client_send (c, "{\"type\":2,\"invocationId\":\"s\",\"item\":11}\x1e");
  client_send (c, "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Echo\",\"arguments\":[\"on\"]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"3\",\"result\":\"on\"}\x1e");
}

/* Client results */

static void
test_client_result (Fixture       *f,
                    gconstpointer  data)
{
  Client *c = client_open (f, "/hub");

  /* One invocation at a time, and yet the client's answer gets through. */
  client_send (c, "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Ask\",\"arguments\":[21]}\x1e");
  client_expect (c, "{\"type\":1,\"invocationId\":\"s1\",\"target\":\"Double\",\"arguments\":[21]}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"s1\",\"result\":42}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"1\",\"result\":42}\x1e");

  client_send (c, "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Ask\",\"arguments\":[1]}\x1e");
  client_expect (c, "{\"type\":1,\"invocationId\":\"s2\",\"target\":\"Double\",\"arguments\":[1]}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"s2\",\"error\":\"Client didn't provide a result.\"}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"2\",\"error\":\"An unexpected error occurred invoking 'Ask' on the server. HubException: Client didn't provide a result.\"}\x1e");

  /* While one waits for its client, the next invocation runs. */
  client_send (c, "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Ask\",\"arguments\":[5]}\x1e");
  client_expect (c, "{\"type\":1,\"invocationId\":\"s3\",\"target\":\"Double\",\"arguments\":[5]}\x1e");
  client_send (c, "{\"type\":1,\"invocationId\":\"4\",\"target\":\"Echo\",\"arguments\":[\"meanwhile\"]}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"4\",\"result\":\"meanwhile\"}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"s3\",\"result\":10}\x1e");
  client_expect (c, "{\"type\":3,\"invocationId\":\"3\",\"result\":10}\x1e");
}

static void
invoke_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GError **error = user_data;
  g_auto(GValue) value = G_VALUE_INIT;

  if (hubs_client_proxy_invoke_finish (HUBS_CLIENT_PROXY (source), result, &value, error))
    {
      g_assert_true (G_VALUE_HOLDS_VARIANT (&value));
      g_assert_cmpstr (g_variant_get_string (g_value_get_variant (&value), NULL), ==, "any");
      *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "(a value)");
    }
}

static void
test_client_result_context (Fixture       *f,
                            gconstpointer  data)
{
  Client *c = client_open (f, "/hub");
  HubsHubClients *clients = hubs_hub_context_get_clients (state.hub_context);
  g_autoptr(HubsClientProxy) proxy = hubs_hub_clients_client (clients, c->connection_id);
  g_autoptr(HubsClientProxy) nobody = hubs_hub_clients_client (clients, "nobody");
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (clients);
  g_autoptr(GError) error = NULL;
  g_autofree char *disconnected = NULL;

  /* From outside any hub, with any value for a result. */
  hubs_client_proxy_invoke_async (proxy, "Get", 0, NULL, G_TYPE_INVALID, NULL, invoke_done, &error);
  client_expect (c, "{\"type\":1,\"invocationId\":\"s1\",\"target\":\"Get\",\"arguments\":[]}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"s1\",\"result\":\"any\"}\x1e");
  WAIT_UNTIL (error != NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  hubs_client_proxy_invoke_async (nobody, "Get", 0, NULL, G_TYPE_INT, NULL, invoke_done, &error);
  WAIT_UNTIL (error != NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "Connection 'nobody' does not exist.");
  g_clear_error (&error);

  hubs_client_proxy_invoke_async (all, "Get", 0, NULL, G_TYPE_INT, NULL, invoke_done, &error);
  WAIT_UNTIL (error != NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  /* A result that does not bind. */
  hubs_client_proxy_invoke_async (proxy, "Get", 0, NULL, G_TYPE_INT, NULL, invoke_done, &error);
  client_expect (c, "{\"type\":1,\"invocationId\":\"s2\",\"target\":\"Get\",\"arguments\":[]}\x1e");
  client_send (c, "{\"type\":3,\"invocationId\":\"s2\",\"result\":\"text\"}\x1e");
  WAIT_UNTIL (error != NULL);
  /* A HubException, as ClientResultsManager's: the hub's caller sees it
   * even without detailed errors. */
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Error trying to deserialize result to Int32. "));
  g_clear_error (&error);

  /* The client leaves before it answers. */
  hubs_client_proxy_invoke_async (proxy, "Get", 0, NULL, G_TYPE_INT, NULL, invoke_done, &error);
  client_expect (c, "{\"type\":1,\"invocationId\":\"s3\",\"target\":\"Get\",\"arguments\":[]}\x1e");
  soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  WAIT_UNTIL (error != NULL && c->closed);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  disconnected = g_strdup_printf ("Connection '%s' disconnected.", c->connection_id);
  g_assert_cmpstr (error->message, ==, disconnected);
}

static void
test_client_result_on_connected (Fixture       *f,
                                 gconstpointer  data)
{
  state.ask_in_on_connected = TRUE;
  client_open (f, "/hub");
  WAIT_UNTIL (state.on_connected_error != NULL);
  g_assert_cmpstr (state.on_connected_error->message, ==,
                   "Client results inside OnConnectedAsync Hub methods are not allowed.");
}

/* Parallel invocations */

static void
test_parallel (Fixture       *f,
               gconstpointer  data)
{
  Client *serial = client_open (f, "/hub");
  Client *parallel = client_open (f, "/parallel");

  /* One at a time by default: the second waits for the first. */
  client_send (serial, "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Block\",\"arguments\":[]}\x1e");
  client_send (serial, "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Block\",\"arguments\":[]}\x1e");
  WAIT_UNTIL (state.n_blocked_started == 1);
  spin (100);
  g_assert_cmpuint (state.n_blocked_started, ==, 1);
  /* What follows a waiting invocation waits with it, as ASP.NET Core's
   * reader does; then a stream runs beside the running one. */
  client_send (serial, "{\"type\":4,\"invocationId\":\"3\",\"target\":\"Count\",\"arguments\":[1]}\x1e");
  client_expect_nothing (serial);
  hubs_invocation_return_void (state.blocked->pdata[0]);
  client_expect (serial, "{\"type\":3,\"invocationId\":\"1\",\"result\":null}\x1e");
  WAIT_UNTIL (state.n_blocked_started == 2);
  client_expect (serial, "{\"type\":2,\"invocationId\":\"3\",\"item\":0}\x1e");
  client_expect (serial, "{\"type\":3,\"invocationId\":\"3\"}\x1e");
  hubs_invocation_return_void (state.blocked->pdata[1]);
  client_expect (serial, "{\"type\":3,\"invocationId\":\"2\",\"result\":null}\x1e");

  /* Two at once where the option says so; the third waits. */
  client_send (parallel, "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Block\",\"arguments\":[]}\x1e");
  client_send (parallel, "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Block\",\"arguments\":[]}\x1e");
  client_send (parallel, "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Block\",\"arguments\":[]}\x1e");
  WAIT_UNTIL (state.n_blocked_started == 4);
  spin (100);
  g_assert_cmpuint (state.n_blocked_started, ==, 4);
  hubs_invocation_return_void (state.blocked->pdata[3]);
  client_expect (parallel, "{\"type\":3,\"invocationId\":\"2\",\"result\":null}\x1e");
  WAIT_UNTIL (state.n_blocked_started == 5);
  hubs_invocation_return_void (state.blocked->pdata[2]);
  hubs_invocation_return_void (state.blocked->pdata[4]);
  client_expect (parallel, "{\"type\":3,\"invocationId\":\"1\",\"result\":null}\x1e");
  client_expect (parallel, "{\"type\":3,\"invocationId\":\"3\",\"result\":null}\x1e");
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/hubs/streaming/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("stream/items", test_stream_items);
  ADD ("stream/cancel", test_stream_cancel);
  ADD ("stream/disconnect", test_stream_disconnect);
  ADD ("stream/errors", test_stream_errors);
  ADD ("stream/slow-reader", test_stream_slow_reader);
  ADD ("upload/sum", test_upload_sum);
  ADD ("upload/backpressure", test_upload_backpressure);
  ADD ("client-result/caller", test_client_result);
  ADD ("client-result/hub-context", test_client_result_context);
  ADD ("client-result/on-connected", test_client_result_on_connected);
  ADD ("parallel", test_parallel);

  return g_test_run ();
}
