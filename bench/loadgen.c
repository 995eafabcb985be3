/* loadgen.c: the load generator of the benchmarks, for every server alike
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One thread on epoll drives many connections: a tiny HTTP POST to
 * PATH/negotiate, the WebSocket upgrade on the same socket, the SignalR JSON
 * handshake, then the scenario. Client frames are masked; every buffer is
 * allocated once per connection at start, none per message.
 *
 *   loadgen --port P --scenario echo|broadcast|echoAll|idle|raw|groups|
 *                               groupsJoinLeave|groupsDisconnect|sendToUser
 *           [--port2 P2] [--server-pid2 PID]
 *           [--connections N] [--warmup S] [--duration S] [--window W]
 *           [--server-pid PID] [--label TEXT] [--protocol json|messagepack]
 *           [--group-size S] [--groups-per-conn K] [--batch B] [--batches N]
 *           [--transport websockets|serverSentEvents|longPolling]
 *
 * groups: JoinGroup("g" i/S) for every connection first, then
 * SendToGroup(group, now) two at a time per connection, deliveries counted;
 * groupsJoinLeave: JoinGroup/LeaveGroup closed loops; groupsDisconnect: K
 * groups of its own per connection, then batches of B connections closed
 * (see run_disconnect()). serverSentEvents and longPolling: echo over the
 * HTTP transports, JSON (see the section below).
 *
 * sendToUser: connection i is user "u" i (query parameter user=u<i> on
 * negotiate and upgrade) and calls SendToUser("u" (i ^ 1), now) two at a
 * time, each kept until its partner has received it (a closed loop over the
 * delivery, not only the completion), deliveries counted. A pair whose
 * deliveries stop for 1 s (one sent before the partner's server had
 * subscribed to the partner's user channel is lost, as SignalR allows) sends
 * again, and the given-up sends are reported as "lost". --port2: the odd connections go to a second
 * server (WebSockets only), so with a backplane between the two servers
 * every sendToUser delivery and half the broadcast ones cross it;
 * --server-pid2 adds that server's CPU time to server_cpu_s.
 *
 * raw: no negotiate and no SignalR, an echo of a frame the size of an Echo
 * invocation, against bench/raw-ws-echo.c: the generator's own ceiling.
 *
 * It prints one JSON object on its last line of standard output. With
 * --server-pid it reads the server's CPU time over the measurement from
 * /proc/PID/stat and its memory at the end from /proc/PID/smaps_rollup.
 * Every loop is bounded in count and in time; it connects to 127.0.0.1 only.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (16 * 1024)
#define WBUF_SIZE (4 * 1024)
#define MAX_CONNECTING 64
#define HIST_BUCKETS 100000 /* 10 µs each: up to 1 s; beyond, only max */
#define MASK_KEY 0x5a3c96e1u
#define LOST_AFTER_US 1000000 /* sendToUser: a delivery later than this is given up */

enum { S_NONE, S_CONNECTING, S_NEGOTIATE, S_UPGRADE, S_HANDSHAKE, S_READY, S_CLOSING, S_DEAD };
enum { SC_ECHO, SC_BROADCAST, SC_ECHOALL, SC_IDLE, SC_RAW, SC_GROUPS, SC_GROUPS_JOINLEAVE, SC_GROUPS_DISCONNECT,
       SC_SEND_TO_USER };

typedef struct
{
  int fd;
  int state;
  int index;
  uint8_t *rbuf;
  size_t rlen;
  uint8_t *wbuf;
  size_t wlen, woff;
  uint8_t *mbuf; /* a hub message split across frames, until its end */
  size_t mlen;
  int want_out;
  int outstanding;
  uint64_t next_id;
  int64_t send_us;
  int64_t next_idle_us;
  int joined;           /* groupsJoinLeave: the next call is LeaveGroup */
  int64_t close_us;     /* groupsDisconnect: when the close frame left */
  int in_flight;        /* sendToUser: sent and not yet delivered to the partner */
} Conn;

static const char *opt_path = "/echo";
static int opt_port = 5000;
static int opt_port2;                /* the odd connections' server, if any */
static int opt_server_pid2;
static int opt_scenario = SC_ECHO;
static const char *opt_scenario_name = "echo";
static int opt_connections = 10;
static double opt_warmup = 5, opt_duration = 15;
static int opt_window = 0;
static int opt_server_pid = 0;
static const char *opt_label = "";
static int opt_msgpack;
static int opt_group_size = 10;      /* groups, groupsJoinLeave */
static int opt_groups_per_conn = 10; /* groupsDisconnect */
static int opt_batch = 100;          /* groupsDisconnect */
static int opt_batches = 5;
static int opt_transport;            /* 0: WebSockets, 1: SSE, 2: Long Polling */
static const char *const transport_names[] = { "websockets", "serverSentEvents", "longPolling" };

static int epfd;
static Conn *conns;
static int n_ready, n_connecting, n_started, n_dead;

/* measured */
static int measuring;
static uint64_t completions, deliveries, errors, errors_setup, disconnects;
static uint64_t lost_total, lost_measured;  /* sendToUser: given up after LOST_AFTER_US */
static uint64_t hist[HIST_BUCKETS];
static uint64_t hist_n;
static int64_t lat_max_us;
static char first_error[256];

static int64_t
mono_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
note_error_index (const char *what, int index)
{
  if (measuring)
    errors++;
  else
    errors_setup++;
  if (first_error[0] == '\0')
    snprintf (first_error, sizeof first_error, "conn %d: %s", index, what);
}

static void
note_error (const char *what, Conn *c)
{
  note_error_index (what, c ? c->index : -1);
}

static void
record_latency (int64_t us)
{
  if (!measuring)
    return;
  if (us < 0)
    us = 0;
  if (us > lat_max_us)
    lat_max_us = us;
  int64_t b = us / 10;
  if (b >= HIST_BUCKETS)
    b = HIST_BUCKETS - 1;
  hist[b]++;
  hist_n++;
}

static double
percentile_ms (double p)
{
  if (hist_n == 0)
    return 0;
  uint64_t want = (uint64_t) (p * hist_n);
  if (want >= hist_n)
    want = hist_n - 1;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++)
    {
      seen += hist[i];
      if (seen > want)
        return (i * 10 + 5) / 1000.0;
    }
  return lat_max_us / 1000.0;
}

static void
conn_close (Conn *c)
{
  if (c->fd >= 0)
    {
      epoll_ctl (epfd, EPOLL_CTL_DEL, c->fd, NULL);
      close (c->fd);
      c->fd = -1;
    }
  if (c->state == S_READY)
    n_ready--;
  else if (c->state >= S_CONNECTING && c->state < S_READY)
    n_connecting--;
  c->state = S_DEAD;
  n_dead++;
}

