/* hubs-connection.h: a SignalR client connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <gio/gio.h>
#include "../hubs-types.h"
#include "hubs-client-invocation.h"
#include "hubs-client-stream.h"
#include "hubs-access-token-request.h"

G_BEGIN_DECLS

#define HUBS_TYPE_CONNECTION (hubs_connection_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsConnection, hubs_connection, HUBS, CONNECTION, GObject)

/**
 * HubsAccessTokenFunc:
 * @connection: the connection
 * @user_data: the data given with the function
 *
 * Gives the access token a connection sends as `Authorization: Bearer …`
 * with negotiate and with the transport's requests. It is asked at every
 * start and every reconnect attempt, so it can hand out a fresh token.
 *
 * Returns: (transfer full) (nullable): the token, or %NULL to send none
 *
 * Since: 0.1
 */
typedef char *(*HubsAccessTokenFunc) (HubsConnection *connection,
                                      gpointer        user_data);

/**
 * HubsAccessTokenRequestFunc:
 * @connection: the connection
 * @request: the request, to answer now or later
 * @user_data: the data given with the function
 *
 * Gives the access token asynchronously: the function answers @request
 * with [method@Hubs.AccessTokenRequest.return_token] once it has the
 * token, keeping a reference to it until then. It is asked at every start
 * and every reconnect attempt, like [callback@Hubs.AccessTokenFunc].
 *
 * Since: 0.1
 */
typedef void (*HubsAccessTokenRequestFunc) (HubsConnection         *connection,
                                            HubsAccessTokenRequest *request,
                                            gpointer                user_data);

/**
 * HubsClientMethodFunc:
 * @connection: the connection
 * @invocation: the server's call, with its arguments
 * @user_data: the data given with the handler
 *
 * A handler of a client method, registered with [method@Hubs.Connection.on].
 *
 * When the server waits for a result (SignalR's client results), the
 * handler that answers calls [method@Hubs.ClientInvocation.return_value] or
 * [method@Hubs.ClientInvocation.return_error_literal], now or later (keeping a
 * reference to @invocation), and returns %HUBS_INVOCATION_HANDLED. When no
 * handler does, the server receives `Client didn't provide a result.`, as
 * from the JavaScript client.
 *
 * Returns: %HUBS_INVOCATION_HANDLED if the handler completed or will
 *   complete @invocation, else %HUBS_INVOCATION_UNHANDLED
 *
 * Since: 0.1
 */
typedef gboolean (*HubsClientMethodFunc) (HubsConnection       *connection,
                                          HubsClientInvocation *invocation,
                                          gpointer              user_data);

/**
 * HubsReconnectPolicyFunc:
 * @connection: the connection
 * @previous_retry_count: how many reconnect attempts failed so far
 * @elapsed_ms: milliseconds since reconnecting began
 * @retry_reason: why the connection was lost, or why the last attempt failed
 * @user_data: the data given with the function
 *
 * Decides whether and when a lost connection tries again: SignalR's
 * `IRetryPolicy.nextRetryDelayInMilliseconds`.
 *
 * Returns: the delay before the next attempt in milliseconds, or a negative
 *   number to stop reconnecting
 *
 * Since: 0.1
 */
typedef gint64 (*HubsReconnectPolicyFunc) (HubsConnection *connection,
                                           guint           previous_retry_count,
                                           gint64          elapsed_ms,
                                           const GError   *retry_reason,
                                           gpointer        user_data);

HUBS_AVAILABLE_IN_ALL
HubsConnection      *hubs_connection_new               (const char              *url);

HUBS_AVAILABLE_IN_ALL
const char          *hubs_connection_get_url           (HubsConnection          *self);
HUBS_AVAILABLE_IN_ALL
HubsConnectionState  hubs_connection_get_state         (HubsConnection          *self);
HUBS_AVAILABLE_IN_ALL
const char          *hubs_connection_get_connection_id (HubsConnection          *self);
HUBS_AVAILABLE_IN_ALL
HubsTransportType    hubs_connection_get_transport     (HubsConnection          *self);
HUBS_AVAILABLE_IN_ALL
const char          *hubs_connection_get_protocol      (HubsConnection          *self);

HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_add_header        (HubsConnection          *self,
                                                        const char              *name,
                                                        const char              *value);
HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_set_access_token_func (HubsConnection      *self,
                                                        HubsAccessTokenFunc      func,
                                                        gpointer                 user_data,
                                                        GDestroyNotify           destroy);
HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_set_access_token_request_func (HubsConnection *self,
                                                        HubsAccessTokenRequestFunc func,
                                                        gpointer                 user_data,
                                                        GDestroyNotify           destroy);
HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_set_reconnect_policy (HubsConnection       *self,
                                                        HubsReconnectPolicyFunc  func,
                                                        gpointer                 user_data,
                                                        GDestroyNotify           destroy);

HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_start_async       (HubsConnection          *self,
                                                        GCancellable            *cancellable,
                                                        GAsyncReadyCallback      callback,
                                                        gpointer                 user_data);
HUBS_AVAILABLE_IN_ALL
gboolean             hubs_connection_start_finish      (HubsConnection          *self,
                                                        GAsyncResult            *result,
                                                        GError                 **error);
HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_stop_async        (HubsConnection          *self,
                                                        GCancellable            *cancellable,
                                                        GAsyncReadyCallback      callback,
                                                        gpointer                 user_data);
HUBS_AVAILABLE_IN_ALL
gboolean             hubs_connection_stop_finish       (HubsConnection          *self,
                                                        GAsyncResult            *result,
                                                        GError                 **error);

HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_invoke_async      (HubsConnection          *self,
                                                        const char              *method,
                                                        guint                    n_args,
                                                        const GValue            *args,
                                                        GType                    result_type,
                                                        GCancellable            *cancellable,
                                                        GAsyncReadyCallback      callback,
                                                        gpointer                 user_data);
HUBS_AVAILABLE_IN_ALL
gboolean             hubs_connection_invoke_finish     (HubsConnection          *self,
                                                        GAsyncResult            *result,
                                                        GValue                  *value,
                                                        GError                 **error);
HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_send_async        (HubsConnection          *self,
                                                        const char              *method,
                                                        guint                    n_args,
                                                        const GValue            *args,
                                                        GCancellable            *cancellable,
                                                        GAsyncReadyCallback      callback,
                                                        gpointer                 user_data);
HUBS_AVAILABLE_IN_ALL
gboolean             hubs_connection_send_finish       (HubsConnection          *self,
                                                        GAsyncResult            *result,
                                                        GError                 **error);
HUBS_AVAILABLE_IN_ALL
HubsClientStream    *hubs_connection_stream            (HubsConnection          *self,
                                                        const char              *method,
                                                        guint                    n_args,
                                                        const GValue            *args,
                                                        GType                    item_type);

HUBS_AVAILABLE_IN_ALL
guint                hubs_connection_on                (HubsConnection          *self,
                                                        const char              *method,
                                                        guint                    n_params,
                                                        const GType             *param_types,
                                                        HubsClientMethodFunc     func,
                                                        gpointer                 user_data,
                                                        GDestroyNotify           destroy);
HUBS_AVAILABLE_IN_ALL
void                 hubs_connection_off               (HubsConnection          *self,
                                                        guint                    handler_id);

G_END_DECLS
