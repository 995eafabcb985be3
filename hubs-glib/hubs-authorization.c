/* hubs-authorization.c: who may call a hub method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "hubs-authorization-private.h"

#include "hubs-caller-context.h"
#include "hubs-http-context.h"
#include "hubs-hub-context-private.h"
#include "hubs-user.h"

/**
 * HubsAuthorizationPolicy:
 *
 * What a caller must be to call a hub method, as an ASP.NET Core
 * authorization policy: every requirement added to the policy must hold.
 *
 * Policies are attached to a hub class, for all of its methods
 * ([method@Hubs.HubClass.add_authorization], SignalR's `[Authorize]` on the hub
 * class) or for one method ([method@Hubs.HubClass.add_method_authorization],
 * `[Authorize]` on the method). A call that a policy refuses fails, before
 * the method or any hub filter runs, with the reference's error
 * `Failed to invoke 'Name' because user is unauthorized`; the connection
 * stays open.
 *
 * ```c
 * static void
 * chat_hub_class_init (ChatHubClass *klass)
 * {
 *   HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);
 *   g_autoptr(HubsAuthorizationPolicy) admins = hubs_authorization_policy_new ();
 *   const char *roles[] = { "admin", "moderator", NULL };
 *
 *   hubs_hub_class_add_method (hub_class, "ban", G_CALLBACK (chat_hub_ban),
 *                              G_TYPE_NONE, 1, G_TYPE_STRING);
 *   hubs_authorization_policy_require_role (admins, roles);
 *   hubs_hub_class_add_method_authorization (hub_class, "ban", admins);
 *
 *   // [Authorize]: any authenticated user
 *   hubs_hub_class_add_method_authorization (hub_class, "send-message", NULL);
 * }
 * ```
 *
 * Whether requests reach the hub at all is the endpoint's business:
 * [property@Hubs.HubOptions:require-authentication] answers anonymous ones
 * with `401` at negotiate, and the user requirements of the hub class's own
 * policies are checked there too (`401`, or `403` for a user who fails
 * them), as ASP.NET Core does with `[Authorize]` on a hub class.
 *
 * Since: 0.1
 */

typedef enum
{
  REQUIRE_AUTHENTICATED,
  REQUIRE_ROLE,
  REQUIRE_CLAIM,
  REQUIRE_ASSERTION,
} RequirementKind;

typedef struct
{
  RequirementKind kind;
  char *claim_type;
  GStrv values;                 /* roles, or the claim's allowed values */
  HubsAuthorizationFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} Requirement;

struct _HubsAuthorizationPolicy
{
  GObject parent_instance;

  GArray *requirements;         /* Requirement */
};

G_DEFINE_FINAL_TYPE (HubsAuthorizationPolicy, hubs_authorization_policy, G_TYPE_OBJECT)

static void
requirement_clear (gpointer data)
{
  Requirement *requirement = data;

  g_free (requirement->claim_type);
  g_strfreev (requirement->values);
  if (requirement->destroy != NULL)
    requirement->destroy (requirement->user_data);
}

static void
hubs_authorization_policy_finalize (GObject *object)
{
  HubsAuthorizationPolicy *self = HUBS_AUTHORIZATION_POLICY (object);

  g_array_unref (self->requirements);

  G_OBJECT_CLASS (hubs_authorization_policy_parent_class)->finalize (object);
}

static void
hubs_authorization_policy_class_init (HubsAuthorizationPolicyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hubs_authorization_policy_finalize;
}

static void
hubs_authorization_policy_init (HubsAuthorizationPolicy *self)
{
  self->requirements = g_array_new (FALSE, TRUE, sizeof (Requirement));
  g_array_set_clear_func (self->requirements, requirement_clear);
}

/**
 * hubs_authorization_policy_new:
 *
 * Creates a policy without requirements, which allows every caller until
 * requirements are added.
 *
 * Returns: (transfer full): a new policy
 *
 * Since: 0.1
 */
HubsAuthorizationPolicy *
hubs_authorization_policy_new (void)
{
  return g_object_new (HUBS_TYPE_AUTHORIZATION_POLICY, NULL);
}

