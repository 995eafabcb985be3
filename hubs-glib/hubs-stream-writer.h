/* hubs-stream-writer.h
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

#define HUBS_TYPE_STREAM_WRITER (hubs_stream_writer_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsStreamWriter, hubs_stream_writer, HUBS, STREAM_WRITER, GObject)

HUBS_AVAILABLE_IN_ALL
const char        *hubs_stream_writer_get_invocation_id (HubsStreamWriter    *self);
HUBS_AVAILABLE_IN_ALL
HubsHub           *hubs_stream_writer_get_hub           (HubsStreamWriter    *self);
HUBS_AVAILABLE_IN_ALL
HubsCallerContext *hubs_stream_writer_get_context       (HubsStreamWriter    *self);
HUBS_AVAILABLE_IN_ALL
GCancellable      *hubs_stream_writer_get_cancellable   (HubsStreamWriter    *self);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_stream_writer_is_completed      (HubsStreamWriter    *self);

HUBS_AVAILABLE_IN_ALL
void               hubs_stream_writer_write_async       (HubsStreamWriter    *self,
                                                         const GValue        *item,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_stream_writer_write_finish      (HubsStreamWriter    *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_stream_writer_write             (HubsStreamWriter    *self,
                                                         const GValue        *item);

HUBS_AVAILABLE_IN_ALL
void               hubs_stream_writer_complete          (HubsStreamWriter    *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_stream_writer_complete_with_error (HubsStreamWriter  *self,
                                                         const GError        *error);

G_END_DECLS
