/* hubs-hub-dispatcher.c: running hub methods
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-dispatcher-private.h"

#include "hubs-authorization-private.h"
#include "hubs-caller-context.h"
#include "hubs-error.h"
#include "hubs-hub-filter-private.h"
#include "hubs-hub-private.h"
#include "hubs-invocation-private.h"
#include "hubs-log-private.h"
#include "hubs-stream-private.h"

const char *
hubs_error_type_name (const GError *error)
{
  /* Clients only ever see these names in text; they follow the .NET
   * exceptions ASP.NET Core would have thrown for the same failure, so that
   * messages read the same from either server. */
  if (error->domain == HUBS_HUB_ERROR)
    return "HubException";
  if (error->domain == HUBS_ERROR)
    {
      switch (error->code)
        {
        case HUBS_ERROR_INVALID_DATA:
        case HUBS_ERROR_MESSAGE_TOO_LARGE:
        case HUBS_ERROR_BINDING_FAILED:
          return "InvalidDataException";
        case HUBS_ERROR_TIMED_OUT:
          return "OperationCanceledException";
        default:
          break;
        }
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "OperationCanceledException";

  return "InvalidOperationException";
}

char *
hubs_build_error_message (const char   *prefix,
                          const GError *error,
                          gboolean      detailed)
{
  if (error != NULL && (detailed || error->domain == HUBS_HUB_ERROR))
    return g_strdup_printf ("%s %s: %s", prefix, hubs_error_type_name (error), error->message);

  return g_strdup (prefix);
}

typedef struct
{
  HubsConnectionContext *connection;
  char *invocation_id;          /* NULL for a non-blocking invocation */
  char *target;
  HubsDispatchDoneFunc done;
  gpointer done_data;
  GPtrArray *readers;           /* HubsStreamReader: the upload streams */
  guint pending;                /* the method, and the filters around it */

  /* With filters: what the method needs once they pass the call on. */
  const HubsMethodInfo *method;
  GValue *values;               /* [n_params + 2], the signal's layout */
  HubsStreamWriter *writer;
  gboolean method_ran;
} Dispatch;

static void values_free (GValue *values,
                         guint   n_values);

static void
dispatch_finish (Dispatch *dispatch)
{
  if (--dispatch->pending > 0)
    return;

  /* As ASP.NET Core: the streams a method leaves unread end with it. */
  if (dispatch->readers != NULL)
    {
      for (guint i = 0; i < dispatch->readers->len; i++)
        hubs_connection_context_end_upload_stream (dispatch->connection, dispatch->readers->pdata[i]);
      g_ptr_array_unref (dispatch->readers);
    }
  if (dispatch->done != NULL)
    dispatch->done (dispatch->connection, dispatch->done_data);
  g_object_unref (dispatch->connection);
  g_free (dispatch->invocation_id);
  g_free (dispatch->target);
  if (dispatch->values != NULL)
    values_free (dispatch->values, dispatch->method->n_params + 2);
  g_clear_object (&dispatch->writer);
  g_free (dispatch);
}

static void
write_completion (Dispatch     *dispatch,
                  const GValue *result,
                  const char   *error)
{
  g_autoptr(HubsHubMessage) message = NULL;

  /* A non-blocking invocation is never answered, not even with an error. */
  if (dispatch->invocation_id == NULL || hubs_connection_context_is_closed (dispatch->connection))
    return;

  message = hubs_hub_message_new_completion (dispatch->invocation_id, result, error == NULL, error);
  hubs_connection_context_write_message (dispatch->connection, message);
}

static void
fail_with_prefix (Dispatch     *dispatch,
                  const char   *prefix,
                  const GError *error)
{
  const HubsHubSettings *settings =
    hubs_hub_context_get_settings (hubs_connection_context_get_hub_context (dispatch->connection));
  g_autofree char *text = hubs_build_error_message (prefix, error, settings->detailed_errors);

  write_completion (dispatch, NULL, text);
}

/* @format names the target with one %s, as the reference's messages do. */
#define fail(dispatch, format, error) G_STMT_START {                      \
    g_autofree char *prefix_ = g_strdup_printf (format, (dispatch)->target); \
    fail_with_prefix ((dispatch), prefix_, (error));                      \
  } G_STMT_END

