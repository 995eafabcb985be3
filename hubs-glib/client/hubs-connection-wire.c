/* hubs-connection-wire.c: a connection's start attempt and what it receives
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The start attempt negotiates (following redirects), connects the
 * transports the server offers in its order, a failed one followed by the
 * next after a new negotiate (HttpConnection.js `_createTransport`), and
 * performs the handshake. What arrives after it is dispatched as the
 * JavaScript client does (HubConnection.js `_processIncomingData`).
 */

#include "hubs-connection-private.h"

#include <string.h>
#include <json-glib/json-glib.h>

static void attempt_next_transport (HubsConnection *self, GTask *task);

static void
attempt_free (gpointer data)
{
  Attempt *attempt = data;

  g_free (attempt->url);
  g_free (attempt->access_token);
  g_free (attempt->connect_url);
  g_clear_pointer (&attempt->negotiation, hubs_negotiation_free);
  g_clear_pointer (&attempt->offered, g_ptr_array_unref);
  if (attempt->transport_errors != NULL)
    g_string_free (attempt->transport_errors, TRUE);
  if (attempt->transport != NULL)
    {
      hubs_client_transport_set_handlers (attempt->transport, NULL, NULL, NULL);
      g_clear_object (&attempt->transport);
    }
  g_free (attempt);
}

/* Receiving */

static gboolean
process_handshake_response (HubsConnection  *self,
                            gsize           *consumed,
                            GError         **error)
{
  const guint8 *end = memchr (self->received->data, 0x1e, self->received->len);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  *consumed = 0;
  if (end == NULL)
    return TRUE;
  *consumed = end - self->received->data + 1;

  if (!json_parser_load_from_data (parser, (const char *) self->received->data,
                                   end - self->received->data, &local_error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, HUBS_ERROR, HUBS_ERROR_HANDSHAKE_FAILED,
                   "Error parsing handshake response: %s",
                   local_error != NULL ? local_error->message : "Expected a handshake response from the server.");
      return FALSE;
    }

  if (json_object_has_member (json_node_get_object (root), "error"))
    {
      JsonNode *node = json_object_get_member (json_node_get_object (root), "error");
      const char *text = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING ?
                         json_node_get_string (node) : "";

      g_set_error (error, HUBS_ERROR, HUBS_ERROR_HANDSHAKE_FAILED,
                   "Server returned handshake error: %s", text);
      return FALSE;
    }

  return TRUE;
}

static GError *
too_large (HubsConnection *self)
{
  return g_error_new (HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE,
                      "The server sent a message larger than the maximum receive size of %uB.",
                      self->max_receive_size);
}

