# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Pythonic API of the overrides (introspection/Hubs.py): declarations
from type hints, errors, completing later, streams both ways, client
results, groups, items and the hub context, each called by the official
JavaScript client (conftest.py), and the futures that async hub methods
await, on their own."""

import itertools
import typing
from asyncio import CancelledError
from collections.abc import AsyncIterator, Iterator

import pytest

import gi

gi.require_version("Hubs", "1")
from gi.repository import GLib, GObject, Hubs  # noqa: E402

# A new hub instance serves every call: what the hubs see is kept here.
events = {}


@pytest.fixture(autouse=True)
def clear_events():
    events.clear()


def signal_types(hub_class, name):
    query = GObject.signal_query(name, hub_class)
    assert query is not None, name
    return [GObject.type_name(t) for t in query.param_types]


class TypesHub(Hubs.Hub):
    @Hubs.method
    def describe(self, s: str, i: int, f: float, b: bool, data: bytes, names: list[str],
                 numbers: list[int], anything: typing.Any, maybe: typing.Optional[str]) -> dict:
        return {"s": s, "i": i, "f": f, "b": b, "data": list(data), "names": list(names),
                "numbers": numbers, "anything": anything, "maybe": maybe}

    @Hubs.method
    def add(self, a: int, b: int) -> int:
        return a + b

    @Hubs.method
    def total(self, numbers: list[int]) -> int:
        return sum(numbers)

    @Hubs.method(name="Custom.Name")
    def renamed(self) -> str:
        return "renamed"

    @Hubs.method
    def nothing(self) -> typing.Optional[str]:
        return None


def test_type_hints_give_the_parameter_types():
    assert signal_types(TypesHub, "describe") == [
        "HubsInvocation", "gchararray", "gint64", "gdouble", "gboolean", "GBytes", "GStrv",
        "GVariant", "GVariant", "gchararray"]
    assert signal_types(TypesHub, "add") == ["HubsInvocation", "gint64", "gint64"]
    assert signal_types(StreamHub, "numbers") == ["HubsStreamWriter"]
    assert signal_types(StreamHub, "countdown") == ["HubsStreamWriter", "gint64"]
    assert signal_types(UploadHub, "join_words".replace("_", "-")) == ["HubsInvocation", "gchararray", "HubsStreamReader"]

    with pytest.raises(TypeError):
        class Unsupported(Hubs.Hub):
            @Hubs.method
            def bad(self, value: complex) -> None:
                pass


def test_arguments_are_bound_by_the_hints(serve, client):
    server = serve({"/types": TypesHub})
    results = client(server, r"""
      const c = connect("/types");
      await c.start();
      const r = {};
      r.describe = await c.invoke("Describe", "text", 42, 2.5, true, "AQID", ["a", "b"], [1, 2],
                                  { nested: [null, 1, "x"] }, null);
      r.add = await c.invoke("add", 2, 40);
      r.addText = await errorOf(c.invoke("Add", "one", 2));
      r.total = await c.invoke("Total", [1, 2, 3]);
      r.totalText = await errorOf(c.invoke("Total", ["a"]));
      r.renamed = await c.invoke("Custom.Name");
      r.nothing = await c.invoke("Nothing");
      await c.stop();
      return r;
    """)
    assert results["describe"] == {"s": "text", "i": 42, "f": 2.5, "b": True, "data": [1, 2, 3],
                                   "names": ["a", "b"], "numbers": [1, 2],
                                   "anything": {"nested": [None, 1, "x"]}, "maybe": None}
    assert results["add"] == 42
    assert results["addText"] == "Failed to invoke 'Add' due to an error on the server."
    assert results["total"] == 6
    assert results["totalText"] == "Failed to invoke 'Total' due to an error on the server."
    assert results["renamed"] == "renamed"
    assert results["nothing"] is None


class ErrorHub(Hubs.Hub):
    @Hubs.method
    def hub_error(self, message: str) -> None:
        raise Hubs.HubException(message)

    @Hubs.method
    def bug(self) -> None:
        raise RuntimeError("a bug (expected by the test)")

    @Hubs.method
    async def later_hub_error(self) -> None:
        await Hubs.sleep(10)
        raise Hubs.HubException("after a while")

    @Hubs.method
    def gerror(self) -> None:
        raise GLib.Error.new_literal(GLib.quark_from_string("test-error"), "a GError", 1)


def test_a_hub_error_reaches_the_client_anything_else_is_hidden(serve, client, capfd):
    detailed = Hubs.HubOptions.new()
    detailed.set_detailed_errors(True)
    server = serve({"/errors": ErrorHub, "/detailed": (ErrorHub, detailed)})
    results = client(server, r"""
      const r = {};
      for (const path of ["/errors", "/detailed"]) {
        const c = connect(path);
        await c.start();
        r[path] = {
          hubError: await errorOf(c.invoke("HubError", "no luck")),
          bug: await errorOf(c.invoke("Bug")),
          later: await errorOf(c.invoke("LaterHubError")),
          gerror: await errorOf(c.invoke("Gerror")),
        };
        await c.stop();
      }
      return r;
    """)
    prefix = "An unexpected error occurred invoking '{}' on the server."
    assert results["/errors"] == {
        "hubError": prefix.format("HubError") + " HubException: no luck",
        "bug": prefix.format("Bug"),
        "later": prefix.format("LaterHubError") + " HubException: after a while",
        "gerror": prefix.format("Gerror"),
    }
    assert results["/detailed"] == {
        "hubError": prefix.format("HubError") + " HubException: no luck",
        "bug": prefix.format("Bug") + " InvalidOperationException: RuntimeError: a bug (expected by the test)",
        "later": prefix.format("LaterHubError") + " HubException: after a while",
        "gerror": prefix.format("Gerror") + " InvalidOperationException: a GError",
    }
    # The traceback of the unexpected exception is on standard error.
    assert "RuntimeError: a bug (expected by the test)" in capfd.readouterr().err


class LaterHub(Hubs.Hub):
    @Hubs.method
    def with_invocation(self, a: int, b: int, invocation) -> None:
        events.setdefault("pending", []).append(not invocation.is_completed())
        GLib.timeout_add(50, lambda: invocation.return_int(a + b) or GLib.SOURCE_REMOVE)

    @Hubs.method
    async def with_await(self, text: str, ms: int) -> str:
        await Hubs.sleep(ms)
        return text.upper()

    @Hubs.method
    def quick(self) -> str:
        return "quick"


def test_completing_later_does_not_hold_up_other_calls(serve, client):
    server = serve({"/later": LaterHub})
    results = client(server, r"""
      const a = connect("/later");
      const b = connect("/later");
      await a.start();
      await b.start();
      const started = Date.now();
      const slow = a.invoke("WithAwait", "slow", 500).then((value) => ({ value, at: Date.now() - started }));
      const quick = await b.invoke("Quick");
      const quickAt = Date.now() - started;
      const r = { quick, quickAt, slow: await slow, invocation: await a.invoke("WithInvocation", 20, 22) };
      await a.stop();
      await b.stop();
      return r;
    """)
    assert results["quick"] == "quick"
    assert results["quickAt"] < 400
    assert results["slow"]["value"] == "SLOW"
    assert results["slow"]["at"] >= 450
    assert results["invocation"] == 42
    assert events["pending"] == [True]


class StreamHub(Hubs.Hub):
    @Hubs.method
    def letters(self, word: str) -> Iterator[str]:
        yield from word

    @Hubs.method
    def numbers(self) -> Iterator[int]:
        # Without end: only the client's cancellation stops it.
        try:
            yield from itertools.count()
        finally:
            events["numbers_closed"] = True

    @Hubs.method
    async def ticks(self, ms: int) -> AsyncIterator[int]:
        try:
            for i in itertools.count():
                await Hubs.sleep(ms)
                yield i
        finally:
            events["ticks_closed"] = True

    @Hubs.method
    def failing(self) -> Iterator[int]:
        yield 1
        yield 2
        raise Hubs.HubException("no more")

    @Hubs.method
    def countdown(self, n: int, writer: Hubs.StreamWriter) -> None:
        def tick():
            nonlocal n
            if n == 0 or writer.get_cancellable().is_cancelled():
                writer.complete()
                return GLib.SOURCE_REMOVE
            writer.write(n)
            n -= 1
            return GLib.SOURCE_CONTINUE

        GLib.timeout_add(5, tick)


def test_streams_from_generators_and_the_writer(serve, client, loop):
    server = serve({"/streams": StreamHub})
    results = client(server, r"""
      const c = connect("/streams");
      await c.start();
      const r = {
        letters: await collect(c.stream("Letters", "abc")),
        failing: await collect(c.stream("Failing")),
        countdown: await collect(c.stream("Countdown", 3)),
        numbers: await take(c.stream("Numbers"), 5),
        ticks: await take(c.stream("Ticks", 10), 3),
        notAStream: await errorOf(c.invoke("Letters", "x")),
      };
      await c.stop();
      return r;
    """)
    assert results["letters"] == {"items": ["a", "b", "c"], "error": None}
    assert results["failing"] == {
        "items": [1, 2],
        "error": "An error occurred on the server while streaming results. HubException: no more"}
    assert results["countdown"] == {"items": [3, 2, 1], "error": None}
    assert results["numbers"] == [0, 1, 2, 3, 4]
    assert results["ticks"] == [0, 1, 2]
    assert results["notAStream"] == ("The client attempted to invoke the streaming 'Letters' method "
                                     "with a non-streaming invocation.")
    # The client's cancellation closed both generators.
    loop.run_until(lambda: events.get("numbers_closed") and events.get("ticks_closed"), "the generators to close")


class UploadHub(Hubs.Hub):
    @Hubs.method
    async def total(self, items: AsyncIterator[int]) -> int:
        return sum([item async for item in items])

    @Hubs.method
    async def join_words(self, separator: str, words: Hubs.StreamReader[str]) -> str:
        collected = []
        while True:
            word = await words.read_async()
            if word is None:
                return separator.join(collected)
            collected.append(word)


def test_upload_streams(serve, client):
    server = serve({"/upload": UploadHub})
    results = client(server, r"""
      const c = connect("/upload");
      await c.start();
      const r = {};
      let subject = new signalR.Subject();
      let pending = c.invoke("Total", subject);
      for (const n of [1, 2, 3, 100]) subject.next(n);
      subject.complete();
      r.total = await pending;
      subject = new signalR.Subject();
      pending = c.invoke("JoinWords", "-", subject);
      subject.next("a");
      await delay(20);
      subject.next("b");
      subject.complete();
      r.joined = await pending;
      subject = new signalR.Subject();
      pending = c.invoke("Total", subject);
      subject.next(1);
      subject.error(new Error("bad upload"));
      r.error = await errorOf(pending);
      await c.stop();
      return r;
    """)
    assert results == {
        "total": 106,
        "joined": "a-b",
        "error": "An unexpected error occurred invoking 'Total' on the server. HubException: bad upload",
    }


class AskingHub(Hubs.Hub):
    @Hubs.method
    async def ask(self, x: int) -> int:
        return await self.get_clients().caller().invoke("Double", x, result_type=int)

    @Hubs.method
    async def ask_or_default(self, x: int) -> int:
        try:
            return await self.get_clients().caller().invoke("Double", x, result_type=int)
        except GLib.Error as error:
            events["client_error"] = error.message
            return -1


def test_client_results_are_awaited(serve, client):
    server = serve({"/ask": AskingHub})
    results = client(server, r"""
      const c = connect("/ask");
      c.on("Double", (x) => {
        if (x < 0) throw new Error("negative");
        return x * 2;
      });
      await c.start();
      const r = {
        ask: await c.invoke("Ask", 21),
        error: await errorOf(c.invoke("Ask", -1)),
        fallback: await c.invoke("AskOrDefault", -1),
      };
      await c.stop();
      return r;
    """)
    assert results == {
        "ask": 42,
        "error": "An unexpected error occurred invoking 'Ask' on the server. HubException: Error: negative",
        "fallback": -1,
    }
    assert events["client_error"] == "Error: negative"


class GroupHub(Hubs.Hub):
    @Hubs.method
    async def join(self, group: str) -> None:
        await self.get_groups().add_to_group_async(self.get_context().get_connection_id(), group)

    @Hubs.method
    async def leave(self, group: str) -> None:
        await self.get_groups().remove_from_group_async(self.get_context().get_connection_id(), group)

    @Hubs.method
    async def tell(self, group: str, text: str) -> None:
        await self.get_clients().group(group).send("Told", text)

    @Hubs.method
    def remember(self, key: str, value: typing.Any) -> None:
        self.get_context().set_item(key, value)

    @Hubs.method
    def recall(self, key: str) -> typing.Any:
        return self.get_context().get_item(key)

    @Hubs.method
    def bump(self) -> int:
        context = self.get_context()
        count = context.get_item("count", 0) + 1
        context.set_item("count", count)
        return count


def test_groups_and_items(serve, client):
    server = serve({"/groups": GroupHub})
    results = client(server, r"""
      const a = connect("/groups");
      const b = connect("/groups");
      const told = { a: [], b: [] };
      a.on("Told", (text) => told.a.push(text));
      b.on("Told", (text) => told.b.push(text));
      await a.start();
      await b.start();
      await a.invoke("Join", "g");
      await b.invoke("Join", "g");
      await a.invoke("Tell", "g", "both");
      await b.invoke("Leave", "g");
      await a.invoke("Tell", "g", "only a");
      await b.invoke("Tell", "g", "from b, to a");
      await delay(50);
      const value = { list: [1, "two", null, { three: 3.5 }], flag: true };
      await a.invoke("Remember", "k", value);
      const r = {
        told,
        recalled: await a.invoke("Recall", "k"),
        otherConnection: await b.invoke("Recall", "k"),
        bumps: [await a.invoke("Bump"), await a.invoke("Bump"), await b.invoke("Bump")],
      };
      await a.stop();
      await b.stop();
      return r;
    """)
    assert results["told"] == {"a": ["both", "only a", "from b, to a"], "b": ["both"]}
    assert results["recalled"] == {"list": [1, "two", None, {"three": 3.5}], "flag": True}
    assert results["otherConnection"] is None
    assert results["bumps"] == [1, 2, 1]


class TickHub(Hubs.Hub):
    def do_on_connected(self):
        events.setdefault("connected", []).append(self.get_context().get_connection_id())

    def do_on_disconnected(self, error):
        events.setdefault("disconnected", []).append(error)


def test_sending_from_outside_a_hub_through_the_hub_context(serve, client, loop):
    server = serve({"/ticks": TickHub})
    context = server.get_hub_context("/ticks")
    counter = itertools.count()

    def tick():
        context.get_clients().all().send("Tick", next(counter))
        return GLib.SOURCE_CONTINUE

    source = GLib.timeout_add(20, tick)
    try:
        results = client(server, r"""
          const c = connect("/ticks");
          const ticks = [];
          const three = new Promise((resolve) => c.on("Tick", (n) => {
            ticks.push(n);
            if (ticks.length === 3) resolve();
          }));
          await c.start();
          await withTimeout(three, 5000, "three ticks");
          const id = c.connectionId;
          await c.stop();
          return { ticks, id };
        """)
    finally:
        GLib.source_remove(source)
    ticks = results["ticks"]
    assert len(ticks) == 3 and ticks == sorted(ticks) and ticks[2] - ticks[0] == 2
    assert events["connected"] == [results["id"]]
    loop.run_until(lambda: events.get("disconnected"), "on_disconnected")
    assert events["disconnected"] == [None]


# The futures on their own, without a client.

def test_spawn_runs_a_coroutine_on_the_main_loop(loop):
    order = []

    async def work():
        order.append("started")
        await Hubs.sleep(20)
        order.append("slept")
        return 7

    future = Hubs.spawn(work())
    order.append("spawned")
    assert loop.wait(future) == 7
    assert order == ["started", "spawned", "slept"]


def test_a_cancelled_coroutine_sees_cancelled_error(loop):
    seen = []

    async def wait_for_ever():
        try:
            await Hubs.sleep(60_000)
        except CancelledError:
            seen.append("cancelled")
            raise

    future = Hubs.spawn(wait_for_ever())
    assert future.cancel()
    loop.run_until(lambda: seen, "the cancellation")
    assert seen == ["cancelled"]
    with pytest.raises(CancelledError):
        future.result()


def test_errors_and_foreign_awaitables_reach_the_future(loop):
    async def failing():
        await Hubs.sleep(1)
        raise ValueError("inside")

    future = Hubs.spawn(failing())
    loop.run_until(future.done, "the failure")
    assert isinstance(future.exception(), ValueError)

    class Foreign:
        def __await__(self):
            yield "not a Hubs.Future"

    async def awaits_foreign():
        await Foreign()

    future = Hubs.spawn(awaits_foreign())
    assert future.done() and isinstance(future.exception(), TypeError)

    done = Hubs.Future()
    done.set_result("ready")
    seen = []
    done.add_done_callback(lambda f: seen.append(f.result()))
    assert seen == ["ready"]
