/* hubs-redis-lifetime-manager.c: a hub's connections, groups and users
 * across servers, on Redis
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ASP.NET Core's RedisHubLifetimeManager on the backplane's connections.
 * This server's own connections, groups and users are kept by an in-memory
 * manager; Redis carries what crosses servers:
 *
 * - {prefix}:all, {prefix}:group:{name}, {prefix}:user:{id} and
 *   {prefix}:connection:{id}: invocations (RedisProtocol's layout), each
 *   server delivering to its own members. A group's channel is subscribed
 *   while the group has a member here, a user's while the user has a
 *   connection here, a connection's while it lasts;
 * - {prefix}:internal:groups: adding or removing a connection that lives
 *   elsewhere; its server answers on {prefix}:internal:ack:{server};
 * - {prefix}:internal:return:{server}: client results, answered by the
 *   server of the connection that was asked.
 *
 * {prefix} is the backplane's channel prefix and the hub's name. While
 * Redis is connected, every send goes through it as in ASP.NET Core, so
 * that all servers see one order (a single connection of this server is
 * written to directly, as the reference does). While it is not, this
 * server's members get the message directly and the publish fails, is
 * counted and logged: a send reaches who it can. A publish that fails
 * after it was queued is delivered here then, as far as it goes.
 */

#include "hubs-redis-private.h"

#include <string.h>

#include "hubs-connection-context-private.h"
#include "hubs-error.h"
#include "hubs-log-private.h"
#include "hubs-redis-protocol-private.h"

#define HUBS_TYPE_REDIS_LIFETIME_MANAGER (hubs_redis_lifetime_manager_get_type ())
G_DECLARE_FINAL_TYPE (HubsRedisLifetimeManager, hubs_redis_lifetime_manager, HUBS, REDIS_LIFETIME_MANAGER, HubsLifetimeManager)

struct _HubsRedisLifetimeManager
{
  HubsLifetimeManager parent_instance;

  HubsLifetimeManager *local;   /* this server's connections and groups */
  HubsRedisBackplane *backplane;
  char *prefix;                 /* channel prefix + hub name */
  char *all_channel;
  char *groups_channel;
  char *ack_channel;
  char *return_channel;

  GHashTable *groups;           /* group → set of local connection ids */
  GHashTable *memberships;      /* connection id → set of groups */
  GHashTable *users;            /* user id → number of local connections */
  GHashTable *acks;             /* command id → Ack */
  GHashTable *invocations;      /* invocation id → Invocation: asked here */
  GHashTable *forwarded;        /* invocation id → Forwarded: asked elsewhere */
};

G_DEFINE_FINAL_TYPE (HubsRedisLifetimeManager, hubs_redis_lifetime_manager, HUBS_TYPE_LIFETIME_MANAGER)

typedef struct
{
  HubsRedisLifetimeManager *self;
  GTask *task;
  guint timeout_id;
} Ack;

typedef struct
{
  GTask *task;
  char *connection_id;
  HubsParamType type;
  GCancellable *cancellable;
  gulong cancelled_id;
} Invocation;

typedef struct
{
  char *connection_id;
  char *return_channel;
} Forwarded;

static void on_all (const char *, const guint8 *, gsize, gpointer);
static void on_group (const char *, const guint8 *, gsize, gpointer);
static void on_user (const char *, const guint8 *, gsize, gpointer);
static void on_connection (const char *, const guint8 *, gsize, gpointer);
static void on_group_command (const char *, const guint8 *, gsize, gpointer);
static void on_ack (const char *, const guint8 *, gsize, gpointer);
static void on_return (const char *, const guint8 *, gsize, gpointer);

static char *
channel_name (HubsRedisLifetimeManager *self,
              const char               *kind,
              const char               *name)
{
  return g_strconcat (self->prefix, ":", kind, ":", name, NULL);
}

/* The name after "{prefix}:{kind}:" */
static const char *
channel_suffix (HubsRedisLifetimeManager *self,
                const char               *channel,
                const char               *kind)
{
  gsize prefix_length = strlen (self->prefix), kind_length = strlen (kind);

  if (strncmp (channel, self->prefix, prefix_length) != 0 || channel[prefix_length] != ':' ||
      strncmp (channel + prefix_length + 1, kind, kind_length) != 0 ||
      channel[prefix_length + 1 + kind_length] != ':')
    return NULL;
  return channel + prefix_length + kind_length + 2;
}

static void
ack_free (gpointer data)
{
  Ack *ack = data;

  g_clear_handle_id (&ack->timeout_id, g_source_remove);
  g_clear_object (&ack->task);
  g_free (ack);
}

static void
invocation_free (gpointer data)
{
  Invocation *invocation = data;

  if (invocation->cancelled_id != 0)
    g_cancellable_disconnect (invocation->cancellable, invocation->cancelled_id);
  g_clear_object (&invocation->cancellable);
  g_clear_object (&invocation->task);
  g_free (invocation->connection_id);
  g_free (invocation);
}