static void
dispatch_invocation (HubsConnection *self,
                     HubsHubMessage *message)
{
  g_autofree char *method = g_utf8_strdown (message->target, -1);
  g_autoptr(HubsClientInvocation) invocation = NULL;
  g_autoptr(GPtrArray) handlers = NULL;
  GPtrArray *registered = g_hash_table_lookup (self->handlers, method);

  invocation = hubs_client_invocation_new (self, self->transport_serial, message->target,
                                           message->invocation_id);

  if (registered == NULL || registered->len == 0)
    {
      g_debug ("No client method with the name '%s' found.", method);
      hubs_client_invocation_complete_unanswered (invocation, "Client didn't provide a result.");
      return;
    }

  /* Handlers may remove themselves. */
  hubs_client_invocation_begin_dispatch (invocation);
  handlers = g_ptr_array_new ();
  for (guint i = 0; i < registered->len; i++)
    g_ptr_array_add (handlers, GUINT_TO_POINTER (((Handler *) registered->pdata[i])->id));

  for (guint i = 0; i < handlers->len; i++)
    {
      guint id = GPOINTER_TO_UINT (handlers->pdata[i]);
      Handler *handler = NULL;
      g_autoptr(GError) error = NULL;
      GValue *values;
      guint n_values;
      guint answers;
      gboolean handled;

      registered = g_hash_table_lookup (self->handlers, method);
      for (guint j = 0; registered != NULL && j < registered->len; j++)
        if (((Handler *) registered->pdata[j])->id == id)
          handler = registered->pdata[j];
      if (handler == NULL)
        continue;

      if (handler->n_params > 0)
        {
          g_autofree HubsParamType *params = g_new0 (HubsParamType, handler->n_params);

          n_values = handler->n_params;
          for (guint j = 0; j < n_values; j++)
            params[j].type = handler->param_types[j];
          values = g_new0 (GValue, n_values);
          if (!self->protocol->bind_arguments (message, n_values, params, values, &error))
            {
              g_free (values);
              g_warning ("A handler of the client method '%s' could not take the server's arguments: %s",
                         message->target, error->message);
              continue;
            }
        }
      else
        {
          g_autofree HubsParamType *params = NULL;

          n_values = message->n_wire_arguments;
          params = g_new0 (HubsParamType, MAX (n_values, 1));
          for (guint j = 0; j < n_values; j++)
            params[j].type = G_TYPE_VARIANT;
          values = g_new0 (GValue, MAX (n_values, 1));
          if (!self->protocol->bind_arguments (message, n_values, params, values, &error))
            {
              g_free (values);
              g_warning ("The arguments of the client method '%s' could not be read: %s",
                         message->target, error->message);
              continue;
            }
        }

      hubs_client_invocation_set_arguments (invocation, values, n_values);
      answers = hubs_client_invocation_get_n_answers (invocation);
      handled = handler->func (self, invocation, handler->user_data);
      hubs_client_invocation_handler_returned (invocation, handled, answers);
    }

  /* Answers unless a handler answers later; `Client didn't provide a
   * result.` when none did. */
  hubs_client_invocation_end_dispatch (invocation);
}

static void
dispatch_result (HubsConnection *self,
                 HubsHubMessage *message)
{
  PendingCall *call;

  if (message->invocation_id == NULL)
    return;
  call = g_hash_table_lookup (self->pending, message->invocation_id);
  if (call == NULL)
    return;

  if (message->type == HUBS_MESSAGE_STREAM_ITEM)
    {
      HubsParamType type = { call->result_type, NULL };
      g_auto(GValue) item = G_VALUE_INIT;
      g_autoptr(GError) error = NULL;

      if (call->stream == NULL)
        {
          /* HubConnection.ts invoke(): a StreamItem rejects the call. */
          g_hash_table_steal (self->pending, message->invocation_id);
          if (call->task != NULL)
            g_task_return_new_error (call->task, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                                     "Unexpected message type: %d", HUBS_MESSAGE_STREAM_ITEM);
          hubs_connection_pending_call_free (call);
          return;
        }
      if (!self->protocol->bind_value (message, &type, &item, &error))
        {
          g_autoptr(HubsClientStream) stream = g_object_ref (call->stream);

          g_hash_table_remove (self->pending, message->invocation_id);
          hubs_client_stream_complete (stream, error);
          return;
        }
      hubs_client_stream_item (call->stream, &item);
      return;
    }

  g_hash_table_steal (self->pending, message->invocation_id);
  if (message->error != NULL)
    {
      g_autoptr(GError) error = g_error_new_literal (HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                                     message->error);

      if (call->task != NULL)
        g_task_return_error (call->task, g_steal_pointer (&error));
      else if (call->stream != NULL)
        hubs_client_stream_complete (call->stream, error);
    }
  else if (call->task != NULL)
    {
      HubsParamType type = { call->result_type, NULL };
      GValue *value = g_new0 (GValue, 1);
      g_autoptr(GError) error = NULL;

      if (self->protocol->bind_value (message, &type, value, &error))
        g_task_return_pointer (call->task, value, hubs_connection_value_free);
      else
        {
          g_free (value);
          g_task_return_error (call->task, g_steal_pointer (&error));
        }
    }
  else if (call->stream != NULL)
    hubs_client_stream_complete (call->stream, NULL);

  hubs_connection_pending_call_free (call);
}

