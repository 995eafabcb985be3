/* test-redis-protocol.c: the payloads of the Redis backplane, byte by byte
 * against the layouts of ASP.NET Core's RedisProtocol.cs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The expected bytes are what MessagePack-CSharp's MessagePackWriter writes
 * for RedisProtocol's calls: the smallest encoding of each integer and
 * string (fixint, fixstr, str8 …), bin for the serialised messages.
 */

#include <string.h>

#include "hubs-error.h"
#include "hubs-redis-protocol-private.h"

static void
assert_bytes (GBytes       *bytes,
              const guint8 *expected,
              gsize         expected_length)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (bytes, &length);

  g_assert_cmpmem (data, length, expected, expected_length);
}

static void
test_invocation_plain (void)
{
  g_autoptr(GBytes) json = g_bytes_new_static ("{\"type\":1}\x1e", 11);
  g_autoptr(GBytes) msgpack = g_bytes_new_static ("\x02\x91\x01", 3);
  const char *names[] = { "json", "messagepack" };
  GBytes *payloads[] = { json, msgpack };
  g_autoptr(GBytes) bytes = hubs_redis_write_invocation (NULL, 2, names, payloads, NULL, NULL);
  static const guint8 expected[] = {
    0x92,                                       /* [ */
    0x90,                                       /* [] excluded */
    0x82,                                       /* { */
    0xa4, 'j', 's', 'o', 'n',
    0xc4, 11, '{', '"', 't', 'y', 'p', 'e', '"', ':', '1', '}', 0x1e,
    0xab, 'm', 'e', 's', 's', 'a', 'g', 'e', 'p', 'a', 'c', 'k',
    0xc4, 3, 0x02, 0x91, 0x01,
  };
  g_autoptr(HubsRedisInvocation) read = NULL;
  g_autoptr(GError) error = NULL;

  assert_bytes (bytes, expected, sizeof expected);

  read = hubs_redis_read_invocation (expected, sizeof expected, &error);
  g_assert_no_error (error);
  g_assert_null (read->excluded);
  g_assert_cmpstrv (read->protocol_names, ((const char *[]) { "json", "messagepack", NULL }));
  g_assert_true (g_bytes_equal (g_ptr_array_index (read->payloads, 0), json));
  g_assert_true (g_bytes_equal (g_ptr_array_index (read->payloads, 1), msgpack));
  g_assert_null (read->invocation_id);
  g_assert_null (read->return_channel);
}

