/* test-client-interop.c: HubsConnection against two servers of the interop
 * contract (shared spec interop-server.md), with the same test bodies: the
 * ASP.NET Core reference of tests/aspnetcore-interop and hubs-glib's own
 * tests/interop/hubs-interop-server. Each body runs over every transport and
 * both protocols (MessagePack not over Server-Sent Events, which carry text).
 *
 * The reference judges the client: a body that passes there and fails
 * against hubs-interop-server is a server bug, one that fails there a client
 * bug. Without dotnet, or with the reference unbuilt, its cases are skipped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <string.h>

#include "hubs.h"
#include "hubs-test-util.h"

#define WAIT_TIMEOUT_MS 20000

/* The servers, each started once, on first use */

typedef enum
{
  SERVER_HUBS,
  SERVER_ASPNETCORE,
  N_SERVERS
} ServerKind;

typedef struct
{
  const char *name;
  GSubprocess *process;
  char *url;
  char *skip;
} Server;

static Server servers[N_SERVERS] = {
  { "hubs", },
  { "aspnetcore", },
};

#ifdef __linux__
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}
#endif

static gboolean
server_start (ServerKind kind)
{
  Server *server = &servers[kind];
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) output = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *dotnet = NULL;
  g_autofree char *dll = NULL;
  const char *program = NULL;

  if (server->url != NULL || server->skip != NULL)
    return server->url != NULL;

  if (kind == SERVER_ASPNETCORE)
    {
      dotnet = g_find_program_in_path ("dotnet");
      dll = g_test_build_filename (G_TEST_DIST, "aspnetcore-interop", "bin", "Release", "net10.0",
                                   "Interop.dll", NULL);
      if (dotnet == NULL)
        server->skip = g_strdup ("dotnet is not installed: no ASP.NET Core server to test against");
      else if (!g_file_test (dll, G_FILE_TEST_EXISTS))
        server->skip = g_strdup_printf ("%s is not built: run `dotnet build -c Release` in "
                                        "tests/aspnetcore-interop (build-aux/setup-deps does)", dll);
    }
  else
    {
      program = g_getenv ("HUBS_INTEROP_SERVER");
      if (program == NULL || !g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
        server->skip = g_strdup ("HUBS_INTEROP_SERVER does not name the built hubs-interop-server");
    }
  if (server->skip != NULL)
    return FALSE;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
#ifdef __linux__
  /* The server ends with the test, even when the test crashes. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
#endif
  if (kind == SERVER_ASPNETCORE)
    server->process = g_subprocess_launcher_spawn (launcher, &error, dotnet, dll, "--port", "0", NULL);
  else
    server->process = g_subprocess_launcher_spawn (launcher, &error, program, "--port", "0", NULL);
  g_assert_no_error (error);
  output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (output, NULL, NULL, &error);
  g_assert_no_error (error);
  /* A server that was built but does not start is a failure, not a skip. */
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "Now listening on: "));
  server->url = g_strdup (line + strlen ("Now listening on: "));
  return TRUE;
}

static void
servers_stop (void)
{
  for (guint i = 0; i < N_SERVERS; i++)
    {
      if (servers[i].process != NULL)
        {
          g_subprocess_send_signal (servers[i].process, SIGTERM);
          g_subprocess_wait (servers[i].process, NULL, NULL);
          g_clear_object (&servers[i].process);
        }
      g_clear_pointer (&servers[i].url, g_free);
      g_clear_pointer (&servers[i].skip, g_free);
    }
}

/* The parameters and the fixture */

typedef struct
{
  ServerKind server;
  HubsTransportType transport;
  const char *protocol;
} Param;

typedef struct
{
  const Param *param;
  gboolean skipped;
  GPtrArray *closed;            /* GError or NULL, per emission */
} Fixture;

static void
error_free_nullable (gpointer data)
{
  if (data != NULL)
    g_error_free (data);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->param = data;
  f->closed = g_ptr_array_new_with_free_func (error_free_nullable);
  if (!server_start (f->param->server))
    {
      g_test_skip (servers[f->param->server].skip);
      f->skipped = TRUE;
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  spin (10);
  g_clear_pointer (&f->closed, g_ptr_array_unref);
}

static gboolean
is_messagepack (Fixture *f)
{
  return g_str_equal (f->param->protocol, "messagepack");
}

static void
on_closed (HubsConnection *connection,
           const GError   *error,
           Fixture        *f)
{
  g_ptr_array_add (f->closed, error != NULL ? g_error_copy (error) : NULL);
}

static char *
give_name (HubsConnection *connection,
           gpointer        user_data)
{
  return g_strdup (user_data);
}

/* A connection to @path of the fixture's server, with the fixture's
 * transport and protocol, and @user as its access token (FeatureHub makes
 * that the user identifier). */
static HubsConnection *
connection_new (Fixture    *f,
                const char *path,
                const char *user)
{
  g_autofree char *url = g_strconcat (servers[f->param->server].url, path, NULL);
  HubsConnection *connection;

  connection = g_object_new (HUBS_TYPE_CONNECTION, "url", url, "protocol", f->param->protocol,
                             "transports", f->param->transport, NULL);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), f);
  if (user != NULL)
    hubs_connection_set_access_token_func (connection, give_name, g_strdup (user), g_free);
  return connection;
}

