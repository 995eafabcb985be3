/* hubs-client-stream.c: a stream the server sends to the client
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-client-private.h"

/**
 * HubsClientStream:
 *
 * The items of a streaming hub method, as [method@Hubs.Connection.stream]
 * receives them: SignalR's `IStreamResult`. Each item arrives in the
 * [signal@Hubs.ClientStream::item] signal, and the end, clean or not, in
 * [signal@Hubs.ClientStream::completed].
 *
 * ```c
 * g_autoptr(HubsClientStream) stream = NULL;
 *
 * stream = hubs_connection_stream (connection, "Counter", 1, &count, G_TYPE_INT);
 * g_signal_connect (stream, "item", G_CALLBACK (on_item), NULL);
 * g_signal_connect (stream, "completed", G_CALLBACK (on_completed), NULL);
 * ```
 *
 * Or items can be pulled one at a time with
 * [method@Hubs.ClientStream.read_async]: while no handler is connected to
 * [signal@Hubs.ClientStream::item], the items wait in the stream for the
 * reads.
 *
 * The connection keeps the stream alive until it completes; signals are
 * emitted on the connection's main context, after the call returns.
 * [method@Hubs.ClientStream.cancel] asks the server to end the stream
 * (a `CancelInvocation` message) and completes it at once with
 * %G_IO_ERROR_CANCELLED.
 *
 * Since: 0.1
 */

struct _HubsClientStream
{
  GObject parent_instance;

  HubsConnection *connection;   /* weak */
  char *invocation_id;
  gboolean completed;
  GError *error;                /* how it completed */
  GQueue items;                 /* GValue, waiting for reads */
  GQueue reads;                 /* GTask, waiting for items */
};

typedef struct
{
  GCancellable *cancellable;
  gulong cancelled_id;
} Read;

enum
{
  SIGNAL_ITEM,
  SIGNAL_COMPLETED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HubsClientStream, hubs_client_stream, G_TYPE_OBJECT)

static void
value_free (gpointer data)
{
  GValue *value = data;

  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

static GValue *
value_copy (const GValue *value)
{
  GValue *copy = g_new0 (GValue, 1);

  if (G_IS_VALUE (value))
    {
      g_value_init (copy, G_VALUE_TYPE (value));
      g_value_copy (value, copy);
    }
  return copy;
}

static void
read_free (gpointer data)
{
  Read *read = data;

  g_clear_object (&read->cancellable);
  g_free (read);
}

/* Takes @task off the queue; it is returned by the caller. */
static void
read_done (HubsClientStream *self,
           GTask            *task)
{
  Read *read = g_task_get_task_data (task);

  if (read->cancelled_id != 0)
    g_cancellable_disconnect (read->cancellable, read->cancelled_id);
  read->cancelled_id = 0;
  if (g_queue_remove (&self->reads, task))
    g_object_unref (task);
}

static void
hubs_client_stream_finalize (GObject *object)
{
  HubsClientStream *self = HUBS_CLIENT_STREAM (object);

  g_clear_weak_pointer (&self->connection);
  g_free (self->invocation_id);
  g_clear_error (&self->error);
  g_queue_clear_full (&self->items, value_free);
  g_assert (g_queue_is_empty (&self->reads));

  G_OBJECT_CLASS (hubs_client_stream_parent_class)->finalize (object);
}

static void
hubs_client_stream_class_init (HubsClientStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_client_stream_finalize;

  /**
   * HubsClientStream::item:
   * @self: the stream
   * @item: the item, of the type given to [method@Hubs.Connection.stream]
   *
   * Emitted for every item the server sends.
   *
   * Since: 0.1
   */
  signals[SIGNAL_ITEM] =
    g_signal_new ("item", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_VALUE | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * HubsClientStream::completed:
   * @self: the stream
   * @error: (nullable): why the stream failed, or %NULL when it ended well
   *
   * Emitted once, when the stream ends: the server completed it (with an
   * error as a %HUBS_HUB_ERROR), it was cancelled (%G_IO_ERROR_CANCELLED) or
   * the connection was lost.
   *
   * Since: 0.1
   */
  signals[SIGNAL_COMPLETED] =
    g_signal_new ("completed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
hubs_client_stream_init (HubsClientStream *self)
{
}

HubsClientStream *
hubs_client_stream_new (HubsConnection *connection,
                        const char     *invocation_id)
{
  HubsClientStream *self = g_object_new (HUBS_TYPE_CLIENT_STREAM, NULL);

  g_set_weak_pointer (&self->connection, connection);
  self->invocation_id = g_strdup (invocation_id);
  return self;
}

void
hubs_client_stream_item (HubsClientStream *self,
                         const GValue     *item)
{
  g_autoptr(GTask) task = NULL;

  if (self->completed)
    return;
  if (g_signal_has_handler_pending (self, signals[SIGNAL_ITEM], 0, FALSE))
    {
      g_signal_emit (self, signals[SIGNAL_ITEM], 0, item);
      return;
    }

  task = g_queue_peek_head (&self->reads);
  if (task == NULL)
    {
      g_queue_push_tail (&self->items, value_copy (item));
      return;
    }
  g_object_ref (task);
  read_done (self, task);
  g_task_return_pointer (task, value_copy (item), value_free);
}

void
hubs_client_stream_complete (HubsClientStream *self,
                             const GError     *error)
{
  g_autoptr(HubsClientStream) keep = g_object_ref (self);

  if (self->completed)
    return;
  self->completed = TRUE;
  self->error = error != NULL ? g_error_copy (error) : NULL;
  g_signal_emit (self, signals[SIGNAL_COMPLETED], 0, error);

  /* The reads waiting get the end, or the error. */
  while (!g_queue_is_empty (&self->reads))
    {
      g_autoptr(GTask) task = g_object_ref (g_queue_peek_head (&self->reads));

      read_done (self, task);
      if (self->error != NULL)
        g_task_return_error (task, g_error_copy (self->error));
      else
        g_task_return_pointer (task, NULL, NULL);
    }
}

/**
 * hubs_client_stream_get_invocation_id:
 * @self: a stream
 *
 * Gets the invocation id the stream was started with.
 *
 * Returns: (transfer none): the invocation id
 *
 * Since: 0.1
 */
const char *
hubs_client_stream_get_invocation_id (HubsClientStream *self)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_STREAM (self), NULL);

  return self->invocation_id;
}

/**
 * hubs_client_stream_is_completed:
 * @self: a stream
 *
 * Whether [signal@Hubs.ClientStream::completed] was emitted.
 *
 * Returns: %TRUE once the stream has ended
 *
 * Since: 0.1
 */
gboolean
hubs_client_stream_is_completed (HubsClientStream *self)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_STREAM (self), FALSE);

  return self->completed;
}

