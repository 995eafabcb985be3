/* hubs-message-buffer.c: what stateful reconnect keeps of a connection's
 * messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-message-buffer-private.h"

#include "hubs-error.h"

typedef struct
{
  guint64 sequence_id;
  GBytes *bytes;
} Entry;

struct _HubsMessageBuffer
{
  gsize limit;

  /* Outgoing */
  GQueue entries;               /* Entry, oldest first */
  gsize buffered;
  guint64 total_sent;           /* id of the last sequenced message written */

  /* Incoming, as MessageBuffer: the id the next message will have, and the
   * highest id processed (none yet: 0, since ids start at 1). */
  guint64 next_receiving;
  guint64 latest_received;
  guint64 last_acked;
  gboolean expect_sequence;     /* on a new transport, until its Sequence */
};

HubsMessageBuffer *
hubs_message_buffer_new (gsize limit)
{
  HubsMessageBuffer *self = g_new0 (HubsMessageBuffer, 1);

  self->limit = limit;
  g_queue_init (&self->entries);
  self->next_receiving = 1;

  return self;
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_bytes_unref (entry->bytes);
  g_free (entry);
}

void
hubs_message_buffer_free (HubsMessageBuffer *self)
{
  g_queue_clear_full (&self->entries, entry_free);
  g_free (self);
}

gboolean
hubs_message_type_is_sequenced (HubsMessageType type)
{
  switch (type)
    {
    case HUBS_MESSAGE_INVOCATION:
    case HUBS_MESSAGE_STREAM_ITEM:
    case HUBS_MESSAGE_COMPLETION:
    case HUBS_MESSAGE_STREAM_INVOCATION:
    case HUBS_MESSAGE_CANCEL_INVOCATION:
      return TRUE;
    default:
      return FALSE;
    }
}

void
hubs_message_buffer_add (HubsMessageBuffer *self,
                         HubsMessageType    type,
                         GBytes            *bytes)
{
  Entry *entry;

  if (!hubs_message_type_is_sequenced (type))
    return;

  entry = g_new (Entry, 1);
  entry->sequence_id = ++self->total_sent;
  entry->bytes = g_bytes_ref (bytes);
  g_queue_push_tail (&self->entries, entry);
  self->buffered += g_bytes_get_size (bytes);
}

gsize
hubs_message_buffer_get_buffered (HubsMessageBuffer *self)
{
  return self->buffered;
}

gboolean
hubs_message_buffer_is_full (HubsMessageBuffer *self)
{
  return self->buffered > self->limit;
}

void
hubs_message_buffer_ack (HubsMessageBuffer *self,
                         guint64            sequence_id)
{
  Entry *entry;

  /* An id past what was sent acknowledges everything, as MessageBuffer. */
  while ((entry = g_queue_peek_head (&self->entries)) != NULL &&
         entry->sequence_id <= sequence_id)
    {
      g_queue_pop_head (&self->entries);
      self->buffered -= g_bytes_get_size (entry->bytes);
      entry_free (entry);
    }
}

guint64
hubs_message_buffer_get_resend (HubsMessageBuffer *self,
                                GPtrArray        **messages)
{
  Entry *first = g_queue_peek_head (&self->entries);

  *messages = g_ptr_array_sized_new (g_queue_get_length (&self->entries));
  for (GList *l = self->entries.head; l != NULL; l = l->next)
    g_ptr_array_add (*messages, ((Entry *) l->data)->bytes);

  return first != NULL ? first->sequence_id : self->total_sent + 1;
}

gboolean
hubs_message_buffer_should_process (HubsMessageBuffer *self,
                                    HubsMessageType    type)
{
  guint64 id;

  /* As MessageBuffer: on a new transport, whatever comes before the peer's
   * Sequence is dropped. */
  if (self->expect_sequence)
    {
      if (type != HUBS_MESSAGE_SEQUENCE)
        return FALSE;
      self->expect_sequence = FALSE;
      return TRUE;
    }

  if (!hubs_message_type_is_sequenced (type))
    return TRUE;

  id = self->next_receiving++;
  if (id <= self->latest_received)
    return FALSE;

  self->latest_received = id;
  return TRUE;
}

void
hubs_message_buffer_expect_sequence (HubsMessageBuffer *self)
{
  self->expect_sequence = TRUE;
}

gboolean
hubs_message_buffer_reset_sequence (HubsMessageBuffer *self,
                                    guint64            sequence_id,
                                    GError           **error)
{
  if (sequence_id > self->next_receiving)
    {
      g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA,
                           "Sequence ID greater than amount of messages we've received.");
      return FALSE;
    }

  self->next_receiving = sequence_id;
  return TRUE;
}

gboolean
hubs_message_buffer_take_ack (HubsMessageBuffer *self,
                              guint64           *sequence_id)
{
  if (self->latest_received <= self->last_acked)
    return FALSE;

  *sequence_id = self->last_acked = self->latest_received;
  return TRUE;
}
