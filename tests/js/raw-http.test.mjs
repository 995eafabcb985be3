// Server-Sent Events, Long Polling and sends, with raw HTTP requests: every
// status, body and header that ASP.NET Core's HttpConnectionDispatcher and
// its transports answer (signalr-wire.md §1, §6, §7). These run once
// whatever HUBS_TRANSPORTS says.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { delay, HttpConnection, listen, open, rejection, signalR, WebSocket, withTimeout } from "./lib/hub.mjs";
import { startServer, useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };
const RS = "\x1e";
const HANDSHAKE = `{"protocol":"json","version":1}${RS}`;

async function negotiate(path) {
  const response = await fetch(`${server.url}${path}/negotiate?negotiateVersion=1`, { method: "POST" });
  assert.equal(response.status, 200);
  return (await response.json()).connectionToken;
}

function url(path, token) {
  return `${server.url}${path}${token === undefined ? "" : `?id=${encodeURIComponent(token)}`}`;
}

async function post(path, token, body) {
  return fetch(url(path, token), { method: "POST", body });
}

async function expectText(response, status, body, contentType = "text/plain") {
  assert.equal(response.status, status);
  assert.equal(await response.text(), body);
  if (contentType !== undefined) assert.equal(response.headers.get("content-type"), contentType);
}

function assertNoCache(response) {
  assert.equal(response.headers.get("cache-control"), "no-cache, no-store");
  assert.equal(response.headers.get("pragma"), "no-cache");
  assert.equal(response.headers.get("expires"), "Thu, 01 Jan 1970 00:00:00 GMT");
}

function poll(path, token, signal) {
  return fetch(url(path, token), { signal });
}

/** An event stream: `until(text)` reads until what was received contains it. */
async function eventStream(t, path, token) {
  const controller = new AbortController();
  t.after(() => controller.abort());
  const response = await fetch(url(path, token), {
    headers: { Accept: "text/event-stream" },
    signal: controller.signal,
  });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let received = "";
  return {
    response,
    get received() {
      return received;
    },
    async until(text, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!received.includes(text)) {
        const { value, done } = await withTimeout(reader.read(), Math.max(1, deadline - Date.now()),
          `${JSON.stringify(text)} on the event stream (so far ${JSON.stringify(received)})`);
        if (done) throw new Error(`the event stream ended before ${JSON.stringify(text)}: ${JSON.stringify(received)}`);
        received += decoder.decode(value, { stream: true });
      }
      return received;
    },
    async ended(ms = 5000) {
      for (;;) {
        const { value, done } = await withTimeout(reader.read(), ms, "the end of the event stream");
        if (done) return received;
        received += decoder.decode(value, { stream: true });
      }
    },
  };
}

/** A Long Polling connection to @path whose first poll has been made. */
async function longPolling(path) {
  const token = await negotiate(path);
  const first = await poll(path, token);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("content-type"), "application/octet-stream");
  assert.equal(first.headers.get("content-length"), "0");
  assertNoCache(first);
  assert.equal(await first.text(), "");
  return token;
}

