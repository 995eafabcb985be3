/* hubs-lifetime-manager.c: connections, groups and users of a hub, and the
 * in-memory implementation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-lifetime-manager-private.h"

#include "hubs-connection-context-private.h"

/* What a typical outgoing message needs, allocated at once rather than
 * grown by the writer a few bytes at a time. */
#define OUTGOING_MESSAGE_SIZE 256

/* Targets */

HubsTarget *
hubs_target_new (HubsTargetKind      kind,
                 const char * const *names,
                 const char * const *excluded)
{
  HubsTarget *target = g_new0 (HubsTarget, 1);

  target->kind = kind;
  target->names = g_strdupv ((char **) names);
  target->excluded = g_strdupv ((char **) excluded);

  return target;
}

void
hubs_target_free (HubsTarget *target)
{
  g_strfreev (target->names);
  g_strfreev (target->excluded);
  g_free (target);
}

/* Serialised messages */

struct _HubsSerializedMessage
{
  gatomicrefcount ref_count;
  HubsHubMessage *message;
  /* Few protocols exist: a short list beats a hash table. */
  const HubsHubProtocol *protocols[4];
  GBytes *bytes[4];
  gboolean serialized;          /* received serialised: no writing */
};

HubsSerializedMessage *
hubs_serialized_message_new (HubsHubMessage *message)
{
  HubsSerializedMessage *self = g_new0 (HubsSerializedMessage, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->message = hubs_hub_message_ref (message);

  return self;
}

HubsSerializedMessage *
hubs_serialized_message_ref (HubsSerializedMessage *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
hubs_serialized_message_unref (HubsSerializedMessage *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (self->bytes); i++)
    g_clear_pointer (&self->bytes[i], g_bytes_unref);
  hubs_hub_message_unref (self->message);
  g_free (self);
}

HubsHubMessage *
hubs_serialized_message_get_message (HubsSerializedMessage *self)
{
  return self->message;
}

/* (transfer none) */
GBytes *
hubs_serialized_message_get_bytes (HubsSerializedMessage *self,
                                   const HubsHubProtocol *protocol)
{
  GByteArray *out;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (self->protocols) && self->protocols[i] != NULL; i++)
    if (self->protocols[i] == protocol)
      return self->bytes[i];

  if (self->serialized)
    return NULL;

  g_assert (i < G_N_ELEMENTS (self->protocols));

  out = g_byte_array_sized_new (OUTGOING_MESSAGE_SIZE);
  protocol->write_message (self->message, out);
  self->protocols[i] = protocol;
  self->bytes[i] = g_byte_array_free_to_bytes (out);

  return self->bytes[i];
}

HubsSerializedMessage *
hubs_serialized_message_new_serialized (HubsMessageType type)
{
  g_autoptr(HubsHubMessage) message = hubs_hub_message_new (type);
  HubsSerializedMessage *self = hubs_serialized_message_new (message);

  self->serialized = TRUE;
  return self;
}

void
hubs_serialized_message_add_bytes (HubsSerializedMessage *self,
                                   const HubsHubProtocol *protocol,
                                   GBytes                *bytes)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (self->protocols) && self->protocols[i] != NULL; i++)
    if (self->protocols[i] == protocol)
      return;
  if (i == G_N_ELEMENTS (self->protocols))
    return;

  self->protocols[i] = protocol;
  self->bytes[i] = g_bytes_ref (bytes);
}

/* The abstract lifetime manager */

G_DEFINE_ABSTRACT_TYPE (HubsLifetimeManager, hubs_lifetime_manager, G_TYPE_OBJECT)

static void
default_invoke_async (HubsLifetimeManager *self,
                      const char          *connection_id,
                      const char          *method,
                      guint                n_args,
                      const GValue        *args,
                      GType                result_type,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  HubsConnectionContext *connection = hubs_lifetime_manager_lookup_connection (self, connection_id);

  if (connection == NULL)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, default_invoke_async);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               "Connection '%s' does not exist.", connection_id);
      return;
    }

  hubs_connection_context_invoke_client_async (connection, method, n_args, args, result_type,
                                               cancellable, callback, user_data);
}

static gboolean
default_take_completion (HubsLifetimeManager   *self,
                         HubsConnectionContext *connection,
                         HubsHubMessage        *message,
                         const guint8          *frame,
                         gsize                  frame_length)
{
  return FALSE;
}

