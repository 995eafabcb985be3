// The Python chat example, driven by the official SignalR client: rooms,
// messages, who comes and goes, and the errors a client is meant to see.
// Run by meson with PYTHON3, GI_TYPELIB_PATH, LD_LIBRARY_PATH and
// PYTHONPATH set for the build tree.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import signalR from "@microsoft/signalr";
import { startExample, nextMessage } from "../example-process.mjs";

const python = process.env.PYTHON3 ?? "/usr/bin/python3";
const script = fileURLToPath(new URL("chat.py", import.meta.url));

const chat = await startExample(python, [script], {
  name: "chat.py",
  // A warning of the library would be a bug the example shows.
  env: { G_DEBUG: "fatal-warnings" },
});
after(async () => {
  await chat.stop();
  assert.doesNotMatch(chat.errors(), /Traceback/, "no Python exception escaped a hub method");
});

async function connect() {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${chat.url}/chathub`)
    .configureLogging(signalR.LogLevel.None)
    .build();
  await connection.start();
  return connection;
}

// Fails the test if `method` reaches `connection` while `action` runs and
// a little after.
async function never(connection, method, action) {
  const seen = [];
  const handler = (...args) => seen.push(args);
  connection.on(method, handler);
  try {
    await action();
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    connection.off(method, handler);
  }
  assert.deepEqual(seen, [], `no ${method}`);
}

test("people in a room hear each other, and only them", async () => {
  const alice = await connect();
  const bob = await connect();
  const carol = await connect();
  try {
    assert.deepEqual(await alice.invoke("JoinRoom", "lobby", "alice"), ["alice"]);

    const joined = nextMessage(alice, "UserJoined");
    assert.deepEqual(await bob.invoke("JoinRoom", "lobby", "bob"), ["alice", "bob"]);
    assert.deepEqual(await joined, ["lobby", "bob"]);
    assert.deepEqual(await carol.invoke("JoinRoom", "kitchen", "carol"), ["carol"]);

    await never(carol, "ReceiveMessage", async () => {
      const atAlice = nextMessage(alice, "ReceiveMessage");
      const atBob = nextMessage(bob, "ReceiveMessage");
      assert.equal(await bob.invoke("SendMessage", "lobby", "hi alice ✓"), null);
      assert.deepEqual(await atAlice, ["lobby", "bob", "hi alice ✓"]);
      assert.deepEqual(await atBob, ["lobby", "bob", "hi alice ✓"]);
    });

    // Leaving: by LeaveRoom, and by going away.
    const left = nextMessage(alice, "UserLeft");
    await bob.invoke("LeaveRoom", "lobby");
    assert.deepEqual(await left, ["lobby", "bob"]);
    assert.deepEqual(await bob.invoke("JoinRoom", "kitchen", "bob"), ["bob", "carol"]);
    const gone = nextMessage(bob, "UserLeft");
    await carol.stop();
    assert.deepEqual(await gone, ["kitchen", "carol"]);
  } finally {
    await alice.stop();
    await bob.stop();
    await carol.stop();
  }
});

test("a HubException's message reaches the client", async () => {
  const dave = await connect();
  try {
    await assert.rejects(dave.invoke("SendMessage", "lobby", "anyone?"), {
      message: "An unexpected error occurred invoking 'SendMessage' on the server. " +
        "HubException: Join lobby before you talk in it",
    });
    await assert.rejects(dave.invoke("JoinRoom", "lobby", "  "), {
      message: "An unexpected error occurred invoking 'JoinRoom' on the server. " +
        "HubException: A user name has 1 to 40 characters",
    });
    await dave.invoke("JoinRoom", "lobby", "dave");
    await assert.rejects(dave.invoke("JoinRoom", "lobby", "dave"), /HubException: You are in lobby already/);
    // A wrong argument count is SignalR's own error, from the typed method.
    await assert.rejects(dave.invoke("SendMessage", "lobby"), {
      message: "Failed to invoke 'SendMessage' due to an error on the server.",
    });
  } finally {
    await dave.stop();
  }
});

test("the page and the client script are served", async () => {
  const page = await fetch(`${chat.url}/index.html`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /withUrl\("\/chathub"\)/);
  const script = await fetch(`${chat.url}/signalr.js`);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /HubConnectionBuilder/);
});
