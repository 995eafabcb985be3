/* stock-ticker.c: SignalR's stock ticker sample, on hubs-glib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run it and open http://127.0.0.1:5000/index.html in a browser:
 *
 *   hubs-stock-ticker --port 5000
 *
 * A timer on the main loop moves the prices and broadcasts each change to
 * every client (updateStockPrice) through the hub's HubsHubContext, since no
 * hub method is running when a timer fires. A client can also call the
 * streaming method StreamStocks, which sends it the current prices and then
 * every change, at the pace the client reads, until it cancels or the market
 * closes.
 *
 * Hub methods:  GetAllStocks() → [stock], StreamStocks() → stream of stock,
 *               GetMarketState() → "Open" | "Closed", OpenMarket(), CloseMarket()
 * Client calls: updateStockPrice(stock), marketOpened(), marketClosed()
 *
 * A stock is {"symbol", "price", "dayOpen", "change", "percentChange"}.
 */

#define G_LOG_DOMAIN "stock-ticker"

#include <math.h>
#include <stdio.h>

#include <glib-unix.h>
#include <hubs-glib/hubs.h>

typedef struct
{
  const char *symbol;
  double day_open;
  double price;
} Stock;

/* A client's StreamStocks() call. It remembers which stocks changed since
 * it last wrote them, not every change: a client that reads slowly gets the
 * latest prices, and what the server holds for it stays bounded. */
typedef struct
{
  HubsStreamWriter *writer;
  gulong cancelled_id;
  gboolean writing;             /* a write is waiting for the client */
  gboolean ending;              /* complete once nothing is left to write */
  gboolean *changed;            /* per stock: to be written */
  guint next;                   /* the stock whose turn it is */
} Subscriber;

typedef struct
{
  HubsHubContext *hub_context;  /* lives as long as the server */
  Stock *stocks;
  guint n_stocks;
  GRand *rand;
  guint interval_ms;
  guint timer_id;
  GPtrArray *subscribers;       /* Subscriber * */
} StockTicker;

/* The application's one ticker. Hub instances are made by the server for
 * each call, with no arguments, so this is how they reach it (ASP.NET Core
 * would inject a singleton). */
static StockTicker *ticker;

static GVariant *
stock_to_variant (const Stock *stock)
{
  GVariantDict dict;
  double change = stock->price - stock->day_open;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "symbol", "s", stock->symbol);
  g_variant_dict_insert (&dict, "price", "d", stock->price);
  g_variant_dict_insert (&dict, "dayOpen", "d", stock->day_open);
  g_variant_dict_insert (&dict, "change", "d", round (change * 100) / 100);
  g_variant_dict_insert (&dict, "percentChange", "d",
                         round (change / stock->day_open * 10000) / 10000);
  return g_variant_dict_end (&dict);
}

/* Streams */

static void
subscriber_finish (Subscriber *subscriber)
{
  g_signal_handler_disconnect (hubs_stream_writer_get_cancellable (subscriber->writer),
                               subscriber->cancelled_id);
  g_ptr_array_remove (ticker->subscribers, subscriber);
  if (!hubs_stream_writer_is_completed (subscriber->writer))
    hubs_stream_writer_complete (subscriber->writer);
  g_debug ("A stream of %s ended; %u open",
           hubs_caller_context_get_connection_id (hubs_stream_writer_get_context (subscriber->writer)),
           ticker->subscribers->len);
  g_object_unref (subscriber->writer);
  g_free (subscriber->changed);
  g_free (subscriber);
}

static void subscriber_write_next (Subscriber *subscriber);

/* Ends the stream once what is left to write has gone out. */
static void
subscriber_end (Subscriber *subscriber)
{
  subscriber->ending = TRUE;
  subscriber_write_next (subscriber);
}

static void
subscriber_written (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Subscriber *subscriber = user_data;
  g_autoptr(GError) error = NULL;

  subscriber->writing = FALSE;
  /* An error is a cancelled stream: the client went away or stopped it. */
  if (!hubs_stream_writer_write_finish (HUBS_STREAM_WRITER (source), result, &error))
    subscriber_finish (subscriber);
  else
    subscriber_write_next (subscriber);
}