static void
start (HubsConnection *connection)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  hubs_connection_start_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_start_finish (connection, result, &error));
  g_assert_no_error (error);
}

static void
stop (HubsConnection *connection)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  hubs_connection_stop_async (connection, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  g_assert_true (hubs_connection_stop_finish (connection, result, &error));
  g_assert_no_error (error);
}

static HubsConnection *
connect_to (Fixture    *f,
         const char *path,
         const char *user)
{
  HubsConnection *connection = connection_new (f, path, user);

  start (connection);
  g_assert_cmpint (hubs_connection_get_transport (connection), ==, f->param->transport);
  g_assert_cmpstr (hubs_connection_get_protocol (connection), ==, f->param->protocol);
  return connection;
}

static gboolean
invoke (HubsConnection  *connection,
        const char      *method,
        guint            n_args,
        const GValue    *args,
        GType            result_type,
        GValue          *value,
        GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  hubs_connection_invoke_async (connection, method, n_args, args, result_type, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  return hubs_connection_invoke_finish (connection, result, value, error);
}

/* Invokes @method with one argument or none, which the function takes. */
static gboolean
invoke1 (HubsConnection  *connection,
         const char      *method,
         GValue          *arg,
         GType            result_type,
         GValue          *value,
         GError         **error)
{
  gboolean ok = invoke (connection, method, arg != NULL ? 1 : 0, arg, result_type, value, error);

  if (arg != NULL)
    g_value_unset (arg);
  return ok;
}

static GValue *
string_value (GValue     *value,
              const char *text)
{
  g_value_init (value, G_TYPE_STRING);
  g_value_set_string (value, text);
  return value;
}

static GValue *
int_value (GValue *value,
           int     number)
{
  g_value_init (value, G_TYPE_INT);
  g_value_set_int (value, number);
  return value;
}

/* Takes @variant, floating or not. */
static GValue *
variant_value (GValue   *value,
               GVariant *variant)
{
  g_value_init (value, G_TYPE_VARIANT);
  g_value_set_variant (value, variant);
  return value;
}

static char *
invoke_string (HubsConnection *connection,
               const char     *method,
               GValue         *arg)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (invoke1 (connection, method, arg, G_TYPE_STRING, &value, &error));
  g_assert_no_error (error);
  return g_value_dup_string (&value);
}

/* The hub error of @method, which must fail. */
static char *
invoke_error (HubsConnection *connection,
              const char     *method,
              guint           n_args,
              const GValue   *args)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_false (invoke (connection, method, n_args, args, G_TYPE_NONE, &value, &error));
  g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  return g_strdup (error->message);
}

/* Client methods: what the server called, as text */

typedef struct
{
  GPtrArray *calls;             /* "Method(arg, …)" with GVariant printing */
  int answer;                   /* Double: 0 answers x * 2 */
} Calls;

static char *
describe (HubsClientInvocation *invocation)
{
  GString *text = g_string_new (hubs_client_invocation_get_method_name (invocation));
  guint n;
  const GValue *args = hubs_client_invocation_get_arguments (invocation, &n);

  g_string_append_c (text, '(');
  for (guint i = 0; i < n; i++)
    {
      GVariant *variant = g_value_get_variant (&args[i]);
      g_autofree char *printed = variant != NULL ? g_variant_print (variant, FALSE) : g_strdup ("null");

      g_string_append_printf (text, "%s%s", i > 0 ? ", " : "", printed);
    }
  g_string_append_c (text, ')');
  return g_string_free (text, FALSE);
}

static gboolean
record_call (HubsConnection       *connection,
             HubsClientInvocation *invocation,
             gpointer              user_data)
{
  Calls *calls = user_data;

  g_ptr_array_add (calls->calls, describe (invocation));
  return HUBS_INVOCATION_UNHANDLED;
}

static void
calls_init (Calls          *calls,
            HubsConnection *connection,
            const char     *first_method,
            ...)
{
  va_list methods;

  calls->calls = g_ptr_array_new_with_free_func (g_free);
  va_start (methods, first_method);
  for (const char *method = first_method; method != NULL; method = va_arg (methods, const char *))
    hubs_connection_on (connection, method, 0, NULL, record_call, calls, NULL);
  va_end (methods);
}

static gboolean
calls_contain (Calls      *calls,
               const char *call)
{
  for (guint i = 0; i < calls->calls->len; i++)
    if (g_str_equal (calls->calls->pdata[i], call))
      return TRUE;
  return FALSE;
}

static guint
calls_count (Calls      *calls,
             const char *call)
{
  guint n = 0;

  for (guint i = 0; i < calls->calls->len; i++)
    if (g_str_equal (calls->calls->pdata[i], call))
      n++;
  return n;
}

/* Hub calls with values of simple and complex types */

