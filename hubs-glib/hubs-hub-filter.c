/* hubs-hub-filter.c: code that runs around hub methods and events
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-filter-private.h"

#include "hubs-caller-context.h"
#include "hubs-error.h"
#include "hubs-hub.h"
#include "hubs-hub-context-private.h"

/**
 * HubsHubFilter:
 *
 * Code that runs around every invocation of a hub method and around
 * [vfunc@Hubs.Hub.on_connected] and [vfunc@Hubs.Hub.on_disconnected], as
 * SignalR's `IHubFilter`: logging, validation, argument rewriting, error
 * handling, for many methods at once.
 *
 * Filters are added to the server, for every hub
 * ([method@Hubs.Server.add_hub_filter]), or to the options of one hub
 * ([method@Hubs.HubOptions.add_hub_filter]). They run in that order: the
 * server's first, then the hub's, each in the order it was added, the first
 * outermost.
 *
 * [vfunc@Hubs.HubFilter.invoke_method] gets a [class@Hubs.HubInvocationContext]
 * and must complete it, now or later: by passing the call on
 * ([method@Hubs.HubInvocationContext.invoke_next]), by passing it on and
 * looking at the result ([method@Hubs.HubInvocationContext.invoke_next_async]),
 * or with its own result or error without calling the method
 * ([method@Hubs.HubInvocationContext.return_value],
 * [method@Hubs.HubInvocationContext.return_gerror]). An error reaches the
 * client as one the method would have returned: a %HUBS_HUB_ERROR with its
 * message, any other hidden unless detailed errors are on.
 *
 * ```c
 * static void
 * log_done (GObject      *source,
 *           GAsyncResult *result,
 *           gpointer      user_data)
 * {
 *   HubsHubInvocationContext *context = HUBS_HUB_INVOCATION_CONTEXT (source);
 *   g_auto(GValue) value = G_VALUE_INIT;
 *   g_autoptr(GError) error = NULL;
 *
 *   if (!hubs_hub_invocation_context_invoke_next_finish (context, result, &value, &error))
 *     {
 *       g_message ("%s failed: %s", hubs_hub_invocation_context_get_method_name (context), error->message);
 *       hubs_hub_invocation_context_return_gerror (context, error);
 *       return;
 *     }
 *   g_message ("%s done", hubs_hub_invocation_context_get_method_name (context));
 *   hubs_hub_invocation_context_return_value (context, &value);
 * }
 *
 * static void
 * log_filter_invoke_method (HubsHubFilter            *filter,
 *                           HubsHubInvocationContext *context)
 * {
 *   g_message ("Calling %s", hubs_hub_invocation_context_get_method_name (context));
 *   hubs_hub_invocation_context_invoke_next_async (context, log_done, NULL);
 * }
 * ```
 *
 * For a streaming method, the filter runs around the handler that starts the
 * stream, as ASP.NET Core's runs around the method that returns it: its
 * result is the [class@Hubs.StreamWriter], not each item. Authorization
 * ([class@Hubs.AuthorizationPolicy]) is checked before any filter runs.
 *
 * Since: 0.1
 */

G_DEFINE_INTERFACE (HubsHubFilter, hubs_hub_filter, G_TYPE_OBJECT)

static void
hubs_hub_filter_real_invoke_method (HubsHubFilter            *self,
                                    HubsHubInvocationContext *context)
{
  hubs_hub_invocation_context_invoke_next (context);
}

static gboolean
hubs_hub_filter_real_on_connected (HubsHubFilter           *self,
                                   HubsHubLifetimeContext  *context,
                                   GError                 **error)
{
  return hubs_hub_lifetime_context_next_connected (context, error);
}

static void
hubs_hub_filter_real_on_disconnected (HubsHubFilter          *self,
                                      HubsHubLifetimeContext *context,
                                      const GError           *error)
{
  hubs_hub_lifetime_context_next_disconnected (context);
}

static void
hubs_hub_filter_default_init (HubsHubFilterInterface *iface)
{
  iface->invoke_method = hubs_hub_filter_real_invoke_method;
  iface->on_connected = hubs_hub_filter_real_on_connected;
  iface->on_disconnected = hubs_hub_filter_real_on_disconnected;
}

/**
 * hubs_hub_filter_invoke_method:
 * @self: a hub filter
 * @context: the invocation
 *
 * Runs the filter around an invocation: see
 * [vfunc@Hubs.HubFilter.invoke_method].
 *
 * Since: 0.1
 */
