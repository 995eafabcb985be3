// One backplane, two kinds of server: a hubs-glib interop server
// (HUBS_INTEROP_SERVER, started with --redis) and ASP.NET Core with
// Microsoft.AspNetCore.SignalR.StackExchangeRedis (tests/aspnetcore-redis)
// share one redis-server, with official JavaScript clients on both. Every
// target of Clients crosses both ways, group membership of a connection on
// the other server is acknowledged both ways, client results cross with
// values and errors, and the hub context reaches the other server's clients,
// with JSON and MessagePack clients. Then the bytes: what each server
// publishes for the same send is compared on the channels themselves
// (RedisProtocol.cs layouts, the framed message of every protocol).
//
// Skipped without dotnet or redis-server. The ASP.NET Core app is built here
// (dotnet build -c Release) when it is missing or older than its sources.
// HUBS_INTEROP_SERVER may itself be the ASP.NET Core app
// ("dotnet ../aspnetcore-redis/bin/Release/net10.0/RedisInterop.dll"): the
// suite then proves itself right against two reference servers.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { listen, open, withTimeout, delay } from "./lib/hub.mjs";
import { haveRedis, startRedis } from "./lib/redis.mjs";
import { startServer } from "./lib/server.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const APP_DIR = path.resolve(here, "..", "aspnetcore-redis");
const APP_DLL = path.join(APP_DIR, "bin", "Release", "net10.0", "RedisInterop.dll");
const APP_SOURCES = [
  path.join(APP_DIR, "Program.cs"),
  path.join(APP_DIR, "RedisInterop.csproj"),
  path.resolve(here, "..", "aspnetcore-interop", "FeatureHub.cs"),
  path.resolve(here, "..", "aspnetcore-interop", "TestHubs.cs"),
  path.resolve(here, "..", "aspnetcore-interop", "Jwt.cs"),
];

// MessagePack of the backplane's payloads, with the decoder the official
// MessagePack hub protocol itself uses.
const requireFromMsgpack = createRequire(createRequire(import.meta.url).resolve("@microsoft/signalr-protocol-msgpack"));
const { decode: msgpackDecode, encode: msgpackEncode } = requireFromMsgpack("@msgpack/msgpack");

const FEATURE = "Interop.FeatureHub";
const TESTHUB = "FunctionalTests.TestHub";
const T = { timeout: 30_000 };

function haveDotnet() {
  const result = spawnSync("dotnet", ["--version"], { encoding: "utf8", timeout: 30_000 });
  return result.status === 0;
}

const SKIP = !haveDotnet() ? "dotnet is not installed: no ASP.NET Core server to mix with"
  : !haveRedis() ? "redis-server is not installed"
  : false;

