// Observability with the official client: the counters of /metrics after a
// known sequence of calls, the log records of that sequence with
// G_MESSAGES_DEBUG=Hubs, and a server that prints nothing without it.
//
// The interop server maps /metrics only when started with --metrics, an
// addition to the contract (tests/interop/interop-main.c) that the C and
// Python servers have: the suite is skipped against the ASP.NET Core one.
// Every test starts a server of its own, so that the counters start from
// zero.

import { test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { build, delay, rejection, stopQuietly, withTimeout, WebSocket } from "./lib/hub.mjs";
import { PROTOCOLS } from "./lib/config.mjs";

// What the JS client sends first on every connection (HandshakeProtocol).
const HANDSHAKE_REQUEST = JSON.stringify({ protocol: "json", version: 1 }) + "\x1e";
const HANDSHAKE_RESPONSE = "{}\x1e";

const SKIP = /dotnet/.test((process.env.HUBS_INTEROP_SERVER ?? "").trim().split(/ +/)[0]) &&
  "--metrics and the Hubs log domain are hubs-glib's";
const test = (name, fn) => nodeTest(name, { skip: SKIP }, fn);

/** Parses the Prometheus text format: { samples: Map(series → number), types: Map(name → type) }. */
function parsePrometheus(text) {
  const samples = new Map();
  const types = new Map();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const sample = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(sample, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    assert.ok(!samples.has(sample[1]), `series twice: ${sample[1]}`);
    samples.set(sample[1], Number(sample[2]));
  }
  return { samples, types };
}

async function scrape(server) {
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(await response.text());
}

function ws(name, extra = "") {
  return `${name}{${extra}signalr_transport="web_sockets"}`;
}

/** A JSON protocol that counts the bytes the client writes and parses. */
async function countingProtocol() {
  const protocol = await PROTOCOLS.json();
  const counts = { written: 0, writtenTypes: [], parsed: 0, parsedTypes: [] };
  const wrapper = Object.create(protocol);
  wrapper.writeMessage = (message) => {
    const text = protocol.writeMessage(message);
    counts.written += Buffer.byteLength(text);
    counts.writtenTypes.push(message.type);
    return text;
  };
  wrapper.parseMessages = (input, logger) => {
    counts.parsed += Buffer.byteLength(input);
    const messages = protocol.parseMessages(input, logger);
    counts.parsedTypes.push(...messages.map((message) => message.type));
    return messages;
  };
  return { protocol: wrapper, counts };
}

async function connect(t, url) {
  const { protocol, counts } = await countingProtocol();
  const connection = await build(url, { transport: "WebSockets", protocol });
  t.after(() => stopQuietly(connection));
  await withTimeout(connection.start(), 10_000, `start() of ${url}`);
  return { connection, counts };
}

/** Two clients, three invocations of which one fails, one client stops. */
async function runSequence(t, server) {
  const url = `${server.url}/testhub`;
  const a = await connect(t, url);
  const b = await connect(t, url);

  assert.equal(await a.connection.invoke("Echo", "one"), "one");
  assert.equal(await a.connection.invoke("Echo", "two"), "two");
  const error = await rejection(b.connection.invoke("ThrowException", "boom"));
  assert.match(error.message, /InvalidOperationException: boom/);

  await withTimeout(a.connection.stop(), 10_000, "stop() of the first client");
  return { a, b };
}

async function stopServer(server) {
  const { code, signal } = await server.stop();
  assert.equal(code, 0, `the server ended with exit ${code}, signal ${signal}:\n${server.stderr()}`);
}

test("the counters of /metrics after a known sequence of calls", async (t) => {
  const server = await startServer(["--metrics"]);
  t.after(() => server.stop());

  // Nothing yet, and every series there already
  let { samples, types } = await scrape(server);
  assert.equal(types.get("signalr_server_active_connections"), "gauge");
  assert.equal(types.get("signalr_server_connection_duration_seconds"), "histogram");
  assert.equal(types.get("hubs_server_invocations_total"), "counter");
  for (const transport of ["web_sockets", "server_sent_events", "long_polling"]) {
    assert.equal(samples.get(`signalr_server_active_connections{signalr_transport="${transport}"}`), 0);
    assert.equal(samples.get(`hubs_server_received_bytes_total{signalr_transport="${transport}"}`), 0);
  }

  const { a, b } = await runSequence(t, server);

  // The server sees A's transport end once the WebSocket has closed
  const deadline = Date.now() + 5_000;
  for (;;) {
    ({ samples } = await scrape(server));
    if (samples.get(ws("signalr_server_active_connections")) === 1 || Date.now() > deadline) break;
    await delay(20);
  }

  assert.equal(samples.get(ws("signalr_server_active_connections")), 1);
  assert.equal(samples.get(ws("hubs_server_connections_total")), 2);
  assert.equal(samples.get(ws("hubs_server_invocations_total")), 3);
  assert.equal(samples.get(ws("hubs_server_invocation_failures_total")), 1);
  // The client pings once its handshake is done (type 6), then come the
  // invocations (1) and A's Close (7); the server sends three completions
  // and the Close that answers A's. Handshakes are not hub messages.
  assert.deepEqual(a.counts.writtenTypes, [6, 1, 1, 7]);
  assert.deepEqual(b.counts.writtenTypes, [6, 1]);
  assert.equal(samples.get(ws("hubs_server_messages_received_total")), 6);
  assert.equal(samples.get(ws("hubs_server_messages_sent_total")), 4);

  // Every byte the clients wrote, the handshake requests included
  assert.equal(samples.get(ws("hubs_server_received_bytes_total")),
    2 * Buffer.byteLength(HANDSHAKE_REQUEST) + a.counts.written + b.counts.written);
  // Every byte they read, and the Close that A may have stopped reading
  // before it came
  const closeAnswer = a.counts.parsedTypes.includes(7) ? 0 : Buffer.byteLength('{"type":7}\x1e');
  assert.equal(samples.get(ws("hubs_server_sent_bytes_total")),
    2 * Buffer.byteLength(HANDSHAKE_RESPONSE) + a.counts.parsed + b.counts.parsed + closeAnswer);

  // One connection ended, normally, within the test's time
  const labels = 'signalr_connection_status="normal_closure",signalr_transport="web_sockets"';
  assert.equal(samples.get(`signalr_server_connection_duration_seconds_count{${labels}}`), 1);
  assert.equal(samples.get(`signalr_server_connection_duration_seconds_bucket{${labels},le="+Inf"}`), 1);
  assert.equal(samples.get(`signalr_server_connection_duration_seconds_bucket{${labels},le="300"}`), 1);
  assert.ok(samples.get(`signalr_server_connection_duration_seconds_sum{${labels}}`) > 0);
  assert.ok(samples.get(`signalr_server_connection_duration_seconds_sum{${labels}}`) < 60);

  // Nothing on the other transports
  for (const [series, value] of samples) {
    if (/signalr_transport="(server_sent_events|long_polling)"/.test(series)) {
      assert.equal(value, 0, series);
    }
  }

  await stopQuietly(b.connection);
  await stopServer(server);
});

test("/metrics is only served when asked for", async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 404);
  await response.arrayBuffer();
  await stopServer(server);
});

