/* hubs-hub.c: the base class of hubs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-hub-private.h"

#include "hubs-caller-context.h"
#include "hubs-error.h"
#include "hubs-connection-context-private.h"
#include "hubs-group-manager.h"
#include "hubs-hub-clients-private.h"
#include "hubs-hub-context-private.h"
#include "hubs-invocation.h"
#include "hubs-stream-reader.h"
#include "hubs-stream-writer.h"

/**
 * HubsHub:
 *
 * The base class of hubs: subclass it and declare the methods that clients
 * may call.
 *
 * Hub methods are signals of the hub class: `hubs_hub_class_add_method()`
 * declares one in `class_init`, with its C handler, its return type and its
 * parameter types. The handler receives the [class@Hubs.Invocation] first,
 * then the arguments, bound from the client's message by the declared types,
 * and completes the invocation now or later:
 *
 * ```c
 * static gboolean
 * chat_hub_send_message (HubsHub        *hub,
 *                        HubsInvocation *invocation,
 *                        const char     *user,
 *                        const char     *message)
 * {
 *   g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_get_clients (hub));
 *
 *   hubs_client_proxy_send (all, "ReceiveMessage",
 *                           G_TYPE_STRING, user,
 *                           G_TYPE_STRING, message,
 *                           G_TYPE_INVALID);
 *   hubs_invocation_return_void (invocation);
 *   return HUBS_INVOCATION_HANDLED;
 * }
 *
 * static void
 * chat_hub_class_init (ChatHubClass *klass)
 * {
 *   hubs_hub_class_add_method (HUBS_HUB_CLASS (klass), "send-message",
 *                              G_CALLBACK (chat_hub_send_message),
 *                              G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
 * }
 * ```
 *
 * Clients call the method by its wire name, the signal name in PascalCase
 * (`SendMessage`), matched without regard to case as ASP.NET Core does;
 * [method@Hubs.HubClass.set_method_name] gives it another.
 *
 * A new hub instance is made for every invocation and for every call of
 * [vfunc@Hubs.Hub.on_connected] and [vfunc@Hubs.Hub.on_disconnected], then
 * dropped: keep state in the connection's items
 * ([method@Hubs.CallerContext.set_item]), in groups, or in the application,
 * never in the hub instance.
 *
 * Languages that use introspection declare hub methods with their own
 * signal syntax: any signal of the class whose first parameter is a
 * [class@Hubs.Invocation] and whose return type is a boolean is a hub method.
 * One whose first parameter is a [class@Hubs.StreamWriter] is a streaming
 * method (`hubs_hub_class_add_streaming_method()`). A parameter of type
 * [class@Hubs.StreamReader] is an upload stream the client sends beside the
 * arguments ([method@Hubs.HubClass.set_upload_item_type]).
 *
 * Since: 0.1
 */

typedef struct
{
  HubsConnectionContext *connection;
  HubsHubClients *clients;
  HubsGroupManager *groups;
} HubsHubPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (HubsHub, hubs_hub, G_TYPE_OBJECT)

/* What class_init said about the methods it added: keyed by signal name. */
typedef struct
{
  GHashTable *wire_names;       /* signal name → wire name */
  GHashTable *return_types;     /* signal name → GType */
  GHashTable *variant_types;    /* "signal name/index" → GVariantType */
  GHashTable *upload_types;     /* "signal name/index" → GType */
} HubsHubClassData;

/* The methods of a hub type, built at first use. */
typedef struct
{
  GHashTable *by_key;           /* casefolded wire name → HubsMethodInfo */
  GError *error;                /* why the type's methods are unusable */
} HubsHubMethods;

static GQuark class_data_quark;
static GQuark methods_quark;

/**
 * HubsHubClass::on_connected:
 * @self: a hub instance made for this call
 * @error: return location for the reason to refuse the connection
 *
 * Called once a client has connected and completed the handshake, before
 * any of its invocations run; [method@Hubs.Hub.get_clients] can already
 * reach the caller. Return %FALSE with @error set to refuse the connection:
 * the client gets a Close message with an error and may not reconnect.
 *
 * Returns: %TRUE to accept the connection
 *
 * Since: 0.1
 */
static gboolean
hubs_hub_real_on_connected (HubsHub  *self,
                            GError  **error)
{
  return TRUE;
}

