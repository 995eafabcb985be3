/* hubs-metrics-private.h: counting, for the layers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Counting must cost next to nothing on the hot path: every count is a
 * plain integer addition on the server's main context, inline, with no
 * lock and no allocation. The transport layer counts through these inline
 * functions only, so that it links without the library above it.
 */

#pragma once

#include "hubs-metrics.h"
#include "hubs-transport-private.h"

G_BEGIN_DECLS

#define HUBS_METRICS_N_COUNTERS (HUBS_METRICS_INVOCATION_FAILURES + 1)
#define HUBS_METRICS_N_TRANSPORTS 3

/* signalr.connection.status */
typedef enum
{
  HUBS_METRICS_STATUS_NORMAL_CLOSURE,
  HUBS_METRICS_STATUS_TIMEOUT,
  HUBS_METRICS_STATUS_APP_SHUTDOWN,
  HUBS_METRICS_N_STATUSES
} HubsMetricsStatus;

/* ASP.NET Core's MetricsConstants.LongSecondsBucketBoundaries, which its
 * signalr.server.connection.duration advises. */
#define HUBS_METRICS_N_BOUNDS 14

typedef struct
{
  guint64 buckets[HUBS_METRICS_N_BOUNDS + 1];  /* not cumulative; last: +Inf */
  guint64 count;
  double sum;
} HubsMetricsHistogram;

struct _HubsMetrics
{
  GObject parent_instance;

  guint64 counters[HUBS_METRICS_N_TRANSPORTS][HUBS_METRICS_N_COUNTERS];
  HubsMetricsHistogram durations[HUBS_METRICS_N_TRANSPORTS][HUBS_METRICS_N_STATUSES];
  gboolean shutting_down;       /* connections that end now: app_shutdown */
  GWeakRef redis_backplane;     /* HubsRedisBackplane, for its state */
};

/* What a transport keeps for its metrics (HubsTransportPrivate). */
typedef struct
{
  HubsMetrics *metrics;         /* owned from attach to the end; NULL: none */
  HubsTransportType transport;
  gint64 started_at;            /* monotonic µs; 0 before the start */
  HubsMetricsStatus status;
} HubsMetricsTracker;

/* Implemented by the transport base (hubs-transport.c), without checks:
 * it is on the hot path. */
HubsMetricsTracker *hubs_transport_get_metrics_tracker (HubsTransport *self);

static inline double
hubs_metrics_bound (guint i)
{
  static const double bounds[HUBS_METRICS_N_BOUNDS] = {
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
  };

  return bounds[i];
}

/* -1 for HUBS_TRANSPORT_NONE and for sets of several */
static inline int
hubs_metrics_transport_index (HubsTransportType transport)
{
  switch (transport)
    {
    case HUBS_TRANSPORT_WEB_SOCKETS:
      return 0;
    case HUBS_TRANSPORT_SERVER_SENT_EVENTS:
      return 1;
    case HUBS_TRANSPORT_LONG_POLLING:
      return 2;
    default:
      return -1;
    }
}

static inline void
hubs_metrics_add (HubsMetrics        *metrics,
                  HubsTransportType   transport,
                  HubsMetricsCounter  counter,
                  guint64             n)
{
  int index = hubs_metrics_transport_index (transport);

  if (metrics != NULL && index >= 0)
    metrics->counters[index][counter] += n;
}

/* A connection of @transport lasted @seconds and ended with @status. */
static inline void
hubs_metrics_record_duration (HubsMetrics       *metrics,
                              HubsTransportType  transport,
                              HubsMetricsStatus  status,
                              double             seconds)
{
  int index = hubs_metrics_transport_index (transport);
  HubsMetricsHistogram *histogram;
  guint bucket = 0;

  if (metrics == NULL || index < 0)
    return;

  histogram = &metrics->durations[index][status];
  /* Prometheus buckets are "less than or equal" */
  while (bucket < HUBS_METRICS_N_BOUNDS && seconds > hubs_metrics_bound (bucket))
    bucket++;
  histogram->buckets[bucket]++;
  histogram->count++;
  histogram->sum += seconds;
}

/* The transports: the endpoint attaches the server's metrics before the
 * transport starts; the base class counts its start, bytes and end. */
static inline void
hubs_metrics_attach_transport (HubsMetrics   *metrics,
                               HubsTransport *transport)
{
  HubsMetricsTracker *tracker = hubs_transport_get_metrics_tracker (transport);

  g_set_object (&tracker->metrics, metrics);
  tracker->transport = hubs_transport_get_transport_type (transport);
}

static inline void
hubs_metrics_tracker_start (HubsMetricsTracker *tracker)
{
  if (tracker->metrics == NULL || tracker->started_at != 0)
    return;

  tracker->started_at = g_get_monotonic_time ();
  hubs_metrics_add (tracker->metrics, tracker->transport, HUBS_METRICS_ACTIVE_CONNECTIONS, 1);
  hubs_metrics_add (tracker->metrics, tracker->transport, HUBS_METRICS_CONNECTIONS, 1);
}

static inline void
hubs_metrics_tracker_add (HubsMetricsTracker *tracker,
                          HubsMetricsCounter  counter,
                          guint64             n)
{
  hubs_metrics_add (tracker->metrics, tracker->transport, counter, n);
}

/* The end: the duration is recorded and the metrics let go. */
static inline void
hubs_metrics_tracker_stop (HubsMetricsTracker *tracker)
{
  HubsMetrics *metrics = tracker->metrics;
  int index = hubs_metrics_transport_index (tracker->transport);

  if (metrics == NULL)
    return;

  if (tracker->started_at != 0 && index >= 0)
    {
      metrics->counters[index][HUBS_METRICS_ACTIVE_CONNECTIONS]--;
      hubs_metrics_record_duration (metrics, tracker->transport,
                                    metrics->shutting_down ? HUBS_METRICS_STATUS_APP_SHUTDOWN : tracker->status,
                                    (g_get_monotonic_time () - tracker->started_at) / (double) G_USEC_PER_SEC);
    }
  g_clear_object (&tracker->metrics);
}

/* For the transports and the layers above them, by transport object. */
static inline void
hubs_metrics_count_transport (HubsTransport      *transport,
                              HubsMetricsCounter  counter)
{
  if (transport != NULL)
    hubs_metrics_tracker_add (hubs_transport_get_metrics_tracker (transport), counter, 1);
}

/* A hub message queued for the client; @failed_completion: the completion
 * of an invocation that failed. */
static inline void
hubs_metrics_count_message_sent (HubsTransport *transport,
                                 gboolean       failed_completion)
{
  HubsMetricsTracker *tracker;

  if (transport == NULL)
    return;

  tracker = hubs_transport_get_metrics_tracker (transport);
  hubs_metrics_tracker_add (tracker, HUBS_METRICS_MESSAGES_SENT, 1);
  if (failed_completion)
    hubs_metrics_tracker_add (tracker, HUBS_METRICS_INVOCATION_FAILURES, 1);
}

/* The transport ends because its client stopped coming: Long Polling's
 * inactivity, ASP.NET Core's "timeout" status. */
static inline void
hubs_metrics_transport_timed_out (HubsTransport *transport)
{
  hubs_transport_get_metrics_tracker (transport)->status = HUBS_METRICS_STATUS_TIMEOUT;
}

HubsMetrics *hubs_metrics_new (void);

/* The server is shutting down: connections that end from now on end with
 * the "app_shutdown" status. */
static inline void
hubs_metrics_set_shutting_down (HubsMetrics *metrics)
{
  if (metrics != NULL)
    metrics->shutting_down = TRUE;
}

G_END_DECLS
