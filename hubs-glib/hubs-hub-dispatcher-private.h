/* hubs-hub-dispatcher-private.h: running hub methods
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-connection-context-private.h"

G_BEGIN_DECLS

typedef void (*HubsDispatchDoneFunc) (HubsConnectionContext *connection,
                                      gpointer               user_data);

/* Runs an Invocation or StreamInvocation of @connection: finds the method,
 * binds the arguments, makes a hub, runs it and writes its completion (or its
 * stream). @done (nullable) is called once the method has completed, perhaps
 * before this returns. */
void  hubs_hub_dispatcher_invoke (HubsConnectionContext *connection,
                                  HubsHubMessage        *message,
                                  HubsDispatchDoneFunc   done,
                                  gpointer               user_data);

/* Whether the invocation runs outside the connection's limit of parallel
 * invocations: streams and methods with upload streams. */
gboolean hubs_hub_dispatcher_runs_in_background (HubsConnectionContext *connection,
                                                 HubsHubMessage        *message);

/* ASP.NET Core's ErrorMessageHelper.BuildErrorMessage: @prefix alone, or
 * "{prefix} {ExceptionType}: {message}" when @error is a hub error or
 * @detailed is set. */
char *hubs_build_error_message (const char   *prefix,
                                const GError *error,
                                gboolean      detailed);

/* The .NET exception type name that stands for @error on the wire. */
const char *hubs_error_type_name (const GError *error);

G_END_DECLS
