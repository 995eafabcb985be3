/* hubs-hub-protocol-private.h: the hub protocol layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A hub protocol splits a connection's byte stream into hub messages and
 * writes hub messages as bytes. Values travel up from the wire still in the
 * protocol's own form and are bound to GValues by the hub method's declared
 * types (hubs_hub_protocol_bind_arguments()), once; values travel down as
 * GValues and the protocol writes them. Hub code never sees which protocol a
 * connection speaks.
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include "hubs-types.h"

G_BEGIN_DECLS

typedef enum
{
  HUBS_MESSAGE_INVOCATION = 1,
  HUBS_MESSAGE_STREAM_ITEM = 2,
  HUBS_MESSAGE_COMPLETION = 3,
  HUBS_MESSAGE_STREAM_INVOCATION = 4,
  HUBS_MESSAGE_CANCEL_INVOCATION = 5,
  HUBS_MESSAGE_PING = 6,
  HUBS_MESSAGE_CLOSE = 7,
  HUBS_MESSAGE_ACK = 8,
  HUBS_MESSAGE_SEQUENCE = 9,
} HubsMessageType;

/* The declared type of a parameter, a result or a stream item. @variant_type
 * narrows a G_TYPE_VARIANT value ("ax" for an integer array); NULL accepts any
 * value, bound to its natural GVariant (see the protocol's docs). */
typedef struct
{
  GType type;
  const GVariantType *variant_type;
} HubsParamType;

typedef struct _HubsHubMessage HubsHubMessage;

struct _HubsHubMessage
{
  gatomicrefcount ref_count;
  HubsMessageType type;

  char *invocation_id;          /* nullable; "" is kept as "" */
  char *target;                 /* Invocation, StreamInvocation */
  GHashTable *headers;          /* nullable; utf8 → utf8 */
  GStrv stream_ids;             /* nullable */

  /* Outgoing values, written by the protocol according to their GType. */
  GValue *arguments;            /* Invocation, StreamInvocation */
  guint n_arguments;
  GValue value;                 /* StreamItem item, Completion result; an
                                 * unset value (G_TYPE_INVALID) is null */
  gboolean has_result;          /* Completion: write "result" (null if
                                 * @value is unset); StreamItem: always */

  char *error;                  /* Completion, Close; nullable */
  gboolean allow_reconnect;     /* Close */
  guint64 sequence_id;          /* Ack, Sequence */

  /* Incoming values in the protocol's own form, owned by the message, read
   * only through the protocol's bind functions. */
  gpointer wire_data;
  GDestroyNotify wire_data_free;
  guint n_wire_arguments;       /* how many arguments the peer sent */
};

HubsHubMessage *hubs_hub_message_new   (HubsMessageType  type);
HubsHubMessage *hubs_hub_message_ref   (HubsHubMessage  *message);
void            hubs_hub_message_unref (HubsHubMessage  *message);

/* Builders for what a server writes. Values are copied. */
HubsHubMessage *hubs_hub_message_new_invocation (const char   *invocation_id,
                                                 const char   *target,
                                                 guint         n_arguments,
                                                 const GValue *arguments);
HubsHubMessage *hubs_hub_message_new_completion (const char   *invocation_id,
                                                 const GValue *result,
                                                 gboolean      has_result,
                                                 const char   *error);
HubsHubMessage *hubs_hub_message_new_stream_item (const char  *invocation_id,
                                                  const GValue *item);
HubsHubMessage *hubs_hub_message_new_close      (const char   *error,
                                                 gboolean      allow_reconnect);
HubsHubMessage *hubs_hub_message_new_ping       (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HubsHubMessage, hubs_hub_message_unref)

typedef struct _HubsHubProtocol HubsHubProtocol;

struct _HubsHubProtocol
{
  const char *name;                      /* handshake name: "json" */
  int version;                           /* highest supported: 2 */
  HubsTransferFormat transfer_format;

  /* Parses the first message of @data.
   * - a message: returned, *consumed = its length with framing;
   * - a complete record of an unknown type: NULL, *consumed > 0, no error;
   * - an incomplete record: NULL, *consumed = 0, no error; it is an error
   *   (HUBS_ERROR_MESSAGE_TOO_LARGE, the reference's text) when @length
   *   already reaches @max_message_size (0: no limit) without a whole record;
   * - bad data: NULL and @error (HUBS_ERROR_INVALID_DATA, the reference's
   *   text: "Error reading JSON.", "Missing required property 'target'.", …).
   * The size limit is checked before anything is parsed. */
  HubsHubMessage *(*parse_message) (const guint8  *data,
                                    gsize          length,
                                    gsize          max_message_size,
                                    gsize         *consumed,
                                    GError       **error);

  /* Appends @message, framed, to @out. */
  void (*write_message) (const HubsHubMessage *message,
                         GByteArray           *out);

  /* Binds an incoming Invocation's arguments to @n_params GValues (which the
   * caller has zeroed and must unset). Fails with HUBS_ERROR_BINDING_FAILED
   * and the reference's text ("Invocation provides 1 argument(s) but target
   * expects 2." / "Error binding arguments. Make sure that the types of the
   * provided values match the types of the hub method being invoked."). */
  gboolean (*bind_arguments) (const HubsHubMessage *message,
                              guint                 n_params,
                              const HubsParamType  *params,
                              GValue               *values,
                              GError              **error);

  /* Binds an incoming StreamItem's item or Completion's result. */
  gboolean (*bind_value) (const HubsHubMessage *message,
                          const HubsParamType  *type,
                          GValue               *value,
                          GError              **error);
};