static void
update_events (Conn *c)
{
  struct epoll_event ev = { .events = EPOLLIN | (c->want_out ? EPOLLOUT : 0), .data.ptr = c };
  epoll_ctl (epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
flush_out (Conn *c)
{
  while (c->woff < c->wlen)
    {
      ssize_t n = write (c->fd, c->wbuf + c->woff, c->wlen - c->woff);
      if (n < 0)
        {
          if (errno == EAGAIN)
            break;
          if (errno == EINTR)
            continue;
          note_error ("write failed", c);
          conn_close (c);
          return;
        }
      c->woff += n;
    }
  if (c->woff == c->wlen)
    {
      c->woff = c->wlen = 0;
      if (c->want_out)
        {
          c->want_out = 0;
          update_events (c);
        }
    }
  else if (!c->want_out)
    {
      c->want_out = 1;
      update_events (c);
    }
}

static int
queue_raw (Conn *c, const void *data, size_t len)
{
  if (c->wlen + len > WBUF_SIZE)
    {
      note_error ("write buffer full", c);
      return -1;
    }
  memcpy (c->wbuf + c->wlen, data, len);
  c->wlen += len;
  return 0;
}

/* A masked client frame of @opcode around @payload. */
static int
queue_frame (Conn *c, int opcode, const char *payload, size_t len)
{
  uint8_t hdr[14];
  size_t h = 0;
  uint8_t key[4] = { MASK_KEY >> 24, (MASK_KEY >> 16) & 0xff, (MASK_KEY >> 8) & 0xff, MASK_KEY & 0xff };

  hdr[h++] = 0x80 | opcode;
  if (len < 126)
    hdr[h++] = 0x80 | len;
  else
    {
      hdr[h++] = 0x80 | 126;
      hdr[h++] = len >> 8;
      hdr[h++] = len & 0xff;
    }
  memcpy (hdr + h, key, 4);
  h += 4;
  if (c->wlen + h + len > WBUF_SIZE)
    {
      note_error ("write buffer full", c);
      return -1;
    }
  memcpy (c->wbuf + c->wlen, hdr, h);
  c->wlen += h;
  uint8_t *dst = c->wbuf + c->wlen;
  for (size_t i = 0; i < len; i++)
    dst[i] = payload[i] ^ key[i & 3];
  c->wlen += len;
  return 0;
}

static size_t
format_iso_now (char *buf)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  /* six digits, trailing zeros trimmed: the form both servers write back */
  size_t n = sprintf (buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
  while (buf[n - 1] == '0')
    n--;
  if (buf[n - 1] == '.')
    n--;
  buf[n++] = 'Z';
  buf[n] = '\0';
  return n;
}

/* MessagePack: varint length, then [1, {}, "id", target, [arg], []] */
static void
send_invocation_msgpack (Conn *c, const char *target, int with_time, int int_arg)
{
  uint8_t body[128], msg[136];
  size_t n = 0, tl = strlen (target);
  char id[24];
  int il = snprintf (id, sizeof id, "%llu", (unsigned long long) c->next_id++);

  body[n++] = 0x96;
  body[n++] = 0x01;
  body[n++] = 0x80;
  body[n++] = 0xa0 | il;
  memcpy (body + n, id, il);
  n += il;
  body[n++] = 0xa0 | tl;
  memcpy (body + n, target, tl);
  n += tl;
  body[n++] = 0x91;
  if (with_time)
    {
      /* timestamp 64: nanoseconds (30 bits) << 34 | seconds (34 bits) */
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      uint64_t ns = (uint64_t) (ts.tv_nsec / 1000) * 1000;
      uint64_t v = (ns << 34) | (uint64_t) ts.tv_sec;
      body[n++] = 0xd7;
      body[n++] = 0xff;
      for (int i = 7; i >= 0; i--)
        body[n++] = (v >> (i * 8)) & 0xff;
    }
  else
    {
      body[n++] = 0xd2;
      for (int i = 3; i >= 0; i--)
        body[n++] = ((uint32_t) int_arg >> (i * 8)) & 0xff;
    }
  body[n++] = 0x90;
  size_t m = 0;
  for (size_t len = n; ; )
    {
      msg[m++] = (len & 0x7f) | (len > 0x7f ? 0x80 : 0);
      len >>= 7;
      if (len == 0)
        break;
    }
  memcpy (msg + m, body, n);
  c->send_us = mono_us ();
  c->outstanding++;
  if (queue_frame (c, 2, (const char *) msg, m + n) < 0)
    conn_close (c);
}

static void
send_invocation (Conn *c, const char *target, int with_time, int int_arg)
{
  char msg[256];
  char arg[64];
  size_t n;

  if (opt_msgpack)
    {
      send_invocation_msgpack (c, target, with_time, int_arg);
      return;
    }

  if (with_time)
    {
      format_iso_now (arg);
      n = snprintf (msg, sizeof msg,
                    "{\"type\":1,\"invocationId\":\"%llu\",\"target\":\"%s\",\"arguments\":[\"%s\"]}\x1e",
                    (unsigned long long) c->next_id++, target, arg);
    }
  else
    n = snprintf (msg, sizeof msg,
                  "{\"type\":1,\"invocationId\":\"%llu\",\"target\":\"%s\",\"arguments\":[%d]}\x1e",
                  (unsigned long long) c->next_id++, target, int_arg);
  c->send_us = mono_us ();
  c->outstanding++;
  if (queue_frame (c, 1, msg, n) < 0)
    conn_close (c);
}

/* An invocation of @target with a string argument and, if @with_time, the
 * current time after it: JoinGroup(g), LeaveGroup(g), SendToGroup(g, now). */
static void
send_invocation_str (Conn *c, const char *target, const char *sarg, int with_time)
{
  uint8_t body[192], msg[200];
  size_t n = 0;

  if (!opt_msgpack)
    {
      char arg[64];
      if (with_time)
        {
          format_iso_now (arg);
          n = snprintf ((char *) msg, sizeof msg,
                        "{\"type\":1,\"invocationId\":\"%llu\",\"target\":\"%s\",\"arguments\":[\"%s\",\"%s\"]}\x1e",
                        (unsigned long long) c->next_id++, target, sarg, arg);
        }
      else
        n = snprintf ((char *) msg, sizeof msg,
                      "{\"type\":1,\"invocationId\":\"%llu\",\"target\":\"%s\",\"arguments\":[\"%s\"]}\x1e",
                      (unsigned long long) c->next_id++, target, sarg);
      c->send_us = mono_us ();
      c->outstanding++;
      if (queue_frame (c, 1, (const char *) msg, n) < 0)
        conn_close (c);
      return;
    }

  char id[24];
  size_t tl = strlen (target), sl = strlen (sarg);
  int il = snprintf (id, sizeof id, "%llu", (unsigned long long) c->next_id++);
  body[n++] = 0x96;
  body[n++] = 0x01;
  body[n++] = 0x80;
  body[n++] = 0xa0 | il;
  memcpy (body + n, id, il);
  n += il;
  body[n++] = 0xa0 | tl;
  memcpy (body + n, target, tl);
  n += tl;
  body[n++] = with_time ? 0x92 : 0x91;
  body[n++] = 0xa0 | sl;
  memcpy (body + n, sarg, sl);
  n += sl;
  if (with_time)
    {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      uint64_t ns = (uint64_t) (ts.tv_nsec / 1000) * 1000;
      uint64_t v = (ns << 34) | (uint64_t) ts.tv_sec;
      body[n++] = 0xd7;
      body[n++] = 0xff;
      for (int i = 7; i >= 0; i--)
        body[n++] = (v >> (i * 8)) & 0xff;
    }
  body[n++] = 0x90;
  size_t m = 0;
  for (size_t len = n; ; )
    {
      msg[m++] = (len & 0x7f) | (len > 0x7f ? 0x80 : 0);
      len >>= 7;
      if (len == 0)
        break;
    }
  memcpy (msg + m, body, n);
  c->send_us = mono_us ();
  c->outstanding++;
  if (queue_frame (c, 2, (const char *) msg, m + n) < 0)
    conn_close (c);
}

/* The group of connection @i in groups and groupsJoinLeave: "g0" for the
 * first opt_group_size connections, "g1" for the next, … */
static const char *
group_of (int i, char *buf)
{
  sprintf (buf, "g%d", i / opt_group_size);
  return buf;
}

/* The port of connection @c's server. */
static int
conn_port (const Conn *c)
{
  return opt_port2 > 0 && (c->index & 1) ? opt_port2 : opt_port;
}

/* sendToUser: "&user=u<i>" on negotiate and upgrade; "" otherwise. */
static const char *
user_query (const Conn *c, char *buf)
{
  if (opt_scenario != SC_SEND_TO_USER)
    return "";
  sprintf (buf, "&user=u%d", c->index);
  return buf;
}

static void
send_raw_echo (Conn *c)
{
  static const char payload[] =
    "{\"type\":1,\"invocationId\":\"1234\",\"target\":\"Echo\",\"arguments\":[\"2026-11-25T15:08:05.123456Z\"]}\x1e";
  c->send_us = mono_us ();
  c->outstanding++;
  if (queue_frame (c, 2, payload, sizeof payload - 1) < 0)
    conn_close (c);
}

/* What each ready connection sends when it may. */
static int started;

static void
drive (Conn *c)
{
  if (c->state != S_READY || !started)
    return;
  switch (opt_scenario)
    {
    case SC_ECHO:
      while (c->outstanding < opt_window && c->state == S_READY)
        send_invocation (c, "Echo", 1, 0);
      break;
    case SC_RAW:
      while (c->outstanding < opt_window && c->state == S_READY)
        send_raw_echo (c);
      break;
    case SC_ECHOALL:
      while (c->outstanding < opt_window && c->state == S_READY)
        send_invocation (c, "EchoAll", 1, 0);
      break;
    case SC_BROADCAST:
      if (c->index == 0)
        while (c->outstanding < opt_window && c->state == S_READY)
          send_invocation (c, "Broadcast", 0, (int) (mono_us () & 0x7fffffff));
      break;
    case SC_GROUPS:
      {
        char g[24];
        group_of (c->index, g);
        while (c->outstanding < opt_window && c->state == S_READY)
          send_invocation_str (c, "SendToGroup", g, 1);
      }
      break;
    case SC_SEND_TO_USER:
      {
        char u[24];
        sprintf (u, "u%d", c->index ^ 1);
        while (c->outstanding < opt_window && c->in_flight < opt_window && c->state == S_READY)
          {
            c->in_flight++;
            send_invocation_str (c, "SendToUser", u, 1);
          }
      }
      break;
    case SC_GROUPS_JOINLEAVE:
      {
        char g[24];
        group_of (c->index, g);
        while (c->outstanding < opt_window && c->state == S_READY)
          {
            send_invocation_str (c, c->joined ? "LeaveGroup" : "JoinGroup", g, 0);
            c->joined = !c->joined;
          }
      }
      break;
    case SC_IDLE:
    case SC_GROUPS_DISCONNECT:
      break;
    }
  /* everything this connection queued, in one write */
  if (c->state == S_READY && c->wlen > c->woff && !c->want_out)
    flush_out (c);
}

static int64_t
parse_time_of_day_us (const char *p, const char *end)
{
  /* 2026-11-25T15:08:05.123456Z */
  const char *t = memchr (p, 'T', end - p);
  if (t == NULL || end - t < 9)
    return -1;
  int64_t h = (t[1] - '0') * 10 + (t[2] - '0');
  int64_t m = (t[4] - '0') * 10 + (t[5] - '0');
  int64_t s = (t[7] - '0') * 10 + (t[8] - '0');
  int64_t us = 0;
  const char *q = t + 9;
  if (q < end && *q == '.')
    {
      int digits = 0;
      q++;
      while (q < end && *q >= '0' && *q <= '9')
        {
          if (digits < 6)
            {
              us = us * 10 + (*q - '0');
              digits++;
            }
          q++;
        }
      while (digits++ < 6)
        us *= 10;
    }
  return ((h * 60 + m) * 60 + s) * 1000000 + us;
}

static int64_t
realtime_of_day_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) (ts.tv_sec % 86400) * 1000000 + ts.tv_nsec / 1000;
}

static void
on_completion (Conn *c, const char *msg, size_t len)
{
  if (memmem (msg, len, "\"error\"", 7) != NULL)
    {
      char what[200];
      snprintf (what, sizeof what, "completion error: %.*s", (int) (len < 150 ? len : 150), msg);
      note_error (what, c);
    }
  if (c->outstanding > 0)
    c->outstanding--;
  if (measuring)
    completions++;
  if (opt_scenario == SC_ECHO || opt_scenario == SC_IDLE || opt_scenario == SC_GROUPS_JOINLEAVE)
    record_latency (mono_us () - c->send_us);
}

