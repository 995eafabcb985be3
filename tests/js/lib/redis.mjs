// Starts a throwaway redis-server for the scale-out tests, and talks to it.
//
//   import { haveRedis, startRedis } from "./lib/redis.mjs";
//   test("…", { skip: !haveRedis() && "redis-server is not installed" }, async () => {
//     const redis = await startRedis();          // 127.0.0.1, a free port
//     … `--redis ${redis.address}` …
//     await redis.command("PUBSUB", "CHANNELS"); // → [ "…", … ]
//     const unsubscribe = await redis.subscribe("chan", (payload) => …); // payload: Buffer
//     await redis.restart();                     // same port, empty again
//     await redis.stop();
//   });
//
// The server is Debian's redis-server (REDIS_SERVER names another binary),
// run in the foreground without persistence: `--port P --bind 127.0.0.1
// --save '' --appendonly no`. With `{ unix: true }` it listens on a unix
// socket in a fresh temporary folder instead (`address` is then
// "unix:/path", `port` is 0). Every server this module started is killed when
// the Node process exits, whatever happens.
//
// command() and subscribe() speak RESP on their own sockets (no npm client):
// replies are parsed to JavaScript values — simple strings and bulk strings
// as strings (`{ buffers: true }` on commandWith() keeps bulk strings as
// Buffers), integers as numbers, nil as null, arrays as arrays; an error
// reply rejects with a RedisError.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, accessSync, constants as fsConstants } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const START_TIMEOUT_MS = 10_000;
const TERM_GRACE_MS = 5_000;
const COMMAND_TIMEOUT_MS = 5_000;
const LOG_KEEP = 64 * 1024;

const running = new Set();
const folders = new Set();

process.on("exit", () => {
  for (const child of running) {
    try { child.kill("SIGKILL"); } catch { /* already gone */ }
  }
  for (const folder of folders) {
    try { rmSync(folder, { recursive: true, force: true }); } catch { /* leave it */ }
  }
});

/** An error reply of the Redis server. */
export class RedisError extends Error {
  constructor(message) {
    super(message);
    this.name = "RedisError";
  }
}

let binaryCache;

/** The redis-server binary to run: REDIS_SERVER, else the first on PATH; null if none. */
export function redisServerPath() {
  if (binaryCache !== undefined) return binaryCache;
  const candidates = [];
  if (process.env.REDIS_SERVER) {
    candidates.push(process.env.REDIS_SERVER);
  } else {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
      candidates.push(path.join(dir, "redis-server"));
    }
    candidates.push("/usr/bin/redis-server", "/usr/sbin/redis-server");
  }
  binaryCache = null;
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      binaryCache = candidate;
      break;
    } catch { /* next */ }
  }
  return binaryCache;
}

