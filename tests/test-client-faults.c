/* test-client-faults.c: HubsConnection when the server misbehaves
 *
 * A scripted WebSocket peer speaking raw RFC 6455 frames (a
 * GThreadedSocketService, so that it can write what libsoup's server never
 * would: garbage handshakes, malformed messages, oversized frames, frames
 * with impossible lengths, silence) checks that each fault ends the
 * connection with an error, never a crash or a hang. The real interop server,
 * killed or stopped (SIGKILL, SIGSTOP) in the middle of a call, checks that
 * the call fails with a clear error and that the connection reconnects.
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

#define WAIT_TIMEOUT_MS 20000
#define MAX_RECEIVE 65536

/* The scripted peer */

typedef enum
{
  EXPECT_START_FAILS,           /* start fails with the error */
  EXPECT_CLOSED,                /* starts, then closes with the error */
  EXPECT_CALL_FAILS,            /* a call is under way when it closes */
  EXPECT_ALIVE,                 /* stays connected */
  EXPECT_CALL_REJECTED,         /* a call fails, the connection stays */
} Expect;

typedef struct
{
  const char *name;
  const char *protocol;
  /* After the client's handshake request, these frames, written as given
   * (a first byte, then the payload with its length): the length is
   * encoded as RFC 6455 says, unless raw_length is set. */
  struct
  {
    guint8 first;               /* FIN and opcode; 0 ends the list */
    const char *payload;
    gssize length;              /* -1: strlen */
    guint repeat;               /* sent this many times (0 = once) */
    guint64 raw_length;         /* announced instead of the payload's */
  } frames[4];
  Expect expect;
  GQuark domain;
  int code;
  const char *message_prefix;
} Fault;

#define TEXT 0x81
#define BINARY 0x82
#define HANDSHAKE_OK { TEXT, "{}\x1e", -1, 0, 0 }

static const char chunk_4k[4096 + 1] = { [0 ... 4095] = 'x' };

typedef struct
{
  const Fault *fault;
  GSocketService *service;
  guint16 port;
  GMutex lock;
  gboolean client_closed;       /* the peer saw the client go */
  guint n_requests;             /* frames received after the handshake */
} Peer;

static gboolean
read_exactly (GInputStream *input,
              void         *buffer,
              gsize         size)
{
  gsize read = 0;

  return g_input_stream_read_all (input, buffer, size, &read, NULL, NULL) && read == size;
}

/* Reads one client frame; FALSE at the end. */
static gboolean
read_frame (GInputStream  *input,
            guint8        *opcode,
            GByteArray    *payload)
{
  guint8 header[2];
  guint8 mask[4];
  guint64 length;

  if (!read_exactly (input, header, 2))
    return FALSE;
  *opcode = header[0] & 0x0f;
  length = header[1] & 0x7f;
  if (length == 126)
    {
      guint8 ext[2];

      if (!read_exactly (input, ext, 2))
        return FALSE;
      length = ((guint64) ext[0] << 8) | ext[1];
    }
  else if (length == 127)
    {
      guint8 ext[8];

      if (!read_exactly (input, ext, 8))
        return FALSE;
      length = 0;
      for (int i = 0; i < 8; i++)
        length = (length << 8) | ext[i];
    }
  g_assert_true (header[1] & 0x80);
  g_assert_cmpuint (length, <, 1 << 20);
  if (!read_exactly (input, mask, 4))
    return FALSE;
  g_byte_array_set_size (payload, length);
  if (length > 0 && !read_exactly (input, payload->data, length))
    return FALSE;
  for (guint64 i = 0; i < length; i++)
    payload->data[i] ^= mask[i % 4];
  return TRUE;
}

static void
write_frame (GOutputStream *output,
             guint8         first,
             const void    *payload,
             gsize          length,
             guint64        announced)
{
  guint8 header[10];
  gsize header_length;

  header[0] = first;
  if (announced < 126)
    {
      header[1] = announced;
      header_length = 2;
    }
  else if (announced < 65536)
    {
      header[1] = 126;
      header[2] = announced >> 8;
      header[3] = announced & 0xff;
      header_length = 4;
    }
  else
    {
      header[1] = 127;
      for (int i = 0; i < 8; i++)
        header[2 + i] = (announced >> (8 * (7 - i))) & 0xff;
      header_length = 10;
    }
  g_output_stream_write_all (output, header, header_length, NULL, NULL, NULL);
  g_output_stream_write_all (output, payload, length, NULL, NULL, NULL);
}

