/* hubs-client-invocation.c: a server's call of a client method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-client-private.h"

/**
 * HubsClientInvocation:
 *
 * A call of a client method by the server, as a handler registered with
 * [method@Hubs.Connection.on] receives it: the method's name, its arguments
 * and, when the server waits for an answer (SignalR's client results), the
 * means to give it.
 *
 * ```c
 * static gboolean
 * on_get_answer (HubsConnection       *connection,
 *                HubsClientInvocation *invocation,
 *                gpointer              user_data)
 * {
 *   const GValue *question = hubs_client_invocation_get_argument (invocation, 0);
 *   g_auto(GValue) answer = G_VALUE_INIT;
 *
 *   g_value_init (&answer, G_TYPE_INT);
 *   g_value_set_int (&answer, 42);
 *   hubs_client_invocation_return_value (invocation, &answer);
 *   return HUBS_INVOCATION_HANDLED;
 * }
 * ```
 *
 * An invocation can be answered once, from the handler or later from any
 * callback on the connection's main context; an answer given after the
 * connection was lost is dropped.
 *
 * When several handlers of the method run, the server receives one answer
 * once every handler that returned %HUBS_INVOCATION_HANDLED has given its
 * own, as the JavaScript client awaits each handler in turn: the last error
 * or value given, but `Client provided multiple results.` when two handlers
 * gave a value (with a warning, `Multiple results provided for '…'. Sending
 * error to server.`).
 *
 * Since: 0.1
 */

struct _HubsClientInvocation
{
  GObject parent_instance;

  HubsConnection *connection;
  guint transport_serial;
  char *method;
  char *invocation_id;
  GValue *arguments;
  guint n_arguments;
  gboolean completed;

  /* The handlers' answers, collected until the last one is in
   * (HubConnection.ts `_invokeClientMethod`). */
  gboolean dispatching;
  guint n_answers;
  guint n_outstanding;          /* handlers that will answer later */
  guint n_values;
  GValue value;
  char *error;
  gboolean answered;
};

G_DEFINE_FINAL_TYPE (HubsClientInvocation, hubs_client_invocation, G_TYPE_OBJECT)

static void
free_arguments (HubsClientInvocation *self)
{
  for (guint i = 0; i < self->n_arguments; i++)
    g_value_unset (&self->arguments[i]);
  g_clear_pointer (&self->arguments, g_free);
  self->n_arguments = 0;
}

static void
hubs_client_invocation_finalize (GObject *object)
{
  HubsClientInvocation *self = HUBS_CLIENT_INVOCATION (object);

  free_arguments (self);
  if (G_IS_VALUE (&self->value))
    g_value_unset (&self->value);
  g_free (self->error);
  g_clear_object (&self->connection);
  g_free (self->method);
  g_free (self->invocation_id);

  G_OBJECT_CLASS (hubs_client_invocation_parent_class)->finalize (object);
}

static void
hubs_client_invocation_class_init (HubsClientInvocationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_client_invocation_finalize;
}

static void
hubs_client_invocation_init (HubsClientInvocation *self)
{
}

HubsClientInvocation *
hubs_client_invocation_new (HubsConnection *connection,
                            guint           transport_serial,
                            const char     *method,
                            const char     *invocation_id)
{
  HubsClientInvocation *self = g_object_new (HUBS_TYPE_CLIENT_INVOCATION, NULL);

  self->connection = g_object_ref (connection);
  self->transport_serial = transport_serial;
  self->method = g_strdup (method);
  self->invocation_id = invocation_id != NULL && *invocation_id != '\0' ? g_strdup (invocation_id) : NULL;
  return self;
}

/* Takes the values; each handler sees the arguments bound to its own
 * declared types. */
void
hubs_client_invocation_set_arguments (HubsClientInvocation *self,
                                      GValue               *values,
                                      guint                 n_values)
{
  free_arguments (self);
  self->arguments = values;
  self->n_arguments = n_values;
}