static Requirement *
add_requirement (HubsAuthorizationPolicy *self,
                 RequirementKind          kind)
{
  Requirement requirement = { .kind = kind };

  g_array_append_val (self->requirements, requirement);
  return &g_array_index (self->requirements, Requirement, self->requirements->len - 1);
}

/**
 * hubs_authorization_policy_require_authenticated_user:
 * @self: a policy
 *
 * Requires an authenticated user ([method@Hubs.User.is_authenticated]), as
 * ASP.NET Core's `RequireAuthenticatedUser()` and the default policy of a
 * bare `[Authorize]`.
 *
 * Since: 0.1
 */
void
hubs_authorization_policy_require_authenticated_user (HubsAuthorizationPolicy *self)
{
  g_return_if_fail (HUBS_IS_AUTHORIZATION_POLICY (self));

  add_requirement (self, REQUIRE_AUTHENTICATED);
}

/**
 * hubs_authorization_policy_require_role:
 * @self: a policy
 * @roles: (array zero-terminated=1): the roles, at least one
 *
 * Requires a user in one of @roles at least ([method@Hubs.User.is_in_role]),
 * as `RequireRole()` and `[Authorize(Roles = "a,b")]`.
 *
 * Since: 0.1
 */
void
hubs_authorization_policy_require_role (HubsAuthorizationPolicy *self,
                                        const char * const      *roles)
{
  Requirement *requirement;

  g_return_if_fail (HUBS_IS_AUTHORIZATION_POLICY (self));
  g_return_if_fail (roles != NULL && roles[0] != NULL);

  requirement = add_requirement (self, REQUIRE_ROLE);
  requirement->values = g_strdupv ((char **) roles);
}

/**
 * hubs_authorization_policy_require_claim:
 * @self: a policy
 * @claim_type: the type of claim the user must have
 * @allowed_values: (array zero-terminated=1) (nullable): the values one of
 *   which the claim must have, or %NULL for any value
 *
 * Requires a user with a claim of type @claim_type, and with one of
 * @allowed_values when it is given, as `RequireClaim()`.
 *
 * Since: 0.1
 */
void
hubs_authorization_policy_require_claim (HubsAuthorizationPolicy *self,
                                         const char              *claim_type,
                                         const char * const      *allowed_values)
{
  Requirement *requirement;

  g_return_if_fail (HUBS_IS_AUTHORIZATION_POLICY (self));
  g_return_if_fail (claim_type != NULL);

  requirement = add_requirement (self, REQUIRE_CLAIM);
  requirement->claim_type = g_strdup (claim_type);
  if (allowed_values != NULL && allowed_values[0] != NULL)
    requirement->values = g_strdupv ((char **) allowed_values);
}

/**
 * hubs_authorization_policy_require_assertion:
 * @self: a policy
 * @func: (scope notified) (closure user_data) (destroy destroy): decides
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data with the policy
 *
 * Requires that @func allows the call, as `RequireAssertion()`. It sees the
 * caller's context, and so its user (which may be %NULL: anonymous).
 *
 * Since: 0.1
 */
void
hubs_authorization_policy_require_assertion (HubsAuthorizationPolicy *self,
                                             HubsAuthorizationFunc    func,
                                             gpointer                 user_data,
                                             GDestroyNotify           destroy)
{
  Requirement *requirement;

  g_return_if_fail (HUBS_IS_AUTHORIZATION_POLICY (self));
  g_return_if_fail (func != NULL);

  requirement = add_requirement (self, REQUIRE_ASSERTION);
  requirement->func = func;
  requirement->user_data = user_data;
  requirement->destroy = destroy;
}

static gboolean
user_has_claim (HubsUser          *user,
                const Requirement *requirement)
{
  guint n = hubs_user_get_n_claims (user);

  for (guint i = 0; i < n; i++)
    {
      if (g_strcmp0 (hubs_user_get_claim_type (user, i), requirement->claim_type) != 0)
        continue;
      if (requirement->values == NULL ||
          g_strv_contains ((const char * const *) requirement->values, hubs_user_get_claim_value (user, i)))
        return TRUE;
    }

  return FALSE;
}