void
hubs_hub_filter_invoke_method (HubsHubFilter            *self,
                               HubsHubInvocationContext *context)
{
  g_return_if_fail (HUBS_IS_HUB_FILTER (self));
  g_return_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (context));

  HUBS_HUB_FILTER_GET_IFACE (self)->invoke_method (self, context);
}

/**
 * hubs_hub_filter_on_connected:
 * @self: a hub filter
 * @context: the connection's hub and context
 * @error: return location for the reason to refuse the connection
 *
 * Runs the filter around [vfunc@Hubs.Hub.on_connected]. The default calls
 * [method@Hubs.HubLifetimeContext.next_connected]; a filter that returns
 * %FALSE without calling it refuses the connection without the hub's
 * handler running.
 *
 * Returns: %TRUE to accept the connection
 *
 * Since: 0.1
 */
gboolean
hubs_hub_filter_on_connected (HubsHubFilter           *self,
                              HubsHubLifetimeContext  *context,
                              GError                 **error)
{
  g_return_val_if_fail (HUBS_IS_HUB_FILTER (self), FALSE);
  g_return_val_if_fail (HUBS_IS_HUB_LIFETIME_CONTEXT (context), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return HUBS_HUB_FILTER_GET_IFACE (self)->on_connected (self, context, error);
}

/**
 * hubs_hub_filter_on_disconnected:
 * @self: a hub filter
 * @context: the connection's hub and context
 * @error: (nullable): why the connection ended, or %NULL after a clean stop
 *
 * Runs the filter around [vfunc@Hubs.Hub.on_disconnected]. The default
 * calls [method@Hubs.HubLifetimeContext.next_disconnected].
 *
 * Since: 0.1
 */
void
hubs_hub_filter_on_disconnected (HubsHubFilter          *self,
                                 HubsHubLifetimeContext *context,
                                 const GError           *error)
{
  g_return_if_fail (HUBS_IS_HUB_FILTER (self));
  g_return_if_fail (HUBS_IS_HUB_LIFETIME_CONTEXT (context));

  HUBS_HUB_FILTER_GET_IFACE (self)->on_disconnected (self, context, error);
}

/* What every level of one invocation shares. */
typedef struct
{
  grefcount ref;
  GPtrArray *filters;
  HubsHub *hub;
  char *method_name;
  gboolean streaming;
  GCancellable *cancellable;
  HubsFilterTerminalFunc terminal;
  gpointer terminal_data;
} Chain;

static Chain *
chain_ref (Chain *chain)
{
  g_ref_count_inc (&chain->ref);
  return chain;
}

static void
chain_unref (Chain *chain)
{
  if (!g_ref_count_dec (&chain->ref))
    return;

  g_ptr_array_unref (chain->filters);
  g_object_unref (chain->hub);
  g_free (chain->method_name);
  g_clear_object (&chain->cancellable);
  g_free (chain);
}

typedef void (*LevelDoneFunc) (HubsHubInvocationContext *context,
                               const GValue             *result,
                               const GError             *error,
                               gpointer                  user_data);

/**
 * HubsHubInvocationContext:
 *
 * One invocation of a hub method as a [iface@Hubs.HubFilter] sees it, like
 * SignalR's `HubInvocationContext`: the hub instance, the caller's context,
 * the method's name and its arguments, which the filter may change before
 * passing the call on.
 *
 * Each filter gets its own context; the next filter's starts with the
 * arguments as this one left them. The filter completes its context exactly
 * once, now or later from the server's main context. A context dropped
 * without being completed (a filter that forgot, or a Python filter that
 * raised) fails the invocation.
 *
 * Since: 0.1
 */
struct _HubsHubInvocationContext
{
  GObject parent_instance;

  Chain *chain;
  guint level;                  /* the filter it is given to; the
                                 * terminal's after the last one */
  GValue *args;
  guint n_args;
  gboolean completed;
  gboolean passed_on;
  LevelDoneFunc done;
  gpointer done_data;
};

G_DEFINE_FINAL_TYPE (HubsHubInvocationContext, hubs_hub_invocation_context, G_TYPE_OBJECT)

static void
complete (HubsHubInvocationContext *self,
          const GValue             *result,
          const GError             *error)
{
  static const GValue unset = G_VALUE_INIT;
  LevelDoneFunc done = g_steal_pointer (&self->done);

  self->completed = TRUE;
  if (done != NULL)
    done (self, error ? NULL : (result ? result : &unset), error, self->done_data);
}

static void
hubs_hub_invocation_context_dispose (GObject *object)
{
  HubsHubInvocationContext *self = HUBS_HUB_INVOCATION_CONTEXT (object);

  if (!self->completed)
    {
      g_autoptr(GError) error = NULL;

      error = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                           "A hub filter did not complete the invocation of ‘%s’.",
                           self->chain->method_name);
      g_message ("%s", error->message);
      complete (self, NULL, error);
    }

  G_OBJECT_CLASS (hubs_hub_invocation_context_parent_class)->dispose (object);
}

