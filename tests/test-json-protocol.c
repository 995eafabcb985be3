/* test-json-protocol.c: the JSON hub protocol, the handshake and JSON values
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Expected bytes come from ASP.NET Core's JsonHubProtocol and
 * HandshakeProtocol (docs/spec/signalr-wire.md §3–5, §8).
 */

#include <float.h>
#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "hubs-error.h"
#include "hubs-hub-protocol-private.h"
#include "hubs-json-private.h"

#define RS "\x1e"

static const HubsHubProtocol *json;

/* A small GObject to bind and write. */

#define TEST_TYPE_ITEM (test_item_get_type ())
G_DECLARE_FINAL_TYPE (TestItem, test_item, TEST, ITEM, GObject)

struct _TestItem
{
  GObject parent_instance;
  char *name;
  char *user_name;
  char *title;
  int count;
  GBytes *data;
  GDateTime *when;
  GVariant *numbers;
};

enum
{
  PROP_0,
  PROP_NAME,
  PROP_USER_NAME,
  PROP_TITLE,
  PROP_COUNT,
  PROP_DATA,
  PROP_WHEN,
  PROP_NUMBERS,
  N_PROPS
};

static GParamSpec *item_properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TestItem, test_item, G_TYPE_OBJECT)

static void
test_item_finalize (GObject *object)
{
  TestItem *self = TEST_ITEM (object);

  g_free (self->name);
  g_free (self->user_name);
  g_free (self->title);
  g_clear_pointer (&self->data, g_bytes_unref);
  g_clear_pointer (&self->when, g_date_time_unref);
  g_clear_pointer (&self->numbers, g_variant_unref);

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
    case PROP_USER_NAME: g_value_set_string (value, self->user_name); break;
    case PROP_TITLE: g_value_set_string (value, self->title); break;
    case PROP_COUNT: g_value_set_int (value, self->count); break;
    case PROP_DATA: g_value_set_boxed (value, self->data); break;
    case PROP_WHEN: g_value_set_boxed (value, self->when); break;
    case PROP_NUMBERS: g_value_set_variant (value, self->numbers); break;
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
    case PROP_USER_NAME:
      g_free (self->user_name);
      self->user_name = g_value_dup_string (value);
      break;
    case PROP_TITLE:
      g_free (self->title);
      self->title = g_value_dup_string (value);
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
    case PROP_NUMBERS:
      g_clear_pointer (&self->numbers, g_variant_unref);
      self->numbers = g_value_dup_variant (value);
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
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_USER_NAME] =
    g_param_spec_string ("user-name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_TITLE] =
    g_param_spec_string ("Title", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_COUNT] =
    g_param_spec_int ("count", NULL, NULL, 0, 1000, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_DATA] =
    g_param_spec_boxed ("data", NULL, NULL, G_TYPE_BYTES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_WHEN] =
    g_param_spec_boxed ("when", NULL, NULL, G_TYPE_DATE_TIME, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  item_properties[PROP_NUMBERS] =
    g_param_spec_variant ("numbers", NULL, NULL, G_VARIANT_TYPE ("ai"), NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, item_properties);
}

static void
test_item_init (TestItem *self)
{
}

/* A boxed type json-glib knows how to (de)serialize. */

typedef struct
{
  int x, y;
} TestPoint;

static TestPoint *
test_point_copy (const TestPoint *point)
{
  return g_memdup2 (point, sizeof *point);
}

GType test_point_get_type (void);
G_DEFINE_BOXED_TYPE (TestPoint, test_point, test_point_copy, g_free)

static JsonNode *
test_point_serialize (gconstpointer boxed)
{
  const TestPoint *point = boxed;
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *object = json_object_new ();

  json_object_set_int_member (object, "x", point->x);
  json_object_set_int_member (object, "y", point->y);
  json_node_take_object (node, object);
  return node;
}

static gpointer
test_point_deserialize (JsonNode *node)
{
  JsonObject *object = json_node_get_object (node);
  TestPoint point = { (int) json_object_get_int_member_with_default (object, "x", 0),
                      (int) json_object_get_int_member_with_default (object, "y", 0) };

  return test_point_copy (&point);
}

/* Helpers */

static char *
write_message (HubsHubMessage *message)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  json->write_message (message, out);
  g_byte_array_append (out, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&out), FALSE);
}

static char *
write_value (const GValue *value)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  hubs_json_write_value (out, value);
  g_byte_array_append (out, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&out), FALSE);
}

static HubsHubMessage *
parse (const char  *text,
       gsize        max_message_size,
       gsize       *consumed,
       GError     **error)
{
  gsize dummy;

  return json->parse_message ((const guint8 *) text, strlen (text), max_message_size,
                              consumed != NULL ? consumed : &dummy, error);
}

/* Parses one whole record that must be a message. */
static HubsHubMessage *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  HubsHubMessage *message;
  gsize consumed = 0;

  message = parse (text, 32768, &consumed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  g_assert_cmpuint (consumed, ==, strlen (text));
  return message;
}

/* Binds @json_value as the single argument of an invocation. */
static gboolean
bind_json (const char          *json_value,
           GType                type,
           const char          *variant_type,
           GValue              *value,
           GError             **error)
{
  g_autofree char *text = g_strdup_printf ("{\"type\":1,\"target\":\"T\",\"arguments\":[%s]}" RS,
                                           json_value);
  g_autoptr(HubsHubMessage) message = parse_ok (text);
  HubsParamType param = { type, variant_type != NULL ? G_VARIANT_TYPE (variant_type) : NULL };
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  ok = json->bind_arguments (message, 1, &param, value, &local_error);
  if (ok)
    g_assert_no_error (local_error);
  else
    {
      g_assert_error (local_error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
      g_assert_cmpstr (local_error->message, ==,
                       "Error binding arguments. Make sure that the types of the provided "
                       "values match the types of the hub method being invoked.");
      g_assert_false (G_IS_VALUE (value));
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return ok;
}

static void
assert_binds_to_json (const char *json_value,
                      GType       type,
                      const char *variant_type,
                      const char *expected)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autofree char *written = NULL;

  if (!bind_json (json_value, type, variant_type, &value, NULL))
    g_error ("%s did not bind to %s %s", json_value, g_type_name (type),
             variant_type ? variant_type : "");
  g_assert_true (G_VALUE_HOLDS (&value, type));
  written = write_value (&value);
  g_assert_cmpstr (written, ==, expected);
}

static void
assert_does_not_bind (const char *json_value,
                      GType       type,
                      const char *variant_type)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (bind_json (json_value, type, variant_type, &value, &error))
    g_error ("%s bound to %s %s", json_value, g_type_name (type), variant_type ? variant_type : "");
  g_assert_nonnull (error);
}

/* Framing and parsing */

static void
test_parse_invocation (void)
{
  g_autoptr(HubsHubMessage) message = NULL;
  HubsParamType params[2] = { { G_TYPE_INT, NULL }, { G_TYPE_STRING, NULL } };
  GValue values[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_autoptr(GError) error = NULL;

  message = parse_ok ("{\"type\":1,\"invocationId\":\"123\",\"target\":\"Target\","
                      "\"arguments\":[1,\"Foo\"],\"streamIds\":[\"s1\",\"s2\"],"
                      "\"headers\":{\"a\":\"b\",\"c\":\"d\"}}" RS);
  g_assert_cmpint (message->type, ==, HUBS_MESSAGE_INVOCATION);
  g_assert_cmpstr (message->invocation_id, ==, "123");
  g_assert_cmpstr (message->target, ==, "Target");
  g_assert_cmpuint (message->n_wire_arguments, ==, 2);
  g_assert_nonnull (message->stream_ids);
  g_assert_cmpstrv (message->stream_ids, ((const char *[]) { "s1", "s2", NULL }));
  g_assert_nonnull (message->headers);
  g_assert_cmpuint (g_hash_table_size (message->headers), ==, 2);
  g_assert_cmpstr (g_hash_table_lookup (message->headers, "a"), ==, "b");
  g_assert_cmpstr (g_hash_table_lookup (message->headers, "c"), ==, "d");

  g_assert_true (json->bind_arguments (message, 2, params, values, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int (&values[0]), ==, 1);
  g_assert_cmpstr (g_value_get_string (&values[1]), ==, "Foo");
  g_value_unset (&values[0]);
  g_value_unset (&values[1]);
}

static void
test_parse_any_order (void)
{
  g_autoptr(HubsHubMessage) message = NULL;
  HubsParamType param = { G_TYPE_STRING, NULL };
  g_auto(GValue) value = G_VALUE_INIT;

  /* Arguments before target and type last, unknown properties of every
   * kind, whitespace everywhere JSON allows it, escaped property names. */
  message = parse_ok (" {\r\n\t\"arguments\" : [ \"x\" ] , \"unknown\":{\"a\":[1,{\"b\":null}]},"
                      "\"targ\\u0065t\":\"Echo\",\"extra\":[],\"more\":1.5e3,\"t\":true,"
                      "\"type\" : 1 } " RS);
  g_assert_cmpint (message->type, ==, HUBS_MESSAGE_INVOCATION);
  g_assert_null (message->invocation_id);
  g_assert_null (message->headers);
  g_assert_null (message->stream_ids);
  g_assert_cmpstr (message->target, ==, "Echo");
  g_assert_true (json->bind_arguments (message, 1, &param, &value, NULL));
  g_assert_cmpstr (g_value_get_string (&value), ==, "x");
}

static void
test_parse_empty_invocation_id (void)
{
  g_autoptr(HubsHubMessage) message = NULL;

  /* "" is kept as "": the dispatcher treats it as non-blocking. */
  message = parse_ok ("{\"type\":1,\"invocationId\":\"\",\"target\":\"T\",\"arguments\":[]}" RS);
  g_assert_cmpstr (message->invocation_id, ==, "");
  g_assert_cmpuint (message->n_wire_arguments, ==, 0);
  g_assert_true (json->bind_arguments (message, 0, NULL, NULL, NULL));
}

static void
test_parse_stream_invocation (void)
{
  g_autoptr(HubsHubMessage) message = NULL;

  message = parse_ok ("{\"type\":4,\"invocationId\":\"7\",\"target\":\"Counter\","
                      "\"arguments\":[10,20],\"streamIds\":[]}" RS);
  g_assert_cmpint (message->type, ==, HUBS_MESSAGE_STREAM_INVOCATION);
  g_assert_cmpstr (message->invocation_id, ==, "7");
  g_assert_cmpstr (message->target, ==, "Counter");
  g_assert_cmpuint (message->n_wire_arguments, ==, 2);
  g_assert_nonnull (message->stream_ids);
  g_assert_null (message->stream_ids[0]);
}

static void
test_parse_stream_item (void)
{
  g_autoptr(HubsHubMessage) message = NULL;
  g_autoptr(HubsHubMessage) null_item = NULL;
  HubsParamType type = { G_TYPE_INT, NULL };
  HubsParamType any = { G_TYPE_VARIANT, NULL };
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) null_value = G_VALUE_INIT;

  /* The item before the invocation id, as the reference allows. */
  message = parse_ok ("{\"item\":42,\"type\":2,\"invocationId\":\"s1\",\"headers\":{\"h\":\"v\"}}" RS);
  g_assert_cmpint (message->type, ==, HUBS_MESSAGE_STREAM_ITEM);
  g_assert_cmpstr (message->invocation_id, ==, "s1");
  g_assert_cmpstr (g_hash_table_lookup (message->headers, "h"), ==, "v");
  g_assert_true (json->bind_value (message, &type, &value, NULL));
  g_assert_cmpint (g_value_get_int (&value), ==, 42);

  null_item = parse_ok ("{\"type\":2,\"invocationId\":\"s1\",\"item\":null}" RS);
  g_assert_true (json->bind_value (null_item, &any, &null_value, NULL));
  g_assert_null (g_value_get_variant (&null_value));
}

static void
test_parse_completion (void)
{
  HubsParamType type = { G_TYPE_STRING, NULL };

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":3,\"invocationId\":\"1\",\"result\":\"ok\"}" RS);
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_cmpint (message->type, ==, HUBS_MESSAGE_COMPLETION);
    g_assert_true (message->has_result);
    g_assert_null (message->error);
    g_assert_true (json->bind_value (message, &type, &value, NULL));
    g_assert_cmpstr (g_value_get_string (&value), ==, "ok");
  }

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":3,\"invocationId\":\"1\",\"result\":null}" RS);
    g_auto(GValue) value = G_VALUE_INIT;

    /* A null result is still a result. */
    g_assert_true (message->has_result);
    g_assert_true (json->bind_value (message, &type, &value, NULL));
    g_assert_null (g_value_get_string (&value));
  }

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":3,\"invocationId\":\"1\"}" RS);

    g_assert_false (message->has_result);
    g_assert_null (message->error);
  }

  {
    g_autoptr(HubsHubMessage) message =
      parse_ok ("{\"type\":3,\"invocationId\":\"1\",\"error\":\"It failed\"}" RS);

    g_assert_false (message->has_result);
    g_assert_cmpstr (message->error, ==, "It failed");
  }

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":3,\"invocationId\":\"1\",\"error\":\"\"}" RS);

    g_assert_cmpstr (message->error, ==, "");
  }
}

