/* test-msgpack-protocol.c: the MessagePack hub protocol and its values
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Expected bytes come from SignalR's HubProtocol.md ("MessagePack (MsgPack)
 * encoding") and from what ASP.NET Core's MessagePackHubProtocolWorker
 * writes (docs/spec/signalr-wire.md §4, §5).
 */

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "hubs-error.h"
#include "hubs-hub-protocol-private.h"
#include "hubs-msgpack-private.h"

static const HubsHubProtocol *mp;

/* A GObject to bind and write, with .NET-style property names. */

#define TEST_TYPE_ITEM (test_item_get_type ())
G_DECLARE_FINAL_TYPE (TestItem, test_item, TEST, ITEM, GObject)

struct _TestItem
{
  GObject parent_instance;
  char *name;
  int count;
  GBytes *data;
  GDateTime *when;
};

enum
{
  PROP_0,
  PROP_NAME,
  PROP_COUNT,
  PROP_DATA,
  PROP_WHEN,
  N_PROPS
};

static GParamSpec *item_properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TestItem, test_item, G_TYPE_OBJECT)

static void
test_item_finalize (GObject *object)
{
  TestItem *self = TEST_ITEM (object);

  g_free (self->name);
  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_pointer (&self->when, g_date_time_unref);

  G_OBJECT_CLASS (test_item_parent_class)->finalize (object);
}

