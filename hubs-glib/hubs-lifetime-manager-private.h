/* hubs-lifetime-manager-private.h: who is connected, in which groups, as
 * which user, and sending to them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Like ASP.NET Core's HubLifetimeManager: the in-memory implementation here
 * serves one process; the Redis one (redis/hubs-redis-lifetime-manager.c)
 * serves many with no change above it.
 */

#pragma once

#include <gio/gio.h>
#include "hubs-hub-protocol-private.h"

G_BEGIN_DECLS

typedef struct _HubsConnectionContext HubsConnectionContext;

typedef enum
{
  HUBS_TARGET_ALL,
  HUBS_TARGET_ALL_EXCEPT,
  HUBS_TARGET_CONNECTIONS,
  HUBS_TARGET_GROUPS,
  HUBS_TARGET_GROUP_EXCEPT,
  HUBS_TARGET_USERS,
} HubsTargetKind;

/* Who a message goes to. @names are connection ids, group names or user ids
 * by @kind; @excluded are connection ids. */
typedef struct
{
  HubsTargetKind kind;
  GStrv names;
  GStrv excluded;
} HubsTarget;

HubsTarget *hubs_target_new  (HubsTargetKind      kind,
                              const char * const *names,
                              const char * const *excluded);
void        hubs_target_free (HubsTarget         *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HubsTarget, hubs_target_free)

/* A message for many recipients, serialised at most once per protocol. */
typedef struct _HubsSerializedMessage HubsSerializedMessage;

HubsSerializedMessage *hubs_serialized_message_new   (HubsHubMessage        *message);
HubsSerializedMessage *hubs_serialized_message_ref   (HubsSerializedMessage *self);
void                   hubs_serialized_message_unref (HubsSerializedMessage *self);
HubsHubMessage        *hubs_serialized_message_get_message (HubsSerializedMessage *self);
GBytes                *hubs_serialized_message_get_bytes   (HubsSerializedMessage *self,
                                                            const HubsHubProtocol *protocol);
/* A message received already serialised (from another server): only the
 * protocols given here can be sent; get_bytes() is NULL for the others. */
HubsSerializedMessage *hubs_serialized_message_new_serialized (HubsMessageType  type);
void                   hubs_serialized_message_add_bytes      (HubsSerializedMessage *self,
                                                               const HubsHubProtocol *protocol,
                                                               GBytes                *bytes);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HubsSerializedMessage, hubs_serialized_message_unref)

#define HUBS_TYPE_LIFETIME_MANAGER (hubs_lifetime_manager_get_type ())
G_DECLARE_DERIVABLE_TYPE (HubsLifetimeManager, hubs_lifetime_manager, HUBS, LIFETIME_MANAGER, GObject)

struct _HubsLifetimeManagerClass
{
  GObjectClass parent_class;

  void     (*on_connected)      (HubsLifetimeManager   *self,
                                 HubsConnectionContext *connection);
  void     (*on_disconnected)   (HubsLifetimeManager   *self,
                                 HubsConnectionContext *connection);
  void     (*send_async)        (HubsLifetimeManager   *self,
                                 const HubsTarget      *target,
                                 HubsSerializedMessage *message,
                                 GCancellable          *cancellable,
                                 GAsyncReadyCallback    callback,
                                 gpointer               user_data);
  gboolean (*send_finish)       (HubsLifetimeManager   *self,
                                 GAsyncResult          *result,
                                 GError               **error);
  void     (*group_async)       (HubsLifetimeManager   *self,
                                 const char            *connection_id,
                                 const char            *group,
                                 gboolean               add,
                                 GCancellable          *cancellable,
                                 GAsyncReadyCallback    callback,
                                 gpointer               user_data);
  gboolean (*group_finish)      (HubsLifetimeManager   *self,
                                 GAsyncResult          *result,
                                 GError               **error);
  HubsConnectionContext *(*lookup_connection) (HubsLifetimeManager *self,
                                               const char          *connection_id);
  guint    (*get_n_connections) (HubsLifetimeManager  *self);
  GList   *(*list_connections)   (HubsLifetimeManager  *self);

