/* micro.c: microbenchmarks of hubs-glib's protocol layer and lifetime manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain timing loops, run by hand (bench/micro), never by the test suite:
 * each benchmark runs a batch of operations long enough to take at least
 * --min-time-ms (20 ms), then --rounds (5) such batches, and prints the best
 * (lowest) time per operation in nanoseconds, from g_get_monotonic_time().
 *
 *  - protocol/{json,messagepack}/{write,parse,parse+bind}/{small,large,many}:
 *    an Invocation with one int argument (small), one 32 KiB string (large)
 *    or twenty arguments, ten ints and ten short strings (many), through
 *    hubs_hub_protocol_lookup()'s write_message, parse_message and
 *    bind_arguments;
 *  - send/{all,group}/{json,messagepack}/N: hubs_client_proxy_send()'s path
 *    below the hub: one Invocation "send"(int) built, wrapped in a
 *    HubsSerializedMessage and given to the in-memory lifetime manager for
 *    all N connections, or for a group holding all N; N = 1, 10, 1000;
 *  - group/add/N, group/remove/N: hubs_lifetime_manager_group_async() of
 *    each of N connections to one group, then out of it.
 *
 * The connections are real HubsConnectionContexts, handshake included, on
 * a transport that takes the bytes and drops them (BenchNullTransport): what
 * is measured is the library above the transport, not WebSocket framing or
 * the kernel (the load generator's scenarios measure those).
 *
 *   micro [--filter TEXT] [--rounds N] [--min-time-ms MS] [--json FILE]
 */

#include <stdio.h>
#include <string.h>

#include "hubs.h"
#include "hubs-connection-context-private.h"
#include "hubs-http-connection-private.h"
#include "hubs-hub-context-private.h"
#include "hubs-hub-protocol-private.h"
#include "hubs-lifetime-manager-private.h"
#include "hubs-transport-private.h"

static int opt_rounds = 5;
static int opt_min_time_ms = 20;
static char *opt_filter;
static char *opt_json;
static FILE *json_out;

/* ---- timing ---------------------------------------------------------------- */

typedef void (*BenchFunc) (gpointer data, guint64 n);

static gboolean
wanted (const char *name)
{
  return opt_filter == NULL || strstr (name, opt_filter) != NULL;
}

static void
report (const char *name, double ns, guint64 n)
{
  g_print ("%-44s %12.1f ns/op %14.0f ops/s  (%" G_GUINT64_FORMAT " a round)\n", name, ns, 1e9 / ns, n);
  if (json_out != NULL)
    fprintf (json_out, "{\"name\":\"%s\",\"ns_per_op\":%.2f,\"ops_per_round\":%" G_GUINT64_FORMAT ",\"rounds\":%d}\n",
             name, ns, n, opt_rounds);
}

/* Calibrates the batch size, then the best of opt_rounds batches. */
static void
bench (const char *name,
       BenchFunc   func,
       gpointer    data)
{
  guint64 n = 1;
  gint64 dt;
  double best = G_MAXDOUBLE;

  if (!wanted (name))
    return;

  for (;;)
    {
      gint64 t0 = g_get_monotonic_time ();
      func (data, n);
      dt = g_get_monotonic_time () - t0;
      if (dt >= opt_min_time_ms * 1000 || n >= (G_GUINT64_CONSTANT (1) << 32))
        break;
      n = dt < 100 ? n * 10 : MAX (n + 1, (guint64) (n * (opt_min_time_ms * 1000.0 * 1.2) / dt));
    }
  for (int r = 0; r < opt_rounds; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      func (data, n);
      dt = g_get_monotonic_time () - t0;
      best = MIN (best, dt * 1000.0 / n);
    }
  report (name, best, n);
}

/* ---- protocol ------------------------------------------------------------- */

typedef struct
{
  const HubsHubProtocol *protocol;
  HubsHubMessage *message;
  GBytes *bytes;
  GByteArray *out;
  guint n_params;
  HubsParamType params[20];
} ProtocolCase;