/**
 * HubsHubClass::on_disconnected:
 * @self: a hub instance made for this call
 * @error: (nullable): why the connection ended, or %NULL after a clean stop
 *
 * Called once a client's connection has ended: the client stopped (a Close
 * message, or its transport went away), the server aborted it, or an error
 * ended it (the client timeout, a protocol error, whose message @error
 * carries). The connection has left its groups already.
 *
 * Since: 0.1
 */
static void
hubs_hub_real_on_disconnected (HubsHub      *self,
                               const GError *error)
{
}

static void
hubs_hub_dispose (GObject *object)
{
  HubsHub *self = HUBS_HUB (object);
  HubsHubPrivate *priv = hubs_hub_get_instance_private (self);

  g_clear_object (&priv->clients);
  g_clear_object (&priv->groups);
  g_clear_object (&priv->connection);

  G_OBJECT_CLASS (hubs_hub_parent_class)->dispose (object);
}

static void
hubs_hub_class_init (HubsHubClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_hub_dispose;

  klass->on_connected = hubs_hub_real_on_connected;
  klass->on_disconnected = hubs_hub_real_on_disconnected;

  class_data_quark = g_quark_from_static_string ("hubs-hub-class-data");
  methods_quark = g_quark_from_static_string ("hubs-hub-methods");
}

static void
hubs_hub_init (HubsHub *self)
{
}

HubsHub *
hubs_hub_new_for_connection (GType                  hub_type,
                             HubsConnectionContext *connection)
{
  HubsHub *hub;
  HubsHubPrivate *priv;

  g_return_val_if_fail (g_type_is_a (hub_type, HUBS_TYPE_HUB), NULL);

  hub = g_object_new (hub_type, NULL);
  priv = hubs_hub_get_instance_private (hub);
  priv->connection = g_object_ref (connection);

  return hub;
}

/**
 * hubs_hub_get_context:
 * @self: a hub
 *
 * Gets the context of the connection whose call or event this hub instance
 * serves: its connection id, user, items, HTTP request and more.
 *
 * Returns: (transfer none): the caller's context
 *
 * Since: 0.1
 */
HubsCallerContext *
hubs_hub_get_context (HubsHub *self)
{
  HubsHubPrivate *priv;

  g_return_val_if_fail (HUBS_IS_HUB (self), NULL);

  priv = hubs_hub_get_instance_private (self);
  g_return_val_if_fail (priv->connection != NULL, NULL);

  return hubs_connection_context_get_caller_context (priv->connection);
}

/**
 * hubs_hub_get_clients:
 * @self: a hub
 *
 * Gets the clients of this hub, from the caller's point of view: besides
 * all, groups and users, [method@Hubs.HubClients.caller] and
 * [method@Hubs.HubClients.others] are relative to the caller.
 *
 * Returns: (transfer none): the hub's clients
 *
 * Since: 0.1
 */
HubsHubClients *
hubs_hub_get_clients (HubsHub *self)
{
  HubsHubPrivate *priv;

  g_return_val_if_fail (HUBS_IS_HUB (self), NULL);

  priv = hubs_hub_get_instance_private (self);
  g_return_val_if_fail (priv->connection != NULL, NULL);

  if (priv->clients == NULL)
    priv->clients = hubs_hub_clients_new (hubs_connection_context_get_hub_context (priv->connection),
                                          hubs_connection_context_get_connection_id (priv->connection));

  return priv->clients;
}

/**
 * hubs_hub_get_groups:
 * @self: a hub
 *
 * Gets the group manager of this hub, to add connections to groups and
 * remove them.
 *
 * Returns: (transfer none): the hub's group manager
 *
 * Since: 0.1
 */
HubsGroupManager *
hubs_hub_get_groups (HubsHub *self)
{
  HubsHubPrivate *priv;

  g_return_val_if_fail (HUBS_IS_HUB (self), NULL);

  priv = hubs_hub_get_instance_private (self);
  g_return_val_if_fail (priv->connection != NULL, NULL);

  return hubs_hub_context_get_groups (hubs_connection_context_get_hub_context (priv->connection));
}