/* sendToUser: the partner of @c may send one more. */
static void
release_partner (Conn *c)
{
  if (opt_scenario != SC_SEND_TO_USER || (c->index ^ 1) >= opt_connections)
    return;
  Conn *partner = &conns[c->index ^ 1];
  if (partner->in_flight > 0)
    partner->in_flight--;
  drive (partner);
}

static void
on_delivery (Conn *c, const char *msg, size_t len)
{
  const char *args = memmem (msg, len, "\"arguments\":[", 13);
  if (measuring)
    deliveries++;
  release_partner (c);
  if (args == NULL)
    return;
  args += 13;
  if (opt_scenario == SC_BROADCAST)
    {
      int64_t v = strtoll (args, NULL, 10);
      int64_t d = ((mono_us () & 0x7fffffff) - v) & 0x7fffffff;
      record_latency (d);
    }
  else if (opt_scenario == SC_ECHOALL || opt_scenario == SC_GROUPS || opt_scenario == SC_SEND_TO_USER)
    {
      int64_t t = parse_time_of_day_us (args, msg + len);
      if (t >= 0)
        {
          int64_t d = realtime_of_day_us () - t;
          if (d < -43200000000LL)
            d += 86400000000LL;
          record_latency (d);
        }
    }
}

static void
on_message (Conn *c, const char *msg, size_t len)
{
  if (c->state == S_HANDSHAKE)
    {
      if (memmem (msg, len, "\"error\"", 7) != NULL)
        {
          note_error ("handshake refused", c);
          conn_close (c);
          return;
        }
      c->state = S_READY;
      n_connecting--;
      n_ready++;
      return;
    }
  const char *t = memmem (msg, len, "\"type\":", 7);
  if (t == NULL)
    return;
  switch (t[7])
    {
    case '1':
      on_delivery (c, msg, len);
      break;
    case '3':
      on_completion (c, msg, len);
      break;
    case '6':
      break;
    case '7':
      note_error ("server closed the hub connection", c);
      conn_close (c);
      break;
    default:
      break;
    }
}

/* A minimal MessagePack reader: enough for the messages of the servers. */
typedef struct
{
  const uint8_t *p, *end;
} Mp;

static int
mp_uint (Mp *m, int n, uint64_t *v)
{
  if (m->end - m->p < n)
    return -1;
  *v = 0;
  for (int i = 0; i < n; i++)
    *v = (*v << 8) | *m->p++;
  return 0;
}

/* Reads an integer; -1 if the next value is not one. */
static int
mp_int (Mp *m, int64_t *out)
{
  uint64_t v;
  if (m->p >= m->end)
    return -1;
  uint8_t b = *m->p++;
  if (b <= 0x7f) { *out = b; return 0; }
  if (b >= 0xe0) { *out = (int8_t) b; return 0; }
  switch (b)
    {
    case 0xcc: if (mp_uint (m, 1, &v)) return -1; *out = v; return 0;
    case 0xcd: if (mp_uint (m, 2, &v)) return -1; *out = v; return 0;
    case 0xce: if (mp_uint (m, 4, &v)) return -1; *out = v; return 0;
    case 0xcf: if (mp_uint (m, 8, &v)) return -1; *out = v; return 0;
    case 0xd0: if (mp_uint (m, 1, &v)) return -1; *out = (int8_t) v; return 0;
    case 0xd1: if (mp_uint (m, 2, &v)) return -1; *out = (int16_t) v; return 0;
    case 0xd2: if (mp_uint (m, 4, &v)) return -1; *out = (int32_t) v; return 0;
    case 0xd3: if (mp_uint (m, 8, &v)) return -1; *out = (int64_t) v; return 0;
    }
  m->p--;
  return -1;
}

static int mp_skip (Mp *m, int depth);

static int
mp_skip_n (Mp *m, uint64_t n, int depth)
{
  for (uint64_t i = 0; i < n; i++)
    if (mp_skip (m, depth + 1))
      return -1;
  return 0;
}

static int
mp_skip_bytes (Mp *m, uint64_t n)
{
  if ((uint64_t) (m->end - m->p) < n)
    return -1;
  m->p += n;
  return 0;
}

static int
mp_skip (Mp *m, int depth)
{
  uint64_t v;
  int64_t i;
  if (depth > 16 || m->p >= m->end)
    return -1;
  uint8_t b = *m->p;
  if (mp_int (m, &i) == 0)
    return 0;
  m->p++;
  if ((b & 0xe0) == 0xa0) return mp_skip_bytes (m, b & 0x1f);
  if ((b & 0xf0) == 0x90) return mp_skip_n (m, b & 0x0f, depth);
  if ((b & 0xf0) == 0x80) return mp_skip_n (m, 2 * (b & 0x0f), depth);
  switch (b)
    {
    case 0xc0: case 0xc2: case 0xc3: return 0;
    case 0xca: return mp_skip_bytes (m, 4);
    case 0xcb: return mp_skip_bytes (m, 8);
    case 0xd9: case 0xc4: return mp_uint (m, 1, &v) ? -1 : mp_skip_bytes (m, v);
    case 0xda: case 0xc5: return mp_uint (m, 2, &v) ? -1 : mp_skip_bytes (m, v);
    case 0xdb: case 0xc6: return mp_uint (m, 4, &v) ? -1 : mp_skip_bytes (m, v);
    case 0xdc: return mp_uint (m, 2, &v) ? -1 : mp_skip_n (m, v, depth);
    case 0xdd: return mp_uint (m, 4, &v) ? -1 : mp_skip_n (m, v, depth);
    case 0xde: return mp_uint (m, 2, &v) ? -1 : mp_skip_n (m, 2 * v, depth);
    case 0xdf: return mp_uint (m, 4, &v) ? -1 : mp_skip_n (m, 2 * v, depth);
    case 0xd4: return mp_skip_bytes (m, 2);
    case 0xd5: return mp_skip_bytes (m, 3);
    case 0xd6: return mp_skip_bytes (m, 5);
    case 0xd7: return mp_skip_bytes (m, 9);
    case 0xd8: return mp_skip_bytes (m, 17);
    case 0xc7: return mp_uint (m, 1, &v) ? -1 : mp_skip_bytes (m, v + 1);
    case 0xc8: return mp_uint (m, 2, &v) ? -1 : mp_skip_bytes (m, v + 1);
    case 0xc9: return mp_uint (m, 4, &v) ? -1 : mp_skip_bytes (m, v + 1);
    }
  return -1;
}

/* A timestamp (ext -1, 32, 64 or 96 bits) as µs since the epoch, or -1. */
static int64_t
mp_timestamp_us (Mp *m)
{
  uint64_t v, s;
  if (m->end - m->p < 2)
    return -1;
  if (m->p[0] == 0xd6 && m->p[1] == 0xff)
    {
      m->p += 2;
      if (mp_uint (m, 4, &s)) return -1;
      return (int64_t) s * 1000000;
    }
  if (m->p[0] == 0xd7 && m->p[1] == 0xff)
    {
      m->p += 2;
      if (mp_uint (m, 8, &v)) return -1;
      return (int64_t) (v & 0x3ffffffffULL) * 1000000 + (int64_t) (v >> 34) / 1000;
    }
  if (m->end - m->p >= 3 && m->p[0] == 0xc7 && m->p[1] == 12 && m->p[2] == 0xff)
    {
      m->p += 3;
      if (mp_uint (m, 4, &v) || mp_uint (m, 8, &s)) return -1;
      return (int64_t) s * 1000000 + (int64_t) v / 1000;
    }
  return -1;
}

static int64_t
realtime_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One MessagePack hub message. */
static void
on_message_msgpack (Conn *c, const uint8_t *p, size_t len)
{
  Mp m = { p, p + len };
  int64_t type;
  if (m.p >= m.end || (*m.p & 0xf0) != 0x90)
    return;
  m.p++;
  if (mp_int (&m, &type))
    return;
  if (type == 3)
    {
      int64_t kind = 0;
      /* [3, headers, invocationId, resultKind, result?] */
      if (mp_skip (&m, 0) || mp_skip (&m, 0) || mp_int (&m, &kind))
        {
          note_error ("unreadable completion", c);
          return;
        }
      if (kind == 1)
        note_error ("completion error", c);
      if (c->outstanding > 0)
        c->outstanding--;
      if (measuring)
        completions++;
      if (opt_scenario == SC_ECHO || opt_scenario == SC_IDLE || opt_scenario == SC_GROUPS_JOINLEAVE)
        record_latency (mono_us () - c->send_us);
    }
  else if (type == 1)
    {
      /* [1, headers, invocationId, target, [args], …] */
      if (measuring)
        deliveries++;
      release_partner (c);
      if (mp_skip (&m, 0) || mp_skip (&m, 0) || mp_skip (&m, 0) || m.p >= m.end || (*m.p & 0xf0) != 0x90)
        return;
      m.p++;
      if (opt_scenario == SC_BROADCAST)
        {
          int64_t v;
          if (mp_int (&m, &v) == 0)
            record_latency (((mono_us () & 0x7fffffff) - v) & 0x7fffffff);
        }
      else if (opt_scenario == SC_ECHOALL || opt_scenario == SC_GROUPS || opt_scenario == SC_SEND_TO_USER)
        {
          int64_t t = mp_timestamp_us (&m);
          if (t >= 0)
            record_latency (realtime_us () - t);
        }
    }
  else if (type == 7)
    {
      note_error ("server closed the hub connection", c);
      conn_close (c);
    }
}