static void
test_calls (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(HubsConnection) test = NULL;
  g_autoptr(HubsConnection) feature = NULL;
  g_autoptr(GVariant) complex = NULL;
  g_autoptr(GVariant) echoed = NULL;
  g_autoptr(GVariant) any = NULL;
  g_autoptr(GVariant) item = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  gint64 numbers[] = { 1, 2, 3, 4 };
  Calls calls;

  if (f->skipped)
    return;

  test = connect_to (f, "/testhub", NULL);
  calls_init (&calls, test, "Message", "CustomObject", NULL);

  text = invoke_string (test, "Echo", string_value (&arg, "héllo, wörld"));
  g_assert_cmpstr (text, ==, "héllo, wörld");
  g_clear_pointer (&text, g_free);
  text = invoke_string (test, "GetActiveTransportName", NULL);
  g_assert_cmpstr (text, ==, f->param->transport == HUBS_TRANSPORT_WEB_SOCKETS ? "WebSockets" :
                   f->param->transport == HUBS_TRANSPORT_LONG_POLLING ? "LongPolling" : "ServerSentEvents");
  g_clear_pointer (&text, g_free);
  text = invoke_string (test, "GetCallerConnectionId", NULL);
  g_assert_cmpstr (text, ==, hubs_connection_get_connection_id (test));
  g_clear_pointer (&text, g_free);
  /* Negotiate's cookies come back on the transport's requests. */
  text = invoke_string (test, "GetCookie", string_value (&arg, "testCookie"));
  g_assert_cmpstr (text, ==, "testValue");
  g_clear_pointer (&text, g_free);
  text = invoke_string (test, "GetCookie", string_value (&arg, "expiredCookie"));
  g_assert_null (text);

  /* A complex object, with the wire types of each protocol */
  g_assert_true (invoke1 (test, "SendComplexObject", NULL, G_TYPE_NONE, &value, &error));
  g_assert_no_error (error);
  complex = g_value_dup_variant (&value);
  g_value_unset (&value);
  g_assert_true (g_variant_is_of_type (complex, G_VARIANT_TYPE_VARDICT));
  if (is_messagepack (f))
    expected = g_strdup ("{'String': <'hello world'>, 'IntArray': <[<int64 1>, <int64 2>, <int64 3>]>, "
                         "'ByteArray': <[byte 0x01, 0x02, 0x03]>, "
                         "'Guid': <'00010203-0405-0607-0706-050403020100'>, "
                         "'DateTime': <(int64 946684800, uint32 0)>}");
  else
    expected = g_strdup ("{'String': <'hello world'>, 'IntArray': <[<int64 1>, <int64 2>, <int64 3>]>, "
                         "'ByteArray': <'AQID'>, 'Guid': <'00010203-0405-0607-0706-050403020100'>, "
                         "'DateTime': <'2000-01-01T00:00:00Z'>}");
  {
    g_autofree char *printed = g_variant_print (complex, TRUE);

    g_assert_cmpstr (printed, ==, expected);
  }
  g_assert_true (invoke1 (test, "EchoComplexObject", variant_value (&arg, complex), G_TYPE_NONE, &value, &error));
  g_assert_no_error (error);
  echoed = g_value_dup_variant (&value);
  g_value_unset (&value);
  g_assert_true (g_variant_equal (complex, echoed));

  /* A call back to the caller with a simple and an object argument */
  g_assert_true (invoke1 (test, "InvokeWithString", string_value (&arg, "to me"), G_TYPE_NONE, &value, &error));
  g_assert_no_error (error);
  g_value_unset (&value);
  WAIT_UNTIL (calls_contain (&calls, "Message('to me')"));
  g_assert_true (invoke1 (test, "SendCustomObject",
                          variant_value (&arg, g_variant_new_parsed ("{'Name': <'custom'>, 'Value': <int64 42>}")),
                          G_TYPE_INVALID, NULL, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (calls.calls->len == 2);
  g_assert_cmpstr (calls.calls->pdata[1], ==, "CustomObject({'Name': <'custom'>, 'Value': <int64 42>})");
  stop (test);

  feature = connect_to (f, "/featurehub", "alice");
  int_value (&args[0], 40);
  int_value (&args[1], 2);
  g_assert_true (invoke (feature, "Add", 2, args, G_TYPE_INT, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_value_unset (&value);
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);

  /* An array */
  variant_value (&arg, g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, numbers, G_N_ELEMENTS (numbers), sizeof numbers[0]));
  g_assert_true (invoke1 (feature, "Sum", &arg, G_TYPE_INT, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 10);
  g_value_unset (&value);

  /* Anything, nested, comes back as it went */
  any = g_variant_ref_sink (g_variant_new_parsed ("{'text': <'x'>, 'number': <int64 -7>, 'real': <1.5>, "
                                                  "'yes': <true>, 'list': <[<int64 1>, <'two'>, <[<false>]>]>, "
                                                  "'nested': <{'deep': <{'er': <'est'>}>}>}"));
  g_assert_true (invoke1 (feature, "EchoAny", variant_value (&arg, any), G_TYPE_NONE, &value, &error));
  g_assert_no_error (error);
  item = g_value_dup_variant (&value);
  g_value_unset (&value);
  g_assert_true (g_variant_equal (any, item));
  g_clear_pointer (&text, g_free);
  g_value_init (&arg, G_TYPE_STRING);
  g_assert_true (invoke1 (feature, "EchoAny", &arg, G_TYPE_STRING, &value, &error));
  g_assert_no_error (error);
  g_assert_null (g_value_get_string (&value));
  g_value_unset (&value);

  text = invoke_string (feature, "GetUserIdentifier", NULL);
  g_assert_cmpstr (text, ==, "alice");
  g_clear_pointer (&text, g_free);
  text = invoke_string (feature, "Custom.Name", NULL);
  g_assert_cmpstr (text, ==, "renamed");
  stop (feature);

  g_assert_cmpuint (f->closed->len, ==, 2);
  g_assert_null (f->closed->pdata[0]);
  g_assert_null (f->closed->pdata[1]);
  g_ptr_array_unref (calls.calls);
}

/* Server-to-client streams */

typedef struct
{
  GPtrArray *items;             /* printed */
  gboolean completed;
  GError *error;
} Streamed;

static void
on_item (HubsClientStream *stream,
         const GValue     *item,
         Streamed         *streamed)
{
  if (G_VALUE_HOLDS_STRING (item))
    g_ptr_array_add (streamed->items, g_value_dup_string (item));
  else
    g_ptr_array_add (streamed->items, g_strdup_printf ("%d", g_value_get_int (item)));
}

static void
on_completed (HubsClientStream *stream,
              const GError     *error,
              Streamed         *streamed)
{
  g_assert_false (streamed->completed);
  streamed->completed = TRUE;
  streamed->error = error != NULL ? g_error_copy (error) : NULL;
}

static void
streamed_clear (Streamed *streamed)
{
  g_clear_pointer (&streamed->items, g_ptr_array_unref);
  g_clear_error (&streamed->error);
  streamed->completed = FALSE;
}

/* Streams @method and waits for its end. */
static void
stream_all (HubsConnection *connection,
            const char     *method,
            guint           n_args,
            const GValue   *args,
            GType           item_type,
            Streamed       *streamed)
{
  g_autoptr(HubsClientStream) stream = NULL;

  streamed_clear (streamed);
  streamed->items = g_ptr_array_new_with_free_func (g_free);
  stream = hubs_connection_stream (connection, method, n_args, args, item_type);
  g_signal_connect (stream, "item", G_CALLBACK (on_item), streamed);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), streamed);
  WAIT_UNTIL (streamed->completed);
}

static void
test_streams (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(HubsConnection) test = NULL;
  g_autoptr(HubsConnection) feature = NULL;
  g_autoptr(HubsClientStream) stream = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_autofree char *message = NULL;
  Streamed streamed = { 0, };
  Calls calls;

  if (f->skipped)
    return;

  test = connect_to (f, "/testhub", NULL);
  calls_init (&calls, test, "StreamCanceled", NULL);

  stream_all (test, "Stream", 0, NULL, G_TYPE_STRING, &streamed);
  g_assert_no_error (streamed.error);
  g_assert_cmpuint (streamed.items->len, ==, 3);
  g_assert_cmpstr (streamed.items->pdata[0], ==, "a");
  g_assert_cmpstr (streamed.items->pdata[1], ==, "b");
  g_assert_cmpstr (streamed.items->pdata[2], ==, "c");

  stream_all (test, "EmptyStream", 0, NULL, G_TYPE_INT, &streamed);
  g_assert_no_error (streamed.error);
  g_assert_cmpuint (streamed.items->len, ==, 0);

  stream_all (test, "StreamThrowException", 1, string_value (&arg, "stream boom"), G_TYPE_INT, &streamed);
  g_value_unset (&arg);
  g_assert_error (streamed.error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (streamed.error->message, ==,
                   "An unexpected error occurred invoking 'StreamThrowException' on the server. "
                   "InvalidOperationException: stream boom");

  /* Streaming and non-streaming methods called the wrong way */
  stream_all (test, "Echo", 1, string_value (&arg, "x"), G_TYPE_STRING, &streamed);
  g_value_unset (&arg);
  g_assert_error (streamed.error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (streamed.error->message, ==,
                   "The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.");
  message = invoke_error (test, "Stream", 0, NULL);
  g_assert_cmpstr (message, ==, "The client attempted to invoke the streaming 'Stream' method with a non-streaming invocation.");

  /* Cancelled: the server's stream sees it and ends. */
  streamed_clear (&streamed);
  streamed.items = g_ptr_array_new_with_free_func (g_free);
  stream = hubs_connection_stream (test, "InfiniteStream", 0, NULL, G_TYPE_INT);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  spin (100);
  g_assert_false (streamed.completed);
  hubs_client_stream_cancel (stream);
  WAIT_UNTIL (streamed.completed);
  g_assert_error (streamed.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  WAIT_UNTIL (calls_contain (&calls, "StreamCanceled()"));
  g_clear_object (&stream);
  stop (test);

  /* Items over time, and a cancellation in the middle */
  feature = connect_to (f, "/featurehub", NULL);
  int_value (&args[0], 4);
  int_value (&args[1], 10);
  stream_all (feature, "Counter", 2, args, G_TYPE_INT, &streamed);
  g_assert_no_error (streamed.error);
  g_assert_cmpuint (streamed.items->len, ==, 4);
  g_assert_cmpstr (streamed.items->pdata[3], ==, "3");

  streamed_clear (&streamed);
  streamed.items = g_ptr_array_new_with_free_func (g_free);
  g_value_set_int (&args[0], 100000);
  stream = hubs_connection_stream (feature, "Counter", 2, args, G_TYPE_INT);
  g_signal_connect (stream, "item", G_CALLBACK (on_item), &streamed);
  g_signal_connect (stream, "completed", G_CALLBACK (on_completed), &streamed);
  WAIT_UNTIL (streamed.items->len >= 3);
  hubs_client_stream_cancel (stream);
  g_assert_true (streamed.completed);
  {
    guint n = streamed.items->len;

    /* No item of the cancelled stream arrives afterwards, and the
     * connection goes on. */
    g_autofree char *text = invoke_string (feature, "Custom.Name", NULL);

    spin (100);
    g_assert_cmpuint (streamed.items->len, ==, n);
  }
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
  stop (feature);

  streamed_clear (&streamed);
  g_ptr_array_unref (calls.calls);
}

/* Client-to-server upload streams */

static void
test_uploads (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(HubsConnection) test = NULL;
  g_autoptr(HubsConnection) feature = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  if (f->skipped)
    return;

  test = connect_to (f, "/testhub", NULL);
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(HubsClientUpload) upload = hubs_client_upload_new ();
      g_autoptr(GAsyncResult) result = NULL;
      g_auto(GValue) arg = G_VALUE_INIT;
      g_auto(GValue) item = G_VALUE_INIT;

      g_value_init (&arg, HUBS_TYPE_CLIENT_UPLOAD);
      g_value_set_object (&arg, upload);
      hubs_connection_invoke_async (test, "StreamingConcat", 1, &arg, G_TYPE_STRING, NULL, got_result, &result);
      for (const char *const *piece = (const char *const[]) { "a", "bc", "déf", NULL }; *piece != NULL; piece++)
        {
          string_value (&item, *piece);
          hubs_client_upload_write (upload, &item);
          g_value_unset (&item);
          spin (5);
        }
      if (round == 0)
        hubs_client_upload_complete (upload);
      else
        {
          g_autoptr(GError) broke = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "upload broke");

          hubs_client_upload_complete_with_error (upload, broke);
        }
      WAIT_UNTIL (result != NULL);
      if (round == 0)
        {
          g_assert_true (hubs_connection_invoke_finish (test, result, &value, &error));
          g_assert_no_error (error);
          g_assert_cmpstr (g_value_get_string (&value), ==, "abcdéf");
          g_value_unset (&value);
        }
      else
        {
          g_assert_false (hubs_connection_invoke_finish (test, result, &value, &error));
          g_assert_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
          g_assert_cmpstr (error->message, ==,
                           "An unexpected error occurred invoking 'StreamingConcat' on the server. HubException: upload broke");
          g_clear_error (&error);
        }
    }
  stop (test);

  feature = connect_to (f, "/featurehub", NULL);
  {
    g_autoptr(HubsClientUpload) upload = hubs_client_upload_new ();
    g_autoptr(GAsyncResult) result = NULL;
    g_auto(GValue) arg = G_VALUE_INIT;
    g_auto(GValue) item = G_VALUE_INIT;

    g_value_init (&arg, HUBS_TYPE_CLIENT_UPLOAD);
    g_value_set_object (&arg, upload);
    hubs_connection_invoke_async (feature, "Upload", 1, &arg, G_TYPE_INT, NULL, got_result, &result);
    int_value (&item, 0);
    for (int i = 1; i <= 100; i++)
      {
        g_value_set_int (&item, i);
        hubs_client_upload_write (upload, &item);
      }
    hubs_client_upload_complete (upload);
    WAIT_UNTIL (result != NULL);
    g_assert_true (hubs_connection_invoke_finish (feature, result, &value, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_value_get_int (&value), ==, 5050);
  }
  stop (feature);
}

/* Client results */

typedef enum
{
  ANSWER_VALUE,
  ANSWER_ERROR,
  ANSWER_NOTHING,
  ANSWER_STRING,                /* the wrong type */
} Answer;

static gboolean
answer_double (HubsConnection       *connection,
               HubsClientInvocation *invocation,
               gpointer              user_data)
{
  Answer *answer = user_data;
  g_auto(GValue) result = G_VALUE_INIT;
  GVariant *x = g_value_get_variant (hubs_client_invocation_get_argument (invocation, 0));

  g_assert_true (hubs_client_invocation_expects_result (invocation));
  switch (*answer)
    {
    case ANSWER_VALUE:
      int_value (&result, 2 * (int) g_variant_get_int64 (x));
      break;
    case ANSWER_ERROR:
      hubs_client_invocation_return_error_literal (invocation, "Error: from callback");
      return HUBS_INVOCATION_HANDLED;
    case ANSWER_NOTHING:
      return HUBS_INVOCATION_UNHANDLED;
    case ANSWER_STRING:
    default:
      string_value (&result, "not a number");
      break;
    }
  hubs_client_invocation_return_value (invocation, &result);
  return HUBS_INVOCATION_HANDLED;
}

/* The warning of two answers, counted; the library logs structured, which
 * g_test_expect_message() of GLib 2.74 does not see. */
static guint n_multiple_results;

static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
        g_str_equal (fields[i].value, "Multiple results provided for 'result'. Sending error to server."))
      {
        n_multiple_results++;
        return G_LOG_WRITER_HANDLED;
      }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* GET /clientresult/{id}: the server's view of TestHub's client result. */
static char *
client_result (Fixture        *f,
               HubsConnection *connection)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("%s/clientresult/%s", servers[f->param->server].url,
                                          hubs_connection_get_connection_id (connection));
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  soup_session_send_and_read_async (session, message, G_PRIORITY_DEFAULT, NULL, got_result, &result);
  WAIT_UNTIL (result != NULL);
  body = soup_session_send_and_read_finish (session, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (message), ==, 200);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static gboolean
answer_result (HubsConnection       *connection,
               HubsClientInvocation *invocation,
               gpointer              user_data)
{
  g_auto(GValue) result = G_VALUE_INIT;

  hubs_client_invocation_return_value (invocation, int_value (&result, GPOINTER_TO_INT (user_data)));
  return HUBS_INVOCATION_HANDLED;
}

static void
test_client_results (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(HubsConnection) feature = NULL;
  g_autoptr(HubsConnection) test = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autofree char *message = NULL;
  g_autofree char *body = NULL;
  Answer answer = ANSWER_VALUE;
  guint id;

  if (f->skipped)
    return;

  feature = connect_to (f, "/featurehub", NULL);
  int_value (&arg, 21);
  /* No handler at all */
  message = invoke_error (feature, "AskCaller", 1, &arg);
  g_assert_cmpstr (message, ==,
                   "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Client didn't provide a result.");
  g_clear_pointer (&message, g_free);

  id = hubs_connection_on (feature, "Double", 0, NULL, answer_double, &answer, NULL);
  g_assert_true (invoke (feature, "AskCaller", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_value_unset (&value);

  answer = ANSWER_ERROR;
  message = invoke_error (feature, "AskCaller", 1, &arg);
  g_assert_cmpstr (message, ==,
                   "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Error: from callback");
  g_clear_pointer (&message, g_free);

  answer = ANSWER_NOTHING;
  message = invoke_error (feature, "AskCaller", 1, &arg);
  g_assert_cmpstr (message, ==,
                   "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Client didn't provide a result.");
  g_clear_pointer (&message, g_free);

  /* A result the server cannot take as an int fails that call only. */
  answer = ANSWER_STRING;
  message = invoke_error (feature, "AskCaller", 1, &arg);
  g_test_message ("a string for an int: %s", message);
  /* The rest is the deserializer's own text, which differs. */
  g_assert_true (g_str_has_prefix (message, "An unexpected error occurred invoking 'AskCaller' on the server. "
                                            "HubException: Error trying to deserialize result to Int32. "));
  g_clear_pointer (&message, g_free);
  answer = ANSWER_VALUE;
  g_assert_true (invoke (feature, "AskCaller", 1, &arg, G_TYPE_INT, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&value), ==, 42);
  g_value_unset (&value);
  hubs_connection_off (feature, id);
  stop (feature);

  /* From outside the hub, through the hub context */
  test = connect_to (f, "/testhub", NULL);
  body = client_result (f, test);
  g_assert_cmpstr (body, ==, "Client didn't provide a result.");
  g_clear_pointer (&body, g_free);
  id = hubs_connection_on (test, "Result", 0, NULL, answer_result, GINT_TO_POINTER (1234), NULL);
  body = client_result (f, test);
  g_assert_cmpstr (body, ==, "1234");
  g_clear_pointer (&body, g_free);

  /* Two handlers that both answer: the JavaScript client's rule. */
  hubs_connection_on (test, "result", 0, NULL, answer_result, GINT_TO_POINTER (5678), NULL);
  n_multiple_results = 0;
  body = client_result (f, test);
  g_assert_cmpuint (n_multiple_results, ==, 1);
  g_assert_cmpstr (body, ==, "Client provided multiple results.");
  g_clear_pointer (&body, g_free);
  hubs_connection_off (test, id);
  body = client_result (f, test);
  g_assert_cmpstr (body, ==, "5678");
  g_clear_pointer (&body, g_free);

  /* The same handler again is not a second one (HubConnection.ts). */
  id = hubs_connection_on (test, "Result", 0, NULL, answer_result, GINT_TO_POINTER (5678), NULL);
  g_assert_cmpuint (hubs_connection_on (test, "RESULT", 0, NULL, answer_result, GINT_TO_POINTER (5678), NULL), ==, id);
  n_multiple_results = 0;
  body = client_result (f, test);
  g_assert_cmpuint (n_multiple_results, ==, 0);
  g_assert_cmpstr (body, ==, "5678");
  stop (test);
}

/* Groups and users: FeatureHub */

static void
test_groups (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(HubsConnection) a = NULL;
  g_autoptr(HubsConnection) b = NULL;
  g_autoptr(HubsConnection) c = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  GValue args[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  const char *groups[] = { "g", "h", NULL };
  Calls in_a, in_b, in_c;
  g_autofree char *expected = NULL;
  const char *a_id, *b_id, *c_id;

  if (f->skipped)
    return;

  a = connection_new (f, "/featurehub", "ann");
  b = connection_new (f, "/featurehub", "bob");
  c = connection_new (f, "/featurehub", "bob");
  calls_init (&in_a, a, "Message", "Welcome", NULL);
  calls_init (&in_b, b, "Message", NULL);
  calls_init (&in_c, c, "Message", NULL);
  start (a);
  start (b);
  start (c);
  a_id = hubs_connection_get_connection_id (a);
  b_id = hubs_connection_get_connection_id (b);
  c_id = hubs_connection_get_connection_id (c);
  expected = g_strdup_printf ("Welcome('%s')", a_id);
  WAIT_UNTIL (calls_contain (&in_a, expected));
  g_clear_pointer (&expected, g_free);

  g_assert_true (invoke1 (a, "JoinGroup", string_value (&arg, "g"), G_TYPE_INVALID, NULL, &error));
  g_assert_true (invoke1 (a, "JoinGroup", string_value (&arg, "h"), G_TYPE_INVALID, NULL, &error));
  g_assert_true (invoke1 (b, "JoinGroup", string_value (&arg, "g"), G_TYPE_INVALID, NULL, &error));
  g_assert_no_error (error);

  /* To the group, from outside it */
  string_value (&args[0], "g");
  string_value (&args[1], "to g");
  g_assert_true (invoke (c, "SendToGroup", 2, args, G_TYPE_INVALID, NULL, &error));
  expected = g_strdup_printf ("Message('%s', 'to g')", c_id);
  WAIT_UNTIL (calls_contain (&in_a, expected) && calls_contain (&in_b, expected));
  g_clear_pointer (&expected, g_free);

  /* To the others in the group */
  g_value_set_string (&args[1], "others in g");
  g_assert_true (invoke (a, "SendToOthersInGroup", 2, args, G_TYPE_INVALID, NULL, &error));
  expected = g_strdup_printf ("Message('%s', 'others in g')", a_id);
  WAIT_UNTIL (calls_contain (&in_b, expected));
  g_clear_pointer (&expected, g_free);

  /* To two groups: a member of both gets it twice */
  g_value_unset (&args[0]);
  g_value_init (&args[0], G_TYPE_STRV);
  g_value_set_boxed (&args[0], groups);
  g_value_set_string (&args[1], "to g and h");
  g_assert_true (invoke (c, "SendToGroups", 2, args, G_TYPE_INVALID, NULL, &error));
  expected = g_strdup_printf ("Message('%s', 'to g and h')", c_id);
  WAIT_UNTIL (calls_count (&in_a, expected) == 2 && calls_count (&in_b, expected) == 1);
  g_clear_pointer (&expected, g_free);
  g_value_unset (&args[0]);

  /* Except one */
  string_value (&args[0], "g");
  g_value_unset (&args[1]);
  g_value_init (&args[1], G_TYPE_STRV);
  g_value_set_boxed (&args[1], (const char *const[]) { a_id, NULL });
  string_value (&args[2], "g but a");
  g_assert_true (invoke (c, "SendToGroupExcept", 3, args, G_TYPE_INVALID, NULL, &error));
  expected = g_strdup_printf ("Message('%s', 'g but a')", c_id);
  WAIT_UNTIL (calls_contain (&in_b, expected));
  g_value_unset (&args[1]);
  g_value_unset (&args[2]);

  /* Left: no more */
  g_assert_true (invoke1 (b, "LeaveGroup", string_value (&arg, "g"), G_TYPE_INVALID, NULL, &error));
  string_value (&args[1], "after leaving");
  g_assert_true (invoke (c, "SendToGroup", 2, args, G_TYPE_INVALID, NULL, &error));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'after leaving')", c_id);
  WAIT_UNTIL (calls_contain (&in_a, expected));
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);

  /* To a user: both of bob's connections */
  string_value (&args[0], "bob");
  string_value (&args[1], "to bob");
  g_assert_true (invoke (a, "SendToUser", 2, args, G_TYPE_INVALID, NULL, &error));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'to bob')", a_id);
  WAIT_UNTIL (calls_contain (&in_b, expected) && calls_contain (&in_c, expected));
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
  g_assert_no_error (error);

  /* Everything has arrived by now: check what must not have. */
  g_assert_true (invoke1 (a, "SendToCaller", string_value (&arg, "sync"), G_TYPE_INVALID, NULL, &error));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'sync')", a_id);
  WAIT_UNTIL (calls_contain (&in_a, expected));
  spin (100);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'others in g')", a_id);
  g_assert_false (calls_contain (&in_a, expected));
  g_assert_false (calls_contain (&in_c, expected));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'g but a')", c_id);
  g_assert_false (calls_contain (&in_a, expected));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'after leaving')", c_id);
  g_assert_false (calls_contain (&in_b, expected));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'to g')", c_id);
  g_assert_false (calls_contain (&in_c, expected));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("Message('%s', 'to bob')", a_id);
  g_assert_false (calls_contain (&in_a, expected));
  (void) b_id;

  stop (c);
  stop (b);
  stop (a);
  g_ptr_array_unref (in_a.calls);
  g_ptr_array_unref (in_b.calls);
  g_ptr_array_unref (in_c.calls);
}