static void
forwarded_free (gpointer data)
{
  Forwarded *forwarded = data;

  g_free (forwarded->connection_id);
  g_free (forwarded->return_channel);
  g_free (forwarded);
}

static GHashTable *
string_set_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* Payloads */

static GBytes *
write_invocation (HubsSerializedMessage *message,
                  const char * const    *excluded,
                  const char            *invocation_id,
                  const char            *return_channel)
{
  /* Every protocol a hub speaks, as DefaultHubMessageSerializer writes
   * every protocol of the hub. */
  const HubsHubProtocol *protocols[] = {
    hubs_hub_protocol_lookup ("json"),
    hubs_hub_protocol_lookup ("messagepack"),
  };
  const char *names[G_N_ELEMENTS (protocols)];
  GBytes *payloads[G_N_ELEMENTS (protocols)];
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    {
      if (protocols[i] == NULL)
        continue;
      names[n] = protocols[i]->name;
      payloads[n] = hubs_serialized_message_get_bytes (message, protocols[i]);
      n++;
    }

  return hubs_redis_write_invocation (excluded, n, names, payloads, invocation_id, return_channel);
}

/* The message of @invocation, for the protocols this server speaks. */
static HubsSerializedMessage *
received_message (HubsRedisInvocation *invocation)
{
  HubsSerializedMessage *message = hubs_serialized_message_new_serialized (HUBS_MESSAGE_INVOCATION);

  for (guint i = 0; invocation->protocol_names[i] != NULL; i++)
    {
      const HubsHubProtocol *protocol = hubs_hub_protocol_lookup (invocation->protocol_names[i]);

      /* Protocols we do not speak are ignored, as the reference's other
       * servers do. */
      if (protocol != NULL)
        hubs_serialized_message_add_bytes (message, protocol, g_ptr_array_index (invocation->payloads, i));
    }
  return message;
}

static void
log_bad_payload (const char   *channel,
                 const GError *error)
{
  hubs_log_event (G_LOG_LEVEL_DEBUG, "RedisBadPayload", NULL, NULL, NULL, HUBS_TRANSPORT_NONE,
                  "Ignored a payload on channel '%s': %s", channel, error->message);
}

static void
send_local (HubsRedisLifetimeManager *self,
            HubsTargetKind            kind,
            const char               *name,
            const char * const       *excluded,
            HubsSerializedMessage    *message)
{
  const char *names[] = { name, NULL };
  g_autoptr(HubsTarget) target = hubs_target_new (kind, name != NULL ? names : NULL, excluded);

  hubs_lifetime_manager_send_async (self->local, target, message, NULL, NULL, NULL);
}

/* Receiving invocations */

