/* test-filters.c: the chain of hub filters around a method, without a
 * network: order, argument changes, short-circuits, results seen and
 * changed, completion later, and a filter that forgets to complete
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Through the real official client, tests/js/filters.test.mjs covers the
 * same on the wire, with on_connected and on_disconnected.
 */

#include <string.h>

#include "hubs.h"
#include "hubs-test-util.h"
#include "hubs-hub-filter-private.h"

/* A hub type: the chain holds an instance; nothing calls into it. */

#define TEST_TYPE_HUB (test_hub_get_type ())
G_DECLARE_FINAL_TYPE (TestHub, test_hub, TEST, HUB, HubsHub)

struct _TestHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (TestHub, test_hub, HUBS_TYPE_HUB)

static void
test_hub_class_init (TestHubClass *klass)
{
}

static void
test_hub_init (TestHub *self)
{
}

/* What a run saw. */
static GString *trace;

static void
trace_add (const char *format,
           ...) G_GNUC_PRINTF (1, 2);

static void
trace_add (const char *format,
           ...)
{
  va_list args;

  if (trace->len > 0)
    g_string_append_c (trace, ' ');
  va_start (args, format);
  g_string_append_vprintf (trace, format, args);
  va_end (args);
}

/* A test filter: its behaviour is chosen per instance. */

typedef enum
{
  PASS,                 /* invoke_next */
  AROUND,               /* invoke_next_async, then the same result */
  UPPERCASE_ARGUMENT,   /* argument 0 upper-cased, then invoke_next */
  REFUSE,               /* a hub error, without calling on */
  DOUBLE_RESULT,        /* invoke_next_async, then the result doubled */
  FORGET,               /* returns without completing or passing on */
} Behaviour;

#define TEST_TYPE_FILTER (test_filter_get_type ())
G_DECLARE_FINAL_TYPE (TestFilter, test_filter, TEST, FILTER, GObject)

struct _TestFilter
{
  GObject parent_instance;

  char *name;
  Behaviour behaviour;
};

static void test_filter_iface_init (HubsHubFilterInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestFilter, test_filter, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HUBS_TYPE_HUB_FILTER, test_filter_iface_init))

static void
next_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  HubsHubInvocationContext *context = HUBS_HUB_INVOCATION_CONTEXT (source);
  g_autoptr(TestFilter) self = user_data;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (!hubs_hub_invocation_context_invoke_next_finish (context, result, &value, &error))
    {
      trace_add ("<%s:error", self->name);
      hubs_hub_invocation_context_return_gerror (context, error);
      return;
    }

  trace_add ("<%s", self->name);
  if (self->behaviour == DOUBLE_RESULT)
    g_value_set_int (&value, g_value_get_int (&value) * 2);
  hubs_hub_invocation_context_return_value (context, &value);
}

static void
test_filter_invoke_method (HubsHubFilter            *filter,
                           HubsHubInvocationContext *context)
{
  TestFilter *self = TEST_FILTER (filter);

  trace_add ("%s>", self->name);
  switch (self->behaviour)
    {
    case PASS:
      hubs_hub_invocation_context_invoke_next (context);
      break;

    case AROUND:
    case DOUBLE_RESULT:
      hubs_hub_invocation_context_invoke_next_async (context, next_done, g_object_ref (self));
      break;

    case UPPERCASE_ARGUMENT:
      {
        g_auto(GValue) upper = G_VALUE_INIT;

        g_value_init (&upper, G_TYPE_STRING);
        g_value_take_string (&upper, g_ascii_strup (g_value_get_string (hubs_hub_invocation_context_get_argument (context, 0)), -1));
        hubs_hub_invocation_context_set_argument (context, 0, &upper);
        hubs_hub_invocation_context_invoke_next (context);
      }
      break;

    case REFUSE:
      hubs_hub_invocation_context_return_error_literal (context, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                                                        "refused");
      break;

    case FORGET:
      break;
    }
}