/* Errors, with detailed errors on (TestHub) and off (FeatureHub) */

static void
test_errors (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(HubsConnection) test = NULL;
  g_autoptr(HubsConnection) feature = NULL;
  g_autoptr(GError) error = NULL;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_autofree char *message = NULL;

  if (f->skipped)
    return;

  test = connect_to (f, "/testhub", NULL);
  string_value (&args[0], "boom");
  message = invoke_error (test, "ThrowException", 1, args);
  g_assert_cmpstr (message, ==, "An unexpected error occurred invoking 'ThrowException' on the server. "
                   "InvalidOperationException: boom");
  g_clear_pointer (&message, g_free);
  message = invoke_error (test, "NoSuchMethod", 0, NULL);
  g_assert_cmpstr (message, ==, "Failed to invoke 'NoSuchMethod' due to an error on the server. "
                   "HubException: Method does not exist.");
  g_clear_pointer (&message, g_free);
  /* A wrong number of arguments, detailed */
  string_value (&args[1], "extra");
  message = invoke_error (test, "Echo", 2, args);
  g_assert_cmpstr (message, ==, "Failed to invoke 'Echo' due to an error on the server. "
                   "InvalidDataException: Invocation provides 2 argument(s) but target expects 1.");
  g_clear_pointer (&message, g_free);
  /* The connection has survived all of it. */
  message = invoke_string (test, "GetCallerConnectionId", NULL);
  g_clear_pointer (&message, g_free);
  stop (test);

  feature = connect_to (f, "/featurehub", NULL);
  message = invoke_error (feature, "ThrowHubError", 1, args);
  g_assert_cmpstr (message, ==, "An unexpected error occurred invoking 'ThrowHubError' on the server. HubException: boom");
  g_clear_pointer (&message, g_free);
  message = invoke_error (feature, "ThrowOther", 1, args);
  g_assert_cmpstr (message, ==, "An unexpected error occurred invoking 'ThrowOther' on the server.");
  g_clear_pointer (&message, g_free);
  message = invoke_error (feature, "NoSuchMethod", 0, NULL);
  g_assert_cmpstr (message, ==, "Failed to invoke 'NoSuchMethod' due to an error on the server. "
                   "HubException: Method does not exist.");
  g_clear_pointer (&message, g_free);
  message = invoke_error (feature, "Add", 2, args);
  g_assert_cmpstr (message, ==, "Failed to invoke 'Add' due to an error on the server.");
  g_clear_pointer (&message, g_free);
  g_value_unset (&args[0]);
  g_value_unset (&args[1]);

  /* Abort(): the server closes; a clean close, no reconnect */
  hubs_connection_invoke_async (feature, "Abort", 0, NULL, G_TYPE_INVALID, NULL, NULL, NULL);
  WAIT_UNTIL (f->closed->len == 2);
  g_assert_null (f->closed->pdata[0]);
  g_assert_cmpint (hubs_connection_get_state (feature), ==, HUBS_CONNECTION_STATE_DISCONNECTED);
  g_assert_false (invoke (feature, "Add", 0, NULL, G_TYPE_INT, NULL, &error));
  g_assert_nonnull (error);
}

