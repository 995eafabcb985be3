// Scale-out through Redis, seen by the official JavaScript client: two and
// three interop servers started with the same `--redis HOST:PORT`, clients
// connected to DIFFERENT servers, FeatureHub's (and TestHub's /clientresult)
// every way of addressing clients crossing the backplane. The behaviours are
// those of ASP.NET Core's ScaleoutHubLifetimeManagerTests and
// HubLifetimeManagerTestBase (src/SignalR/server/Specification.Tests/src/),
// with real servers instead of lifetime managers side by side:
// send to all, all-except, a connection, connections, group(s),
// group-except, others-in-group, user(s) on another server; disconnects leave
// groups; group add/remove of a connection living on another server; a
// connection added twice gets one copy; client results across servers with
// values, client errors, wrong types, unknown ids and disconnects; JSON and
// MessagePack clients mixed on one message. Then a fault test: redis-server
// killed and restarted on its port while clients send; cross-server sends
// work again and /metrics counts the failures.
//
// Needs Debian's redis-server (tests/js/lib/redis.mjs starts a throwaway one
// on a free 127.0.0.1 port); skipped without it. The group membership of a
// connection on another server goes through POST
// /featurehub-group/{add,remove}?connectionId=ID&group=G, an addition to the
// contract that hubs-glib's interop servers and tests/aspnetcore-redis serve.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { delay, listen, open, withTimeout } from "./lib/hub.mjs";
import { haveRedis, startRedis } from "./lib/redis.mjs";
import { startServer } from "./lib/server.mjs";

const SKIP = !haveRedis() && "redis-server is not installed (Debian: redis-server)";
/**
 * ASP.NET Core's backplane (tests/aspnetcore-redis, HUBS_INTEROP_SERVER="dotnet
 * …/RedisInterop.dll"), which proves these expectations right: it has no
 * --metrics and no unix-socket address, and its shutdown may wait for the
 * 30 s acknowledgement of a group add that no server answers.
 */
const REFERENCE = /dotnet/.test((process.env.HUBS_INTEROP_SERVER ?? "").trim().split(/ +/)[0]);
const T = { timeout: 30_000 };
const HAVE_MSGPACK = await import("@microsoft/signalr-protocol-msgpack").then(() => true, () => false);

/** The channel prefix of FeatureHub on the backplane (its .NET full type name). */
const FEATURE_HUB = "Interop.FeatureHub";

let unique = 0;
/** A name no other test uses (groups and users live as long as the servers). */
function fresh(what) {
  return `${what}-${process.pid}-${++unique}`;
}

/**
 * Adds (or removes) connection `id` to `group` through `server`'s hub context
 * (POST /featurehub-group/…), wherever the connection lives; the answer comes
 * once the change is in place. Resolves to the answer's text ("ok").
 */
async function groupAction(server, action, id, group, { signal } = {}) {
  const query = new URLSearchParams({ connectionId: id, group });
  const response = await fetch(`${server.url}/featurehub-group/${action}?${query}`, { method: "POST", signal });
  assert.equal(response.status, 200);
  return response.text();
}

async function addToGroup(server, id, group) {
  assert.equal(await groupAction(server, "add", id, group), "ok", `adding ${id} to ${group}`);
}

async function removeFromGroup(server, id, group) {
  assert.equal(await groupAction(server, "remove", id, group), "ok", `removing ${id} from ${group}`);
}

/**
 * One redis-server and `count` interop servers started with its address.
 * Stopped after the tests of the enclosing describe(); each server must exit
 * 0 on SIGTERM without a sanitizer report or a Python traceback.
 */
