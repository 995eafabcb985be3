/* hubs-http-connection-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-http-connection.h"
#include "hubs-transport-private.h"

G_BEGIN_DECLS

HubsHttpConnection *hubs_http_connection_new             (const char                   *connection_id,
                                                          const char                   *connection_token);
const char         *hubs_http_connection_get_token       (HubsHttpConnection           *self);
/* Binds the transport and the request that brought it; starts it. */
void                hubs_http_connection_attach          (HubsHttpConnection           *self,
                                                          HubsTransport                *transport,
                                                          HubsHttpContext              *http_context);
gboolean            hubs_http_connection_is_attached     (HubsHttpConnection           *self);
/* (transfer none) (nullable): the transport, for the endpoint's HTTP
 * transport requests (polls, POSTs) that go to it directly. */
HubsTransport      *hubs_http_connection_get_transport_object (HubsHttpConnection      *self);
/* Instead of the received/closed/drained signals, for the library's own
 * applications (hub connections). Set before attaching. */
void                hubs_http_connection_set_application (HubsHttpConnection           *self,
                                                          const HubsTransportCallbacks *callbacks,
                                                          gpointer                      user_data);
void                hubs_http_connection_set_receiving   (HubsHttpConnection           *self,
                                                          gboolean                      receiving);
void                hubs_http_connection_set_transfer_format (HubsHttpConnection       *self,
                                                          HubsTransferFormat            format);
void                hubs_http_connection_abort           (HubsHttpConnection           *self);

G_END_DECLS
