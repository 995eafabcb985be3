/* hubs-invocation.c: one call of a hub method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-invocation-private.h"

#include "hubs-error.h"
#include "hubs-hub.h"

/**
 * HubsInvocation:
 *
 * One call of a hub method by a client, modelled on `GDBusMethodInvocation`.
 *
 * The method's handler receives it first and completes it exactly once, at
 * once or later from any callback on the server's main context:
 * [method@Hubs.Invocation.return_value] and its typed variants send a
 * result, [method@Hubs.Invocation.return_error] and its variants an error.
 * An error in the [error@Hubs.HubError] domain reaches the client with its
 * message, as SignalR's `HubException` does; any other error is hidden
 * behind a generic message unless detailed errors are on.
 *
 * Unlike GDBus, the `return_*` calls do not consume the invocation: the
 * server holds its own reference until it completes, and a handler that
 * completes later keeps one with g_object_ref().
 *
 * Since: 0.1
 */

struct _HubsInvocation
{
  GObject parent_instance;

  HubsHub *hub;
  char *method_name;
  char *invocation_id;
  GType return_type;
  GCancellable *cancellable;
  HubsInvocationCompleteFunc complete;
  gpointer complete_data;
  gboolean completed;
};

G_DEFINE_FINAL_TYPE (HubsInvocation, hubs_invocation, G_TYPE_OBJECT)

static void
hubs_invocation_finalize (GObject *object)
{
  HubsInvocation *self = HUBS_INVOCATION (object);

  if (!self->completed)
    g_warning ("Hub method ‘%s’ was never completed; its client waits for ever",
               self->method_name);

  g_clear_object (&self->hub);
  g_clear_object (&self->cancellable);
  g_free (self->method_name);
  g_free (self->invocation_id);

  G_OBJECT_CLASS (hubs_invocation_parent_class)->finalize (object);
}

static void
hubs_invocation_class_init (HubsInvocationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_invocation_finalize;
}

static void
hubs_invocation_init (HubsInvocation *self)
{
}

HubsInvocation *
hubs_invocation_new (HubsHub                    *hub,
                     const HubsMethodInfo       *method,
                     const char                 *invocation_id,
                     GCancellable               *cancellable,
                     HubsInvocationCompleteFunc  complete,
                     gpointer                    user_data)
{
  HubsInvocation *self = g_object_new (HUBS_TYPE_INVOCATION, NULL);

  self->hub = g_object_ref (hub);
  self->method_name = g_strdup (method->wire_name);
  self->return_type = method->return_type;
  self->invocation_id = g_strdup (invocation_id);
  self->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  self->complete = complete;
  self->complete_data = user_data;

  return self;
}

/**
 * hubs_invocation_get_method_name:
 * @self: an invocation
 *
 * Gets the wire name of the invoked method.
 *
 * Returns: the method's wire name
 *
 * Since: 0.1
 */
const char *
hubs_invocation_get_method_name (HubsInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_INVOCATION (self), NULL);
  return self->method_name;
}

/**
 * hubs_invocation_get_invocation_id:
 * @self: an invocation
 *
 * Gets the id the client gave the invocation. A client that does not wait
 * for a result (a non-blocking `send`) gives none, and nothing it returns
 * reaches the client, not even an error.
 *
 * Returns: (nullable): the invocation id
 *
 * Since: 0.1
 */
const char *
hubs_invocation_get_invocation_id (HubsInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_INVOCATION (self), NULL);
  return self->invocation_id;
}

/**
 * hubs_invocation_get_hub:
 * @self: an invocation
 *
 * Gets the hub instance made for this invocation.
 *
 * Returns: (transfer none): the hub
 *
 * Since: 0.1
 */
HubsHub *
hubs_invocation_get_hub (HubsInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_INVOCATION (self), NULL);
  return self->hub;
}

/**
 * hubs_invocation_get_context:
 * @self: an invocation
 *
 * Gets the caller's context, as [method@Hubs.Hub.get_context] does.
 *
 * Returns: (transfer none): the caller's context
 *
 * Since: 0.1
 */
HubsCallerContext *
hubs_invocation_get_context (HubsInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_INVOCATION (self), NULL);
  return hubs_hub_get_context (self->hub);
}

/**
 * hubs_invocation_get_cancellable:
 * @self: an invocation
 *
 * Gets a cancellable that is cancelled when the caller's connection ends:
 * work done for an invocation that completes later can stop then.
 *
 * Returns: (transfer none): the cancellable
 *
 * Since: 0.1
 */
GCancellable *
hubs_invocation_get_cancellable (HubsInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_INVOCATION (self), NULL);
  return self->cancellable;
}

/**
 * hubs_invocation_is_completed:
 * @self: an invocation
 *
 * Whether a result or an error has been returned already.
 *
 * Returns: %TRUE once completed
 *
 * Since: 0.1
 */
gboolean
hubs_invocation_is_completed (HubsInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_INVOCATION (self), FALSE);
  return self->completed;
}

static void
complete (HubsInvocation *self,
          const GValue   *result,
          const GError   *error)
{
  g_autoptr(HubsInvocation) keep = g_object_ref (self);
  static const GValue unset = G_VALUE_INIT;

  self->completed = TRUE;
  if (self->complete != NULL)
    self->complete (self, error ? NULL : (result ? result : &unset), error, self->complete_data);
  self->complete = NULL;
}