static void
deliver (HubsRedisLifetimeManager *self,
         const char               *channel,
         const guint8             *data,
         gsize                     length,
         HubsTargetKind            kind,
         const char               *name)
{
  g_autoptr(HubsRedisInvocation) invocation = NULL;
  g_autoptr(HubsSerializedMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  invocation = hubs_redis_read_invocation (data, length, &error);
  if (invocation == NULL)
    {
      log_bad_payload (channel, error);
      return;
    }
  message = received_message (invocation);
  send_local (self, kind, name, (const char * const *) invocation->excluded, message);
}

static void
on_all (const char   *channel,
        const guint8 *data,
        gsize         length,
        gpointer      user_data)
{
  deliver (user_data, channel, data, length, HUBS_TARGET_ALL_EXCEPT, NULL);
}

static void
on_group (const char   *channel,
          const guint8 *data,
          gsize         length,
          gpointer      user_data)
{
  const char *group = channel_suffix (user_data, channel, "group");

  if (group != NULL)
    deliver (user_data, channel, data, length, HUBS_TARGET_GROUP_EXCEPT, group);
}

static void
on_user (const char   *channel,
         const guint8 *data,
         gsize         length,
         gpointer      user_data)
{
  const char *user = channel_suffix (user_data, channel, "user");

  if (user != NULL)
    deliver (user_data, channel, data, length, HUBS_TARGET_USERS, user);
}

static void
on_connection (const char   *channel,
               const guint8 *data,
               gsize         length,
               gpointer      user_data)
{
  HubsRedisLifetimeManager *self = user_data;
  const char *connection_id = channel_suffix (self, channel, "connection");
  g_autoptr(HubsRedisInvocation) invocation = NULL;
  g_autoptr(HubsSerializedMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  if (connection_id == NULL)
    return;
  invocation = hubs_redis_read_invocation (data, length, &error);
  if (invocation == NULL)
    {
      log_bad_payload (channel, error);
      return;
    }

  /* A client result another server waits for: the client's answer goes
   * back on its return channel. */
  if (invocation->invocation_id != NULL && *invocation->invocation_id != '\0' &&
      invocation->return_channel != NULL &&
      hubs_lifetime_manager_lookup_connection (self->local, connection_id) != NULL &&
      !g_hash_table_contains (self->forwarded, invocation->invocation_id))
    {
      Forwarded *forwarded = g_new0 (Forwarded, 1);

      forwarded->connection_id = g_strdup (connection_id);
      forwarded->return_channel = g_strdup (invocation->return_channel);
      g_hash_table_insert (self->forwarded, g_strdup (invocation->invocation_id), forwarded);
    }

  message = received_message (invocation);
  send_local (self, HUBS_TARGET_CONNECTIONS, connection_id, NULL, message);
}

/* Groups */

static gboolean
return_true (gpointer data)
{
  GTask *task = data;

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

/* @ready (nullable) runs once the group's channel is subscribed, as the
 * reference awaits its subscription before it completes or acknowledges. */
static void
add_local (HubsRedisLifetimeManager *self,
           const char               *connection_id,
           const char               *group,
           GSourceFunc               ready,
           gpointer                  ready_data)
{
  GHashTable *members = g_hash_table_lookup (self->groups, group);
  GHashTable *groups = g_hash_table_lookup (self->memberships, connection_id);
  g_autofree char *channel = channel_name (self, "group", group);
  gboolean first = members == NULL;

  if (members != NULL && g_hash_table_contains (members, connection_id))
    {
      if (ready != NULL)
        hubs_redis_backplane_when_subscribed (self->backplane, channel, ready, ready_data);
      return;
    }

  if (members == NULL)
    {
      members = string_set_new ();
      g_hash_table_insert (self->groups, g_strdup (group), members);
    }
  if (groups == NULL)
    {
      groups = string_set_new ();
      g_hash_table_insert (self->memberships, g_strdup (connection_id), groups);
    }
  g_hash_table_add (members, g_strdup (connection_id));
  g_hash_table_add (groups, g_strdup (group));
  hubs_lifetime_manager_group_async (self->local, connection_id, group, TRUE, NULL, NULL, NULL);

  if (first)
    hubs_redis_backplane_subscribe (self->backplane, channel, on_group, self, ready, ready_data);
  else if (ready != NULL)
    hubs_redis_backplane_when_subscribed (self->backplane, channel, ready, ready_data);
}

static void
remove_local (HubsRedisLifetimeManager *self,
              const char               *connection_id,
              const char               *group)
{
  GHashTable *members = g_hash_table_lookup (self->groups, group);
  GHashTable *groups = g_hash_table_lookup (self->memberships, connection_id);

  if (groups != NULL)
    g_hash_table_remove (groups, group);
  if (members == NULL || !g_hash_table_remove (members, connection_id))
    return;

  hubs_lifetime_manager_group_async (self->local, connection_id, group, FALSE, NULL, NULL, NULL);
  if (g_hash_table_size (members) == 0)
    {
      g_autofree char *channel = channel_name (self, "group", group);

      g_hash_table_remove (self->groups, group);
      hubs_redis_backplane_unsubscribe (self->backplane, channel, on_group, self);
    }
}

typedef struct
{
  HubsRedisLifetimeManager *self;
  char *channel;
  gint32 id;
} PendingAck;

/* Once the group's channel is subscribed, as the reference acknowledges
 * only then: the sender may send to the group right after. */
static gboolean
send_ack (gpointer user_data)
{
  PendingAck *pending = user_data;
  g_autoptr(GBytes) ack = hubs_redis_write_ack (pending->id);

  if (pending->self->backplane != NULL)
    hubs_redis_backplane_publish (pending->self->backplane, pending->channel, ack, NULL, NULL);
  g_object_unref (pending->self);
  g_free (pending->channel);
  g_free (pending);
  return G_SOURCE_REMOVE;
}

static void
on_group_command (const char   *channel,
                  const guint8 *data,
                  gsize         length,
                  gpointer      user_data)
{
  HubsRedisLifetimeManager *self = user_data;
  g_autofree char *server = NULL, *group = NULL, *connection_id = NULL;
  g_autoptr(GError) error = NULL;
  HubsRedisGroupAction action;
  PendingAck *pending;
  gint32 id;

  if (!hubs_redis_read_group_command (data, length, &id, &server, &action, &group, &connection_id, &error))
    {
      log_bad_payload (channel, error);
      return;
    }

  /* Only the server of the connection acts, and acknowledges. */
  if (hubs_lifetime_manager_lookup_connection (self->local, connection_id) == NULL)
    return;

  pending = g_new0 (PendingAck, 1);
  pending->self = g_object_ref (self);
  pending->channel = channel_name (self, "internal:ack", server);
  pending->id = id;
  if (action == HUBS_REDIS_GROUP_ADD)
    {
      add_local (self, connection_id, group, send_ack, pending);
      return;
    }
  if (action == HUBS_REDIS_GROUP_REMOVE)
    remove_local (self, connection_id, group);
  send_ack (pending);
}

static void
on_ack (const char   *channel,
        const guint8 *data,
        gsize         length,
        gpointer      user_data)
{
  HubsRedisLifetimeManager *self = user_data;
  g_autoptr(GError) error = NULL;
  gpointer key;
  Ack *ack;
  gint32 id;

  if (!hubs_redis_read_ack (data, length, &id, &error))
    {
      log_bad_payload (channel, error);
      return;
    }
  if (!g_hash_table_steal_extended (self->acks, GINT_TO_POINTER (id), &key, (gpointer *) &ack))
    return;

  g_task_return_boolean (ack->task, TRUE);
  ack_free (ack);
}

static gboolean
ack_timed_out (gpointer user_data)
{
  Ack *ack = user_data;
  HubsRedisLifetimeManager *self = ack->self;
  GHashTableIter iter;
  gpointer value;

  ack->timeout_id = 0;
  g_hash_table_iter_init (&iter, self->acks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == ack)
      {
        g_hash_table_iter_steal (&iter);
        break;
      }

  /* The reference's AckHandler cancels the task: "A task was canceled." */
  g_task_return_new_error (ack->task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           "A task was canceled. No server acknowledged the group change within %u ms: "
                           "the connection may not exist.",
                           hubs_redis_backplane_get_ack_timeout (self->backplane));
  ack_free (ack);
  return G_SOURCE_REMOVE;
}

typedef struct
{
  HubsRedisLifetimeManager *self;
  gint32 id;
} CommandPublish;

static void
group_command_published (gint64        receivers,
                         const GError *error,
                         gpointer      user_data)
{
  CommandPublish *publish = user_data;
  HubsRedisLifetimeManager *self = publish->self;
  gpointer key;
  Ack *ack;

  /* Still waiting (not timed out, not disposed)? */
  if (error != NULL &&
      g_hash_table_steal_extended (self->acks, GINT_TO_POINTER (publish->id), &key, (gpointer *) &ack))
    {
      g_task_return_error (ack->task, g_error_copy (error));
      ack_free (ack);
    }
  g_object_unref (publish->self);
  g_free (publish);
}

static void
redis_group_async (HubsLifetimeManager *manager,
                   const char          *connection_id,
                   const char          *group,
                   gboolean             add,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (manager);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GBytes) command = NULL;
  CommandPublish *publish;
  Ack *ack;
  gint32 id;

  g_task_set_source_tag (task, redis_group_async);

  if (self->backplane == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED, "The hub is gone.");
      return;
    }

  /* The connection is here: no need to go through Redis. */
  if (hubs_lifetime_manager_lookup_connection (self->local, connection_id) != NULL)
    {
      if (add)
        add_local (self, connection_id, group, return_true, g_steal_pointer (&task));
      else
        {
          remove_local (self, connection_id, group);
          g_task_return_boolean (task, TRUE);
        }
      return;
    }

  id = hubs_redis_backplane_next_id (self->backplane);
  ack = g_new0 (Ack, 1);
  ack->self = self;
  ack->task = g_object_ref (task);
  ack->timeout_id = g_timeout_add (hubs_redis_backplane_get_ack_timeout (self->backplane), ack_timed_out, ack);
  g_hash_table_insert (self->acks, GINT_TO_POINTER (id), ack);

  command = hubs_redis_write_group_command (id, hubs_redis_backplane_get_server_name (self->backplane),
                                            add ? HUBS_REDIS_GROUP_ADD : HUBS_REDIS_GROUP_REMOVE,
                                            group, connection_id);
  publish = g_new0 (CommandPublish, 1);
  publish->self = g_object_ref (self);
  publish->id = id;
  hubs_redis_backplane_publish (self->backplane, self->groups_channel, command, group_command_published, publish);
}

static gboolean
redis_group_finish (HubsLifetimeManager  *manager,
                    GAsyncResult         *result,
                    GError              **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Sending */

typedef struct
{
  HubsRedisLifetimeManager *self;
  GTask *task;
  HubsTarget *target;
  HubsSerializedMessage *message;
  guint n_pending;
  gboolean delivered_here;
  GError *error;
} Send;

static void
send_unref (Send *send)
{
  if (--send->n_pending > 0)
    return;

  if (send->task != NULL)
    {
      if (send->error != NULL)
        g_task_return_error (send->task, g_steal_pointer (&send->error));
      else
        g_task_return_boolean (send->task, TRUE);
    }
  g_clear_error (&send->error);
  g_clear_object (&send->task);
  hubs_target_free (send->target);
  hubs_serialized_message_unref (send->message);
  g_object_unref (send->self);
  g_free (send);
}

/* This server's members, for a send that does not go through Redis. */
static void
send_here (Send *send)
{
  if (send->delivered_here)
    return;
  send->delivered_here = TRUE;

  if (send->target->kind == HUBS_TARGET_CONNECTIONS)
    return;                     /* written directly already */
  hubs_lifetime_manager_send_async (send->self->local, send->target, send->message, NULL, NULL, NULL);
}

static void
published (gint64        receivers,
           const GError *error,
           gpointer      user_data)
{
  Send *send = user_data;

  if (error != NULL)
    {
      send_here (send);
      if (send->error == NULL)
        send->error = g_error_copy (error);
    }
  send_unref (send);
}

static void
publish_for (Send       *send,
             const char *channel,
             GBytes     *payload)
{
  send->n_pending++;
  hubs_redis_backplane_publish (send->self->backplane, channel, payload, published, send);
}

static void
redis_send_async (HubsLifetimeManager   *manager,
                  const HubsTarget      *target,
                  HubsSerializedMessage *message,
                  GCancellable          *cancellable,
                  GAsyncReadyCallback    callback,
                  gpointer               user_data)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (manager);
  const char * const *excluded = (const char * const *) target->excluded;
  g_autoptr(GBytes) payload = NULL;
  Send *send;

  /* Disposed, with the hub: only what is here is left. */
  if (self->backplane == NULL)
    {
      hubs_lifetime_manager_send_async (self->local, target, message, cancellable, callback, user_data);
      return;
    }

  send = g_new0 (Send, 1);

  send->self = g_object_ref (self);
  if (callback != NULL)
    {
      send->task = g_task_new (self, cancellable, callback, user_data);
      g_task_set_source_tag (send->task, redis_send_async);
    }
  send->target = hubs_target_new (target->kind, (const char * const *) target->names, excluded);
  send->message = hubs_serialized_message_ref (message);
  send->n_pending = 1;

  if (hubs_redis_backplane_get_state (self->backplane) != HUBS_REDIS_STATE_CONNECTED)
    send_here (send);

  payload = write_invocation (message, excluded, NULL, NULL);

  switch (target->kind)
    {
    case HUBS_TARGET_ALL:
    case HUBS_TARGET_ALL_EXCEPT:
      publish_for (send, self->all_channel, payload);
      break;

    case HUBS_TARGET_CONNECTIONS:
      for (guint i = 0; target->names != NULL && target->names[i] != NULL; i++)
        {
          const char *id = target->names[i];

          /* As the reference: a connection of this server is written to
           * directly (sticky sessions are required anyway). */
          if (hubs_lifetime_manager_lookup_connection (self->local, id) != NULL)
            send_local (self, HUBS_TARGET_CONNECTIONS, id, excluded, message);
          else
            {
              g_autofree char *channel = channel_name (self, "connection", id);

              publish_for (send, channel, payload);
            }
        }
      break;

    case HUBS_TARGET_GROUPS:
    case HUBS_TARGET_GROUP_EXCEPT:
    case HUBS_TARGET_USERS:
      for (guint i = 0; target->names != NULL && target->names[i] != NULL; i++)
        {
          g_autofree char *channel = NULL;

          if (*target->names[i] == '\0')
            continue;
          channel = channel_name (self, target->kind == HUBS_TARGET_USERS ? "user" : "group", target->names[i]);
          publish_for (send, channel, payload);
        }
      break;

    default:
      g_assert_not_reached ();
    }

  send_unref (send);
}

static gboolean
redis_send_finish (HubsLifetimeManager  *manager,
                   GAsyncResult         *result,
                   GError              **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Connections */

static void
redis_on_connected (HubsLifetimeManager   *manager,
                    HubsConnectionContext *connection)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (manager);
  const char *user = hubs_connection_context_get_user_identifier (connection);
  g_autofree char *channel = channel_name (self, "connection", hubs_connection_context_get_connection_id (connection));

  hubs_lifetime_manager_on_connected (self->local, connection);
  if (self->backplane == NULL)
    return;
  hubs_redis_backplane_subscribe (self->backplane, channel, on_connection, self, NULL, NULL);

  if (user != NULL && *user != '\0')
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->users, user));

      g_hash_table_insert (self->users, g_strdup (user), GUINT_TO_POINTER (n + 1));
      if (n == 0)
        {
          g_autofree char *user_channel = channel_name (self, "user", user);

          hubs_redis_backplane_subscribe (self->backplane, user_channel, on_user, self, NULL, NULL);
        }
    }
}