/* The requirements on the user alone; assertions hold here. */
static gboolean
requirement_holds_for_user (const Requirement *requirement,
                            HubsUser          *user)
{
  switch (requirement->kind)
    {
    case REQUIRE_AUTHENTICATED:
      return user != NULL && hubs_user_is_authenticated (user);

    case REQUIRE_ROLE:
      if (user == NULL)
        return FALSE;
      for (guint i = 0; requirement->values[i] != NULL; i++)
        if (hubs_user_is_in_role (user, requirement->values[i]))
          return TRUE;
      return FALSE;

    case REQUIRE_CLAIM:
      return user != NULL && user_has_claim (user, requirement);

    case REQUIRE_ASSERTION:
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

static gboolean
requirement_holds (const Requirement *requirement,
                   HubsCallerContext *context,
                   const char        *method_name)
{
  if (requirement->kind == REQUIRE_ASSERTION)
    return requirement->func (context, method_name, requirement->user_data);

  return requirement_holds_for_user (requirement, hubs_caller_context_get_user (context));
}

/**
 * hubs_authorization_policy_check:
 * @self: a policy
 * @context: the caller's context
 * @method_name: the wire name of the method called
 *
 * Checks every requirement of the policy, in the order they were added,
 * and stops at the first that does not hold.
 *
 * Returns: %TRUE if the policy allows the call
 *
 * Since: 0.1
 */
gboolean
hubs_authorization_policy_check (HubsAuthorizationPolicy *self,
                                 HubsCallerContext       *context,
                                 const char              *method_name)
{
  g_autoptr(HubsAuthorizationPolicy) keep = NULL;

  g_return_val_if_fail (HUBS_IS_AUTHORIZATION_POLICY (self), FALSE);
  g_return_val_if_fail (HUBS_IS_CALLER_CONTEXT (context), FALSE);
  g_return_val_if_fail (method_name != NULL, FALSE);

  keep = g_object_ref (self);
  for (guint i = 0; i < self->requirements->len; i++)
    if (!requirement_holds (&g_array_index (self->requirements, Requirement, i), context, method_name))
      return FALSE;

  return TRUE;
}

/* The policies of one hub type (not of its ancestors), kept for the
 * type's life. */
typedef struct
{
  GPtrArray *hub;               /* HubsAuthorizationPolicy */
  GHashTable *methods;          /* signal name → GPtrArray of policies */
} HubPolicies;

static GQuark
hub_policies_quark (void)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("hubs-authorization-policies");
  return quark;
}

static HubPolicies *
hub_policies_get (GType hub_type)
{
  HubPolicies *policies = g_type_get_qdata (hub_type, hub_policies_quark ());

  if (policies == NULL)
    {
      policies = g_new0 (HubPolicies, 1);
      policies->hub = g_ptr_array_new_with_free_func (g_object_unref);
      policies->methods = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                 (GDestroyNotify) g_ptr_array_unref);
      g_type_set_qdata (hub_type, hub_policies_quark (), policies);
    }

  return policies;
}

/* A bare [Authorize]: the default policy, any authenticated user. */
static HubsAuthorizationPolicy *
policy_or_default (HubsAuthorizationPolicy *policy)
{
  HubsAuthorizationPolicy *result;

  if (policy != NULL)
    return g_object_ref (policy);

  result = hubs_authorization_policy_new ();
  hubs_authorization_policy_require_authenticated_user (result);
  return result;
}

/**
 * hubs_hub_class_add_authorization:
 * @klass: a hub class
 * @policy: (nullable): a policy, or %NULL for any authenticated user
 *
 * Requires @policy for every method of @klass and of its subclasses, as
 * `[Authorize]` on a hub class does. Policies add up: a call must satisfy
 * each.
 *
 * As ASP.NET Core's authorization middleware, the hub's endpoint applies
 * the policy's requirements on the user (authenticated user, roles, claims)
 * to every request, negotiate first: `401 Unauthorized` for an anonymous
 * request, `403 Forbidden` for a user who fails them (also on a later poll
 * of Long Polling made with another token). Assertions need a caller's
 * context, so they are checked on each invocation, with the rest of the
 * policy again, and refuse the call, not the connection.
 *
 * Since: 0.1
 */
