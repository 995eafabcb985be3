/* hubs-log-private.h: the library's structured log records
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every record goes through g_log_structured_array() in the domain "Hubs"
 * with the fields HUBS_EVENT (the name of the matching ASP.NET Core log
 * event, or our own), CONNECTION_ID, HUB, METHOD and TRANSPORT, each only
 * when known, and a MESSAGE. No access token and no message payload ever
 * goes into a record.
 *
 * Levels follow ASP.NET Core's: its Trace and Debug events are
 * G_LOG_LEVEL_DEBUG, its Information events G_LOG_LEVEL_INFO, and so are
 * its Error events (a failed hub method, a client dropped for not reading),
 * because every one of them can be provoked by a client, and GLib's default
 * writer prints warnings whatever G_MESSAGES_DEBUG says: the library stays
 * silent unless G_MESSAGES_DEBUG names "Hubs" (or "all") or the application
 * installs its own writer (g_log_set_writer_func()).
 */

#pragma once

#include <glib.h>
#include "hubs-types.h"
#include "hubs-caller-context.h"

G_BEGIN_DECLS

/* @connection_id, @hub, @method: (nullable); @transport: HUBS_TRANSPORT_NONE
 * when unknown. */
void hubs_log_event (GLogLevelFlags     level,
                     const char        *event,
                     const char        *connection_id,
                     const char        *hub,
                     const char        *method,
                     HubsTransportType  transport,
                     const char        *format,
                     ...) G_GNUC_PRINTF (7, 8);

/* The name a record's TRANSPORT field gives @transport: WebSockets,
 * ServerSentEvents or LongPolling (HttpTransportType's names). */
const char *hubs_log_transport_name (HubsTransportType transport);

/* A record about a hub connection (a HubsConnectionContext, from the files
 * that see its private header): its id, hub type and transport filled in. */
#define HUBS_LOG_CONNECTION(level, event, connection, method, ...)                       \
  hubs_log_event ((level), (event),                                                      \
                  hubs_connection_context_get_connection_id (connection),                \
                  g_type_name (hubs_hub_context_get_hub_type (                           \
                    hubs_connection_context_get_hub_context (connection))),              \
                  (method),                                                              \
                  hubs_caller_context_get_transport (                                    \
                    hubs_connection_context_get_caller_context (connection)),            \
                  __VA_ARGS__)

G_END_DECLS
