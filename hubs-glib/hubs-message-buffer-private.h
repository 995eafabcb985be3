/* hubs-message-buffer-private.h: what stateful reconnect keeps of a
 * connection's messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-hub-protocol-private.h"

G_BEGIN_DECLS

/* Both directions of SignalR's stateful reconnect (HubProtocol.md, "Stateful
 * Reconnect"; ASP.NET Core's MessageBuffer): the messages written and not
 * yet acknowledged, kept to be written again on a new transport, and the
 * count of messages received, to drop those the peer sends twice. Only
 * Invocation, StreamInvocation, StreamItem, Completion and CancelInvocation
 * are numbered; sequence ids start at 1 in each direction. */
typedef struct _HubsMessageBuffer HubsMessageBuffer;

HubsMessageBuffer *hubs_message_buffer_new             (gsize              limit);
void               hubs_message_buffer_free            (HubsMessageBuffer *self);

gboolean           hubs_message_type_is_sequenced      (HubsMessageType    type);

/* Outgoing. Keeps @bytes (one framed message of @type) when @type is
 * sequenced. */
void               hubs_message_buffer_add             (HubsMessageBuffer *self,
                                                        HubsMessageType    type,
                                                        GBytes            *bytes);
/* Bytes of the messages not yet acknowledged. */
gsize              hubs_message_buffer_get_buffered    (HubsMessageBuffer *self);
/* More than the limit waits for the peer: writers should hold back. */
gboolean           hubs_message_buffer_is_full         (HubsMessageBuffer *self);
/* The peer's Ack: drops the messages up to @sequence_id. */
void               hubs_message_buffer_ack             (HubsMessageBuffer *self,
                                                        guint64            sequence_id);
/* What to write on a new transport before anything else: the id of the
 * first message kept (for the Sequence message) and the messages kept, in
 * order (transfer container: GBytes owned by the buffer). */
guint64            hubs_message_buffer_get_resend      (HubsMessageBuffer *self,
                                                        GPtrArray        **messages);

/* Incoming. Whether a received message of @type is to be handled: FALSE
 * for one the peer sends again after a reconnect, and for anything but a
 * Sequence after hubs_message_buffer_expect_sequence(). */
gboolean           hubs_message_buffer_should_process  (HubsMessageBuffer *self,
                                                        HubsMessageType    type);
/* The peer is on a new transport: it starts with a Sequence. */
void               hubs_message_buffer_expect_sequence (HubsMessageBuffer *self);
/* The peer's Sequence message: the id of its next message. */
gboolean           hubs_message_buffer_reset_sequence  (HubsMessageBuffer *self,
                                                        guint64            sequence_id,
                                                        GError           **error);
/* TRUE with the id to acknowledge when messages arrived since the last Ack. */
gboolean           hubs_message_buffer_take_ack        (HubsMessageBuffer *self,
                                                        guint64           *sequence_id);

G_END_DECLS