/** Whether redis-server can be run here (for `skip:`). */
export function haveRedis() {
  const binary = redisServerPath();
  if (!binary) return false;
  const result = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 5_000 });
  return result.status === 0 && /Redis server/i.test(result.stdout ?? "");
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// ---- RESP ------------------------------------------------------------------

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const value = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${value.length}\r\n`), value, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply from `buffer` at `offset`. Returns { value, offset } past
 * it, or null when the buffer does not hold a whole reply yet. Error replies
 * come back as RedisError values (not thrown), so arrays can hold them.
 */
function parseReply(buffer, offset, buffers) {
  if (offset >= buffer.length) return null;
  const end = buffer.indexOf("\r\n", offset);
  if (end < 0) return null;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, end);
  let next = end + 2;
  switch (type) {
    case "+":
      return { value: line, offset: next };
    case "-":
      return { value: new RedisError(line), offset: next };
    case ":":
      return { value: Number(line), offset: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, offset: next };
      if (buffer.length < next + length + 2) return null;
      const bytes = buffer.subarray(next, next + length);
      return {
        value: buffers ? Buffer.from(bytes) : bytes.toString("utf8"),
        offset: next + length + 2,
      };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, offset: next };
      const items = [];
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, next, buffers);
        if (!item) return null;
        items.push(item.value);
        next = item.offset;
      }
      return { value: items, offset: next };
    }
    default:
      throw new Error(`unexpected RESP type byte 0x${buffer[offset].toString(16)}`);
  }
}

function connectTo(target) {
  return new Promise((resolve, reject) => {
    const socket = target.path
      ? net.createConnection({ path: target.path })
      : net.createConnection({ host: target.host, port: target.port });
    socket.once("connect", () => {
      socket.removeListener("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** One command on a fresh connection; resolves to its parsed reply. */
async function oneCommand(target, args, { buffers = false, timeout = COMMAND_TIMEOUT_MS } = {}) {
  const socket = await connectTo(target);
  try {
    return await new Promise((resolve, reject) => {
      let data = Buffer.alloc(0);
      const timer = setTimeout(
        () => reject(new Error(`redis ${args[0]}: no reply within ${timeout} ms`)), timeout);
      socket.on("data", (chunk) => {
        data = Buffer.concat([data, chunk]);
        let reply;
        try {
          reply = parseReply(data, 0, buffers);
        } catch (error) {
          clearTimeout(timer);
          reject(error);
          return;
        }
        if (!reply) return;
        clearTimeout(timer);
        if (reply.value instanceof RedisError) reject(reply.value);
        else resolve(reply.value);
      });
      socket.on("error", (error) => { clearTimeout(timer); reject(error); });
      socket.on("close", () => {
        clearTimeout(timer);
        reject(new Error(`redis ${args[0]}: the connection closed before the reply`));
      });
      socket.write(encodeCommand(args));
    });
  } finally {
    socket.destroy();
  }
}

/**
 * Subscribes to `channel` on a connection of its own. `onMessage(payload,
 * channel)` gets each message's payload as a Buffer. Resolves, once Redis has
 * confirmed the subscription, to an async function that unsubscribes and
 * closes the connection. `pattern: true` uses PSUBSCRIBE.
 */
async function subscribeTo(target, channel, onMessage, { pattern = false } = {}) {
  const socket = await connectTo(target);
  let data = Buffer.alloc(0);
  let confirm;
  const confirmed = new Promise((resolve, reject) => {
    confirm = { resolve, reject };
  });
  const timer = setTimeout(
    () => confirm.reject(new Error(`redis SUBSCRIBE ${channel}: not confirmed within ${COMMAND_TIMEOUT_MS} ms`)),
    COMMAND_TIMEOUT_MS);
  let closed = false;
  socket.on("data", (chunk) => {
    data = Buffer.concat([data, chunk]);
    for (;;) {
      const reply = parseReply(data, 0, true);
      if (!reply) break;
      data = data.subarray(reply.offset);
      const value = reply.value;
      if (value instanceof RedisError) {
        confirm.reject(value);
        continue;
      }
      if (!Array.isArray(value)) continue;
      const kind = value[0].toString("utf8");
      if (kind === "subscribe" || kind === "psubscribe") {
        clearTimeout(timer);
        confirm.resolve();
      } else if (kind === "message") {
        onMessage(value[2], value[1].toString("utf8"));
      } else if (kind === "pmessage") {
        onMessage(value[3], value[2].toString("utf8"));
      }
    }
  });
  socket.on("error", (error) => { clearTimeout(timer); confirm.reject(error); });
  socket.on("close", () => {
    closed = true;
    clearTimeout(timer);
    confirm.reject(new Error(`redis SUBSCRIBE ${channel}: the connection closed`));
  });
  socket.write(encodeCommand([pattern ? "PSUBSCRIBE" : "SUBSCRIBE", channel]));
  try {
    await confirmed;
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return async () => {
    if (closed) return;
    socket.end(encodeCommand([pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", channel]));
    await new Promise((resolve) => {
      const timer2 = setTimeout(() => { socket.destroy(); resolve(); }, 1_000);
      socket.once("close", () => { clearTimeout(timer2); resolve(); });
    });
  };
}

// ---- the server -------------------------------------------------------------

function spawnRedis(binary, args) {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let log = "";
  const keep = (chunk) => {
    log += chunk;
    if (log.length > LOG_KEEP) log = log.slice(-LOG_KEEP);
  };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, log: () => log };
}

/** Waits for "Ready to accept connections" and a PONG. */
async function waitReady(process_, target, what) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exitedEarly = null;
  process_.exited.then((status) => { exitedEarly = status; });
  for (;;) {
    if (exitedEarly) {
      throw new Error(`${what} exited (code ${exitedEarly.code}, signal ${exitedEarly.signal}) ` +
        `before it was ready\n--- its output ---\n${process_.log()}`);
    }
    if (/ready to accept connections/i.test(process_.log())) {
      try {
        if (await oneCommand(target, ["PING"], { timeout: 1_000 }) === "PONG") return;
      } catch { /* not yet */ }
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} was not ready within ${START_TIMEOUT_MS / 1000} s\n` +
        `--- its output ---\n${process_.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function stopProcess(process_, signal = "SIGTERM") {
  const { child, exited } = process_;
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill(signal);
  let timer;
  const killed = new Promise((resolve) => {
    timer = setTimeout(() => {
      try { child.kill("SIGKILL"); } catch { /* already gone */ }
      resolve();
    }, TERM_GRACE_MS);
  });
  await Promise.race([exited, killed]);
  clearTimeout(timer);
  return exited;
}

/**
 * Starts a redis-server. Options:
 *   unix:  true to listen on a unix socket (address "unix:/path") instead of TCP
 *   port:  a TCP port to use (default: a free one)
 *   args:  more redis-server arguments, e.g. ["--requirepass", "secret"]
 * Resolves to
 *   { host, port, address, socketPath, log(),
 *     stop(), kill(signal = "SIGKILL"), start(), restart({ downMs }),
 *     command(...args), commandWith(options, ...args), subscribe(channel, onMessage, options) }
 * where stop() ends the server (SIGTERM, then SIGKILL), kill() ends it
 * abruptly, start() brings a stopped one back on the same port, and restart()
 * is stop() (SIGKILL with { kill: true }), a pause of downMs, then start().
 */
export async function startRedis(options = {}) {
  const binary = redisServerPath();
  if (!binary) {
    throw new Error("redis-server is not installed (Debian: apt-get install redis-server; " +
      "or set REDIS_SERVER to its path). Use haveRedis() to skip the tests that need it.");
  }
  const { unix = false, args: extraArgs = [] } = options;
  let folder = null;
  let socketPath = null;
  let port = 0;
  if (unix) {
    folder = mkdtempSync(path.join(os.tmpdir(), "hubs-redis-"));
    folders.add(folder);
    socketPath = path.join(folder, "redis.sock");
  }

  const argsFor = (p) => [
    "--port", String(p),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--daemonize", "no",
    "--dir", folder ?? os.tmpdir(),
    "--dbfilename", `hubs-test-${process.pid}.rdb`,
    ...(unix ? ["--unixsocket", socketPath, "--unixsocketperm", "700"] : []),
    ...extraArgs,
  ];

  let current = null;
  const target = () => (unix ? { path: socketPath } : { host: "127.0.0.1", port });

  async function launch() {
    // A free port can be taken between the probe and the bind: try again then.
    for (let attempt = 0; ; attempt++) {
      if (!unix && !port) port = options.port ?? await freePort();
      const process_ = spawnRedis(binary, argsFor(unix ? 0 : port));
      try {
        await waitReady(process_, target(), `redis-server on ${unix ? socketPath : port}`);
        current = process_;
        return;
      } catch (error) {
        await stopProcess(process_, "SIGKILL");
        const portTaken = /Address already in use/i.test(process_.log());
        if (!portTaken || attempt >= 4 || options.port || current !== null) throw error;
        port = 0;
      }
    }
  }

  await launch();

  const redis = {
    host: "127.0.0.1",
    get port() { return port; },
    get address() { return unix ? `unix:${socketPath}` : `127.0.0.1:${port}`; },
    socketPath,
    /** redis-server's output so far (of the current run). */
    log: () => current?.log() ?? "",
    /** Whether the server is running. */
    get running() {
      return current !== null && current.child.exitCode === null && current.child.signalCode === null;
    },
    async stop() {
      if (!current) return;
      const process_ = current;
      await stopProcess(process_, "SIGTERM");
    },
    async kill(signal = "SIGKILL") {
      if (!current) return;
      await stopProcess(current, signal);
    },
    async start() {
      if (redis.running) return;
      // Same port: the servers under test reconnect to the address they know.
      const previous = current;
      current = null;
      try {
        for (let attempt = 0; ; attempt++) {
          const process_ = spawnRedis(binary, argsFor(unix ? 0 : port));
          try {
            await waitReady(process_, target(), `redis-server on ${unix ? socketPath : port} (again)`);
            current = process_;
            return;
          } catch (error) {
            await stopProcess(process_, "SIGKILL");
            // The old socket may linger a moment in TIME_WAIT-like states.
            if (!/Address already in use/i.test(process_.log()) || attempt >= 20) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      } finally {
        if (!current) current = previous;
      }
    },
    async restart({ kill = false, downMs = 0 } = {}) {
      if (kill) await redis.kill();
      else await redis.stop();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await redis.start();
    },
    command: (...args) => oneCommand(target(), args),
    commandWith: (commandOptions, ...args) => oneCommand(target(), args, commandOptions),
    subscribe: (channel, onMessage, subscribeOptions) =>
      subscribeTo(target(), channel, onMessage, subscribeOptions),
  };
  return redis;
}
