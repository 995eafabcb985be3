/* hubs-caller-context.h
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

#define HUBS_TYPE_CALLER_CONTEXT (hubs_caller_context_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsCallerContext, hubs_caller_context, HUBS, CALLER_CONTEXT, GObject)

HUBS_AVAILABLE_IN_ALL
const char        *hubs_caller_context_get_connection_id      (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
const char        *hubs_caller_context_get_user_identifier    (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
HubsUser          *hubs_caller_context_get_user               (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
GHashTable        *hubs_caller_context_get_items              (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
const GValue      *hubs_caller_context_get_item               (HubsCallerContext *self,
                                                               const char        *key);
HUBS_AVAILABLE_IN_ALL
void               hubs_caller_context_set_item               (HubsCallerContext *self,
                                                               const char        *key,
                                                               const GValue      *value);
HUBS_AVAILABLE_IN_ALL
GObject           *hubs_caller_context_get_feature            (HubsCallerContext *self,
                                                               GType              feature_type);
HUBS_AVAILABLE_IN_ALL
void               hubs_caller_context_set_feature            (HubsCallerContext *self,
                                                               GType              feature_type,
                                                               GObject           *feature);
HUBS_AVAILABLE_IN_ALL
GCancellable      *hubs_caller_context_get_connection_aborted (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
HubsHttpContext   *hubs_caller_context_get_http_context       (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
HubsTransportType  hubs_caller_context_get_transport          (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
const char        *hubs_caller_context_get_protocol           (HubsCallerContext *self);
HUBS_AVAILABLE_IN_ALL
void               hubs_caller_context_abort                  (HubsCallerContext *self);

G_END_DECLS