static gboolean
peer_run (GThreadedSocketService *service,
          GSocketConnection      *connection,
          GObject                *source_object,
          gpointer                user_data)
{
  Peer *peer = user_data;
  const Fault *fault = peer->fault;
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (input);
  g_autoptr(GByteArray) payload = g_byte_array_new ();
  g_autofree char *key = NULL;
  g_autofree char *accept_key = NULL;
  g_autofree char *response = NULL;
  g_autoptr(GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_length = sizeof digest;
  guint8 opcode;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
  /* The upgrade request */
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (lines, NULL, NULL, NULL);

      if (line == NULL)
        return TRUE;
      g_strchomp (line);
      if (*line == '\0')
        break;
      if (g_ascii_strncasecmp (line, "Sec-WebSocket-Key:", 18) == 0)
        key = g_strstrip (g_strdup (line + 18));
    }
  g_assert_nonnull (key);
  g_checksum_update (sha1, (const guchar *) key, -1);
  g_checksum_update (sha1, (const guchar *) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", -1);
  g_checksum_get_digest (sha1, digest, &digest_length);
  accept_key = g_base64_encode (digest, digest_length);
  response = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept_key);
  g_output_stream_write_all (output, response, strlen (response), NULL, NULL, NULL);

  /* The handshake request (what the data stream buffered comes first) */
  {
    gsize buffered;
    const guint8 *pending = g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (lines), &buffered);

    g_assert_cmpuint (buffered, ==, 0);
    (void) pending;
  }
  if (!read_frame (input, &opcode, payload))
    return TRUE;
  g_assert_true (memchr (payload->data, 0x1e, payload->len) != NULL);

  for (guint i = 0; i < G_N_ELEMENTS (fault->frames) && fault->frames[i].first != 0; i++)
    {
      gsize length = fault->frames[i].length >= 0 ? (gsize) fault->frames[i].length :
                     strlen (fault->frames[i].payload);
      guint64 announced = fault->frames[i].raw_length != 0 ? fault->frames[i].raw_length : length;

      for (guint n = 0; n < MAX (fault->frames[i].repeat, 1); n++)
        write_frame (output, fault->frames[i].first, fault->frames[i].payload, length, announced);

      /* After the handshake answer, a call to fail, when the case has one */
      if (i == 0 && (fault->expect == EXPECT_CALL_FAILS || fault->expect == EXPECT_CALL_REJECTED))
        {
          if (!read_frame (input, &opcode, payload))
            return TRUE;
          g_mutex_lock (&peer->lock);
          peer->n_requests++;
          g_mutex_unlock (&peer->lock);
        }
    }

  /* Until the client goes; a Close is answered. */
  while (read_frame (input, &opcode, payload))
    {
      if (opcode == 0x8)
        {
          write_frame (output, 0x88, payload->data, MIN (payload->len, 2), MIN (payload->len, 2));
          break;
        }
      g_mutex_lock (&peer->lock);
      peer->n_requests++;
      g_mutex_unlock (&peer->lock);
    }
  g_mutex_lock (&peer->lock);
  peer->client_closed = TRUE;
  g_mutex_unlock (&peer->lock);
  return TRUE;
}

