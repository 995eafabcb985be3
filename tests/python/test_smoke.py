# SPDX-License-Identifier: LGPL-2.1-or-later
"""Smoke test of the Python binding: a hub declared in Python over the
GObject-introspection typelib, called by the official @microsoft/signalr
JavaScript client (smoke-client.cjs, run under Node).

Run by meson (`meson test python-smoke`), which sets GI_TYPELIB_PATH,
LD_LIBRARY_PATH and NODE_PATH; by hand:

    GI_TYPELIB_PATH=_build/introspection LD_LIBRARY_PATH=_build/hubs-glib \\
        /usr/bin/python3 -m pytest -v tests/python
"""

import json
import os
import shutil

import pytest

import gi

gi.require_version("Hubs", "1")
from gi.repository import Gio, GLib, GObject, Hubs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "smoke-client.cjs")
DEFAULT_NODE_PATH = os.path.join(HERE, os.pardir, "js", "node_modules")
TIMEOUT_SECONDS = 20

# A new hub instance is made for every invocation and every connect and
# disconnect callback, so what the hubs see is kept here, not on them.
events = {
    "connected": [],
    "disconnected": [],
    "refused": [],
    "refused_disconnected": [],
    "delayed_pending": [],
}


class ChatHub(Hubs.Hub):
    """The hub, declared with Python's own signal syntax: any signal whose
    first parameter is a Hubs.Invocation and whose return type is a boolean
    is a hub method, its wire name the signal name in PascalCase."""

    __gsignals__ = {
        "send-message": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, str, str)),
        "add": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, int, int)),
        "fail": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, str)),
        "crash": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation,)),
        "whoami": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation,)),
        "delayed-add": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, int, int)),
    }

    # The class handler of a signal declared in __gsignals__ is its
    # do_<name with underscores> method. It must return True
    # (Hubs.INVOCATION_HANDLED): a handler that returns None counts as
    # unhandled, and an invocation it meant to complete later fails at once.

    def do_send_message(self, invocation, user, message):
        everyone = self.get_clients().all()
        everyone.send_values("ReceiveMessage", [GObject.Value(str, user), GObject.Value(str, message)])
        invocation.return_void()
        return Hubs.INVOCATION_HANDLED

    def do_add(self, invocation, a, b):
        invocation.return_int(a + b)
        return True

    def do_fail(self, invocation, message):
        invocation.return_error_literal(Hubs.hub_error_quark(), Hubs.HubError.FAILED, message)
        return True

    def do_crash(self, invocation):
        # PyGObject prints the traceback and the signal returns FALSE.
        raise RuntimeError("a bug in a Python hub method (expected by the smoke test)")

    def do_whoami(self, invocation):
        invocation.return_string(self.get_context().get_connection_id())
        return True

    def do_delayed_add(self, invocation, a, b):
        def complete():
            invocation.return_int(a + b)
            return GLib.SOURCE_REMOVE

        # The closure keeps the invocation alive until the timeout fires.
        GLib.timeout_add(50, complete)
        events["delayed_pending"].append(not invocation.is_completed())
        return True

    # Virtual methods of Hubs.Hub.

    def do_on_connected(self):
        events["connected"].append(self.get_context().get_connection_id())
        return True  # None would refuse the connection

    def do_on_disconnected(self, error):
        events["disconnected"].append((self.get_context().get_connection_id(), error))


# Without it the wire name would be "Whoami"; clients match names without
# regard to case either way, but errors name the method as declared.
# HubsHubClass methods appear as class methods of the Python class; this one
# must run before the type is first mapped.
ChatHub.set_method_name("whoami", "WhoAmI")


class RefusingHub(Hubs.Hub):
    """A hub that refuses every connection from on_connected."""

    def do_on_connected(self):
        events["refused"].append(self.get_context().get_connection_id())
        raise GLib.Error.new_literal(Hubs.hub_error_quark(), "not today ✗", Hubs.HubError.FAILED)

    def do_on_disconnected(self, error):
        events["refused_disconnected"].append(error)


