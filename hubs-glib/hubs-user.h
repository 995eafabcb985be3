/* hubs-user.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (__HUBS_INSIDE__) && !defined (HUBS_COMPILATION)
#error "Only <hubs-glib/hubs.h> can be included directly."
#endif

#include <glib-object.h>
#include "hubs-types.h"

G_BEGIN_DECLS

/**
 * HUBS_CLAIM_TYPE_NAME_IDENTIFIER:
 *
 * The claim type of a user's unique identifier, as .NET names it. The default
 * user identifier of a connection is the value of this claim.
 */
#define HUBS_CLAIM_TYPE_NAME_IDENTIFIER "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"

/**
 * HUBS_CLAIM_TYPE_NAME:
 *
 * The claim type of a user's name, as .NET names it.
 */
#define HUBS_CLAIM_TYPE_NAME "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"

/**
 * HUBS_CLAIM_TYPE_ROLE:
 *
 * The claim type of a user's roles, as .NET names it.
 */
#define HUBS_CLAIM_TYPE_ROLE "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"

#define HUBS_TYPE_USER (hubs_user_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HubsUser, hubs_user, HUBS, USER, GObject)

HUBS_AVAILABLE_IN_ALL
HubsUser    *hubs_user_new                 (const char  *authentication_type);
HUBS_AVAILABLE_IN_ALL
const char  *hubs_user_get_authentication_type (HubsUser *self);
HUBS_AVAILABLE_IN_ALL
gboolean     hubs_user_is_authenticated    (HubsUser    *self);
HUBS_AVAILABLE_IN_ALL
void         hubs_user_add_claim           (HubsUser    *self,
                                            const char  *type,
                                            const char  *value);
HUBS_AVAILABLE_IN_ALL
const char  *hubs_user_find_first_claim    (HubsUser    *self,
                                            const char  *type);
HUBS_AVAILABLE_IN_ALL
gboolean     hubs_user_has_claim           (HubsUser    *self,
                                            const char  *type,
                                            const char  *value);
HUBS_AVAILABLE_IN_ALL
guint        hubs_user_get_n_claims        (HubsUser    *self);
HUBS_AVAILABLE_IN_ALL
const char  *hubs_user_get_claim_type      (HubsUser    *self,
                                            guint        index);
HUBS_AVAILABLE_IN_ALL
const char  *hubs_user_get_claim_value     (HubsUser    *self,
                                            guint        index);
HUBS_AVAILABLE_IN_ALL
const char  *hubs_user_get_name            (HubsUser    *self);
HUBS_AVAILABLE_IN_ALL
gboolean     hubs_user_is_in_role          (HubsUser    *self,
                                            const char  *role);
HUBS_AVAILABLE_IN_ALL
GDateTime   *hubs_user_get_expiration      (HubsUser    *self);
HUBS_AVAILABLE_IN_ALL
void         hubs_user_set_expiration      (HubsUser    *self,
                                            GDateTime   *expiration);

G_END_DECLS
