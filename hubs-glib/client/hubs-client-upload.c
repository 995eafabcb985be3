/* hubs-client-upload.c: a stream the client sends to the server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-client-private.h"

/**
 * HubsClientUpload:
 *
 * Items the client streams to a hub method that takes an upload stream
 * (a `ChannelReader<T>` or `IAsyncEnumerable<T>` parameter in ASP.NET Core,
 * a [class@Hubs.StreamReader] in hubs-glib): SignalR's client-to-server
 * streaming.
 *
 * Pass the upload among the arguments of [method@Hubs.Connection.invoke_async],
 * [method@Hubs.Connection.send_async] or [method@Hubs.Connection.stream],
 * as a `GValue` holding it; the connection takes it out of the arguments
 * and sends its stream id instead, as the JavaScript client does with a
 * `Subject`. Then write items and complete it:
 *
 * ```c
 * g_autoptr(HubsClientUpload) upload = hubs_client_upload_new ();
 * g_auto(GValue) arg = G_VALUE_INIT;
 *
 * g_value_init (&arg, HUBS_TYPE_CLIENT_UPLOAD);
 * g_value_set_object (&arg, upload);
 * hubs_connection_invoke_async (connection, "Sum", 1, &arg, G_TYPE_INT64, NULL, on_sum, NULL);
 * hubs_client_upload_write (upload, &one);
 * hubs_client_upload_write (upload, &two);
 * hubs_client_upload_complete (upload);
 * ```
 *
 * Items written before the invocation is sent wait for it. An upload
 * serves one invocation; items written after the connection was lost are
 * dropped.
 *
 * Since: 0.1
 */

struct _HubsClientUpload
{
  GObject parent_instance;

  HubsConnection *connection;   /* weak, once bound */
  guint transport_serial;
  char *stream_id;
  GPtrArray *waiting;           /* GValue, written before binding */
  gboolean completed;
  char *error;                  /* the completion's */
};

G_DEFINE_FINAL_TYPE (HubsClientUpload, hubs_client_upload, G_TYPE_OBJECT)

static void
value_free (gpointer data)
{
  GValue *value = data;

  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

static void
hubs_client_upload_finalize (GObject *object)
{
  HubsClientUpload *self = HUBS_CLIENT_UPLOAD (object);

  g_clear_weak_pointer (&self->connection);
  g_clear_pointer (&self->waiting, g_ptr_array_unref);
  g_free (self->stream_id);
  g_free (self->error);

  G_OBJECT_CLASS (hubs_client_upload_parent_class)->finalize (object);
}

static void
hubs_client_upload_class_init (HubsClientUploadClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_client_upload_finalize;
}

static void
hubs_client_upload_init (HubsClientUpload *self)
{
  self->waiting = g_ptr_array_new_with_free_func (value_free);
}

gboolean
hubs_client_upload_is_bound (HubsClientUpload *self)
{
  return self->stream_id != NULL;
}

/* Called once the invocation that carries the upload's id is sent. */
void
hubs_client_upload_bind (HubsClientUpload *self,
                         HubsConnection   *connection,
                         guint             transport_serial,
                         const char       *stream_id)
{
  g_set_weak_pointer (&self->connection, connection);
  self->transport_serial = transport_serial;
  self->stream_id = g_strdup (stream_id);

  for (guint i = 0; i < self->waiting->len; i++)
    hubs_connection_send_upload_item (connection, transport_serial, stream_id, self->waiting->pdata[i]);
  g_ptr_array_set_size (self->waiting, 0);
  if (self->completed)
    hubs_connection_send_completion (connection, transport_serial, stream_id, NULL, self->error);
}

/**
 * hubs_client_upload_new:
 *
 * Creates an upload stream, to pass as an argument of a hub method.
 *
 * Returns: (transfer full): a new upload
 *
 * Since: 0.1
 */
HubsClientUpload *
hubs_client_upload_new (void)
{
  return g_object_new (HUBS_TYPE_CLIENT_UPLOAD, NULL);
}

/**
 * hubs_client_upload_get_stream_id:
 * @self: an upload
 *
 * Gets the stream id the connection gave the upload.
 *
 * Returns: (transfer none) (nullable): the id, or %NULL before the upload
 *   was sent with an invocation
 *
 * Since: 0.1
 */
const char *
hubs_client_upload_get_stream_id (HubsClientUpload *self)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_UPLOAD (self), NULL);

  return self->stream_id;
}

/**
 * hubs_client_upload_write:
 * @self: an upload
 * @item: the item, written by the protocol according to its type
 *
 * Sends an item (a `StreamItem` message), or keeps it until the invocation
 * carrying the upload is sent.
 *
 * Since: 0.1
 */
void
hubs_client_upload_write (HubsClientUpload *self,
                          const GValue     *item)
{
  GValue *copy;

  g_return_if_fail (HUBS_IS_CLIENT_UPLOAD (self));
  g_return_if_fail (G_IS_VALUE (item));
  g_return_if_fail (!self->completed);

  if (self->stream_id == NULL)
    {
      copy = g_new0 (GValue, 1);
      g_value_init (copy, G_VALUE_TYPE (item));
      g_value_copy (item, copy);
      g_ptr_array_add (self->waiting, copy);
      return;
    }
  if (self->connection != NULL)
    hubs_connection_send_upload_item (self->connection, self->transport_serial, self->stream_id, item);
}

static void
complete (HubsClientUpload *self,
          const char       *error)
{
  self->completed = TRUE;
  self->error = g_strdup (error);
  if (self->stream_id != NULL && self->connection != NULL)
    hubs_connection_send_completion (self->connection, self->transport_serial, self->stream_id,
                                     NULL, error);
}

/**
 * hubs_client_upload_complete:
 * @self: an upload
 *
 * Ends the upload (a `Completion` message for its stream id).
 *
 * Since: 0.1
 */
void
hubs_client_upload_complete (HubsClientUpload *self)
{
  g_return_if_fail (HUBS_IS_CLIENT_UPLOAD (self));
  g_return_if_fail (!self->completed);

  complete (self, NULL);
}

/**
 * hubs_client_upload_complete_with_error:
 * @self: an upload
 * @error: why the upload failed
 *
 * Ends the upload with an error: the hub method's reader fails with
 * @error's message (in ASP.NET Core, as a `HubException`).
 *
 * Since: 0.1
 */
void
hubs_client_upload_complete_with_error (HubsClientUpload *self,
                                        const GError     *error)
{
  g_return_if_fail (HUBS_IS_CLIENT_UPLOAD (self));
  g_return_if_fail (error != NULL);
  g_return_if_fail (!self->completed);

  complete (self, error->message);
}
