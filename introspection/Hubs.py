# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject overrides for hubs-glib: hubs that read like Python.

Declare hub methods with the ``Hubs.method`` decorator; their parameters and
result come from the type hints, and what they return completes the
invocation::

    from collections.abc import AsyncIterator, Iterator
    from gi.repository import Hubs

    class ChatHub(Hubs.Hub):
        @Hubs.method
        def send_message(self, user: str, message: str) -> None:
            self.get_clients().all().send("ReceiveMessage", user, message)

        @Hubs.method
        def add(self, a: int, b: int) -> int:
            return a + b

        @Hubs.method(name="Custom.Name")
        def renamed(self) -> str:
            return "renamed"

        @Hubs.method
        async def ask(self, x: int) -> int:
            # Awaits the caller's result without blocking the main loop.
            return await self.get_clients().caller().invoke("Double", x, result_type=int)

        @Hubs.method
        def count(self, n: int) -> Iterator[int]:
            # A generator is a streaming method.
            yield from range(n)

        @Hubs.method
        async def tick(self, n: int, ms: int) -> AsyncIterator[int]:
            for i in range(n):
                await Hubs.sleep(ms)
                yield i

        @Hubs.method
        async def total(self, items: AsyncIterator[int]) -> int:
            # An upload stream.
            return sum([item async for item in items])

Raising ``Hubs.HubException`` sends its message to the client, as SignalR's
``HubException`` does; any other exception is hidden behind the generic
message unless detailed errors are on, and its traceback is printed.

``async def`` methods run on the GLib main loop without asyncio: they may
await ``Hubs.Future`` objects, which ``Hubs.sleep``, ``ClientProxy.send``,
``ClientProxy.invoke``, the ``*_async`` methods called without a callback
and ``StreamReader`` iteration return. When the client cancels a stream or
its connection ends, the method's pending ``await`` raises
``asyncio.CancelledError``.

Hub methods declared as signals in ``__gsignals__`` keep working; with this
override a ``do_`` handler that returns ``None`` counts as handled, and
``do_on_connected`` returning ``None`` accepts the connection.
"""

import collections.abc
import inspect
import sys
import traceback
import types
import typing
from asyncio import CancelledError

from gi.repository import Gio, GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Hubs = get_introspection_module("Hubs")

__all__ = []


class HubException(Exception):
    """An error whose message reaches the client, SignalR's HubException."""


__all__.append("HubException")


def method(func=None, *, name=None):
    """Declares a hub method; ``name`` overrides its wire name, which is
    otherwise the function's name in PascalCase (``send_message`` is
    ``SendMessage``).

    A generator, an async generator, or a function whose return hint is an
    ``Iterator[T]``, ``Iterable[T]`` or ``AsyncIterator[T]`` is a streaming
    method; so is one that takes a parameter named ``writer`` (or hinted
    ``Hubs.StreamWriter``), which then writes and completes the stream
    itself. A parameter hinted ``AsyncIterator[T]`` or
    ``Hubs.StreamReader[T]`` is an upload stream."""

    def mark(function):
        function._hubs_method = {"name": name}
        return function

    return mark(func) if func is not None else mark


__all__.append("method")


# Futures: what async hub methods await, on the GLib main loop.

class Future:
    """A result that arrives later, on the main loop: ``await`` it in an
    ``async def`` hub method (or a coroutine given to ``Hubs.spawn``), or
    give ``add_done_callback`` a function of the future."""

    def __init__(self, on_cancel=None):
        self._done = False
        self._result = None
        self._exception = None
        self._callbacks = []
        self._on_cancel = on_cancel

    def done(self):
        return self._done

    def result(self):
        if not self._done:
            raise RuntimeError("the result is not there yet")
        if self._exception is not None:
            raise self._exception
        return self._result

    def exception(self):
        if not self._done:
            raise RuntimeError("the result is not there yet")
        return self._exception

    def set_result(self, value):
        self._settle(value, None)

    def set_exception(self, exception):
        self._settle(None, exception)

    def cancel(self):
        """Stops waiting: the future fails with ``asyncio.CancelledError``
        and what it waited for is cancelled when it can be."""
        if self._done:
            return False
        on_cancel, self._on_cancel = self._on_cancel, None
        if on_cancel is not None:
            on_cancel()
        self._settle(None, CancelledError())
        return True

    def add_done_callback(self, callback):
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def _settle(self, value, exception):
        if self._done:
            return
        self._done = True
        self._result = value
        self._exception = exception
        self._on_cancel = None
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def __await__(self):
        if not self._done:
            yield self
        return self.result()

    __iter__ = __await__