static void
hubs_hub_invocation_context_finalize (GObject *object)
{
  HubsHubInvocationContext *self = HUBS_HUB_INVOCATION_CONTEXT (object);

  for (guint i = 0; i < self->n_args; i++)
    if (G_IS_VALUE (&self->args[i]))
      g_value_unset (&self->args[i]);
  g_free (self->args);
  chain_unref (self->chain);

  G_OBJECT_CLASS (hubs_hub_invocation_context_parent_class)->finalize (object);
}

static void
hubs_hub_invocation_context_class_init (HubsHubInvocationContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_hub_invocation_context_dispose;
  object_class->finalize = hubs_hub_invocation_context_finalize;
}

static void
hubs_hub_invocation_context_init (HubsHubInvocationContext *self)
{
}

static HubsHubInvocationContext *
level_new (Chain         *chain,
           guint          level,
           const GValue  *args,
           guint          n_args,
           LevelDoneFunc  done,
           gpointer       done_data)
{
  HubsHubInvocationContext *self = g_object_new (HUBS_TYPE_HUB_INVOCATION_CONTEXT, NULL);

  self->chain = chain_ref (chain);
  self->level = level;
  self->n_args = n_args;
  self->args = g_new0 (GValue, n_args);
  for (guint i = 0; i < n_args; i++)
    if (G_IS_VALUE (&args[i]))
      {
        g_value_init (&self->args[i], G_VALUE_TYPE (&args[i]));
        g_value_copy (&args[i], &self->args[i]);
      }
  self->done = done;
  self->done_data = done_data;

  return self;
}

/* Hands @self to its filter, or to the method after the last filter. The
 * caller's reference is all that keeps it unless the filter takes one. */
static void
level_run (HubsHubInvocationContext *self)
{
  Chain *chain = self->chain;

  if (self->level < chain->filters->len)
    hubs_hub_filter_invoke_method (chain->filters->pdata[self->level], self);
  else
    chain->terminal (self, chain->terminal_data);
}

typedef struct
{
  HubsFilterDoneFunc done;
  gpointer done_data;
} Outermost;

static void
outermost_done (HubsHubInvocationContext *context,
                const GValue             *result,
                const GError             *error,
                gpointer                  user_data)
{
  Outermost *outermost = user_data;

  outermost->done (result, error, outermost->done_data);
  g_free (outermost);
}

void
hubs_hub_filters_invoke (GPtrArray              *filters,
                         HubsHub                *hub,
                         const char             *method_name,
                         gboolean                streaming,
                         GCancellable           *cancellable,
                         const GValue           *args,
                         guint                   n_args,
                         HubsFilterTerminalFunc  terminal,
                         gpointer                terminal_data,
                         HubsFilterDoneFunc      done,
                         gpointer                done_data)
{
  g_autoptr(HubsHubInvocationContext) context = NULL;
  Outermost *outermost;
  Chain *chain;

  chain = g_new0 (Chain, 1);
  g_ref_count_init (&chain->ref);
  chain->filters = g_ptr_array_ref (filters);
  chain->hub = g_object_ref (hub);
  chain->method_name = g_strdup (method_name);
  chain->streaming = streaming;
  chain->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  chain->terminal = terminal;
  chain->terminal_data = terminal_data;

  outermost = g_new0 (Outermost, 1);
  outermost->done = done;
  outermost->done_data = done_data;

  context = level_new (chain, 0, args, n_args, outermost_done, outermost);
  chain_unref (chain);
  level_run (context);
}

const GValue *
hubs_hub_invocation_context_peek_arguments (HubsHubInvocationContext *self,
                                            guint                    *n_args)
{
  *n_args = self->n_args;
  return self->args;
}

