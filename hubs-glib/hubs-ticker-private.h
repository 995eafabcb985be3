/* hubs-ticker-private.h: one timer for every connection's periodic work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Calls @func(@user_data) every @interval_ms, from one timer shared by every
 * entry of the same interval on the thread-default main context, as ASP.NET
 * Core's HttpConnectionManager ticks all its connections from one timer: N
 * connections cost the main loop one source, not N. An entry whose @func
 * returns G_SOURCE_REMOVE is removed (the caller forgets it). Intervals that
 * are whole seconds tick on second boundaries (g_timeout_add_seconds). */
typedef struct _HubsTickerEntry HubsTickerEntry;

HubsTickerEntry *hubs_ticker_add    (guint            interval_ms,
                                     GSourceFunc      func,
                                     gpointer         user_data);
/* Safe from within @func, including another entry's. */
void             hubs_ticker_remove (HubsTickerEntry *entry);

G_END_DECLS