static void
test_item_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  TestItem *self = TEST_ITEM (object);

  switch (prop_id)
    {
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_COUNT: g_value_set_int (value, self->count); break;
    case PROP_DATA: g_value_set_boxed (value, self->data); break;
    case PROP_WHEN: g_value_set_boxed (value, self->when); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_item_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  TestItem *self = TEST_ITEM (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_free (self->name);
      self->name = g_value_dup_string (value);
      break;
    case PROP_COUNT:
      self->count = g_value_get_int (value);
      break;
    case PROP_DATA:
      g_clear_pointer (&self->data, g_bytes_unref);
      self->data = g_value_dup_boxed (value);
      break;
    case PROP_WHEN:
      g_clear_pointer (&self->when, g_date_time_unref);
      self->when = g_value_dup_boxed (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_item_class_init (TestItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = test_item_finalize;
  object_class->get_property = test_item_get_property;
  object_class->set_property = test_item_set_property;

  item_properties[PROP_NAME] =
    g_param_spec_string ("Name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_COUNT] =
    g_param_spec_int ("Count", NULL, NULL, 0, 1000, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_DATA] =
    g_param_spec_boxed ("Data", NULL, NULL, G_TYPE_BYTES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_WHEN] =
    g_param_spec_boxed ("When", NULL, NULL, G_TYPE_DATE_TIME, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, item_properties);
}

static void
test_item_init (TestItem *self)
{
}

/* Helpers */

#define BYTES(...) ((const guint8[]) { __VA_ARGS__ })
#define LEN(...) sizeof ((const guint8[]) { __VA_ARGS__ })
/* A string literal of bytes and its length, its nul left out. */
#define S(literal) (literal), (sizeof (literal) - 1)

/* Prepends the VarInt length of @body. */
static GByteArray *
frame (const guint8 *body,
       gsize         length)
{
  GByteArray *out = g_byte_array_new ();
  gsize n = length;

  do
    {
      guint8 b = n & 0x7f;

      n >>= 7;
      if (n > 0)
        b |= 0x80;
      g_byte_array_append (out, &b, 1);
    }
  while (n > 0);
  g_byte_array_append (out, body, length);
  return out;
}

/* Parses one framed message that must use all of @body. */
static HubsHubMessage *
parse_body (const guint8 *body,
            gsize         length)
{
  g_autoptr(GByteArray) framed = frame (body, length);
  g_autoptr(GError) error = NULL;
  HubsHubMessage *message;
  gsize consumed = 0;

  message = mp->parse_message (framed->data, framed->len, 32768, &consumed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  g_assert_cmpuint (consumed, ==, framed->len);
  return message;
}

static void
assert_parse_error (const guint8 *body,
                    gsize         length,
                    const char   *expected)
{
  g_autoptr(GByteArray) framed = frame (body, length);
  g_autoptr(GError) error = NULL;
  HubsHubMessage *message;
  gsize consumed = 0;

  message = mp->parse_message (framed->data, framed->len, 0, &consumed, &error);
  g_assert_null (message);
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpuint (consumed, ==, framed->len);
}

static void
assert_bytes (GByteArray   *actual,
              const guint8 *expected,
              gsize         length)
{
  if (actual->len != length || memcmp (actual->data, expected, length) != 0)
    {
      g_autoptr(GString) a = g_string_new (NULL);
      g_autoptr(GString) e = g_string_new (NULL);

      for (guint i = 0; i < actual->len; i++)
        g_string_append_printf (a, "%02x ", actual->data[i]);
      for (gsize i = 0; i < length; i++)
        g_string_append_printf (e, "%02x ", expected[i]);
      g_error ("bytes differ:\n  actual   %s\n  expected %s", a->str, e->str);
    }
}

static GByteArray *
write_message (HubsHubMessage *message)
{
  GByteArray *out = g_byte_array_new ();

  mp->write_message (message, out);
  return out;
}

/* The body of a written message, its prefix checked and removed. */
static GByteArray *
write_body (HubsHubMessage *message)
{
  g_autoptr(GByteArray) out = write_message (message);
  GByteArray *body = g_byte_array_new ();
  gsize length = 0;
  guint n = 0;

  do
    length |= (gsize) (out->data[n] & 0x7f) << (7 * n);
  while (out->data[n++] & 0x80);
  g_assert_cmpuint (length, ==, out->len - n);
  g_byte_array_append (body, out->data + n, out->len - n);
  return body;
}

/* One MessagePack value as bytes, through the protocol's value writer. */
static GByteArray *
write_value (const GValue *value)
{
  GByteArray *out = g_byte_array_new ();
  msgpack_packer pk;

  hubs_msgpack_packer_init (&pk, out);
  hubs_msgpack_write_value (&pk, value);
  return out;
}

/* Binds the single MessagePack value @data to @type. */
static gboolean
bind_bytes (const guint8       *data,
            gsize               length,
            GType               type,
            const GVariantType *variant_type,
            GValue             *value)
{
  HubsParamType param = { type, variant_type };
  msgpack_unpacked unpacked;
  gsize end = 0, offset = 0;
  gboolean ok;

  g_assert_true (hubs_msgpack_check (data, length, &end, NULL));
  g_assert_cmpuint (end, ==, length);
  msgpack_unpacked_init (&unpacked);
  g_assert_cmpint (msgpack_unpack_next (&unpacked, (const char *) data, length, &offset), ==,
                   MSGPACK_UNPACK_SUCCESS);
  ok = hubs_msgpack_bind_value (&unpacked.data, &param, value, NULL);
  msgpack_unpacked_destroy (&unpacked);
  return ok;
}

/* Binds @data to @type, writes the bound value and expects @data again. */
static void
assert_round_trip (const guint8       *data,
                   gsize               length,
                   GType               type,
                   const GVariantType *variant_type)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GByteArray) out = NULL;

  g_assert_true (bind_bytes (data, length, type, variant_type, &value));
  out = write_value (&value);
  assert_bytes (out, data, length);
}

/* Layouts read, from HubProtocol.md */

static void
test_parse_invocation (void)
{
  g_autoptr(HubsHubMessage) m = NULL;
  g_auto(GValue) arg = G_VALUE_INIT;
  HubsParamType int_type = { G_TYPE_INT, NULL };

  m = parse_body (BYTES (0x96, 0x01, 0x80, 0xa3, 'x', 'y', 'z', 0xa6, 'm', 'e', 't', 'h', 'o', 'd',
                         0x91, 0x2a, 0x90),
                  LEN (0x96, 0x01, 0x80, 0xa3, 'x', 'y', 'z', 0xa6, 'm', 'e', 't', 'h', 'o', 'd',
                       0x91, 0x2a, 0x90));
  g_assert_cmpint (m->type, ==, HUBS_MESSAGE_INVOCATION);
  g_assert_cmpstr (m->invocation_id, ==, "xyz");
  g_assert_cmpstr (m->target, ==, "method");
  g_assert_null (m->headers);
  g_assert_null (m->stream_ids);
  g_assert_cmpuint (m->n_wire_arguments, ==, 1);
  g_assert_true (mp->bind_arguments (m, 1, &int_type, &arg, NULL));
  g_assert_cmpint (g_value_get_int (&arg), ==, 42);
}

static void
test_parse_non_blocking (void)
{
  g_autoptr(HubsHubMessage) nil_id = NULL;
  g_autoptr(HubsHubMessage) empty_id = NULL;
  g_autoptr(HubsHubMessage) old = NULL;

  nil_id = parse_body (BYTES (0x96, 0x01, 0x80, 0xc0, 0xa6, 'm', 'e', 't', 'h', 'o', 'd', 0x91, 0x2a, 0x90),
                       LEN (0x96, 0x01, 0x80, 0xc0, 0xa6, 'm', 'e', 't', 'h', 'o', 'd', 0x91, 0x2a, 0x90));
  g_assert_null (nil_id->invocation_id);

  /* MessagePack's "no id" may also be the empty string. */
  empty_id = parse_body (BYTES (0x96, 0x01, 0x80, 0xa0, 0xa1, 'm', 0x90, 0x90),
                         LEN (0x96, 0x01, 0x80, 0xa0, 0xa1, 'm', 0x90, 0x90));
  g_assert_null (empty_id->invocation_id);
  g_assert_cmpuint (empty_id->n_wire_arguments, ==, 0);

  /* Older clients send five items, without stream ids. */
  old = parse_body (BYTES (0x95, 0x01, 0x80, 0xa1, '1', 0xa4, 'E', 'c', 'h', 'o', 0x91, 0xa2, 'h', 'i'),
                    LEN (0x95, 0x01, 0x80, 0xa1, '1', 0xa4, 'E', 'c', 'h', 'o', 0x91, 0xa2, 'h', 'i'));
  g_assert_cmpstr (old->invocation_id, ==, "1");
  g_assert_cmpstr (old->target, ==, "Echo");
  g_assert_null (old->stream_ids);
  g_assert_cmpuint (old->n_wire_arguments, ==, 1);
}

static void
test_parse_headers_and_streams (void)
{
  g_autoptr(HubsHubMessage) m = NULL;
  g_autoptr(HubsHubMessage) s = NULL;

  m = parse_body (BYTES (0x96, 0x01, 0x82, 0xa1, 'x', 0xa1, 'y', 0xa1, 'z', 0xa1, 'z',
                         0xa3, 'x', 'y', 'z', 0xa6, 'm', 'e', 't', 'h', 'o', 'd', 0x91, 0x2a, 0x90),
                  LEN (0x96, 0x01, 0x82, 0xa1, 'x', 0xa1, 'y', 0xa1, 'z', 0xa1, 'z',
                       0xa3, 'x', 'y', 'z', 0xa6, 'm', 'e', 't', 'h', 'o', 'd', 0x91, 0x2a, 0x90));
  g_assert_nonnull (m->headers);
  g_assert_cmpuint (g_hash_table_size (m->headers), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (m->headers, "x"), ==, "y");
  g_assert_cmpstr (g_hash_table_lookup (m->headers, "z"), ==, "z");

  /* Empty keys and values are accepted (signalr-wire.md §5). */
  s = parse_body (BYTES (0x96, 0x04, 0x81, 0xa0, 0xa0, 0xa1, '7', 0xa1, 'S', 0x90, 0x92, 0xa1, '1', 0xa1, '2'),
                  LEN (0x96, 0x04, 0x81, 0xa0, 0xa0, 0xa1, '7', 0xa1, 'S', 0x90, 0x92, 0xa1, '1', 0xa1, '2'));
  g_assert_cmpint (s->type, ==, HUBS_MESSAGE_STREAM_INVOCATION);
  g_assert_cmpstr (g_hash_table_lookup (s->headers, ""), ==, "");
  g_assert_cmpstr (s->invocation_id, ==, "7");
  g_assert_cmpstr (s->target, ==, "S");
  g_assert_cmpuint (g_strv_length (s->stream_ids), ==, 2);
  g_assert_cmpstr (s->stream_ids[0], ==, "1");
  g_assert_cmpstr (s->stream_ids[1], ==, "2");
}

static void
test_parse_other_layouts (void)
{
  HubsParamType int_type = { G_TYPE_INT, NULL };
  HubsParamType string_type = { G_TYPE_STRING, NULL };

  {
    g_autoptr(HubsHubMessage) m =
      parse_body (BYTES (0x96, 0x04, 0x80, 0xa3, 'x', 'y', 'z', 0xa6, 'm', 'e', 't', 'h', 'o', 'd', 0x91, 0x2a, 0x90),
                  LEN (0x96, 0x04, 0x80, 0xa3, 'x', 'y', 'z', 0xa6, 'm', 'e', 't', 'h', 'o', 'd', 0x91, 0x2a, 0x90));
    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_STREAM_INVOCATION);
    g_assert_cmpstr (m->invocation_id, ==, "xyz");
    g_assert_cmpstr (m->target, ==, "method");
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x94, 0x02, 0x80, 0xa3, 'x', 'y', 'z', 0x2a),
                                              LEN (0x94, 0x02, 0x80, 0xa3, 'x', 'y', 'z', 0x2a));
    g_auto(GValue) item = G_VALUE_INIT;

    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_STREAM_ITEM);
    g_assert_cmpstr (m->invocation_id, ==, "xyz");
    g_assert_true (mp->bind_value (m, &int_type, &item, NULL));
    g_assert_cmpint (g_value_get_int (&item), ==, 42);
  }
  {
    /* HubProtocol.md labels it 0x94, but its bytes start 0x95. */
    g_autoptr(HubsHubMessage) m =
      parse_body (BYTES (0x95, 0x03, 0x80, 0xa3, 'x', 'y', 'z', 0x01, 0xa5, 'E', 'r', 'r', 'o', 'r'),
                  LEN (0x95, 0x03, 0x80, 0xa3, 'x', 'y', 'z', 0x01, 0xa5, 'E', 'r', 'r', 'o', 'r'));

    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_COMPLETION);
    g_assert_cmpstr (m->error, ==, "Error");
    g_assert_false (m->has_result);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x94, 0x03, 0x80, 0xa3, 'x', 'y', 'z', 0x02),
                                              LEN (0x94, 0x03, 0x80, 0xa3, 'x', 'y', 'z', 0x02));
    g_auto(GValue) result = G_VALUE_INIT;

    g_assert_null (m->error);
    g_assert_false (m->has_result);
    /* No result binds as nil. */
    g_assert_true (mp->bind_value (m, &string_type, &result, NULL));
    g_assert_null (g_value_get_string (&result));
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x95, 0x03, 0x80, 0xa3, 'x', 'y', 'z', 0x03, 0x2a),
                                              LEN (0x95, 0x03, 0x80, 0xa3, 'x', 'y', 'z', 0x03, 0x2a));
    g_auto(GValue) result = G_VALUE_INIT;

    g_assert_true (m->has_result);
    g_assert_true (mp->bind_value (m, &int_type, &result, NULL));
    g_assert_cmpint (g_value_get_int (&result), ==, 42);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x93, 0x05, 0x80, 0xa3, 'x', 'y', 'z'),
                                              LEN (0x93, 0x05, 0x80, 0xa3, 'x', 'y', 'z'));
    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_CANCEL_INVOCATION);
    g_assert_cmpstr (m->invocation_id, ==, "xyz");
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x91, 0x06), LEN (0x91, 0x06));
    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_PING);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x92, 0x07, 0xa3, 'x', 'y', 'z'),
                                              LEN (0x92, 0x07, 0xa3, 'x', 'y', 'z'));
    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_CLOSE);
    g_assert_cmpstr (m->error, ==, "xyz");
    g_assert_false (m->allow_reconnect);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x93, 0x07, 0xa3, 'x', 'y', 'z', 0xc3),
                                              LEN (0x93, 0x07, 0xa3, 'x', 'y', 'z', 0xc3));
    g_assert_cmpstr (m->error, ==, "xyz");
    g_assert_true (m->allow_reconnect);
  }
  {
    /* What the JS client sends before stopping. */
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x92, 0x07, 0xc0), LEN (0x92, 0x07, 0xc0));
    g_assert_null (m->error);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x92, 0x08, 0xcc, 0x24), LEN (0x92, 0x08, 0xcc, 0x24));
    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_ACK);
    g_assert_cmpuint (m->sequence_id, ==, 36);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x92, 0x09, 0xcc, 0x13), LEN (0x92, 0x09, 0xcc, 0x13));
    g_assert_cmpint (m->type, ==, HUBS_MESSAGE_SEQUENCE);
    g_assert_cmpuint (m->sequence_id, ==, 19);
  }
}

