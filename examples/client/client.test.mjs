// The terminal chat clients (hubs-chat-client in C, chat-client.py in
// Python) against the chat example's server, beside a browserless
// JavaScript client: typed lines cross between all three, the clients come
// back by themselves after the server dies and starts again on the same
// port, and they leave cleanly at the end of input and on Ctrl-C.
// Run by meson with HUBS_CHAT and HUBS_CHAT_CLIENT set (and, where the
// Python binding is built, HUBS_PYTHON and HUBS_CHAT_CLIENT_PY).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";

// The chat example's npm packages serve this test too.
const signalR = createRequire(new URL("../chat/package.json", import.meta.url))("@microsoft/signalr");

const chatProgram = process.env.HUBS_CHAT;
const cProgram = process.env.HUBS_CHAT_CLIENT;
if (!chatProgram || !cProgram) throw new Error("HUBS_CHAT and HUBS_CHAT_CLIENT must name the built programs");
const pythonScript = process.env.HUBS_CHAT_CLIENT_PY;

const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** A child whose standard output is kept, with waits on what it prints. */
function track(child, name) {
  children.add(child);
  child.on("exit", () => children.delete(child));
  let output = "";
  let errors = "";
  const waiters = new Set();
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    output += chunk;
    for (const check of waiters) check();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    errors += chunk;
  });
  return {
    child,
    name,
    output: () => output,
    errors: () => errors,
    /** Resolves with the match of `pattern` in what was printed after offset `since`. */
    waitFor(pattern, { since = 0, timeoutMs = 10_000 } = {}) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms; it printed:\n` +
                           `${output.slice(since)}\nand on stderr:\n${errors}`));
        }, timeoutMs);
        function check() {
          const match = pattern.exec(output.slice(since));
          if (match) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(match);
          }
        }
        waiters.add(check);
        check();
      });
    },
    async exited() {
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
      return { code: child.exitCode, signal: child.signalCode };
    },
  };
}

async function startChat(port = 0) {
  const server = track(spawn(chatProgram, ["--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] }),
                       "hubs-chat");
  const [, url] = await server.waitFor(/Now listening on: (http:\/\/127\.0\.0\.1:\d+)/, { timeoutMs: 20_000 });
  return { ...server, url };
}

function startClient(kind, url, name) {
  const args = ["--url", `${url}/chathub`, "--name", name];
  // A UTF-8 terminal, whatever the locale of the test run: the C client
  // prints in the locale's character set, as g_print() does.
  const options = { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C.UTF-8" } };
  const child = kind === "c"
    ? spawn(cProgram, args, options)
    : spawn(process.env.HUBS_PYTHON || "/usr/bin/python3", [pythonScript, ...args], options);
  return track(child, kind === "c" ? "hubs-chat-client" : "chat-client.py");
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const line = (text) => new RegExp(`^${escape(text)}$`, "m");

let server = await startChat();
const port = new URL(server.url).port;
after(async () => {
  server.child.kill("SIGTERM");
  const { code } = await server.exited();
  assert.equal(code, 0, "hubs-chat exits cleanly on SIGTERM");
});

const ada = startClient("c", server.url, "ada");
const grace = pythonScript ? startClient("python", server.url, "grace") : null;
const clients = grace ? [ada, grace] : [ada];

const js = new signalR.HubConnectionBuilder()
  .withUrl(`${server.url}/chathub`)
  .withAutomaticReconnect([0, 500, 1000, 1000, 1000])
  .configureLogging(signalR.LogLevel.None)
  .build();
const atJs = [];
const jsWaiters = new Set();
js.on("ReceiveMessage", (user, message) => {
  atJs.push(`${user}: ${message}`);
  for (const check of jsWaiters) check();
});
function jsReceives(text, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the JS client did not receive ${text}: ${atJs.join("\n")}`)), timeoutMs);
    function check() {
      if (atJs.includes(text)) {
        clearTimeout(timer);
        jsWaiters.delete(check);
        resolve();
      }
    }
    jsWaiters.add(check);
    check();
  });
}

test("the clients connect and say so", async () => {
  for (const client of clients) {
    await client.waitFor(/^Connected to http:\/\/127\.0\.0\.1:\d+\/chathub as \w+\. /m);
  }
  await js.start();
});

test("a line typed in the C client reaches everyone, itself too", async () => {
  ada.child.stdin.write("hello from C, ✓\n");
  for (const client of clients) await client.waitFor(line("ada: hello from C, ✓"));
  await jsReceives("ada: hello from C, ✓");
});

test("a line typed in the Python client reaches everyone", { skip: !grace && "the Python binding is not built" }, async () => {
  grace.child.stdin.write("hello from Python\n\n   \n");
  for (const client of clients) await client.waitFor(line("grace: hello from Python"));
  await jsReceives("grace: hello from Python");
  assert.doesNotMatch(ada.output(), /^grace: $/m, "blank lines are not sent");
});

test("a message from another kind of client is printed as it arrives", async () => {
  await js.invoke("SendMessage", "node", "hello from JavaScript");
  for (const client of clients) await client.waitFor(line("node: hello from JavaScript"));
});

test("the clients reconnect by themselves after the server dies, and say so", async () => {
  const since = clients.map((client) => client.output().length);
  const jsBack = new Promise((resolve) => js.onreconnected(resolve));
  server.child.kill("SIGKILL");
  await server.exited();
  for (const [i, client] of clients.entries()) {
    await client.waitFor(/^Connection lost \(.*\); reconnecting\.\.\.$/m, { since: since[i] });
  }
  server = await startChat(port);
  for (const [i, client] of clients.entries()) {
    await client.waitFor(/^Reconnected\.$/m, { since: since[i], timeoutMs: 20_000 });
  }
  await jsBack;
  ada.child.stdin.write("back from C\n");
  for (const client of clients) await client.waitFor(line("ada: back from C"));
  await jsReceives("ada: back from C");
  if (grace) {
    grace.child.stdin.write("back from Python\n");
    await ada.waitFor(line("grace: back from Python"));
    await jsReceives("grace: back from Python");
  }
});

test("the C client sends what it read, then leaves cleanly at the end of its input", async () => {
  ada.child.stdin.end("last words\n");
  const { code, signal } = await ada.exited();
  assert.equal(signal, null);
  assert.equal(code, 0, `hubs-chat-client's exit status; stderr:\n${ada.errors()}`);
  assert.match(ada.output(), /^Bye\.$/m);
  await jsReceives("ada: last words");
  if (grace) await grace.waitFor(line("ada: last words"));
});

test("the Python client leaves cleanly on Ctrl-C", { skip: !grace && "the Python binding is not built" }, async () => {
  grace.child.kill("SIGINT");
  const { code, signal } = await grace.exited();
  assert.equal(signal, null);
  assert.equal(code, 0, `chat-client.py's exit status; stderr:\n${grace.errors()}`);
  assert.match(grace.output(), /^Bye\.$/m);
  assert.equal(grace.errors(), "", "chat-client.py printed nothing on stderr");
  await js.stop();
});

test("a client that cannot connect says so and exits 1", async () => {
  const lonely = startClient("c", "http://127.0.0.1:9", "nobody");
  lonely.child.stdin.end();
  const { code } = await lonely.exited();
  assert.equal(code, 1);
  assert.match(lonely.errors(), /^Cannot connect to http:\/\/127\.0\.0\.1:9\/chathub: /m);
});
