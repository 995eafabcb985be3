/* test-client.c: HubsConnection, the SignalR client, against our own server
 * in the same process and against a scripted SoupServer for what a real
 * server will not do on demand (redirects, version 0, handshake errors,
 * Close with allowReconnect)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <string.h>

#include "hubs.h"
#include "hubs-test-util.h"

#define WAIT_TIMEOUT_MS 10000

/* What the hub saw; hub instances live for one call only. */
typedef struct
{
  char *recorded;
  gboolean held_cancelled;
  HubsStreamWriter *held;
  guint n_connected;
  guint n_disconnected;
  char *last_token;
} State;

static State state;

static void
state_reset (void)
{
  g_clear_pointer (&state.recorded, g_free);
  g_clear_object (&state.held);
  g_clear_pointer (&state.last_token, g_free);
  memset (&state, 0, sizeof state);
}

/* The hub */

#define TEST_TYPE_CLIENT_HUB (test_client_hub_get_type ())
G_DECLARE_FINAL_TYPE (TestClientHub, test_client_hub, TEST, CLIENT_HUB, HubsHub)

struct _TestClientHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (TestClientHub, test_client_hub, HUBS_TYPE_HUB)

static gboolean
client_hub_on_connected (HubsHub  *hub,
                         GError  **error)
{
  state.n_connected++;
  return TRUE;
}

static void
client_hub_on_disconnected (HubsHub      *hub,
                            const GError *error)
{
  state.n_disconnected++;
}