static void
test_parse_unknown_type (void)
{
  const guint8 data[] = { 0x02, 0x91, 0x63, 0x02, 0x91, 0x06 };
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsHubMessage) ping = NULL;
  gsize consumed = 0;

  /* Skipped without an error, and what follows is read. */
  g_assert_null (mp->parse_message (data, sizeof data, 0, &consumed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 3);
  ping = mp->parse_message (data + 3, sizeof data - 3, 0, &consumed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ping->type, ==, HUBS_MESSAGE_PING);
}

/* Framing */

static void
test_framing_varint (void)
{
  g_autoptr(GByteArray) body = g_byte_array_new ();
  g_autoptr(GByteArray) framed = NULL;
  g_autoptr(HubsHubMessage) m = NULL;
  g_autoptr(GError) error = NULL;
  gsize consumed = 0;

  /* 5248 bytes: prefix 0x80 0x29, the example of HubProtocol.md. A Close
   * whose error fills the rest. */
  g_byte_array_append (body, BYTES (0x92, 0x07, 0xda, 0x14, 0x7b), 5);
  for (guint i = 0; i < 5248 - 5; i++)
    g_byte_array_append (body, (const guint8 *) "e", 1);
  framed = frame (body->data, body->len);
  g_assert_cmpuint (framed->data[0], ==, 0x80);
  g_assert_cmpuint (framed->data[1], ==, 0x29);

  /* Every prefix of the frame is "more data needed". */
  for (guint cut = 0; cut < framed->len; cut += cut < 8 ? 1 : 997)
    {
      g_assert_null (mp->parse_message (framed->data, cut, 0, &consumed, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (consumed, ==, 0);
    }

  m = mp->parse_message (framed->data, framed->len, 0, &consumed, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 5250);
  g_assert_cmpuint (strlen (m->error), ==, 5243);
}

static void
test_framing_batched (void)
{
  const guint8 data[] = {
    0x02, 0x91, 0x06,
    0x0b, 0x95, 0x01, 0x80, 0xa1, '1', 0xa4, 'E', 'c', 'h', 'o', 0x90,
    0x03, 0x92, 0x07, 0xc0,
  };
  HubsMessageType expected[] = { HUBS_MESSAGE_PING, HUBS_MESSAGE_INVOCATION, HUBS_MESSAGE_CLOSE };
  gsize offset = 0;

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr(HubsHubMessage) m = NULL;
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      m = mp->parse_message (data + offset, sizeof data - offset, 32768, &consumed, &error);
      g_assert_no_error (error);
      g_assert_nonnull (m);
      g_assert_cmpint (m->type, ==, expected[i]);
      offset += consumed;
    }
  g_assert_cmpuint (offset, ==, sizeof data);
}

static void
test_framing_limits (void)
{
  const struct
  {
    const char *data;
    gsize length;
    gsize max;
    int code;                   /* -1: more data needed */
    const char *message;
  } cases[] = {
    { "\xff\xff\xff\xff\x08", 5, 0, HUBS_ERROR_INVALID_DATA, "Messages over 2GB in size are not supported." },
    { "\x80\x80\x80\x80\x80", 5, 0, HUBS_ERROR_INVALID_DATA, "Messages over 2GB in size are not supported." },
    { "\xff\xff\xff\xff\x80\x01", 6, 0, HUBS_ERROR_INVALID_DATA, "Messages over 2GB in size are not supported." },
    /* 2^31 - 1 is a valid length: waiting for its bytes, without keeping
     * anything for them. */
    { "\xff\xff\xff\xff\x07", 5, 0, -1, NULL },
    { "\x80\x80", 2, 0, -1, NULL },
    { "\x80", 1, 0, -1, NULL },
    /* The limit counts the prefix and fails before the bytes arrive. */
    { "\xff\xff\xff\xff\x07", 5, 32768, HUBS_ERROR_MESSAGE_TOO_LARGE,
      "The maximum message size of 32768B was exceeded. The message size can be configured in AddHubOptions." },
    { "\x0a\x91", 2, 10, HUBS_ERROR_MESSAGE_TOO_LARGE,
      "The maximum message size of 10B was exceeded. The message size can be configured in AddHubOptions." },
    { "\x09\x91", 2, 10, -1, NULL },
    /* An unfinished prefix that already fills the window. */
    { "\x80\x80\x80", 3, 3, HUBS_ERROR_MESSAGE_TOO_LARGE,
      "The maximum message size of 3B was exceeded. The message size can be configured in AddHubOptions." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gsize consumed = 99;

      g_test_message ("case %u", i);
      g_assert_null (mp->parse_message ((const guint8 *) cases[i].data, cases[i].length,
                                        cases[i].max, &consumed, &error));
      g_assert_cmpuint (consumed, ==, 0);
      if (cases[i].code < 0)
        g_assert_no_error (error);
      else
        {
          g_assert_error (error, HUBS_ERROR, cases[i].code);
          g_assert_cmpstr (error->message, ==, cases[i].message);
        }
    }

  /* A message of exactly the limit, prefix included, is read. */
  {
    g_autoptr(HubsHubMessage) m = NULL;
    g_autoptr(GError) error = NULL;
    gsize consumed = 0;

    m = mp->parse_message (BYTES (0x02, 0x91, 0x06), 3, 3, &consumed, &error);
    g_assert_no_error (error);
    g_assert_nonnull (m);
    g_assert_cmpuint (consumed, ==, 3);
  }
}

/* Bad input */

static void
test_parse_errors (void)
{
  const struct
  {
    const char *body;
    gsize length;
    const char *message;
  } cases[] = {
    { S (""), "Attempted to read past the end of the stream." },
    { S ("\x90"), "Reading 'messageType' as Int32 failed." },
    { S ("\x2a"), "Reading the message's array header failed." },
    { S ("\x91\xa1" "1"), "Reading 'messageType' as Int32 failed." },
    { S ("\x91\xce\x80\x00\x00\x00"), "Reading 'messageType' as Int32 failed." },
    { S ("\x92\x01\xc1"), "Unexpected msgpack code 193 (never used) encountered." },
    { S ("\x96\x01\x80\xa3xy"), "Attempted to read past the end of the stream." },
    { S ("\x9f\x01"), "Attempted to read past the end of the stream." },
    { S ("\xdd\xff\xff\xff\xff\x01"), "Attempted to read past the end of the stream." },
    { S ("\xdf\xff\xff\xff\xff\x01"), "Attempted to read past the end of the stream." },
    { S ("\x92\x02\xdb\xff\xff\xff\xff"), "Attempted to read past the end of the stream." },
    { S ("\x92\x02\xc6\x7f\xff\xff\xff"), "Attempted to read past the end of the stream." },
    /* Invocation */
    { S ("\x91\x01"), "Reading map length for 'headers' failed." },
    { S ("\x96\x01\xc0\xc0\xa1m\x90\x90"), "Reading map length for 'headers' failed." },
    { S ("\x96\x01\x81\xc0\xa1v\xc0\xa1m\x90\x90"), "Null or empty key in header." },
    { S ("\x96\x01\x81\xa1k\xc0\xc0\xa1m\x90\x90"), "Null or empty value in header." },
    { S ("\x96\x01\x81\x01\xa1v\xc0\xa1m\x90\x90"), "Reading 'headers[0].Key' as String failed." },
    { S ("\x96\x01\x81\xa1k\x01\xc0\xa1m\x90\x90"), "Reading 'headers[0].Value' as String failed." },
    { S ("\x96\x01\x82\xa1k\xa1v\xa1k\xa1w\xc0\xa1m\x90\x90"),
      "An item with the same key has already been added. Key: k" },
    { S ("\x96\x01\x80\x01\xa1m\x90\x90"), "Reading 'invocationId' as String failed." },
    { S ("\x96\x01\x80\xc0\xc0\x90\x90"), "Null or empty target for Invocation message." },
    { S ("\x96\x01\x80\xc0\xa0\x90\x90"), "Null or empty target for Invocation message." },
    { S ("\x96\x01\x80\xc0\x01\x90\x90"), "Reading 'target' as String failed." },
    { S ("\x93\x01\x80\xc0"), "Reading 'target' as String failed." },
    { S ("\x96\x01\x80\xc0\xa1m\x90\x80"), "Reading array length for 'streamIds' failed." },
    { S ("\x96\x01\x80\xc0\xa1m\x90\x91\xc0"), "Null or empty value in streamIds received." },
    { S ("\x96\x01\x80\xc0\xa1m\x90\x91\xa0"), "Null or empty value in streamIds received." },
    /* StreamInvocation */
    { S ("\x96\x04\x80\xc0\xa1m\x90\x90"), "Null or empty invocation ID for StreamInvocation message." },
    { S ("\x96\x04\x80\xa0\xa1m\x90\x90"), "Null or empty invocation ID for StreamInvocation message." },
    { S ("\x96\x04\x80\xa1" "1\xc0\x90\x90"), "Null or empty target for StreamInvocation message." },
    /* StreamItem */
    { S ("\x94\x02\x80\xc0\x2a"), "Null or empty invocation ID for StreamItem message." },
    { S ("\x93\x02\x80\xa1" "1"), "Attempted to read past the end of the stream." },
    /* Completion */
    { S ("\x94\x03\x80\xc0\x02"), "Null or empty invocation ID for Completion message." },
    { S ("\x93\x03\x80\xa1" "1"), "Reading 'resultKind' as Int32 failed." },
    { S ("\x94\x03\x80\xa1" "1\x04"), "Invalid invocation result kind." },
    { S ("\x94\x03\x80\xa1" "1\x03"), "Attempted to read past the end of the stream." },
    { S ("\x95\x03\x80\xa1" "1\x01\x01"), "Reading 'error' as String failed." },
    /* CancelInvocation */
    { S ("\x93\x05\x80\xc0"), "Null or empty invocation ID for CancelInvocation message." },
    /* Close, Ack, Sequence */
    { S ("\x91\x07"), "Reading 'error' as String failed." },
    { S ("\x93\x07\xc0\x01"), "Reading 'allowReconnect' as Boolean failed." },
    { S ("\x91\x08"), "Reading 'sequenceId' as Int64 failed." },
    { S ("\x92\x09\xa1" "1"), "Reading 'sequenceId' as Int64 failed." },
    { S ("\x92\x09\xff"), "Reading 'sequenceId' as Int64 failed." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: %s", i, cases[i].message);
      assert_parse_error ((const guint8 *) cases[i].body, cases[i].length, cases[i].message);
    }
}

static void
test_parse_depth (void)
{
  g_autoptr(GByteArray) body = g_byte_array_new ();
  g_autoptr(HubsHubMessage) m = NULL;
  HubsParamType any = { G_TYPE_VARIANT, NULL };
  g_auto(GValue) value = G_VALUE_INIT;
  guint levels;

  /* [1, {}, nil, "m", [[[…]]], []] with the whole message at the limit. */
  g_byte_array_append (body, BYTES (0x96, 0x01, 0x80, 0xc0, 0xa1, 'm'), 6);
  levels = HUBS_MSGPACK_MAX_DEPTH - 1;
  for (guint i = 0; i < levels; i++)
    g_byte_array_append (body, BYTES (0x91), 1);
  g_byte_array_append (body, BYTES (0x2a, 0x90), 2);
  m = parse_body (body->data, body->len);
  g_assert_true (mp->bind_arguments (m, 1, &any, &value, NULL));
  g_assert_cmpstr (g_variant_get_type_string (g_value_get_variant (&value)), ==, "av");

  /* One more is refused before msgpack-c sees it. */
  g_byte_array_set_size (body, 6);
  for (guint i = 0; i < levels + 1; i++)
    g_byte_array_append (body, BYTES (0x91), 1);
  g_byte_array_append (body, BYTES (0x2a, 0x90), 2);
  assert_parse_error (body->data, body->len, "The MessagePack data nests deeper than 30 levels.");

  /* Deep nesting of maps too, and far past the limit. */
  g_byte_array_set_size (body, 0);
  g_byte_array_append (body, BYTES (0x92, 0x02), 2);
  for (guint i = 0; i < 100000; i++)
    g_byte_array_append (body, BYTES (0x81, 0xa0), 2);
  g_byte_array_append (body, BYTES (0xc0), 1);
  assert_parse_error (body->data, body->len, "The MessagePack data nests deeper than 30 levels.");
}

/* Layouts written, as MessagePackHubProtocolWorker writes them */

static void
test_write_messages (void)
{
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  GValue result = G_VALUE_INIT;

  g_value_init (&args[0], G_TYPE_STRING);
  g_value_set_string (&args[0], "a");
  g_value_init (&args[1], G_TYPE_INT);
  g_value_set_int (&args[1], 300);

  {
    /* A server-to-client call: 6 items, nil id, no stream ids. */
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_invocation (NULL, "Send", 2, args);
    g_autoptr(GByteArray) out = write_message (m);

    assert_bytes (out, BYTES (0x10, 0x96, 0x01, 0x80, 0xc0, 0xa4, 'S', 'e', 'n', 'd', 0x92, 0xa1, 'a',
                              0xcd, 0x01, 0x2c, 0x90),
                  LEN (0x10, 0x96, 0x01, 0x80, 0xc0, 0xa4, 'S', 'e', 'n', 'd', 0x92, 0xa1, 'a',
                       0xcd, 0x01, 0x2c, 0x90));
  }
  {
    /* A client result: the server's own id. */
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_invocation ("s1", "Result", 0, NULL);
    g_autoptr(GByteArray) body = write_body (m);

    assert_bytes (body, BYTES (0x96, 0x01, 0x80, 0xa2, 's', '1', 0xa6, 'R', 'e', 's', 'u', 'l', 't', 0x90, 0x90),
                  LEN (0x96, 0x01, 0x80, 0xa2, 's', '1', 0xa6, 'R', 'e', 's', 'u', 'l', 't', 0x90, 0x90));
  }
  {
    /* A void method's completion still carries a (nil) result. */
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_completion ("1", NULL, TRUE, NULL);
    g_autoptr(GByteArray) body = write_body (m);

    assert_bytes (body, BYTES (0x95, 0x03, 0x80, 0xa1, '1', 0x03, 0xc0),
                  LEN (0x95, 0x03, 0x80, 0xa1, '1', 0x03, 0xc0));
  }
  {
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_completion ("1", NULL, FALSE, NULL);
    g_autoptr(GByteArray) body = write_body (m);

    assert_bytes (body, BYTES (0x94, 0x03, 0x80, 0xa1, '1', 0x02), LEN (0x94, 0x03, 0x80, 0xa1, '1', 0x02));
  }
  {
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_completion ("1", NULL, FALSE, "err");
    g_autoptr(GByteArray) body = write_body (m);

    assert_bytes (body, BYTES (0x95, 0x03, 0x80, 0xa1, '1', 0x01, 0xa3, 'e', 'r', 'r'),
                  LEN (0x95, 0x03, 0x80, 0xa1, '1', 0x01, 0xa3, 'e', 'r', 'r'));
  }
  {
    g_autoptr(HubsHubMessage) m = NULL;
    g_autoptr(GByteArray) body = NULL;

    g_value_init (&result, G_TYPE_DOUBLE);
    g_value_set_double (&result, 1.5);
    m = hubs_hub_message_new_completion ("1", &result, TRUE, NULL);
    body = write_body (m);
    assert_bytes (body, BYTES (0x95, 0x03, 0x80, 0xa1, '1', 0x03, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0),
                  LEN (0x95, 0x03, 0x80, 0xa1, '1', 0x03, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0));
    g_value_unset (&result);
  }
  {
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_stream_item ("2", &args[0]);
    g_autoptr(GByteArray) body = write_body (m);

    assert_bytes (body, BYTES (0x94, 0x02, 0x80, 0xa1, '2', 0xa1, 'a'), LEN (0x94, 0x02, 0x80, 0xa1, '2', 0xa1, 'a'));
  }
  {
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_ping ();
    g_autoptr(GByteArray) out = write_message (m);

    assert_bytes (out, BYTES (0x02, 0x91, 0x06), 3);
  }
  {
    /* Close always has three items. */
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_close (NULL, FALSE);
    g_autoptr(GByteArray) out = write_message (m);

    assert_bytes (out, BYTES (0x04, 0x93, 0x07, 0xc0, 0xc2), 5);
  }
  {
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_close ("Connection closed with an error.", TRUE);
    g_autoptr(GByteArray) body = write_body (m);

    g_assert_cmpuint (body->len, ==, 4 + 32 + 1);
    assert_bytes (body, BYTES (0x93, 0x07, 0xd9, 0x20, 'C', 'o', 'n', 'n', 'e', 'c', 't', 'i', 'o', 'n', ' ',
                               'c', 'l', 'o', 's', 'e', 'd', ' ', 'w', 'i', 't', 'h', ' ', 'a', 'n', ' ',
                               'e', 'r', 'r', 'o', 'r', '.', 0xc3),
                  37);
  }
  {
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new (HUBS_MESSAGE_SEQUENCE);
    g_autoptr(GByteArray) body = NULL;

    m->sequence_id = 1234;
    body = write_body (m);
    assert_bytes (body, BYTES (0x92, 0x09, 0xcd, 0x04, 0xd2), 5);
    m->type = HUBS_MESSAGE_ACK;
    g_byte_array_unref (body);
    body = write_body (m);
    assert_bytes (body, BYTES (0x92, 0x08, 0xcd, 0x04, 0xd2), 5);
  }
  {
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new (HUBS_MESSAGE_CANCEL_INVOCATION);
    g_autoptr(GByteArray) body = NULL;

    m->invocation_id = g_strdup ("xyz");
    m->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert (m->headers, g_strdup ("x"), g_strdup ("y"));
    body = write_body (m);
    assert_bytes (body, BYTES (0x93, 0x05, 0x81, 0xa1, 'x', 0xa1, 'y', 0xa3, 'x', 'y', 'z'),
                  LEN (0x93, 0x05, 0x81, 0xa1, 'x', 0xa1, 'y', 0xa3, 'x', 'y', 'z'));
  }
  {
    /* A long message gets a longer prefix. */
    g_autofree char *text = g_strnfill (300, 'a');
    g_autoptr(HubsHubMessage) m = hubs_hub_message_new_close (text, FALSE);
    g_autoptr(GByteArray) out = write_message (m);

    g_assert_cmpuint (out->len, ==, 2 + 2 + 3 + 300 + 1);
    g_assert_cmpuint (out->data[0], ==, 0x80 | ((306) & 0x7f));
    g_assert_cmpuint (out->data[1], ==, 306 >> 7);
  }

  g_value_unset (&args[0]);
  g_value_unset (&args[1]);
}

/* Values */

static void
test_values_scalars (void)
{
  g_auto(GValue) v = G_VALUE_INIT;

  /* Integers of every width, in and out of range. */
  g_assert_true (bind_bytes (BYTES (0xd0, 0x80), 2, G_TYPE_CHAR, NULL, &v));
  g_assert_cmpint (g_value_get_schar (&v), ==, -128);
  g_value_unset (&v);
  g_assert_false (bind_bytes (BYTES (0xcc, 0x80), 2, G_TYPE_CHAR, NULL, &v));
  g_assert_true (bind_bytes (BYTES (0xcc, 0xff), 2, G_TYPE_UCHAR, NULL, &v));
  g_assert_cmpuint (g_value_get_uchar (&v), ==, 255);
  g_value_unset (&v);
  g_assert_false (bind_bytes (BYTES (0xff), 1, G_TYPE_UCHAR, NULL, &v));
  g_assert_true (bind_bytes (BYTES (0xd2, 0x80, 0, 0, 0), 5, G_TYPE_INT, NULL, &v));
  g_assert_cmpint (g_value_get_int (&v), ==, G_MININT32);
  g_value_unset (&v);
  g_assert_false (bind_bytes (BYTES (0xce, 0x80, 0, 0, 0), 5, G_TYPE_INT, NULL, &v));
  g_assert_true (bind_bytes (BYTES (0xce, 0xff, 0xff, 0xff, 0xff), 5, G_TYPE_UINT, NULL, &v));
  g_assert_cmpuint (g_value_get_uint (&v), ==, G_MAXUINT32);
  g_value_unset (&v);
  g_assert_false (bind_bytes (BYTES (0xff), 1, G_TYPE_UINT, NULL, &v));
  g_assert_true (bind_bytes (BYTES (0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), 9, G_TYPE_INT64, NULL, &v));
  g_assert_cmpint (g_value_get_int64 (&v), ==, G_MININT64);
  g_value_unset (&v);
  g_assert_false (bind_bytes (BYTES (0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0), 9, G_TYPE_INT64, NULL, &v));
  g_assert_true (bind_bytes (BYTES (0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 9, G_TYPE_UINT64, NULL, &v));
  g_assert_cmpuint (g_value_get_uint64 (&v), ==, G_MAXUINT64);
  g_value_unset (&v);
  g_assert_true (bind_bytes (BYTES (0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 9, G_TYPE_LONG, NULL, &v));
  g_assert_cmpint (g_value_get_long (&v), ==, -1);
  g_value_unset (&v);
  g_assert_true (bind_bytes (BYTES (0x07), 1, G_TYPE_ULONG, NULL, &v));
  g_assert_cmpuint (g_value_get_ulong (&v), ==, 7);
  g_value_unset (&v);
  /* No floats for integers, no integers for strings. */
  g_assert_false (bind_bytes (BYTES (0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0), 9, G_TYPE_INT, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0x01), 1, G_TYPE_STRING, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0xa1, '1'), 2, G_TYPE_INT, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0x01), 1, G_TYPE_BOOLEAN, NULL, &v));
  g_assert_false (G_IS_VALUE (&v));

  /* Floats take integers too, as MessagePack-CSharp's ReadDouble. */
  g_assert_true (bind_bytes (BYTES (0x05), 1, G_TYPE_DOUBLE, NULL, &v));
  g_assert_cmpfloat (g_value_get_double (&v), ==, 5.0);
  g_value_unset (&v);
  g_assert_true (bind_bytes (BYTES (0xca, 0x3f, 0xc0, 0, 0), 5, G_TYPE_FLOAT, NULL, &v));
  g_assert_cmpfloat (g_value_get_float (&v), ==, 1.5f);
  g_value_unset (&v);
  g_assert_false (bind_bytes (BYTES (0xcb, 0x7f, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 9, G_TYPE_FLOAT, NULL, &v));

  g_assert_true (bind_bytes (BYTES (0xc3), 1, G_TYPE_BOOLEAN, NULL, &v));
  g_assert_true (g_value_get_boolean (&v));
  g_value_unset (&v);
  g_assert_true (bind_bytes (BYTES (0xc0), 1, G_TYPE_STRING, NULL, &v));
  g_assert_null (g_value_get_string (&v));
  g_value_unset (&v);
  /* U+0000 has no C string. */
  g_assert_false (bind_bytes (BYTES (0xa3, 'a', 0, 'b'), 4, G_TYPE_STRING, NULL, &v));
  /* Bad UTF-8 is replaced, as .NET decodes it. */
  g_assert_true (bind_bytes (BYTES (0xa2, 'a', 0xff), 3, G_TYPE_STRING, NULL, &v));
  g_assert_cmpstr (g_value_get_string (&v), ==, "a\xef\xbf\xbd");
  g_value_unset (&v);

  /* Written in their shortest forms, as MessagePack-CSharp writes them. */
  assert_round_trip (BYTES (0x7f), 1, G_TYPE_INT, NULL);
  assert_round_trip (BYTES (0xe0), 1, G_TYPE_INT, NULL);
  assert_round_trip (BYTES (0xd0, 0xdf), 2, G_TYPE_INT, NULL);
  assert_round_trip (BYTES (0xcc, 0x80), 2, G_TYPE_INT, NULL);
  assert_round_trip (BYTES (0xd1, 0x80, 0x00), 3, G_TYPE_INT, NULL);
  assert_round_trip (BYTES (0xcd, 0xff, 0xff), 3, G_TYPE_UINT, NULL);
  assert_round_trip (BYTES (0xd2, 0x80, 0, 0, 0), 5, G_TYPE_INT, NULL);
  assert_round_trip (BYTES (0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 9, G_TYPE_UINT64, NULL);
  assert_round_trip (BYTES (0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), 9, G_TYPE_INT64, NULL);
  assert_round_trip (BYTES (0xca, 0x3f, 0xc0, 0, 0), 5, G_TYPE_FLOAT, NULL);
  assert_round_trip (BYTES (0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0), 9, G_TYPE_DOUBLE, NULL);
  assert_round_trip (BYTES (0xc2), 1, G_TYPE_BOOLEAN, NULL);
  assert_round_trip (BYTES (0xa2, 0xc3, 0xa9), 3, G_TYPE_STRING, NULL);
  assert_round_trip (BYTES (0xc0), 1, G_TYPE_STRING, NULL);
}

static void
test_values_bytes_and_dates (void)
{
  g_auto(GValue) v = G_VALUE_INIT;
  g_autoptr(GDateTime) expected = NULL;
  GBytes *bytes;

  /* bin ↔ GBytes and GByteArray; str is the old format's raw. */
  assert_round_trip (BYTES (0xc4, 0x03, 1, 2, 3), 5, G_TYPE_BYTES, NULL);
  assert_round_trip (BYTES (0xc4, 0x00), 2, G_TYPE_BYTE_ARRAY, NULL);
  assert_round_trip (BYTES (0xc0), 1, G_TYPE_BYTES, NULL);
  g_assert_true (bind_bytes (BYTES (0xa2, 'h', 'i'), 3, G_TYPE_BYTES, NULL, &v));
  bytes = g_value_get_boxed (&v);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "hi", 2);
  g_value_unset (&v);
  g_assert_false (bind_bytes (BYTES (0x93, 1, 2, 3), 4, G_TYPE_BYTES, NULL, &v));

  /* The three timestamp sizes. */
  assert_round_trip (BYTES (0xd6, 0xff, 0x38, 0x6d, 0x43, 0x80), 6, G_TYPE_DATE_TIME, NULL);
  g_assert_true (bind_bytes (BYTES (0xd6, 0xff, 0x38, 0x6d, 0x43, 0x80), 6, G_TYPE_DATE_TIME, NULL, &v));
  expected = g_date_time_new_utc (2000, 1, 1, 0, 0, 0);
  g_assert_true (g_date_time_equal (g_value_get_boxed (&v), expected));
  g_value_unset (&v);

  /* 2000-01-01T00:00:00.5Z: 500000000 ns << 2 | seconds' top bits. */
  assert_round_trip (BYTES (0xd7, 0xff, 0x77, 0x35, 0x94, 0x00, 0x38, 0x6d, 0x43, 0x80), 10,
                     G_TYPE_DATE_TIME, NULL);
  g_assert_true (bind_bytes (BYTES (0xd7, 0xff, 0x77, 0x35, 0x94, 0x00, 0x38, 0x6d, 0x43, 0x80), 10,
                             G_TYPE_DATE_TIME, NULL, &v));
  g_assert_cmpint (g_date_time_get_microsecond (g_value_get_boxed (&v)), ==, 500000);
  g_value_unset (&v);

  /* Before 1970: 96 bits. 1969-12-31T23:59:59Z. */
  assert_round_trip (BYTES (0xc7, 0x0c, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 15,
                     G_TYPE_DATE_TIME, NULL);

  /* 1969-12-31T23:59:59.5Z: a second down, half a second up. */
  assert_round_trip (BYTES (0xc7, 0x0c, 0xff, 0x1d, 0xcd, 0x65, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 15,
                     G_TYPE_DATE_TIME, NULL);
  g_assert_true (bind_bytes (BYTES (0xc7, 0x0c, 0xff, 0x1d, 0xcd, 0x65, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 15,
                             G_TYPE_DATE_TIME, NULL, &v));
  g_assert_cmpint (g_date_time_get_year (g_value_get_boxed (&v)), ==, 1969);
  g_assert_cmpint (g_date_time_get_second (g_value_get_boxed (&v)), ==, 59);
  g_assert_cmpint (g_date_time_get_microsecond (g_value_get_boxed (&v)), ==, 500000);
  g_value_unset (&v);

  /* Out of GDateTime's range, bad nanoseconds, other extensions. */
  g_assert_false (bind_bytes (BYTES (0xc7, 0x0c, 0xff, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 15,
                              G_TYPE_DATE_TIME, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0xc7, 0x0c, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0), 15,
                              G_TYPE_DATE_TIME, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0xd6, 0x01, 0x38, 0x6d, 0x43, 0x80), 6, G_TYPE_DATE_TIME, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0xd4, 0xff, 0x00), 3, G_TYPE_DATE_TIME, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0xa1, '1'), 2, G_TYPE_DATE_TIME, NULL, &v));
  assert_round_trip (BYTES (0xc0), 1, G_TYPE_DATE_TIME, NULL);

  /* GStrv */
  assert_round_trip (BYTES (0x92, 0xa1, 'a', 0xa0), 4, G_TYPE_STRV, NULL);
  g_assert_false (bind_bytes (BYTES (0x91, 0xc0), 2, G_TYPE_STRV, NULL, &v));
}

static void
test_values_gobject (void)
{
  /* {Name: "n", Count: 3, Data: bin 1 2, When: 2000-01-01} */
  const guint8 data[] = {
    0x84, 0xa4, 'N', 'a', 'm', 'e', 0xa1, 'n', 0xa5, 'C', 'o', 'u', 'n', 't', 0x03,
    0xa4, 'D', 'a', 't', 'a', 0xc4, 0x02, 1, 2,
    0xa4, 'W', 'h', 'e', 'n', 0xd6, 0xff, 0x38, 0x6d, 0x43, 0x80,
  };
  g_auto(GValue) v = G_VALUE_INIT;
  TestItem *item;

  /* Property names as written, no camelCase. */
  assert_round_trip (data, sizeof data, TEST_TYPE_ITEM, NULL);
  assert_round_trip (BYTES (0xc0), 1, TEST_TYPE_ITEM, NULL);

  /* Names match as on the JSON side; unknown keys are skipped. */
  g_assert_true (bind_bytes (BYTES (0x83, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'x', 0xa3, 'z', 'z', 'z', 0x01,
                                    0x01, 0x02),
                             LEN (0x83, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'x', 0xa3, 'z', 'z', 'z', 0x01,
                                  0x01, 0x02),
                             TEST_TYPE_ITEM, NULL, &v));
  item = g_value_get_object (&v);
  g_assert_cmpstr (item->name, ==, "x");
  g_value_unset (&v);

  /* Out of the property's range, or of the wrong type. */
  g_assert_false (bind_bytes (BYTES (0x81, 0xa5, 'C', 'o', 'u', 'n', 't', 0xcd, 0x10, 0x00),
                              LEN (0x81, 0xa5, 'C', 'o', 'u', 'n', 't', 0xcd, 0x10, 0x00),
                              TEST_TYPE_ITEM, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0x81, 0xa4, 'D', 'a', 't', 'a', 0x01),
                              LEN (0x81, 0xa4, 'D', 'a', 't', 'a', 0x01), TEST_TYPE_ITEM, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0x90), 1, TEST_TYPE_ITEM, NULL, &v));
  g_assert_false (G_IS_VALUE (&v));
}

static void
test_values_variant (void)
{
  /* A map holding everything MessagePack has, bin and timestamps
   * included, comes back byte for byte. */
  const guint8 any[] = {
    0x89,
    0xa1, 'n', 0xc0,
    0xa1, 'b', 0xc3,
    0xa1, 'i', 0xd0, 0x85,
    0xa1, 'u', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xa1, 'd', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
    0xa1, 's', 0xa2, 'h', 'i',
    0xa1, 'y', 0xc4, 0x03, 1, 2, 3,
    0xa1, 't', 0xd6, 0xff, 0x38, 0x6d, 0x43, 0x80,
    0xa1, 'a', 0x93, 0x01, 0x90, 0x80,
  };
  g_auto(GValue) v = G_VALUE_INIT;
  GVariant *variant;

  assert_round_trip (any, sizeof any, G_TYPE_VARIANT, NULL);
  g_assert_true (bind_bytes (any, sizeof any, G_TYPE_VARIANT, NULL, &v));
  variant = g_value_get_variant (&v);
  g_assert_cmpstr (g_variant_get_type_string (variant), ==, "a{sv}");
  {
    g_autoptr(GVariant) y = g_variant_lookup_value (variant, "y", NULL);
    g_autoptr(GVariant) t = g_variant_lookup_value (variant, "t", NULL);
    g_autoptr(GVariant) u = g_variant_lookup_value (variant, "u", NULL);

    g_assert_cmpstr (g_variant_get_type_string (y), ==, "ay");
    g_assert_cmpstr (g_variant_get_type_string (t), ==, "(xu)");
    g_assert_cmpstr (g_variant_get_type_string (u), ==, "t");
  }
  g_value_unset (&v);

  /* Nil at the top is a NULL variant. */
  assert_round_trip (BYTES (0xc0), 1, G_TYPE_VARIANT, NULL);
  /* Maps with other keys have no natural form; other extensions neither. */
  g_assert_false (bind_bytes (BYTES (0x81, 0x01, 0x02), 3, G_TYPE_VARIANT, NULL, &v));
  g_assert_false (bind_bytes (BYTES (0xd4, 0x05, 0x00), 3, G_TYPE_VARIANT, NULL, &v));

  /* Declared types bind exactly. */
  assert_round_trip (BYTES (0x93, 0x01, 0x02, 0xd2, 0x80, 0, 0, 0), 8, G_TYPE_VARIANT, G_VARIANT_TYPE ("ai"));
  g_assert_false (bind_bytes (BYTES (0x91, 0xce, 0x80, 0, 0, 0), 6, G_TYPE_VARIANT, G_VARIANT_TYPE ("ai"), &v));
  assert_round_trip (BYTES (0xc4, 0x02, 0x01, 0x02), 4, G_TYPE_VARIANT, G_VARIANT_TYPE_BYTESTRING);
  assert_round_trip (BYTES (0x92, 0xa1, 'a', 0xc2), 4, G_TYPE_VARIANT, G_VARIANT_TYPE ("(sb)"));
  g_assert_false (bind_bytes (BYTES (0x91, 0xa1, 'a'), 3, G_TYPE_VARIANT, G_VARIANT_TYPE ("(sb)"), &v));
  assert_round_trip (BYTES (0x82, 0x01, 0xa1, 'a', 0x02, 0xa1, 'b'), 7, G_TYPE_VARIANT, G_VARIANT_TYPE ("a{is}"));
  assert_round_trip (BYTES (0xc0), 1, G_TYPE_VARIANT, G_VARIANT_TYPE ("ms"));
  assert_round_trip (BYTES (0xd6, 0xff, 0x38, 0x6d, 0x43, 0x80), 6, G_TYPE_VARIANT, G_VARIANT_TYPE ("(xu)"));
  g_assert_true (bind_bytes (BYTES (0x81, 0xa2, '1', '0', 0xa1, 'x'), 6, G_TYPE_VARIANT, G_VARIANT_TYPE ("a{us}"), &v));
  {
    g_autofree char *printed = g_variant_print (g_value_get_variant (&v), FALSE);

    g_assert_cmpstr (printed, ==, "{10: 'x'}");
  }
  g_value_unset (&v);
  g_assert_false (G_IS_VALUE (&v));
}

static void
test_values_json_node (void)
{
  const guint8 data[] = { 0x82, 0xa1, 'a', 0x92, 0x01, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa1, 'b', 0xc0 };
  g_auto(GValue) v = G_VALUE_INIT;
  g_autofree char *text = NULL;

  assert_round_trip (data, sizeof data, JSON_TYPE_NODE, NULL);

  /* bin and timestamps as JSON would carry them. */
  g_assert_true (bind_bytes (BYTES (0x92, 0xc4, 0x02, 0x01, 0x02, 0xd6, 0xff, 0x38, 0x6d, 0x43, 0x80), 11,
                             JSON_TYPE_NODE, NULL, &v));
  text = json_to_string (g_value_get_boxed (&v), FALSE);
  g_assert_cmpstr (text, ==, "[\"AQI=\",\"2000-01-01T00:00:00Z\"]");
}

/* Binding arguments */

static void
test_binding_errors (void)
{
  HubsParamType params[2] = { { G_TYPE_STRING, NULL }, { G_TYPE_INT, NULL } };
  GValue values[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_autoptr(GError) error = NULL;

  {
    /* The count first: a bad type in a miscounted call is not looked at. */
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x96, 0x01, 0x80, 0xa1, '1', 0xa1, 'm', 0x91, 0x01, 0x90),
                                              LEN (0x96, 0x01, 0x80, 0xa1, '1', 0xa1, 'm', 0x91, 0x01, 0x90));

    g_assert_false (mp->bind_arguments (m, 2, params, values, &error));
    g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
    g_assert_cmpstr (error->message, ==, "Invocation provides 1 argument(s) but target expects 2.");
    g_clear_error (&error);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x96, 0x01, 0x80, 0xa1, '1', 0xa1, 'm', 0x92, 0xa1, 'a', 0xa1, 'b', 0x90),
                                              LEN (0x96, 0x01, 0x80, 0xa1, '1', 0xa1, 'm', 0x92, 0xa1, 'a', 0xa1, 'b', 0x90));

    g_assert_false (mp->bind_arguments (m, 2, params, values, &error));
    g_assert_cmpstr (error->message, ==,
                     "Error binding arguments. Make sure that the types of the provided values "
                     "match the types of the hub method being invoked.");
    g_assert_false (G_IS_VALUE (&values[0]));
    g_clear_error (&error);

    g_assert_false (mp->bind_arguments (m, 0, NULL, NULL, &error));
    g_assert_cmpstr (error->message, ==, "Invocation provides 2 argument(s) but target expects 0.");
    g_clear_error (&error);
  }
  {
    /* Arguments that are no array fail the binding, not the connection. */
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x96, 0x01, 0x80, 0xa1, '1', 0xa1, 'm', 0x80, 0x90),
                                              LEN (0x96, 0x01, 0x80, 0xa1, '1', 0xa1, 'm', 0x80, 0x90));

    g_assert_false (mp->bind_arguments (m, 0, NULL, NULL, &error));
    g_assert_cmpstr (error->message, ==, "Reading array length for 'arguments' failed.");
    g_clear_error (&error);
  }
  {
    g_autoptr(HubsHubMessage) m = parse_body (BYTES (0x95, 0x01, 0x80, 0xc0, 0xa1, 'm', 0x90),
                                              LEN (0x95, 0x01, 0x80, 0xc0, 0xa1, 'm', 0x90));

    g_assert_true (mp->bind_arguments (m, 0, NULL, NULL, &error));
    g_assert_no_error (error);
  }
}