/* Hub messages from a data frame's payload: messages may span frames, so
 * what does not end in this frame waits in mbuf for the next. */
static size_t
parse_messages (Conn *c, const uint8_t *p, size_t len)
{
  size_t off = 0;
  if (c->state == S_CLOSING)
    return len;
  while (off < len && c->state != S_DEAD)
    {
      if (c->state == S_HANDSHAKE || !opt_msgpack)
        {
          const uint8_t *e = memchr (p + off, 0x1e, len - off);
          if (e == NULL)
            break;
          on_message (c, (const char *) p + off, e - (p + off));
          off = e - p + 1;
          continue;
        }
      uint64_t mlen = 0;
      size_t q = off;
      int shift = 0, done = 0;
      while (q < len && shift < 35)
        {
          uint8_t b = p[q++];
          mlen |= (uint64_t) (b & 0x7f) << shift;
          shift += 7;
          if (!(b & 0x80))
            {
              done = 1;
              break;
            }
        }
      if (!done || mlen > len - q)
        break;
      on_message_msgpack (c, p + q, mlen);
      off = q + mlen;
    }
  return off;
}

static void
on_payload (Conn *c, const uint8_t *p, size_t len)
{
  if (c->mlen == 0)
    {
      size_t used = parse_messages (c, p, len);
      p += used;
      len -= used;
      if (len == 0 || c->state == S_DEAD)
        return;
    }
  if (c->mlen + len > RBUF_SIZE)
    {
      note_error ("hub message larger than the buffer", c);
      conn_close (c);
      return;
    }
  memcpy (c->mbuf + c->mlen, p, len);
  c->mlen += len;
  size_t used = parse_messages (c, c->mbuf, c->mlen);
  memmove (c->mbuf, c->mbuf + used, c->mlen - used);
  c->mlen -= used;
}

static void
process_frames (Conn *c)
{
  size_t off = 0;

  while (c->state != S_DEAD && c->rlen - off >= 2)
    {
      uint8_t *f = c->rbuf + off;
      int opcode = f[0] & 0x0f;
      int masked = f[1] & 0x80;
      uint64_t plen = f[1] & 0x7f;
      size_t h = 2;
      if (plen == 126)
        {
          if (c->rlen - off < 4)
            break;
          plen = ((uint64_t) f[2] << 8) | f[3];
          h = 4;
        }
      else if (plen == 127)
        {
          if (c->rlen - off < 10)
            break;
          plen = 0;
          for (int i = 0; i < 8; i++)
            plen = (plen << 8) | f[2 + i];
          h = 10;
        }
      if (masked)
        h += 4;
      if (h + plen > RBUF_SIZE)
        {
          note_error ("frame larger than the read buffer", c);
          conn_close (c);
          return;
        }
      if (c->rlen - off < h + plen)
        break;
      char *p = (char *) f + h;
      if (opcode == 8 && c->state == S_CLOSING)
        ; /* the server's answer to our close: the end of the socket follows */
      else if (opcode == 8)
        {
          note_error ("server closed the WebSocket", c);
          conn_close (c);
          return;
        }
      else if (opcode == 9)
        {
          if (queue_frame (c, 10, p, plen) == 0)
            flush_out (c);
        }
      else if (opcode == 0 || opcode == 1 || opcode == 2)
        {
          if (opt_scenario == SC_RAW)
            {
              if (c->outstanding > 0)
                c->outstanding--;
              if (measuring)
                completions++;
              record_latency (mono_us () - c->send_us);
            }
          else
            on_payload (c, (const uint8_t *) p, plen);
        }
      off += h + plen;
    }
  if (c->state == S_DEAD)
    return;
  if (off > 0)
    {
      memmove (c->rbuf, c->rbuf + off, c->rlen - off);
      c->rlen -= off;
    }
  drive (c);
}

static void
send_upgrade (Conn *c, const char *token, size_t token_len)
{
  char req[512], uq[32];
  int n;
  if (token)
    n = snprintf (req, sizeof req,
                  "GET %s?id=%.*s%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n",
                  opt_path, (int) token_len, token, user_query (c, uq), conn_port (c));
  else
    n = snprintf (req, sizeof req,
                  "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n",
                  opt_path, conn_port (c));
  c->state = S_UPGRADE;
  if (queue_raw (c, req, n) == 0)
    flush_out (c);
}

static void
on_negotiate_data (Conn *c)
{
  c->rbuf[c->rlen] = '\0';
  char *end = strstr ((char *) c->rbuf, "\r\n\r\n");
  if (end == NULL)
    return;
  if (strncmp ((char *) c->rbuf, "HTTP/1.1 200", 12) != 0)
    {
      note_error ("negotiate failed", c);
      conn_close (c);
      return;
    }
  size_t hdr_len = end + 4 - (char *) c->rbuf;
  size_t body_len = c->rlen - hdr_len;
  char *cl = strcasestr ((char *) c->rbuf, "\r\ncontent-length:");
  if (cl != NULL && cl < end)
    {
      size_t want = strtoul (cl + 17, NULL, 10);
      if (body_len < want)
        return;
    }
  else if (strstr (end + 4, "\r\n0\r\n\r\n") == NULL)
    return;
  char *tok = strstr (end, "\"connectionToken\":\"");
  if (tok == NULL)
    {
      note_error ("no connectionToken", c);
      conn_close (c);
      return;
    }
  tok += 19;
  char *tok_end = strchr (tok, '"');
  if (tok_end == NULL)
    {
      note_error ("bad connectionToken", c);
      conn_close (c);
      return;
    }
  char token[128];
  size_t tl = tok_end - tok < 127 ? tok_end - tok : 127;
  memcpy (token, tok, tl);
  c->rlen = 0;
  send_upgrade (c, token, tl);
}

static void
on_upgrade_data (Conn *c)
{
  c->rbuf[c->rlen] = '\0';
  char *end = strstr ((char *) c->rbuf, "\r\n\r\n");
  if (end == NULL)
    return;
  if (strncmp ((char *) c->rbuf, "HTTP/1.1 101", 12) != 0)
    {
      char what[200];
      snprintf (what, sizeof what, "upgrade refused: %.60s", (char *) c->rbuf);
      note_error (what, c);
      conn_close (c);
      return;
    }
  size_t hdr_len = end + 4 - (char *) c->rbuf;
  memmove (c->rbuf, c->rbuf + hdr_len, c->rlen - hdr_len);
  c->rlen -= hdr_len;
  if (opt_scenario == SC_RAW)
    {
      c->state = S_READY;
      n_connecting--;
      n_ready++;
      return;
    }
  c->state = S_HANDSHAKE;
  static const char hs[] = "{\"protocol\":\"json\",\"version\":1}\x1e";
  static const char hs_mp[] = "{\"protocol\":\"messagepack\",\"version\":1}\x1e";
  if (opt_msgpack ? queue_frame (c, 1, hs_mp, sizeof hs_mp - 1) == 0 : queue_frame (c, 1, hs, sizeof hs - 1) == 0)
    flush_out (c);
  if (c->state != S_DEAD && c->rlen > 0)
    process_frames (c);
}

static void
on_readable (Conn *c)
{
  for (int rounds = 0; rounds < 16 && c->state != S_DEAD; rounds++)
    {
      size_t room = RBUF_SIZE - 1 - c->rlen;
      if (room == 0)
        {
          note_error ("read buffer full", c);
          conn_close (c);
          return;
        }
      ssize_t n = read (c->fd, c->rbuf + c->rlen, room);
      if (n < 0)
        {
          if (errno == EAGAIN)
            return;
          if (errno == EINTR)
            continue;
          note_error ("read failed", c);
          conn_close (c);
          return;
        }
      if (n == 0 && c->state == S_CLOSING)
        {
          /* groupsDisconnect: the server has ended the connection */
          record_latency (mono_us () - c->close_us);
          disconnects++;
          conn_close (c);
          return;
        }
      if (n == 0)
        {
          note_error ("server closed the socket", c);
          conn_close (c);
          return;
        }
      c->rlen += n;
      switch (c->state)
        {
        case S_NEGOTIATE:
          on_negotiate_data (c);
          break;
        case S_UPGRADE:
          on_upgrade_data (c);
          break;
        case S_HANDSHAKE:
        case S_READY:
        case S_CLOSING:
          process_frames (c);
          break;
        }
      if ((size_t) n < room)
        return;
    }
}

static void
start_connect (Conn *c)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (conn_port (c)) };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  c->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  n_started++;
  if (c->fd < 0)
    {
      note_error ("socket() failed (ulimit -n?)", c);
      c->state = S_DEAD;
      n_dead++;
      return;
    }
  int one = 1;
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->state = S_CONNECTING;
  n_connecting++;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
  c->want_out = 1;
  epoll_ctl (epfd, EPOLL_CTL_ADD, c->fd, &ev);
  if (connect (c->fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
    {
      note_error ("connect failed", c);
      conn_close (c);
    }
}

static void
on_connected (Conn *c)
{
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0)
    {
      note_error ("connect refused", c);
      conn_close (c);
      return;
    }
  c->want_out = 0;
  update_events (c);
  if (opt_scenario == SC_RAW)
    {
      send_upgrade (c, NULL, 0);
      return;
    }
  char req[256], uq[32];
  int n = snprintf (req, sizeof req,
                    "POST %s/negotiate?negotiateVersion=1%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    "Content-Length: 0\r\n\r\n",
                    opt_path, user_query (c, uq), conn_port (c));
  c->state = S_NEGOTIATE;
  if (queue_raw (c, req, n) == 0)
    flush_out (c);
}

