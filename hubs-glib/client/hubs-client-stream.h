/* hubs-client-stream.h: a stream the server sends to the client
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

#define HUBS_TYPE_CLIENT_STREAM (hubs_client_stream_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsClientStream, hubs_client_stream, HUBS, CLIENT_STREAM, GObject)

HUBS_AVAILABLE_IN_ALL
const char *hubs_client_stream_get_invocation_id (HubsClientStream *self);
HUBS_AVAILABLE_IN_ALL
gboolean    hubs_client_stream_is_completed      (HubsClientStream *self);
HUBS_AVAILABLE_IN_ALL
void        hubs_client_stream_cancel            (HubsClientStream *self);
HUBS_AVAILABLE_IN_ALL
void        hubs_client_stream_read_async        (HubsClientStream    *self,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
HUBS_AVAILABLE_IN_ALL
GValue     *hubs_client_stream_read_finish       (HubsClientStream    *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

G_END_DECLS
