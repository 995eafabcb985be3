/* hubs-stream-reader.c: a stream the client uploads to a hub method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-stream-private.h"

#include "hubs-connection-context-private.h"
#include "hubs-error.h"

/**
 * HubsStreamReader:
 *
 * A stream that a client uploads to a hub method: SignalR's
 * `ChannelReader<T>` or `IAsyncEnumerable<T>` parameter.
 *
 * A hub method takes an upload stream by declaring a parameter of type
 * `HUBS_TYPE_STREAM_READER`; [method@Hubs.HubClass.set_upload_item_type]
 * declares the type of its items (any value, as a `GVariant`, when it is not
 * declared). Such parameters are not arguments on the wire: the client sends
 * one stream id for each, then the items. The method reads them one at a
 * time:
 *
 * ```c
 * static void
 * sum_read (GObject      *source,
 *           GAsyncResult *result,
 *           gpointer      user_data)
 * {
 *   SumState *state = user_data;
 *   g_autoptr(GError) error = NULL;
 *   GValue *item = hubs_stream_reader_read_finish (state->reader, result, &error);
 *
 *   if (item != NULL)
 *     {
 *       state->sum += g_value_get_int (item);
 *       g_boxed_free (G_TYPE_VALUE, item);
 *       hubs_stream_reader_read_async (state->reader, NULL, sum_read, state);
 *       return;
 *     }
 *   if (error != NULL)
 *     hubs_invocation_return_gerror (state->invocation, error);
 *   else
 *     hubs_invocation_return_int (state->invocation, state->sum);
 *   sum_state_free (state);
 * }
 * ```
 *
 * As in ASP.NET Core, a stream holds up to 10 items the method has not read
 * yet; past that the connection stops reading from its client until the
 * method reads. When the method completes, streams it has not read to the
 * end are closed and their further items dropped.
 *
 * Since: 0.1
 */

struct _HubsStreamReader
{
  GObject parent_instance;

  HubsConnectionContext *connection;   /* NULL once detached */
  char *stream_id;
  HubsParamType item_type;
  GQueue items;                 /* GValue * */
  gboolean ended;
  GError *error;
  GTask *pending;
  gulong pending_cancelled_id;
};

G_DEFINE_FINAL_TYPE (HubsStreamReader, hubs_stream_reader, G_TYPE_OBJECT)

static void
value_free (gpointer data)
{
  GValue *value = data;

  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

static void
hubs_stream_reader_finalize (GObject *object)
{
  HubsStreamReader *self = HUBS_STREAM_READER (object);

  g_queue_clear_full (&self->items, value_free);
  g_clear_error (&self->error);
  g_free (self->stream_id);

  G_OBJECT_CLASS (hubs_stream_reader_parent_class)->finalize (object);
}

static void
hubs_stream_reader_class_init (HubsStreamReaderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_stream_reader_finalize;
}

static void
hubs_stream_reader_init (HubsStreamReader *self)
{
  g_queue_init (&self->items);
}

/* @connection is not referenced: it drops its readers before it goes. */
HubsStreamReader *
hubs_stream_reader_new (HubsConnectionContext *connection,
                        const char            *stream_id,
                        const HubsParamType   *item_type)
{
  HubsStreamReader *self = g_object_new (HUBS_TYPE_STREAM_READER, NULL);

  self->connection = connection;
  self->stream_id = g_strdup (stream_id);
  self->item_type = *item_type;

  return self;
}

const HubsParamType *
hubs_stream_reader_get_param_type (HubsStreamReader *self)
{
  return &self->item_type;
}

gboolean
hubs_stream_reader_is_full (HubsStreamReader *self)
{
  return self->items.length >= HUBS_STREAM_BUFFER_CAPACITY;
}

gboolean
hubs_stream_reader_is_ended (HubsStreamReader *self)
{
  return self->ended;
}

static GTask *
steal_pending (HubsStreamReader *self)
{
  GTask *task = g_steal_pointer (&self->pending);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (self->pending_cancelled_id != 0)
    g_cancellable_disconnect (cancellable, self->pending_cancelled_id);
  self->pending_cancelled_id = 0;
  return task;
}

/* Hands the next item, the end or the error to the pending read. */
static void
serve (HubsStreamReader *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->pending == NULL)
    return;

  if (!g_queue_is_empty (&self->items))
    {
      GValue *item = g_queue_pop_head (&self->items);

      task = steal_pending (self);
      g_task_return_pointer (task, item, value_free);
      if (self->connection != NULL)
        hubs_connection_context_upload_consumed (self->connection);
    }
  else if (self->ended)
    {
      task = steal_pending (self);
      if (self->error != NULL)
        g_task_return_error (task, g_error_copy (self->error));
      else
        g_task_return_pointer (task, NULL, NULL);
    }
}