__all__.append("Future")


class _Task:
    """Runs a coroutine on the main loop: each Future it awaits resumes it
    from that future's callback."""

    def __init__(self, coroutine, done=None):
        self.future = Future(on_cancel=self._cancel_from_future)
        self._coroutine = coroutine
        self._done = done
        self._waiting = None
        self._running = False
        self._finished = False
        self._step(None, None)

    def _step(self, value, error):
        self._waiting = None
        self._running = True
        try:
            if error is not None:
                awaited = self._coroutine.throw(error)
            else:
                awaited = self._coroutine.send(value)
        except StopIteration as stop:
            self._finish(stop.value, None)
            return
        except BaseException as exception:  # noqa: BLE001 - handed to whoever waits
            self._finish(None, exception)
            return
        finally:
            self._running = False
        if not isinstance(awaited, Future):
            self._step(None, TypeError(f"hubs-glib coroutines await Hubs.Future objects, not {awaited!r}"))
            return
        self._waiting = awaited
        awaited.add_done_callback(self._wake)

    def _wake(self, future):
        if future is not self._waiting or self._finished:
            return
        self._step(future._result, future._exception)

    def _finish(self, value, exception):
        self._finished = True
        self._coroutine = None
        if self._done is not None:
            self._done(value, exception)
        self.future._settle(value, exception)

    def cancel(self):
        """Raises ``asyncio.CancelledError`` where the coroutine waits, from
        the main loop (never from inside the coroutine itself)."""
        if self._finished:
            return

        def deliver():
            if not self._finished:
                waiting, self._waiting = self._waiting, None
                if waiting is not None:
                    waiting.cancel()
                if not self._running:
                    self._step(None, CancelledError())
            return GLib.SOURCE_REMOVE

        GLib.idle_add(deliver)

    def _cancel_from_future(self):
        self.cancel()


def spawn(coroutine):
    """Runs a coroutine on the GLib main loop and returns the Future of its
    result: to await client results or sends outside a hub method."""
    return _Task(coroutine).future


__all__.append("spawn")


def sleep(milliseconds):
    """A Future that completes after ``milliseconds``, without blocking."""
    state = {}

    def fire():
        state.pop("source", None)
        future.set_result(None)
        return GLib.SOURCE_REMOVE

    def cancel():
        source = state.pop("source", None)
        if source is not None:
            GLib.source_remove(source)

    future = Future(on_cancel=cancel)
    state["source"] = GLib.timeout_add(max(0, int(milliseconds)), fire)
    return future


__all__.append("sleep")


def _gio_future(start, finish, cancellable=None):
    """The Future of a GIO-style asynchronous call: ``start(cancellable,
    callback)`` begins it and ``finish(source, result)`` gives its value."""
    if cancellable is None:
        cancellable = Gio.Cancellable()
    future = Future(on_cancel=cancellable.cancel)

    def ready(source, result, *user_data):
        try:
            value = finish(source, result)
        except Exception as error:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(error)
        else:
            future.set_result(value)

    start(cancellable, ready)
    return future


# Types and values.

_STREAM_ORIGINS = (collections.abc.Iterator, collections.abc.Iterable, collections.abc.Generator)
_ASYNC_STREAM_ORIGINS = (collections.abc.AsyncIterator, collections.abc.AsyncIterable,
                         collections.abc.AsyncGenerator)


