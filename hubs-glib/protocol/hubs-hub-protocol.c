/* hubs-hub-protocol.c: the hub protocols a handshake can name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-msgpack-private.h"

/* Protocol names match case-insensitively, as in ASP.NET Core's
 * DefaultHubProtocolResolver. */
const HubsHubProtocol *
hubs_hub_protocol_lookup (const char *name)
{
  const HubsHubProtocol *protocols[] = {
    hubs_json_hub_protocol_get (),
    hubs_msgpack_hub_protocol_get (),
  };

  g_return_val_if_fail (name != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (g_ascii_strcasecmp (name, protocols[i]->name) == 0)
      return protocols[i];

  return NULL;
}
