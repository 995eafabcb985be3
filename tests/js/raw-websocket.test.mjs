// The WebSocket transport and the JSON hub protocol byte by byte, with
// hand-built frames over node:net (lib/rawws.mjs) and no SignalR client:
// the upgrade, the handshake, framing, control frames, protocol errors,
// limits and the exact JSON the server writes. WebSockets only by nature, so
// these run once whatever HUBS_TRANSPORTS says.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SLOW } from "./lib/config.mjs";
import { delay } from "./lib/hub.mjs";
import { frame, OP, RawWebSocket, rawHub, RS, upgradeAnswer } from "./lib/rawws.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };

const SHORT_CLOSE = '{"type":7,"error":"Connection closed with an error.","allowReconnect":true}';
const MAX_SIZE = 32768;

function invocation(invocationId, target, args) {
  return JSON.stringify({ type: 1, invocationId, target, arguments: args });
}

/** An Echo invocation whose record plus separator is exactly `size` bytes. */
function echoOfSize(invocationId, size) {
  const empty = invocation(invocationId, "Echo", [""]);
  return invocation(invocationId, "Echo", ["x".repeat(size - empty.length - 1)]);
}

/** FeatureHub greets every new connection with Welcome(id); take it. */
async function featureHub(t, options) {
  const ws = await rawHub(t, server.url, "/featurehub", options);
  const welcome = JSON.parse(await ws.nextRecord());
  assert.equal(welcome.target, "Welcome");
  ws.connectionId = welcome.arguments[0];
  return ws;
}

/** Expects exactly one data record then the close handshake with `code`. */
async function expectRecordThenClose(ws, record, code = 1000) {
  const { close, events } = await ws.closed(5000);
  const texts = events.filter((e) => e.kind === "text").map((e) => e.data.toString("utf8"));
  assert.deepEqual(texts, [record + RS]);
  assert.deepEqual(close, { code, reason: "" });
}

/**
 * A protocol violation must end the connection with a close frame carrying
 * `code`. ASP.NET Core sends that frame and then resets the TCP connection at
 * once, so the frame is now and then lost on the way (seen about one time in
 * twenty for bad UTF-8); a few attempts make the check dependable.
 */
async function expectViolationClose(t, misbehave, code) {
  const seen = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const ws = await rawHub(t, server.url, "/testhub");
    misbehave(ws);
    const { close, events } = await ws.closed(5000);
    assert.deepEqual(events.filter((e) => e.kind === "text"), [], "no hub message before the close");
    seen.push(close?.code ?? "no close frame");
    if (close) {
      assert.equal(close.code, code, `close code (attempts so far: ${seen.join(", ")})`);
      return;
    }
  }
  assert.fail(`the server ended the connection each time but never with a close frame: ${seen.join(", ")}`);
}