static HubsHubClassData *
class_data_get (GType type)
{
  HubsHubClassData *data = g_type_get_qdata (type, class_data_quark);

  if (data == NULL)
    {
      /* Lives as long as the type: for ever. */
      data = g_new0 (HubsHubClassData, 1);
      data->wire_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      data->return_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      data->variant_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                   (GDestroyNotify) g_variant_type_free);
      data->upload_types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_type_set_qdata (type, class_data_quark, data);
    }

  return data;
}

static char *
canonical_signal_name (const char *name)
{
  char *canonical = g_strdup (name);

  for (char *p = canonical; *p; p++)
    if (*p == '_')
      *p = '-';

  return canonical;
}

/* "send-message" → "SendMessage" */
static char *
pascal_case (const char *signal_name)
{
  GString *out = g_string_sized_new (strlen (signal_name));
  gboolean upper = TRUE;

  for (const char *p = signal_name; *p; p++)
    {
      if (*p == '-' || *p == '_')
        {
          upper = TRUE;
          continue;
        }
      g_string_append_c (out, upper ? g_ascii_toupper (*p) : *p);
      upper = FALSE;
    }

  return g_string_free (out, FALSE);
}

/**
 * hubs_hub_class_add_methodv: (skip)
 * @klass: a hub class
 * @name: the method's name: a valid signal name such as `send-message`
 * @handler: (nullable) (scope forever): the C handler, or %NULL
 * @return_type: the type of the method's result, %G_TYPE_NONE when it has
 *   none, or %G_TYPE_INVALID to leave it undeclared
 * @n_params: the number of parameters
 * @param_types: (array length=n_params): the types of the parameters
 *
 * Declares a hub method: an action signal of @klass named @name, whose
 * class handler is @handler. See `hubs_hub_class_add_method()`.
 *
 * Languages that use introspection declare hub methods as signals with
 * their own syntax instead, and their return types with
 * [method@Hubs.HubClass.set_method_return_type].
 *
 * Returns: the signal id
 *
 * Since: 0.1
 */
typedef struct
{
  const char *signature;
  GClosureMarshal marshal;
} HubsMarshalEntry;

#include "hubs-marshal.h"
#include "hubs-marshal-table.h"

static int
marshal_entry_compare (const void *key,
                       const void *entry)
{
  return strcmp (key, ((const HubsMarshalEntry *) entry)->signature);
}

/* The kind of GValue a parameter of @type is marshalled as, or NULL for
 * one without its own marshallers. */
static const char *
marshal_kind (GType type)
{
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_STRING: return "STRING";
    case G_TYPE_INT: return "INT";
    case G_TYPE_UINT: return "UINT";
    case G_TYPE_INT64: return "INT64";
    case G_TYPE_UINT64: return "UINT64";
    case G_TYPE_BOOLEAN: return "BOOLEAN";
    case G_TYPE_DOUBLE: return "DOUBLE";
    case G_TYPE_BOXED: return "BOXED";
    case G_TYPE_VARIANT: return "VARIANT";
    case G_TYPE_OBJECT: return "OBJECT";
    case G_TYPE_ENUM: return "ENUM";
    case G_TYPE_FLAGS: return "FLAGS";
    default: return NULL;
    }
}

/* A marshaller generated for @types (hubs-marshal.list), or NULL: then
 * GLib's generic one, through libffi. */
static GClosureMarshal
find_marshaller (guint        n_types,
                 const GType *types)
{
  g_autoptr(GString) signature = g_string_new (NULL);
  const HubsMarshalEntry *entry;

  for (guint i = 0; i < n_types; i++)
    {
      const char *kind = marshal_kind (types[i]);

      if (kind == NULL)
        return NULL;
      if (i > 0)
        g_string_append_c (signature, ',');
      g_string_append (signature, kind);
    }

  entry = bsearch (signature->str, hubs_marshal_table, G_N_ELEMENTS (hubs_marshal_table),
                   sizeof hubs_marshal_table[0], marshal_entry_compare);
  return entry != NULL ? entry->marshal : NULL;
}

