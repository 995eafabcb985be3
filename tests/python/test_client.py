# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hubs.Connection, the SignalR client, from PyGObject: a hub served in
Python and called from Python through the typelib, with callbacks."""

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest

import gi

gi.require_version("Hubs", "1")
from gi.repository import Gio, GLib, GObject, Hubs  # noqa: E402


class ClientTestHub(Hubs.Hub):
    @Hubs.method
    def echo(self, text: str) -> str:
        return text

    @Hubs.method
    def fail(self, text: str) -> None:
        raise Hubs.HubException(text)

    @Hubs.method
    def shout(self, text: str) -> None:
        self.get_clients().all().send("Shouted", text.upper(), len(text))

    @Hubs.method
    async def ask(self, x: int) -> int:
        return await self.get_clients().caller().invoke("Double", x, result_type=int)

    @Hubs.method
    def letters(self, word: str) -> Iterator[str]:
        yield from word

    @Hubs.method
    async def total(self, items: AsyncIterator[int]) -> int:
        return sum([item async for item in items])


def value(gtype, python_value):
    v = GObject.Value(gtype)
    v.set_value(python_value)
    return v


@pytest.fixture
def connection(serve, loop):
    server = serve({"/hub": ClientTestHub})
    connection = Hubs.Connection.new(f"http://127.0.0.1:{server.get_port()}/hub")
    started = []
    connection.start_async(None, lambda c, result: started.append(c.start_finish(result)))
    loop.run_until(lambda: started, "the start")
    assert started == [True]
    assert connection.props.state == Hubs.ConnectionState.CONNECTED
    yield connection
    stopped = []
    connection.stop_async(None, lambda c, result: stopped.append(c.stop_finish(result)))
    loop.run_until(lambda: stopped, "the stop")


def invoke(loop, connection, method, args, result_type=GObject.TYPE_NONE):
    outcome = []

    def done(c, result):
        try:
            outcome.append(c.invoke_finish(result))
        except GLib.Error as error:
            outcome.append(error)

    connection.invoke_async(method, args, result_type, None, done)
    loop.run_until(lambda: outcome, f"the result of {method}")
    return outcome[0]


def test_invoke_and_errors(connection, loop):
    ok, result = invoke(loop, connection, "Echo", [value(GObject.TYPE_STRING, "héllo")], GObject.TYPE_STRING)
    assert ok and result == "héllo"

    # Without a type, the natural GVariant.
    ok, result = invoke(loop, connection, "echo", [value(GObject.TYPE_STRING, "x")])
    assert ok and result.unpack() == "x"

    error = invoke(loop, connection, "Fail", [value(GObject.TYPE_STRING, "no luck")])
    assert isinstance(error, GLib.Error)
    assert error.matches(Hubs.hub_error_quark(), Hubs.HubError.FAILED)
    assert error.message == "An unexpected error occurred invoking 'Fail' on the server. HubException: no luck"


def test_handlers_and_client_results(connection, loop):
    shouted = []

    def on_shouted(conn, invocation):
        shouted.append([invocation.get_argument(i) for i in range(invocation.get_n_arguments())])
        return False

    def on_double(conn, invocation):
        invocation.return_value(value(GObject.TYPE_INT, 2 * invocation.get_argument(0)))
        return True

    handler_id = connection.on("shouted", [GObject.TYPE_STRING, GObject.TYPE_INT], on_shouted)
    connection.on("Double", [GObject.TYPE_INT], on_double)

    ok, _ = invoke(loop, connection, "Shout", [value(GObject.TYPE_STRING, "hey")])
    assert ok
    loop.run_until(lambda: shouted, "the broadcast")
    assert shouted == [["HEY", 3]]

    ok, result = invoke(loop, connection, "Ask", [value(GObject.TYPE_INT, 21)], GObject.TYPE_INT)
    assert ok and result == 42

    connection.off(handler_id)


def test_stream(connection, loop):
    items, ends = [], []
    stream = connection.stream("Letters", [value(GObject.TYPE_STRING, "abc")], GObject.TYPE_STRING)
    stream.connect("item", lambda s, item: items.append(item))
    stream.connect("completed", lambda s, error: ends.append(error))
    loop.run_until(lambda: ends, "the end of the stream")
    assert items == ["a", "b", "c"]
    assert ends == [None]


def test_closed_signal(serve, loop):
    server = serve({"/hub": ClientTestHub})
    connection = Hubs.Connection(url=f"http://127.0.0.1:{server.get_port()}/hub",
                                 transports=Hubs.TransportType.LONG_POLLING)
    closed, started, stopped = [], [], []
    connection.connect("closed", lambda c, error: closed.append(error))
    connection.start_async(None, lambda c, result: started.append(c.start_finish(result)))
    loop.run_until(lambda: started, "the start")
    assert connection.get_transport() == Hubs.TransportType.LONG_POLLING
    connection.stop_async(None, lambda c, result: stopped.append(c.stop_finish(result)))
    loop.run_until(lambda: stopped, "the stop")
    assert closed == [None]
    assert connection.props.state == Hubs.ConnectionState.DISCONNECTED


def test_stream_pulled(connection, loop):
    stream = connection.stream("Letters", [value(GObject.TYPE_STRING, "hi")], GObject.TYPE_STRING)
    items = []

    def read_next():
        done = []
        stream.read_async(None, lambda s, result: done.append(s.read_finish(result)))
        loop.run_until(lambda: done, "an item")
        return done[0]

    while (item := read_next()) is not None:
        items.append(item)
    assert items == ["h", "i"]
    assert stream.is_completed()


def test_upload(connection, loop):
    upload = Hubs.ClientUpload.new()
    outcome = []
    connection.invoke_async("Total", [value(Hubs.ClientUpload, upload)], GObject.TYPE_INT64, None,
                            lambda c, result: outcome.append(c.invoke_finish(result)))
    for number in (1, 2, 39):
        upload.write(value(GObject.TYPE_INT, number))
    upload.complete()
    loop.run_until(lambda: outcome, "the total")
    assert outcome == [(True, 42)]


def test_access_token_given_later(serve, loop):
    server = serve({"/hub": ClientTestHub})
    connection = Hubs.Connection.new(f"http://127.0.0.1:{server.get_port()}/hub")
    asked, started, stopped = [], [], []

    def request_token(conn, request):
        asked.append(request)
        GLib.timeout_add(10, lambda: request.return_token("a token") or GLib.SOURCE_REMOVE)

    connection.set_access_token_request_func(request_token)
    connection.start_async(None, lambda c, result: started.append(c.start_finish(result)))
    loop.run_until(lambda: started, "the start")
    assert started == [True] and len(asked) == 1
    connection.stop_async(None, lambda c, result: stopped.append(c.stop_finish(result)))
    loop.run_until(lambda: stopped, "the stop")


def test_tls_with_a_given_certificate(loop, tmp_path):
    """The system's certificates refuse a self-signed server; the
    tls-database property trusts it."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    certificate = Gio.TlsCertificate.new_from_files(str(cert), str(key))
    server = Hubs.Server(tls_certificate=certificate)
    server.map_hub("/hub", ClientTestHub, None)
    server.listen_local(0)
    url = f"https://127.0.0.1:{server.get_port()}/hub"

    def start(connection):
        outcome = []

        def done(c, result):
            try:
                outcome.append(c.start_finish(result))
            except GLib.Error as error:
                outcome.append(error)

        connection.start_async(None, done)
        loop.run_until(lambda: outcome, "the start")
        return outcome[0]

    refused = start(Hubs.Connection.new(url))
    assert isinstance(refused, GLib.Error)

    trusting = Hubs.Connection(url=url, tls_database=Gio.TlsFileDatabase.new(str(cert)))
    assert start(trusting) is True
    ok, result = invoke(loop, trusting, "Echo", [value(GObject.TYPE_STRING, "over TLS")], GObject.TYPE_STRING)
    assert ok and result == "over TLS"
    assert trusting.get_transport() == Hubs.TransportType.WEB_SOCKETS
    stopped = []
    trusting.stop_async(None, lambda c, result: stopped.append(c.stop_finish(result)))
    loop.run_until(lambda: stopped, "the stop")
    assert loop.wait(server.shutdown_async(), "shutdown") is True


