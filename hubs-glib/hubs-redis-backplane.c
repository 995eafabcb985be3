/* hubs-redis-backplane.c: hubs scaled out across processes on Redis
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-redis-backplane.h"

#include <string.h>

#include "hubs-enums.h"
#include "hubs-log-private.h"
#include "redis/hubs-redis-connection-private.h"
#include "redis/hubs-redis-private.h"

/**
 * HubsRedisBackplane:
 *
 * A connection to Redis that several servers share, so that every target of
 * [class@Hubs.HubClients] reaches connections on any of them: ASP.NET
 * Core's Redis backplane (`Microsoft.AspNetCore.SignalR.StackExchangeRedis`),
 * with its exact channels and payloads, so that hubs-glib and ASP.NET Core
 * servers can share one Redis and one set of clients.
 *
 * Give it to a server with [method@Hubs.Server.set_redis_backplane] before
 * mapping hubs; the hubs mapped after that use it with no change to hub
 * code. Each hub is named in channels by
 * [property@Hubs.HubOptions:redis-hub-name] (by default its GType name; set
 * it to the .NET hub's full type name to share a hub with an ASP.NET Core
 * server).
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * g_autoptr(HubsRedisBackplane) backplane =
 *   hubs_redis_backplane_new ("127.0.0.1:6379", &error);
 *
 * hubs_server_set_redis_backplane (server, backplane);
 * hubs_server_map_hub (server, "/chat", CHAT_TYPE_HUB, NULL);
 * ```
 *
 * As with ASP.NET Core, clients need sticky sessions (or WebSockets with
 * negotiation skipped) when several servers stand behind one address.
 *
 * Connecting is asynchronous and starts when the first hub uses the
 * backplane; after a failure it connects again with a backoff (0.1 s
 * doubling up to 5 s) and subscribes to every channel again. While Redis is
 * away, sends still reach the connections of this server (delivered
 * directly instead of through Redis); what could not be published is
 * counted in [property@Hubs.RedisBackplane:n-failed-publishes], logged, and
 * the send fails. A publish that would queue more than
 * [property@Hubs.RedisBackplane:max-pending-bytes] for a slow Redis fails
 * the same way, so that memory stays bounded.
 *
 * Since: 0.1
 */

struct _HubsRedisBackplane
{
  GObject parent_instance;

  char *address;
  HubsRedisAddress parsed;
  char *password;
  int database;
  char *channel_prefix;
  guint ack_timeout;
  guint64 max_pending_bytes;
  char *server_name;

  HubsRedisConnection *commands;
  HubsRedisConnection *subscriber;
  HubsRedisState state;
  guint64 n_failed_publishes;
  gint32 last_id;

  GHashTable *handlers;         /* channel → GArray of Handler */
};

typedef struct
{
  HubsRedisChannelFunc func;
  gpointer data;
} Handler;

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PASSWORD,
  PROP_DATABASE,
  PROP_CHANNEL_PREFIX,
  PROP_ACK_TIMEOUT,
  PROP_MAX_PENDING_BYTES,
  PROP_STATE,
  PROP_N_FAILED_PUBLISHES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void hubs_redis_backplane_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HubsRedisBackplane, hubs_redis_backplane, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, hubs_redis_backplane_initable_iface_init))

static gboolean
parse_port (const char  *text,
            int         *port)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &value, NULL))
    return FALSE;
  *port = (int) value;
  return TRUE;
}

