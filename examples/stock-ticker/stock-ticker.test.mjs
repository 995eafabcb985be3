// The stock ticker example, driven by the official SignalR client: the
// timer's broadcasts, the stream and its ends. Run by meson with
// HUBS_STOCK_TICKER set to the built hubs-stock-ticker program.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import signalR from "@microsoft/signalr";
import { startExample, nextMessage } from "../example-process.mjs";

const program = process.env.HUBS_STOCK_TICKER;
if (!program) throw new Error("HUBS_STOCK_TICKER must name the hubs-stock-ticker program");

const SYMBOLS = ["MSFT", "AAPL", "GOOG", "GNOME"];

// Prices move every 20 ms; a warning (a stream never completed) aborts it,
// and it prints when streams start and end.
const ticker = await startExample(program, ["--interval", "20"], {
  name: "hubs-stock-ticker",
  env: { G_DEBUG: "fatal-warnings", G_MESSAGES_DEBUG: "stock-ticker" },
});
after(() => ticker.stop());

async function connect(protocol) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`${ticker.url}/stocks`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None);
  const connection = protocol ? builder.withHubProtocol(protocol).build() : builder.build();
  await connection.start();
  return connection;
}

function checkStock(stock) {
  assert.deepEqual(Object.keys(stock).sort(), ["change", "dayOpen", "percentChange", "price", "symbol"]);
  assert.ok(SYMBOLS.includes(stock.symbol), `${stock.symbol} is one of the stocks`);
  assert.ok(stock.price > 0);
  assert.ok(Math.abs(stock.change - (stock.price - stock.dayOpen)) < 0.006, "change is price - dayOpen");
}

// Collects a stream's items until `enough(items)`; resolves with the items
// and the subscription, or with how the stream ended.
function collect(connection, enough = () => false) {
  const items = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stream stalled after ${items.length} items`)), 10_000);
    const subscription = connection.stream("StreamStocks").subscribe({
      next(item) {
        items.push(item);
        if (enough(items)) {
          clearTimeout(timer);
          resolve({ items, subscription, ended: false });
        }
      },
      complete() {
        clearTimeout(timer);
        resolve({ items, subscription, ended: true });
      },
      error(error) {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
}

test("GetAllStocks lists every stock", async () => {
  const connection = await connect();
  try {
    const stocks = await connection.invoke("GetAllStocks");
    assert.deepEqual(stocks.map((s) => s.symbol), SYMBOLS);
    stocks.forEach(checkStock);
    assert.equal(await connection.invoke("GetMarketState"), "Open");
  } finally {
    await connection.stop();
  }
});

test("the timer's price changes reach every client", async () => {
  const alice = await connect();
  const bob = await connect();
  try {
    const [atAlice] = await nextMessage(alice, "updateStockPrice");
    const [atBob] = await nextMessage(bob, "updateStockPrice");
    checkStock(atAlice);
    checkStock(atBob);

    // Over a few ticks, prices do move.
    const seen = new Map();
    await new Promise((resolve) => {
      alice.on("updateStockPrice", (stock) => {
        const prices = seen.get(stock.symbol) ?? new Set();
        prices.add(stock.price);
        seen.set(stock.symbol, prices);
        if ([...seen.values()].some((p) => p.size >= 3)) resolve();
      });
    });
  } finally {
    await alice.stop();
    await bob.stop();
  }
});

test("MessagePack clients get the same stocks", async () => {
  const { MessagePackHubProtocol } = await import("@microsoft/signalr-protocol-msgpack");
  const connection = await connect(new MessagePackHubProtocol());
  try {
    (await connection.invoke("GetAllStocks")).forEach(checkStock);
  } finally {
    await connection.stop();
  }
});

test("StreamStocks sends the current prices, then changes, until the client stops it", async () => {
  const connection = await connect();
  try {
    const { items, subscription, ended } = await collect(connection, (items) => items.length >= SYMBOLS.length + 5);
    assert.equal(ended, false);
    // First every stock as it is now, in order.
    assert.deepEqual(items.slice(0, SYMBOLS.length).map((s) => s.symbol), SYMBOLS);
    items.forEach(checkStock);
    const since = ticker.output().length;
    subscription.dispose();
    // The client's CancelInvocation reached the hub, which ended the stream.
    await ticker.waitForOutput(/A stream of \S+ ended; 0 open/, { since });

    // The server dropped the stream and the connection goes on: another
    // stream starts and a plain call answers.
    const again = await collect(connection, (items) => items.length >= SYMBOLS.length + 1);
    again.subscription.dispose();
    assert.equal(await connection.invoke("GetMarketState"), "Open");
  } finally {
    await connection.stop();
  }
});

test("a client that leaves in the middle of a stream ends it on the server", async () => {
  const connection = await connect();
  await collect(connection, (items) => items.length >= 2);
  const since = ticker.output().length;
  await connection.stop();
  await ticker.waitForOutput(/A stream of \S+ ended; 0 open/, { since });
  // The server goes on with others (and, at the end of the tests, exits
  // without a stream left open: G_DEBUG=fatal-warnings would abort it).
  const other = await connect();
  try {
    const [stock] = await nextMessage(other, "updateStockPrice");
    checkStock(stock);
  } finally {
    await other.stop();
  }
});

test("closing the market ends the streams; while closed a stream is the current prices", async () => {
  const trader = await connect();
  const watcher = await connect();
  try {
    const streaming = collect(watcher);
    const closed = nextMessage(watcher, "marketClosed");
    // Let it stream a little first.
    await nextMessage(watcher, "updateStockPrice");
    await trader.invoke("CloseMarket");
    await closed;
    const { items, ended } = await streaming;
    assert.equal(ended, true, "the stream completes when the market closes");
    assert.ok(items.length >= SYMBOLS.length);
    assert.equal(await trader.invoke("GetMarketState"), "Closed");

    // No more broadcasts while closed.
    await assert.rejects(nextMessage(watcher, "updateStockPrice", 300), /no updateStockPrice/);

    const snapshot = await collect(watcher);
    assert.equal(snapshot.ended, true);
    assert.deepEqual(snapshot.items.map((s) => s.symbol), SYMBOLS);

    const opened = nextMessage(watcher, "marketOpened");
    await trader.invoke("OpenMarket");
    await opened;
    checkStock((await nextMessage(watcher, "updateStockPrice"))[0]);
  } finally {
    await trader.stop();
    await watcher.stop();
  }
});

test("the page and the client script are served", async () => {
  const page = await fetch(`${ticker.url}/index.html`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /stream\("StreamStocks"\)/);
  const script = await fetch(`${ticker.url}/signalr.js`);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /HubConnectionBuilder/);
  assert.equal((await fetch(`${ticker.url}/nothing-here`)).status, 404);
});