describe("Server-Sent Events", () => {
  it("a GET without id answers 400 Connection ID required", T, async () => {
    const response = await fetch(url("/testhub"), { headers: { Accept: "text/event-stream" } });
    await expectText(response, 400, "Connection ID required");
  });

  it("an unknown id answers 404 No Connection with that ID", T, async () => {
    const response = await fetch(url("/testhub", "nosuchid"), { headers: { Accept: "text/event-stream" } });
    await expectText(response, 404, "No Connection with that ID");
  });

  it("the stream's headers, its opening comment, the handshake and an invocation", T, async (t) => {
    const token = await negotiate("/testhub");
    const stream = await eventStream(t, "/testhub", token);
    const { response } = stream;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    assert.equal(response.headers.get("cache-control"), "no-cache,no-store");
    assert.equal(response.headers.get("pragma"), "no-cache");
    assert.equal(response.headers.get("content-encoding"), "identity");
    assert.equal(response.headers.get("expires"), null);
    assert.equal(await stream.until(":\r\n"), ":\r\n");

    await expectText(await post("/testhub", token, HANDSHAKE), 200, "");
    await stream.until(`data: {}${RS}\r\n\r\n`);
    await expectText(await post("/testhub", token,
      `{"type":1,"invocationId":"1","target":"Echo","arguments":["sse"]}${RS}`), 200, "");
    await stream.until(`data: {"type":3,"invocationId":"1","result":"sse"}${RS}\r\n\r\n`);
  });

  it("a binary protocol is refused at the handshake: SSE carries text only", T, async (t) => {
    const token = await negotiate("/testhub");
    const stream = await eventStream(t, "/testhub", token);
    await stream.until(":\r\n");
    await expectText(await post("/testhub", token, `{"protocol":"messagepack","version":1}${RS}`), 200, "");
    const all = await stream.ended();
    assert.equal(all, ":\r\ndata: {\"error\":\"Cannot use the 'messagepack' protocol on the current transport. " +
      `The transport does not support 'Binary' transfer format."}${RS}\r\n\r\n`);
  });

  it("a payload with line breaks is one event of several data lines", T, async (t) => {
    const token = await negotiate("/echo");
    const stream = await eventStream(t, "/echo", token);
    await stream.until(":\r\n");
    await expectText(await post("/echo", token, "a\nb\r\nc\n"), 200, "");
    await stream.until("data: a\r\ndata: b\r\ndata: c\r\ndata: \r\n\r\n");
    await expectText(await post("/echo", token, "x\n\r\ny"), 200, "");
    // A line of one byte keeps its CR.
    await stream.until("data: x\r\ndata: \r\r\ndata: y\r\n\r\n");
  });

  it("a second stream answers 409; a poll or DELETE on it 400", T, async (t) => {
    const token = await negotiate("/testhub");
    const stream = await eventStream(t, "/testhub", token);
    await stream.until(":\r\n");
    const second = await fetch(url("/testhub", token), { headers: { Accept: "text/event-stream" } });
    assert.equal(second.status, 409);
    assert.equal(await second.text(), "");
    const polled = await poll("/testhub", token);
    await expectText(polled, 400, "Cannot change transports mid-connection");
    assertNoCache(polled);
    await expectText(await fetch(url("/testhub", token), { method: "DELETE" }), 400,
      "Cannot terminate this connection using the DELETE endpoint.");
  });

  it("the stream ends when the hub closes the connection", T, async (t) => {
    const token = await negotiate("/testhub");
    const stream = await eventStream(t, "/testhub", token);
    await stream.until(":\r\n");
    await expectText(await post("/testhub", token, HANDSHAKE), 200, "");
    await stream.until(`data: {}${RS}\r\n\r\n`);
    await expectText(await post("/testhub", token, `{"type":7}${RS}`), 200, "");
    const all = await stream.ended();
    assert.ok(all.endsWith(`data: {"type":7}${RS}\r\n\r\n`), JSON.stringify(all));
    // The connection is forgotten once the server has seen its response out,
    // a moment after the client has read the end.
    await delay(200);
    await expectText(await post("/testhub", token, "x"), 404, "No Connection with that ID");
  });
});

