/* hubs-msgpack-private.h: MessagePack for the "messagepack" hub protocol
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two pieces share this header:
 *
 * - the checker (hubs-msgpack-hub-protocol.c) walks one MessagePack value
 *   over untrusted bytes before msgpack-c unpacks it: msgpack-c allocates an
 *   array's or a map's elements as soon as it reads the count, and stops at
 *   its own fixed stack depth with nothing to say why. The checker refuses
 *   counts that the remaining bytes cannot hold and nesting past
 *   HUBS_MSGPACK_MAX_DEPTH, with a readable error, so that msgpack-c only
 *   ever sees well-formed, bounded input;
 * - the value conversions between GValues and MessagePack, the only place
 *   that knows how a GType looks in MessagePack: the mapping and binding
 *   in hubs-msgpack-values.c, writing in hubs-msgpack-writer.c.
 */

#pragma once

#include <glib-object.h>
#include <msgpack.h>

#include "hubs-hub-protocol-private.h"

G_BEGIN_DECLS

/* Nested arrays and maps, the message's own two included. msgpack-c's
 * unpacker holds at most MSGPACK_EMBED_STACK_SIZE (32) open containers;
 * this stays below it. */
#define HUBS_MSGPACK_MAX_DEPTH 30

/* The timestamp extension type. */
#define HUBS_MSGPACK_EXT_TIMESTAMP (-1)

/* What an untyped GVariant holds a timestamp as: seconds since the epoch
 * and nanoseconds, written back as the timestamp extension. */
#define HUBS_MSGPACK_TIMESTAMP_VARIANT_TYPE G_VARIANT_TYPE ("(xu)")

const HubsHubProtocol *hubs_msgpack_hub_protocol_get (void);

/* Checker */

/* Checks that @data starts with one whole, well-formed MessagePack value no
 * deeper than HUBS_MSGPACK_MAX_DEPTH; *end is the offset just past it.
 * Fails with HUBS_ERROR_INVALID_DATA. */
gboolean hubs_msgpack_check          (const guint8        *data,
                                      gsize                length,
                                      gsize               *end,
                                      GError             **error);

/* Writer */

/* A packer that appends to @out. */
void     hubs_msgpack_packer_init    (msgpack_packer      *packer,
                                      GByteArray          *out);

/* Writes @value by its own type; an unset value is nil. */
void     hubs_msgpack_write_value    (msgpack_packer      *packer,
                                      const GValue        *value);
void     hubs_msgpack_write_variant  (msgpack_packer      *packer,
                                      GVariant            *variant);

/* Values */

/* Binds @object (NULL: nil) to @type into @value, which must be zeroed. On
 * failure @value is left zeroed and @error is HUBS_ERROR_BINDING_FAILED. */
gboolean hubs_msgpack_bind_value     (const msgpack_object *object,
                                      const HubsParamType  *type,
                                      GValue               *value,
                                      GError              **error);

/* A copy of @object as a string when it is a valid UTF-8 str without
 * U+0000 (which no C string can carry); NULL otherwise. */
char    *hubs_msgpack_dup_string     (const msgpack_object *object);

G_END_DECLS
