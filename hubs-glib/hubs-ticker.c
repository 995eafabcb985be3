/* hubs-ticker.c: one timer for every connection's periodic work
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each hub connection checks its keep-alive, its client timeout and its
 * stateful reconnect acknowledgements every second. A GLib timer per
 * connection makes every main-loop iteration prepare and check ten thousand
 * timers at ten thousand connections, and wakes them one by one; here the
 * connections of one main context and one interval share one timer, and a
 * tick is one pass over a flat array.
 */

#include "hubs-ticker-private.h"

typedef struct _Ticker Ticker;

struct _HubsTickerEntry
{
  Ticker *ticker;
  GSourceFunc func;             /* NULL once removed */
  gpointer user_data;
};

struct _Ticker
{
  GMainContext *context;
  guint interval_ms;
  GSource *source;
  GPtrArray *entries;           /* HubsTickerEntry, some removed while ticking */
  gboolean ticking;
  guint n_removed;
};

G_LOCK_DEFINE_STATIC (tickers);
static GPtrArray *tickers;      /* Ticker */

static void
ticker_free (Ticker *self)
{
  g_source_destroy (self->source);
  g_source_unref (self->source);
  g_ptr_array_unref (self->entries);
  g_main_context_unref (self->context);
  g_free (self);
}

/* Drops removed entries; the ticker itself once it has none. Returns FALSE
 * if the ticker is gone. */
static gboolean
ticker_compact (Ticker *self)
{
  if (self->n_removed > 0)
    {
      guint kept = 0;

      for (guint i = 0; i < self->entries->len; i++)
        {
          HubsTickerEntry *entry = self->entries->pdata[i];

          if (entry->func != NULL)
            self->entries->pdata[kept++] = entry;
          else
            g_free (entry);
        }
      g_ptr_array_set_size (self->entries, kept);
      self->n_removed = 0;
    }

  if (self->entries->len > 0)
    return TRUE;

  G_LOCK (tickers);
  g_ptr_array_remove_fast (tickers, self);
  G_UNLOCK (tickers);
  ticker_free (self);
  return FALSE;
}

static gboolean
ticker_tick (gpointer user_data)
{
  Ticker *self = user_data;
  guint n = self->entries->len;

  /* Entries added by a callback wait for the next tick. */
  self->ticking = TRUE;
  for (guint i = 0; i < n; i++)
    {
      HubsTickerEntry *entry = self->entries->pdata[i];

      if (entry->func != NULL && entry->func (entry->user_data) == G_SOURCE_REMOVE &&
          entry->func != NULL)
        {
          entry->func = NULL;
          self->n_removed++;
        }
    }
  self->ticking = FALSE;

  /* The timer stays attached until the ticker is freed, which destroys it. */
  ticker_compact (self);
  return G_SOURCE_CONTINUE;
}

HubsTickerEntry *
hubs_ticker_add (guint       interval_ms,
                 GSourceFunc func,
                 gpointer    user_data)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  HubsTickerEntry *entry;
  Ticker *ticker = NULL;

  g_return_val_if_fail (interval_ms > 0, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  G_LOCK (tickers);
  if (tickers == NULL)
    tickers = g_ptr_array_new ();
  for (guint i = 0; i < tickers->len && ticker == NULL; i++)
    {
      Ticker *candidate = tickers->pdata[i];

      if (candidate->context == context && candidate->interval_ms == interval_ms)
        ticker = candidate;
    }
  if (ticker == NULL)
    {
      ticker = g_new0 (Ticker, 1);
      ticker->context = g_main_context_ref (context);
      ticker->interval_ms = interval_ms;
      ticker->entries = g_ptr_array_new ();
      if (interval_ms % 1000 == 0)
        ticker->source = g_timeout_source_new_seconds (interval_ms / 1000);
      else
        ticker->source = g_timeout_source_new (interval_ms);
      g_source_set_static_name (ticker->source, "[hubs] connection ticker");
      g_source_set_callback (ticker->source, ticker_tick, ticker, NULL);
      g_source_attach (ticker->source, context);
      g_ptr_array_add (tickers, ticker);
    }
  G_UNLOCK (tickers);

  entry = g_new0 (HubsTickerEntry, 1);
  entry->ticker = ticker;
  entry->func = func;
  entry->user_data = user_data;
  g_ptr_array_add (ticker->entries, entry);

  return entry;
}

void
hubs_ticker_remove (HubsTickerEntry *entry)
{
  Ticker *ticker;

  if (entry == NULL || entry->func == NULL)
    return;

  ticker = entry->ticker;
  entry->func = NULL;
  ticker->n_removed++;

  /* While ticking, the pass in progress compacts once it is over; else
   * once half the entries are removed, so that N removals cost O(N). */
  if (!ticker->ticking && ticker->n_removed * 2 >= ticker->entries->len)
    ticker_compact (ticker);
}
