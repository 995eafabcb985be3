# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject overrides for hubs-glib: hubs that read like Python.

Declare hub methods with the ``Hubs.method`` decorator; their parameters and
result come from the type hints, and what they return completes the
invocation::

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
        def later(self, invocation) -> None:
            # A method that takes the invocation completes it itself, now or
            # later.
            GLib.timeout_add(100, lambda: invocation.return_string("done"))

Raising ``Hubs.HubException`` sends its message to the client, as SignalR's
``HubException`` does; any other exception is hidden behind the generic
message unless detailed errors are on, and its traceback is printed.

Hub methods declared as signals in ``__gsignals__`` keep working; with this
override a ``do_`` handler that returns ``None`` counts as handled, and
``do_on_connected`` returning ``None`` accepts the connection.
"""

import inspect
import sys
import traceback
import typing

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
    ``SendMessage``)."""

    def mark(function):
        function._hubs_method = {"name": name}
        return function

    return mark(func) if func is not None else mark


__all__.append("method")


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
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Union and type(None) in arguments:
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
    """A GObject.Value for a result or a client-method argument."""
    if isinstance(value, GObject.Value):
        return value
    if gtype is None:
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


def _report_exception(invocation, error):
    if isinstance(error, HubException):
        invocation.return_error_literal(Hubs.hub_error_quark(), Hubs.HubError.FAILED, str(error))
    elif isinstance(error, GLib.Error):
        invocation.return_gerror(error)
    else:
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
        invocation.return_error_literal(Gio.io_error_quark(), Gio.IOErrorEnum.FAILED,
                                        f"{type(error).__name__}: {error}")


def _complete(invocation, result, return_gtype):
    if result is None:
        invocation.return_void()
    else:
        invocation.return_value(_to_gvalue(result, return_gtype))


def _declare(function):
    """The signal parameters, narrowings and handler of a decorated method."""
    signature = inspect.signature(function)
    hints = typing.get_type_hints(function)
    parameters = list(signature.parameters.values())[1:]  # without self
    takes_invocation = any(p.name == "invocation" for p in parameters)
    wire_parameters = [p for p in parameters if p.name != "invocation"]
    gtypes, variant_types, annotations = [], [], []
    for p in wire_parameters:
        annotation = hints.get(p.name, inspect.Parameter.empty)
        gtype, variant_type = _gtype_for(annotation)
        gtypes.append(gtype)
        variant_types.append(variant_type)
        annotations.append(annotation)
    returns = hints.get("return", inspect.Parameter.empty)
    if returns is type(None) or returns is None:
        return_gtype = GObject.TYPE_NONE
    elif returns is inspect.Parameter.empty:
        return_gtype = None
    else:
        return_gtype, _ = _gtype_for(returns)

    def handler(self, invocation, *arguments):
        values = [_from_wire(v, a) for v, a in zip(arguments, annotations)]
        kwargs = {"invocation": invocation} if takes_invocation else {}
        try:
            result = function(self, *values, **kwargs)
        except Exception as error:  # noqa: BLE001 - every failure reaches the client
            if not invocation.is_completed():
                _report_exception(invocation, error)
            return True
        if not invocation.is_completed() and not (takes_invocation and result is None):
            try:
                _complete(invocation, result,
                          None if return_gtype in (None, GObject.TYPE_NONE) else return_gtype)
            except (TypeError, ValueError) as error:
                _report_exception(invocation, error)
        return True

    return gtypes, variant_types, return_gtype, handler


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
            gtypes, variant_types, return_gtype, handler = _declare(value)
            gsignals[signal] = (GObject.SignalFlags.RUN_LAST, bool, (Hubs.Invocation, *gtypes))
            setattr(cls, "do_" + attribute, handler)
            declarations.append((signal, info["name"], return_gtype, variant_types))

        # Hub methods declared by hand: None from their handler means handled.
        for signal, spec in gsignals.items():
            parameters = spec[2] if isinstance(spec, tuple) and len(spec) == 3 else ()
            name = "do_" + signal.replace("-", "_")
            handler = cls.__dict__.get(name)
            if (parameters and parameters[0] is Hubs.Invocation and handler is not None
                    and not any(d[0] == signal for d in declarations)):
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
    """Wire names, return types and narrowings of decorated methods, given
    to the class once its GType exists and before its methods are first
    looked up."""
    for cls in reversed(hub_class.__mro__):
        if cls.__dict__.get("_hubs_declared", True):
            continue
        for signal, wire_name, return_gtype, variant_types in cls._hubs_declarations:
            if wire_name is not None:
                cls.set_method_name(signal, wire_name)
            if return_gtype is not None:
                cls.set_method_return_type(signal, return_gtype)
            for index, variant_type in enumerate(variant_types):
                if variant_type is not None:
                    cls.set_parameter_variant_type(signal, index, GLib.VariantType.new(variant_type))
        cls._hubs_declared = True


class Server(Hubs.Server):
    def map_hub(self, path, hub_type, options=None):
        """Maps a hub class (or its GType) on a path."""
        if isinstance(hub_type, type):
            _apply_declarations(hub_type)
            hub_type = hub_type.__gtype__
        return Hubs.Server.map_hub(self, path, hub_type, options)


Server = override(Server)
__all__.append("Server")


class ClientProxy(Hubs.ClientProxy):
    def send(self, method_name, *arguments):
        """Calls ``method_name`` on every client of the proxy, without
        waiting; arguments are plain Python values."""
        self.send_values(method_name, [_to_gvalue(a) for a in arguments])


ClientProxy = override(ClientProxy)
__all__.append("ClientProxy")
