/* hubs-http-context.h
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

G_BEGIN_DECLS

#define HUBS_TYPE_HTTP_CONTEXT (hubs_http_context_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsHttpContext, hubs_http_context, HUBS, HTTP_CONTEXT, GObject)

HUBS_AVAILABLE_IN_ALL
const char          *hubs_http_context_get_method         (HubsHttpContext *self);
HUBS_AVAILABLE_IN_ALL
const char          *hubs_http_context_get_path           (HubsHttpContext *self);
HUBS_AVAILABLE_IN_ALL
GUri                *hubs_http_context_get_uri            (HubsHttpContext *self);
HUBS_AVAILABLE_IN_ALL
SoupMessageHeaders  *hubs_http_context_get_request_headers (HubsHttpContext *self);
HUBS_AVAILABLE_IN_ALL
char                *hubs_http_context_get_header         (HubsHttpContext *self,
                                                           const char      *name);
HUBS_AVAILABLE_IN_ALL
GHashTable          *hubs_http_context_get_query          (HubsHttpContext *self);
HUBS_AVAILABLE_IN_ALL
const char          *hubs_http_context_get_query_value    (HubsHttpContext *self,
                                                           const char      *name);
HUBS_AVAILABLE_IN_ALL
char                *hubs_http_context_get_cookie         (HubsHttpContext *self,
                                                           const char      *name);
HUBS_AVAILABLE_IN_ALL
GSocketAddress      *hubs_http_context_get_remote_address (HubsHttpContext *self);
HUBS_AVAILABLE_IN_ALL
const char          *hubs_http_context_get_remote_host    (HubsHttpContext *self);
HUBS_AVAILABLE_IN_ALL
HubsUser            *hubs_http_context_get_user           (HubsHttpContext *self);

G_END_DECLS