static void
test_parse_other_messages (void)
{
  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":5,\"invocationId\":\"9\"}" RS);

    g_assert_cmpint (message->type, ==, HUBS_MESSAGE_CANCEL_INVOCATION);
    g_assert_cmpstr (message->invocation_id, ==, "9");
  }

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":6}" RS);

    g_assert_cmpint (message->type, ==, HUBS_MESSAGE_PING);
    g_assert_null (message->wire_data);
  }

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":7}" RS);

    g_assert_cmpint (message->type, ==, HUBS_MESSAGE_CLOSE);
    g_assert_null (message->error);
    g_assert_false (message->allow_reconnect);
  }

  {
    g_autoptr(HubsHubMessage) message =
      parse_ok ("{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}" RS);

    g_assert_cmpstr (message->error, ==, "Connection closed with an error.");
    g_assert_true (message->allow_reconnect);
  }

  {
    /* Headers are ignored where the reference has no slot for them. */
    g_autoptr(HubsHubMessage) message =
      parse_ok ("{\"type\":7,\"error\":null,\"allowReconnect\":false,\"headers\":{\"a\":\"b\"}}" RS);

    g_assert_null (message->error);
    g_assert_false (message->allow_reconnect);
    g_assert_null (message->headers);
  }

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"type\":8,\"sequenceId\":1394}" RS);

    g_assert_cmpint (message->type, ==, HUBS_MESSAGE_ACK);
    g_assert_cmpuint (message->sequence_id, ==, 1394);
  }

  {
    g_autoptr(HubsHubMessage) message = parse_ok ("{\"sequenceId\":9223372036854775807,\"type\":9}" RS);

    g_assert_cmpint (message->type, ==, HUBS_MESSAGE_SEQUENCE);
    g_assert_cmpuint (message->sequence_id, ==, G_MAXINT64);
  }
}

static void
test_parse_unknown_type (void)
{
  const char *text = "{\"type\":99,\"whatever\":[1,2]}" RS "{\"type\":6}" RS;
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsHubMessage) ping = NULL;
  HubsHubMessage *message;
  gsize consumed = 0;

  /* Skipped: no message, no error, but the record is consumed. */
  message = parse (text, 32768, &consumed, &error);
  g_assert_no_error (error);
  g_assert_null (message);
  g_assert_cmpuint (consumed, ==, strlen ("{\"type\":99,\"whatever\":[1,2]}" RS));

  ping = parse (text + consumed, 32768, &consumed, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ping);
  g_assert_cmpint (ping->type, ==, HUBS_MESSAGE_PING);
}

static const char *batch =
  "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Send\",\"arguments\":[\"a\\u001Eb\",{\"k\":[1,2]}]}" RS
  "{\"type\":6}" RS
  "{\"type\":42}" RS
  "{\"type\":2,\"invocationId\":\"s\",\"item\":\"\xe2\x9c\x93\"}" RS
  "{\"type\":3,\"invocationId\":\"1\",\"result\":null}" RS
  "{\"type\":7,\"allowReconnect\":true}" RS;

/* Parses everything complete in @buffer, removes it, and appends a line
 * per message (or "-" per skipped record) to @log. */
static void
drain (GByteArray *buffer,
       GString    *log)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HubsHubMessage) message = NULL;
      gsize consumed = 0;

      message = json->parse_message (buffer->data, buffer->len, 32768, &consumed, &error);
      g_assert_no_error (error);
      if (message == NULL && consumed == 0)
        return;

      if (message == NULL)
        g_string_append (log, "-\n");
      else
        {
          g_autofree char *written = write_message (message);
          HubsParamType any = { G_TYPE_VARIANT, NULL };
          g_auto(GValue) value = G_VALUE_INIT;

          g_string_append_printf (log, "%d %s %s", message->type,
                                  message->invocation_id ? message->invocation_id : "",
                                  message->target ? message->target : "");
          if (message->type == HUBS_MESSAGE_STREAM_ITEM)
            {
              g_assert_true (json->bind_value (message, &any, &value, NULL));
              g_string_append_printf (log, " %s", g_variant_get_string (g_value_get_variant (&value), NULL));
            }
          g_string_append_c (log, '\n');
        }
      g_byte_array_remove_range (buffer, 0, consumed);
    }
}

static const char *batch_log =
  "1 1 Send\n"
  "6  \n"
  "-\n"
  "2 s  \xe2\x9c\x93\n"
  "3 1 \n"
  "7  \n";

static void
test_parse_batch (void)
{
  g_autoptr(GByteArray) buffer = g_byte_array_new ();
  g_autoptr(GString) log = g_string_new (NULL);

  g_byte_array_append (buffer, (const guint8 *) batch, strlen (batch));
  drain (buffer, log);
  g_assert_cmpuint (buffer->len, ==, 0);
  g_assert_cmpstr (log->str, ==, batch_log);
}

static void
test_parse_split (void)
{
  gsize length = strlen (batch);

  /* Split in two at every byte position... */
  for (gsize split = 0; split <= length; split++)
    {
      g_autoptr(GByteArray) buffer = g_byte_array_new ();
      g_autoptr(GString) log = g_string_new (NULL);

      g_byte_array_append (buffer, (const guint8 *) batch, split);
      drain (buffer, log);
      g_byte_array_append (buffer, (const guint8 *) batch + split, length - split);
      drain (buffer, log);
      g_assert_cmpuint (buffer->len, ==, 0);
      g_assert_cmpstr (log->str, ==, batch_log);
    }

  /* ...and fed one byte at a time. */
  {
    g_autoptr(GByteArray) buffer = g_byte_array_new ();
    g_autoptr(GString) log = g_string_new (NULL);

    for (gsize i = 0; i < length; i++)
      {
        g_byte_array_append (buffer, (const guint8 *) batch + i, 1);
        drain (buffer, log);
      }
    g_assert_cmpuint (buffer->len, ==, 0);
    g_assert_cmpstr (log->str, ==, batch_log);
  }
}

static void
test_parse_max_size (void)
{
  const char *record = "{\"type\":1,\"target\":\"T\",\"arguments\":[\"xxxxxxxxxx\"]}" RS;
  gsize length = strlen (record);

  /* Exactly the record's length, separator included, fits. */
  for (gsize max = length; max <= length + 1; max++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HubsHubMessage) message = NULL;
      gsize consumed = 0;

      message = parse (record, max, &consumed, &error);
      g_assert_no_error (error);
      g_assert_nonnull (message);
      g_assert_cmpuint (consumed, ==, length);
    }

  /* One byte less does not, whether the separator was received or not. */
  for (gsize received = length - 1; received <= length; received++)
    {
      g_autoptr(GError) error = NULL;
      HubsHubMessage *message;
      gsize consumed = 1;

      message = json->parse_message ((const guint8 *) record, received, length - 1, &consumed, &error);
      g_assert_null (message);
      g_assert_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE);
      g_assert_cmpuint (consumed, ==, 0);
      {
        g_autofree char *expected = g_strdup_printf ("The maximum message size of %" G_GSIZE_FORMAT "B was "
                                                     "exceeded. The message size can be configured in "
                                                     "AddHubOptions.", length - 1);
        g_assert_cmpstr (error->message, ==, expected);
      }
    }

  /* A partial record below the limit waits for more. */
  {
    g_autoptr(GError) error = NULL;
    HubsHubMessage *message;
    gsize consumed = 1;

    message = json->parse_message ((const guint8 *) record, length - 2, length - 1, &consumed, &error);
    g_assert_no_error (error);
    g_assert_null (message);
    g_assert_cmpuint (consumed, ==, 0);
  }

  /* The default limit and its exact text. */
  {
    g_autoptr(GString) big = g_string_new ("{\"type\":1,\"target\":\"T\",\"arguments\":[\"");
    g_autoptr(GError) error = NULL;

    while (big->len < 40000)
      g_string_append_c (big, 'x');
    g_string_append (big, "\"]}" RS);
    g_assert_null (parse (big->str, 32768, NULL, &error));
    g_assert_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE);
    g_assert_cmpstr (error->message, ==,
                     "The maximum message size of 32768B was exceeded. "
                     "The message size can be configured in AddHubOptions.");

    /* No limit. */
    g_clear_error (&error);
    {
      g_autoptr(HubsHubMessage) message = parse (big->str, 0, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (message);
    }
  }

  /* Nothing at all. */
  {
    gsize consumed = 1;

    g_assert_null (json->parse_message ((const guint8 *) "", 0, 10, &consumed, NULL));
    g_assert_cmpuint (consumed, ==, 0);
  }
}

static char *
nested_arguments (guint depth)
{
  /* The record object and the arguments array are two levels already. */
  GString *text = g_string_new ("{\"type\":1,\"target\":\"T\",\"arguments\":[");

  for (guint i = 2; i < depth; i++)
    g_string_append_c (text, '[');
  g_string_append_c (text, '1');
  for (guint i = 2; i < depth; i++)
    g_string_append_c (text, ']');
  g_string_append (text, "]}" RS);
  return g_string_free (text, FALSE);
}

