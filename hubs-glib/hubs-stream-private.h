/* hubs-stream-private.h: the library's side of stream writers and readers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-stream-writer.h"
#include "hubs-stream-reader.h"
#include "hubs-hub-private.h"

G_BEGIN_DECLS

/* StreamBufferCapacity: items an upload stream holds before the
 * connection's reading waits. */
#define HUBS_STREAM_BUFFER_CAPACITY 10

/* Called once, when the streaming method has completed its writer. */
typedef void (*HubsStreamWriterDoneFunc) (HubsStreamWriter *writer,
                                          gpointer          user_data);

HubsStreamWriter *hubs_stream_writer_new          (HubsConnectionContext   *connection,
                                                   HubsHub                 *hub,
                                                   const char              *invocation_id,
                                                   const char              *target,
                                                   GType                    item_type,
                                                   HubsStreamWriterDoneFunc done,
                                                   gpointer                 user_data);
/* The handler's emission has returned: later errors are streaming errors. */
void              hubs_stream_writer_set_returned (HubsStreamWriter        *self);
/* The client cancelled, or the connection ended: a Completion without error
 * ends the stream on the wire at once. */
void              hubs_stream_writer_cancel       (HubsStreamWriter        *self);

HubsStreamReader *hubs_stream_reader_new          (HubsConnectionContext   *connection,
                                                   const char              *stream_id,
                                                   const HubsParamType     *item_type);
const HubsParamType *hubs_stream_reader_get_param_type (HubsStreamReader   *self);
gboolean          hubs_stream_reader_is_full      (HubsStreamReader        *self);
gboolean          hubs_stream_reader_is_ended     (HubsStreamReader        *self);
/* Takes @item. */
void              hubs_stream_reader_push_item    (HubsStreamReader        *self,
                                                   GValue                  *item);
/* @error: NULL for the end of the stream. */
void              hubs_stream_reader_push_end     (HubsStreamReader        *self,
                                                   const GError            *error);

G_END_DECLS