static gboolean
parse_address (const char        *address,
               HubsRedisAddress  *out,
               GError           **error)
{
  const char *colon;

  if (address == NULL || *address == '\0')
    goto bad;

  if (g_str_has_prefix (address, "unix:") || address[0] == '/')
    {
      const char *path = address[0] == '/' ? address : address + strlen ("unix:");

      if (!g_path_is_absolute (path))
        goto bad;
      out->unix_path = g_strdup (path);
      return TRUE;
    }

  out->port = 6379;
  if (address[0] == '[')
    {
      const char *end = strchr (address, ']');

      if (end == NULL || end == address + 1)
        goto bad;
      if (end[1] == ':' && !parse_port (end + 2, &out->port))
        goto bad;
      if (end[1] != '\0' && end[1] != ':')
        goto bad;
      out->host = g_strndup (address + 1, end - address - 1);
      return TRUE;
    }

  colon = strchr (address, ':');
  if (colon != NULL && strchr (colon + 1, ':') != NULL)
    goto bad;
  if (colon == address)
    goto bad;
  if (colon != NULL && !parse_port (colon + 1, &out->port))
    goto bad;
  out->host = colon != NULL ? g_strndup (address, colon - address) : g_strdup (address);
  return TRUE;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "“%s” is not a Redis address: expected host:port, host (port 6379), "
               "[IPv6 address]:port, unix:/path/to/redis.sock or an absolute socket path",
               address != NULL ? address : "");
  return FALSE;
}

static void
update_state (HubsRedisBackplane *self)
{
  HubsRedisState state;

  if (self->commands == NULL)
    state = HUBS_REDIS_STATE_DISCONNECTED;
  else if (hubs_redis_connection_is_ready (self->commands) && hubs_redis_connection_is_ready (self->subscriber))
    state = HUBS_REDIS_STATE_CONNECTED;
  else if (hubs_redis_connection_is_open (self->commands) && hubs_redis_connection_is_open (self->subscriber))
    state = HUBS_REDIS_STATE_CONNECTING;
  else
    state = HUBS_REDIS_STATE_DISCONNECTED;

  if (state == self->state)
    return;

  self->state = state;
  if (state == HUBS_REDIS_STATE_CONNECTED)
    hubs_log_event (G_LOG_LEVEL_INFO, "RedisConnected", NULL, NULL, NULL, HUBS_TRANSPORT_NONE,
                    "Connected to Redis at %s as %s.", self->address, self->server_name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
on_ready (HubsRedisConnection *connection,
          gboolean             ready,
          gpointer             user_data)
{
  update_state (user_data);
}

static gboolean
update_state_idle (gpointer user_data)
{
  update_state (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_message (const char   *channel,
            const guint8 *data,
            gsize         length,
            gpointer      user_data)
{
  HubsRedisBackplane *self = user_data;
  GArray *handlers = g_hash_table_lookup (self->handlers, channel);
  g_autoptr(GArray) copy = NULL;

  if (handlers == NULL)
    return;

  /* A handler may unsubscribe (a connection that leaves its last group). */
  copy = g_array_copy (handlers);
  g_object_ref (self);
  for (guint i = 0; i < copy->len; i++)
    {
      Handler *handler = &g_array_index (copy, Handler, i);

      handler->func (channel, data, length, handler->data);
    }
  g_object_unref (self);
}

static void
ensure_started (HubsRedisBackplane *self)
{
  if (self->commands != NULL)
    return;

  self->commands = hubs_redis_connection_new (&self->parsed, FALSE, self->password, self->database,
                                              on_ready, NULL, self);
  self->subscriber = hubs_redis_connection_new (&self->parsed, TRUE, self->password, self->database,
                                                on_ready, on_message, self);
  hubs_redis_connection_start (self->commands);
  hubs_redis_connection_start (self->subscriber);
  update_state (self);
  /* A socket that failed at once is waiting already: say so. */
  g_idle_add_full (G_PRIORITY_DEFAULT, update_state_idle, g_object_ref (self), g_object_unref);
}

/* Private API */

const char *
hubs_redis_backplane_get_server_name (HubsRedisBackplane *self)
{
  return self->server_name;
}

const char *
hubs_redis_backplane_get_channel_prefix (HubsRedisBackplane *self)
{
  return self->channel_prefix;
}

guint
hubs_redis_backplane_get_ack_timeout (HubsRedisBackplane *self)
{
  return self->ack_timeout;
}

guint64
hubs_redis_backplane_get_n_failed_publishes (HubsRedisBackplane *self)
{
  return self->n_failed_publishes;
}

gint32
hubs_redis_backplane_next_id (HubsRedisBackplane *self)
{
  if (self->last_id == G_MAXINT32)
    self->last_id = 0;
  return ++self->last_id;
}

void
hubs_redis_backplane_subscribe (HubsRedisBackplane   *self,
                                const char           *channel,
                                HubsRedisChannelFunc  func,
                                gpointer              user_data,
                                GSourceFunc           ready,
                                gpointer              ready_data)
{
  GArray *handlers = g_hash_table_lookup (self->handlers, channel);
  Handler handler = { func, user_data };

  ensure_started (self);

  if (handlers == NULL)
    {
      handlers = g_array_new (FALSE, FALSE, sizeof (Handler));
      g_hash_table_insert (self->handlers, g_strdup (channel), handlers);
    }
  g_array_append_val (handlers, handler);
  hubs_redis_connection_subscribe (self->subscriber, channel, ready, ready_data);
}

void
hubs_redis_backplane_when_subscribed (HubsRedisBackplane *self,
                                      const char         *channel,
                                      GSourceFunc         ready,
                                      gpointer            ready_data)
{
  if (self->subscriber == NULL || !g_hash_table_contains (self->handlers, channel))
    {
      ready (ready_data);
      return;
    }
  hubs_redis_connection_subscribe (self->subscriber, channel, ready, ready_data);
}

void
hubs_redis_backplane_unsubscribe (HubsRedisBackplane   *self,
                                  const char           *channel,
                                  HubsRedisChannelFunc  func,
                                  gpointer              user_data)
{
  GArray *handlers = g_hash_table_lookup (self->handlers, channel);

  if (handlers == NULL)
    return;

  for (guint i = 0; i < handlers->len; i++)
    {
      Handler *handler = &g_array_index (handlers, Handler, i);

      if (handler->func == func && handler->data == user_data)
        {
          g_array_remove_index (handlers, i);
          break;
        }
    }
  if (handlers->len == 0)
    {
      g_hash_table_remove (self->handlers, channel);
      hubs_redis_connection_unsubscribe (self->subscriber, channel);
    }
}

typedef struct
{
  HubsRedisBackplane *self;
  char *channel;
  HubsRedisPublishFunc done;
  gpointer data;
} Publish;

static void
publish_failed (HubsRedisBackplane   *self,
                const char           *channel,
                HubsRedisPublishFunc  done,
                gpointer              user_data,
                GError               *error)
{
  self->n_failed_publishes++;
  hubs_log_event (G_LOG_LEVEL_INFO, "RedisPublishFailed", NULL, NULL, NULL, HUBS_TRANSPORT_NONE,
                  "Publishing to channel '%s' failed: %s", channel, error->message);
  if (done != NULL)
    done (-1, error, user_data);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FAILED_PUBLISHES]);
  g_error_free (error);
}

static void
on_published (redisReply *reply,
              gpointer    user_data)
{
  Publish *publish = user_data;

  if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
    {
      if (publish->done != NULL)
        publish->done (reply->integer, NULL, publish->data);
    }
  else
    publish_failed (publish->self, publish->channel, publish->done, publish->data,
                    reply != NULL && reply->type == REDIS_REPLY_ERROR
                    ? g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "Redis answered: %s", reply->str)
                    : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                           "The connection to Redis ended before the message was published."));

  g_object_unref (publish->self);
  g_free (publish->channel);
  g_free (publish);
}

