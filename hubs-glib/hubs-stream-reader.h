/* hubs-stream-reader.h
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

#define HUBS_TYPE_STREAM_READER (hubs_stream_reader_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsStreamReader, hubs_stream_reader, HUBS, STREAM_READER, GObject)

HUBS_AVAILABLE_IN_ALL
const char *hubs_stream_reader_get_stream_id (HubsStreamReader    *self);
HUBS_AVAILABLE_IN_ALL
GType       hubs_stream_reader_get_item_type (HubsStreamReader    *self);

HUBS_AVAILABLE_IN_ALL
void        hubs_stream_reader_read_async    (HubsStreamReader    *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
HUBS_AVAILABLE_IN_ALL
GValue     *hubs_stream_reader_read_finish   (HubsStreamReader    *self,
                                              GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