def _gtype_for(annotation):
    """The GType of a parameter or result, and the GVariant type narrowing
    a GVariant parameter (or None)."""
    if annotation in (inspect.Parameter.empty, typing.Any, object, GLib.Variant):
        return GObject.TYPE_VARIANT, None
    simple = {
        str: GObject.TYPE_STRING,
        int: GObject.TYPE_INT64,
        float: GObject.TYPE_DOUBLE,
        bool: GObject.TYPE_BOOLEAN,
        bytes: GLib.Bytes.__gtype__,
        GLib.Bytes: GLib.Bytes.__gtype__,
        GLib.DateTime: GLib.DateTime.__gtype__,
    }
    if annotation in simple:
        return simple[annotation], None
    if isinstance(annotation, GObject.GType):
        return annotation, None
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in arguments:
        rest = [a for a in arguments if a is not type(None)]
        if len(rest) == 1 and rest[0] in (str, bytes, GLib.Bytes, GLib.DateTime):
            return _gtype_for(rest[0])
        return GObject.TYPE_VARIANT, None
    if origin in (list, tuple) and arguments and arguments[0] is str:
        return GObject.TYPE_STRV, None
    if origin is list and arguments == (int,):
        return GObject.TYPE_VARIANT, "ax"
    if origin is list and arguments == (float,):
        return GObject.TYPE_VARIANT, "ad"
    if origin is list and arguments == (bool,):
        return GObject.TYPE_VARIANT, "ab"
    if isinstance(annotation, type) and issubclass(annotation, GObject.Object):
        return annotation.__gtype__, None
    if annotation in (list, dict, tuple) or origin in (list, dict, tuple):
        return GObject.TYPE_VARIANT, None
    raise TypeError(f"hubs-glib cannot carry values of type {annotation!r}")


def _upload_item(annotation):
    """The item hint of an upload stream parameter, or None if the
    parameter is an ordinary argument."""
    if isinstance(annotation, type) and issubclass(annotation, Hubs.StreamReader):
        return typing.Any
    origin = typing.get_origin(annotation)
    if origin is not None and (origin in _ASYNC_STREAM_ORIGINS
                               or (isinstance(origin, type) and issubclass(origin, Hubs.StreamReader))):
        arguments = typing.get_args(annotation)
        return arguments[0] if arguments else typing.Any
    if annotation in _ASYNC_STREAM_ORIGINS:
        return typing.Any
    return None


def _stream_item(annotation):
    """The item hint of a streaming result hint, or None if the hint is not
    a stream."""
    origin = typing.get_origin(annotation)
    if origin is not None and (origin in _STREAM_ORIGINS or origin in _ASYNC_STREAM_ORIGINS):
        arguments = typing.get_args(annotation)
        return arguments[0] if arguments else typing.Any
    if annotation in _STREAM_ORIGINS or annotation in _ASYNC_STREAM_ORIGINS:
        return typing.Any
    return None