static void
forward_completion (HubsRedisLifetimeManager *self,
                    const char               *return_channel,
                    const HubsHubProtocol    *protocol,
                    const guint8             *frame,
                    gsize                     frame_length)
{
  g_autoptr(GBytes) payload = hubs_redis_write_completion (protocol->name, frame, frame_length);

  hubs_redis_backplane_publish (self->backplane, return_channel, payload, NULL, NULL);
}

static void
redis_on_disconnected (HubsLifetimeManager   *manager,
                       HubsConnectionContext *connection)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (manager);
  const char *id = hubs_connection_context_get_connection_id (connection);
  const char *user = hubs_connection_context_get_user_identifier (connection);
  g_autofree char *channel = channel_name (self, "connection", id);
  GHashTable *groups = g_hash_table_lookup (self->memberships, id);
  GHashTableIter iter;
  gpointer key, value;

  hubs_lifetime_manager_on_disconnected (self->local, connection);
  if (self->backplane == NULL)
    return;
  hubs_redis_backplane_unsubscribe (self->backplane, channel, on_connection, self);

  if (groups != NULL)
    {
      g_autofree gpointer *names = (gpointer *) g_hash_table_get_keys_as_array (groups, NULL);

      /* remove_local() frees the keys: copies. */
      for (guint i = 0; names[i] != NULL; i++)
        names[i] = g_strdup (names[i]);
      for (guint i = 0; names[i] != NULL; i++)
        {
          remove_local (self, id, names[i]);
          g_free (names[i]);
        }
      g_hash_table_remove (self->memberships, id);
    }

  if (user != NULL && *user != '\0')
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->users, user));

      if (n <= 1)
        {
          g_autofree char *user_channel = channel_name (self, "user", user);

          g_hash_table_remove (self->users, user);
          hubs_redis_backplane_unsubscribe (self->backplane, user_channel, on_user, self);
        }
      else
        g_hash_table_insert (self->users, g_strdup (user), GUINT_TO_POINTER (n - 1));
    }

  /* Client results other servers wait for: as the reference, an error
   * "Connection disconnected." in the connection's protocol. */
  g_hash_table_iter_init (&iter, self->forwarded);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Forwarded *forwarded = value;
      const HubsHubProtocol *protocol = hubs_connection_context_get_protocol (connection);
      g_autoptr(HubsHubMessage) completion = NULL;
      g_autoptr(GByteArray) out = NULL;

      if (!g_str_equal (forwarded->connection_id, id) || protocol == NULL)
        continue;

      completion = hubs_hub_message_new_completion (key, NULL, FALSE, "Connection disconnected.");
      out = g_byte_array_new ();
      protocol->write_message (completion, out);
      forward_completion (self, forwarded->return_channel, protocol, out->data, out->len);
      g_hash_table_iter_remove (&iter);
    }
}