describe("upgrade and handshake", () => {
  it("negotiate then upgrade: 101 with the right Sec-WebSocket-Accept", T, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/testhub");
    t.after(() => ws.destroy());
    assert.equal(ws.response.status, 101);
    assert.equal(ws.response.headers.upgrade?.toLowerCase(), "websocket");
    assert.match(ws.response.headers.connection ?? "", /upgrade/i);
    assert.equal(ws.response.headers["sec-websocket-accept"], ws.expectedAccept());
    assert.equal(ws.response.headers["sec-websocket-protocol"], undefined, "no sub-protocol");
    assert.equal(ws.response.headers["sec-websocket-extensions"], undefined, "no extension (no compression)");
  });

  it("the JSON handshake is answered with exactly {}\\x1e in one unmasked text frame", T, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/testhub");
    t.after(() => ws.destroy());
    ws.sendText(`{"protocol":"json","version":1}${RS}`);
    const message = await ws.nextMessage();
    assert.equal(message.kind, "text");
    assert.equal(message.data.toString("utf8"), `{}${RS}`);
    assert.equal(message.frames.length, 1);
    assert.equal(message.frames[0].fin, true);
    assert.equal(message.frames[0].masked, false, "server frames are not masked");
    assert.equal(message.frames[0].rsv, 0);
  });

  it("a handshake split across frames, with an invocation after it in the same frame", T, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/testhub");
    t.after(() => ws.destroy());
    ws.sendText('{"protocol":"js');
    ws.sendText(`on","version":1}${RS}${invocation("1", "Echo", ["same frame"])}${RS}`);
    assert.equal(await ws.nextRecord(), "{}");
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":"same frame"}');
  });

  it("a handshake with version 2 and unknown properties is accepted", T, async (t) => {
    for (const handshake of ['{"protocol":"json","version":2}', '{"protocol":"json","version":1,"extra":[1,{"a":2}]}']) {
      const ws = await RawWebSocket.connect(server.url, "/testhub");
      t.after(() => ws.destroy());
      ws.sendText(handshake + RS);
      assert.equal(await ws.nextRecord(), "{}", handshake);
    }
  });

  it("an unknown protocol gets the exact error, then close 1000", T, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/testhub");
    t.after(() => ws.destroy());
    ws.sendText(`{"protocol":"foo","version":1}${RS}`);
    await expectRecordThenClose(ws, `{"error":"The protocol 'foo' is not supported."}`);
  });

  it("an unsupported version gets the exact error, then close 1000", T, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/testhub");
    t.after(() => ws.destroy());
    ws.sendText(`{"protocol":"json","version":3}${RS}`);
    await expectRecordThenClose(ws, `{"error":"The server does not support version 3 of the 'json' protocol."}`);
  });

  it("a malformed handshake on FeatureHub (detailed errors off) gets the generic error", T, async (t) => {
    for (const handshake of ["not json", '{"version":1}', '{"protocol":"json"}', '{"protocol":1,"version":1}', "[]"]) {
      const ws = await RawWebSocket.connect(server.url, "/featurehub");
      t.after(() => ws.destroy());
      ws.sendText(handshake + RS);
      await expectRecordThenClose(ws, '{"error":"An unexpected error occurred during connection handshake."}');
    }
  });

  it("a malformed handshake on TestHub (detailed errors on) gets the detailed error", T, async (t) => {
    const cases = [
      ['{"version":1}', `{"error":"An unexpected error occurred during connection handshake. InvalidDataException: Missing required property 'protocol'. Message content: {\\"version\\":1}"}`],
      ['{"protocol":"json"}', `{"error":"An unexpected error occurred during connection handshake. InvalidDataException: Missing required property 'version'. Message content: {\\"protocol\\":\\"json\\"}"}`],
    ];
    for (const [handshake, expected] of cases) {
      const ws = await RawWebSocket.connect(server.url, "/testhub");
      t.after(() => ws.destroy());
      ws.sendText(handshake + RS);
      await expectRecordThenClose(ws, expected);
    }
    // Text that is not JSON: the detail is the JSON reader's own message.
    const ws = await RawWebSocket.connect(server.url, "/testhub");
    t.after(() => ws.destroy());
    ws.sendText(`not json${RS}`);
    const { close, events } = await ws.closed(5000);
    assert.equal(events.length, 1);
    const answer = JSON.parse(events[0].data.toString("utf8").replace(RS, ""));
    assert.ok(answer.error.startsWith("An unexpected error occurred during connection handshake. "), answer.error);
    assert.equal(close.code, 1000);
  });

  it("an upgrade without id (skipped negotiation) creates a connection", T, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/testhub", { negotiate: false });
    t.after(() => ws.destroy());
    await ws.handshake();
    ws.invoke("1", "GetCallerConnectionId");
    const completion = JSON.parse(await ws.nextRecord());
    assert.equal(completion.type, 3);
    assert.match(completion.result, /^[A-Za-z0-9_-]{22}$/);
  });

  it("an upgrade with an unknown id gets 404 No Connection with that ID", T, async () => {
    const answer = await upgradeAnswer(server.url, "/testhub?id=doesnotexist");
    assert.equal(answer.status, 404);
    assert.equal(answer.body, "No Connection with that ID");
  });

  it("a second upgrade of an active connection gets 409", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    const answer = await upgradeAnswer(server.url, `/testhub?id=${encodeURIComponent(ws.negotiation.connectionToken)}`);
    assert.equal(answer.status, 409);
    ws.invoke("1", "Echo", ["first still works"]);
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":"first still works"}');
  });

  it("/testhub-nowebsockets refuses the upgrade with 404", T, async () => {
    const answer = await upgradeAnswer(server.url, "/testhub-nowebsockets");
    assert.equal(answer.status, 404);
    assert.equal(answer.body, "WebSockets transport not supported by this end point type");
  });
});