static void
test_parse_depth (void)
{
  g_autofree char *deepest = nested_arguments (64);
  g_autofree char *too_deep = nested_arguments (65);
  g_autoptr(GError) error = NULL;
  g_autoptr(HubsHubMessage) message = NULL;
  HubsParamType any = { G_TYPE_VARIANT, NULL };
  g_auto(GValue) value = G_VALUE_INIT;
  g_autofree char *written = NULL;
  GString *hostile;

  message = parse_ok (deepest);
  g_assert_true (json->bind_arguments (message, 1, &any, &value, NULL));
  written = write_value (&value);
  g_assert_cmpuint (strlen (written), ==, 62 * 2 + 1);

  g_assert_null (parse (too_deep, 0, NULL, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==, "Error reading JSON.");
  g_clear_error (&error);

  /* A million brackets cost nothing and recurse no deeper than 64. */
  hostile = g_string_new (NULL);
  for (guint i = 0; i < 1000000; i++)
    g_string_append_c (hostile, i % 2 ? '{' : '[');
  g_string_append (hostile, RS);
  g_assert_null (parse (hostile->str, 0, NULL, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
  g_string_free (hostile, TRUE);
}

typedef struct
{
  const char *input;
  const char *message;
} BadInput;

static const BadInput bad_inputs[] = {
  /* Not JSON */
  { RS, "Error reading JSON." },
  { " " RS, "Error reading JSON." },
  { "{" RS, "Error reading JSON." },
  { "{\"type\":1" RS, "Error reading JSON." },
  { "{\"type\":1,}" RS, "Error reading JSON." },
  { "{\"type\":1 \"target\":\"x\"}" RS, "Error reading JSON." },
  { "{'type':1}" RS, "Error reading JSON." },
  { "{type:1}" RS, "Error reading JSON." },
  { "{\"type\":01}" RS, "Error reading JSON." },
  { "{\"type\":+1}" RS, "Error reading JSON." },
  { "{\"type\":1.}" RS, "Error reading JSON." },
  { "{\"type\":.5}" RS, "Error reading JSON." },
  { "{\"type\":1e}" RS, "Error reading JSON." },
  { "{\"type\":-}" RS, "Error reading JSON." },
  { "{\"type\":NaN}" RS, "Error reading JSON." },
  { "{\"type\":Infinity}" RS, "Error reading JSON." },
  { "{\"type\":tru}" RS, "Error reading JSON." },
  { "{\"type\":nulll}" RS, "Error reading JSON." },
  { "{\"type\":6}x" RS, "Error reading JSON." },
  { "{\"type\":6}{}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":[1,2,]}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":[1 2]}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\x01\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"tab\there\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\\x41\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\\u12\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\\uD800\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\\uDC00\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\\uD800\\u0041\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"unterminated}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\xff\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\xc3\"}" RS, "Error reading JSON." },
  { "{\"type\":6,\"a\":\"\xed\xa0\x80\"}" RS, "Error reading JSON." },
  { "\xef\xbb\xbf{\"type\":6}" RS, "Error reading JSON." },
  { "{\"type\":6,/*c*/\"a\":1}" RS, "Error reading JSON." },
  { "{\"type\":6}\x00" RS, "Error reading JSON." },
  /* Not an object */
  { "[]" RS, "Unexpected JSON Token Type 'Array'. Expected a JSON Object." },
  { "\"x\"" RS, "Unexpected JSON Token Type 'String'. Expected a JSON Object." },
  { "1" RS, "Unexpected JSON Token Type 'Number'. Expected a JSON Object." },
  { "null" RS, "Unexpected JSON Token Type 'Null'. Expected a JSON Object." },
  { "true" RS, "Unexpected JSON Token Type 'True'. Expected a JSON Object." },
  /* The type */
  { "{}" RS, "Missing required property 'type'." },
  { "{\"target\":\"x\",\"arguments\":[]}" RS, "Missing required property 'type'." },
  { "{\"type\":\"1\"}" RS, "Expected 'type' to be of type Number." },
  { "{\"type\":null}" RS, "Expected 'type' to be of type Number." },
  { "{\"type\":1.5}" RS, "Expected 'type' to be of type Number." },
  { "{\"type\":true}" RS, "Expected 'type' to be of type Number." },
  { "{\"type\":[1]}" RS, "Expected 'type' to be of type Number." },
  { "{\"type\":4294967297}" RS, "Expected 'type' to be of type Number." },
  { "{\"Type\":1}" RS, "Missing required property 'type'." },
  /* Field types, reported in the order they come */
  { "{\"type\":1,\"invocationId\":1,\"target\":\"T\",\"arguments\":[]}" RS,
    "Expected 'invocationId' to be of type String." },
  { "{\"type\":1,\"invocationId\":null,\"target\":\"T\",\"arguments\":[]}" RS,
    "Expected 'invocationId' to be of type String." },
  { "{\"type\":1,\"target\":5,\"arguments\":[]}" RS, "Expected 'target' to be of type String." },
  { "{\"type\":1,\"target\":\"T\",\"arguments\":{}}" RS, "Expected 'arguments' to be of type Array." },
  { "{\"type\":1,\"target\":\"T\",\"arguments\":null}" RS, "Expected 'arguments' to be of type Array." },
  { "{\"type\":1,\"target\":\"T\",\"arguments\":[],\"streamIds\":\"s\"}" RS,
    "Expected 'streamIds' to be of type Array." },
  { "{\"type\":1,\"target\":\"T\",\"arguments\":[],\"streamIds\":[null]}" RS,
    "Null value for 'streamIds' is not valid." },
  { "{\"type\":1,\"target\":\"T\",\"arguments\":[],\"streamIds\":[1]}" RS,
    "Cannot get the value of a token type 'Number' as a string." },
  { "{\"type\":1,\"target\":\"T\",\"arguments\":[],\"headers\":[]}" RS,
    "Expected 'headers' to be of type StartObject." },
  { "{\"type\":1,\"target\":\"T\",\"arguments\":[],\"headers\":{\"a\":1}}" RS,
    "Expected header 'a' to be of type String." },
  { "{\"type\":7,\"allowReconnect\":\"true\"}" RS, "Expected 'allowReconnect' to be true or false." },
  { "{\"type\":7,\"error\":5}" RS, "Expected 'error' to be of type String." },
  { "{\"type\":8,\"sequenceId\":\"1\"}" RS, "Expected 'sequenceId' to be of type Number." },
  { "{\"type\":8,\"sequenceId\":-1}" RS, "Expected 'sequenceId' to be of type Number." },
  { "{\"type\":8,\"sequenceId\":1.5}" RS, "Expected 'sequenceId' to be of type Number." },
  { "{\"invocationId\":5,\"type\":\"x\"}" RS, "Expected 'invocationId' to be of type String." },
  /* Required properties */
  { "{\"type\":1,\"arguments\":[]}" RS, "Missing required property 'target'." },
  { "{\"type\":1,\"target\":\"\",\"arguments\":[]}" RS, "Missing required property 'target'." },
  { "{\"type\":1,\"target\":\"T\"}" RS, "Missing required property 'arguments'." },
  { "{\"type\":4,\"arguments\":[]}" RS, "Missing required property 'target'." },
  { "{\"type\":4,\"target\":\"T\",\"arguments\":[]}" RS, "Missing required property 'invocationId'." },
  { "{\"type\":4,\"invocationId\":\"\",\"target\":\"T\",\"arguments\":[]}" RS,
    "Missing required property 'invocationId'." },
  { "{\"type\":4,\"invocationId\":\"1\",\"target\":\"T\"}" RS, "Missing required property 'arguments'." },
  { "{\"type\":4,\"invocationId\":\"1\",\"target\":\"\",\"arguments\":[]}" RS,
    "Missing required property 'target'." },
  { "{\"type\":2,\"item\":1}" RS, "Missing required property 'invocationId'." },
  { "{\"type\":2,\"invocationId\":\"1\"}" RS, "Missing required property 'item'." },
  { "{\"type\":3}" RS, "Missing required property 'invocationId'." },
  { "{\"type\":3,\"invocationId\":\"\"}" RS, "Missing required property 'invocationId'." },
  { "{\"type\":3,\"invocationId\":\"1\",\"error\":\"e\",\"result\":1}" RS,
    "The 'error' and 'result' properties are mutually exclusive." },
  { "{\"type\":3,\"invocationId\":\"1\",\"result\":null,\"error\":\"\"}" RS,
    "The 'error' and 'result' properties are mutually exclusive." },
  { "{\"type\":5}" RS, "Missing required property 'invocationId'." },
  { "{\"type\":8}" RS, "Missing required property 'sequenceId'." },
  { "{\"type\":9,\"sequenceId\":null}" RS, "Missing required property 'sequenceId'." },
};

static void
test_parse_bad_input (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_inputs); i++)
    {
      const BadInput *bad = &bad_inputs[i];
      g_autoptr(GError) error = NULL;
      HubsHubMessage *message;
      gsize consumed = 0;
      gsize length = strlen (bad->input);

      /* Inputs with a NUL byte are measured up to their separator. */
      if (strstr (bad->input, RS) == NULL)
        length = strlen (bad->input) + 2;

      g_test_message ("bad input %" G_GSIZE_FORMAT ": %s", i, bad->input);
      message = json->parse_message ((const guint8 *) bad->input, length, 32768, &consumed, &error);
      g_assert_null (message);
      g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
      g_assert_cmpstr (error->message, ==, bad->message);
    }
}

static void
test_parse_truncated (void)
{
  const char *record = "{\"type\":1,\"invocationId\":\"1\",\"target\":\"T\",\"arguments\":[1,\"a\",{\"b\":[true,null]}]}";
  gsize length = strlen (record);

  /* Every truncation of the text, then framed, is bad data, not a crash. */
  for (gsize cut = 0; cut < length; cut++)
    {
      g_autofree char *text = g_strdup_printf ("%.*s" RS, (int) cut, record);
      g_autoptr(GError) error = NULL;

      g_assert_null (parse (text, 0, NULL, &error));
      g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
    }
}

/* Writing */

static void
assert_written (HubsHubMessage *message,
                const char     *expected)
{
  g_autofree char *written = write_message (message);

  g_assert_cmpstr (written, ==, expected);
  hubs_hub_message_unref (message);
}

