// TestHub (Part A of the interop contract) through the official JavaScript
// client: every method but the streaming ones, errors, stop, restart,
// reconnect, redirect, headers, cookies, authorization, uncreatable hub.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matrix, STREAMING, TRANSPORTS } from "./lib/config.mjs";
import { closed, getUserAgentHeader, listen, open, rejection, signalR, withTimeout } from "./lib/hub.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };

const MESSAGE = "你好，世界！";

function complexObjectFor(protocol, { byteArray, dateTime, ...rest }) {
  // JSON carries bytes as base64 and DateTime as ISO 8601 text; MessagePack
  // (later) as bin and the timestamp extension.
  if (protocol === "json") {
    return { ...rest, ByteArray: Buffer.from(byteArray).toString("base64"), DateTime: dateTime.toISOString().replace(".000Z", "Z") };
  }
  return { ...rest, ByteArray: new Uint8Array(byteArray), DateTime: dateTime };
}

function normalise(value) {
  if (value && value.ByteArray instanceof Uint8Array) {
    return { ...value, ByteArray: new Uint8Array(value.ByteArray) };
  }
  return value;
}

for (const { transport, protocol } of matrix()) {
  describe(`TestHub over ${transport} with ${protocol}`, () => {
    const hub = (t, options = {}) => open(t, `${server.url}/testhub`, { transport, protocol, ...options });

    it("Echo returns the message and stop() closes cleanly", T, async (t) => {
      const connection = await hub(t);
      assert.equal(await connection.invoke("Echo", MESSAGE), MESSAGE);
      assert.equal(connection.state, signalR.HubConnectionState.Connected);
      await connection.stop();
      assert.equal(await withTimeout(connection.closedWith, 5000, "onclose"), undefined,
        "onclose after a clean stop has no error");
      assert.equal(connection.state, signalR.HubConnectionState.Disconnected);
    });

    it("method names are case-insensitive on the server", T, async (t) => {
      const connection = await hub(t);
      assert.equal(await connection.invoke("echo", "lower"), "lower");
      assert.equal(await connection.invoke("ECHO", "upper"), "upper");
    });

    it("non-blocking send of Echo gets no answer", T, async (t) => {
      const connection = await hub(t, { record: true });
      await connection.send("Echo", MESSAGE);
      // Invocations run one at a time per connection, so an answer to the send
      // would arrive before the completion of this invoke.
      assert.equal(await connection.invoke("Echo", "fence"), "fence");
      const answers = connection.received.filter((m) => m.type !== signalR.MessageType.Ping);
      assert.deepEqual(answers.map((m) => ({ type: m.type, result: m.result })),
        [{ type: signalR.MessageType.Completion, result: "fence" }],
        "the only non-ping message is the completion of the invoke");
      await connection.stop();
      assert.equal(await connection.closedWith, undefined);
    });

    it("GetCallerConnectionId returns the negotiated connection id", T, async (t) => {
      const connection = await hub(t);
      assert.ok(connection.connectionId, "the client has a connection id from negotiate");
      assert.equal(await connection.invoke("GetCallerConnectionId"), connection.connectionId);
    });

    it("ThrowException rethrows with the exact detailed error", T, async (t) => {
      const connection = await hub(t);
      const error = await rejection(connection.invoke("ThrowException", "An error occurred."));
      assert.equal(error.message,
        "An unexpected error occurred invoking 'ThrowException' on the server. InvalidOperationException: An error occurred.");
      assert.equal(await connection.invoke("Echo", "still alive"), "still alive");
    });

    it("InvokeWithString calls the client's Message handler and completes with null", T, async (t) => {
      const connection = await hub(t);
      // Client-side handler names are case-insensitive too.
      const messages = listen(connection, "mEssAge");
      const result = await connection.invoke("InvokeWithString", "你好 SignalR！");
      assert.equal(result, null);
      assert.deepEqual(await messages.next(), ["你好 SignalR！"]);
    });

    it("SendCustomObject calls the client's CustomObject handler with the object", T, async (t) => {
      const connection = await hub(t);
      const objects = listen(connection, "CustomObject");
      await connection.send("SendCustomObject", { Name: "test", Value: 42 });
      assert.deepEqual(await objects.next(), [{ Name: "test", Value: 42 }]);
    });

    it("GetActiveTransportName names the transport in use", T, async (t) => {
      const connection = await hub(t);
      assert.equal(await connection.invoke("GetActiveTransportName"), transport);
    });

    it("EchoComplexObject returns the object unchanged", T, async (t) => {
      const connection = await hub(t);
      const value = complexObjectFor(protocol, {
        String: "Hello, World!",
        IntArray: [0x01, 0x02, 0x03, 0xff],
        byteArray: [0x68, 0x65, 0x6c, 0x6c, 0x6f],
        Guid: "00010203-0405-0607-0706-050403020100",
        dateTime: new Date(Date.UTC(2002, 3, 1, 10, 20, 15)),
      });
      if (protocol === "json") {
        assert.equal(value.ByteArray, "aGVsbG8=");
        assert.equal(value.DateTime, "2002-04-01T10:20:15Z");
      }
      assert.deepEqual(normalise(await connection.invoke("EchoComplexObject", value)), value);
    });

    it("SendComplexObject returns the fixed object", T, async (t) => {
      const connection = await hub(t);
      const expected = complexObjectFor(protocol, {
        String: "hello world",
        IntArray: [1, 2, 3],
        byteArray: [1, 2, 3],
        Guid: "00010203-0405-0607-0706-050403020100",
        dateTime: new Date(Date.UTC(2000, 0, 1)),
      });
      if (protocol === "json") {
        assert.equal(expected.ByteArray, "AQID");
        assert.equal(expected.DateTime, "2000-01-01T00:00:00Z");
      }
      assert.deepEqual(normalise(await connection.invoke("SendComplexObject")), expected);
    });

    it("GetHeader sees the client's User-Agent", T, async (t) => {
      const connection = await hub(t);
      const [name, value] = getUserAgentHeader();
      assert.equal(name, "User-Agent");
      assert.match(value, /^Microsoft SignalR\/10\.\d+ \(/);
      assert.equal(await connection.invoke("GetHeader", "User-Agent"), value);
      assert.equal(await connection.invoke("GetHeader", "user-agent"), value, "header names are case-insensitive");
      assert.equal(await connection.invoke("GetHeader", "X-Not-Sent"), null);
    });

    it("GetHeader sees headers set with the headers option, which override the library's", T, async (t) => {
      const connection = await hub(t, { headers: { "User-Agent": "Custom Agent", "X-HEADER": "VALUE" } });
      assert.equal(await connection.invoke("GetHeader", "User-Agent"), "Custom Agent");
      assert.equal(await connection.invoke("GetHeader", "X-HEADER"), "VALUE");
    });

    it("GetCookie sees the negotiate cookies, not the expired one", T, async (t) => {
      const connection = await hub(t);
      assert.equal(await connection.invoke("GetCookie", "testCookie"), "testValue");
      assert.equal(await connection.invoke("GetCookie", "testCookie2"), "testValue2");
      assert.equal(await connection.invoke("GetCookie", "expiredCookie"), null);
      assert.equal(await connection.invoke("GetCookie", "noSuchCookie"), null);
    });

    it("GetContentTypeHeader is null for the Node client's transport request", T, async (t) => {
      const connection = await hub(t);
      assert.equal(await connection.invoke("GetContentTypeHeader"), null);
    });

    // EmptyStream is a streaming method: a server without streams has none.
    it("invoking a streaming method with invoke() fails with the exact error",
      { ...T, skip: !STREAMING && "needs the streaming methods (HUBS_ENABLE_STREAMING=1)" }, async (t) => {
      const connection = await hub(t);
      const error = await rejection(connection.invoke("EmptyStream"));
      assert.equal(error.message,
        "The client attempted to invoke the streaming 'EmptyStream' method with a non-streaming invocation.");
      assert.equal(await connection.invoke("Echo", "after"), "after");
    });

    it("invoking Echo with stream() fails with the exact error", T, async (t) => {
      const connection = await hub(t);
      const error = await new Promise((resolve, reject) => {
        connection.stream("Echo", "42").subscribe({
          next: (item) => reject(new Error(`unexpected item ${JSON.stringify(item)}`)),
          complete: () => reject(new Error("unexpected completion")),
          error: resolve,
        });
      });
      assert.equal(error.message,
        "The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.");
      assert.equal(await connection.invoke("Echo", "after"), "after");
    });

    it("a method that does not exist fails with HubException: Method does not exist.", T, async (t) => {
      const connection = await hub(t);
      const error = await rejection(connection.invoke("NoSuchMethod", 1));
      assert.equal(error.message,
        "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist.");
    });

    it("a wrong argument count fails with the detailed error", T, async (t) => {
      const connection = await hub(t);
      let error = await rejection(connection.invoke("Echo"));
      assert.equal(error.message,
        "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: Invocation provides 0 argument(s) but target expects 1.");
      error = await rejection(connection.invoke("Echo", "a", "b"));
      assert.equal(error.message,
        "Failed to invoke 'Echo' due to an error on the server. InvalidDataException: Invocation provides 2 argument(s) but target expects 1.");
      assert.equal(await connection.invoke("Echo", "fine"), "fine");
    });

    it("can be restarted: handlers survive and the connection id is new", T, async (t) => {
      const connection = await hub(t);
      const messages = listen(connection, "Message");
      const firstId = connection.connectionId;
      await connection.invoke("InvokeWithString", "one");
      assert.deepEqual(await messages.next(), ["one"]);
      await connection.stop();
      assert.equal(await connection.closedWith, undefined);

      const secondClose = closed(connection);
      await withTimeout(connection.start(), 10_000, "second start()");
      assert.notEqual(connection.connectionId, firstId);
      assert.equal(await connection.invoke("GetCallerConnectionId"), connection.connectionId);
      await connection.invoke("InvokeWithString", "two");
      assert.deepEqual(await messages.next(), ["two"]);
      await connection.stop();
      assert.equal(await secondClose, undefined);
    });

    it("reconnects after the transport is dropped, with a new connection id", T, async (t) => {
      const connection = await hub(t, { reconnect: true });
      const reconnecting = new Promise((resolve) => connection.onreconnecting(resolve));
      const reconnected = new Promise((resolve) => connection.onreconnected(resolve));
      const initialId = connection.connectionId;
      assert.equal(await connection.invoke("GetCallerConnectionId"), initialId);

      connection.serverTimeout(); // the client's own way to drop the transport
      await withTimeout(reconnecting, 5000, "onreconnecting");
      const newId = await withTimeout(reconnected, 10_000, "onreconnected");
      assert.ok(newId);
      assert.notEqual(newId, initialId);
      assert.equal(await connection.invoke("GetCallerConnectionId"), newId);
      assert.equal(await connection.invoke("Echo", "test"), "test");
      await connection.stop();
      assert.equal(await connection.closedWith, undefined);
    });

    it("through /redirect: GetNumRedirects and the connection id, also after a reconnect", T, async (t) => {
      const url = `${server.url}/redirect?numRedirects=0&baseUrl=${server.url}`;
      const connection = await open(t, url, { transport, protocol, reconnect: true });
      const reconnected = new Promise((resolve) => connection.onreconnected(resolve));
      const before = await connection.invoke("GetNumRedirects");
      assert.ok(Number.isInteger(before) && before >= 1, `numRedirects ${before}`);
      const initialId = connection.connectionId;
      assert.equal(await connection.invoke("GetCallerConnectionId"), initialId);

      connection.serverTimeout();
      const newId = await withTimeout(reconnected, 10_000, "onreconnected");
      assert.notEqual(newId, initialId);
      assert.equal(await connection.invoke("GetCallerConnectionId"), newId);
      const after = await connection.invoke("GetNumRedirects");
      assert.ok(after > before, `numRedirects ${after} after the reconnect, ${before} before`);
    });

    if (transport !== "LongPolling") {
      it("the client's 1 ms server timeout closes the connection; the server copes", T, async (t) => {
        const connection = await hub(t);
        connection.serverTimeoutInMilliseconds = 1;
        // An invocation with a response resets the timer with the new value.
        connection.invoke("Echo", "").catch(() => { /* may be cut off by the timeout */ });
        const error = await withTimeout(connection.closedWith, 5000, "onclose");
        assert.equal(error?.message, "Server timeout elapsed without receiving a message from the server.");

        const again = await hub(t);
        assert.equal(await again.invoke("Echo", "next"), "next");
      });
    }

    it("/uncreatable: start fails or onclose reports the server's Close error", T, async (t) => {
      const expected = "Server returned an error on close: Connection closed with an error. " +
        "InvalidOperationException: Unable to resolve service for type 'System.Object' while attempting to activate 'FunctionalTests.UncreatableHub'.";
      // Over Server-Sent Events and Long Polling the client's next POST (its
      // Ping after the handshake) can reach the server after the connection
      // is gone; start() then fails with that POST's 404 instead. A race of
      // the client, seen against ASP.NET Core too: try again then.
      const race = "No Connection with that ID: Status code '404'";
      const seen = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        const connection = await open(t, `${server.url}/uncreatable`, { transport, protocol, start: false });
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

    it("/testHub with another case reaches the hub", T, async (t) => {
      const connection = await open(t, `${server.url}/TestHub`, { transport, protocol });
      assert.equal(await connection.invoke("Echo", "case"), "case");
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`/authorizedhub over ${transport}`, () => {
    const tokenUrl = () => `${server.url}/generateJwtToken`;
    async function fetchToken() {
      const response = await fetch(tokenUrl());
      assert.equal(response.status, 200);
      return response.text();
    }

    it("connects with a token from /generateJwtToken", T, async (t) => {
      const token = await fetchToken();
      const connection = await open(t, `${server.url}/authorizedhub`, { transport, accessTokenFactory: () => token });
      assert.equal(await connection.invoke("Echo", MESSAGE), MESSAGE);
      await connection.stop();
      assert.equal(await connection.closedWith, undefined);
    });

    it("connects with an async token factory", T, async (t) => {
      const connection = await open(t, `${server.url}/authorizedhub`, { transport, accessTokenFactory: fetchToken });
      assert.equal(await connection.invoke("Echo", MESSAGE), MESSAGE);
      await connection.stop();
      assert.equal(await connection.closedWith, undefined);
    });

    it("without a token the negotiate fails with 401", T, async (t) => {
      const connection = await open(t, `${server.url}/authorizedhub`, { transport, start: false });
      const error = await rejection(connection.start(), 10_000, "start() to fail");
      assert.equal(error.message, "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'");
    });
  });
}

describe("negotiate edge cases", () => {
  for (const transport of TRANSPORTS) {
    it(`/bad-negotiate over ${transport}: the client reports the 400 and its body`, T, async (t) => {
      const connection = await open(t, `${server.url}/bad-negotiate`, { transport, start: false });
      const error = await rejection(connection.start(), 10_000, "start() to fail");
      assert.equal(error.message, "Failed to complete negotiation with the server: Error: Some response from server: Status code '400'");
    });
  }

  it("skipNegotiation over WebSockets: no connection id, Echo works, stop is clean", T, async (t) => {
    const connection = await open(t, `${server.url}/testhub`, { transport: "WebSockets", skipNegotiation: true });
    assert.equal(connection.connectionId, null);
    assert.equal(await connection.invoke("Echo", "skipped"), "skipped");
    assert.ok(await connection.invoke("GetCallerConnectionId"), "the server made a connection id of its own");
    await connection.stop();
    assert.equal(await connection.closedWith, undefined);
    assert.equal(connection.connectionId, null);
  });

  it("skipNegotiation over WebSockets: reconnects", T, async (t) => {
    const connection = await open(t, `${server.url}/testhub`, { transport: "WebSockets", skipNegotiation: true, reconnect: true });
    const reconnected = new Promise((resolve) => connection.onreconnected(resolve));
    const firstServerId = await connection.invoke("GetCallerConnectionId");
    connection.serverTimeout();
    assert.equal(await withTimeout(reconnected, 10_000, "onreconnected"), undefined);
    assert.equal(await connection.invoke("Echo", "test"), "test");
    assert.notEqual(await connection.invoke("GetCallerConnectionId"), firstServerId);
  });

  // These need a server that serves the other transports: they run when the
  // run covers them (HUBS_TRANSPORTS).
  const sse = TRANSPORTS.includes("ServerSentEvents");
  const longPolling = TRANSPORTS.includes("LongPolling");

  it("/testhub-nowebsockets: the client's default choice is Server-Sent Events for JSON",
    { ...T, skip: !sse && "needs ServerSentEvents in HUBS_TRANSPORTS" }, async (t) => {
    const connection = await open(t, `${server.url}/testhub-nowebsockets`, { protocol: "json" });
    assert.equal(await connection.invoke("GetActiveTransportName"), "ServerSentEvents");
  });

  it("/testhub-nowebsockets: Long Polling works",
    { ...T, skip: !longPolling && "needs LongPolling in HUBS_TRANSPORTS" }, async (t) => {
    const connection = await open(t, `${server.url}/testhub-nowebsockets`, { transport: "LongPolling" });
    assert.equal(await connection.invoke("GetActiveTransportName"), "LongPolling");
    assert.equal(await connection.invoke("Echo", "lp"), "lp");
  });

  it("/testhub-nowebsockets: WebSockets only cannot connect",
    { ...T, skip: !(sse && longPolling) && "needs ServerSentEvents and LongPolling in HUBS_TRANSPORTS" }, async (t) => {
    const connection = await open(t, `${server.url}/testhub-nowebsockets`, { transport: "WebSockets", start: false });
    const error = await rejection(connection.start(), 10_000, "start() to fail");
    assert.equal(error.message,
      "Unable to connect to the server with any of the available transports. " +
      "ServerSentEvents failed: Error: 'ServerSentEvents' is disabled by the client. " +
      "LongPolling failed: Error: 'LongPolling' is disabled by the client.");
  });
});
