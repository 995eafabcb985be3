/* hubs-post-receiver.c: client data by POST, for the HTTP transports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Server-Sent Events and Long Polling receive the client's bytes as POST
 * bodies. As ASP.NET Core's ProcessSend, they are delivered one request at
 * a time in arrival order, and a request is answered only once its body has
 * gone up and the application takes more: a client that sends faster than
 * the hub reads waits on its POST instead of growing the server's memory.
 *
 * A body goes up in slices, as ASP.NET Core copies it into the connection's
 * input pipe, and no slice goes while the connection's own outgoing queue is
 * above its high watermark: a client that posts many calls at once gets
 * their answers at the pace it takes them (a poll takes the queue whole),
 * instead of having its queue grow past the hub connection's bound.
 */

#include "hubs-transport-private.h"

#define SLICE_BYTES (64 * 1024)

typedef struct
{
  HubsPostReceiver *receiver;
  SoupServerMessage *message;
  GBytes *body;
  gsize offset;                 /* delivered so far */
  gulong finished_id;
  gulong disconnected_id;
} Post;

struct _HubsPostReceiver
{
  HubsTransport *transport;     /* unowned: it owns us */
  GQueue posts;                 /* Post, oldest first */
  GSource *resume_source;
  gboolean receiving;
  gboolean output_blocked;
  gboolean processing;
};

static void
post_free (Post *post)
{
  g_clear_signal_handler (&post->finished_id, post->message);
  g_clear_signal_handler (&post->disconnected_id, post->message);
  g_bytes_unref (post->body);
  g_object_unref (post->message);
  g_free (post);
}

static void
post_answer (Post *post,
             guint status)
{
  soup_server_message_set_status (post->message, status, NULL);
  soup_server_message_set_response (post->message, "text/plain", SOUP_MEMORY_STATIC, "", 0);
  soup_server_message_unpause (post->message);
}

/* The client went away while its POST waited, or the server dropped its
 * socket. */
static void
post_finished (SoupServerMessage *message,
               gpointer           user_data)
{
  Post *post = user_data;
  HubsPostReceiver *self = post->receiver;

  g_queue_remove (&self->posts, post);
  post_free (post);
}

HubsPostReceiver *
hubs_post_receiver_new (HubsTransport *transport)
{
  HubsPostReceiver *self = g_new0 (HubsPostReceiver, 1);

  self->transport = transport;
  self->receiving = TRUE;
  g_queue_init (&self->posts);

  return self;
}

void
hubs_post_receiver_free (HubsPostReceiver *self)
{
  if (self == NULL)
    return;

  hubs_post_receiver_fail_all (self);
  if (self->resume_source != NULL)
    {
      g_source_destroy (self->resume_source);
      g_clear_pointer (&self->resume_source, g_source_unref);
    }
  g_free (self);
}

static gboolean
may_deliver (HubsPostReceiver *self)
{
  return self->receiving && !self->output_blocked;
}

static void
process (HubsPostReceiver *self)
{
  g_autoptr(HubsTransport) keep = g_object_ref (self->transport);
  Post *post;

  if (self->processing)
    return;
  self->processing = TRUE;

  while ((post = g_queue_peek_head (&self->posts)) != NULL && may_deliver (self))
    {
      gsize length;
      const guint8 *data = g_bytes_get_data (post->body, &length);

      if (post->offset < length)
        {
          gsize n = MIN (length - post->offset, SLICE_BYTES);

          post->offset += n;
          /* The application may end the connection here (every POST is
           * answered then) or pause input: the loop looks again. */
          hubs_transport_emit_received (self->transport, data + post->offset - n, n);
          continue;
        }

      /* All of it is in and the application takes more: the client may
       * send again. */
      g_queue_pop_head (&self->posts);
      post_answer (post, SOUP_STATUS_OK);
      post_free (post);
    }

  self->processing = FALSE;
}

void
hubs_post_receiver_push (HubsPostReceiver  *self,
                         SoupServerMessage *message)
{
  Post *post = g_new0 (Post, 1);

  post->receiver = self;
  post->message = g_object_ref (message);
  post->body = soup_message_body_flatten (soup_server_message_get_request_body (message));
  post->finished_id = g_signal_connect (message, "finished", G_CALLBACK (post_finished), post);
  post->disconnected_id = g_signal_connect (message, "disconnected", G_CALLBACK (post_finished), post);
  soup_server_message_pause (message);
  g_queue_push_tail (&self->posts, post);

  process (self);
}

static gboolean
on_resume (gpointer user_data)
{
  HubsPostReceiver *self = user_data;

  g_clear_pointer (&self->resume_source, g_source_unref);
  process (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_resume (HubsPostReceiver *self)
{
  if (may_deliver (self) && self->resume_source == NULL && !g_queue_is_empty (&self->posts))
    {
      self->resume_source = g_idle_source_new ();
      g_source_set_priority (self->resume_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->resume_source, on_resume, self, NULL);
      g_source_set_static_name (self->resume_source, "[hubs-glib] POST resume");
      g_source_attach (self->resume_source, g_main_context_get_thread_default ());
    }
}

/* Resuming runs from an idle: the application resumes from inside its own
 * callbacks, which must not be entered again. */
void
hubs_post_receiver_set_receiving (HubsPostReceiver *self,
                                  gboolean          receiving)
{
  self->receiving = receiving;
  schedule_resume (self);
}

/* Set by the transport as its outgoing queue crosses its high watermark,
 * cleared when it has drained. */
void
hubs_post_receiver_set_output_blocked (HubsPostReceiver *self,
                                       gboolean          blocked)
{
  self->output_blocked = blocked;
  schedule_resume (self);
}

/* As ASP.NET Core: data sent to a connection that is gone gets 404; data
 * that went up before it ended was taken (200). */
void
hubs_post_receiver_fail_all (HubsPostReceiver *self)
{
  Post *post;

  while ((post = g_queue_pop_head (&self->posts)) != NULL)
    {
      g_clear_signal_handler (&post->finished_id, post->message);
      g_clear_signal_handler (&post->disconnected_id, post->message);
      post_answer (post, post->offset == g_bytes_get_size (post->body)
                         ? SOUP_STATUS_OK : SOUP_STATUS_NOT_FOUND);
      post_free (post);
    }
}

typedef struct
{
  void (*callback) (gpointer user_data);
  gpointer user_data;
} GoneWatch;

static gboolean
client_gone (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  GoneWatch *watch = user_data;

  watch->callback (watch->user_data);
  return G_SOURCE_REMOVE;
}

GSource *
hubs_http_watch_client_gone (SoupServerMessage *message,
                             void             (*callback) (gpointer user_data),
                             gpointer           user_data)
{
  GSocket *socket = soup_server_message_get_socket (message);
  GoneWatch *watch;
  GSource *source;

  if (socket == NULL)
    return NULL;

  watch = g_new0 (GoneWatch, 1);
  watch->callback = callback;
  watch->user_data = user_data;

  source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (source, G_SOURCE_FUNC (client_gone), watch, g_free);
  g_source_set_static_name (source, "[hubs-glib] HTTP client gone");
  g_source_attach (source, g_main_context_get_thread_default ());

  return source;
}