static void
test_write_messages (void)
{
  GValue args[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  GValue result = G_VALUE_INIT;
  HubsHubMessage *message;

  g_value_init (&args[0], G_TYPE_INT);
  g_value_set_int (&args[0], 1);
  g_value_init (&args[1], G_TYPE_STRING);
  g_value_set_string (&args[1], "Foo");
  g_value_init (&args[2], G_TYPE_DOUBLE);
  g_value_set_double (&args[2], 2.0);

  /* Server to client, Clients.X.SendAsync: no invocationId, no streamIds. */
  assert_written (hubs_hub_message_new_invocation (NULL, "Send", 2, args),
                  "{\"type\":1,\"target\":\"Send\",\"arguments\":[1,\"Foo\"]}" RS);
  assert_written (hubs_hub_message_new_invocation ("", "M", 0, NULL),
                  "{\"type\":1,\"target\":\"M\",\"arguments\":[]}" RS);
  assert_written (hubs_hub_message_new_invocation ("s1", "Target", 3, args),
                  "{\"type\":1,\"invocationId\":\"s1\",\"target\":\"Target\",\"arguments\":[1,\"Foo\",2]}" RS);

  message = hubs_hub_message_new_invocation ("123", "Target", 1, args);
  message->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (message->headers, g_strdup ("Foo"), g_strdup ("Bar"));
  message->stream_ids = g_strdupv ((char *[]) { "a", "b", NULL });
  assert_written (message,
                  "{\"type\":1,\"headers\":{\"Foo\":\"Bar\"},\"invocationId\":\"123\",\"target\":\"Target\","
                  "\"arguments\":[1],\"streamIds\":[\"a\",\"b\"]}" RS);

  /* Empty headers are not written. */
  message = hubs_hub_message_new_invocation (NULL, "T", 0, NULL);
  message->headers = g_hash_table_new (g_str_hash, g_str_equal);
  message->type = HUBS_MESSAGE_STREAM_INVOCATION;
  message->invocation_id = g_strdup ("4");
  message->stream_ids = g_new0 (char *, 1);
  assert_written (message, "{\"type\":4,\"invocationId\":\"4\",\"target\":\"T\",\"arguments\":[],\"streamIds\":[]}" RS);

  /* Stream items: the item is always written. */
  assert_written (hubs_hub_message_new_stream_item ("1", NULL),
                  "{\"type\":2,\"invocationId\":\"1\",\"item\":null}" RS);
  assert_written (hubs_hub_message_new_stream_item ("1", &args[1]),
                  "{\"type\":2,\"invocationId\":\"1\",\"item\":\"Foo\"}" RS);

  /* Completions: a void method still has a (null) result; a stream's end
   * has none; an error wins. */
  assert_written (hubs_hub_message_new_completion ("1", NULL, TRUE, NULL),
                  "{\"type\":3,\"invocationId\":\"1\",\"result\":null}" RS);
  g_value_init (&result, G_TYPE_BOOLEAN);
  g_value_set_boolean (&result, TRUE);
  assert_written (hubs_hub_message_new_completion ("1", &result, TRUE, NULL),
                  "{\"type\":3,\"invocationId\":\"1\",\"result\":true}" RS);
  assert_written (hubs_hub_message_new_completion ("1", NULL, FALSE, NULL),
                  "{\"type\":3,\"invocationId\":\"1\"}" RS);
  assert_written (hubs_hub_message_new_completion ("1", &result, TRUE, "Failed to invoke 'Foo' due to an error on the server."),
                  "{\"type\":3,\"invocationId\":\"1\",\"error\":\"Failed to invoke 'Foo' due to an error on the server.\"}" RS);
  assert_written (hubs_hub_message_new_completion ("1", &result, TRUE, ""),
                  "{\"type\":3,\"invocationId\":\"1\",\"result\":true}" RS);

  message = hubs_hub_message_new (HUBS_MESSAGE_CANCEL_INVOCATION);
  message->invocation_id = g_strdup ("8");
  assert_written (message, "{\"type\":5,\"invocationId\":\"8\"}" RS);

  assert_written (hubs_hub_message_new_ping (), "{\"type\":6}" RS);

  assert_written (hubs_hub_message_new_close (NULL, FALSE), "{\"type\":7}" RS);
  assert_written (hubs_hub_message_new_close (NULL, TRUE), "{\"type\":7,\"allowReconnect\":true}" RS);
  assert_written (hubs_hub_message_new_close ("", FALSE), "{\"type\":7,\"error\":\"\"}" RS);
  assert_written (hubs_hub_message_new_close ("Connection closed with an error.", TRUE),
                  "{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}" RS);

  message = hubs_hub_message_new (HUBS_MESSAGE_ACK);
  message->sequence_id = 1394;
  assert_written (message, "{\"type\":8,\"sequenceId\":1394}" RS);
  message = hubs_hub_message_new (HUBS_MESSAGE_SEQUENCE);
  message->sequence_id = 1;
  assert_written (message, "{\"type\":9,\"sequenceId\":1}" RS);

  for (guint i = 0; i < G_N_ELEMENTS (args); i++)
    g_value_unset (&args[i]);
  g_value_unset (&result);
}

static void
test_message_builders (void)
{
  g_autoptr(HubsHubMessage) message = NULL;
  GValue args[2] = { G_VALUE_INIT, G_VALUE_INIT };
  g_autofree char *written = NULL;

  g_value_init (&args[0], G_TYPE_STRING);
  g_value_set_string (&args[0], "copied");

  /* An unset argument is null. */
  message = hubs_hub_message_new_invocation ("1", "T", 2, args);
  g_value_set_string (&args[0], "changed");
  g_value_unset (&args[0]);

  g_assert_cmpuint (message->n_arguments, ==, 2);
  g_assert_cmpstr (g_value_get_string (&message->arguments[0]), ==, "copied");
  g_assert_false (G_IS_VALUE (&message->arguments[1]));

  g_assert_true (hubs_hub_message_ref (message) == message);
  hubs_hub_message_unref (message);

  written = write_message (message);
  g_assert_cmpstr (written, ==,
                   "{\"type\":1,\"invocationId\":\"1\",\"target\":\"T\",\"arguments\":[\"copied\",null]}" RS);
}

typedef struct
{
  const char *input;
  const char *expected;
} StringCase;

static void
test_write_escaping (void)
{
  static const StringCase cases[] = {
    { "", "\"\"" },
    { "plain text", "\"plain text\"" },
    /* HTML-sensitive characters and non-ASCII text stay raw. */
    { "Failed to invoke 'Foo'", "\"Failed to invoke 'Foo'\"" },
    { "<script>a && b</script>", "\"<script>a && b</script>\"" },
    { "+`/", "\"+`/\"" },
    { "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xd0\x96", "\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xd0\x96\"" },
    { "\xef\xbf\xbd", "\"\xef\xbf\xbd\"" },
    { "\xc2\xad", "\"\xc2\xad\"" },
    /* Quotes, backslashes, controls. */
    { "\"\\", "\"\\\"\\\\\"" },
    { "\b\t\n\f\r", "\"\\b\\t\\n\\f\\r\"" },
    { "\x01\x1e\x1f\x0b", "\"\\u0001\\u001E\\u001F\\u000B\"" },
    { "\x7f", "\"\\u007F\"" },
    { "\xc2\x80\xc2\x9f", "\"\\u0080\\u009F\"" },
    /* Characters outside the BMP as surrogate pairs, uppercase. */
    { "\xf0\x9f\x93\xb2", "\"\\uD83D\\uDCF2\"" },
    { "a\xf0\x9f\x98\x80z", "\"a\\uD83D\\uDE00z\"" },
    { "\xf4\x8f\xbf\xbf", "\"\\uDBFF\\uDFFF\"" },
    /* The block list: space separators, line and paragraph separators,
     * the BOM, private use, noncharacters. */
    { "\xc2\xa0", "\"\\u00A0\"" },
    { "\xe3\x80\x80", "\"\\u3000\"" },
    { "\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"" },
    { "\xef\xbb\xbf", "\"\\uFEFF\"" },
    { "\xee\x80\x80", "\"\\uE000\"" },
    { "\xef\xbf\xbe\xef\xbf\xbf", "\"\\uFFFE\\uFFFF\"" },
    { "\xef\xb7\x90", "\"\\uFDD0\"" },
    /* Invalid UTF-8: one U+FFFD per maximal subpart. */
    { "\xff", "\"\\uFFFD\"" },
    { "a\xc3", "\"a\\uFFFD\"" },
    { "\xe2\x82", "\"\\uFFFD\"" },
    { "\xe2\x82z", "\"\\uFFFDz\"" },
    { "\xe0\x80", "\"\\uFFFD\\uFFFD\"" },
    { "\xed\xa0\x80", "\"\\uFFFD\\uFFFD\\uFFFD\"" },
    { "\xf0\x9f\x93", "\"\\uFFFD\"" },
    { "\xc0\xaf", "\"\\uFFFD\\uFFFD\"" },
    { "\xf8\x88\x80\x80\x80", "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD\\uFFFD\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      hubs_json_write_string (out, cases[i].input);
      g_byte_array_append (out, (const guint8 *) "", 1);
      g_assert_cmpstr ((const char *) out->data, ==, cases[i].expected);
    }

  /* Embedded NUL with an explicit length. */
  {
    g_autoptr(GByteArray) out = g_byte_array_new ();

    hubs_json_write_string_len (out, "a\0b", 3);
    g_byte_array_append (out, (const guint8 *) "", 1);
    g_assert_cmpstr ((const char *) out->data, ==, "\"a\\u0000b\"");
  }

  /* NULL is null. */
  {
    g_autoptr(GByteArray) out = g_byte_array_new ();

    hubs_json_write_string (out, NULL);
    g_byte_array_append (out, (const guint8 *) "", 1);
    g_assert_cmpstr ((const char *) out->data, ==, "null");
  }

  /* And every escaped string reads back as itself. */
  for (gsize i = 0; i < 18; i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_autofree char *record = NULL;
      g_autoptr(HubsHubMessage) message = NULL;

      g_byte_array_append (out, (const guint8 *) "{\"type\":3,\"invocationId\":", 25);
      hubs_json_write_string (out, cases[i].input);
      g_byte_array_append (out, (const guint8 *) "}" RS, 3);
      record = g_strndup ((const char *) out->data, out->len);
      if (cases[i].input[0] == '\0')
        continue;
      message = parse_ok (record);
      g_assert_cmpstr (message->invocation_id, ==, cases[i].input);
    }
}

typedef struct
{
  double value;
  const char *expected;
} DoubleCase;

static void
test_write_doubles (void)
{
  static const DoubleCase cases[] = {
    { 0.0, "0" },
    { -0.0, "-0" },
    { 1.0, "1" },
    { -1.0, "-1" },
    { 2.0, "2" },
    { 100.0, "100" },
    { -60.0, "-60" },
    { 0.1, "0.1" },
    { -0.5, "-0.5" },
    { 0.1 + 0.2, "0.30000000000000004" },
    { 1.0 / 3.0, "0.3333333333333333" },
    { 2.0 / 3.0, "0.6666666666666666" },
    { 3.14159, "3.14159" },
    { 12345678.9, "12345678.9" },
    { 0.0001, "0.0001" },
    { 0.00001, "1E-05" },
    { 5e-5, "5E-05" },
    { 1.5e-7, "1.5E-07" },
    { 1e15, "1000000000000000" },
    { 1e16, "10000000000000000" },
    { 1e17, "1E+17" },
    { 1e21, "1E+21" },
    { 123456789012345680000.0, "1.2345678901234568E+20" },
    { 9007199254740993.0, "9007199254740992" },
    { 1e100, "1E+100" },
    { DBL_MAX, "1.7976931348623157E+308" },
    { DBL_MIN, "2.2250738585072014E-308" },
    { 4.9406564584124654e-324, "5E-324" },
    { -1e-300, "-1E-300" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      hubs_json_write_double (out, cases[i].value);
      g_byte_array_append (out, (const guint8 *) "", 1);
      g_assert_cmpstr ((const char *) out->data, ==, cases[i].expected);
    }

  /* Floats have shorter shortest forms. */
  {
    static const struct { float value; const char *expected; } floats[] = {
      { 0.1f, "0.1" },
      { 1.5f, "1.5" },
      { 1e10f, "1E+10" },
      { 123456789.0f, "123456790" },
      { 1e-5f, "1E-05" },
      { 3.4028235e38f, "3.4028235E+38" },
      { 16777217.0f, "16777216" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (floats); i++)
      {
        g_autoptr(GByteArray) out = g_byte_array_new ();

        hubs_json_write_float (out, floats[i].value);
        g_byte_array_append (out, (const guint8 *) "", 1);
        g_assert_cmpstr ((const char *) out->data, ==, floats[i].expected);
      }
  }

  /* Random doubles read back exactly. */
  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();
      guint64 bits = ((guint64) g_test_rand_int () << 32) | (guint32) g_test_rand_int ();
      double value;

      memcpy (&value, &bits, sizeof value);
      if (!isfinite (value))
        continue;
      hubs_json_write_double (out, value);
      g_byte_array_append (out, (const guint8 *) "", 1);
      g_assert_cmpfloat (g_ascii_strtod ((const char *) out->data, NULL), ==, value);
    }
}

static void
test_write_non_finite (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      hubs_json_write_double (out, NAN);
      hubs_json_write_double (out, INFINITY);
      hubs_json_write_double (out, -INFINITY);
      g_byte_array_append (out, (const guint8 *) "", 1);
      g_assert_cmpstr ((const char *) out->data, ==, "nullnullnull");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  /* Warned once, not three times. */
  g_test_trap_assert_stderr ("*JSON has no form for NaN or infinite numbers*");
  g_test_trap_assert_stderr_unmatched ("*infinite numbers*infinite numbers*");
}

/* Values */

static void
test_values_scalars (void)
{
  assert_binds_to_json ("true", G_TYPE_BOOLEAN, NULL, "true");
  assert_binds_to_json ("false", G_TYPE_BOOLEAN, NULL, "false");
  assert_does_not_bind ("1", G_TYPE_BOOLEAN, NULL);
  assert_does_not_bind ("\"true\"", G_TYPE_BOOLEAN, NULL);
  assert_does_not_bind ("null", G_TYPE_BOOLEAN, NULL);

  assert_binds_to_json ("-128", G_TYPE_CHAR, NULL, "-128");
  assert_binds_to_json ("127", G_TYPE_CHAR, NULL, "127");
  assert_does_not_bind ("128", G_TYPE_CHAR, NULL);
  assert_binds_to_json ("255", G_TYPE_UCHAR, NULL, "255");
  assert_does_not_bind ("256", G_TYPE_UCHAR, NULL);
  assert_does_not_bind ("-1", G_TYPE_UCHAR, NULL);

  assert_binds_to_json ("-2147483648", G_TYPE_INT, NULL, "-2147483648");
  assert_binds_to_json ("2147483647", G_TYPE_INT, NULL, "2147483647");
  assert_binds_to_json ("-0", G_TYPE_INT, NULL, "0");
  assert_does_not_bind ("2147483648", G_TYPE_INT, NULL);
  assert_does_not_bind ("1.5", G_TYPE_INT, NULL);
  assert_does_not_bind ("1.0", G_TYPE_INT, NULL);
  assert_does_not_bind ("1e2", G_TYPE_INT, NULL);
  assert_does_not_bind ("\"5\"", G_TYPE_INT, NULL);
  assert_does_not_bind ("null", G_TYPE_INT, NULL);
  assert_does_not_bind ("[]", G_TYPE_INT, NULL);
  assert_binds_to_json ("4294967295", G_TYPE_UINT, NULL, "4294967295");
  assert_does_not_bind ("4294967296", G_TYPE_UINT, NULL);
  assert_does_not_bind ("-1", G_TYPE_UINT, NULL);

  assert_binds_to_json ("-9223372036854775808", G_TYPE_LONG, NULL, "-9223372036854775808");
  assert_binds_to_json ("18446744073709551615", G_TYPE_ULONG, NULL, "18446744073709551615");
  assert_binds_to_json ("-9223372036854775808", G_TYPE_INT64, NULL, "-9223372036854775808");
  assert_binds_to_json ("9223372036854775807", G_TYPE_INT64, NULL, "9223372036854775807");
  assert_does_not_bind ("9223372036854775808", G_TYPE_INT64, NULL);
  assert_does_not_bind ("-9223372036854775809", G_TYPE_INT64, NULL);
  assert_binds_to_json ("18446744073709551615", G_TYPE_UINT64, NULL, "18446744073709551615");
  assert_does_not_bind ("18446744073709551616", G_TYPE_UINT64, NULL);
  assert_does_not_bind ("-1", G_TYPE_UINT64, NULL);

  assert_binds_to_json ("1", G_TYPE_DOUBLE, NULL, "1");
  assert_binds_to_json ("1.5e3", G_TYPE_DOUBLE, NULL, "1500");
  assert_binds_to_json ("-0.25", G_TYPE_DOUBLE, NULL, "-0.25");
  assert_binds_to_json ("18446744073709551616", G_TYPE_DOUBLE, NULL, "1.8446744073709552E+19");
  assert_does_not_bind ("1e400", G_TYPE_DOUBLE, NULL);
  assert_does_not_bind ("\"1\"", G_TYPE_DOUBLE, NULL);
  assert_does_not_bind ("null", G_TYPE_DOUBLE, NULL);
  assert_binds_to_json ("0.1", G_TYPE_FLOAT, NULL, "0.1");
  assert_binds_to_json ("3", G_TYPE_FLOAT, NULL, "3");
  assert_does_not_bind ("1e39", G_TYPE_FLOAT, NULL);

  assert_binds_to_json ("\"text \\u00e9\\ud83d\\udcf2\"", G_TYPE_STRING, NULL, "\"text \xc3\xa9\\uD83D\\uDCF2\"");
  assert_binds_to_json ("null", G_TYPE_STRING, NULL, "null");
  assert_binds_to_json ("\"\"", G_TYPE_STRING, NULL, "\"\"");
  assert_does_not_bind ("1", G_TYPE_STRING, NULL);
  assert_does_not_bind ("[\"a\"]", G_TYPE_STRING, NULL);
  /* C strings cannot hold U+0000. */
  assert_does_not_bind ("\"a\\u0000b\"", G_TYPE_STRING, NULL);

  /* Types with no JSON form. */
  assert_does_not_bind ("1", G_TYPE_POINTER, NULL);
  assert_does_not_bind ("null", G_TYPE_INVALID, NULL);
  assert_does_not_bind ("null", G_TYPE_ENUM, NULL);
}

static void
test_values_enums (void)
{
  assert_binds_to_json ("2", G_TYPE_FILE_TYPE, NULL, "2");
  assert_binds_to_json ("\"directory\"", G_TYPE_FILE_TYPE, NULL, "2");
  assert_binds_to_json ("\"G_FILE_TYPE_REGULAR\"", G_TYPE_FILE_TYPE, NULL, "1");
  assert_binds_to_json ("\"Directory\"", G_TYPE_FILE_TYPE, NULL, "2");
  assert_does_not_bind ("99", G_TYPE_FILE_TYPE, NULL);
  assert_does_not_bind ("\"nope\"", G_TYPE_FILE_TYPE, NULL);
  assert_does_not_bind ("1.5", G_TYPE_FILE_TYPE, NULL);
  assert_does_not_bind ("null", G_TYPE_FILE_TYPE, NULL);

  assert_binds_to_json ("1", G_TYPE_FILE_QUERY_INFO_FLAGS, NULL, "1");
  assert_binds_to_json ("0", G_TYPE_FILE_QUERY_INFO_FLAGS, NULL, "0");
  assert_does_not_bind ("2", G_TYPE_FILE_QUERY_INFO_FLAGS, NULL);
  assert_does_not_bind ("\"none\"", G_TYPE_FILE_QUERY_INFO_FLAGS, NULL);
}

static void
test_values_boxed (void)
{
  assert_binds_to_json ("[\"a\",\"\xc3\xa9\",\"\"]", G_TYPE_STRV, NULL, "[\"a\",\"\xc3\xa9\",\"\"]");
  assert_binds_to_json ("[]", G_TYPE_STRV, NULL, "[]");
  assert_binds_to_json ("null", G_TYPE_STRV, NULL, "null");
  assert_does_not_bind ("[\"a\",null]", G_TYPE_STRV, NULL);
  assert_does_not_bind ("[1]", G_TYPE_STRV, NULL);
  assert_does_not_bind ("\"a\"", G_TYPE_STRV, NULL);

  assert_binds_to_json ("\"AQID\"", G_TYPE_BYTES, NULL, "\"AQID\"");
  assert_binds_to_json ("\"AQIDBA==\"", G_TYPE_BYTES, NULL, "\"AQIDBA==\"");
  assert_binds_to_json ("\"AQIDBAU=\"", G_TYPE_BYTES, NULL, "\"AQIDBAU=\"");
  assert_binds_to_json ("\"\"", G_TYPE_BYTES, NULL, "\"\"");
  assert_binds_to_json ("\"+/+/\"", G_TYPE_BYTES, NULL, "\"+/+/\"");
  assert_binds_to_json ("null", G_TYPE_BYTES, NULL, "null");
  assert_binds_to_json ("\"AQID\"", G_TYPE_BYTE_ARRAY, NULL, "\"AQID\"");
  assert_does_not_bind ("\"AQI\"", G_TYPE_BYTES, NULL);
  assert_does_not_bind ("\"AQ==ID==\"", G_TYPE_BYTES, NULL);
  assert_does_not_bind ("\"A===\"", G_TYPE_BYTES, NULL);
  assert_does_not_bind ("\"AQ ID\"", G_TYPE_BYTES, NULL);
  assert_does_not_bind ("\"AQ-_\"", G_TYPE_BYTES, NULL);
  assert_does_not_bind ("[1,2,3]", G_TYPE_BYTES, NULL);

  {
    guint8 data[256];
    g_auto(GValue) value = G_VALUE_INIT;
    g_autofree char *written = NULL;
    g_autofree char *encoded = NULL;
    g_autofree char *expected = NULL;

    for (guint i = 0; i < sizeof data; i++)
      data[i] = (guint8) i;
    g_value_init (&value, G_TYPE_BYTES);
    g_value_take_boxed (&value, g_bytes_new (data, sizeof data));
    written = write_value (&value);
    encoded = g_base64_encode (data, sizeof data);
    expected = g_strdup_printf ("\"%s\"", encoded);
    g_assert_cmpstr (written, ==, expected);
  }

  assert_binds_to_json ("\"2000-01-01T00:00:00Z\"", G_TYPE_DATE_TIME, NULL, "\"2000-01-01T00:00:00Z\"");
  assert_binds_to_json ("\"2000-01-01T00:00:00\"", G_TYPE_DATE_TIME, NULL, "\"2000-01-01T00:00:00Z\"");
  assert_binds_to_json ("\"2024-02-29T23:59:59.1234567Z\"", G_TYPE_DATE_TIME, NULL, "\"2024-02-29T23:59:59.123456Z\"");
  assert_binds_to_json ("\"2024-02-29T23:59:59.5Z\"", G_TYPE_DATE_TIME, NULL, "\"2024-02-29T23:59:59.5Z\"");
  assert_binds_to_json ("\"2000-01-01T02:00:00+02:00\"", G_TYPE_DATE_TIME, NULL, "\"2000-01-01T02:00:00+02:00\"");
  assert_binds_to_json ("\"2000-01-01T00:00:00-05:30\"", G_TYPE_DATE_TIME, NULL, "\"2000-01-01T00:00:00-05:30\"");
  assert_binds_to_json ("\"0001-01-01T00:00:00.000001Z\"", G_TYPE_DATE_TIME, NULL, "\"0001-01-01T00:00:00.000001Z\"");
  assert_binds_to_json ("\"9999-12-31T23:59:59.999999+14:00\"", G_TYPE_DATE_TIME, NULL, "\"9999-12-31T23:59:59.999999+14:00\"");
  assert_binds_to_json ("null", G_TYPE_DATE_TIME, NULL, "null");
  assert_does_not_bind ("\"yesterday\"", G_TYPE_DATE_TIME, NULL);
  assert_does_not_bind ("946684800", G_TYPE_DATE_TIME, NULL);

  assert_binds_to_json ("{\"a\":[1,2.5,\"x\",null,true]}", JSON_TYPE_NODE, NULL, "{\"a\":[1,2.5,\"x\",null,true]}");
  assert_binds_to_json ("null", JSON_TYPE_NODE, NULL, "null");
  assert_binds_to_json ("\"s\"", JSON_TYPE_NODE, NULL, "\"s\"");
  assert_binds_to_json ("{\"b\":{}}", JSON_TYPE_OBJECT, NULL, "{\"b\":{}}");
  assert_binds_to_json ("[[],{}]", JSON_TYPE_ARRAY, NULL, "[[],{}]");
  assert_does_not_bind ("[]", JSON_TYPE_OBJECT, NULL);
  assert_does_not_bind ("{}", JSON_TYPE_ARRAY, NULL);

  /* json-glib's boxed serialization, where the type registered it. */
  assert_binds_to_json ("{\"x\":1,\"y\":-2}", test_point_get_type (), NULL, "{\"x\":1,\"y\":-2}");
  assert_binds_to_json ("null", test_point_get_type (), NULL, "null");
  assert_does_not_bind ("[1,2]", test_point_get_type (), NULL);
  assert_does_not_bind ("{}", G_TYPE_HASH_TABLE, NULL);
  assert_does_not_bind ("null", G_TYPE_HASH_TABLE, NULL);
}

static void
test_values_unsupported (void)
{
  if (g_test_subprocess ())
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) pointer = G_VALUE_INIT;
      g_autofree char *written = NULL;
      g_autofree char *written_pointer = NULL;

      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      g_value_init (&value, G_TYPE_HASH_TABLE);
      g_value_take_boxed (&value, g_hash_table_new (NULL, NULL));
      written = write_value (&value);
      g_assert_cmpstr (written, ==, "null");

      g_value_init (&pointer, G_TYPE_POINTER);
      g_value_set_pointer (&pointer, &value);
      written_pointer = write_value (&pointer);
      g_assert_cmpstr (written_pointer, ==, "null");
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Cannot write a value of type GHashTable as JSON*"
                             "Cannot write a value of type gpointer as JSON*");
}

static void
test_values_write_scalars (void)
{
  struct { GType type; const char *expected; } cases[] = {
    { G_TYPE_INVALID, "null" },
    { G_TYPE_STRING, "null" },
    { G_TYPE_VARIANT, "null" },
    { G_TYPE_OBJECT, "null" },
    { G_TYPE_STRV, "null" },
    { G_TYPE_BYTES, "null" },
    { G_TYPE_DATE_TIME, "null" },
    { JSON_TYPE_NODE, "null" },
    { G_TYPE_INT, "0" },
    { G_TYPE_BOOLEAN, "false" },
    { G_TYPE_DOUBLE, "0" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autofree char *written = NULL;

      if (cases[i].type != G_TYPE_INVALID)
        g_value_init (&value, cases[i].type);
      written = write_value (&value);
      g_assert_cmpstr (written, ==, cases[i].expected);
    }
}

static void
test_values_variant_any (void)
{
  /* EchoAny: whatever comes in goes back out with the same meaning. */
  static const char * const round_trips[] = {
    "{\"a\":[1,2.5,\"x\",null,true,false,{\"b\":null}],\"c\":{},\"d\":[],\"e\":\"\"}",
    "[[[[1]]],{\"z\":{\"y\":{\"x\":[null]}}}]",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "\"\xc3\xa9\\uD83D\\uDCF2\\\"\"",
    "0.1",
    "true",
    "{\"dup\":1,\"dup\":2}",
    "{\"order\":1,\"matters\":2,\"a\":3}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (round_trips); i++)
    assert_binds_to_json (round_trips[i], G_TYPE_VARIANT, NULL, round_trips[i]);

  assert_binds_to_json ("1.0", G_TYPE_VARIANT, NULL, "1");
  assert_binds_to_json ("18446744073709551616", G_TYPE_VARIANT, NULL, "1.8446744073709552E+19");
  assert_binds_to_json ("1e2", G_TYPE_VARIANT, NULL, "100");
  assert_does_not_bind ("1e400", G_TYPE_VARIANT, NULL);
  assert_does_not_bind ("[\"\\u0000\"]", G_TYPE_VARIANT, NULL);

  /* The natural types. */
  {
    g_auto(GValue) value = G_VALUE_INIT;
    g_autofree char *printed = NULL;

    g_assert_true (bind_json ("{\"n\":null,\"i\":-1,\"u\":18446744073709551615,\"d\":0.5,"
                              "\"s\":\"x\",\"b\":true,\"a\":[1,null]}",
                              G_TYPE_VARIANT, NULL, &value, NULL));
    printed = g_variant_print (g_value_get_variant (&value), TRUE);
    g_assert_cmpstr (printed, ==,
                     "{'n': <@mv nothing>, 'i': <int64 -1>, 'u': <uint64 18446744073709551615>, "
                     "'d': <0.5>, 's': <'x'>, 'b': <true>, 'a': <[<int64 1>, <@mv nothing>]>}");
  }

  /* Null at the top is a NULL variant. */
  {
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_true (bind_json ("null", G_TYPE_VARIANT, NULL, &value, NULL));
    g_assert_null (g_value_get_variant (&value));
  }
}

static void
test_values_variant_typed (void)
{
  assert_binds_to_json ("[1,2,3]", G_TYPE_VARIANT, "ax", "[1,2,3]");
  assert_binds_to_json ("[]", G_TYPE_VARIANT, "ax", "[]");
  assert_does_not_bind ("[\"a\"]", G_TYPE_VARIANT, "ax");
  assert_does_not_bind ("1.5", G_TYPE_VARIANT, "ax");
  assert_does_not_bind ("[1.5]", G_TYPE_VARIANT, "ax");
  assert_does_not_bind ("[null]", G_TYPE_VARIANT, "ax");
  assert_binds_to_json ("[-2147483648,2147483647]", G_TYPE_VARIANT, "ai", "[-2147483648,2147483647]");
  assert_does_not_bind ("[2147483648]", G_TYPE_VARIANT, "ai");
  assert_binds_to_json ("[\"a\",\"b\"]", G_TYPE_VARIANT, "as", "[\"a\",\"b\"]");
  assert_does_not_bind ("[\"a\",1]", G_TYPE_VARIANT, "as");
  assert_binds_to_json ("{\"k\":1,\"l\":[true]}", G_TYPE_VARIANT, "a{sv}", "{\"k\":1,\"l\":[true]}");
  assert_does_not_bind ("[1]", G_TYPE_VARIANT, "a{sv}");
  assert_binds_to_json ("{\"a\":1,\"b\":2}", G_TYPE_VARIANT, "a{si}", "{\"a\":1,\"b\":2}");
  assert_does_not_bind ("{\"a\":\"1\"}", G_TYPE_VARIANT, "a{si}");
  assert_binds_to_json ("5", G_TYPE_VARIANT, "mi", "5");
  assert_binds_to_json ("null", G_TYPE_VARIANT, "mi", "null");
  assert_binds_to_json ("[\"x\",1]", G_TYPE_VARIANT, "(si)", "[\"x\",1]");
  assert_binds_to_json ("[]", G_TYPE_VARIANT, "()", "[]");
  assert_does_not_bind ("[\"x\"]", G_TYPE_VARIANT, "(si)");
  assert_does_not_bind ("[\"x\",1,2]", G_TYPE_VARIANT, "(si)");
  assert_does_not_bind ("{\"a\":1}", G_TYPE_VARIANT, "(si)");
  assert_binds_to_json ("[true,255,-32768,65535,-1,4294967295,1,2,0.5,\"s\",\"/o\",\"a{sv}\"]",
                        G_TYPE_VARIANT, "(bynqiuxtdsog)",
                        "[true,255,-32768,65535,-1,4294967295,1,2,0.5,\"s\",\"/o\",\"a{sv}\"]");
  assert_does_not_bind ("\"not a path\"", G_TYPE_VARIANT, "o");
  assert_does_not_bind ("\"(\"", G_TYPE_VARIANT, "g");
  assert_does_not_bind ("256", G_TYPE_VARIANT, "y");
  assert_binds_to_json ("\"AQID\"", G_TYPE_VARIANT, "ay", "\"AQID\"");
  assert_does_not_bind ("[1,2,3]", G_TYPE_VARIANT, "ay");
  assert_binds_to_json ("[\"AQID\",\"\"]", G_TYPE_VARIANT, "aay", "[\"AQID\",\"\"]");
  /* Dictionaries with other keys are written as [key, value] pairs and
   * read back from them, or from object keys as .NET writes them. */
  assert_binds_to_json ("[[1,\"a\"],[2,\"b\"]]", G_TYPE_VARIANT, "a{is}", "[[1,\"a\"],[2,\"b\"]]");
  assert_binds_to_json ("{\"1\":\"a\",\"-2\":\"b\"}", G_TYPE_VARIANT, "a{is}", "[[1,\"a\"],[-2,\"b\"]]");
  assert_binds_to_json ("{\"true\":1}", G_TYPE_VARIANT, "a{bi}", "[[true,1]]");
  assert_binds_to_json ("{\"0.5\":1}", G_TYPE_VARIANT, "a{di}", "[[0.5,1]]");
  assert_does_not_bind ("{\"x\":\"a\"}", G_TYPE_VARIANT, "a{is}");
  assert_does_not_bind ("{\"1.5\":\"a\"}", G_TYPE_VARIANT, "a{is}");
  assert_binds_to_json ("[\"k\",1]", G_TYPE_VARIANT, "{si}", "[\"k\",1]");
  assert_binds_to_json ("{\"/a\":1}", G_TYPE_VARIANT, "a{oi}", "{\"/a\":1}");
  assert_binds_to_json ("[1,\"x\",null]", G_TYPE_VARIANT, "v", "[1,\"x\",null]");
  assert_binds_to_json ("[[1],null]", G_TYPE_VARIANT, "amai", "[[1],null]");
  /* Indefinite types take the natural value if it fits. */
  assert_binds_to_json ("[1,2]", G_TYPE_VARIANT, "a*", "[1,2]");
  assert_binds_to_json ("\"s\"", G_TYPE_VARIANT, "?", "\"s\"");
  assert_does_not_bind ("[1]", G_TYPE_VARIANT, "?");

  /* Null at the top is NULL for non-maybe types. */
  {
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_true (bind_json ("null", G_TYPE_VARIANT, "ax", &value, NULL));
    g_assert_null (g_value_get_variant (&value));
  }
}

static void
test_values_variant_write (void)
{
  static const struct { const char *text; const char *expected; } cases[] = {
    { "true", "true" },
    { "byte 200", "200" },
    { "int16 -5", "-5" },
    { "uint16 5", "5" },
    { "-7", "-7" },
    { "uint32 7", "7" },
    { "handle 3", "3" },
    { "int64 -9223372036854775808", "-9223372036854775808" },
    { "uint64 18446744073709551615", "18446744073709551615" },
    { "1.0", "1" },
    { "'a\"b'", "\"a\\\"b\"" },
    { "objectpath '/org/x'", "\"/org/x\"" },
    { "signature 'a{sv}'", "\"a{sv}\"" },
    { "<<5>>", "5" },
    { "just 5", "5" },
    { "@mi nothing", "null" },
    { "just just 5", "5" },
    { "@ay [1, 2, 3]", "\"AQID\"" },
    { "b'hi'", "\"aGkA\"" },
    { "{'a': <1>, 'b': <'x'>}", "{\"a\":1,\"b\":\"x\"}" },
    { "{objectpath '/a': 1}", "{\"/a\":1}" },
    { "{1: 'a', 2: 'b'}", "[[1,\"a\"],[2,\"b\"]]" },
    { "@a{sv} {}", "{}" },
    { "(1, 'x', [true])", "[1,\"x\",[true]]" },
    { "()", "[]" },
    { "{'k', 1}", "[\"k\",1]" },
    { "[@mi 1, nothing]", "[1,null]" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) variant = g_variant_parse (NULL, cases[i].text, NULL, NULL, &error);
      g_autoptr(GByteArray) out = g_byte_array_new ();

      g_assert_no_error (error);
      hubs_json_write_variant (out, variant);
      g_byte_array_append (out, (const guint8 *) "", 1);
      g_assert_cmpstr ((const char *) out->data, ==, cases[i].expected);
    }
}

static void
test_values_write_depth (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GVariant) variant = NULL;
      g_autoptr(GByteArray) out = g_byte_array_new ();
      GString *expected = g_string_new (NULL);

      g_log_set_always_fatal (G_LOG_FATAL_MASK);

      /* 64 nested arrays are written, the 65th is null. */
      variant = g_variant_ref_sink (g_variant_new_int32 (1));
      for (guint i = 0; i < 65; i++)
        {
          GVariant *child = variant;

          variant = g_variant_ref_sink (g_variant_new_array (NULL, &child, 1));
          g_variant_unref (child);
        }
      hubs_json_write_variant (out, variant);
      g_byte_array_append (out, (const guint8 *) "", 1);

      for (guint i = 0; i < 64; i++)
        g_string_append_c (expected, '[');
      g_string_append (expected, "null");
      for (guint i = 0; i < 64; i++)
        g_string_append_c (expected, ']');
      g_assert_cmpstr ((const char *) out->data, ==, expected->str);
      g_string_free (expected, TRUE);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*nests deeper than JSON's maximum depth of 64*");
}

static void
test_values_gobject (void)
{
  g_autoptr(TestItem) item = NULL;
  g_autoptr(GBytes) data = g_bytes_new ("\x01\x02\x03", 3);
  g_autoptr(GDateTime) when = g_date_time_new_utc (2000, 1, 1, 0, 0, 0);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autofree char *written = NULL;

  item = g_object_new (TEST_TYPE_ITEM,
                       "name", "n",
                       "user-name", "u",
                       "Title", "t",
                       "count", 3,
                       "data", data,
                       "when", when,
                       "numbers", g_variant_new_parsed ("[1, 2, 3]"),
                       NULL);
  g_value_init (&value, TEST_TYPE_ITEM);
  g_value_set_object (&value, item);
  written = write_value (&value);
  g_assert_cmpstr (written, ==,
                   "{\"name\":\"n\",\"userName\":\"u\",\"Title\":\"t\",\"count\":3,\"data\":\"AQID\","
                   "\"when\":\"2000-01-01T00:00:00Z\",\"numbers\":[1,2,3]}");

  /* Keys match case-insensitively, ignoring dashes and underscores;
   * unknown keys are skipped; a repeated key keeps its last value. */
  {
    g_auto(GValue) bound = G_VALUE_INIT;
    TestItem *result;

    g_assert_true (bind_json ("{\"Name\":\"x\",\"USERNAME\":\"y\",\"title\":\"z\",\"count\":1,\"Count\":7,"
                              "\"data\":\"BAU=\",\"when\":\"2001-02-03T04:05:06+01:00\","
                              "\"numbers\":[4,5],\"unknown\":{\"deep\":[1]}}",
                              TEST_TYPE_ITEM, NULL, &bound, NULL));
    result = g_value_get_object (&bound);
    g_assert_nonnull (result);
    g_assert_cmpstr (result->name, ==, "x");
    g_assert_cmpstr (result->user_name, ==, "y");
    g_assert_cmpstr (result->title, ==, "z");
    g_assert_cmpint (result->count, ==, 7);
    g_assert_cmpmem (g_bytes_get_data (result->data, NULL), g_bytes_get_size (result->data), "\x04\x05", 2);
    g_assert_cmpint (g_date_time_get_hour (result->when), ==, 4);
    g_assert_cmpint (g_date_time_get_utc_offset (result->when), ==, G_TIME_SPAN_HOUR);
    {
      g_autoptr(GVariant) expected = g_variant_ref_sink (g_variant_new_parsed ("[4, 5]"));

      g_assert_true (g_variant_equal (result->numbers, expected));
    }
  }

  {
    g_auto(GValue) bound = G_VALUE_INIT;

    g_assert_true (bind_json ("{\"user_name\":\"snake\"}", TEST_TYPE_ITEM, NULL, &bound, NULL));
    g_assert_cmpstr (TEST_ITEM (g_value_get_object (&bound))->user_name, ==, "snake");
    g_assert_null (TEST_ITEM (g_value_get_object (&bound))->name);
  }

  assert_binds_to_json ("{}", TEST_TYPE_ITEM, NULL,
                        "{\"name\":null,\"userName\":null,\"Title\":null,\"count\":0,\"data\":null,"
                        "\"when\":null,\"numbers\":null}");
  assert_binds_to_json ("null", TEST_TYPE_ITEM, NULL, "null");
  assert_does_not_bind ("[]", TEST_TYPE_ITEM, NULL);
  assert_does_not_bind ("\"x\"", TEST_TYPE_ITEM, NULL);
  assert_does_not_bind ("{\"count\":5000}", TEST_TYPE_ITEM, NULL);
  assert_does_not_bind ("{\"count\":\"5\"}", TEST_TYPE_ITEM, NULL);
  assert_does_not_bind ("{\"numbers\":[\"a\"]}", TEST_TYPE_ITEM, NULL);
  assert_does_not_bind ("{\"numbers\":[1.5]}", TEST_TYPE_ITEM, NULL);
  assert_does_not_bind ("{\"data\":\"!!!!\"}", TEST_TYPE_ITEM, NULL);
  assert_does_not_bind ("{\"when\":\"tomorrow\"}", TEST_TYPE_ITEM, NULL);

  /* Only what can be instantiated. */
  assert_binds_to_json ("{}", G_TYPE_INITIALLY_UNOWNED, NULL, "{}");
  assert_does_not_bind ("{}", G_TYPE_LIST_MODEL, NULL);
  assert_does_not_bind ("{}", G_TYPE_INPUT_STREAM, NULL);
  assert_binds_to_json ("{\"a\":1}", G_TYPE_OBJECT, NULL, "{}");
}

static void
test_binding_errors (void)
{
  g_autoptr(HubsHubMessage) message = NULL;
  HubsParamType params[3] = { { G_TYPE_INT, NULL }, { G_TYPE_STRING, NULL }, { G_TYPE_BOOLEAN, NULL } };
  GValue values[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  g_autoptr(GError) error = NULL;

  message = parse_ok ("{\"type\":1,\"target\":\"T\",\"arguments\":[1,\"a\"]}" RS);

  /* Too few, too many. */
  g_assert_false (json->bind_arguments (message, 3, params, values, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
  g_assert_cmpstr (error->message, ==, "Invocation provides 2 argument(s) but target expects 3.");
  for (guint i = 0; i < 3; i++)
    g_assert_false (G_IS_VALUE (&values[i]));
  g_clear_error (&error);

  g_assert_false (json->bind_arguments (message, 1, params, values, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
  g_assert_cmpstr (error->message, ==, "Invocation provides 2 argument(s) but target expects 1.");
  g_assert_false (G_IS_VALUE (&values[0]));
  g_clear_error (&error);

  g_assert_false (json->bind_arguments (message, 0, NULL, NULL, &error));
  g_assert_cmpstr (error->message, ==, "Invocation provides 2 argument(s) but target expects 0.");
  g_clear_error (&error);

  /* A bad argument fails first, even with a count that is also wrong;
   * what was bound before it is unset again. */
  params[1].type = G_TYPE_INT;
  g_assert_false (json->bind_arguments (message, 3, params, values, &error));
  g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "Error binding arguments. Make sure that the types of the provided values "
                   "match the types of the hub method being invoked.");
  for (guint i = 0; i < 3; i++)
    g_assert_false (G_IS_VALUE (&values[i]));
  g_clear_error (&error);

  /* A message this protocol did not read has no arguments. */
  {
    g_autoptr(HubsHubMessage) built = hubs_hub_message_new_ping ();

    g_assert_false (json->bind_arguments (built, 1, params, values, &error));
    g_assert_cmpstr (error->message, ==, "Invocation provides 0 argument(s) but target expects 1.");
    g_clear_error (&error);
    g_assert_true (json->bind_arguments (built, 0, NULL, NULL, &error));
    g_assert_no_error (error);
  }

  /* bind_value names the type. */
  {
    g_autoptr(HubsHubMessage) item = parse_ok ("{\"type\":2,\"invocationId\":\"1\",\"item\":\"x\"}" RS);
    HubsParamType type = { G_TYPE_INT, NULL };
    HubsParamType variant = { G_TYPE_VARIANT, G_VARIANT_TYPE ("ax") };
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_false (json->bind_value (item, &type, &value, &error));
    g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
    g_assert_cmpstr (error->message, ==, "The JSON value could not be converted to gint.");
    g_clear_error (&error);

    g_assert_false (json->bind_value (item, &variant, &value, &error));
    g_assert_cmpstr (error->message, ==, "The JSON value could not be converted to GVariant of type ‘ax’.");
    g_clear_error (&error);
    g_assert_false (G_IS_VALUE (&value));
  }

  /* A Completion without result binds as null. */
  {
    g_autoptr(HubsHubMessage) completion = parse_ok ("{\"type\":3,\"invocationId\":\"1\"}" RS);
    HubsParamType type = { G_TYPE_STRING, NULL };
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_true (json->bind_value (completion, &type, &value, NULL));
    g_assert_null (g_value_get_string (&value));
  }
}

/* Hostile input */

static void
exercise (HubsHubMessage *message)
{
  const HubsParamType types[] = {
    { G_TYPE_VARIANT, NULL },
    { G_TYPE_INT, NULL },
    { G_TYPE_STRING, NULL },
    { G_TYPE_STRV, NULL },
    { G_TYPE_BYTES, NULL },
    { G_TYPE_DOUBLE, NULL },
    { G_TYPE_DATE_TIME, NULL },
    { G_TYPE_OBJECT, NULL },
    { TEST_TYPE_ITEM, NULL },
    { G_TYPE_VARIANT, G_VARIANT_TYPE ("a{sv}") },
    { G_TYPE_VARIANT, G_VARIANT_TYPE ("(sai)") },
    { G_TYPE_UINT64, NULL },
    { JSON_TYPE_NODE, NULL },
  };
  GValue values[3] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  g_autofree char *written = NULL;
  guint n = g_test_rand_int_range (0, 4);

  {
    HubsParamType chosen[3];
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < n; i++)
      chosen[i] = types[g_test_rand_int_range (0, G_N_ELEMENTS (types))];
    if (json->bind_arguments (message, n, chosen, values, &error))
      {
        g_autoptr(GByteArray) out = g_byte_array_new ();

        for (guint i = 0; i < n; i++)
          {
            hubs_json_write_value (out, &values[i]);
            g_value_unset (&values[i]);
          }
      }
    else
      {
        g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
        for (guint i = 0; i < n; i++)
          g_assert_false (G_IS_VALUE (&values[i]));
      }
  }

  {
    g_auto(GValue) value = G_VALUE_INIT;
    g_autoptr(GError) error = NULL;
    const HubsParamType *type = &types[g_test_rand_int_range (0, G_N_ELEMENTS (types))];

    if (json->bind_value (message, type, &value, &error))
      {
        g_autofree char *text = write_value (&value);
      }
    else
      g_assert_error (error, HUBS_ERROR, HUBS_ERROR_BINDING_FAILED);
  }

  written = write_message (message);
  g_assert_true (g_utf8_validate (written, -1, NULL));
}

static void
byte_array_insert (GByteArray   *array,
                   guint         at,
                   const guint8 *data,
                   guint         length)
{
  guint old_len = array->len;

  g_byte_array_set_size (array, old_len + length);
  memmove (array->data + at + length, array->data + at, old_len - at);
  memcpy (array->data + at, data, length);
}

static guint fuzz_messages, fuzz_errors, fuzz_skipped, fuzz_incomplete;

static void
feed (const guint8 *data,
      gsize         length,
      gsize         max_message_size)
{
  gsize offset = 0;

  while (offset < length)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HubsHubMessage) message = NULL;
      gsize consumed = 0;

      message = json->parse_message (data + offset, length - offset, max_message_size, &consumed, &error);
      if (error != NULL)
        {
          g_assert_null (message);
          g_assert_true (error->domain == HUBS_ERROR);
          g_assert_true (error->code == HUBS_ERROR_INVALID_DATA ||
                         error->code == HUBS_ERROR_MESSAGE_TOO_LARGE);
          fuzz_errors++;
          if (consumed == 0)
            return;
        }
      else if (message != NULL)
        {
          g_assert_cmpuint (consumed, >, 0);
          fuzz_messages++;
          exercise (message);
        }
      else if (consumed == 0)
        {
          fuzz_incomplete++;
          return;
        }
      else
        fuzz_skipped++;

      g_assert_cmpuint (consumed, <=, length - offset);
      offset += consumed;
    }
}

static const char * const seeds[] = {
  "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Send\",\"arguments\":[1,\"two\",[3],{\"four\":4.5}],\"streamIds\":[\"a\"],\"headers\":{\"h\":\"v\"}}",
  "{\"type\":2,\"invocationId\":\"s\",\"item\":{\"name\":\"n\",\"count\":3,\"data\":\"AQID\",\"numbers\":[1,2]}}",
  "{\"type\":3,\"invocationId\":\"1\",\"result\":[\"x\",[1,2,3]]}",
  "{\"type\":3,\"invocationId\":\"1\",\"error\":\"e\"}",
  "{\"type\":4,\"invocationId\":\"2\",\"target\":\"Stream\",\"arguments\":[\"2000-01-01T00:00:00Z\",18446744073709551615]}",
  "{\"type\":5,\"invocationId\":\"1\"}",
  "{\"type\":6}",
  "{\"type\":7,\"error\":\"x\",\"allowReconnect\":true}",
  "{\"type\":8,\"sequenceId\":5}",
  "{\"type\":9,\"sequenceId\":1}",
  "{\"protocol\":\"json\",\"version\":1}",
  "{\"type\":10,\"sequenceId\":[1,{\"a\":\"b\"}]}",
};

static void
test_fuzz (void)
{
  static const char alphabet[] = "{}[]\":,0123456789.-+eEtruefalsnl \\u\x1e\xc3\xa9\xff abcxyz";

  /* Random buffers, mostly made of JSON's own characters. */
  for (guint round = 0; round < 3000; round++)
    {
      gsize length = g_test_rand_int_range (0, 200);
      g_autofree guint8 *data = g_malloc (length + 1);

      for (gsize i = 0; i < length; i++)
        {
          if (g_test_rand_bit ())
            data[i] = (guint8) g_test_rand_int_range (0, 256);
          else
            data[i] = (guint8) alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)];
        }
      feed (data, length, g_test_rand_bit () ? 0 : (gsize) g_test_rand_int_range (1, 256));

      /* The handshake reader too. */
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *protocol = NULL;
        gsize consumed = 0;
        int version = 0;

        if (!hubs_handshake_parse_request (data, length, 128, &consumed, &protocol, &version, &error))
          g_assert_true (error->domain == HUBS_ERROR);
        else
          g_assert_cmpuint (consumed, <=, length);
      }
    }

  /* Mutations of valid messages. */
  for (guint round = 0; round < 4000; round++)
    {
      const char *seed = seeds[g_test_rand_int_range (0, G_N_ELEMENTS (seeds))];
      g_autoptr(GByteArray) data = g_byte_array_new ();
      guint n_mutations = g_test_rand_int_range (0, 4);

      g_byte_array_append (data, (const guint8 *) seed, strlen (seed));
      g_byte_array_append (data, (const guint8 *) RS, 1);

      for (guint m = 0; m < n_mutations && data->len > 0; m++)
        {
          guint at = g_test_rand_int_range (0, data->len);
          guint8 byte = g_test_rand_bit () ? (guint8) alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)]
                                           : (guint8) g_test_rand_int_range (0, 256);

          switch (g_test_rand_int_range (0, 7))
            {
            case 0:
              data->data[at] = byte;
              break;
            case 5:
            case 6:
              /* Keep the shape: a digit for a digit, a letter for a letter. */
              if (g_ascii_isdigit (data->data[at]))
                data->data[at] = '0' + g_test_rand_int_range (0, 10);
              else if (g_ascii_isalpha (data->data[at]))
                data->data[at] = 'a' + g_test_rand_int_range (0, 26);
              break;
            case 1:
              byte_array_insert (data, at, &byte, 1);
              break;
            case 2:
              g_byte_array_remove_index (data, at);
              break;
            case 3:
              g_byte_array_set_size (data, at);
              break;
            default:
              {
                /* Repeat a slice: nesting, long strings, batches. */
                guint len = g_test_rand_int_range (1, MIN (data->len - at, 40) + 1);
                g_autofree guint8 *slice = g_memdup2 (data->data + at, len);

                for (guint k = 0; k < (guint) g_test_rand_int_range (1, 30); k++)
                  byte_array_insert (data, at, slice, len);
              }
              break;
            }
        }

      feed (data->data, data->len, g_test_rand_bit () ? 0 : 32768);
    }

  /* The mutations must reach every outcome, or they test little. */
  g_test_message ("%u messages, %u errors, %u skipped, %u incomplete",
                  fuzz_messages, fuzz_errors, fuzz_skipped, fuzz_incomplete);
  g_assert_cmpuint (fuzz_messages, >, 500);
  g_assert_cmpuint (fuzz_errors, >, 500);
  g_assert_cmpuint (fuzz_skipped, >, 0);
  g_assert_cmpuint (fuzz_incomplete, >, 100);
}

