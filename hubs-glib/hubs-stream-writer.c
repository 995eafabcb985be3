/* hubs-stream-writer.c: the items of a streaming hub method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-stream-private.h"

#include "hubs-connection-context-private.h"
#include "hubs-hub-dispatcher-private.h"
#include "hubs-error.h"
#include "hubs-hub.h"
#include "hubs-log-private.h"

/**
 * HubsStreamWriter:
 *
 * The stream of a streaming hub method: what a server-to-client stream
 * (SignalR's `ChannelReader<T>` or `IAsyncEnumerable<T>` result) is in
 * hubs-glib.
 *
 * A streaming method is declared with `hubs_hub_class_add_streaming_method()`
 * (or, over introspection, as a signal whose first parameter is a
 * `HubsStreamWriter`). Its handler receives the writer in place of a
 * [class@Hubs.Invocation], writes items with
 * [method@Hubs.StreamWriter.write_async] and ends with
 * [method@Hubs.StreamWriter.complete] or
 * [method@Hubs.StreamWriter.complete_with_error], now or later:
 *
 * ```c
 * static void
 * count_next (CountState *state)
 * {
 *   g_auto(GValue) item = G_VALUE_INIT;
 *
 *   if (state->next == state->n)
 *     {
 *       hubs_stream_writer_complete (state->writer);
 *       count_state_free (state);
 *       return;
 *     }
 *   g_value_init (&item, G_TYPE_INT);
 *   g_value_set_int (&item, state->next++);
 *   hubs_stream_writer_write_async (state->writer, &item, NULL, count_written, state);
 * }
 * ```
 *
 * Writing is flow-controlled: the write completes once the item has been
 * queued for the client within the connection's bounds, so a producer that
 * waits for each write before the next goes no faster than its client reads.
 *
 * The writer's [method@Hubs.StreamWriter.get_cancellable] fires when the
 * client cancels the stream (a CancelInvocation message, as the JavaScript
 * client sends when a subscription is disposed) or the connection ends. The
 * client then receives the end of the stream at once; later writes fail with
 * %G_IO_ERROR_CANCELLED, and the method still completes its writer.
 *
 * Since: 0.1
 */

struct _HubsStreamWriter
{
  GObject parent_instance;

  HubsConnectionContext *connection;
  HubsHub *hub;
  char *invocation_id;
  char *target;
  GType item_type;
  GCancellable *cancellable;

  HubsStreamWriterDoneFunc done;
  gpointer done_data;

  gboolean returned;            /* the handler's emission has returned */
  gboolean ended;               /* the Completion is out (or never will be) */
  gboolean completed;           /* the method has completed the writer */
};

G_DEFINE_FINAL_TYPE (HubsStreamWriter, hubs_stream_writer, G_TYPE_OBJECT)

static void
hubs_stream_writer_finalize (GObject *object)
{
  HubsStreamWriter *self = HUBS_STREAM_WRITER (object);

  if (!self->completed)
    g_warning ("Streaming hub method ‘%s’ never completed its stream", self->target);

  g_clear_object (&self->connection);
  g_clear_object (&self->hub);
  g_clear_object (&self->cancellable);
  g_free (self->invocation_id);
  g_free (self->target);

  G_OBJECT_CLASS (hubs_stream_writer_parent_class)->finalize (object);
}

static void
hubs_stream_writer_class_init (HubsStreamWriterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_stream_writer_finalize;
}

static void
hubs_stream_writer_init (HubsStreamWriter *self)
{
  self->cancellable = g_cancellable_new ();
}

HubsStreamWriter *
hubs_stream_writer_new (HubsConnectionContext    *connection,
                        HubsHub                  *hub,
                        const char               *invocation_id,
                        const char               *target,
                        GType                     item_type,
                        HubsStreamWriterDoneFunc  done,
                        gpointer                  user_data)
{
  HubsStreamWriter *self = g_object_new (HUBS_TYPE_STREAM_WRITER, NULL);

  self->connection = g_object_ref (connection);
  self->hub = g_object_ref (hub);
  self->invocation_id = g_strdup (invocation_id);
  self->target = g_strdup (target);
  self->item_type = item_type;
  self->done = done;
  self->done_data = user_data;

  return self;
}

void
hubs_stream_writer_set_returned (HubsStreamWriter *self)
{
  self->returned = TRUE;
}