static HubsHubMessage *
make_invocation (const char *shape)
{
  GValue args[20] = { G_VALUE_INIT };
  guint n = 0;
  HubsHubMessage *message;

  if (g_str_equal (shape, "small"))
    {
      g_value_init (&args[n], G_TYPE_INT);
      g_value_set_int (&args[n++], 42);
    }
  else if (g_str_equal (shape, "large"))
    {
      GString *s = g_string_sized_new (32 * 1024);
      while (s->len < 32 * 1024)
        g_string_append (s, "The quick brown fox jumps over the lazy dog. 0123456789 ");
      g_string_truncate (s, 32 * 1024);
      g_value_init (&args[n], G_TYPE_STRING);
      g_value_take_string (&args[n++], g_string_free (s, FALSE));
    }
  else
    for (; n < 20; n++)
      if (n % 2 == 0)
        {
          g_value_init (&args[n], G_TYPE_INT);
          g_value_set_int (&args[n], 1000 * n + 7);
        }
      else
        {
          g_value_init (&args[n], G_TYPE_STRING);
          g_value_take_string (&args[n], g_strdup_printf ("argument-%u", n));
        }

  message = hubs_hub_message_new_invocation ("17", "Target", n, args);
  for (guint i = 0; i < n; i++)
    g_value_unset (&args[i]);
  return message;
}

static void
protocol_write (gpointer data,
                guint64  n)
{
  ProtocolCase *c = data;

  for (guint64 i = 0; i < n; i++)
    {
      g_byte_array_set_size (c->out, 0);
      c->protocol->write_message (c->message, c->out);
    }
}

static void
protocol_parse (gpointer data,
                guint64  n)
{
  ProtocolCase *c = data;
  gsize len;
  const guint8 *p = g_bytes_get_data (c->bytes, &len);

  for (guint64 i = 0; i < n; i++)
    {
      gsize consumed = 0;
      HubsHubMessage *m = c->protocol->parse_message (p, len, 0, &consumed, NULL);

      g_assert (m != NULL && consumed == len);
      hubs_hub_message_unref (m);
    }
}

static void
protocol_parse_bind (gpointer data,
                     guint64  n)
{
  ProtocolCase *c = data;
  gsize len;
  const guint8 *p = g_bytes_get_data (c->bytes, &len);

  for (guint64 i = 0; i < n; i++)
    {
      gsize consumed = 0;
      GValue values[20] = { G_VALUE_INIT };
      HubsHubMessage *m = c->protocol->parse_message (p, len, 0, &consumed, NULL);
      gboolean ok = c->protocol->bind_arguments (m, c->n_params, c->params, values, NULL);

      g_assert (ok);
      for (guint k = 0; k < c->n_params; k++)
        g_value_unset (&values[k]);
      hubs_hub_message_unref (m);
    }
}

static void
run_protocol (void)
{
  static const char *const protocols[] = { "json", "messagepack" };
  static const char *const shapes[] = { "small", "large", "many" };

  for (guint p = 0; p < G_N_ELEMENTS (protocols); p++)
    for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
      {
        ProtocolCase c = { 0 };
        char name[96];

        c.protocol = hubs_hub_protocol_lookup (protocols[p]);
        g_assert (c.protocol != NULL);
        c.message = make_invocation (shapes[s]);
        c.out = g_byte_array_new ();
        c.protocol->write_message (c.message, c.out);
        c.bytes = g_bytes_new (c.out->data, c.out->len);
        c.n_params = c.message->n_arguments;
        for (guint k = 0; k < c.n_params; k++)
          c.params[k].type = G_VALUE_TYPE (&c.message->arguments[k]);

        g_snprintf (name, sizeof name, "protocol/%s/write/%s (%u B)", protocols[p], shapes[s], c.out->len);
        bench (name, protocol_write, &c);
        g_snprintf (name, sizeof name, "protocol/%s/parse/%s", protocols[p], shapes[s]);
        bench (name, protocol_parse, &c);
        g_snprintf (name, sizeof name, "protocol/%s/parse+bind/%s", protocols[p], shapes[s]);
        bench (name, protocol_parse_bind, &c);

        g_bytes_unref (c.bytes);
        g_byte_array_unref (c.out);
        hubs_hub_message_unref (c.message);
      }
}

/* ---- in-memory connections -------------------------------------------------- */

/* A transport that counts what it is given and drops it. */
#define BENCH_TYPE_NULL_TRANSPORT (bench_null_transport_get_type ())
G_DECLARE_FINAL_TYPE (BenchNullTransport, bench_null_transport, BENCH, NULL_TRANSPORT, HubsTransport)

struct _BenchNullTransport
{
  HubsTransport parent_instance;
  guint64 sends;
  guint64 bytes;
};

G_DEFINE_FINAL_TYPE (BenchNullTransport, bench_null_transport, HUBS_TYPE_TRANSPORT)

static void
null_start (HubsTransport *transport)
{
}

static void
null_send (HubsTransport *transport,
           GBytes        *data)
{
  BenchNullTransport *self = BENCH_NULL_TRANSPORT (transport);

  self->sends++;
  self->bytes += g_bytes_get_size (data);
}

static void
null_close (HubsTransport *transport,
            gboolean       failed)
{
  hubs_transport_emit_closed (transport, NULL);
}