/**
 * hubs_hub_invocation_context_get_hub:
 * @self: an invocation context
 *
 * Gets the hub instance made for this invocation.
 *
 * Returns: (transfer none): the hub
 *
 * Since: 0.1
 */
HubsHub *
hubs_hub_invocation_context_get_hub (HubsHubInvocationContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), NULL);
  return self->chain->hub;
}

/**
 * hubs_hub_invocation_context_get_context:
 * @self: an invocation context
 *
 * Gets the caller's context: its connection id, user, items and request.
 *
 * Returns: (transfer none): the caller's context
 *
 * Since: 0.1
 */
HubsCallerContext *
hubs_hub_invocation_context_get_context (HubsHubInvocationContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), NULL);
  return hubs_hub_get_context (self->chain->hub);
}

/**
 * hubs_hub_invocation_context_get_method_name:
 * @self: an invocation context
 *
 * Gets the wire name of the method called, as declared (`SendMessage`).
 *
 * Returns: the method's name
 *
 * Since: 0.1
 */
const char *
hubs_hub_invocation_context_get_method_name (HubsHubInvocationContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), NULL);
  return self->chain->method_name;
}

/**
 * hubs_hub_invocation_context_is_streaming:
 * @self: an invocation context
 *
 * Gets whether the method is a streaming method, whose result is its
 * [class@Hubs.StreamWriter].
 *
 * Returns: %TRUE for a streaming method
 *
 * Since: 0.1
 */
gboolean
hubs_hub_invocation_context_is_streaming (HubsHubInvocationContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), FALSE);
  return self->chain->streaming;
}

/**
 * hubs_hub_invocation_context_get_cancellable:
 * @self: an invocation context
 *
 * Gets the cancellable that fires when the connection ends (or, for a
 * stream, when the client cancels it).
 *
 * Returns: (transfer none): the cancellable
 *
 * Since: 0.1
 */
GCancellable *
hubs_hub_invocation_context_get_cancellable (HubsHubInvocationContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), NULL);
  return self->chain->cancellable;
}

/**
 * hubs_hub_invocation_context_get_n_arguments:
 * @self: an invocation context
 *
 * Gets the number of the method's parameters: its arguments and upload
 * streams ([class@Hubs.StreamReader]), in the method's order.
 *
 * Returns: the number of arguments
 *
 * Since: 0.1
 */
guint
hubs_hub_invocation_context_get_n_arguments (HubsHubInvocationContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), 0);
  return self->n_args;
}

/**
 * hubs_hub_invocation_context_get_argument:
 * @self: an invocation context
 * @index: the index of a parameter, from 0
 *
 * Gets an argument, bound to the parameter's declared type.
 *
 * Returns: (transfer none): the argument
 *
 * Since: 0.1
 */
const GValue *
hubs_hub_invocation_context_get_argument (HubsHubInvocationContext *self,
                                          guint                     index)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), NULL);
  g_return_val_if_fail (index < self->n_args, NULL);

  return &self->args[index];
}

/**
 * hubs_hub_invocation_context_set_argument:
 * @self: an invocation context
 * @index: the index of a parameter, from 0
 * @value: the new argument, of the parameter's type or one that transforms
 *   to it
 *
 * Replaces an argument before the call is passed on: the next filters and
 * the method see @value.
 *
 * Since: 0.1
 */
void
hubs_hub_invocation_context_set_argument (HubsHubInvocationContext *self,
                                          guint                     index,
                                          const GValue             *value)
{
  GType type;

  g_return_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self));
  g_return_if_fail (index < self->n_args);
  g_return_if_fail (G_IS_VALUE (value));
  g_return_if_fail (!self->passed_on && !self->completed);

  type = G_VALUE_TYPE (&self->args[index]);
  if (g_value_type_compatible (G_VALUE_TYPE (value), type))
    {
      g_value_reset (&self->args[index]);
      g_value_copy (value, &self->args[index]);
    }
  else if (!g_value_transform (value, &self->args[index]))
    g_critical ("Cannot set argument %u of ‘%s’, a %s, to a %s", index,
                self->chain->method_name, g_type_name (type), G_VALUE_TYPE_NAME (value));
}

/**
 * hubs_hub_invocation_context_is_completed:
 * @self: an invocation context
 *
 * Gets whether the context has been completed, by this filter or by the
 * call it passed on.
 *
 * Returns: %TRUE once completed
 *
 * Since: 0.1
 */