static HubsConnectionContext *
redis_lookup_connection (HubsLifetimeManager *manager,
                         const char          *connection_id)
{
  return hubs_lifetime_manager_lookup_connection (HUBS_REDIS_LIFETIME_MANAGER (manager)->local, connection_id);
}

static guint
redis_get_n_connections (HubsLifetimeManager *manager)
{
  return hubs_lifetime_manager_get_n_connections (HUBS_REDIS_LIFETIME_MANAGER (manager)->local);
}

static GList *
redis_list_connections (HubsLifetimeManager *manager)
{
  return hubs_lifetime_manager_list_connections (HUBS_REDIS_LIFETIME_MANAGER (manager)->local);
}

/* Client results */

static char *
generate_invocation_id (void)
{
  /* As the reference: a random GUID's 16 bytes in base64, without the
   * padding: unique across servers. */
  guint8 bytes[16];
  char *id;

  for (guint i = 0; i < G_N_ELEMENTS (bytes); i += 4)
    {
      guint32 r = g_random_int ();

      memcpy (bytes + i, &r, 4);
    }
  id = g_base64_encode (bytes, sizeof bytes);
  id[22] = '\0';
  return id;
}

static void
invocation_fail (HubsRedisLifetimeManager *self,
                 const char               *id,
                 GError                   *error)
{
  Invocation *invocation;
  gpointer key;

  if (!g_hash_table_steal_extended (self->invocations, id, &key, (gpointer *) &invocation))
    {
      g_error_free (error);
      return;
    }
  g_task_return_error (invocation->task, error);
  invocation_free (invocation);
  g_free (key);
}