/* One item at a time, the next once the connection has taken the last:
 * flow control, so the stream goes at the client's pace. */
static void
subscriber_write_next (Subscriber *subscriber)
{
  GCancellable *cancellable = hubs_stream_writer_get_cancellable (subscriber->writer);

  if (subscriber->writing)
    return;

  /* Round the stocks from where the last write left off: each changed
   * stock waits its turn, so one that moves on every tick cannot starve
   * the others (and the first pass is every stock, in order). */
  for (guint n = 0; n < ticker->n_stocks && !g_cancellable_is_cancelled (cancellable); n++)
    {
      g_auto(GValue) item = G_VALUE_INIT;
      guint i = (subscriber->next + n) % ticker->n_stocks;

      if (!subscriber->changed[i])
        continue;

      subscriber->changed[i] = FALSE;
      subscriber->next = (i + 1) % ticker->n_stocks;
      subscriber->writing = TRUE;
      g_value_init (&item, G_TYPE_VARIANT);
      g_value_set_variant (&item, stock_to_variant (&ticker->stocks[i]));
      hubs_stream_writer_write_async (subscriber->writer, &item, NULL,
                                      subscriber_written, subscriber);
      return;
    }

  if (subscriber->ending || g_cancellable_is_cancelled (cancellable))
    subscriber_finish (subscriber);
}

/* The client cancelled the stream, or its connection ended: done at once,
 * or once the write in progress fails. */
static void
subscriber_cancelled (GCancellable *cancellable,
                      gpointer      user_data)
{
  subscriber_write_next (user_data);
}

/* The market */

static void
broadcast (const char *method,
           GVariant   *stock)
{
  g_autoptr(HubsClientProxy) all = hubs_hub_clients_all (hubs_hub_context_get_clients (ticker->hub_context));

  if (stock != NULL)
    hubs_client_proxy_send (all, method, G_TYPE_VARIANT, stock, G_TYPE_INVALID);
  else
    hubs_client_proxy_send (all, method, G_TYPE_INVALID);
}

/* Each tick moves some prices by up to 2%, and tells everyone. */
static gboolean
ticker_tick (gpointer user_data)
{
  for (guint i = 0; i < ticker->n_stocks; i++)
    {
      Stock *stock = &ticker->stocks[i];
      g_autoptr(GVariant) update = NULL;
      double percent;

      if (g_rand_boolean (ticker->rand))
        continue;

      percent = g_rand_double_range (ticker->rand, -0.02, 0.02);
      stock->price = MAX (0.01, round (stock->price * (1 + percent) * 100) / 100);

      update = g_variant_ref_sink (stock_to_variant (stock));
      broadcast ("updateStockPrice", update);

      /* Backwards: a subscriber can finish, and leave the array. */
      for (guint j = ticker->subscribers->len; j > 0; j--)
        {
          Subscriber *subscriber = g_ptr_array_index (ticker->subscribers, j - 1);

          subscriber->changed[i] = TRUE;
          subscriber_write_next (subscriber);
        }
    }
  return G_SOURCE_CONTINUE;
}

static void
ticker_open_market (void)
{
  if (ticker->timer_id != 0)
    return;
  ticker->timer_id = g_timeout_add (ticker->interval_ms, ticker_tick, NULL);
  broadcast ("marketOpened", NULL);
}

static void
ticker_close_market (void)
{
  if (ticker->timer_id == 0)
    return;
  g_clear_handle_id (&ticker->timer_id, g_source_remove);

  /* Streams end with the day's trading. Backwards: ending one can remove
   * it from the array. */
  for (guint i = ticker->subscribers->len; i > 0; i--)
    subscriber_end (g_ptr_array_index (ticker->subscribers, i - 1));
  broadcast ("marketClosed", NULL);
}

/* The hub */

