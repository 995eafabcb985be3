/* hubs-authorization-private.h: authorization checks of the dispatcher and
 * of connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-authorization.h"
#include "hubs-connection-context-private.h"
#include "hubs-hub-private.h"

G_BEGIN_DECLS

/* Whether @context may call @method: every policy of @hub_type and its
 * ancestors, then every policy of the method, must allow it. */
gboolean hubs_authorization_check_method      (GType                  hub_type,
                                               const HubsMethodInfo  *method,
                                               HubsCallerContext     *context);

/* Whether @user meets the user requirements (authenticated user, roles,
 * claims) of every policy of @hub_type and its ancestors: what ASP.NET Core
 * checks on each request of a hub's endpoint. Assertions need a caller
 * context, so they are left to the check of each call. */
gboolean hubs_authorization_check_hub_user    (GType                  hub_type,
                                               HubsUser              *user);

/* When the hub closes connections whose authentication expires and the
 * connection's user has an expiration, closes @connection then with a Close
 * message without error that allows reconnecting, as ASP.NET Core's
 * CloseOnAuthenticationExpiration does. Nothing stays behind once the
 * connection has ended. */
void     hubs_authorization_watch_expiration  (HubsConnectionContext *connection);

G_END_DECLS
