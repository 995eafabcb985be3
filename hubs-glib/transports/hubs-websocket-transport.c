/* hubs-websocket-transport.c: RFC 6455 framing, server side
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libsoup answers the upgrade; the framing on the stolen stream is ours
 * (DESIGN.md, "Transport") so that the outgoing queue is bounded and
 * observable, many frames leave in one writev, and no message is ever
 * buffered whole.
 *
 * Input: one read of at most READ_CHUNK bytes into a buffer shared by all
 * transports of the thread, frames parsed in place (payload unmasked where
 * it lies and handed up from there), and only what is left unparsed, a
 * split frame header or the rest of a chunk when the layer above paused,
 * copied into the transport. An idle connection thus holds no read buffer.
 *
 * Output: a FIFO of frames, each an inline header and a reference on the
 * caller's GBytes, written with one writev for as many frames as fit.
 *
 * Closing: every ending goes through finish(), which reports "closed" once.
 * A close frame, ours or the echo of the peer's, is the last frame queued;
 * when the peer has closed or broke the protocol, frames not yet begun are
 * dropped so that the close leaves at once.
 */

#include "hubs-transport-private.h"
#include "hubs-error.h"

#include <string.h>

#define READ_CHUNK 16384

/* Room before the read data: a text payload piece gets the bytes of a code
 * point left over from the previous piece (at most 3) written just before
 * it, so that both go up in one contiguous delivery. A piece always follows
 * either this headroom or a masked frame header (at least 6 bytes). */
#define READ_HEADROOM 8

/* 2 + 8 length + 4 mask */
#define MAX_HEADER 14

#define MAX_CONTROL_PAYLOAD 125

/* Frames per writev: two vectors each, well under IOV_MAX. */
#define MAX_WRITE_FRAMES 64

/* The frame array is given back when it empties past this many frames, so
 * that one burst does not pin memory for the connection's life. */
#define QUEUE_KEEP_FRAMES 64

enum
{
  OPCODE_CONTINUATION = 0x0,
  OPCODE_TEXT = 0x1,
  OPCODE_BINARY = 0x2,
  OPCODE_CLOSE = 0x8,
  OPCODE_PING = 0x9,
  OPCODE_PONG = 0xA,
};

enum
{
  CLOSE_NORMAL = 1000,
  CLOSE_PROTOCOL_ERROR = 1002,
  CLOSE_INVALID_DATA = 1007,
  CLOSE_TOO_BIG = 1009,
  CLOSE_SERVER_ERROR = 1011,
};

typedef enum
{
  FRAME_DATA,
  FRAME_PONG,
  FRAME_CLOSE,
} FrameKind;

typedef struct
{
  guint8 header[10];
  guint8 header_len;
  guint8 kind;
  const guint8 *payload;
  gsize payload_len;
  GBytes *bytes;        /* owns payload; NULL when empty */
} OutFrame;

typedef struct
{
  gboolean busy;
  guint8 data[READ_HEADROOM + READ_CHUNK];
} ReadBuffer;

struct _HubsWebSocketTransport
{
  HubsTransport parent_instance;

  GIOStream *stream;
  GPollableInputStream *input;
  GPollableOutputStream *output;
  GMainContext *context;
  HubsWebSocketOptions options;

  /* A plain socket is watched through the context's poller; other
   * streams (TLS) through pollable sources. */
  HubsPollerWatch *watch;
  guint watch_read : 1;
  guint watch_write : 1;        /* only while the socket would block */
  GSource *read_source;
  GSource *write_source;        /* only while the socket would block */
  gboolean flush_scheduled;     /* with options.scheduler */
  GSource *resume_source;
  GSource *close_timer;
  GSource *closed_idle;

  /* Input not yet parsed, kept between reads. */
  guint8 held_small[MAX_HEADER + 2];
  guint8 *held_big;
  gsize held_len;

  /* The frame being read. */
  guint64 payload_left;
  guint8 mask[4];
  guint mask_offset;
  guint8 opcode;
  guint8 control[MAX_CONTROL_PAYLOAD];
  guint8 control_len;
  guint8 utf8_carry[4];
  guint8 utf8_carry_len;

  /* Output. */
  GArray *queue;
  guint queue_head;
  gsize head_written;
  gsize queued_bytes;
  guint16 local_close_code;

  GError *pending_error;

  guint started : 1;
  guint receiving : 1;
  guint in_frame : 1;
  guint fin : 1;
  guint in_message : 1;
  guint message_is_text : 1;
  guint read_stopped : 1;
  guint local_close_requested : 1;
  guint peer_close_received : 1;
  guint close_frame_queued : 1;
  guint close_frame_sent : 1;
  guint above_high_watermark : 1;
  guint finished : 1;
};

G_DEFINE_FINAL_TYPE (HubsWebSocketTransport, hubs_websocket_transport, HUBS_TYPE_TRANSPORT)

static void update_read_source (HubsWebSocketTransport *self);
static void ensure_write_source (HubsWebSocketTransport *self);
static void schedule_flush (HubsWebSocketTransport *self);
static void finish (HubsWebSocketTransport *self,
                    const GError           *error);

/* Shared read buffer */

static GPrivate read_buffer_key = G_PRIVATE_INIT (g_free);

/* A callback that runs a nested main loop can make another transport read
 * while the shared buffer is in use: that one gets a buffer of its own. */
static guint8 *
read_buffer_acquire (gboolean *shared)
{
  ReadBuffer *buffer = g_private_get (&read_buffer_key);

  if (buffer == NULL)
    {
      buffer = g_new (ReadBuffer, 1);
      buffer->busy = FALSE;
      g_private_set (&read_buffer_key, buffer);
    }

  if (buffer->busy)
    {
      *shared = FALSE;
      return g_malloc (READ_HEADROOM + READ_CHUNK);
    }

  buffer->busy = TRUE;
  *shared = TRUE;
  return buffer->data;
}