static void
hubs_lifetime_manager_class_init (HubsLifetimeManagerClass *klass)
{
  klass->invoke_async = default_invoke_async;
  klass->take_completion = default_take_completion;
}

static void
hubs_lifetime_manager_init (HubsLifetimeManager *self)
{
}

void
hubs_lifetime_manager_on_connected (HubsLifetimeManager   *self,
                                    HubsConnectionContext *connection)
{
  HUBS_LIFETIME_MANAGER_GET_CLASS (self)->on_connected (self, connection);
}

void
hubs_lifetime_manager_on_disconnected (HubsLifetimeManager   *self,
                                       HubsConnectionContext *connection)
{
  HUBS_LIFETIME_MANAGER_GET_CLASS (self)->on_disconnected (self, connection);
}

void
hubs_lifetime_manager_send_async (HubsLifetimeManager   *self,
                                  const HubsTarget      *target,
                                  HubsSerializedMessage *message,
                                  GCancellable          *cancellable,
                                  GAsyncReadyCallback    callback,
                                  gpointer               user_data)
{
  HUBS_LIFETIME_MANAGER_GET_CLASS (self)->send_async (self, target, message, cancellable, callback, user_data);
}

gboolean
hubs_lifetime_manager_send_finish (HubsLifetimeManager  *self,
                                   GAsyncResult         *result,
                                   GError              **error)
{
  return HUBS_LIFETIME_MANAGER_GET_CLASS (self)->send_finish (self, result, error);
}

void
hubs_lifetime_manager_group_async (HubsLifetimeManager *self,
                                   const char          *connection_id,
                                   const char          *group,
                                   gboolean             add,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  HUBS_LIFETIME_MANAGER_GET_CLASS (self)->group_async (self, connection_id, group, add,
                                                       cancellable, callback, user_data);
}

gboolean
hubs_lifetime_manager_group_finish (HubsLifetimeManager  *self,
                                    GAsyncResult         *result,
                                    GError              **error)
{
  return HUBS_LIFETIME_MANAGER_GET_CLASS (self)->group_finish (self, result, error);
}

HubsConnectionContext *
hubs_lifetime_manager_lookup_connection (HubsLifetimeManager *self,
                                         const char          *connection_id)
{
  return HUBS_LIFETIME_MANAGER_GET_CLASS (self)->lookup_connection (self, connection_id);
}

guint
hubs_lifetime_manager_get_n_connections (HubsLifetimeManager *self)
{
  return HUBS_LIFETIME_MANAGER_GET_CLASS (self)->get_n_connections (self);
}

GList *
hubs_lifetime_manager_list_connections (HubsLifetimeManager *self)
{
  return HUBS_LIFETIME_MANAGER_GET_CLASS (self)->list_connections (self);
}

void
hubs_lifetime_manager_invoke_async (HubsLifetimeManager *self,
                                    const char          *connection_id,
                                    const char          *method,
                                    guint                n_args,
                                    const GValue        *args,
                                    GType                result_type,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  HUBS_LIFETIME_MANAGER_GET_CLASS (self)->invoke_async (self, connection_id, method, n_args, args,
                                                        result_type, cancellable, callback, user_data);
}

/* The task comes from the connection (an invocation made here) or from the
 * manager, whose tasks return a GValue pointer. */
GValue *
hubs_lifetime_manager_invoke_finish (HubsLifetimeManager  *self,
                                     GAsyncResult         *result,
                                     GError              **error)
{
  gpointer source = g_task_get_source_object (G_TASK (result));
  GValue *value;

  if (!HUBS_IS_CONNECTION_CONTEXT (source))
    return g_task_propagate_pointer (G_TASK (result), error);

  value = g_new0 (GValue, 1);
  if (!hubs_connection_context_invoke_client_finish (source, result, value, error))
    g_clear_pointer (&value, g_free);
  return value;
}

gboolean
hubs_lifetime_manager_take_completion (HubsLifetimeManager   *self,
                                       HubsConnectionContext *connection,
                                       HubsHubMessage        *message,
                                       const guint8          *frame,
                                       gsize                  frame_length)
{
  return HUBS_LIFETIME_MANAGER_GET_CLASS (self)->take_completion (self, connection, message, frame, frame_length);
}

/* The in-memory lifetime manager */

#define HUBS_TYPE_MEMORY_LIFETIME_MANAGER (hubs_memory_lifetime_manager_get_type ())
G_DECLARE_FINAL_TYPE (HubsMemoryLifetimeManager, hubs_memory_lifetime_manager, HUBS, MEMORY_LIFETIME_MANAGER, HubsLifetimeManager)

