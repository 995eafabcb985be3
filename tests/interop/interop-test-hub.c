/* interop-test-hub.c: Part A's hubs (TestHub, UncreatableHub,
 * HubWithAuthorization) and the objects TestHub exchanges
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "interop-server.h"

/* The objects of ASP.NET Core's functional tests. Their properties are named
 * as the C# ones because hubs-glib writes an object's properties under their
 * own names (the first letter kept as is) and the tests expect
 * "Name", "IntArray" and so on. */

struct _InteropCustomObject
{
  GObject parent_instance;

  char *name;
  int value;
};

G_DEFINE_FINAL_TYPE (InteropCustomObject, interop_custom_object, G_TYPE_OBJECT)

enum
{
  CUSTOM_PROP_0,
  CUSTOM_PROP_NAME,
  CUSTOM_PROP_VALUE,
  N_CUSTOM_PROPS
};

static GParamSpec *custom_properties[N_CUSTOM_PROPS];

static void
interop_custom_object_finalize (GObject *object)
{
  InteropCustomObject *self = INTEROP_CUSTOM_OBJECT (object);

  g_free (self->name);

  G_OBJECT_CLASS (interop_custom_object_parent_class)->finalize (object);
}

static void
interop_custom_object_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  InteropCustomObject *self = INTEROP_CUSTOM_OBJECT (object);

  switch (prop_id)
    {
    case CUSTOM_PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case CUSTOM_PROP_VALUE:
      g_value_set_int (value, self->value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
interop_custom_object_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  InteropCustomObject *self = INTEROP_CUSTOM_OBJECT (object);

  switch (prop_id)
    {
    case CUSTOM_PROP_NAME:
      g_free (self->name);
      self->name = g_value_dup_string (value);
      break;
    case CUSTOM_PROP_VALUE:
      self->value = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
interop_custom_object_class_init (InteropCustomObjectClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = interop_custom_object_finalize;
  object_class->get_property = interop_custom_object_get_property;
  object_class->set_property = interop_custom_object_set_property;

  custom_properties[CUSTOM_PROP_NAME] =
    g_param_spec_string ("Name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  custom_properties[CUSTOM_PROP_VALUE] =
    g_param_spec_int ("Value", NULL, NULL, G_MININT, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_CUSTOM_PROPS, custom_properties);
}

static void
interop_custom_object_init (InteropCustomObject *self)
{
}

struct _InteropComplexObject
{
  GObject parent_instance;

  char *string;
  GVariant *int_array;
  GBytes *byte_array;
  char *guid;
  GDateTime *date_time;
};

G_DEFINE_FINAL_TYPE (InteropComplexObject, interop_complex_object, G_TYPE_OBJECT)

enum
{
  COMPLEX_PROP_0,
  COMPLEX_PROP_STRING,
  COMPLEX_PROP_INT_ARRAY,
  COMPLEX_PROP_BYTE_ARRAY,
  COMPLEX_PROP_GUID,
  COMPLEX_PROP_DATE_TIME,
  N_COMPLEX_PROPS
};

static GParamSpec *complex_properties[N_COMPLEX_PROPS];

static void
interop_complex_object_finalize (GObject *object)
{
  InteropComplexObject *self = INTEROP_COMPLEX_OBJECT (object);

  g_free (self->string);
  g_clear_pointer (&self->int_array, g_variant_unref);
  g_clear_pointer (&self->byte_array, g_bytes_unref);
  g_free (self->guid);
  g_clear_pointer (&self->date_time, g_date_time_unref);

  G_OBJECT_CLASS (interop_complex_object_parent_class)->finalize (object);
}

static void
interop_complex_object_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  InteropComplexObject *self = INTEROP_COMPLEX_OBJECT (object);

  switch (prop_id)
    {
    case COMPLEX_PROP_STRING:
      g_value_set_string (value, self->string);
      break;
    case COMPLEX_PROP_INT_ARRAY:
      g_value_set_variant (value, self->int_array);
      break;
    case COMPLEX_PROP_BYTE_ARRAY:
      g_value_set_boxed (value, self->byte_array);
      break;
    case COMPLEX_PROP_GUID:
      g_value_set_string (value, self->guid);
      break;
    case COMPLEX_PROP_DATE_TIME:
      g_value_set_boxed (value, self->date_time);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
interop_complex_object_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  InteropComplexObject *self = INTEROP_COMPLEX_OBJECT (object);

  switch (prop_id)
    {
    case COMPLEX_PROP_STRING:
      g_free (self->string);
      self->string = g_value_dup_string (value);
      break;
    case COMPLEX_PROP_INT_ARRAY:
      g_clear_pointer (&self->int_array, g_variant_unref);
      self->int_array = g_value_dup_variant (value);
      break;
    case COMPLEX_PROP_BYTE_ARRAY:
      g_clear_pointer (&self->byte_array, g_bytes_unref);
      self->byte_array = g_value_dup_boxed (value);
      break;
    case COMPLEX_PROP_GUID:
      g_free (self->guid);
      self->guid = g_value_dup_string (value);
      break;
    case COMPLEX_PROP_DATE_TIME:
      g_clear_pointer (&self->date_time, g_date_time_unref);
      self->date_time = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
interop_complex_object_class_init (InteropComplexObjectClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = interop_complex_object_finalize;
  object_class->get_property = interop_complex_object_get_property;
  object_class->set_property = interop_complex_object_set_property;

  complex_properties[COMPLEX_PROP_STRING] =
    g_param_spec_string ("String", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* int[] in C#: 32-bit integers */
  complex_properties[COMPLEX_PROP_INT_ARRAY] =
    g_param_spec_variant ("IntArray", NULL, NULL, G_VARIANT_TYPE ("ai"), NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  complex_properties[COMPLEX_PROP_BYTE_ARRAY] =
    g_param_spec_boxed ("ByteArray", NULL, NULL, G_TYPE_BYTES,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  complex_properties[COMPLEX_PROP_GUID] =
    g_param_spec_string ("Guid", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  complex_properties[COMPLEX_PROP_DATE_TIME] =
    g_param_spec_boxed ("DateTime", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_COMPLEX_PROPS, complex_properties);
}

static void
interop_complex_object_init (InteropComplexObject *self)
{
}

/* Helpers shared by the hubs of this file */

static HubsHttpContext *
hub_http_context (HubsHub *hub)
{
  return hubs_caller_context_get_http_context (hubs_hub_get_context (hub));
}

static gboolean
hub_echo (HubsHub        *hub,
          HubsInvocation *invocation,
          const char     *message)
{
  hubs_invocation_return_string (invocation, message);
  return HUBS_INVOCATION_HANDLED;
}

/* TestHub, at /testhub and /testhub-nowebsockets */

struct _InteropTestHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (InteropTestHub, interop_test_hub, HUBS_TYPE_HUB)

static gboolean
test_hub_get_caller_connection_id (HubsHub        *hub,
                                   HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation,
                                 hubs_caller_context_get_connection_id (hubs_hub_get_context (hub)));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_get_num_redirects (HubsHub        *hub,
                            HubsInvocation *invocation)
{
  HubsHttpContext *http = hub_http_context (hub);
  const char *text = http ? hubs_http_context_get_query_value (http, "numRedirects") : NULL;
  gint64 count;

  /* The reference runs int.Parse on the query value; these are the
   * messages of its exceptions. */
  if (text == NULL)
    hubs_invocation_return_error_literal (invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                          "Value cannot be null. (Parameter 's')");
  else if (!g_ascii_string_to_signed (text, 10, G_MININT32, G_MAXINT32, &count, NULL))
    hubs_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                  "The input string '%s' was not in a correct format.", text);
  else
    hubs_invocation_return_int (invocation, count);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_throw_exception (HubsHub        *hub,
                          HubsInvocation *invocation,
                          const char     *message)
{
  /* Not a hub error: with detailed errors on, the client sees
   * "InvalidOperationException: <message>". A null message is what .NET
   * puts in an InvalidOperationException made without one. */
  hubs_invocation_return_error_literal (invocation, G_IO_ERROR, G_IO_ERROR_FAILED,
                                        message ? message : "Operation is not valid due to the current state of the object.");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_invoke_with_string (HubsHub        *hub,
                             HubsInvocation *invocation,
                             const char     *message)
{
  const char *connection_id = hubs_caller_context_get_connection_id (hubs_hub_get_context (hub));
  g_autoptr(HubsClientProxy) caller = hubs_hub_clients_client (hubs_hub_get_clients (hub), connection_id);
  GValue arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_STRING);
  g_value_set_string (&arg, message);
  interop_send_and_return_void (caller, invocation, "Message", 1, &arg);
  g_value_unset (&arg);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_send_custom_object (HubsHub             *hub,
                             HubsInvocation      *invocation,
                             InteropCustomObject *object)
{
  const char *connection_id = hubs_caller_context_get_connection_id (hubs_hub_get_context (hub));
  g_autoptr(HubsClientProxy) caller = hubs_hub_clients_client (hubs_hub_get_clients (hub), connection_id);
  GValue arg = G_VALUE_INIT;

  g_value_init (&arg, INTEROP_TYPE_CUSTOM_OBJECT);
  g_value_set_object (&arg, object);
  interop_send_and_return_void (caller, invocation, "CustomObject", 1, &arg);
  g_value_unset (&arg);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_get_active_transport_name (HubsHub        *hub,
                                    HubsInvocation *invocation)
{
  const char *name = NULL;

  /* The names of ASP.NET Core's HttpTransportType */
  switch (hubs_caller_context_get_transport (hubs_hub_get_context (hub)))
    {
    case HUBS_TRANSPORT_WEB_SOCKETS:
      name = "WebSockets";
      break;
    case HUBS_TRANSPORT_SERVER_SENT_EVENTS:
      name = "ServerSentEvents";
      break;
    case HUBS_TRANSPORT_LONG_POLLING:
      name = "LongPolling";
      break;
    default:
      name = "None";
      break;
    }

  hubs_invocation_return_string (invocation, name);
  return HUBS_INVOCATION_HANDLED;
}

static void
return_complex_object (HubsInvocation       *invocation,
                       InteropComplexObject *object)
{
  GValue result = G_VALUE_INIT;

  g_value_init (&result, INTEROP_TYPE_COMPLEX_OBJECT);
  g_value_set_object (&result, object);
  hubs_invocation_return_value (invocation, &result);
  g_value_unset (&result);
}

static gboolean
test_hub_echo_complex_object (HubsHub              *hub,
                              HubsInvocation       *invocation,
                              InteropComplexObject *object)
{
  return_complex_object (invocation, object);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_send_complex_object (HubsHub        *hub,
                              HubsInvocation *invocation)
{
  static const gint32 ints[] = { 1, 2, 3 };
  static const guint8 bytes[] = { 0x1, 0x2, 0x3 };
  g_autoptr(GBytes) byte_array = g_bytes_new_static (bytes, sizeof bytes);
  g_autoptr(GDateTime) date_time = g_date_time_new_utc (2000, 1, 1, 0, 0, 0);
  g_autoptr(InteropComplexObject) object = NULL;

  object = g_object_new (INTEROP_TYPE_COMPLEX_OBJECT,
                         "String", "hello world",
                         "IntArray", g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, ints,
                                                                G_N_ELEMENTS (ints), sizeof ints[0]),
                         "ByteArray", byte_array,
                         "Guid", "00010203-0405-0607-0706-050403020100",
                         "DateTime", date_time,
                         NULL);
  return_complex_object (invocation, object);

  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_get_header (HubsHub        *hub,
                     HubsInvocation *invocation,
                     const char     *name)
{
  HubsHttpContext *http = hub_http_context (hub);
  g_autofree char *value = NULL;

  if (http != NULL && name != NULL)
    value = hubs_http_context_get_header (http, name);

  hubs_invocation_return_string (invocation, value);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_get_cookie (HubsHub        *hub,
                     HubsInvocation *invocation,
                     const char     *name)
{
  HubsHttpContext *http = hub_http_context (hub);
  g_autofree char *value = NULL;

  if (http != NULL && name != NULL)
    value = hubs_http_context_get_cookie (http, name);

  hubs_invocation_return_string (invocation, value);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_get_content_type_header (HubsHub        *hub,
                                  HubsInvocation *invocation)
{
  return test_hub_get_header (hub, invocation, "Content-Type");
}

/* Streams. */

static GPtrArray *test_hub_contexts;   /* HubsHubContext: where TestHub is mapped */

void
interop_test_hub_add_context (HubsHubContext *context)
{
  if (test_hub_contexts == NULL)
    test_hub_contexts = g_ptr_array_new ();
  g_ptr_array_add (test_hub_contexts, context);
}

static gboolean
test_hub_stream (HubsHub          *hub,
                 HubsStreamWriter *writer)
{
  static const char *items[] = { "a", "b", "c" };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      g_auto(GValue) item = G_VALUE_INIT;

      g_value_init (&item, G_TYPE_STRING);
      g_value_set_static_string (&item, items[i]);
      hubs_stream_writer_write (writer, &item);
    }
  hubs_stream_writer_complete (writer);
  return HUBS_INVOCATION_HANDLED;
}

/* Once the stream is cancelled: StreamCanceled() to its connection, from
 * outside the hub as the reference's does, then the end of the stream. */
static gboolean
infinite_stream_cancelled_idle (gpointer user_data)
{
  HubsStreamWriter *writer = user_data;
  const char *connection_id = hubs_caller_context_get_connection_id (hubs_stream_writer_get_context (writer));

  for (guint i = 0; test_hub_contexts != NULL && i < test_hub_contexts->len; i++)
    {
      g_autoptr(HubsClientProxy) client =
        hubs_hub_clients_client (hubs_hub_context_get_clients (test_hub_contexts->pdata[i]), connection_id);

      hubs_client_proxy_send_values (client, "StreamCanceled", 0, NULL);
    }
  hubs_stream_writer_complete (writer);
  return G_SOURCE_REMOVE;
}

static void
infinite_stream_cancelled (GCancellable *cancellable,
                           gpointer      user_data)
{
  /* Not from inside the cancellation: the writer is busy ending. */
  g_idle_add_full (G_PRIORITY_DEFAULT, infinite_stream_cancelled_idle,
                   g_object_ref (user_data), g_object_unref);
}

static gboolean
test_hub_infinite_stream (HubsHub          *hub,
                          HubsStreamWriter *writer)
{
  /* The cancellable belongs to the writer: no reference, or neither goes. */
  g_cancellable_connect (hubs_stream_writer_get_cancellable (writer),
                         G_CALLBACK (infinite_stream_cancelled), writer, NULL);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_empty_stream (HubsHub          *hub,
                       HubsStreamWriter *writer)
{
  hubs_stream_writer_complete (writer);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
test_hub_stream_throw_exception (HubsHub          *hub,
                                 HubsStreamWriter *writer,
                                 const char       *message)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                                                 message ? message : "");

  hubs_stream_writer_complete_with_error (writer, error);
  return HUBS_INVOCATION_HANDLED;
}

typedef struct
{
  HubsInvocation *invocation;
  HubsStreamReader *reader;
  GString *text;
} Concat;

static void
concat_read (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Concat *concat = user_data;
  g_autoptr(GError) error = NULL;
  GValue *item = hubs_stream_reader_read_finish (concat->reader, result, &error);

  if (item != NULL)
    {
      g_string_append (concat->text, g_value_get_string (item) ? g_value_get_string (item) : "");
      g_boxed_free (G_TYPE_VALUE, item);
      hubs_stream_reader_read_async (concat->reader, NULL, concat_read, concat);
      return;
    }

  if (error != NULL)
    hubs_invocation_return_gerror (concat->invocation, error);
  else
    hubs_invocation_return_string (concat->invocation, concat->text->str);

  g_object_unref (concat->invocation);
  g_object_unref (concat->reader);
  g_string_free (concat->text, TRUE);
  g_free (concat);
}

static gboolean
test_hub_streaming_concat (HubsHub          *hub,
                           HubsInvocation   *invocation,
                           HubsStreamReader *reader)
{
  Concat *concat = g_new0 (Concat, 1);

  concat->invocation = g_object_ref (invocation);
  concat->reader = g_object_ref (reader);
  concat->text = g_string_new (NULL);
  hubs_stream_reader_read_async (reader, NULL, concat_read, concat);
  return HUBS_INVOCATION_HANDLED;
}

static void
interop_test_hub_class_init (InteropTestHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-caller-connection-id",
                             G_CALLBACK (test_hub_get_caller_connection_id),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "get-num-redirects",
                             G_CALLBACK (test_hub_get_num_redirects),
                             G_TYPE_INT, 0);
  hubs_hub_class_add_method (hub_class, "throw-exception",
                             G_CALLBACK (test_hub_throw_exception),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "invoke-with-string",
                             G_CALLBACK (test_hub_invoke_with_string),
                             G_TYPE_NONE, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "send-custom-object",
                             G_CALLBACK (test_hub_send_custom_object),
                             G_TYPE_NONE, 1, INTEROP_TYPE_CUSTOM_OBJECT);

  hubs_hub_class_add_streaming_method (hub_class, "stream", G_CALLBACK (test_hub_stream),
                                       G_TYPE_STRING, 0);
  hubs_hub_class_add_streaming_method (hub_class, "infinite-stream",
                                       G_CALLBACK (test_hub_infinite_stream),
                                       G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "streaming-concat",
                             G_CALLBACK (test_hub_streaming_concat),
                             G_TYPE_STRING, 1, HUBS_TYPE_STREAM_READER);
  hubs_hub_class_set_upload_item_type (hub_class, "streaming-concat", 0, G_TYPE_STRING);
  hubs_hub_class_add_streaming_method (hub_class, "empty-stream",
                                       G_CALLBACK (test_hub_empty_stream),
                                       G_TYPE_INT, 0);
  hubs_hub_class_add_streaming_method (hub_class, "stream-throw-exception",
                                       G_CALLBACK (test_hub_stream_throw_exception),
                                       G_TYPE_STRING, 1, G_TYPE_STRING);

  hubs_hub_class_add_method (hub_class, "get-active-transport-name",
                             G_CALLBACK (test_hub_get_active_transport_name),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "echo-complex-object",
                             G_CALLBACK (test_hub_echo_complex_object),
                             INTEROP_TYPE_COMPLEX_OBJECT, 1, INTEROP_TYPE_COMPLEX_OBJECT);
  hubs_hub_class_add_method (hub_class, "send-complex-object",
                             G_CALLBACK (test_hub_send_complex_object),
                             INTEROP_TYPE_COMPLEX_OBJECT, 0);
  hubs_hub_class_add_method (hub_class, "get-header",
                             G_CALLBACK (test_hub_get_header),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-cookie",
                             G_CALLBACK (test_hub_get_cookie),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-content-type-header",
                             G_CALLBACK (test_hub_get_content_type_header),
                             G_TYPE_STRING, 0);
}

static void
interop_test_hub_init (InteropTestHub *self)
{
}

/* UncreatableHub, at /uncreatable: in ASP.NET Core its constructor wants a
 * service nobody provides, so activating it fails before OnConnectedAsync.
 * Failing on_connected with a non-hub error gives the client the same Close
 * message under detailed errors. */

struct _InteropUncreatableHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (InteropUncreatableHub, interop_uncreatable_hub, HUBS_TYPE_HUB)

static gboolean
uncreatable_hub_on_connected (HubsHub  *hub,
                              GError  **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "Unable to resolve service for type 'System.Object' while attempting "
                       "to activate 'FunctionalTests.UncreatableHub'.");
  return FALSE;
}

static void
interop_uncreatable_hub_class_init (InteropUncreatableHubClass *klass)
{
  HUBS_HUB_CLASS (klass)->on_connected = uncreatable_hub_on_connected;
}

static void
interop_uncreatable_hub_init (InteropUncreatableHub *self)
{
}

/* HubWithAuthorization, at /authorizedhub; the server maps it with
 * authentication required, and interop_authenticate() accepts only tokens
 * from /generateJwtToken there. */

struct _InteropAuthorizedHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (InteropAuthorizedHub, interop_authorized_hub, HUBS_TYPE_HUB)

static gboolean
authorized_hub_get_user_name_identifier (HubsHub        *hub,
                                         HubsInvocation *invocation)
{
  HubsUser *user = hubs_caller_context_get_user (hubs_hub_get_context (hub));

  hubs_invocation_return_string (invocation,
                                 user ? hubs_user_find_first_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER) : NULL);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
authorized_hub_get_user_claim (HubsHub        *hub,
                               HubsInvocation *invocation,
                               const char     *type)
{
  HubsUser *user = hubs_caller_context_get_user (hubs_hub_get_context (hub));
  const char *value = NULL;

  if (user != NULL && type != NULL)
    value = hubs_user_find_first_claim (user, type);

  hubs_invocation_return_string (invocation, value ? value : "");
  return HUBS_INVOCATION_HANDLED;
}

static void
interop_authorized_hub_class_init (InteropAuthorizedHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  hubs_hub_class_add_method (hub_class, "echo", G_CALLBACK (hub_echo),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
  hubs_hub_class_add_method (hub_class, "get-user-name-identifier",
                             G_CALLBACK (authorized_hub_get_user_name_identifier),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "get-user-claim",
                             G_CALLBACK (authorized_hub_get_user_claim),
                             G_TYPE_STRING, 1, G_TYPE_STRING);
}

static void
interop_authorized_hub_init (InteropAuthorizedHub *self)
{
}
