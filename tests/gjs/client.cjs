// The client side of test-hub.js: the official @microsoft/signalr client
// calls the hub GJS declared. CommonJS, so that NODE_PATH finds the package.
"use strict";
const assert = require("node:assert/strict");
const signalR = require("@microsoft/signalr");

(async () => {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${process.argv[2]}/chathub`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
  const received = new Promise((resolve) => connection.on("ReceiveMessage", (u, m) => resolve([u, m])));
  await connection.start();
  assert.equal(await connection.invoke("Add", 40, 2), 42);
  assert.equal(await connection.invoke("SendMessage", "gjs", "hello ✓"), null);
  assert.deepEqual(await received, ["gjs", "hello ✓"]);
  await assert.rejects(connection.invoke("Fail", "no luck"), {
    message: "An unexpected error occurred invoking 'Fail' on the server. HubException: no luck",
  });
  await connection.stop();
  console.log("ok");
})().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