static void
invocation_completed (HubsInvocation *invocation,
                      const GValue   *result,
                      const GError   *error,
                      gpointer        user_data)
{
  Dispatch *dispatch = user_data;

  if (error != NULL)
    HUBS_LOG_CONNECTION (G_LOG_LEVEL_INFO, "FailedInvokingHubMethod", dispatch->connection, dispatch->target,
                         "Failed to invoke hub method '%s': %s", dispatch->target, error->message);
  if (error != NULL)
    fail (dispatch, "An unexpected error occurred invoking '%s' on the server.", error);
  else
    write_completion (dispatch, result, NULL);

  dispatch_finish (dispatch);
}

static void
stream_writer_done (HubsStreamWriter *writer,
                    gpointer          user_data)
{
  dispatch_finish (user_data);
}

static void
values_free (GValue *values,
             guint   n_values)
{
  for (guint i = 0; i < n_values; i++)
    if (G_IS_VALUE (&values[i]))
      g_value_unset (&values[i]);
  g_free (values);
}

gboolean
hubs_hub_dispatcher_runs_in_background (HubsConnectionContext *connection,
                                        HubsHubMessage        *message)
{
  HubsHubContext *hub_context = hubs_connection_context_get_hub_context (connection);
  const HubsMethodInfo *method;

  if (message->type == HUBS_MESSAGE_STREAM_INVOCATION ||
      (message->stream_ids != NULL && message->stream_ids[0] != NULL))
    return TRUE;

  method = hubs_hub_type_lookup_method (hubs_hub_context_get_hub_type (hub_context), message->target);
  return method != NULL && (method->streaming || method->n_uploads > 0);
}

/* Fails the invocation, before its method ran, with @text as it is. */
static void
fail_literal (Dispatch   *dispatch,
              const char *text)
{
  write_completion (dispatch, NULL, text);
  dispatch_finish (dispatch);
}

/* Emits the method's signal with @values (slot 1 is filled here) and fails
 * the invocation when no handler took it. @complete gets the result of a
 * method that is not streaming. */
static void
emit_method (Dispatch                   *dispatch,
             GValue                     *values,
             HubsStreamWriter           *writer,
             HubsInvocationCompleteFunc  complete,
             gpointer                    complete_data)
{
  const HubsMethodInfo *method = dispatch->method;
  g_autoptr(HubsInvocation) invocation = NULL;
  GValue return_value = G_VALUE_INIT;
  gboolean handled;

  if (writer != NULL)
    {
      g_value_init (&values[1], HUBS_TYPE_STREAM_WRITER);
      g_value_set_object (&values[1], writer);
    }
  else
    {
      HubsCallerContext *caller = hubs_connection_context_get_caller_context (dispatch->connection);

      invocation = hubs_invocation_new (g_value_get_object (&values[0]), method, dispatch->invocation_id,
                                        hubs_caller_context_get_connection_aborted (caller),
                                        complete, complete_data);
      g_value_init (&values[1], HUBS_TYPE_INVOCATION);
      g_value_set_object (&values[1], invocation);
    }

  g_value_init (&return_value, G_TYPE_BOOLEAN);
  g_signal_emitv (values, method->signal_id, 0, &return_value);
  handled = g_value_get_boolean (&return_value);
  g_value_unset (&return_value);
  g_value_unset (&values[1]);

  if (writer != NULL)
    {
      if (!handled && !hubs_stream_writer_is_completed (writer))
        {
          g_autoptr(GError) unhandled = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                     "No handler took the invocation of ‘%s’.",
                                                     method->wire_name);
          hubs_stream_writer_complete_with_error (writer, unhandled);
        }
      hubs_stream_writer_set_returned (writer);
    }
  else if (!handled && !hubs_invocation_is_completed (invocation))
    {
      g_autoptr(GError) unhandled = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                 "No handler took the invocation of ‘%s’.",
                                                 method->wire_name);
      hubs_invocation_return_gerror (invocation, unhandled);
    }
}

static void
method_completed_for_filter (HubsInvocation *invocation,
                             const GValue   *result,
                             const GError   *error,
                             gpointer        user_data)
{
  g_autoptr(HubsHubInvocationContext) context = user_data;

  if (error != NULL)
    hubs_hub_invocation_context_return_gerror (context, error);
  else
    hubs_hub_invocation_context_return_value (context, result);
}

/* The end of the filter chain: the method, with the arguments as the
 * filters left them. */