function appUpToDate() {
  if (!existsSync(APP_DLL)) return false;
  const built = statSync(APP_DLL).mtimeMs;
  return APP_SOURCES.every((file) => !existsSync(file) || statSync(file).mtimeMs <= built);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds the ASP.NET Core app when its dll is missing or older than a
 * source, one build at a time (the C and the Python server's runs of this
 * file may start together): a lock file in obj/, taken over when older than
 * the build's own time limit.
 */
function buildApp() {
  if (appUpToDate()) return;
  mkdirSync(path.join(APP_DIR, "obj"), { recursive: true });
  const lock = path.join(APP_DIR, "obj", "hubs-test-build.lock");
  const deadline = Date.now() + 300_000;
  let fd;
  for (;;) {
    try {
      fd = openSync(lock, "wx");
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 300_000) unlinkSync(lock);
      } catch { /* gone meanwhile */ }
      if (Date.now() > deadline) throw new Error(`${lock}: another build did not end`);
      sleepSync(500);
    }
  }
  try {
    if (appUpToDate()) return;
    const result = spawnSync("dotnet", ["build", "-c", "Release", "--nologo", "-v", "quiet"], {
      cwd: APP_DIR,
      encoding: "utf8",
      timeout: 280_000,
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" },
    });
    if (result.status !== 0) {
      throw new Error(`dotnet build of ${APP_DIR} failed (status ${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}

/** Starts a server with startServer() from another command line. */
async function startWith(command, args) {
  const saved = process.env.HUBS_INTEROP_SERVER;
  process.env.HUBS_INTEROP_SERVER = command;
  try {
    return await startServer(args);
  } finally {
    if (saved === undefined) delete process.env.HUBS_INTEROP_SERVER;
    else process.env.HUBS_INTEROP_SERVER = saved;
  }
}

async function stopChecked(server, what) {
  if (!server) return;
  const { code, signal } = await server.stop();
  const stderr = server.stderr();
  if (process.env.HUBS_TEST_SERVER_LOG) {
    process.stderr.write(`--- ${what} stderr (exit ${code}, signal ${signal}) ---\n${stderr}\n`);
  }
  const report = /ERROR: (Address|Leak)Sanitizer|runtime error:|CRITICAL \*\*|Traceback \(most recent call last\)|Unhandled exception/.exec(stderr);
  if (code !== 0 || report) {
    throw new Error(`${what} ended with exit ${code}, signal ${signal}` +
      (report ? `, and reported: ${report[0]}` : "") + `\n--- its stderr ---\n${stderr}`);
  }
}

/** Number of subscribers of each channel (PUBSUB NUMSUB). */
async function numsub(redis, channels) {
  const reply = await redis.command("PUBSUB", "NUMSUB", ...channels);
  const counts = {};
  for (let i = 0; i + 1 < reply.length; i += 2) counts[reply[i]] = Number(reply[i + 1]);
  return counts;
}

/** Waits until both servers listen on the hubs' shared channels. */
async function waitSubscribed(redis) {
  const channels = [`${FEATURE}:all`, `${FEATURE}:internal:groups`, `${TESTHUB}:all`, `${TESTHUB}:internal:groups`];
  const deadline = Date.now() + 20_000;
  for (;;) {
    const counts = await numsub(redis, channels);
    if (channels.every((channel) => counts[channel] >= 2)) return;
    if (Date.now() > deadline) {
      throw new Error(`the servers did not both subscribe: ${JSON.stringify(counts)}`);
    }
    await delay(50);
  }
}

/** Takes calls from `queue` until one satisfies `predicate`; others are skipped. */
async function nextMatching(queue, predicate, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const args = await queue.next(Math.max(1, deadline - Date.now()));
    if (predicate(args)) return args;
  }
}

/**
 * POST /featurehub-group/{add,remove} of `server` (beyond the contract, on
 * both kinds of server): the group membership of a connection on any
 * server, answered "ok" once in place (for a connection on another server:
 * once its owner acknowledged; the sender fails after its 30 s ack timeout
 * otherwise).
 */
function groupUrl(server, action, connectionId, group) {
  return `${server.url}/featurehub-group/${action}?connectionId=${encodeURIComponent(connectionId)}` +
    `&group=${encodeURIComponent(group)}`;
}

async function httpText(url, method = "GET") {
  const response = await withTimeout(fetch(url, { method }), 40_000, `${method} ${url}`);
  return response.text();
}

describe("hubs-glib and ASP.NET Core on one Redis", { skip: SKIP }, () => {
  let redis;
  let hubs;
  let aspnet;

  before(async () => {
    buildApp();
    redis = await startRedis();
    hubs = await startServer(["--redis", redis.address]);
    aspnet = await startWith(`dotnet ${APP_DLL}`, ["--redis", redis.address]);
    await waitSubscribed(redis);
  }, { timeout: 300_000 });

  after(async () => {
    // Every server is stopped, whatever the first one's end says, so that
    // no child keeps this process (and its test) alive.
    const ends = await Promise.allSettled([
      stopChecked(hubs, "the hubs-glib interop server"),
      stopChecked(aspnet, "the ASP.NET Core server"),
    ]);
    await redis?.stop();
    const failed = ends.find((end) => end.status === "rejected");
    if (failed) throw failed.reason;
  }, { timeout: 30_000 });

  let fenceCount = 0;

  /**
   * Proves that no member got a Message beyond those the test took: `sender`
   * broadcasts a fence, and every member's next Message must be it. What one
   * server publishes reaches the other in order (one publishing and one
   * subscribing connection each), so anything sent before the fence would
   * come first.
   */
  async function fence(sender, members) {
    const text = `fence ${++fenceCount}`;
    await sender.c.invoke("Broadcast", text);
    for (const member of members) {
      assert.deepEqual(await member.message.next(), [sender.id, text],
        `connection ${member.name} got a message it should not have before the fence`);
    }
  }

  for (const protocol of ["json", "messagepack"]) {
    describe(`FeatureHub clients with ${protocol}`, () => {
      /** A started FeatureHub connection on `server` with its client-method queues. */
      async function member(t, server, name, { user } = {}) {
        const options = { transport: "WebSockets", protocol, start: false };
        if (user) options.accessTokenFactory = () => user;
        const c = await open(t, `${server.url}/featurehub`, options);
        const m = {
          name,
          c,
          welcome: listen(c, "Welcome"),
          message: listen(c, "Message"),
          notify: listen(c, "Notify"),
        };
        await withTimeout(c.start(), 10_000, `start() of ${name}`);
        [m.id] = await m.welcome.next();
        return m;
      }

      /** h1, h2 on hubs-glib, a1, a2 on ASP.NET Core. */
      async function crew(t, users = {}) {
        return {
          h1: await member(t, hubs, "h1 (hubs-glib)", { user: users.h1 }),
          h2: await member(t, hubs, "h2 (hubs-glib)", { user: users.h2 }),
          a1: await member(t, aspnet, "a1 (ASP.NET Core)", { user: users.a1 }),
          a2: await member(t, aspnet, "a2 (ASP.NET Core)", { user: users.a2 }),
        };
      }

      async function got(members, sender, text) {
        for (const m of members) {
          assert.deepEqual(await nextMatching(m.message, ([, x]) => !x.startsWith("fence")), [sender.id, text],
            `${m.name} should get "${text}" from ${sender.name}`);
        }
      }

      it("Broadcast reaches every connection of both servers", T, async (t) => {
        const { h1, h2, a1, a2 } = await crew(t);
        await h1.c.invoke("Broadcast", "from hubs-glib");
        await got([h1, h2, a1, a2], h1, "from hubs-glib");
        await a1.c.invoke("Broadcast", "from ASP.NET Core");
        await got([h1, h2, a1, a2], a1, "from ASP.NET Core");
      });

      it("SendToOthers skips only the caller, on either server", T, async (t) => {
        const { h1, h2, a1, a2 } = await crew(t);
        await h1.c.invoke("SendToOthers", "not h1");
        await got([h2, a1, a2], h1, "not h1");
        await a2.c.invoke("SendToOthers", "not a2");
        await got([h1, h2, a1], a2, "not a2");
        await fence(h2, [h1, a2]);
      });

      it("SendToConnection and SendToConnections cross both ways", T, async (t) => {
        const { h1, h2, a1, a2 } = await crew(t);
        await h1.c.invoke("SendToConnection", a1.id, "h1 to a1");
        await got([a1], h1, "h1 to a1");
        await a2.c.invoke("SendToConnection", h2.id, "a2 to h2");
        await got([h2], a2, "a2 to h2");
        await h1.c.invoke("SendToConnections", [a1.id, h2.id], "h1 to a1 and h2");
        await got([a1, h2], h1, "h1 to a1 and h2");
        await a1.c.invoke("SendToConnections", [h1.id, a2.id], "a1 to h1 and a2");
        await got([h1, a2], a1, "a1 to h1 and a2");
        await fence(h1, [h1, h2, a1, a2]);
      });

      it("SendToAllExcept excludes connections of either server", T, async (t) => {
        const { h1, h2, a1, a2 } = await crew(t);
        await h1.c.invoke("SendToAllExcept", [a1.id, h2.id], "not a1, h2");
        await got([h1, a2], h1, "not a1, h2");
        await a1.c.invoke("SendToAllExcept", [h1.id, a2.id], "not h1, a2");
        await got([h2, a1], a1, "not h1, a2");
        await fence(h2, [h1, h2, a1, a2]);
      });

      it("groups span both servers: SendToGroup, LeaveGroup", T, async (t) => {
        const { h1, h2, a1, a2 } = await crew(t);
        const g = `mixed-${protocol}-group`;
        await h1.c.invoke("JoinGroup", g);
        await a1.c.invoke("JoinGroup", g);
        await h2.c.invoke("SendToGroup", g, "h2 to group");
        await got([h1, a1], h2, "h2 to group");
        await a2.c.invoke("SendToGroup", g, "a2 to group");
        await got([h1, a1], a2, "a2 to group");
        await fence(h2, [h1, h2, a1, a2]);
        await h1.c.invoke("LeaveGroup", g);
        await a1.c.invoke("LeaveGroup", g);
        await a2.c.invoke("SendToGroup", g, "nobody");
        await h2.c.invoke("SendToGroup", g, "nobody");
        await fence(a2, [h1, a1]);
      });

      it("SendToGroups, SendToGroupExcept and SendToOthersInGroup cross both ways", T, async (t) => {
        const { h1, h2, a1, a2 } = await crew(t);
        const g1 = `mixed-${protocol}-g1`;
        const g2 = `mixed-${protocol}-g2`;
        await h1.c.invoke("JoinGroup", g1);
        await a1.c.invoke("JoinGroup", g2);
        await a2.c.invoke("JoinGroup", g1);
        await a2.c.invoke("JoinGroup", g2);

        await h2.c.invoke("SendToGroups", [g1, g2], "two groups");
        await got([h1, a1, a2, a2], h2, "two groups");
        await a1.c.invoke("SendToGroups", [g1, g2], "two groups again");
        await got([h1, a1, a2, a2], a1, "two groups again");
        await fence(h2, [h1, h2, a1, a2]);

        await h2.c.invoke("SendToGroupExcept", g1, [a2.id], "g1 but a2");
        await got([h1], h2, "g1 but a2");
        await a1.c.invoke("SendToGroupExcept", g1, [h1.id], "g1 but h1");
        await got([a2], a1, "g1 but h1");
        await fence(h2, [h1, h2, a1, a2]);

        await h1.c.invoke("SendToOthersInGroup", g1, "others of h1");
        await got([a2], h1, "others of h1");
        await a2.c.invoke("SendToOthersInGroup", g1, "others of a2");
        await got([h1], a2, "others of a2");
        await fence(h2, [h1, h2, a1, a2]);
      });

      it("SendToUser and SendToUsers reach a user's connections on both servers", T, async (t) => {
        const u1 = `mixed-${protocol}-u1`;
        const u2 = `mixed-${protocol}-u2`;
        const { h1, h2, a1, a2 } = await crew(t, { h1: u1, a1: u1, a2: u2 });
        await h2.c.invoke("SendToUser", u1, "to u1");
        await got([h1, a1], h2, "to u1");
        await a2.c.invoke("SendToUser", u1, "to u1 again");
        await got([h1, a1], a2, "to u1 again");
        await h1.c.invoke("SendToUsers", [u1, u2], "to u1 and u2");
        await got([h1, a1, a2], h1, "to u1 and u2");
        await fence(h2, [h1, h2, a1, a2]);
      });

      it("the hub context of either server reaches the other's clients", T, async (t) => {
        const { h1, a1 } = await crew(t);
        assert.equal(await httpText(`${aspnet.url}/featurehub-notify?text=from-aspnet`, "POST"), "ok");
        assert.deepEqual(await h1.notify.next(), ["from-aspnet"]);
        assert.deepEqual(await a1.notify.next(), ["from-aspnet"]);
        assert.equal(await httpText(`${hubs.url}/featurehub-notify?text=from-hubs`, "POST"), "ok");
        assert.deepEqual(await h1.notify.next(), ["from-hubs"]);
        assert.deepEqual(await a1.notify.next(), ["from-hubs"]);
      });

      it("ASP.NET Core adds and removes a hubs-glib connection to a group, acknowledged", T, async (t) => {
        const { h1, a1 } = await crew(t);
        const g = `mixed-${protocol}-remote`;
        assert.equal(await httpText(groupUrl(aspnet, "add", h1.id, g), "POST"), "ok");
        await a1.c.invoke("SendToGroup", g, "to the remote member");
        await got([h1], a1, "to the remote member");
        assert.equal(await httpText(groupUrl(aspnet, "remove", h1.id, g), "POST"), "ok");
        await a1.c.invoke("SendToGroup", g, "nobody");
        await fence(a1, [h1]);
      });

      it("hubs-glib adds and removes an ASP.NET Core connection to a group, acknowledged", T, async (t) => {
        const { h2, a1 } = await crew(t);
        const g = `mixed-${protocol}-remote-2`;
        assert.equal(await httpText(groupUrl(hubs, "add", a1.id, g), "POST"), "ok");
        await h2.c.invoke("SendToGroup", g, "to the remote member");
        await got([a1], h2, "to the remote member");
        assert.equal(await httpText(groupUrl(hubs, "remove", a1.id, g), "POST"), "ok");
        await h2.c.invoke("SendToGroup", g, "nobody");
        await fence(h2, [a1]);
      });
    });
  }

  describe("JSON and MessagePack clients together", () => {
    it("messages cross between a JSON and a MessagePack client on different servers", T, async (t) => {
      const start = async (server, protocol) => {
        const c = await open(t, `${server.url}/featurehub`, { transport: "WebSockets", protocol, start: false });
        const m = { c, welcome: listen(c, "Welcome"), message: listen(c, "Message") };
        await withTimeout(c.start(), 10_000, `start() of a ${protocol} client`);
        [m.id] = await m.welcome.next();
        return m;
      };
      const hJson = await start(hubs, "json");
      const aPack = await start(aspnet, "messagepack");
      const hPack = await start(hubs, "messagepack");
      const aJson = await start(aspnet, "json");
      await hJson.c.invoke("SendToConnections", [aPack.id, aJson.id], "from JSON on hubs-glib");
      assert.deepEqual(await aPack.message.next(), [hJson.id, "from JSON on hubs-glib"]);
      assert.deepEqual(await aJson.message.next(), [hJson.id, "from JSON on hubs-glib"]);
      await aPack.c.invoke("SendToConnections", [hJson.id, hPack.id], "from MessagePack on ASP.NET Core");
      assert.deepEqual(await hJson.message.next(), [aPack.id, "from MessagePack on ASP.NET Core"]);
      assert.deepEqual(await hPack.message.next(), [aPack.id, "from MessagePack on ASP.NET Core"]);
    });
  });

  describe("client results across servers", () => {
    for (const protocol of ["json", "messagepack"]) {
      it(`a value and an error of a ${protocol} client, both ways`, T, async (t) => {
        const h = await open(t, `${hubs.url}/testhub`, { transport: "WebSockets", protocol });
        const a = await open(t, `${aspnet.url}/testhub`, { transport: "WebSockets", protocol });
        h.on("Result", () => 42);
        a.on("Result", () => 43);
        assert.equal(await httpText(`${aspnet.url}/clientresult/${h.connectionId}`), "42",
          "ASP.NET Core asking a hubs-glib connection");
        assert.equal(await httpText(`${hubs.url}/clientresult/${a.connectionId}`), "43",
          "hubs-glib asking an ASP.NET Core connection");

        h.off("Result");
        a.off("Result");
        h.on("Result", () => { throw new Error("from callback"); });
        a.on("Result", () => { throw new Error("from callback"); });
        assert.equal(await httpText(`${aspnet.url}/clientresult/${h.connectionId}`), "Error: from callback");
        assert.equal(await httpText(`${hubs.url}/clientresult/${a.connectionId}`), "Error: from callback");
      });
    }

    it("a connection that is nowhere", T, async () => {
      assert.equal(await httpText(`${aspnet.url}/clientresult/nowhere`), "Connection 'nowhere' does not exist.");
      assert.equal(await httpText(`${hubs.url}/clientresult/nowhere`), "Connection 'nowhere' does not exist.");
    });
  });

  describe("the bytes on the channels", () => {
    /**
     * Subscribes to `channel` (a pattern with `pattern: true`: this observer,
     * not a server, may use one). `next()` resolves to the next payload (a
     * Buffer); `nextOn(name)` to the next one published on that channel.
     */
    async function tap(t, channel, { pattern = false } = {}) {
      const queue = [];
      let wake = null;
      const unsubscribe = await redis.subscribe(channel, (payload, name) => {
        queue.push({ payload, name });
        wake?.();
      }, { pattern });
      t.after(unsubscribe);
      async function take(predicate, ms) {
        const deadline = Date.now() + ms;
        for (;;) {
          const index = queue.findIndex(predicate);
          if (index >= 0) return queue.splice(index, 1)[0].payload;
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for a message on ${channel}`);
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, left);
            wake = () => { clearTimeout(timer); resolve(); };
          });
          wake = null;
        }
      }
      return {
        next: (ms = 5000) => take(() => true, ms),
        nextOn: (name, ms = 5000) => take((entry) => entry.name === name, ms),
      };
    }

    const hex = (buffer) => buffer.toString("hex").replace(/(..)/g, "$1 ").trim();

    function describeBytes(what, reference, ours) {
      return `${what} differ\n  ASP.NET Core: ${hex(reference)}\n  hubs-glib:    ${hex(ours)}\n` +
        `  ASP.NET Core decoded: ${JSON.stringify(decodePayload(reference))}\n` +
        `  hubs-glib decoded:    ${JSON.stringify(decodePayload(ours))}`;
    }

    /** A hub message framed for `protocol`, decoded (JSON text or MessagePack array). */
    function decodeFramed(protocol, bytes) {
      const buffer = Buffer.from(bytes);
      if (protocol === "json") {
        assert.equal(buffer[buffer.length - 1], 0x1e, "a JSON hub message ends with the record separator");
        return JSON.parse(buffer.subarray(0, buffer.length - 1).toString("utf8"));
      }
      let length = 0;
      let shift = 0;
      let offset = 0;
      for (;;) {
        const byte = buffer[offset++];
        length |= (byte & 0x7f) << shift;
        shift += 7;
        if (!(byte & 0x80)) break;
      }
      assert.equal(offset + length, buffer.length, "a MessagePack hub message is its length prefix and that many bytes");
      return msgpackDecode(buffer.subarray(offset));
    }

    /** A backplane payload, decoded, with the framed messages decoded too. */
    function decodePayload(buffer) {
      const value = msgpackDecode(buffer);
      if (Array.isArray(value) && value.length >= 2 && value[1] && typeof value[1] === "object" && !(value[1] instanceof Uint8Array)) {
        const framed = {};
        for (const [name, bytes] of Object.entries(value[1])) {
          try {
            framed[name] = decodeFramed(name, bytes);
          } catch {
            framed[name] = Buffer.from(bytes).toString("hex");
          }
        }
        return [value[0], framed, ...value.slice(2)];
      }
      return value;
    }

    it("a hub context send to all: the same bytes from both servers", T, async (t) => {
      const all = await tap(t, `${FEATURE}:all`);
      await httpText(`${aspnet.url}/featurehub-notify?text=same`, "POST");
      const reference = await all.next();
      await httpText(`${hubs.url}/featurehub-notify?text=same`, "POST");
      const ours = await all.next();
      assert.ok(reference.equals(ours), describeBytes("the :all payloads of Notify(\"same\")", reference, ours));
    });

    it("an invocation with excluded connections: the same layout and framed messages", T, async (t) => {
      const hubsClient = await open(t, `${hubs.url}/featurehub`, { transport: "WebSockets" });
      const aspnetClient = await open(t, `${aspnet.url}/featurehub`, { transport: "WebSockets" });
      const all = await tap(t, `${FEATURE}:all`);
      const excluded = ["excluded-1", "excluded-2"];
      await aspnetClient.invoke("SendToAllExcept", excluded, "except");
      const reference = await nextPayloadWith(all, "except");
      await hubsClient.invoke("SendToAllExcept", excluded, "except");
      const ours = await nextPayloadWith(all, "except");
      // The only difference allowed: the caller's connection id in the arguments.
      const a = decodePayload(reference);
      const h = decodePayload(ours);
      const callerIdOf = (decoded) => decoded[1].json.arguments[0];
      const normal = (decoded) => JSON.parse(JSON.stringify(decoded).replaceAll(callerIdOf(decoded), "CALLER"));
      assert.deepEqual(normal(h), normal(a), describeBytes("the SendToAllExcept payloads", reference, ours));
      assert.deepEqual(a[0], excluded);
      assert.deepEqual(Object.keys(h[1]), Object.keys(a[1]), "the protocols, in the same order");
      // The framed bytes of every protocol, with the caller's id masked:
      // member order, integer and string encodings included.
      const masked = (payload, callerId, protocolName) => {
        const framed = Buffer.from(msgpackDecode(payload)[1][protocolName]);
        const id = Buffer.from(callerId);
        for (let at = framed.indexOf(id); at >= 0; at = framed.indexOf(id, at + 1)) framed.fill(0x2a, at, at + id.length);
        return framed;
      };
      assert.equal(callerIdOf(h).length, callerIdOf(a).length, "connection ids of the same length");
      for (const protocolName of Object.keys(a[1])) {
        const mine = masked(ours, callerIdOf(h), protocolName);
        const theirs = masked(reference, callerIdOf(a), protocolName);
        assert.ok(mine.equals(theirs), `the framed ${protocolName} messages differ (caller id masked)\n` +
          `  ASP.NET Core: ${hex(theirs)}\n  hubs-glib:    ${hex(mine)}`);
      }
    });

    /** Skips the Joined/Left traffic of connections coming and going. */
    async function nextPayloadWith(channel, text) {
      for (;;) {
        const payload = await channel.next();
        if (payload.includes(Buffer.from(text))) return payload;
      }
    }

    it("a group command from ASP.NET Core, and hubs-glib's ack", T, async (t) => {
      const h = await open(t, `${hubs.url}/featurehub`, { transport: "WebSockets" });
      const commands = await tap(t, `${FEATURE}:internal:groups`);
      const acks = await tap(t, `${FEATURE}:internal:ack:*`, { pattern: true });
      assert.equal(await httpText(groupUrl(aspnet, "add", h.connectionId, "bytes"), "POST"), "ok");
      const command = msgpackDecode(await commands.next());
      // [id, server name, action (1: add), group, connection id]
      assert.equal(command.length, 5);
      const [id, serverName, action, group, connectionId] = command;
      assert.deepEqual([action, group, connectionId], [1, "bytes", h.connectionId]);
      const ours = await acks.nextOn(`${FEATURE}:internal:ack:${serverName}`);
      // What RedisProtocol.WriteAck writes: an array of one int, the shortest encoding.
      const expected = Buffer.from([0x91, ...encodeInt(id)]);
      assert.ok(ours.equals(expected), `hubs-glib's ack: ${hex(ours)}, expected ${hex(expected)}`);
    });

    it("a group command from hubs-glib: ASP.NET Core's layout and encoding, and its ack", T, async (t) => {
      const h = await open(t, `${hubs.url}/featurehub`, { transport: "WebSockets" });
      const a = await open(t, `${aspnet.url}/featurehub`, { transport: "WebSockets" });
      const commands = await tap(t, `${FEATURE}:internal:groups`);
      const acks = await tap(t, `${FEATURE}:internal:ack:*`, { pattern: true });

      // ASP.NET Core's command first: MessagePack-CSharp writes the shortest
      // forms, as @msgpack/msgpack's encoder does, so re-encoding gives its bytes.
      assert.equal(await httpText(groupUrl(aspnet, "add", h.connectionId, "bytes-2"), "POST"), "ok");
      const reference = await commands.next();
      assert.ok(Buffer.from(msgpackEncode(msgpackDecode(reference))).equals(reference),
        `re-encoding ASP.NET Core's group command gives its bytes: ${hex(reference)}`);

      assert.equal(await httpText(groupUrl(hubs, "add", a.connectionId, "bytes-2"), "POST"), "ok");
      const ours = await commands.next();
      const command = msgpackDecode(ours);
      assert.equal(command.length, 5, `five items: ${hex(ours)}`);
      const [id, serverName, action, group, connectionId] = command;
      assert.ok(Number.isInteger(id), "the command id");
      assert.equal(typeof serverName, "string", "the server name");
      assert.deepEqual([action, group, connectionId], [1, "bytes-2", a.connectionId]);
      assert.ok(Buffer.from(msgpackEncode(command)).equals(ours),
        `hubs-glib's group command in the shortest forms, as ASP.NET Core writes it: ${hex(ours)}`);
      const ack = await acks.nextOn(`${FEATURE}:internal:ack:${serverName}`);
      assert.ok(ack.equals(Buffer.from([0x91, ...encodeInt(id)])), `ASP.NET Core's ack: ${hex(ack)}`);
    });

    function encodeInt(n) {
      if (n >= 0 && n <= 0x7f) return [n];
      if (n >= 0 && n <= 0xff) return [0xcc, n];
      if (n >= 0 && n <= 0xffff) return [0xcd, n >> 8, n & 0xff];
      return [0xce, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    }

    it("a client-result invocation and its completion: the same layouts", T, async (t) => {
      const h = await open(t, `${hubs.url}/testhub`, { transport: "WebSockets" });
      const a = await open(t, `${aspnet.url}/testhub`, { transport: "WebSockets" });
      h.on("Result", () => 7);
      a.on("Result", () => 7);
      const toH = await tap(t, `${TESTHUB}:connection:${h.connectionId}`);
      const toA = await tap(t, `${TESTHUB}:connection:${a.connectionId}`);
      const returns = await tap(t, `${TESTHUB}:internal:return:*`, { pattern: true });

      assert.equal(await httpText(`${aspnet.url}/clientresult/${h.connectionId}`), "7");
      const reference = decodePayload(await toH.next());
      assert.equal(await httpText(`${hubs.url}/clientresult/${a.connectionId}`), "7");
      const ours = decodePayload(await toA.next());

      // [excluded ids, {protocol: framed invocation}, invocation id, return channel]
      for (const [who, decoded] of [["ASP.NET Core", reference], ["hubs-glib", ours]]) {
        assert.equal(decoded.length, 4, `${who}: four items`);
        assert.deepEqual(decoded[0], [], `${who}: no excluded ids`);
        assert.equal(typeof decoded[2], "string", `${who}: the invocation id`);
        assert.match(decoded[3], new RegExp(`^${TESTHUB}:internal:return:`), `${who}: the return channel`);
        assert.deepEqual(decoded[1].json, { type: 1, invocationId: decoded[2], target: "Result", arguments: [] },
          `${who}: the JSON invocation`);
      }
      const normal = (decoded) => JSON.parse(JSON.stringify(decoded[1]).replaceAll(decoded[2], "ID"));
      assert.deepEqual(normal(ours), normal(reference), "the framed invocations, up to the invocation id");
      assert.deepEqual(Object.keys(ours[1]), Object.keys(reference[1]), "the protocols, in the same order");
      assert.notEqual(reference[3], ours[3], "each server has its own return channel");

      // The completions, [protocol name, framed completion], on each return channel.
      const completionOn = async (channel) => msgpackDecode(await returns.nextOn(channel));
      const aspnetCompletion = await completionOn(ours[3]);
      const hubsCompletion = await completionOn(reference[3]);
      for (const [who, completion, invocationId] of [["ASP.NET Core", aspnetCompletion, ours[2]],
        ["hubs-glib", hubsCompletion, reference[2]]]) {
        assert.equal(completion.length, 2, `${who}: two items`);
        assert.equal(completion[0], "json", `${who}: the client's protocol`);
        assert.deepEqual(decodeFramed("json", completion[1]), { type: 3, invocationId, result: 7 },
          `${who}: the JSON completion`);
      }
    });
  });

  // Last: it restarts the Redis every other test uses.
  describe("after Redis restarts", () => {
    /** Repeats `attempt` (which sends and awaits a delivery) until it works, for up to `ms`. */
    async function eventually(what, attempt, ms = 30_000) {
      const deadline = Date.now() + ms;
      for (let i = 0; ; i++) {
        try {
          return await attempt(i);
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`${what}: still failing after ${ms} ms: ${error.message}`);
          await delay(200);
        }
      }
    }

    it("both servers subscribe again and messages cross both ways", { timeout: 90_000 }, async (t) => {
      const start = async (server) => {
        const c = await open(t, `${server.url}/featurehub`, { transport: "WebSockets", start: false });
        const m = { c, welcome: listen(c, "Welcome"), message: listen(c, "Message") };
        await withTimeout(c.start(), 10_000, "start()");
        [m.id] = await m.welcome.next();
        return m;
      };
      const h = await start(hubs);
      const a = await start(aspnet);

      await redis.restart({ downMs: 500 });
      await waitSubscribed(redis);

      // The clients stayed connected; what was lost during the outage is
      // lost, and what is sent now crosses again, both ways.
      const cross = (from, to, label) => eventually(label, async (i) => {
        const text = `${label} ${i}`;
        await from.c.invoke("SendToConnection", to.id, text);
        await nextMatching(to.message, ([, x]) => x === text, 1000);
      });
      await cross(h, a, "hubs-glib to ASP.NET Core after the restart");
      await cross(a, h, "ASP.NET Core to hubs-glib after the restart");
      await h.c.invoke("Broadcast", "all, after the restart");
      assert.deepEqual(await nextMatching(a.message, ([, x]) => x === "all, after the restart"),
        [h.id, "all, after the restart"]);
      assert.deepEqual(await nextMatching(h.message, ([, x]) => x === "all, after the restart"),
        [h.id, "all, after the restart"]);
    });
  });
});