static void
dispatch_message (HubsConnection *self,
                  HubsHubMessage *message)
{
  switch (message->type)
    {
    case HUBS_MESSAGE_INVOCATION:
      dispatch_invocation (self, message);
      break;

    case HUBS_MESSAGE_STREAM_ITEM:
    case HUBS_MESSAGE_COMPLETION:
      dispatch_result (self, message);
      break;

    case HUBS_MESSAGE_CLOSE:
      {
        g_autoptr(GError) error = NULL;

        if (message->error != NULL)
          error = g_error_new (HUBS_ERROR, HUBS_ERROR_CONNECTION_CLOSED,
                               "Server returned an error on close: %s", message->error);
        if (message->allow_reconnect)
          hubs_connection_stop_transport (self, error);
        else
          {
            /* Like stop(), but the close is the server's. */
            hubs_connection_set_state (self, HUBS_CONNECTION_STATE_DISCONNECTING);
            hubs_connection_clear_timers (self);
            hubs_connection_stop_transport (self, error);
          }
      }
      break;

    case HUBS_MESSAGE_ACK:
      if (self->message_buffer != NULL)
        {
          hubs_message_buffer_ack (self->message_buffer, message->sequence_id);
          hubs_connection_release_buffer_waiters (self);
        }
      break;

    case HUBS_MESSAGE_SEQUENCE:
      if (self->message_buffer != NULL)
        {
          g_autoptr(GError) error = NULL;

          if (!hubs_message_buffer_reset_sequence (self->message_buffer, message->sequence_id, &error))
            hubs_connection_stop_transport (self, error);
        }
      break;

    case HUBS_MESSAGE_PING:
    case HUBS_MESSAGE_STREAM_INVOCATION:
    case HUBS_MESSAGE_CANCEL_INVOCATION:
    default:
      break;
    }
}

void
hubs_connection_on_transport_receive (HubsClientTransport *transport,
                                      GBytes              *data,
                                      gpointer             user_data)
{
  HubsConnection *self = user_data;
  g_autoptr(HubsConnection) keep = g_object_ref (self);
  gsize offset = 0;

  hubs_connection_clear_source (&self->server_timeout_source);
  g_byte_array_append (self->received, g_bytes_get_data (data, NULL), g_bytes_get_size (data));

  if (!self->handshake_done)
    {
      g_autoptr(GError) error = NULL;
      gsize consumed;

      if (!process_handshake_response (self, &consumed, &error))
        {
          hubs_connection_attempt_return (self, g_steal_pointer (&error));
          return;
        }
      if (consumed == 0 && self->max_receive_size > 0 && self->received->len > self->max_receive_size)
        {
          g_byte_array_set_size (self->received, 0);
          hubs_connection_attempt_return (self, too_large (self));
          return;
        }
      if (consumed == 0)
        {
          hubs_connection_reset_server_timeout (self);
          return;
        }
      offset = consumed;
      self->handshake_done = TRUE;
      /* Messages that came with the handshake answer wait for the start to
       * finish, as they would in the reference. */
      g_byte_array_remove_range (self->received, 0, offset);
      offset = 0;
      hubs_connection_drop_message_buffer (self, NULL);
      if (self->use_stateful)
        self->message_buffer = hubs_message_buffer_new (STATEFUL_RECONNECT_BUFFER_SIZE);
      hubs_connection_attempt_return (self, NULL);
      if (self->transport != transport)
        return;
    }

  while (offset < self->received->len && self->transport == transport)
    {
      g_autoptr(HubsHubMessage) message = NULL;
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      message = self->protocol->parse_message (self->received->data + offset,
                                               self->received->len - offset,
                                               self->max_receive_size, &consumed, &error);
      if (g_error_matches (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE))
        {
          /* The protocol's text speaks to a server's configuration. */
          g_clear_error (&error);
          error = too_large (self);
        }
      if (error != NULL)
        {
          g_byte_array_set_size (self->received, 0);
          hubs_connection_stop_transport (self, error);
          return;
        }
      if (consumed == 0)
        break;
      offset += consumed;
      if (message == NULL)
        continue;
      /* Duplicates after a resumed connection, and whatever precedes the
       * server's Sequence then, are dropped (MessageBuffer.js). */
      if (self->message_buffer != NULL)
        {
          if (!hubs_message_buffer_should_process (self->message_buffer, message->type))
            continue;
          if (hubs_message_type_is_sequenced (message->type))
            hubs_connection_schedule_ack (self);
        }
      dispatch_message (self, message);
    }

  if (self->transport != transport)
    return;
  g_byte_array_remove_range (self->received, 0, MIN (offset, self->received->len));
  hubs_connection_reset_server_timeout (self);
}

