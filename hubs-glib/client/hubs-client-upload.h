/* hubs-client-upload.h: a stream the client sends to the server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "../hubs-types.h"

G_BEGIN_DECLS

#define HUBS_TYPE_CLIENT_UPLOAD (hubs_client_upload_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsClientUpload, hubs_client_upload, HUBS, CLIENT_UPLOAD, GObject)

HUBS_AVAILABLE_IN_ALL
HubsClientUpload *hubs_client_upload_new                 (void);
HUBS_AVAILABLE_IN_ALL
const char       *hubs_client_upload_get_stream_id       (HubsClientUpload *self);
HUBS_AVAILABLE_IN_ALL
void              hubs_client_upload_write               (HubsClientUpload *self,
                                                          const GValue     *item);
HUBS_AVAILABLE_IN_ALL
void              hubs_client_upload_complete            (HubsClientUpload *self);
HUBS_AVAILABLE_IN_ALL
void              hubs_client_upload_complete_with_error (HubsClientUpload *self,
                                                          const GError     *error);

G_END_DECLS