static guint
add_method (HubsHubClass *klass,
            const char   *name,
            GCallback     handler,
            GType         first_type,
            GType         return_type,
            guint         n_params,
            const GType  *param_types)
{
  g_autofree GType *types = NULL;
  GClosure *closure = NULL;
  GType type;
  guint signal_id;

  type = G_TYPE_FROM_CLASS (klass);
  types = g_new (GType, n_params + 1);
  types[0] = first_type;
  for (guint i = 0; i < n_params; i++)
    types[i + 1] = param_types[i];

  if (handler != NULL)
    closure = g_cclosure_new (handler, NULL, NULL);

  signal_id = g_signal_newv (name, type,
                             G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
                             closure,
                             g_signal_accumulator_true_handled, NULL,
                             find_marshaller (n_params + 1, types),
                             G_TYPE_BOOLEAN,
                             n_params + 1, types);

  hubs_hub_class_set_method_return_type (klass, name, return_type);

  return signal_id;
}

guint
hubs_hub_class_add_methodv (HubsHubClass *klass,
                            const char   *name,
                            GCallback     handler,
                            GType         return_type,
                            guint         n_params,
                            const GType  *param_types)
{
  g_return_val_if_fail (HUBS_IS_HUB_CLASS (klass), 0);
  g_return_val_if_fail (name != NULL, 0);
  g_return_val_if_fail (g_signal_is_valid_name (name), 0);
  g_return_val_if_fail (n_params == 0 || param_types != NULL, 0);

  return add_method (klass, name, handler, HUBS_TYPE_INVOCATION, return_type, n_params, param_types);
}

/**
 * hubs_hub_class_add_method: (skip)
 * @klass: a hub class
 * @name: the method's name: a valid signal name such as `send-message`
 * @handler: (nullable): the C handler, or %NULL to connect handlers later
 * @return_type: the type of the method's result, %G_TYPE_NONE when it has
 *   none, or %G_TYPE_INVALID to leave it undeclared
 * @n_params: the number of parameters
 * @...: the types of the @n_params parameters
 *
 * Declares a hub method: an action signal of @klass named @name whose class
 * handler is @handler, called as
 *
 * ```c
 * gboolean handler (HubsHub *hub, HubsInvocation *invocation, params…);
 * ```
 *
 * with each parameter in the C type of its GType: `const char *` for
 * %G_TYPE_STRING, `gint` for %G_TYPE_INT, `const char * const *` for
 * %G_TYPE_STRV, `GBytes *` for %G_TYPE_BYTES (base64 in JSON),
 * `GDateTime *` for %G_TYPE_DATE_TIME (ISO 8601), `GVariant *` for
 * %G_TYPE_VARIANT (any JSON value), or the object of a GObject type (bound
 * from a JSON object by property names). The handler completes @invocation
 * now or later and returns %HUBS_INVOCATION_HANDLED.
 *
 * The wire name of the method is @name in PascalCase (`send-message` is
 * `SendMessage`). Arguments that do not bind to the declared types fail the
 * invocation with the error ASP.NET Core sends, before the handler runs.
 *
 * Returns: the signal id
 *
 * Since: 0.1
 */
guint
hubs_hub_class_add_method (HubsHubClass *klass,
                           const char   *name,
                           GCallback     handler,
                           GType         return_type,
                           guint         n_params,
                           ...)
{
  g_autofree GType *types = g_new (GType, n_params + 1);
  va_list args;

  va_start (args, n_params);
  for (guint i = 0; i < n_params; i++)
    types[i] = va_arg (args, GType);
  va_end (args);

  return hubs_hub_class_add_methodv (klass, name, handler, return_type, n_params, types);
}

/**
 * hubs_hub_class_add_streaming_methodv: (skip)
 * @klass: a hub class
 * @name: the method's name: a valid signal name such as `count-down`
 * @handler: (nullable) (scope forever): the C handler, or %NULL
 * @item_type: the type of the stream's items, or %G_TYPE_INVALID to leave
 *   it undeclared
 * @n_params: the number of parameters
 * @param_types: (array length=n_params): the types of the parameters
 *
 * Declares a streaming hub method. See
 * `hubs_hub_class_add_streaming_method()`.
 *
 * Returns: the signal id
 *
 * Since: 0.1
 */
guint
hubs_hub_class_add_streaming_methodv (HubsHubClass *klass,
                                      const char   *name,
                                      GCallback     handler,
                                      GType         item_type,
                                      guint         n_params,
                                      const GType  *param_types)
{
  g_return_val_if_fail (HUBS_IS_HUB_CLASS (klass), 0);
  g_return_val_if_fail (name != NULL, 0);
  g_return_val_if_fail (g_signal_is_valid_name (name), 0);
  g_return_val_if_fail (n_params == 0 || param_types != NULL, 0);

  return add_method (klass, name, handler, HUBS_TYPE_STREAM_WRITER, item_type, n_params, param_types);
}