gboolean
hubs_hub_invocation_context_is_completed (HubsHubInvocationContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), FALSE);
  return self->completed;
}

static void
pass_through_done (HubsHubInvocationContext *next,
                   const GValue             *result,
                   const GError             *error,
                   gpointer                  user_data)
{
  HubsHubInvocationContext *self = user_data;

  if (!self->completed)
    complete (self, result, error);
  g_object_unref (self);
}

static void
next_run (HubsHubInvocationContext *self,
          LevelDoneFunc             done,
          gpointer                  done_data)
{
  g_autoptr(HubsHubInvocationContext) next = NULL;

  self->passed_on = TRUE;
  next = level_new (self->chain, self->level + 1, self->args, self->n_args, done, done_data);
  level_run (next);
}

/**
 * hubs_hub_invocation_context_invoke_next:
 * @self: an invocation context
 *
 * Passes the call on, to the next filter or to the method, with the
 * arguments as they are now; its result or error completes @self when it
 * comes. This is what a filter that only acts before the call ends with.
 *
 * Since: 0.1
 */
void
hubs_hub_invocation_context_invoke_next (HubsHubInvocationContext *self)
{
  g_return_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self));
  g_return_if_fail (!self->passed_on && !self->completed);

  next_run (self, pass_through_done, g_object_ref (self));
}

static void
value_free (gpointer data)
{
  GValue *value = data;

  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

static void
async_done (HubsHubInvocationContext *next,
            const GValue             *result,
            const GError             *error,
            gpointer                  user_data)
{
  g_autoptr(GTask) task = user_data;

  if (error != NULL)
    g_task_return_error (task, g_error_copy (error));
  else
    {
      GValue *copy = g_new0 (GValue, 1);

      if (G_IS_VALUE (result))
        {
          g_value_init (copy, G_VALUE_TYPE (result));
          g_value_copy (result, copy);
        }
      g_task_return_pointer (task, copy, value_free);
    }
}

/**
 * hubs_hub_invocation_context_invoke_next_async:
 * @self: an invocation context
 * @callback: (scope async) (closure user_data): called with the result
 * @user_data: data for @callback
 *
 * Passes the call on, to the next filter or to the method, with the
 * arguments as they are now, and calls @callback with its result or error,
 * which [method@Hubs.HubInvocationContext.invoke_next_finish] gets. The
 * filter then completes @self: with that result, another, or an error.
 *
 * Since: 0.1
 */
void
hubs_hub_invocation_context_invoke_next_async (HubsHubInvocationContext *self,
                                               GAsyncReadyCallback       callback,
                                               gpointer                  user_data)
{
  GTask *task;

  g_return_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self));
  g_return_if_fail (!self->passed_on && !self->completed);

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, hubs_hub_invocation_context_invoke_next_async);
  g_task_set_name (task, "[hubs] hub filter next");
  next_run (self, async_done, task);
}

/**
 * hubs_hub_invocation_context_invoke_next_finish:
 * @self: an invocation context
 * @result: the result given to the callback
 * @value: (out caller-allocates) (optional): an uninitialized #GValue for
 *   the result; it stays uninitialized for a method without a result
 * @error: return location for the error of the call
 *
 * Finishes [method@Hubs.HubInvocationContext.invoke_next_async].
 *
 * Returns: %TRUE with @value set, %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
hubs_hub_invocation_context_invoke_next_finish (HubsHubInvocationContext  *self,
                                                GAsyncResult              *result,
                                                GValue                    *value,
                                                GError                   **error)
{
  GValue *copy;

  g_return_val_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  copy = g_task_propagate_pointer (G_TASK (result), error);
  if (copy == NULL)
    return FALSE;

  if (value != NULL && G_IS_VALUE (copy))
    {
      g_value_init (value, G_VALUE_TYPE (copy));
      g_value_copy (copy, value);
    }
  value_free (copy);
  return TRUE;
}

/**
 * hubs_hub_invocation_context_return_value:
 * @self: an invocation context
 * @value: (nullable): the result, or %NULL (or an unset value) for none
 *
 * Completes the invocation with a result: the one the next filter or the
 * method gave, or another. Without calling
 * [method@Hubs.HubInvocationContext.invoke_next] first, the method does
 * not run.
 *
 * Since: 0.1
 */
void
hubs_hub_invocation_context_return_value (HubsHubInvocationContext *self,
                                          const GValue             *value)
{
  g_return_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self));
  g_return_if_fail (!self->completed);

  complete (self, value, NULL);
}