static void
test_filter_iface_init (HubsHubFilterInterface *iface)
{
  iface->invoke_method = test_filter_invoke_method;
}

static void
test_filter_finalize (GObject *object)
{
  g_free (TEST_FILTER (object)->name);

  G_OBJECT_CLASS (test_filter_parent_class)->finalize (object);
}

static void
test_filter_class_init (TestFilterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_filter_finalize;
}

static void
test_filter_init (TestFilter *self)
{
}

static GPtrArray *
filters_new (const char *name,
             Behaviour   behaviour,
             ...)
{
  GPtrArray *filters = g_ptr_array_new_with_free_func (g_object_unref);
  va_list args;

  va_start (args, behaviour);
  while (name != NULL)
    {
      TestFilter *filter = g_object_new (TEST_TYPE_FILTER, NULL);

      filter->name = g_strdup (name);
      filter->behaviour = behaviour;
      g_ptr_array_add (filters, filter);

      name = va_arg (args, const char *);
      if (name != NULL)
        behaviour = va_arg (args, Behaviour);
    }
  va_end (args);

  return filters;
}

/* The method: Method(string s, int n) returns strlen (s) + n, now or from
 * an idle when `later` is set. */

typedef struct
{
  gboolean later;
  guint n_runs;
  gboolean done;
  GValue result;
  GError *error;
} Run;

typedef struct
{
  HubsHubInvocationContext *context;
  gint result;
} Later;

static gboolean
complete_later (gpointer user_data)
{
  Later *later = user_data;
  g_auto(GValue) value = G_VALUE_INIT;

  trace_add ("m-later");
  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, later->result);
  hubs_hub_invocation_context_return_value (later->context, &value);
  g_object_unref (later->context);
  g_free (later);
  return G_SOURCE_REMOVE;
}

static void
method (HubsHubInvocationContext *context,
        gpointer                  user_data)
{
  Run *run = user_data;
  guint n_args;
  const GValue *args = hubs_hub_invocation_context_peek_arguments (context, &n_args);
  const char *s = g_value_get_string (&args[0]);
  gint result = (gint) strlen (s) + g_value_get_int (&args[1]);
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_cmpuint (n_args, ==, 2);
  run->n_runs++;
  trace_add ("m(%s)", s);

  if (run->later)
    {
      Later *later = g_new0 (Later, 1);

      later->context = g_object_ref (context);
      later->result = result;
      g_idle_add (complete_later, later);
      return;
    }

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, result);
  hubs_hub_invocation_context_return_value (context, &value);
}

static void
done (const GValue *result,
      const GError *error,
      gpointer      user_data)
{
  Run *run = user_data;

  g_assert_false (run->done);
  run->done = TRUE;
  if (error != NULL)
    run->error = g_error_copy (error);
  else if (G_IS_VALUE (result))
    {
      g_value_init (&run->result, G_VALUE_TYPE (result));
      g_value_copy (result, &run->result);
    }
}

static void
run_chain (GPtrArray  *filters,
           Run        *run,
           const char *s,
           gint        n)
{
  g_autoptr(HubsHub) hub = g_object_new (TEST_TYPE_HUB, NULL);
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };

  g_value_init (&args[0], G_TYPE_STRING);
  g_value_set_string (&args[0], s);
  g_value_init (&args[1], G_TYPE_INT);
  g_value_set_int (&args[1], n);

  g_string_truncate (trace, 0);
  hubs_hub_filters_invoke (filters, hub, "Method", FALSE, NULL, args, G_N_ELEMENTS (args),
                           method, run, done, run);
  while (!run->done)
    g_main_context_iteration (NULL, TRUE);

  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
}

static void
run_clear (Run *run)
{
  if (G_IS_VALUE (&run->result))
    g_value_unset (&run->result);
  g_clear_error (&run->error);
}