void
hubs_connection_on_transport_close (HubsClientTransport *transport,
                                    const GError        *error,
                                    gpointer             user_data)
{
  HubsConnection *self = user_data;

  if (transport != self->transport)
    return;
  hubs_connection_handle_close (self, error);
}

/* The start attempt */

void
hubs_connection_attempt_return (HubsConnection *self,
                                GError         *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->attempt_task);

  hubs_connection_clear_source (&self->handshake_timeout_source);
  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      hubs_connection_clear_timers (self);
      hubs_connection_drop_transport (self);
      g_task_return_error (task, error);
    }
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
handshake_timeout_fired (gpointer user_data)
{
  HubsConnection *self = user_data;

  g_clear_pointer (&self->handshake_timeout_source, g_source_unref);
  hubs_connection_attempt_return (self, g_error_new_literal (HUBS_ERROR, HUBS_ERROR_TIMED_OUT,
                                                             "The handshake timed out."));
  return G_SOURCE_REMOVE;
}

static void
send_handshake (HubsConnection *self)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *request = NULL;

  /* Version 1 unless stateful reconnect was negotiated: older servers
   * refuse 2 (HubConnection.js). */
  request = g_strdup_printf ("{\"protocol\":\"%s\",\"version\":%d}\x1e", self->protocol->name,
                             self->use_stateful ? self->protocol->version : 1);
  bytes = g_bytes_new_take (request, strlen (request));
  request = NULL;
  hubs_connection_reset_keep_alive (self);
  hubs_client_transport_send (self->transport, bytes);
}

static void
transport_connected (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  HubsConnection *self = g_task_get_source_object (task);
  Attempt *attempt = g_task_get_task_data (task);
  HubsClientTransport *transport = HUBS_CLIENT_TRANSPORT (source);
  g_autoptr(GError) error = NULL;

  if (task != self->attempt_task)
    return;

  if (!hubs_client_transport_connect_finish (transport, result, &error))
    {
      const char *name = hubs_transport_type_name (hubs_client_transport_get_kind (transport));

      hubs_client_transport_set_handlers (transport, NULL, NULL, NULL);
      g_clear_object (&attempt->transport);
      if (g_task_return_error_if_cancelled (task))
        {
          g_clear_object (&self->attempt_task);
          return;
        }
      if (attempt->transport_errors == NULL)
        attempt->transport_errors = g_string_new (NULL);
      g_string_append_printf (attempt->transport_errors, " %s failed: %s", name, error->message);
      if (self->skip_negotiation)
        {
          hubs_connection_attempt_return (self, g_steal_pointer (&error));
          return;
        }
      /* The connection id was spent on the failed transport. */
      g_clear_pointer (&attempt->negotiation, hubs_negotiation_free);
      attempt_next_transport (self, task);
      return;
    }

  self->transport = g_steal_pointer (&attempt->transport);
  self->transport_serial++;
  self->transport_stopping = FALSE;
  self->use_stateful = attempt->stateful;
  g_free (self->transport_url);
  self->transport_url = g_strdup (attempt->connect_url);
  g_free (self->access_token);
  self->access_token = g_strdup (attempt->access_token);
  self->transport_type = hubs_client_transport_get_kind (self->transport);
  self->handshake_done = FALSE;
  g_byte_array_set_size (self->received, 0);
  hubs_client_transport_set_handlers (self->transport, hubs_connection_on_transport_receive, hubs_connection_on_transport_close, self);
  if (attempt->negotiation != NULL)
    hubs_connection_set_connection_id (self, attempt->negotiation->connection_id);
  else
    hubs_connection_set_connection_id (self, NULL);

  send_handshake (self);
  hubs_connection_reset_server_timeout (self);
  if (self->handshake_timeout > 0)
    self->handshake_timeout_source = hubs_connection_add_timeout (self, self->handshake_timeout, handshake_timeout_fired);
}

