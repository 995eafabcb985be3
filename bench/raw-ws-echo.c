/* raw-ws-echo.c: a trivial WebSocket echo server, to show the load
 * generator's own ceiling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain C on epoll, one thread, 127.0.0.1 only. It answers any GET with 101
 * (the Sec-WebSocket-Accept of RFC 6455's sample key, the one bench/loadgen
 * sends: this is no general server) and sends every data frame back
 * unmasked, all the replies of one read in one write.
 *
 *   raw-ws-echo --port N
 */

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536

typedef struct
{
  int fd;
  int upgraded;
  size_t rlen;
  uint8_t rbuf[BUF];
  uint8_t wbuf[BUF + 1024];
} Conn;

static volatile sig_atomic_t stop;

static void
on_signal (int sig)
{
  stop = 1;
}

static void
drop (int ep, Conn *c)
{
  epoll_ctl (ep, EPOLL_CTL_DEL, c->fd, NULL);
  close (c->fd);
  free (c);
}

static int
write_all (int fd, const uint8_t *p, size_t n)
{
  /* replies are small and the client always reads: a short blocking wait at most */
  for (int rounds = 0; n > 0 && rounds < 1000; rounds++)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0)
        {
          if (errno == EAGAIN || errno == EINTR)
            {
              usleep (100);
              continue;
            }
          return -1;
        }
      p += w;
      n -= w;
    }
  return n == 0 ? 0 : -1;
}

static int
on_data (Conn *c)
{
  size_t off = 0, wlen = 0;

  if (!c->upgraded)
    {
      c->rbuf[c->rlen < BUF ? c->rlen : BUF - 1] = '\0';
      char *end = strstr ((char *) c->rbuf, "\r\n\r\n");
      if (end == NULL)
        return c->rlen < BUF - 1 ? 0 : -1;
      static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
      if (write_all (c->fd, (const uint8_t *) resp, sizeof resp - 1) < 0)
        return -1;
      c->upgraded = 1;
      off = end + 4 - (char *) c->rbuf;
    }
  while (c->rlen - off >= 2)
    {
      uint8_t *f = c->rbuf + off;
      int opcode = f[0] & 0x0f;
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
        return -1;
      if (!(f[1] & 0x80))
        return -1;
      uint8_t *key = f + h;
      h += 4;
      if (h + plen > BUF)
        return -1;
      if (c->rlen - off < h + plen)
        break;
      if (opcode == 8)
        return -1;
      if (wlen + 4 + plen > sizeof c->wbuf)
        {
          if (write_all (c->fd, c->wbuf, wlen) < 0)
            return -1;
          wlen = 0;
        }
      uint8_t *o = c->wbuf + wlen;
      o[0] = 0x80 | (opcode == 9 ? 10 : opcode);
      if (plen < 126)
        {
          o[1] = plen;
          wlen += 2;
        }
      else
        {
          o[1] = 126;
          o[2] = plen >> 8;
          o[3] = plen & 0xff;
          wlen += 4;
        }
      for (uint64_t i = 0; i < plen; i++)
        c->wbuf[wlen + i] = f[h + i] ^ key[i & 3];
      wlen += plen;
      off += h + plen;
    }
  memmove (c->rbuf, c->rbuf + off, c->rlen - off);
  c->rlen -= off;
  if (wlen > 0 && write_all (c->fd, c->wbuf, wlen) < 0)
    return -1;
  return 0;
}

int
main (int argc, char **argv)
{
  int port = 5000;
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp (argv[i], "--port"))
      port = atoi (argv[i + 1]);

  signal (SIGINT, on_signal);
  signal (SIGTERM, on_signal);
  signal (SIGPIPE, SIG_IGN);

  int ls = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt (ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (bind (ls, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (ls, 4096) < 0)
    {
      perror ("bind/listen");
      return 1;
    }
  socklen_t sl = sizeof sa;
  getsockname (ls, (struct sockaddr *) &sa, &sl);
  printf ("Now listening on: http://127.0.0.1:%d\n", ntohs (sa.sin_port));
  fflush (stdout);

  int ep = epoll_create1 (EPOLL_CLOEXEC);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
  epoll_ctl (ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[256];
  while (!stop)
    {
      int n = epoll_wait (ep, evs, 256, 200);
      for (int i = 0; i < n; i++)
        {
          Conn *c = evs[i].data.ptr;
          if (c == NULL)
            {
              for (int k = 0; k < 64; k++)
                {
                  int fd = accept4 (ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                  if (fd < 0)
                    break;
                  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                  c = calloc (1, sizeof *c);
                  c->fd = fd;
                  struct epoll_event cev = { .events = EPOLLIN, .data.ptr = c };
                  epoll_ctl (ep, EPOLL_CTL_ADD, fd, &cev);
                }
              continue;
            }
          ssize_t r = read (c->fd, c->rbuf + c->rlen, BUF - c->rlen);
          if (r <= 0)
            {
              if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
              drop (ep, c);
              continue;
            }
          c->rlen += r;
          if (on_data (c) < 0)
            drop (ep, c);
        }
    }
  close (ls);
  return 0;
}
