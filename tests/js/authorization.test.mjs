// Authorization through the official JavaScript client: 401 at negotiate for
// a hub that requires authenticated users, [Authorize]-style checks on hub
// methods (authenticated user, roles, claims, a policy callback, a hub-wide
// policy) with the reference's error and the connection kept open, the
// server's user-id provider, and connections closed when their
// authentication expires. /filteredhub of the C interop server
// (tests/interop/interop-filtered-hub.c): a token "NAME;role=R;department=D;expires=S".

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matrix } from "./lib/config.mjs";
import { delay, open, rejection, withTimeout } from "./lib/hub.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };
// /filteredhub is hubs-glib's own, beyond the contract: the C and Python
// interop servers serve it, the ASP.NET Core one does not.
const SKIP = /dotnet/.test((process.env.HUBS_INTEROP_SERVER ?? "").trim().split(/ +/)[0]) &&
  "/filteredhub is hubs-glib's own";

const refused = (method) => `Failed to invoke '${method}' because user is unauthorized`;

for (const { transport, protocol } of matrix()) {
  describe(`method authorization over ${transport} with ${protocol}`, { skip: SKIP }, () => {
    async function connect(t, { user, query } = {}) {
      const options = { transport, protocol };
      if (user) options.accessTokenFactory = () => user;
      return open(t, `${server.url}/filteredhub${query ? `?${query}` : ""}`, options);
    }

    async function assertRefused(connection, method, ...args) {
      const error = await rejection(connection.invoke(method, ...args));
      assert.equal(error.message, refused(method));
      // The connection stays open and usable.
      assert.equal(await connection.invoke("Echo", "still open"), "still open");
    }

    it("401 at negotiate for a hub that requires authentication", T, async (t) => {
      const connection = await open(t, `${server.url}/authorizedhub`, { transport, protocol, start: false });
      const error = await rejection(connection.start(), 10_000, "start() to fail");
      assert.equal(error.message, "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'");
    });

    it("a method for authenticated users refuses anonymous callers and keeps the connection", T, async (t) => {
      const anonymous = await connect(t);
      await assertRefused(anonymous, "Whoami");
      const alice = await connect(t, { user: "alice" });
      assert.equal(await alice.invoke("Whoami"), "filtered:alice", "the server's user-id provider names the user");
    });

    it("a role requirement admits any of its roles", T, async (t) => {
      await assertRefused(await connect(t, { user: "alice" }), "AdminOnly");
      await assertRefused(await connect(t), "AdminOnly");
      assert.equal(await (await connect(t, { user: "alice;role=admin" })).invoke("AdminOnly"), "filtered:alice");
      assert.equal(await (await connect(t, { user: "bob;role=reader;role=owner" })).invoke("AdminOnly"), "filtered:bob");
    });

    it("a claim requirement checks the claim's allowed values", T, async (t) => {
      await assertRefused(await connect(t, { user: "carol" }), "DepartmentOnly");
      await assertRefused(await connect(t, { user: "carol;department=hr" }), "DepartmentOnly");
      assert.equal(await (await connect(t, { user: "carol;department=support" })).invoke("DepartmentOnly"), "filtered:carol");
    });

    it("a policy callback decides from the caller's context", T, async (t) => {
      await assertRefused(await connect(t, { query: "allow=no" }), "QueryOnly");
      assert.equal(await (await connect(t, { query: "allow=yes" })).invoke("QueryOnly"), null);
    });

    it("a hub-wide policy applies to every method", T, async (t) => {
      const blocked = await connect(t, { user: "blocked" });
      let error = await rejection(blocked.invoke("Echo", "x"));
      assert.equal(error.message, refused("Echo"));
      error = await rejection(blocked.invoke("Reveal"));
      assert.equal(error.message, refused("Reveal"));
      // Still connected: a refused call does not end the connection.
      error = await rejection(blocked.invoke("Echo", "y"));
      assert.equal(error.message, refused("Echo"));
    });

    it("a refused call runs no filter, and a refused send gets no answer", T, async (t) => {
      const connection = await connect(t, { user: "dan" });
      await connection.invoke("GetLog");
      await connection.send("AdminOnly");
      await rejection(connection.invoke("AdminOnly"));
      const log = await connection.invoke("GetLog");
      assert.equal(log.filter((entry) => entry.includes("AdminOnly")).length, 0, JSON.stringify(log));
    });

    it("a connection whose authentication expires is closed without error", T, async (t) => {
      const watcher = await connect(t);
      const started = Date.now();
      const expiring = await connect(t, { user: "erin;expires=1" });
      const lasting = await connect(t, { user: "frank" });
      const id = expiring.connectionId;
      assert.equal(await withTimeout(expiring.closedWith, 5000, "onclose after the expiration"), undefined);
      assert.ok(Date.now() - started >= 500, "closed at the expiration, not at once");
      assert.equal(await lasting.invoke("Echo", "still here"), "still here");
      // The hub's disconnect path ran (through the filters).
      await delay(100);
      assert.ok((await watcher.invoke("GetDisconnections")).includes(`hub:disconnected:${id}`));
    });
  });
}