static void
connect_transport (HubsConnection    *self,
                   GTask             *task,
                   HubsTransportType  type,
                   const char        *url)
{
  Attempt *attempt = g_task_get_task_data (task);
  HubsClientRequestOptions options = { 0, };

  options.session = self->session;
  options.transfer_format = self->protocol->transfer_format;
  options.headers = self->headers;
  options.max_receive_size = self->max_receive_size;
  options.access_token = attempt->access_token;

  g_free (attempt->connect_url);
  attempt->connect_url = g_strdup (url);
  attempt->transport = hubs_client_transport_new (type, &options);
  hubs_client_transport_set_handlers (attempt->transport, NULL, NULL, NULL);
  hubs_client_transport_connect_async (attempt->transport, url, g_task_get_cancellable (task),
                                       transport_connected, g_object_ref (task));
}

static void negotiate (HubsConnection *self, GTask *task, gboolean then_transport);

static void
note_transport_error (Attempt    *attempt,
                      const char *format,
                      ...) G_GNUC_PRINTF (2, 3);

static void
note_transport_error (Attempt    *attempt,
                      const char *format,
                      ...)
{
  va_list args;

  if (attempt->transport_errors == NULL)
    attempt->transport_errors = g_string_new (NULL);
  va_start (args, format);
  g_string_append_vprintf (attempt->transport_errors, format, args);
  va_end (args);
}

/* Whether the client may use @transport; notes why not. */
static gboolean
transport_usable (HubsConnection          *self,
                  Attempt                 *attempt,
                  HubsNegotiatedTransport *transport)
{
  gboolean binary = self->protocol->transfer_format == HUBS_TRANSFER_FORMAT_BINARY;

  if (transport->type == HUBS_TRANSPORT_NONE)
    {
      note_transport_error (attempt, " %s failed: Skipping transport '%s' because it is not supported by this client.",
                            transport->name, transport->name);
      return FALSE;
    }
  if ((self->transports & transport->type) == 0)
    {
      note_transport_error (attempt, " %s failed: '%s' is disabled by the client.",
                            transport->name, transport->name);
      return FALSE;
    }
  if (binary ? !transport->binary : !transport->text)
    {
      note_transport_error (attempt, " %s failed: '%s' does not support %s.",
                            transport->name, transport->name, binary ? "Binary" : "Text");
      return FALSE;
    }
  return TRUE;
}

/* The transports are tried in the server's order; each one after a failed
 * one needs a new negotiate, since the failed one spent the connection. */
static void
attempt_next_transport (HubsConnection *self,
                        GTask          *task)
{
  Attempt *attempt = g_task_get_task_data (task);

  while (attempt->transport_index < attempt->offered->len)
    {
      HubsNegotiatedTransport *transport = attempt->offered->pdata[attempt->transport_index];
      g_autofree char *url = NULL;

      if (!transport_usable (self, attempt, transport))
        {
          attempt->transport_index++;
          continue;
        }
      if (attempt->negotiation == NULL)
        {
          negotiate (self, task, TRUE);
          return;
        }

      attempt->transport_index++;
      url = hubs_connect_url (attempt->url, attempt->negotiation->connection_token);
      /* Only WebSockets can resume a connection (HttpConnection.js). */
      attempt->stateful = transport->type == HUBS_TRANSPORT_WEB_SOCKETS &&
                          attempt->negotiation->use_stateful_reconnect;
      connect_transport (self, task, transport->type, url);
      return;
    }

  if (attempt->transport_errors != NULL)
    hubs_connection_attempt_return (self, g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                       "Unable to connect to the server with any of the available transports.%s",
                                                       attempt->transport_errors->str));
  else
    hubs_connection_attempt_return (self, g_error_new_literal (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                               "None of the transports supported by the client are supported by the server."));
}