/**
 * hubs_invocation_return_value:
 * @self: an invocation
 * @value: (nullable): the result, or %NULL for none (`null` on the wire)
 *
 * Completes the invocation with a result, written according to its type:
 * see `hubs_hub_class_add_method()` for how each type is written.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_value (HubsInvocation *self,
                              const GValue   *value)
{
  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (!self->completed);

  if (value != NULL && G_IS_VALUE (value) &&
      self->return_type != G_TYPE_INVALID && self->return_type != G_TYPE_NONE &&
      !g_value_type_compatible (G_VALUE_TYPE (value), self->return_type))
    g_warning ("Hub method ‘%s’ returned a %s where it declared %s",
               self->method_name, G_VALUE_TYPE_NAME (value), g_type_name (self->return_type));

  complete (self, value, NULL);
}

/**
 * hubs_invocation_return_void:
 * @self: an invocation
 *
 * Completes the invocation of a method that returns nothing. The client
 * receives a `null` result, as from ASP.NET Core.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_void (HubsInvocation *self)
{
  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (!self->completed);

  complete (self, NULL, NULL);
}

/**
 * hubs_invocation_return_string:
 * @self: an invocation
 * @value: (nullable): the result
 *
 * Completes the invocation with a string, or `null`.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_string (HubsInvocation *self,
                               const char     *value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (!self->completed);

  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, value);
  complete (self, &v, NULL);
}

/**
 * hubs_invocation_return_int:
 * @self: an invocation
 * @value: the result
 *
 * Completes the invocation with an integer.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_int (HubsInvocation *self,
                            gint64          value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (!self->completed);

  g_value_init (&v, G_TYPE_INT64);
  g_value_set_int64 (&v, value);
  complete (self, &v, NULL);
}

/**
 * hubs_invocation_return_boolean:
 * @self: an invocation
 * @value: the result
 *
 * Completes the invocation with a boolean.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_boolean (HubsInvocation *self,
                                gboolean        value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (!self->completed);

  g_value_init (&v, G_TYPE_BOOLEAN);
  g_value_set_boolean (&v, value);
  complete (self, &v, NULL);
}

/**
 * hubs_invocation_return_double:
 * @self: an invocation
 * @value: the result
 *
 * Completes the invocation with a floating-point number.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_double (HubsInvocation *self,
                               double          value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (!self->completed);

  g_value_init (&v, G_TYPE_DOUBLE);
  g_value_set_double (&v, value);
  complete (self, &v, NULL);
}

/**
 * hubs_invocation_return_variant:
 * @self: an invocation
 * @value: (nullable): the result
 *
 * Completes the invocation with any value held in a #GVariant: dictionaries
 * (`a{sv}`) are written as objects, other arrays and tuples as arrays,
 * `ay` as a base64 string, nothing (`mv`) and %NULL as `null`. If @value is
 * floating, it is consumed.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_variant (HubsInvocation *self,
                                GVariant       *value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (!self->completed);

  g_value_init (&v, G_TYPE_VARIANT);
  if (value != NULL)
    g_value_take_variant (&v, g_variant_ref_sink (value));
  complete (self, &v, NULL);
}

/**
 * hubs_invocation_return_gerror:
 * @self: an invocation
 * @error: the error
 *
 * Completes the invocation with an error. The client sees its message when
 * it is in the [error@Hubs.HubError] domain or when detailed errors are on,
 * and SignalR's generic message otherwise.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_gerror (HubsInvocation *self,
                               const GError   *error)
{
  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (error != NULL);
  g_return_if_fail (!self->completed);

  complete (self, NULL, error);
}

/**
 * hubs_invocation_take_error: (skip)
 * @self: an invocation
 * @error: (transfer full): the error
 *
 * Like [method@Hubs.Invocation.return_gerror], and frees @error.
 *
 * Since: 0.1
 */
void
hubs_invocation_take_error (HubsInvocation *self,
                            GError         *error)
{
  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (error != NULL);

  hubs_invocation_return_gerror (self, error);
  g_error_free (error);
}

/**
 * hubs_invocation_return_error_literal:
 * @self: an invocation
 * @domain: an error domain
 * @code: an error code
 * @message: the error message
 *
 * Completes the invocation with an error, as
 * [method@Hubs.Invocation.return_gerror] does.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_error_literal (HubsInvocation *self,
                                      GQuark          domain,
                                      gint            code,
                                      const char     *message)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (message != NULL);

  error = g_error_new_literal (domain, code, message);
  hubs_invocation_return_gerror (self, error);
}

/**
 * hubs_invocation_return_error: (skip)
 * @self: an invocation
 * @domain: an error domain
 * @code: an error code
 * @format: printf()-style format of the message
 * @...: its arguments
 *
 * Completes the invocation with an error, as
 * [method@Hubs.Invocation.return_gerror] does.
 *
 * Since: 0.1
 */
void
hubs_invocation_return_error (HubsInvocation *self,
                              GQuark          domain,
                              gint            code,
                              const char     *format,
                              ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  g_return_if_fail (HUBS_IS_INVOCATION (self));
  g_return_if_fail (format != NULL);

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);

  hubs_invocation_return_gerror (self, error);
}