gboolean
hubs_client_invocation_is_completed (HubsClientInvocation *self)
{
  return self->completed;
}

void
hubs_client_invocation_complete_unanswered (HubsClientInvocation *self,
                                            const char           *error)
{
  if (self->completed || self->invocation_id == NULL)
    return;
  self->completed = TRUE;
  hubs_connection_send_completion (self->connection, self->transport_serial, self->invocation_id, NULL, error);
}

/**
 * hubs_client_invocation_get_method_name:
 * @self: an invocation
 *
 * Gets the name of the client method, as the server sent it.
 *
 * Returns: (transfer none): the method's name
 *
 * Since: 0.1
 */
const char *
hubs_client_invocation_get_method_name (HubsClientInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_INVOCATION (self), NULL);

  return self->method;
}

/**
 * hubs_client_invocation_get_invocation_id:
 * @self: an invocation
 *
 * Gets the id of the invocation, which the server gives when it waits for a
 * result (`s1`, `s2`, … from ASP.NET Core and hubs-glib).
 *
 * Returns: (transfer none) (nullable): the id, or %NULL when the server
 *   expects no answer
 *
 * Since: 0.1
 */
const char *
hubs_client_invocation_get_invocation_id (HubsClientInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_INVOCATION (self), NULL);

  return self->invocation_id;
}

/**
 * hubs_client_invocation_expects_result:
 * @self: an invocation
 *
 * Whether the server waits for a result of this invocation.
 *
 * Returns: %TRUE if the server waits for a result
 *
 * Since: 0.1
 */
gboolean
hubs_client_invocation_expects_result (HubsClientInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_INVOCATION (self), FALSE);

  return self->invocation_id != NULL;
}

/**
 * hubs_client_invocation_get_n_arguments:
 * @self: an invocation
 *
 * Gets the number of arguments the handler receives.
 *
 * Returns: the number of arguments
 *
 * Since: 0.1
 */
guint
hubs_client_invocation_get_n_arguments (HubsClientInvocation *self)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_INVOCATION (self), 0);

  return self->n_arguments;
}

/**
 * hubs_client_invocation_get_argument:
 * @self: an invocation
 * @index: the argument's position, from 0
 *
 * Gets an argument, bound to the type the handler declared, or as a
 * `GVariant` holding the value in its natural form when it declared none
 * (see [method@Hubs.Connection.on]).
 *
 * Returns: (transfer none): the argument
 *
 * Since: 0.1
 */
const GValue *
hubs_client_invocation_get_argument (HubsClientInvocation *self,
                                     guint                 index)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_INVOCATION (self), NULL);
  g_return_val_if_fail (index < self->n_arguments, NULL);

  return &self->arguments[index];
}

/**
 * hubs_client_invocation_get_arguments:
 * @self: an invocation
 * @n_arguments: (out) (optional): the number of arguments
 *
 * Gets every argument (see [method@Hubs.ClientInvocation.get_argument]).
 *
 * Returns: (transfer none) (array length=n_arguments): the arguments
 *
 * Since: 0.1
 */
const GValue *
hubs_client_invocation_get_arguments (HubsClientInvocation *self,
                                      guint                *n_arguments)
{
  g_return_val_if_fail (HUBS_IS_CLIENT_INVOCATION (self), NULL);

  if (n_arguments != NULL)
    *n_arguments = self->n_arguments;
  return self->arguments;
}

/* Sends the answer the handlers gave, once all have. */
static void
send_answer (HubsClientInvocation *self)
{
  g_autofree char *method = NULL;

  if (self->completed || self->dispatching || self->n_outstanding > 0)
    return;
  self->completed = TRUE;
  if (self->n_values > 1)
    {
      method = g_utf8_strdown (self->method, -1);
      g_warning ("Multiple results provided for '%s'. Sending error to server.", method);
      hubs_connection_send_completion (self->connection, self->transport_serial, self->invocation_id,
                                       NULL, "Client provided multiple results.");
    }
  else if (self->error != NULL)
    hubs_connection_send_completion (self->connection, self->transport_serial, self->invocation_id,
                                     NULL, self->error);
  else if (self->answered)
    hubs_connection_send_completion (self->connection, self->transport_serial, self->invocation_id,
                                     &self->value, NULL);
  else
    hubs_connection_send_completion (self->connection, self->transport_serial, self->invocation_id,
                                     NULL, "Client didn't provide a result.");
}