static const Fault faults[] = {
  { "handshake-garbage", "json", { { TEXT, "not json at all\x1e", -1 } },
    EXPECT_START_FAILS, 0, HUBS_ERROR_HANDSHAKE_FAILED, "Error parsing handshake response: " },
  { "handshake-error", "json", { { TEXT, "{\"error\":\"Nope.\"}\x1e", -1 } },
    EXPECT_START_FAILS, 0, HUBS_ERROR_HANDSHAKE_FAILED, "Server returned handshake error: Nope." },
  { "handshake-endless", "json", { { TEXT, chunk_4k, -1, 20 } },
    EXPECT_START_FAILS, 0, HUBS_ERROR_MESSAGE_TOO_LARGE, "The server sent a message larger than the maximum receive size of 65536B." },
  { "handshake-silent", "json", { { 0 } },
    EXPECT_START_FAILS, 0, HUBS_ERROR_TIMED_OUT, "The handshake timed out." },
  { "bad-json", "json", { HANDSHAKE_OK, { TEXT, "{\"type\":1,\"target\":\x1e", -1 } },
    EXPECT_CALL_FAILS, 0, HUBS_ERROR_INVALID_DATA, "" },
  { "json-not-object", "json", { HANDSHAKE_OK, { TEXT, "[1,2]\x1e", -1 } },
    EXPECT_CLOSED, 0, HUBS_ERROR_INVALID_DATA, "" },
  { "bad-messagepack", "messagepack", { HANDSHAKE_OK, { BINARY, "\x02\x91\xc1", 3 } },
    EXPECT_CALL_FAILS, 0, HUBS_ERROR_INVALID_DATA, "" },
  { "messagepack-not-array", "messagepack", { HANDSHAKE_OK, { BINARY, "\x01\x05", 2 } },
    EXPECT_CLOSED, 0, HUBS_ERROR_INVALID_DATA, "" },
  /* The reference clients ignore message types they do not know (a newer
   * protocol's), and so does ours. */
  { "unknown-type", "json", { HANDSHAKE_OK, { TEXT, "{\"type\":99,\"x\":1}\x1e{\"type\":6}\x1e", -1 } },
    EXPECT_ALIVE, 0, 0, NULL },
  { "unknown-type-messagepack", "messagepack", { HANDSHAKE_OK, { BINARY, "\x02\x91\x63", 3 } },
    EXPECT_ALIVE, 0, 0, NULL },
  /* One message over the limit, in frames under it */
  { "oversized-message", "json", { HANDSHAKE_OK, { TEXT, chunk_4k, -1, 20 } },
    EXPECT_CALL_FAILS, 0, HUBS_ERROR_MESSAGE_TOO_LARGE, "The server sent a message larger than the maximum receive size of 65536B." },
  /* A length prefix beyond the limit fails before its bytes come. */
  { "oversized-messagepack", "messagepack", { HANDSHAKE_OK, { BINARY, "\x80\x80\x80\x20", 4 } },
    EXPECT_CLOSED, 0, HUBS_ERROR_MESSAGE_TOO_LARGE, "The server sent a message larger than the maximum receive size of 65536B." },
  /* A frame beyond the limit, and one announcing a terabyte */
  { "oversized-frame", "json", { HANDSHAKE_OK, { TEXT, chunk_4k, 4096, 0, 70000 } },
    EXPECT_CALL_FAILS, 0, 0, "" },
  { "impossible-frame", "json", { HANDSHAKE_OK, { TEXT, chunk_4k, 4096, 0, G_GUINT64_CONSTANT (1) << 40 } },
    EXPECT_CLOSED, 0, 0, "" },
  { "bad-opcode", "json", { HANDSHAKE_OK, { 0x83, "x", 1 } },
    EXPECT_CLOSED, 0, 0, "" },
  /* A StreamItem for a call that is not a stream rejects the call, as in
   * HubConnection.ts; its Completion, later, is ignored. */
  { "stream-item-for-invoke", "json", { HANDSHAKE_OK, { TEXT, "{\"type\":2,\"invocationId\":\"0\",\"item\":1}\x1e"
                                                      "{\"type\":3,\"invocationId\":\"0\",\"result\":2}\x1e", -1 } },
    EXPECT_CALL_REJECTED, 0, HUBS_ERROR_INVALID_DATA, "Unexpected message type: 2" },
  /* Silent once connected: the server timeout */
  { "silent", "json", { HANDSHAKE_OK },
    EXPECT_CALL_FAILS, 0, HUBS_ERROR_TIMED_OUT, "Server timeout elapsed without receiving a message from the server." },
};

typedef struct
{
  GPtrArray *closed;
} Fixture;

static void
error_free_nullable (gpointer data)
{
  if (data != NULL)
    g_error_free (data);
}

static void
on_closed (HubsConnection *connection,
           const GError   *error,
           Fixture        *f)
{
  g_ptr_array_add (f->closed, error != NULL ? g_error_copy (error) : NULL);
}

