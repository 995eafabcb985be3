/* hubs-caller-context.c: what a hub knows of its caller
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-caller-context-private.h"

#include "hubs-http-context.h"
#include "hubs-hub-context-private.h"
#include "hubs-hub-filter-private.h"
#include "hubs-user.h"

/**
 * HubsCallerContext:
 *
 * The context of a hub connection, as SignalR's `HubCallerContext`: the
 * connection id, the user and its identifier, per-connection items and
 * features, a cancellable that fires when the connection ends, the HTTP
 * request that opened it, and [method@Hubs.CallerContext.abort].
 *
 * One context lives as long as its connection; every hub instance made for
 * that connection sees the same one, so items set during one invocation are
 * there in the next.
 *
 * ```c
 * g_auto(GValue) count = G_VALUE_INIT;
 * HubsCallerContext *context = hubs_hub_get_context (hub);
 *
 * g_value_init (&count, G_TYPE_INT);
 * g_value_set_int (&count, 1);
 * hubs_caller_context_set_item (context, "count", &count);
 * ```
 *
 * Since: 0.1
 */

struct _HubsCallerContext
{
  GObject parent_instance;

  HubsConnectionContext *connection;    /* unowned; NULL once detached */
  char *connection_id;
  HubsHttpContext *http_context;
  HubsTransportType transport;
  char *protocol;
  GHashTable *items;                    /* utf8 → GValue */
  GHashTable *features;                 /* GType → GObject */
  GCancellable *aborted;
  char *user_identifier;                /* the server's user-id provider's */
};

G_DEFINE_FINAL_TYPE (HubsCallerContext, hubs_caller_context, G_TYPE_OBJECT)

static void
value_free (gpointer data)
{
  GValue *value = data;

  g_value_unset (value);
  g_free (value);
}

static void
hubs_caller_context_finalize (GObject *object)
{
  HubsCallerContext *self = HUBS_CALLER_CONTEXT (object);

  g_free (self->connection_id);
  g_free (self->protocol);
  g_free (self->user_identifier);
  g_clear_object (&self->http_context);
  g_clear_pointer (&self->items, g_hash_table_unref);
  g_clear_pointer (&self->features, g_hash_table_unref);
  g_clear_object (&self->aborted);

  G_OBJECT_CLASS (hubs_caller_context_parent_class)->finalize (object);
}

static void
hubs_caller_context_class_init (HubsCallerContextClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_caller_context_finalize;
}

static void
hubs_caller_context_init (HubsCallerContext *self)
{
  self->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, value_free);
  self->features = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->aborted = g_cancellable_new ();
}

HubsCallerContext *
hubs_caller_context_new (HubsConnectionContext *connection,
                         const char            *connection_id,
                         HubsHttpContext       *http_context,
                         HubsTransportType      transport)
{
  HubsCallerContext *self = g_object_new (HUBS_TYPE_CALLER_CONTEXT, NULL);

  self->connection = connection;
  self->connection_id = g_strdup (connection_id);
  self->http_context = g_object_ref (http_context);
  self->transport = transport;
  g_hash_table_insert (self->features, GSIZE_TO_POINTER (HUBS_TYPE_HTTP_CONTEXT),
                       g_object_ref (http_context));
  /* As HubConnectionHandler: once, from the user of the connect request. */
  self->user_identifier =
    hubs_server_get_user_identifier (hubs_hub_context_get_server (hubs_connection_context_get_hub_context (connection)),
                                     self);

  return self;
}

void
hubs_caller_context_set_protocol (HubsCallerContext *self,
                                  const char        *protocol)
{
  g_free (self->protocol);
  self->protocol = g_strdup (protocol);
}

/* The connection has ended: hubs that still hold the context must not reach
 * it any more, and work tied to it stops. */
void
hubs_caller_context_detach (HubsCallerContext *self)
{
  self->connection = NULL;
  g_cancellable_cancel (self->aborted);
}

/**
 * hubs_caller_context_get_connection_id:
 * @self: a caller context
 *
 * Gets the connection id: the `connectionId` the client got from negotiate
 * (not its connection token).
 *
 * Returns: the connection id
 *
 * Since: 0.1
 */
const char *
hubs_caller_context_get_connection_id (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);
  return self->connection_id;
}

/**
 * hubs_caller_context_get_user:
 * @self: a caller context
 *
 * Gets the user that the server's authentication handler made of the
 * connection's request.
 *
 * Returns: (transfer none) (nullable): the user, or %NULL when anonymous
 *
 * Since: 0.1
 */
HubsUser *
hubs_caller_context_get_user (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);
  return hubs_http_context_get_user (self->http_context);
}

/**
 * hubs_caller_context_get_user_identifier:
 * @self: a caller context
 *
 * Gets the user identifier, which [method@Hubs.HubClients.user] sends to:
 * the user's name-identifier claim (%HUBS_CLAIM_TYPE_NAME_IDENTIFIER), or
 * what the server's provider found ([method@Hubs.Server.set_user_id_provider])
 * when the connection started.
 *
 * Returns: (nullable): the user identifier, or %NULL when there is none
 *
 * Since: 0.1
 */
const char *
hubs_caller_context_get_user_identifier (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);

  return self->user_identifier;
}