static const struct
{
  HubsTransportType transport;
  const char *protocol;
} combinations[] = {
  { HUBS_TRANSPORT_WEB_SOCKETS, "json" },
  { HUBS_TRANSPORT_SERVER_SENT_EVENTS, "json" },
  { HUBS_TRANSPORT_LONG_POLLING, "json" },
  { HUBS_TRANSPORT_WEB_SOCKETS, "messagepack" },
  { HUBS_TRANSPORT_LONG_POLLING, "messagepack" },
};

int
main (int   argc,
      char *argv[])
{
  static const struct
  {
    const char *name;
    void (*func) (Fixture *, gconstpointer);
  } bodies[] = {
    { "calls", test_calls },
    { "streams", test_streams },
    { "uploads", test_uploads },
    { "client-results", test_client_results },
    { "groups", test_groups },
    { "errors", test_errors },
  };
  g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func (g_free);
  int status;

  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);

  for (guint s = 0; s < N_SERVERS; s++)
    for (gsize c = 0; c < G_N_ELEMENTS (combinations); c++)
      {
        Param *param = g_new0 (Param, 1);
        const char *transport = combinations[c].transport == HUBS_TRANSPORT_WEB_SOCKETS ? "websockets" :
                                combinations[c].transport == HUBS_TRANSPORT_LONG_POLLING ? "longpolling" : "sse";

        param->server = s;
        param->transport = combinations[c].transport;
        param->protocol = combinations[c].protocol;
        g_ptr_array_add (params, param);
        for (gsize b = 0; b < G_N_ELEMENTS (bodies); b++)
          {
            g_autofree char *path = g_strdup_printf ("/hubs/client-interop/%s/%s/%s/%s", servers[s].name,
                                                     transport, param->protocol, bodies[b].name);

            g_test_add (path, Fixture, param, fixture_set_up, bodies[b].func, fixture_tear_down);
          }
      }

  status = g_test_run ();
  servers_stop ();
  return status;
}