/* Shared by the protocols' value conversions. */

/* "GVariant of type ‘ax’", or the GType's name: for binding errors. */
char     *hubs_param_type_describe   (const HubsParamType *type);
/* Frees children built for a GVariant container that was never made. */
void      hubs_variant_children_free (GVariant           **children,
                                      gsize                n);
/* Whether a map key names a property: "userName", "UserName" and
 * "user_name" all name "user-name". */
gboolean  hubs_property_name_matches (const char          *key,
                                      const char          *name);

/* A client result: the value of a Completion @message (the answer to an
 * invocation the server made) bound to @type, or the error the waiting hub
 * method gets: as ASP.NET Core's ClientResultsManager, a HubException
 * (HUBS_HUB_ERROR, passed to the hub's own caller even without detailed
 * errors) with the client's error text, or "Error trying to deserialize
 * result to Int32. …" when the value does not bind. Free the value with
 * hubs_value_free(). */
GValue   *hubs_client_result_bind    (const HubsHubProtocol *protocol,
                                      const HubsHubMessage  *message,
                                      const HubsParamType   *type,
                                      GError               **error);
/* Unsets and frees a GValue made with g_new0(). */
void      hubs_value_free            (gpointer             value);

/* What binding a wire value to a GType does the same way in every protocol;
 * the protocol reads the wire, these make the GValue. */

/* An enum member named by @str: its nick or name, exactly first, then
 * without regard to ASCII case; NULL when none. */
const GEnumValue *hubs_enum_member_lookup (GEnumClass *klass,
                                           const char *str);
/* @value (uninitialised) set to @member of the enum @type; FALSE for NULL. */
gboolean  hubs_bind_enum_member      (GType                type,
                                      const GEnumValue    *member,
                                      GValue              *value);
/* @value (uninitialised) set to @bits of the flags @type; FALSE when a bit
 * is not one of the type's. */
gboolean  hubs_bind_flags_bits       (GType                type,
                                      guint64              bits,
                                      GValue              *value);
/* Whether null binds to the boxed @type, as a NULL pointer: for the types
 * the protocols read themselves and those json-glib can read. */
gboolean  hubs_boxed_accepts_null    (GType                type);

/* The boxed types that go through a JsonNode: JsonNode, JsonObject,
 * JsonArray and json-glib's serializable boxed types. */
typedef JsonNode *(*HubsToNodeFunc) (gconstpointer source);
/* Binds the wire value @source, whose shape is @kind (JSON_NODE_OBJECT,
 * _ARRAY or _VALUE), to one of those types, making its node with @to_node
 * only when the type can take it. FALSE when it cannot, or when @type is
 * none of them. */
gboolean  hubs_bind_boxed_from_node  (GType                type,
                                      JsonNodeType         kind,
                                      HubsToNodeFunc       to_node,
                                      gconstpointer        source,
                                      GValue              *value);
/* The node of a boxed value of one of those types, or NULL for a type
 * json-glib cannot write. */
JsonNode *hubs_boxed_to_node         (GType                type,
                                      gpointer             boxed);

/* A GObject built from a map of property names (any case, camelCase or
 * PascalCase: hubs_property_name_matches()) to values: the protocol walks
 * the map, asks for each key's slot, binds the value into it, and builds
 * the object once every value is bound. */
typedef struct
{
  GType type;
  GTypeClass *klass;
  GParamSpec **pspecs;
  guint n_pspecs;
  const char **names;
  GValue *values;
  int *slot_of;
  guint n_set;
} HubsObjectBuilder;

void      hubs_object_builder_init   (HubsObjectBuilder   *builder,
                                      GType                type);
/* The uninitialised GValue for the writable property @key names, with its
 * type in @param_type; NULL for a key that names none (to be skipped). A
 * repeated key keeps its last value, as System.Text.Json does. */
GValue   *hubs_object_builder_slot   (HubsObjectBuilder   *builder,
                                      const char          *key,
                                      HubsParamType       *param_type,
                                      GParamSpec         **pspec);
/* Makes the object into @value (uninitialised). */
void      hubs_object_builder_finish (HubsObjectBuilder   *builder,
                                      GValue              *value);
void      hubs_object_builder_clear  (HubsObjectBuilder   *builder);
/* Whether @type can be bound from a map at all. */
gboolean  hubs_object_type_is_bindable (GType              type);

const HubsHubProtocol *hubs_json_hub_protocol_get (void);
const HubsHubProtocol *hubs_hub_protocol_lookup   (const char *name);

/* The handshake request, always JSON + 0x1E whatever the protocol.
 * Returns TRUE and *consumed > 0 with the request; TRUE and *consumed = 0 when
 * more data is needed; FALSE and @error when the request is malformed
 * (HUBS_ERROR_INVALID_DATA) or no whole record fits in @max_size
 * (HUBS_ERROR_MESSAGE_TOO_LARGE). */
gboolean hubs_handshake_parse_request   (const guint8  *data,
                                         gsize          length,
                                         gsize          max_size,
                                         gsize         *consumed,
                                         char         **protocol,
                                         int           *version,
                                         GError       **error);
/* "{}\x1e" for NULL, else {"error":"…"}\x1e */
void     hubs_handshake_write_response  (const char    *error,
                                         GByteArray    *out);

/* JSON text the way ASP.NET Core writes it (relaxed escaping), shared by
 * negotiate, the handshake and the JSON hub protocol. */
void     hubs_json_write_string         (GByteArray    *out,
                                         const char    *str);

G_END_DECLS
