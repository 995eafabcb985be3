/* hubs-caller-context-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "hubs-caller-context.h"
#include "hubs-connection-context-private.h"

G_BEGIN_DECLS

/* @connection is not referenced: it owns the caller context. */
HubsCallerContext *hubs_caller_context_new          (HubsConnectionContext *connection,
                                                     const char            *connection_id,
                                                     HubsHttpContext       *http_context,
                                                     HubsTransportType      transport);
void               hubs_caller_context_set_protocol (HubsCallerContext     *self,
                                                     const char            *protocol);
void               hubs_caller_context_detach       (HubsCallerContext     *self);

G_END_DECLS