static void
assert_fault_error (const Fault  *fault,
                    const GError *error)
{
  g_assert_nonnull (error);
  g_test_message ("%s: %s", fault->name, error->message);
  if (fault->code != 0)
    g_assert_error ((GError *) error, (fault->domain != 0 ? fault->domain : HUBS_ERROR), fault->code);
  g_assert_nonnull (error->message);
  g_assert_cmpstr (error->message, !=, "");
  if (fault->message_prefix != NULL)
    g_assert_true (g_str_has_prefix (error->message, fault->message_prefix));
}

static void
test_fault (gconstpointer data)
{
  const Fault *fault = data;
  Fixture fixture = { g_ptr_array_new_with_free_func (error_free_nullable) };
  Fixture *f = &fixture;
  Peer peer = { fault, };
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  gboolean started;

  g_mutex_init (&peer.lock);
  peer.service = g_threaded_socket_service_new (2);
  peer.port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (peer.service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (peer.service, "run", G_CALLBACK (peer_run), &peer);
  g_socket_service_start (peer.service);

  url = g_strdup_printf ("ws://127.0.0.1:%u/hub", peer.port);
  connection = g_object_new (HUBS_TYPE_CONNECTION, "url", url, "skip-negotiation", TRUE,
                             "transports", HUBS_TRANSPORT_WEB_SOCKETS, "protocol", fault->protocol,
                             "max-receive-size", MAX_RECEIVE, "handshake-timeout", 500,
                             "server-timeout", 500, "keep-alive-interval", 100, NULL);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), f);

  hubs_connection_start_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  started = hubs_connection_start_finish (connection, result, &error);

  switch (fault->expect)
    {
    case EXPECT_START_FAILS:
      g_assert_false (started);
      assert_fault_error (fault, error);
      g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
      break;

    case EXPECT_CALL_FAILS:
      g_assert_no_error (error);
      g_assert_true (started);
      hubs_connection_invoke_async (connection, "Pending", 0, NULL, G_TYPE_INT, NULL, got_result, &call);
      WAIT_UNTIL (call != NULL);
      g_assert_false (hubs_connection_invoke_finish (connection, call, NULL, &error));
      /* The call fails with the error that ended the connection, as in
       * the JavaScript client. */
      assert_fault_error (fault, error);
      WAIT_UNTIL (f->closed->len == 1);
      assert_fault_error (fault, f->closed->pdata[0]);
      g_assert_cmpstr (error->message, ==, ((GError *) f->closed->pdata[0])->message);
      break;

    case EXPECT_CLOSED:
      g_assert_no_error (error);
      g_assert_true (started);
      WAIT_UNTIL (f->closed->len == 1);
      assert_fault_error (fault, f->closed->pdata[0]);
      g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
      break;

    case EXPECT_CALL_REJECTED:
      g_assert_no_error (error);
      g_assert_true (started);
      hubs_connection_invoke_async (connection, "Pending", 0, NULL, G_TYPE_INT, NULL, got_result, &call);
      WAIT_UNTIL (call != NULL);
      g_assert_false (hubs_connection_invoke_finish (connection, call, NULL, &error));
      assert_fault_error (fault, error);
      spin (100);
      g_assert_cmpuint (f->closed->len, ==, 0);
      g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTED);
      {
        g_autoptr(GAsyncResult) stopped = NULL;

        hubs_connection_stop_async (connection, NULL, got_result, &stopped);
        WAIT_UNTIL (stopped != NULL);
        g_assert_true (hubs_connection_stop_finish (connection, stopped, NULL));
      }
      break;

    case EXPECT_ALIVE:
    default:
      g_assert_no_error (error);
      g_assert_true (started);
      spin (300);
      g_assert_cmpuint (f->closed->len, ==, 0);
      g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTED);
      {
        g_autoptr(GAsyncResult) stopped = NULL;

        hubs_connection_stop_async (connection, NULL, got_result, &stopped);
        WAIT_UNTIL (stopped != NULL);
        g_assert_true (hubs_connection_stop_finish (connection, stopped, NULL));
      }
      break;
    }

  /* The client lets go of the socket in every case. */
  g_clear_object (&connection);
  WAIT_UNTIL (({ gboolean closed_; g_mutex_lock (&peer.lock); closed_ = peer.client_closed;
                 g_mutex_unlock (&peer.lock); closed_ || fault->expect == EXPECT_START_FAILS; }));
  g_socket_service_stop (peer.service);
  g_socket_listener_close (G_SOCKET_LISTENER (peer.service));
  spin (20);
  g_clear_object (&peer.service);
  g_mutex_clear (&peer.lock);
  g_ptr_array_unref (f->closed);
}