typedef struct
{
  HubsRedisLifetimeManager *self;
  char *id;
  char *connection_id;
} InvokePublish;

static void
invocation_published (gint64        receivers,
                      const GError *error,
                      gpointer      user_data)
{
  InvokePublish *publish = user_data;

  if (error != NULL)
    invocation_fail (publish->self, publish->id, g_error_copy (error));
  else if (receivers < 1)
    invocation_fail (publish->self, publish->id,
                     g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                  "Connection '%s' does not exist.", publish->connection_id));

  g_object_unref (publish->self);
  g_free (publish->id);
  g_free (publish->connection_id);
  g_free (publish);
}

typedef struct
{
  HubsRedisLifetimeManager *self;
  char *id;
} Cancelled;

static gboolean
cancelled_idle (gpointer user_data)
{
  Cancelled *cancelled = user_data;

  invocation_fail (cancelled->self, cancelled->id,
                   g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The operation was canceled."));
  g_object_unref (cancelled->self);
  g_free (cancelled->id);
  g_free (cancelled);
  return G_SOURCE_REMOVE;
}

static void
on_invocation_cancelled (GCancellable *cancellable,
                         gpointer      user_data)
{
  Cancelled *cancelled = user_data;
  Cancelled *copy = g_new0 (Cancelled, 1);

  /* Not from inside the cancellable's signal: that would deadlock in
   * g_cancellable_disconnect(). */
  copy->self = g_object_ref (cancelled->self);
  copy->id = g_strdup (cancelled->id);
  g_idle_add (cancelled_idle, copy);
}

static void
cancelled_free (gpointer data)
{
  Cancelled *cancelled = data;

  g_free (cancelled->id);
  g_free (cancelled);
}

static void
redis_invoke_async (HubsLifetimeManager *manager,
                    const char          *connection_id,
                    const char          *method,
                    guint                n_args,
                    const GValue        *args,
                    GType                result_type,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (manager);
  g_autoptr(HubsHubMessage) message = NULL;
  g_autoptr(HubsSerializedMessage) serialized = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autofree char *channel = NULL;
  Invocation *invocation;
  InvokePublish *publish;
  char *id;

  if (hubs_lifetime_manager_lookup_connection (self->local, connection_id) != NULL || self->backplane == NULL)
    {
      HUBS_LIFETIME_MANAGER_CLASS (hubs_redis_lifetime_manager_parent_class)->invoke_async (
        manager, connection_id, method, n_args, args, result_type, cancellable, callback, user_data);
      return;
    }

  id = generate_invocation_id ();
  invocation = g_new0 (Invocation, 1);
  invocation->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (invocation->task, redis_invoke_async);
  invocation->connection_id = g_strdup (connection_id);
  invocation->type.type = result_type == G_TYPE_INVALID || result_type == G_TYPE_NONE ? G_TYPE_VARIANT : result_type;
  g_hash_table_insert (self->invocations, id, invocation);
  if (cancellable != NULL)
    {
      Cancelled *cancelled = g_new0 (Cancelled, 1);

      cancelled->self = self;
      cancelled->id = g_strdup (id);
      invocation->cancellable = g_object_ref (cancellable);
      invocation->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_invocation_cancelled),
                                                        cancelled, cancelled_free);
    }

  message = hubs_hub_message_new_invocation (id, method, n_args, args);
  serialized = hubs_serialized_message_new (message);
  payload = write_invocation (serialized, NULL, id, self->return_channel);
  channel = channel_name (self, "connection", connection_id);

  publish = g_new0 (InvokePublish, 1);
  publish->self = g_object_ref (self);
  publish->id = g_strdup (id);
  publish->connection_id = g_strdup (connection_id);
  hubs_redis_backplane_publish (self->backplane, channel, payload, invocation_published, publish);
}