/**
 * hubs_caller_context_get_items:
 * @self: a caller context
 *
 * Gets the connection's items: values that hub code keeps for the length of
 * the connection.
 *
 * Returns: (transfer none) (element-type utf8 GValue): the items
 *
 * Since: 0.1
 */
GHashTable *
hubs_caller_context_get_items (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);
  return self->items;
}

/**
 * hubs_caller_context_get_item:
 * @self: a caller context
 * @key: the item's key
 *
 * Gets one of the connection's items.
 *
 * Returns: (nullable) (transfer none): the value, or %NULL if @key has none
 *
 * Since: 0.1
 */
const GValue *
hubs_caller_context_get_item (HubsCallerContext *self,
                              const char        *key)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_hash_table_lookup (self->items, key);
}

/**
 * hubs_caller_context_set_item:
 * @self: a caller context
 * @key: the item's key
 * @value: (nullable): the value, copied, or %NULL to remove the item
 *
 * Sets one of the connection's items.
 *
 * Since: 0.1
 */
void
hubs_caller_context_set_item (HubsCallerContext *self,
                              const char        *key,
                              const GValue      *value)
{
  GValue *copy;

  g_return_if_fail (HUBS_IS_CALLER_CONTEXT (self));
  g_return_if_fail (key != NULL);

  if (value == NULL || !G_IS_VALUE (value))
    {
      g_hash_table_remove (self->items, key);
      return;
    }

  copy = g_new0 (GValue, 1);
  g_value_init (copy, G_VALUE_TYPE (value));
  g_value_copy (value, copy);
  g_hash_table_replace (self->items, g_strdup (key), copy);
}

/**
 * hubs_caller_context_get_feature:
 * @self: a caller context
 * @feature_type: the type of the feature
 *
 * Gets a feature of the connection by its type, as SignalR's
 * `Context.Features.Get<T>()`. The [class@Hubs.HttpContext] is always there;
 * applications may add their own.
 *
 * Returns: (transfer none) (nullable): the feature, or %NULL
 *
 * Since: 0.1
 */
GObject *
hubs_caller_context_get_feature (HubsCallerContext *self,
                                 GType              feature_type)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);

  return g_hash_table_lookup (self->features, GSIZE_TO_POINTER (feature_type));
}

/**
 * hubs_caller_context_set_feature:
 * @self: a caller context
 * @feature_type: the type under which to keep the feature
 * @feature: (nullable): the feature, or %NULL to remove it
 *
 * Sets a feature of the connection.
 *
 * Since: 0.1
 */
void
hubs_caller_context_set_feature (HubsCallerContext *self,
                                 GType              feature_type,
                                 GObject           *feature)
{
  g_return_if_fail (HUBS_IS_CALLER_CONTEXT (self));
  g_return_if_fail (feature == NULL || g_type_is_a (G_OBJECT_TYPE (feature), feature_type));

  if (feature == NULL)
    g_hash_table_remove (self->features, GSIZE_TO_POINTER (feature_type));
  else
    g_hash_table_replace (self->features, GSIZE_TO_POINTER (feature_type), g_object_ref (feature));
}

/**
 * hubs_caller_context_get_connection_aborted:
 * @self: a caller context
 *
 * Gets a cancellable that is cancelled when the connection ends, for
 * whatever reason.
 *
 * Returns: (transfer none): the cancellable
 *
 * Since: 0.1
 */
GCancellable *
hubs_caller_context_get_connection_aborted (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);
  return self->aborted;
}

/**
 * hubs_caller_context_get_http_context:
 * @self: a caller context
 *
 * Gets the HTTP request that opened the connection: the WebSocket upgrade,
 * the Server-Sent Events request or the first poll.
 *
 * Returns: (transfer none): the HTTP context
 *
 * Since: 0.1
 */
HubsHttpContext *
hubs_caller_context_get_http_context (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);
  return self->http_context;
}

/**
 * hubs_caller_context_get_transport:
 * @self: a caller context
 *
 * Gets the transport the connection uses.
 *
 * Returns: the transport
 *
 * Since: 0.1
 */
HubsTransportType
hubs_caller_context_get_transport (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), HUBS_TRANSPORT_NONE);
  return self->transport;
}

/**
 * hubs_caller_context_get_protocol:
 * @self: a caller context
 *
 * Gets the name of the hub protocol the connection speaks: `json` or
 * `messagepack`.
 *
 * Returns: (nullable): the protocol's name, %NULL before the handshake
 *
 * Since: 0.1
 */
const char *
hubs_caller_context_get_protocol (HubsCallerContext *self)
{
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (self), NULL);
  return self->protocol;
}

/**
 * hubs_caller_context_abort:
 * @self: a caller context
 *
 * Ends the connection from the server's side. The client receives a Close
 * message without error and without permission to reconnect, and
 * [vfunc@Hubs.Hub.on_disconnected] runs with no error.
 *
 * Since: 0.1
 */
void
hubs_caller_context_abort (HubsCallerContext *self)
{
  g_return_if_fail (HUBS_IS_CALLER_CONTEXT (self));

  if (self->connection != NULL)
    hubs_connection_context_abort (self->connection);
}
