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
};

enum
{
  SIGNAL_ITEM,
  SIGNAL_COMPLETED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HubsClientStream, hubs_client_stream, G_TYPE_OBJECT)

static void
hubs_client_stream_finalize (GObject *object)
{
  HubsClientStream *self = HUBS_CLIENT_STREAM (object);

  g_clear_weak_pointer (&self->connection);
  g_free (self->invocation_id);

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
  if (!self->completed)
    g_signal_emit (self, signals[SIGNAL_ITEM], 0, item);
}

void
hubs_client_stream_complete (HubsClientStream *self,
                             const GError     *error)
{
  g_autoptr(HubsClientStream) keep = g_object_ref (self);

  if (self->completed)
    return;
  self->completed = TRUE;
  g_signal_emit (self, signals[SIGNAL_COMPLETED], 0, error);
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
