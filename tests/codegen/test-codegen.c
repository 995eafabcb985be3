/* test-codegen.c: the C that hubs-codegen writes declares what the
 * description says, and builds with -Wall -Wextra -Werror.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "types-gen.h"
#include "hubs-hub-private.h"

#define TYPES_TYPE_HUB (types_hub_get_type ())
G_DECLARE_FINAL_TYPE (TypesHub, types_hub, TYPES, HUB, HubsHub)

struct _TypesHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (TypesHub, types_hub, HUBS_TYPE_HUB)

static gboolean
types_hub_echo (HubsHub        *hub,
                HubsInvocation *invocation,
                const char     *text)
{
  types_hub_complete_echo (invocation, text);
  return HUBS_INVOCATION_HANDLED;
}

static void
types_hub_class_init (TypesHubClass *klass)
{
  /* Methods left NULL are declared all the same; handlers may connect later. */
  static const TypesHubMethods methods = {
    .echo = types_hub_echo,
  };

  types_hub_add_methods (HUBS_HUB_CLASS (klass), &methods);
}

static void
types_hub_init (TypesHub *self)
{
}

static void
test_methods_declared (void)
{
  const HubsMethodInfo *echo = hubs_hub_type_lookup_method (TYPES_TYPE_HUB, "echo");
  const HubsMethodInfo *everything = hubs_hub_type_lookup_method (TYPES_TYPE_HUB, "Everything");
  const HubsMethodInfo *custom = hubs_hub_type_lookup_method (TYPES_TYPE_HUB, "Custom.Name");
  const GType expected[] = {
    G_TYPE_BOOLEAN, G_TYPE_INT, G_TYPE_UINT, G_TYPE_INT64, G_TYPE_UINT64, G_TYPE_DOUBLE,
    G_TYPE_STRV, G_TYPE_BYTES, G_TYPE_DATE_TIME, G_TYPE_VARIANT, G_TYPE_VARIANT, G_TYPE_VARIANT,
  };

  g_assert_nonnull (echo);
  g_assert_cmpstr (echo->wire_name, ==, "Echo");
  g_assert_cmpuint (echo->return_type, ==, G_TYPE_STRING);
  g_assert_cmpuint (echo->n_params, ==, 1);
  g_assert_cmpuint (echo->params[0].type, ==, G_TYPE_STRING);

  g_assert_nonnull (everything);
  g_assert_cmpuint (everything->return_type, ==, G_TYPE_INT64);
  g_assert_cmpuint (everything->n_params, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpuint (everything->params[i].type, ==, expected[i]);
  g_assert_null (everything->params[9].variant_type);
  g_assert_true (g_variant_type_equal (everything->params[10].variant_type, G_VARIANT_TYPE ("ax")));
  g_assert_true (g_variant_type_equal (everything->params[11].variant_type, G_VARIANT_TYPE ("a{sv}")));

  g_assert_nonnull (custom);
  g_assert_cmpstr (custom->wire_name, ==, "Custom.Name");
  g_assert_cmpuint (custom->return_type, ==, G_TYPE_NONE);
  g_assert_null (hubs_hub_type_lookup_method (TYPES_TYPE_HUB, "CustomName"));
}

/* The typed client calls exist with their C types; calling them needs
 * connections, which the chat example's test does end to end. */
static void
test_client_calls_typed (void)
{
  void (*notify) (HubsClientProxy *, const char *, gint) = types_client_call_notify;
  void (*ping) (HubsClientProxy *) = types_client_call_ping;

  g_assert_nonnull (notify);
  g_assert_nonnull (ping);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hubs/codegen/methods-declared", test_methods_declared);
  g_test_add_func ("/hubs/codegen/client-calls-typed", test_client_calls_typed);

  return g_test_run ();
}