/**
 * hubs_hub_invocation_context_return_gerror:
 * @self: an invocation context
 * @error: the error
 *
 * Completes the invocation with an error. The client gets
 * `An unexpected error occurred invoking 'Name' on the server.`, followed
 * by the error's message when it is a %HUBS_HUB_ERROR or detailed errors
 * are on; the connection stays open.
 *
 * Since: 0.1
 */
void
hubs_hub_invocation_context_return_gerror (HubsHubInvocationContext *self,
                                           const GError             *error)
{
  g_return_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self));
  g_return_if_fail (error != NULL);
  g_return_if_fail (!self->completed);

  complete (self, NULL, error);
}

/**
 * hubs_hub_invocation_context_return_error_literal:
 * @self: an invocation context
 * @domain: the error domain, %HUBS_HUB_ERROR for one the client may read
 * @code: the error code
 * @message: the error message
 *
 * Completes the invocation with a new error. See
 * [method@Hubs.HubInvocationContext.return_gerror].
 *
 * Since: 0.1
 */
void
hubs_hub_invocation_context_return_error_literal (HubsHubInvocationContext *self,
                                                  GQuark                    domain,
                                                  gint                      code,
                                                  const char               *message)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (HUBS_IS_HUB_INVOCATION_CONTEXT (self));
  g_return_if_fail (message != NULL);

  error = g_error_new_literal (domain, code, message);
  hubs_hub_invocation_context_return_gerror (self, error);
}

/**
 * HubsHubLifetimeContext:
 *
 * A connection's connect or disconnect event as a [iface@Hubs.HubFilter]
 * sees it, like SignalR's `HubLifetimeContext`: the hub instance made for
 * the event and the caller's context. The filter passes the event on with
 * [method@Hubs.HubLifetimeContext.next_connected] or
 * [method@Hubs.HubLifetimeContext.next_disconnected].
 *
 * Since: 0.1
 */
struct _HubsHubLifetimeContext
{
  GObject parent_instance;

  GPtrArray *filters;
  HubsHub *hub;
  GError *error;                /* why the connection ended */
  guint next;                   /* the filter the event is passed to */
};

G_DEFINE_FINAL_TYPE (HubsHubLifetimeContext, hubs_hub_lifetime_context, G_TYPE_OBJECT)

static void
hubs_hub_lifetime_context_finalize (GObject *object)
{
  HubsHubLifetimeContext *self = HUBS_HUB_LIFETIME_CONTEXT (object);

  g_ptr_array_unref (self->filters);
  g_object_unref (self->hub);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (hubs_hub_lifetime_context_parent_class)->finalize (object);
}

static void
hubs_hub_lifetime_context_class_init (HubsHubLifetimeContextClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_hub_lifetime_context_finalize;
}

static void
hubs_hub_lifetime_context_init (HubsHubLifetimeContext *self)
{
}

/**
 * hubs_hub_lifetime_context_get_hub:
 * @self: a lifetime context
 *
 * Gets the hub instance made for the event.
 *
 * Returns: (transfer none): the hub
 *
 * Since: 0.1
 */
HubsHub *
hubs_hub_lifetime_context_get_hub (HubsHubLifetimeContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_LIFETIME_CONTEXT (self), NULL);
  return self->hub;
}

/**
 * hubs_hub_lifetime_context_get_context:
 * @self: a lifetime context
 *
 * Gets the context of the connection.
 *
 * Returns: (transfer none): the caller's context
 *
 * Since: 0.1
 */
HubsCallerContext *
hubs_hub_lifetime_context_get_context (HubsHubLifetimeContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_LIFETIME_CONTEXT (self), NULL);
  return hubs_hub_get_context (self->hub);
}

/**
 * hubs_hub_lifetime_context_next_connected:
 * @self: a lifetime context
 * @error: return location for the reason the connection is refused
 *
 * Passes the connect event on: to the next filter's
 * [vfunc@Hubs.HubFilter.on_connected], or to the hub's
 * [vfunc@Hubs.Hub.on_connected] after the last filter.
 *
 * Returns: what the rest of the chain answered: %TRUE to accept
 *
 * Since: 0.1
 */