/**
 * hubs_hub_class_add_streaming_method: (skip)
 * @klass: a hub class
 * @name: the method's name: a valid signal name such as `count-down`
 * @handler: (nullable): the C handler, or %NULL to connect handlers later
 * @item_type: the type of the stream's items, or %G_TYPE_INVALID to leave
 *   it undeclared
 * @n_params: the number of parameters
 * @...: the types of the @n_params parameters
 *
 * Declares a streaming hub method, one that answers a client's `stream()`
 * with a sequence of items (SignalR's methods returning `ChannelReader<T>`
 * or `IAsyncEnumerable<T>`). Its handler is called as
 *
 * ```c
 * gboolean handler (HubsHub *hub, HubsStreamWriter *writer, params…);
 * ```
 *
 * writes items through the [class@Hubs.StreamWriter], completes it now or
 * later, and returns %HUBS_INVOCATION_HANDLED. Streaming methods run beside
 * the connection's other invocations, outside
 * [property@Hubs.HubOptions:maximum-parallel-invocations].
 *
 * Languages that use introspection declare one as a signal whose first
 * parameter is a [class@Hubs.StreamWriter] and whose return type is a
 * boolean, and its item type with
 * [method@Hubs.HubClass.set_method_return_type].
 *
 * Returns: the signal id
 *
 * Since: 0.1
 */
guint
hubs_hub_class_add_streaming_method (HubsHubClass *klass,
                                     const char   *name,
                                     GCallback     handler,
                                     GType         item_type,
                                     guint         n_params,
                                     ...)
{
  g_autofree GType *types = g_new (GType, n_params + 1);
  va_list args;

  va_start (args, n_params);
  for (guint i = 0; i < n_params; i++)
    types[i] = va_arg (args, GType);
  va_end (args);

  return hubs_hub_class_add_streaming_methodv (klass, name, handler, item_type, n_params, types);
}

/**
 * hubs_hub_class_set_upload_item_type:
 * @klass: a hub class
 * @name: the name of a method of @klass (its signal name)
 * @index: the index of a `HUBS_TYPE_STREAM_READER` parameter, from 0
 * @item_type: the type of the stream's items
 *
 * Declares the type of the items of an upload stream parameter: the items
 * the client sends are bound to it as arguments are, and an item that does
 * not bind ends the stream with an error. Undeclared, items are any value
 * (%G_TYPE_VARIANT). Call it in `class_init`.
 *
 * Since: 0.1
 */
void
hubs_hub_class_set_upload_item_type (HubsHubClass *klass,
                                     const char   *name,
                                     guint         index,
                                     GType         item_type)
{
  g_autofree char *canonical = NULL;

  g_return_if_fail (HUBS_IS_HUB_CLASS (klass));
  g_return_if_fail (name != NULL);
  g_return_if_fail (g_type_get_qdata (G_TYPE_FROM_CLASS (klass), methods_quark) == NULL);

  canonical = canonical_signal_name (name);
  g_hash_table_replace (class_data_get (G_TYPE_FROM_CLASS (klass))->upload_types,
                        g_strdup_printf ("%s/%u", canonical, index),
                        GSIZE_TO_POINTER (item_type));
}

/**
 * hubs_hub_class_set_method_name:
 * @klass: a hub class
 * @name: the name of a method of @klass (its signal name)
 * @wire_name: the name clients call it by
 *
 * Renames a hub method on the wire, as SignalR's `HubMethodName` attribute
 * does. The wire name may be any non-empty string, `Custom.Name` for
 * instance. Call it in `class_init`.
 *
 * Since: 0.1
 */
void
hubs_hub_class_set_method_name (HubsHubClass *klass,
                                const char   *name,
                                const char   *wire_name)
{
  g_return_if_fail (HUBS_IS_HUB_CLASS (klass));
  g_return_if_fail (name != NULL);
  g_return_if_fail (wire_name != NULL && *wire_name != '\0');
  g_return_if_fail (g_type_get_qdata (G_TYPE_FROM_CLASS (klass), methods_quark) == NULL);

  g_hash_table_replace (class_data_get (G_TYPE_FROM_CLASS (klass))->wire_names,
                        canonical_signal_name (name), g_strdup (wire_name));
}

