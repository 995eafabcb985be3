# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hub filters and an authorization callback written in Python over the
typelib, called by the official @microsoft/signalr JavaScript client
(filters-client.cjs, run under Node).

Run by meson with the rest of tests/python (`meson test python-smoke`); by
hand as test_smoke.py says.
"""

import json
import os
import shutil

import pytest

import gi

gi.require_version("Hubs", "1")
from gi.repository import Gio, GLib, GObject, Hubs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "filters-client.cjs")
DEFAULT_NODE_PATH = os.path.join(HERE, os.pardir, "js", "node_modules")
TIMEOUT_SECONDS = 20

# What the filters and the hub saw, in order.
trace = []


class OuterFilter(GObject.Object, Hubs.HubFilter):
    """The server's filter: around every call, it sees the result."""

    def do_invoke_method(self, context):
        trace.append(f"outer>{context.get_method_name()}")

        def done(context, result):
            try:
                _, value = context.invoke_next_finish(result)
            except GLib.Error as error:
                trace.append(f"<outer:{error.message}")
                context.return_gerror(error)
                return
            trace.append(f"<outer:{value}")
            context.return_value(value)

        context.invoke_next_async(done)

    def do_on_connected(self, context):
        trace.append(f"outer:connected:{context.get_context().get_connection_id()}")
        return context.next_connected()

    def do_on_disconnected(self, context, error):
        trace.append(f"outer:disconnected:{context.get_context().get_connection_id()}")
        assert error is None or error.message == context.get_error().message
        context.next_disconnected()


class BannedPhraseFilter(GObject.Object, Hubs.HubFilter):
    """The hub's filter: changes an argument, or refuses the call. Its
    on_connected and on_disconnected are the interface's defaults."""

    def do_invoke_method(self, context):
        trace.append(f"inner>{context.get_method_name()}")
        for index in range(context.get_n_arguments()):
            argument = context.get_argument(index)
            if not isinstance(argument, str):
                continue
            if "forbidden" in argument:
                context.return_error_literal(Hubs.hub_error_quark(), Hubs.HubError.FAILED,
                                             "banned phrase")
                return
            context.set_argument(index, argument.replace("darn", "***"))
        context.invoke_next()


class FilteredHub(Hubs.Hub):
    __gsignals__ = {
        "echo": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, str)),
        "secret": (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation,)),
    }

    def do_echo(self, invocation, message):
        trace.append(f"echo({message})")
        invocation.return_string(message)
        return True

    def do_secret(self, invocation):
        trace.append("secret")
        invocation.return_string("the secret")
        return True

    def do_on_connected(self):
        trace.append(f"hub:connected:{self.get_context().get_connection_id()}")
        return True

    def do_on_disconnected(self, error):
        trace.append(f"hub:disconnected:{self.get_context().get_connection_id()}")


def key_is_open(context, method_name):
    trace.append(f"authorize:{method_name}")
    return context.get_http_context().get_query_value("key") == "open"


secret_policy = Hubs.AuthorizationPolicy.new()
secret_policy.require_assertion(key_is_open)
FilteredHub.add_method_authorization("secret", secret_policy)


def find_node_path():
    node_path = os.environ.get("NODE_PATH") or DEFAULT_NODE_PATH
    for folder in node_path.split(os.pathsep):
        if os.path.isdir(os.path.join(folder, "@microsoft", "signalr")):
            return node_path
    return None


def run_until(done, what):
    loop = GLib.MainLoop()
    timed_out = []

    def check():
        if done():
            loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    def time_out():
        timed_out.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    if done():
        return
    poll_id = GLib.timeout_add(10, check)
    timeout_id = GLib.timeout_add_seconds(TIMEOUT_SECONDS, time_out)
    loop.run()
    for source_id in (poll_id, timeout_id):
        source = GLib.main_context_default().find_source_by_id(source_id)
        if source is not None and not source.is_destroyed():
            source.destroy()
    assert not timed_out, f"{what}: not within {TIMEOUT_SECONDS} s"


@pytest.fixture
def server():
    trace.clear()
    server = Hubs.Server.new()
    server.add_hub_filter(OuterFilter())
    options = Hubs.HubOptions.new()
    options.add_hub_filter(BannedPhraseFilter())
    server.map_hub("/filtered", FilteredHub.__gtype__, options)
    server.listen_local(0)
    yield server

    finished = []
    server.shutdown_async(None, lambda source, result: finished.append(source.shutdown_finish(result)))
    run_until(lambda: finished, "shutdown")
    assert finished == [True]


def test_python_filters_and_authorization(server):
    node = shutil.which("node")
    node_path = find_node_path()
    if node is None or node_path is None:
        pytest.skip("needs node and @microsoft/signalr (npm ci in tests/js)")

    launcher = Gio.SubprocessLauncher.new(Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE)
    launcher.setenv("NODE_PATH", node_path, True)
    client = launcher.spawnv([node, CLIENT, f"http://127.0.0.1:{server.get_port()}"])
    outcome = {}

    def communicated(process, result):
        try:
            _, outcome["stdout"], outcome["stderr"] = process.communicate_utf8_finish(result)
        except GLib.Error as error:
            outcome["error"] = error

    client.communicate_utf8_async(None, None, communicated)
    try:
        run_until(lambda: outcome, "the client")
    finally:
        if not outcome:
            client.force_exit()

    assert "error" not in outcome, outcome.get("error")
    assert client.get_exit_status() == 0, f"client failed:\n{outcome['stdout']}\n{outcome['stderr']}"
    results = json.loads(outcome["stdout"].strip().splitlines()[-1])

    # The hub filter changed the argument; the server's saw the result.
    assert results["echo"] == "well ***"
    # The hub filter refused the call: the method did not run, the
    # connection stayed open.
    assert results["forbidden"] == ("An unexpected error occurred invoking 'Echo' on the server. "
                                    "HubException: banned phrase")
    # The Python authorization callback refused Secret without ?key=open,
    # before any filter ran.
    assert results["secretClosed"] == "Failed to invoke 'Secret' because user is unauthorized"
    assert results["echoAfterRefusal"] == "still open"
    assert results["secretOpen"] == "the secret"

    closed, opened = results["closedId"], results["openId"]
    run_until(lambda: f"hub:disconnected:{opened}" in trace, "on_disconnected")

    # Connects: the server's filter, then the hub (the hub filter's default
    # passes the event on).
    assert trace.index(f"outer:connected:{closed}") + 1 == trace.index(f"hub:connected:{closed}")
    calls = [entry for entry in trace if ":connected:" not in entry and ":disconnected:" not in entry]
    assert calls == [
        "outer>Echo", "inner>Echo", "echo(well ***)", "<outer:well ***",
        "outer>Echo", "inner>Echo", "<outer:banned phrase",
        "authorize:Secret",
        "outer>Echo", "inner>Echo", "echo(still open)", "<outer:still open",
        "authorize:Secret", "outer>Secret", "inner>Secret", "secret", "<outer:the secret",
    ]
    for connection_id in (closed, opened):
        assert trace.index(f"outer:disconnected:{connection_id}") + 1 == \
            trace.index(f"hub:disconnected:{connection_id}")
