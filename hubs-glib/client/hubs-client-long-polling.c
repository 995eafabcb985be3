/* hubs-client-long-polling.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-client-private.h"

typedef struct
{
  HubsClientTransport parent_instance;
} HubsClientLongPollingTransport;

typedef HubsClientTransportClass HubsClientLongPollingTransportClass;

G_DEFINE_FINAL_TYPE (HubsClientLongPollingTransport, hubs_client_long_polling_transport, HUBS_TYPE_CLIENT_TRANSPORT)

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
hubs_client_long_polling_transport_class_init (HubsClientLongPollingTransportClass *klass)
{
  klass->type = HUBS_TRANSPORT_LONG_POLLING;
  klass->connect_async = connect_async;
  klass->send = send;
  klass->stop = stop;
}

static void
hubs_client_long_polling_transport_init (HubsClientLongPollingTransport *self)
{
}