describe("framing", () => {
  it("an invocation split across several WebSocket messages is answered", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    const record = invocation("1", "Echo", ["split"]) + RS;
    ws.sendText(record.slice(0, 5));
    ws.sendText(record.slice(5, 20));
    await delay(50);
    ws.sendText(record.slice(20));
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":"split"}');
  });

  it("an invocation fragmented into continuation frames is answered", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    const record = Buffer.from(invocation("1", "Echo", ["fragments"]) + RS);
    const pieces = [record.subarray(0, 3), record.subarray(3, 10), record.subarray(10, 30), record.subarray(30)];
    pieces.forEach((piece, i) => {
      ws.send(i === 0 ? OP.TEXT : OP.CONTINUATION, piece, { fin: i === pieces.length - 1 });
    });
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":"fragments"}');
  });

  it("several invocations in one frame all get answers, in order", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendText(["a", "b", "c"].map((id) => invocation(id, "Echo", [`m-${id}`]) + RS).join(""));
    for (const id of ["a", "b", "c"]) {
      assert.equal(await ws.nextRecord(), `{"type":3,"invocationId":"${id}","result":"m-${id}"}`);
    }
  });

  it("a ping frame is answered with a pong carrying the same payload", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendPing(Buffer.from("ping payload"));
    const event = await ws.next();
    assert.equal(event.kind, "pong");
    assert.equal(event.data.toString(), "ping payload");
    assert.equal(event.frame.masked, false);
  });

  it("a ping between the fragments of a message: pong with the same payload, then the answer", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    const record = Buffer.from(invocation("1", "Echo", ["around a ping"]) + RS);
    ws.send(OP.TEXT, record.subarray(0, 12), { fin: false });
    ws.send(OP.PING, Buffer.from([1, 2, 3, 250]));
    ws.send(OP.CONTINUATION, record.subarray(12), { fin: true });
    const pong = await ws.next();
    assert.equal(pong.kind, "pong");
    assert.deepEqual([...pong.data], [1, 2, 3, 250]);
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":"around a ping"}');
  });

  it("JSON in a binary frame is accepted; the answer comes in a text frame", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.send(OP.BINARY, invocation("1", "Echo", ["binary"]) + RS);
    const message = await ws.nextMessage();
    assert.equal(message.kind, "text");
    assert.equal(message.data.toString("utf8"), `{"type":3,"invocationId":"1","result":"binary"}${RS}`);
  });

  it("an unmasked client frame ends the connection with close 1002", T, async (t) => {
    await expectViolationClose(t, (ws) => ws.write(frame(OP.TEXT, invocation("1", "Echo", ["x"]) + RS, { mask: false })), 1002);
  });

  it("invalid UTF-8 in a text frame ends the connection with close 1007", T, async (t) => {
    await expectViolationClose(t, (ws) => ws.send(OP.TEXT, Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x1e])), 1007);
  });

  it("a client close frame is answered with close 1000", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendClose(1000);
    const { close, events } = await ws.closed(5000);
    assert.deepEqual(close, { code: 1000, reason: "" });
    assert.deepEqual(events.filter((e) => e.kind === "text"), []);
  });
});