static void
null_abort (HubsTransport *transport)
{
  hubs_transport_emit_closed (transport, NULL);
}

static void
null_set_receiving (HubsTransport *transport,
                    gboolean       receiving)
{
}

static gsize
null_get_queued_bytes (HubsTransport *transport)
{
  return 0;
}

static void
bench_null_transport_class_init (BenchNullTransportClass *klass)
{
  HubsTransportClass *transport_class = HUBS_TRANSPORT_CLASS (klass);

  transport_class->start = null_start;
  transport_class->send = null_send;
  transport_class->close = null_close;
  transport_class->abort = null_abort;
  transport_class->set_receiving = null_set_receiving;
  transport_class->get_queued_bytes = null_get_queued_bytes;
}

static void
bench_null_transport_init (BenchNullTransport *self)
{
}

/* A hub without methods: the connections only receive. */
#define BENCH_TYPE_HUB (bench_hub_get_type ())
G_DECLARE_FINAL_TYPE (BenchHub, bench_hub, BENCH, HUB, HubsHub)

struct _BenchHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (BenchHub, bench_hub, HUBS_TYPE_HUB)

static void
bench_hub_class_init (BenchHubClass *klass)
{
}

static void
bench_hub_init (BenchHub *self)
{
}

typedef struct
{
  HubsLifetimeManager *manager;
  HubsHubContext *hub_context;
  HubsHttpContext *http_context;
  guint n;
  HubsConnectionContext **contexts;
  BenchNullTransport **transports;
  HubsTarget *target;
} Connections;

static void
connections_open (Connections *cs,
                  guint        n,
                  const char  *protocol)
{
  g_autoptr(HubsHubOptions) options = hubs_hub_options_new ();
  g_autofree char *handshake = g_strdup_printf ("{\"protocol\":\"%s\",\"version\":1}\x1e", protocol);

  memset (cs, 0, sizeof *cs);
  cs->manager = hubs_memory_lifetime_manager_new ();
  cs->hub_context = hubs_hub_context_new ("/bench", BENCH_TYPE_HUB, options, cs->manager);
  /* What a request leaves behind; none here. */
  cs->http_context = g_object_new (HUBS_TYPE_HTTP_CONTEXT, NULL);
  cs->n = n;
  cs->contexts = g_new0 (HubsConnectionContext *, n);
  cs->transports = g_new0 (BenchNullTransport *, n);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("connection-%u", i);
      g_autoptr(HubsHttpConnection) http = hubs_http_connection_new (id, id);

      cs->transports[i] = g_object_new (BENCH_TYPE_NULL_TRANSPORT, "transport-type", HUBS_TRANSPORT_WEB_SOCKETS,
                                        NULL);
      hubs_http_connection_attach (http, HUBS_TRANSPORT (cs->transports[i]), cs->http_context);
      cs->contexts[i] = hubs_connection_context_new (cs->hub_context, http);
      hubs_connection_context_start (cs->contexts[i]);
      hubs_transport_emit_received (HUBS_TRANSPORT (cs->transports[i]), (const guint8 *) handshake,
                                    strlen (handshake));
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (hubs_lifetime_manager_get_n_connections (cs->manager), ==, n);
}