def test_futures_and_handler_decorator(serve, loop):
    """The Pythonic client: Futures awaited in a coroutine, handlers as
    plain and async functions answering client results."""
    server = serve({"/hub": ClientTestHub})
    connection = Hubs.Connection.new(f"http://127.0.0.1:{server.get_port()}/hub")
    shouted = []

    @connection.handler("Shouted", str, int)
    def on_shouted(text, length):
        shouted.append((text, length))

    @connection.handler("Double", int)
    async def double(x):
        await Hubs.sleep(10)
        return 2 * x

    async def session():
        await connection.start()
        echoed = await connection.invoke("Echo", "héllo", result_type=str)
        await connection.send("Shout", "hey")
        asked = await connection.invoke("Ask", 21, result_type=int)
        try:
            await connection.invoke("Fail", "no luck")
        except GLib.Error as error:
            failed = error.message
        await connection.stop()
        return echoed, asked, failed

    echoed, asked, failed = loop.wait(Hubs.spawn(session()), "the session")
    assert echoed == "héllo"
    assert asked == 42
    assert failed == "An unexpected error occurred invoking 'Fail' on the server. HubException: no luck"
    assert shouted == [("HEY", 3)]
    assert isinstance(double.handler_id, int) and double.handler_id > 0
    assert connection.props.state == Hubs.ConnectionState.DISCONNECTED


def test_handler_without_an_answer(serve, loop):
    """A handler that returns None leaves a waiting server call without a
    result, as the JavaScript client does."""
    server = serve({"/hub": ClientTestHub})
    connection = Hubs.Connection.new(f"http://127.0.0.1:{server.get_port()}/hub")

    @connection.handler("Double", int)
    def double(x):
        return None

    async def session():
        await connection.start()
        try:
            await connection.invoke("Ask", 1, result_type=int)
            outcome = "answered"
        except GLib.Error as error:
            outcome = error.message
        connection.off(double.handler_id)
        await connection.stop()
        return outcome

    outcome = loop.wait(Hubs.spawn(session()), "the session")
    assert "Client didn't provide a result." in outcome