static void
random_json (GString *out,
             guint    depth)
{
  static const char * const strings[] = {
    "\"\"", "\"plain\"", "\"\\u00e9\\ud83d\\udcf2\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
    "\"\xc3\xa9\xe2\x80\xa8\xef\xbb\xbf\"", "\"AQID\"", "\"2000-01-01T00:00:00Z\"", "\"\\u001e\"",
  };
  static const char * const numbers[] = {
    "0", "-0", "1", "-1", "2147483648", "9223372036854775807", "-9223372036854775808",
    "18446744073709551615", "18446744073709551616", "0.5", "1e3", "-1.5E-7", "1e308", "123456789.125",
  };

  switch (g_test_rand_int_range (0, depth < 6 ? 8 : 5))
    {
    case 0: g_string_append (out, "null"); break;
    case 1: g_string_append (out, g_test_rand_bit () ? "true" : "false"); break;
    case 2: g_string_append (out, numbers[g_test_rand_int_range (0, G_N_ELEMENTS (numbers))]); break;
    case 3: g_string_append_printf (out, "%d", g_test_rand_int ()); break;
    case 4: g_string_append (out, strings[g_test_rand_int_range (0, G_N_ELEMENTS (strings))]); break;
    case 5:
    case 6:
      {
        guint n = g_test_rand_int_range (0, 4);

        g_string_append_c (out, '[');
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            random_json (out, depth + 1);
          }
        g_string_append_c (out, ']');
      }
      break;
    default:
      {
        static const char * const keys[] = { "name", "count", "data", "numbers", "when", "userName", "x" };
        guint n = g_test_rand_int_range (0, 4);

        g_string_append_c (out, '{');
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            g_string_append_printf (out, "\"%s\":", keys[g_test_rand_int_range (0, G_N_ELEMENTS (keys))]);
            random_json (out, depth + 1);
          }
        g_string_append_c (out, '}');
      }
      break;
    }
}