/**
 * hubs_hub_class_set_method_return_type:
 * @klass: a hub class
 * @name: the name of a method of @klass (its signal name)
 * @return_type: the type of the method's result, or %G_TYPE_NONE
 *
 * Declares the type of a hub method's result, for methods declared as
 * signals directly (by languages that use introspection). A result of
 * another type is then reported with a warning. Call it before the hub is
 * mapped.
 *
 * Since: 0.1
 */
void
hubs_hub_class_set_method_return_type (HubsHubClass *klass,
                                       const char   *name,
                                       GType         return_type)
{
  g_return_if_fail (HUBS_IS_HUB_CLASS (klass));
  g_return_if_fail (name != NULL);
  g_return_if_fail (g_type_get_qdata (G_TYPE_FROM_CLASS (klass), methods_quark) == NULL);

  g_hash_table_replace (class_data_get (G_TYPE_FROM_CLASS (klass))->return_types,
                        canonical_signal_name (name), GSIZE_TO_POINTER (return_type));
}

/**
 * hubs_hub_class_set_parameter_variant_type:
 * @klass: a hub class
 * @name: the name of a method of @klass (its signal name)
 * @index: the index of a %G_TYPE_VARIANT parameter, from 0
 * @type: the type its value must have
 *
 * Narrows a %G_TYPE_VARIANT parameter, which otherwise accepts any value, to
 * one GVariant type: `ax` for an array of integers, `as` for an array of
 * strings, `a{sv}` for an object. A value that does not fit fails the
 * invocation with the binding error ASP.NET Core sends. Call it in
 * `class_init`.
 *
 * Since: 0.1
 */
void
hubs_hub_class_set_parameter_variant_type (HubsHubClass       *klass,
                                           const char         *name,
                                           guint               index,
                                           const GVariantType *type)
{
  g_autofree char *canonical = NULL;

  g_return_if_fail (HUBS_IS_HUB_CLASS (klass));
  g_return_if_fail (name != NULL);
  g_return_if_fail (type != NULL && g_variant_type_is_definite (type));
  g_return_if_fail (g_type_get_qdata (G_TYPE_FROM_CLASS (klass), methods_quark) == NULL);

  canonical = canonical_signal_name (name);
  g_hash_table_replace (class_data_get (G_TYPE_FROM_CLASS (klass))->variant_types,
                        g_strdup_printf ("%s/%u", canonical, index),
                        g_variant_type_copy (type));
}

static void
method_info_free (gpointer data)
{
  HubsMethodInfo *info = data;

  g_free (info->name);
  g_free (info->wire_name);
  g_free (info->params);
  g_free (info->upload_items);
  g_free (info->args);
  g_free (info);
}

static char *
method_key (const char *wire_name)
{
  return g_utf8_casefold (wire_name, -1);
}

