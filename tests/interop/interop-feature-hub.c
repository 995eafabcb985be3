/* interop-feature-hub.c: Part B's FeatureHub, at /featurehub
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The hub features of the seed documentation that TestHub does not touch.
 * The server maps it with detailed errors off, so an ordinary error reaches
 * the client only as SignalR's generic message; the texts of those errors
 * below are the .NET exceptions' ones all the same, for the server's logs.
 */

#include "interop-server.h"

struct _InteropFeatureHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (InteropFeatureHub, interop_feature_hub, HUBS_TYPE_HUB)

static void
send_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  if (hubs_client_proxy_send_finish (HUBS_CLIENT_PROXY (source), result, &error))
    hubs_invocation_return_void (invocation);
  else
    hubs_invocation_return_gerror (invocation, error);
}

void
interop_send_and_return_void (HubsClientProxy *proxy,
                              HubsInvocation  *invocation,
                              const char      *method,
                              guint            n_args,
                              const GValue    *args)
{
  /* No cancellable: a message to others must go out even when the caller
   * leaves meanwhile. */
  hubs_client_proxy_send_async (proxy, method, n_args, args, NULL,
                                send_done, g_object_ref (invocation));
}

static const char *
caller_id (HubsHub *hub)
{
  return hubs_caller_context_get_connection_id (hubs_hub_get_context (hub));
}

/* What ASP.NET Core throws for a null argument of a lifetime manager call. */
static gboolean
return_null_argument (HubsInvocation *invocation,
                      const char     *parameter)
{
  hubs_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "Value cannot be null. (Parameter '%s')", parameter);
  return HUBS_INVOCATION_HANDLED;
}

/* Message(callerId, text) to @proxy, completing @invocation once sent */
static gboolean
send_message (HubsHub         *hub,
              HubsInvocation  *invocation,
              HubsClientProxy *proxy,
              const char      *text)
{
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&args[0], G_TYPE_STRING);
  g_value_set_string (&args[0], caller_id (hub));
  g_value_init (&args[1], G_TYPE_STRING);
  g_value_set_string (&args[1], text);

  interop_send_and_return_void (proxy, invocation, "Message", G_N_ELEMENTS (args), args);

  g_value_unset (&args[0]);
  g_value_unset (&args[1]);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_on_connected (HubsHub  *hub,
                          GError  **error)
{
  HubsHubClients *clients = hubs_hub_get_clients (hub);
  g_autoptr(HubsClientProxy) caller = hubs_hub_clients_caller (clients);
  g_autoptr(HubsClientProxy) others = hubs_hub_clients_others (clients);

  hubs_client_proxy_send (caller, "Welcome", G_TYPE_STRING, caller_id (hub), G_TYPE_INVALID);
  hubs_client_proxy_send (others, "Joined", G_TYPE_STRING, caller_id (hub), G_TYPE_INVALID);

  return TRUE;
}

static void
feature_hub_on_disconnected (HubsHub      *hub,
                             const GError *error)
{
  g_autoptr(HubsClientProxy) others = hubs_hub_clients_others (hubs_hub_get_clients (hub));

  hubs_client_proxy_send (others, "Left",
                          G_TYPE_STRING, caller_id (hub),
                          G_TYPE_STRING, error ? error->message : NULL,
                          G_TYPE_INVALID);
}

