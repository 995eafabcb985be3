/* hubs-user.c: the user of a connection, as claims
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "hubs-user.h"

/**
 * HubsUser:
 *
 * The user behind a connection: how it was authenticated and what is
 * claimed about it, like .NET's `ClaimsPrincipal` with one identity.
 *
 * A claim is a (type, value) pair of strings. Claims keep the order in which
 * they were added and a type may occur several times (a user in two roles
 * has two [const@Hubs.CLAIM_TYPE_ROLE] claims). The types .NET uses for a
 * user's identifier, name and roles are [const@Hubs.CLAIM_TYPE_NAME_IDENTIFIER],
 * [const@Hubs.CLAIM_TYPE_NAME] and [const@Hubs.CLAIM_TYPE_ROLE].
 *
 * A user made with a %NULL or empty authentication type is anonymous:
 * [method@Hubs.User.is_authenticated] returns %FALSE for it, whatever its
 * claims, as `ClaimsIdentity.IsAuthenticated` does.
 *
 * Users are usually made by the server's authentication handler
 * ([callback@Hubs.AuthenticateFunc]):
 *
 * ```c
 * static HubsUser *
 * authenticate (HubsServer       *server,
 *               HubsHttpContext  *request,
 *               const char       *access_token,
 *               GError          **error,
 *               gpointer          user_data)
 * {
 *   g_autoptr (HubsUser) user = NULL;
 *
 *   if (access_token == NULL)
 *     return NULL;  // anonymous
 *
 *   if (!check_token (access_token))
 *     {
 *       g_set_error_literal (error, HUBS_ERROR, HUBS_ERROR_UNAUTHORIZED,
 *                            "Invalid token");
 *       return NULL;
 *     }
 *
 *   user = hubs_user_new ("Bearer");
 *   hubs_user_add_claim (user, HUBS_CLAIM_TYPE_NAME_IDENTIFIER, token_subject (access_token));
 *   hubs_user_add_claim (user, HUBS_CLAIM_TYPE_ROLE, "admin");
 *   return g_steal_pointer (&user);
 * }
 * ```
 *
 * A user belongs to the server's main context and is not locked: add claims
 * from that context only.
 *
 * Since: 0.1
 */

struct _HubsUser
{
  GObject parent_instance;

  char *authentication_type;
  /* Two parallel arrays of owned strings: claim i is (types[i], values[i]). */
  GPtrArray *claim_types;
  GPtrArray *claim_values;
  GDateTime *expiration;
};

