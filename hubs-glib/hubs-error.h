/* hubs-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib.h>
#include "hubs-version-macros.h"

G_BEGIN_DECLS

/**
 * HUBS_HUB_ERROR:
 *
 * The error domain of hub errors: SignalR's `HubException`.
 *
 * The message of an error in this domain, returned by a hub method, reaches
 * the client in the invocation's completion, whether detailed errors are on
 * or not. Errors of any other domain are hidden behind SignalR's generic
 * message unless the hub's [property@Hubs.HubOptions:detailed-errors] is on.
 */
#define HUBS_HUB_ERROR (hubs_hub_error_quark ())

/**
 * HubsHubError:
 * @HUBS_HUB_ERROR_FAILED: a hub method failed; its message is for the client.
 * @HUBS_HUB_ERROR_UNAUTHORIZED: the caller may not invoke the method.
 *
 * Codes of the [error@Hubs.HubError] domain. The client sees the message, never
 * the code.
 */
typedef enum
{
  HUBS_HUB_ERROR_FAILED,
  HUBS_HUB_ERROR_UNAUTHORIZED,
} HubsHubError;

/**
 * HUBS_ERROR:
 *
 * The error domain of hubs-glib's own errors: protocol violations by a peer,
 * limits exceeded, connections that ended.
 */
#define HUBS_ERROR (hubs_error_quark ())

/**
 * HubsError:
 * @HUBS_ERROR_FAILED: an unspecified failure.
 * @HUBS_ERROR_INVALID_DATA: the peer sent data that breaks the protocol.
 * @HUBS_ERROR_MESSAGE_TOO_LARGE: a message exceeded the maximum message size.
 * @HUBS_ERROR_HANDSHAKE_FAILED: the hub protocol handshake failed.
 * @HUBS_ERROR_TIMED_OUT: the peer sent nothing within the client timeout.
 * @HUBS_ERROR_CONNECTION_CLOSED: the connection is closed.
 * @HUBS_ERROR_NOT_FOUND: no connection has the given id.
 * @HUBS_ERROR_UNAUTHORIZED: the request carries no acceptable credentials.
 * @HUBS_ERROR_BINDING_FAILED: arguments do not match the hub method's parameters.
 *
 * Codes of the [error@Hubs.Error] domain.
 */
typedef enum
{
  HUBS_ERROR_FAILED,
  HUBS_ERROR_INVALID_DATA,
  HUBS_ERROR_MESSAGE_TOO_LARGE,
  HUBS_ERROR_HANDSHAKE_FAILED,
  HUBS_ERROR_TIMED_OUT,
  HUBS_ERROR_CONNECTION_CLOSED,
  HUBS_ERROR_NOT_FOUND,
  HUBS_ERROR_UNAUTHORIZED,
  HUBS_ERROR_BINDING_FAILED,
} HubsError;

HUBS_AVAILABLE_IN_ALL
GQuark hubs_hub_error_quark (void);
HUBS_AVAILABLE_IN_ALL
GQuark hubs_error_quark     (void);

G_END_DECLS
