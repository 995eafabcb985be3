// Hub filters (SignalR's IHubFilter) through the official JavaScript client,
// on /filteredhub of the C interop server (tests/interop/interop-filtered-hub.c):
// the server's "global" logging filter runs first, then the hub's "hub"
// logging filter, then the banned-phrase filter of the seed documentation.
// The logging filters write "NAME:before:Method", "NAME:after:Method:ok|error"
// and "NAME:connected" to the connection's log (GetLog returns and empties it).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matrix } from "./lib/config.mjs";
import { delay, open, rejection, withTimeout } from "./lib/hub.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };
// /filteredhub is hubs-glib's own, beyond the contract: the C and Python
// interop servers serve it, the ASP.NET Core one does not.
const SKIP = /dotnet/.test((process.env.HUBS_INTEROP_SERVER ?? "").trim().split(/ +/)[0]) &&
  "/filteredhub is hubs-glib's own";

const around = (method, outcome = "ok") => [
  `global:before:${method}`, `hub:before:${method}`,
  `hub:after:${method}:${outcome}`, `global:after:${method}:${outcome}`,
];

/** Subscribes to a stream; resolves with { items, error } when it ends. */
function collect(stream, ms = 5000) {
  const items = [];
  const ended = new Promise((resolve) => {
    stream.subscribe({
      next: (item) => items.push(item),
      complete: () => resolve({ items, error: undefined }),
      error: (error) => resolve({ items, error }),
    });
  });
  return withTimeout(ended, ms, "the end of the stream");
}

for (const { transport, protocol } of matrix()) {
  describe(`hub filters over ${transport} with ${protocol}`, { skip: SKIP }, () => {
    async function connect(t, user) {
      const options = { transport, protocol };
      if (user) options.accessTokenFactory = () => user;
      return open(t, `${server.url}/filteredhub`, options);
    }

    /** The log since the last GetLog, without GetLog's own entries. */
    async function logOf(connection) {
      const log = await connection.invoke("GetLog");
      return log.filter((entry) => !entry.includes(":GetLog"));
    }

    it("on_connected runs through the server's filter, then the hub's", T, async (t) => {
      const connection = await connect(t);
      assert.deepEqual(await logOf(connection), ["global:connected", "hub:connected"]);
    });

    it("filters run around a method in registration order, the server's outermost", T, async (t) => {
      const connection = await connect(t);
      await logOf(connection);
      assert.equal(await connection.invoke("Echo", "hello"), "hello");
      assert.deepEqual(await logOf(connection), around("Echo"));
    });

    it("a filter changes arguments before the method runs", T, async (t) => {
      const connection = await connect(t);
      assert.equal(await connection.invoke("Echo", "well darn it, darn"), "well *** it, ***");
    });

    it("a filter observes and changes the result", T, async (t) => {
      const connection = await connect(t);
      assert.equal(await connection.invoke("Reveal"), "the *** secret");
    });

    it("a filter short-circuits with an error: the method does not run, the connection stays", T, async (t) => {
      const connection = await connect(t);
      await logOf(connection);
      const error = await rejection(connection.invoke("Echo", "this is forbidden"));
      assert.equal(error.message,
        "An unexpected error occurred invoking 'Echo' on the server. HubException: The message contains a banned phrase.");
      assert.deepEqual(await logOf(connection), around("Echo", "error"));
      assert.equal(await connection.invoke("Echo", "fine"), "fine");
    });

    it("the method's error passes out through the filters", T, async (t) => {
      const connection = await connect(t);
      await logOf(connection);
      const error = await rejection(connection.invoke("Fail"));
      assert.equal(error.message, "An unexpected error occurred invoking 'Fail' on the server. HubException: The method failed.");
      assert.deepEqual(await logOf(connection), around("Fail", "error"));
    });

    it("a non-blocking send goes through the filters too", T, async (t) => {
      const connection = await connect(t);
      await logOf(connection);
      await connection.send("Echo", "sent");
      await delay(50);
      assert.deepEqual(await logOf(connection), around("Echo"));
    });

    it("filters wrap a streaming method around its start; the items reach the client", T, async (t) => {
      const connection = await connect(t);
      await logOf(connection);
      assert.deepEqual(await collect(connection.stream("Counter", 3)), { items: [0, 1, 2], error: undefined });
      assert.deepEqual(await logOf(connection), around("Counter"));
    });

    it("a filter that refuses a streaming method ends the stream with the invocation error", T, async (t) => {
      const connection = await connect(t);
      assert.deepEqual(await collect(connection.stream("Words", "a darn day")),
        { items: ["a", "***", "day"], error: undefined }, "the argument changed before the stream started");
      await logOf(connection);
      const { items, error } = await collect(connection.stream("Words", "a forbidden day"));
      assert.deepEqual(items, []);
      assert.equal(error?.message,
        "An unexpected error occurred invoking 'Words' on the server. HubException: The message contains a banned phrase.");
      assert.deepEqual(await logOf(connection), around("Words", "error"));
      assert.equal(await connection.invoke("Echo", "fine"), "fine");
    });

    it("a method that waits for a client result is filtered around the wait", T, async (t) => {
      const connection = await connect(t);
      connection.on("Repeat", (text) => `${text} and darn again`);
      await logOf(connection);
      assert.equal(await connection.invoke("AskCaller", "darn"), "*** and *** again",
        "the argument was masked on the way in, the client's result on the way out");
      assert.deepEqual(await logOf(connection), around("AskCaller"));
    });

    it("a filter refuses a connection from on_connected without the hub's", T, async (t) => {
      const expected = "Server returned an error on close: Connection closed with an error. HubException: A filter refused the connection.";
      const race = "No Connection with that ID: Status code '404'";
      const seen = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        const connection = await open(t, `${server.url}/filteredhub`,
          { transport, protocol, start: false, accessTokenFactory: () => "refused" });
        let error;
        try {
          await withTimeout(connection.start(), 10_000, "start()");
          error = await withTimeout(connection.closedWith, 5000, "onclose");
        } catch (startError) {
          error = startError;
        }
        if (error?.message === expected) return;
        seen.push(error?.message);
        if (transport === "WebSockets" || error?.message !== race) break;
      }
      assert.fail(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(seen)}`);
    });

    it("on_disconnected runs through the filters", T, async (t) => {
      const watcher = await connect(t);
      const leaving = await connect(t);
      const id = leaving.connectionId;
      await leaving.stop();
      await delay(100);
      const log = await watcher.invoke("GetDisconnections");
      const mine = log.filter((entry) => entry.endsWith(`:disconnected:${id}`));
      assert.deepEqual(mine, [`global:disconnected:${id}`, `hub:disconnected:${id}`]);
    });
  });
}
