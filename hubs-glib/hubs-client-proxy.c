/* hubs-client-proxy.c: sending to clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-clients-private.h"

#include "hubs-connection-context-private.h"

#include <gobject/gvaluecollector.h>

/**
 * HubsClientProxy:
 *
 * Some clients of a hub, as chosen by a [class@Hubs.HubClients] method; it
 * calls a method on each of them, SignalR's `SendAsync`.
 *
 * ```c
 * g_autoptr(HubsClientProxy) group = hubs_hub_clients_group (clients, "kitchen");
 *
 * hubs_client_proxy_send (group, "ReceiveMessage",
 *                         G_TYPE_STRING, user,
 *                         G_TYPE_STRING, text,
 *                         G_TYPE_INVALID);
 * ```
 *
 * The message is serialised once per protocol in use, whatever the number of
 * recipients. Sending never blocks: the message is queued on each
 * recipient's connection; a connection whose outgoing buffer is full is
 * closed rather than allowed to grow without bound.
 *
 * The proxy of a single client ([method@Hubs.HubClients.caller],
 * [method@Hubs.HubClients.client]) can also call a client method and wait
 * for its result, SignalR's `InvokeAsync`, with
 * [method@Hubs.ClientProxy.invoke_async].
 *
 * Since: 0.1
 */

struct _HubsClientProxy
{
  GObject parent_instance;

  HubsLifetimeManager *lifetime_manager;
  HubsTarget *target;
};

G_DEFINE_FINAL_TYPE (HubsClientProxy, hubs_client_proxy, G_TYPE_OBJECT)

static void
hubs_client_proxy_finalize (GObject *object)
{
  HubsClientProxy *self = HUBS_CLIENT_PROXY (object);

  g_clear_object (&self->lifetime_manager);
  g_clear_pointer (&self->target, hubs_target_free);

  G_OBJECT_CLASS (hubs_client_proxy_parent_class)->finalize (object);
}

static void
hubs_client_proxy_class_init (HubsClientProxyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_client_proxy_finalize;
}

static void
hubs_client_proxy_init (HubsClientProxy *self)
{
}

HubsClientProxy *
hubs_client_proxy_new (HubsLifetimeManager *lifetime_manager,
                       HubsTarget          *target)
{
  HubsClientProxy *self = g_object_new (HUBS_TYPE_CLIENT_PROXY, NULL);

  self->lifetime_manager = g_object_ref (lifetime_manager);
  self->target = target;

  return self;
}

