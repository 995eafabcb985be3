/* hubs-long-polling-transport.c: Long Polling
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Outgoing chunks wait in a queue; a poll takes all of it in one body, or,
 * when the queue is empty, waits (paused) until something is sent, for at
 * most POLL_TIMEOUT_SECONDS. One poll at a time: a new one ends the pending
 * one with 204. Between polls the connection is inactive, and one not
 * polled again within INACTIVE_TIMEOUT_SECONDS is over, as ASP.NET Core's
 * DisconnectTimeout disposes it. The end of the connection is told to the
 * client as 204 on the pending or next poll. Client data comes by POST
 * (HubsPostReceiver).
 */

#include "hubs-transport-private.h"
#include "hubs-metrics-private.h"

#define POLL_TIMEOUT_SECONDS 90
#define INACTIVE_TIMEOUT_SECONDS 15

struct _HubsLongPollingTransport
{
  HubsTransport parent_instance;

  HubsHttpTransportOptions options;
  HubsPostReceiver *posts;

  GQueue queue;                 /* GBytes */
  gsize queued_bytes;
  gboolean above_high;

  SoupServerMessage *poll;      /* the pending poll, paused */
  gulong poll_finished_id;
  gulong poll_disconnected_id;
  GSource *poll_gone_source;
  guint poll_timeout_id;
  guint inactive_id;
  guint flush_id;

  gboolean closing;             /* the application ended: 204 once drained */
  gboolean poll_dropped;        /* the last poll's connection went away */
};

G_DEFINE_FINAL_TYPE (HubsLongPollingTransport, hubs_long_polling_transport, HUBS_TYPE_TRANSPORT)

static void
clear_queue (HubsLongPollingTransport *self)
{
  g_queue_clear_full (&self->queue, (GDestroyNotify) g_bytes_unref);
  self->queued_bytes = 0;
}

static void
finish (HubsLongPollingTransport *self)
{
  g_autoptr(HubsLongPollingTransport) keep = g_object_ref (self);

  g_clear_handle_id (&self->poll_timeout_id, g_source_remove);
  g_clear_handle_id (&self->inactive_id, g_source_remove);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  clear_queue (self);
  hubs_post_receiver_fail_all (self->posts);
  hubs_transport_emit_closed (HUBS_TRANSPORT (self), NULL);
}

static gboolean
inactive_timed_out (gpointer user_data)
{
  HubsLongPollingTransport *self = user_data;

  self->inactive_id = 0;
  hubs_metrics_transport_timed_out (HUBS_TRANSPORT (self));
  finish (self);
  return G_SOURCE_REMOVE;
}

static void
start_inactive_timer (HubsLongPollingTransport *self)
{
  g_clear_handle_id (&self->inactive_id, g_source_remove);
  if (!hubs_transport_is_closed (HUBS_TRANSPORT (self)))
    self->inactive_id = g_timeout_add_seconds (INACTIVE_TIMEOUT_SECONDS, inactive_timed_out, self);
}

static void
answer_empty (SoupServerMessage *message,
              guint              status)
{
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, "text/plain", SOUP_MEMORY_STATIC, "", 0);
}

/* Everything queued, in one body. */
static void
answer_data (HubsLongPollingTransport *self,
             SoupServerMessage        *message)
{
  GByteArray *body = g_byte_array_sized_new (self->queued_bytes);
  GBytes *chunk;
  gsize length;

  while ((chunk = g_queue_pop_head (&self->queue)) != NULL)
    {
      g_byte_array_append (body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      g_bytes_unref (chunk);
    }
  self->queued_bytes = 0;

  length = body->len;
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "application/octet-stream", SOUP_MEMORY_TAKE,
                                    (const char *) g_byte_array_free (body, FALSE), length);

  if (self->above_high)
    {
      self->above_high = FALSE;
      hubs_post_receiver_set_output_blocked (self->posts, FALSE);
      hubs_transport_emit_drained (HUBS_TRANSPORT (self));
    }
}

/* Takes the pending poll back from the transport, to answer it. */
static SoupServerMessage *
steal_poll (HubsLongPollingTransport *self)
{
  SoupServerMessage *poll = g_steal_pointer (&self->poll);

  if (poll != NULL)
    {
      g_clear_signal_handler (&self->poll_finished_id, poll);
      g_clear_signal_handler (&self->poll_disconnected_id, poll);
    }
  if (self->poll_gone_source != NULL)
    {
      g_source_destroy (self->poll_gone_source);
      g_clear_pointer (&self->poll_gone_source, g_source_unref);
    }
  g_clear_handle_id (&self->poll_timeout_id, g_source_remove);

  return poll;
}