  /* Client results: the default finds the connection here and invokes it
   * (hubs_connection_context_invoke_client_async()); the Redis manager
   * reaches connections of other servers. */
  void     (*invoke_async)      (HubsLifetimeManager   *self,
                                 const char            *connection_id,
                                 const char            *method,
                                 guint                  n_args,
                                 const GValue          *args,
                                 GType                  result_type,
                                 GCancellable          *cancellable,
                                 GAsyncReadyCallback    callback,
                                 gpointer               user_data);
  /* A Completion that @connection received for no invocation of its own:
   * TRUE if the manager took it (a client result another server waits
   * for). @frame is the message as received, framed; it is only valid
   * during the call. */
  gboolean (*take_completion)   (HubsLifetimeManager   *self,
                                 HubsConnectionContext *connection,
                                 HubsHubMessage        *message,
                                 const guint8          *frame,
                                 gsize                  frame_length);
};

HubsLifetimeManager *hubs_memory_lifetime_manager_new (void);

void                   hubs_lifetime_manager_on_connected    (HubsLifetimeManager   *self,
                                                              HubsConnectionContext *connection);
void                   hubs_lifetime_manager_on_disconnected (HubsLifetimeManager   *self,
                                                              HubsConnectionContext *connection);
void                   hubs_lifetime_manager_send_async      (HubsLifetimeManager   *self,
                                                              const HubsTarget      *target,
                                                              HubsSerializedMessage *message,
                                                              GCancellable          *cancellable,
                                                              GAsyncReadyCallback    callback,
                                                              gpointer               user_data);
gboolean               hubs_lifetime_manager_send_finish     (HubsLifetimeManager   *self,
                                                              GAsyncResult          *result,
                                                              GError               **error);
void                   hubs_lifetime_manager_group_async     (HubsLifetimeManager   *self,
                                                              const char            *connection_id,
                                                              const char            *group,
                                                              gboolean               add,
                                                              GCancellable          *cancellable,
                                                              GAsyncReadyCallback    callback,
                                                              gpointer               user_data);
gboolean               hubs_lifetime_manager_group_finish    (HubsLifetimeManager   *self,
                                                              GAsyncResult          *result,
                                                              GError               **error);
HubsConnectionContext *hubs_lifetime_manager_lookup_connection (HubsLifetimeManager *self,
                                                                const char          *connection_id);
guint                  hubs_lifetime_manager_get_n_connections (HubsLifetimeManager *self);
void                   hubs_lifetime_manager_invoke_async      (HubsLifetimeManager   *self,
                                                                const char            *connection_id,
                                                                const char            *method,
                                                                guint                  n_args,
                                                                const GValue          *args,
                                                                GType                  result_type,
                                                                GCancellable          *cancellable,
                                                                GAsyncReadyCallback    callback,
                                                                gpointer               user_data);
/* (transfer full): a GValue to unset and free, or NULL with @error */
GValue                *hubs_lifetime_manager_invoke_finish     (HubsLifetimeManager   *self,
                                                                GAsyncResult          *result,
                                                                GError               **error);
gboolean               hubs_lifetime_manager_take_completion   (HubsLifetimeManager   *self,
                                                                HubsConnectionContext *connection,
                                                                HubsHubMessage        *message,
                                                                const guint8          *frame,
                                                                gsize                  frame_length);
/* (transfer container) (element-type HubsConnectionContext) */
GList                 *hubs_lifetime_manager_list_connections  (HubsLifetimeManager *self);

/* Takes a reference on each object of @list, which it returns: lists of
 * connections are walked while sends may end connections. Free the result
 * with g_list_free_full (list, g_object_unref). */
static inline GList *
hubs_object_list_ref (GList *list)
{
  for (GList *l = list; l != NULL; l = l->next)
    g_object_ref (l->data);
  return list;
}

G_END_DECLS
