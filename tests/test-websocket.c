/* test-websocket.c: the WebSocket transport against a raw client
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The transport gets one end of a socketpair as its upgraded stream; the
 * test plays the client with hand-made frames on the other end, and runs
 * the transport's main context between its steps.
 */

#include "hubs-transport-private.h"
#include "hubs-error.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 5000

enum
{
  OP_CONT = 0x0,
  OP_TEXT = 0x1,
  OP_BINARY = 0x2,
  OP_CLOSE = 0x8,
  OP_PING = 0x9,
  OP_PONG = 0xA,
  FIN = 0x80,
};

typedef enum
{
  CLIENT_READS_NOTHING,
  CLIENT_READS_ALL,
  CLIENT_READS_SLOWLY,
} ClientReading;

typedef struct
{
  GMainContext *context;
  GSource *tick;
  int client_fd;
  gboolean client_eof;
  ClientReading client_reading;
  GByteArray *client_in;
  GIOStream *stream;
  HubsTransport *transport;
  GByteArray *received;
  guint received_calls;
  guint closed_count;
  GError *closed_error;
  guint drained_count;
  gboolean pause_in_received;
  gboolean unref_in_closed;
} Fixture;

typedef struct
{
  guint8 opcode;
  gboolean fin;
  GByteArray *payload;
} ServerFrame;

static void
server_frame_clear (ServerFrame *frame)
{
  g_clear_pointer (&frame->payload, g_byte_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ServerFrame, server_frame_clear)

/* Fixture */

static void
on_received (gpointer      user_data,
             const guint8 *data,
             gsize         length)
{
  Fixture *f = user_data;

  g_assert_cmpuint (length, >, 0);
  g_byte_array_append (f->received, data, length);
  f->received_calls++;

  if (f->pause_in_received)
    hubs_transport_set_receiving (f->transport, FALSE);
}

static void
on_closed (gpointer      user_data,
           const GError *error)
{
  Fixture *f = user_data;

  f->closed_count++;
  if (error != NULL)
    f->closed_error = g_error_copy (error);

  if (f->unref_in_closed)
    g_clear_object (&f->transport);
}

static void
on_drained (gpointer user_data)
{
  Fixture *f = user_data;

  f->drained_count++;
}

static const HubsTransportCallbacks callbacks = {
  .received = on_received,
  .closed = on_closed,
  .drained = on_drained,
};

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
fixture_open (Fixture                    *f,
              const HubsWebSocketOptions *options,
              gboolean                    start)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  int fds[2];

  memset (f, 0, sizeof *f);

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);

  /* Wakes a blocking iteration while the test waits on its own socket. */
  f->tick = g_timeout_source_new (2);
  g_source_set_callback (f->tick, on_tick, NULL, NULL);
  g_source_attach (f->tick, f->context);

  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  f->stream = G_IO_STREAM (g_socket_connection_factory_create_connection (socket));

  f->client_fd = fds[1];
  g_assert_no_errno (fcntl (f->client_fd, F_SETFL, O_NONBLOCK));
  f->client_in = g_byte_array_new ();
  f->client_reading = CLIENT_READS_ALL;
  f->received = g_byte_array_new ();

  f->transport = hubs_websocket_transport_new (f->stream, options);
  g_assert_nonnull (f->transport);
  hubs_transport_set_callbacks (f->transport, &callbacks, f);
  if (start)
    hubs_transport_start (f->transport);
}

static void
fixture_close (Fixture *f)
{
  g_clear_object (&f->transport);
  g_clear_object (&f->stream);
  close (f->client_fd);

  /* Lets the stream's asynchronous close complete. */
  while (g_main_context_iteration (f->context, FALSE))
    ;

  g_source_destroy (f->tick);
  g_source_unref (f->tick);
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);

  g_byte_array_unref (f->client_in);
  g_byte_array_unref (f->received);
  g_clear_error (&f->closed_error);
}

/* The client */

static void
client_read_available (Fixture *f)
{
  guint8 buffer[65536];
  gsize limit = f->client_reading == CLIENT_READS_SLOWLY ? 4096 : sizeof buffer;

  while (f->client_reading != CLIENT_READS_NOTHING && !f->client_eof)
    {
      ssize_t n = recv (f->client_fd, buffer, limit, 0);

      if (n > 0)
        g_byte_array_append (f->client_in, buffer, n);
      else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        f->client_eof = TRUE;

      if (n <= 0 || f->client_reading == CLIENT_READS_SLOWLY)
        break;
    }
}

static void
pump_once (Fixture *f)
{
  g_main_context_iteration (f->context, TRUE);
  client_read_available (f);
}

#define pump_until(f, condition) \
  G_STMT_START { \
    gint64 deadline_ = g_get_monotonic_time () + TIMEOUT_MS * G_TIME_SPAN_MILLISECOND; \
    while (!(condition)) \
      { \
        if (g_get_monotonic_time () > deadline_) \
          g_error ("Timed out waiting for %s", #condition); \
        pump_once (f); \
      } \
  } G_STMT_END

static void
pump_for (Fixture *f,
          guint    ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    pump_once (f);
}

static void
client_write (Fixture    *f,
              const void *data,
              gsize       length)
{
  const guint8 *p = data;

  while (length > 0)
    {
      ssize_t n = send (f->client_fd, p, length, MSG_NOSIGNAL);

      if (n > 0)
        {
          p += n;
          length -= n;
        }
      else if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          pump_once (f);
        }
      else
        {
          /* The server closed: what is left cannot matter. */
          return;
        }
    }
}

/* Appends a client frame. @len_form forces a length encoding: 0 chooses,
 * 7, 16 or 64 force one. */
