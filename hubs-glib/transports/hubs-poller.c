/* hubs-poller.c: one epoll descriptor for the sockets of a main context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GLib's main loop polls every descriptor of every source in every
 * iteration, and walks every source to prepare and check it: with ten
 * thousand upgraded sockets an iteration costs milliseconds even when one
 * of them has data (bench/README.md, "idle"). The WebSocket transports of
 * a main context instead register their sockets here: one GSource owns one
 * epoll descriptor, the only one the main loop sees, and its dispatch asks
 * the kernel which sockets are ready, so an iteration costs what is ready,
 * not what is open. Level-triggered, like GLib's own watches: a socket
 * whose input is left unread is reported again in the next iteration.
 */

#include "hubs-transport-private.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events handled per dispatch; more wait for the next iteration. */
#define MAX_EVENTS 256

struct _HubsPoller
{
  GSource source;
  GMainContext *context;
  int epfd;
  guint n_watches;
  gboolean dispatching;
  GPtrArray *dead;              /* HubsPollerWatch freed after dispatch */
};

struct _HubsPollerWatch
{
  HubsPoller *poller;
  int fd;
  guint32 events;               /* EPOLLIN | EPOLLOUT as registered */
  HubsPollerFunc func;
  gpointer user_data;
  gboolean dead;
};

G_LOCK_DEFINE_STATIC (pollers);
static GHashTable *pollers;     /* GMainContext → HubsPoller (unowned) */

static gboolean
poller_dispatch (GSource     *source,
                 GSourceFunc  callback,
                 gpointer     user_data)
{
  HubsPoller *self = (HubsPoller *) source;
  struct epoll_event events[MAX_EVENTS];
  int n;

  n = epoll_wait (self->epfd, events, MAX_EVENTS, 0);
  if (n < 0)
    {
      if (errno != EINTR)
        g_critical ("epoll_wait() failed: %s", g_strerror (errno));
      return G_SOURCE_CONTINUE;
    }

  self->dispatching = TRUE;
  for (int i = 0; i < n; i++)
    {
      HubsPollerWatch *watch = events[i].data.ptr;
      GIOCondition condition = 0;

      /* A watch removed by an earlier callback of this batch. */
      if (watch->dead)
        continue;

      if (events[i].events & EPOLLIN)
        condition |= G_IO_IN;
      if (events[i].events & EPOLLOUT)
        condition |= G_IO_OUT;
      if (events[i].events & EPOLLHUP)
        condition |= G_IO_HUP;
      if (events[i].events & EPOLLERR)
        condition |= G_IO_ERR;

      watch->func (watch->user_data, condition);
    }
  self->dispatching = FALSE;
  g_ptr_array_set_size (self->dead, 0);

  return G_SOURCE_CONTINUE;
}

static void
poller_finalize (GSource *source)
{
  HubsPoller *self = (HubsPoller *) source;

  close (self->epfd);
  g_ptr_array_unref (self->dead);
}

static GSourceFuncs poller_funcs = {
  .dispatch = poller_dispatch,
  .finalize = poller_finalize,
};

/* The poller of @context, created on first use; a reference for the
 * caller. It stays attached while watches use it. */
static HubsPoller *
poller_get (GMainContext *context)
{
  HubsPoller *self;

  G_LOCK (pollers);
  if (pollers == NULL)
    pollers = g_hash_table_new (NULL, NULL);
  self = g_hash_table_lookup (pollers, context);
  if (self != NULL)
    g_source_ref ((GSource *) self);
  G_UNLOCK (pollers);
  if (self != NULL)
    return self;

  self = (HubsPoller *) g_source_new (&poller_funcs, sizeof (HubsPoller));
  self->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epfd < 0)
    {
      g_source_unref ((GSource *) self);
      return NULL;
    }
  self->context = context;
  self->dead = g_ptr_array_new_with_free_func (g_free);
  g_source_set_static_name ((GSource *) self, "[hubs] socket poller");
  g_source_add_unix_fd ((GSource *) self, self->epfd, G_IO_IN);
  g_source_attach ((GSource *) self, context);

  G_LOCK (pollers);
  g_hash_table_insert (pollers, context, self);
  G_UNLOCK (pollers);

  return self;
}

static void
poller_release (HubsPoller *self)
{
  G_LOCK (pollers);
  if (self->n_watches == 0 && g_hash_table_lookup (pollers, self->context) == self)
    {
      g_hash_table_remove (pollers, self->context);
      g_source_destroy ((GSource *) self);
    }
  G_UNLOCK (pollers);
  g_source_unref ((GSource *) self);
}

HubsPollerWatch *
hubs_poller_watch_new (GMainContext   *context,
                       int             fd,
                       HubsPollerFunc  func,
                       gpointer        user_data)
{
  HubsPoller *poller = poller_get (context != NULL ? context : g_main_context_default ());
  HubsPollerWatch *watch;

  if (poller == NULL)
    return NULL;

  watch = g_new0 (HubsPollerWatch, 1);
  watch->poller = poller;
  watch->fd = fd;
  watch->func = func;
  watch->user_data = user_data;
  poller->n_watches++;

  return watch;
}

void
hubs_poller_watch_set_events (HubsPollerWatch *watch,
                              GIOCondition     condition)
{
  struct epoll_event event = { 0 };
  guint32 events = 0;
  int op;

  if (condition & G_IO_IN)
    events |= EPOLLIN;
  if (condition & G_IO_OUT)
    events |= EPOLLOUT;
  if (events == watch->events)
    return;

  if (watch->events == 0)
    op = EPOLL_CTL_ADD;
  else if (events == 0)
    op = EPOLL_CTL_DEL;
  else
    op = EPOLL_CTL_MOD;

  event.events = events;
  event.data.ptr = watch;
  if (epoll_ctl (watch->poller->epfd, op, watch->fd, &event) < 0)
    {
      /* The socket is already closed: nothing to watch any more. */
      g_debug ("epoll_ctl() on descriptor %d failed: %s", watch->fd, g_strerror (errno));
      watch->events = 0;
      return;
    }
  watch->events = events;
}

void
hubs_poller_watch_free (HubsPollerWatch *watch)
{
  HubsPoller *poller;

  if (watch == NULL)
    return;

  poller = watch->poller;
  hubs_poller_watch_set_events (watch, 0);
  poller->n_watches--;

  /* Events of this batch may still name it. */
  watch->dead = TRUE;
  if (poller->dispatching)
    g_ptr_array_add (poller->dead, watch);
  else
    g_free (watch);

  poller_release (poller);
}