typedef struct
{
  GTask *task;
  gboolean then_transport;
  SoupMessage *message;
} NegotiateCall;

static void
negotiated (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  NegotiateCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  g_autoptr(SoupMessage) message = call->message;
  gboolean then_transport = call->then_transport;
  HubsConnection *self = g_task_get_source_object (task);
  Attempt *attempt = g_task_get_task_data (task);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsNegotiation) negotiation = NULL;
  guint status;

  g_free (call);
  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (task != self->attempt_task)
    return;
  if (g_task_return_error_if_cancelled (task))
    {
      g_clear_object (&self->attempt_task);
      return;
    }
  if (body == NULL)
    {
      g_prefix_error (&error, "Failed to complete negotiation with the server: Error: ");
      hubs_connection_attempt_return (self, g_steal_pointer (&error));
      return;
    }

  status = soup_message_get_status (message);
  if (status < 200 || status >= 300)
    {
      const char *reason = soup_message_get_reason_phrase (message);

      hubs_connection_attempt_return (self, g_error_new (HUBS_ERROR,
                                                         status == SOUP_STATUS_UNAUTHORIZED ? HUBS_ERROR_UNAUTHORIZED : HUBS_ERROR_FAILED,
                                                         "Failed to complete negotiation with the server: Error: %s: Status code '%u'%s",
                                                         reason != NULL && *reason != '\0' ? reason : soup_status_get_phrase (status),
                                                         status,
                                                         status == SOUP_STATUS_NOT_FOUND ?
                                                         " Either this is not a SignalR endpoint or there is a proxy blocking the connection." : ""));
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      hubs_connection_attempt_return (self, g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                         "Unexpected status code returned from negotiate '%u'", status));
      return;
    }

  negotiation = hubs_negotiation_parse (body, &error);
  if (negotiation == NULL)
    {
      g_prefix_error (&error, "Failed to complete negotiation with the server: Error: ");
      hubs_connection_attempt_return (self, g_steal_pointer (&error));
      return;
    }
  if (negotiation->use_stateful_reconnect && !self->stateful_reconnect)
    {
      hubs_connection_attempt_return (self, g_error_new_literal (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                                 "Client didn't negotiate Stateful Reconnect but the server did."));
      return;
    }
  if (negotiation->error != NULL)
    {
      hubs_connection_attempt_return (self, g_error_new_literal (HUBS_ERROR, HUBS_ERROR_FAILED, negotiation->error));
      return;
    }
  if (negotiation->old_server)
    {
      hubs_connection_attempt_return (self, g_error_new_literal (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                                 "Detected a connection attempt to an ASP.NET SignalR Server. "
                                                                 "This client only supports connecting to an ASP.NET Core SignalR Server. "
                                                                 "See https://aka.ms/signalr-core-differences for details."));
      return;
    }

  /* A renegotiation for the next transport only renews the connection
   * token; the transports tried are those of the first answer. */
  if (!then_transport && negotiation->url != NULL)
    {
      g_free (attempt->url);
      attempt->url = g_strdup (negotiation->url);
      if (negotiation->access_token != NULL)
        {
          g_free (attempt->access_token);
          attempt->access_token = g_strdup (negotiation->access_token);
        }
      attempt->redirects++;
      if (attempt->redirects >= MAX_REDIRECTS)
        {
          hubs_connection_attempt_return (self, g_error_new_literal (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                                     "Negotiate redirection limit exceeded."));
          return;
        }
      negotiate (self, task, FALSE);
      return;
    }

  if (!then_transport)
    {
      attempt->offered = g_steal_pointer (&negotiation->transports);
      attempt->transport_index = 0;
    }
  g_clear_pointer (&attempt->negotiation, hubs_negotiation_free);
  attempt->negotiation = g_steal_pointer (&negotiation);
  attempt_next_transport (self, task);
}