void
hubs_redis_backplane_publish (HubsRedisBackplane   *self,
                              const char           *channel,
                              GBytes               *payload,
                              HubsRedisPublishFunc  done,
                              gpointer              user_data)
{
  gsize size;
  const char *data = g_bytes_get_data (payload, &size);
  const char *argv[] = { "PUBLISH", channel, data != NULL ? data : "" };
  size_t argvlen[] = { 7, strlen (channel), size };
  Publish *publish;

  ensure_started (self);

  if (!hubs_redis_connection_is_open (self->commands))
    {
      publish_failed (self, channel, done, user_data,
                      g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                   "Not connected to Redis at %s.", self->address));
      return;
    }
  if (hubs_redis_connection_get_pending_bytes (self->commands) + size > self->max_pending_bytes)
    {
      publish_failed (self, channel, done, user_data,
                      g_error_new (G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                                   "More than %" G_GUINT64_FORMAT " bytes wait for Redis.",
                                   self->max_pending_bytes));
      return;
    }

  publish = g_new0 (Publish, 1);
  publish->self = g_object_ref (self);
  publish->channel = g_strdup (channel);
  publish->done = done;
  publish->data = user_data;
  if (!hubs_redis_connection_command (self->commands, on_published, publish, 3, argv, argvlen, size))
    {
      g_object_unref (self);
      g_free (publish->channel);
      g_free (publish);
      publish_failed (self, channel, done, user_data,
                      g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                   "Not connected to Redis at %s.", self->address));
    }
}

