/* hubs-hub-protocol.c: the hub protocols a handshake can name, and what
 * their value conversions share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-msgpack-private.h"

#include "hubs-error.h"

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

const GEnumValue *
hubs_enum_member_lookup (GEnumClass *klass,
                         const char *str)
{
  GEnumValue *found = g_enum_get_value_by_nick (klass, str);

  if (found == NULL)
    found = g_enum_get_value_by_name (klass, str);
  for (guint v = 0; found == NULL && v < klass->n_values; v++)
    if ((klass->values[v].value_nick != NULL && g_ascii_strcasecmp (klass->values[v].value_nick, str) == 0) ||
        (klass->values[v].value_name != NULL && g_ascii_strcasecmp (klass->values[v].value_name, str) == 0))
      found = &klass->values[v];

  return found;
}

gboolean
hubs_bind_enum_member (GType             type,
                       const GEnumValue *member,
                       GValue           *value)
{
  if (member == NULL)
    return FALSE;

  g_value_init (value, type);
  g_value_set_enum (value, member->value);
  return TRUE;
}

gboolean
hubs_bind_flags_bits (GType    type,
                      guint64  bits,
                      GValue  *value)
{
  g_autoptr(GFlagsClass) klass = g_type_class_ref (type);

  if (bits > G_MAXUINT || (bits & ~(guint64) klass->mask) != 0)
    return FALSE;

  g_value_init (value, type);
  g_value_set_flags (value, (guint) bits);
  return TRUE;
}

gboolean
hubs_boxed_accepts_null (GType type)
{
  return type == G_TYPE_STRV || type == G_TYPE_BYTES || type == G_TYPE_BYTE_ARRAY ||
         type == G_TYPE_DATE_TIME || type == JSON_TYPE_OBJECT || type == JSON_TYPE_ARRAY ||
         json_boxed_can_deserialize (type, JSON_NODE_NULL) ||
         json_boxed_can_deserialize (type, JSON_NODE_VALUE) ||
         json_boxed_can_deserialize (type, JSON_NODE_OBJECT) ||
         json_boxed_can_deserialize (type, JSON_NODE_ARRAY);
}

gboolean
hubs_bind_boxed_from_node (GType           type,
                           JsonNodeType    kind,
                           HubsToNodeFunc  to_node,
                           gconstpointer   source,
                           GValue         *value)
{
  g_autoptr(JsonNode) node = NULL;
  gpointer boxed;

  if (type == JSON_TYPE_OBJECT || type == JSON_TYPE_ARRAY)
    {
      if (kind != (type == JSON_TYPE_OBJECT ? JSON_NODE_OBJECT : JSON_NODE_ARRAY))
        return FALSE;
    }
  else if (type != JSON_TYPE_NODE && !json_boxed_can_deserialize (type, kind))
    return FALSE;

  node = to_node (source);
  if (node == NULL)
    return FALSE;

  if (type == JSON_TYPE_NODE)
    boxed = g_steal_pointer (&node);
  else if (type == JSON_TYPE_OBJECT)
    boxed = json_node_dup_object (node);
  else if (type == JSON_TYPE_ARRAY)
    boxed = json_node_dup_array (node);
  else
    boxed = json_boxed_deserialize (type, node);

  g_value_init (value, type);
  g_value_take_boxed (value, boxed);
  return TRUE;
}

JsonNode *
hubs_boxed_to_node (GType    type,
                    gpointer boxed)
{
  JsonNodeType node_type;
  JsonNode *node;

  if (type == JSON_TYPE_NODE)
    return json_node_ref (boxed);

  if (type == JSON_TYPE_OBJECT || type == JSON_TYPE_ARRAY)
    {
      node = json_node_alloc ();
      if (type == JSON_TYPE_OBJECT)
        json_node_init_object (node, boxed);
      else
        json_node_init_array (node, boxed);
      return node;
    }

  if (json_boxed_can_serialize (type, &node_type))
    return json_boxed_serialize (type, boxed);

  return NULL;
}

gboolean
hubs_object_type_is_bindable (GType type)
{
  return G_TYPE_IS_INSTANTIATABLE (type) && !G_TYPE_IS_ABSTRACT (type);
}

void
hubs_object_builder_init (HubsObjectBuilder *builder,
                          GType              type)
{
  guint n;

  builder->type = type;
  builder->klass = g_type_class_ref (type);
  builder->pspecs = g_object_class_list_properties (G_OBJECT_CLASS (builder->klass), &builder->n_pspecs);
  n = MAX (builder->n_pspecs, 1);
  builder->names = g_new0 (const char *, n);
  builder->values = g_new0 (GValue, n);
  builder->slot_of = g_new (int, n);
  for (guint p = 0; p < builder->n_pspecs; p++)
    builder->slot_of[p] = -1;
  builder->n_set = 0;
}

GValue *
hubs_object_builder_slot (HubsObjectBuilder  *builder,
                          const char         *key,
                          HubsParamType      *param_type,
                          GParamSpec        **pspec_out)
{
  GParamSpec *pspec = NULL, *target;
  guint p;
  int slot;

  for (p = 0; p < builder->n_pspecs; p++)
    if ((builder->pspecs[p]->flags & G_PARAM_WRITABLE) &&
        hubs_property_name_matches (key, builder->pspecs[p]->name))
      {
        pspec = builder->pspecs[p];
        break;
      }
  if (pspec == NULL)
    return NULL;

  slot = builder->slot_of[p];
  if (slot < 0)
    {
      slot = builder->slot_of[p] = (int) builder->n_set++;
      builder->names[slot] = pspec->name;
    }
  else
    g_value_unset (&builder->values[slot]);

  target = g_param_spec_get_redirect_target (pspec);
  if (target == NULL)
    target = pspec;
  param_type->type = G_PARAM_SPEC_VALUE_TYPE (pspec);
  param_type->variant_type = G_IS_PARAM_SPEC_VARIANT (target) ? G_PARAM_SPEC_VARIANT (target)->type : NULL;
  *pspec_out = pspec;
  return &builder->values[slot];
}

void
hubs_object_builder_finish (HubsObjectBuilder *builder,
                            GValue            *value)
{
  GObject *object = g_object_new_with_properties (builder->type, builder->n_set,
                                                  builder->names, builder->values);

  if (G_IS_INITIALLY_UNOWNED (object))
    g_object_ref_sink (object);
  g_value_init (value, builder->type);
  g_value_take_object (value, object);
}

void
hubs_object_builder_clear (HubsObjectBuilder *builder)
{
  for (guint s = 0; s < builder->n_set; s++)
    if (G_IS_VALUE (&builder->values[s]))
      g_value_unset (&builder->values[s]);
  g_clear_pointer (&builder->values, g_free);
  g_clear_pointer (&builder->names, g_free);
  g_clear_pointer (&builder->slot_of, g_free);
  g_clear_pointer (&builder->pspecs, g_free);
  g_clear_pointer (&builder->klass, g_type_class_unref);
}

void
hubs_value_free (gpointer data)
{
  GValue *value = data;

  if (value == NULL)
    return;
  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

/* The name .NET's Type.Name gives what a value binds to, for the texts the
 * reference writes; the GType's own name where .NET has no such type. */
