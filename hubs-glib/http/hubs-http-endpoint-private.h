/* hubs-http-endpoint-private.h: the HTTP endpoint layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Serves a mapped path: negotiate, then the transport requests, each checked
 * as ASP.NET Core's HttpConnectionDispatcher checks them. It knows nothing of
 * hubs: once a transport is up it hands the connection to its application.
 */

#pragma once

#include <libsoup/soup.h>
#include "hubs-http-connection-private.h"
#include "hubs-hub-settings-private.h"
#include "hubs-server.h"

G_BEGIN_DECLS

/* Every connection of a server, by connection token. */
typedef struct _HubsConnectionManager HubsConnectionManager;

HubsConnectionManager *hubs_connection_manager_new             (void);
void                   hubs_connection_manager_free            (HubsConnectionManager *self);
guint                  hubs_connection_manager_get_n_connections (HubsConnectionManager *self);
/* (transfer container) (element-type HubsHttpConnection) */
GList                 *hubs_connection_manager_list            (HubsConnectionManager *self);
/* Forgets the negotiated connections that no transport has claimed. */
void                   hubs_connection_manager_drop_unclaimed  (HubsConnectionManager *self);

typedef void (*HubsEndpointConnectedFunc) (HubsHttpConnection *connection,
                                           gpointer            user_data);

typedef struct _HubsHttpEndpoint HubsHttpEndpoint;

HubsHttpEndpoint *hubs_http_endpoint_new     (HubsServer                *server,
                                              HubsConnectionManager     *manager,
                                              const char                *path,
                                              const HubsHubSettings     *settings,
                                              HubsEndpointConnectedFunc  connected,
                                              gpointer                   user_data,
                                              GDestroyNotify             destroy);
void              hubs_http_endpoint_free    (HubsHttpEndpoint          *self);
const char       *hubs_http_endpoint_get_path (HubsHttpEndpoint         *self);
/* @negotiate: the request is for "{path}/negotiate" */
void              hubs_http_endpoint_handle  (HubsHttpEndpoint          *self,
                                              SoupServerMessage         *message,
                                              gboolean                   negotiate);

/* For the server's early handler, once a request's headers are read: FALSE
 * when the request has been refused (a POST body above the bound). */
gboolean          hubs_http_endpoint_check_request_size (SoupServerMessage *message);

/* Implemented by the server: sets the user of @request (the snapshot of
 * @message), or returns FALSE when the request is refused (its 401 or 403
 * has been written then): the endpoint's require-authentication, and the
 * user requirements of the hub's own policies, as ASP.NET Core's
 * authorization middleware applies a hub class's [Authorize] to every
 * request of its endpoint. */
gboolean hubs_server_authenticate_request (HubsServer             *server,
                                           SoupServerMessage      *message,
                                           HubsHttpContext        *request,
                                           const HubsHubSettings  *settings);

/* Implemented by the server: the scheduler that flushes its transports'
 * output, one source for all of them. */
HubsWriteScheduler *hubs_server_get_write_scheduler (HubsServer *server);

G_END_DECLS