/* GObject */

static char *
generate_server_name (void)
{
  /* As GenerateServerName: the machine's name and a GUID without dashes. */
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *hex = NULL;
  char **parts = g_strsplit (uuid, "-", -1);

  hex = g_strjoinv ("", parts);
  g_strfreev (parts);
  return g_strdup_printf ("%s_%s", g_get_host_name (), hex);
}

static gboolean
hubs_redis_backplane_initable_init (GInitable     *initable,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  HubsRedisBackplane *self = HUBS_REDIS_BACKPLANE (initable);

  g_free (self->parsed.host);
  g_free (self->parsed.unix_path);
  memset (&self->parsed, 0, sizeof self->parsed);
  return parse_address (self->address, &self->parsed, error);
}

static void
hubs_redis_backplane_initable_iface_init (GInitableIface *iface)
{
  iface->init = hubs_redis_backplane_initable_init;
}

static void
hubs_redis_backplane_dispose (GObject *object)
{
  HubsRedisBackplane *self = HUBS_REDIS_BACKPLANE (object);

  g_clear_pointer (&self->subscriber, hubs_redis_connection_free);
  g_clear_pointer (&self->commands, hubs_redis_connection_free);

  G_OBJECT_CLASS (hubs_redis_backplane_parent_class)->dispose (object);
}

static void
hubs_redis_backplane_finalize (GObject *object)
{
  HubsRedisBackplane *self = HUBS_REDIS_BACKPLANE (object);

  g_free (self->address);
  g_free (self->parsed.host);
  g_free (self->parsed.unix_path);
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  g_free (self->channel_prefix);
  g_free (self->server_name);
  g_hash_table_unref (self->handlers);

  G_OBJECT_CLASS (hubs_redis_backplane_parent_class)->finalize (object);
}