static void
test_order (void)
{
  g_autoptr(GPtrArray) filters = filters_new ("global", AROUND, "a", PASS, "b", AROUND, NULL);
  Run run = { 0 };

  run_chain (filters, &run, "abc", 1);
  g_assert_no_error (run.error);
  g_assert_cmpint (g_value_get_int (&run.result), ==, 4);
  g_assert_cmpuint (run.n_runs, ==, 1);
  g_assert_cmpstr (trace->str, ==, "global> a> b> m(abc) <b <global");
  run_clear (&run);
}

static void
test_no_filter_runs_method (void)
{
  g_autoptr(GPtrArray) filters = g_ptr_array_new ();
  Run run = { 0 };

  run_chain (filters, &run, "xy", 0);
  g_assert_cmpint (g_value_get_int (&run.result), ==, 2);
  g_assert_cmpstr (trace->str, ==, "m(xy)");
  run_clear (&run);
}

static void
test_argument_changed (void)
{
  g_autoptr(GPtrArray) filters = filters_new ("upper", UPPERCASE_ARGUMENT, "seen", AROUND, NULL);
  Run run = { 0 };

  run_chain (filters, &run, "quiet", 0);
  g_assert_cmpstr (trace->str, ==, "upper> seen> m(QUIET) <seen");
  g_assert_cmpint (g_value_get_int (&run.result), ==, 5);
  run_clear (&run);
}

static void
test_short_circuit (void)
{
  g_autoptr(GPtrArray) filters = filters_new ("outer", AROUND, "refuse", REFUSE, "inner", PASS, NULL);
  Run run = { 0 };

  run_chain (filters, &run, "abc", 0);
  g_assert_error (run.error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED);
  g_assert_cmpstr (run.error->message, ==, "refused");
  g_assert_cmpuint (run.n_runs, ==, 0);
  g_assert_cmpstr (trace->str, ==, "outer> refuse> <outer:error");
  run_clear (&run);
}

static void
test_result_changed (void)
{
  g_autoptr(GPtrArray) filters = filters_new ("double", DOUBLE_RESULT, "around", AROUND, NULL);
  Run run = { 0 };

  run_chain (filters, &run, "abcd", 1);
  g_assert_cmpint (g_value_get_int (&run.result), ==, 10);
  g_assert_cmpstr (trace->str, ==, "double> around> m(abcd) <around <double");
  run_clear (&run);
}

static void
test_method_completes_later (void)
{
  g_autoptr(GPtrArray) filters = filters_new ("a", AROUND, "b", PASS, NULL);
  Run run = { .later = TRUE };

  run_chain (filters, &run, "ab", 3);
  g_assert_cmpint (g_value_get_int (&run.result), ==, 5);
  g_assert_cmpstr (trace->str, ==, "a> b> m(ab) m-later <a");
  run_clear (&run);
}

static void
test_forgotten_context_fails (void)
{
  g_autoptr(GPtrArray) filters = filters_new ("outer", AROUND, "forget", FORGET, NULL);
  Run run = { 0 };

  run_chain (filters, &run, "abc", 0);
  g_assert_error (run.error, HUBS_ERROR, HUBS_ERROR_FAILED);
  g_assert_cmpuint (run.n_runs, ==, 0);
  g_assert_cmpstr (trace->str, ==, "outer> forget> <outer:error");
  run_clear (&run);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  trace = g_string_new (NULL);

  g_test_add_func ("/hubs/filters/order", test_order);
  g_test_add_func ("/hubs/filters/none", test_no_filter_runs_method);
  g_test_add_func ("/hubs/filters/argument-changed", test_argument_changed);
  g_test_add_func ("/hubs/filters/short-circuit", test_short_circuit);
  g_test_add_func ("/hubs/filters/result-changed", test_result_changed);
  g_test_add_func ("/hubs/filters/method-completes-later", test_method_completes_later);
  g_test_add_func ("/hubs/filters/forgotten-context-fails", test_forgotten_context_fails);

  status = g_test_run ();
  g_string_free (trace, TRUE);
  return status;
}