gboolean
hubs_hub_lifetime_context_next_connected (HubsHubLifetimeContext  *self,
                                          GError                 **error)
{
  guint position;
  gboolean accepted;

  g_return_val_if_fail (HUBS_IS_HUB_LIFETIME_CONTEXT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  position = self->next;
  if (position >= self->filters->len)
    return HUBS_HUB_GET_CLASS (self->hub)->on_connected (self->hub, error);

  self->next = position + 1;
  accepted = hubs_hub_filter_on_connected (self->filters->pdata[position], self, error);
  self->next = position;

  return accepted;
}

/**
 * hubs_hub_lifetime_context_get_error:
 * @self: a lifetime context
 *
 * Gets why the connection ended, for a disconnect event.
 *
 * Returns: (nullable) (transfer none): the error, or %NULL after a clean
 *   stop and for a connect event
 *
 * Since: 0.1
 */
const GError *
hubs_hub_lifetime_context_get_error (HubsHubLifetimeContext *self)
{
  g_return_val_if_fail (HUBS_IS_HUB_LIFETIME_CONTEXT (self), NULL);
  return self->error;
}

/**
 * hubs_hub_lifetime_context_next_disconnected:
 * @self: a lifetime context
 *
 * Passes the disconnect event on, with its error
 * ([method@Hubs.HubLifetimeContext.get_error]): to the next filter's
 * [vfunc@Hubs.HubFilter.on_disconnected], or to the hub's
 * [vfunc@Hubs.Hub.on_disconnected] after the last filter.
 *
 * Since: 0.1
 */
void
hubs_hub_lifetime_context_next_disconnected (HubsHubLifetimeContext *self)
{
  guint position;

  g_return_if_fail (HUBS_IS_HUB_LIFETIME_CONTEXT (self));

  position = self->next;
  if (position >= self->filters->len)
    {
      HUBS_HUB_GET_CLASS (self->hub)->on_disconnected (self->hub, self->error);
      return;
    }

  self->next = position + 1;
  hubs_hub_filter_on_disconnected (self->filters->pdata[position], self, self->error);
  self->next = position;
}

GPtrArray *
hubs_hub_filters_collect (HubsConnectionContext *connection)
{
  HubsHubContext *hub_context = hubs_connection_context_get_hub_context (connection);
  HubsServer *server = hubs_hub_context_get_server (hub_context);
  GPtrArray *global = server ? hubs_server_get_hub_filters (server) : NULL;
  GPtrArray *own = hubs_hub_context_get_filters (hub_context);
  GPtrArray *filters;

  if ((global == NULL || global->len == 0) && (own == NULL || own->len == 0))
    return NULL;

  filters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; global != NULL && i < global->len; i++)
    g_ptr_array_add (filters, g_object_ref (global->pdata[i]));
  for (guint i = 0; own != NULL && i < own->len; i++)
    g_ptr_array_add (filters, g_object_ref (own->pdata[i]));

  return filters;
}

static HubsHubLifetimeContext *
lifetime_context_new (GPtrArray    *filters,
                      HubsHub      *hub,
                      const GError *error)
{
  HubsHubLifetimeContext *self = g_object_new (HUBS_TYPE_HUB_LIFETIME_CONTEXT, NULL);

  self->filters = g_ptr_array_ref (filters);
  self->hub = g_object_ref (hub);
  self->error = error ? g_error_copy (error) : NULL;

  return self;
}

gboolean
hubs_hub_filters_run_on_connected (HubsConnectionContext  *connection,
                                   HubsHub                *hub,
                                   GError                **error)
{
  g_autoptr(GPtrArray) filters = hubs_hub_filters_collect (connection);
  g_autoptr(HubsHubLifetimeContext) context = NULL;

  if (filters == NULL)
    return HUBS_HUB_GET_CLASS (hub)->on_connected (hub, error);

  context = lifetime_context_new (filters, hub, NULL);
  return hubs_hub_lifetime_context_next_connected (context, error);
}

void
hubs_hub_filters_run_on_disconnected (HubsConnectionContext *connection,
                                      HubsHub               *hub,
                                      const GError          *error)
{
  g_autoptr(GPtrArray) filters = hubs_hub_filters_collect (connection);
  g_autoptr(HubsHubLifetimeContext) context = NULL;

  if (filters == NULL)
    {
      HUBS_HUB_GET_CLASS (hub)->on_disconnected (hub, error);
      return;
    }

  context = lifetime_context_new (filters, hub, error);
  hubs_hub_lifetime_context_next_disconnected (context);
}
