/* hubs-redis-connection.c: one connection to Redis on the main context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-redis-connection-private.h"

#include <string.h>
#include <gio/gio.h>
#include <hiredis/async.h>
#include <hiredis/adapters/glib.h>

#include "hubs-log-private.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

typedef struct
{
  gboolean confirmed;
  GArray *waiters;              /* Waiter */
} Channel;

typedef struct
{
  GSourceFunc func;
  gpointer data;
} Waiter;

struct _HubsRedisConnection
{
  HubsRedisAddress address;
  gboolean subscriber;
  char *password;
  int database;

  HubsRedisReadyFunc ready_func;
  HubsRedisMessageFunc message_func;
  gpointer user_data;

  redisAsyncContext *ac;
  GSource *source;
  gboolean ready;
  gboolean handshaken;          /* the socket is usable */
  gboolean started;
  guint reconnect_id;
  guint backoff_ms;
  GCancellable *resolving;      /* a host name being resolved */

  guint64 pending_bytes;
  GHashTable *channels;         /* channel → Channel */
};

/* A command waiting for its reply. Holds no pointer to the connection
 * object's memory beyond its life: the connection frees its context, and so
 * runs every pending callback, before it frees itself. */
typedef struct
{
  HubsRedisConnection *connection;
  HubsRedisReplyFunc func;
  gpointer data;
  gsize payload_size;
} Pending;

static void connect_now (HubsRedisConnection *self);

static void
channel_free (gpointer data)
{
  Channel *channel = data;

  g_array_unref (channel->waiters);
  g_free (channel);
}

static void
run_waiters (Channel *channel)
{
  g_autoptr(GArray) waiters = channel->waiters;

  channel->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
  for (guint i = 0; i < waiters->len; i++)
    {
      Waiter *waiter = &g_array_index (waiters, Waiter, i);

      waiter->func (waiter->data);
    }
}

/* The owner recomputes its state: ready, connecting or not. */
static void
changed (HubsRedisConnection *self)
{
  if (self->ready_func != NULL)
    self->ready_func (self, self->ready, self->user_data);
}

static void
set_ready (HubsRedisConnection *self,
           gboolean             ready)
{
  if (self->ready == ready)
    return;
  self->ready = ready;
  if (ready)
    self->backoff_ms = 0;
  changed (self);
}

static gboolean
reconnect_cb (gpointer user_data)
{
  HubsRedisConnection *self = user_data;

  self->reconnect_id = 0;
  connect_now (self);
  return G_SOURCE_REMOVE;
}

/* The context is gone (hiredis frees it after this): wait, then again. */
static void
lost (HubsRedisConnection *self,
      const char          *reason)
{
  GHashTableIter iter;
  gpointer value;
  guint delay;

  /* hiredis frees the context after this, and its cleanup destroys the
   * source (source_cleanup()). */
  self->source = NULL;
  self->ac = NULL;
  self->handshaken = FALSE;

  /* Waiters are not held back by an outage: local delivery goes on. */
  g_hash_table_iter_init (&iter, self->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Channel *channel = value;

      channel->confirmed = FALSE;
      run_waiters (channel);
    }

  self->backoff_ms = self->backoff_ms == 0 ? BACKOFF_MIN_MS : MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
  /* Jitter, so that servers restarted together do not reconnect together. */
  delay = self->backoff_ms / 2 + g_random_int_range (0, self->backoff_ms / 2 + 1);

  hubs_log_event (G_LOG_LEVEL_INFO, "RedisConnectionLost", NULL, NULL, NULL, HUBS_TRANSPORT_NONE,
                  "The %s connection to Redis ended (%s); connecting again in %u ms.",
                  self->subscriber ? "subscriber" : "command", reason, delay);

  self->reconnect_id = g_timeout_add (delay, reconnect_cb, self);
  if (self->ready)
    set_ready (self, FALSE);
  else
    changed (self);
}

static void
on_connect (const redisAsyncContext *ac,
            int                      status)
{
  HubsRedisConnection *self = ac->data;

  if (self == NULL)
    return;
  if (status != REDIS_OK)
    lost (self, ac->errstr);
}