static void
filtered_method (HubsHubInvocationContext *context,
                 gpointer                  user_data)
{
  Dispatch *dispatch = user_data;
  const HubsMethodInfo *method = dispatch->method;
  GValue *values = g_steal_pointer (&dispatch->values);
  const GValue *args;
  guint n_args;

  args = hubs_hub_invocation_context_peek_arguments (context, &n_args);
  for (guint p = 0; p < method->n_params && p < n_args; p++)
    {
      if (G_IS_VALUE (&values[p + 2]))
        g_value_unset (&values[p + 2]);
      if (G_IS_VALUE (&args[p]))
        {
          g_value_init (&values[p + 2], G_VALUE_TYPE (&args[p]));
          g_value_copy (&args[p], &values[p + 2]);
        }
    }

  if (dispatch->writer != NULL)
    {
      g_auto(GValue) stream = G_VALUE_INIT;

      emit_method (dispatch, values, dispatch->writer, NULL, NULL);
      dispatch->method_ran = TRUE;
      /* As ASP.NET Core's filters see the stream a method returns. */
      g_value_init (&stream, HUBS_TYPE_STREAM_WRITER);
      g_value_set_object (&stream, dispatch->writer);
      hubs_hub_invocation_context_return_value (context, &stream);
    }
  else
    emit_method (dispatch, values, NULL, method_completed_for_filter, g_object_ref (context));

  values_free (values, method->n_params + 2);
}

static void
filters_done (const GValue *result,
              const GError *error,
              gpointer      user_data)
{
  Dispatch *dispatch = user_data;
  HubsStreamWriter *writer = dispatch->writer;

  if (writer == NULL)
    {
      invocation_completed (NULL, result, error, dispatch);
      return;
    }

  if (!hubs_stream_writer_is_completed (writer))
    {
      if (error != NULL)
        hubs_stream_writer_complete_with_error (writer, error);
      else if (!dispatch->method_ran)
        {
          g_autoptr(GError) no_stream = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                                     "A hub filter completed the streaming method ‘%s’ without running it.",
                                                     dispatch->method->wire_name);
          hubs_stream_writer_complete_with_error (writer, no_stream);
        }
    }
  hubs_stream_writer_set_returned (writer);
  dispatch_finish (dispatch);
}