void
hubs_hub_class_add_authorization (HubsHubClass            *klass,
                                  HubsAuthorizationPolicy *policy)
{
  g_return_if_fail (HUBS_IS_HUB_CLASS (klass));
  g_return_if_fail (policy == NULL || HUBS_IS_AUTHORIZATION_POLICY (policy));

  g_ptr_array_add (hub_policies_get (G_TYPE_FROM_CLASS (klass))->hub, policy_or_default (policy));
}

static char *
canonical_signal_name (const char *name)
{
  char *canonical = g_strdup (name);

  for (char *p = canonical; *p; p++)
    if (*p == '_')
      *p = '-';

  return canonical;
}

/**
 * hubs_hub_class_add_method_authorization:
 * @klass: a hub class
 * @name: the name of a method of @klass (its signal name)
 * @policy: (nullable): a policy, or %NULL for any authenticated user
 *
 * Requires @policy for one hub method, as `[Authorize]` on a hub method
 * does; it adds to the class's own policies
 * ([method@Hubs.HubClass.add_authorization]). A refused call gets
 * `Failed to invoke 'Name' because user is unauthorized` and the
 * connection stays open.
 *
 * Since: 0.1
 */
void
hubs_hub_class_add_method_authorization (HubsHubClass            *klass,
                                         const char              *name,
                                         HubsAuthorizationPolicy *policy)
{
  HubPolicies *policies;
  GPtrArray *list;
  g_autofree char *canonical = NULL;

  g_return_if_fail (HUBS_IS_HUB_CLASS (klass));
  g_return_if_fail (name != NULL);
  g_return_if_fail (policy == NULL || HUBS_IS_AUTHORIZATION_POLICY (policy));

  policies = hub_policies_get (G_TYPE_FROM_CLASS (klass));
  canonical = canonical_signal_name (name);
  list = g_hash_table_lookup (policies->methods, canonical);
  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (policies->methods, g_steal_pointer (&canonical), list);
    }
  g_ptr_array_add (list, policy_or_default (policy));
}

static gboolean
check_all (GPtrArray         *list,
           HubsCallerContext *context,
           const char        *method_name)
{
  if (list == NULL)
    return TRUE;

  for (guint i = 0; i < list->len; i++)
    if (!hubs_authorization_policy_check (list->pdata[i], context, method_name))
      return FALSE;

  return TRUE;
}

gboolean
hubs_authorization_check_method (GType                 hub_type,
                                 const HubsMethodInfo *method,
                                 HubsCallerContext    *context)
{
  for (GType type = hub_type; type != HUBS_TYPE_HUB && type != G_TYPE_INVALID; type = g_type_parent (type))
    {
      HubPolicies *policies = g_type_get_qdata (type, hub_policies_quark ());

      if (policies == NULL)
        continue;
      if (!check_all (policies->hub, context, method->wire_name) ||
          !check_all (g_hash_table_lookup (policies->methods, method->name), context, method->wire_name))
        return FALSE;
    }

  return TRUE;
}

/* Closes a connection when its user's authentication expires. The user can
 * change (each poll of a Long Polling connection brings its own, perhaps
 * with a renewed token), so the source follows the connection's HTTP
 * context: a ready time, moved whenever the user changes, and checked again
 * when it comes. */
gboolean
hubs_authorization_check_hub_user (GType     hub_type,
                                   HubsUser *user)
{
  for (GType type = hub_type; type != HUBS_TYPE_HUB && type != G_TYPE_INVALID; type = g_type_parent (type))
    {
      HubPolicies *policies = g_type_get_qdata (type, hub_policies_quark ());

      if (policies == NULL || policies->hub == NULL)
        continue;
      for (guint i = 0; i < policies->hub->len; i++)
        {
          HubsAuthorizationPolicy *policy = policies->hub->pdata[i];

          for (guint j = 0; j < policy->requirements->len; j++)
            if (!requirement_holds_for_user (&g_array_index (policy->requirements, Requirement, j), user))
              return FALSE;
        }
    }

  return TRUE;
}

typedef struct
{
  GSource source;
  GWeakRef connection;
  HubsHttpContext *http_context;
  gulong user_changed_id;
} ExpirationSource;

static gboolean
expiration_source_dispatch (GSource     *source,
                            GSourceFunc  callback,
                            gpointer     user_data)
{
  return callback (user_data);
}