static void
read_buffer_release (guint8   *data,
                     gboolean  shared)
{
  if (shared)
    ((ReadBuffer *) g_private_get (&read_buffer_key))->busy = FALSE;
  else
    g_free (data);
}

/* Helpers */

static gboolean
is_disconnect_error (const GError *error)
{
  /* G_IO_ERROR_CONNECTION_CLOSED is the same code as BROKEN_PIPE. */
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
}

static void
unmask (guint8       *data,
        gsize         length,
        const guint8  key[4],
        guint        *offset)
{
  guint start = *offset;
  gsize i = 0;

  if (length >= 16)
    {
      guint8 key_bytes[8];
      guint64 key_word;

      for (guint j = 0; j < 8; j++)
        key_bytes[j] = key[(start + j) & 3];
      memcpy (&key_word, key_bytes, sizeof key_word);

      for (; i + 8 <= length; i += 8)
        {
          guint64 word;

          memcpy (&word, data + i, sizeof word);
          word ^= key_word;
          memcpy (data + i, &word, sizeof word);
        }
    }

  for (; i < length; i++)
    data[i] ^= key[(start + i) & 3];

  *offset = (start + length) & 3;
}

/* Checks @data as the beginning of UTF-8 text. Returns FALSE at the first
 * byte that no valid text can contain at that place (so an overlong form, a
 * surrogate or a code point past U+10FFFF is refused as soon as its second
 * byte is seen). Otherwise sets @complete to the length that ends on a code
 * point boundary; the rest, at most 3 bytes, begins a valid sequence. */
static gboolean
utf8_validate_prefix (const guint8 *data,
                      gsize         length,
                      gsize        *complete)
{
  gsize i = 0;

  while (i < length)
    {
      guint8 c = data[i];
      guint8 low = 0x80, high = 0xBF;
      gsize start, needed;

      if (c < 0x80)
        {
          /* JSON is mostly ASCII: skip it a word at a time. */
          while (i + 8 <= length)
            {
              guint64 word;

              memcpy (&word, data + i, sizeof word);
              if (word & G_GUINT64_CONSTANT (0x8080808080808080))
                break;
              i += 8;
            }
          while (i < length && data[i] < 0x80)
            i++;
          continue;
        }

      if (c >= 0xC2 && c <= 0xDF)
        needed = 1;
      else if (c == 0xE0)
        needed = 2, low = 0xA0;
      else if (c == 0xED)
        needed = 2, high = 0x9F;
      else if (c >= 0xE1 && c <= 0xEF)
        needed = 2;
      else if (c == 0xF0)
        needed = 3, low = 0x90;
      else if (c == 0xF4)
        needed = 3, high = 0x8F;
      else if (c >= 0xF1 && c <= 0xF3)
        needed = 3;
      else
        return FALSE;

      start = i++;
      for (; needed > 0; needed--, i++)
        {
          if (i >= length)
            {
              *complete = start;
              return TRUE;
            }
          if (data[i] < low || data[i] > high)
            return FALSE;
          low = 0x80;
          high = 0xBF;
        }
    }

  *complete = length;
  return TRUE;
}

