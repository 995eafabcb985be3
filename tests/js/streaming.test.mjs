// Streams (server to client and uploads) and client results, for the next
// milestone: skipped unless HUBS_ENABLE_STREAMING=1. TestHub's Stream,
// InfiniteStream, StreamingConcat, EmptyStream, StreamThrowException and
// /clientresult; FeatureHub's Counter, Upload and AskCaller.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matrix, STREAMING } from "./lib/config.mjs";
import { delay, open, rejection, signalR, withTimeout } from "./lib/hub.mjs";
import { useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };
const SKIP = !STREAMING && "set HUBS_ENABLE_STREAMING=1";

/** Subscribes to a stream; resolves with { items, error } when it ends. */
function collect(stream, ms = 5000) {
  const items = [];
  const ended = new Promise((resolve) => {
    stream.subscribe({
      next: (item) => items.push(item),
      complete: () => resolve({ items, error: undefined }),
      error: (error) => resolve({ items, error }),
    });
  });
  return withTimeout(ended, ms, "the end of the stream");
}

for (const { transport, protocol } of matrix()) {
  describe(`streams over ${transport} with ${protocol}`, { skip: SKIP }, () => {
    const testHub = (t, options = {}) => open(t, `${server.url}/testhub`, { transport, protocol, ...options });
    const featureHub = (t, options = {}) => open(t, `${server.url}/featurehub`, { transport, protocol, ...options });

    it("Stream yields a, b, c and completes; stop is clean", T, async (t) => {
      const connection = await testHub(t);
      assert.deepEqual(await collect(connection.stream("Stream")), { items: ["a", "b", "c"], error: undefined });
      await connection.stop();
      assert.equal(await connection.closedWith, undefined);
    });

    it("EmptyStream completes without items", T, async (t) => {
      const connection = await testHub(t);
      assert.deepEqual(await collect(connection.stream("EmptyStream")), { items: [], error: undefined });
    });

    it("StreamThrowException ends the stream with the exact error", T, async (t) => {
      const connection = await testHub(t);
      const { items, error } = await collect(connection.stream("StreamThrowException", "An error occurred."));
      assert.deepEqual(items, []);
      assert.equal(error?.message,
        "An unexpected error occurred invoking 'StreamThrowException' on the server. InvalidOperationException: An error occurred.");
    });

    it("invoking Stream with invoke() fails with the exact error", T, async (t) => {
      const connection = await testHub(t);
      const error = await rejection(connection.invoke("Stream"));
      assert.equal(error.message, "The client attempted to invoke the streaming 'Stream' method with a non-streaming invocation.");
    });

    it("InfiniteStream: cancelling sends StreamCanceled and the stream still completes", T, async (t) => {
      const connection = await testHub(t, { record: true });
      const canceled = new Promise((resolve) => connection.on("StreamCanceled", (...args) => resolve(args)));
      const subscription = connection.stream("InfiniteStream").subscribe({ next() {}, complete() {}, error() {} });
      assert.equal(await connection.invoke("Echo", "a stream does not block invocations"), "a stream does not block invocations");
      const streamId = findStreamId(connection);
      subscription.dispose();
      assert.deepEqual(await withTimeout(canceled, 5000, "StreamCanceled"), []);
      // The server answers the cancel with a Completion without error (which
      // the client no longer listens to); check it on the wire.
      await waitFor(() => connection.received.some((m) =>
        m.type === signalR.MessageType.Completion && m.invocationId === streamId), 5000, "the Completion of the cancelled stream");
      const completion = connection.received.find((m) => m.type === signalR.MessageType.Completion && m.invocationId === streamId);
      assert.equal(completion.error, undefined);
      await connection.stop();
      assert.equal(await connection.closedWith, undefined);
    });

    it("StreamingConcat joins an uploaded stream", T, async (t) => {
      const connection = await testHub(t);
      const subject = new signalR.Subject();
      const result = connection.invoke("StreamingConcat", subject);
      subject.next("Hello ");
      subject.next("world");
      await delay(20);
      subject.next("!");
      subject.complete();
      assert.equal(await withTimeout(result, 5000, "StreamingConcat"), "Hello world!");
    });

    it("StreamingConcat: an upload error comes back as the hub error", T, async (t) => {
      const connection = await testHub(t);
      const subject = new signalR.Subject();
      const result = connection.invoke("StreamingConcat", subject);
      subject.next("Hello ");
      subject.error(new Error("Something bad"));
      const error = await rejection(result);
      assert.equal(error.message, "An unexpected error occurred invoking 'StreamingConcat' on the server. HubException: Something bad");
      assert.equal(await connection.invoke("Echo", "alive"), "alive");
    });

    it("Counter streams 0..n-1 at its pace", T, async (t) => {
      const connection = await featureHub(t);
      const started = Date.now();
      assert.deepEqual(await collect(connection.stream("Counter", 5, 30)), { items: [0, 1, 2, 3, 4], error: undefined });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 100, `5 items 30 ms apart took ${elapsed} ms`);
    });

    it("Counter stops promptly when cancelled", T, async (t) => {
      const connection = await featureHub(t, { record: true });
      const items = [];
      let subscription;
      const third = new Promise((resolve) => {
        subscription = connection.stream("Counter", 1000, 40).subscribe({
          next: (item) => {
            items.push(item);
            if (items.length === 3) resolve();
          },
          complete() {},
          error() {},
        });
      });
      await withTimeout(third, 5000, "three items");
      const streamId = findStreamId(connection);
      subscription.dispose();
      await waitFor(() => connection.received.some((m) =>
        m.type === signalR.MessageType.Completion && m.invocationId === streamId), 5000, "the Completion of the cancelled stream");
      const countAtCompletion = connection.received.filter((m) => m.type === signalR.MessageType.StreamItem).length;
      await delay(200);
      const count = connection.received.filter((m) => m.type === signalR.MessageType.StreamItem).length;
      assert.equal(count, countAtCompletion, "no items after the Completion");
      assert.ok(count <= 5, `${count} items arrived for a stream cancelled after 3`);
      assert.equal(await connection.invoke("Add", 1, 2), 3);
    });

    it("two streams on one connection run side by side", T, async (t) => {
      const connection = await featureHub(t);
      const [first, second] = await Promise.all([
        collect(connection.stream("Counter", 4, 20)),
        collect(connection.stream("Counter", 3, 25)),
      ]);
      assert.deepEqual(first.items, [0, 1, 2, 3]);
      assert.deepEqual(second.items, [0, 1, 2]);
    });

    it("Upload sums an uploaded stream of ints", T, async (t) => {
      const connection = await featureHub(t);
      const subject = new signalR.Subject();
      const result = connection.invoke("Upload", subject);
      for (const n of [1, 2, 3, 4, 5, 100]) subject.next(n);
      subject.complete();
      assert.equal(await withTimeout(result, 5000, "Upload"), 115);

      const empty = new signalR.Subject();
      const none = connection.invoke("Upload", empty);
      empty.complete();
      assert.equal(await withTimeout(none, 5000, "Upload of nothing"), 0);
    });
  });

  describe(`client results over ${transport} with ${protocol}`, { skip: SKIP }, () => {
    const clientResult = async (id) => {
      const response = await fetch(`${server.url}/clientresult/${encodeURIComponent(id)}`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
      return response.text();
    };

    it("/clientresult/{id} returns the client's Result", T, async (t) => {
      const connection = await open(t, `${server.url}/testhub`, { transport, protocol, start: false });
      connection.on("Result", () => 10);
      await withTimeout(connection.start(), 10_000, "start()");
      assert.equal(await clientResult(connection.connectionId), "10");
      connection.off("Result");
      connection.on("Result", async () => {
        await delay(30);
        return -7;
      });
      assert.equal(await clientResult(connection.connectionId), "-7");
    });

    it("/clientresult/{id} reports a throwing handler, a missing handler and an unknown id", T, async (t) => {
      const connection = await open(t, `${server.url}/testhub`, { transport, protocol });
      assert.equal(await clientResult(connection.connectionId), "Client didn't provide a result.");
      connection.on("Result", () => {
        throw new Error("from callback");
      });
      assert.equal(await clientResult(connection.connectionId), "Error: from callback");
      assert.equal(await clientResult("no-such-connection"), "Connection 'no-such-connection' does not exist.");
      assert.equal(await connection.invoke("Echo", "alive"), "alive");
    });

    it("AskCaller gets the caller's Double(x), or its error as the hub error", T, async (t) => {
      const connection = await open(t, `${server.url}/featurehub`, { transport, protocol });
      connection.on("Double", (x) => x * 2);
      assert.equal(await connection.invoke("AskCaller", 21), 42);
      connection.off("Double");
      connection.on("Double", () => {
        throw new Error("boom");
      });
      let error = await rejection(connection.invoke("AskCaller", 1));
      assert.equal(error.message, "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Error: boom");
      connection.off("Double");
      error = await rejection(connection.invoke("AskCaller", 1));
      assert.equal(error.message, "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Client didn't provide a result.");
      assert.equal(await connection.invoke("Add", 2, 2), 4);
    });
  });
}

/** The invocation id of the last stream the client started (from what it sent). */
function findStreamId(connection) {
  const invocations = connection.sent.filter((m) => m.type === signalR.MessageType.StreamInvocation);
  assert.ok(invocations.length, "the client sent a StreamInvocation");
  return invocations[invocations.length - 1].invocationId;
}

async function waitFor(condition, ms, what) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}