G_DEFINE_FINAL_TYPE (HubsUser, hubs_user, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_AUTHENTICATION_TYPE,
  PROP_NAME,
  PROP_EXPIRATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
hubs_user_finalize (GObject *object)
{
  HubsUser *self = HUBS_USER (object);

  g_clear_pointer (&self->authentication_type, g_free);
  g_clear_pointer (&self->claim_types, g_ptr_array_unref);
  g_clear_pointer (&self->claim_values, g_ptr_array_unref);
  g_clear_pointer (&self->expiration, g_date_time_unref);

  G_OBJECT_CLASS (hubs_user_parent_class)->finalize (object);
}

static void
hubs_user_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  HubsUser *self = HUBS_USER (object);

  switch (prop_id)
    {
    case PROP_AUTHENTICATION_TYPE:
      g_value_set_string (value, self->authentication_type);
      break;

    case PROP_NAME:
      g_value_set_string (value, hubs_user_get_name (self));
      break;

    case PROP_EXPIRATION:
      g_value_set_boxed (value, self->expiration);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_user_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  HubsUser *self = HUBS_USER (object);

  switch (prop_id)
    {
    case PROP_AUTHENTICATION_TYPE:
      self->authentication_type = g_value_dup_string (value);
      break;

    case PROP_EXPIRATION:
      hubs_user_set_expiration (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hubs_user_class_init (HubsUserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hubs_user_finalize;
  object_class->get_property = hubs_user_get_property;
  object_class->set_property = hubs_user_set_property;

  /**
   * HubsUser:authentication-type: (getter get_authentication_type)
   *
   * How the user was authenticated (for instance `Bearer`, `Cookies`), as
   * .NET's `ClaimsIdentity.AuthenticationType`; %NULL for an anonymous user.
   *
   * A user is authenticated when this is neither %NULL nor empty.
   *
   * Since: 0.1
   */
  properties[PROP_AUTHENTICATION_TYPE] =
    g_param_spec_string ("authentication-type", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsUser:name: (getter get_name)
   *
   * The value of the user's first [const@Hubs.CLAIM_TYPE_NAME] claim, or
   * %NULL when it has none, as .NET's `ClaimsIdentity.Name`.
   *
   * It is notified when the first such claim is added.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * HubsUser:expiration: (getter get_expiration) (setter set_expiration)
   *
   * When the user's authentication expires (a token's `exp`), or %NULL
   * when it does not, as the `ExpiresUtc` of an ASP.NET Core
   * authentication result. A hub whose
   * [property@Hubs.HubOptions:close-on-authentication-expiration] is set
   * closes the connections of a user once this time has passed.
   *
   * Since: 0.1
   */
  properties[PROP_EXPIRATION] =
    g_param_spec_boxed ("expiration", NULL, NULL,
                        G_TYPE_DATE_TIME,
                        G_PARAM_READWRITE |
                        G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hubs_user_init (HubsUser *self)
{
  self->claim_types = g_ptr_array_new_with_free_func (g_free);
  self->claim_values = g_ptr_array_new_with_free_func (g_free);
}

/**
 * hubs_user_new:
 * @authentication_type: (nullable): how the user was authenticated, or
 *   %NULL for an anonymous user
 *
 * Creates a user without claims.
 *
 * Returns: (transfer full): a new user
 *
 * Since: 0.1
 */
HubsUser *
hubs_user_new (const char *authentication_type)
{
  return g_object_new (HUBS_TYPE_USER,
                       "authentication-type", authentication_type,
                       NULL);
}

/**
 * hubs_user_get_authentication_type: (get-property authentication-type)
 * @self: a user
 *
 * Gets how the user was authenticated.
 *
 * Returns: (nullable): the authentication type, or %NULL for an anonymous
 *   user
 *
 * Since: 0.1
 */
const char *
hubs_user_get_authentication_type (HubsUser *self)
{
  g_return_val_if_fail (HUBS_IS_USER (self), NULL);

  return self->authentication_type;
}

/**
 * hubs_user_is_authenticated:
 * @self: a user
 *
 * Whether the user was authenticated: whether its
 * [property@Hubs.User:authentication-type] is neither %NULL nor empty, as
 * .NET's `ClaimsIdentity.IsAuthenticated`.
 *
 * Returns: %TRUE if the user is authenticated, %FALSE if it is anonymous
 *
 * Since: 0.1
 */
gboolean
hubs_user_is_authenticated (HubsUser *self)
{
  g_return_val_if_fail (HUBS_IS_USER (self), FALSE);

  return self->authentication_type != NULL && self->authentication_type[0] != '\0';
}

/**
 * hubs_user_add_claim:
 * @self: a user
 * @type: the claim's type, usually a URI such as [const@Hubs.CLAIM_TYPE_ROLE]
 * @value: the claim's value
 *
 * Adds a claim after the user's other claims. A claim equal to one the user
 * already has is added again.
 *
 * Since: 0.1
 */
void
hubs_user_add_claim (HubsUser   *self,
                     const char *type,
                     const char *value)
{
  gboolean name_changes;

  g_return_if_fail (HUBS_IS_USER (self));
  g_return_if_fail (type != NULL);
  g_return_if_fail (value != NULL);

  /* Only the first name claim is the user's name. */
  name_changes = strcmp (type, HUBS_CLAIM_TYPE_NAME) == 0 &&
                 hubs_user_get_name (self) == NULL;

  g_ptr_array_add (self->claim_types, g_strdup (type));
  g_ptr_array_add (self->claim_values, g_strdup (value));

  if (name_changes)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

/**
 * hubs_user_find_first_claim:
 * @self: a user
 * @type: a claim type
 *
 * Finds the value of the first claim of type @type, as .NET's
 * `ClaimsPrincipal.FindFirst(type)?.Value`. Types are compared exactly (.NET
 * ignores their case).
 *
 * Returns: (nullable): the value of the first claim of that type, or %NULL
 *   if the user has none
 *
 * Since: 0.1
 */
const char *
hubs_user_find_first_claim (HubsUser   *self,
                            const char *type)
{
  g_return_val_if_fail (HUBS_IS_USER (self), NULL);
  g_return_val_if_fail (type != NULL, NULL);

  for (guint i = 0; i < self->claim_types->len; i++)
    {
      if (strcmp (g_ptr_array_index (self->claim_types, i), type) == 0)
        return g_ptr_array_index (self->claim_values, i);
    }

  return NULL;
}

/**
 * hubs_user_has_claim:
 * @self: a user
 * @type: a claim type
 * @value: a claim value
 *
 * Whether the user has a claim of type @type whose value is @value. Both are
 * compared exactly.
 *
 * Returns: %TRUE if the user has that claim
 *
 * Since: 0.1
 */
gboolean
hubs_user_has_claim (HubsUser   *self,
                     const char *type,
                     const char *value)
{
  g_return_val_if_fail (HUBS_IS_USER (self), FALSE);
  g_return_val_if_fail (type != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  for (guint i = 0; i < self->claim_types->len; i++)
    {
      if (strcmp (g_ptr_array_index (self->claim_types, i), type) == 0 &&
          strcmp (g_ptr_array_index (self->claim_values, i), value) == 0)
        return TRUE;
    }

  return FALSE;
}

/**
 * hubs_user_get_n_claims:
 * @self: a user
 *
 * Gets how many claims the user has.
 *
 * Returns: the number of claims
 *
 * Since: 0.1
 */
guint
hubs_user_get_n_claims (HubsUser *self)
{
  g_return_val_if_fail (HUBS_IS_USER (self), 0);

  return self->claim_types->len;
}

/**
 * hubs_user_get_claim_type:
 * @self: a user
 * @index: the position of a claim, less than [method@Hubs.User.get_n_claims]
 *
 * Gets the type of the claim at @index, in the order the claims were added.
 *
 * Returns: the claim's type
 *
 * Since: 0.1
 */
const char *
hubs_user_get_claim_type (HubsUser *self,
                          guint     index)
{
  g_return_val_if_fail (HUBS_IS_USER (self), NULL);
  g_return_val_if_fail (index < self->claim_types->len, NULL);

  return g_ptr_array_index (self->claim_types, index);
}

/**
 * hubs_user_get_claim_value:
 * @self: a user
 * @index: the position of a claim, less than [method@Hubs.User.get_n_claims]
 *
 * Gets the value of the claim at @index, in the order the claims were added.
 *
 * Returns: the claim's value
 *
 * Since: 0.1
 */
const char *
hubs_user_get_claim_value (HubsUser *self,
                           guint     index)
{
  g_return_val_if_fail (HUBS_IS_USER (self), NULL);
  g_return_val_if_fail (index < self->claim_values->len, NULL);

  return g_ptr_array_index (self->claim_values, index);
}

/**
 * hubs_user_get_name: (get-property name)
 * @self: a user
 *
 * Gets the user's name: the value of its first [const@Hubs.CLAIM_TYPE_NAME]
 * claim.
 *
 * Returns: (nullable): the user's name, or %NULL if it has no name claim
 *
 * Since: 0.1
 */
const char *
hubs_user_get_name (HubsUser *self)
{
  g_return_val_if_fail (HUBS_IS_USER (self), NULL);

  return hubs_user_find_first_claim (self, HUBS_CLAIM_TYPE_NAME);
}

/**
 * hubs_user_is_in_role:
 * @self: a user
 * @role: a role
 *
 * Whether the user has a [const@Hubs.CLAIM_TYPE_ROLE] claim whose value is
 * exactly @role, as .NET's `ClaimsPrincipal.IsInRole(role)`.
 *
 * Returns: %TRUE if the user is in that role
 *
 * Since: 0.1
 */
gboolean
hubs_user_is_in_role (HubsUser   *self,
                      const char *role)
{
  g_return_val_if_fail (HUBS_IS_USER (self), FALSE);
  g_return_val_if_fail (role != NULL, FALSE);

  return hubs_user_has_claim (self, HUBS_CLAIM_TYPE_ROLE, role);
}

/**
 * hubs_user_get_expiration: (get-property expiration)
 * @self: a user
 *
 * Gets when the user's authentication expires.
 *
 * Returns: (transfer none) (nullable): the expiration, or %NULL when it
 *   does not expire
 *
 * Since: 0.1
 */
GDateTime *
hubs_user_get_expiration (HubsUser *self)
{
  g_return_val_if_fail (HUBS_IS_USER (self), NULL);

  return self->expiration;
}

/**
 * hubs_user_set_expiration: (set-property expiration)
 * @self: a user
 * @expiration: (nullable): when the authentication expires, or %NULL for
 *   never
 *
 * Sets when the user's authentication expires: the authentication handler
 * ([callback@Hubs.AuthenticateFunc]) sets it from the token it accepted.
 * See [property@Hubs.User:expiration].
 *
 * Since: 0.1
 */
void
hubs_user_set_expiration (HubsUser  *self,
                          GDateTime *expiration)
{
  g_return_if_fail (HUBS_IS_USER (self));

  if (self->expiration == expiration ||
      (self->expiration != NULL && expiration != NULL &&
       g_date_time_equal (self->expiration, expiration)))
    return;

  g_clear_pointer (&self->expiration, g_date_time_unref);
  if (expiration != NULL)
    self->expiration = g_date_time_ref (expiration);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXPIRATION]);
}