/* Hostile input: nothing crashes, every failure says why. */

static void
check_garbage (const guint8 *data,
               gsize         length)
{
  gsize offset = 0;

  while (offset < length)
    {
      g_autoptr(HubsHubMessage) m = NULL;
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      m = mp->parse_message (data + offset, length - offset, 4096, &consumed, &error);
      if (error != NULL)
        {
          g_assert_true (error->domain == HUBS_ERROR);
          g_assert_true (error->message[0] != '\0');
          break;
        }
      if (consumed == 0)
        break;
      offset += consumed;
      if (m != NULL)
        {
          HubsParamType any = { G_TYPE_VARIANT, NULL };
          HubsParamType item = { TEST_TYPE_ITEM, NULL };
          GValue values[2] = { G_VALUE_INIT, G_VALUE_INIT };
          g_auto(GValue) v = G_VALUE_INIT;

          if (mp->bind_arguments (m, m->n_wire_arguments == 1 ? 1 : 0, &any, values, NULL))
            g_value_unset (&values[0]);
          if (mp->bind_value (m, &item, &v, NULL))
            g_value_unset (&v);
          if (mp->bind_value (m, &any, &v, NULL))
            {
              /* What was read can be written. */
              g_autoptr(GByteArray) out = write_value (&v);

              g_assert_cmpuint (out->len, >, 0);
            }
        }
    }
}

