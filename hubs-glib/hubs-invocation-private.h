/* hubs-invocation-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-invocation.h"
#include "hubs-hub-private.h"

G_BEGIN_DECLS

/* Called once, when the method completes: @result is NULL with @error, or the
 * result (an unset GValue for void). */
typedef void (*HubsInvocationCompleteFunc) (HubsInvocation *invocation,
                                            const GValue   *result,
                                            const GError   *error,
                                            gpointer        user_data);

HubsInvocation *hubs_invocation_new (HubsHub                    *hub,
                                     const HubsMethodInfo       *method,
                                     const char                 *invocation_id,
                                     GCancellable               *cancellable,
                                     HubsInvocationCompleteFunc  complete,
                                     gpointer                    user_data);

G_END_DECLS