static HubsHubMethods *
methods_build (GType hub_type)
{
  HubsHubMethods *methods = g_new0 (HubsHubMethods, 1);

  methods->by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, method_info_free);

  for (GType type = hub_type; type != HUBS_TYPE_HUB && methods->error == NULL; type = g_type_parent (type))
    {
      HubsHubClassData *data = g_type_get_qdata (type, class_data_quark);
      g_autofree guint *ids = NULL;
      guint n_ids = 0;

      ids = g_signal_list_ids (type, &n_ids);
      for (guint i = 0; i < n_ids && methods->error == NULL; i++)
        {
          GSignalQuery query;
          HubsMethodInfo *info;
          const char *wire_name = NULL;
          gpointer return_type = NULL;

          GType first;

          g_signal_query (ids[i], &query);
          if (query.return_type != G_TYPE_BOOLEAN || query.n_params < 1)
            continue;
          first = query.param_types[0] & ~G_SIGNAL_TYPE_STATIC_SCOPE;
          if (first != HUBS_TYPE_INVOCATION && first != HUBS_TYPE_STREAM_WRITER)
            continue;

          info = g_new0 (HubsMethodInfo, 1);
          info->name = g_strdup (query.signal_name);
          info->signal_id = query.signal_id;
          info->streaming = first == HUBS_TYPE_STREAM_WRITER;
          info->n_params = query.n_params - 1;
          info->params = g_new0 (HubsParamType, info->n_params);
          info->upload_items = g_new0 (HubsParamType, info->n_params);
          info->args = g_new0 (HubsParamType, info->n_params);
          info->return_type = G_TYPE_INVALID;

          if (data != NULL)
            {
              wire_name = g_hash_table_lookup (data->wire_names, query.signal_name);
              if (g_hash_table_lookup_extended (data->return_types, query.signal_name, NULL, &return_type))
                info->return_type = GPOINTER_TO_SIZE (return_type);
            }
          info->wire_name = wire_name ? g_strdup (wire_name) : pascal_case (query.signal_name);

          for (guint p = 0; p < info->n_params; p++)
            {
              info->params[p].type = query.param_types[p + 1] & ~G_SIGNAL_TYPE_STATIC_SCOPE;
              if (data != NULL)
                {
                  g_autofree char *key = g_strdup_printf ("%s/%u", query.signal_name, p);
                  info->params[p].variant_type = g_hash_table_lookup (data->variant_types, key);
                }
              if (info->params[p].type == HUBS_TYPE_STREAM_READER)
                {
                  gpointer item_type = NULL;

                  /* Undeclared items are any value. */
                  info->upload_items[p].type = G_TYPE_VARIANT;
                  if (data != NULL)
                    {
                      g_autofree char *key = g_strdup_printf ("%s/%u", query.signal_name, p);

                      if (g_hash_table_lookup_extended (data->upload_types, key, NULL, &item_type))
                        info->upload_items[p].type = GPOINTER_TO_SIZE (item_type);
                    }
                  info->n_uploads++;
                }
              else
                info->args[info->n_args++] = info->params[p];
            }

          {
            g_autofree char *key = method_key (info->wire_name);

            /* Overloads are not allowed, as in SignalR: a subclass may not
             * add a method whose wire name an ancestor's method has. */
            if (g_hash_table_contains (methods->by_key, key))
              {
                methods->error = g_error_new (HUBS_ERROR, HUBS_ERROR_FAILED,
                                              "Hub type %s has two methods named ‘%s’ on the wire; "
                                              "hub methods cannot be overloaded",
                                              g_type_name (hub_type), info->wire_name);
                method_info_free (info);
                continue;
              }
            g_hash_table_insert (methods->by_key, g_steal_pointer (&key), info);
          }
        }
    }

  return methods;
}

static HubsHubMethods *
methods_get (GType hub_type)
{
  HubsHubMethods *methods = g_type_get_qdata (hub_type, methods_quark);

  if (methods == NULL)
    {
      /* Instantiating the class runs class_init, which adds the signals. */
      g_type_class_unref (g_type_class_ref (hub_type));
      methods = methods_build (hub_type);
      g_type_set_qdata (hub_type, methods_quark, methods);
    }

  return methods;
}

gboolean
hubs_hub_type_check_methods (GType    hub_type,
                             GError **error)
{
  HubsHubMethods *methods;

  g_return_val_if_fail (g_type_is_a (hub_type, HUBS_TYPE_HUB), FALSE);

  methods = methods_get (hub_type);
  if (methods->error != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (methods->error);
      return FALSE;
    }

  return TRUE;
}

const HubsMethodInfo *
hubs_hub_type_lookup_method (GType       hub_type,
                             const char *wire_name)
{
  g_autofree char *key = NULL;
  char ascii[128];
  gsize i;

  g_return_val_if_fail (wire_name != NULL, NULL);

  /* Once per invocation: an ASCII name, the usual case, folds to its ASCII
   * lower case without allocating (what g_utf8_casefold() gives it too). */
  for (i = 0; wire_name[i] != '\0' && i < sizeof ascii - 1 && (guchar) wire_name[i] < 0x80; i++)
    ascii[i] = g_ascii_tolower (wire_name[i]);
  if (wire_name[i] == '\0')
    {
      ascii[i] = '\0';
      return g_hash_table_lookup (methods_get (hub_type)->by_key, ascii);
    }

  key = method_key (wire_name);
  return g_hash_table_lookup (methods_get (hub_type)->by_key, key);
}