def _to_variant(value):
    """A Python value as the GVariant the protocols write naturally."""
    if isinstance(value, GLib.Variant):
        return value
    if value is None:
        return GLib.Variant("mv", None)
    if isinstance(value, bool):
        return GLib.Variant("b", value)
    if isinstance(value, int):
        return GLib.Variant("x", value) if -2**63 <= value < 2**63 else GLib.Variant("d", float(value))
    if isinstance(value, float):
        return GLib.Variant("d", value)
    if isinstance(value, str):
        return GLib.Variant("s", value)
    if isinstance(value, (bytes, bytearray)):
        return GLib.Variant("ay", bytes(value))
    if isinstance(value, dict):
        return GLib.Variant("a{sv}", {str(k): _to_variant(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return GLib.Variant("av", [_to_variant(v) for v in value])
    raise TypeError(f"hubs-glib cannot send a {type(value).__name__}")


def _to_gvalue(value, gtype=None):
    """A GObject.Value for a result, a stream item or a client-method
    argument."""
    if isinstance(value, GObject.Value):
        return value
    if gtype is None or gtype == GObject.TYPE_INVALID:
        if isinstance(value, bool):
            gtype = GObject.TYPE_BOOLEAN
        elif isinstance(value, int) and -2**63 <= value < 2**63:
            gtype = GObject.TYPE_INT64
        elif isinstance(value, float):
            gtype = GObject.TYPE_DOUBLE
        elif isinstance(value, str):
            gtype = GObject.TYPE_STRING
        elif isinstance(value, (bytes, bytearray, GLib.Bytes)):
            gtype = GLib.Bytes.__gtype__
        elif isinstance(value, GLib.DateTime):
            gtype = GLib.DateTime.__gtype__
        elif isinstance(value, GObject.Object):
            gtype = value.__gtype__
        else:
            gtype = GObject.TYPE_VARIANT
    if gtype == GObject.TYPE_VARIANT:
        return GObject.Value(GObject.TYPE_VARIANT, None if value is None else _to_variant(value))
    if gtype == GLib.Bytes.__gtype__ and isinstance(value, (bytes, bytearray)):
        value = GLib.Bytes.new(bytes(value))
    return GObject.Value(gtype, value)


def _from_wire(value, annotation):
    """What a handler receives: plain Python where the hint asks for it."""
    if isinstance(value, GLib.Bytes) and annotation is bytes:
        return value.get_data()
    if isinstance(value, GLib.Variant) and annotation is not GLib.Variant:
        return value.unpack()
    return value


def _to_gerror(error):
    """The GError a Python exception reaches the client as."""
    if isinstance(error, HubException):
        return GLib.Error.new_literal(Hubs.hub_error_quark(), str(error), Hubs.HubError.FAILED)
    if isinstance(error, GLib.Error):
        return error
    if isinstance(error, CancelledError):
        return GLib.Error.new_literal(Gio.io_error_quark(), "The invocation was cancelled.",
                                      Gio.IOErrorEnum.CANCELLED)
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    return GLib.Error.new_literal(Gio.io_error_quark(), f"{type(error).__name__}: {error}",
                                  Gio.IOErrorEnum.FAILED)


def _report_exception(invocation, error):
    if isinstance(error, HubException):
        invocation.return_error_literal(Hubs.hub_error_quark(), Hubs.HubError.FAILED, str(error))
    else:
        invocation.return_gerror(_to_gerror(error))


def _complete(invocation, result, return_gtype):
    if result is None and return_gtype is not None and _nullable(return_gtype):
        # A null of the declared type rather than no value: a hub filter
        # around the method sees a result of that type.
        invocation.return_value(GObject.Value(return_gtype, None))
    elif result is None:
        invocation.return_void()
    else:
        invocation.return_value(_to_gvalue(result, return_gtype))


def _nullable(gtype):
    return (gtype in (GObject.TYPE_STRING, GObject.TYPE_VARIANT, GObject.TYPE_STRV)
            or gtype.is_a(GObject.TYPE_BOXED) or gtype.is_a(GObject.TYPE_OBJECT))


def _is_cancellation(error, cancellable):
    if isinstance(error, CancelledError):
        return True
    if isinstance(error, GLib.Error) and error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
        return True
    return cancellable is not None and cancellable.is_cancelled()


def _cancel_with(task, cancellable):
    """Cancels ``task`` when ``cancellable`` fires; returns a function that
    stops watching."""
    if cancellable.is_cancelled():
        task.cancel()
        return lambda: None
    # GObject's connect: Gio.Cancellable.connect is g_cancellable_connect().
    handler = GObject.Object.connect(cancellable, "cancelled", lambda _: task.cancel())
    return lambda: GObject.Object.disconnect(cancellable, handler)


def _run_invocation(invocation, coroutine, return_gtype):
    """Runs an ``async def`` method: what it returns or raises completes
    the invocation; the end of the connection cancels it."""
    stop_watching = []

    def done(value, error):
        for stop in stop_watching:
            stop()
        if invocation.is_completed():
            return
        if error is not None:
            _report_exception(invocation, error)
        else:
            try:
                _complete(invocation, value, return_gtype)
            except (TypeError, ValueError) as conversion_error:
                _report_exception(invocation, conversion_error)

    task = _Task(coroutine, done)
    if not task._finished:
        stop_watching.append(_cancel_with(task, invocation.get_cancellable()))


async def _pump(writer, source, item_gtype):
    """Writes the items of an iterable or async iterable, each once the
    previous one is queued within the connection's bounds."""
    if hasattr(source, "__anext__") or hasattr(source, "__aiter__"):
        iterator = source.__aiter__()
        try:
            async for item in iterator:
                await writer.write_async(_to_gvalue(item, item_gtype))
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
    else:
        iterator = iter(source)
        try:
            for item in iterator:
                await writer.write_async(_to_gvalue(item, item_gtype))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()


def _run_stream(writer, coroutine):
    """Runs what produces a stream: its end completes the writer, with the
    error it raised unless the client cancelled."""
    cancellable = writer.get_cancellable()
    stop_watching = []

    def done(value, error):
        for stop in stop_watching:
            stop()
        if writer.is_completed():
            return
        if error is None or _is_cancellation(error, cancellable):
            writer.complete()
        else:
            writer.complete_with_error(_to_gerror(error))

    task = _Task(coroutine, done)
    if not task._finished:
        stop_watching.append(_cancel_with(task, cancellable))


def _declare(function):
    """The signal parameters, narrowings and handler of a decorated method."""
    signature = inspect.signature(function)
    hints = typing.get_type_hints(function)
    parameters = list(signature.parameters.values())[1:]  # without self
    returns = hints.get("return", inspect.Parameter.empty)

    def is_writer(p):
        hint = hints.get(p.name)
        return p.name == "writer" or (isinstance(hint, type) and issubclass(hint, Hubs.StreamWriter))

    takes_invocation = any(p.name == "invocation" for p in parameters)
    takes_writer = any(is_writer(p) for p in parameters)
    result_item = _stream_item(returns)
    streaming = (takes_writer or result_item is not None or inspect.isgeneratorfunction(function)
                 or inspect.isasyncgenfunction(function))
    if streaming and takes_invocation:
        raise TypeError(f"{function.__qualname__}: a streaming method has a writer, not an invocation")

    wire_parameters = [p for p in parameters if p.name != "invocation" and not is_writer(p)]
    gtypes, variant_types, upload_types, annotations = [], [], [], []
    for p in wire_parameters:
        annotation = hints.get(p.name, inspect.Parameter.empty)
        upload_item = _upload_item(annotation)
        if upload_item is not None:
            gtypes.append(Hubs.StreamReader)
            variant_types.append(None)
            upload_types.append(_gtype_for(upload_item)[0])
            annotations.append(upload_item)
        else:
            gtype, variant_type = _gtype_for(annotation)
            gtypes.append(gtype)
            variant_types.append(variant_type)
            upload_types.append(None)
            annotations.append(annotation)

    if streaming:
        item_hint = result_item
        return_gtype = None if item_hint is None else _gtype_for(item_hint)[0]
    elif returns is type(None) or returns is None:
        return_gtype = GObject.TYPE_NONE
    elif returns is inspect.Parameter.empty:
        return_gtype = None
    else:
        return_gtype, _ = _gtype_for(returns)
    value_gtype = None if return_gtype in (None, GObject.TYPE_NONE) else return_gtype

    def bind(arguments):
        values = []
        for value, annotation, upload_type in zip(arguments, annotations, upload_types):
            if upload_type is not None:
                value._hubs_item_hint = annotation
                values.append(value)
            else:
                values.append(_from_wire(value, annotation))
        return values

    def stream_handler(self, writer, *arguments):
        writer._hubs_item_type = value_gtype
        kwargs = {}
        for p in parameters:
            if is_writer(p):
                kwargs[p.name] = writer
        try:
            result = function(self, *bind(arguments), **kwargs)
        except Exception as error:  # noqa: BLE001 - every failure reaches the client
            if not writer.is_completed():
                writer.complete_with_error(_to_gerror(error))
            return True
        if inspect.iscoroutine(result):
            _run_stream(writer, result)
        elif result is not None and not writer.is_completed():
            _run_stream(writer, _pump(writer, result, value_gtype))
        return True

    def handler(self, invocation, *arguments):
        kwargs = {"invocation": invocation} if takes_invocation else {}
        try:
            result = function(self, *bind(arguments), **kwargs)
        except Exception as error:  # noqa: BLE001 - every failure reaches the client
            if not invocation.is_completed():
                _report_exception(invocation, error)
            return True
        if inspect.iscoroutine(result):
            _run_invocation(invocation, result, value_gtype)
        elif not invocation.is_completed() and not (takes_invocation and result is None):
            try:
                _complete(invocation, result, value_gtype)
            except (TypeError, ValueError) as error:
                _report_exception(invocation, error)
        return True

    first = Hubs.StreamWriter if streaming else Hubs.Invocation
    return first, gtypes, variant_types, upload_types, return_gtype, \
        stream_handler if streaming else handler


def _handled_unless_false(handler):
    def wrapper(*args):
        result = handler(*args)
        return True if result is None else result

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def _accept_unless_refused(handler):
    def do_on_connected(self):
        try:
            result = handler(self)
        except HubException as error:
            raise GLib.Error.new_literal(Hubs.hub_error_quark(), str(error), Hubs.HubError.FAILED)
        return True if result is None else result

    do_on_connected.__doc__ = handler.__doc__
    return do_on_connected


class Hub(Hubs.Hub):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

        gsignals = dict(cls.__dict__.get("__gsignals__", {}))
        declarations = []
        for attribute, value in list(cls.__dict__.items()):
            info = getattr(value, "_hubs_method", None)
            if info is None or not callable(value):
                continue
            signal = attribute.replace("_", "-")
            first, gtypes, variant_types, upload_types, return_gtype, handler = _declare(value)
            gsignals[signal] = (GObject.SignalFlags.RUN_LAST, bool, (first, *gtypes))
            setattr(cls, "do_" + attribute, handler)
            declarations.append((signal, info["name"], return_gtype, variant_types, upload_types))

        # Hub methods declared by hand: None from their handler means handled.
        for signal, spec in gsignals.items():
            parameters = spec[2] if isinstance(spec, tuple) and len(spec) == 3 else ()
            name = "do_" + signal.replace("-", "_")
            handler = cls.__dict__.get(name)
            if (parameters and parameters[0] in (Hubs.Invocation, Hubs.StreamWriter)
                    and handler is not None and not any(d[0] == signal for d in declarations)):
                setattr(cls, name, _handled_unless_false(handler))

        if "do_on_connected" in cls.__dict__:
            cls.do_on_connected = _accept_unless_refused(cls.__dict__["do_on_connected"])

        if gsignals:
            cls.__gsignals__ = gsignals
        cls._hubs_declarations = declarations
        cls._hubs_declared = False


Hub = override(Hub)
__all__.append("Hub")


def _apply_declarations(hub_class):
    """Wire names, return types, narrowings and upload item types of
    decorated methods, given to the class once its GType exists and before
    its methods are first looked up."""
    for cls in reversed(hub_class.__mro__):
        if cls.__dict__.get("_hubs_declared", True):
            continue
        for signal, wire_name, return_gtype, variant_types, upload_types in cls._hubs_declarations:
            if wire_name is not None:
                cls.set_method_name(signal, wire_name)
            if return_gtype is not None:
                cls.set_method_return_type(signal, return_gtype)
            for index, variant_type in enumerate(variant_types):
                if variant_type is not None:
                    cls.set_parameter_variant_type(signal, index, GLib.VariantType.new(variant_type))
            for index, upload_type in enumerate(upload_types):
                if upload_type is not None:
                    cls.set_upload_item_type(signal, index, upload_type)
        cls._hubs_declared = True


class Server(Hubs.Server):
    def map_hub(self, path, hub_type, options=None):
        """Maps a hub class (or its GType) on a path."""
        if isinstance(hub_type, type):
            _apply_declarations(hub_type)
            hub_type = hub_type.__gtype__
        return Hubs.Server.map_hub(self, path, hub_type, options)

    def set_authentication_handler(self, func, *user_data):
        """Sets ``func(server, request, access_token)``, which returns the
        request's ``Hubs.User`` or None for an anonymous request. (A hub
        whose options require authentication answers 401 to anonymous
        requests; a reason cannot be given from Python.)"""
        if func is None:
            return Hubs.Server.set_authentication_handler(self, None)

        def authenticate(server, request, access_token, *rest):
            try:
                user = func(server, request, access_token, *user_data)
            except Exception:  # noqa: BLE001 - a failing handler is an anonymous request
                traceback.print_exc()
                user = None
            return user, None

        return Hubs.Server.set_authentication_handler(self, authenticate)

    def shutdown_async(self, cancellable=None, callback=None, *user_data):
        """Closes every connection gracefully; without a callback, returns
        a Future."""
        if callback is not None:
            return Hubs.Server.shutdown_async(self, cancellable, callback, *user_data)
        return _gio_future(lambda c, ready: Hubs.Server.shutdown_async(self, c, ready),
                           Hubs.Server.shutdown_finish, cancellable)


Server = override(Server)
__all__.append("Server")


class ClientProxy(Hubs.ClientProxy):
    def send(self, method_name, *arguments):
        """Calls ``method_name`` on every client of the proxy; arguments
        are plain Python values. Returns a Future that completes once the
        message has been handed to every recipient: await it, or ignore it
        to send and forget."""
        values = [_to_gvalue(a) for a in arguments]
        return _gio_future(
            lambda cancellable, ready: Hubs.ClientProxy.send_async(self, method_name, values, None, ready),
            Hubs.ClientProxy.send_finish)

    def invoke(self, method_name, *arguments, result_type=None, cancellable=None):
        """Invokes ``method_name`` on the single client of the proxy and
        returns a Future of its result, converted to ``result_type`` (a
        Python type such as ``int``, or any value when None). The client's
        error is raised as a ``GLib.Error`` of the hub error domain."""
        gtype = GObject.TYPE_VARIANT if result_type is None else _gtype_for(result_type)[0]
        values = [_to_gvalue(a) for a in arguments]

        def finish(source, result):
            _, value = Hubs.ClientProxy.invoke_finish(source, result)
            return _from_wire(value, result_type)

        return _gio_future(
            lambda c, ready: Hubs.ClientProxy.invoke_async(self, method_name, values, gtype, c, ready),
            finish, cancellable)


ClientProxy = override(ClientProxy)
__all__.append("ClientProxy")


class GroupManager(Hubs.GroupManager):
    def add_to_group_async(self, connection_id, group, cancellable=None, callback=None, *user_data):
        """Adds a connection to a group; without a callback, returns a
        Future that completes once the connection is in the group."""
        if callback is not None:
            return Hubs.GroupManager.add_to_group_async(self, connection_id, group, cancellable,
                                                        callback, *user_data)
        return _gio_future(
            lambda c, ready: Hubs.GroupManager.add_to_group_async(self, connection_id, group, c, ready),
            Hubs.GroupManager.add_to_group_finish, cancellable)

    def remove_from_group_async(self, connection_id, group, cancellable=None, callback=None, *user_data):
        """Removes a connection from a group; without a callback, returns a
        Future that completes once it has left."""
        if callback is not None:
            return Hubs.GroupManager.remove_from_group_async(self, connection_id, group, cancellable,
                                                             callback, *user_data)
        return _gio_future(
            lambda c, ready: Hubs.GroupManager.remove_from_group_async(self, connection_id, group, c, ready),
            Hubs.GroupManager.remove_from_group_finish, cancellable)


GroupManager = override(GroupManager)
__all__.append("GroupManager")


class CallerContext(Hubs.CallerContext):
    def set_item(self, key, value):
        """Keeps ``value`` (any Python value the protocols carry, or a
        GObject.Value) under ``key`` for the rest of the connection."""
        Hubs.CallerContext.set_item(self, key, _to_gvalue(value))

    def get_item(self, key, default=None):
        """The value kept under ``key``, as a Python value, or ``default``."""
        value = Hubs.CallerContext.get_item(self, key)
        if value is None:
            return default
        return value.unpack() if isinstance(value, GLib.Variant) else value


CallerContext = override(CallerContext)
__all__.append("CallerContext")


class StreamWriter(Hubs.StreamWriter):
    def _item(self, item):
        return _to_gvalue(item, getattr(self, "_hubs_item_type", None))

    def write(self, item):
        """Sends an item without waiting; returns False once the stream
        was cancelled."""
        return Hubs.StreamWriter.write(self, self._item(item))

    def write_async(self, item, cancellable=None, callback=None, *user_data):
        """Sends an item; without a callback, returns a Future that
        completes once the item is queued within the connection's bounds
        and fails with a cancelled ``GLib.Error`` once the client
        cancelled."""
        value = self._item(item)
        if callback is not None:
            return Hubs.StreamWriter.write_async(self, value, cancellable, callback, *user_data)
        return _gio_future(lambda c, ready: Hubs.StreamWriter.write_async(self, value, c, ready),
                           Hubs.StreamWriter.write_finish, cancellable)


StreamWriter = override(StreamWriter)
__all__.append("StreamWriter")


class StreamReader(Hubs.StreamReader):
    """An upload stream; ``async for item in reader`` reads its items.
    ``Hubs.StreamReader[int]`` is the hint of a parameter that takes one."""

    def __class_getitem__(cls, item):
        # typing.get_type_hints() subscripts again with the arguments' tuple
        if isinstance(item, tuple) and len(item) == 1:
            item = item[0]
        return types.GenericAlias(cls, (item,))

    def read_async(self, cancellable=None, callback=None, *user_data):
        """Reads the next item; without a callback, returns a Future of
        the item (None at the end of the stream) that fails with the
        client's error as a ``GLib.Error``."""
        if callback is not None:
            return Hubs.StreamReader.read_async(self, cancellable, callback, *user_data)
        hint = getattr(self, "_hubs_item_hint", typing.Any)
        return _gio_future(lambda c, ready: Hubs.StreamReader.read_async(self, c, ready),
                           lambda source, result: _from_wire(Hubs.StreamReader.read_finish(source, result), hint),
                           cancellable)

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = await self.read_async()
        if item is None:
            raise StopAsyncIteration
        return item


StreamReader = override(StreamReader)
__all__.append("StreamReader")


class HttpConnection(Hubs.HttpConnection):
    def send(self, data):
        """Sends ``data`` (bytes, str or GLib.Bytes) as one message."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        if isinstance(data, (bytes, bytearray)):
            data = GLib.Bytes.new(bytes(data))
        Hubs.HttpConnection.send(self, data)


HttpConnection = override(HttpConnection)
__all__.append("HttpConnection")


class Connection(Hubs.Connection):
    """The SignalR client, with Futures: ``await connection.start()`` and
    ``await connection.invoke("Echo", "hi", result_type=str)`` inside a
    coroutine run by ``Hubs.spawn`` (or a hub method), or
    ``future.add_done_callback(...)`` from plain callbacks. The GIO-style
    ``*_async``/``*_finish`` calls stay available."""

    def start(self, cancellable=None):
        """Connects; a Future that completes once the handshake is done."""
        return _gio_future(lambda c, ready: Hubs.Connection.start_async(self, c, ready),
                           Hubs.Connection.start_finish, cancellable)

    def stop(self, cancellable=None):
        """Closes; a Future that completes once the connection is closed."""
        return _gio_future(lambda c, ready: Hubs.Connection.stop_async(self, c, ready),
                           Hubs.Connection.stop_finish, cancellable)

    def invoke(self, method_name, *arguments, result_type=None, cancellable=None):
        """Invokes a hub method with plain Python arguments; a Future of its
        result, converted to ``result_type`` (``int``, ``str``, … or any
        value when None). The server's error is raised as a ``GLib.Error``
        of the hub error domain."""
        gtype = GObject.TYPE_NONE if result_type is None else _gtype_for(result_type)[0]
        values = [_to_gvalue(a) for a in arguments]

        def finish(source, result):
            _, value = Hubs.Connection.invoke_finish(source, result)
            return _from_wire(value, result_type)

        return _gio_future(
            lambda c, ready: Hubs.Connection.invoke_async(self, method_name, values, gtype, c, ready),
            finish, cancellable)

    def send(self, method_name, *arguments, cancellable=None):
        """Calls a hub method without waiting for it to run; a Future that
        completes once the message is handed to the transport."""
        values = [_to_gvalue(a) for a in arguments]
        return _gio_future(
            lambda c, ready: Hubs.Connection.send_async(self, method_name, values, c, ready),
            Hubs.Connection.send_finish, cancellable)

    def handler(self, method_name, *parameter_types):
        """A decorator registering a Python function for a client method
        the server calls, with the Python types of its parameters::

            @connection.handler("ReceiveMessage", str, str)
            def receive(user, text):
                print(user, text)

        What the function returns answers a call that waits for a result
        (SignalR's client results); an ``async def`` answers when it
        finishes; an exception answers with its message (a HubException's
        as it is). Returning None answers nothing, as the JavaScript
        client's handlers do. The function gets a ``handler_id`` attribute
        for ``connection.off()``."""
        gtypes = [_gtype_for(t)[0] for t in parameter_types]

        def register(function):
            def call(connection, invocation):
                arguments = [_from_wire(invocation.get_argument(i), parameter_types[i]
                                        if i < len(parameter_types) else None)
                             for i in range(invocation.get_n_arguments())]
                try:
                    result = function(*arguments)
                except Exception as error:  # noqa: BLE001 - the server gets it
                    if not invocation.expects_result():
                        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
                        return False
                    invocation.return_gerror(_to_gerror(error))
                    return True
                if inspect.iscoroutine(result):
                    def done(value, error):
                        if not invocation.expects_result():
                            if error is not None:
                                traceback.print_exception(type(error), error, error.__traceback__,
                                                          file=sys.stderr)
                        elif error is not None:
                            invocation.return_gerror(_to_gerror(error))
                        elif value is None:
                            invocation.return_error_literal(Hubs.hub_error_quark(), Hubs.HubError.FAILED,
                                                            "Client didn't provide a result.")
                        else:
                            invocation.return_value(_to_gvalue(value))

                    _Task(result, done)
                    return invocation.expects_result()
                if result is None or not invocation.expects_result():
                    return False
                invocation.return_value(_to_gvalue(result))
                return True

            function.handler_id = Hubs.Connection.on(self, method_name, gtypes, call)
            return function

        return register


Connection = override(Connection)
__all__.append("Connection")
