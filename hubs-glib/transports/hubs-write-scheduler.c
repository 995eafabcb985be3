/* hubs-write-scheduler.c: one main-loop source that flushes every transport
 * with output queued
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A transport that queues output asks to be flushed in the next main-loop
 * iteration, so that everything sent to it in one dispatch leaves in one
 * writev. Giving each transport a writable-socket source of its own for that
 * costs a source created, attached and destroyed per send, and attaching
 * walks every poll record of the context: a broadcast to N connections
 * became N². One source per server, woken with a ready time, does it for
 * all; a transport watches its socket itself only when it would block.
 */

#include "hubs-transport-private.h"

typedef struct
{
  GObject *object;
  HubsWriteFlushFunc flush;
} Pending;

struct _HubsWriteScheduler
{
  GSource *source;
  GArray *pending;              /* Pending */
  GArray *flushing;             /* swapped with pending while flushing */
};

static gboolean
scheduler_dispatch (GSource     *source,
                    GSourceFunc  callback,
                    gpointer     user_data)
{
  HubsWriteScheduler *self = user_data;
  GArray *flushing;

  g_source_set_ready_time (source, -1);

  /* Flushes may schedule again (a transport queues its close frame). */
  flushing = self->pending;
  self->pending = self->flushing;
  self->flushing = flushing;

  for (guint i = 0; i < flushing->len; i++)
    {
      Pending *pending = &g_array_index (flushing, Pending, i);

      pending->flush (pending->object);
      g_clear_object (&pending->object);
    }
  g_array_set_size (flushing, 0);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs scheduler_funcs = {
  .dispatch = scheduler_dispatch,
};

static void
pending_clear (gpointer data)
{
  Pending *pending = data;

  g_clear_object (&pending->object);
}

HubsWriteScheduler *
hubs_write_scheduler_new (GMainContext *context)
{
  HubsWriteScheduler *self = g_rc_box_new0 (HubsWriteScheduler);

  self->pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  self->flushing = g_array_new (FALSE, FALSE, sizeof (Pending));
  g_array_set_clear_func (self->pending, pending_clear);
  g_array_set_clear_func (self->flushing, pending_clear);

  self->source = g_source_new (&scheduler_funcs, sizeof (GSource));
  g_source_set_static_name (self->source, "[hubs] write scheduler");
  g_source_set_callback (self->source, NULL, self, NULL);
  g_source_set_ready_time (self->source, -1);
  g_source_attach (self->source, context);

  return self;
}

HubsWriteScheduler *
hubs_write_scheduler_ref (HubsWriteScheduler *self)
{
  return g_rc_box_acquire (self);
}

static void
scheduler_clear (gpointer data)
{
  HubsWriteScheduler *self = data;

  g_source_destroy (self->source);
  g_source_unref (self->source);
  g_array_unref (self->pending);
  g_array_unref (self->flushing);
}

void
hubs_write_scheduler_unref (HubsWriteScheduler *self)
{
  g_rc_box_release_full (self, scheduler_clear);
}

void
hubs_write_scheduler_schedule (HubsWriteScheduler *self,
                               GObject            *object,
                               HubsWriteFlushFunc  flush)
{
  Pending pending = { g_object_ref (object), flush };

  g_array_append_val (self->pending, pending);
  g_source_set_ready_time (self->source, 0);
}