/* Ends the stream on the wire: a Completion, with @error_text or none. */
static void
end (HubsStreamWriter *self,
     const char       *error_text)
{
  g_autoptr(HubsStreamWriter) keep = g_object_ref (self);

  if (self->ended)
    return;
  self->ended = TRUE;

  if (!hubs_connection_context_is_closed (self->connection))
    {
      g_autoptr(HubsHubMessage) completion =
        hubs_hub_message_new_completion (self->invocation_id, NULL, FALSE, error_text);

      hubs_connection_context_write_message (self->connection, completion);
    }
  hubs_connection_context_remove_stream_writer (self->connection, self);
}

void
hubs_stream_writer_cancel (HubsStreamWriter *self)
{
  g_autoptr(HubsStreamWriter) keep = g_object_ref (self);

  /* As ASP.NET Core: a cancelled stream still ends with a Completion, and
   * one without error, whatever the method does next. */
  end (self, NULL);
  g_cancellable_cancel (self->cancellable);
}

static void
complete (HubsStreamWriter *self)
{
  HubsStreamWriterDoneFunc done = self->done;

  self->completed = TRUE;
  self->done = NULL;
  if (done != NULL)
    done (self, self->done_data);
}

/**
 * hubs_stream_writer_get_invocation_id:
 * @self: a stream writer
 *
 * Gets the id the client gave the stream.
 *
 * Returns: (transfer none): the invocation id
 *
 * Since: 0.1
 */
const char *
hubs_stream_writer_get_invocation_id (HubsStreamWriter *self)
{
  g_return_val_if_fail (HUBS_IS_STREAM_WRITER (self), NULL);
  return self->invocation_id;
}

/**
 * hubs_stream_writer_get_hub:
 * @self: a stream writer
 *
 * Gets the hub instance made for this call.
 *
 * Returns: (transfer none): the hub
 *
 * Since: 0.1
 */
HubsHub *
hubs_stream_writer_get_hub (HubsStreamWriter *self)
{
  g_return_val_if_fail (HUBS_IS_STREAM_WRITER (self), NULL);
  return self->hub;
}

/**
 * hubs_stream_writer_get_context:
 * @self: a stream writer
 *
 * Gets the context of the calling connection.
 *
 * Returns: (transfer none): the caller's context
 *
 * Since: 0.1
 */
HubsCallerContext *
hubs_stream_writer_get_context (HubsStreamWriter *self)
{
  g_return_val_if_fail (HUBS_IS_STREAM_WRITER (self), NULL);
  return hubs_hub_get_context (self->hub);
}

/**
 * hubs_stream_writer_get_cancellable:
 * @self: a stream writer
 *
 * Gets the cancellable that fires when the client cancels the stream or
 * its connection ends. The method should then stop producing and complete
 * the writer.
 *
 * Returns: (transfer none): the stream's cancellable
 *
 * Since: 0.1
 */
GCancellable *
hubs_stream_writer_get_cancellable (HubsStreamWriter *self)
{
  g_return_val_if_fail (HUBS_IS_STREAM_WRITER (self), NULL);
  return self->cancellable;
}

/**
 * hubs_stream_writer_is_completed:
 * @self: a stream writer
 *
 * Gets whether the method has completed the stream.
 *
 * Returns: %TRUE once [method@Hubs.StreamWriter.complete] or
 *   [method@Hubs.StreamWriter.complete_with_error] was called
 *
 * Since: 0.1
 */
gboolean
hubs_stream_writer_is_completed (HubsStreamWriter *self)
{
  g_return_val_if_fail (HUBS_IS_STREAM_WRITER (self), FALSE);
  return self->completed;
}

static gboolean
write_item (HubsStreamWriter  *self,
            const GValue      *item,
            GError           **error)
{
  g_autoptr(HubsHubMessage) message = NULL;

  if (self->ended || hubs_connection_context_is_closed (self->connection))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "The stream was cancelled.");
      return FALSE;
    }

  if (item != NULL && G_IS_VALUE (item) &&
      self->item_type != G_TYPE_INVALID && self->item_type != G_TYPE_NONE &&
      !g_value_type_compatible (G_VALUE_TYPE (item), self->item_type))
    g_warning ("Streaming hub method ‘%s’ wrote a %s where it declared %s",
               self->target, G_VALUE_TYPE_NAME (item), g_type_name (self->item_type));

  message = hubs_hub_message_new_stream_item (self->invocation_id, item);
  hubs_connection_context_write_message (self->connection, message);
  return TRUE;
}

