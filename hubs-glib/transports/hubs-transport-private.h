/* hubs-transport-private.h: the transport layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A transport carries a connection's bytes: it delivers what it receives
 * upward as it arrives and writes what it is given, with backpressure both
 * ways. It knows nothing of hubs.
 */

#pragma once

#include <gio/gio.h>
#include "hubs-types.h"

G_BEGIN_DECLS

typedef struct
{
  /* Bytes as they arrive; chunks follow no message boundary. */
  void (*received) (gpointer user_data, const guint8 *data, gsize length);
  /* Once, when the transport has ended. @error is NULL when it ended
   * normally: a close by the peer (a WebSocket close frame, or the peer going
   * away without one), or after hubs_transport_close(). */
  void (*closed)   (gpointer user_data, const GError *error);
  /* The outgoing queue fell to or below the low watermark after having been
   * above the high watermark. */
  void (*drained)  (gpointer user_data);
} HubsTransportCallbacks;

#define HUBS_TYPE_TRANSPORT (hubs_transport_get_type ())
G_DECLARE_DERIVABLE_TYPE (HubsTransport, hubs_transport, HUBS, TRANSPORT, GObject)

struct _HubsTransportClass
{
  GObjectClass parent_class;

  /* Begin delivering received bytes. */
  void  (*start)            (HubsTransport *self);
  /* Queue @data as one unit (one WebSocket message, one SSE event, part of a
   * poll body), in the current transfer format. Never blocks. */
  void  (*send)             (HubsTransport *self,
                             GBytes        *data);
  /* End from the application's side once the queue has been written: a
   * WebSocket sends close 1000 (1011 when @failed) and waits up to 5 s for
   * the peer's close. */
  void  (*close)            (HubsTransport *self,
                             gboolean       failed);
  /* End now, dropping what is queued. */
  void  (*abort)            (HubsTransport *self);
  /* Backpressure on input: stop and resume reading from the peer. */
  void  (*set_receiving)    (HubsTransport *self,
                             gboolean       receiving);
  gsize (*get_queued_bytes) (HubsTransport *self);
};

void               hubs_transport_set_callbacks       (HubsTransport                *self,
                                                       const HubsTransportCallbacks *callbacks,
                                                       gpointer                      user_data);
void               hubs_transport_start               (HubsTransport     *self);
void               hubs_transport_send                (HubsTransport     *self,
                                                       GBytes            *data);
void               hubs_transport_close               (HubsTransport     *self,
                                                       gboolean           failed);
void               hubs_transport_abort               (HubsTransport     *self);
void               hubs_transport_set_receiving       (HubsTransport     *self,
                                                       gboolean           receiving);
gsize              hubs_transport_get_queued_bytes    (HubsTransport     *self);
HubsTransportType  hubs_transport_get_transport_type  (HubsTransport     *self);
HubsTransferFormat hubs_transport_get_transfer_format (HubsTransport     *self);
void               hubs_transport_set_transfer_format (HubsTransport     *self,
                                                       HubsTransferFormat format);
gboolean           hubs_transport_is_closed           (HubsTransport     *self);

/* For implementations. hubs_transport_emit_closed() runs the closed callback
 * at most once; later calls do nothing. */
void hubs_transport_emit_received (HubsTransport *self,
                                   const guint8  *data,
                                   gsize          length);
void hubs_transport_emit_closed   (HubsTransport *self,
                                   const GError  *error);
void hubs_transport_emit_drained  (HubsTransport *self);

/* The WebSocket transport: RFC 6455 framing on a stream whose HTTP upgrade
 * has been completed (the 101 written). Server side: client frames must be
 * masked, ours are not. No extensions. The transport type property of the
 * base is set by each implementation at construction. */
typedef struct
{
  gsize max_frame_size;         /* a data frame whose declared payload is larger
                                 * closes with 1009; 0: no limit (payload is
                                 * delivered as it arrives, never buffered
                                 * whole) */
  gsize high_watermark;         /* queued bytes above which drained will fire */
  gsize low_watermark;          /* … once the queue falls to this */
  guint close_timeout_ms;       /* wait for the peer's close: 5000 */
} HubsWebSocketOptions;

#define HUBS_TYPE_WEBSOCKET_TRANSPORT (hubs_websocket_transport_get_type ())
G_DECLARE_FINAL_TYPE (HubsWebSocketTransport, hubs_websocket_transport, HUBS, WEBSOCKET_TRANSPORT, HubsTransport)

HubsTransport *hubs_websocket_transport_new (GIOStream                  *stream,
                                             const HubsWebSocketOptions *options);

G_END_DECLS
