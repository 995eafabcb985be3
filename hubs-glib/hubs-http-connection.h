/* hubs-http-connection.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <gio/gio.h>
#include "hubs-types.h"

G_BEGIN_DECLS

#define HUBS_TYPE_HTTP_CONNECTION (hubs_http_connection_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsHttpConnection, hubs_http_connection, HUBS, HTTP_CONNECTION, GObject)

HUBS_AVAILABLE_IN_ALL
const char        *hubs_http_connection_get_connection_id (HubsHttpConnection *self);
HUBS_AVAILABLE_IN_ALL
HubsHttpContext   *hubs_http_connection_get_http_context  (HubsHttpConnection *self);
HUBS_AVAILABLE_IN_ALL
HubsTransportType  hubs_http_connection_get_transport     (HubsHttpConnection *self);
HUBS_AVAILABLE_IN_ALL
gsize              hubs_http_connection_get_queued_bytes  (HubsHttpConnection *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_http_connection_send              (HubsHttpConnection *self,
                                                           GBytes             *data);
HUBS_AVAILABLE_IN_ALL
void               hubs_http_connection_close             (HubsHttpConnection *self,
                                                           const GError       *error);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_http_connection_is_closed         (HubsHttpConnection *self);

G_END_DECLS
