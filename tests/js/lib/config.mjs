// What the suite runs over, from the environment:
//   HUBS_TRANSPORTS        comma-separated among WebSockets, ServerSentEvents, LongPolling (default WebSockets)
//   HUBS_PROTOCOLS         comma-separated among the keys of PROTOCOLS below (default json)
//   HUBS_ENABLE_STREAMING  1 to run streaming.test.mjs (streams, uploads, client results)
//   HUBS_SLOW_TESTS        1 to run the tests that wait for the server's 15 s / 30 s timers
//   HUBS_TEST_LOG          a @microsoft/signalr LogLevel name (Trace, Debug, Information, ...) for client logs

import signalR from "@microsoft/signalr";

/**
 * Hub protocols by the name HUBS_PROTOCOLS uses. Each makes a fresh protocol
 * instance.
 */
export const PROTOCOLS = {
  json: async () => new signalR.JsonHubProtocol(),
  messagepack: async () => new (await import("@microsoft/signalr-protocol-msgpack")).MessagePackHubProtocol(),
};

export const ALL_TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"];

function parseList(variable, fallback, allowed) {
  const text = (process.env[variable] ?? "").trim();
  if (!text) return fallback;
  return text.split(",").map((item) => item.trim()).filter(Boolean).map((item) => {
    const match = allowed.find((name) => name.toLowerCase() === item.toLowerCase());
    if (!match) {
      throw new Error(`${variable}: unknown value '${item}' (allowed: ${allowed.join(", ")})`);
    }
    return match;
  });
}

export const TRANSPORTS = parseList("HUBS_TRANSPORTS", ["WebSockets"], ALL_TRANSPORTS);
export const PROTOCOL_NAMES = parseList("HUBS_PROTOCOLS", ["json"], Object.keys(PROTOCOLS));

export const STREAMING = process.env.HUBS_ENABLE_STREAMING === "1";
export const SLOW = process.env.HUBS_SLOW_TESTS === "1";

/** Every (transport, protocol) pair the run covers. */
export function matrix() {
  const pairs = [];
  for (const transport of TRANSPORTS) {
    for (const protocol of PROTOCOL_NAMES) {
      pairs.push({ transport, protocol });
    }
  }
  return pairs;
}