/* The same over the HTTP transports: a SoupServer negotiates one of them
 * and answers the Server-Sent Events request or the second poll with the
 * handshake answer and then the fault. */

typedef struct
{
  const char *name;
  HubsTransportType transport;
  const char *fault;            /* after the handshake answer */
  gsize fault_repeat;           /* the fault's text this many times */
  int code;
  const char *message_prefix;
} HttpFault;

static const HttpFault http_faults[] = {
  { "sse/oversized-event", HUBS_TRANSPORT_SERVER_SENT_EVENTS, "x", 70000,
    HUBS_ERROR_MESSAGE_TOO_LARGE, "The server sent an event larger than the maximum receive size of 65536B." },
  { "sse/bad-json", HUBS_TRANSPORT_SERVER_SENT_EVENTS, "{\"type\":1,\x1e", 1,
    HUBS_ERROR_INVALID_DATA, "Error reading JSON." },
  /* A single line of any length: GDataInputStream would keep it all */
  { "sse/endless-line", HUBS_TRANSPORT_SERVER_SENT_EVENTS, "x", 1 << 20,
    HUBS_ERROR_MESSAGE_TOO_LARGE, "The server sent an event larger than the maximum receive size of 65536B." },
  { "sse/multiline-event", HUBS_TRANSPORT_SERVER_SENT_EVENTS, "xxxxxxxxxx\r\ndata: ", 10000,
    HUBS_ERROR_MESSAGE_TOO_LARGE, "The server sent an event larger than the maximum receive size of 65536B." },
  /* A poll's body beyond the limit is not read whole. */
  { "longpolling/oversized-body", HUBS_TRANSPORT_LONG_POLLING, "x", 1 << 20,
    HUBS_ERROR_MESSAGE_TOO_LARGE, "The server sent a response larger than the maximum receive size of 65536B." },
  { "longpolling/bad-json", HUBS_TRANSPORT_LONG_POLLING, "{\"type\":1,\x1e", 1,
    HUBS_ERROR_INVALID_DATA, "Error reading JSON." },
};

typedef struct
{
  const HttpFault *fault;
  guint n_polls;
} HttpPeer;

static void
http_negotiate (SoupServer        *server,
                SoupServerMessage *message,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  HttpPeer *peer = user_data;
  g_autofree char *body = NULL;

  body = g_strdup_printf ("{\"negotiateVersion\":1,\"connectionId\":\"c\",\"connectionToken\":\"t\","
                          "\"availableTransports\":[{\"transport\":\"%s\",\"transferFormats\":[\"Text\"]}]}",
                          peer->fault->transport == HUBS_TRANSPORT_LONG_POLLING ? "LongPolling" : "ServerSentEvents");
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
}

static void
http_transport (SoupServer        *server,
                SoupServerMessage *message,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  HttpPeer *peer = user_data;
  const HttpFault *fault = peer->fault;
  gboolean sse = fault->transport == HUBS_TRANSPORT_SERVER_SENT_EVENTS;
  g_autoptr(GString) body = NULL;

  if (!g_str_equal (soup_server_message_get_method (message), "GET"))
    {
      /* The handshake and other sends; the DELETE of a stop */
      soup_server_message_set_status (message, g_str_equal (soup_server_message_get_method (message), "DELETE") ?
                                      SOUP_STATUS_ACCEPTED : SOUP_STATUS_OK, NULL);
      return;
    }

  body = g_string_new (NULL);
  if (!sse)
    {
      /* The first poll connects, the second answers the handshake, the
       * third brings the fault, those after end the connection. */
      peer->n_polls++;
      if (peer->n_polls == 2)
        g_string_append (body, "{}\x1e");
      else if (peer->n_polls == 3)
        for (gsize i = 0; i < fault->fault_repeat; i++)
          g_string_append (body, fault->fault);
      soup_server_message_set_status (message, peer->n_polls <= 3 ? SOUP_STATUS_OK : SOUP_STATUS_NO_CONTENT, NULL);
      soup_server_message_set_response (message, "text/plain", SOUP_MEMORY_COPY, body->str, body->len);
      return;
    }
  g_string_append (body, "data: {}\x1e\n\ndata: ");
  for (gsize i = 0; i < fault->fault_repeat; i++)
    g_string_append (body, fault->fault);
  g_string_append (body, "\n\n");
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "text/event-stream", SOUP_MEMORY_COPY, body->str, body->len);
}