static void
test_invocation_excluded_and_result (void)
{
  g_autoptr(GBytes) json = g_bytes_new_static ("x", 1);
  const char *names[] = { "json" };
  GBytes *payloads[] = { json };
  const char *excluded[] = { "a", "bc", NULL };
  g_autofree char *long_channel = g_strnfill (40, 'c');
  g_autoptr(GBytes) bytes = hubs_redis_write_invocation (excluded, 1, names, payloads, "id", long_channel);
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  static const guint8 head[] = {
    0x94,                                       /* 4 items with a result */
    0x92, 0xa1, 'a', 0xa2, 'b', 'c',
    0x81, 0xa4, 'j', 's', 'o', 'n', 0xc4, 1, 'x',
    0xa2, 'i', 'd',
    0xd9, 40,                                   /* str8 past 31 bytes */
  };
  g_autoptr(HubsRedisInvocation) read = NULL;
  g_autoptr(GError) error = NULL;

  g_byte_array_append (expected, head, sizeof head);
  g_byte_array_append (expected, (const guint8 *) long_channel, 40);
  assert_bytes (bytes, expected->data, expected->len);

  read = hubs_redis_read_invocation (expected->data, expected->len, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (read->excluded, excluded);
  g_assert_cmpstr (read->invocation_id, ==, "id");
  g_assert_cmpstr (read->return_channel, ==, long_channel);
}

static void
test_group_command (void)
{
  g_autoptr(GBytes) bytes = hubs_redis_write_group_command (300, "srv", HUBS_REDIS_GROUP_ADD, "g", "c");
  g_autoptr(GBytes) remove = hubs_redis_write_group_command (1, "s", HUBS_REDIS_GROUP_REMOVE, "g", "c");
  static const guint8 expected[] = {
    0x95, 0xcd, 0x01, 0x2c,                     /* 300 as uint16 */
    0xa3, 's', 'r', 'v', 0x01, 0xa1, 'g', 0xa1, 'c',
  };
  static const guint8 expected_remove[] = { 0x95, 0x01, 0xa1, 's', 0x02, 0xa1, 'g', 0xa1, 'c' };
  g_autofree char *server = NULL, *group = NULL, *connection = NULL;
  g_autoptr(GError) error = NULL;
  HubsRedisGroupAction action;
  gint32 id;

  assert_bytes (bytes, expected, sizeof expected);
  assert_bytes (remove, expected_remove, sizeof expected_remove);

  g_assert_true (hubs_redis_read_group_command (expected, sizeof expected, &id, &server, &action,
                                                &group, &connection, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id, ==, 300);
  g_assert_cmpstr (server, ==, "srv");
  g_assert_cmpint (action, ==, HUBS_REDIS_GROUP_ADD);
  g_assert_cmpstr (group, ==, "g");
  g_assert_cmpstr (connection, ==, "c");
}

static void
test_ack (void)
{
  g_autoptr(GBytes) small = hubs_redis_write_ack (5);
  g_autoptr(GBytes) large = hubs_redis_write_ack (70000);
  static const guint8 expected_small[] = { 0x91, 0x05 };
  static const guint8 expected_large[] = { 0x91, 0xce, 0x00, 0x01, 0x11, 0x70 };
  /* The reference reads any integer encoding, and ignores extra items. */
  static const guint8 int32_extra[] = { 0x92, 0xd2, 0x00, 0x00, 0x00, 0x07, 0xc0 };
  g_autoptr(GError) error = NULL;
  gint32 id;

  assert_bytes (small, expected_small, sizeof expected_small);
  assert_bytes (large, expected_large, sizeof expected_large);

  g_assert_true (hubs_redis_read_ack (expected_large, sizeof expected_large, &id, &error));
  g_assert_cmpint (id, ==, 70000);
  g_assert_true (hubs_redis_read_ack (int32_extra, sizeof int32_extra, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (id, ==, 7);
}

static void
test_completion (void)
{
  static const guint8 message[] = "{\"type\":3,\"invocationId\":\"x\",\"result\":2}\x1e";
  g_autoptr(GBytes) bytes = hubs_redis_write_completion ("json", message, sizeof message - 1);
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  static const guint8 head[] = { 0x92, 0xa4, 'j', 's', 'o', 'n', 0xc4, sizeof message - 1 };
  g_autofree char *protocol = NULL;
  g_autoptr(GBytes) read = NULL;
  g_autoptr(GError) error = NULL;

  g_byte_array_append (expected, head, sizeof head);
  g_byte_array_append (expected, message, sizeof message - 1);
  assert_bytes (bytes, expected->data, expected->len);

  g_assert_true (hubs_redis_read_completion (expected->data, expected->len, &protocol, &read, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (protocol, ==, "json");
  g_assert_cmpmem (g_bytes_get_data (read, NULL), g_bytes_get_size (read), message, sizeof message - 1);
}

typedef struct
{
  const char *name;
  const char *data;
  gsize length;
} BadCase;

/* Hostile payloads: each reader fails cleanly, whatever it is given. */
static void
test_bad_payloads (void)
{
  static const BadCase cases[] = {
    { "empty", "", 0 },
    { "not an array", "\x05", 1 },
    { "too few items", "\x91\x90", 2 },
    { "truncated", "\x92\x90\x81\xa4js", 6 },
    { "huge array count", "\xdd\xff\xff\xff\xff", 5 },
    { "huge map count", "\x92\x90\xdf\xff\xff\xff\xff", 7 },
    { "excluded not strings", "\x92\x91\x01\x80", 4 },
    { "payload not bin", "\x92\x90\x81\xa4json\x01", 9 },
    { "deep nesting", "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91"
                      "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x90", 34 },
    { "bad length", "\x92\x90\x81\xa4json\xc4\xff", 10 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const guint8 *data = (const guint8 *) cases[i].data;
      g_autoptr(GError) error = NULL, error2 = NULL, error3 = NULL, error4 = NULL;
      g_autoptr(HubsRedisInvocation) invocation = NULL;
      g_autofree char *a = NULL, *b = NULL, *c = NULL;
      g_autoptr(GBytes) bytes = NULL;
      HubsRedisGroupAction action;
      gint32 id;

      g_test_message ("%s", cases[i].name);
      invocation = hubs_redis_read_invocation (data, cases[i].length, &error);
      g_assert_null (invocation);
      g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);

      g_assert_false (hubs_redis_read_group_command (data, cases[i].length, &id, &a, &action, &b, &c, &error2));
      g_assert_error (error2, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
      g_assert_null (a);

      g_assert_false (hubs_redis_read_completion (data, cases[i].length, &a, &bytes, &error3));
      g_assert_error (error3, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);

      if (cases[i].length != 2 || data[0] != 0x91)
        {
          g_assert_false (hubs_redis_read_ack (data, cases[i].length, &id, &error4));
          g_assert_error (error4, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
        }
    }
}

static void
test_insufficient_items_text (void)
{
  static const guint8 data[] = { 0x91, 0x01 };
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL;
  HubsRedisGroupAction action;
  gint32 id;

  g_assert_false (hubs_redis_read_group_command (data, sizeof data, &id, &a, &action, &b, &c, &error));
  /* RedisProtocol.ValidateArraySize's text */
  g_assert_cmpstr (error->message, ==, "Insufficient items in GroupCommand array.");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hubs/redis-protocol/invocation", test_invocation_plain);
  g_test_add_func ("/hubs/redis-protocol/invocation-excluded-result", test_invocation_excluded_and_result);
  g_test_add_func ("/hubs/redis-protocol/group-command", test_group_command);
  g_test_add_func ("/hubs/redis-protocol/ack", test_ack);
  g_test_add_func ("/hubs/redis-protocol/completion", test_completion);
  g_test_add_func ("/hubs/redis-protocol/bad-payloads", test_bad_payloads);
  g_test_add_func ("/hubs/redis-protocol/insufficient-items", test_insufficient_items_text);

  return g_test_run ();
}
