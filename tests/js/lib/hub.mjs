// Helpers around the official @microsoft/signalr client: building and
// tracking connections, bounded waits, and queues of client-method calls.

import { createRequire } from "node:module";
import signalR from "@microsoft/signalr";
import { PROTOCOLS } from "./config.mjs";

const require = createRequire(import.meta.url);
const signalRMain = require.resolve("@microsoft/signalr");
const requireFromSignalR = createRequire(signalRMain);

/** Internals of the client that the suite needs (not exported by its index). */
export const { getUserAgentHeader } = requireFromSignalR("./Utils.js");
export const { HttpConnection } = requireFromSignalR("./HttpConnection.js");
/** The `ws` package the client itself uses in Node (its own dependency). */
export const WebSocket = requireFromSignalR("ws");

export const DEFAULT_WAIT_MS = 5_000;

function clientLogger() {
  const level = process.env.HUBS_TEST_LOG;
  if (!level) return signalR.NullLogger.instance;
  const value = signalR.LogLevel[level];
  if (value === undefined) throw new Error(`HUBS_TEST_LOG: unknown LogLevel '${level}'`);
  return value;
}

/** Rejects after `ms` with a message naming what was awaited. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A protocol wrapper that records every message the client parses and
 * writes, so tests can check what the server sent (e.g. nothing for a
 * non-blocking send) and which invocation ids the client used.
 */
export function recording(protocol) {
  const received = [];
  const sent = [];
  const wrapper = Object.create(protocol);
  wrapper.parseMessages = (input, logger) => {
    const messages = protocol.parseMessages(input, logger);
    received.push(...messages);
    return messages;
  };
  wrapper.writeMessage = (message) => {
    sent.push(message);
    return protocol.writeMessage(message);
  };
  return { protocol: wrapper, received, sent };
}

/**
 * Builds a HubConnection to `url`.
 *   transport: a HttpTransportType name, or undefined for the client's choice
 *   protocol:  a key of PROTOCOLS, or a protocol instance
 *   reconnect: true for withAutomaticReconnect() (or an array of delays)
 *   record:    true to record messages in `connection.received` and `connection.sent`
 *   anything else is passed to withUrl() as IHttpConnectionOptions
 */
export async function build(url, { transport, protocol = "json", reconnect, record, ...options } = {}) {
  let protocolInstance = typeof protocol === "string" ? await PROTOCOLS[protocol]() : protocol;
  let received;
  let sent;
  if (record) {
    ({ protocol: protocolInstance, received, sent } = recording(protocolInstance));
  }
  // Message content only when logs are shown: the client formats every binary
  // message as hex text whether or not its logger prints it, which makes a
  // MessagePack client too slow to keep up with 30 MB of broadcasts.
  const httpOptions = { logMessageContent: Boolean(process.env.HUBS_TEST_LOG), ...options };
  if (transport !== undefined) {
    httpOptions.transport = signalR.HttpTransportType[transport];
  }
  let builder = new signalR.HubConnectionBuilder()
    .configureLogging(clientLogger())
    .withUrl(url, httpOptions)
    .withHubProtocol(protocolInstance);
  if (reconnect) {
    builder = Array.isArray(reconnect) ? builder.withAutomaticReconnect(reconnect) : builder.withAutomaticReconnect([0, 100, 500, 1000]);
  }
  const connection = builder.build();
  connection.received = received;
  connection.sent = sent;
  return connection;
}

/** Stops a connection, ignoring errors, bounded in time. */
export async function stopQuietly(connection) {
  try {
    await withTimeout(connection.stop(), 10_000, "connection.stop()");
  } catch {
    /* the test already failed or the connection is gone */
  }
}

/**
 * Builds, tracks (stopped after the test `t`) and, unless start: false,
 * starts a connection.
 */
export async function open(t, url, { start = true, ...options } = {}) {
  const connection = await build(url, options);
  t.after(() => stopQuietly(connection));
  connection.closedWith = closed(connection);
  if (start) {
    await withTimeout(connection.start(), 10_000, `start() of ${url}`);
  }
  return connection;
}

/** Resolves with the error (or undefined) of the next onclose. */
export function closed(connection) {
  return new Promise((resolve) => {
    let done = false;
    connection.onclose((error) => {
      if (!done) {
        done = true;
        resolve(error);
      }
    });
  });
}

/** Awaits a promise that must reject, and returns its error. */
export async function rejection(promise, ms = DEFAULT_WAIT_MS, what = "a rejection") {
  let value;
  try {
    value = await withTimeout(promise, ms, what);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${what}, got a result: ${JSON.stringify(value)}`);
}

/**
 * Queues the calls of client method `method` on `connection`.
 * `next()` resolves with the arguments array of the next call.
 */
export function listen(connection, method) {
  const queue = [];
  const waiters = [];
  connection.on(method, (...args) => {
    const waiter = waiters.shift();
    if (waiter) waiter(args);
    else queue.push(args);
  });
  return {
    method,
    /** Calls received and not yet taken. */
    get pending() {
      return queue.slice();
    },
    next(ms = DEFAULT_WAIT_MS) {
      if (queue.length) return Promise.resolve(queue.shift());
      let resolver;
      const promise = new Promise((resolve) => {
        resolver = resolve;
        waiters.push(resolve);
      });
      return withTimeout(promise, ms, `client method '${method}'`).catch((error) => {
        const index = waiters.indexOf(resolver);
        if (index >= 0) waiters.splice(index, 1);
        throw error;
      });
    },
    /** Takes every queued call. */
    drain() {
      return queue.splice(0, queue.length);
    },
  };
}

export { signalR };