static void
build_frame (GByteArray  *out,
             guint8       b0,
             const void  *payload,
             gsize        length,
             gboolean     masked,
             guint        len_form)
{
  static const guint8 key[4] = { 0x37, 0xfa, 0x21, 0x3d };
  guint8 header[14];
  gsize header_len = 0;
  gsize start;

  if (len_form == 0)
    len_form = length < 126 ? 7 : length <= 0xFFFF ? 16 : 64;

  header[header_len++] = b0;
  if (len_form == 7)
    {
      header[header_len++] = (masked ? 0x80 : 0) | length;
    }
  else if (len_form == 16)
    {
      header[header_len++] = (masked ? 0x80 : 0) | 126;
      header[header_len++] = length >> 8;
      header[header_len++] = length & 0xFF;
    }
  else
    {
      header[header_len++] = (masked ? 0x80 : 0) | 127;
      for (guint i = 0; i < 8; i++)
        header[header_len++] = ((guint64) length >> (56 - 8 * i)) & 0xFF;
    }

  if (masked)
    {
      memcpy (header + header_len, key, 4);
      header_len += 4;
    }

  g_byte_array_append (out, header, header_len);
  start = out->len;
  if (length > 0)
    g_byte_array_append (out, payload, length);
  if (masked)
    for (gsize i = 0; i < length; i++)
      out->data[start + i] ^= key[i & 3];
}

static void
client_send_frame (Fixture    *f,
                   guint8      b0,
                   const void *payload,
                   gsize       length)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();

  build_frame (frame, b0, payload, length, TRUE, 0);
  client_write (f, frame->data, frame->len);
}

static void
client_send_text (Fixture    *f,
                  const char *text)
{
  client_send_frame (f, FIN | OP_TEXT, text, strlen (text));
}

static void
client_send_close (Fixture    *f,
                   guint16     code,
                   const char *reason)
{
  g_autoptr(GByteArray) payload = g_byte_array_new ();
  guint8 code_bytes[2] = { code >> 8, code & 0xFF };

  g_byte_array_append (payload, code_bytes, 2);
  g_byte_array_append (payload, (const guint8 *) reason, strlen (reason));
  client_send_frame (f, FIN | OP_CLOSE, payload->data, payload->len);
}

/* Takes one complete server frame from what the client has read. */
static gboolean
client_take_frame (Fixture     *f,
                   ServerFrame *frame)
{
  const guint8 *data = f->client_in->data;
  gsize available = f->client_in->len;
  guint64 length;
  gsize header_len;

  if (available < 2)
    return FALSE;

  g_assert_cmpuint (data[0] & 0x70, ==, 0);
  g_assert_cmpuint (data[1] & 0x80, ==, 0);     /* servers do not mask */

  length = data[1] & 0x7F;
  header_len = 2;
  if (length == 126)
    {
      if (available < 4)
        return FALSE;
      length = (data[2] << 8) | data[3];
      g_assert_cmpuint (length, >=, 126);
      header_len = 4;
    }
  else if (length == 127)
    {
      if (available < 10)
        return FALSE;
      length = 0;
      for (guint i = 0; i < 8; i++)
        length = (length << 8) | data[2 + i];
      g_assert_cmpuint (length, >, 0xFFFF);
      header_len = 10;
    }

  if (available < header_len + length)
    return FALSE;

  frame->opcode = data[0] & 0x0F;
  frame->fin = (data[0] & 0x80) != 0;
  frame->payload = g_byte_array_new ();
  g_byte_array_append (frame->payload, data + header_len, length);
  g_byte_array_remove_range (f->client_in, 0, header_len + length);

  return TRUE;
}

static void
expect_frame (Fixture     *f,
              ServerFrame *frame)
{
  pump_until (f, client_take_frame (f, frame));
}

static void
expect_close_frame (Fixture *f,
                    guint16  code)
{
  g_auto(ServerFrame) frame = { 0 };

  expect_frame (f, &frame);
  g_assert_cmpuint (frame.opcode, ==, OP_CLOSE);
  g_assert_true (frame.fin);
  g_assert_cmpuint (frame.payload->len, ==, 2);
  g_assert_cmpuint ((frame.payload->data[0] << 8) | frame.payload->data[1], ==, code);
}

static void
expect_eof (Fixture *f)
{
  pump_until (f, f->client_eof);
  g_assert_cmpuint (f->client_in->len, ==, 0);
}

static void
expect_received (Fixture    *f,
                 const void *data,
                 gsize       length)
{
  pump_until (f, f->received->len >= length);
  g_assert_cmpmem (f->received->data, f->received->len, data, length);
}

/* hubs_transport_send() takes its own reference. */
static void
send_take (HubsTransport *transport,
           GBytes        *bytes)
{
  hubs_transport_send (transport, bytes);
  g_bytes_unref (bytes);
}

/* Tests */

static void
test_text (void)
{
  const char *handshake = "{\"protocol\":\"json\",\"version\":1}\x1e";
  /* 2-, 3- and 4-byte forms, U+10FFFF, and either side of the surrogates */
  const char *text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80";
  g_autofree char *expected = g_strconcat (handshake, text, NULL);
  Fixture f;

  fixture_open (&f, NULL, TRUE);
  g_assert_cmpuint (hubs_transport_get_transport_type (f.transport), ==,
                    HUBS_TRANSPORT_WEB_SOCKETS);

  client_send_text (&f, handshake);
  client_send_text (&f, "");
  client_send_text (&f, text);
  expect_received (&f, expected, strlen (expected));
  g_assert_cmpuint (f.closed_count, ==, 0);

  fixture_close (&f);
}

static void
test_binary (void)
{
  guint8 payload[256];
  Fixture f;

  for (guint i = 0; i < sizeof payload; i++)
    payload[i] = i;

  fixture_open (&f, NULL, TRUE);
  /* Not UTF-8, which binary frames need not be. */
  client_send_frame (&f, FIN | OP_BINARY, payload, sizeof payload);
  client_send_frame (&f, FIN | OP_BINARY, payload + 128, 3);
  pump_until (&f, f.received->len == sizeof payload + 3);
  g_assert_cmpmem (f.received->data, sizeof payload, payload, sizeof payload);
  g_assert_cmpmem (f.received->data + sizeof payload, 3, payload + 128, 3);
  g_assert_cmpuint (f.closed_count, ==, 0);

  fixture_close (&f);
}