/**
 * hubs_client_stream_cancel:
 * @self: a stream
 *
 * Asks the server to stop the stream and completes it with
 * %G_IO_ERROR_CANCELLED; items that were already on their way are dropped.
 * Does nothing once the stream has completed.
 *
 * Since: 0.1
 */
void
hubs_client_stream_cancel (HubsClientStream *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (HUBS_IS_CLIENT_STREAM (self));

  if (self->completed)
    return;

  if (self->connection != NULL)
    hubs_connection_cancel_stream (self->connection, self->invocation_id);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The stream was cancelled.");
  hubs_client_stream_complete (self, error);
}

static void
read_cancelled (GCancellable *cancellable,
                gpointer      user_data)
{
  GTask *task = user_data;
  HubsClientStream *self = g_task_get_source_object (task);
  Read *read = g_task_get_task_data (task);

  /* Inside the handler: no disconnect here. */
  read->cancelled_id = 0;
  if (g_queue_remove (&self->reads, task))
    {
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
    }
}

/**
 * hubs_client_stream_read_async:
 * @self: a stream
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (closure user_data): called with the next item
 * @user_data: data for @callback
 *
 * Reads the next item of the stream: the pull alternative to
 * [signal@Hubs.ClientStream::item], used only while no handler is connected
 * to that signal. Reads complete in the order they were made. Cancelling a
 * read does not cancel the stream ([method@Hubs.ClientStream.cancel] does).
 *
 * Since: 0.1
 */
void
hubs_client_stream_read_async (HubsClientStream    *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Read *read;

  g_return_if_fail (HUBS_IS_CLIENT_STREAM (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_client_stream_read_async);
  g_task_set_name (task, "[hubs] client stream read");

  if (!g_queue_is_empty (&self->items))
    {
      g_task_return_pointer (task, g_queue_pop_head (&self->items), value_free);
      return;
    }
  if (self->completed)
    {
      if (self->error != NULL)
        g_task_return_error (task, g_error_copy (self->error));
      else
        g_task_return_pointer (task, NULL, NULL);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  read = g_new0 (Read, 1);
  g_task_set_task_data (task, read, read_free);
  g_queue_push_tail (&self->reads, g_object_ref (task));
  if (cancellable != NULL)
    {
      read->cancellable = g_object_ref (cancellable);
      read->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (read_cancelled), task, NULL);
    }
}

/**
 * hubs_client_stream_read_finish:
 * @self: a stream
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.ClientStream.read_async].
 *
 * Returns: (transfer full) (nullable): the next item, of the type given to
 *   [method@Hubs.Connection.stream], or %NULL at the end of the stream,
 *   with @error set when the stream failed or was cancelled
 *
 * Since: 0.1
 */
GValue *
hubs_client_stream_read_finish (HubsClientStream  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_STREAM (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