/**
 * hubs_stream_writer_write_async:
 * @self: a stream writer
 * @item: (nullable): the item, or %NULL for a null item
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (closure user_data): called once the item is
 *   queued within the connection's bounds
 * @user_data: data for @callback
 *
 * Sends an item of the stream to the client. The item is queued at once;
 * the operation completes when the connection's outgoing queue is within
 * its bounds, which is at once for a client that keeps up, and once the
 * client has read enough for one that does not. Write the next item from
 * @callback to let the client set the pace.
 *
 * Fails with %G_IO_ERROR_CANCELLED once the stream was cancelled.
 *
 * Since: 0.1
 */
void
hubs_stream_writer_write_async (HubsStreamWriter    *self,
                                const GValue        *item,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (HUBS_IS_STREAM_WRITER (self));
  g_return_if_fail (!self->completed);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_stream_writer_write_async);
  g_task_set_name (task, "[hubs-glib] hubs_stream_writer_write_async");

  if (!write_item (self, item, &error))
    g_task_return_error (task, error);
  else if (hubs_connection_context_is_congested (self->connection))
    hubs_connection_context_wait_drained (self->connection, g_steal_pointer (&task));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * hubs_stream_writer_write_finish:
 * @self: a stream writer
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.StreamWriter.write_async].
 *
 * Returns: %TRUE once the item is queued, %FALSE with @error set when the
 *   stream was cancelled or its connection ended
 *
 * Since: 0.1
 */
gboolean
hubs_stream_writer_write_finish (HubsStreamWriter  *self,
                                 GAsyncResult      *result,
                                 GError           **error)
{
  g_return_val_if_fail (HUBS_IS_STREAM_WRITER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hubs_stream_writer_write:
 * @self: a stream writer
 * @item: (nullable): the item, or %NULL for a null item
 *
 * Sends an item of the stream to the client without waiting: for short
 * streams of known length. A long or fast stream should use
 * [method@Hubs.StreamWriter.write_async], which waits for a slow client.
 *
 * Returns: %TRUE if the item was queued, %FALSE once the stream was
 *   cancelled or its connection ended
 *
 * Since: 0.1
 */
gboolean
hubs_stream_writer_write (HubsStreamWriter *self,
                          const GValue     *item)
{
  g_return_val_if_fail (HUBS_IS_STREAM_WRITER (self), FALSE);
  g_return_val_if_fail (!self->completed, FALSE);

  return write_item (self, item, NULL);
}

/**
 * hubs_stream_writer_complete:
 * @self: a stream writer
 *
 * Ends the stream: the client receives a Completion without error. Call it
 * once, also after the stream was cancelled.
 *
 * Since: 0.1
 */
void
hubs_stream_writer_complete (HubsStreamWriter *self)
{
  g_autoptr(HubsStreamWriter) keep = NULL;

  g_return_if_fail (HUBS_IS_STREAM_WRITER (self));
  g_return_if_fail (!self->completed);

  keep = g_object_ref (self);
  end (self, NULL);
  complete (self);
}

/**
 * hubs_stream_writer_complete_with_error:
 * @self: a stream writer
 * @error: why the stream failed
 *
 * Ends the stream with an error. Before the method's handler has returned
 * this is the method failing to start, which the client sees as ASP.NET
 * Core reports an exception thrown by a streaming method (`An unexpected
 * error occurred invoking '…' on the server.`); later it is an error while
 * streaming (`An error occurred on the server while streaming results.`).
 * Either carries the error's message when it is a %HUBS_HUB_ERROR or
 * detailed errors are on. After a cancellation the client sees the end of
 * the stream without error.
 *
 * Since: 0.1
 */
void
hubs_stream_writer_complete_with_error (HubsStreamWriter *self,
                                        const GError     *error)
{
  g_autoptr(HubsStreamWriter) keep = NULL;

  g_return_if_fail (HUBS_IS_STREAM_WRITER (self));
  g_return_if_fail (error != NULL);
  g_return_if_fail (!self->completed);

  keep = g_object_ref (self);
  if (!self->ended)
    {
      HubsHubContext *hub_context = hubs_connection_context_get_hub_context (self->connection);
      gboolean detailed = hubs_hub_context_get_settings (hub_context)->detailed_errors;
      g_autofree char *prefix = NULL;
      g_autofree char *text = NULL;

      if (self->returned)
        prefix = g_strdup ("An error occurred on the server while streaming results.");
      else
        prefix = g_strdup_printf ("An unexpected error occurred invoking '%s' on the server.", self->target);
      text = hubs_build_error_message (prefix, error, detailed);
      HUBS_LOG_CONNECTION (G_LOG_LEVEL_INFO, "FailedInvokingHubMethod", self->connection, self->target,
                           "Failed to invoke hub method '%s': %s", self->target, error->message);
      end (self, text);
    }
  complete (self);
}
