/* hubs-client-proxy.h
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

#define HUBS_TYPE_CLIENT_PROXY (hubs_client_proxy_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsClientProxy, hubs_client_proxy, HUBS, CLIENT_PROXY, GObject)

HUBS_AVAILABLE_IN_ALL
void     hubs_client_proxy_send             (HubsClientProxy     *self,
                                             const char          *method,
                                             GType                first_arg_type,
                                             ...);
HUBS_AVAILABLE_IN_ALL
void     hubs_client_proxy_send_values      (HubsClientProxy     *self,
                                             const char          *method,
                                             guint                n_args,
                                             const GValue        *args);
HUBS_AVAILABLE_IN_ALL
void     hubs_client_proxy_send_async       (HubsClientProxy     *self,
                                             const char          *method,
                                             guint                n_args,
                                             const GValue        *args,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
HUBS_AVAILABLE_IN_ALL
gboolean hubs_client_proxy_send_finish      (HubsClientProxy     *self,
                                             GAsyncResult        *result,
                                             GError             **error);
HUBS_AVAILABLE_IN_ALL
void     hubs_client_proxy_invoke_async     (HubsClientProxy     *self,
                                             const char          *method,
                                             guint                n_args,
                                             const GValue        *args,
                                             GType                result_type,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
HUBS_AVAILABLE_IN_ALL
gboolean hubs_client_proxy_invoke_finish    (HubsClientProxy     *self,
                                             GAsyncResult        *result,
                                             GValue              *value,
                                             GError             **error);

G_END_DECLS