static void
on_return (const char   *channel,
           const guint8 *data,
           gsize         length,
           gpointer      user_data)
{
  HubsRedisLifetimeManager *self = user_data;
  g_autofree char *protocol_name = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(HubsHubMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  const HubsHubProtocol *protocol;
  Invocation *invocation;
  const guint8 *bytes;
  gsize size, consumed = 0;
  GValue *value;
  gpointer key;

  if (!hubs_redis_read_completion (data, length, &protocol_name, &frame, &error))
    {
      log_bad_payload (channel, error);
      return;
    }
  protocol = hubs_hub_protocol_lookup (protocol_name);
  if (protocol == NULL)
    {
      /* RedisLog.MismatchedServers */
      hubs_log_event (G_LOG_LEVEL_INFO, "MismatchedServers", NULL, NULL, NULL, HUBS_TRANSPORT_NONE,
                      "Server has a different list of protocols than this one: '%s' is unknown.", protocol_name);
      return;
    }

  bytes = g_bytes_get_data (frame, &size);
  message = protocol->parse_message (bytes, size, HUBS_REDIS_MAX_PAYLOAD, &consumed, &error);
  if (message == NULL || message->type != HUBS_MESSAGE_COMPLETION || message->invocation_id == NULL)
    {
      if (error != NULL)
        log_bad_payload (channel, error);
      return;
    }

  if (!g_hash_table_steal_extended (self->invocations, message->invocation_id, &key, (gpointer *) &invocation))
    return;

  value = hubs_client_result_bind (protocol, message, &invocation->type, &error);
  if (value != NULL)
    g_task_return_pointer (invocation->task, value, hubs_value_free);
  else
    g_task_return_error (invocation->task, g_steal_pointer (&error));
  invocation_free (invocation);
  g_free (key);
}

static gboolean
redis_take_completion (HubsLifetimeManager   *manager,
                       HubsConnectionContext *connection,
                       HubsHubMessage        *message,
                       const guint8          *frame,
                       gsize                  frame_length)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (manager);
  Forwarded *forwarded = g_hash_table_lookup (self->forwarded, message->invocation_id);

  if (forwarded == NULL ||
      !g_str_equal (forwarded->connection_id, hubs_connection_context_get_connection_id (connection)))
    return FALSE;

  forward_completion (self, forwarded->return_channel, hubs_connection_context_get_protocol (connection),
                      frame, frame_length);
  g_hash_table_remove (self->forwarded, message->invocation_id);
  return TRUE;
}

/* GObject */

static void
unsubscribe_all (HubsRedisLifetimeManager *self,
                 GHashTable               *table,
                 const char               *kind,
                 HubsRedisChannelFunc      func)
{
  GHashTableIter iter;
  const char *name;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    {
      g_autofree char *channel = channel_name (self, kind, name);

      hubs_redis_backplane_unsubscribe (self->backplane, channel, func, self);
    }
  g_hash_table_remove_all (table);
}