function useCluster(count, { extraArgs = [], unix = false } = {}) {
  const cluster = { redis: null, servers: [] };
  before(async () => {
    cluster.redis = await startRedis({ unix });
    cluster.servers = await Promise.all(Array.from({ length: count },
      () => startServer(["--redis", cluster.redis.address, ...extraArgs])));
  }, { timeout: 60_000 });
  after(async () => {
    const problems = [];
    for (const [index, server] of cluster.servers.entries()) {
      const { code, signal } = await server.stop();
      const stderr = server.stderr();
      if (process.env.HUBS_TEST_SERVER_LOG) {
        process.stderr.write(`--- server ${index} stderr (exit ${code}, signal ${signal}) ---\n${stderr}\n`);
      }
      // (PyGObject turns a GLib critical into a Python "Warning: …".)
      const report = /ERROR: (Address|Leak)Sanitizer|runtime error:|CRITICAL \*\*|Traceback \(most recent call last\)|Warning: \S+: assertion '.*' failed/.exec(stderr);
      if ((code !== 0 && !REFERENCE) || report) {
        problems.push(`server ${index} ended with exit ${code}, signal ${signal}` +
          (report ? `, and reported: ${report[0]}` : "") + `\n--- its stderr ---\n${stderr}`);
      }
    }
    // Servers that end leave nothing subscribed behind them.
    if (cluster.redis?.running) {
      const channels = await cluster.redis.command("PUBSUB", "CHANNELS");
      if (channels.length !== 0) {
        problems.push(`channels still subscribed after every server stopped: ${channels.join(", ")}`);
      }
    }
    await cluster.redis?.stop();
    if (problems.length) throw new Error(problems.join("\n"));
  }, { timeout: 30_000 });
  return cluster;
}

/**
 * A started FeatureHub connection to `server` with its client-method queues;
 * resolves once its Welcome came (the hub's on_connected ran, so the
 * connection is known to the backplane).
 */
async function member(t, server, name, { user, protocol = "json" } = {}) {
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
  [m.id] = await m.welcome.next(10_000);
  return m;
}

/** Takes `member`'s next Message and checks it. */
async function expectMessage(member, from, text) {
  assert.deepEqual(await member.message.next(), [from.id, text],
    `${member.name} should get ${JSON.stringify(text)} from ${from.name}`);
}

let fenceCount = 0;

/**
 * Proves that none of `members` got a Message beyond those the test already
 * took: `sender` broadcasts a fence and every member's next Message must be
 * it. What one server publishes reaches each server in order, so anything
 * `sender` sent before would come first.
 */
async function fence(sender, members) {
  const text = `fence ${++fenceCount}`;
  await sender.c.invoke("Broadcast", text);
  for (const m of members) {
    assert.deepEqual(await m.message.next(), [sender.id, text],
      `${m.name} got a message it should not have before the fence`);
  }
}

/** The servers subscribed to `channel` (PUBSUB NUMSUB). */
async function subscribers(redis, channel) {
  const [, count] = await redis.command("PUBSUB", "NUMSUB", channel);
  return count;
}