static void
test_http_fault (gconstpointer data)
{
  const HttpFault *fault = data;
  HttpPeer peer = { fault, };
  Fixture fixture = { g_ptr_array_new_with_free_func (error_free_nullable) };
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  GSList *uris;
  GError *closed;

  soup_server_add_handler (server, "/hub/negotiate", http_negotiate, &peer, NULL);
  soup_server_add_handler (server, "/hub", http_transport, &peer, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%d/hub", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  connection = g_object_new (HUBS_TYPE_CONNECTION, "url", url, "transports", fault->transport,
                             "max-receive-size", MAX_RECEIVE, NULL);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), &fixture);
  hubs_connection_start_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_start_finish (connection, result, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (fixture.closed->len == 1);
  closed = fixture.closed->pdata[0];
  g_assert_nonnull (closed);
  g_test_message ("%s: %s", fault->name, closed->message);
  g_assert_error (closed, HUBS_ERROR, fault->code);
  g_assert_true (g_str_has_prefix (closed->message, fault->message_prefix));
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_DISCONNECTED);

  g_clear_object (&connection);
  spin (20);
  soup_server_disconnect (server);
  g_ptr_array_unref (fixture.closed);
}

/* A TCP peer that accepts and then says nothing: the HTTP timeout */

static gboolean
hold_connection (GSocketService    *service,
                 GSocketConnection *connection,
                 GObject           *source_object,
                 GPtrArray         *held)
{
  g_ptr_array_add (held, g_object_ref (connection));
  return TRUE;
}

static void
test_silent_peer (void)
{
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  gint64 started;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (hold_connection), held);
  g_socket_service_start (service);

  url = g_strdup_printf ("http://127.0.0.1:%u/hub", port);
  connection = g_object_new (HUBS_TYPE_CONNECTION, "url", url, "http-timeout", 1000, NULL);
  started = g_get_monotonic_time ();
  hubs_connection_start_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_false (hubs_connection_start_finish (connection, result, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_true (g_str_has_prefix (error->message, "Failed to complete negotiation with the server: "));
  g_assert_cmpint (g_get_monotonic_time () - started, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (held->len, >=, 1);

  g_clear_object (&connection);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}

/* The real server, killed or stopped mid-call */

#ifdef __linux__
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}
#endif

/* Why the server cannot be started, or NULL. */
static char *
server_unavailable (gboolean aspnetcore)
{
  g_autofree char *dotnet = NULL;
  g_autofree char *dll = NULL;

  if (!aspnetcore)
    return g_getenv ("HUBS_INTEROP_SERVER") == NULL ?
           g_strdup ("HUBS_INTEROP_SERVER does not name the interop server") : NULL;

  dotnet = g_find_program_in_path ("dotnet");
  dll = g_test_build_filename (G_TEST_DIST, "aspnetcore-interop", "bin", "Release", "net10.0",
                               "Interop.dll", NULL);
  if (dotnet == NULL)
    return g_strdup ("dotnet is not installed: no ASP.NET Core server to test against");
  if (!g_file_test (dll, G_FILE_TEST_EXISTS))
    return g_strdup_printf ("%s is not built: run `dotnet build -c Release` in "
                            "tests/aspnetcore-interop (build-aux/setup-deps does)", dll);
  return NULL;
}

static GSubprocess *
server_spawn (gboolean   aspnetcore,
              guint      port,
              char     **url)
{
  const char *program = g_getenv ("HUBS_INTEROP_SERVER");
  g_autofree char *dotnet = g_find_program_in_path ("dotnet");
  g_autofree char *dll = g_test_build_filename (G_TEST_DIST, "aspnetcore-interop", "bin", "Release",
                                                "net10.0", "Interop.dll", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GDataInputStream) output = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *line = NULL;
  GSubprocess *process;

#ifdef __linux__
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
#endif
  if (aspnetcore)
    process = g_subprocess_launcher_spawn (launcher, &error, dotnet, dll, "--port", port_text, NULL);
  else
    process = g_subprocess_launcher_spawn (launcher, &error, program, "--port", port_text, NULL);
  g_assert_no_error (error);
  output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  line = g_data_input_stream_read_line_utf8 (output, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "Now listening on: "));
  if (url != NULL)
    *url = g_strdup (line + strlen ("Now listening on: "));
  return process;
}