class DecoratedChatHub(Hubs.Hub):
    """The same hub through the Python override (introspection/Hubs.py):
    methods declared with Hubs.method, their types from the hints, their
    results returned."""

    @Hubs.method
    def send_message(self, user: str, message: str) -> None:
        self.get_clients().all().send("ReceiveMessage", user, message)

    @Hubs.method
    def add(self, a: int, b: int) -> int:
        return a + b

    @Hubs.method
    def fail(self, message: str) -> None:
        raise Hubs.HubException(message)

    @Hubs.method
    def crash(self) -> None:
        raise RuntimeError("a bug in a Python hub method (expected by the smoke test)")

    @Hubs.method(name="WhoAmI")
    def whoami(self) -> str:
        return self.get_context().get_connection_id()

    @Hubs.method
    def delayed_add(self, a: int, b: int, invocation) -> None:
        def complete():
            invocation.return_int(a + b)
            return GLib.SOURCE_REMOVE

        GLib.timeout_add(50, complete)
        events["delayed_pending"].append(not invocation.is_completed())

    def do_on_connected(self):
        # Returning nothing accepts the connection.
        events["connected"].append(self.get_context().get_connection_id())

    def do_on_disconnected(self, error):
        events["disconnected"].append((self.get_context().get_connection_id(), error))


class DecoratedRefusingHub(Hubs.Hub):
    def do_on_connected(self):
        events["refused"].append(self.get_context().get_connection_id())
        raise Hubs.HubException("not today ✗")

    def do_on_disconnected(self, error):
        events["refused_disconnected"].append(error)


class StreamHub(Hubs.Hub):
    """Streams both ways and client results, with signals: a signal whose
    first parameter is a Hubs.StreamWriter is a streaming method, and a
    Hubs.StreamReader parameter is an upload stream."""

    __gsignals__ = {
        "count": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.StreamWriter, int)),
        "sum": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, Hubs.StreamReader)),
        "ask": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, int)),
    }

    def do_count(self, writer, n):
        def write(i):
            if i == n or writer.get_cancellable().is_cancelled():
                writer.complete()
                return
            # Flow control: the next item once this one is queued.
            writer.write_async(GObject.Value(GObject.TYPE_INT, i), None,
                               lambda w, result: w.write_finish(result) and write(i + 1))

        write(0)
        return True

    def do_sum(self, invocation, reader):
        total = [0]

        def read(source, result):
            try:
                item = reader.read_finish(result)
            except GLib.Error as error:
                invocation.return_gerror(error)
                return
            if item is not None:
                total[0] += item
                reader.read_async(None, read)
            else:
                invocation.return_int(total[0])

        reader.read_async(None, read)
        return True

    def do_ask(self, invocation, x):
        caller = self.get_clients().caller()

        def answered(proxy, result):
            try:
                _, value = proxy.invoke_finish(result)
                invocation.return_int(value)
            except GLib.Error as error:
                invocation.return_gerror(error)

        caller.invoke_async("Double", [GObject.Value(GObject.TYPE_INT, x)], GObject.TYPE_INT, None, answered)
        return True


StreamHub.set_method_return_type("count", GObject.TYPE_INT)
StreamHub.set_upload_item_type("sum", 0, GObject.TYPE_INT)


HUBS = {
    "signals": (ChatHub, RefusingHub),
    "decorators": (DecoratedChatHub, DecoratedRefusingHub),
}


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
        self.timed_out = False

    def run_until(self, done, what):
        def check():
            if done():
                self.loop.quit()
                return GLib.SOURCE_REMOVE
            return GLib.SOURCE_CONTINUE

        def time_out():
            self.timed_out = True
            self.loop.quit()
            return GLib.SOURCE_REMOVE

        if done():
            return
        poll_id = GLib.timeout_add(10, check)
        timeout_id = GLib.timeout_add_seconds(TIMEOUT_SECONDS, time_out)
        self.loop.run()
        for source_id in (poll_id, timeout_id):
            source = GLib.main_context_default().find_source_by_id(source_id)
            if source is not None and not source.is_destroyed():
                source.destroy()
        assert not self.timed_out, f"{what}: not within {TIMEOUT_SECONDS} s"


