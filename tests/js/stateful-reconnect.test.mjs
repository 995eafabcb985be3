// Stateful reconnect (HubProtocol.md "Stateful Reconnect"; signalr-wire.md
// §11) on /testhub-statefulreconnect, TestHub with AllowStatefulReconnects:
// the official client keeps its connection across sockets cut under it while
// messages flow both ways, and the raw protocol is checked message by
// message: negotiate, Sequence then replay on the new socket, Acks, dropped
// duplicates, the buffer's backpressure and the reconnect window. WebSockets
// only by nature, so these run once whatever HUBS_TRANSPORTS says.

import assert from "node:assert/strict";
import net from "node:net";
import { describe, it } from "node:test";
import { delay, open, withTimeout } from "./lib/hub.mjs";
import { negotiate, RawWebSocket } from "./lib/rawws.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const PATH = "/testhub-statefulreconnect";
const T = { timeout: 30_000 };

/**
 * A TCP proxy in front of the server whose cut() drops every connection
 * through it at once, without a WebSocket close: what a network failure
 * looks like to both ends.
 */
async function cuttingProxy(t, targetUrl) {
  const target = new URL(targetUrl);
  const pairs = new Set();
  const proxy = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    proxy.close();
  });
  return {
    url: `http://127.0.0.1:${proxy.address().port}`,
    /** Resolves once a connection goes through (a client came back). */
    async connected(ms = 10_000) {
      const deadline = Date.now() + ms;
      while (pairs.size === 0) {
        if (Date.now() > deadline) throw new Error("no connection through the proxy");
        await delay(5);
      }
    },
    cut() {
      const n = pairs.size;
      for (const { client, upstream } of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      return n;
    },
  };
}

/** A raw WebSocket on a negotiated stateful connection, handshake v2 done. */
async function statefulRaw(t, { version = 2, path = PATH } = {}) {
  const negotiation = await negotiate(server.url, path, "useStatefulReconnect=true");
  assert.equal(negotiation.useStatefulReconnect, true);
  const ws = await resume(t, negotiation.connectionToken, path);
  ws.negotiation = negotiation;
  await ws.handshake("json", version);
  return ws;
}

/** A new raw WebSocket on the connection of `token`, without a handshake. */
async function resume(t, token, path = PATH) {
  const ws = await RawWebSocket.connect(server.url, path, {
    negotiate: false,
    query: `id=${encodeURIComponent(token)}`,
  });
  t.after(() => ws.destroy());
  return ws;
}

/** The next record that is not a Ping, parsed. */
async function nextMessage(ws, ms = 5000) {
  for (;;) {
    const message = JSON.parse(await ws.nextRecord(ms));
    if (message.type !== 6) return message;
  }
}

/** Records until none comes for `quietMs`, Pings left out. */
async function drain(ws, quietMs = 1500) {
  const messages = [];
  for (;;) {
    let record;
    try {
      record = await ws.nextRecord(quietMs);
    } catch {
      return messages;
    }
    const message = JSON.parse(record);
    if (message.type !== 6) messages.push(message);
  }
}

function invokeWithString(ws, id, text) {
  ws.invoke(id, "InvokeWithString", [text]);
}

