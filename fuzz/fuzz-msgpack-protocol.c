/* fuzz-msgpack-protocol.c: libFuzzer target for the "messagepack" hub protocol
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-hub-protocol.h"
#include "hubs-msgpack-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        gsize         size)
{
  return fuzz_hub_protocol (hubs_msgpack_hub_protocol_get (), data, size);
}