static void
end_poll (HubsLongPollingTransport *self,
          guint                     status)
{
  g_autoptr(SoupServerMessage) poll = steal_poll (self);

  if (poll == NULL)
    return;

  if (status == SOUP_STATUS_OK && !g_queue_is_empty (&self->queue))
    answer_data (self, poll);
  else
    answer_empty (poll, status);
  soup_server_message_unpause (poll);
  start_inactive_timer (self);
}

static gboolean
poll_timed_out (gpointer user_data)
{
  HubsLongPollingTransport *self = user_data;

  self->poll_timeout_id = 0;
  end_poll (self, SOUP_STATUS_OK);
  return G_SOURCE_REMOVE;
}

/* The client gave up its poll, or the server dropped its socket. */
static void
poll_finished (SoupServerMessage *message,
               gpointer           user_data)
{
  HubsLongPollingTransport *self = user_data;
  g_autoptr(SoupServerMessage) poll = steal_poll (self);

  self->poll_dropped = TRUE;
  if (self->closing)
    finish (self);
  else
    start_inactive_timer (self);
}

/* The client closed its connection while its poll waited: the poll is
 * over, and the connection is inactive until the next one. */
static void
poll_client_gone (gpointer user_data)
{
  HubsLongPollingTransport *self = user_data;

  g_clear_pointer (&self->poll_gone_source, g_source_unref);
  end_poll (self, SOUP_STATUS_NO_CONTENT);
  self->poll_dropped = TRUE;
  if (self->closing)
    finish (self);
}

static gboolean
flush (gpointer user_data)
{
  HubsLongPollingTransport *self = user_data;

  self->flush_id = 0;
  if (self->poll != NULL && !g_queue_is_empty (&self->queue))
    end_poll (self, SOUP_STATUS_OK);
  return G_SOURCE_REMOVE;
}

/* At default priority, not idle: a busy hub must not starve its polls. */
static void
schedule_flush (HubsLongPollingTransport *self)
{
  if (self->poll != NULL && self->flush_id == 0)
    self->flush_id = g_idle_add_full (G_PRIORITY_DEFAULT, flush, self, NULL);
}

void
hubs_long_polling_transport_poll (HubsLongPollingTransport *self,
                                  SoupServerMessage        *message)
{
  g_return_if_fail (HUBS_IS_LONG_POLLING_TRANSPORT (self));

  /* Only one poll is active: the older one is told to poll no more. */
  end_poll (self, SOUP_STATUS_NO_CONTENT);
  self->poll_dropped = FALSE;
  g_clear_handle_id (&self->inactive_id, g_source_remove);

  if (hubs_transport_is_closed (HUBS_TRANSPORT (self)))
    {
      answer_empty (message, SOUP_STATUS_NO_CONTENT);
      return;
    }

  if (!g_queue_is_empty (&self->queue))
    {
      answer_data (self, message);
      start_inactive_timer (self);
      return;
    }

  if (self->closing)
    {
      answer_empty (message, SOUP_STATUS_NO_CONTENT);
      finish (self);
      return;
    }

  self->poll = g_object_ref (message);
  soup_server_message_pause (message);
  self->poll_finished_id = g_signal_connect (message, "finished", G_CALLBACK (poll_finished), self);
  self->poll_disconnected_id = g_signal_connect (message, "disconnected", G_CALLBACK (poll_finished), self);
  self->poll_timeout_id = g_timeout_add_seconds (POLL_TIMEOUT_SECONDS, poll_timed_out, self);
  self->poll_gone_source = hubs_http_watch_client_gone (message, poll_client_gone, self);
}

void
hubs_long_polling_transport_terminate (HubsLongPollingTransport *self)
{
  g_return_if_fail (HUBS_IS_LONG_POLLING_TRANSPORT (self));

  hubs_transport_abort (HUBS_TRANSPORT (self));
}

static void
hubs_long_polling_transport_start (HubsTransport *transport)
{
  /* The first poll has been answered: the client must come back. */
  start_inactive_timer (HUBS_LONG_POLLING_TRANSPORT (transport));
}

