/* hubs-invocation.h
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

#define HUBS_TYPE_INVOCATION (hubs_invocation_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsInvocation, hubs_invocation, HUBS, INVOCATION, GObject)

HUBS_AVAILABLE_IN_ALL
const char        *hubs_invocation_get_method_name   (HubsInvocation *self);
HUBS_AVAILABLE_IN_ALL
const char        *hubs_invocation_get_invocation_id (HubsInvocation *self);
HUBS_AVAILABLE_IN_ALL
HubsHub           *hubs_invocation_get_hub           (HubsInvocation *self);
HUBS_AVAILABLE_IN_ALL
HubsCallerContext *hubs_invocation_get_context       (HubsInvocation *self);
HUBS_AVAILABLE_IN_ALL
GCancellable      *hubs_invocation_get_cancellable   (HubsInvocation *self);
HUBS_AVAILABLE_IN_ALL
gboolean           hubs_invocation_is_completed      (HubsInvocation *self);

HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_value         (HubsInvocation *self,
                                           const GValue   *value);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_void          (HubsInvocation *self);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_string        (HubsInvocation *self,
                                           const char     *value);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_int           (HubsInvocation *self,
                                           gint64          value);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_boolean       (HubsInvocation *self,
                                           gboolean        value);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_double        (HubsInvocation *self,
                                           double          value);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_variant       (HubsInvocation *self,
                                           GVariant       *value);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_error         (HubsInvocation *self,
                                           GQuark          domain,
                                           gint            code,
                                           const char     *format,
                                           ...) G_GNUC_PRINTF (4, 5);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_error_literal (HubsInvocation *self,
                                           GQuark          domain,
                                           gint            code,
                                           const char     *message);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_return_gerror        (HubsInvocation *self,
                                           const GError   *error);
HUBS_AVAILABLE_IN_ALL
void hubs_invocation_take_error           (HubsInvocation *self,
                                           GError         *error);

G_END_DECLS