typedef struct
{
  HubsTransportType transport;
  gboolean stop_server;         /* SIGSTOP instead of SIGKILL */
  gboolean aspnetcore;          /* the reference instead of hubs-interop-server */
} Outage;

typedef struct
{
  GPtrArray *reconnecting;
  guint n_reconnected;
  guint n_closed;
} Watched;

static void
on_reconnecting (HubsConnection *connection,
                 const GError   *error,
                 Watched        *watched)
{
  g_ptr_array_add (watched->reconnecting, error != NULL ? g_error_copy (error) : NULL);
}

static void
on_reconnected (HubsConnection *connection,
                const char     *connection_id,
                Watched        *watched)
{
  watched->n_reconnected++;
}

static void
on_outage_closed (HubsConnection *connection,
                  const GError   *error,
                  Watched        *watched)
{
  watched->n_closed++;
}

static gint64
retry_soon (HubsConnection *connection,
            guint           previous_retry_count,
            gint64          elapsed_ms,
            const GError   *retry_reason,
            gpointer        user_data)
{
  return elapsed_ms < 15000 ? 100 : -1;
}

static void
test_outage (gconstpointer data)
{
  const Outage *outage = data;
  Watched watched = { g_ptr_array_new_with_free_func (error_free_nullable), };
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(HubsConnection) connection = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) call = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *url = NULL;
  g_autofree char *first_id = NULL;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_auto(GValue) value = G_VALUE_INIT;
  guint port;
  GError *reason;

  g_autofree char *unavailable = server_unavailable (outage->aspnetcore);

  if (unavailable != NULL)
    {
      g_test_skip (unavailable);
      g_ptr_array_unref (watched.reconnecting);
      return;
    }

  server = server_spawn (outage->aspnetcore, 0, &base);
  {
    g_autoptr(GUri) uri = g_uri_parse (base, G_URI_FLAGS_NONE, NULL);

    port = g_uri_get_port (uri);
  }
  url = g_strconcat (base, "/featurehub", NULL);
  connection = g_object_new (HUBS_TYPE_CONNECTION, "url", url, "transports", outage->transport,
                             "automatic-reconnect", TRUE, "server-timeout", 1000,
                             "keep-alive-interval", 200, NULL);
  hubs_connection_set_reconnect_policy (connection, retry_soon, NULL, NULL);
  g_signal_connect (connection, "reconnecting", G_CALLBACK (on_reconnecting), &watched);
  g_signal_connect (connection, "reconnected", G_CALLBACK (on_reconnected), &watched);
  g_signal_connect (connection, "closed", G_CALLBACK (on_outage_closed), &watched);
  hubs_connection_start_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_start_finish (connection, result, &error));
  g_assert_no_error (error);
  first_id = g_strdup (hubs_connection_get_connection_id (connection));

  /* A call the server will not answer in time */
  g_value_init (&args[0], G_TYPE_STRING);
  g_value_set_string (&args[0], "late");
  g_value_init (&args[1], G_TYPE_INT);
  g_value_set_int (&args[1], 60000);
  hubs_connection_invoke_async (connection, "DelayedEcho", 2, args, G_TYPE_STRING, NULL, got_result, &call);
  spin (200);
  g_assert_null (call);

  if (outage->stop_server)
    g_subprocess_send_signal (server, SIGSTOP);
  else
    {
      g_subprocess_force_exit (server);
      g_subprocess_wait (server, NULL, NULL);
    }

  WAIT_UNTIL (call != NULL);
  g_assert_false (hubs_connection_invoke_finish (connection, call, NULL, &error));
  g_test_message ("the call: %s", error->message);
  WAIT_UNTIL (watched.reconnecting->len == 1);
  reason = watched.reconnecting->pdata[0];
  /* The call fails with why the connection was lost. A Server-Sent Events
   * stream or a poll that just ends gives no reason, as EventSource gives
   * the JavaScript client none: then the reference's text. */
  if (reason == NULL)
    {
      g_assert_true (outage->transport != HUBS_TRANSPORT_WEB_SOCKETS);
      g_assert_error (error, HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED);
      g_assert_cmpstr (error->message, ==, "Invocation canceled due to the underlying connection being closed.");
    }
  else
    {
      g_test_message ("reconnecting: %s", reason->message);
      g_assert_true (error->domain == reason->domain && error->code == reason->code);
      g_assert_cmpstr (error->message, ==, reason->message);
    }
  g_clear_error (&error);
  if (outage->stop_server)
    {
      g_assert_nonnull (reason);
      g_assert_error (reason, HUBS_ERROR, HUBS_ERROR_TIMED_OUT);
      g_assert_cmpstr (reason->message, ==, "Server timeout elapsed without receiving a message from the server.");
      g_subprocess_send_signal (server, SIGCONT);
    }
  else
    {
      spin (300);
      g_clear_object (&server);
      server = server_spawn (outage->aspnetcore, port, NULL);
    }

  WAIT_UNTIL (watched.n_reconnected == 1);
  g_assert_cmpint (hubs_connection_get_state (connection), ==, HUBS_CONNECTION_STATE_CONNECTED);
  g_assert_cmpstr (hubs_connection_get_connection_id (connection), !=, first_id);
  g_value_set_int (&args[1], 0);
  g_clear_object (&call);
  hubs_connection_invoke_async (connection, "DelayedEcho", 2, args, G_TYPE_STRING, NULL, got_result, &call);
  WAIT_UNTIL (call != NULL);
  g_assert_true (hubs_connection_invoke_finish (connection, call, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "late");
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);

  g_clear_object (&result);
  hubs_connection_stop_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_stop_finish (connection, result, NULL));
  g_assert_cmpuint (watched.n_closed, ==, 1);
  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
  g_ptr_array_unref (watched.reconnecting);
}

