/* hubs-server.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <gio/gio.h>
#include <libsoup/soup.h>
#include "hubs-types.h"
#include "hubs-metrics.h"
#include "hubs-hub-filter.h"
#include "hubs-redis-backplane.h"

G_BEGIN_DECLS

#define HUBS_TYPE_SERVER (hubs_server_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsServer, hubs_server, HUBS, SERVER, GObject)

/**
 * HubsAuthenticateFunc:
 * @server: the server
 * @request: the HTTP request: negotiate, or a transport request
 * @access_token: (nullable): the bearer token of the `Authorization` header,
 *   or else the `access_token` query parameter
 * @error: (out) (optional) (nullable) (transfer full): return location for
 *   an error
 * @user_data: the data given to [method@Hubs.Server.set_authentication_handler]
 *
 * Turns a request into a user. Return %NULL without an error for an
 * anonymous request; set @error (any code) to refuse it with 401.
 *
 * Returns: (transfer full) (nullable): the user
 */
typedef HubsUser *(*HubsAuthenticateFunc) (HubsServer       *server,
                                           HubsHttpContext  *request,
                                           const char       *access_token,
                                           GError          **error,
                                           gpointer          user_data);

/**
 * HubsConnectionHandlerFunc:
 * @server: the server
 * @connection: a new connection
 * @user_data: the data given to [method@Hubs.Server.map_connection_handler]
 *
 * Called for each connection of a raw endpoint once its transport is up.
 * Connect to its [signal@Hubs.HttpConnection::received] and
 * [signal@Hubs.HttpConnection::closed] signals; the server keeps it alive
 * until it closes.
 */
typedef void (*HubsConnectionHandlerFunc) (HubsServer         *server,
                                           HubsHttpConnection *connection,
                                           gpointer            user_data);

/**
 * HubsUserIdProviderFunc:
 * @server: the server
 * @context: the context of a new connection, with its user
 * @user_data: the data given to [method@Hubs.Server.set_user_id_provider]
 *
 * Finds the user identifier of a connection, as SignalR's
 * `IUserIdProvider.GetUserId`.
 *
 * Returns: (transfer full) (nullable): the user identifier, or %NULL for
 *   none
 *
 * Since: 0.1
 */
typedef char *(*HubsUserIdProviderFunc) (HubsServer        *server,
                                         HubsCallerContext *context,
                                         gpointer           user_data);

HUBS_AVAILABLE_IN_ALL
HubsServer     *hubs_server_new                          (void);
HUBS_AVAILABLE_IN_ALL
HubsServer     *hubs_server_new_for_soup_server          (SoupServer                *soup_server);
HUBS_AVAILABLE_IN_ALL
SoupServer     *hubs_server_get_soup_server              (HubsServer                *self);
HUBS_AVAILABLE_IN_ALL
gboolean        hubs_server_listen_local                 (HubsServer                *self,
                                                          guint                      port,
                                                          GError                   **error);
HUBS_AVAILABLE_IN_ALL
guint           hubs_server_get_port                     (HubsServer                *self);
HUBS_AVAILABLE_IN_ALL
HubsHubContext *hubs_server_map_hub                      (HubsServer                *self,
                                                          const char                *path,
                                                          GType                      hub_type,
                                                          HubsHubOptions            *options);
HUBS_AVAILABLE_IN_ALL
HubsHubContext *hubs_server_get_hub_context              (HubsServer                *self,
                                                          const char                *path);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_map_connection_handler       (HubsServer                *self,
                                                          const char                *path,
                                                          HubsHubOptions            *options,
                                                          HubsConnectionHandlerFunc  handler,
                                                          gpointer                   user_data,
                                                          GDestroyNotify             destroy);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_set_authentication_handler   (HubsServer                *self,
                                                          HubsAuthenticateFunc       func,
                                                          gpointer                   user_data,
                                                          GDestroyNotify             destroy);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_set_default_handler          (HubsServer                *self,
                                                          SoupServerCallback         callback,
                                                          gpointer                   user_data,
                                                          GDestroyNotify             destroy);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_add_hub_filter               (HubsServer                *self,
                                                          HubsHubFilter             *filter);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_set_user_id_provider         (HubsServer                *self,
                                                          HubsUserIdProviderFunc     func,
                                                          gpointer                   user_data,
                                                          GDestroyNotify             destroy);
HUBS_AVAILABLE_IN_ALL
HubsMetrics    *hubs_server_get_metrics                  (HubsServer                *self);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_set_redis_backplane          (HubsServer                *self,
                                                          HubsRedisBackplane        *backplane);
HUBS_AVAILABLE_IN_ALL
HubsRedisBackplane *hubs_server_get_redis_backplane      (HubsServer                *self);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_map_metrics                  (HubsServer                *self,
                                                          const char                *path);
HUBS_AVAILABLE_IN_ALL
guint           hubs_server_get_n_connections            (HubsServer                *self);
HUBS_AVAILABLE_IN_ALL
void            hubs_server_shutdown_async               (HubsServer                *self,
                                                          GCancellable              *cancellable,
                                                          GAsyncReadyCallback        callback,
                                                          gpointer                   user_data);
HUBS_AVAILABLE_IN_ALL
gboolean        hubs_server_shutdown_finish              (HubsServer                *self,
                                                          GAsyncResult              *result,
                                                          GError                   **error);

G_END_DECLS
