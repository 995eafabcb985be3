/* hubs.h: SignalR hubs for GLib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define __HUBS_INSIDE__

#include "hubs-version.h"
#include "hubs-version-macros.h"
#include "hubs-types.h"
#include "hubs-enums.h"
#include "hubs-error.h"
#include "hubs-user.h"
#include "hubs-http-context.h"
#include "hubs-http-connection.h"
#include "hubs-hub-options.h"
#include "hubs-hub-filter.h"
#include "hubs-hub.h"
#include "hubs-authorization.h"
#include "hubs-invocation.h"
#include "hubs-stream-writer.h"
#include "hubs-stream-reader.h"
#include "hubs-caller-context.h"
#include "hubs-client-proxy.h"
#include "hubs-hub-clients.h"
#include "hubs-group-manager.h"
#include "hubs-hub-context.h"
#include "hubs-redis-backplane.h"
#include "hubs-server.h"
#include "hubs-metrics.h"
#include "client/hubs-client-invocation.h"
#include "client/hubs-client-stream.h"
#include "client/hubs-client-upload.h"
#include "client/hubs-access-token-request.h"
#include "client/hubs-connection.h"

#undef __HUBS_INSIDE__