static const char *
dotnet_type_name (GType type)
{
  switch (type)
    {
    case G_TYPE_BOOLEAN:
      return "Boolean";
    case G_TYPE_CHAR:
      return "SByte";
    case G_TYPE_UCHAR:
      return "Byte";
    case G_TYPE_INT:
      return "Int32";
    case G_TYPE_UINT:
      return "UInt32";
    case G_TYPE_LONG:
    case G_TYPE_INT64:
      return "Int64";
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
      return "UInt64";
    case G_TYPE_FLOAT:
      return "Single";
    case G_TYPE_DOUBLE:
      return "Double";
    case G_TYPE_STRING:
      return "String";
    default:
      return g_type_name (type);
    }
}

GValue *
hubs_client_result_bind (const HubsHubProtocol *protocol,
                         const HubsHubMessage  *message,
                         const HubsParamType   *type,
                         GError               **error)
{
  g_autoptr(GError) local_error = NULL;
  GValue *value;

  if (message->error != NULL)
    {
      g_set_error_literal (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED, message->error);
      return NULL;
    }

  value = g_new0 (GValue, 1);
  if (!protocol->bind_value (message, type, value, &local_error))
    {
      hubs_value_free (value);
      g_set_error (error, HUBS_HUB_ERROR, HUBS_HUB_ERROR_FAILED,
                   "Error trying to deserialize result to %s. %s",
                   dotnet_type_name (type->type), local_error->message);
      return NULL;
    }

  return value;
}
