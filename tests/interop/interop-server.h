/* interop-server.h: the parts of the interop server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The interop server implements the contract of interop-server.md on the
 * public API of hubs-glib only, so that official SignalR clients can be run
 * against it. tests/aspnetcore-interop is the same contract on ASP.NET Core;
 * where the contract leaves a detail open, this program does what that one
 * does.
 */

#pragma once

#include <hubs-glib/hubs.h>

G_BEGIN_DECLS

/* Part A (interop-test-hub.c) */

#define INTEROP_TYPE_TEST_HUB (interop_test_hub_get_type ())
G_DECLARE_FINAL_TYPE (InteropTestHub, interop_test_hub, INTEROP, TEST_HUB, HubsHub)

/* InfiniteStream's StreamCanceled goes out through these. */
void interop_test_hub_add_context (HubsHubContext *context);

#define INTEROP_TYPE_UNCREATABLE_HUB (interop_uncreatable_hub_get_type ())
G_DECLARE_FINAL_TYPE (InteropUncreatableHub, interop_uncreatable_hub, INTEROP, UNCREATABLE_HUB, HubsHub)

#define INTEROP_TYPE_AUTHORIZED_HUB (interop_authorized_hub_get_type ())
G_DECLARE_FINAL_TYPE (InteropAuthorizedHub, interop_authorized_hub, INTEROP, AUTHORIZED_HUB, HubsHub)

#define INTEROP_TYPE_CUSTOM_OBJECT (interop_custom_object_get_type ())
G_DECLARE_FINAL_TYPE (InteropCustomObject, interop_custom_object, INTEROP, CUSTOM_OBJECT, GObject)

#define INTEROP_TYPE_COMPLEX_OBJECT (interop_complex_object_get_type ())
G_DECLARE_FINAL_TYPE (InteropComplexObject, interop_complex_object, INTEROP, COMPLEX_OBJECT, GObject)

/* Part B (interop-feature-hub.c) */

#define INTEROP_TYPE_FEATURE_HUB (interop_feature_hub_get_type ())
G_DECLARE_FINAL_TYPE (InteropFeatureHub, interop_feature_hub, INTEROP, FEATURE_HUB, HubsHub)

/* Sends @method(@args) through @proxy and completes @invocation with null
 * once the message has been handed to every recipient, or with the send's
 * error: what a hub method returning SendAsync's Task does in ASP.NET Core. */
void interop_send_and_return_void (HubsClientProxy *proxy,
                                   HubsInvocation  *invocation,
                                   const char      *method,
                                   guint            n_args,
                                   const GValue    *args);

/* Filters and method authorization (interop-filtered-hub.c) */

#define INTEROP_TYPE_FILTERED_HUB (interop_filtered_hub_get_type ())
G_DECLARE_FINAL_TYPE (InteropFilteredHub, interop_filtered_hub, INTEROP, FILTERED_HUB, HubsHub)

/* The server's filter and the hub's own, in @options. */
void      interop_filtered_hub_add_filters (HubsServer     *server,
                                            HubsHubOptions *options);
void      interop_filtered_hub_cleanup     (void);
/* /adminhub: a hub-wide role requirement, checked at its endpoint */
#define INTEROP_TYPE_ADMIN_HUB (interop_admin_hub_get_type ())
G_DECLARE_FINAL_TYPE (InteropAdminHub, interop_admin_hub, INTEROP, ADMIN_HUB, HubsHub)

/* The users of /filteredhub and /adminhub: see interop-filtered-hub.c */
HubsUser *interop_filtered_hub_user        (const char     *access_token);

/* Tokens and users (interop-jwt.c) */

typedef struct _InteropJwtKey InteropJwtKey;

InteropJwtKey *interop_jwt_key_new      (void);
void           interop_jwt_key_free     (InteropJwtKey *key);
char          *interop_jwt_key_issue    (InteropJwtKey *key,
                                         const char    *name_identifier,
                                         gint64         lifetime_seconds);
HubsUser      *interop_jwt_key_validate (InteropJwtKey *key,
                                         const char    *token,
                                         GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (InteropJwtKey, interop_jwt_key_free)

HubsUser *interop_authenticate (HubsServer       *server,
                                HubsHttpContext  *request,
                                const char       *access_token,
                                GError          **error,
                                gpointer          user_data);

/* HTTP routes outside the hubs (interop-routes.c) */

typedef struct
{
  HubsServer *server;
  InteropJwtKey *jwt_key;
  HubsHubContext *feature_hub;
  HubsHubContext *test_hub;
  guint redirect_count;
} InteropApp;

gboolean interop_path_is_under   (const char         *path,
                                  const char         *prefix);
void     interop_routes_install  (InteropApp         *app);
void     interop_echo_connection (HubsServer         *server,
                                  HubsHttpConnection *connection,
                                  gpointer            user_data);

G_END_DECLS
