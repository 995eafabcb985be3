/* hubs-access-token-request.h: a connection asking for an access token
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <gio/gio.h>
#include "../hubs-types.h"

G_BEGIN_DECLS

#define HUBS_TYPE_ACCESS_TOKEN_REQUEST (hubs_access_token_request_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsAccessTokenRequest, hubs_access_token_request, HUBS, ACCESS_TOKEN_REQUEST, GObject)

HUBS_AVAILABLE_IN_ALL
GCancellable *hubs_access_token_request_get_cancellable (HubsAccessTokenRequest *self);
HUBS_AVAILABLE_IN_ALL
void          hubs_access_token_request_return_token    (HubsAccessTokenRequest *self,
                                                         const char             *token);
HUBS_AVAILABLE_IN_ALL
void          hubs_access_token_request_return_error    (HubsAccessTokenRequest *self,
                                                         const GError           *error);

G_END_DECLS
