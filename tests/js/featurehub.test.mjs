// FeatureHub (Part B of the interop contract) through the official JavaScript
// client: connect/disconnect events, every way of addressing clients, groups,
// users, items, query, arguments and results, errors with detailed errors off,
// the renamed method, Abort() and the hub context's /featurehub-notify.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matrix } from "./lib/config.mjs";
import { listen, open, rejection, withTimeout } from "./lib/hub.mjs";
import { rawHub } from "./lib/rawws.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };

/** Takes calls from `queue` until one satisfies `predicate`; others are skipped. */
async function nextMatching(queue, predicate, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const args = await queue.next(Math.max(1, deadline - Date.now()));
    if (predicate(args)) return args;
  }
}

let fenceCount = 0;

/**
 * Proves that no member got a Message beyond those the test already took:
 * `sender` broadcasts a fence, and every member's next Message must be that
 * fence. (What one connection's invocations send to a receiver arrives in
 * order, so anything sent before the fence would come first.)
 */
async function fence(sender, members) {
  const text = `fence ${++fenceCount}`;
  await sender.c.invoke("Broadcast", text);
  for (const member of members) {
    assert.deepEqual(await member.message.next(), [sender.id, text],
      `connection ${member.name} got a message it should not have before the fence`);
  }
}

for (const { transport, protocol } of matrix()) {
  describe(`FeatureHub over ${transport} with ${protocol}`, () => {
    /** A started FeatureHub connection with its client-method queues. */
    async function member(t, name, { user, query } = {}) {
      const url = `${server.url}/featurehub${query ? `?${query}` : ""}`;
      const options = { transport, protocol, start: false };
      if (user) options.accessTokenFactory = () => user;
      const c = await open(t, url, options);
      const m = {
        name,
        c,
        welcome: listen(c, "Welcome"),
        joined: listen(c, "Joined"),
        left: listen(c, "Left"),
        message: listen(c, "Message"),
        notify: listen(c, "Notify"),
      };
      await withTimeout(c.start(), 10_000, `start() of ${name}`);
      [m.id] = await m.welcome.next();
      return m;
    }

    async function trio(t) {
      return [await member(t, "A"), await member(t, "B"), await member(t, "C")];
    }

    it("Welcome(id) to the caller, Joined(id) to the others, Left(id, null) after a clean stop", T, async (t) => {
      const a = await member(t, "A");
      assert.equal(a.id, a.c.connectionId, "Welcome carries the negotiated connection id");
      const b = await member(t, "B");
      assert.deepEqual(await nextMatching(a.joined, ([id]) => id === b.id), [b.id]);
      assert.deepEqual(a.welcome.pending, [], "Welcome goes to the caller only");
      assert.deepEqual(b.joined.drain().filter(([id]) => id === a.id || id === b.id), [], "Joined goes to the others only");

      await b.c.stop();
      assert.equal(await b.c.closedWith, undefined);
      assert.deepEqual(await nextMatching(a.left, ([id]) => id === b.id), [b.id, null]);
    });

    it("Left(id, \"Error reading JSON.\") after malformed JSON on a raw WebSocket", T, async (t) => {
      const observer = await member(t, "observer");
      const raw = await rawHub(t, server.url, "/featurehub");
      const rawId = JSON.parse(await raw.nextRecord()).arguments[0];
      await nextMatching(observer.joined, ([id]) => id === rawId);
      raw.sendText('{"type":1,"invocationId":"1","target":\x1e');
      assert.deepEqual(await nextMatching(observer.left, ([id]) => id === rawId), [rawId, "Error reading JSON."]);
    });

    it("Left(id, size error) after a message over 32 KiB on a raw WebSocket", T, async (t) => {
      const observer = await member(t, "observer");
      const raw = await rawHub(t, server.url, "/featurehub");
      const rawId = JSON.parse(await raw.nextRecord()).arguments[0];
      raw.invoke("1", "EchoAny", ["z".repeat(33_000)]);
      assert.deepEqual(await nextMatching(observer.left, ([id]) => id === rawId),
        [rawId, "The maximum message size of 32768B was exceeded. The message size can be configured in AddHubOptions."]);
    });

    it("a client that stops reading is cut off instead of growing the server's memory", T, async (t) => {
      const observer = await member(t, "observer");
      const raw = await rawHub(t, server.url, "/featurehub");
      const rawId = JSON.parse(await raw.nextRecord()).arguments[0];
      await nextMatching(observer.joined, ([id]) => id === rawId);
      // From now on the raw client reads nothing: what the server sends it
      // fills the kernel's buffers, then the server's bounded queue.
      raw.socket.pause();
      const text = "x".repeat(30_000);
      // Only to the raw client: a Broadcast would flood the observer too, and
      // while it is busy sending it does not read either, so it could be cut
      // off first.
      for (let i = 0; i < 1000; i += 1) observer.c.send("SendToConnection", rawId, text);
      const [, error] = await nextMatching(observer.left, ([id]) => id === rawId, 15_000);
      assert.match(error, /^The client did not read its messages: more than \d+ bytes were waiting\.$/);
      // The server still serves the reader.
      assert.equal(await observer.c.invoke("Add", 2, 3), 5);
    });

    it("Left(id, null) when a raw WebSocket drops without a close frame", T, async (t) => {
      const observer = await member(t, "observer");
      const raw = await rawHub(t, server.url, "/featurehub");
      const rawId = JSON.parse(await raw.nextRecord()).arguments[0];
      raw.destroy();
      assert.deepEqual(await nextMatching(observer.left, ([id]) => id === rawId), [rawId, null]);
    });

    it("Abort(): the caller's connection closes without error; the others see Left(id, null)", T, async (t) => {
      const a = await member(t, "A");
      const b = await member(t, "B");
      const pending = a.c.invoke("Abort");
      assert.equal(await withTimeout(a.c.closedWith, 5000, "onclose of the aborted connection"), undefined);
      const error = await rejection(pending, 5000, "the Abort invocation to fail");
      assert.equal(error.message, "Invocation canceled due to the underlying connection being closed.");
      assert.deepEqual(await nextMatching(b.left, ([id]) => id === a.id), [a.id, null]);
      assert.equal(await b.c.invoke("Add", 1, 1), 2, "the server goes on serving the others");
    });

    it("Broadcast reaches everyone, the caller included", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("Broadcast", "hello all");
      for (const m of [a, b, c]) assert.deepEqual(await m.message.next(), [a.id, "hello all"]);
    });

    it("SendToOthers reaches all but the caller", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("SendToOthers", "not for A");
      for (const m of [b, c]) assert.deepEqual(await m.message.next(), [a.id, "not for A"]);
      await fence(a, [a, b, c]);
    });

    it("SendToCaller reaches the caller only", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("SendToCaller", "just me");
      assert.deepEqual(await a.message.next(), [a.id, "just me"]);
      await fence(a, [a, b, c]);
    });

    it("SendToConnection reaches that connection only", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("SendToConnection", b.id, "for B");
      assert.deepEqual(await b.message.next(), [a.id, "for B"]);
      await fence(a, [a, b, c]);
    });

    it("SendToConnections reaches those connections only", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("SendToConnections", [b.id, c.id], "for B and C");
      for (const m of [b, c]) assert.deepEqual(await m.message.next(), [a.id, "for B and C"]);
      await fence(a, [a, b, c]);
    });

    it("SendToAllExcept reaches all but those connections", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("SendToAllExcept", [b.id], "not for B");
      for (const m of [a, c]) assert.deepEqual(await m.message.next(), [a.id, "not for B"]);
      await fence(a, [a, b, c]);
    });

    it("JoinGroup, SendToGroup, LeaveGroup", T, async (t) => {
      const [a, b, c] = await trio(t);
      assert.equal(await a.c.invoke("JoinGroup", "g1"), null);
      await b.c.invoke("JoinGroup", "g1");
      await c.c.invoke("SendToGroup", "g1", "to g1");
      for (const m of [a, b]) assert.deepEqual(await m.message.next(), [c.id, "to g1"]);
      await fence(c, [a, b, c]);

      assert.equal(await b.c.invoke("LeaveGroup", "g1"), null);
      await c.c.invoke("SendToGroup", "g1", "to g1 again");
      assert.deepEqual(await a.message.next(), [c.id, "to g1 again"]);
      await fence(c, [a, b, c]);

      await c.c.invoke("SendToGroup", "nobody-here", "lost");
      await fence(c, [a, b, c]);
    });

    it("SendToGroups delivers once per group: twice to a member of both", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("JoinGroup", "g1");
      await a.c.invoke("JoinGroup", "g2");
      await b.c.invoke("JoinGroup", "g1");
      await c.c.invoke("SendToGroups", ["g1", "g2"], "to both groups");
      assert.deepEqual(await a.message.next(), [c.id, "to both groups"]);
      assert.deepEqual(await a.message.next(), [c.id, "to both groups"]);
      assert.deepEqual(await b.message.next(), [c.id, "to both groups"]);
      await fence(c, [a, b, c]);
    });

    it("SendToGroupExcept skips the listed connections", T, async (t) => {
      const [a, b, c] = await trio(t);
      for (const m of [a, b, c]) await m.c.invoke("JoinGroup", "g");
      await a.c.invoke("SendToGroupExcept", "g", [b.id], "not for B");
      for (const m of [a, c]) assert.deepEqual(await m.message.next(), [a.id, "not for B"]);
      await fence(a, [a, b, c]);
    });

    it("SendToOthersInGroup skips the caller", T, async (t) => {
      const [a, b, c] = await trio(t);
      await a.c.invoke("JoinGroup", "g");
      await b.c.invoke("JoinGroup", "g");
      await a.c.invoke("SendToOthersInGroup", "g", "group minus A");
      assert.deepEqual(await b.message.next(), [a.id, "group minus A"]);
      await fence(a, [a, b, c]);
    });

    it("users from the access token: SendToUser, SendToUsers, GetUserIdentifier", T, async (t) => {
      const alice1 = await member(t, "alice1", { user: "alice" });
      const alice2 = await member(t, "alice2", { user: "alice" });
      const bob = await member(t, "bob", { user: "bob" });
      const anonymous = await member(t, "anonymous");
      assert.equal(await alice1.c.invoke("GetUserIdentifier"), "alice");
      assert.equal(await alice2.c.invoke("GetUserIdentifier"), "alice");
      assert.equal(await bob.c.invoke("GetUserIdentifier"), "bob");
      assert.equal(await anonymous.c.invoke("GetUserIdentifier"), null);

      await anonymous.c.invoke("SendToUser", "alice", "for alice");
      for (const m of [alice1, alice2]) assert.deepEqual(await m.message.next(), [anonymous.id, "for alice"]);
      await fence(anonymous, [alice1, alice2, bob, anonymous]);

      await bob.c.invoke("SendToUsers", ["alice", "bob", "nobody"], "for alice and bob");
      for (const m of [alice1, alice2, bob]) assert.deepEqual(await m.message.next(), [bob.id, "for alice and bob"]);
      await fence(bob, [alice1, alice2, bob, anonymous]);
    });

    it("SetItem/GetItem keep per-connection values", T, async (t) => {
      const a = await member(t, "A");
      const b = await member(t, "B");
      const value = { nested: [1, "two", { three: 3 }], flag: true };
      assert.equal(await a.c.invoke("SetItem", "k", value), null);
      await a.c.invoke("SetItem", "n", 42);
      assert.deepEqual(await a.c.invoke("GetItem", "k"), value);
      assert.equal(await a.c.invoke("GetItem", "n"), 42);
      assert.equal(await a.c.invoke("GetItem", "unknown"), null);
      assert.equal(await b.c.invoke("GetItem", "k"), null, "another connection does not see it");
      await b.c.invoke("SetItem", "k", "b's own");
      assert.equal(await b.c.invoke("GetItem", "k"), "b's own");
      assert.deepEqual(await a.c.invoke("GetItem", "k"), value);
    });

    it("GetQuery reads the query of the connection's request", T, async (t) => {
      const m = await member(t, "Q", { query: "foo=bar&answer=42&text=a%20b" });
      assert.equal(await m.c.invoke("GetQuery", "foo"), "bar");
      assert.equal(await m.c.invoke("GetQuery", "answer"), "42");
      assert.equal(await m.c.invoke("GetQuery", "text"), "a b");
      assert.equal(await m.c.invoke("GetQuery", "missing"), null);
    });

    it("Add and Sum", T, async (t) => {
      const m = await member(t, "M");
      assert.equal(await m.c.invoke("Add", 2, 3), 5);
      assert.equal(await m.c.invoke("Add", -7, 7), 0);
      assert.equal(await m.c.invoke("Sum", [1, 2, 3, 4]), 10);
      assert.equal(await m.c.invoke("Sum", []), 0);
    });

    it("EchoAny returns any JSON value unchanged", T, async (t) => {
      const m = await member(t, "M");
      const values = [
        null, true, false, 0, -1, 42, 3.5, -0.25, 1e21, "", "text", "é 中 😀 \"quoted\" \\ \n",
        [], [1, "two", null, false, [3, [4]]],
        {}, { a: 1, b: { c: [1, 2, { d: null }] }, "key with space": "v", PascalCase: "kept", camelCase: "kept" },
        [{ x: [] }, { y: {} }],
      ];
      for (const value of values) {
        assert.deepEqual(await m.c.invoke("EchoAny", value), value, JSON.stringify(value));
      }
    });

    it("DelayedEcho does not hold up another connection", T, async (t) => {
      const a = await member(t, "A");
      const b = await member(t, "B");
      const started = Date.now();
      const slow = a.c.invoke("DelayedEcho", "slow", 1500).then((value) => ({ value, at: Date.now() - started }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await b.c.invoke("Add", 20, 22), 42);
      const fastAt = Date.now() - started;
      assert.ok(fastAt < 1000, `B's call took until ${fastAt} ms`);
      const { value, at } = await withTimeout(slow, 5000, "DelayedEcho");
      assert.equal(value, "slow");
      assert.ok(at >= 1400, `DelayedEcho completed after ${at} ms`);
    });

    it("ThrowHubError and ThrowOther give the exact errors (detailed errors off)", T, async (t) => {
      const m = await member(t, "M");
      let error = await rejection(m.c.invoke("ThrowHubError", "a hub error"));
      assert.equal(error.message, "An unexpected error occurred invoking 'ThrowHubError' on the server. HubException: a hub error");
      error = await rejection(m.c.invoke("ThrowOther", "hidden detail"));
      assert.equal(error.message, "An unexpected error occurred invoking 'ThrowOther' on the server.");
    });

    it("argument errors are short with detailed errors off; an unknown method still says why", T, async (t) => {
      const m = await member(t, "M");
      let error = await rejection(m.c.invoke("Add", 1));
      assert.equal(error.message, "Failed to invoke 'Add' due to an error on the server.");
      error = await rejection(m.c.invoke("Add", "one", 2));
      assert.equal(error.message, "Failed to invoke 'Add' due to an error on the server.");
      error = await rejection(m.c.invoke("NoSuchMethod"));
      assert.equal(error.message, "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist.");
      assert.equal(await m.c.invoke("Add", 1, 2), 3);
    });

    it("the method renamed Custom.Name answers \"renamed\"", T, async (t) => {
      const m = await member(t, "M");
      assert.equal(await m.c.invoke("Custom.Name"), "renamed");
      const error = await rejection(m.c.invoke("RenamedMethod"));
      assert.equal(error.message, "Failed to invoke 'RenamedMethod' due to an error on the server. HubException: Method does not exist.");
    });

    it("POST /featurehub-notify sends Notify(text) to every connection and answers ok", T, async (t) => {
      const a = await member(t, "A");
      const b = await member(t, "B");
      const text = "news & more: é 😀";
      const response = await fetch(`${server.url}/featurehub-notify?text=${encodeURIComponent(text)}`, { method: "POST" });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "ok");
      for (const m of [a, b]) assert.deepEqual(await m.notify.next(), [text]);
    });
  });
}