test("the server prints nothing by default", async (t) => {
  const saved = process.env.G_MESSAGES_DEBUG;
  delete process.env.G_MESSAGES_DEBUG;
  let server;
  try {
    server = await startServer(["--metrics"]);
  } finally {
    if (saved !== undefined) process.env.G_MESSAGES_DEBUG = saved;
  }
  t.after(() => server.stop());

  const { b } = await runSequence(t, server);
  // A protocol error too: what is not JSON on a raw WebSocket
  const socket = new WebSocket(`${server.url.replace("http", "ws")}/testhub`);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.send(HANDSHAKE_REQUEST);
  socket.send("not json\x1e");
  await withTimeout(closed, 5_000, "the server to close the connection");

  await stopQuietly(b.connection);
  await stopServer(server);
  assert.equal(server.stderr(), "");
  assert.equal(server.stdout().replace(/^Now listening on: .*\n/, ""), "");
});

test("with G_MESSAGES_DEBUG=Hubs the server tells what the sequence did, and no token", async (t) => {
  const saved = process.env.G_MESSAGES_DEBUG;
  process.env.G_MESSAGES_DEBUG = "Hubs";
  let server;
  try {
    server = await startServer();
  } finally {
    if (saved === undefined) delete process.env.G_MESSAGES_DEBUG;
    else process.env.G_MESSAGES_DEBUG = saved;
  }
  t.after(() => server.stop());

  await runSequence(t, server);

  // A connection with a token: the token never shows
  const token = await (await fetch(`${server.url}/generateJwtToken`)).text();
  const authorized = await build(`${server.url}/authorizedhub`, {
    transport: "WebSockets", accessTokenFactory: () => token,
  });
  t.after(() => stopQuietly(authorized));
  await withTimeout(authorized.start(), 10_000, "start() of /authorizedhub");
  assert.equal(await authorized.invoke("Echo", "secret-payload"), "secret-payload");
  await stopQuietly(authorized);

  await stopServer(server);
  // GLib's default writer: debug and info records on stdout
  const output = server.stdout();
  assert.match(output, /Completed connection handshake\. Using HubProtocol 'json'\./);
  assert.match(output, /Failed to invoke hub method 'ThrowException': boom/);
  assert.match(output, /Connection closed: normal closure\./);
  assert.ok(!output.includes(token), "the access token is in the log");
  assert.ok(!output.includes("secret-payload"), "a message payload is in the log");
  assert.equal(server.stderr(), "");
});
