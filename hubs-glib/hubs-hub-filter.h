/* hubs-hub-filter.h: code that runs around hub methods and events
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <gio/gio.h>
#include "hubs-types.h"

G_BEGIN_DECLS

#define HUBS_TYPE_HUB_INVOCATION_CONTEXT (hubs_hub_invocation_context_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsHubInvocationContext, hubs_hub_invocation_context, HUBS, HUB_INVOCATION_CONTEXT, GObject)

#define HUBS_TYPE_HUB_LIFETIME_CONTEXT (hubs_hub_lifetime_context_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsHubLifetimeContext, hubs_hub_lifetime_context, HUBS, HUB_LIFETIME_CONTEXT, GObject)

#define HUBS_TYPE_HUB_FILTER (hubs_hub_filter_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (HubsHubFilter, hubs_hub_filter, HUBS, HUB_FILTER, GObject)

/**
 * HubsHubFilterInterface:
 * @g_iface: the parent interface
 * @invoke_method: runs around a hub method's invocation; completes @context
 *   with [method@Hubs.HubInvocationContext.invoke_next], with its own
 *   result, or with an error
 * @on_connected: runs around [vfunc@Hubs.Hub.on_connected]; calls
 *   [method@Hubs.HubLifetimeContext.next_connected] to go on
 * @on_disconnected: runs around [vfunc@Hubs.Hub.on_disconnected]; calls
 *   [method@Hubs.HubLifetimeContext.next_disconnected] to go on
 *
 * The virtual methods of a hub filter, SignalR's `IHubFilter`. Each has a
 * default that only calls the next filter (or the hub), so a filter
 * implements only the hooks it needs.
 *
 * Since: 0.1
 */
struct _HubsHubFilterInterface
{
  GTypeInterface g_iface;

  void     (*invoke_method)   (HubsHubFilter             *self,
                               HubsHubInvocationContext  *context);
  gboolean (*on_connected)    (HubsHubFilter             *self,
                               HubsHubLifetimeContext    *context,
                               GError                   **error);
  void     (*on_disconnected) (HubsHubFilter             *self,
                               HubsHubLifetimeContext    *context,
                               const GError              *error);

  /*< private >*/
  gpointer padding[8];
};

HUBS_AVAILABLE_IN_ALL
void     hubs_hub_filter_invoke_method   (HubsHubFilter            *self,
                                          HubsHubInvocationContext *context);
HUBS_AVAILABLE_IN_ALL
gboolean hubs_hub_filter_on_connected    (HubsHubFilter            *self,
                                          HubsHubLifetimeContext   *context,
                                          GError                  **error);
HUBS_AVAILABLE_IN_ALL
void     hubs_hub_filter_on_disconnected (HubsHubFilter            *self,
                                          HubsHubLifetimeContext   *context,
                                          const GError             *error);

HUBS_AVAILABLE_IN_ALL
HubsHub           *hubs_hub_invocation_context_get_hub         (HubsHubInvocationContext *self);
HUBS_AVAILABLE_IN_ALL
HubsCallerContext *hubs_hub_invocation_context_get_context     (HubsHubInvocationContext *self);
HUBS_AVAILABLE_IN_ALL
const char        *hubs_hub_invocation_context_get_method_name (HubsHubInvocationContext *self);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_hub_invocation_context_is_streaming    (HubsHubInvocationContext *self);
HUBS_AVAILABLE_IN_ALL
GCancellable      *hubs_hub_invocation_context_get_cancellable (HubsHubInvocationContext *self);
HUBS_AVAILABLE_IN_ALL
guint              hubs_hub_invocation_context_get_n_arguments (HubsHubInvocationContext *self);
HUBS_AVAILABLE_IN_ALL
const GValue      *hubs_hub_invocation_context_get_argument    (HubsHubInvocationContext *self,
                                                                guint                     index);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_invocation_context_set_argument    (HubsHubInvocationContext *self,
                                                                guint                     index,
                                                                const GValue             *value);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_hub_invocation_context_is_completed    (HubsHubInvocationContext *self);

HUBS_AVAILABLE_IN_ALL
void     hubs_hub_invocation_context_invoke_next        (HubsHubInvocationContext  *self);
HUBS_AVAILABLE_IN_ALL
void     hubs_hub_invocation_context_invoke_next_async  (HubsHubInvocationContext  *self,
                                                         GAsyncReadyCallback        callback,
                                                         gpointer                   user_data);
HUBS_AVAILABLE_IN_ALL
gboolean hubs_hub_invocation_context_invoke_next_finish (HubsHubInvocationContext  *self,
                                                         GAsyncResult              *result,
                                                         GValue                    *value,
                                                         GError                   **error);
HUBS_AVAILABLE_IN_ALL
void     hubs_hub_invocation_context_return_value       (HubsHubInvocationContext  *self,
                                                         const GValue              *value);
HUBS_AVAILABLE_IN_ALL
void     hubs_hub_invocation_context_return_gerror      (HubsHubInvocationContext  *self,
                                                         const GError              *error);
HUBS_AVAILABLE_IN_ALL
void     hubs_hub_invocation_context_return_error_literal (HubsHubInvocationContext *self,
                                                         GQuark                     domain,
                                                         gint                       code,
                                                         const char                *message);

HUBS_AVAILABLE_IN_ALL
HubsHub           *hubs_hub_lifetime_context_get_hub         (HubsHubLifetimeContext  *self);
HUBS_AVAILABLE_IN_ALL
HubsCallerContext *hubs_hub_lifetime_context_get_context     (HubsHubLifetimeContext  *self);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_hub_lifetime_context_next_connected  (HubsHubLifetimeContext  *self,
                                                              GError                 **error);
HUBS_AVAILABLE_IN_ALL
const GError      *hubs_hub_lifetime_context_get_error       (HubsHubLifetimeContext  *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_hub_lifetime_context_next_disconnected (HubsHubLifetimeContext *self);

G_END_DECLS
