/* test-message-buffer.c: what stateful reconnect keeps of a connection's
 * messages (HubsMessageBuffer), as ASP.NET Core's MessageBuffer does
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "hubs-error.h"
#include "hubs-message-buffer-private.h"

static GBytes *
bytes_of (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static void
add (HubsMessageBuffer *buffer,
     HubsMessageType    type,
     const char        *text)
{
  g_autoptr(GBytes) bytes = bytes_of (text);

  hubs_message_buffer_add (buffer, type, bytes);
}

/* Only invocations and what belongs to them are numbered and kept. */
static void
test_sequenced_types (void)
{
  g_assert_true (hubs_message_type_is_sequenced (HUBS_MESSAGE_INVOCATION));
  g_assert_true (hubs_message_type_is_sequenced (HUBS_MESSAGE_STREAM_ITEM));
  g_assert_true (hubs_message_type_is_sequenced (HUBS_MESSAGE_COMPLETION));
  g_assert_true (hubs_message_type_is_sequenced (HUBS_MESSAGE_STREAM_INVOCATION));
  g_assert_true (hubs_message_type_is_sequenced (HUBS_MESSAGE_CANCEL_INVOCATION));
  g_assert_false (hubs_message_type_is_sequenced (HUBS_MESSAGE_PING));
  g_assert_false (hubs_message_type_is_sequenced (HUBS_MESSAGE_CLOSE));
  g_assert_false (hubs_message_type_is_sequenced (HUBS_MESSAGE_ACK));
  g_assert_false (hubs_message_type_is_sequenced (HUBS_MESSAGE_SEQUENCE));
  g_assert_false (hubs_message_type_is_sequenced (0));
}

static void
assert_resend (HubsMessageBuffer  *buffer,
               guint64             first,
               const char * const *texts)
{
  g_autoptr(GPtrArray) messages = NULL;
  guint i;

  g_assert_cmpuint (hubs_message_buffer_get_resend (buffer, &messages), ==, first);
  for (i = 0; texts[i] != NULL; i++)
    {
      gsize size;
      const char *data;

      g_assert_cmpuint (i, <, messages->len);
      data = g_bytes_get_data (messages->pdata[i], &size);
      g_assert_cmpmem (data, size, texts[i], strlen (texts[i]));
    }
  g_assert_cmpuint (messages->len, ==, i);
}

static void
test_outgoing (void)
{
  HubsMessageBuffer *buffer = hubs_message_buffer_new (100000);

  /* Nothing sent: the Sequence names the first message to come. */
  assert_resend (buffer, 1, (const char *[]) { NULL });

  add (buffer, HUBS_MESSAGE_INVOCATION, "one");
  add (buffer, HUBS_MESSAGE_PING, "ping");
  add (buffer, HUBS_MESSAGE_COMPLETION, "two");
  add (buffer, 0, "handshake");
  add (buffer, HUBS_MESSAGE_STREAM_ITEM, "three");
  g_assert_cmpuint (hubs_message_buffer_get_buffered (buffer), ==, 3 + 3 + 5);
  assert_resend (buffer, 1, (const char *[]) { "one", "two", "three", NULL });

  hubs_message_buffer_ack (buffer, 0);
  assert_resend (buffer, 1, (const char *[]) { "one", "two", "three", NULL });
  hubs_message_buffer_ack (buffer, 2);
  g_assert_cmpuint (hubs_message_buffer_get_buffered (buffer), ==, 5);
  assert_resend (buffer, 3, (const char *[]) { "three", NULL });

  /* An old Ack changes nothing; one past what was sent takes everything. */
  hubs_message_buffer_ack (buffer, 1);
  assert_resend (buffer, 3, (const char *[]) { "three", NULL });
  hubs_message_buffer_ack (buffer, 1000);
  g_assert_cmpuint (hubs_message_buffer_get_buffered (buffer), ==, 0);
  assert_resend (buffer, 4, (const char *[]) { NULL });

  add (buffer, HUBS_MESSAGE_INVOCATION, "four");
  assert_resend (buffer, 4, (const char *[]) { "four", NULL });

  hubs_message_buffer_free (buffer);
}

static void
test_limit (void)
{
  HubsMessageBuffer *buffer = hubs_message_buffer_new (10);

  add (buffer, HUBS_MESSAGE_INVOCATION, "12345");
  add (buffer, HUBS_MESSAGE_INVOCATION, "12345");
  g_assert_false (hubs_message_buffer_is_full (buffer));
  add (buffer, HUBS_MESSAGE_INVOCATION, "1");
  g_assert_true (hubs_message_buffer_is_full (buffer));
  hubs_message_buffer_ack (buffer, 1);
  g_assert_false (hubs_message_buffer_is_full (buffer));

  hubs_message_buffer_free (buffer);
}

static void
test_incoming (void)
{
  HubsMessageBuffer *buffer = hubs_message_buffer_new (100000);
  g_autoptr(GError) error = NULL;
  guint64 ack = 0;

  g_assert_false (hubs_message_buffer_take_ack (buffer, &ack));

  /* Pings and Closes are not counted. */
  g_assert_true (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_PING));
  g_assert_false (hubs_message_buffer_take_ack (buffer, &ack));

  g_assert_true (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_INVOCATION));
  g_assert_true (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_STREAM_ITEM));
  g_assert_true (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_COMPLETION));
  g_assert_true (hubs_message_buffer_take_ack (buffer, &ack));
  g_assert_cmpuint (ack, ==, 3);
  g_assert_false (hubs_message_buffer_take_ack (buffer, &ack));

  /* The peer comes back and sends again from 2: 2 and 3 are duplicates. */
  g_assert_true (hubs_message_buffer_reset_sequence (buffer, 2, &error));
  g_assert_no_error (error);
  g_assert_false (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_STREAM_ITEM));
  g_assert_false (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_COMPLETION));
  g_assert_false (hubs_message_buffer_take_ack (buffer, &ack));
  g_assert_true (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_INVOCATION));
  g_assert_true (hubs_message_buffer_take_ack (buffer, &ack));
  g_assert_cmpuint (ack, ==, 4);

  /* The next expected id is 5: a Sequence of 5 is fine, 6 is not. */
  g_assert_true (hubs_message_buffer_reset_sequence (buffer, 5, &error));
  g_assert_no_error (error);
  g_assert_false (hubs_message_buffer_reset_sequence (buffer, 6, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "Sequence ID greater than amount of messages we've received.");
  g_clear_error (&error);

  /* On a new transport, nothing counts before the peer's Sequence. */
  hubs_message_buffer_expect_sequence (buffer);
  g_assert_false (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_INVOCATION));
  g_assert_false (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_PING));
  g_assert_false (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_ACK));
  g_assert_true (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_SEQUENCE));
  g_assert_true (hubs_message_buffer_reset_sequence (buffer, 5, &error));
  g_assert_true (hubs_message_buffer_should_process (buffer, HUBS_MESSAGE_INVOCATION));
  g_assert_true (hubs_message_buffer_take_ack (buffer, &ack));
  g_assert_cmpuint (ack, ==, 5);

  hubs_message_buffer_free (buffer);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/message-buffer/sequenced-types", test_sequenced_types);
  g_test_add_func ("/message-buffer/outgoing", test_outgoing);
  g_test_add_func ("/message-buffer/limit", test_limit);
  g_test_add_func ("/message-buffer/incoming", test_incoming);

  return g_test_run ();
}
