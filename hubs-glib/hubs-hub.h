/* hubs-hub.h
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

#define HUBS_TYPE_HUB (hubs_hub_get_type ())

HUBS_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (HubsHub, hubs_hub, HUBS, HUB, GObject)

/**
 * HubsHubClass:
 * @parent_class: the parent class
 * @on_connected: called once a client has connected, before any of its
 *   invocations run; returning %FALSE with @error set refuses the connection,
 *   which is then closed with an error
 * @on_disconnected: called once a client's connection has ended; @error is
 *   %NULL after a clean stop and otherwise says why it ended
 *
 * The class of a hub. Hub methods are signals of the class, declared with
 * `hubs_hub_class_add_method()`.
 */
struct _HubsHubClass
{
  GObjectClass parent_class;

  gboolean (*on_connected)    (HubsHub       *self,
                               GError       **error);
  void     (*on_disconnected) (HubsHub       *self,
                               const GError  *error);

  /*< private >*/
  gpointer padding[12];
};

HUBS_AVAILABLE_IN_ALL
HubsCallerContext *hubs_hub_get_context (HubsHub *self);
HUBS_AVAILABLE_IN_ALL
HubsHubClients    *hubs_hub_get_clients (HubsHub *self);
HUBS_AVAILABLE_IN_ALL
HubsGroupManager  *hubs_hub_get_groups  (HubsHub *self);

HUBS_AVAILABLE_IN_ALL
guint hubs_hub_class_add_method            (HubsHubClass       *klass,
                                            const char         *name,
                                            GCallback           handler,
                                            GType               return_type,
                                            guint               n_params,
                                            ...);
HUBS_AVAILABLE_IN_ALL
guint hubs_hub_class_add_methodv           (HubsHubClass       *klass,
                                            const char         *name,
                                            GCallback           handler,
                                            GType               return_type,
                                            guint               n_params,
                                            const GType        *param_types);
HUBS_AVAILABLE_IN_ALL
guint hubs_hub_class_add_streaming_method  (HubsHubClass       *klass,
                                            const char         *name,
                                            GCallback           handler,
                                            GType               item_type,
                                            guint               n_params,
                                            ...);
HUBS_AVAILABLE_IN_ALL
guint hubs_hub_class_add_streaming_methodv (HubsHubClass       *klass,
                                            const char         *name,
                                            GCallback           handler,
                                            GType               item_type,
                                            guint               n_params,
                                            const GType        *param_types);
HUBS_AVAILABLE_IN_ALL
void  hubs_hub_class_set_upload_item_type  (HubsHubClass       *klass,
                                            const char         *name,
                                            guint               index,
                                            GType               item_type);
HUBS_AVAILABLE_IN_ALL
void  hubs_hub_class_set_method_name       (HubsHubClass       *klass,
                                            const char         *name,
                                            const char         *wire_name);
HUBS_AVAILABLE_IN_ALL
void  hubs_hub_class_set_method_return_type (HubsHubClass       *klass,
                                            const char         *name,
                                            GType               return_type);
HUBS_AVAILABLE_IN_ALL
void  hubs_hub_class_set_parameter_variant_type (HubsHubClass       *klass,
                                            const char         *name,
                                            guint               index,
                                            const GVariantType *type);

G_END_DECLS