static void
hubs_client_proxy_value_free (GValue *value)
{
  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

static HubsSerializedMessage *
invocation_message_new (const char   *method,
                        guint         n_args,
                        const GValue *args)
{
  g_autoptr(HubsHubMessage) message = hubs_hub_message_new_invocation (NULL, method, n_args, args);

  return hubs_serialized_message_new (message);
}

static void
send_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (hubs_lifetime_manager_send_finish (HUBS_LIFETIME_MANAGER (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * hubs_client_proxy_send_async:
 * @self: a client proxy
 * @method: the client method to call
 * @n_args: the number of arguments
 * @args: (array length=n_args): the arguments
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async) (closure user_data): called once the message has
 *   been handed to every recipient's transport
 * @user_data: data for @callback
 *
 * Calls @method on every client of the proxy, with the arguments written
 * according to their types (see `hubs_hub_class_add_method()`).
 *
 * Since: 0.1
 */
void
hubs_client_proxy_send_async (HubsClientProxy     *self,
                              const char          *method,
                              guint                n_args,
                              const GValue        *args,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(HubsSerializedMessage) message = NULL;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HUBS_IS_CLIENT_PROXY (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (n_args == 0 || args != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_client_proxy_send_async);
  g_task_set_name (task, "[hubs-glib] hubs_client_proxy_send_async");

  message = invocation_message_new (method, n_args, args);
  hubs_lifetime_manager_send_async (self->lifetime_manager, self->target, message, cancellable,
                                    send_done, g_steal_pointer (&task));
}

/**
 * hubs_client_proxy_send_finish:
 * @self: a client proxy
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Hubs.ClientProxy.send_async].
 *
 * Returns: %TRUE once the message was handed to every recipient
 *
 * Since: 0.1
 */
gboolean
hubs_client_proxy_send_finish (HubsClientProxy  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_PROXY (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * hubs_client_proxy_send_values:
 * @self: a client proxy
 * @method: the client method to call
 * @n_args: the number of arguments
 * @args: (array length=n_args): the arguments
 *
 * Calls @method on every client of the proxy without waiting: the
 * fire-and-forget form of [method@Hubs.ClientProxy.send_async].
 *
 * Since: 0.1
 */
void
hubs_client_proxy_send_values (HubsClientProxy *self,
                               const char      *method,
                               guint            n_args,
                               const GValue    *args)
{
  g_autoptr(HubsSerializedMessage) message = NULL;

  g_return_if_fail (HUBS_IS_CLIENT_PROXY (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (n_args == 0 || args != NULL);

  message = invocation_message_new (method, n_args, args);
  hubs_lifetime_manager_send_async (self->lifetime_manager, self->target, message, NULL, NULL, NULL);
}

/**
 * hubs_client_proxy_send: (skip)
 * @self: a client proxy
 * @method: the client method to call
 * @first_arg_type: the type of the first argument, or %G_TYPE_INVALID
 * @...: the first argument's value, then more type and value pairs, ending
 *   with %G_TYPE_INVALID
 *
 * Calls @method on every client of the proxy without waiting. Arguments
 * come as type and value pairs, as g_object_set() takes properties:
 *
 * ```c
 * hubs_client_proxy_send (proxy, "Message",
 *                         G_TYPE_STRING, "hello",
 *                         G_TYPE_INT, 42,
 *                         G_TYPE_INVALID);
 * ```
 *
 * Since: 0.1
 */
void
hubs_client_proxy_send (HubsClientProxy *self,
                        const char      *method,
                        GType            first_arg_type,
                        ...)
{
  g_autoptr(GArray) args = NULL;
  va_list ap;

  g_return_if_fail (HUBS_IS_CLIENT_PROXY (self));
  g_return_if_fail (method != NULL);

  args = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (args, (GDestroyNotify) g_value_unset);

  va_start (ap, first_arg_type);
  for (GType type = first_arg_type; type != G_TYPE_INVALID; type = va_arg (ap, GType))
    {
      g_autofree char *error = NULL;
      GValue *value;

      g_array_set_size (args, args->len + 1);
      value = &g_array_index (args, GValue, args->len - 1);
      G_VALUE_COLLECT_INIT (value, type, ap, 0, &error);
      if (error != NULL)
        {
          g_critical ("%s: %s", G_STRFUNC, error);
          va_end (ap);
          return;
        }
    }
  va_end (ap);

  hubs_client_proxy_send_values (self, method, args->len, (const GValue *) args->data);
}

static void
invoke_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HubsClientProxy *self = g_task_get_source_object (task);
  GError *error = NULL;
  GValue *value;

  value = hubs_lifetime_manager_invoke_finish (self->lifetime_manager, result, &error);
  if (value != NULL)
    g_task_return_pointer (task, value, (GDestroyNotify) hubs_client_proxy_value_free);
  else
    g_task_return_error (task, error);
}

/**
 * hubs_client_proxy_invoke_async:
 * @self: the proxy of a single client
 * @method: the client method's name
 * @n_args: the number of arguments
 * @args: (array length=n_args) (nullable): the arguments
 * @result_type: the type to bind the client's result to, or
 *   %G_TYPE_INVALID to take any value (as a `GVariant`)
 * @cancellable: (nullable): a cancellable, or %NULL
 * @callback: (scope async) (closure user_data): called with the client's
 *   result
 * @user_data: data for @callback
 *
 * Calls a method of the client and waits for its result: SignalR's client
 * results (`Clients.Client(id).InvokeAsync<T>`). Only the proxy of one
 * client can do this: [method@Hubs.HubClients.caller] or
 * [method@Hubs.HubClients.client], from a hub or from the
 * [class@Hubs.HubContext].
 *
 * The client receives an invocation with the id `s1`, `s2`, … and answers
 * it. While a hub method waits, its connection's invocation slot is lent
 * out, so this works with one invocation at a time
 * ([property@Hubs.HubOptions:maximum-parallel-invocations]).
 *
 * With a [class@Hubs.RedisBackplane], the client may be connected to
 * another server: the invocation goes through Redis with an id unique
 * across servers, and the answer comes back the same way. If that client
 * leaves before it answers, its server answers `Connection disconnected.`
 * (a %HUBS_HUB_ERROR, as ASP.NET Core's servers do).
 *
 * It fails with the client's error text as a %HUBS_HUB_ERROR (the
 * JavaScript client answers `Client didn't provide a result.` when it has
 * no handler), also a %HUBS_HUB_ERROR with `Error trying to deserialize
 * result to Int32. …` when the answer is not of @result_type (both reach
 * the hub's own caller even without detailed errors, as in ASP.NET Core), with %G_IO_ERROR_NOT_FOUND and `Connection '…' does not
 * exist.` for an unknown connection, with %G_IO_ERROR_CLOSED and
 * `Connection '…' disconnected.` when the connection ends first, and with
 * %HUBS_ERROR_FAILED when called from [vfunc@Hubs.Hub.on_connected] (which
 * ASP.NET Core refuses too).
 *
 * Since: 0.1
 */
void
hubs_client_proxy_invoke_async (HubsClientProxy     *self,
                                const char          *method,
                                guint                n_args,
                                const GValue        *args,
                                GType                result_type,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (HUBS_IS_CLIENT_PROXY (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (n_args == 0 || args != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hubs_client_proxy_invoke_async);
  g_task_set_name (task, "[hubs-glib] hubs_client_proxy_invoke_async");

  if (self->target->kind != HUBS_TARGET_CONNECTIONS ||
      self->target->names == NULL || g_strv_length (self->target->names) != 1)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               "Only the proxy of a single client can invoke a client method.");
      return;
    }

  /* The lifetime manager finds the connection, here or on another server. */
  hubs_lifetime_manager_invoke_async (self->lifetime_manager, self->target->names[0], method,
                                      n_args, args, result_type, cancellable,
                                      invoke_done, g_steal_pointer (&task));
}

/**
 * hubs_client_proxy_invoke_finish:
 * @self: the proxy of a single client
 * @result: the result given to the callback
 * @value: (out caller-allocates) (optional): an uninitialized #GValue for
 *   the client's result
 * @error: return location for an error
 *
 * Finishes [method@Hubs.ClientProxy.invoke_async].
 *
 * Returns: %TRUE with @value set to the client's result (of the requested
 *   type, or a `GVariant`), %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
hubs_client_proxy_invoke_finish (HubsClientProxy  *self,
                                 GAsyncResult     *result,
                                 GValue           *value,
                                 GError          **error)
{
  g_autofree GValue *result_value = NULL;

  g_return_val_if_fail (HUBS_IS_CLIENT_PROXY (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  result_value = g_task_propagate_pointer (G_TASK (result), error);
  if (result_value == NULL)
    return FALSE;

  if (value != NULL)
    *value = *result_value;
  else if (G_IS_VALUE (result_value))
    g_value_unset (result_value);
  return TRUE;
}