/* Runs before the handlers are called. */
void
hubs_client_invocation_begin_dispatch (HubsClientInvocation *self)
{
  self->dispatching = TRUE;
}

/* A handler returned; @answers_before is what hubs_client_invocation_get_n_answers()
 * gave before it ran. One that handled the call without answering yet
 * answers later, and the server waits for it. */
void
hubs_client_invocation_handler_returned (HubsClientInvocation *self,
                                         gboolean              handled,
                                         guint                 answers_before)
{
  if (handled && self->n_answers == answers_before)
    self->n_outstanding++;
}

guint
hubs_client_invocation_get_n_answers (HubsClientInvocation *self)
{
  return self->n_answers;
}

/* Runs after the handlers: answers now unless one answers later. */
void
hubs_client_invocation_end_dispatch (HubsClientInvocation *self)
{
  self->dispatching = FALSE;
  if (self->invocation_id != NULL)
    send_answer (self);
}

static gboolean
check_completion (HubsClientInvocation *self)
{
  if (self->invocation_id == NULL)
    {
      g_debug ("A result was given for '%s' but the server is not expecting a result", self->method);
      return FALSE;
    }
  g_return_val_if_fail (!self->completed, FALSE);
  self->n_answers++;
  if (!self->dispatching && self->n_outstanding > 0)
    self->n_outstanding--;
  return TRUE;
}

/**
 * hubs_client_invocation_return_value:
 * @self: an invocation
 * @value: (nullable): the result, or %NULL for null
 *
 * Answers the server with a result, written by the connection's protocol
 * according to the value's type. Nothing is sent when the server expects no
 * result.
 *
 * Since: 0.1
 */
void
hubs_client_invocation_return_value (HubsClientInvocation *self,
                                     const GValue         *value)
{
  g_return_if_fail (HUBS_IS_CLIENT_INVOCATION (self));

  if (!check_completion (self))
    return;
  self->n_values++;
  self->answered = TRUE;
  g_clear_pointer (&self->error, g_free);
  if (G_IS_VALUE (&self->value))
    g_value_unset (&self->value);
  if (value != NULL)
    {
      g_value_init (&self->value, G_VALUE_TYPE (value));
      g_value_copy (value, &self->value);
    }
  send_answer (self);
}

/**
 * hubs_client_invocation_return_error_literal:
 * @self: an invocation
 * @message: the error's text, for the server
 *
 * Answers the server with an error; the server's caller receives @message
 * as a hub error (ASP.NET Core's `HubException`).
 *
 * Since: 0.1
 */
void
hubs_client_invocation_return_error_literal (HubsClientInvocation *self,
                                             const char           *message)
{
  g_return_if_fail (HUBS_IS_CLIENT_INVOCATION (self));
  g_return_if_fail (message != NULL);

  if (!check_completion (self))
    return;
  g_free (self->error);
  self->error = g_strdup (message);
  send_answer (self);
}

/**
 * hubs_client_invocation_return_gerror:
 * @self: an invocation
 * @error: the error
 *
 * Answers the server with @error's message, as
 * [method@Hubs.ClientInvocation.return_error_literal] does.
 *
 * Since: 0.1
 */
void
hubs_client_invocation_return_gerror (HubsClientInvocation *self,
                                      const GError         *error)
{
  g_return_if_fail (HUBS_IS_CLIENT_INVOCATION (self));
  g_return_if_fail (error != NULL);

  hubs_client_invocation_return_error_literal (self, error->message);
}