static void
test_fuzz (void)
{
  const guint8 seeds[][24] = {
    { 0x11, 0x96, 0x01, 0x82, 0xa1, 'x', 0xa1, 'y', 0xa1, 'z', 0xa1, 'z', 0xc0, 0xa1, 'm', 0x91, 0x2a, 0x90 },
    { 0x0a, 0x95, 0x03, 0x80, 0xa1, '1', 0x03, 0xd6, 0xff, 0x38, 0x6d },
    { 0x0c, 0x94, 0x02, 0x80, 0xa1, '1', 0x83, 0xa1, 'a', 0xc4, 0x01, 0x00, 0x90 },
    { 0x02, 0x91, 0x06, 0x04, 0x93, 0x07, 0xc0, 0xc3 },
  };
  GRand *rand = g_rand_new_with_seed (0x6d736770);

  for (guint round = 0; round < 20000; round++)
    {
      guint8 data[64];
      gsize length;

      if (round % 2 == 0)
        {
          /* Mutations of valid messages. */
          const guint8 *seed = seeds[g_rand_int_range (rand, 0, G_N_ELEMENTS (seeds))];

          length = sizeof seeds[0];
          memcpy (data, seed, length);
          for (guint flips = g_rand_int_range (rand, 1, 4); flips > 0; flips--)
            data[g_rand_int_range (rand, 0, length)] = (guint8) g_rand_int_range (rand, 0, 256);
        }
      else
        {
          length = g_rand_int_range (rand, 0, sizeof data);
          for (gsize i = 0; i < length; i++)
            data[i] = (guint8) g_rand_int_range (rand, 0, 256);
        }

      check_garbage (data, length);
    }

  g_rand_free (rand);
}