static void
on_disconnect (const redisAsyncContext *ac,
               int                      status)
{
  HubsRedisConnection *self = ac->data;

  if (self == NULL)
    return;
  lost (self, status == REDIS_OK ? "closed" : ac->errstr);
}

static void
on_reply (redisAsyncContext *ac,
          void              *r,
          void              *privdata)
{
  Pending *pending = privdata;

  pending->connection->pending_bytes -= pending->payload_size;
  if (pending->func != NULL)
    pending->func (r, pending->data);
  g_free (pending);
}

static void
send_subscribe (HubsRedisConnection *self,
                const char          *channel);

/* The first reply on a new socket: AUTH, SELECT or PING. */
static void
on_handshake (redisReply *reply,
              gpointer    user_data)
{
  HubsRedisConnection *self = user_data;

  if (reply == NULL)
    return;
  if (reply->type == REDIS_REPLY_ERROR)
    {
      /* The text is Redis's: it never contains the password. */
      hubs_log_event (G_LOG_LEVEL_INFO, "RedisHandshakeFailed", NULL, NULL, NULL, HUBS_TRANSPORT_NONE,
                      "Redis refused the connection: %s", reply->str);
      /* Disconnecting runs lost() through on_disconnect. */
      redisAsyncDisconnect (self->ac);
      return;
    }

  self->handshaken = TRUE;
  if (self->subscriber && g_hash_table_size (self->channels) > 0)
    {
      GHashTableIter iter;
      const char *name;

      /* Ready once Redis confirmed them all: until then a message published
       * through the other connection could pass the subscription. */
      g_hash_table_iter_init (&iter, self->channels);
      while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
        send_subscribe (self, name);
      return;
    }
  set_ready (self, TRUE);
}

/* Commands while the socket connects: they are written once it is. */
static gboolean
queue_command (HubsRedisConnection *self,
               HubsRedisReplyFunc   func,
               gpointer             data,
               int                  argc,
               const char         **argv,
               const size_t        *argvlen,
               gsize                payload_size)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->connection = self;
  pending->func = func;
  pending->data = data;
  pending->payload_size = payload_size;
  if (redisAsyncCommandArgv (self->ac, on_reply, pending, argc, argv, argvlen) != REDIS_OK)
    {
      g_free (pending);
      return FALSE;
    }
  self->pending_bytes += payload_size;
  return TRUE;
}

static void
send_handshake (HubsRedisConnection *self)
{
  if (self->password != NULL)
    {
      const char *argv[] = { "AUTH", self->password };
      size_t argvlen[] = { 4, strlen (self->password) };

      /* Only the last handshake reply says ready; an error on AUTH comes
       * first and disconnects. */
      queue_command (self, self->subscriber || self->database == 0 ? on_handshake : NULL, self,
                     2, argv, argvlen, 0);
      if (self->subscriber || self->database == 0)
        return;
    }
  if (!self->subscriber && self->database != 0)
    {
      g_autofree char *db = g_strdup_printf ("%d", self->database);
      const char *argv[] = { "SELECT", db };
      size_t argvlen[] = { 6, strlen (db) };

      queue_command (self, on_handshake, self, 2, argv, argvlen, 0);
      return;
    }
  {
    const char *argv[] = { "PING" };
    size_t argvlen[] = { 4 };

    queue_command (self, on_handshake, self, 1, argv, argvlen, 0);
  }
}

/* Whenever hiredis frees a context (after its connect or disconnect
 * callback, or in redisAsyncFree()), the source goes with it. hiredis's GLib
 * adapter goes on to the read handler after the write handler even when
 * that one freed the context: no events are left for it. */
static void
source_cleanup (gpointer data)
{
  RedisSource *source = data;

  redis_source_cleanup (data);
  source->poll_fd.revents = 0;
  g_source_destroy (data);
}