struct _HubsMemoryLifetimeManager
{
  HubsLifetimeManager parent_instance;

  GHashTable *connections;      /* id → HubsConnectionContext */
  GHashTable *groups;           /* group → set of ids */
  GHashTable *memberships;      /* id → set of groups */
  GHashTable *users;            /* user identifier → set of ids */
};

G_DEFINE_FINAL_TYPE (HubsMemoryLifetimeManager, hubs_memory_lifetime_manager, HUBS_TYPE_LIFETIME_MANAGER)

/* Indexes: a key → a set of strings, the set gone with its last member. */

static void
index_add (GHashTable *index,
           const char *key,
           const char *member)
{
  GHashTable *set = g_hash_table_lookup (index, key);

  if (set == NULL)
    {
      set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (index, g_strdup (key), set);
    }
  g_hash_table_add (set, g_strdup (member));
}

static void
index_remove (GHashTable *index,
              const char *key,
              const char *member)
{
  GHashTable *set = g_hash_table_lookup (index, key);

  if (set != NULL && g_hash_table_remove (set, member) && g_hash_table_size (set) == 0)
    g_hash_table_remove (index, key);
}

/* The members of @key, as an array: sends may change the set. */
static gpointer *
index_members (GHashTable *index,
               const char *key,
               guint      *n_members)
{
  GHashTable *set = g_hash_table_lookup (index, key);

  *n_members = 0;
  return set != NULL ? g_hash_table_get_keys_as_array (set, n_members) : NULL;
}

static void
memory_on_connected (HubsLifetimeManager   *manager,
                     HubsConnectionContext *connection)
{
  HubsMemoryLifetimeManager *self = HUBS_MEMORY_LIFETIME_MANAGER (manager);
  const char *id = hubs_connection_context_get_connection_id (connection);
  const char *user = hubs_connection_context_get_user_identifier (connection);

  g_hash_table_replace (self->connections, g_strdup (id), g_object_ref (connection));
  /* The user identifier is the connection's for its life. */
  if (user != NULL)
    index_add (self->users, user, id);
}

static void
memory_on_disconnected (HubsLifetimeManager   *manager,
                        HubsConnectionContext *connection)
{
  HubsMemoryLifetimeManager *self = HUBS_MEMORY_LIFETIME_MANAGER (manager);
  const char *id = hubs_connection_context_get_connection_id (connection);
  const char *user = hubs_connection_context_get_user_identifier (connection);
  GHashTable *groups = g_hash_table_lookup (self->memberships, id);

  if (groups != NULL)
    {
      GHashTableIter iter;
      const char *group;

      g_hash_table_iter_init (&iter, groups);
      while (g_hash_table_iter_next (&iter, (gpointer *) &group, NULL))
        index_remove (self->groups, group, id);
      g_hash_table_remove (self->memberships, id);
    }
  if (user != NULL)
    index_remove (self->users, user, id);

  g_hash_table_remove (self->connections, id);
}

static gboolean
strv_has (char * const *strv,
          const char   *str)
{
  return strv != NULL && str != NULL && g_strv_contains ((const char * const *) strv, str);
}

static void
send_to (HubsConnectionContext *connection,
         const HubsTarget      *target,
         HubsSerializedMessage *message)
{
  if (connection == NULL ||
      strv_has (target->excluded, hubs_connection_context_get_connection_id (connection)))
    return;

  hubs_connection_context_send (connection, message);
}

/* The connections of a group or of a user. A send may end a connection
 * (its buffer full) and so change the set: it is copied first. */
static void
send_to_members (HubsMemoryLifetimeManager *self,
                 GHashTable                *index,
                 const char                *key,
                 const HubsTarget          *target,
                 HubsSerializedMessage     *message)
{
  guint n_ids;
  g_autofree gpointer *ids = index_members (index, key, &n_ids);

  for (guint i = 0; i < n_ids; i++)
    send_to (g_hash_table_lookup (self->connections, ids[i]), target, message);
}

