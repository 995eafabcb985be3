// The client side of test_filters_authorization.py: the official
// @microsoft/signalr client calls a hub whose filters and authorization
// callback are written in Python. CommonJS, so that NODE_PATH finds the
// client package.
//
//   node filters-client.cjs http://127.0.0.1:PORT
//
// Prints one JSON line of results and exits 0, or prints why and exits 1.

"use strict";

const signalR = require("@microsoft/signalr");

const base = process.argv[2];
if (!base) {
  console.error("usage: node filters-client.cjs BASE-URL");
  process.exit(2);
}

function connect(path) {
  return new signalR.HubConnectionBuilder()
    .withUrl(`${base}${path}`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
}

async function errorOf(promise) {
  try {
    await promise;
  } catch (error) {
    return error.message;
  }
  throw new Error("expected the invocation to fail");
}

async function main() {
  const results = {};
  const closed = connect("/filtered");
  const open = connect("/filtered?key=open");
  await closed.start();
  await open.start();
  results.closedId = closed.connectionId;
  results.openId = open.connectionId;

  results.echo = await closed.invoke("Echo", "well darn");
  results.forbidden = await errorOf(closed.invoke("Echo", "a forbidden word"));
  results.secretClosed = await errorOf(closed.invoke("Secret"));
  results.echoAfterRefusal = await closed.invoke("Echo", "still open");
  results.secretOpen = await open.invoke("Secret");

  await closed.stop();
  await open.stop();
  console.log(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
