/* hubs-metrics.c: what a server counts
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-metrics-private.h"

#include "hubs-enums.h"
#include "redis/hubs-redis-private.h"

/**
 * HubsMetrics:
 *
 * The counters of a [class@Hubs.Server]: connections, messages, bytes and
 * invocations, by transport, and how long connections lasted. Get the
 * server's with [method@Hubs.Server.get_metrics].
 *
 * The properties hold the totals over every transport;
 * [method@Hubs.Metrics.get_counter] reads one counter for some
 * transports. Counting is a plain addition on the server's main context,
 * so read them there too. The properties are never notified: they change
 * with every message, and a notification each time would cost more than the
 * counting. Read them when you need them.
 *
 * [method@Hubs.Metrics.to_prometheus] writes everything in the Prometheus
 * text format, and [method@Hubs.Server.map_metrics] serves that on a
 * path, named after ASP.NET Core's SignalR metrics
 * (`signalr.server.active_connections`,
 * `signalr.server.connection.duration`) as OpenTelemetry's Prometheus
 * exporter names them.
 *
 * ```c
 * HubsMetrics *metrics = hubs_server_get_metrics (server);
 * guint64 active = 0;
 *
 * g_object_get (metrics, "active-connections", &active, NULL);
 * g_print ("%" G_GUINT64_FORMAT " connections, %" G_GUINT64_FORMAT " over WebSockets\n",
 *          active,
 *          hubs_metrics_get_counter (metrics, HUBS_METRICS_ACTIVE_CONNECTIONS,
 *                                    HUBS_TRANSPORT_WEB_SOCKETS));
 * ```
 *
 * Since: 0.1
 */

enum
{
  PROP_0,
  PROP_ACTIVE_CONNECTIONS,
  PROP_CONNECTIONS,
  PROP_MESSAGES_RECEIVED,
  PROP_MESSAGES_SENT,
  PROP_BYTES_RECEIVED,
  PROP_BYTES_SENT,
  PROP_INVOCATIONS,
  PROP_INVOCATION_FAILURES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (HubsMetrics, hubs_metrics, G_TYPE_OBJECT)

/* The properties follow the counters' order. */
G_STATIC_ASSERT (PROP_INVOCATION_FAILURES - PROP_ACTIVE_CONNECTIONS == HUBS_METRICS_INVOCATION_FAILURES);

static void
hubs_metrics_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  HubsMetrics *self = HUBS_METRICS (object);

