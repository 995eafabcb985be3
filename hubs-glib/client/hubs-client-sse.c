/* hubs-client-sse.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-client-private.h"

typedef struct
{
  HubsClientTransport parent_instance;
} HubsClientSseTransport;

typedef HubsClientTransportClass HubsClientSseTransportClass;

G_DEFINE_FINAL_TYPE (HubsClientSseTransport, hubs_client_sse_transport, HUBS_TYPE_CLIENT_TRANSPORT)

static void
connect_async (HubsClientTransport *transport,
               const char          *url,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_task_report_new_error (transport, callback, user_data, connect_async,
                           HUBS_ERROR, HUBS_ERROR_FAILED, "Not supported yet.");
}

static void
send (HubsClientTransport *transport,
      GBytes              *data)
{
}

static void
stop (HubsClientTransport *transport,
      const GError        *error)
{
  hubs_client_transport_closed (transport, error);
}

static void
hubs_client_sse_transport_class_init (HubsClientSseTransportClass *klass)
{
  klass->type = HUBS_TRANSPORT_SERVER_SENT_EVENTS;
  klass->connect_async = connect_async;
  klass->send = send;
  klass->stop = stop;
}

static void
hubs_client_sse_transport_init (HubsClientSseTransport *self)
{
}