static gboolean
close_code_is_valid (guint code)
{
  /* RFC 6455 §7.4: 1004-1006 and 1015 must not be sent; 1012-1014 were
   * registered since; 3000-4999 belong to libraries and applications. */
  return (code >= 1000 && code <= 1003) ||
         (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

static guint8
build_header (guint8 header[10],
              guint8 opcode,
              gsize  length)
{
  header[0] = 0x80 | opcode;

  if (length < 126)
    {
      header[1] = length;
      return 2;
    }

  if (length <= G_MAXUINT16)
    {
      header[1] = 126;
      header[2] = length >> 8;
      header[3] = length & 0xFF;
      return 4;
    }

  header[1] = 127;
  for (guint i = 0; i < 8; i++)
    header[2 + i] = ((guint64) length >> (56 - 8 * i)) & 0xFF;
  return 10;
}

/* Input held between reads */

static const guint8 *
held_data (HubsWebSocketTransport *self)
{
  return self->held_big != NULL ? self->held_big : self->held_small;
}

static void
held_clear (HubsWebSocketTransport *self)
{
  g_clear_pointer (&self->held_big, g_free);
  self->held_len = 0;
}

static void
held_store (HubsWebSocketTransport *self,
            const guint8           *data,
            gsize                   length)
{
  held_clear (self);

  if (length > sizeof self->held_small)
    self->held_big = g_memdup2 (data, length);
  else
    memcpy (self->held_small, data, length);

  self->held_len = length;
}

/* Outgoing queue */

static gsize
out_frame_size (const OutFrame *frame)
{
  return frame->header_len + frame->payload_len;
}

static void
out_frame_clear (OutFrame *frame)
{
  g_clear_pointer (&frame->bytes, g_bytes_unref);
}

static guint
queue_length (HubsWebSocketTransport *self)
{
  return self->queue != NULL ? self->queue->len - self->queue_head : 0;
}

static OutFrame *
queue_nth (HubsWebSocketTransport *self,
           guint                   index)
{
  return &g_array_index (self->queue, OutFrame, self->queue_head + index);
}

static void
queue_ensure (HubsWebSocketTransport *self)
{
  if (self->queue == NULL)
    self->queue = g_array_sized_new (FALSE, FALSE, sizeof (OutFrame), 8);
}

static void
frame_init (OutFrame     *frame,
            FrameKind     kind,
            guint8        opcode,
            GBytes       *bytes)
{
  gsize length = 0;

  memset (frame, 0, sizeof *frame);
  frame->kind = kind;
  if (bytes != NULL)
    {
      frame->payload = g_bytes_get_data (bytes, &length);
      frame->payload_len = length;
      if (length > 0)
        frame->bytes = g_bytes_ref (bytes);
    }
  frame->header_len = build_header (frame->header, opcode, length);
}

static void
queue_insert (HubsWebSocketTransport *self,
              guint                   index,
              OutFrame               *frame)
{
  queue_ensure (self);
  g_array_insert_val (self->queue, self->queue_head + index, *frame);
  self->queued_bytes += out_frame_size (frame);
}

static void
queue_pop_head (HubsWebSocketTransport *self)
{
  out_frame_clear (queue_nth (self, 0));
  self->queue_head++;
  self->head_written = 0;

  if (self->queue_head == self->queue->len)
    {
      if (self->queue->len > QUEUE_KEEP_FRAMES)
        g_clear_pointer (&self->queue, g_array_unref);
      else
        g_array_set_size (self->queue, 0);
      self->queue_head = 0;
    }
  else if (self->queue_head >= QUEUE_KEEP_FRAMES &&
           self->queue_head * 2 >= self->queue->len)
    {
      /* A queue that never empties must not grow at its front forever. */
      g_array_remove_range (self->queue, 0, self->queue_head);
      self->queue_head = 0;
    }
}

/* The first frame no byte of which has been written: frames from there on
 * can be reordered or dropped without corrupting the stream. */
static guint
queue_first_unstarted (HubsWebSocketTransport *self)
{
  return self->head_written > 0 ? 1 : 0;
}

static void
queue_clear (HubsWebSocketTransport *self)
{
  if (self->queue != NULL)
    {
      for (guint i = self->queue_head; i < self->queue->len; i++)
        out_frame_clear (&g_array_index (self->queue, OutFrame, i));
      g_clear_pointer (&self->queue, g_array_unref);
    }
  self->queue_head = 0;
  self->head_written = 0;
  self->queued_bytes = 0;
}

static void
queue_drop_unstarted (HubsWebSocketTransport *self)
{
  guint first = queue_first_unstarted (self);
  guint length = queue_length (self);

  if (first >= length)
    return;

  for (guint i = first; i < length; i++)
    {
      OutFrame *frame = queue_nth (self, i);

      self->queued_bytes -= out_frame_size (frame);
      if (frame->kind == FRAME_CLOSE)
        self->close_frame_queued = FALSE;
      out_frame_clear (frame);
    }
  g_array_set_size (self->queue, self->queue_head + first);
}

/* Only the latest ping needs an answer (RFC 6455 §5.5.3), so a pong not yet
 * begun is replaced: a peer that pings and never reads costs one frame. */
static void
queue_pong (HubsWebSocketTransport *self,
            const guint8           *payload,
            gsize                   length)
{
  g_autoptr(GBytes) bytes = g_bytes_new (payload, length);
  guint first = queue_first_unstarted (self);
  OutFrame frame;

  frame_init (&frame, FRAME_PONG, OPCODE_PONG, bytes);

  if (first < queue_length (self) && queue_nth (self, first)->kind == FRAME_PONG)
    {
      OutFrame *old = queue_nth (self, first);

      self->queued_bytes -= out_frame_size (old);
      out_frame_clear (old);
      *old = frame;
      self->queued_bytes += out_frame_size (old);
    }
  else
    {
      queue_insert (self, first, &frame);
    }

  schedule_flush (self);
}

static void
queue_close_frame (HubsWebSocketTransport *self,
                   guint16                 code)
{
  guint8 payload[2] = { code >> 8, code & 0xFF };
  g_autoptr(GBytes) bytes = g_bytes_new (payload, sizeof payload);
  OutFrame frame;

  frame_init (&frame, FRAME_CLOSE, OPCODE_CLOSE, bytes);
  queue_insert (self, queue_length (self), &frame);
  self->close_frame_queued = TRUE;
}

/* Timers and sources */

static gboolean
on_close_timeout (gpointer user_data)
{
  HubsWebSocketTransport *self = user_data;

  g_clear_pointer (&self->close_timer, g_source_unref);
  g_debug ("WebSocket close handshake timed out after %u ms",
           self->options.close_timeout_ms);
  finish (self, NULL);

  return G_SOURCE_REMOVE;
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* While closing, the timer measures time without progress: a slow peer
 * still gets all of a large queue, a stalled one is cut off. */
static void
restart_close_timer (HubsWebSocketTransport *self)
{
  destroy_source (&self->close_timer);

  self->close_timer = g_timeout_source_new (self->options.close_timeout_ms);
  g_source_set_static_name (self->close_timer, "[hubs] WebSocket close timeout");
  g_source_set_callback (self->close_timer, on_close_timeout, self, NULL);
  g_source_attach (self->close_timer, self->context);
}

/* The close frame for an ending that does not wait for the queue: the peer
 * closed, or broke the protocol. A close frame already on the wire stays. */
static void
close_now (HubsWebSocketTransport *self,
           guint16                 code)
{
  if (self->close_frame_sent)
    return;

  if (self->head_written > 0 && queue_nth (self, 0)->kind == FRAME_CLOSE)
    return;

  queue_drop_unstarted (self);
  queue_close_frame (self, code);
  schedule_flush (self);
  restart_close_timer (self);
}

static void
stop_reading (HubsWebSocketTransport *self)
{
  self->read_stopped = TRUE;
  held_clear (self);
  update_read_source (self);
}

/* Failing the connection (RFC 6455 §7.1.7) for a peer's fault: what was
 * queued is dropped, the close frame carries @code, and "closed" reports
 * the error once it has been written. */
static void G_GNUC_PRINTF (4, 5)
fail_connection (HubsWebSocketTransport *self,
                 guint16                 code,
                 HubsError               error_code,
                 const char             *format,
                 ...)
{
  va_list args;

  if (self->finished || self->pending_error != NULL)
    return;

  va_start (args, format);
  self->pending_error = g_error_new_valist (HUBS_ERROR, error_code, format, args);
  va_end (args);

  g_debug ("Failing WebSocket connection with %u: %s",
           code, self->pending_error->message);

  /* The application has already asked for the end and gets it as it asked
   * for it; the peer's fault no longer matters to it. */
  if (self->local_close_requested)
    {
      g_clear_error (&self->pending_error);
      finish (self, NULL);
      return;
    }

  stop_reading (self);
  close_now (self, code);
}

#define fail_protocol(self, ...) \
  fail_connection ((self), CLOSE_PROTOCOL_ERROR, HUBS_ERROR_INVALID_DATA, __VA_ARGS__)

/* Input */

static gboolean
reading_enabled (HubsWebSocketTransport *self)
{
  return !self->finished &&
         !self->read_stopped &&
         (self->local_close_requested || (self->started && self->receiving));
}

static gboolean
parse_header (HubsWebSocketTransport *self,
              const guint8           *data,
              gsize                   length,
              gsize                  *header_len)
{
  guint8 opcode, len7;
  gboolean fin, control;
  guint64 payload_len;
  gsize needed;

  if (length < 1)
    return FALSE;

  /* Checked as soon as each byte is there, to refuse garbage early. */
  fin = (data[0] & 0x80) != 0;
  opcode = data[0] & 0x0F;
  control = (opcode & 0x8) != 0;

  if (data[0] & 0x70)
    {
      fail_protocol (self, "WebSocket frame has reserved bits set");
      return FALSE;
    }

  switch (opcode)
    {
    case OPCODE_CONTINUATION:
      if (!self->in_message)
        {
          fail_protocol (self, "WebSocket continuation frame without a message to continue");
          return FALSE;
        }
      break;

    case OPCODE_TEXT:
    case OPCODE_BINARY:
      if (self->in_message)
        {
          fail_protocol (self, "WebSocket data frame inside a fragmented message");
          return FALSE;
        }
      break;

    case OPCODE_CLOSE:
    case OPCODE_PING:
    case OPCODE_PONG:
      if (!fin)
        {
          fail_protocol (self, "WebSocket control frame is fragmented");
          return FALSE;
        }
      break;

    default:
      fail_protocol (self, "WebSocket frame has unknown opcode %u", opcode);
      return FALSE;
    }

  if (length < 2)
    return FALSE;

  if ((data[1] & 0x80) == 0)
    {
      fail_protocol (self, "WebSocket client frame is not masked");
      return FALSE;
    }

  len7 = data[1] & 0x7F;
  if (control && len7 > MAX_CONTROL_PAYLOAD)
    {
      fail_protocol (self, "WebSocket control frame payload is longer than 125 bytes");
      return FALSE;
    }

  needed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
  if (length < needed)
    return FALSE;

  if (len7 == 126)
    {
      payload_len = ((guint64) data[2] << 8) | data[3];
    }
  else if (len7 == 127)
    {
      if (data[2] & 0x80)
        {
          fail_protocol (self, "WebSocket frame length has its most significant bit set");
          return FALSE;
        }
      payload_len = 0;
      for (guint i = 0; i < 8; i++)
        payload_len = (payload_len << 8) | data[2 + i];
    }
  else
    {
      payload_len = len7;
    }

  if (!control && !self->local_close_requested &&
      self->options.max_frame_size > 0 &&
      payload_len > self->options.max_frame_size)
    {
      fail_connection (self, CLOSE_TOO_BIG, HUBS_ERROR_MESSAGE_TOO_LARGE,
                       "WebSocket frame of %" G_GUINT64_FORMAT " bytes exceeds "
                       "the maximum of %" G_GSIZE_FORMAT " bytes",
                       payload_len, self->options.max_frame_size);
      return FALSE;
    }

  memcpy (self->mask, data + needed - 4, 4);
  self->mask_offset = 0;
  self->payload_left = payload_len;
  self->opcode = opcode;
  self->fin = fin;
  self->control_len = 0;

  if (!control)
    {
      if (opcode != OPCODE_CONTINUATION)
        {
          self->message_is_text = opcode == OPCODE_TEXT;
          self->utf8_carry_len = 0;
        }
      self->in_message = !fin;
    }

  *header_len = needed;
  return TRUE;
}

/* @piece lies in a read buffer with at least 3 consumed bytes before it
 * (see READ_HEADROOM). */
static void
handle_payload (HubsWebSocketTransport *self,
                guint8                 *piece,
                gsize                   length)
{
  switch (self->opcode)
    {
    case OPCODE_CONTINUATION:
    case OPCODE_TEXT:
    case OPCODE_BINARY:
      if (self->local_close_requested)
        return;

      unmask (piece, length, self->mask, &self->mask_offset);

      if (self->message_is_text)
        {
          guint8 *text = piece - self->utf8_carry_len;
          gsize text_len = length + self->utf8_carry_len;
          gsize complete;

          memcpy (text, self->utf8_carry, self->utf8_carry_len);
          if (!utf8_validate_prefix (text, text_len, &complete))
            {
              fail_connection (self, CLOSE_INVALID_DATA, HUBS_ERROR_INVALID_DATA,
                               "WebSocket text message is not valid UTF-8");
              return;
            }

          self->utf8_carry_len = text_len - complete;
          memcpy (self->utf8_carry, text + complete, self->utf8_carry_len);
          hubs_transport_emit_received (HUBS_TRANSPORT (self), text, complete);
        }
      else
        {
          hubs_transport_emit_received (HUBS_TRANSPORT (self), piece, length);
        }
      break;

    case OPCODE_CLOSE:
    case OPCODE_PING:
      unmask (piece, length, self->mask, &self->mask_offset);
      memcpy (self->control + self->control_len, piece, length);
      self->control_len += length;
      break;

    default:
      break;
    }
}

static void
handle_peer_close (HubsWebSocketTransport *self)
{
  guint code = CLOSE_NORMAL;

  self->peer_close_received = TRUE;
  stop_reading (self);

  if (self->local_close_requested)
    {
      if (self->close_frame_sent)
        finish (self, NULL);
      else
        close_now (self, self->local_close_code);
      return;
    }

  if (self->control_len == 1)
    {
      fail_protocol (self, "WebSocket close frame has a 1-byte payload");
      return;
    }

  if (self->control_len >= 2)
    {
      gsize complete;

      code = (self->control[0] << 8) | self->control[1];
      if (!close_code_is_valid (code))
        {
          fail_protocol (self, "WebSocket close frame has invalid status code %u", code);
          return;
        }

      if (!utf8_validate_prefix (self->control + 2, self->control_len - 2, &complete) ||
          complete != self->control_len - 2u)
        {
          fail_connection (self, CLOSE_INVALID_DATA, HUBS_ERROR_INVALID_DATA,
                           "WebSocket close reason is not valid UTF-8");
          return;
        }
    }

  g_debug ("WebSocket peer closed with %u", code);
  close_now (self, code);
}

static void
complete_frame (HubsWebSocketTransport *self)
{
  self->in_frame = FALSE;

  switch (self->opcode)
    {
    case OPCODE_CONTINUATION:
    case OPCODE_TEXT:
    case OPCODE_BINARY:
      if (self->fin)
        {
          if (!self->local_close_requested && self->message_is_text &&
              self->utf8_carry_len > 0)
            {
              fail_connection (self, CLOSE_INVALID_DATA, HUBS_ERROR_INVALID_DATA,
                               "WebSocket text message ends inside a UTF-8 sequence");
              return;
            }
          self->utf8_carry_len = 0;
        }
      break;

    case OPCODE_PING:
      if (!self->local_close_requested && !self->close_frame_queued)
        queue_pong (self, self->control, self->control_len);
      break;

    case OPCODE_CLOSE:
      handle_peer_close (self);
      break;

    default:
      break;
    }
}

/* Parses frames from @data, delivering payload as it goes, until the data
 * ends inside a frame header or input is no longer wanted (paused, closed).
 * Returns how many bytes were consumed; the rest must be offered again. */
static gsize
process_input (HubsWebSocketTransport *self,
               guint8                 *data,
               gsize                   length)
{
  gsize pos = 0;

  while (reading_enabled (self))
    {
      if (!self->in_frame)
        {
          gsize header_len;

          if (!parse_header (self, data + pos, length - pos, &header_len))
            break;
          pos += header_len;
          self->in_frame = TRUE;
        }

      if (self->payload_left > 0)
        {
          gsize piece = MIN (length - pos, self->payload_left);

          if (piece == 0)
            break;

          /* Consumed before delivery: the callback may pause us, and the
           * piece has been unmasked in place. */
          pos += piece;
          self->payload_left -= piece;
          handle_payload (self, data + pos - piece, piece);
          continue;
        }

      complete_frame (self);
    }

  return pos;
}

/* Delivers input held from before (always first, so nothing is reordered)
 * and, with @do_read, what one read brings. */
static void
read_and_process (HubsWebSocketTransport *self,
                  gboolean                do_read)
{
  g_autoptr(GError) error = NULL;
  gboolean shared, eof = FALSE;
  guint8 *buffer, *data;
  gsize length, consumed;

  buffer = read_buffer_acquire (&shared);
  data = buffer + READ_HEADROOM;

  length = self->held_len;
  memcpy (data, held_data (self), length);
  held_clear (self);

  if (do_read && length < READ_CHUNK)
    {
      gssize n = g_pollable_input_stream_read_nonblocking (self->input,
                                                           data + length,
                                                           READ_CHUNK - length,
                                                           NULL, &error);
      if (n > 0)
        length += n;
      else if (n == 0)
        eof = TRUE;
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_clear_error (&error);
    }

  consumed = process_input (self, data, length);
  if (!self->finished && !self->read_stopped && consumed < length)
    held_store (self, data + consumed, length - consumed);

  read_buffer_release (buffer, shared);

  if (self->finished)
    return;

  if (eof)
    {
      g_debug ("WebSocket peer went away without a close frame");
      finish (self, NULL);
    }
  else if (error != NULL)
    {
      if (is_disconnect_error (error))
        {
          g_debug ("WebSocket read failed: %s", error->message);
          finish (self, NULL);
        }
      else
        {
          g_prefix_error (&error, "Could not read from the WebSocket: ");
          finish (self, error);
        }
    }
  else
    {
      update_read_source (self);
    }
}

static gboolean
on_readable (GObject  *pollable,
             gpointer  user_data)
{
  HubsWebSocketTransport *self = g_object_ref (user_data);

  read_and_process (self, TRUE);
  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

/* Reads what the stream holds, then waits for the socket. */
static gboolean
on_first_read (gpointer user_data)
{
  HubsWebSocketTransport *self = g_object_ref (user_data);

  g_clear_pointer (&self->resume_source, g_source_unref);
  for (guint i = 0; i < 64 && reading_enabled (self) && self->resume_source == NULL &&
       g_pollable_input_stream_is_readable (self->input); i++)
    read_and_process (self, TRUE);
  if (!self->finished)
    update_read_source (self);
  g_object_unref (self);

  return G_SOURCE_REMOVE;
}

static gboolean
on_resume (gpointer user_data)
{
  HubsWebSocketTransport *self = g_object_ref (user_data);

  g_clear_pointer (&self->resume_source, g_source_unref);
  if (reading_enabled (self))
    read_and_process (self, FALSE);
  g_object_unref (self);

  return G_SOURCE_REMOVE;
}

/* Input that is already here (held bytes, or a frame whose completion was
 * left when the layer above paused) is handled from an idle so that the
 * calls that resume input never call back into their caller. */
static void
schedule_resume (HubsWebSocketTransport *self)
{
  if (self->resume_source != NULL || !reading_enabled (self))
    return;

  if (self->held_len == 0 && !(self->in_frame && self->payload_left == 0))
    {
      update_read_source (self);
      return;
    }

  self->resume_source = g_idle_source_new ();
  g_source_set_priority (self->resume_source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (self->resume_source, "[hubs] WebSocket resume");
  g_source_set_callback (self->resume_source, on_resume, self, NULL);
  g_source_attach (self->resume_source, self->context);
}

static void flush_queue (HubsWebSocketTransport *self);

static void
on_io (gpointer     user_data,
       GIOCondition condition)
{
  HubsWebSocketTransport *self = g_object_ref (user_data);

  if (self->watch_write && (condition & (G_IO_OUT | G_IO_HUP | G_IO_ERR)))
    flush_queue (self);
  if (!self->finished && self->watch_read && (condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
    read_and_process (self, TRUE);
  g_object_unref (self);
}

static void
watch_update (HubsWebSocketTransport *self,
              gboolean                read,
              gboolean                write)
{
  self->watch_read = read;
  self->watch_write = write;
  hubs_poller_watch_set_events (self->watch, (read ? G_IO_IN : 0) | (write ? G_IO_OUT : 0));
}

/* Whether the socket would block and output waits for it. */
static gboolean
waiting_writable (HubsWebSocketTransport *self)
{
  return self->write_source != NULL || self->watch_write;
}

static void
stop_waiting_writable (HubsWebSocketTransport *self)
{
  if (self->watch != NULL)
    watch_update (self, self->watch_read, FALSE);
  else
    destroy_source (&self->write_source);
}

/* Input is watched exactly while it is wanted, so a paused transport costs
 * the main loop nothing. */
static void
update_read_source (HubsWebSocketTransport *self)
{
  gboolean wanted = reading_enabled (self) && self->resume_source == NULL;

  if (self->watch != NULL)
    {
      if (wanted != self->watch_read)
        watch_update (self, wanted, self->watch_write);
      return;
    }

  if (wanted && self->read_source == NULL)
    {
      self->read_source = g_pollable_input_stream_create_source (self->input, NULL);
      g_source_set_static_name (self->read_source, "[hubs] WebSocket read");
      g_source_set_callback (self->read_source, G_SOURCE_FUNC (on_readable), self, NULL);
      g_source_attach (self->read_source, self->context);
    }
  else if (!wanted)
    {
      destroy_source (&self->read_source);
    }
}

/* Output */

/* Accounts for @written bytes from the head of the queue. Returns TRUE if
 * the close frame went out entirely. */
static gboolean
queue_advance (HubsWebSocketTransport *self,
               gsize                   written)
{
  gboolean close_sent = FALSE;

  self->queued_bytes -= written;

  while (written > 0)
    {
      OutFrame *head = queue_nth (self, 0);
      gsize left = out_frame_size (head) - self->head_written;

      if (written < left)
        {
          self->head_written += written;
          break;
        }

      written -= left;
      if (head->kind == FRAME_CLOSE)
        close_sent = TRUE;
      queue_pop_head (self);
    }

  return close_sent;
}

static void
flush_queue (HubsWebSocketTransport *self)
{
  gboolean progress = FALSE;

  while (queue_length (self) > 0)
    {
      GOutputVector vectors[2 * MAX_WRITE_FRAMES];
      guint n_vectors = 0, n_frames;
      gsize skip = self->head_written, written = 0;
      g_autoptr(GError) error = NULL;
      GPollableReturn ret;

      n_frames = MIN (queue_length (self), MAX_WRITE_FRAMES);
      for (guint i = 0; i < n_frames; i++)
        {
          const OutFrame *frame = queue_nth (self, i);

          if (skip < frame->header_len)
            {
              vectors[n_vectors].buffer = frame->header + skip;
              vectors[n_vectors].size = frame->header_len - skip;
              n_vectors++;
              skip = 0;
            }
          else
            {
              skip -= frame->header_len;
            }

          if (frame->payload_len > skip)
            {
              vectors[n_vectors].buffer = frame->payload + skip;
              vectors[n_vectors].size = frame->payload_len - skip;
              n_vectors++;
            }
          skip = 0;
        }

      ret = g_pollable_output_stream_writev_nonblocking (self->output,
                                                         vectors, n_vectors,
                                                         &written, NULL, &error);
      if (ret == G_POLLABLE_RETURN_FAILED)
        {
          if (is_disconnect_error (error))
            {
              g_debug ("WebSocket write failed: %s", error->message);
              finish (self, NULL);
            }
          else
            {
              g_prefix_error (&error, "Could not write to the WebSocket: ");
              finish (self, error);
            }
          return;
        }

      if (ret == G_POLLABLE_RETURN_WOULD_BLOCK || written == 0)
        break;

      progress = TRUE;
      if (queue_advance (self, written))
        self->close_frame_sent = TRUE;
    }

  if (queue_length (self) == 0)
    stop_waiting_writable (self);
  else
    ensure_write_source (self);

  if (self->close_frame_sent)
    {
      if (self->peer_close_received || self->pending_error != NULL)
        {
          finish (self, NULL);
          return;
        }

      /* Ours is out: from now on the timer is the wait for the peer's. */
      if (progress)
        restart_close_timer (self);
    }
  else if (progress && self->close_frame_queued)
    {
      restart_close_timer (self);
    }

  if (self->above_high_watermark &&
      self->queued_bytes <= self->options.low_watermark)
    {
      self->above_high_watermark = FALSE;
      hubs_transport_emit_drained (HUBS_TRANSPORT (self));
    }
}

static gboolean
on_writable (GObject  *pollable,
             gpointer  user_data)
{
  HubsWebSocketTransport *self = g_object_ref (user_data);

  flush_queue (self);
  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

/* Writing waits for the main loop even when the socket could take the data
 * now: everything sent in one dispatch leaves in one writev. */
static void
ensure_write_source (HubsWebSocketTransport *self)
{
  if (waiting_writable (self) || self->finished || queue_length (self) == 0)
    return;

  if (self->watch != NULL)
    {
      watch_update (self, self->watch_read, TRUE);
      return;
    }

  self->write_source = g_pollable_output_stream_create_source (self->output, NULL);
  g_source_set_static_name (self->write_source, "[hubs] WebSocket write");
  g_source_set_callback (self->write_source, G_SOURCE_FUNC (on_writable), self, NULL);
  g_source_attach (self->write_source, self->context);
}

static void
scheduled_flush (GObject *object)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (object);

  self->flush_scheduled = FALSE;
  /* While the socket would block, its own source writes when it can. */
  if (!self->finished && !waiting_writable (self))
    flush_queue (self);
}

/* Queued output leaves in a coming iteration, all of it in one writev. */
static void
schedule_flush (HubsWebSocketTransport *self)
{
  if (self->options.scheduler == NULL)
    {
      ensure_write_source (self);
      return;
    }

  if (self->flush_scheduled || waiting_writable (self) ||
      self->finished || queue_length (self) == 0)
    return;

  self->flush_scheduled = TRUE;
  hubs_write_scheduler_schedule (self->options.scheduler, G_OBJECT (self), scheduled_flush);
}

/* Ending */

static void
shut_down (HubsWebSocketTransport *self)
{
  destroy_source (&self->read_source);
  destroy_source (&self->write_source);
  destroy_source (&self->resume_source);
  destroy_source (&self->close_timer);
  self->watch_read = self->watch_write = FALSE;
  g_clear_pointer (&self->watch, hubs_poller_watch_free);

  queue_clear (self);
  held_clear (self);

  /* Asynchronous because a TLS stream writes its close_notify; a socket
   * connection closes at once all the same. */
  if (self->stream != NULL && !g_io_stream_is_closed (self->stream) &&
      !g_io_stream_has_pending (self->stream))
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

static void
finish (HubsWebSocketTransport *self,
        const GError           *error)
{
  g_autoptr(GError) pending = NULL;

  if (self->finished)
    return;

  self->finished = TRUE;
  shut_down (self);

  pending = g_steal_pointer (&self->pending_error);
  hubs_transport_emit_closed (HUBS_TRANSPORT (self),
                              error != NULL ? error : pending);
}

static gboolean
on_closed_idle (gpointer user_data)
{
  HubsWebSocketTransport *self = user_data;

  g_clear_pointer (&self->closed_idle, g_source_unref);
  hubs_transport_emit_closed (HUBS_TRANSPORT (self), NULL);

  return G_SOURCE_REMOVE;
}

/* Vfuncs */

static void
hubs_websocket_transport_start (HubsTransport *transport)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (transport);

  if (self->started || self->finished)
    return;

  self->started = TRUE;

  /* Input that the stream read ahead of the upgrade (a client that did not
   * wait for the 101) is in its buffer, where the socket's readiness does
   * not show it: it is read once the application is listening. */
  if (self->watch != NULL && self->held_len == 0 &&
      g_pollable_input_stream_is_readable (self->input))
    {
      self->resume_source = g_idle_source_new ();
      g_source_set_priority (self->resume_source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (self->resume_source, "[hubs] WebSocket first read");
      g_source_set_callback (self->resume_source, on_first_read, self, NULL);
      g_source_attach (self->resume_source, self->context);
      return;
    }

  schedule_resume (self);
}

static void
hubs_websocket_transport_send (HubsTransport *transport,
                               GBytes        *data)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (transport);
  HubsTransferFormat format;
  OutFrame frame;

  if (self->finished || self->local_close_requested || self->close_frame_queued)
    return;

  format = hubs_transport_get_transfer_format (transport);
  frame_init (&frame, FRAME_DATA,
              format == HUBS_TRANSFER_FORMAT_BINARY ? OPCODE_BINARY : OPCODE_TEXT,
              data);
  queue_insert (self, queue_length (self), &frame);

  if (self->queued_bytes > self->options.high_watermark)
    self->above_high_watermark = TRUE;

  schedule_flush (self);
}

static void
hubs_websocket_transport_close (HubsTransport *transport,
                                gboolean       failed)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (transport);

  /* A close frame already queued is the peer's echo or a protocol error's:
   * the transport is ending on its own. */
  if (self->finished || self->local_close_requested || self->close_frame_queued)
    return;

  self->local_close_requested = TRUE;
  self->local_close_code = failed ? CLOSE_SERVER_ERROR : CLOSE_NORMAL;

  queue_close_frame (self, self->local_close_code);
  schedule_flush (self);
  restart_close_timer (self);

  /* Input is read (and dropped) from now on, paused or not: the peer's
   * close frame is in it. */
  schedule_resume (self);
}

static void
hubs_websocket_transport_abort (HubsTransport *transport)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (transport);

  if (self->finished)
    return;

  self->finished = TRUE;
  g_clear_error (&self->pending_error);
  shut_down (self);

  /* The reference keeps the report coming even if the owner lets go now. */
  self->closed_idle = g_idle_source_new ();
  g_source_set_priority (self->closed_idle, G_PRIORITY_DEFAULT);
  g_source_set_static_name (self->closed_idle, "[hubs] WebSocket closed");
  g_source_set_callback (self->closed_idle, on_closed_idle,
                         g_object_ref (self), g_object_unref);
  g_source_attach (self->closed_idle, self->context);
}

static void
hubs_websocket_transport_set_receiving (HubsTransport *transport,
                                        gboolean       receiving)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (transport);

  if (self->receiving == !!receiving)
    return;

  self->receiving = !!receiving;

  if (receiving)
    {
      schedule_resume (self);
    }
  else if (!reading_enabled (self))
    {
      destroy_source (&self->resume_source);
      update_read_source (self);
    }
}

static gsize
hubs_websocket_transport_get_queued_bytes (HubsTransport *transport)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (transport);

  return self->queued_bytes;
}

/* GObject */

static void
hubs_websocket_transport_dispose (GObject *object)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (object);

  /* Never reports "closed": whoever dropped the last reference is gone. */
  self->finished = TRUE;
  shut_down (self);
  destroy_source (&self->closed_idle);

  g_clear_object (&self->input);
  g_clear_object (&self->output);
  g_clear_object (&self->stream);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (hubs_websocket_transport_parent_class)->dispose (object);
}

static void
hubs_websocket_transport_finalize (GObject *object)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (object);

  g_clear_error (&self->pending_error);
  g_clear_pointer (&self->options.scheduler, hubs_write_scheduler_unref);

  G_OBJECT_CLASS (hubs_websocket_transport_parent_class)->finalize (object);
}

static gboolean
hubs_websocket_transport_ended_abruptly (HubsTransport *transport)
{
  HubsWebSocketTransport *self = HUBS_WEBSOCKET_TRANSPORT (transport);

  return self->finished && !self->peer_close_received &&
         !self->local_close_requested && !self->close_frame_queued;
}

static void
hubs_websocket_transport_class_init (HubsWebSocketTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  HubsTransportClass *transport_class = HUBS_TRANSPORT_CLASS (klass);

  object_class->dispose = hubs_websocket_transport_dispose;
  object_class->finalize = hubs_websocket_transport_finalize;

  transport_class->start = hubs_websocket_transport_start;
  transport_class->send = hubs_websocket_transport_send;
  transport_class->close = hubs_websocket_transport_close;
  transport_class->abort = hubs_websocket_transport_abort;
  transport_class->set_receiving = hubs_websocket_transport_set_receiving;
  transport_class->get_queued_bytes = hubs_websocket_transport_get_queued_bytes;
  transport_class->ended_abruptly = hubs_websocket_transport_ended_abruptly;
}

static void
hubs_websocket_transport_init (HubsWebSocketTransport *self)
{
  self->receiving = TRUE;
}

/* @options: NULL for no frame limit, watermarks of 64 KiB and 16 KiB and a
 * 5 s close timeout. A close_timeout_ms of 0 also means 5 s: a close frame
 * must always get its chance to leave. */
HubsTransport *
hubs_websocket_transport_new (GIOStream                  *stream,
                              const HubsWebSocketOptions *options)
{
  static const HubsWebSocketOptions defaults = {
    .max_frame_size = 0,
    .high_watermark = 64 * 1024,
    .low_watermark = 16 * 1024,
    .close_timeout_ms = 5000,
  };
  HubsWebSocketTransport *self;
  GInputStream *input;
  GOutputStream *output;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  input = g_io_stream_get_input_stream (stream);
  output = g_io_stream_get_output_stream (stream);
  g_return_val_if_fail (G_IS_POLLABLE_INPUT_STREAM (input) &&
                        g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (input)), NULL);
  g_return_val_if_fail (G_IS_POLLABLE_OUTPUT_STREAM (output) &&
                        g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (output)), NULL);

  self = g_object_new (HUBS_TYPE_WEBSOCKET_TRANSPORT,
                       "transport-type", HUBS_TRANSPORT_WEB_SOCKETS,
                       NULL);

  self->stream = g_object_ref (stream);
  self->input = g_object_ref (G_POLLABLE_INPUT_STREAM (input));
  self->output = g_object_ref (G_POLLABLE_OUTPUT_STREAM (output));
  self->context = g_main_context_ref_thread_default ();
  self->options = options != NULL ? *options : defaults;
  if (self->options.close_timeout_ms == 0)
    self->options.close_timeout_ms = defaults.close_timeout_ms;
  if (self->options.low_watermark > self->options.high_watermark)
    self->options.low_watermark = self->options.high_watermark;
  if (self->options.scheduler != NULL)
    hubs_write_scheduler_ref (self->options.scheduler);

  /* Reads and writes still go through @stream, which may hold input read
   * ahead (see hubs_websocket_transport_start()); only readiness comes
   * from the socket. */
  if (self->options.socket != NULL)
    self->watch = hubs_poller_watch_new (self->context, g_socket_get_fd (self->options.socket), on_io, self);
  else if (G_IS_SOCKET_CONNECTION (stream))
    self->watch = hubs_poller_watch_new (self->context,
                                         g_socket_get_fd (g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream))),
                                         on_io, self);
  self->options.socket = NULL;

  return HUBS_TRANSPORT (self);
}