@pytest.fixture(params=sorted(HUBS))
def server(request):
    for recorded in events.values():
        recorded.clear()

    chat_hub, refusing_hub = HUBS[request.param]
    server = Hubs.Server.new()
    # By GType, as C would, and by class, as the override allows.
    server.map_hub("/chathub", chat_hub.__gtype__ if request.param == "signals" else chat_hub, None)
    server.map_hub("/refuse", refusing_hub, None)
    server.map_hub("/streamhub", StreamHub.__gtype__, None)
    server.listen_local(0)
    yield server

    # Shut down whatever happened in the test: the async pair as PyGObject
    # shows it (shutdown_async and shutdown_finish).
    loop = Loop()
    finished = []

    def shut_down(source, result):
        finished.append(source.shutdown_finish(result))

    server.shutdown_async(None, shut_down)
    loop.run_until(lambda: finished, "shutdown")
    assert finished == [True]
    assert server.get_n_connections() == 0


def test_python_hub_called_by_the_javascript_client(server):
    node = shutil.which("node")
    node_path = find_node_path()
    if node is None or node_path is None:
        pytest.skip("needs node and @microsoft/signalr (npm ci in tests/js)")

    port = server.get_port()
    assert port > 0

    launcher = Gio.SubprocessLauncher.new(Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE)
    launcher.setenv("NODE_PATH", node_path, True)
    client = launcher.spawnv([node, CLIENT, f"http://127.0.0.1:{port}"])

    outcome = {}

    def communicated(process, result):
        try:
            _, outcome["stdout"], outcome["stderr"] = process.communicate_utf8_finish(result)
        except GLib.Error as error:
            outcome["error"] = error

    # Asynchronously, so that the main loop serves the client meanwhile.
    client.communicate_utf8_async(None, None, communicated)
    loop = Loop()
    try:
        loop.run_until(lambda: outcome, "the client")
    finally:
        if not outcome:
            client.force_exit()

    assert "error" not in outcome, outcome.get("error")
    stdout, stderr = outcome["stdout"], outcome["stderr"]
    assert client.get_if_exited(), stderr
    assert client.get_exit_status() == 0, f"client failed:\n{stdout}\n{stderr}"

    results = json.loads(stdout.strip().splitlines()[-1])
    assert results["sendMessage"] is None
    assert results["receivedByAlice"] == {"user": "alice", "message": "hello, bob ✓"}
    assert results["receivedByBob"] == {"user": "alice", "message": "hello, bob ✓"}
    assert results["add"] == 42
    assert results["addLowerCase"] == -4
    assert results["fail"] == "An unexpected error occurred invoking 'Fail' on the server. HubException: no luck ✗"
    # A Python exception in a handler is no HubException: the client gets the
    # generic message, without details.
    assert results["crash"] == "An unexpected error occurred invoking 'Crash' on the server."
    assert results["missing"] == ("Failed to invoke 'NoSuchMethod' due to an error on the server. "
                                  "HubException: Method does not exist.")
    assert results["badArguments"] == "Failed to invoke 'Add' due to an error on the server."
    assert results["whoAmI"] == results["aliceConnectionId"]
    assert results["whoAmIBadArguments"] == "Failed to invoke 'WhoAmI' due to an error on the server."
    assert results["bobWhoAmI"] == results["bobConnectionId"]
    assert results["bobAddMeanwhile"] == 2
    assert results["delayedAdd"] == 42
    assert results["count"] == [0, 1, 2, 3]
    assert results["sum"] == 60
    assert results["ask"] == 42
    assert results["askError"] == "An unexpected error occurred invoking 'Ask' on the server. HubException: Error: no"
    assert events["delayed_pending"] == [True]

    # GLib.Error raised by do_on_connected refused the connection.
    assert results["refused"] == "Server returned an error on close: Connection closed with an error. HubException: not today ✗"
    assert len(events["refused"]) == 1

    # on_connected ran for both chat connections, and on_disconnected, with
    # no error after a clean stop, once each: the server may see the close a
    # moment after the client has exited.
    ids = {results["aliceConnectionId"], results["bobConnectionId"]}
    assert sorted(events["connected"]) == sorted(ids)
    loop.run_until(lambda: len(events["disconnected"]) >= 2, "on_disconnected")
    assert sorted(events["disconnected"]) == sorted((connection_id, None) for connection_id in ids)

    # A refused connection never was connected: as in ASP.NET Core, its
    # on_disconnected does not run.
    assert events["refused_disconnected"] == []