static void
test_fragmented_with_pings (void)
{
  const char *pieces[] = { "The ", "quick brown ", "", "fox jumps \xe2\x82", "\xac over ", "the lazy dog" };
  g_autoptr(GString) whole = g_string_new (NULL);
  Fixture f;

  fixture_open (&f, NULL, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (pieces); i++)
    {
      g_autofree char *ping = g_strdup_printf ("ping %u", i);
      g_auto(ServerFrame) pong = { 0 };
      guint8 b0 = (i == 0 ? OP_TEXT : OP_CONT) | (i == G_N_ELEMENTS (pieces) - 1 ? FIN : 0);

      client_send_frame (&f, b0, pieces[i], strlen (pieces[i]));
      g_string_append (whole, pieces[i]);

      if (i < G_N_ELEMENTS (pieces) - 1)
        {
          client_send_frame (&f, FIN | OP_PING, ping, strlen (ping));
          /* A pong from the client is ignored, inside a message too. */
          client_send_frame (&f, FIN | OP_PONG, "unsolicited", 11);
          expect_frame (&f, &pong);
          g_assert_cmpuint (pong.opcode, ==, OP_PONG);
          g_assert_true (pong.fin);
          g_assert_cmpmem (pong.payload->data, pong.payload->len, ping, strlen (ping));
        }
    }

  expect_received (&f, whole->str, whole->len);

  /* An empty ping gets an empty pong. */
  {
    g_auto(ServerFrame) pong = { 0 };

    client_send_frame (&f, FIN | OP_PING, NULL, 0);
    expect_frame (&f, &pong);
    g_assert_cmpuint (pong.opcode, ==, OP_PONG);
    g_assert_cmpuint (pong.payload->len, ==, 0);
  }

  g_assert_cmpuint (f.closed_count, ==, 0);
  fixture_close (&f);
}

static void
test_pings_coalesced (void)
{
  g_autoptr(GByteArray) pings = g_byte_array_new ();
  g_auto(ServerFrame) pong = { 0 };
  Fixture f;

  fixture_open (&f, NULL, TRUE);

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *ping = g_strdup_printf ("ping %u", i);

      build_frame (pings, FIN | OP_PING, ping, strlen (ping), TRUE, 0);
    }
  client_write (&f, pings->data, pings->len);

  /* Only the latest ping must be answered; every pong echoes some ping. */
  for (;;)
    {
      g_auto(ServerFrame) frame = { 0 };
      g_autofree char *text = NULL;

      expect_frame (&f, &frame);
      g_assert_cmpuint (frame.opcode, ==, OP_PONG);
      text = g_strndup ((const char *) frame.payload->data, frame.payload->len);
      g_assert_true (g_str_has_prefix (text, "ping "));
      if (g_str_equal (text, "ping 49"))
        break;
    }

  pump_for (&f, 20);
  g_assert_false (client_take_frame (&f, &pong));
  fixture_close (&f);
}

static void
test_header_byte_by_byte (void)
{
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autofree char *medium = NULL;
  g_autofree char *large = NULL;
  Fixture f;

  medium = g_strnfill (300, 'm');
  large = g_strnfill (70000, 'L');
  memcpy (medium + 100, "\xf0\x9f\x98\x80", 4);   /* split byte by byte below */

  build_frame (frames, FIN | OP_TEXT, "tiny", 4, TRUE, 0);
  build_frame (frames, FIN | OP_TEXT, medium, 300, TRUE, 0);
  build_frame (frames, FIN | OP_TEXT, "short but in 64 bits", 20, TRUE, 64);
  build_frame (frames, FIN | OP_TEXT, large, 70000, TRUE, 0);
  g_string_append (expected, "tiny");
  g_string_append_len (expected, medium, 300);
  g_string_append (expected, "short but in 64 bits");

  fixture_open (&f, NULL, TRUE);

  /* Byte by byte, with the transport running after each: the headers of
   * every length form are split everywhere. */
  for (guint i = 0; i < frames->len - 70000; i++)
    {
      client_write (&f, frames->data + i, 1);
      g_main_context_iteration (f.context, FALSE);
      g_main_context_iteration (f.context, FALSE);
    }
  client_write (&f, frames->data + frames->len - 70000, 70000);

  g_string_append_len (expected, large, 70000);
  expect_received (&f, expected->str, expected->len);
  g_assert_cmpuint (f.closed_count, ==, 0);

  fixture_close (&f);
}

static void
test_lengths (void)
{
  g_autofree guint8 *data = g_malloc (200000);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  Fixture f;

  for (guint i = 0; i < 200000; i++)
    data[i] = g_rand_int_range (rand, 0, 256);

  fixture_open (&f, NULL, TRUE);

  client_send_frame (&f, FIN | OP_BINARY, data, 125);
  client_send_frame (&f, FIN | OP_BINARY, data + 125, 126);
  client_send_frame (&f, FIN | OP_BINARY, data + 251, 65535);
  client_send_frame (&f, FIN | OP_BINARY, data + 65786, 65536);
  client_send_frame (&f, FIN | OP_BINARY, data + 131322, 200000 - 131322);
  expect_received (&f, data, 200000);

  fixture_close (&f);
}

/* Protocol errors, table-driven */

typedef struct
{
  guint8 b0;
  const char *payload;
  gssize length;        /* -1: strlen */
  gboolean unmasked;
  guint len_form;
} FrameSpec;

typedef struct
{
  const char *name;
  FrameSpec frames[4];
  const char *raw;      /* sent after the frames */
  gsize raw_len;
  gsize max_frame_size;
  guint16 close_code;
  HubsError error_code;
  gsize delivered;      /* bytes delivered before the error */
} ErrorCase;

static const char payload_126[127] =
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

#define FRAME(b0, text) { (b0), (text), -1, FALSE, 0 }
#define FRAME_LEN(b0, text, len) { (b0), (text), (len), FALSE, 0 }