static void
negotiate (HubsConnection *self,
           GTask          *task,
           gboolean        then_transport)
{
  Attempt *attempt = g_task_get_task_data (task);
  g_autofree char *url = hubs_negotiate_url (attempt->url, self->stateful_reconnect);
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  NegotiateCall *call;
  SoupMessage *message;

  message = soup_message_new (SOUP_METHOD_POST, url);
  if (message == NULL)
    {
      hubs_connection_attempt_return (self, g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                         "Failed to complete negotiation with the server: Error: Invalid URL '%s'",
                                                         url));
      return;
    }
  soup_message_set_request_body_from_bytes (message, "text/plain;charset=UTF-8", empty);
  hubs_connection_apply_request_headers (self, message, attempt->access_token);

  call = g_new0 (NegotiateCall, 1);
  call->task = g_object_ref (task);
  call->then_transport = then_transport;
  call->message = message;
  soup_session_send_and_read_async (self->session, message, G_PRIORITY_DEFAULT,
                                    g_task_get_cancellable (task), negotiated, call);
}

/* Runs one attempt at starting; the caller owns the state. */
static void attempt_begin (HubsConnection *self, GTask *task);

static void
token_ready (const char   *token,
             const GError *error,
             gpointer      user_data)
{
  GTask *task = user_data;
  HubsConnection *self = g_task_get_source_object (task);
  Attempt *attempt = g_task_get_task_data (task);

  if (task != self->attempt_task)
    return;
  if (error != NULL)
    {
      hubs_connection_attempt_return (self, g_error_copy (error));
      return;
    }
  attempt->access_token = g_strdup (token);
  attempt_begin (self, task);
}

void
hubs_connection_start_attempt (HubsConnection      *self,
                               GAsyncReadyCallback  callback)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GTask *task;
  Attempt *attempt;

  g_return_if_fail (self->attempt_task == NULL);

  task = g_task_new (self, cancellable, callback, NULL);
  g_task_set_source_tag (task, hubs_connection_start_attempt);
  g_task_set_name (task, "[hubs] connection start attempt");
  attempt = g_new0 (Attempt, 1);
  /* ws:// and wss:// name the same hub; HTTP requests need http(s). */
  if (g_ascii_strncasecmp (self->url, "ws://", 5) == 0)
    attempt->url = g_strconcat ("http://", self->url + 5, NULL);
  else if (g_ascii_strncasecmp (self->url, "wss://", 6) == 0)
    attempt->url = g_strconcat ("https://", self->url + 6, NULL);
  else
    attempt->url = g_strdup (self->url);
  g_task_set_task_data (task, attempt, attempt_free);
  self->attempt_task = task;

  if (self->token_request_func != NULL)
    {
      g_autoptr(HubsAccessTokenRequest) request = NULL;

      request = hubs_access_token_request_new (cancellable, token_ready, g_object_ref (task), g_object_unref);
      self->token_request_func (self, request, self->token_request_data);
      return;
    }
  if (self->token_func != NULL)
    attempt->access_token = self->token_func (self, self->token_data);
  attempt_begin (self, task);
}

/* With the access token: negotiate, or connect at once. */
static void
attempt_begin (HubsConnection *self,
               GTask          *task)
{
  Attempt *attempt = g_task_get_task_data (task);

  if (self->skip_negotiation)
    {
      if (self->transports != HUBS_TRANSPORT_WEB_SOCKETS)
        {
          hubs_connection_attempt_return (self, g_error_new_literal (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                                     "Negotiation can only be skipped when using the WebSocket transport directly."));
          return;
        }
      connect_transport (self, task, HUBS_TRANSPORT_WEB_SOCKETS, attempt->url);
      return;
    }

  negotiate (self, task, FALSE);
}

/* Stops the attempt under way, which then fails with @message. */
void
hubs_connection_abort_attempt (HubsConnection *self,
                               const char     *message)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->attempt_task);

  if (task == NULL)
    return;
  hubs_connection_clear_source (&self->handshake_timeout_source);
  g_cancellable_cancel (g_task_get_cancellable (task));
  hubs_connection_clear_timers (self);
  hubs_connection_drop_transport (self);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", message);
}