static void
expiration_source_finalize (GSource *source)
{
  ExpirationSource *self = (ExpirationSource *) source;

  g_clear_signal_handler (&self->user_changed_id, self->http_context);
  g_clear_object (&self->http_context);
  g_weak_ref_clear (&self->connection);
}

static GSourceFuncs expiration_source_funcs = {
  .dispatch = expiration_source_dispatch,
  .finalize = expiration_source_finalize,
};

/* Returns FALSE when the user has expired already. */
static gboolean
expiration_source_schedule (ExpirationSource *self)
{
  HubsUser *user = hubs_http_context_get_user (self->http_context);
  g_autoptr(GDateTime) now = NULL;
  GTimeSpan remaining;

  /* A user without an expiration (or none at all) never expires, as
   * ASP.NET Core's DateTimeOffset.MaxValue. */
  if (user == NULL || hubs_user_get_expiration (user) == NULL)
    {
      g_source_set_ready_time (&self->source, -1);
      return TRUE;
    }

  now = g_date_time_new_now_utc ();
  remaining = g_date_time_difference (hubs_user_get_expiration (user), now);
  if (remaining <= 0)
    return FALSE;

  g_source_set_ready_time (&self->source, g_get_monotonic_time () + remaining);
  return TRUE;
}

static void
user_changed (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  ExpirationSource *self = user_data;

  /* An expired user closes the connection at the next dispatch. */
  if (!g_source_is_destroyed (&self->source) && !expiration_source_schedule (self))
    g_source_set_ready_time (&self->source, 0);
}

static gboolean
authentication_expired (gpointer user_data)
{
  ExpirationSource *self = user_data;
  g_autoptr(HubsConnectionContext) connection = g_weak_ref_get (&self->connection);

  if (connection == NULL || hubs_connection_context_is_closed (connection))
    return G_SOURCE_REMOVE;

  /* Renewed meanwhile: wait for the new expiration. */
  if (expiration_source_schedule (self))
    return G_SOURCE_CONTINUE;

  g_debug ("Closing connection %s: its authentication has expired",
           hubs_connection_context_get_connection_id (connection));
  /* HttpConnectionManager asks the hub connection to close; it sends a
   * Close without error that lets the client reconnect. */
  hubs_connection_context_close (connection, NULL, TRUE);
  return G_SOURCE_REMOVE;
}

static void
connection_aborted (GCancellable *cancellable,
                    gpointer      user_data)
{
  g_source_destroy (user_data);
}

void
hubs_authorization_watch_expiration (HubsConnectionContext *connection)
{
  HubsHubContext *hub_context = hubs_connection_context_get_hub_context (connection);
  HubsCallerContext *caller = hubs_connection_context_get_caller_context (connection);
  HubsHttpContext *http_context = hubs_caller_context_get_http_context (caller);
  HubsUser *user = hubs_http_context_get_user (http_context);
  g_autoptr(GSource) source = NULL;
  ExpirationSource *self;

  /* Only a connection that began with an expiring user is watched, as
   * ASP.NET Core's check that starts with the first expiration. */
  if (!hubs_hub_context_get_settings (hub_context)->close_on_authentication_expiration ||
      user == NULL || hubs_user_get_expiration (user) == NULL)
    return;

  source = g_source_new (&expiration_source_funcs, sizeof (ExpirationSource));
  self = (ExpirationSource *) source;
  g_weak_ref_init (&self->connection, connection);
  self->http_context = g_object_ref (http_context);
  self->user_changed_id = g_signal_connect (http_context, "notify::user", G_CALLBACK (user_changed), self);
  if (!expiration_source_schedule (self))
    g_source_set_ready_time (source, 0);
  g_source_set_callback (source, authentication_expired, self, NULL);
  g_source_set_static_name (source, "[hubs] authentication expiration");
  g_source_attach (source, g_main_context_get_thread_default ());

  /* The source goes with the connection; the handler's reference is
   * dropped with the caller context's cancellable. */
  g_cancellable_connect (hubs_caller_context_get_connection_aborted (caller),
                         G_CALLBACK (connection_aborted),
                         g_source_ref (source), (GDestroyNotify) g_source_unref);
}