static gboolean
client_hub_echo (HubsHub        *hub,
                 HubsInvocation *invocation,
                 const char     *text)
{
  hubs_invocation_return_string (invocation, text);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_add (HubsHub        *hub,
                HubsInvocation *invocation,
                int             a,
                int             b)
{
  hubs_invocation_return_int (invocation, (gint64) a + b);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_nothing (HubsHub        *hub,
                    HubsInvocation *invocation)
{
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_fail (HubsHub        *hub,
                 HubsInvocation *invocation,
                 const char     *text)
{
  hubs_invocation_return_error_literal (invocation, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED, text);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_record (HubsHub        *hub,
                   HubsInvocation *invocation,
                   const char     *text)
{
  g_free (state.recorded);
  state.recorded = g_strdup (text);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_broadcast (HubsHub        *hub,
                      HubsInvocation *invocation,
                      const char     *text,
                      int             number)
{
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_get_clients (hub));

  hubs_client_proxy_send (all, "Broadcast", G_TYPE_STRING, text, G_TYPE_INT, number, G_TYPE_INVALID);
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static void
asked (GObject      *source,
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

/* Asks the caller's Double(x) and returns its answer: a client result. */
static gboolean
client_hub_ask (HubsHub        *hub,
                HubsInvocation *invocation,
                int             x)
{
  g_autoptr(HubsClientProxy) caller = hubs_hub_clients_caller (hubs_hub_get_clients (hub));
  g_auto(GValue) arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_INT);
  g_value_set_int (&arg, x);
  hubs_client_proxy_invoke_async (caller, "Double", 1, &arg, G_TYPE_INT, NULL,
                                  asked, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_count (HubsHub          *hub,
                  HubsStreamWriter *writer,
                  int               n)
{
  for (int i = 0; i < n; i++)
    {
      g_auto(GValue) item = G_VALUE_INIT;

      g_value_init (&item, G_TYPE_INT);
      g_value_set_int (&item, i * 10);
      hubs_stream_writer_write (writer, &item);
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
client_hub_hold (HubsHub          *hub,
                 HubsStreamWriter *writer)
{
  g_set_object (&state.held, writer);
  g_signal_connect (hubs_stream_writer_get_cancellable (writer), "cancelled",
                    G_CALLBACK (held_cancelled), NULL);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_abort (HubsHub        *hub,
                  HubsInvocation *invocation)
{
  hubs_caller_context_abort (hubs_hub_get_context (hub));
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
client_hub_user_id (HubsHub        *hub,
                    HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation,
                                 hubs_caller_context_get_user_identifier (hubs_hub_get_context (hub)));
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
      sum->sum += g_value_get_int (item);
      g_value_unset (item);
      g_free (item);
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

/* The sum of an upload stream of integers, plus a first argument. */
static gboolean
client_hub_sum (HubsHub          *hub,
                HubsInvocation   *invocation,
                int               start,
                HubsStreamReader *reader)
{
  Sum *sum = g_new0 (Sum, 1);

  sum->invocation = g_object_ref (invocation);
  sum->reader = g_object_ref (reader);
  sum->sum = start;
  hubs_stream_reader_read_async (reader, NULL, sum_read, sum);
  return HUBS_INVOCATION_HANDLED;
}

static void
test_client_hub_class_init (TestClientHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hub_class->on_connected = client_hub_on_connected;
  hub_class->on_disconnected = client_hub_on_disconnected;

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (client_hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "add", G_CALLBACK (client_hub_add),
                             G_TYPE_INT64, 2, G_TYPE_INT, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "nothing", G_CALLBACK (client_hub_nothing),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "fail", G_CALLBACK (client_hub_fail),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "record", G_CALLBACK (client_hub_record),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "broadcast", G_CALLBACK (client_hub_broadcast),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "ask", G_CALLBACK (client_hub_ask),
                             G_TYPE_INT, 1, G_TYPE_INT);
  hubs_hub_class_add_streaming_method (hub_class, "count", G_CALLBACK (client_hub_count),
                                       G_TYPE_INT, 1, G_TYPE_INT);
  hubs_hub_class_add_streaming_method (hub_class, "hold", G_CALLBACK (client_hub_hold),
                                       G_TYPE_INT, 0);
  hubs_hub_class_add_method (hub_class, "abort", G_CALLBACK (client_hub_abort),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "user-id", G_CALLBACK (client_hub_user_id),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "sum", G_CALLBACK (client_hub_sum),
                             G_TYPE_INT64, 2, G_TYPE_INT, HUBS_TYPE_STREAM_READER);
  hubs_hub_class_set_upload_item_type (hub_class, "sum", 1, G_TYPE_INT);
}

static void
test_client_hub_init (TestClientHub *self)
{
}

/* The scripted server: negotiate answers from a list, a WebSocket that
 * answers the handshake as told and then sends what it is told. */

typedef struct
{
  SoupServer *server;
  guint port;
  GPtrArray *negotiate_bodies;  /* consumed in order; the last one repeats */
  guint n_negotiates;
  GPtrArray *authorizations;    /* the Authorization header of each negotiate */
  char *last_query;             /* of the last WebSocket request */
  char *handshake_reply;
  char *after_handshake;        /* sent once the handshake is answered */
  char *received;               /* everything the client sent, appended */
  GPtrArray *websockets;
} Scripted;

/* The fixture */

typedef struct
{
  HubsServer *server;
  guint port;
  Scripted fake;
  GPtrArray *closed;            /* GError or NULL, per emission */
  GPtrArray *reconnecting;
  GPtrArray *reconnected;       /* connection ids */
} Fixture;

static void
error_free_nullable (gpointer data)
{
  if (data != NULL)
    g_error_free (data);
}

static HubsUser *
authenticate (HubsServer       *server,
              HubsHttpContext  *request,
              const char       *access_token,
              GError          **error,
              gpointer          user_data)
{
  HubsUser *user;

  g_free (state.last_token);
  state.last_token = g_strdup (access_token);
  if (access_token == NULL || !g_str_has_prefix (access_token, "user:"))
    return NULL;

  user = hubs_user_new ("Bearer");
  hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER, access_token + strlen ("user:"));
  return user;
}

static void
fake_negotiate (SoupServer        *server,
                SoupServerMessage *message,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  Scripted *fake = user_data;
  const char *body;
  const char *authorization;

  authorization = soup_message_headers_get_one (soup_server_message_get_request_headers (message),
                                                "Authorization");
  g_ptr_array_add (fake->authorizations, g_strdup (authorization != NULL ? authorization : ""));
  if (fake->negotiate_bodies->len == 0)
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  body = fake->negotiate_bodies->pdata[MIN (fake->n_negotiates, fake->negotiate_bodies->len - 1)];
  fake->n_negotiates++;
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
}

static void
fake_message (SoupWebsocketConnection *websocket,
              int                      type,
              GBytes                  *data,
              gpointer                 user_data)
{
  Scripted *fake = user_data;
  gsize length;
  const char *text = g_bytes_get_data (data, &length);
  gboolean first = fake->received == NULL || strchr (fake->received, 0x1e) == NULL;
  g_autofree char *old = fake->received;

  fake->received = g_strdup_printf ("%s%.*s", old != NULL ? old : "", (int) length, text);
  if (first && fake->handshake_reply != NULL)
    {
      soup_websocket_connection_send_text (websocket, fake->handshake_reply);
      if (fake->after_handshake != NULL)
        soup_websocket_connection_send_text (websocket, fake->after_handshake);
    }
}

static void
fake_websocket (SoupServer              *server,
                SoupServerMessage       *message,
                const char              *path,
                SoupWebsocketConnection *websocket,
                gpointer                 user_data)
{
  Scripted *fake = user_data;

  g_free (fake->last_query);
  fake->last_query = g_strdup (g_uri_get_query (soup_server_message_get_uri (message)));
  g_clear_pointer (&fake->received, g_free);
  g_ptr_array_add (fake->websockets, g_object_ref (websocket));
  g_signal_connect (websocket, "message", G_CALLBACK (fake_message), fake);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsHubOptions) quiet = hubs_hub_options_new ();
  g_autoptr(HubsHubOptions) secure = hubs_hub_options_new ();
  g_autoptr(HubsHubOptions) long_polling = hubs_hub_options_new ();
  g_autoptr(HubsHubOptions) stateful = hubs_hub_options_new ();
  GSList *uris;

  state_reset ();

  f->server = hubs_server_new ();
  hubs_server_map_hub (f->server, "/hub", TEST_TYPE_CLIENT_HUB, NULL);
  /* A server that pings rarely, for the client's server timeout. */
  hubs_hub_options_set_keep_alive_interval (quiet, 60000);
  hubs_server_map_hub (f->server, "/quiet", TEST_TYPE_CLIENT_HUB, quiet);
  hubs_hub_options_set_require_authentication (secure, TRUE);
  hubs_server_map_hub (f->server, "/secure", TEST_TYPE_CLIENT_HUB, secure);
  hubs_hub_options_set_allow_stateful_reconnects (stateful, TRUE);
  hubs_server_map_hub (f->server, "/stateful", TEST_TYPE_CLIENT_HUB, stateful);
  hubs_hub_options_set_transports (long_polling, HUBS_TRANSPORT_LONG_POLLING);
  hubs_server_map_hub (f->server, "/lp", TEST_TYPE_CLIENT_HUB, long_polling);
  hubs_server_set_authentication_handler (f->server, authenticate, NULL, NULL);
  hubs_server_listen_local (f->server, 0, &error);
  g_assert_no_error (error);
  f->port = hubs_server_get_port (f->server);

  f->fake.server = soup_server_new (NULL, NULL);
  f->fake.negotiate_bodies = g_ptr_array_new_with_free_func (g_free);
  f->fake.authorizations = g_ptr_array_new_with_free_func (g_free);
  f->fake.websockets = g_ptr_array_new_with_free_func (g_object_unref);
  soup_server_add_handler (f->fake.server, "/fake/negotiate", fake_negotiate, &f->fake, NULL);
  /* Negotiates, but carries no transport. */
  soup_server_add_handler (f->fake.server, "/none/negotiate", fake_negotiate, &f->fake, NULL);
  soup_server_add_websocket_handler (f->fake.server, "/fake", NULL, NULL, fake_websocket, &f->fake, NULL);
  soup_server_listen_local (f->fake.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->fake.server);
  f->fake.port = g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  f->closed = g_ptr_array_new_with_free_func (error_free_nullable);
  f->reconnecting = g_ptr_array_new_with_free_func (error_free_nullable);
  f->reconnected = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->server);
  g_clear_pointer (&f->fake.websockets, g_ptr_array_unref);
  soup_server_disconnect (f->fake.server);
  g_clear_object (&f->fake.server);
  g_clear_pointer (&f->fake.negotiate_bodies, g_ptr_array_unref);
  g_clear_pointer (&f->fake.authorizations, g_ptr_array_unref);
  g_clear_pointer (&f->fake.last_query, g_free);
  g_clear_pointer (&f->fake.handshake_reply, g_free);
  g_clear_pointer (&f->fake.after_handshake, g_free);
  g_clear_pointer (&f->fake.received, g_free);
  spin (20);
  g_clear_pointer (&f->closed, g_ptr_array_unref);
  g_clear_pointer (&f->reconnecting, g_ptr_array_unref);
  g_clear_pointer (&f->reconnected, g_ptr_array_unref);
  state_reset ();
}

static void
on_closed (HubsConnection *connection,
           const GError   *error,
           Fixture        *f)
{
  g_ptr_array_add (f->closed, error != NULL ? g_error_copy (error) : NULL);
}

static void
on_reconnecting (HubsConnection *connection,
                 const GError   *error,
                 Fixture        *f)
{
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_RECONNECTING);
  g_ptr_array_add (f->reconnecting, error != NULL ? g_error_copy (error) : NULL);
}

static void
on_reconnected (HubsConnection *connection,
                const char     *connection_id,
                Fixture        *f)
{
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTED);
  g_ptr_array_add (f->reconnected, g_strdup (connection_id));
}

static HubsConnection *
watch (Fixture        *f,
       HubsConnection *connection)
{
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), f);
  g_signal_connect (connection, "reconnecting", G_CALLBACK (on_reconnecting), f);
  g_signal_connect (connection, "reconnected", G_CALLBACK (on_reconnected), f);
  return connection;
}

static char *
url_for (Fixture    *f,
         const char *path)
{
  gboolean scripted = g_str_has_prefix (path, "/fake") || g_str_has_prefix (path, "/none");

  return g_strdup_printf ("http://127.0.0.1:%u%s", scripted ? f->fake.port : f->port, path);
}

static HubsConnection *
new_connection (Fixture    *f,
                const char *path)
{
  g_autofree char *url = url_for (f, path);

  return watch (f, hubs_connection_new (url));
}

static gboolean
start (HubsConnection  *connection,
       GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  hubs_connection_start_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  return hubs_connection_start_finish (connection, result, error);
}

static void
stop (HubsConnection *connection)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  hubs_connection_stop_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_stop_finish (connection, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
}

static gboolean
invoke (HubsConnection  *connection,
        const char      *method,
        guint            n_args,
        const GValue    *args,
        GType            result_type,
        GValue          *value,
        GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  hubs_connection_invoke_async (connection, method, n_args, args, result_type, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  return hubs_connection_invoke_finish (connection, result, value, error);
}

static void
string_value (GValue     *value,
              const char *text)
{
  g_value_init (value, G_TYPE_STRING);
  g_value_set_string (value, text);
}

static void
int_value (GValue *value,
           int     number)
{
  g_value_init (value, G_TYPE_INT);
  g_value_set_int (value, number);
}

/* Start, invoke, stop: over each transport and protocol */

typedef struct
{
  const char *protocol;
  HubsTransportType transport;
} Param;

static HubsConnection *
new_param_connection (Fixture       *f,
                      const char    *path,
                      gconstpointer  data)
{
  const Param *param = data;
  g_autofree char *url = url_for (f, path);

  return watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "protocol", param->protocol,
                                 "transports", param->transport, NULL));
}

static void
test_start_stop (Fixture       *f,
                 gconstpointer  data)
{
  const Param *param = data;
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;

  connection = new_param_connection (f, "/hub", data);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpstr (hubs_connection_get_protocol (connection), ==, param->protocol);
  g_assert_null (hubs_connection_get_connection_id (connection));

  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTED);
  g_assert_cmpint (hubs_connection_get_transport (connection), ==, param->transport);
  g_assert_cmpuint (strlen (hubs_connection_get_connection_id (connection)), ==, 22);
  WAIT_UNTIL (state.n_connected == 1);

  /* A second start is refused, as the reference refuses it. */
  g_assert_false (start (connection, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "Cannot start a HubConnection that is not in the 'Disconnected' state.");
  g_clear_error (&error);

  string_value (&arg, "héllo");
  g_assert_true (invoke (connection, "Echo", 1, &arg, G_TYPE_STRING, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "héllo");

  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 1);
  g_assert_null (f->closed->pdata[0]);
  g_assert_cmpuint (f->reconnecting->len, ==, 0);
  WAIT_UNTIL (state.n_disconnected == 1);

  /* Stopping again, and invoking when stopped. */
  g_assert_cmpuint (f->closed->len, ==, 1);
  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 1);
  g_value_unset (&value);
  g_assert_false (invoke (connection, "Echo", 1, &arg, G_TYPE_STRING, &value, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED);
  g_assert_cmpstr (error->message, ==, "Cannot send data if the connection is not in the 'Connected' State.");
  g_clear_error (&error);

  /* And it starts again. */
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_true (invoke (connection, "Echo", 1, &arg, G_TYPE_INVALID, &value, &error));
  g_assert_true (G_VALUE_HOLDS_VARIANT (&value));
  g_assert_cmpstr (g_variant_get_string (g_value_get_variant (&value), NULL), ==, "héllo");
  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 2);
}

static void
test_invoke (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_auto(GValue) value = G_VALUE_INIT;

  connection = new_param_connection (f, "/hub", data);
  g_assert_true (start (connection, &error));

  int_value (&args[0], 40);
  int_value (&args[1], 2);
  g_assert_true (invoke (connection, "add", 2, args, G_TYPE_INT64, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int64 (&value), ==, 42);
  g_value_unset (&value);

  /* Any value, as a variant. */
  g_assert_true (invoke (connection, "Add", 2, args, G_TYPE_INVALID, &value, &error));
  g_assert_true (g_variant_is_of_type (g_value_get_variant (&value), G_VARIANT_TYPE_INT64));
  g_assert_cmpint (g_variant_get_int64 (g_value_get_variant (&value)), ==, 42);
  g_value_unset (&value);

  /* A void method's result is null. */
  g_assert_true (invoke (connection, "Nothing", 0, NULL, G_TYPE_INVALID, &value, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_VARIANT (&value));
  g_assert_null (g_value_get_variant (&value));
  g_value_unset (&value);

  /* A result that does not fit the type asked for. */
  g_assert_false (invoke (connection, "add", 2, args, G_TYPE_STRING, &value, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
  g_clear_error (&error);

  /* The server's errors */
  g_value_unset (&args[0]);
  string_value (&args[0], "boom");
  g_assert_false (invoke (connection, "Fail", 1, args, G_TYPE_INVALID, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "An unexpected error occurred invoking 'Fail' on the server. HubException: boom");
  g_clear_error (&error);

  g_assert_false (invoke (connection, "Missing", 0, NULL, G_TYPE_INVALID, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "Failed to invoke 'Missing' due to an error on the server. HubException: Method does not exist.");
  g_clear_error (&error);

  /* send: the server answers nothing, the method runs. */
  {
    g_autoptr(GAsyncResult) result = NULL;

    string_value (&value, "sent");
    hubs_connection_send_async (connection, "Record", 1, &value, NULL, got_result, &result);
    WAIT_UNTIL (result != NULL);
    g_assert_true (hubs_connection_send_finish (connection, result, &error));
    g_assert_no_error (error);
    WAIT_UNTIL (state.recorded != NULL);
    g_assert_cmpstr (state.recorded, ==, "sent");
    g_value_unset (&value);
  }

  stop (connection);
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
}

static void
test_invoke_cancel (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *ws_url = g_strdup_printf ("ws://127.0.0.1:%u/hub", f->port);
  /* A ws:// URL names the same hub. */
  g_autoptr(HubsConnection) connection = watch (f, hubs_connection_new (ws_url));
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;

  g_assert_true (start (connection, &error));
  string_value (&arg, "x");
  hubs_connection_invoke_async (connection, "Echo", 1, &arg, G_TYPE_STRING, cancellable, got_result, &result);
  g_cancellable_cancel (cancellable);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_connection_invoke_finish (connection, result, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* The late completion is dropped; the connection goes on. */
  g_clear_object (&result);
  hubs_connection_invoke_async (connection, "Echo", 1, &arg, G_TYPE_STRING, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_invoke_finish (connection, result, NULL, &error));
  g_assert_no_error (error);
  stop (connection);
}

/* Client methods */

typedef struct
{
  guint n_calls;
  char *text;
  int number;
  gboolean answer;              /* return Double(x) */
  gboolean answer_later;
  gboolean answer_error;
  HubsClientInvocation *later;
} Handled;

static gboolean
on_broadcast_typed (HubsConnection       *connection,
                    HubsClientInvocation *invocation,
                    gpointer              user_data)
{
  Handled *handled = user_data;

  g_assert_cmpstr (hubs_client_invocation_get_method_name (invocation), ==, "Broadcast");
  g_assert_false (hubs_client_invocation_expects_result (invocation));
  g_assert_null (hubs_client_invocation_get_invocation_id (invocation));
  g_assert_cmpuint (hubs_client_invocation_get_n_arguments (invocation), ==, 2);
  handled->n_calls++;
  g_free (handled->text);
  handled->text = g_value_dup_string (hubs_client_invocation_get_argument (invocation, 0));
  handled->number = g_value_get_int (hubs_client_invocation_get_argument (invocation, 1));
  return HUBS_INVOCATION_UNHANDLED;
}

static gboolean
on_broadcast_any (HubsConnection       *connection,
                  HubsClientInvocation *invocation,
                  gpointer              user_data)
{
  Handled *handled = user_data;
  guint n_args = 0;
  const GValue *args = hubs_client_invocation_get_arguments (invocation, &n_args);

  g_assert_cmpuint (n_args, ==, 2);
  g_assert_true (G_VALUE_HOLDS_VARIANT (&args[0]));
  handled->n_calls++;
  g_free (handled->text);
  handled->text = g_variant_dup_string (g_value_get_variant (&args[0]), NULL);
  handled->number = (int) g_variant_get_int64 (g_value_get_variant (&args[1]));
  return HUBS_INVOCATION_UNHANDLED;
}

static void
test_on (Fixture       *f,
         gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_param_connection (f, "/hub", data);
  g_autoptr(HubsConnection) other = new_param_connection (f, "/hub", data);
  g_autoptr(GError) error = NULL;
  GType types[] = { G_TYPE_STRING, G_TYPE_INT };
  Handled typed = { 0, }, any = { 0, }, on_other = { 0, };
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  guint typed_id, any_id;

  typed_id = hubs_connection_on (connection, "broadcast", G_N_ELEMENTS (types), types,
                                 on_broadcast_typed, &typed, NULL);
  any_id = hubs_connection_on (connection, "BROADCAST", 0, NULL, on_broadcast_any, &any, NULL);
  g_assert_cmpuint (typed_id, !=, any_id);
  hubs_connection_on (other, "Broadcast", 0, NULL, on_broadcast_any, &on_other, NULL);
  g_assert_true (start (connection, &error));
  g_assert_true (start (other, &error));

  string_value (&args[0], "to all");
  int_value (&args[1], 7);
  g_assert_true (invoke (connection, "Broadcast", 2, args, G_TYPE_INVALID, NULL, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (typed.n_calls == 1 && any.n_calls == 1 && on_other.n_calls == 1);
  g_assert_cmpstr (typed.text, ==, "to all");
  g_assert_cmpint (typed.number, ==, 7);
  g_assert_cmpstr (any.text, ==, "to all");
  g_assert_cmpint (any.number, ==, 7);

  hubs_connection_off (connection, typed_id);
  g_assert_true (invoke (connection, "Broadcast", 2, args, G_TYPE_INVALID, NULL, &error));
  WAIT_UNTIL (any.n_calls == 2 && on_other.n_calls == 2);
  g_assert_cmpuint (typed.n_calls, ==, 1);
  hubs_connection_off (connection, any_id);

  stop (connection);
  stop (other);
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
  g_free (typed.text);
  g_free (any.text);
  g_free (on_other.text);
}

static gboolean
on_double (HubsConnection       *connection,
           HubsClientInvocation *invocation,
           gpointer              user_data)
{
  Handled *handled = user_data;
  g_auto(GValue) result = G_VALUE_INIT;

  handled->n_calls++;
  g_assert_true (hubs_client_invocation_expects_result (invocation));
  g_assert_nonnull (hubs_client_invocation_get_invocation_id (invocation));
  if (handled->answer_error)
    {
      hubs_client_invocation_return_error_literal (invocation, "Error: from callback");
      return HUBS_INVOCATION_HANDLED;
    }
  if (handled->answer_later)
    {
      g_set_object (&handled->later, invocation);
      return HUBS_INVOCATION_HANDLED;
    }
  if (!handled->answer)
    return HUBS_INVOCATION_UNHANDLED;

  g_value_init (&result, G_TYPE_INT);
  g_value_set_int (&result, 2 * g_value_get_int (hubs_client_invocation_get_argument (invocation, 0)));
  hubs_client_invocation_return_value (invocation, &result);
  return HUBS_INVOCATION_HANDLED;
}

static void
test_client_results (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  GType types[] = { G_TYPE_INT };
  Handled handled = { .answer = TRUE };
  g_auto(GValue) arg = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;
  guint id;

  connection = new_param_connection (f, "/hub", data);
  g_assert_true (start (connection, &error));
  int_value (&arg, 21);

  /* No handler: the reference's answer. */
  g_assert_false (invoke (connection, "Ask", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_true (g_str_has_suffix (error->message, "Client didn't provide a result."));
  g_clear_error (&error);

  id = hubs_connection_on (connection, "double", 1, types, on_double, &handled, NULL);
  g_assert_true (invoke (connection, "Ask", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_value_unset (&value);

  /* A handler that gives nothing */
  handled.answer = FALSE;
  g_assert_false (invoke (connection, "Ask", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_true (g_str_has_suffix (error->message, "Client didn't provide a result."));
  g_clear_error (&error);

  /* An error */
  handled.answer_error = TRUE;
  g_assert_false (invoke (connection, "Ask", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_true (g_str_has_suffix (error->message, "Error: from callback"));
  g_clear_error (&error);

  /* Later */
  handled.answer_error = FALSE;
  handled.answer_later = TRUE;
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_auto(GValue) answer = G_VALUE_INIT;

    hubs_connection_invoke_async (connection, "Ask", 1, &arg, G_TYPE_INT, NULL, got_result, &result);
    WAIT_UNTIL (handled.later != NULL);
    spin (20);
    g_assert_null (result);
    int_value (&answer, 5);
    hubs_client_invocation_return_value (handled.later, &answer);
    g_clear_object (&handled.later);
    WAIT_UNTIL (result != NULL);
    g_assert_true (hubs_connection_invoke_finish (connection, result, &value, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_value_get_int (&value), ==, 5);
  }

  hubs_connection_off (connection, id);
  stop (connection);
}

/* Streams */

typedef struct
{
  GArray *items;
  gboolean completed;
  GError *error;
} Streamed;

static void
on_item (HubsClientStream *stream,
         const GValue     *item,
         Streamed         *streamed)
{
  int number = G_VALUE_HOLDS_INT (item) ? g_value_get_int (item) :
               (int) g_variant_get_int64 (g_value_get_variant (item));

  g_array_append_val (streamed->items, number);
}

static void
on_completed (HubsClientStream *stream,
              const GError     *error,
              Streamed         *streamed)
{
  g_assert_false (streamed->completed);
  streamed->completed = TRUE;
  streamed->error = error != NULL ? g_error_copy (error) : NULL;
}

static void
test_stream (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(HubsClientStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  Streamed streamed = { g_array_new (FALSE, FALSE, sizeof (int)), };
  g_auto(GValue) arg = G_VALUE_INIT;

  connection = new_param_connection (f, "/hub", data);
  g_assert_true (start (connection, &error));

  int_value (&arg, 4);
  stream = hubs_connection_stream (connection, "Count", 1, &arg, G_TYPE_INT);
  g_signal_connect (stream, "item", G_CALLBACK (on_item), &streamed);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  WAIT_UNTIL (streamed.completed);
  g_assert_no_error (streamed.error);
  g_assert_cmpuint (streamed.items->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (g_array_index (streamed.items, int, i), ==, (int) i * 10);
  g_assert_true (hubs_client_stream_is_completed (stream));

  /* As variants */
  g_clear_object (&stream);
  g_array_set_size (streamed.items, 0);
  streamed.completed = FALSE;
  stream = hubs_connection_stream (connection, "Count", 1, &arg, G_TYPE_INVALID);
  g_signal_connect (stream, "item", G_CALLBACK (on_item), &streamed);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  WAIT_UNTIL (streamed.completed);
  g_assert_cmpuint (streamed.items->len, ==, 4);
  g_assert_cmpint (g_array_index (streamed.items, int, 3), ==, 30);

  /* Pulled instead, while nobody listens to "item". */
  g_clear_object (&stream);
  stream = hubs_connection_stream (connection, "Count", 1, &arg, G_TYPE_INT);
  for (int expected = 0; ; expected += 10)
    {
      g_autoptr(GAsyncResult) result = NULL;
      GValue *item;

      hubs_client_stream_read_async (stream, NULL, got_result, &result);
      WAIT_UNTIL (result != NULL);
      item = hubs_client_stream_read_finish (stream, result, &error);
      g_assert_no_error (error);
      if (item == NULL)
        {
          g_assert_cmpint (expected, ==, 40);
          break;
        }
      g_assert_cmpint (g_value_get_int (item), ==, expected);
      g_value_unset (item);
      g_free (item);
    }
  g_assert_true (hubs_client_stream_is_completed (stream));

  /* A read that waits, cancelled; the next one gets the item. */
  g_clear_object (&stream);
  g_clear_object (&state.held);
  stream = hubs_connection_stream (connection, "Hold", 0, NULL, G_TYPE_INT);
  WAIT_UNTIL (state.held != NULL);
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GAsyncResult) second = NULL;
    g_auto(GValue) seven = G_VALUE_INIT;
    GValue *item;

    hubs_client_stream_read_async (stream, cancellable, got_result, &result);
    g_cancellable_cancel (cancellable);
    WAIT_UNTIL (result != NULL);
    g_assert_null (hubs_client_stream_read_finish (stream, result, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);

    hubs_client_stream_read_async (stream, NULL, got_result, &second);
    int_value (&seven, 7);
    hubs_stream_writer_write (state.held, &seven);
    error = g_error_new_literal (HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED, "stop");
    hubs_stream_writer_complete_with_error (state.held, error);
    g_clear_error (&error);
    WAIT_UNTIL (second != NULL);
    item = hubs_client_stream_read_finish (stream, second, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_value_get_int (item), ==, 7);
    g_value_unset (item);
    g_free (item);

    /* Then the stream's error. */
    g_clear_object (&second);
    hubs_client_stream_read_async (stream, NULL, got_result, &second);
    WAIT_UNTIL (second != NULL);
    g_assert_null (hubs_client_stream_read_finish (stream, second, &error));
    g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
    g_clear_error (&error);
  }
  g_clear_object (&state.held);

  /* Cancelled: the server's stream is cancelled too. */
  g_clear_object (&stream);
  streamed.completed = FALSE;
  stream = hubs_connection_stream (connection, "Hold", 0, NULL, G_TYPE_INT);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  WAIT_UNTIL (state.held != NULL);
  hubs_client_stream_cancel (stream);
  g_assert_true (streamed.completed);
  g_assert_error (streamed.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&streamed.error);
  WAIT_UNTIL (state.held_cancelled);
  hubs_stream_writer_complete (state.held);

  /* A stream still running when the connection stops fails. */
  g_clear_object (&stream);
  g_clear_object (&state.held);
  streamed.completed = FALSE;
  stream = hubs_connection_stream (connection, "Hold", 0, NULL, G_TYPE_INT);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  WAIT_UNTIL (state.held != NULL);
  stop (connection);
  g_assert_true (streamed.completed);
  g_assert_error (streamed.error, HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED);
  hubs_stream_writer_complete (state.held);
  g_clear_error (&streamed.error);

  /* And a stream asked of a stopped connection. */
  g_clear_object (&stream);
  streamed.completed = FALSE;
  stream = hubs_connection_stream (connection, "Count", 1, &arg, G_TYPE_INT);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  WAIT_UNTIL (streamed.completed);
  g_assert_error (streamed.error, HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED);
  g_clear_error (&streamed.error);

  g_array_unref (streamed.items);
}

/* Upload streams */

static void
upload_value (GValue           *value,
              HubsClientUpload *upload)
{
  g_value_init (value, HUBS_TYPE_CLIENT_UPLOAD);
  g_value_set_object (value, upload);
}

static void
test_upload (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_param_connection (f, "/hub", data);
  g_autoptr(HubsClientUpload) upload = hubs_client_upload_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_auto(GValue) item = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (start (connection, &error));
  int_value (&item, 1);
  /* An item written before the invocation waits for it. */
  hubs_client_upload_write (upload, &item);
  g_assert_null (hubs_client_upload_get_stream_id (upload));

  int_value (&args[0], 100);
  upload_value (&args[1], upload);
  hubs_connection_invoke_async (connection, "Sum", 2, args, G_TYPE_INT64, NULL, got_result, &result);
  /* The upload's id comes before the invocation's. */
  g_assert_cmpstr (hubs_client_upload_get_stream_id (upload), ==, "0");
  g_value_set_int (&item, 2);
  hubs_client_upload_write (upload, &item);
  g_value_set_int (&item, 3);
  hubs_client_upload_write (upload, &item);
  spin (20);
  g_assert_null (result);
  hubs_client_upload_complete (upload);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_invoke_finish (connection, result, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int64 (&value), ==, 106);
  g_value_unset (&value);

  /* An upload goes with one invocation only. */
  g_clear_object (&result);
  hubs_connection_invoke_async (connection, "Sum", 2, args, G_TYPE_INT64, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_connection_invoke_finish (connection, result, NULL, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_FAILED);
  g_clear_error (&error);

  /* Failed by the client: the hub method fails with the text. */
  g_clear_object (&result);
  g_clear_object (&upload);
  upload = hubs_client_upload_new ();
  g_value_set_object (&args[1], upload);
  hubs_connection_invoke_async (connection, "Sum", 2, args, G_TYPE_INT64, NULL, got_result, &result);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "no more numbers");
  hubs_client_upload_complete_with_error (upload, error);
  g_clear_error (&error);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_connection_invoke_finish (connection, result, NULL, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "no more numbers"));

  stop (connection);
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
}

/* Access tokens */

static char *
give_token (HubsConnection *connection,
            gpointer        user_data)
{
  guint *n_asked = user_data;

  (*n_asked)++;
  return g_strdup ("user:alice");
}

static void
test_access_token (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_connection (f, "/secure");
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  guint n_asked = 0;

  /* Without a token the negotiate is refused. */
  g_assert_false (start (connection, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_UNAUTHORIZED);
  g_assert_cmpstr (error->message, ==, "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'");
  g_clear_error (&error);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
  g_assert_cmpuint (f->closed->len, ==, 0);

  hubs_connection_set_access_token_func (connection, give_token, &n_asked, NULL);
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_asked, ==, 1);
  g_assert_true (invoke (connection, "UserId", 0, NULL, G_TYPE_STRING, &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, "alice");
  stop (connection);
}

typedef struct
{
  HubsAccessTokenRequest *pending;
  guint n_asked;
} TokenRequests;

static void
request_token (HubsConnection         *connection,
               HubsAccessTokenRequest *request,
               gpointer                user_data)
{
  TokenRequests *requests = user_data;

  requests->n_asked++;
  g_set_object (&requests->pending, request);
}

static void
test_access_token_request (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_connection (f, "/secure");
  g_autoptr(GAsyncResult) started = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  TokenRequests requests = { NULL, };

  hubs_connection_set_access_token_request_func (connection, request_token, &requests, NULL);

  /* The start waits for the answer. */
  hubs_connection_start_async (connection, NULL, got_result, &started);
  WAIT_UNTIL (requests.pending != NULL);
  spin (20);
  g_assert_null (started);
  g_assert_cmpuint (state.n_connected, ==, 0);
  hubs_access_token_request_return_token (requests.pending, "user:bob");
  g_clear_object (&requests.pending);
  WAIT_UNTIL (started != NULL);
  g_assert_true (hubs_connection_start_finish (connection, started, &error));
  g_assert_no_error (error);
  g_assert_true (invoke (connection, "UserId", 0, NULL, G_TYPE_STRING, &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, "bob");
  stop (connection);

  /* An error fails the start with it. */
  g_clear_object (&started);
  hubs_connection_start_async (connection, NULL, got_result, &started);
  WAIT_UNTIL (requests.pending != NULL);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "No token today");
  hubs_access_token_request_return_error (requests.pending, error);
  g_clear_error (&error);
  g_clear_object (&requests.pending);
  WAIT_UNTIL (started != NULL);
  g_assert_false (hubs_connection_start_finish (connection, started, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  /* Stopped while waiting: the request is cancelled, a late answer ignored. */
  g_clear_object (&started);
  hubs_connection_start_async (connection, NULL, got_result, &started);
  WAIT_UNTIL (requests.pending != NULL);
  stop (connection);
  WAIT_UNTIL (started != NULL);
  g_assert_false (hubs_connection_start_finish (connection, started, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_cancellable_is_cancelled (hubs_access_token_request_get_cancellable (requests.pending)));
  hubs_access_token_request_return_token (requests.pending, "user:late");
  g_clear_object (&requests.pending);
  g_assert_cmpuint (requests.n_asked, ==, 3);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
}

/* Losing the connection */

static void
test_server_close (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_param_connection (f, "/hub", data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  /* A Close without allowReconnect: closed, no reconnect. */
  hubs_connection_set_reconnect_policy (connection, NULL, NULL, NULL);
  g_assert_true (start (connection, &error));
  hubs_connection_invoke_async (connection, "Abort", 0, NULL, G_TYPE_INVALID, NULL, got_result, &result);
  WAIT_UNTIL (f->closed->len == 1);
  g_assert_null (f->closed->pdata[0]);
  g_assert_cmpuint (f->reconnecting->len, ==, 0);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
  WAIT_UNTIL (result != NULL);
}

static gint64
retry_at_once (HubsConnection *connection,
               guint           previous_retry_count,
               gint64          elapsed_ms,
               const GError   *retry_reason,
               gpointer        user_data)
{
  guint *n_asked = user_data;

  g_assert_nonnull (retry_reason);
  (*n_asked)++;
  return previous_retry_count < 2 ? 10 : -1;
}

static void
test_server_timeout_reconnect (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/quiet");
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first_id = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  guint n_asked = 0;

  connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "server-timeout", 1000, NULL));
  g_assert_cmpuint (f->closed->len, ==, 0);
  hubs_connection_set_reconnect_policy (connection, retry_at_once, &n_asked, NULL);
  g_assert_true (start (connection, &error));
  first_id = g_strdup (hubs_connection_get_connection_id (connection));

  WAIT_UNTIL (f->reconnected->len == 1);
  g_assert_cmpuint (f->reconnecting->len, ==, 1);
  g_assert_error ((GError *) f->reconnecting->pdata[0], HUBS_ERROR, HUBS_ERROR_TIMED_OUT);
  g_assert_cmpstr (((GError *) f->reconnecting->pdata[0])->message, ==,
                   "Server timeout elapsed without receiving a message from the server.");
  g_assert_cmpstr (f->reconnected->pdata[0], ==, hubs_connection_get_connection_id (connection));
  g_assert_cmpstr (first_id, !=, hubs_connection_get_connection_id (connection));
  g_assert_cmpuint (n_asked, ==, 1);

  string_value (&arg, "again");
  g_assert_true (invoke (connection, "Echo", 1, &arg, G_TYPE_STRING, NULL, &error));
  g_assert_no_error (error);
  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 1);
}

static void
test_server_gone (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_connection (f, "/hub");
  g_autoptr(GError) error = NULL;
  guint n_asked = 0;

  /* The policy gives up after two failed attempts: closed. */
  hubs_connection_set_reconnect_policy (connection, retry_at_once, &n_asked, NULL);
  g_assert_true (start (connection, &error));
  g_clear_object (&f->server);
  WAIT_UNTIL (f->closed->len == 1);
  g_assert_cmpuint (f->reconnecting->len, ==, 1);
  g_assert_cmpuint (f->reconnected->len, ==, 0);
  g_assert_cmpuint (n_asked, ==, 3);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
}

static void
test_stop_while_starting (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_connection (f, "/hub");
  g_autoptr(GAsyncResult) started = NULL;
  g_autoptr(GError) error = NULL;

  hubs_connection_start_async (connection, NULL, got_result, &started);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTING);
  stop (connection);
  WAIT_UNTIL (started != NULL);
  g_assert_false (hubs_connection_start_finish (connection, started, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->closed->len, ==, 0);
  g_clear_error (&error);
  g_clear_object (&started);

  /* Cancelled */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    hubs_connection_start_async (connection, cancellable, got_result, &started);
    g_cancellable_cancel (cancellable);
    WAIT_UNTIL (started != NULL);
    g_assert_false (hubs_connection_start_finish (connection, started, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
    g_clear_error (&error);
    g_clear_object (&started);

    /* A cancellable cancelled after the start changes nothing. */
    g_assert_true (start (connection, &error));
    g_assert_no_error (error);
  }
  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 1);
}

/* Against the scripted server */

#define NEGOTIATE_V1(id, token) \
  "{\"negotiateVersion\":1,\"connectionId\":\"" id "\",\"connectionToken\":\"" token "\"," \
  "\"availableTransports\":[{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\",\"Binary\"]}]}"

static void
test_negotiate_redirect (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *redirect = NULL;
  g_autofree char *url = url_for (f, "/fake");
  guint n_asked = 0;

  redirect = g_strdup_printf ("{\"url\":\"%s?hop=2\",\"accessToken\":\"redirected\"}", url);
  g_ptr_array_add (f->fake.negotiate_bodies, g_steal_pointer (&redirect));
  g_ptr_array_add (f->fake.negotiate_bodies, g_strdup (NEGOTIATE_V1 ("the-id", "the-token")));
  f->fake.handshake_reply = g_strdup ("{}\x1e");

  connection = watch (f, hubs_connection_new (url));
  hubs_connection_set_access_token_func (connection, give_token, &n_asked, NULL);
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->fake.n_negotiates, ==, 2);
  g_assert_cmpstr (f->fake.authorizations->pdata[0], ==, "Bearer user:alice");
  g_assert_cmpstr (f->fake.authorizations->pdata[1], ==, "Bearer redirected");
  g_assert_cmpstr (f->fake.last_query, ==, "hop=2&id=the-token");
  g_assert_cmpstr (hubs_connection_get_connection_id (connection), ==, "the-id");
  /* The handshake, then a ping. */
  WAIT_UNTIL (f->fake.received != NULL && strstr (f->fake.received, "{\"type\":6}") != NULL);
  g_assert_true (g_str_has_prefix (f->fake.received, "{\"protocol\":\"json\",\"version\":1}\x1e"));
  stop (connection);
  g_assert_nonnull (strstr (f->fake.received, "{\"type\":7}\x1e"));
}

static void
test_negotiate_v0 (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_connection (f, "/fake");
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (f->fake.negotiate_bodies,
                   g_strdup ("{\"connectionId\":\"old-id\",\"availableTransports\":"
                             "[{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\"]}],\"extra\":1}"));
  f->fake.handshake_reply = g_strdup ("{}\x1e");
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (f->fake.last_query, ==, "id=old-id");
  stop (connection);
}

typedef struct
{
  const char *negotiate;
  const char *handshake;
  const char *protocol;
  HubsTransportType transports;
  GQuark domain;
  int code;
  const char *message;
} BadStart;

static const BadStart bad_starts[] = {
  { "{\"error\":\"Nope.\"}", NULL, "json", HUBS_TRANSPORT_ALL, 0, HUBS_ERROR_FAILED, "Nope." },
  { "{\"ProtocolVersion\":\"1.5\"}", NULL, "json", HUBS_TRANSPORT_ALL, 0, HUBS_ERROR_FAILED,
    "Detected a connection attempt to an ASP.NET SignalR Server. This client only supports connecting to an "
    "ASP.NET Core SignalR Server. See https://aka.ms/signalr-core-differences for details." },
  { "{\"negotiateVersion\":1,\"useStatefulReconnect\":true}", NULL, "json", HUBS_TRANSPORT_ALL, 0, HUBS_ERROR_FAILED,
    "Client didn't negotiate Stateful Reconnect but the server did." },
  { "{\"negotiateVersion\":1,\"connectionId\":\"a\",\"connectionToken\":\"b\",\"availableTransports\":[]}",
    NULL, "json", HUBS_TRANSPORT_ALL, 0, HUBS_ERROR_FAILED,
    "None of the transports supported by the client are supported by the server." },
  { "{\"negotiateVersion\":1,\"connectionId\":\"a\",\"connectionToken\":\"b\",\"availableTransports\":"
    "[{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\"]},{\"transport\":\"Carrier\",\"transferFormats\":[\"Text\"]}]}",
    NULL, "json", HUBS_TRANSPORT_LONG_POLLING, 0, HUBS_ERROR_FAILED,
    "Unable to connect to the server with any of the available transports. WebSockets failed: 'WebSockets' is "
    "disabled by the client. Carrier failed: Skipping transport 'Carrier' because it is not supported by this client." },
  { "{\"negotiateVersion\":1,\"connectionId\":\"a\",\"connectionToken\":\"b\",\"availableTransports\":"
    "[{\"transport\":\"ServerSentEvents\",\"transferFormats\":[\"Text\"]}]}",
    NULL, "messagepack", HUBS_TRANSPORT_ALL, 0, HUBS_ERROR_FAILED,
    "Unable to connect to the server with any of the available transports. ServerSentEvents failed: "
    "'ServerSentEvents' does not support Binary." },
  { NEGOTIATE_V1 ("a", "b"), "{\"error\":\"The protocol 'json' is not supported.\"}\x1e", "json",
    HUBS_TRANSPORT_ALL, 0, HUBS_ERROR_HANDSHAKE_FAILED,
    "Server returned handshake error: The protocol 'json' is not supported." },
  { NEGOTIATE_V1 ("a", "b"), "not json\x1e", "json", HUBS_TRANSPORT_ALL, 0, HUBS_ERROR_HANDSHAKE_FAILED, NULL },
};

static void
test_bad_start (Fixture       *f,
                gconstpointer  data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_starts); i++)
    {
      const BadStart *bad = &bad_starts[i];
      g_autofree char *url = url_for (f, "/fake");
      g_autoptr(HubsConnection) connection = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_ptr_array_set_size (f->fake.negotiate_bodies, 0);
      g_ptr_array_add (f->fake.negotiate_bodies, g_strdup (bad->negotiate));
      f->fake.n_negotiates = 0;
      g_clear_pointer (&f->fake.handshake_reply, g_free);
      f->fake.handshake_reply = g_strdup (bad->handshake);
      connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "protocol", bad->protocol,
                                           "transports", bad->transports, NULL));
      g_assert_false (start (connection, &error));
      g_assert_error (error, (bad->domain != 0 ? bad->domain : HUBS_ERROR), bad->code);
      if (bad->message != NULL)
        g_assert_cmpstr (error->message, ==, bad->message);
      g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
      g_assert_cmpuint (f->closed->len, ==, 0);
    }
}

static void
test_negotiate_not_found (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/nowhere", f->port);
  g_autoptr(HubsConnection) connection = watch (f, hubs_connection_new (url));
  g_autoptr(GError) error = NULL;

  g_assert_false (start (connection, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "Failed to complete negotiation with the server: Error: Not Found: Status code '404' "
                   "Either this is not a SignalR endpoint or there is a proxy blocking the connection.");
}

/* Stateful reconnect: a lost WebSocket is connected again to the same
 * connection, Sequence first, then what the server had not acknowledged;
 * the application sees nothing of it. */
static void
test_stateful_reconnect (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/fake");
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autofree char *first_query = NULL;

  g_ptr_array_add (f->fake.negotiate_bodies,
                   g_strdup ("{\"useStatefulReconnect\":true,\"negotiateVersion\":1,\"connectionId\":\"a\","
                             "\"connectionToken\":\"tok\",\"availableTransports\":"
                             "[{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\"]}]}"));
  f->fake.handshake_reply = g_strdup ("{}\x1e");
  connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "stateful-reconnect", TRUE, NULL));
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (f->fake.received, "{\"protocol\":\"json\",\"version\":2}\x1e"));
  first_query = g_strdup (f->fake.last_query);

  /* An invocation the server never answers on this WebSocket */
  string_value (&arg, "kept");
  hubs_connection_invoke_async (connection, "Echo", 1, &arg, G_TYPE_STRING, NULL, got_result, &result);
  WAIT_UNTIL (strstr (f->fake.received, "\"target\":\"Echo\"") != NULL);

  /* Lost without a close handshake the client started: it comes back. */
  g_clear_pointer (&f->fake.handshake_reply, g_free);
  soup_websocket_connection_close (f->fake.websockets->pdata[0], SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, NULL);
  WAIT_UNTIL (f->fake.websockets->len == 2 && f->fake.received != NULL &&
              strstr (f->fake.received, "\"target\":\"Echo\"") != NULL);
  g_assert_cmpstr (f->fake.last_query, ==, first_query);
  g_assert_cmpuint (f->fake.n_negotiates, ==, 1);
  g_assert_cmpstr (f->fake.received, ==,
                   "{\"type\":9,\"sequenceId\":1}\x1e"
                   "{\"type\":1,\"invocationId\":\"0\",\"target\":\"Echo\",\"arguments\":[\"kept\"]}\x1e");
  g_assert_null (result);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTED);

  /* The server's Sequence, then its answer. */
  soup_websocket_connection_send_text (f->fake.websockets->pdata[1],
                                       "{\"type\":9,\"sequenceId\":1}\x1e"
                                       "{\"type\":3,\"invocationId\":\"0\",\"result\":\"kept\"}\x1e");
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_invoke_finish (connection, result, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "kept");

  /* The answer is acknowledged within a second. */
  WAIT_UNTIL (strstr (f->fake.received, "{\"type\":8,\"sequenceId\":1}\x1e") != NULL);

  g_assert_cmpuint (f->reconnecting->len, ==, 0);
  g_assert_cmpuint (f->closed->len, ==, 0);
  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 1);
}

/* With stateful reconnect, a send that finds 100,000 bytes unacknowledged
 * completes once the server's Ack makes room, as the JavaScript client's
 * backpressure; one still waiting when the connection ends fails. */
static void
test_stateful_backpressure (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/fake");
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_strnfill (30000, 'x');
  g_auto(GValue) arg = G_VALUE_INIT;
  GAsyncResult *results[5] = { NULL, };

  g_ptr_array_add (f->fake.negotiate_bodies,
                   g_strdup ("{\"useStatefulReconnect\":true,\"negotiateVersion\":1,\"connectionId\":\"a\","
                             "\"connectionToken\":\"tok\",\"availableTransports\":"
                             "[{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\"]}]}"));
  f->fake.handshake_reply = g_strdup ("{}\x1e");
  connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "stateful-reconnect", TRUE, NULL));
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);

  /* Three sends of 30,000 bytes go; the fourth crosses the limit and waits,
   * and so does the next. */
  string_value (&arg, big);
  for (guint i = 0; i < 5; i++)
    hubs_connection_send_async (connection, "Say", 1, &arg, NULL, got_result, &results[i]);
  WAIT_UNTIL (results[2] != NULL);
  spin (200);
  g_assert_null (results[3]);
  g_assert_null (results[4]);
  g_assert_true (hubs_connection_send_finish (connection, results[0], &error));
  g_assert_no_error (error);

  /* The server has the first three: room for what waits. */
  soup_websocket_connection_send_text (f->fake.websockets->pdata[0], "{\"type\":8,\"sequenceId\":3}\x1e");
  WAIT_UNTIL (results[3] != NULL && results[4] != NULL);
  g_assert_true (hubs_connection_send_finish (connection, results[4], &error));
  g_assert_no_error (error);

  /* Full again, and the connection ends under the waiting send. */
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_clear_object (&results[i]);
  hubs_connection_send_async (connection, "Say", 1, &arg, NULL, got_result, &results[0]);
  hubs_connection_send_async (connection, "Say", 1, &arg, NULL, got_result, &results[1]);
  WAIT_UNTIL (results[0] != NULL);
  spin (100);
  g_assert_null (results[1]);
  stop (connection);
  WAIT_UNTIL (results[1] != NULL);
  g_assert_false (hubs_connection_send_finish (connection, results[1], &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_clear_object (&results[i]);
}

/* Against our server, which allows it on /stateful: messages are numbered
 * and acknowledged both ways, and calls go on as usual. */
static void
test_stateful_server (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/stateful");
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;

  connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "stateful-reconnect", TRUE, NULL));
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  string_value (&arg, "numbered");
  for (int i = 0; i < 3; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_assert_true (invoke (connection, "Echo", 1, &arg, G_TYPE_STRING, &value, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (g_value_get_string (&value), ==, "numbered");
    }
  /* Past the one-second acknowledgements of both sides */
  spin (1200);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTED);
  g_assert_true (invoke (connection, "Echo", 1, &arg, G_TYPE_STRING, NULL, &error));
  g_assert_no_error (error);
  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 1);
  g_assert_null (f->closed->pdata[0]);
}

/* The next transport after a failed one, with a new negotiate. */
static void
test_transport_fallback (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_connection (f, "/none");
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (f->fake.negotiate_bodies,
                   g_strdup ("{\"negotiateVersion\":1,\"connectionId\":\"a\",\"connectionToken\":\"b\","
                             "\"availableTransports\":[{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\"]},"
                             "{\"transport\":\"LongPolling\",\"transferFormats\":[\"Text\",\"Binary\"]}]}"));
  g_assert_false (start (connection, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message,
                                   "Unable to connect to the server with any of the available transports. WebSockets failed: "));
  g_assert_true (g_str_has_suffix (error->message, " LongPolling failed: Not Found: Status code '404'"));
  g_assert_cmpuint (f->fake.n_negotiates, ==, 2);
  g_assert_cmpuint (f->closed->len, ==, 0);
}

static void
test_close_allow_reconnect (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = new_connection (f, "/fake");
  g_autoptr(GError) error = NULL;
  guint n_asked = 0;

  g_ptr_array_add (f->fake.negotiate_bodies, g_strdup (NEGOTIATE_V1 ("a", "b")));
  f->fake.handshake_reply = g_strdup ("{}\x1e");
  hubs_connection_set_reconnect_policy (connection, retry_at_once, &n_asked, NULL);
  g_assert_true (start (connection, &error));

  /* The server closes with an error and allows a reconnect. */
  soup_websocket_connection_send_text (f->fake.websockets->pdata[0],
                                       "{\"type\":7,\"error\":\"Going down.\",\"allowReconnect\":true}\x1e");
  WAIT_UNTIL (f->reconnected->len == 1);
  g_assert_error ((GError *) f->reconnecting->pdata[0], HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED);
  g_assert_cmpstr (((GError *) f->reconnecting->pdata[0])->message, ==, "Server returned an error on close: Going down.");
  g_assert_cmpuint (f->fake.n_negotiates, ==, 2);
  g_assert_cmpuint (f->closed->len, ==, 0);

  /* Without allowReconnect: closed with the error. */
  soup_websocket_connection_send_text (f->fake.websockets->pdata[1], "{\"type\":7,\"error\":\"Bye.\"}\x1e");
  WAIT_UNTIL (f->closed->len == 1);
  g_assert_cmpuint (f->reconnecting->len, ==, 1);
  g_assert_cmpstr (((GError *) f->closed->pdata[0])->message, ==, "Server returned an error on close: Bye.");
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
}

static void
test_skip_negotiation (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *url = url_for (f, "/fake");
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "skip-negotiation", TRUE, NULL));
  g_assert_false (start (connection, &error));
  g_assert_cmpstr (error->message, ==, "Negotiation can only be skipped when using the WebSocket transport directly.");
  g_clear_error (&error);
  g_clear_object (&connection);

  f->fake.handshake_reply = g_strdup ("{}\x1e");
  connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "skip-negotiation", TRUE,
                                       "transports", HUBS_TRANSPORT_WEB_SOCKETS, NULL));
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->fake.n_negotiates, ==, 0);
  g_assert_null (f->fake.last_query);
  g_assert_null (hubs_connection_get_connection_id (connection));
  stop (connection);
}

/* Against ASP.NET Core: the reference server of tests/aspnetcore-interop,
 * when it has been built (`dotnet build -c Release` there, which
 * build-aux/setup-deps does) and dotnet is installed. Started once, on first use. */

static GSubprocess *aspnetcore;
static char *aspnetcore_url;
static char *aspnetcore_skip;

#ifdef __linux__
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}
#endif

static gboolean
aspnetcore_start (void)
{
  g_autofree char *dotnet = g_find_program_in_path ("dotnet");
  g_autofree char *dll = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) output = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  if (aspnetcore_url != NULL || aspnetcore_skip != NULL)
    return aspnetcore_url != NULL;

  dll = g_test_build_filename (G_TEST_DIST, "aspnetcore-interop", "bin", "Release", "net10.0",
                               "Interop.dll", NULL);
  if (dotnet == NULL)
    aspnetcore_skip = g_strdup ("dotnet is not installed: no ASP.NET Core server to test against");
  else if (!g_file_test (dll, G_FILE_TEST_EXISTS))
    aspnetcore_skip = g_strdup_printf ("%s is not built: run `dotnet build -c Release` in "
                                       "tests/aspnetcore-interop", dll);
  if (aspnetcore_skip != NULL)
    return FALSE;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
#ifdef __linux__
  /* The server ends with the test, even when the test crashes. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
#endif
  aspnetcore = g_subprocess_launcher_spawn (launcher, &error, dotnet, dll, "--port", "0", NULL);
  g_assert_no_error (error);
  output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (aspnetcore));
  line = g_data_input_stream_read_line_utf8 (output, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "Now listening on: "))
    {
      aspnetcore_skip = g_strdup_printf ("the ASP.NET Core server did not start (it printed \"%s\")",
                                         line != NULL ? line : "");
      return FALSE;
    }
  aspnetcore_url = g_strdup (line + strlen ("Now listening on: "));
  return TRUE;
}

static void
aspnetcore_stop (void)
{
  if (aspnetcore != NULL)
    {
      g_subprocess_send_signal (aspnetcore, SIGTERM);
      g_subprocess_wait (aspnetcore, NULL, NULL);
      g_clear_object (&aspnetcore);
    }
  g_clear_pointer (&aspnetcore_url, g_free);
  g_clear_pointer (&aspnetcore_skip, g_free);
}

static HubsConnection *
aspnetcore_connection (Fixture           *f,
                       const char        *path,
                       HubsTransportType  transport)
{
  g_autofree char *url = g_strconcat (aspnetcore_url, path, NULL);

  return watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, "transports", transport, NULL));
}

static const char *
transport_name (HubsTransportType transport)
{
  return transport == HUBS_TRANSPORT_WEB_SOCKETS ? "WebSockets" :
         transport == HUBS_TRANSPORT_SERVER_SENT_EVENTS ? "ServerSentEvents" : "LongPolling";
}

static void
on_letter (HubsClientStream *stream,
           const GValue     *item,
           GPtrArray        *letters)
{
  g_ptr_array_add (letters, g_value_dup_string (item));
}

static void
test_aspnetcore_testhub (Fixture       *f,
                         gconstpointer  data)
{
  HubsTransportType transport = GPOINTER_TO_UINT (data);
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(HubsClientStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;
  Streamed streamed = { g_array_new (FALSE, FALSE, sizeof (int)), };
  g_autoptr(GPtrArray) letters = g_ptr_array_new_with_free_func (g_free);

  if (!aspnetcore_start ())
    {
      g_test_skip (aspnetcore_skip);
      g_array_unref (streamed.items);
      return;
    }

  connection = aspnetcore_connection (f, "/testhub", transport);
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hubs_connection_get_transport (connection), ==, transport);

  g_assert_true (invoke (connection, "GetActiveTransportName", 0, NULL, G_TYPE_STRING, &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, transport_name (transport));
  g_value_unset (&value);

  g_assert_true (invoke (connection, "GetCallerConnectionId", 0, NULL, G_TYPE_STRING, &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, hubs_connection_get_connection_id (connection));
  g_value_unset (&value);

  string_value (&arg, "hello, ASP.NET Core");
  g_assert_true (invoke (connection, "Echo", 1, &arg, G_TYPE_STRING, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "hello, ASP.NET Core");
  g_value_unset (&value);

  /* Our headers reach the server. */
  g_value_set_string (&arg, "X-SignalR-User-Agent");
  g_assert_true (invoke (connection, "GetHeader", 1, &arg, G_TYPE_STRING, &value, &error));
  g_assert_true (g_str_has_prefix (g_value_get_string (&value), "hubs-glib/"));
  g_value_unset (&value);

  g_value_set_string (&arg, "boom");
  g_assert_false (invoke (connection, "ThrowException", 1, &arg, G_TYPE_INVALID, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "An unexpected error occurred invoking 'ThrowException' on the server. InvalidOperationException: boom");
  g_clear_error (&error);

  stream = hubs_connection_stream (connection, "Stream", 0, NULL, G_TYPE_STRING);
  g_signal_connect (stream, "item", G_CALLBACK (on_letter), letters);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  WAIT_UNTIL (streamed.completed);
  g_assert_no_error (streamed.error);
  g_assert_cmpuint (letters->len, ==, 3);
  g_assert_cmpstr (letters->pdata[0], ==, "a");
  g_assert_cmpstr (letters->pdata[2], ==, "c");

  stop (connection);
  g_assert_cmpuint (f->closed->len, ==, 1);
  g_assert_null (f->closed->pdata[0]);
  g_array_unref (streamed.items);
}

/* FeatureHub's Message(callerId, text): keeps the caller's id. */
static gboolean
on_message (HubsConnection       *connection,
            HubsClientInvocation *invocation,
            gpointer              user_data)
{
  Handled *handled = user_data;

  g_assert_cmpuint (hubs_client_invocation_get_n_arguments (invocation), ==, 2);
  handled->n_calls++;
  g_free (handled->text);
  handled->text = g_variant_dup_string (g_value_get_variant (hubs_client_invocation_get_argument (invocation, 0)), NULL);
  return HUBS_INVOCATION_UNHANDLED;
}

static void
test_aspnetcore_featurehub (Fixture       *f,
                            gconstpointer  data)
{
  HubsTransportType transport = GPOINTER_TO_UINT (data);
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  GType int_type[] = { G_TYPE_INT };
  Handled handled = { .answer = TRUE };
  Handled messages = { 0, };
  g_auto(GValue) arg = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;
  guint n_asked = 0;

  if (!aspnetcore_start ())
    {
      g_test_skip (aspnetcore_skip);
      return;
    }

  connection = aspnetcore_connection (f, "/featurehub", transport);
  hubs_connection_set_access_token_func (connection, give_token, &n_asked, NULL);
  hubs_connection_on (connection, "Double", 1, int_type, on_double, &handled, NULL);
  hubs_connection_on (connection, "Message", 0, NULL, on_message, &messages, NULL);
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);

  g_assert_true (invoke (connection, "GetUserIdentifier", 0, NULL, G_TYPE_STRING, &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, "user:alice");
  g_value_unset (&value);

  /* A client result */
  int_value (&arg, 21);
  g_assert_true (invoke (connection, "AskCaller", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_value_unset (&value);
  handled.answer_error = TRUE;
  g_assert_false (invoke (connection, "AskCaller", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Error: from callback");
  g_clear_error (&error);
  g_value_unset (&arg);

  /* An upload stream */
  {
    g_autoptr(HubsClientUpload) upload = hubs_client_upload_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_auto(GValue) upload_arg = G_VALUE_INIT;
    g_auto(GValue) item = G_VALUE_INIT;

    upload_value (&upload_arg, upload);
    hubs_connection_invoke_async (connection, "Upload", 1, &upload_arg, G_TYPE_INT, NULL, got_result, &result);
    int_value (&item, 20);
    hubs_client_upload_write (upload, &item);
    g_value_set_int (&item, 22);
    hubs_client_upload_write (upload, &item);
    hubs_client_upload_complete (upload);
    WAIT_UNTIL (result != NULL);
    g_assert_true (hubs_connection_invoke_finish (connection, result, &value, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_value_get_int (&value), ==, 42);
    g_value_unset (&value);
  }

  /* A client method */
  string_value (&arg, "to all");
  g_assert_true (invoke (connection, "Broadcast", 1, &arg, G_TYPE_INVALID, NULL, &error));
  WAIT_UNTIL (messages.n_calls == 1);
  g_assert_cmpstr (messages.text, ==, hubs_connection_get_connection_id (connection));

  /* Abort(): a Close without allowReconnect */
  g_assert_true (invoke (connection, "Abort", 0, NULL, G_TYPE_INVALID, NULL, &error) || error != NULL);
  g_clear_error (&error);
  WAIT_UNTIL (f->closed->len == 1);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
  g_free (messages.text);
}

static void
test_aspnetcore_redirect (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(HubsConnection) connection = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  if (!aspnetcore_start ())
    {
      g_test_skip (aspnetcore_skip);
      return;
    }

  /* The redirect answers {"url":"B/testHub?numRedirects=C"} with B given. */
  path = g_strdup_printf ("/redirect?baseUrl=%s", aspnetcore_url);
  connection = aspnetcore_connection (f, path, HUBS_TRANSPORT_ALL);
  g_assert_true (start (connection, &error));
  g_assert_no_error (error);
  g_assert_true (invoke (connection, "GetNumRedirects", 0, NULL, G_TYPE_INT, &value, &error));
  g_assert_cmpint (g_value_get_int (&value), >=, 1);
  g_value_unset (&value);
  g_assert_true (invoke (connection, "GetCallerConnectionId", 0, NULL, G_TYPE_STRING, &value, &error));
  g_assert_cmpstr (g_value_get_string (&value), ==, hubs_connection_get_connection_id (connection));
  stop (connection);

  /* Without WebSockets on the server, the next transport it offers. */
  g_clear_object (&connection);
  {
    g_autofree char *url = g_strconcat (aspnetcore_url, "/testhub-nowebsockets", NULL);

    connection = watch (f, g_object_new (HUBS_TYPE_CONNECTION, "url", url, NULL));
  }
  g_assert_true (start (connection, &error));
  g_assert_cmpint (hubs_connection_get_transport (connection), ==, HUBS_TRANSPORT_SERVER_SENT_EVENTS);
  stop (connection);
}

static const Param params[] = {
  { "json", HUBS_TRANSPORT_WEB_SOCKETS },
  { "messagepack", HUBS_TRANSPORT_WEB_SOCKETS },
  { "json", HUBS_TRANSPORT_SERVER_SENT_EVENTS },
  { "json", HUBS_TRANSPORT_LONG_POLLING },
  { "messagepack", HUBS_TRANSPORT_LONG_POLLING },
};

int
main (int   argc,
      char *argv[])
{
  int status;

  /* The isolated directories have no GSettings schemas: no desktop proxy
   * settings, as in libsoup's own tests. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func, data) \
  g_test_add ("/hubs/client/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    {
      const char *transport = params[i].transport == HUBS_TRANSPORT_WEB_SOCKETS ? "websockets" :
                              params[i].transport == HUBS_TRANSPORT_LONG_POLLING ? "longpolling" : "sse";
      static const struct
      {
        const char *name;
        void (*func) (Fixture *, gconstpointer);
      } bodies[] = {
        { "start-stop", test_start_stop },
        { "invoke", test_invoke },
        { "on", test_on },
        { "client-results", test_client_results },
        { "stream", test_stream },
        { "server-close", test_server_close },
        { "upload", test_upload },
      };

      for (gsize j = 0; j < G_N_ELEMENTS (bodies); j++)
        {
          g_autofree char *path = g_strdup_printf ("/hubs/client/%s/%s/%s", bodies[j].name,
                                                   transport, params[i].protocol);

          g_test_add (path, Fixture, &params[i], fixture_set_up, bodies[j].func, fixture_tear_down);
        }
    }
  ADD ("invoke-cancel", test_invoke_cancel, NULL);
  ADD ("access-token", test_access_token, NULL);
  ADD ("access-token-request", test_access_token_request, NULL);
  ADD ("server-timeout-reconnect", test_server_timeout_reconnect, NULL);
  ADD ("server-gone", test_server_gone, NULL);
  ADD ("stop-while-starting", test_stop_while_starting, NULL);
  ADD ("negotiate-redirect", test_negotiate_redirect, NULL);
  ADD ("negotiate-v0", test_negotiate_v0, NULL);
  ADD ("negotiate-not-found", test_negotiate_not_found, NULL);
  ADD ("bad-start", test_bad_start, NULL);
  ADD ("close-allow-reconnect", test_close_allow_reconnect, NULL);
  ADD ("transport-fallback", test_transport_fallback, NULL);
  ADD ("stateful-reconnect", test_stateful_reconnect, NULL);
  ADD ("stateful-server", test_stateful_server, NULL);
  ADD ("stateful-backpressure", test_stateful_backpressure, NULL);
  ADD ("skip-negotiation", test_skip_negotiation, NULL);

  for (gsize i = 0; i < 3; i++)
    {
      HubsTransportType transport = 1 << i;
      g_autofree char *testhub = g_strdup_printf ("/hubs/client/aspnetcore/testhub/%s", transport_name (transport));
      g_autofree char *featurehub = g_strdup_printf ("/hubs/client/aspnetcore/featurehub/%s",
                                                     transport_name (transport));

      g_test_add (testhub, Fixture, GUINT_TO_POINTER (transport), fixture_set_up,
                  test_aspnetcore_testhub, fixture_tear_down);
      g_test_add (featurehub, Fixture, GUINT_TO_POINTER (transport), fixture_set_up,
                  test_aspnetcore_featurehub, fixture_tear_down);
    }
  ADD ("aspnetcore/redirect", test_aspnetcore_redirect, NULL);

  status = g_test_run ();
  aspnetcore_stop ();
  return status;
}
