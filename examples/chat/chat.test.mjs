// The chat example, driven by the official SignalR client: two people chat.
// Run by meson with HUBS_CHAT set to the built hubs-chat program.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import signalR from "@microsoft/signalr";

const program = process.env.HUBS_CHAT;
if (!program) throw new Error("HUBS_CHAT must name the hubs-chat program");

async function startChat() {
  const child = spawn(program, ["--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hubs-chat did not start: ${output}`)), 20_000);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /Now listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`hubs-chat exited with ${code}: ${output}`)));
  });
  return { child, url };
}

const { child, url } = await startChat();
after(async () => {
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  assert.equal(code, 0, "hubs-chat exits cleanly on SIGTERM");
});

function connect() {
  return new signalR.HubConnectionBuilder()
    .withUrl(`${url}/chathub`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
}

function nextMessage(connection) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no ReceiveMessage within 5 s")), 5_000);
    connection.on("ReceiveMessage", (user, message) => {
      clearTimeout(timer);
      resolve({ user, message });
    });
  });
}

test("a message reaches every client, the sender too", async () => {
  const alice = connect();
  const bob = connect();
  await alice.start();
  await bob.start();
  try {
    const atAlice = nextMessage(alice);
    const atBob = nextMessage(bob);
    const result = await alice.invoke("SendMessage", "alice", "hello, bob ✓");
    assert.equal(result, null);
    assert.deepEqual(await atAlice, { user: "alice", message: "hello, bob ✓" });
    assert.deepEqual(await atBob, { user: "alice", message: "hello, bob ✓" });
  } finally {
    await alice.stop();
    await bob.stop();
  }
});

test("the chat page and the client script are served", async () => {
  const page = await fetch(`${url}/index.html`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /withUrl\("\/chathub"\)/);
  const script = await fetch(`${url}/signalr.js`);
  assert.equal(script.status, 200);
  assert.match(await script.text(), /HubConnectionBuilder/);
});

test("a wrong argument count gets SignalR's error", async () => {
  const carol = connect();
  await carol.start();
  try {
    // Detailed errors are off: the short form, exactly as ASP.NET Core sends it.
    await assert.rejects(carol.invoke("SendMessage", "carol"), {
      message: "Failed to invoke 'SendMessage' due to an error on the server.",
    });
  } finally {
    await carol.stop();
  }
});