describe("hub protocol", () => {
  it("a void method completes with exactly {\"type\":3,\"invocationId\":\"1\",\"result\":null}", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.invoke("1", "InvokeWithString", ["hi"]);
    assert.equal(await ws.nextRecord(), '{"type":1,"target":"Message","arguments":["hi"]}');
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":null}');

    const feature = await featureHub(t);
    feature.invoke("1", "JoinGroup", ["g"]);
    assert.equal(await feature.nextRecord(), '{"type":3,"invocationId":"1","result":null}');
  });

  it("strings are written with relaxed escaping, surrogate pairs as \\uD83D\\uDE00", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.invoke("1", "Echo", ["it's <b>&</b> é 中 😀 \" \\ \n \t \u0001"]);
    assert.equal(await ws.nextRecord(),
      '{"type":3,"invocationId":"1","result":"it\'s <b>&</b> é 中 \\uD83D\\uDE00 \\" \\\\ \\n \\t \\u0001"}');
  });

  it("error texts keep ' and the method's declared name", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.invoke("1", "echo", []);
    assert.equal(await ws.nextRecord(),
      `{"type":3,"invocationId":"1","error":"Failed to invoke 'Echo' due to an error on the server. InvalidDataException: Invocation provides 0 argument(s) but target expects 1."}`);
    ws.invoke("2", "nope", []);
    assert.equal(await ws.nextRecord(),
      `{"type":3,"invocationId":"2","error":"Failed to invoke 'nope' due to an error on the server. HubException: Method does not exist."}`);
    ws.invoke("3", "Echo", [1]);
    assert.equal(await ws.nextRecord(),
      `{"type":3,"invocationId":"3","error":"Failed to invoke 'Echo' due to an error on the server. InvalidDataException: Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked."}`);
  });

  it("a Ping message gets no answer", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendRecords('{"type":6}');
    ws.invoke("1", "Echo", ["after ping"]);
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":"after ping"}');
  });

  it("a non-blocking invocation gets no answer, not even for an error", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendRecords('{"type":1,"target":"Echo","arguments":["x"]}', '{"type":1,"target":"ThrowException","arguments":["x"]}',
      '{"type":1,"target":"NoSuchMethod","arguments":[]}');
    ws.invoke("1", "Echo", ["fence"]);
    assert.equal(await ws.nextRecord(), '{"type":3,"invocationId":"1","result":"fence"}');
  });

  it("/uncreatable: {} then a Close with the detailed error and no allowReconnect, then close 1000", T, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/uncreatable");
    t.after(() => ws.destroy());
    ws.sendText(`{"protocol":"json","version":1}${RS}`);
    const { close, events } = await ws.closed(5000);
    // The two records may come in one WebSocket message or in two.
    assert.equal(events.map((e) => e.data.toString("utf8")).join(""),
      `{}${RS}{"type":7,"error":"Connection closed with an error. InvalidOperationException: Unable to resolve service for type 'System.Object' while attempting to activate 'FunctionalTests.UncreatableHub'."}${RS}`);
    assert.deepEqual(close, { code: 1000, reason: "" });
  });

  it("a client Close message is answered with {\"type\":7} and close 1000", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendRecords('{"type":7}');
    await expectRecordThenClose(ws, '{"type":7}');
  });

  it("an unknown message type neither closes the connection nor gets an answer", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendRecords('{"type":99,"whatever":[1,2]}');
    await assert.rejects(ws.next(500), /timed out/, "nothing comes back and the connection stays open");
    assert.equal(ws.ended, false);
  });

  // ASP.NET Core's read loop does not get past a record it parses to nothing:
  // later messages of that connection are never dispatched (signalr-wire.md
  // §4). hubs-glib should skip the record; the reference fails this, hence todo.
  it("the message after an unknown message type is answered", { ...T, todo: "ASP.NET Core stalls after an unknown message type" }, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendRecords('{"type":99}');
    ws.invoke("1", "Echo", ["after unknown"]);
    assert.equal(await ws.nextRecord(2000), '{"type":3,"invocationId":"1","result":"after unknown"}');
  });
});