static void
connect_to (HubsRedisConnection *self,
            const char          *ip)
{
  redisAsyncContext *ac;

  if (self->address.unix_path != NULL)
    ac = redisAsyncConnectUnix (self->address.unix_path);
  else
    ac = redisAsyncConnect (ip, self->address.port);

  if (ac == NULL)
    {
      lost (self, "out of memory");
      return;
    }
  if (ac->err)
    {
      g_autofree char *reason = g_strdup (ac->errstr);

      redisAsyncFree (ac);
      lost (self, reason);
      return;
    }

  ac->data = self;
  self->ac = ac;
  self->source = redis_source_new (ac);
  ac->ev.cleanup = source_cleanup;
  g_source_set_name (self->source, "[hubs-glib] Redis");
  g_source_attach (self->source, g_main_context_get_thread_default ());
  g_source_unref (self->source);
  redisAsyncSetConnectCallback (ac, on_connect);
  redisAsyncSetDisconnectCallback (ac, on_disconnect);

  send_handshake (self);
  changed (self);
}

static void
resolved (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  HubsRedisConnection *self = user_data;
  g_autoptr(GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);
  g_autofree char *ip = NULL;

  /* Cancelled: the connection is freed already. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->resolving);
  if (addresses == NULL)
    {
      lost (self, error->message);
      return;
    }
  /* IPv4 first, as hiredis's own resolution does. */
  for (GList *l = addresses; l != NULL && ip == NULL; l = l->next)
    if (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV4)
      ip = g_inet_address_to_string (l->data);
  if (ip == NULL)
    ip = g_inet_address_to_string (addresses->data);
  g_resolver_free_addresses (addresses);
  connect_to (self, ip);
}

/* hiredis would resolve a host name synchronously: GResolver does it
 * without blocking the main context. */
static void
connect_now (HubsRedisConnection *self)
{
  g_autoptr(GResolver) resolver = NULL;

  if (self->address.unix_path != NULL || g_hostname_is_ip_address (self->address.host))
    {
      connect_to (self, self->address.host);
      return;
    }

  resolver = g_resolver_get_default ();
  self->resolving = g_cancellable_new ();
  g_resolver_lookup_by_name_async (resolver, self->address.host, self->resolving, resolved, self);
}

HubsRedisConnection *
hubs_redis_connection_new (const HubsRedisAddress *address,
                           gboolean                subscriber,
                           const char             *password,
                           int                     database,
                           HubsRedisReadyFunc      ready_func,
                           HubsRedisMessageFunc    message_func,
                           gpointer                user_data)
{
  HubsRedisConnection *self = g_new0 (HubsRedisConnection, 1);

  self->address.host = g_strdup (address->host);
  self->address.port = address->port;
  self->address.unix_path = g_strdup (address->unix_path);
  self->subscriber = subscriber;
  self->password = g_strdup (password);
  self->database = database;
  self->ready_func = ready_func;
  self->message_func = message_func;
  self->user_data = user_data;
  self->channels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, channel_free);

  return self;
}

void
hubs_redis_connection_start (HubsRedisConnection *self)
{
  if (self->started)
    return;
  self->started = TRUE;
  connect_now (self);
}

void
hubs_redis_connection_free (HubsRedisConnection *self)
{
  GHashTableIter iter;
  gpointer value;

  self->ready_func = NULL;
  self->message_func = NULL;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->resolving != NULL)
    {
      g_cancellable_cancel (self->resolving);
      g_clear_object (&self->resolving);
    }
  if (self->ac != NULL)
    {
      redisAsyncContext *ac = g_steal_pointer (&self->ac);

      ac->data = NULL;
      redisAsyncFree (ac);
    }
  self->source = NULL;

  g_hash_table_iter_init (&iter, self->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    run_waiters (value);
  g_hash_table_unref (self->channels);

  /* memset() of NULL is undefined even for 0 bytes (UBSan says so) */
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  g_free (self->address.host);
  g_free (self->address.unix_path);
  g_free (self);
}

gboolean
hubs_redis_connection_is_ready (HubsRedisConnection *self)
{
  return self->ready;
}

gboolean
hubs_redis_connection_is_open (HubsRedisConnection *self)
{
  return self->ac != NULL;
}

gboolean
hubs_redis_connection_command (HubsRedisConnection *self,
                               HubsRedisReplyFunc   reply_func,
                               gpointer             user_data,
                               int                  argc,
                               const char         **argv,
                               const size_t        *argvlen,
                               gsize                payload_size)
{
  g_return_val_if_fail (!self->subscriber, FALSE);

  if (self->ac == NULL)
    return FALSE;
  return queue_command (self, reply_func, user_data, argc, argv, argvlen, payload_size);
}