describe("Long Polling", () => {
  it("a poll without id answers 400, with the no-cache headers", T, async () => {
    const response = await poll("/testhub");
    assertNoCache(response);
    await expectText(response, 400, "Connection ID required");
  });

  it("an unknown id answers 404, with the no-cache headers", T, async () => {
    const response = await poll("/testhub", "nosuchid");
    assertNoCache(response);
    await expectText(response, 404, "No Connection with that ID");
  });

  it("the first poll returns at once; later ones wait for data and take all of it", T, async () => {
    const token = await longPolling("/testhub");
    await expectText(await post("/testhub", token, HANDSHAKE), 200, "");
    const handshake = await poll("/testhub", token);
    assertNoCache(handshake);
    await expectText(handshake, 200, `{}${RS}`, "application/octet-stream");

    const waiting = poll("/testhub", token);
    await delay(100);
    // Two invocations in one body, the second split across two POSTs.
    const second = `{"type":1,"invocationId":"2","target":"Echo","arguments":["two"]}${RS}`;
    await expectText(await post("/testhub", token,
      `{"type":1,"invocationId":"1","target":"Echo","arguments":["one"]}${RS}${second.slice(0, 20)}`), 200, "");
    await expectText(await post("/testhub", token, second.slice(20)), 200, "");
    let body = await (await waiting).text();
    if (!body.includes('"invocationId":"2"')) body += await (await poll("/testhub", token)).text();
    assert.equal(body,
      `{"type":3,"invocationId":"1","result":"one"}${RS}{"type":3,"invocationId":"2","result":"two"}${RS}`);
  });

  it("a new poll ends the pending one with 204", T, async () => {
    const token = await longPolling("/testhub");
    const first = poll("/testhub", token);
    await delay(100);
    const controller = new AbortController();
    const second = poll("/testhub", token, controller.signal);
    const answered = await withTimeout(first, 5000, "the first poll's answer");
    await expectText(answered, 204, "");
    await fetch(url("/testhub", token), { method: "DELETE" });
    assert.equal((await second).status, 204);
  });

  it("DELETE answers 202, the pending poll 204, and the connection is gone", T, async () => {
    const token = await longPolling("/testhub");
    const pending = poll("/testhub", token);
    await delay(100);
    await expectText(await fetch(url("/testhub", token), { method: "DELETE" }), 202, "");
    await expectText(await withTimeout(pending, 5000, "the pending poll"), 204, "");
    await expectText(await poll("/testhub", token), 404, "No Connection with that ID");
    await expectText(await post("/testhub", token, "x"), 404, "No Connection with that ID");
    await expectText(await fetch(url("/testhub", token), { method: "DELETE" }), 404, "No Connection with that ID");
  });

  it("an SSE GET on a polled connection answers 400", T, async () => {
    const token = await longPolling("/testhub");
    const response = await fetch(url("/testhub", token), { headers: { Accept: "text/event-stream" } });
    await expectText(response, 400, "Cannot change transports mid-connection");
    await fetch(url("/testhub", token), { method: "DELETE" });
  });

  it("the end of the connection: the Close message, then 204", T, async () => {
    const token = await longPolling("/testhub");
    await post("/testhub", token, HANDSHAKE);
    await expectText(await poll("/testhub", token), 200, `{}${RS}`, "application/octet-stream");
    await expectText(await post("/testhub", token, `{"type":7}${RS}`), 200, "");
    await expectText(await poll("/testhub", token), 200, `{"type":7}${RS}`, "application/octet-stream");
    await expectText(await poll("/testhub", token), 204, "");
    await expectText(await poll("/testhub", token), 404, "No Connection with that ID");
  });

  it("a connection not polled for 15 s is disposed and its on_disconnected runs; no pings meanwhile", { timeout: 30_000 }, async (t) => {
    // Meanwhile another connection polls: no Ping comes in the 15 s
    // keep-alive interval (Long Polling has inherent keep-alive).
    const quiet = await longPolling("/testhub");
    await post("/testhub", quiet, HANDSHAKE);
    await expectText(await poll("/testhub", quiet), 200, `{}${RS}`, "application/octet-stream");
    const quietStart = Date.now();
    let quietAnswer = null;
    const quietPoll = poll("/testhub", quiet).then((response) => { quietAnswer = response; });

    const observer = await open(t, `${server.url}/featurehub`, { transport: "WebSockets", start: false });
    const joined = listen(observer, "Joined");
    const left = listen(observer, "Left");
    await observer.start();
    const token = await longPolling("/featurehub");
    await post("/featurehub", token, HANDSHAKE);
    const [id] = await joined.next();
    const started = Date.now();
    const [leftId] = await left.next(25_000);
    assert.equal(leftId, id);
    const waited = Date.now() - started;
    assert.ok(waited > 13_000 && waited < 20_000, `disposed after ${waited} ms`);
    await expectText(await poll("/featurehub", token), 404, "No Connection with that ID");

    await delay(Math.max(0, 17_000 - (Date.now() - quietStart)));
    assert.equal(quietAnswer, null, "the poll was answered: the server sent something (a Ping?)");
    await fetch(url("/testhub", quiet), { method: "DELETE" });
    await quietPoll;
    assert.equal(quietAnswer.status, 204);
  });
});

