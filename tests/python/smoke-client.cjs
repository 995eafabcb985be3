// The client side of the Python smoke test (test_smoke.py): the official
// @microsoft/signalr client calls the ChatHub that Python declared over the
// typelib. CommonJS, so that NODE_PATH finds the client package.
//
//   node smoke-client.cjs http://127.0.0.1:PORT
//
// Prints one JSON line of results and exits 0, or prints why and exits 1.

"use strict";

const assert = require("node:assert/strict");
const signalR = require("@microsoft/signalr");

const base = process.argv[2];
if (!base) {
  console.error("usage: node smoke-client.cjs BASE-URL");
  process.exit(2);
}

function connect(path) {
  return new signalR.HubConnectionBuilder()
    .withUrl(`${base}${path}`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function nextMessage(connection) {
  return withTimeout(new Promise((resolve) => {
    connection.on("ReceiveMessage", (user, message) => resolve({ user, message }));
  }), 5000, "ReceiveMessage");
}

async function errorOf(promise) {
  try {
    await promise;
  } catch (error) {
    return error.message;
  }
  throw new Error("expected the invocation to fail");
}

async function main() {
  const results = {};
  const alice = connect("/chathub");
  const bob = connect("/chathub");
  await alice.start();
  await bob.start();

  const atAlice = nextMessage(alice);
  const atBob = nextMessage(bob);
  results.sendMessage = await alice.invoke("SendMessage", "alice", "hello, bob ✓");
  results.receivedByAlice = await atAlice;
  results.receivedByBob = await atBob;

  results.add = await alice.invoke("Add", 2, 40);
  results.addLowerCase = await alice.invoke("add", -7, 3);
  results.fail = await errorOf(alice.invoke("Fail", "no luck ✗"));
  results.crash = await errorOf(alice.invoke("Crash"));
  results.missing = await errorOf(alice.invoke("NoSuchMethod"));
  results.badArguments = await errorOf(alice.invoke("Add", 1));

  results.whoAmI = await alice.invoke("WhoAmI");
  results.aliceConnectionId = alice.connectionId;
  // Errors name the method as declared: set_method_name's "WhoAmI".
  results.whoAmIBadArguments = await errorOf(alice.invoke("whoami", "extra"));
  results.bobWhoAmI = await bob.invoke("WhoAmI");
  results.bobConnectionId = bob.connectionId;

  // Bob is served while Alice's invocation waits on a GLib timeout.
  const delayed = alice.invoke("DelayedAdd", 20, 22);
  results.bobAddMeanwhile = await bob.invoke("Add", 1, 1);
  results.delayedAdd = await withTimeout(delayed, 5000, "DelayedAdd");

  // Streams both ways and client results, from a hub declared with signals.
  const streams = connect("/streamhub");
  streams.on("Double", (x) => {
    if (x < 0) throw new Error("no");
    return x * 2;
  });
  await streams.start();
  results.count = await withTimeout(new Promise((resolve, reject) => {
    const items = [];
    streams.stream("Count", 4).subscribe({ next: (item) => items.push(item), complete: () => resolve(items), error: reject });
  }), 5000, "Count");
  const subject = new signalR.Subject();
  const sum = streams.invoke("Sum", subject);
  for (const n of [10, 20, 30]) subject.next(n);
  subject.complete();
  results.sum = await withTimeout(sum, 5000, "Sum");
  results.ask = await streams.invoke("Ask", 21);
  results.askError = await errorOf(streams.invoke("Ask", -1));
  await streams.stop();

  // A hub whose on_connected raises GLib.Error: the connection is refused.
  const carol = connect("/refuse");
  const closed = new Promise((resolve) => carol.onclose((error) => resolve(error ? error.message : null)));
  try {
    await carol.start();
    results.refused = await withTimeout(closed, 5000, "onclose of the refused connection");
  } catch (error) {
    results.refused = error.message;
  }

  await alice.stop();
  await bob.stop();

  console.log(JSON.stringify(results));

  // What this script can check itself; test_smoke.py checks the rest.
  assert.equal(results.sendMessage, null);
  assert.deepEqual(results.receivedByAlice, { user: "alice", message: "hello, bob ✓" });
  assert.deepEqual(results.receivedByBob, { user: "alice", message: "hello, bob ✓" });
  assert.equal(results.add, 42);
  assert.equal(results.whoAmI, results.aliceConnectionId);
  assert.equal(results.bobWhoAmI, results.bobConnectionId);
  assert.notEqual(results.aliceConnectionId, results.bobConnectionId);
  assert.equal(results.delayedAdd, 42);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`smoke-client: ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  },
);