static gboolean
feature_hub_broadcast (HubsHub        *hub,
                       HubsInvocation *invocation,
                       const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = hubs_hub_clients_all (hubs_hub_get_clients (hub));

  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_others (HubsHub        *hub,
                            HubsInvocation *invocation,
                            const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = hubs_hub_clients_others (hubs_hub_get_clients (hub));

  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_caller (HubsHub        *hub,
                            HubsInvocation *invocation,
                            const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = hubs_hub_clients_caller (hubs_hub_get_clients (hub));

  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_connection (HubsHub        *hub,
                                HubsInvocation *invocation,
                                const char     *connection_id,
                                const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (connection_id == NULL)
    return return_null_argument (invocation, "connectionId");

  proxy = hubs_hub_clients_client (hubs_hub_get_clients (hub), connection_id);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_connections (HubsHub            *hub,
                                 HubsInvocation     *invocation,
                                 const char * const *connection_ids,
                                 const char         *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (connection_ids == NULL)
    return return_null_argument (invocation, "connectionIds");

  proxy = hubs_hub_clients_clients (hubs_hub_get_clients (hub), connection_ids);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_all_except (HubsHub            *hub,
                                HubsInvocation     *invocation,
                                const char * const *connection_ids,
                                const char         *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (connection_ids == NULL)
    return return_null_argument (invocation, "excludedConnectionIds");

  proxy = hubs_hub_clients_all_except (hubs_hub_get_clients (hub), connection_ids);
  return send_message (hub, invocation, proxy, text);
}

static void
add_to_group_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  if (hubs_group_manager_add_to_group_finish (HUBS_GROUP_MANAGER (source), result, &error))
    hubs_invocation_return_void (invocation);
  else
    hubs_invocation_return_gerror (invocation, error);
}

static void
remove_from_group_done (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  if (hubs_group_manager_remove_from_group_finish (HUBS_GROUP_MANAGER (source), result, &error))
    hubs_invocation_return_void (invocation);
  else
    hubs_invocation_return_gerror (invocation, error);
}

/* Group changes complete the invocation only once they are in place, so a
 * client that awaits JoinGroup can count on the group's next message, also
 * with a lifetime manager that is not in memory. */
static gboolean
feature_hub_join_group (HubsHub        *hub,
                        HubsInvocation *invocation,
                        const char     *group)
{
  if (group == NULL)
    return return_null_argument (invocation, "groupName");

  hubs_group_manager_add_to_group_async (hubs_hub_get_groups (hub), caller_id (hub), group,
                                         NULL, add_to_group_done, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_leave_group (HubsHub        *hub,
                         HubsInvocation *invocation,
                         const char     *group)
{
  if (group == NULL)
    return return_null_argument (invocation, "groupName");

  hubs_group_manager_remove_from_group_async (hubs_hub_get_groups (hub), caller_id (hub), group,
                                              NULL, remove_from_group_done, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_send_to_group (HubsHub        *hub,
                           HubsInvocation *invocation,
                           const char     *group,
                           const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (group == NULL)
    return return_null_argument (invocation, "groupName");

  proxy = hubs_hub_clients_group (hubs_hub_get_clients (hub), group);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_groups (HubsHub            *hub,
                            HubsInvocation     *invocation,
                            const char * const *groups,
                            const char         *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (groups == NULL)
    return return_null_argument (invocation, "groupNames");

  proxy = hubs_hub_clients_groups (hubs_hub_get_clients (hub), groups);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_group_except (HubsHub            *hub,
                                  HubsInvocation     *invocation,
                                  const char         *group,
                                  const char * const *connection_ids,
                                  const char         *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (group == NULL)
    return return_null_argument (invocation, "groupName");
  if (connection_ids == NULL)
    return return_null_argument (invocation, "excludedConnectionIds");

  proxy = hubs_hub_clients_group_except (hubs_hub_get_clients (hub), group, connection_ids);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_others_in_group (HubsHub        *hub,
                                     HubsInvocation *invocation,
                                     const char     *group,
                                     const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (group == NULL)
    return return_null_argument (invocation, "groupName");

  proxy = hubs_hub_clients_others_in_group (hubs_hub_get_clients (hub), group);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_user (HubsHub        *hub,
                          HubsInvocation *invocation,
                          const char     *user,
                          const char     *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (user == NULL)
    return return_null_argument (invocation, "userId");

  proxy = hubs_hub_clients_user (hubs_hub_get_clients (hub), user);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_send_to_users (HubsHub            *hub,
                           HubsInvocation     *invocation,
                           const char * const *users,
                           const char         *text)
{
  g_autoptr(HubsClientProxy) proxy = NULL;

  if (users == NULL)
    return return_null_argument (invocation, "userIds");

  proxy = hubs_hub_clients_users (hubs_hub_get_clients (hub), users);
  return send_message (hub, invocation, proxy, text);
}

static gboolean
feature_hub_get_user_identifier (HubsHub        *hub,
                                 HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation,
                                 hubs_caller_context_get_user_identifier (hubs_hub_get_context (hub)));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_set_item (HubsHub        *hub,
                      HubsInvocation *invocation,
                      const char     *key,
                      GVariant       *value)
{
  GValue item = G_VALUE_INIT;

  if (key == NULL)
    return return_null_argument (invocation, "key");

  /* A NULL variant is JSON null: stored too, as the reference stores null */
  g_value_init (&item, G_TYPE_VARIANT);
  g_value_set_variant (&item, value);
  hubs_caller_context_set_item (hubs_hub_get_context (hub), key, &item);
  g_value_unset (&item);

  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_get_item (HubsHub        *hub,
                      HubsInvocation *invocation,
                      const char     *key)
{
  const GValue *item;

  if (key == NULL)
    return return_null_argument (invocation, "key");

  item = hubs_caller_context_get_item (hubs_hub_get_context (hub), key);
  if (item != NULL && !G_VALUE_HOLDS_VARIANT (item))
    hubs_invocation_return_value (invocation, item);
  else
    hubs_invocation_return_variant (invocation, item ? g_value_get_variant (item) : NULL);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_get_query (HubsHub        *hub,
                       HubsInvocation *invocation,
                       const char     *name)
{
  HubsHttpContext *http = hubs_caller_context_get_http_context (hubs_hub_get_context (hub));

  hubs_invocation_return_string (invocation,
                                 http && name ? hubs_http_context_get_query_value (http, name) : NULL);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_add (HubsHub        *hub,
                 HubsInvocation *invocation,
                 gint            a,
                 gint            b)
{
  /* C# int addition is unchecked: it wraps around */
  hubs_invocation_return_int (invocation, (gint32) ((guint32) a + (guint32) b));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_sum (HubsHub        *hub,
                 HubsInvocation *invocation,
                 GVariant       *values)
{
  const gint64 *items;
  gsize n_items = 0;
  gint64 total = 0;
  gboolean overflow = FALSE;

  if (values == NULL)
    return return_null_argument (invocation, "source");

  if (!g_variant_is_of_type (values, G_VARIANT_TYPE ("ax")))
    {
      hubs_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                    "Expected an array of integers, got a value of type %s",
                                    g_variant_get_type_string (values));
      return HUBS_INVOCATION_HANDLED;
    }

  /* int[].Sum() is checked arithmetic on 32-bit integers */
  items = g_variant_get_fixed_array (values, &n_items, sizeof (gint64));
  for (gsize i = 0; i < n_items && !overflow; i++)
    {
      if (items[i] < G_MININT32 || items[i] > G_MAXINT32)
        {
          overflow = TRUE;
        }
      else
        {
          total += items[i];
          overflow = total < G_MININT32 || total > G_MAXINT32;
        }
    }

  if (overflow)
    hubs_invocation_return_error_literal (invocation, G_IO_ERROR, G_IO_ERROR_FAILED,
                                          "Arithmetic operation resulted in an overflow.");
  else
    hubs_invocation_return_int (invocation, total);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_echo_any (HubsHub        *hub,
                      HubsInvocation *invocation,
                      GVariant       *value)
{
  hubs_invocation_return_variant (invocation, value);
  return HUBS_INVOCATION_HANDLED;
}

typedef struct
{
  HubsInvocation *invocation;
  char *text;
} DelayedEcho;

static void
delayed_echo_free (gpointer data)
{
  DelayedEcho *echo = data;

  g_object_unref (echo->invocation);
  g_free (echo->text);
  g_free (echo);
}

static gboolean
delayed_echo_fire (gpointer data)
{
  DelayedEcho *echo = data;

  hubs_invocation_return_string (echo->invocation, echo->text);
  return G_SOURCE_REMOVE;
}

static gboolean
feature_hub_delayed_echo (HubsHub        *hub,
                          HubsInvocation *invocation,
                          const char     *text,
                          gint            milliseconds)
{
  DelayedEcho *echo;

  if (milliseconds < 0)
    {
      hubs_invocation_return_error_literal (invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                            "The value needs to be either -1 (signifying an infinite "
                                            "timeout), 0 or a positive integer. (Parameter 'millisecondsDelay')");
      return HUBS_INVOCATION_HANDLED;
    }

  echo = g_new0 (DelayedEcho, 1);
  echo->invocation = g_object_ref (invocation);
  echo->text = g_strdup (text);
  g_timeout_add_full (G_PRIORITY_DEFAULT, milliseconds, delayed_echo_fire, echo, delayed_echo_free);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_throw_hub_error (HubsHub        *hub,
                             HubsInvocation *invocation,
                             const char     *message)
{
  hubs_invocation_return_error_literal (invocation, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                        message ? message : "Exception of type 'Microsoft.AspNetCore.SignalR.HubException' was thrown.");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_throw_other (HubsHub        *hub,
                         HubsInvocation *invocation,
                         const char     *message)
{
  hubs_invocation_return_error_literal (invocation, G_IO_ERROR, G_IO_ERROR_FAILED,
                                        message ? message : "Operation is not valid due to the current state of the object.");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_renamed_method (HubsHub        *hub,
                            HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation, "renamed");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
feature_hub_abort (HubsHub        *hub,
                   HubsInvocation *invocation)
{
  hubs_caller_context_abort (hubs_hub_get_context (hub));
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

/* Counter(n, ms): 0 … n-1, one every ms, each written once the client has
 * room for it; stops at the next tick once cancelled. */
typedef struct
{
  HubsStreamWriter *writer;
  gint n;
  gint next;
  guint interval;
} Counter;

static gboolean counter_tick (gpointer user_data);

static void
counter_free (Counter *counter)
{
  g_object_unref (counter->writer);
  g_free (counter);
}

static void
counter_written (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Counter *counter = user_data;
  g_autoptr(GError) error = NULL;

  if (!hubs_stream_writer_write_finish (counter->writer, result, &error))
    {
      /* Cancelled: the client has its Completion already. */
      hubs_stream_writer_complete (counter->writer);
      counter_free (counter);
      return;
    }
  g_timeout_add (counter->interval, counter_tick, counter);
}

static gboolean
counter_tick (gpointer user_data)
{
  Counter *counter = user_data;
  g_auto(GValue) item = G_VALUE_INIT;

  if (counter->next >= counter->n ||
      g_cancellable_is_cancelled (hubs_stream_writer_get_cancellable (counter->writer)))
    {
      hubs_stream_writer_complete (counter->writer);
      counter_free (counter);
      return G_SOURCE_REMOVE;
    }

  g_value_init (&item, G_TYPE_INT);
  g_value_set_int (&item, counter->next++);
  hubs_stream_writer_write_async (counter->writer, &item, NULL, counter_written, counter);
  return G_SOURCE_REMOVE;
}

static gboolean
feature_hub_counter (HubsHub          *hub,
                     HubsStreamWriter *writer,
                     gint              n,
                     gint              milliseconds)
{
  Counter *counter = g_new0 (Counter, 1);

  counter->writer = g_object_ref (writer);
  counter->n = n;
  counter->interval = MAX (milliseconds, 0);
  /* The first item after one interval too, as Task.Delay before each. */
  g_timeout_add (counter->interval, counter_tick, counter);
  return HUBS_INVOCATION_HANDLED;
}

/* Upload(stream of int): the sum. */
typedef struct
{
  HubsInvocation *invocation;
  HubsStreamReader *reader;
  gint64 sum;
} Upload;

static void
upload_read (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Upload *upload = user_data;
  g_autoptr(GError) error = NULL;
  GValue *item = hubs_stream_reader_read_finish (upload->reader, result, &error);

  if (item != NULL)
    {
      upload->sum += g_value_get_int (item);
      g_boxed_free (G_TYPE_VALUE, item);
      hubs_stream_reader_read_async (upload->reader, NULL, upload_read, upload);
      return;
    }

  if (error != NULL)
    hubs_invocation_return_gerror (upload->invocation, error);
  else
    hubs_invocation_return_int (upload->invocation, upload->sum);

  g_object_unref (upload->invocation);
  g_object_unref (upload->reader);
  g_free (upload);
}

static gboolean
feature_hub_upload (HubsHub          *hub,
                    HubsInvocation   *invocation,
                    HubsStreamReader *reader)
{
  Upload *upload = g_new0 (Upload, 1);

  upload->invocation = g_object_ref (invocation);
  upload->reader = g_object_ref (reader);
  hubs_stream_reader_read_async (reader, NULL, upload_read, upload);
  return HUBS_INVOCATION_HANDLED;
}

/* AskCaller(x): the caller's Double(x); its error is the hub error. */
static void
ask_caller_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(HubsInvocation) invocation = user_data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (hubs_client_proxy_invoke_finish (HUBS_CLIENT_PROXY (source), result, &value, &error))
    hubs_invocation_return_value (invocation, &value);
  else
    hubs_invocation_return_gerror (invocation, error);
}

static gboolean
feature_hub_ask_caller (HubsHub        *hub,
                        HubsInvocation *invocation,
                        gint            x)
{
  g_autoptr(HubsClientProxy) caller = hubs_hub_clients_caller (hubs_hub_get_clients (hub));
  g_auto(GValue) arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_INT);
  g_value_set_int (&arg, x);
  hubs_client_proxy_invoke_async (caller, "Double", 1, &arg, G_TYPE_INT, NULL,
                                  ask_caller_done, g_object_ref (invocation));
  return HUBS_INVOCATION_HANDLED;
}

static void
interop_feature_hub_class_init (InteropFeatureHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hub_class->on_connected = feature_hub_on_connected;
  hub_class->on_disconnected = feature_hub_on_disconnected;

  hubs_hub_class_add_method (hub_class, "broadcast", G_CALLBACK (feature_hub_broadcast),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-others", G_CALLBACK (feature_hub_send_to_others),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-caller", G_CALLBACK (feature_hub_send_to_caller),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-connection", G_CALLBACK (feature_hub_send_to_connection),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-connections", G_CALLBACK (feature_hub_send_to_connections),
                             G_TYPE_NONE, 2, G_TYPE_STRV, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-all-except", G_CALLBACK (feature_hub_send_to_all_except),
                             G_TYPE_NONE, 2, G_TYPE_STRV, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "join-group", G_CALLBACK (feature_hub_join_group),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "leave-group", G_CALLBACK (feature_hub_leave_group),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-group", G_CALLBACK (feature_hub_send_to_group),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-groups", G_CALLBACK (feature_hub_send_to_groups),
                             G_TYPE_NONE, 2, G_TYPE_STRV, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-group-except", G_CALLBACK (feature_hub_send_to_group_except),
                             G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRV, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-others-in-group", G_CALLBACK (feature_hub_send_to_others_in_group),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-user", G_CALLBACK (feature_hub_send_to_user),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-to-users", G_CALLBACK (feature_hub_send_to_users),
                             G_TYPE_NONE, 2, G_TYPE_STRV, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-user-identifier", G_CALLBACK (feature_hub_get_user_identifier),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "set-item", G_CALLBACK (feature_hub_set_item),
                             G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_VARIANT);
  hubs_hub_class_add_method (hub_class, "get-item", G_CALLBACK (feature_hub_get_item),
                             G_TYPE_VARIANT, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-query", G_CALLBACK (feature_hub_get_query),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "add", G_CALLBACK (feature_hub_add),
                             G_TYPE_INT, 2, G_TYPE_INT, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "sum", G_CALLBACK (feature_hub_sum),
                             G_TYPE_INT, 1, G_TYPE_VARIANT);
  hubs_hub_class_set_parameter_variant_type (hub_class, "sum", 0, G_VARIANT_TYPE ("ax"));
  hubs_hub_class_add_method (hub_class, "echo-any", G_CALLBACK (feature_hub_echo_any),
                             G_TYPE_VARIANT, 1, G_TYPE_VARIANT);
  hubs_hub_class_add_method (hub_class, "delayed-echo", G_CALLBACK (feature_hub_delayed_echo),
                             G_TYPE_STRING, 2, G_TYPE_STRING, G_TYPE_INT);

  hubs_hub_class_add_streaming_method (hub_class, "counter", G_CALLBACK (feature_hub_counter),
                                       G_TYPE_INT, 2, G_TYPE_INT, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "upload", G_CALLBACK (feature_hub_upload),
                             G_TYPE_INT64, 1, HUBS_TYPE_STREAM_READER);
  hubs_hub_class_set_upload_item_type (hub_class, "upload", 0, G_TYPE_INT);
  hubs_hub_class_add_method (hub_class, "ask-caller", G_CALLBACK (feature_hub_ask_caller),
                             G_TYPE_INT, 1, G_TYPE_INT);

  hubs_hub_class_add_method (hub_class, "throw-hub-error", G_CALLBACK (feature_hub_throw_hub_error),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "throw-other", G_CALLBACK (feature_hub_throw_other),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "renamed-method", G_CALLBACK (feature_hub_renamed_method),
                             G_TYPE_STRING, 0);
  hubs_hub_class_set_method_name (hub_class, "renamed-method", "Custom.Name");
  hubs_hub_class_add_method (hub_class, "abort", G_CALLBACK (feature_hub_abort),
                             G_TYPE_NONE, 0);
}

static void
interop_feature_hub_init (InteropFeatureHub *self)
{
}
