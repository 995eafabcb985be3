/* hubs-hub-filter-private.h: running the filters of a hub
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-hub-filter.h"
#include "hubs-connection-context-private.h"

G_BEGIN_DECLS

/* Runs the method itself with @context's arguments, and completes @context
 * with its result (hubs_hub_invocation_context_return_*), now or later. */
typedef void (*HubsFilterTerminalFunc) (HubsHubInvocationContext *context,
                                        gpointer                  user_data);

/* Called once, when the outermost filter has completed: @result is NULL
 * with @error. */
typedef void (*HubsFilterDoneFunc)     (const GValue             *result,
                                        const GError             *error,
                                        gpointer                  user_data);

/* The filters of @connection's hub, the server's first, in the order they
 * were added; NULL when there are none. */
GPtrArray *hubs_hub_filters_collect (HubsConnectionContext *connection);

/* Runs @invocation through @filters to @terminal. @args (@n_args values)
 * are copied. */
void hubs_hub_filters_invoke (GPtrArray              *filters,
                              HubsHub                *hub,
                              const char             *method_name,
                              gboolean                streaming,
                              GCancellable           *cancellable,
                              const GValue           *args,
                              guint                   n_args,
                              HubsFilterTerminalFunc  terminal,
                              gpointer                terminal_data,
                              HubsFilterDoneFunc      done,
                              gpointer                done_data);

/* The arguments as the filters left them, for the terminal. */
const GValue *hubs_hub_invocation_context_peek_arguments (HubsHubInvocationContext *self,
                                                          guint                    *n_args);

/* on_connected and on_disconnected of @hub, through the filters of its
 * connection's hub. */
gboolean hubs_hub_filters_run_on_connected    (HubsConnectionContext *connection,
                                               HubsHub               *hub,
                                               GError               **error);
void     hubs_hub_filters_run_on_disconnected (HubsConnectionContext *connection,
                                               HubsHub               *hub,
                                               const GError          *error);

/* hubs-server.c */
GPtrArray *hubs_server_get_hub_filters        (HubsServer            *server);
char      *hubs_server_get_user_identifier    (HubsServer            *server,
                                               HubsCallerContext     *context);

G_END_DECLS
