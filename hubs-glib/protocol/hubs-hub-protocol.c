/* hubs-hub-protocol.c: the hub protocols a handshake can name, and what
 * their value conversions share
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

char *
hubs_param_type_describe (const HubsParamType *type)
{
  if (type->type == G_TYPE_VARIANT && type->variant_type != NULL)
    return g_strdup_printf ("GVariant of type ‘%.*s’",
                            (int) g_variant_type_get_string_length (type->variant_type),
                            g_variant_type_peek_string (type->variant_type));

  return g_strdup (g_type_name (type->type));
}

void
hubs_variant_children_free (GVariant **children,
                            gsize      n)
{
  for (gsize i = 0; i < n; i++)
    g_variant_unref (g_variant_ref_sink (children[i]));
  g_free (children);
}

gboolean
hubs_property_name_matches (const char *key,
                            const char *name)
{
  for (;;)
    {
      while (*key == '-' || *key == '_')
        key++;
      while (*name == '-' || *name == '_')
        name++;
      if (*key == '\0' || *name == '\0')
        return *key == *name;
      if (g_ascii_tolower (*key) != g_ascii_tolower (*name))
        return FALSE;
      key++;
      name++;
    }
}