static const ErrorCase error_cases[] = {
  { "unmasked", { { FIN | OP_TEXT, "hello", -1, TRUE, 0 } },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "unmasked-after-data", { FRAME (FIN | OP_TEXT, "ok"), { FIN | OP_BINARY, "no", -1, TRUE, 0 } },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 2 },
  { "rsv1", { FRAME (FIN | 0x40 | OP_TEXT, "hello") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "rsv2", { FRAME (FIN | 0x20 | OP_BINARY, "hello") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "rsv3-ping", { FRAME (FIN | 0x10 | OP_PING, "hello") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "opcode-3", { FRAME (FIN | 0x3, "hello") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "opcode-7", { FRAME (FIN | 0x7, "") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "opcode-b", { FRAME (FIN | 0xB, "hello") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "opcode-f", { FRAME (FIN | 0xF, "") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "fragmented-ping", { FRAME (OP_PING, "a"), FRAME (FIN | OP_CONT, "b") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "fragmented-close", { FRAME (OP_CLOSE, "") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "ping-126", { FRAME_LEN (FIN | OP_PING, payload_126, 126) },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "pong-126", { FRAME_LEN (FIN | OP_PONG, payload_126, 126) },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-126", { FRAME_LEN (FIN | OP_CLOSE, payload_126, 126) },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "ping-125-in-16-bits", { { FIN | OP_PING, payload_126, 125, FALSE, 16 } },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "continuation-first", { FRAME (FIN | OP_CONT, "hello") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "continuation-after-end", { FRAME (OP_TEXT, "a"), FRAME (FIN | OP_CONT, "b"), FRAME (FIN | OP_CONT, "c") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 2 },
  { "text-inside-message", { FRAME (OP_TEXT, "a"), FRAME (FIN | OP_TEXT, "b") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 1 },
  { "binary-inside-message", { FRAME (OP_BINARY, "a"), FRAME (FIN | OP_PING, ""), FRAME (OP_BINARY, "b") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 1 },
  { "length-64-msb", { { 0 } },
    "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x01\x01\x02\x03\x04", 14, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-1-byte", { FRAME (FIN | OP_CLOSE, "\x03") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-0", { FRAME_LEN (FIN | OP_CLOSE, "\x00\x00", 2) },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-999", { FRAME (FIN | OP_CLOSE, "\x03\xe7") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-1004", { FRAME (FIN | OP_CLOSE, "\x03\xec") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-1005", { FRAME (FIN | OP_CLOSE, "\x03\xedno status") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-1006", { FRAME (FIN | OP_CLOSE, "\x03\xee") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-1015", { FRAME (FIN | OP_CLOSE, "\x03\xf7") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-2999", { FRAME (FIN | OP_CLOSE, "\x0b\xb7") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-5000", { FRAME (FIN | OP_CLOSE, "\x13\x88") },
    NULL, 0, 0, 1002, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-reason-utf8", { FRAME (FIN | OP_CLOSE, "\x03\xe8" "bad \xc0\xaf") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "close-reason-truncated", { FRAME (FIN | OP_CLOSE, "\x03\xe8" "bad \xe2\x82") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-ff", { FRAME (FIN | OP_TEXT, "ab\xff") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-lone-continuation", { FRAME (FIN | OP_TEXT, "\x80") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-overlong-2", { FRAME (FIN | OP_TEXT, "\xc0\xaf") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-overlong-3", { FRAME (FIN | OP_TEXT, "\xe0\x80\xaf") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-overlong-4", { FRAME (FIN | OP_TEXT, "\xf0\x80\x80\xaf") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-surrogate", { FRAME (FIN | OP_TEXT, "\xed\xa0\x80") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-above-10ffff", { FRAME (FIN | OP_TEXT, "\xf4\x90\x80\x80") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-f5", { FRAME (FIN | OP_TEXT, "\xf5\x80\x80\x80") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-short-sequence", { FRAME (FIN | OP_TEXT, "\xe2\x82z") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 0 },
  { "utf8-invalid-in-fragment", { FRAME (OP_TEXT, "fine "), FRAME (FIN | OP_CONT, "\xed\xbf\xbf") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 5 },
  { "utf8-invalid-across-fragments", { FRAME (OP_TEXT, "ok \xf0\x9f"), FRAME (FIN | OP_CONT, "\x98z") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 3 },
  { "utf8-truncated-at-end", { FRAME (FIN | OP_TEXT, "abc\xe2\x82") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 3 },
  { "utf8-truncated-across-fragments", { FRAME (OP_TEXT, "abc\xf0"), FRAME (OP_CONT, "\x9f"), FRAME (FIN | OP_CONT, "\x98") },
    NULL, 0, 0, 1007, HUBS_ERROR_INVALID_DATA, 3 },
  { "too-big", { FRAME (FIN | OP_TEXT, "0123456789"), FRAME (FIN | OP_TEXT, "0123456789a") },
    NULL, 0, 10, 1009, HUBS_ERROR_MESSAGE_TOO_LARGE, 10 },
  { "too-big-fragment", { FRAME (OP_BINARY, "0123456789"), FRAME (FIN | OP_CONT, "0123456789a") },
    NULL, 0, 10, 1009, HUBS_ERROR_MESSAGE_TOO_LARGE, 10 },
  { "too-big-64", { { 0 } },
    "\x82\xff\x00\x00\x00\x01\x00\x00\x00\x00\x01\x02\x03\x04", 14, 1000, 1009, HUBS_ERROR_MESSAGE_TOO_LARGE, 0 },
};

static void
test_protocol_error (gconstpointer data)
{
  const ErrorCase *c = data;
  HubsWebSocketOptions options = {
    .max_frame_size = c->max_frame_size,
    .high_watermark = 65536,
    .low_watermark = 16384,
    .close_timeout_ms = 5000,
  };
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  Fixture f;

  for (guint i = 0; i < G_N_ELEMENTS (c->frames) && c->frames[i].payload != NULL; i++)
    {
      const FrameSpec *spec = &c->frames[i];
      gsize length = spec->length >= 0 ? (gsize) spec->length : strlen (spec->payload);

      build_frame (bytes, spec->b0, spec->payload, length, !spec->unmasked, spec->len_form);
    }
  if (c->raw != NULL)
    g_byte_array_append (bytes, (const guint8 *) c->raw, c->raw_len);

  fixture_open (&f, &options, TRUE);

  /* Data the server queued is dropped: the close leaves at once. */
  send_take (f.transport, g_bytes_new_static ("queued", 6));
  f.client_reading = CLIENT_READS_NOTHING;
  client_write (&f, bytes->data, bytes->len);
  f.client_reading = CLIENT_READS_ALL;

  {
    g_auto(ServerFrame) frame = { 0 };

    /* The queued message may have left before the bad frame was read. */
    expect_frame (&f, &frame);
    if (frame.opcode == OP_TEXT)
      {
        server_frame_clear (&frame);
        expect_frame (&f, &frame);
      }
    g_assert_cmpuint (frame.opcode, ==, OP_CLOSE);
    g_assert_cmpuint (frame.payload->len, ==, 2);
    g_assert_cmpuint ((frame.payload->data[0] << 8) | frame.payload->data[1], ==, c->close_code);
  }

  expect_eof (&f);
  pump_until (&f, f.closed_count > 0);
  g_assert_cmpuint (f.closed_count, ==, 1);
  g_assert_error (f.closed_error, HUBS_ERROR, (gint) c->error_code);
  g_assert_true (hubs_transport_is_closed (f.transport));
  g_assert_cmpuint (f.received->len, ==, c->delivered);
  g_assert_cmpuint (hubs_transport_get_queued_bytes (f.transport), ==, 0);

  pump_for (&f, 10);
  g_assert_cmpuint (f.closed_count, ==, 1);
  fixture_close (&f);
}

static void
test_utf8_split (void)
{
  const char *emoji = "\xf0\x9f\x98\x80";
  g_autoptr(GString) expected = g_string_new (NULL);
  Fixture f;

  fixture_open (&f, NULL, TRUE);

  /* A code point across two frames. */
  client_send_frame (&f, OP_TEXT, "caf\xc3", 4);
  client_send_frame (&f, FIN | OP_CONT, "\xa9!", 2);
  g_string_append (expected, "caf\xc3\xa9!");

  /* A 4-byte code point across four frames, a ping in between. */
  client_send_frame (&f, OP_TEXT, emoji, 1);
  client_send_frame (&f, OP_CONT, emoji + 1, 1);
  client_send_frame (&f, FIN | OP_PING, "p", 1);
  client_send_frame (&f, OP_CONT, emoji + 2, 1);
  client_send_frame (&f, FIN | OP_CONT, emoji + 3, 1);
  g_string_append (expected, emoji);

  expect_received (&f, expected->str, expected->len);

  /* Held-back bytes are never delivered alone: every delivery so far
   * ended on a code point boundary. */
  g_assert_true (g_utf8_validate ((const char *) f.received->data, f.received->len, NULL));

  /* An incomplete sequence is not delivered before it is complete. */
  {
    guint before = f.received->len;

    client_send_frame (&f, OP_TEXT, "x\xe2\x82", 3);
    pump_until (&f, f.received->len == before + 1);
    pump_for (&f, 20);
    g_assert_cmpuint (f.received->len, ==, before + 1);
    client_send_frame (&f, FIN | OP_CONT, "\xac", 1);
    pump_until (&f, f.received->len == before + 4);
    g_assert_cmpmem (f.received->data + before, 4, "x\xe2\x82\xac", 4);
  }

  g_assert_cmpuint (f.closed_count, ==, 0);
  fixture_close (&f);
}

static void
test_client_close (void)
{
  Fixture f;

  fixture_open (&f, NULL, TRUE);

  client_send_text (&f, "last words");
  client_send_close (&f, 1000, "bye \xc3\xa9");
  expect_close_frame (&f, 1000);
  expect_eof (&f);
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  g_assert_cmpmem (f.received->data, f.received->len, "last words", 10);

  /* Later calls are ignored. */
  send_take (f.transport, g_bytes_new_static ("x", 1));
  hubs_transport_close (f.transport, FALSE);
  hubs_transport_abort (f.transport);
  pump_for (&f, 10);
  g_assert_cmpuint (f.closed_count, ==, 1);

  fixture_close (&f);
}

static void
test_client_close_codes (void)
{
  const guint16 codes[] = { 1001, 1003, 1011, 1014, 3000, 4999 };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      Fixture f;

      fixture_open (&f, NULL, TRUE);
      client_send_close (&f, codes[i], "");
      expect_close_frame (&f, codes[i]);
      expect_eof (&f);
      pump_until (&f, f.closed_count > 0);
      g_assert_no_error (f.closed_error);
      fixture_close (&f);
    }

  /* No status: answered with 1000. */
  {
    Fixture f;

    fixture_open (&f, NULL, TRUE);
    client_send_frame (&f, FIN | OP_CLOSE, NULL, 0);
    expect_close_frame (&f, 1000);
    expect_eof (&f);
    pump_until (&f, f.closed_count > 0);
    g_assert_no_error (f.closed_error);
    fixture_close (&f);
  }
}

/* The client closes while the server has much queued and unread: the
 * close is answered at once, not after the queue. */
static void
test_client_close_with_queue (void)
{
  g_autoptr(GBytes) big = NULL;
  gboolean seen_close = FALSE;
  Fixture f;

  big = g_bytes_new_take (g_malloc0 (1 << 20), 1 << 20);

  fixture_open (&f, NULL, TRUE);
  f.client_reading = CLIENT_READS_NOTHING;
  for (guint i = 0; i < 4; i++)
    hubs_transport_send (f.transport, big);
  pump_for (&f, 20);
  client_send_close (&f, 1001, "going");
  pump_for (&f, 20);

  f.client_reading = CLIENT_READS_ALL;
  while (!seen_close)
    {
      g_auto(ServerFrame) frame = { 0 };

      expect_frame (&f, &frame);
      if (frame.opcode == OP_CLOSE)
        seen_close = TRUE;
      else
        g_assert_cmpuint (frame.opcode, ==, OP_TEXT);
    }
  expect_eof (&f);
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  fixture_close (&f);
}

static void
test_eof (void)
{
  Fixture f;

  /* Half-closed: EOF. */
  fixture_open (&f, NULL, TRUE);
  client_send_text (&f, "hello");
  shutdown (f.client_fd, SHUT_WR);
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  g_assert_cmpmem (f.received->data, f.received->len, "hello", 5);
  expect_eof (&f);
  fixture_close (&f);

  /* Gone in the middle of a frame. */
  fixture_open (&f, NULL, TRUE);
  client_write (&f, "\x81\xfe\x01", 3);
  pump_for (&f, 5);
  close (f.client_fd);
  f.client_fd = -1;
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  fixture_close (&f);

  /* Gone with unread data in its socket: a reset. */
  fixture_open (&f, NULL, TRUE);
  send_take (f.transport, g_bytes_new_static ("unread", 6));
  f.client_reading = CLIENT_READS_NOTHING;
  pump_for (&f, 10);
  close (f.client_fd);
  f.client_fd = -1;
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  fixture_close (&f);
}

static void
expect_sent_messages (Fixture                  *f,
                      guint8                    opcode,
                      const char * const       *messages,
                      const gsize              *lengths,
                      guint                     n_messages)
{
  for (guint i = 0; i < n_messages; i++)
    {
      g_auto(ServerFrame) frame = { 0 };

      expect_frame (f, &frame);
      g_assert_cmpuint (frame.opcode, ==, opcode);
      g_assert_true (frame.fin);
      g_assert_cmpmem (frame.payload->data, frame.payload->len, messages[i], lengths[i]);
    }
}

static void
test_send (void)
{
  g_autofree char *medium = g_strnfill (300, 'm');
  g_autofree char *large = g_strnfill (70000, 'L');
  const char *messages[] = { "a", "", "{\"type\":6}\x1e", medium, large };
  gsize lengths[] = { 1, 0, 11, 300, 70000 };
  gsize total = 0;
  Fixture f;

  fixture_open (&f, NULL, TRUE);
  g_assert_cmpint (hubs_transport_get_transfer_format (f.transport), ==, HUBS_TRANSFER_FORMAT_TEXT);

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (messages[i], lengths[i]);

      hubs_transport_send (f.transport, bytes);
    }
  total = (2 + 1) + (2 + 0) + (2 + 11) + (4 + 300) + (10 + 70000);
  g_assert_cmpuint (hubs_transport_get_queued_bytes (f.transport), ==, total);

  expect_sent_messages (&f, OP_TEXT, messages, lengths, G_N_ELEMENTS (messages));
  g_assert_cmpuint (hubs_transport_get_queued_bytes (f.transport), ==, 0);

  hubs_transport_set_transfer_format (f.transport, HUBS_TRANSFER_FORMAT_BINARY);
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (messages[i], lengths[i]);

      hubs_transport_send (f.transport, bytes);
    }
  expect_sent_messages (&f, OP_BINARY, messages, lengths, G_N_ELEMENTS (messages));

  /* Each round went past the default 64 KiB high watermark. */
  g_assert_cmpuint (f.drained_count, ==, 2);
  g_assert_cmpuint (f.closed_count, ==, 0);
  fixture_close (&f);
}

static void
test_send_slow_reader (void)
{
  HubsWebSocketOptions options = {
    .high_watermark = 256 * 1024,
    .low_watermark = 64 * 1024,
    .close_timeout_ms = 5000,
  };
  const gsize size = 64 * 1024;
  const guint count = 16;
  gsize queued;
  Fixture f;

  fixture_open (&f, &options, TRUE);
  f.client_reading = CLIENT_READS_NOTHING;

  for (guint i = 0; i < count; i++)
    {
      guint8 *data = g_malloc (size);

      memset (data, 'a' + i, size);
      send_take (f.transport, g_bytes_new_take (data, size));
    }
  g_assert_cmpuint (hubs_transport_get_queued_bytes (f.transport), ==, count * (size + 10));

  /* The socket takes what fits, then the queue stays. */
  pump_for (&f, 50);
  queued = hubs_transport_get_queued_bytes (f.transport);
  g_assert_cmpuint (queued, <, count * (size + 10));
  g_assert_cmpuint (queued, >, options.high_watermark);
  g_assert_cmpuint (f.drained_count, ==, 0);

  /* A ping now is answered ahead of the queued data. */
  client_send_frame (&f, FIN | OP_PING, "urgent", 6);
  pump_for (&f, 10);

  f.client_reading = CLIENT_READS_SLOWLY;
  {
    gboolean seen_pong = FALSE;

    for (guint i = 0; i < count; )
      {
        g_auto(ServerFrame) frame = { 0 };

        expect_frame (&f, &frame);
        if (frame.opcode == OP_PONG)
          {
            g_assert_false (seen_pong);
            g_assert_cmpuint (i, <, count - 1);
            g_assert_cmpmem (frame.payload->data, frame.payload->len, "urgent", 6);
            seen_pong = TRUE;
            continue;
          }

        g_assert_cmpuint (frame.opcode, ==, OP_TEXT);
        g_assert_cmpuint (frame.payload->len, ==, size);
        g_assert_cmpuint (frame.payload->data[0], ==, 'a' + i);
        g_assert_cmpuint (frame.payload->data[size - 1], ==, 'a' + i);
        /* Drained fires once the queue is at the low watermark, not before. */
        if (f.drained_count == 0)
          g_assert_cmpuint (hubs_transport_get_queued_bytes (f.transport), >, options.low_watermark);
        i++;
      }
    g_assert_true (seen_pong);
  }

  pump_until (&f, hubs_transport_get_queued_bytes (f.transport) == 0);
  g_assert_cmpuint (f.drained_count, ==, 1);
  g_assert_cmpuint (f.closed_count, ==, 0);

  fixture_close (&f);
}

static void
test_close (gconstpointer data)
{
  gboolean failed = GPOINTER_TO_INT (data);
  g_auto(ServerFrame) frame = { 0 };
  Fixture f;

  fixture_open (&f, NULL, TRUE);

  send_take (f.transport, g_bytes_new_static ("before", 6));
  hubs_transport_close (f.transport, failed);
  send_take (f.transport, g_bytes_new_static ("after", 5));
  g_assert_cmpuint (f.closed_count, ==, 0);

  expect_frame (&f, &frame);
  g_assert_cmpuint (frame.opcode, ==, OP_TEXT);
  g_assert_cmpmem (frame.payload->data, frame.payload->len, "before", 6);
  expect_close_frame (&f, failed ? 1011 : 1000);

  /* While the server waits for the client's close, data is dropped and
   * pings go unanswered. */
  client_send_text (&f, "ignored");
  client_send_frame (&f, FIN | OP_PING, "p", 1);
  pump_for (&f, 20);
  g_assert_cmpuint (f.closed_count, ==, 0);
  g_assert_cmpuint (f.received->len, ==, 0);
  g_assert_cmpuint (f.client_in->len, ==, 0);

  client_send_close (&f, 1000, "");
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  expect_eof (&f);

  fixture_close (&f);
}

static void
test_close_timeout (void)
{
  HubsWebSocketOptions options = {
    .high_watermark = 65536,
    .low_watermark = 16384,
    .close_timeout_ms = 100,
  };
  gint64 start;
  Fixture f;

  fixture_open (&f, &options, TRUE);

  start = g_get_monotonic_time ();
  hubs_transport_close (f.transport, FALSE);
  expect_close_frame (&f, 1000);
  pump_until (&f, f.closed_count > 0);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * G_TIME_SPAN_MILLISECOND);
  g_assert_no_error (f.closed_error);
  expect_eof (&f);

  fixture_close (&f);

  /* A client that reads nothing at all: the close frame cannot even
   * leave, and the timeout ends it all the same. */
  fixture_open (&f, &options, TRUE);
  f.client_reading = CLIENT_READS_NOTHING;
  for (guint i = 0; i < 8; i++)
    send_take (f.transport, g_bytes_new_take (g_malloc0 (256 * 1024), 256 * 1024));
  hubs_transport_close (f.transport, FALSE);
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  fixture_close (&f);
}

/* close() while the client's close is already on its way. */
static void
test_close_crossing (void)
{
  Fixture f;

  fixture_open (&f, NULL, TRUE);
  client_send_close (&f, 1000, "");
  hubs_transport_close (f.transport, FALSE);
  expect_close_frame (&f, 1000);
  expect_eof (&f);
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  fixture_close (&f);
}

static void
test_receiving (void)
{
  Fixture f;

  fixture_open (&f, NULL, TRUE);

  client_send_text (&f, "one");
  expect_received (&f, "one", 3);

  hubs_transport_set_receiving (f.transport, FALSE);
  client_send_text (&f, "two");
  client_send_frame (&f, OP_TEXT, "thr", 3);
  client_send_frame (&f, FIN | OP_PING, "p", 1);
  client_send_frame (&f, FIN | OP_CONT, "ee", 2);
  pump_for (&f, 30);
  g_assert_cmpmem (f.received->data, f.received->len, "one", 3);
  g_assert_cmpuint (f.client_in->len, ==, 0);     /* the ping is not read */

  /* Paused input has no source to spin on. */
  g_source_destroy (f.tick);
  for (guint i = 0; i < 10 && g_main_context_iteration (f.context, FALSE); i++)
    ;
  g_assert_false (g_main_context_iteration (f.context, FALSE));
  g_source_unref (f.tick);
  f.tick = g_timeout_source_new (2);
  g_source_set_callback (f.tick, on_tick, NULL, NULL);
  g_source_attach (f.tick, f.context);

  /* Resuming never calls back from inside the call. */
  hubs_transport_set_receiving (f.transport, TRUE);
  g_assert_cmpuint (f.received->len, ==, 3);
  expect_received (&f, "onetwothree", 11);

  {
    g_auto(ServerFrame) pong = { 0 };

    expect_frame (&f, &pong);
    g_assert_cmpuint (pong.opcode, ==, OP_PONG);
  }

  /* Paused from inside the callback: what was read stays until resumed. */
  f.pause_in_received = TRUE;
  {
    g_autoptr(GByteArray) frames = g_byte_array_new ();

    build_frame (frames, FIN | OP_TEXT, "4", 1, TRUE, 0);
    build_frame (frames, FIN | OP_TEXT, "5", 1, TRUE, 0);
    build_frame (frames, OP_TEXT, "6\xc3", 2, TRUE, 0);
    build_frame (frames, FIN | OP_CONT, "\xa9", 1, TRUE, 0);
    client_write (&f, frames->data, frames->len);
  }
  {
    /* One delivery at a time; the "\xc3" waits for its second byte. */
    const guint steps[] = { 12, 13, 14, 16 };

    for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
      {
        pump_until (&f, f.received->len == steps[i]);
        pump_for (&f, 10);
        g_assert_cmpuint (f.received->len, ==, steps[i]);
        hubs_transport_set_receiving (f.transport, TRUE);
      }
  }
  g_assert_cmpmem (f.received->data, f.received->len, "onetwothree456\xc3\xa9", 16);

  fixture_close (&f);
}

static void
test_abort (void)
{
  Fixture f;

  fixture_open (&f, NULL, TRUE);
  f.client_reading = CLIENT_READS_NOTHING;
  for (guint i = 0; i < 8; i++)
    send_take (f.transport, g_bytes_new_take (g_malloc0 (256 * 1024), 256 * 1024));
  pump_for (&f, 10);

  hubs_transport_abort (f.transport);
  g_assert_cmpuint (f.closed_count, ==, 0);
  g_assert_cmpuint (hubs_transport_get_queued_bytes (f.transport), ==, 0);
  hubs_transport_abort (f.transport);
  hubs_transport_close (f.transport, FALSE);
  send_take (f.transport, g_bytes_new_static ("x", 1));

  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  pump_for (&f, 10);
  g_assert_cmpuint (f.closed_count, ==, 1);

  /* The client sees the end; no close frame. */
  f.client_reading = CLIENT_READS_ALL;
  pump_until (&f, f.client_eof);
  fixture_close (&f);

  /* Aborted and dropped at once: closed still comes. */
  fixture_open (&f, NULL, TRUE);
  hubs_transport_abort (f.transport);
  g_clear_object (&f.transport);
  pump_until (&f, f.closed_count > 0);
  g_assert_no_error (f.closed_error);
  fixture_close (&f);

  /* Before start. */
  fixture_open (&f, NULL, FALSE);
  hubs_transport_abort (f.transport);
  pump_until (&f, f.closed_count > 0);
  fixture_close (&f);
}

static void
test_unref_in_closed (void)
{
  Fixture f;

  fixture_open (&f, NULL, TRUE);
  f.unref_in_closed = TRUE;
  client_send_text (&f, "hi");
  client_send_close (&f, 1000, "");
  pump_until (&f, f.closed_count > 0);
  g_assert_null (f.transport);
  expect_close_frame (&f, 1000);
  expect_eof (&f);
  fixture_close (&f);

  fixture_open (&f, NULL, TRUE);
  f.unref_in_closed = TRUE;
  client_send_frame (&f, FIN | 0x40 | OP_TEXT, "x", 1);
  pump_until (&f, f.closed_count > 0);
  g_assert_error (f.closed_error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
  g_assert_null (f.transport);
  fixture_close (&f);
}

static void
test_dispose_while_busy (void)
{
  Fixture f;

  /* Dropped with everything going: sources, queue, held input. */
  fixture_open (&f, NULL, TRUE);
  f.client_reading = CLIENT_READS_NOTHING;
  f.pause_in_received = TRUE;
  for (guint i = 0; i < 4; i++)
    send_take (f.transport, g_bytes_new_take (g_malloc0 (256 * 1024), 256 * 1024));
  client_send_text (&f, "a");
  client_send_text (&f, "b");
  client_write (&f, "\x81\x85", 2);
  pump_until (&f, f.received->len == 1);
  hubs_transport_close (f.transport, TRUE);
  g_clear_object (&f.transport);
  g_assert_cmpuint (f.closed_count, ==, 0);
  f.client_reading = CLIENT_READS_ALL;
  pump_until (&f, f.client_eof);
  fixture_close (&f);
}

/* Random input never crashes or hangs: every run ends with a close, clean
 * or for a protocol error. */
static void
test_random_garbage (void)
{
  static const guint8 first_bytes[] = {
    0x81, 0x82, 0x01, 0x02, 0x80, 0x00, 0x88, 0x89, 0x8a, 0x09, 0xc1, 0x83, 0x8b, 0x0f,
  };
  HubsWebSocketOptions options = {
    .max_frame_size = 1024,
    .high_watermark = 65536,
    .low_watermark = 16384,
    .close_timeout_ms = 1000,
  };
  guint runs = g_test_thorough () ? 20000 : 3000;
  const char *env_runs = g_getenv ("HUBS_TEST_GARBAGE_RUNS");
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  guint clean = 0, protocol = 0;

  if (env_runs != NULL)
    runs = atoi (env_runs);

  for (guint run = 0; run < runs; run++)
    {
      g_autoptr(GByteArray) bytes = g_byte_array_new ();
      Fixture f;

      if (g_rand_boolean (rand))
        {
          guint length = g_rand_int_range (rand, 1, 64);

          for (guint i = 0; i < length; i++)
            {
              guint8 b = g_rand_int_range (rand, 0, 256);
              g_byte_array_append (bytes, &b, 1);
            }
        }
      else
        {
          /* Plausible frames with random damage reach deeper states. */
          guint n_frames = g_rand_int_range (rand, 1, 6);

          for (guint i = 0; i < n_frames; i++)
            {
              guint8 payload[200];
              guint length = g_rand_int_range (rand, 0, g_rand_boolean (rand) ? 8 : 200);
              guint8 b0 = first_bytes[g_rand_int_range (rand, 0, G_N_ELEMENTS (first_bytes))];

              for (guint j = 0; j < length; j++)
                payload[j] = g_rand_boolean (rand) ? g_rand_int_range (rand, 0x20, 0x7f)
                                                   : g_rand_int_range (rand, 0, 256);
              if (b0 == 0x88 && length >= 2)
                payload[0] = 0x03, payload[1] = g_rand_int_range (rand, 0xe6, 0xf8);

              build_frame (bytes, b0, payload, length,
                           g_rand_int_range (rand, 0, 20) != 0,
                           g_rand_int_range (rand, 0, 10) == 0 ? 64 : 0);
            }

          for (guint k = g_rand_int_range (rand, 0, 3); k > 0; k--)
            bytes->data[g_rand_int_range (rand, 0, bytes->len)] ^= 1 << g_rand_int_range (rand, 0, 8);
        }

      fixture_open (&f, &options, TRUE);
      if (g_rand_boolean (rand))
        send_take (f.transport, g_bytes_new_static ("queued", 6));

      if (g_rand_int_range (rand, 0, 4) == 0)
        {
          for (guint i = 0; i < bytes->len; i++)
            {
              client_write (&f, bytes->data + i, 1);
              g_main_context_iteration (f.context, FALSE);
            }
        }
      else
        {
          client_write (&f, bytes->data, bytes->len);
        }
      shutdown (f.client_fd, SHUT_WR);

      pump_until (&f, f.closed_count > 0);
      g_assert_cmpuint (f.closed_count, ==, 1);
      if (f.closed_error != NULL)
        {
          g_assert_true (g_error_matches (f.closed_error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA) ||
                         g_error_matches (f.closed_error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE));
          protocol++;
        }
      else
        {
          clean++;
        }

      fixture_close (&f);
    }

  g_test_message ("%u runs: %u clean, %u protocol errors", runs, clean, protocol);
  g_assert_cmpuint (clean, >, 0);
  g_assert_cmpuint (protocol, >, 0);
}

int
main (int   argc,
      char *argv[])
{
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/hubs/websocket/text", test_text);
  g_test_add_func ("/hubs/websocket/binary", test_binary);
  g_test_add_func ("/hubs/websocket/fragmented-with-pings", test_fragmented_with_pings);
  g_test_add_func ("/hubs/websocket/pings-coalesced", test_pings_coalesced);
  g_test_add_func ("/hubs/websocket/header-byte-by-byte", test_header_byte_by_byte);
  g_test_add_func ("/hubs/websocket/lengths", test_lengths);
  g_test_add_func ("/hubs/websocket/utf8-split", test_utf8_split);

  for (guint i = 0; i < G_N_ELEMENTS (error_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hubs/websocket/protocol-error/%s",
                                               error_cases[i].name);

      g_test_add_data_func (path, &error_cases[i], test_protocol_error);
    }

  g_test_add_func ("/hubs/websocket/client-close", test_client_close);
  g_test_add_func ("/hubs/websocket/client-close-codes", test_client_close_codes);
  g_test_add_func ("/hubs/websocket/client-close-with-queue", test_client_close_with_queue);
  g_test_add_func ("/hubs/websocket/eof", test_eof);
  g_test_add_func ("/hubs/websocket/send", test_send);
  g_test_add_func ("/hubs/websocket/send-slow-reader", test_send_slow_reader);
  g_test_add_data_func ("/hubs/websocket/close", GINT_TO_POINTER (FALSE), test_close);
  g_test_add_data_func ("/hubs/websocket/close-failed", GINT_TO_POINTER (TRUE), test_close);
  g_test_add_func ("/hubs/websocket/close-timeout", test_close_timeout);
  g_test_add_func ("/hubs/websocket/close-crossing", test_close_crossing);
  g_test_add_func ("/hubs/websocket/receiving", test_receiving);
  g_test_add_func ("/hubs/websocket/abort", test_abort);
  g_test_add_func ("/hubs/websocket/unref-in-closed", test_unref_in_closed);
  g_test_add_func ("/hubs/websocket/dispose-while-busy", test_dispose_while_busy);
  g_test_add_func ("/hubs/websocket/random-garbage", test_random_garbage);

  return g_test_run ();
}