static void poll_once (int timeout_ms);

/* ---- Server-Sent Events and Long Polling ------------------------------------
 *
 * One hub connection is two keep-alive HTTP/1.1 sockets: the stream socket
 * (negotiate, then the SSE GET whose response never ends, or the polls) and
 * the post socket (the handshake and every invocation, one POST at a time,
 * then DELETE for Long Polling). JSON only. Responses are read with
 * Content-Length or chunked bodies; the bytes of an SSE event's "data:"
 * lines or of a poll's body are hub messages ending in 0x1e. Buffers are
 * allocated once per connection. */

enum { H_STREAM, H_POST };
enum { R_IDLE, R_HEADERS, R_BODY_LEN, R_BODY_CHUNKED, R_BODY_CLOSE };
enum { HS_NEGOTIATE, HS_OPENING, HS_HANDSHAKE, HS_READY };

typedef struct Hc Hc;

typedef struct
{
  int fd;
  int role;
  Hc *hc;
  uint8_t *rbuf;
  size_t rlen;
  uint8_t *wbuf;
  size_t wlen, woff;
  int want_out;
  int connecting;
  int rstate;
  int status;
  size_t left;          /* R_BODY_LEN: bytes; R_BODY_CHUNKED: of this chunk */
  int chunk_crlf;       /* a chunk's data ended: its CRLF comes next */
} Hs;

struct Hc
{
  int index;
  int state;            /* S_CONNECTING … S_READY, S_DEAD */
  int hstate;
  Hs s, p;
  char token[128];
  int outstanding;
  uint64_t next_id;
  int64_t send_us;
  uint8_t *mbuf;        /* hub message bytes not yet ended by 0x1e */
  size_t mlen;
  uint8_t *lbuf;        /* SSE: a line not yet ended */
  size_t llen;
  char *pend;           /* messages waiting for the post socket */
  size_t pend_len;
};

static Hc *hcs;

static int http_ending;

static void
hc_fail (Hc *h, const char *what)
{
  if (h->state == S_DEAD)
    return;
  if (!http_ending)
    note_error_index (what, h->index);
  for (int i = 0; i < 2; i++)
    {
      Hs *s = i ? &h->p : &h->s;
      if (s->fd >= 0)
        {
          epoll_ctl (epfd, EPOLL_CTL_DEL, s->fd, NULL);
          close (s->fd);
          s->fd = -1;
        }
    }
  if (h->state == S_READY)
    n_ready--;
  else
    n_connecting--;
  h->state = S_DEAD;
  n_dead++;
}