guint64
hubs_redis_connection_get_pending_bytes (HubsRedisConnection *self)
{
  return self->pending_bytes;
}

/* Subscriptions */

static void
on_subscription (redisAsyncContext *ac,
                 void              *r,
                 void              *privdata)
{
  HubsRedisConnection *self = privdata;
  redisReply *reply = r;
  g_autofree char *name = NULL;
  Channel *channel;

  if (reply == NULL || ac->data == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_STRING)
    return;

  name = g_strndup (reply->element[1]->str, reply->element[1]->len);
  channel = g_hash_table_lookup (self->channels, name);

  if (g_ascii_strcasecmp (reply->element[0]->str, "message") == 0)
    {
      if (channel != NULL && self->message_func != NULL && reply->element[2]->type == REDIS_REPLY_STRING)
        self->message_func (name, (const guint8 *) reply->element[2]->str, reply->element[2]->len,
                            self->user_data);
    }
  else if (g_ascii_strcasecmp (reply->element[0]->str, "subscribe") == 0)
    {
      if (channel != NULL)
        {
          channel->confirmed = TRUE;
          run_waiters (channel);
        }
      if (!self->ready && hubs_redis_connection_get_n_confirmed (self) == g_hash_table_size (self->channels))
        set_ready (self, TRUE);
    }
  else if (g_ascii_strcasecmp (reply->element[0]->str, "unsubscribe") == 0)
    {
      /* hiredis dropped its callback for the channel on this reply: a
       * subscription asked for again since must be sent again. */
      if (channel != NULL)
        send_subscribe (self, name);
    }
}

static void
send_subscribe (HubsRedisConnection *self,
                const char          *channel)
{
  const char *argv[] = { "SUBSCRIBE", channel };
  size_t argvlen[] = { 9, strlen (channel) };

  redisAsyncCommandArgv (self->ac, on_subscription, self, 2, argv, argvlen);
}

void
hubs_redis_connection_subscribe (HubsRedisConnection *self,
                                 const char          *name,
                                 GSourceFunc          ready_func,
                                 gpointer             ready_data)
{
  Channel *channel = g_hash_table_lookup (self->channels, name);
  Waiter waiter = { ready_func, ready_data };

  g_return_if_fail (self->subscriber);

  if (channel == NULL)
    {
      channel = g_new0 (Channel, 1);
      channel->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
      g_hash_table_insert (self->channels, g_strdup (name), channel);
      if (self->handshaken)
        send_subscribe (self, name);
    }

  if (ready_func == NULL)
    return;
  /* Between two attempts (an outage), a subscription does not hold its
   * waiters back: local delivery goes on. While an attempt is under way
   * (the first, as the server starts, above all) they wait for Redis to
   * confirm the subscription, or for the attempt to fail (lost() runs
   * them): a group joined then would otherwise miss what is published to
   * it before the socket is up. */
  if (channel->confirmed || (self->ac == NULL && self->resolving == NULL))
    ready_func (ready_data);
  else
    g_array_append_val (channel->waiters, waiter);
}

void
hubs_redis_connection_unsubscribe (HubsRedisConnection *self,
                                   const char          *name)
{
  Channel *channel = g_hash_table_lookup (self->channels, name);
  const char *argv[] = { "UNSUBSCRIBE", name };
  size_t argvlen[] = { 11, strlen (name) };

  if (channel == NULL)
    return;

  run_waiters (channel);
  g_hash_table_remove (self->channels, name);
  /* Never down to no subscription at all: hiredis 0.14 leaves subscriber
   * mode when Redis counts none, and would then trip on the confirmation
   * of a subscription sent meanwhile. The last channel goes with the
   * connection instead. */
  if (self->handshaken && g_hash_table_size (self->channels) > 0)
    redisAsyncCommandArgv (self->ac, NULL, NULL, 2, argv, argvlen);
}

guint
hubs_redis_connection_get_n_confirmed (HubsRedisConnection *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->channels);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += ((Channel *) value)->confirmed;
  return n;
}
