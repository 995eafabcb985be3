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

/* Stateful reconnect. Negotiate records that the client asked for it on an
 * endpoint that allows it; the application enables it once the handshake
 * agreed (WebSockets only). A WebSocket that then drops without a close
 * frame leaves the connection detached, without a transport, for 15 s:
 * a new WebSocket request with its token resumes it (the application
 * hears of it through @resumed) and nothing is reported as closed meanwhile.
 * Sends while detached go nowhere; the application keeps them. */
typedef void (*HubsHttpResumedFunc) (gpointer user_data);

void                hubs_http_connection_set_stateful_reconnect (HubsHttpConnection    *self,
                                                          gboolean                      stateful_reconnect);
gboolean            hubs_http_connection_get_stateful_reconnect (HubsHttpConnection    *self);
void                hubs_http_connection_enable_reconnect (HubsHttpConnection          *self,
                                                          HubsHttpResumedFunc           resumed,
                                                          gpointer                      user_data);
/* Whether a new transport may take this connection over. */
gboolean            hubs_http_connection_can_resume      (HubsHttpConnection           *self);
gboolean            hubs_http_connection_is_detached     (HubsHttpConnection           *self);

G_END_DECLS