describe("transports per hub", () => {
  it("/testhub-nowebsockets: negotiate lists SSE and Long Polling, and a WebSockets-only client cannot connect", T, async (t) => {
    const response = await fetch(`${server.url}/testhub-nowebsockets/negotiate?negotiateVersion=1`, { method: "POST" });
    assert.deepEqual((await response.json()).availableTransports.map((entry) => entry.transport),
      ["ServerSentEvents", "LongPolling"]);
    const connection = await open(t, `${server.url}/testhub-nowebsockets`, { transport: "WebSockets", start: false });
    const error = await rejection(connection.start(), 10_000, "start() to fail");
    assert.equal(error.message,
      "Unable to connect to the server with any of the available transports. " +
      "ServerSentEvents failed: Error: 'ServerSentEvents' is disabled by the client. " +
      "LongPolling failed: Error: 'LongPolling' is disabled by the client.");
  });

  it("/testhub-nowebsockets: a WebSocket upgrade answers 404", T, async () => {
    const token = await negotiate("/testhub-nowebsockets");
    const socket = new WebSocket(url("/testhub-nowebsockets", token).replace(/^http/, "ws"));
    const status = await withTimeout(new Promise((resolve) => {
      socket.once("unexpected-response", (request, response) => resolve(response.statusCode));
      socket.once("open", () => resolve("open"));
      socket.once("error", () => {});
    }), 5000, "the upgrade's answer");
    socket.terminate();
    assert.equal(status, 404);
  });
});

describe("sends", () => {
  it("a POST without id answers 400; with an unknown one 404", T, async () => {
    await expectText(await post("/testhub", undefined, "x"), 400, "Connection ID required");
    await expectText(await post("/testhub", "nosuchid", "x"), 404, "No Connection with that ID");
  });

  it("a POST to a WebSocket connection answers 405", T, async (t) => {
    const token = await negotiate("/testhub");
    const socket = new WebSocket(url("/testhub", token).replace(/^http/, "ws"));
    t.after(() => socket.terminate());
    await withTimeout(new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    }), 5000, "the WebSocket to open");
    await expectText(await post("/testhub", token, "x"), 405, "POST requests are not allowed for WebSocket connections.");
  });

  it("other methods answer 405", T, async () => {
    const response = await fetch(url("/testhub", "x"), { method: "PUT" });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("content-type"), "text/plain");
  });

  it("concurrent POSTs each arrive whole, as one chunk", T, async (t) => {
    const token = await negotiate("/echo");
    const stream = await eventStream(t, "/echo", token);
    await stream.until(":\r\n");
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post("/echo", token, `m${i}`)));
    for (const answer of answers) await expectText(answer, 200, "");
    const expected = Array.from({ length: 20 }, (_, i) => `data: m${i}\r\n\r\n`).join("");
    await stream.until(expected.slice(-12));
    // Each POST is one chunk, echoed as one event.
    const events = stream.received.slice(3).split("\r\n\r\n").filter(Boolean).map((e) => e.slice(6));
    assert.equal(events.length, 20);
    assert.deepEqual(new Set(events), new Set(Array.from({ length: 20 }, (_, i) => `m${i}`)));
  });
});

describe("/echo over the HTTP transports", () => {
  for (const transport of ["ServerSentEvents", "LongPolling"]) {
    it(`each chunk comes back in one piece over ${transport}`, T, async (t) => {
      const connection = new HttpConnection(`${server.url}/echo`, {
        transport: signalR.HttpTransportType[transport],
        logger: signalR.NullLogger.instance,
      });
      t.after(() => withTimeout(connection.stop(), 5000, "stop").catch(() => {}));
      const received = [];
      let waiter = null;
      connection.onreceive = (data) => {
        received.push(data);
        waiter?.();
      };
      await withTimeout(connection.start(signalR.TransferFormat.Text), 10_000, "start()");
      const messages = ["one", "two lines\nhere", "x".repeat(10_000)];
      for (const message of messages) {
        await connection.send(message);
        await withTimeout(new Promise((resolve) => {
          if (received.length) resolve();
          else waiter = resolve;
        }), 5000, "the echo");
        assert.deepEqual(received.splice(0), [message]);
      }
    });
  }
});

describe("the server process with HTTP transport clients", () => {
  it("on SIGTERM ends Server-Sent Events and Long Polling connections and exits 0 at once", { timeout: 40_000 }, async (t) => {
    const own = await startServer();
    t.after(() => own.stop());
    const connections = [];
    for (const transport of ["ServerSentEvents", "LongPolling"]) {
      const connection = await open(t, `${own.url}/testhub`, { transport });
      assert.equal(await connection.invoke("Echo", "before stop"), "before stop");
      connections.push(connection);
    }
    const started = Date.now();
    own.child.kill("SIGTERM");
    const { code, signal } = await withTimeout(own.exited, 10_000, "the server to exit after SIGTERM");
    assert.equal(signal, null, "it exits by itself, not by the signal");
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    for (const connection of connections) {
      await withTimeout(connection.closedWith, 10_000, "the client to see the connection end");
    }
  });
});