/** Polls `probe` (every 50 ms, up to `ms`) until it returns a truthy value. */
async function eventually(probe, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last?.message ?? JSON.stringify(last)})`);
    }
    await delay(50);
  }
}

describe("two servers on one Redis", { skip: SKIP }, () => {
  const cluster = useCluster(2);
  const A = () => cluster.servers[0];
  const B = () => cluster.servers[1];

  it("Broadcast reaches every connection of both servers once", T, async (t) => {
    const a1 = await member(t, A(), "a1");
    const a2 = await member(t, A(), "a2");
    const b1 = await member(t, B(), "b1");
    await a1.c.invoke("Broadcast", "hello all");
    for (const m of [a1, a2, b1]) await expectMessage(m, a1, "hello all");
    await b1.c.invoke("Broadcast", "and back");
    for (const m of [a1, a2, b1]) await expectMessage(m, b1, "and back");
    await fence(a1, [a1, a2, b1]);
  });

  it("a connection that stopped gets nothing; the others still do", T, async (t) => {
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    const b2 = await member(t, B(), "b2");
    await b2.c.stop();
    await b1.c.invoke("Broadcast", "after b2 left");
    await expectMessage(a1, b1, "after b2 left");
    await expectMessage(b1, b1, "after b2 left");
    assert.deepEqual(b2.message.drain(), []);
  });

  it("SendToConnection reaches a connection on the other server, once", T, async (t) => {
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    await a1.c.invoke("SendToConnection", b1.id, "to b1");
    await expectMessage(b1, a1, "to b1");
    // A connection on the sender's own server: delivered there, not twice.
    const a2 = await member(t, A(), "a2");
    await a1.c.invoke("SendToConnection", a2.id, "to a2");
    await expectMessage(a2, a1, "to a2");
    await fence(a1, [a1, a2, b1]);
  });

  it("JoinGroup on one server, SendToGroup from the other", T, async (t) => {
    const group = fresh("group");
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    await a1.c.invoke("JoinGroup", group);
    await b1.c.invoke("SendToGroup", group, "to the group");
    await expectMessage(a1, b1, "to the group");
    await fence(b1, [a1, b1]);
  });

  it("adding a connection on the other server to a group works, and removing it too", T, async (t) => {
    const group = fresh("group");
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    await addToGroup(B(), a1.id, group);
    await b1.c.invoke("SendToGroup", group, "added remotely");
    await expectMessage(a1, b1, "added remotely");
    await fence(b1, [a1, b1]);

    await removeFromGroup(B(), a1.id, group);
    await b1.c.invoke("SendToGroup", group, "removed remotely");
    await fence(b1, [a1, b1]);
    assert.equal(await subscribers(cluster.redis, `${FEATURE_HUB}:group:${group}`), 0,
      "the group's channel is dropped once its last member left");
  });

  it("removing a connection on the other server that is not in the group does nothing", T, async (t) => {
    const group = fresh("group");
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    await removeFromGroup(B(), a1.id, group);
    await removeFromGroup(A(), a1.id, group);
    await b1.c.invoke("SendToGroup", group, "nobody");
    await fence(b1, [a1, b1]);
  });

  it("a connection added twice to a group, locally and remotely, gets one copy", T, async (t) => {
    const group = fresh("group");
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    await a1.c.invoke("JoinGroup", group);
    await a1.c.invoke("JoinGroup", group);
    await addToGroup(B(), a1.id, group);
    await addToGroup(B(), a1.id, group);
    await b1.c.invoke("SendToGroup", group, "once");
    await expectMessage(a1, b1, "once");
    await fence(b1, [a1, b1]);
    // And one removal is enough.
    await removeFromGroup(B(), a1.id, group);
    await b1.c.invoke("SendToGroup", group, "none");
    await fence(b1, [a1, b1]);
  });

  it("adding a connection that exists nowhere is not acknowledged", T, async (t) => {
    // The reference waits for an acknowledgement that never comes (30 s by
    // default) before it fails. Check only that the answer is not "ok" within
    // 2 s, and that the server stays well when the request goes away.
    const b1 = await member(t, B(), "b1");
    const group = fresh("group");
    const abort = new AbortController();
    const outcome = await Promise.race([
      groupAction(B(), "add", "no-such-connection", group, { signal: abort.signal }).catch((error) => error),
      delay(2_000).then(() => "pending"),
    ]);
    abort.abort();
    assert.notEqual(outcome, "ok", "adding an unknown connection must not report success");
    await b1.c.invoke("Broadcast", "still here");
    await expectMessage(b1, b1, "still here");
  });

  it("a connection that disconnects leaves its groups on every server", T, async (t) => {
    const group = fresh("group");
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    await a1.c.invoke("JoinGroup", group);
    await b1.c.invoke("JoinGroup", group);
    const channel = `${FEATURE_HUB}:group:${group}`;
    assert.equal(await subscribers(cluster.redis, channel), 2);
    await a1.c.stop();
    // The group's channel is unsubscribed when its last local member leaves.
    await eventually(async () => (await subscribers(cluster.redis, channel)) === 1, 5_000,
      "server A to drop the group's channel");
    await b1.c.invoke("SendToGroup", group, "after a1 left");
    await expectMessage(b1, b1, "after a1 left");
    assert.deepEqual(a1.message.drain(), []);
  });

  it("SendToUser and SendToUsers reach the user's connections on both servers", T, async (t) => {
    const user = fresh("user");
    const other = fresh("user");
    const a1 = await member(t, A(), "a1", { user });
    const b1 = await member(t, B(), "b1", { user });
    const b2 = await member(t, B(), "b2", { user: other });
    const sender = await member(t, A(), "sender");
    assert.equal(await b1.c.invoke("GetUserIdentifier"), user);
    await sender.c.invoke("SendToUser", user, "to the user");
    await expectMessage(a1, sender, "to the user");
    await expectMessage(b1, sender, "to the user");
    await sender.c.invoke("SendToUsers", [user, other], "to both users");
    for (const m of [a1, b1, b2]) await expectMessage(m, sender, "to both users");
    await fence(sender, [a1, b1, b2, sender]);

    // Still subscribed to the user after one of its connections left.
    await a1.c.stop();
    await sender.c.invoke("SendToUser", user, "to the rest");
    await expectMessage(b1, sender, "to the rest");
    await fence(sender, [b1, b2, sender]);
  });

  it("POST /featurehub-notify on one server reaches the other's connections", T, async (t) => {
    const a1 = await member(t, A(), "a1");
    const b1 = await member(t, B(), "b1");
    const response = await fetch(`${A().url}/featurehub-notify?text=${encodeURIComponent("from outside")}`,
      { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok");
    assert.deepEqual(await b1.notify.next(), ["from outside"]);
    assert.deepEqual(await a1.notify.next(), ["from outside"]);
  });

  it("JSON and MessagePack clients on different servers get one message each in their protocol",
    { ...T, skip: !HAVE_MSGPACK && "@microsoft/signalr-protocol-msgpack is not installed" }, async (t) => {
      const a1 = await member(t, A(), "a-json", { protocol: "json" });
      const a2 = await member(t, A(), "a-msgpack", { protocol: "messagepack" });
      const b1 = await member(t, B(), "b-json", { protocol: "json" });
      const b2 = await member(t, B(), "b-msgpack", { protocol: "messagepack" });
      const text = "héllo \u{1F600} \"quoted\" \u001e";
      await b2.c.invoke("Broadcast", text);
      for (const m of [a1, a2, b1, b2]) await expectMessage(m, b2, text);
      const group = fresh("group");
      await a2.c.invoke("JoinGroup", group);
      await b1.c.invoke("JoinGroup", group);
      await a1.c.invoke("SendToGroup", group, "group, mixed");
      await expectMessage(a2, a1, "group, mixed");
      await expectMessage(b1, a1, "group, mixed");
      await fence(a1, [a1, a2, b1, b2]);
    });
});

describe("three servers on one Redis", { skip: SKIP }, () => {
  const cluster = useCluster(3);
  const S = (index) => cluster.servers[index];

  it("SendToConnections and SendToAllExcept address connections on the other servers", T, async (t) => {
    const a = await member(t, S(0), "a");
    const b = await member(t, S(1), "b");
    const c = await member(t, S(2), "c");
    await a.c.invoke("SendToConnections", [b.id, c.id], "to b and c");
    await expectMessage(b, a, "to b and c");
    await expectMessage(c, a, "to b and c");
    await a.c.invoke("SendToAllExcept", [b.id], "all but b");
    await expectMessage(a, a, "all but b");
    await expectMessage(c, a, "all but b");
    await a.c.invoke("SendToOthers", "others of a");
    await expectMessage(b, a, "others of a");
    await expectMessage(c, a, "others of a");
    await fence(a, [a, b, c]);
  });

  it("SendToGroups, SendToGroupExcept and SendToOthersInGroup across three servers", T, async (t) => {
    const g1 = fresh("group");
    const g2 = fresh("group");
    const a = await member(t, S(0), "a");
    const b = await member(t, S(1), "b");
    const c = await member(t, S(2), "c");
    await a.c.invoke("JoinGroup", g1);
    await b.c.invoke("JoinGroup", g1);
    await b.c.invoke("JoinGroup", g2);
    await c.c.invoke("JoinGroup", g2);

    // A connection in both groups gets the message twice, as the reference's.
    await a.c.invoke("SendToGroups", [g1, g2], "to both groups");
    await expectMessage(a, a, "to both groups");
    await expectMessage(b, a, "to both groups");
    await expectMessage(b, a, "to both groups");
    await expectMessage(c, a, "to both groups");
    await fence(a, [a, b, c]);

    await c.c.invoke("SendToGroupExcept", g1, [b.id], "g1 but b");
    await expectMessage(a, c, "g1 but b");
    await fence(c, [a, b, c]);

    await b.c.invoke("SendToOthersInGroup", g2, "g2 but b");
    await expectMessage(c, b, "g2 but b");
    await fence(b, [a, b, c]);
  });

  it("group membership changed from a third server", T, async (t) => {
    const group = fresh("group");
    const a = await member(t, S(0), "a");
    const b = await member(t, S(1), "b");
    const c = await member(t, S(2), "c");
    await addToGroup(S(2), a.id, group);
    await addToGroup(S(2), b.id, group);
    await b.c.invoke("SendToGroup", group, "two members");
    await expectMessage(a, b, "two members");
    await expectMessage(b, b, "two members");
    await fence(b, [a, b, c]);
    await removeFromGroup(S(2), a.id, group);
    await a.c.invoke("SendToGroup", group, "one member");
    await expectMessage(b, a, "one member");
    await fence(a, [a, b, c]);
  });

  it("a user with a connection on each server", T, async (t) => {
    const user = fresh("user");
    const members = [];
    for (let index = 0; index < 3; index++) {
      members.push(await member(t, S(index), `u${index}`, { user }));
    }
    const sender = await member(t, S(1), "sender");
    await sender.c.invoke("SendToUser", user, "to every server");
    for (const m of members) await expectMessage(m, sender, "to every server");
    await fence(sender, [...members, sender]);
  });
});

describe("client results across servers (TestHub's /clientresult)", { skip: SKIP }, () => {
  const cluster = useCluster(3);
  const S = (index) => cluster.servers[index];

  /** A TestHub connection to `server` with `handler` as its Result(). */
  async function resultClient(t, server, handler, protocol = "json") {
    const c = await open(t, `${server.url}/testhub`, { transport: "WebSockets", protocol, start: false, record: true });
    if (handler) c.on("Result", handler);
    await withTimeout(c.start(), 10_000, "start()");
    // The connection is known to the backplane once an invocation was answered.
    assert.equal(await c.invoke("Echo", "ready"), "ready");
    return c;
  }

  async function clientResult(server, id) {
    const response = await fetch(`${server.url}/clientresult/${encodeURIComponent(id)}`);
    assert.equal(response.status, 200);
    return response.text();
  }

  for (const protocol of HAVE_MSGPACK ? ["json", "messagepack"] : ["json"]) {
    it(`the value of a client on another server (${protocol})`, T, async (t) => {
      const c = await resultClient(t, S(0), () => 10, protocol);
      assert.equal(await clientResult(S(1), c.connectionId), "10");
      assert.equal(await clientResult(S(2), c.connectionId), "10");
      assert.equal(await clientResult(S(0), c.connectionId), "10");
    });
  }

  it("a client's error and a missing handler, across servers", T, async (t) => {
    const c = await resultClient(t, S(0), () => {
      throw new Error("from callback");
    });
    assert.equal(await clientResult(S(1), c.connectionId), "Error: from callback");
    c.off("Result");
    assert.equal(await clientResult(S(2), c.connectionId), "Client didn't provide a result.");
    assert.equal(await c.invoke("Echo", "alive"), "alive");
  });

  it("a result of the wrong type, across servers", T, async (t) => {
    const c = await resultClient(t, S(0), () => "wrong type");
    const text = await clientResult(S(1), c.connectionId);
    assert.ok(text.startsWith("Error trying to deserialize result to"), `got: ${text}`);
  });

  it("an id no server has", T, async () => {
    assert.equal(await clientResult(S(1), "no-such-connection"),
      "Connection 'no-such-connection' does not exist.");
  });

  it("invocations from different servers use different ids and get their own results", T, async (t) => {
    let calls = 0;
    const c = await resultClient(t, S(2), async () => {
      const mine = ++calls;
      // The first one answers last.
      await delay(mine === 1 ? 300 : 0);
      return mine * 100;
    });
    const results = await Promise.all([clientResult(S(0), c.connectionId), clientResult(S(1), c.connectionId)]);
    assert.deepEqual(results.slice().sort(), ["100", "200"]);
    const ids = c.received.filter((message) => message.type === 1 && message.target === "Result")
      .map((message) => message.invocationId);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
  });

  it("a client that disconnects before it answers fails the invocation on the other server", T, async (t) => {
    let asked;
    const wasAsked = new Promise((resolve) => { asked = resolve; });
    const c = await resultClient(t, S(0), () => {
      asked();
      return new Promise(() => { /* never answers */ });
    });
    const pending = clientResult(S(1), c.connectionId);
    await withTimeout(wasAsked, 5_000, "the client's Result() call");
    await c.stop();
    const text = await withTimeout(pending, 10_000, "the /clientresult answer after the disconnect");
    assert.match(text, /disconnected\.$/);
  });
});

describe("two servers on a Redis unix socket",
  { skip: SKIP || (REFERENCE && "the reference's --redis takes host:port only") }, () => {
  const cluster = useCluster(2, { unix: true });

  it("a group and a user across the servers, with --redis unix:/path", T, async (t) => {
    assert.match(cluster.redis.address, /^unix:\//);
    const group = fresh("group");
    const user = fresh("user");
    const a1 = await member(t, cluster.servers[0], "a1", { user });
    const b1 = await member(t, cluster.servers[1], "b1");
    await b1.c.invoke("JoinGroup", group);
    await a1.c.invoke("SendToGroup", group, "over the socket");
    await expectMessage(b1, a1, "over the socket");
    await b1.c.invoke("SendToUser", user, "back to the user");
    await expectMessage(a1, b1, "back to the user");
    await fence(a1, [a1, b1]);
  });
});

describe("Redis restarted while clients send",
  { skip: SKIP || (REFERENCE && "/metrics is hubs-glib's") }, () => {
  const cluster = useCluster(2, { extraArgs: ["--metrics"] });
  const A = () => cluster.servers[0];
  const B = () => cluster.servers[1];

  /**
   * The backplane's series of /metrics (HubsMetrics): hubs_redis_connected
   * (1 or 0) and hubs_redis_failed_publishes_total.
   */
  async function redisMetrics(server) {
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    const samples = {};
    for (const line of (await response.text()).split("\n")) {
      const sample = /^(hubs_redis_[a-z_]+) (\S+)$/.exec(line);
      if (sample) samples[sample[1]] = Number(sample[2]);
    }
    assert.ok("hubs_redis_connected" in samples && "hubs_redis_failed_publishes_total" in samples,
      `/metrics has the backplane's series: ${JSON.stringify(samples)}`);
    return samples;
  }

  it("cross-server sends work again after the outage, and the failures are counted", { timeout: 90_000 }, async (t) => {
    const group = fresh("group");
    const a1 = await member(t, A(), "a1");
    const a2 = await member(t, A(), "a2");
    const b1 = await member(t, B(), "b1");
    await b1.c.invoke("JoinGroup", group);
    await a1.c.invoke("SendToConnection", b1.id, "before");
    await expectMessage(b1, a1, "before");
    const before = await redisMetrics(A());
    assert.equal(before.hubs_redis_connected, 1);

    // Traffic all along: a1 keeps sending to b1 (across) and to a2 (local).
    let sending = true;
    let sent = 0;
    const traffic = (async () => {
      while (sending) {
        sent++;
        await withTimeout(Promise.allSettled([
          a1.c.invoke("SendToConnection", b1.id, `traffic ${sent}`),
          a1.c.invoke("SendToGroup", group, `traffic ${sent}`),
        ]), 5_000, "a round of traffic").catch(() => { /* counted below */ });
        await delay(10);
      }
    })();
    await delay(300);

    await cluster.redis.kill("SIGKILL");
    await eventually(async () => (await redisMetrics(A())).hubs_redis_connected === 0, 5_000,
      "hubs_redis_connected 0 once Redis is gone");
    // While Redis is away, the server goes on serving its own connections.
    await delay(300);
    a2.message.drain();
    await a1.c.invoke("SendToConnection", a2.id, "local during the outage");
    await eventually(() => a2.message.drain().some(([, text]) => text === "local during the outage"), 5_000,
      "local delivery during the outage");
    assert.equal(await a1.c.invoke("Add", 20, 22), 42);
    await delay(700);
    await cluster.redis.start();

    // Back: a fresh message from A reaches b1 (reconnected, resubscribed to
    // its connection and its group), within a bounded wait.
    const probe = async (kind) => {
      const text = `probe ${kind} ${++unique}`;
      await (kind === "group"
        ? a1.c.invoke("SendToGroup", group, text)
        : a1.c.invoke("SendToConnection", b1.id, text));
      await delay(100);
      return b1.message.drain().some(([, got]) => got === text);
    };
    await eventually(() => probe("connection"), 30_000, "a send to b1 across servers after Redis came back");
    await eventually(() => probe("group"), 30_000, "a group send to b1 after Redis came back");
    sending = false;
    await traffic;
    assert.ok(sent > 10, `the clients kept sending (${sent} rounds)`);

    // And the other way, from B to a connection of A.
    await eventually(async () => {
      const text = `back ${++unique}`;
      await b1.c.invoke("SendToConnection", a1.id, text);
      await delay(100);
      return a1.message.drain().some(([, got]) => got === text);
    }, 30_000, "a send from B to a1 after Redis came back");

    // Connected again, and what could not be published while Redis was away
    // is counted.
    const after = await redisMetrics(A());
    assert.equal(after.hubs_redis_connected, 1);
    assert.ok(after.hubs_redis_failed_publishes_total > before.hubs_redis_failed_publishes_total,
      `the failed publishes are counted in /metrics: ${JSON.stringify(after)}`);
  });
});
