/* hubs-types.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "hubs-version-macros.h"

G_BEGIN_DECLS

/**
 * HubsTransportType:
 * @HUBS_TRANSPORT_NONE: no transport.
 * @HUBS_TRANSPORT_WEB_SOCKETS: WebSockets.
 * @HUBS_TRANSPORT_SERVER_SENT_EVENTS: Server-Sent Events, with client data sent by POST.
 * @HUBS_TRANSPORT_LONG_POLLING: Long Polling.
 * @HUBS_TRANSPORT_ALL: every transport.
 *
 * The SignalR transports, as flags so that a hub can enable several.
 */
typedef enum /*< flags >*/
{
  HUBS_TRANSPORT_NONE = 0,
  HUBS_TRANSPORT_WEB_SOCKETS = 1 << 0,
  HUBS_TRANSPORT_SERVER_SENT_EVENTS = 1 << 1,
  HUBS_TRANSPORT_LONG_POLLING = 1 << 2,
  HUBS_TRANSPORT_ALL = 0x7, /*< skip >*/
} HubsTransportType;

/**
 * HubsTransferFormat:
 * @HUBS_TRANSFER_FORMAT_TEXT: UTF-8 text (WebSocket text frames).
 * @HUBS_TRANSFER_FORMAT_BINARY: binary data (WebSocket binary frames).
 *
 * How a connection's bytes are carried.
 */
typedef enum
{
  HUBS_TRANSFER_FORMAT_TEXT = 1,
  HUBS_TRANSFER_FORMAT_BINARY = 2,
} HubsTransferFormat;

/**
 * HubsConnectionState:
 * @HUBS_CONNECTION_STATE_DISCONNECTED: not connected; a start may begin.
 * @HUBS_CONNECTION_STATE_CONNECTING: starting: negotiating, connecting a
 *   transport or waiting for the handshake.
 * @HUBS_CONNECTION_STATE_CONNECTED: connected; invocations may be sent.
 * @HUBS_CONNECTION_STATE_DISCONNECTING: stopping.
 * @HUBS_CONNECTION_STATE_RECONNECTING: the connection was lost and is
 *   reconnecting automatically.
 *
 * The states of a [class@Hubs.Connection], SignalR's `HubConnectionState`.
 *
 * Since: 0.1
 */
typedef enum
{
  HUBS_CONNECTION_STATE_DISCONNECTED,
  HUBS_CONNECTION_STATE_CONNECTING,
  HUBS_CONNECTION_STATE_CONNECTED,
  HUBS_CONNECTION_STATE_DISCONNECTING,
  HUBS_CONNECTION_STATE_RECONNECTING,
} HubsConnectionState;

/**
 * HUBS_INVOCATION_HANDLED:
 *
 * The value a hub method's handler returns once it has taken the invocation:
 * it completed it or will complete it later. Same as %TRUE.
 */
#define HUBS_INVOCATION_HANDLED TRUE

/**
 * HUBS_INVOCATION_UNHANDLED:
 *
 * The value a hub method's handler returns to let the next handler take the
 * invocation. Same as %FALSE.
 */
#define HUBS_INVOCATION_UNHANDLED FALSE

typedef struct _HubsServer HubsServer;
typedef struct _HubsHub HubsHub;
typedef struct _HubsHubOptions HubsHubOptions;
typedef struct _HubsInvocation HubsInvocation;
typedef struct _HubsCallerContext HubsCallerContext;
typedef struct _HubsHttpContext HubsHttpContext;
typedef struct _HubsUser HubsUser;
typedef struct _HubsHubClients HubsHubClients;
typedef struct _HubsClientProxy HubsClientProxy;
typedef struct _HubsGroupManager HubsGroupManager;
typedef struct _HubsHubContext HubsHubContext;
typedef struct _HubsHttpConnection HubsHttpConnection;

G_END_DECLS
