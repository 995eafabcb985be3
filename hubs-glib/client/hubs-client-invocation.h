/* hubs-client-invocation.h: a server's call of a client method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "../hubs-types.h"

G_BEGIN_DECLS

#define HUBS_TYPE_CLIENT_INVOCATION (hubs_client_invocation_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsClientInvocation, hubs_client_invocation, HUBS, CLIENT_INVOCATION, GObject)

HUBS_AVAILABLE_IN_ALL
const char   *hubs_client_invocation_get_method_name    (HubsClientInvocation *self);
HUBS_AVAILABLE_IN_ALL
const char   *hubs_client_invocation_get_invocation_id  (HubsClientInvocation *self);
HUBS_AVAILABLE_IN_ALL
gboolean      hubs_client_invocation_expects_result     (HubsClientInvocation *self);
HUBS_AVAILABLE_IN_ALL
guint         hubs_client_invocation_get_n_arguments    (HubsClientInvocation *self);
HUBS_AVAILABLE_IN_ALL
const GValue *hubs_client_invocation_get_argument       (HubsClientInvocation *self,
                                                         guint                 index);
HUBS_AVAILABLE_IN_ALL
const GValue *hubs_client_invocation_get_arguments      (HubsClientInvocation *self,
                                                         guint                *n_arguments);
HUBS_AVAILABLE_IN_ALL
void          hubs_client_invocation_return_value       (HubsClientInvocation *self,
                                                         const GValue         *value);
HUBS_AVAILABLE_IN_ALL
void          hubs_client_invocation_return_error_literal (HubsClientInvocation *self,
                                                         const char           *message);
HUBS_AVAILABLE_IN_ALL
void          hubs_client_invocation_return_gerror      (HubsClientInvocation *self,
                                                         const GError         *error);

G_END_DECLS