static void
hubs_long_polling_transport_send (HubsTransport *transport,
                                  GBytes        *data)
{
  HubsLongPollingTransport *self = HUBS_LONG_POLLING_TRANSPORT (transport);

  if (self->closing || g_bytes_get_size (data) == 0)
    return;

  g_queue_push_tail (&self->queue, g_bytes_ref (data));
  self->queued_bytes += g_bytes_get_size (data);
  if (self->queued_bytes > self->options.high_watermark && !self->above_high)
    {
      self->above_high = TRUE;
      hubs_post_receiver_set_output_blocked (self->posts, TRUE);
    }

  /* From an idle: what is sent in one go leaves in one poll. */
  schedule_flush (self);
}

static void
hubs_long_polling_transport_close (HubsTransport *transport,
                                   gboolean       failed)
{
  HubsLongPollingTransport *self = HUBS_LONG_POLLING_TRANSPORT (transport);

  self->closing = TRUE;

  /* No poll will come to take the rest when the last one's connection was
   * dropped: the client left, or the server stopped serving. */
  if ((self->poll != NULL && g_queue_is_empty (&self->queue)) ||
      (self->poll == NULL && self->poll_dropped))
    {
      end_poll (self, SOUP_STATUS_NO_CONTENT);
      finish (self);
    }
  else
    schedule_flush (self);
}

static void
hubs_long_polling_transport_abort (HubsTransport *transport)
{
  HubsLongPollingTransport *self = HUBS_LONG_POLLING_TRANSPORT (transport);
  g_autoptr(HubsLongPollingTransport) keep = g_object_ref (self);

  clear_queue (self);
  end_poll (self, SOUP_STATUS_NO_CONTENT);
  finish (self);
}

static void
hubs_long_polling_transport_set_receiving (HubsTransport *transport,
                                           gboolean       receiving)
{
  hubs_post_receiver_set_receiving (HUBS_LONG_POLLING_TRANSPORT (transport)->posts, receiving);
}

static gsize
hubs_long_polling_transport_get_queued_bytes (HubsTransport *transport)
{
  return HUBS_LONG_POLLING_TRANSPORT (transport)->queued_bytes;
}

static void
hubs_long_polling_transport_receive_post (HubsTransport     *transport,
                                          SoupServerMessage *message)
{
  hubs_post_receiver_push (HUBS_LONG_POLLING_TRANSPORT (transport)->posts, message);
}

static void
hubs_long_polling_transport_dispose (GObject *object)
{
  HubsLongPollingTransport *self = HUBS_LONG_POLLING_TRANSPORT (object);

  end_poll (self, SOUP_STATUS_NO_CONTENT);
  g_clear_handle_id (&self->poll_timeout_id, g_source_remove);
  g_clear_handle_id (&self->inactive_id, g_source_remove);
  g_clear_handle_id (&self->flush_id, g_source_remove);
  g_clear_pointer (&self->posts, hubs_post_receiver_free);
  clear_queue (self);

  G_OBJECT_CLASS (hubs_long_polling_transport_parent_class)->dispose (object);
}

static void
hubs_long_polling_transport_class_init (HubsLongPollingTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  HubsTransportClass *transport_class = HUBS_TRANSPORT_CLASS (klass);

  object_class->dispose = hubs_long_polling_transport_dispose;

  transport_class->start = hubs_long_polling_transport_start;
  transport_class->send = hubs_long_polling_transport_send;
  transport_class->close = hubs_long_polling_transport_close;
  transport_class->abort = hubs_long_polling_transport_abort;
  transport_class->set_receiving = hubs_long_polling_transport_set_receiving;
  transport_class->get_queued_bytes = hubs_long_polling_transport_get_queued_bytes;
  transport_class->receive_post = hubs_long_polling_transport_receive_post;
  transport_class->inherent_keep_alive = TRUE;
}

static void
hubs_long_polling_transport_init (HubsLongPollingTransport *self)
{
  g_queue_init (&self->queue);
  self->posts = hubs_post_receiver_new (HUBS_TRANSPORT (self));
}

HubsTransport *
hubs_long_polling_transport_new (const HubsHttpTransportOptions *options)
{
  HubsLongPollingTransport *self = g_object_new (HUBS_TYPE_LONG_POLLING_TRANSPORT,
                                                 "transport-type", HUBS_TRANSPORT_LONG_POLLING,
                                                 NULL);

  self->options = *options;
  return HUBS_TRANSPORT (self);
}