static const Outage outages[] = {
  { HUBS_TRANSPORT_WEB_SOCKETS, FALSE, FALSE },
  { HUBS_TRANSPORT_SERVER_SENT_EVENTS, FALSE, FALSE },
  { HUBS_TRANSPORT_LONG_POLLING, FALSE, FALSE },
  { HUBS_TRANSPORT_WEB_SOCKETS, TRUE, FALSE },
  { HUBS_TRANSPORT_SERVER_SENT_EVENTS, TRUE, FALSE },
  { HUBS_TRANSPORT_WEB_SOCKETS, FALSE, TRUE },
  { HUBS_TRANSPORT_SERVER_SENT_EVENTS, FALSE, TRUE },
  { HUBS_TRANSPORT_LONG_POLLING, FALSE, TRUE },
  { HUBS_TRANSPORT_WEB_SOCKETS, TRUE, TRUE },
  { HUBS_TRANSPORT_SERVER_SENT_EVENTS, TRUE, TRUE },
};

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hubs/client-faults/%s", faults[i].name);

      g_test_add_data_func (path, &faults[i], test_fault);
    }
  g_test_add_func ("/hubs/client-faults/silent-peer", test_silent_peer);
  for (gsize i = 0; i < G_N_ELEMENTS (http_faults); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hubs/client-faults/%s", http_faults[i].name);

      g_test_add_data_func (path, &http_faults[i], test_http_fault);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (outages); i++)
    {
      const char *transport = outages[i].transport == HUBS_TRANSPORT_WEB_SOCKETS ? "websockets" :
                              outages[i].transport == HUBS_TRANSPORT_LONG_POLLING ? "longpolling" : "sse";
      g_autofree char *path = g_strdup_printf ("/hubs/client-faults/%s/server-%s/%s",
                                               outages[i].aspnetcore ? "aspnetcore" : "hubs",
                                               outages[i].stop_server ? "stopped" : "gone", transport);

      g_test_add_data_func (path, &outages[i], test_outage);
    }

  return g_test_run ();
}