void
hubs_stream_reader_push_item (HubsStreamReader *self,
                              GValue           *item)
{
  if (self->ended)
    {
      value_free (item);
      return;
    }
  g_queue_push_tail (&self->items, item);
  serve (self);
}

void
hubs_stream_reader_push_end (HubsStreamReader *self,
                             const GError     *error)
{
  if (self->ended)
    return;
  self->ended = TRUE;
  self->connection = NULL;
  if (error != NULL)
    self->error = g_error_copy (error);
  serve (self);
}

/**
 * hubs_stream_reader_get_stream_id:
 * @self: a stream reader
 *
 * Gets the id the client gave the stream.
 *
 * Returns: (transfer none): the stream id
 *
 * Since: 0.1
 */
const char *
hubs_stream_reader_get_stream_id (HubsStreamReader *self)
{
  g_return_val_if_fail (HUBS_IS_STREAM_READER (self), NULL);
  return self->stream_id;
}

/**
 * hubs_stream_reader_get_item_type:
 * @self: a stream reader
 *
 * Gets the declared type of the stream's items.
 *
 * Returns: the item type; %G_TYPE_VARIANT when any value is accepted
 *
 * Since: 0.1
 */
GType
hubs_stream_reader_get_item_type (HubsStreamReader *self)
{
  g_return_val_if_fail (HUBS_IS_STREAM_READER (self), G_TYPE_INVALID);
  return self->item_type.type;
}

/* A cancelled read leaves the stream where it was: the next read gets the
 * next item. */
static void
read_cancelled (GCancellable *cancellable,
                gpointer      user_data)
{
  HubsStreamReader *self = user_data;
  g_autoptr(GTask) task = NULL;

  if (self->pending == NULL)
    return;
  /* Not steal_pending(): disconnecting from inside the handler deadlocks. */
  task = g_steal_pointer (&self->pending);
  self->pending_cancelled_id = 0;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The read was cancelled.");
}

/**
 * hubs_stream_reader_read_async:
 * @self: a stream reader
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (closure user_data): called with the next item,
 *   the end of the stream or its error
 * @user_data: data for @callback
 *
 * Reads the next item of the stream. One read at a time.
 *
 * Since: 0.1
 */
void
hubs_stream_reader_read_async (HubsStreamReader    *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HUBS_IS_STREAM_READER (self));
  g_return_if_fail (self->pending == NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_stream_reader_read_async);
  g_task_set_name (task, "[hubs-glib] hubs_stream_reader_read_async");
  self->pending = g_steal_pointer (&task);
  serve (self);
  if (self->pending != NULL && cancellable != NULL)
    self->pending_cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (read_cancelled), self, NULL);
}

/**
 * hubs_stream_reader_read_finish:
 * @self: a stream reader
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.StreamReader.read_async].
 *
 * The client's error ends the stream as a %HUBS_HUB_ERROR with its text,
 * which returned by the method reaches the client as SignalR's
 * `HubException`. An end of the connection is %G_IO_ERROR_CLOSED.
 *
 * Returns: (transfer full) (nullable): the next item, of the declared item
 *   type (free it with `g_boxed_free (G_TYPE_VALUE, item)`); %NULL at the
 *   end of the stream, with @error set if it ended with an error
 *
 * Since: 0.1
 */
GValue *
hubs_stream_reader_read_finish (HubsStreamReader  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (HUBS_IS_STREAM_READER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
