/* hubs-metrics.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "hubs-types.h"

G_BEGIN_DECLS

/**
 * HubsMetricsCounter:
 * @HUBS_METRICS_ACTIVE_CONNECTIONS: connections whose transport is up now
 *   (ASP.NET Core's `signalr.server.active_connections`)
 * @HUBS_METRICS_CONNECTIONS: connections whose transport started, since the
 *   server was made
 * @HUBS_METRICS_MESSAGES_RECEIVED: hub protocol messages received, the
 *   handshake aside (pings and Close messages included)
 * @HUBS_METRICS_MESSAGES_SENT: hub protocol messages queued for clients, the
 *   handshake aside
 * @HUBS_METRICS_BYTES_RECEIVED: bytes received from clients: payload as the
 *   transport delivers it, without WebSocket framing or HTTP headers
 * @HUBS_METRICS_BYTES_SENT: bytes queued for clients, as handed to the
 *   transport: before WebSocket framing or Server-Sent Events encoding
 * @HUBS_METRICS_INVOCATIONS: invocations and stream invocations received
 * @HUBS_METRICS_INVOCATION_FAILURES: invocations answered with an error
 *   (a completion with an error: an unknown method, arguments that do not
 *   bind, a method that returned an error, a stream that failed)
 *
 * The counters of a [class@Hubs.Metrics], read with
 * [method@Hubs.Metrics.get_counter].
 *
 * Since: 0.1
 */
typedef enum
{
  HUBS_METRICS_ACTIVE_CONNECTIONS,
  HUBS_METRICS_CONNECTIONS,
  HUBS_METRICS_MESSAGES_RECEIVED,
  HUBS_METRICS_MESSAGES_SENT,
  HUBS_METRICS_BYTES_RECEIVED,
  HUBS_METRICS_BYTES_SENT,
  HUBS_METRICS_INVOCATIONS,
  HUBS_METRICS_INVOCATION_FAILURES,
} HubsMetricsCounter;

#define HUBS_TYPE_METRICS (hubs_metrics_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsMetrics, hubs_metrics, HUBS, METRICS, GObject)

HUBS_AVAILABLE_IN_ALL
guint64  hubs_metrics_get_counter     (HubsMetrics        *self,
                                       HubsMetricsCounter  counter,
                                       HubsTransportType   transports);
HUBS_AVAILABLE_IN_ALL
char    *hubs_metrics_to_prometheus   (HubsMetrics        *self);

G_END_DECLS