#define STOCK_TICKER_TYPE_HUB (stock_ticker_hub_get_type ())
G_DECLARE_FINAL_TYPE (StockTickerHub, stock_ticker_hub, STOCK_TICKER, HUB, HubsHub)

struct _StockTickerHub
{
  HubsHub parent_instance;
};

G_DEFINE_FINAL_TYPE (StockTickerHub, stock_ticker_hub, HUBS_TYPE_HUB)

static gboolean
stock_ticker_hub_get_all_stocks (HubsHub        *hub,
                                 HubsInvocation *invocation)
{
  GVariantBuilder stocks;

  g_variant_builder_init (&stocks, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < ticker->n_stocks; i++)
    g_variant_builder_add_value (&stocks, stock_to_variant (&ticker->stocks[i]));
  hubs_invocation_return_variant (invocation, g_variant_builder_end (&stocks));
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stock_ticker_hub_stream_stocks (HubsHub          *hub,
                                HubsStreamWriter *writer)
{
  Subscriber *subscriber = g_new0 (Subscriber, 1);

  subscriber->writer = g_object_ref (writer);
  subscriber->changed = g_new (gboolean, ticker->n_stocks);
  /* First every price as it is now. */
  for (guint i = 0; i < ticker->n_stocks; i++)
    subscriber->changed[i] = TRUE;
  subscriber->cancelled_id = g_signal_connect (hubs_stream_writer_get_cancellable (writer), "cancelled",
                                               G_CALLBACK (subscriber_cancelled), subscriber);
  g_ptr_array_add (ticker->subscribers, subscriber);
  g_debug ("A stream of %s started; %u open",
           hubs_caller_context_get_connection_id (hubs_stream_writer_get_context (writer)),
           ticker->subscribers->len);

  /* While the market is closed, the stream is the current prices alone. */
  subscriber->ending = ticker->timer_id == 0;
  subscriber_write_next (subscriber);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stock_ticker_hub_get_market_state (HubsHub        *hub,
                                   HubsInvocation *invocation)
{
  hubs_invocation_return_string (invocation, ticker->timer_id != 0 ? "Open" : "Closed");
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stock_ticker_hub_open_market (HubsHub        *hub,
                              HubsInvocation *invocation)
{
  ticker_open_market ();
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static gboolean
stock_ticker_hub_close_market (HubsHub        *hub,
                               HubsInvocation *invocation)
{
  ticker_close_market ();
  hubs_invocation_return_void (invocation);
  return HUBS_INVOCATION_HANDLED;
}

static void
stock_ticker_hub_class_init (StockTickerHubClass *klass)
{
  HubsHubClass *hub_class = HUBS_HUB_CLASS (klass);

  /* Wire names are the signal names in PascalCase: GetAllStocks, … */
  hubs_hub_class_add_method (hub_class, "get-all-stocks",
                             G_CALLBACK (stock_ticker_hub_get_all_stocks),
                             G_TYPE_VARIANT, 0);
  hubs_hub_class_add_streaming_method (hub_class, "stream-stocks",
                                       G_CALLBACK (stock_ticker_hub_stream_stocks),
                                       G_TYPE_VARIANT, 0);
  hubs_hub_class_add_method (hub_class, "get-market-state",
                             G_CALLBACK (stock_ticker_hub_get_market_state),
                             G_TYPE_STRING, 0);
  hubs_hub_class_add_method (hub_class, "open-market",
                             G_CALLBACK (stock_ticker_hub_open_market),
                             G_TYPE_NONE, 0);
  hubs_hub_class_add_method (hub_class, "close-market",
                             G_CALLBACK (stock_ticker_hub_close_market),
                             G_TYPE_NONE, 0);
}

static void
stock_ticker_hub_init (StockTickerHub *self)
{
}

/* The page and the client script */

static void
serve_file (SoupServer        *server,
            SoupServerMessage *message,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  const char *static_dir = user_data;
  g_autofree char *file = NULL;
  g_autofree char *contents = NULL;
  const char *content_type;
  gsize length = 0;

  if (g_str_equal (path, "/index.html"))
    {
      file = g_build_filename (static_dir, "index.html", NULL);
      content_type = "text/html; charset=utf-8";
    }
  else if (g_str_equal (path, "/signalr.js"))
    {
      file = g_build_filename (static_dir, "node_modules", "@microsoft", "signalr",
                               "dist", "browser", "signalr.js", NULL);
      content_type = "text/javascript";
    }
  else
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  if (!g_file_get_contents (file, &contents, &length, NULL))
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, content_type, SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&contents), length);
}

/* Start and stop */

typedef struct
{
  HubsServer *server;
  GMainLoop *loop;
} App;

static void
shut_down (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  hubs_server_shutdown_finish (HUBS_SERVER (source), result, NULL);
  g_main_loop_quit (user_data);
}

static gboolean
quit (gpointer user_data)
{
  App *app = user_data;

  g_clear_handle_id (&ticker->timer_id, g_source_remove);
  hubs_server_shutdown_async (app->server, NULL, shut_down, app->loop);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  static Stock stocks[] = {
    { "MSFT", 420.55, 420.55 },
    { "AAPL", 227.48, 227.48 },
    { "GOOG", 166.72, 166.72 },
    { "GNOME", 42.00, 42.00 },
  };
  g_autoptr(HubsServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GOptionContext) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *static_dir = NULL;
  StockTicker state = { 0 };
  gboolean closed = FALSE;
  int port = 5000;
  int interval_ms = 1000;
  App app;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (0: any free port)", "PORT" },
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval_ms, "Milliseconds between price moves (1000)", "MS" },
    { "closed", 0, 0, G_OPTION_ARG_NONE, &closed, "Start with the market closed", NULL },
    { "static", 's', 0, G_OPTION_ARG_FILENAME, &static_dir, "Folder of index.html and node_modules", "DIR" },
    { NULL }
  };

  options = g_option_context_new ("- the stock ticker of SignalR's samples");
  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (port < 0 || port > 65535)
    {
      g_printerr ("--port: %d is not a port\n", port);
      return 2;
    }
  if (interval_ms < 1)
    {
      g_printerr ("--interval: %d is not a number of milliseconds\n", interval_ms);
      return 2;
    }
  if (static_dir == NULL)
    static_dir = g_strdup (STOCK_TICKER_STATIC_DIR);

  server = hubs_server_new ();
  /* Not on "/": the server's default handler is how hub paths match
   * without regard to case. */
  soup_server_add_handler (hubs_server_get_soup_server (server), "/index.html", serve_file, static_dir, NULL);
  soup_server_add_handler (hubs_server_get_soup_server (server), "/signalr.js", serve_file, static_dir, NULL);

  state.hub_context = hubs_server_map_hub (server, "/stocks", STOCK_TICKER_TYPE_HUB, NULL);
  state.stocks = stocks;
  state.n_stocks = G_N_ELEMENTS (stocks);
  state.rand = g_rand_new ();
  state.interval_ms = interval_ms;
  state.subscribers = g_ptr_array_new ();
  ticker = &state;

  if (!hubs_server_listen_local (server, port, &error))
    {
      g_printerr ("Cannot listen on port %d: %s\n", port, error->message);
      return 1;
    }

  if (!closed)
    ticker_open_market ();

  loop = g_main_loop_new (NULL, FALSE);
  app.server = server;
  app.loop = loop;
  g_unix_signal_add (SIGINT, quit, &app);
  g_unix_signal_add (SIGTERM, quit, &app);

  g_print ("Now listening on: http://127.0.0.1:%u\n", hubs_server_get_port (server));
  g_print ("Stock ticker page: http://127.0.0.1:%u/index.html\n", hubs_server_get_port (server));
  fflush (stdout);

  g_main_loop_run (loop);

  /* The shutdown ended every connection, and with them every stream. */
  g_warn_if_fail (state.subscribers->len == 0);
  g_clear_handle_id (&state.timer_id, g_source_remove);
  g_ptr_array_unref (state.subscribers);
  g_rand_free (state.rand);
  ticker = NULL;
  return 0;
}
