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
