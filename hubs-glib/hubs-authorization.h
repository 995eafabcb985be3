/* hubs-authorization.h: who may call a hub method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "hubs-types.h"
#include "hubs-hub.h"

G_BEGIN_DECLS

/**
 * HubsAuthorizationFunc:
 * @context: the caller's context: its user, connection and HTTP request
 * @method_name: the wire name of the method being called
 * @user_data: the data given with the function
 *
 * Decides whether the caller may call a hub method, as an ASP.NET Core
 * policy's `RequireAssertion`. It runs on the server's main context before
 * the method, and must answer at once.
 *
 * Returns: %TRUE to allow the call
 *
 * Since: 0.1
 */
typedef gboolean (*HubsAuthorizationFunc) (HubsCallerContext *context,
                                           const char        *method_name,
                                           gpointer           user_data);

#define HUBS_TYPE_AUTHORIZATION_POLICY (hubs_authorization_policy_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsAuthorizationPolicy, hubs_authorization_policy, HUBS, AUTHORIZATION_POLICY, GObject)

HUBS_AVAILABLE_IN_ALL
HubsAuthorizationPolicy *hubs_authorization_policy_new                        (void);
HUBS_AVAILABLE_IN_ALL
void                     hubs_authorization_policy_require_authenticated_user (HubsAuthorizationPolicy *self);
HUBS_AVAILABLE_IN_ALL
void                     hubs_authorization_policy_require_role               (HubsAuthorizationPolicy *self,
                                                                               const char * const      *roles);
HUBS_AVAILABLE_IN_ALL
void                     hubs_authorization_policy_require_claim              (HubsAuthorizationPolicy *self,
                                                                               const char              *claim_type,
                                                                               const char * const      *allowed_values);
HUBS_AVAILABLE_IN_ALL
void                     hubs_authorization_policy_require_assertion          (HubsAuthorizationPolicy *self,
                                                                               HubsAuthorizationFunc    func,
                                                                               gpointer                 user_data,
                                                                               GDestroyNotify           destroy);
HUBS_AVAILABLE_IN_ALL
gboolean                 hubs_authorization_policy_check                      (HubsAuthorizationPolicy *self,
                                                                               HubsCallerContext       *context,
                                                                               const char              *method_name);

HUBS_AVAILABLE_IN_ALL
void hubs_hub_class_add_authorization        (HubsHubClass            *klass,
                                              HubsAuthorizationPolicy *policy);
HUBS_AVAILABLE_IN_ALL
void hubs_hub_class_add_method_authorization (HubsHubClass            *klass,
                                              const char              *name,
                                              HubsAuthorizationPolicy *policy);

G_END_DECLS
