// Churn: many clients connect, invoke and leave at once over every
// transport, and an observer sees each join once and each leave once: every
// on_connected and on_disconnected runs exactly once. Under the sanitizers
// the server's clean exit (checked by useServer) shows that nothing leaked.
// These run once whatever HUBS_TRANSPORTS says.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL_TRANSPORTS } from "./lib/config.mjs";
import { build, delay, listen, open, stopQuietly, withTimeout } from "./lib/hub.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const CLIENTS_PER_TRANSPORT = Number(process.env.HUBS_CHURN_CLIENTS ?? 100);

describe("churn", () => {
  it(`${CLIENTS_PER_TRANSPORT} clients a transport connect, invoke and leave at once`, { timeout: 120_000 }, async (t) => {
    const observer = await open(t, `${server.url}/featurehub`, { transport: "WebSockets", start: false });
    const joined = new Map();
    const left = new Map();
    observer.on("Joined", (id) => joined.set(id, (joined.get(id) ?? 0) + 1));
    observer.on("Left", (id) => left.set(id, (left.get(id) ?? 0) + 1));
    const welcome = listen(observer, "Welcome");
    await withTimeout(observer.start(), 10_000, "the observer's start()");
    await welcome.next();

    const ids = [];
    async function client(transport, i) {
      const connection = await build(`${server.url}/featurehub`, { transport });
      try {
        await withTimeout(connection.start(), 60_000, `start() of ${transport} client ${i}`);
        ids.push(connection.connectionId);
        assert.equal(await withTimeout(connection.invoke("Add", i, 1), 60_000, "Add"), i + 1);
      } finally {
        await stopQuietly(connection);
      }
    }
    const runs = [];
    for (const transport of ALL_TRANSPORTS) {
      for (let i = 0; i < CLIENTS_PER_TRANSPORT; i += 1) runs.push(client(transport, i));
    }
    const results = await Promise.allSettled(runs);
    const failures = results.filter((r) => r.status === "rejected").map((r) => String(r.reason));
    assert.deepEqual(failures, []);
    assert.equal(ids.length, CLIENTS_PER_TRANSPORT * ALL_TRANSPORTS.length);

    const deadline = Date.now() + 20_000;
    while (ids.some((id) => !left.has(id)) && Date.now() < deadline) await delay(100);
    // Time for a second Left to show, if one were to come.
    await delay(500);
    for (const id of ids) {
      assert.equal(joined.get(id), 1, `Joined(${id}) seen ${joined.get(id) ?? 0} times`);
      assert.equal(left.get(id), 1, `Left(${id}) seen ${left.get(id) ?? 0} times`);
    }
    assert.equal(joined.size, ids.length);
    assert.equal(left.size, ids.length);
  });
});