describe("limits and protocol errors", () => {
  it("a record of 32768 bytes with its separator is accepted; one more byte closes with the detailed error", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    const fits = echoOfSize("1", MAX_SIZE);
    assert.equal(Buffer.byteLength(fits) + 1, MAX_SIZE);
    ws.sendText(fits + RS);
    const answer = JSON.parse(await ws.nextRecord());
    assert.equal(answer.result.length, MAX_SIZE - invocation("1", "Echo", [""]).length - 1);

    const tooBig = echoOfSize("2", MAX_SIZE + 1);
    ws.sendText(tooBig + RS);
    await expectRecordThenClose(ws,
      '{"type":7,"error":"Connection closed with an error. InvalidDataException: The maximum message size of 32768B was exceeded. The message size can be configured in AddHubOptions.","allowReconnect":true}');
  });

  it("FeatureHub: a message larger than 32 KiB → the short Close, then close 1000", T, async (t) => {
    const ws = await featureHub(t);
    ws.invoke("1", "EchoAny", ["x".repeat(40_000)]);
    await expectRecordThenClose(ws, SHORT_CLOSE);
  });

  it("FeatureHub: a message larger than 32 KiB split over many frames → the short Close", T, async (t) => {
    const ws = await featureHub(t);
    const record = Buffer.from(invocation("1", "EchoAny", ["y".repeat(40_000)]) + RS);
    for (let offset = 0; offset < record.length; offset += 4096) {
      const last = offset + 4096 >= record.length;
      ws.send(offset === 0 ? OP.TEXT : OP.CONTINUATION, record.subarray(offset, offset + 4096), { fin: last });
    }
    await expectRecordThenClose(ws, SHORT_CLOSE);
  });

  it("several records adding up to more than 32 KiB in one frame are fine", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendText(["a", "b", "c"].map((id) => echoOfSize(id, 20_000) + RS).join(""));
    for (const id of ["a", "b", "c"]) {
      assert.equal(JSON.parse(await ws.nextRecord()).invocationId, id);
    }
  });

  it("FeatureHub: malformed JSON → the short Close, then close 1000", T, async (t) => {
    const ws = await featureHub(t);
    ws.sendText(`{"type":1,${RS}`);
    await expectRecordThenClose(ws, SHORT_CLOSE);
  });

  it("TestHub: malformed JSON → Close with InvalidDataException: Error reading JSON.", T, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    ws.sendText(`{"type":1,${RS}`);
    await expectRecordThenClose(ws,
      '{"type":7,"error":"Connection closed with an error. InvalidDataException: Error reading JSON.","allowReconnect":true}');
  });

  it("TestHub: invalid messages → Close with the protocol's detailed error", T, async (t) => {
    const cases = [
      ['{"type":1,"invocationId":"1","arguments":[]}', "Missing required property 'target'."],
      ['{"type":1,"invocationId":"1","target":"Echo"}', "Missing required property 'arguments'."],
      ['{"invocationId":"1","target":"Echo","arguments":[]}', "Missing required property 'type'."],
      ['{"type":"x"}', "Expected 'type' to be of type Number."],
    ];
    for (const [record, detail] of cases) {
      const ws = await rawHub(t, server.url, "/testhub");
      ws.sendRecords(record);
      await expectRecordThenClose(ws,
        `{"type":7,"error":"Connection closed with an error. InvalidDataException: ${detail}","allowReconnect":true}`);
    }
  });

  it("FeatureHub: an invocation without target → the short Close", T, async (t) => {
    const ws = await featureHub(t);
    ws.sendRecords('{"type":1,"invocationId":"1","arguments":[]}');
    await expectRecordThenClose(ws, SHORT_CLOSE);
  });

  it("while one connection misbehaves, another keeps getting answers", T, async (t) => {
    const good = await rawHub(t, server.url, "/testhub");
    const bad = await rawHub(t, server.url, "/testhub");
    let n = 0;
    const roundTrip = async () => {
      n += 1;
      good.invoke(String(n), "Echo", [`ok ${n}`]);
      assert.equal(await good.nextRecord(), `{"type":3,"invocationId":"${n}","result":"ok ${n}"}`);
    };

    // Half a record that never ends.
    bad.sendText('{"type":1,"invocationId":"1","target":"Ec');
    await roundTrip();
    // A fragmented message left unfinished.
    bad.send(OP.TEXT, 'ho","arguments"', { fin: false });
    await roundTrip();
    // Then garbage that ends it with an error.
    bad.send(OP.CONTINUATION, `:[}}}${RS}`, { fin: true });
    const { events } = await bad.closed(5000);
    assert.match(events.map((e) => e.data?.toString("utf8")).join(""), /"type":7,"error":"Connection closed with an error\./);
    await roundTrip();

    // Another one drops its TCP connection mid-frame.
    const dropped = await rawHub(t, server.url, "/testhub");
    dropped.write(frame(OP.TEXT, invocation("1", "Echo", ["never"]) + RS).subarray(0, 10));
    dropped.destroy();
    await roundTrip();
  });
});