static void
connections_close (Connections *cs)
{
  for (guint i = 0; i < cs->n; i++)
    {
      hubs_connection_context_abort (cs->contexts[i]);
      g_object_unref (cs->contexts[i]);
      g_object_unref (cs->transports[i]);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_free (cs->contexts);
  g_free (cs->transports);
  g_clear_pointer (&cs->target, hubs_target_free);
  g_object_unref (cs->http_context);
  g_object_unref (cs->hub_context);
  g_object_unref (cs->manager);
}

/* What hubs_client_proxy_send() does below the proxy. */
static void
send_loop (gpointer data,
           guint64  n)
{
  Connections *cs = data;
  GValue arg = G_VALUE_INIT;

  g_value_init (&arg, G_TYPE_INT);
  for (guint64 i = 0; i < n; i++)
    {
      HubsHubMessage *message;
      HubsSerializedMessage *serialized;

      g_value_set_int (&arg, (int) i);
      message = hubs_hub_message_new_invocation (NULL, "send", 1, &arg);
      serialized = hubs_serialized_message_new (message);
      hubs_hub_message_unref (message);
      hubs_lifetime_manager_send_async (cs->manager, cs->target, serialized, NULL, NULL, NULL);
      hubs_serialized_message_unref (serialized);
      if ((i & 63) == 63)
        while (g_main_context_iteration (NULL, FALSE))
          ;
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
group_all (Connections *cs,
           const char  *group,
           gboolean     add)
{
  for (guint i = 0; i < cs->n; i++)
    hubs_lifetime_manager_group_async (cs->manager, hubs_connection_context_get_connection_id (cs->contexts[i]),
                                       group, add, NULL, NULL, NULL);
}

static void
run_send (void)
{
  static const guint sizes[] = { 1, 10, 1000 };
  static const char *const protocols[] = { "json", "messagepack" };

  for (guint p = 0; p < G_N_ELEMENTS (protocols); p++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        static const char *const group[] = { "everyone", NULL };
        Connections cs;
        guint64 sends = 0;

        char all_name[64], group_name[64];

        g_snprintf (all_name, sizeof all_name, "send/all/%s/%u", protocols[p], sizes[s]);
        g_snprintf (group_name, sizeof group_name, "send/group/%s/%u", protocols[p], sizes[s]);
        if (!wanted (all_name) && !wanted (group_name))
          continue;
        connections_open (&cs, sizes[s], protocols[p]);

        cs.target = hubs_target_new (HUBS_TARGET_ALL, NULL, NULL);
        bench (all_name, send_loop, &cs);
        g_clear_pointer (&cs.target, hubs_target_free);

        group_all (&cs, "everyone", TRUE);
        cs.target = hubs_target_new (HUBS_TARGET_GROUPS, group, NULL);
        bench (group_name, send_loop, &cs);

        /* every send reached every connection */
        for (guint i = 0; i < cs.n; i++)
          sends += cs.transports[i]->sends;
        if (wanted (all_name) || wanted (group_name))
          g_assert (sends > cs.n);
        connections_close (&cs);
      }
}

/* group/add and group/remove: N connections into one group and out of it,
 * timed apart; best of opt_rounds rounds of min-time. */
static void
run_groups (void)
{
  static const guint sizes[] = { 1, 10, 1000 };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      char add_name[64], remove_name[64];
      double best_add = G_MAXDOUBLE, best_remove = G_MAXDOUBLE;
      guint64 per_round = 0;
      Connections cs;

      g_snprintf (add_name, sizeof add_name, "group/add/%u", sizes[s]);
      g_snprintf (remove_name, sizeof remove_name, "group/remove/%u", sizes[s]);
      if (!wanted (add_name) && !wanted (remove_name))
        continue;
      connections_open (&cs, sizes[s], "json");
      for (int r = 0; r <= opt_rounds; r++)
        {
          gint64 t_add = 0, t_remove = 0;
          guint64 ops = 0;

          /* round 0 warms up */
          while (t_add + t_remove < opt_min_time_ms * 1000 * (r == 0 ? 1 : 2))
            {
              gint64 t0 = g_get_monotonic_time ();
              group_all (&cs, "group", TRUE);
              gint64 t1 = g_get_monotonic_time ();
              group_all (&cs, "group", FALSE);
              gint64 t2 = g_get_monotonic_time ();
              t_add += t1 - t0;
              t_remove += t2 - t1;
              ops += cs.n;
              while (g_main_context_iteration (NULL, FALSE))
                ;
            }
          if (r == 0)
            continue;
          per_round = ops;
          best_add = MIN (best_add, t_add * 1000.0 / ops);
          best_remove = MIN (best_remove, t_remove * 1000.0 / ops);
        }
      if (wanted (add_name))
        report (add_name, best_add, per_round);
      if (wanted (remove_name))
        report (remove_name, best_remove, per_round);
      connections_close (&cs);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "filter", 'f', 0, G_OPTION_ARG_STRING, &opt_filter, "Only the benchmarks whose name contains TEXT", "TEXT" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Rounds of which the best is kept (5)", "N" },
    { "min-time-ms", 't', 0, G_OPTION_ARG_INT, &opt_min_time_ms, "Shortest round (20 ms)", "MS" },
    { "json", 'j', 0, G_OPTION_ARG_FILENAME, &opt_json, "Also one JSON object a line into FILE", "FILE" },
    { NULL }
  };

  context = g_option_context_new ("- hubs-glib microbenchmarks");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (opt_rounds < 1 || opt_min_time_ms < 1)
    {
      g_printerr ("--rounds and --min-time-ms must be positive\n");
      return 2;
    }
  if (opt_json != NULL && (json_out = fopen (opt_json, "w")) == NULL)
    {
      g_printerr ("cannot write %s\n", opt_json);
      return 1;
    }

  run_protocol ();
  run_send ();
  run_groups ();

  if (json_out != NULL)
    fclose (json_out);
  g_free (opt_filter);
  g_free (opt_json);
  return 0;
}