static void
hubs_redis_backplane_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  HubsRedisBackplane *self = HUBS_REDIS_BACKPLANE (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_DATABASE:
      g_value_set_int (value, self->database);
      break;
    case PROP_CHANNEL_PREFIX:
      g_value_set_string (value, self->channel_prefix);
      break;
    case PROP_ACK_TIMEOUT:
      g_value_set_uint (value, self->ack_timeout);
      break;
    case PROP_MAX_PENDING_BYTES:
      g_value_set_uint64 (value, self->max_pending_bytes);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_N_FAILED_PUBLISHES:
      g_value_set_uint64 (value, self->n_failed_publishes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_redis_backplane_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  HubsRedisBackplane *self = HUBS_REDIS_BACKPLANE (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      self->address = g_value_dup_string (value);
      break;
    case PROP_PASSWORD:
      if (self->password != NULL)
        memset (self->password, 0, strlen (self->password));
      g_free (self->password);
      self->password = g_value_dup_string (value);
      break;
    case PROP_DATABASE:
      self->database = g_value_get_int (value);
      break;
    case PROP_CHANNEL_PREFIX:
      g_free (self->channel_prefix);
      self->channel_prefix = g_value_dup_string (value);
      break;
    case PROP_ACK_TIMEOUT:
      self->ack_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_PENDING_BYTES:
      self->max_pending_bytes = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_redis_backplane_class_init (HubsRedisBackplaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hubs_redis_backplane_dispose;
  object_class->finalize = hubs_redis_backplane_finalize;
  object_class->get_property = hubs_redis_backplane_get_property;
  object_class->set_property = hubs_redis_backplane_set_property;

  /**
   * HubsRedisBackplane:address:
   *
   * Where Redis listens: `host:port`, `host` (port 6379), `[::1]:port`,
   * `unix:/path/to/redis.sock` or an absolute socket path. A host name is
   * resolved (asynchronously) each time the backplane connects.
   *
   * Since: 0.1
   */
  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsRedisBackplane:password:
   *
   * The password for Redis's `AUTH`, or %NULL for none. Set it before the
   * first hub uses the backplane: it is read when connecting. It can only
   * be written, and is never logged.
   *
   * Since: 0.1
   */
  properties[PROP_PASSWORD] =
    g_param_spec_string ("password", NULL, NULL,
                         NULL,
                         G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsRedisBackplane:database:
   *
   * The database selected with `SELECT` for commands. Redis's channels
   * are shared by every database, as with ASP.NET Core.
   *
   * Since: 0.1
   */
  properties[PROP_DATABASE] =
    g_param_spec_int ("database", NULL, NULL,
                      0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsRedisBackplane:channel-prefix:
   *
   * Prepended verbatim to every channel name, as StackExchange.Redis's
   * `ChannelPrefix` (ASP.NET Core's `options.Configuration.ChannelPrefix`),
   * so that several applications can share one Redis. %NULL: none.
   *
   * Since: 0.1
   */
  properties[PROP_CHANNEL_PREFIX] =
    g_param_spec_string ("channel-prefix", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  /**
   * HubsRedisBackplane:ack-timeout:
   *
   * How long, in milliseconds, adding or removing a connection of another
   * server to a group waits for that server's acknowledgement before it
   * fails. ASP.NET Core's is 30 seconds.
   *
   * Since: 0.1
   */
  properties[PROP_ACK_TIMEOUT] =
    g_param_spec_uint ("ack-timeout", NULL, NULL,
                       1, G_MAXUINT, 30000,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * HubsRedisBackplane:max-pending-bytes:
   *
   * How many bytes of published messages may wait for Redis (written or
   * not, not yet answered). A publish beyond fails and is counted in
   * [property@Hubs.RedisBackplane:n-failed-publishes]: a slow Redis does
   * not grow the server's memory without bound.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_PENDING_BYTES] =
    g_param_spec_uint64 ("max-pending-bytes", NULL, NULL,
                         1, G_MAXUINT64, 16 * 1024 * 1024,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  /**
   * HubsRedisBackplane:state:
   *
   * Whether the backplane is connected to Redis.
   *
   * Since: 0.1
   */
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       HUBS_TYPE_REDIS_STATE, HUBS_REDIS_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * HubsRedisBackplane:n-failed-publishes:
   *
   * How many messages could not be published to Redis (not connected,
   * too many bytes waiting, or the connection ended first).
   *
   * Since: 0.1
   */
  properties[PROP_N_FAILED_PUBLISHES] =
    g_param_spec_uint64 ("n-failed-publishes", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hubs_redis_backplane_init (HubsRedisBackplane *self)
{
  self->server_name = generate_server_name ();
  self->handlers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
}

/**
 * hubs_redis_backplane_new:
 * @address: where Redis listens (see [property@Hubs.RedisBackplane:address])
 * @error: return location for an error
 *
 * Makes a backplane for the Redis at @address. It does not connect yet
 * and never blocks: it connects when the first hub uses it.
 *
 * Returns: (transfer full): the backplane, or %NULL with
 *   %G_IO_ERROR_INVALID_ARGUMENT when @address is not one
 *
 * Since: 0.1
 */
HubsRedisBackplane *
hubs_redis_backplane_new (const char  *address,
                          GError     **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (HUBS_TYPE_REDIS_BACKPLANE, NULL, error, "address", address, NULL);
}

/**
 * hubs_redis_backplane_get_state:
 * @self: a backplane
 *
 * Gets [property@Hubs.RedisBackplane:state].
 *
 * Returns: whether the backplane is connected
 *
 * Since: 0.1
 */
HubsRedisState
hubs_redis_backplane_get_state (HubsRedisBackplane *self)
{
  g_return_val_if_fail (HUBS_IS_REDIS_BACKPLANE (self), HUBS_REDIS_STATE_DISCONNECTED);

  return self->state;
}
