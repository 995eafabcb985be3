/* hubs-http-context-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>
#include "hubs-http-context.h"

G_BEGIN_DECLS

/* A copy of what a request carried (method, URI, headers, remote address),
 * kept after the request itself is gone. @user may be NULL (anonymous). */
HubsHttpContext *hubs_http_context_new      (SoupServerMessage *message,
                                             HubsUser          *user);
void             hubs_http_context_set_user (HubsHttpContext   *self,
                                             HubsUser          *user);

G_END_DECLS