static void
hubs_redis_lifetime_manager_dispose (GObject *object)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (object);

  if (self->backplane != NULL)
    {
      GList *connections = hubs_object_list_ref (hubs_lifetime_manager_list_connections (self->local));
      GHashTableIter iter;
      gpointer value;

      for (GList *l = connections; l != NULL; l = l->next)
        {
          g_autofree char *channel =
            channel_name (self, "connection", hubs_connection_context_get_connection_id (l->data));

          hubs_redis_backplane_unsubscribe (self->backplane, channel, on_connection, self);
        }
      g_list_free_full (connections, g_object_unref);

      unsubscribe_all (self, self->groups, "group", on_group);
      unsubscribe_all (self, self->users, "user", on_user);
      hubs_redis_backplane_unsubscribe (self->backplane, self->all_channel, on_all, self);
      hubs_redis_backplane_unsubscribe (self->backplane, self->groups_channel, on_group_command, self);
      hubs_redis_backplane_unsubscribe (self->backplane, self->ack_channel, on_ack, self);
      hubs_redis_backplane_unsubscribe (self->backplane, self->return_channel, on_return, self);

      g_hash_table_iter_init (&iter, self->acks);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Ack *ack = value;

          g_task_return_new_error (ack->task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "A task was canceled.");
          g_hash_table_iter_remove (&iter);
        }
      g_hash_table_iter_init (&iter, self->invocations);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          Invocation *invocation = value;

          g_task_return_new_error (invocation->task, G_IO_ERROR, G_IO_ERROR_CLOSED,
                                   "Connection '%s' disconnected.", invocation->connection_id);
          g_hash_table_iter_remove (&iter);
        }
      g_clear_object (&self->backplane);
    }

  G_OBJECT_CLASS (hubs_redis_lifetime_manager_parent_class)->dispose (object);
}

static void
hubs_redis_lifetime_manager_finalize (GObject *object)
{
  HubsRedisLifetimeManager *self = HUBS_REDIS_LIFETIME_MANAGER (object);

  g_clear_object (&self->local);
  g_free (self->prefix);
  g_free (self->all_channel);
  g_free (self->groups_channel);
  g_free (self->ack_channel);
  g_free (self->return_channel);
  g_hash_table_unref (self->groups);
  g_hash_table_unref (self->memberships);
  g_hash_table_unref (self->users);
  g_hash_table_unref (self->acks);
  g_hash_table_unref (self->invocations);
  g_hash_table_unref (self->forwarded);

  G_OBJECT_CLASS (hubs_redis_lifetime_manager_parent_class)->finalize (object);
}

static void
hubs_redis_lifetime_manager_class_init (HubsRedisLifetimeManagerClass *klass)
{
  HubsLifetimeManagerClass *manager_class = HUBS_LIFETIME_MANAGER_CLASS (klass);
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_redis_lifetime_manager_dispose;
  object_class->finalize = hubs_redis_lifetime_manager_finalize;

  manager_class->on_connected = redis_on_connected;
  manager_class->on_disconnected = redis_on_disconnected;
  manager_class->send_async = redis_send_async;
  manager_class->send_finish = redis_send_finish;
  manager_class->group_async = redis_group_async;
  manager_class->group_finish = redis_group_finish;
  manager_class->lookup_connection = redis_lookup_connection;
  manager_class->get_n_connections = redis_get_n_connections;
  manager_class->list_connections = redis_list_connections;
  manager_class->invoke_async = redis_invoke_async;
  manager_class->take_completion = redis_take_completion;
}

static void
hubs_redis_lifetime_manager_init (HubsRedisLifetimeManager *self)
{
  self->local = hubs_memory_lifetime_manager_new ();
  self->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  self->memberships = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  self->users = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->acks = g_hash_table_new_full (NULL, NULL, NULL, ack_free);
  self->invocations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, invocation_free);
  self->forwarded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, forwarded_free);
}

HubsLifetimeManager *
hubs_redis_lifetime_manager_new (HubsRedisBackplane *backplane,
                                 const char         *hub_name)
{
  HubsRedisLifetimeManager *self = g_object_new (HUBS_TYPE_REDIS_LIFETIME_MANAGER, NULL);
  const char *channel_prefix = hubs_redis_backplane_get_channel_prefix (backplane);
  const char *server = hubs_redis_backplane_get_server_name (backplane);

  self->backplane = g_object_ref (backplane);
  self->prefix = g_strconcat (channel_prefix != NULL ? channel_prefix : "", hub_name, NULL);
  self->all_channel = g_strconcat (self->prefix, ":all", NULL);
  self->groups_channel = g_strconcat (self->prefix, ":internal:groups", NULL);
  self->ack_channel = g_strconcat (self->prefix, ":internal:ack:", server, NULL);
  self->return_channel = g_strconcat (self->prefix, ":internal:return:", server, NULL);

  hubs_redis_backplane_subscribe (backplane, self->all_channel, on_all, self, NULL, NULL);
  hubs_redis_backplane_subscribe (backplane, self->groups_channel, on_group_command, self, NULL, NULL);
  hubs_redis_backplane_subscribe (backplane, self->ack_channel, on_ack, self, NULL, NULL);
  hubs_redis_backplane_subscribe (backplane, self->return_channel, on_return, self, NULL, NULL);

  return HUBS_LIFETIME_MANAGER (self);
}