static void
hs_events (Hs *s)
{
  struct epoll_event ev = { .events = EPOLLIN | (s->want_out ? EPOLLOUT : 0), .data.ptr = s };
  epoll_ctl (epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void
hs_flush (Hs *s)
{
  if (s->connecting)
    return;
  while (s->woff < s->wlen)
    {
      ssize_t n = write (s->fd, s->wbuf + s->woff, s->wlen - s->woff);
      if (n < 0)
        {
          if (errno == EAGAIN)
            break;
          if (errno == EINTR)
            continue;
          hc_fail (s->hc, "write failed");
          return;
        }
      s->woff += n;
    }
  if (s->woff == s->wlen)
    {
      s->woff = s->wlen = 0;
      if (s->want_out)
        {
          s->want_out = 0;
          hs_events (s);
        }
    }
  else if (!s->want_out)
    {
      s->want_out = 1;
      hs_events (s);
    }
}

/* A request on @s (which must have none outstanding), and its body. */
static void
hs_request (Hs *s, const char *method, const char *query, const char *extra, const char *body, size_t body_len)
{
  if (s->wlen + 512 + body_len > WBUF_SIZE)
    {
      hc_fail (s->hc, "write buffer full");
      return;
    }
  int n = snprintf ((char *) s->wbuf + s->wlen, 512,
                    "%s %s%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sContent-Length: %zu\r\n\r\n",
                    method, opt_path, query, opt_port, extra, body_len);
  s->wlen += n;
  memcpy (s->wbuf + s->wlen, body, body_len);
  s->wlen += body_len;
  s->rstate = R_HEADERS;
  hs_flush (s);
}

static void
hc_post_pending (Hc *h)
{
  char q[160];
  if (h->state == S_DEAD || h->p.rstate != R_IDLE || h->pend_len == 0 || h->p.connecting)
    return;
  snprintf (q, sizeof q, "?id=%s", h->token);
  hs_request (&h->p, "POST", q, "Content-Type: text/plain;charset=UTF-8\r\n", h->pend, h->pend_len);
  h->pend_len = 0;
}

static void
hc_send (Hc *h, const char *msg, size_t len)
{
  if (h->pend_len + len > WBUF_SIZE / 2)
    {
      hc_fail (h, "post queue full");
      return;
    }
  memcpy (h->pend + h->pend_len, msg, len);
  h->pend_len += len;
  hc_post_pending (h);
}

static void
hc_poll (Hc *h)
{
  char q[160];
  snprintf (q, sizeof q, "?id=%s", h->token);
  if (opt_transport == 1)
    hs_request (&h->s, "GET", q, "Accept: text/event-stream\r\n", "", 0);
  else
    hs_request (&h->s, "GET", q, "", "", 0);
}

static void
hc_drive (Hc *h)
{
  if (h->state != S_READY || !started)
    return;
  while (h->outstanding < opt_window && h->state == S_READY)
    {
      char msg[256], arg[64];
      format_iso_now (arg);
      size_t n = snprintf (msg, sizeof msg,
                           "{\"type\":1,\"invocationId\":\"%llu\",\"target\":\"Echo\",\"arguments\":[\"%s\"]}\x1e",
                           (unsigned long long) h->next_id++, arg);
      h->send_us = mono_us ();
      h->outstanding++;
      hc_send (h, msg, n);
    }
}

static void
hc_message (Hc *h, const char *msg, size_t len)
{
  if (h->hstate == HS_HANDSHAKE)
    {
      if (memmem (msg, len, "\"error\"", 7) != NULL)
        {
          hc_fail (h, "handshake refused");
          return;
        }
      h->hstate = HS_READY;
      h->state = S_READY;
      n_connecting--;
      n_ready++;
      hc_drive (h);
      return;
    }
  const char *t = memmem (msg, len, "\"type\":", 7);
  if (t == NULL)
    return;
  if (t[7] == '3')
    {
      if (memmem (msg, len, "\"error\"", 7) != NULL)
        note_error_index ("completion error", h->index);
      if (h->outstanding > 0)
        h->outstanding--;
      if (measuring)
        completions++;
      record_latency (mono_us () - h->send_us);
      hc_drive (h);
    }
  else if (t[7] == '7')
    hc_fail (h, "server closed the hub connection");
}

/* Hub message bytes, in order: split at 0x1e. */
static void
hc_message_bytes (Hc *h, const uint8_t *p, size_t len)
{
  while (len > 0 && h->state != S_DEAD)
    {
      const uint8_t *e = memchr (p, 0x1e, len);
      size_t take = e ? (size_t) (e - p) : len;
      if (h->mlen + take > RBUF_SIZE)
        {
          hc_fail (h, "hub message larger than the buffer");
          return;
        }
      memcpy (h->mbuf + h->mlen, p, take);
      h->mlen += take;
      if (e == NULL)
        return;
      size_t whole = h->mlen;
      h->mlen = 0;
      hc_message (h, (const char *) h->mbuf, whole);
      p = e + 1;
      len -= take + 1;
    }
}

/* SSE: lines; the text after "data: " is hub message bytes. */
static void
hc_sse_bytes (Hc *h, const uint8_t *p, size_t len)
{
  while (len > 0 && h->state != S_DEAD)
    {
      const uint8_t *e = memchr (p, '\n', len);
      size_t take = e ? (size_t) (e - p) : len;
      if (h->llen + take > RBUF_SIZE)
        {
          hc_fail (h, "SSE line larger than the buffer");
          return;
        }
      memcpy (h->lbuf + h->llen, p, take);
      h->llen += take;
      if (e == NULL)
        return;
      size_t l = h->llen;
      if (l > 0 && h->lbuf[l - 1] == '\r')
        l--;
      if (l >= 6 && memcmp (h->lbuf, "data: ", 6) == 0)
        hc_message_bytes (h, h->lbuf + 6, l - 6);
      h->llen = 0;
      p = e + 1;
      len -= take + 1;
    }
}

static void
hs_body (Hs *s, const uint8_t *p, size_t len)
{
  Hc *h = s->hc;
  if (s->role == H_POST)
    return;
  if (h->hstate == HS_NEGOTIATE)
    {
      if (h->mlen + len > RBUF_SIZE)
        {
          hc_fail (h, "negotiate response too large");
          return;
        }
      memcpy (h->mbuf + h->mlen, p, len);
      h->mlen += len;
      return;
    }
  if (opt_transport == 1)
    hc_sse_bytes (h, p, len);
  else
    hc_message_bytes (h, p, len);
}

/* A response has ended on @s. */
static void
hs_complete (Hs *s)
{
  Hc *h = s->hc;
  s->rstate = R_IDLE;
  if (s->role == H_POST)
    {
      if (s->status != 200 && !(s->status == 202 || s->status == 204))
        {
          char what[64];
          snprintf (what, sizeof what, "POST answered %d", s->status);
          hc_fail (h, what);
          return;
        }
      hc_post_pending (h);
      return;
    }
  if (h->hstate == HS_NEGOTIATE)
    {
      h->mbuf[h->mlen] = '\0';
      char *tok = strstr ((char *) h->mbuf, "\"connectionToken\":\"");
      char *end = tok ? strchr (tok + 19, '"') : NULL;
      if (s->status != 200 || end == NULL || end - (tok + 19) >= (long) sizeof h->token)
        {
          hc_fail (h, "negotiate failed");
          return;
        }
      memcpy (h->token, tok + 19, end - (tok + 19));
      h->token[end - (tok + 19)] = '\0';
      h->mlen = 0;
      h->hstate = HS_OPENING;
      hc_poll (h);
      return;
    }
  if (opt_transport == 1)
    {
      hc_fail (h, "the event stream ended");
      return;
    }
  /* Long Polling: 204 ends the connection; anything else, poll again */
  if (s->status == 204)
    {
      hc_fail (h, "poll answered 204");
      return;
    }
  if (s->status != 200)
    {
      hc_fail (h, "poll failed");
      return;
    }
  if (h->hstate == HS_OPENING)
    {
      /* the first poll returns at once: the handshake, then poll */
      static const char hs[] = "{\"protocol\":\"json\",\"version\":1}\x1e";
      h->hstate = HS_HANDSHAKE;
      hc_send (h, hs, sizeof hs - 1);
    }
  if (h->state != S_DEAD)
    hc_poll (h);
}

/* Parses what @s has read: headers, then the body as it comes. */
static void
hs_parse (Hs *s)
{
  size_t off = 0;
  Hc *h = s->hc;

  while (h->state != S_DEAD && off < s->rlen)
    {
      uint8_t *p = s->rbuf + off;
      size_t avail = s->rlen - off;
      if (s->rstate == R_IDLE)
        {
          hc_fail (h, "data without a request");
          return;
        }
      if (s->rstate == R_HEADERS)
        {
          s->rbuf[s->rlen] = '\0';
          char *end = strstr ((char *) p, "\r\n\r\n");
          if (end == NULL)
            break;
          *end = '\0';
          s->status = strncmp ((char *) p, "HTTP/1.1 ", 9) == 0 ? atoi ((char *) p + 9) : 0;
          char *cl = strcasestr ((char *) p, "\r\ncontent-length:");
          char *te = strcasestr ((char *) p, "\r\ntransfer-encoding: chunked");
          off = end + 4 - (char *) s->rbuf;
          if (te != NULL)
            {
              s->rstate = R_BODY_CHUNKED;
              s->left = 0;
              s->chunk_crlf = 0;
            }
          else if (cl != NULL)
            {
              s->left = strtoul (cl + 17, NULL, 10);
              s->rstate = R_BODY_LEN;
            }
          else if (s->status == 204 || s->status == 304 || s->status / 100 == 1)
            s->left = 0, s->rstate = R_BODY_LEN;
          else
            s->rstate = R_BODY_CLOSE;
          if (s->role == H_STREAM && opt_transport == 1 && h->hstate == HS_OPENING)
            {
              if (s->status != 200)
                {
                  hc_fail (h, "event stream refused");
                  return;
                }
              static const char hs[] = "{\"protocol\":\"json\",\"version\":1}\x1e";
              h->hstate = HS_HANDSHAKE;
              hc_send (h, hs, sizeof hs - 1);
            }
          if (s->rstate == R_BODY_LEN && s->left == 0)
            hs_complete (s);
          continue;
        }
      if (s->rstate == R_BODY_LEN)
        {
          size_t take = avail < s->left ? avail : s->left;
          hs_body (s, p, take);
          off += take;
          s->left -= take;
          if (s->left == 0 && h->state != S_DEAD)
            hs_complete (s);
          continue;
        }
      if (s->rstate == R_BODY_CLOSE)
        {
          hs_body (s, p, avail);
          off += avail;
          continue;
        }
      /* chunked: SIZE CRLF DATA CRLF …, 0 CRLF CRLF (no trailers) */
      if (s->chunk_crlf)
        {
          if (avail < 2)
            break;
          off += 2;
          s->chunk_crlf = 0;
          continue;
        }
      if (s->left == (size_t) -1)
        {
          if (avail < 2)
            break;
          off += 2;
          s->left = 0;
          hs_complete (s);
          continue;
        }
      if (s->left == 0)
        {
          uint8_t *e = memmem (p, avail, "\r\n", 2);
          if (e == NULL)
            break;
          size_t size = strtoul ((char *) p, NULL, 16);
          off += e + 2 - p;
          s->left = size == 0 ? (size_t) -1 : size;
          continue;
        }
      size_t take = avail < s->left ? avail : s->left;
      hs_body (s, p, take);
      off += take;
      s->left -= take;
      if (s->left == 0)
        s->chunk_crlf = 1;
    }
  if (h->state == S_DEAD)
    return;
  memmove (s->rbuf, s->rbuf + off, s->rlen - off);
  s->rlen -= off;
}

static void
hs_readable (Hs *s)
{
  Hc *h = s->hc;
  for (int rounds = 0; rounds < 16 && h->state != S_DEAD; rounds++)
    {
      size_t room = RBUF_SIZE - 1 - s->rlen;
      if (room == 0)
        {
          hc_fail (h, "read buffer full");
          return;
        }
      ssize_t n = read (s->fd, s->rbuf + s->rlen, room);
      if (n < 0)
        {
          if (errno == EAGAIN)
            return;
          if (errno == EINTR)
            continue;
          hc_fail (h, "read failed");
          return;
        }
      if (n == 0)
        {
          hc_fail (h, "server closed the socket");
          return;
        }
      s->rlen += n;
      hs_parse (s);
      if ((size_t) n < room)
        return;
    }
}

static void
hs_connect (Hs *s)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (opt_port) };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  s->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0)
    {
      hc_fail (s->hc, "socket() failed (ulimit -n?)");
      return;
    }
  int one = 1;
  setsockopt (s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  s->connecting = 1;
  s->want_out = 1;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = s };
  epoll_ctl (epfd, EPOLL_CTL_ADD, s->fd, &ev);
  if (connect (s->fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
    hc_fail (s->hc, "connect failed");
}

static void
hc_start (Hc *h)
{
  n_started++;
  n_connecting++;
  h->state = S_CONNECTING;
  h->hstate = HS_NEGOTIATE;
  hs_connect (&h->s);
  if (h->state != S_DEAD)
    hs_connect (&h->p);
  if (h->state != S_DEAD)
    hs_request (&h->s, "POST", "/negotiate?negotiateVersion=1", "", "", 0);
}

static void
hs_event (Hs *s, uint32_t events)
{
  Hc *h = s->hc;
  if (h->state == S_DEAD)
    return;
  if (s->connecting)
    {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt (s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        {
          hc_fail (h, "connect refused");
          return;
        }
      s->connecting = 0;
      hs_flush (s);
      if (h->state != S_DEAD && s->role == H_POST)
        hc_post_pending (h);
      return;
    }
  if (events & EPOLLOUT)
    hs_flush (s);
  if (h->state != S_DEAD && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
    hs_readable (s);
}

static void
hc_init_all (void)
{
  hcs = calloc (opt_connections, sizeof (Hc));
  for (int i = 0; i < opt_connections; i++)
    {
      Hc *h = &hcs[i];
      h->index = i;
      h->next_id = 1;
      h->mbuf = malloc (RBUF_SIZE + 1);
      h->lbuf = malloc (RBUF_SIZE);
      h->pend = malloc (WBUF_SIZE / 2);
      for (int k = 0; k < 2; k++)
        {
          Hs *s = k ? &h->p : &h->s;
          s->fd = -1;
          s->role = k ? H_POST : H_STREAM;
          s->hc = h;
          s->rbuf = malloc (RBUF_SIZE);
          s->wbuf = malloc (WBUF_SIZE);
        }
    }
}

/* Long Polling: DELETE at the end, answered or not within 1 s. */
static void
hc_end_all (void)
{
  http_ending = 1;
  if (opt_transport != 2)
    return;
  for (int i = 0; i < opt_connections; i++)
    {
      Hc *h = &hcs[i];
      if (h->state == S_READY && h->p.rstate == R_IDLE)
        {
          char q[160];
          snprintf (q, sizeof q, "?id=%s", h->token);
          hs_request (&h->p, "DELETE", q, "", "", 0);
        }
    }
  int64_t until = mono_us () + 1000000;
  while (mono_us () < until)
    {
      int busy = 0;
      for (int i = 0; i < opt_connections; i++)
        busy += hcs[i].state == S_READY && hcs[i].p.rstate != R_IDLE;
      if (!busy)
        break;
      poll_once (5);
    }
}

static void
poll_once (int timeout_ms)
{
  struct epoll_event evs[512];
  int n = epoll_wait (epfd, evs, 512, timeout_ms);
  for (int i = 0; i < n; i++)
    {
      if (opt_transport != 0)
        {
          hs_event (evs[i].data.ptr, evs[i].events);
          continue;
        }
      Conn *c = evs[i].data.ptr;
      if (c->state == S_DEAD)
        continue;
      if (c->state == S_CONNECTING)
        {
          if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected (c);
          continue;
        }
      if (evs[i].events & EPOLLOUT)
        flush_out (c);
      if (c->state != S_DEAD && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        on_readable (c);
    }
}

/* /proc/PID/stat utime + stime, in seconds */
static double
pid_cpu_s (int pid)
{
  char path[64], buf[1024];
  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return 0;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  unsigned long utime = 0, stime = 0;
  /* after ")": state(3) ... utime is field 14, stime 15 */
  sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
  return (double) (utime + stime) / sysconf (_SC_CLK_TCK);
}

/* The CPU time of the server, or of both servers with --server-pid2. */
static double
server_cpu_s (void)
{
  return pid_cpu_s (opt_server_pid) + pid_cpu_s (opt_server_pid2);
}

static long
read_kib (const char *path, const char *key)
{
  char line[256];
  size_t kl = strlen (key);
  long v = -1;
  FILE *f = fopen (path, "r");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, key, kl) == 0)
      {
        v = strtol (line + kl, NULL, 10);
        break;
      }
  fclose (f);
  return v;
}

static long
server_kib (const char *key)
{
  char path[64];
  if (opt_server_pid <= 0)
    return -1;
  snprintf (path, sizeof path, "/proc/%d/smaps_rollup", opt_server_pid);
  return read_kib (path, key);
}

/* groupsDisconnect: opt_batches batches of opt_batch connections end with
 * a close frame (1000), one batch at a time. A batch's time runs from its
 * first close frame to the server's end of its last socket; after each
 * batch the server's CPU time is left to stop moving (sampled every 20 ms,
 * /proc's 10 ms resolution; at most 2 s), and server_cpu_s is the CPU from
 * the first close to the end of the last batch. msgs_per_s: disconnects
 * over the sum of the batch times. Latencies: close frame to end of socket,
 * per connection. */
static int
run_disconnect (double connect_s)
{
  double batch_s = 0, cpu = 0;
  int groups_at_start = n_ready * opt_groups_per_conn;
  long rss_before = server_kib ("Rss:");
  int next = 0;

  /* Let the server settle after the joins. */
  {
    int64_t until = mono_us () + (int64_t) (opt_warmup * 1e6);
    while (mono_us () < until)
      poll_once (10);
  }
  measuring = 1;
  double cpu_start = server_cpu_s (), prev = cpu_start;
  for (int b = 0; b < opt_batches; b++)
    {
      int64_t t0 = mono_us ();
      double c0 = server_cpu_s ();
      int closing = 0;
      static const char status[2] = { 0x03, (char) 0xe8 };

      for (; next < opt_connections && closing < opt_batch; next++)
        {
          Conn *c = &conns[next];
          if (c->state != S_READY)
            continue;
          c->close_us = mono_us ();
          if (queue_frame (c, 8, status, 2) < 0)
            continue;
          n_ready--;
          c->state = S_CLOSING;
          flush_out (c);
          closing++;
        }
      if (closing == 0)
        break;
      int64_t last = t0;
      for (;;)
        {
          int left = 0;
          for (int i = 0; i < next; i++)
            if (conns[i].state == S_CLOSING)
              left++;
          if (left == 0)
            break;
          if (mono_us () - t0 > 5 * 1000000LL)
            {
              for (int i = 0; i < next; i++)
                if (conns[i].state == S_CLOSING)
                  {
                    note_error ("the server did not end the connection within 5 s", &conns[i]);
                    conn_close (&conns[i]);
                  }
              break;
            }
          poll_once (1);
          last = mono_us ();
        }
      batch_s += (last - t0) / 1e6;
      /* until the server's CPU time stops moving */
      int still = 0;
      prev = server_cpu_s ();
      for (int64_t q0 = mono_us (); mono_us () - q0 < 2000000 && still < 3; )
        {
          int64_t until = mono_us () + 20000;
          while (mono_us () < until)
            poll_once (5);
          double now = server_cpu_s ();
          still = now == prev ? still + 1 : 0;
          prev = now;
        }
      fprintf (stderr, "loadgen: batch %d: %d disconnects in %.1f ms, server CPU %.0f ms\n", b, closing,
               (last - t0) / 1e3, (prev - c0) * 1e3);
    }
  /* one difference over the whole phase: /proc counts in 10 ms ticks */
  cpu = prev - cpu_start;
  long rss = server_kib ("Rss:");
  printf ("{\"protocol\":\"%s\",\"scenario\":\"%s\",\"label\":\"%s\",\"connections\":%d,\"ready\":%d,"
          "\"msgs_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"samples\":%llu,"
          "\"server_cpu_s\":%.3f,\"rss_kib\":%ld,\"rss_base_kib\":%ld,\"rss_kib_per_conn\":-1,"
          "\"groups_at_start\":%d,\"groups_per_conn\":%d,\"batch\":%d,\"disconnects\":%llu,"
          "\"cpu_us_per_disconnect\":%.1f,\"errors\":%llu,\"setup_errors\":%llu,\"connect_s\":%.2f,"
          "\"elapsed_s\":%.4f,\"first_error\":\"",
          opt_msgpack ? "messagepack" : "json", opt_scenario_name, opt_label, opt_connections,
          n_ready + (int) disconnects, batch_s > 0 ? disconnects / batch_s : 0, percentile_ms (0.50),
          percentile_ms (0.99), lat_max_us / 1000.0, (unsigned long long) hist_n, cpu, rss, rss_before,
          groups_at_start, opt_groups_per_conn, opt_batch, (unsigned long long) disconnects,
          disconnects ? cpu * 1e6 / disconnects : 0, (unsigned long long) errors,
          (unsigned long long) errors_setup, connect_s, batch_s);
  for (const char *p = first_error; *p; p++)
    if (*p == '"' || *p == '\\')
      printf ("\\%c", *p);
    else if ((unsigned char) *p >= 0x20 && *p != 0x1e)
      putchar (*p);
  printf ("\"}\n");
  fflush (stdout);
  for (int i = 0; i < opt_connections; i++)
    if (conns[i].fd >= 0)
      close (conns[i].fd);
  return 0;
}

static void
usage (void)
{
  fprintf (stderr, "usage: loadgen --port P --scenario echo|broadcast|echoAll|idle|raw|groups|groupsJoinLeave|\n"
                   "                                  groupsDisconnect [--path /echo]\n"
                   "               [--connections N] [--warmup S] [--duration S] [--window W]\n"
                   "               [--server-pid PID] [--label TEXT] [--protocol json|messagepack]\n"
                   "               [--group-size S] [--groups-per-conn K] [--batch B] [--batches N]\n"
                   "               [--transport websockets|serverSentEvents|longPolling] (the last two: echo, JSON)\n"
                   "               [--port2 P2] [--server-pid2 PID] (the odd connections on a second server)\n"
                   "  scenarios also: sendToUser (an even number of connections)\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
      if (v == NULL)
        usage ();
      if (!strcmp (a, "--port"))
        opt_port = atoi (v);
      else if (!strcmp (a, "--port2"))
        opt_port2 = atoi (v);
      else if (!strcmp (a, "--server-pid2"))
        opt_server_pid2 = atoi (v);
      else if (!strcmp (a, "--path"))
        opt_path = v;
      else if (!strcmp (a, "--connections"))
        opt_connections = atoi (v);
      else if (!strcmp (a, "--warmup"))
        opt_warmup = atof (v);
      else if (!strcmp (a, "--duration"))
        opt_duration = atof (v);
      else if (!strcmp (a, "--window"))
        opt_window = atoi (v);
      else if (!strcmp (a, "--server-pid"))
        opt_server_pid = atoi (v);
      else if (!strcmp (a, "--label"))
        opt_label = v;
      else if (!strcmp (a, "--transport"))
        {
          if (!strcmp (v, "websockets"))
            opt_transport = 0;
          else if (!strcmp (v, "serverSentEvents") || !strcmp (v, "sse"))
            opt_transport = 1;
          else if (!strcmp (v, "longPolling"))
            opt_transport = 2;
          else
            usage ();
        }
      else if (!strcmp (a, "--group-size"))
        opt_group_size = atoi (v);
      else if (!strcmp (a, "--groups-per-conn"))
        opt_groups_per_conn = atoi (v);
      else if (!strcmp (a, "--batch"))
        opt_batch = atoi (v);
      else if (!strcmp (a, "--batches"))
        opt_batches = atoi (v);
      else if (!strcmp (a, "--protocol"))
        {
          if (!strcmp (v, "messagepack"))
            opt_msgpack = 1;
          else if (strcmp (v, "json") != 0)
            usage ();
        }
      else if (!strcmp (a, "--scenario"))
        {
          opt_scenario_name = v;
          if (!strcmp (v, "echo"))
            opt_scenario = SC_ECHO;
          else if (!strcmp (v, "broadcast"))
            opt_scenario = SC_BROADCAST;
          else if (!strcmp (v, "echoAll"))
            opt_scenario = SC_ECHOALL;
          else if (!strcmp (v, "idle"))
            opt_scenario = SC_IDLE;
          else if (!strcmp (v, "raw"))
            opt_scenario = SC_RAW;
          else if (!strcmp (v, "groups"))
            opt_scenario = SC_GROUPS;
          else if (!strcmp (v, "groupsJoinLeave"))
            opt_scenario = SC_GROUPS_JOINLEAVE;
          else if (!strcmp (v, "groupsDisconnect"))
            opt_scenario = SC_GROUPS_DISCONNECT;
          else if (!strcmp (v, "sendToUser"))
            opt_scenario = SC_SEND_TO_USER;
          else
            usage ();
        }
      else
        usage ();
      i++;
    }
  if (opt_connections < 1 || opt_connections > 100000 || opt_duration <= 0 || opt_duration > 600 ||
      opt_warmup < 0 || opt_warmup > 600 || opt_group_size < 1 || opt_groups_per_conn < 1 ||
      opt_groups_per_conn > 100 || opt_batch < 1 || opt_batches < 1 ||
      (opt_transport != 0 && (opt_scenario != SC_ECHO || opt_msgpack)) ||
      (opt_port2 != 0 && (opt_transport != 0 || opt_scenario == SC_RAW)) ||
      (opt_scenario == SC_SEND_TO_USER && opt_connections % 2 != 0))
    usage ();
  if (opt_window <= 0)
    opt_window = opt_scenario == SC_ECHOALL ? 4 :
                 opt_scenario == SC_BROADCAST || opt_scenario == SC_GROUPS || opt_scenario == SC_SEND_TO_USER ? 2 : 1;

  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }

  epfd = epoll_create1 (EPOLL_CLOEXEC);
  conns = calloc (opt_connections, sizeof (Conn));
  for (int i = 0; i < opt_connections; i++)
    {
      conns[i].fd = -1;
      conns[i].index = i;
      conns[i].next_id = 1;
      conns[i].rbuf = malloc (RBUF_SIZE);
      conns[i].wbuf = malloc (WBUF_SIZE);
      conns[i].mbuf = malloc (RBUF_SIZE);
    }
  if (opt_transport != 0)
    hc_init_all ();

  long slab_before = read_kib ("/proc/meminfo", "Slab:");
  long rss_before = server_kib ("Rss:");

  /* Connect, at most MAX_CONNECTING at a time, for at most 120 s. */
  int64_t t0 = mono_us ();
  int next = 0;
  while (n_ready + n_dead < opt_connections && mono_us () - t0 < 120 * 1000000LL)
    {
      while (next < opt_connections && n_connecting < MAX_CONNECTING)
        if (opt_transport != 0)
          hc_start (&hcs[next++]);
        else
          start_connect (&conns[next++]);
      poll_once (10);
    }
  double connect_s = (mono_us () - t0) / 1e6;
  for (int i = 0; i < opt_connections; i++)
    if (opt_transport != 0)
      {
        if (hcs[i].state != S_READY && hcs[i].state != S_DEAD)
          hc_fail (&hcs[i], "not connected in time");
      }
    else if (conns[i].state != S_READY && conns[i].state != S_DEAD)
      {
        note_error ("not connected in time", &conns[i]);
        conn_close (&conns[i]);
      }
  fprintf (stderr, "loadgen: %d/%d connections ready in %.1f s\n", n_ready, opt_connections, connect_s);

  /* groups: each connection joins its group; groupsDisconnect: its
   * opt_groups_per_conn groups of its own ("d0" … "d9" for the first
   * connection, …). Every JoinGroup answered before the scenario starts. */
  if (opt_scenario == SC_GROUPS || opt_scenario == SC_GROUPS_DISCONNECT)
    {
      char g[24];
      int64_t j0 = mono_us ();
      for (int i = 0; i < opt_connections; i++)
        {
          Conn *c = &conns[i];
          if (c->state != S_READY)
            continue;
          if (opt_scenario == SC_GROUPS)
            send_invocation_str (c, "JoinGroup", group_of (i, g), 0);
          else
            for (int k = 0; k < opt_groups_per_conn && c->state == S_READY; k++)
              {
                sprintf (g, "d%d", i * opt_groups_per_conn + k);
                send_invocation_str (c, "JoinGroup", g, 0);
              }
          if (c->state == S_READY)
            flush_out (c);
          if (i % 64 == 63)
            poll_once (0);
        }
      for (;;)
        {
          int pending = 0;
          for (int i = 0; i < opt_connections; i++)
            pending += conns[i].state == S_READY && conns[i].outstanding > 0;
          if (pending == 0 || mono_us () - j0 > 60 * 1000000LL)
            break;
          poll_once (10);
        }
      for (int i = 0; i < opt_connections; i++)
        if (conns[i].state == S_READY && conns[i].outstanding > 0)
          {
            note_error ("JoinGroup not answered in time", &conns[i]);
            conn_close (&conns[i]);
          }
      fprintf (stderr, "loadgen: groups joined in %.1f s\n", (mono_us () - j0) / 1e6);
    }

  if (opt_scenario == SC_GROUPS_DISCONNECT)
    return run_disconnect (connect_s);

  /* The idle scenario: one Echo a second from one connection in 100. */
  int64_t start = mono_us ();
  started = 1;
  for (int i = 0; i < opt_connections; i++)
    {
      conns[i].next_idle_us = start + (int64_t) (1000000.0 * (i / 100) / (opt_connections / 100 + 1));
      if (opt_transport != 0)
        hc_drive (&hcs[i]);
      else
        drive (&conns[i]);
    }

  int64_t warm_end = start + (int64_t) (opt_warmup * 1e6);
  int64_t end = warm_end + (int64_t) (opt_duration * 1e6);
  double cpu0 = 0, gen_cpu0 = 0;
  int64_t mstart = 0;
  long slab_peak = slab_before, rss_peak = rss_before, rss_mid = -1;
  int64_t next_sample = start;
  for (int64_t now = mono_us (); now < end; now = mono_us ())
    {
      if (!measuring && now >= warm_end)
        {
          measuring = 1;
          mstart = now;
          cpu0 = server_cpu_s ();
          struct rusage ru0;
          getrusage (RUSAGE_SELF, &ru0);
          gen_cpu0 = ru0.ru_utime.tv_sec + ru0.ru_stime.tv_sec + (ru0.ru_utime.tv_usec + ru0.ru_stime.tv_usec) / 1e6;
        }
      if (measuring && rss_mid < 0 && now >= mstart + (end - mstart) / 2)
        rss_mid = server_kib ("Rss:");
      if (now >= next_sample)
        {
          long r = server_kib ("Rss:");
          long s = read_kib ("/proc/meminfo", "Slab:");
          if (r > rss_peak)
            rss_peak = r;
          if (s > slab_peak)
            slab_peak = s;
          next_sample = now + 250000;
        }
      if (opt_scenario == SC_IDLE)
        for (int i = 0; i < opt_connections; i += 100)
          {
            Conn *c = &conns[i];
            if (c->state == S_READY && c->outstanding == 0 && now >= c->next_idle_us)
              {
                c->next_idle_us += 1000000;
                send_invocation (c, "Echo", 1, 0);
                if (c->state == S_READY)
                  flush_out (c);
              }
          }
      poll_once (opt_scenario == SC_IDLE ? 5 : 10);
      if (opt_scenario == SC_SEND_TO_USER)
        {
          int64_t t = mono_us ();
          for (int i = 0; i < opt_connections; i++)
            {
              Conn *c = &conns[i];
              if (c->state == S_READY && c->in_flight > 0 && t - c->send_us > LOST_AFTER_US)
                {
                  lost_total += c->in_flight;
                  if (measuring)
                    lost_measured += c->in_flight;
                  c->in_flight = 0;
                  drive (c);
                }
            }
        }
    }
  double elapsed = (mono_us () - mstart) / 1e6;
  double cpu = server_cpu_s () - cpu0;
  long rss = server_kib ("Rss:");
  long pss = server_kib ("Pss:");
  long slab = read_kib ("/proc/meminfo", "Slab:");
  uint64_t msgs = (opt_scenario == SC_BROADCAST || opt_scenario == SC_ECHOALL || opt_scenario == SC_GROUPS ||
                   opt_scenario == SC_SEND_TO_USER)
                  ? deliveries : completions;
  int ready_at_end = n_ready;
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double gen_cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6 - gen_cpu0;

  printf ("{\"protocol\":\"%s\",\"transport\":\"%s\",\"scenario\":\"%s\",\"label\":\"%s\",\"connections\":%d,\"ready\":%d,\"msgs_per_s\":%.1f,"
          "\"completions_per_s\":%.1f,\"deliveries_per_s\":%.1f,"
          "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"samples\":%llu,"
          "\"server_cpu_s\":%.2f,\"loadgen_cpu_s\":%.2f,\"rss_kib\":%ld,\"pss_kib\":%ld,\"rss_base_kib\":%ld,"
          "\"rss_peak_kib\":%ld,\"rss_mid_kib\":%ld,\"rss_kib_per_conn\":%.2f,\"slab_kib_delta\":%ld,\"slab_peak_kib_delta\":%ld,"
          "\"group_size\":%d,\"errors\":%llu,\"setup_errors\":%llu,\"lost\":%llu,\"lost_total\":%llu,"
          "\"connect_s\":%.2f,\"elapsed_s\":%.2f,\"first_error\":\"",
          opt_msgpack ? "messagepack" : "json", transport_names[opt_transport], opt_scenario_name, opt_label,
          opt_connections, ready_at_end, msgs / elapsed,
          completions / elapsed, deliveries / elapsed, percentile_ms (0.50), percentile_ms (0.99),
          lat_max_us / 1000.0, (unsigned long long) hist_n, cpu, gen_cpu, rss, pss, rss_before, rss_peak, rss_mid,
          rss >= 0 && rss_before >= 0 ? (double) (rss - rss_before) / opt_connections : -1.0,
          slab - slab_before, slab_peak - slab_before,
          opt_scenario == SC_GROUPS || opt_scenario == SC_GROUPS_JOINLEAVE ? opt_group_size : 0,
          (unsigned long long) errors,
          (unsigned long long) errors_setup, (unsigned long long) lost_measured, (unsigned long long) lost_total,
          connect_s, elapsed);
  for (const char *p = first_error; *p; p++)
    if (*p == '"' || *p == '\\')
      printf ("\\%c", *p);
    else if ((unsigned char) *p >= 0x20 && *p != 0x1e)
      putchar (*p);
  printf ("\"}\n");
  fflush (stdout);

  if (opt_transport != 0)
    {
      hc_end_all ();
      for (int i = 0; i < opt_connections; i++)
        {
          if (hcs[i].s.fd >= 0)
            close (hcs[i].s.fd);
          if (hcs[i].p.fd >= 0)
            close (hcs[i].p.fd);
        }
    }
  for (int i = 0; i < opt_connections; i++)
    if (conns[i].fd >= 0)
      close (conns[i].fd);
  return 0;
}
