# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the Python tests share: a GLib main loop that fails a test rather
than hang, servers that are shut down after each test, and the official
@microsoft/signalr client in Node as the peer."""

import json
import os
import shutil

import pytest

import gi

gi.require_version("Hubs", "1")
from gi.repository import Gio, GLib, Hubs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_NODE_PATH = os.path.join(HERE, os.pardir, "js", "node_modules")
TIMEOUT_SECONDS = 20

# The prelude of every client script: helpers around the official client.
# The script's body is an async function body; what it returns is printed
# as one JSON line.
CLIENT_PRELUDE = r"""
"use strict";
const signalR = require("@microsoft/signalr");
const base = process.argv[2];

function connect(path, options = {}) {
  return new signalR.HubConnectionBuilder()
    .withUrl(`${base}${path}`, { transport: signalR.HttpTransportType.WebSockets, ...options })
    .configureLogging(signalR.LogLevel.None)
    .build();
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function errorOf(promise) {
  try {
    await withTimeout(promise, 5000, "the failure");
  } catch (error) {
    return error.message;
  }
  throw new Error("expected the call to fail");
}

/** Items of a stream until it ends: { items, error }. */
function collect(stream) {
  return withTimeout(new Promise((resolve) => {
    const items = [];
    stream.subscribe({
      next: (item) => items.push(item),
      complete: () => resolve({ items, error: null }),
      error: (error) => resolve({ items, error: error.message }),
    });
  }), 5000, "the end of the stream");
}

/** The first `count` items of a stream, then the subscription is disposed. */
function take(stream, count) {
  return withTimeout(new Promise((resolve, reject) => {
    const items = [];
    const subscription = stream.subscribe({
      next: (item) => {
        items.push(item);
        if (items.length === count) {
          subscription.dispose();
          resolve(items);
        }
      },
      complete: () => reject(new Error(`the stream ended after ${items.length} items`)),
      error: reject,
    });
  }), 5000, `${count} items`);
}

async function main() {
%BODY%
}

main().then(
  (result) => {
    console.log(JSON.stringify(result === undefined ? null : result));
    process.exit(0);
  },
  (error) => {
    console.error(`client: ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  },
);
"""


def find_node_path():
    node_path = os.environ.get("NODE_PATH") or DEFAULT_NODE_PATH
    for folder in node_path.split(os.pathsep):
        if os.path.isdir(os.path.join(folder, "@microsoft", "signalr")):
            return node_path
    return None


class Loop:
    """A GLib main loop that fails the test rather than hang."""

    def __init__(self):
        self.loop = GLib.MainLoop()

    def run_until(self, done, what, timeout=TIMEOUT_SECONDS):
        if done():
            return
        timed_out = []

        def check():
            if done():
                self.loop.quit()
                return GLib.SOURCE_REMOVE
            return GLib.SOURCE_CONTINUE

        def time_out():
            timed_out.append(True)
            self.loop.quit()
            return GLib.SOURCE_REMOVE

        poll_id = GLib.timeout_add(5, check)
        timeout_id = GLib.timeout_add_seconds(timeout, time_out)
        self.loop.run()
        for source_id in (poll_id, timeout_id):
            source = GLib.main_context_default().find_source_by_id(source_id)
            if source is not None and not source.is_destroyed():
                source.destroy()
        assert not timed_out, f"{what}: not within {timeout} s"

    def wait(self, future, what="the future"):
        """Runs the loop until a Hubs.Future is done; returns its result."""
        self.run_until(future.done, what)
        return future.result()

    def spin(self, milliseconds):
        """Runs the loop for a while."""
        deadline = GLib.get_monotonic_time() + milliseconds * 1000
        self.run_until(lambda: GLib.get_monotonic_time() >= deadline, "the pause", timeout=milliseconds // 1000 + 5)


@pytest.fixture
def loop():
    return Loop()


@pytest.fixture
def serve(loop):
    """serve({path: hub_class or (hub_class, options)}) starts a server on
    127.0.0.1 and returns it; it is shut down after the test."""
    servers = []

    def start(hubs):
        server = Hubs.Server.new()
        for path, spec in hubs.items():
            hub_class, options = spec if isinstance(spec, tuple) else (spec, None)
            assert server.map_hub(path, hub_class, options) is not None
        server.listen_local(0)
        servers.append(server)
        return server

    yield start

    for server in servers:
        assert loop.wait(server.shutdown_async(), "shutdown") is True
        assert server.get_n_connections() == 0


@pytest.fixture
def client(loop, tmp_path):
    """client(server, body) runs a client script (an async function body,
    see CLIENT_PRELUDE) against the server while the main loop serves it,
    and returns what the script returned."""
    node = shutil.which("node")
    node_path = find_node_path()
    if node is None or node_path is None:
        pytest.skip("needs node and @microsoft/signalr (npm ci in tests/js)")

    def run(server, body):
        script = tmp_path / f"client-{len(list(tmp_path.iterdir()))}.cjs"
        script.write_text(CLIENT_PRELUDE.replace("%BODY%", body), encoding="utf-8")
        launcher = Gio.SubprocessLauncher.new(Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE)
        launcher.setenv("NODE_PATH", node_path, True)
        process = launcher.spawnv([node, str(script), f"http://127.0.0.1:{server.get_port()}"])
        outcome = {}

        def communicated(process, result):
            try:
                _, outcome["stdout"], outcome["stderr"] = process.communicate_utf8_finish(result)
            except GLib.Error as error:
                outcome["error"] = error

        # Asynchronously, so that the main loop serves the client meanwhile.
        process.communicate_utf8_async(None, None, communicated)
        try:
            loop.run_until(lambda: outcome, "the client")
        finally:
            if not outcome:
                process.force_exit()
        assert "error" not in outcome, outcome.get("error")
        assert process.get_if_exited() and process.get_exit_status() == 0, \
            f"the client failed:\n{outcome['stdout']}\n{outcome['stderr']}"
        return json.loads(outcome["stdout"].strip().splitlines()[-1])

    return run