static void
test_protocol_lookup (void)
{
  g_assert_true (hubs_hub_protocol_lookup ("messagepack") == mp);
  g_assert_true (hubs_hub_protocol_lookup ("MessagePack") == mp);
  g_assert_true (hubs_hub_protocol_lookup ("json") == hubs_json_hub_protocol_get ());
  g_assert_null (hubs_hub_protocol_lookup ("msgpack"));
  g_assert_cmpstr (mp->name, ==, "messagepack");
  g_assert_cmpint (mp->version, ==, 2);
  g_assert_cmpint (mp->transfer_format, ==, HUBS_TRANSFER_FORMAT_BINARY);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  mp = hubs_msgpack_hub_protocol_get ();

  g_test_add_func ("/hubs/msgpack/parse/invocation", test_parse_invocation);
  g_test_add_func ("/hubs/msgpack/parse/non-blocking", test_parse_non_blocking);
  g_test_add_func ("/hubs/msgpack/parse/headers-and-streams", test_parse_headers_and_streams);
  g_test_add_func ("/hubs/msgpack/parse/other-layouts", test_parse_other_layouts);
  g_test_add_func ("/hubs/msgpack/parse/unknown-type", test_parse_unknown_type);
  g_test_add_func ("/hubs/msgpack/parse/errors", test_parse_errors);
  g_test_add_func ("/hubs/msgpack/parse/depth", test_parse_depth);
  g_test_add_func ("/hubs/msgpack/framing/varint", test_framing_varint);
  g_test_add_func ("/hubs/msgpack/framing/batched", test_framing_batched);
  g_test_add_func ("/hubs/msgpack/framing/limits", test_framing_limits);
  g_test_add_func ("/hubs/msgpack/write/messages", test_write_messages);
  g_test_add_func ("/hubs/msgpack/values/scalars", test_values_scalars);
  g_test_add_func ("/hubs/msgpack/values/bytes-and-dates", test_values_bytes_and_dates);
  g_test_add_func ("/hubs/msgpack/values/gobject", test_values_gobject);
  g_test_add_func ("/hubs/msgpack/values/variant", test_values_variant);
  g_test_add_func ("/hubs/msgpack/values/json-node", test_values_json_node);
  g_test_add_func ("/hubs/msgpack/binding-errors", test_binding_errors);
  g_test_add_func ("/hubs/msgpack/fuzz", test_fuzz);
  g_test_add_func ("/hubs/msgpack/lookup", test_protocol_lookup);

  return g_test_run ();
}