describe("timers", { skip: !SLOW && "set HUBS_SLOW_TESTS=1", concurrency: true }, () => {
  it("handshake timeout: 15 s without a handshake → Handshake was canceled.", { timeout: 30_000 }, async (t) => {
    const ws = await RawWebSocket.connect(server.url, "/testhub");
    t.after(() => ws.destroy());
    const started = Date.now();
    const { close, events } = await ws.closed(25_000);
    const elapsed = Date.now() - started;
    assert.ok(elapsed > 13_000 && elapsed < 20_000, `ended after ${elapsed} ms`);
    assert.deepEqual(events.map((e) => e.data?.toString("utf8")), [`{"error":"Handshake was canceled."}${RS}`]);
    assert.equal(close?.code, 1000);
  });

  it("the server sends a Ping about every 15 s", { timeout: 40_000 }, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    const started = Date.now();
    assert.equal(await ws.nextRecord(20_000), '{"type":6}');
    const elapsed = Date.now() - started;
    assert.ok(elapsed > 13_000 && elapsed < 18_000, `first ping after ${elapsed} ms`);
  });

  it("30 s without a message after the client's first Ping → Close with the timeout error", { timeout: 50_000 }, async (t) => {
    const ws = await rawHub(t, server.url, "/testhub");
    const feature = await featureHub(t);
    const observer = await featureHub(t);
    ws.sendRecords('{"type":6}');
    feature.sendRecords('{"type":6}');
    const started = Date.now();
    const testHubClose = (async () => {
      for (;;) {
        const record = await ws.nextRecord(40_000);
        if (record !== '{"type":6}') return record;
      }
    })();
    const left = (async () => {
      for (;;) {
        const message = JSON.parse(await observer.nextRecord(40_000));
        if (message.target === "Left") return message;
        observer.sendRecords('{"type":6}'); // keep the observer itself alive
      }
    })();
    assert.equal(await testHubClose,
      '{"type":7,"error":"Connection closed with an error. OperationCanceledException: Client hasn\'t sent a message/ping within the configured ClientTimeoutInterval.","allowReconnect":true}');
    const elapsed = Date.now() - started;
    assert.ok(elapsed > 28_000 && elapsed < 35_000, `closed after ${elapsed} ms`);
    assert.deepEqual((await left).arguments,
      [feature.connectionId, "Client hasn't sent a message/ping within the configured ClientTimeoutInterval."]);
  });
});
