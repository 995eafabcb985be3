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
#include <libsoup/soup.h>
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
  /* HTTP transports only (NULL otherwise): a POST of client data, whose
   * body has been read. The transport answers it once the body has been
   * delivered and the application takes more. */
  void  (*receive_post)     (HubsTransport     *self,
                             SoupServerMessage *message);
  /* After the end: whether the peer went away without ending the
   * connection (a WebSocket dropped without a close frame either way), so
   * that it may come back on a new transport. NULL: never. */
  gboolean (*ended_abruptly) (HubsTransport *self);

  /* Set by implementations in class_init. */
  gboolean inherent_keep_alive;         /* no Pings: Long Polling */
  guint    supported_formats;           /* HubsTransferFormat bits; 0: both */
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
gboolean           hubs_transport_has_inherent_keep_alive (HubsTransport *self);
gboolean           hubs_transport_ended_abruptly      (HubsTransport     *self);
gboolean           hubs_transport_supports_format     (HubsTransport     *self,
                                                       HubsTransferFormat format);
void               hubs_transport_receive_post        (HubsTransport     *self,
                                                       SoupServerMessage *message);

/* For implementations. hubs_transport_emit_closed() runs the closed callback
 * at most once; later calls do nothing. */
void hubs_transport_emit_received (HubsTransport *self,
                                   const guint8  *data,
                                   gsize          length);
void hubs_transport_emit_closed   (HubsTransport *self,
                                   const GError  *error);
void hubs_transport_emit_drained  (HubsTransport *self);

/* One main-loop source that flushes every transport with output queued, in
 * the iteration after the send: see hubs-write-scheduler.c. Refcounted;
 * transports keep a reference. */
typedef struct _HubsWriteScheduler HubsWriteScheduler;
typedef void (*HubsWriteFlushFunc) (GObject *object);

HubsWriteScheduler *hubs_write_scheduler_new      (GMainContext       *context);
HubsWriteScheduler *hubs_write_scheduler_ref      (HubsWriteScheduler *self);
void                hubs_write_scheduler_unref    (HubsWriteScheduler *self);
/* Calls @flush on @object (referenced meanwhile) in a coming iteration. */
void                hubs_write_scheduler_schedule (HubsWriteScheduler *self,
                                                   GObject            *object,
                                                   HubsWriteFlushFunc  flush);

/* One epoll descriptor, in one GSource, for the sockets of a main context:
 * see hubs-poller.c. A watch reports @condition (G_IO_IN, G_IO_OUT,
 * G_IO_HUP, G_IO_ERR) while the events set with
 * hubs_poller_watch_set_events() hold, level-triggered. */
typedef struct _HubsPoller HubsPoller;
typedef struct _HubsPollerWatch HubsPollerWatch;
typedef void (*HubsPollerFunc) (gpointer user_data, GIOCondition condition);

/* NULL if epoll is not available. */
HubsPollerWatch *hubs_poller_watch_new        (GMainContext    *context,
                                               int              fd,
                                               HubsPollerFunc   func,
                                               gpointer         user_data);
/* G_IO_IN and/or G_IO_OUT, or 0 for none. */
void             hubs_poller_watch_set_events (HubsPollerWatch *watch,
                                               GIOCondition     condition);
/* Before the descriptor is closed. */
void             hubs_poller_watch_free       (HubsPollerWatch *watch);

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
  HubsWriteScheduler *scheduler; /* NULL: the transport schedules its own
                                 * flushes with a writable-socket source */
  GSocket *socket;              /* the plain socket under a wrapping stream
                                 * (libsoup's), watched through the context's
                                 * poller; NULL: the stream's own, if it is a
                                 * GSocketConnection, else pollable sources.
                                 * Never a TLS connection's socket. */
} HubsWebSocketOptions;

#define HUBS_TYPE_WEBSOCKET_TRANSPORT (hubs_websocket_transport_get_type ())
G_DECLARE_FINAL_TYPE (HubsWebSocketTransport, hubs_websocket_transport, HUBS, WEBSOCKET_TRANSPORT, HubsTransport)

HubsTransport *hubs_websocket_transport_new (GIOStream                  *stream,
                                             const HubsWebSocketOptions *options);

/* What the HTTP transports (Server-Sent Events, Long Polling) share: client
 * data arrives by POST, one request at a time, held while the application
 * does not take input, and answered 404 once the transport has ended. */
typedef struct _HubsPostReceiver HubsPostReceiver;

HubsPostReceiver *hubs_post_receiver_new           (HubsTransport     *transport);
void              hubs_post_receiver_free          (HubsPostReceiver  *self);
void              hubs_post_receiver_push          (HubsPostReceiver  *self,
                                                    SoupServerMessage *message);
void              hubs_post_receiver_set_receiving (HubsPostReceiver  *self,
                                                    gboolean           receiving);
void              hubs_post_receiver_set_output_blocked (HubsPostReceiver *self,
                                                         gboolean          blocked);
/* Answers every POST still held: the connection is gone. */
void              hubs_post_receiver_fail_all      (HubsPostReceiver  *self);

/* Calls @callback once the client of @message, a request left waiting for
 * its response (paused), closes its end of the connection: libsoup does not
 * watch a connection while its message is paused, and a client sends
 * nothing more on it meanwhile, so anything readable is its end. Destroy
 * the returned source (NULL without a socket) once the response goes. */
GSource *hubs_http_watch_client_gone (SoupServerMessage *message,
                                      void             (*callback) (gpointer user_data),
                                      gpointer           user_data);

/* Server-Sent Events on a GET whose response the transport now writes: the
 * message stays paused between writes, each sent chunk is one event. */
typedef struct
{
  gsize high_watermark;
  gsize low_watermark;
} HubsHttpTransportOptions;

#define HUBS_TYPE_SSE_TRANSPORT (hubs_sse_transport_get_type ())
G_DECLARE_FINAL_TYPE (HubsSseTransport, hubs_sse_transport, HUBS, SSE_TRANSPORT, HubsTransport)

HubsTransport *hubs_sse_transport_new (SoupServerMessage              *message,
                                       const HubsHttpTransportOptions *options);

/* Long Polling: made on the first poll (answered by the endpoint); each later
 * poll is handed over with hubs_long_polling_transport_poll(). Sent chunks
 * wait in a queue that the next poll takes whole. */
#define HUBS_TYPE_LONG_POLLING_TRANSPORT (hubs_long_polling_transport_get_type ())
G_DECLARE_FINAL_TYPE (HubsLongPollingTransport, hubs_long_polling_transport, HUBS, LONG_POLLING_TRANSPORT, HubsTransport)

HubsTransport *hubs_long_polling_transport_new       (const HubsHttpTransportOptions *options);
void           hubs_long_polling_transport_poll      (HubsLongPollingTransport *self,
                                                      SoupServerMessage        *message);
/* DELETE from the client: the pending poll gets 204 and the transport ends. */
void           hubs_long_polling_transport_terminate (HubsLongPollingTransport *self);

G_END_DECLS