  if (prop_id >= PROP_ACTIVE_CONNECTIONS && prop_id < N_PROPS)
    g_value_set_uint64 (value, hubs_metrics_get_counter (self, prop_id - PROP_ACTIVE_CONNECTIONS,
                                                         HUBS_TRANSPORT_ALL));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hubs_metrics_finalize (GObject *object)
{
  g_weak_ref_clear (&HUBS_METRICS (object)->redis_backplane);

  G_OBJECT_CLASS (hubs_metrics_parent_class)->finalize (object);
}

static void
hubs_metrics_class_init (HubsMetricsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hubs_metrics_finalize;
  object_class->get_property = hubs_metrics_get_property;

  /**
   * HubsMetrics:active-connections:
   *
   * Connections whose transport is up, on every transport: ASP.NET Core's
   * `signalr.server.active_connections`.
   *
   * Since: 0.1
   */
  properties[PROP_ACTIVE_CONNECTIONS] =
    g_param_spec_uint64 ("active-connections", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsMetrics:connections:
   *
   * Connections whose transport started since the server was made.
   *
   * Since: 0.1
   */
  properties[PROP_CONNECTIONS] =
    g_param_spec_uint64 ("connections", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsMetrics:messages-received:
   *
   * Hub protocol messages received from clients, the handshake aside.
   *
   * Since: 0.1
   */
  properties[PROP_MESSAGES_RECEIVED] =
    g_param_spec_uint64 ("messages-received", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsMetrics:messages-sent:
   *
   * Hub protocol messages queued for clients, the handshake aside.
   *
   * Since: 0.1
   */
  properties[PROP_MESSAGES_SENT] =
    g_param_spec_uint64 ("messages-sent", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsMetrics:bytes-received:
   *
   * Bytes received from clients, hub and raw connections alike, as the
   * transports deliver them: without WebSocket framing or HTTP headers.
   *
   * Since: 0.1
   */
  properties[PROP_BYTES_RECEIVED] =
    g_param_spec_uint64 ("bytes-received", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsMetrics:bytes-sent:
   *
   * Bytes queued for clients, hub and raw connections alike, as handed to
   * the transports: before WebSocket framing or Server-Sent Events
   * encoding.
   *
   * Since: 0.1
   */
  properties[PROP_BYTES_SENT] =
    g_param_spec_uint64 ("bytes-sent", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsMetrics:invocations:
   *
   * Invocations and stream invocations received.
   *
   * Since: 0.1
   */
  properties[PROP_INVOCATIONS] =
    g_param_spec_uint64 ("invocations", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsMetrics:invocation-failures:
   *
   * Invocations answered with an error: see
   * %HUBS_METRICS_INVOCATION_FAILURES.
   *
   * Since: 0.1
   */
  properties[PROP_INVOCATION_FAILURES] =
    g_param_spec_uint64 ("invocation-failures", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hubs_metrics_init (HubsMetrics *self)
{
  g_weak_ref_init (&self->redis_backplane, NULL);
}

HubsMetrics *
hubs_metrics_new (void)
{
  return g_object_new (HUBS_TYPE_METRICS, NULL);
}

/**
 * hubs_metrics_get_counter:
 * @self: the metrics
 * @counter: which counter
 * @transports: the transports to add up: one, several, or
 *   %HUBS_TRANSPORT_ALL
 *
 * Reads a counter for some transports.
 *
 * Returns: the sum of @counter over @transports
 *
 * Since: 0.1
 */
guint64
hubs_metrics_get_counter (HubsMetrics        *self,
                          HubsMetricsCounter  counter,
                          HubsTransportType   transports)
{
  guint64 sum = 0;

  g_return_val_if_fail (HUBS_IS_METRICS (self), 0);
  g_return_val_if_fail (counter < HUBS_METRICS_N_COUNTERS, 0);

  for (guint i = 0; i < HUBS_METRICS_N_TRANSPORTS; i++)
    if (transports & (1u << i))
      sum += self->counters[i][counter];

  return sum;
}

/* signalr.transport, in the transport index order */
static const char * const transport_labels[HUBS_METRICS_N_TRANSPORTS] = {
  "web_sockets", "server_sent_events", "long_polling",
};

/* signalr.connection.status */
static const char * const status_labels[HUBS_METRICS_N_STATUSES] = {
  "normal_closure", "timeout", "app_shutdown",
};

/* The shortest text that reads back as @value, in the C locale. */
static void
append_double (GString *text,
               double   value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  for (int precision = 15; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buffer, sizeof buffer, format, value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  g_string_append (text, buffer);
}

static void
append_header (GString    *text,
               const char *name,
               const char *type,
               const char *help)
{
  g_string_append_printf (text, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample a transport */
static void
append_by_transport (GString            *text,
                     HubsMetrics        *self,
                     const char         *name,
                     const char         *type,
                     const char         *help,
                     HubsMetricsCounter  counter)
{
  append_header (text, name, type, help);
  for (guint i = 0; i < HUBS_METRICS_N_TRANSPORTS; i++)
    g_string_append_printf (text, "%s{signalr_transport=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            name, transport_labels[i], self->counters[i][counter]);
}

static void
append_durations (GString     *text,
                  HubsMetrics *self)
{
  const char *name = "signalr_server_connection_duration_seconds";

  append_header (text, name, "histogram", "The duration of connections on the server.");

  /* As OpenTelemetry's exporter: only the attribute sets that were
   * recorded, labels in the order of their names, "le" last. */
  for (guint s = 0; s < HUBS_METRICS_N_STATUSES; s++)
    for (guint t = 0; t < HUBS_METRICS_N_TRANSPORTS; t++)
      {
        const HubsMetricsHistogram *histogram = &self->durations[t][s];
        g_autofree char *labels = NULL;
        guint64 cumulative = 0;

        if (histogram->count == 0)
          continue;

        labels = g_strdup_printf ("signalr_connection_status=\"%s\",signalr_transport=\"%s\"",
                                  status_labels[s], transport_labels[t]);
        for (guint b = 0; b <= HUBS_METRICS_N_BOUNDS; b++)
          {
            cumulative += histogram->buckets[b];
            g_string_append_printf (text, "%s_bucket{%s,le=\"", name, labels);
            if (b < HUBS_METRICS_N_BOUNDS)
              append_double (text, hubs_metrics_bound (b));
            else
              g_string_append (text, "+Inf");
            g_string_append_printf (text, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
          }
        g_string_append_printf (text, "%s_sum{%s} ", name, labels);
        append_double (text, histogram->sum);
        g_string_append_printf (text, "\n%s_count{%s} %" G_GUINT64_FORMAT "\n", name, labels, histogram->count);
      }
}

/**
 * hubs_metrics_to_prometheus:
 * @self: the metrics
 *
 * Writes the metrics in the Prometheus text exposition format (version
 * 0.0.4), as OpenTelemetry's Prometheus exporter would write ASP.NET Core's
 * instruments: dots become underscores, the unit is a suffix (`_seconds`,
 * `_bytes`) and counters end in `_total`.
 *
 * - `signalr_server_active_connections` (gauge) and
 *   `signalr_server_connection_duration_seconds` (histogram, with ASP.NET
 *   Core's bucket boundaries from 0.01 s to 300 s), labelled as ASP.NET
 *   Core labels them: `signalr_transport` (`web_sockets`,
 *   `server_sent_events`, `long_polling`) and `signalr_connection_status`
 *   (`normal_closure`, `timeout`, `app_shutdown`);
 * - hubs-glib's own counters, by `signalr_transport`:
 *   `hubs_server_connections_total`, `hubs_server_messages_received_total`,
 *   `hubs_server_messages_sent_total`, `hubs_server_received_bytes_total`,
 *   `hubs_server_sent_bytes_total`, `hubs_server_invocations_total` and
 *   `hubs_server_invocation_failures_total`;
 * - with a [class@Hubs.RedisBackplane] ([method@Hubs.Server.set_redis_backplane]):
 *   `hubs_redis_connected` (1 or 0) and `hubs_redis_failed_publishes_total`.
 *
 * Returns: (transfer full): the text
 *
 * Since: 0.1
 */
static void
append_redis (GString     *text,
              HubsMetrics *self)
{
  g_autoptr(HubsRedisBackplane) backplane = g_weak_ref_get (&self->redis_backplane);

  if (backplane == NULL)
    return;

  append_header (text, "hubs_redis_connected", "gauge",
                 "1 when the Redis backplane is connected, 0 otherwise.");
  g_string_append_printf (text, "hubs_redis_connected %d\n",
                          hubs_redis_backplane_get_state (backplane) == HUBS_REDIS_STATE_CONNECTED);
  append_header (text, "hubs_redis_failed_publishes_total", "counter",
                 "Messages that could not be published to Redis.");
  g_string_append_printf (text, "hubs_redis_failed_publishes_total %" G_GUINT64_FORMAT "\n",
                          hubs_redis_backplane_get_n_failed_publishes (backplane));
}

void
hubs_metrics_set_redis_backplane (HubsMetrics        *metrics,
                                  HubsRedisBackplane *backplane)
{
  g_weak_ref_set (&metrics->redis_backplane, backplane);
}

char *
hubs_metrics_to_prometheus (HubsMetrics *self)
{
  GString *text;

  g_return_val_if_fail (HUBS_IS_METRICS (self), NULL);

  text = g_string_sized_new (4096);

  append_by_transport (text, self, "signalr_server_active_connections", "gauge",
                       "Number of connections that are currently active on the server.",
                       HUBS_METRICS_ACTIVE_CONNECTIONS);
  append_durations (text, self);
  append_by_transport (text, self, "hubs_server_connections_total", "counter",
                       "Number of connections whose transport started.",
                       HUBS_METRICS_CONNECTIONS);
  append_by_transport (text, self, "hubs_server_messages_received_total", "counter",
                       "Hub protocol messages received, the handshake aside.",
                       HUBS_METRICS_MESSAGES_RECEIVED);
  append_by_transport (text, self, "hubs_server_messages_sent_total", "counter",
                       "Hub protocol messages sent, the handshake aside.",
                       HUBS_METRICS_MESSAGES_SENT);
  append_by_transport (text, self, "hubs_server_received_bytes_total", "counter",
                       "Bytes received by the transports, without framing.",
                       HUBS_METRICS_BYTES_RECEIVED);
  append_by_transport (text, self, "hubs_server_sent_bytes_total", "counter",
                       "Bytes sent by the transports, without framing.",
                       HUBS_METRICS_BYTES_SENT);
  append_by_transport (text, self, "hubs_server_invocations_total", "counter",
                       "Hub method invocations received.",
                       HUBS_METRICS_INVOCATIONS);
  append_by_transport (text, self, "hubs_server_invocation_failures_total", "counter",
                       "Hub method invocations answered with an error.",
                       HUBS_METRICS_INVOCATION_FAILURES);
  append_redis (text, self);

  return g_string_free (text, FALSE);
}