static void
memory_send_async (HubsLifetimeManager   *manager,
                   const HubsTarget      *target,
                   HubsSerializedMessage *message,
                   GCancellable          *cancellable,
                   GAsyncReadyCallback    callback,
                   gpointer               user_data)
{
  HubsMemoryLifetimeManager *self = HUBS_MEMORY_LIFETIME_MANAGER (manager);
  g_autoptr(GTask) task = NULL;
  GList *connections = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, memory_send_async);

  switch (target->kind)
    {
    case HUBS_TARGET_ALL:
    case HUBS_TARGET_ALL_EXCEPT:
      connections = hubs_object_list_ref (g_hash_table_get_values (self->connections));
      for (GList *l = connections; l; l = l->next)
        send_to (l->data, target, message);
      break;

    case HUBS_TARGET_CONNECTIONS:
      for (guint i = 0; target->names && target->names[i]; i++)
        send_to (g_hash_table_lookup (self->connections, target->names[i]), target, message);
      break;

    case HUBS_TARGET_GROUPS:
    case HUBS_TARGET_GROUP_EXCEPT:
      for (guint i = 0; target->names && target->names[i]; i++)
        send_to_members (self, self->groups, target->names[i], target, message);
      break;

    case HUBS_TARGET_USERS:
      /* Through the index, not a walk of every connection; a user named
       * twice still gets one copy, as ASP.NET Core's. */
      for (guint i = 0; target->names && target->names[i]; i++)
        if (!g_strv_contains ((const char * const *) target->names + i + 1, target->names[i]))
          send_to_members (self, self->users, target->names[i], target, message);
      break;

    default:
      g_assert_not_reached ();
    }

  g_list_free_full (connections, g_object_unref);
  g_task_return_boolean (task, TRUE);
}

static gboolean
memory_send_finish (HubsLifetimeManager  *manager,
                    GAsyncResult         *result,
                    GError              **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
memory_group_async (HubsLifetimeManager *manager,
                    const char          *connection_id,
                    const char          *group,
                    gboolean             add,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  HubsMemoryLifetimeManager *self = HUBS_MEMORY_LIFETIME_MANAGER (manager);
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, memory_group_async);

  /* As ASP.NET Core: a connection that is not here is no error. */
  if (!g_hash_table_contains (self->connections, connection_id))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (add)
    {
      index_add (self->groups, group, connection_id);
      index_add (self->memberships, connection_id, group);
    }
  else
    {
      index_remove (self->groups, group, connection_id);
      index_remove (self->memberships, connection_id, group);
    }

  g_task_return_boolean (task, TRUE);
}

static HubsConnectionContext *
memory_lookup_connection (HubsLifetimeManager *manager,
                          const char          *connection_id)
{
  return g_hash_table_lookup (HUBS_MEMORY_LIFETIME_MANAGER (manager)->connections, connection_id);
}

static guint
memory_get_n_connections (HubsLifetimeManager *manager)
{
  return g_hash_table_size (HUBS_MEMORY_LIFETIME_MANAGER (manager)->connections);
}

static GList *
memory_list_connections (HubsLifetimeManager *manager)
{
  return g_hash_table_get_values (HUBS_MEMORY_LIFETIME_MANAGER (manager)->connections);
}

static void
hubs_memory_lifetime_manager_finalize (GObject *object)
{
  HubsMemoryLifetimeManager *self = HUBS_MEMORY_LIFETIME_MANAGER (object);

  g_hash_table_unref (self->connections);
  g_hash_table_unref (self->groups);
  g_hash_table_unref (self->memberships);
  g_hash_table_unref (self->users);

  G_OBJECT_CLASS (hubs_memory_lifetime_manager_parent_class)->finalize (object);
}

static void
hubs_memory_lifetime_manager_class_init (HubsMemoryLifetimeManagerClass *klass)
{
  HubsLifetimeManagerClass *manager_class = HUBS_LIFETIME_MANAGER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = hubs_memory_lifetime_manager_finalize;

  manager_class->on_connected = memory_on_connected;
  manager_class->on_disconnected = memory_on_disconnected;
  manager_class->send_async = memory_send_async;
  manager_class->send_finish = memory_send_finish;
  manager_class->group_async = memory_group_async;
  manager_class->group_finish = memory_send_finish;
  manager_class->lookup_connection = memory_lookup_connection;
  manager_class->get_n_connections = memory_get_n_connections;
  manager_class->list_connections = memory_list_connections;
}

static void
hubs_memory_lifetime_manager_init (HubsMemoryLifetimeManager *self)
{
  self->connections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  self->memberships = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
}

HubsLifetimeManager *
hubs_memory_lifetime_manager_new (void)
{
  return g_object_new (HUBS_TYPE_MEMORY_LIFETIME_MANAGER, NULL);
}