describe("stateful reconnect: negotiate", () => {
  it("answers useStatefulReconnect first where the hub allows it and the client asks", T, async () => {
    const response = await fetch(`${server.url}${PATH}/negotiate?negotiateVersion=1&useStatefulReconnect=true`,
      { method: "POST" });
    const body = await response.text();
    assert.match(body, /^\{"useStatefulReconnect":true,"negotiateVersion":1,"connectionId":"/);
  });

  it("leaves it out where the client does not ask or the hub does not allow it", T, async () => {
    for (const [path, query] of [[PATH, ""], [PATH, "&useStatefulReconnect=false"],
      ["/testhub", "&useStatefulReconnect=true"]]) {
      const response = await fetch(`${server.url}${path}/negotiate?negotiateVersion=1${query}`, { method: "POST" });
      const body = await response.json();
      assert.equal(body.useStatefulReconnect, undefined, `${path} ${query}`);
    }
  });
});

describe("stateful reconnect: the official client", () => {
  it("loses and duplicates nothing when its socket is cut while messages flow", { timeout: 90_000 }, async (t) => {
    const proxy = await cuttingProxy(t, server.url);
    const connection = await open(t, `${proxy.url}${PATH}`, {
      transport: "WebSockets",
      _useStatefulReconnect: true,
    });
    const received = [];
    connection.on("Message", (text) => received.push(text));
    let reconnecting = 0;
    connection.onreconnecting(() => reconnecting++);
    const id = await connection.invoke("GetCallerConnectionId");

    // Invocations go out in waves while the socket is cut under them; each
    // one's Message and Completion cross the cut in the other direction.
    const total = 600;
    const pending = [];
    let cuts = 0;
    for (let i = 0; i < total; i++) {
      pending.push(connection.invoke("InvokeWithString", `m${i}`));
      if (i % 100 === 50) {
        // Cut only a client that is back on its socket: the official client
        // tries one new socket per loss, and cutting that one mid-upgrade
        // would be another test. An answer means it is back.
        await proxy.connected();
        await withTimeout(connection.invoke("GetCallerConnectionId"), 20_000, "the client back on a socket");
        await delay(5);
        cuts += proxy.cut() > 0 ? 1 : 0;
      }
      if (i % 25 === 0) await delay(1);
    }
    await withTimeout(Promise.all(pending), 60_000, "every invocation completing");
    assert.equal(cuts, 6, "the socket was cut six times");

    assert.equal(received.length, total, "each Message arrives exactly once");
    assert.deepEqual(received, Array.from({ length: total }, (_, i) => `m${i}`));
    assert.equal(await connection.invoke("GetCallerConnectionId"), id, "the same connection goes on");
    assert.equal(reconnecting, 0, "no reconnect is visible above the transport");
    assert.equal(connection.state, "Connected");
  });
});

describe("stateful reconnect: the protocol", () => {
  it("replays what the client did not acknowledge after Sequence, and drops what it sends twice", T, async (t) => {
    const ws = await statefulRaw(t);
    invokeWithString(ws, "1", "a");
    assert.deepEqual(await nextMessage(ws), { type: 1, target: "Message", arguments: ["a"] });
    assert.deepEqual(await nextMessage(ws), { type: 3, invocationId: "1", result: null });
    // Within the second, the server acknowledges the one message it got.
    assert.deepEqual(await nextMessage(ws, 3000), { type: 8, sequenceId: 1 });

    ws.destroy();
    const again = await resume(t, ws.negotiation.connectionToken);
    assert.equal(await again.nextRecord(), '{"type":9,"sequenceId":1}');
    assert.deepEqual(await nextMessage(again), { type: 1, target: "Message", arguments: ["a"] });
    assert.deepEqual(await nextMessage(again), { type: 3, invocationId: "1", result: null });

    // The client resends from 1: its first invocation again (a duplicate,
    // dropped) then a new one.
    again.sendRecords({ type: 8, sequenceId: 2 }, { type: 9, sequenceId: 1 },
      { type: 1, invocationId: "1", target: "InvokeWithString", arguments: ["a"] },
      { type: 1, invocationId: "2", target: "InvokeWithString", arguments: ["b"] });
    const messages = await drain(again, 2500);
    assert.deepEqual(messages.filter((m) => m.type !== 8), [
      { type: 1, target: "Message", arguments: ["b"] },
      { type: 3, invocationId: "2", result: null },
    ]);
    // The server acknowledges the new one (id 2) once, within its second.
    const acks = messages.filter((m) => m.type === 8);
    if (acks.length === 0) acks.push(await nextMessage(again, 5000));
    assert.deepEqual(acks, [{ type: 8, sequenceId: 2 }]);

    // Acknowledged messages are not sent again.
    again.sendRecords({ type: 8, sequenceId: 4 });
    await delay(200);
    again.destroy();
    const third = await resume(t, ws.negotiation.connectionToken);
    assert.equal(await third.nextRecord(), '{"type":9,"sequenceId":5}');
    third.sendRecords({ type: 9, sequenceId: 3 });
    third.invoke("3", "Echo", ["still here"]);
    assert.deepEqual(await nextMessage(third), { type: 3, invocationId: "3", result: "still here" });
  });

  it("closes the connection on a Sequence past what it received", T, async (t) => {
    const ws = await statefulRaw(t);
    ws.invoke("1", "Echo", ["x"]);
    assert.deepEqual(await nextMessage(ws), { type: 3, invocationId: "1", result: "x" });
    ws.sendRecords({ type: 9, sequenceId: 3 });
    const close = await nextMessage(ws);
    assert.equal(close.type, 7);
    assert.match(close.error, /Sequence ID greater than amount of messages we've received\./);
  });

  it("holds a stream back while unacknowledged messages pass the buffer size", T, async (t) => {
    const ws = await statefulRaw(t, { path: "/featurehub-statefulreconnect" });
    assert.equal((await nextMessage(ws)).target, "Welcome");
    ws.sendRecords({ type: 4, invocationId: "c", target: "Counter", arguments: [20000, 0] });
    let items = (await drain(ws, 1500)).filter((m) => m.type === 2);
    // Each item takes 36 to 44 bytes: 100,000 bytes hold at most about 2,800
    // of them; then the stream waits for an Ack.
    assert.ok(items.length > 0 && items.length < 3000, `${items.length} items before any Ack`);
    const values = items.map((m) => m.item);
    let acked = 1 + items.length;
    for (let round = 0; round < 100 && values.length < 20000; round++) {
      ws.sendRecords({ type: 8, sequenceId: acked });
      items = (await drain(ws, 300)).filter((m) => m.type === 2);
      values.push(...items.map((m) => m.item));
      acked += items.length;
    }
    assert.equal(values.length, 20000);
    assert.deepEqual(values, Array.from({ length: 20000 }, (_, i) => i));
  });

  it("goes on with the client's invocations while its own Acks wait behind them", T, async (t) => {
    const ws = await statefulRaw(t);
    const big = "x".repeat(20_000);
    for (let i = 0; i < 10; i++) invokeWithString(ws, String(i), big);
    const messages = await drain(ws, 2000);
    assert.equal(messages.filter((m) => m.type === 1).length, 10);
    assert.equal(messages.filter((m) => m.type === 3).length, 10);
  });

  it("drops what a client sends on its new socket before its Sequence", T, async (t) => {
    const ws = await statefulRaw(t);
    ws.destroy();
    const again = await resume(t, ws.negotiation.connectionToken);
    assert.equal(await again.nextRecord(), '{"type":9,"sequenceId":1}');
    again.invoke("early", "Echo", ["dropped"]);
    again.sendRecords({ type: 9, sequenceId: 1 });
    again.invoke("late", "Echo", ["handled"]);
    const messages = await drain(again, 1500);
    assert.deepEqual(messages.filter((m) => m.type === 3), [{ type: 3, invocationId: "late", result: "handled" }]);
  });

  it("ends the connection for good when the client closes its WebSocket", T, async (t) => {
    const ws = await statefulRaw(t);
    ws.sendClose(1000);
    await delay(300);
    ws.destroy();
    const response = await fetch(`${server.url}${PATH}?id=${encodeURIComponent(ws.negotiation.connectionToken)}`,
      { headers: { Accept: "text/event-stream" } });
    assert.equal(response.status, 404);
  });

  it("does not keep a connection whose handshake was version 1", T, async (t) => {
    const ws = await statefulRaw(t, { version: 1 });
    ws.invoke("1", "Echo", ["x"]);
    assert.deepEqual(await nextMessage(ws), { type: 3, invocationId: "1", result: "x" });
    ws.destroy();
    await delay(300);
    const answer = await RawWebSocket.connect(server.url, PATH, {
      negotiate: false,
      query: `id=${encodeURIComponent(ws.negotiation.connectionToken)}`,
    }).then(() => 101, (error) => error.message);
    assert.match(String(answer), /404/);
  });

  it("gives up on a client that does not come back within 15 s", { timeout: 40_000 }, async (t) => {
    const ws = await statefulRaw(t);
    ws.invoke("1", "Echo", ["x"]);
    assert.deepEqual(await nextMessage(ws), { type: 3, invocationId: "1", result: "x" });
    ws.destroy();
    await delay(5_000);
    // Still waiting: another socket may take over (then leaves again).
    const back = await resume(t, ws.negotiation.connectionToken);
    assert.equal(await back.nextRecord(), '{"type":9,"sequenceId":1}');
    back.destroy();
    await delay(16_500);
    const answer = await RawWebSocket.connect(server.url, PATH, {
      negotiate: false,
      query: `id=${encodeURIComponent(ws.negotiation.connectionToken)}`,
    }).then(() => 101, (error) => error.message);
    assert.match(String(answer), /404/);
  });
});