void
hubs_hub_dispatcher_invoke (HubsConnectionContext *connection,
                            HubsHubMessage        *message,
                            HubsDispatchDoneFunc   done,
                            gpointer               user_data)
{
  HubsHubContext *hub_context = hubs_connection_context_get_hub_context (connection);
  const HubsHubProtocol *protocol = hubs_connection_context_get_protocol (connection);
  GType hub_type = hubs_hub_context_get_hub_type (hub_context);
  const HubsMethodInfo *method;
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsHub) hub = NULL;
  g_autoptr(HubsStreamWriter) writer = NULL;
  g_autoptr(GPtrArray) filters = NULL;
  g_autofree GValue *args = NULL;
  GValue *values;
  guint n_streams;
  Dispatch *dispatch;

  dispatch = g_new0 (Dispatch, 1);
  dispatch->pending = 1;
  dispatch->connection = g_object_ref (connection);
  dispatch->done = done;
  dispatch->done_data = user_data;
  if (message->invocation_id != NULL && message->invocation_id[0] != '\0')
    dispatch->invocation_id = g_strdup (message->invocation_id);

  method = hubs_hub_type_lookup_method (hub_type, message->target);
  /* The JSON protocol names the method as declared in its errors; other
   * protocols keep the target as received (ASP.NET Core's binders). */
  dispatch->target = g_strdup (method != NULL && g_str_equal (protocol->name, "json")
                               ? method->wire_name : message->target);

  if (method == NULL)
    {
      g_autoptr(GError) missing = g_error_new_literal (HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                                       "Method does not exist.");

      HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "UnknownHubMethod", connection, message->target,
                           "Unknown hub method '%s'.", message->target);
      fail (dispatch, "Failed to invoke '%s' due to an error on the server.", missing);
      dispatch_finish (dispatch);
      return;
    }

  /* ASP.NET Core binds while parsing, so a binding failure comes before the
   * checks of the invocation's kind. Upload streams are not arguments. */
  args = g_new0 (GValue, method->n_args);
  if (!protocol->bind_arguments (message, method->n_args, method->args, args, &error))
    {
      HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "InvalidHubParameters", connection, dispatch->target,
                           "Parameters to hub method '%s' are incorrect: %s", dispatch->target, error->message);
      fail (dispatch, "Failed to invoke '%s' due to an error on the server.", error);
      dispatch_finish (dispatch);
      return;
    }
  /* Slot 0 is the hub, slot 1 the invocation or writer: the signal's own
   * layout. The bound arguments move into their places. */
  values = g_new0 (GValue, method->n_params + 2);
  for (guint p = 0, a = 0; p < method->n_params; p++)
    if (method->params[p].type != HUBS_TYPE_STREAM_READER)
      values[p + 2] = args[a++];

  /* Where DefaultHubDispatcher checks IsHubMethodAuthorized: after the
   * binding, before the checks of the invocation's kind and any filter. */
  if (!hubs_authorization_check_method (hub_type, method, hubs_connection_context_get_caller_context (connection)))
    {
      g_autofree char *text = g_strdup_printf ("Failed to invoke '%s' because user is unauthorized",
                                               dispatch->target);

      g_debug ("Refused an invocation of ‘%s’: the user is unauthorized", method->wire_name);
      values_free (values, method->n_params + 2);
      fail_literal (dispatch, text);
      return;
    }

  if (message->type == HUBS_MESSAGE_STREAM_INVOCATION && !method->streaming)
    {
      HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "NonStreamingMethodCalledWithStream", connection, dispatch->target,
                           "A non-streaming method was invoked with a streaming invocation.");
      values_free (values, method->n_params + 2);
      fail (dispatch, "The client attempted to invoke the non-streaming '%s' method with a streaming invocation.", NULL);
      dispatch_finish (dispatch);
      return;
    }
  if (message->type == HUBS_MESSAGE_INVOCATION && method->streaming)
    {
      HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "StreamingMethodCalledWithInvoke", connection, dispatch->target,
                           "A streaming method was invoked with a non-streaming invocation.");
      values_free (values, method->n_params + 2);
      fail (dispatch, "The client attempted to invoke the streaming '%s' method with a non-streaming invocation.", NULL);
      dispatch_finish (dispatch);
      return;
    }

  n_streams = message->stream_ids ? g_strv_length (message->stream_ids) : 0;
  if (n_streams != method->n_uploads)
    {
      g_autoptr(GError) mismatch = g_error_new (HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                                "Client sent %u stream(s), Hub method expects %u.",
                                                n_streams, method->n_uploads);
      values_free (values, method->n_params + 2);
      fail (dispatch, "An unexpected error occurred invoking '%s' on the server.", mismatch);
      dispatch_finish (dispatch);
      return;
    }

  if (method->streaming &&
      hubs_connection_context_has_stream_writer (connection, dispatch->invocation_id))
    {
      g_autofree char *text = g_strdup_printf ("Invocation ID '%s' is already in use.", dispatch->invocation_id);

      values_free (values, method->n_params + 2);
      fail_literal (dispatch, text);
      return;
    }

  hub = hubs_hub_new_for_connection (hub_type, connection);

  if (method->n_uploads > 0)
    {
      dispatch->readers = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint p = 0, k = 0; p < method->n_params; p++)
        {
          HubsStreamReader *reader;

          if (method->params[p].type != HUBS_TYPE_STREAM_READER)
            continue;
          reader = hubs_stream_reader_new (connection, message->stream_ids[k++], &method->upload_items[p]);
          if (!hubs_connection_context_add_upload_stream (connection, reader))
            HUBS_LOG_CONNECTION (G_LOG_LEVEL_DEBUG, "StreamIdInUse", connection, dispatch->target,
                                 "Stream id '%s' is in use already: its items go to the first stream.",
                                 hubs_stream_reader_get_stream_id (reader));
          g_ptr_array_add (dispatch->readers, reader);
          g_value_init (&values[p + 2], HUBS_TYPE_STREAM_READER);
          g_value_set_object (&values[p + 2], reader);
        }
    }

  g_value_init (&values[0], hub_type);
  g_value_set_object (&values[0], hub);
  dispatch->method = method;
  if (method->streaming)
    {
      writer = hubs_stream_writer_new (connection, hub, dispatch->invocation_id, dispatch->target,
                                       method->return_type, stream_writer_done, dispatch);
      hubs_connection_context_add_stream_writer (connection, writer);
    }

  filters = hubs_hub_filters_collect (connection);
  if (filters == NULL)
    {
      emit_method (dispatch, values, writer, invocation_completed, dispatch);
      values_free (values, method->n_params + 2);
      return;
    }

  /* The filters run around the method; the last one passes the call on to
   * filtered_method(). A stream's dispatch ends once both its writer and
   * the filters are done. */
  dispatch->values = values;
  if (writer != NULL)
    {
      dispatch->writer = g_object_ref (writer);
      dispatch->pending++;
    }
  hubs_hub_filters_invoke (filters, hub, method->wire_name, method->streaming,
                           writer != NULL
                           ? hubs_stream_writer_get_cancellable (writer)
                           : hubs_caller_context_get_connection_aborted (hubs_connection_context_get_caller_context (connection)),
                           &values[2], method->n_params,
                           filtered_method, dispatch,
                           filters_done, dispatch);
}