static void
test_random_values (void)
{
  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr(GString) value = g_string_new (NULL);
      g_autofree char *record = NULL;
      g_autoptr(HubsHubMessage) message = NULL;
      HubsParamType any = { G_TYPE_VARIANT, NULL };
      g_auto(GValue) bound = G_VALUE_INIT;
      g_autofree char *once = NULL;
      g_autofree char *twice = NULL;

      random_json (value, 2);
      record = g_strdup_printf ("{\"type\":2,\"invocationId\":\"r\",\"item\":%s}" RS, value->str);
      message = parse_ok (record);
      exercise (message);

      /* Any value comes back with its meaning: writing what was bound
       * and binding it again gives the same text. */
      g_assert_true (json->bind_value (message, &any, &bound, NULL));
      once = write_value (&bound);
      g_value_unset (&bound);
      {
        g_autofree char *again = g_strdup_printf ("{\"type\":2,\"invocationId\":\"r\",\"item\":%s}" RS, once);
        g_autoptr(HubsHubMessage) reparsed = parse_ok (again);

        g_assert_true (json->bind_value (reparsed, &any, &bound, NULL));
        twice = write_value (&bound);
      }
      g_assert_cmpstr (once, ==, twice);
    }
}

/* Handshake */

static void
test_handshake_request (void)
{
  const char *buffer = "{\"protocol\":\"json\",\"version\":1}" RS "{\"type\":6}" RS;
  g_autoptr(GError) error = NULL;
  g_autofree char *protocol = NULL;
  gsize consumed = 0;
  int version = 0;

  /* Only the handshake record is consumed. */
  g_assert_true (hubs_handshake_parse_request ((const guint8 *) buffer, strlen (buffer), 32768,
                                               &consumed, &protocol, &version, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, strlen ("{\"protocol\":\"json\",\"version\":1}" RS));
  g_assert_cmpstr (protocol, ==, "json");
  g_assert_cmpint (version, ==, 1);
  g_clear_pointer (&protocol, g_free);

  {
    const char *other = "{\"version\":2,\"extra\":{\"a\":[1,{}]},\"protocol\":\"messagepack\"}" RS;

    g_assert_true (hubs_handshake_parse_request ((const guint8 *) other, strlen (other), 0,
                                                 &consumed, &protocol, &version, &error));
    g_assert_cmpuint (consumed, ==, strlen (other));
    g_assert_cmpstr (protocol, ==, "messagepack");
    g_assert_cmpint (version, ==, 2);
    g_clear_pointer (&protocol, g_free);
  }

  /* Incomplete: more is needed. */
  for (gsize i = 0; i < strlen ("{\"protocol\":\"json\",\"version\":1}"); i++)
    {
      consumed = 1;
      g_assert_true (hubs_handshake_parse_request ((const guint8 *) buffer, i, 32768,
                                                   &consumed, &protocol, &version, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (consumed, ==, 0);
      g_assert_null (protocol);
    }
}

static void
test_handshake_bad (void)
{
  static const BadInput cases[] = {
    { "{\"version\":1}" RS, "Missing required property 'protocol'. Message content: {\"version\":1}" },
    { "{\"protocol\":\"json\"}" RS, "Missing required property 'version'. Message content: {\"protocol\":\"json\"}" },
    { "{\"protocol\":\"json\",\"version\":null}" RS,
      "Missing required property 'version'. Message content: {\"protocol\":\"json\",\"version\":null}" },
    { "{\"protocol\":5,\"version\":1}" RS, "Expected 'protocol' to be of type String." },
    { "{\"protocol\":null,\"version\":1}" RS, "Expected 'protocol' to be of type String." },
    { "{\"protocol\":\"json\",\"version\":\"1\"}" RS, "Expected 'version' to be of type Number." },
    { "{\"protocol\":\"json\",\"version\":1.5}" RS, "Expected 'version' to be of type Number." },
    { "[]" RS, "Unexpected JSON Token Type 'Array'. Expected a JSON Object." },
    { "{\"protocol\":\"json\",\"version\":1" RS, "Error reading JSON." },
    { RS, "Error reading JSON." },
    { "\xff" RS, "Error reading JSON." },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *protocol = NULL;
      gsize consumed = 0;
      int version = 0;

      g_assert_false (hubs_handshake_parse_request ((const guint8 *) cases[i].input, strlen (cases[i].input),
                                                    32768, &consumed, &protocol, &version, &error));
      g_assert_error (error, HUBS_ERROR, HUBS_ERROR_INVALID_DATA);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_null (protocol);
    }

  /* Too large: no separator within the limit. */
  {
    const char *request = "{\"protocol\":\"json\",\"version\":1}" RS;
    gsize length = strlen (request);
    g_autoptr(GError) error = NULL;
    g_autofree char *protocol = NULL;
    gsize consumed = 0;
    int version = 0;

    g_assert_true (hubs_handshake_parse_request ((const guint8 *) request, length, length,
                                                 &consumed, &protocol, &version, &error));
    g_assert_cmpuint (consumed, ==, length);
    g_clear_pointer (&protocol, g_free);

    g_assert_false (hubs_handshake_parse_request ((const guint8 *) request, length, length - 1,
                                                  &consumed, &protocol, &version, &error));
    g_assert_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE);
    g_clear_error (&error);

    g_assert_false (hubs_handshake_parse_request ((const guint8 *) request, length - 1, length - 1,
                                                  &consumed, &protocol, &version, &error));
    g_assert_error (error, HUBS_ERROR, HUBS_ERROR_MESSAGE_TOO_LARGE);
    g_clear_error (&error);

    g_assert_true (hubs_handshake_parse_request ((const guint8 *) request, length - 2, length - 1,
                                                 &consumed, &protocol, &version, &error));
    g_assert_cmpuint (consumed, ==, 0);
  }
}

static void
test_handshake_response (void)
{
  static const StringCase cases[] = {
    { NULL, "{}" RS },
    { "", "{}" RS },
    { "The protocol 'x' is not supported.", "{\"error\":\"The protocol 'x' is not supported.\"}" RS },
    { "Handshake was canceled.", "{\"error\":\"Handshake was canceled.\"}" RS },
    { "\"quoted\" \xf0\x9f\x93\xb2 <&>", "{\"error\":\"\\\"quoted\\\" \\uD83D\\uDCF2 <&>\"}" RS },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      hubs_handshake_write_response (cases[i].input, out);
      g_byte_array_append (out, (const guint8 *) "", 1);
      g_assert_cmpstr ((const char *) out->data, ==, cases[i].expected);
    }
}

static void
test_protocol_lookup (void)
{
  g_assert_true (hubs_hub_protocol_lookup ("json") == json);
  g_assert_true (hubs_hub_protocol_lookup ("JSON") == json);
  g_assert_null (hubs_hub_protocol_lookup ("xml"));
  g_assert_cmpstr (json->name, ==, "json");
  g_assert_cmpint (json->version, ==, 2);
  g_assert_cmpint (json->transfer_format, ==, HUBS_TRANSFER_FORMAT_TEXT);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  json = hubs_json_hub_protocol_get ();
  json_boxed_register_serialize_func (test_point_get_type (), JSON_NODE_OBJECT, test_point_serialize);
  json_boxed_register_deserialize_func (test_point_get_type (), JSON_NODE_OBJECT, test_point_deserialize);

  g_test_add_func ("/hubs/json/parse/invocation", test_parse_invocation);
  g_test_add_func ("/hubs/json/parse/any-order", test_parse_any_order);
  g_test_add_func ("/hubs/json/parse/empty-invocation-id", test_parse_empty_invocation_id);
  g_test_add_func ("/hubs/json/parse/stream-invocation", test_parse_stream_invocation);
  g_test_add_func ("/hubs/json/parse/stream-item", test_parse_stream_item);
  g_test_add_func ("/hubs/json/parse/completion", test_parse_completion);
  g_test_add_func ("/hubs/json/parse/other-messages", test_parse_other_messages);
  g_test_add_func ("/hubs/json/parse/unknown-type", test_parse_unknown_type);
  g_test_add_func ("/hubs/json/parse/batch", test_parse_batch);
  g_test_add_func ("/hubs/json/parse/split", test_parse_split);
  g_test_add_func ("/hubs/json/parse/max-size", test_parse_max_size);
  g_test_add_func ("/hubs/json/parse/depth", test_parse_depth);
  g_test_add_func ("/hubs/json/parse/bad-input", test_parse_bad_input);
  g_test_add_func ("/hubs/json/parse/truncated", test_parse_truncated);
  g_test_add_func ("/hubs/json/write/messages", test_write_messages);
  g_test_add_func ("/hubs/json/write/builders", test_message_builders);
  g_test_add_func ("/hubs/json/write/escaping", test_write_escaping);
  g_test_add_func ("/hubs/json/write/doubles", test_write_doubles);
  g_test_add_func ("/hubs/json/write/non-finite", test_write_non_finite);
  g_test_add_func ("/hubs/json/values/scalars", test_values_scalars);
  g_test_add_func ("/hubs/json/values/enums", test_values_enums);
  g_test_add_func ("/hubs/json/values/boxed", test_values_boxed);
  g_test_add_func ("/hubs/json/values/unsupported", test_values_unsupported);
  g_test_add_func ("/hubs/json/values/write-scalars", test_values_write_scalars);
  g_test_add_func ("/hubs/json/values/variant-any", test_values_variant_any);
  g_test_add_func ("/hubs/json/values/variant-typed", test_values_variant_typed);
  g_test_add_func ("/hubs/json/values/variant-write", test_values_variant_write);
  g_test_add_func ("/hubs/json/values/write-depth", test_values_write_depth);
  g_test_add_func ("/hubs/json/values/gobject", test_values_gobject);
  g_test_add_func ("/hubs/json/binding-errors", test_binding_errors);
  g_test_add_func ("/hubs/json/fuzz", test_fuzz);
  g_test_add_func ("/hubs/json/random-values", test_random_values);
  g_test_add_func ("/hubs/json/handshake/request", test_handshake_request);
  g_test_add_func ("/hubs/json/handshake/bad", test_handshake_bad);
  g_test_add_func ("/hubs/json/handshake/response", test_handshake_response);
  g_test_add_func ("/hubs/json/lookup", test_protocol_lookup);

  return g_test_run ();
}