// Long Polling, with raw requests: as ASP.NET Core's
// HttpConnectionDispatcher, every poll brings the connection the user it
// was authenticated as, so a client that renews its token renews the user
// the hub sees and the expiration that closes the connection.
describe("Long Polling renews the connection's user on each poll", { skip: SKIP }, () => {
  const RS = "\x1e";
  const bearer = (token) => ({ Authorization: `Bearer ${token}` });

  async function connectRaw(token) {
    const negotiated = await fetch(`${server.url}/filteredhub/negotiate?negotiateVersion=1`,
                                   { method: "POST", headers: bearer(token) });
    assert.equal(negotiated.status, 200);
    const id = (await negotiated.json()).connectionToken;
    const url = `${server.url}/filteredhub?id=${encodeURIComponent(id)}`;
    const poll = async (pollToken = token) => {
      const response = await fetch(url, { headers: bearer(pollToken) });
      return { status: response.status, body: await response.text() };
    };
    const post = async (text) => {
      const response = await fetch(url, { method: "POST", headers: bearer(token), body: text });
      assert.equal(response.status, 200);
    };
    assert.equal((await poll()).status, 200, "the first poll starts the connection");
    await post(`{"protocol":"json","version":1}${RS}`);
    assert.equal((await poll()).body, `{}${RS}`);
    // One call, answered on a poll made with `pollToken`.
    const call = async (invocationId, target, args, pollToken) => {
      const polled = poll(pollToken);
      await post(JSON.stringify({ type: 1, invocationId, target, arguments: args }) + RS);
      return JSON.parse((await polled).body.split(RS)[0]);
    };
    return { poll, post, call };
  }

  it("a poll with another token changes the user the hub's authorization checks", T, async () => {
    const connection = await connectRaw("gina");
    const refused = await connection.call("1", "AdminOnly", [], "gina");
    assert.equal(refused.error, "Failed to invoke 'AdminOnly' because user is unauthorized");

    // This poll is answered after the server received it: the user it
    // carries is the connection's from then on.
    assert.equal((await connection.call("2", "Echo", ["x"], "gina;role=admin")).result, "x");
    const allowed = await connection.call("3", "AdminOnly", [], "gina;role=admin");
    assert.equal(allowed.error, undefined);
    assert.equal(allowed.result, "filtered:gina", "the user identifier stays the one of the start");
  });

  it("a renewed token keeps the connection past its first expiration; then it closes", { timeout: 30_000 }, async () => {
    // Each poll authenticates "hana" anew, expiring 3 s after that poll.
    const connection = await connectRaw("hana;expires=3");
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < 6500) {
      const answer = await connection.call(`${++n}`, "Echo", [`${n}`], "hana;expires=3");
      assert.equal(answer.result, `${n}`, "still open, well past the first token's expiration");
      await delay(300);
    }
    // No poll renews it now: the connection closes without error.
    const last = await withTimeout(connection.poll(), 10_000, "the poll that ends the connection");
    assert.equal(last.status, 200);
    assert.equal(last.body, `{"type":7,"allowReconnect":true}${RS}`);
  });
});

// /adminhub: a role requirement on the hub class. As ASP.NET Core's
// authorization middleware with [Authorize] on a hub, the endpoint applies it
// to every request: 401 for an anonymous one, 403 for a user without the
// role, at negotiate and on the transport's own requests.
for (const { transport, protocol } of matrix()) {
  describe(`a hub-wide role requirement over ${transport} with ${protocol}`, { skip: SKIP }, () => {
    const connect = (t, user, start = true) => open(t, `${server.url}/adminhub`, {
      transport, protocol, start, ...(user ? { accessTokenFactory: () => user } : {}),
    });

    it("an anonymous client is challenged and one without the role forbidden, at negotiate", T, async (t) => {
      let error = await rejection((await connect(t, null, false)).start(), 10_000, "start() to fail");
      assert.equal(error.message, "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'");
      error = await rejection((await connect(t, "ivan", false)).start(), 10_000, "start() to fail");
      assert.equal(error.message, "Failed to complete negotiation with the server: Error: Forbidden: Status code '403'");
    });

    it("a user with the role connects and calls", T, async (t) => {
      const owner = await connect(t, "ivan;role=owner");
      assert.equal(await owner.invoke("Echo", "hello"), "hello");
    });
  });
}

describe("a hub-wide role requirement on each request", { skip: SKIP }, () => {
  it("a poll made with a token without the role is forbidden", T, async () => {
    const admin = { Authorization: "Bearer judy;role=admin" };
    const negotiated = await fetch(`${server.url}/adminhub/negotiate?negotiateVersion=1`, { method: "POST", headers: admin });
    assert.equal(negotiated.status, 200);
    const url = `${server.url}/adminhub?id=${encodeURIComponent((await negotiated.json()).connectionToken)}`;
    assert.equal((await fetch(url, { headers: admin })).status, 200, "the first poll starts the connection");
    const response = await fetch(url, { headers: { Authorization: "Bearer judy" } });
    assert.equal(response.status, 403);
    const anonymous = await fetch(url);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("www-authenticate"), "Bearer");
  });
});
