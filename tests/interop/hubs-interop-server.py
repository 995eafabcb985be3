#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hubs-interop-server.py: the interop server of interop-server.md, in Python

    /usr/bin/python3 hubs-interop-server.py --port N [--tls-cert FILE --tls-key FILE] [--metrics]
                                            [--redis HOST:PORT]

The same contract as the C program (tests/interop/*.c), on hubs-glib's
Python binding (PyGObject, the Hubs-1 typelib and the overrides of
introspection/Hubs.py): it listens on 127.0.0.1:N (0: a free port), prints
one line "Now listening on: http://127.0.0.1:PORT" and serves until SIGINT
or SIGTERM, then closes every connection gracefully and exits 0. Run it with
GI_TYPELIB_PATH, LD_LIBRARY_PATH and PYTHONPATH pointing at a build (as
tests/meson.build does) or at an installed hubs-glib.

Where the contract leaves a detail open, this program does what the C one
does; the comments say where the binding made it take another road.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import time
import typing
import urllib.parse
from asyncio import CancelledError
from collections.abc import AsyncIterator, Iterator

import gi

gi.require_version("Hubs", "1")
gi.require_version("Soup", "3.0")
from gi.repository import Gio, GLib, GObject, Hubs, Soup  # noqa: E402

NAME_IDENTIFIER = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ROLE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"


def io_error(message, code=Gio.IOErrorEnum.FAILED):
    """An ordinary (non-hub) error: with detailed errors on, the client sees
    "InvalidOperationException: message", as from .NET."""
    return GLib.Error.new_literal(Gio.io_error_quark(), message, code)


def null_argument(parameter):
    """What ASP.NET Core throws for a null argument of a lifetime manager
    call."""
    return io_error(f"Value cannot be null. (Parameter '{parameter}')", Gio.IOErrorEnum.INVALID_ARGUMENT)


# The objects of ASP.NET Core's functional tests. Their properties are named
# as the C# ones: hubs-glib writes an object's properties under their own
# names, and the tests expect "Name", "IntArray" and so on.

class CustomObject(GObject.Object):
    __gtype_name__ = "InteropPyCustomObject"

    Name = GObject.Property(type=str)
    Value = GObject.Property(type=int, minimum=-2**31, maximum=2**31 - 1)


class ComplexObject(GObject.Object):
    __gtype_name__ = "InteropPyComplexObject"

    __gproperties__ = {
        "String": (str, None, None, None, GObject.ParamFlags.READWRITE),
        # int[] in C#: 32-bit integers. PyGObject takes the type of a
        # variant property from its default value.
        "IntArray": (GObject.TYPE_VARIANT, None, None, GLib.Variant("ai", []),
                     GObject.ParamFlags.READWRITE),
        "ByteArray": (GLib.Bytes, None, None, GObject.ParamFlags.READWRITE),
        "Guid": (str, None, None, None, GObject.ParamFlags.READWRITE),
        "DateTime": (GLib.DateTime, None, None, GObject.ParamFlags.READWRITE),
    }

    def __init__(self, **properties):
        self._values = {}
        super().__init__(**properties)

    def do_get_property(self, pspec):
        return self._values.get(pspec.name)

    def do_set_property(self, pspec, value):
        self._values[pspec.name] = value


# Part A: TestHub, at /testhub and /testhub-nowebsockets

TRANSPORT_NAMES = {
    Hubs.TransportType.WEB_SOCKETS: "WebSockets",
    Hubs.TransportType.SERVER_SENT_EVENTS: "ServerSentEvents",
    Hubs.TransportType.LONG_POLLING: "LongPolling",
}

# Where TestHub is mapped: InfiniteStream's StreamCanceled goes out through
# these hub contexts, from outside the hub as the reference's does.
test_hub_contexts = []


def http_context(hub):
    return hub.get_context().get_http_context()


class TestHub(Hubs.Hub):
    __gtype_name__ = "InteropPyTestHub"

    @Hubs.method
    def echo(self, message: str) -> str:
        return message

    @Hubs.method
    def get_caller_connection_id(self) -> str:
        return self.get_context().get_connection_id()

    @Hubs.method
    def get_num_redirects(self) -> int:
        http = http_context(self)
        text = http.get_query_value("numRedirects") if http is not None else None
        # The reference runs int.Parse on the query value; these are the
        # messages of its exceptions.
        if text is None:
            raise io_error("Value cannot be null. (Parameter 's')", Gio.IOErrorEnum.INVALID_ARGUMENT)
        try:
            count = int(text, 10)
        except ValueError:
            count = None
        if count is None or not -2**31 <= count < 2**31:
            raise io_error(f"The input string '{text}' was not in a correct format.",
                           Gio.IOErrorEnum.INVALID_ARGUMENT)
        return count

    @Hubs.method
    def throw_exception(self, message: str) -> None:
        # A null message is what .NET puts in an InvalidOperationException
        # made without one.
        raise io_error(message if message is not None
                       else "Operation is not valid due to the current state of the object.")

    @Hubs.method
    async def invoke_with_string(self, message: str) -> None:
        caller = self.get_clients().client(self.get_context().get_connection_id())
        # Completes once the message is handed to the client, as awaiting
        # SendAsync does in ASP.NET Core.
        await caller.send("Message", message)

    @Hubs.method
    async def send_custom_object(self, value: CustomObject) -> None:
        caller = self.get_clients().client(self.get_context().get_connection_id())
        await caller.send("CustomObject", value)

    @Hubs.method
    def stream(self) -> Iterator[str]:
        yield from ("a", "b", "c")

    @Hubs.method
    async def infinite_stream(self) -> AsyncIterator[str]:
        connection_id = self.get_context().get_connection_id()
        try:
            await Hubs.Future()  # nothing ever completes it: only a cancellation ends the wait
        except CancelledError:
            for context in test_hub_contexts:
                context.get_clients().client(connection_id).send("StreamCanceled")
        return
        yield  # an async generator, of no items

    @Hubs.method
    async def streaming_concat(self, items: AsyncIterator[str]) -> str:
        return "".join([item or "" async for item in items])

    @Hubs.method
    def empty_stream(self) -> Iterator[int]:
        return iter(())

    @Hubs.method
    def stream_throw_exception(self, message: str) -> Iterator[str]:
        raise io_error(message or "")

    @Hubs.method
    def get_active_transport_name(self) -> str:
        return TRANSPORT_NAMES.get(self.get_context().get_transport(), "None")

    @Hubs.method
    def echo_complex_object(self, value: ComplexObject) -> ComplexObject:
        return value

    @Hubs.method
    def send_complex_object(self) -> ComplexObject:
        return ComplexObject(String="hello world",
                             IntArray=GLib.Variant("ai", [1, 2, 3]),
                             ByteArray=GLib.Bytes.new(bytes([1, 2, 3])),
                             Guid="00010203-0405-0607-0706-050403020100",
                             DateTime=GLib.DateTime.new_utc(2000, 1, 1, 0, 0, 0))

    @Hubs.method
    def get_header(self, name: str) -> typing.Optional[str]:
        http = http_context(self)
        return http.get_header(name) if http is not None and name is not None else None

    @Hubs.method
    def get_cookie(self, name: str) -> typing.Optional[str]:
        http = http_context(self)
        return http.get_cookie(name) if http is not None and name is not None else None

    @Hubs.method
    def get_content_type_header(self) -> typing.Optional[str]:
        http = http_context(self)
        return http.get_header("Content-Type") if http is not None else None


class UncreatableHub(Hubs.Hub):
    """At /uncreatable: in ASP.NET Core its constructor wants a service
    nobody provides, so activating it fails before OnConnectedAsync. Failing
    on_connected with a non-hub error gives the client the same Close
    message under detailed errors."""

    __gtype_name__ = "InteropPyUncreatableHub"

    def do_on_connected(self):
        raise io_error("Unable to resolve service for type 'System.Object' while attempting "
                       "to activate 'FunctionalTests.UncreatableHub'.")


class AuthorizedHub(Hubs.Hub):
    """HubWithAuthorization, at /authorizedhub, mapped with authentication
    required."""

    __gtype_name__ = "InteropPyAuthorizedHub"

    @Hubs.method
    def echo(self, message: str) -> str:
        return message

    @Hubs.method
    def get_user_name_identifier(self) -> typing.Optional[str]:
        user = self.get_context().get_user()
        return user.find_first_claim(NAME_IDENTIFIER) if user is not None else None

    @Hubs.method
    def get_user_claim(self, claim_type: str) -> str:
        user = self.get_context().get_user()
        value = user.find_first_claim(claim_type) if user is not None and claim_type is not None else None
        return value or ""


# Part B: FeatureHub, at /featurehub (detailed errors off)

class FeatureHub(Hubs.Hub):
    __gtype_name__ = "InteropPyFeatureHub"

    def caller_id(self):
        return self.get_context().get_connection_id()

    async def message_to(self, proxy, text):
        # Completes the invocation once the message has been handed to every
        # recipient, as a hub method returning SendAsync's Task does.
        await proxy.send("Message", self.caller_id(), text)

    def do_on_connected(self):
        clients = self.get_clients()
        clients.caller().send("Welcome", self.caller_id())
        clients.others().send("Joined", self.caller_id())

    def do_on_disconnected(self, error):
        self.get_clients().others().send("Left", self.caller_id(), error.message if error else None)

    @Hubs.method
    async def broadcast(self, text: str) -> None:
        await self.message_to(self.get_clients().all(), text)

    @Hubs.method
    async def send_to_others(self, text: str) -> None:
        await self.message_to(self.get_clients().others(), text)

    @Hubs.method
    async def send_to_caller(self, text: str) -> None:
        await self.message_to(self.get_clients().caller(), text)

    @Hubs.method
    async def send_to_connection(self, connection_id: str, text: str) -> None:
        if connection_id is None:
            raise null_argument("connectionId")
        await self.message_to(self.get_clients().client(connection_id), text)

    @Hubs.method
    async def send_to_connections(self, connection_ids: list[str], text: str) -> None:
        if connection_ids is None:
            raise null_argument("connectionIds")
        await self.message_to(self.get_clients().clients(connection_ids), text)

    @Hubs.method
    async def send_to_all_except(self, connection_ids: list[str], text: str) -> None:
        if connection_ids is None:
            raise null_argument("excludedConnectionIds")
        await self.message_to(self.get_clients().all_except(connection_ids), text)

    # Group changes complete the invocation only once they are in place, so
    # a client that awaits JoinGroup can count on the group's next message.
    @Hubs.method
    async def join_group(self, group: str) -> None:
        if group is None:
            raise null_argument("groupName")
        await self.get_groups().add_to_group_async(self.caller_id(), group)

    @Hubs.method
    async def leave_group(self, group: str) -> None:
        if group is None:
            raise null_argument("groupName")
        await self.get_groups().remove_from_group_async(self.caller_id(), group)

    @Hubs.method
    async def send_to_group(self, group: str, text: str) -> None:
        if group is None:
            raise null_argument("groupName")
        await self.message_to(self.get_clients().group(group), text)

    @Hubs.method
    async def send_to_groups(self, groups: list[str], text: str) -> None:
        if groups is None:
            raise null_argument("groupNames")
        await self.message_to(self.get_clients().groups(groups), text)

    @Hubs.method
    async def send_to_group_except(self, group: str, connection_ids: list[str], text: str) -> None:
        if group is None:
            raise null_argument("groupName")
        if connection_ids is None:
            raise null_argument("excludedConnectionIds")
        await self.message_to(self.get_clients().group_except(group, connection_ids), text)

    @Hubs.method
    async def send_to_others_in_group(self, group: str, text: str) -> None:
        if group is None:
            raise null_argument("groupName")
        await self.message_to(self.get_clients().others_in_group(group), text)

    @Hubs.method
    async def send_to_user(self, user: str, text: str) -> None:
        if user is None:
            raise null_argument("userId")
        await self.message_to(self.get_clients().user(user), text)

    @Hubs.method
    async def send_to_users(self, users: list[str], text: str) -> None:
        if users is None:
            raise null_argument("userIds")
        await self.message_to(self.get_clients().users(users), text)

    @Hubs.method
    def get_user_identifier(self) -> typing.Optional[str]:
        return self.get_context().get_user_identifier()

    @Hubs.method
    def set_item(self, key: str, value: typing.Any) -> None:
        if key is None:
            raise null_argument("key")
        # None (JSON null) is stored too, as the reference stores null.
        self.get_context().set_item(key, value)

    @Hubs.method
    def get_item(self, key: str) -> typing.Any:
        if key is None:
            raise null_argument("key")
        return self.get_context().get_item(key)

    @Hubs.method
    def get_query(self, name: str) -> typing.Optional[str]:
        http = self.get_context().get_http_context()
        return http.get_query_value(name) if http is not None and name is not None else None

    @Hubs.method
    def add(self, a: int, b: int) -> int:
        # C# int addition is unchecked: it wraps around.
        return (a + b + 2**31) % 2**32 - 2**31

    @Hubs.method
    def sum(self, values: list[int]) -> int:
        if values is None:
            raise null_argument("source")
        # int[].Sum() is checked arithmetic on 32-bit integers
        total = 0
        for value in values:
            total += value
            if not -2**31 <= value < 2**31 or not -2**31 <= total < 2**31:
                raise io_error("Arithmetic operation resulted in an overflow.")
        return total

    @Hubs.method
    def echo_any(self, value: GLib.Variant) -> GLib.Variant:
        return value

    @Hubs.method
    async def delayed_echo(self, text: str, milliseconds: int) -> str:
        if milliseconds < 0:
            raise io_error("The value needs to be either -1 (signifying an infinite timeout), 0 or "
                           "a positive integer. (Parameter 'millisecondsDelay')",
                           Gio.IOErrorEnum.INVALID_ARGUMENT)
        await Hubs.sleep(milliseconds)
        return text

    @Hubs.method
    async def counter(self, n: int, milliseconds: int) -> AsyncIterator[int]:
        # The first item after one interval too, as Task.Delay before each.
        for i in range(n):
            await Hubs.sleep(milliseconds)
            yield i

    @Hubs.method
    async def upload(self, items: AsyncIterator[int]) -> int:
        return sum([item async for item in items])

    @Hubs.method
    async def ask_caller(self, x: int) -> int:
        # The client's error is a hub error: it reaches the client as one.
        return await self.get_clients().caller().invoke("Double", x, result_type=int)

    @Hubs.method
    def throw_hub_error(self, message: str) -> None:
        raise Hubs.HubException(message if message is not None
                                else "Exception of type 'Microsoft.AspNetCore.SignalR.HubException' was thrown.")

    @Hubs.method
    def throw_other(self, message: str) -> None:
        raise io_error(message if message is not None
                       else "Operation is not valid due to the current state of the object.")

    @Hubs.method(name="Custom.Name")
    def renamed_method(self) -> str:
        return "renamed"

    @Hubs.method
    def abort(self) -> None:
        self.get_context().abort()


# /filteredhub: hub filters and method authorization, hubs-glib's own beyond
# the contract, as interop-filtered-hub.c serves them (its comment says what
# the tokens, filters and logs are).

LOG_ITEM = "interop-filter-log"

# "NAME:disconnected:ID" of ended connections, for GetDisconnections()
disconnections = []


def log_append(context, entry):
    context.set_item(LOG_ITEM, context.get_item(LOG_ITEM, []) + [entry])


def next_result(context, result):
    """The result of the rest of the chain. (PyGObject cannot convert the
    unset value of a method without a result: that is None.)"""
    try:
        return context.invoke_next_finish(result)[1]
    except TypeError:
        return None


def as_gvalue(value):
    """A filter's result as a GValue of the type the method gave it: the
    binding hands the value over as plain Python."""
    if value is None or isinstance(value, GObject.Value):
        return value
    if isinstance(value, list):
        return GObject.Value(GObject.TYPE_STRV, value)
    if isinstance(value, bool):
        return GObject.Value(GObject.TYPE_BOOLEAN, value)
    if isinstance(value, int):
        return GObject.Value(GObject.TYPE_INT64, value)
    if isinstance(value, str):
        return GObject.Value(GObject.TYPE_STRING, value)
    return value


class LogFilter(GObject.Object, Hubs.HubFilter):
    """Writes NAME:before:Method, NAME:after:Method:ok|error and
    NAME:connected to the connection's log; the server's one only looks at
    /filteredhub and passes every other hub's calls on quietly."""

    def __init__(self, name, filtered_hub_only):
        super().__init__()
        self.name = name
        self.filtered_hub_only = filtered_hub_only

    def applies(self, hub):
        return not self.filtered_hub_only or isinstance(hub, FilteredHub)

    def do_invoke_method(self, context):
        if not self.applies(context.get_hub()):
            context.invoke_next()
            return
        method = context.get_method_name()
        log_append(context.get_context(), f"{self.name}:before:{method}")

        def done(context, result):
            try:
                value = next_result(context, result)
            except GLib.Error as error:
                log_append(context.get_context(), f"{self.name}:after:{method}:error")
                context.return_gerror(error)
                return
            log_append(context.get_context(), f"{self.name}:after:{method}:ok")
            context.return_value(as_gvalue(value))

        context.invoke_next_async(done)

    def do_on_connected(self, context):
        if self.applies(context.get_hub()):
            log_append(context.get_context(), f"{self.name}:connected")
        return context.next_connected()

    def do_on_disconnected(self, context, error):
        if self.applies(context.get_hub()):
            disconnections.append(f"{self.name}:disconnected:{context.get_context().get_connection_id()}")
        context.next_disconnected()


class BannedPhraseFilter(GObject.Object, Hubs.HubFilter):
    """The banned-phrase filter of the seed documentation: "darn" becomes
    "***" in string arguments and results; an argument with "forbidden" is
    refused without calling the method; a user named "refused" may not
    connect."""

    def do_invoke_method(self, context):
        for index in range(context.get_n_arguments()):
            argument = context.get_argument(index)
            if not isinstance(argument, str):
                continue
            if "forbidden" in argument:
                context.return_error_literal(Hubs.hub_error_quark(), Hubs.HubError.FAILED,
                                             "The message contains a banned phrase.")
                return
            context.set_argument(index, argument.replace("darn", "***"))

        def done(context, result):
            try:
                value = next_result(context, result)
            except GLib.Error as error:
                context.return_gerror(error)
                return
            if isinstance(value, str):
                value = value.replace("darn", "***")
            context.return_value(as_gvalue(value))

        context.invoke_next_async(done)

    def do_on_connected(self, context):
        user = context.get_context().get_user()
        if user is not None and user.get_name() == "refused":
            raise GLib.Error.new_literal(Hubs.hub_error_quark(), "A filter refused the connection.",
                                         Hubs.HubError.FAILED)
        return context.next_connected()


class FilteredHub(Hubs.Hub):
    __gtype_name__ = "InteropPyFilteredHub"

    @Hubs.method
    def echo(self, message: str) -> str:
        return message

    @Hubs.method
    def reveal(self) -> str:
        return "the darn secret"

    @Hubs.method
    def fail(self) -> None:
        raise Hubs.HubException("The method failed.")

    @Hubs.method
    def get_log(self) -> list[str]:
        context = self.get_context()
        log = context.get_item(LOG_ITEM, [])
        context.set_item(LOG_ITEM, [])
        return log

    @Hubs.method
    def get_disconnections(self) -> list[str]:
        return list(disconnections)

    # Both write every item at once, within the method's call, as the C
    # hub's do: the filters around them see the items already on their way.
    @Hubs.method
    def counter(self, count: int, writer: Hubs.StreamWriter) -> None:
        for i in range(count):
            writer.write(i)
        writer.complete()

    @Hubs.method
    def words(self, text: str, writer: Hubs.StreamWriter) -> None:
        for word in text.split(" "):
            writer.write(word)
        writer.complete()

    @Hubs.method
    async def ask_caller(self, text: str) -> str:
        return await self.get_clients().caller().invoke("Repeat", text, result_type=str)

    # [Authorize] on methods, each kind of requirement once
    @Hubs.method
    def whoami(self) -> typing.Optional[str]:
        return self.get_context().get_user_identifier()

    @Hubs.method
    def admin_only(self) -> typing.Optional[str]:
        return self.get_context().get_user_identifier()

    @Hubs.method
    def department_only(self) -> typing.Optional[str]:
        return self.get_context().get_user_identifier()

    @Hubs.method
    def query_only(self) -> typing.Optional[str]:
        return self.get_context().get_user_identifier()


def authorize_filtered_hub():
    admins = Hubs.AuthorizationPolicy.new()
    admins.require_role(["admin", "owner"])
    departments = Hubs.AuthorizationPolicy.new()
    departments.require_claim("department", ["sales", "support"])
    query = Hubs.AuthorizationPolicy.new()
    # Allowed when the connection's request had ?allow=yes
    query.require_assertion(
        lambda context, method: context.get_http_context().get_query_value("allow") == "yes")
    # Every method: anyone but a user named "blocked"
    hub_wide = Hubs.AuthorizationPolicy.new()
    hub_wide.require_assertion(
        lambda context, method: context.get_user() is None or context.get_user().get_name() != "blocked")

    FilteredHub.add_method_authorization("whoami", None)
    FilteredHub.add_method_authorization("admin-only", admins)
    FilteredHub.add_method_authorization("department-only", departments)
    FilteredHub.add_method_authorization("query-only", query)
    FilteredHub.add_authorization(hub_wide)


class AdminHub(Hubs.Hub):
    """/adminhub: [Authorize(Roles = "admin,owner")] on the hub class, which
    the endpoint applies to every request (401 anonymous, 403 without the
    role), as interop-filtered-hub.c's. Its users are /filteredhub's."""
    __gtype_name__ = "InteropPyAdminHub"

    @Hubs.method
    def echo(self, message: str) -> str:
        return message


def authorize_admin_hub():
    admins = Hubs.AuthorizationPolicy.new()
    admins.require_role(["admin", "owner"])
    AdminHub.add_authorization(admins)


def filtered_hub_user(access_token):
    """A token NAME[;role=R][;department=D][;expires=SECONDS]"""
    name, *parts = access_token.split(";")
    user = Hubs.User.new("Bearer")
    user.add_claim(NAME_IDENTIFIER, name)
    user.add_claim(NAME, name)
    for part in parts:
        if part.startswith("role="):
            user.add_claim(ROLE, part[len("role="):])
        elif part.startswith("department="):
            user.add_claim("department", part[len("department="):])
        elif part.startswith("expires="):
            user.set_expiration(GLib.DateTime.new_now_utc().add_seconds(float(part[len("expires="):])))
    return user


def filtered_user_id(server, context, *user_data):
    """The server's user-id provider: the default (the name identifier) but
    on /filteredhub, whose user identifiers are "filtered:" and that."""
    user = context.get_user()
    user_id = user.find_first_claim(NAME_IDENTIFIER) if user is not None else None
    if user_id is None:
        return None
    if path_is_under(context.get_http_context().get_path(), "/filteredhub"):
        return f"filtered:{user_id}"
    return user_id


# Tokens and users: the HS256 tokens of /generateJwtToken, checked by hand as
# interop-jwt.c does.

JWT_ISSUER = "SignalRTestServer"
JWT_AUDIENCE = "SignalRTests"
# What JwtBearer allows by default between a token's times and the clock
JWT_CLOCK_SKEW_SECONDS = 5 * 60

# JwtSecurityTokenHandler's default inbound claim type map, as far as the
# reference uses it
CLAIM_TYPES = {"nameid": NAME_IDENTIFIER, "sub": NAME_IDENTIFIER, "unique_name": NAME,
               "email": EMAIL, "role": ROLE}


class InvalidToken(Exception):
    pass


def base64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decode(text):
    if len(text) % 4 == 1 or not all(c.isalnum() or c in "-_" for c in text) or not text.isascii():
        raise InvalidToken("The token is malformed")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class JwtKey:
    def __init__(self):
        self.key = os.urandom(32)

    def sign(self, signing_input):
        return hmac.new(self.key, signing_input.encode("ascii"), hashlib.sha256).digest()

    def issue(self, name_identifier, lifetime_seconds):
        now = int(time.time())
        header = base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
        payload = base64url_encode(json.dumps({
            "nameid": name_identifier, "nbf": now, "exp": now + lifetime_seconds, "iat": now,
            "iss": JWT_ISSUER, "aud": JWT_AUDIENCE,
        }, separators=(",", ":")).encode("utf-8"))
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{base64url_encode(self.sign(signing_input))}"

    def validate(self, token):
        """The token's user, or InvalidToken with JwtBearer's message."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("The token is malformed")
        header_bytes, payload_bytes, signature = (base64url_decode(part) for part in parts)
        try:
            header = json.loads(header_bytes)
        except ValueError:
            raise InvalidToken("The token is malformed") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise InvalidToken("The signature key was not found")
        if not hmac.compare_digest(signature, self.sign(f"{parts[0]}.{parts[1]}")):
            raise InvalidToken("The signature is invalid")
        try:
            claims = json.loads(payload_bytes)
        except ValueError:
            raise InvalidToken("The token is malformed") from None
        if not isinstance(claims, dict):
            raise InvalidToken("The token is malformed")
        now = time.time()
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool):
            raise InvalidToken("The token has no expiration")
        if expires + JWT_CLOCK_SKEW_SECONDS < now:
            expiry = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(expires))
            raise InvalidToken(f"The token expired at '{expiry}'")
        not_before = claims.get("nbf")
        if isinstance(not_before, (int, float)) and not_before - JWT_CLOCK_SKEW_SECONDS > now:
            raise InvalidToken("The token is not valid yet")

        user = Hubs.User.new("Bearer")
        for member, value in claims.items():
            claim_type = CLAIM_TYPES.get(member, member)
            for item in value if isinstance(value, list) else [value]:
                user.add_claim(claim_type, item if isinstance(item, str)
                               else json.dumps(item, separators=(",", ":")))
        return user


def path_is_under(path, prefix):
    """``path`` is ``prefix`` or below it, without regard to case, by whole
    segments: "/redirect" covers "/redirect/negotiate", not "/redirectx"."""
    if path is None or path[:len(prefix)].lower() != prefix.lower():
        return False
    return len(path) == len(prefix) or path[len(prefix)] == "/"


def path_is(path, route):
    """An endpoint route: the path itself, with or without a trailing slash."""
    if path[:len(route)].lower() != route.lower():
        return False
    rest = path[len(route):]
    return rest in ("", "/")


# The hubs whose requests the reference's authentication handler looks at:
# /echo is no hub and stays anonymous.
JWT_HUB_PATHS = ("/testhub", "/testhub-nowebsockets", "/uncreatable", "/authorizedhub")


def request_token(msg):
    """The bearer token of a request, as hubs-glib reads it."""
    authorization = msg.get_request_headers().get_one("Authorization")
    if authorization:
        if authorization[:7].lower() == "bearer ":
            authorization = authorization[7:]
        return authorization.strip()
    query = msg.get_uri().get_query()
    if query:
        token = form_decode(query).get("access_token")
        if token:
            return token
    return None


def form_decode(query):
    # soup_form_decode: the last of several values wins
    return dict(urllib.parse.parse_qsl(query, keep_blank_values=True))


class App:
    """The server, its hubs and the HTTP rows of the contract outside them."""

    def __init__(self, certificate, redis=None):
        self.server = GObject.new(Hubs.Server, tls_certificate=certificate)
        # --redis: every hub of the server on the Redis lifetime manager,
        # set before the first map_hub as the library requires.
        self.redis = redis
        if redis is not None:
            self.server.set_redis_backplane(redis)
        self.jwt_key = JwtKey()
        self.redirect_count = 0
        self.test_hub = None
        self.feature_hub = None

    @staticmethod
    def options(detailed_errors, transports=Hubs.TransportType.WEB_SOCKETS
                | Hubs.TransportType.SERVER_SENT_EVENTS | Hubs.TransportType.LONG_POLLING):
        options = Hubs.HubOptions.new()
        options.set_detailed_errors(detailed_errors)
        options.set_transports(transports)
        return options

    # The Redis channels' prefix of each hub: the .NET hubs' full type names,
    # as the C server uses, so that the servers of a backplane (C, Python
    # or ASP.NET Core's reference) serve one set of clients, groups and
    # users per hub. Every mapping of a hub shares its prefix, as all the
    # mappings of a hub type share the reference's lifetime manager.
    REDIS_HUB_NAMES = {
        "InteropPyTestHub": "FunctionalTests.TestHub",
        "InteropPyFeatureHub": "Interop.FeatureHub",
    }

    def map_hub(self, path, hub_class, options):
        redis_hub_name = self.REDIS_HUB_NAMES.get(hub_class.__gtype_name__)
        if self.redis is not None and redis_hub_name is not None:
            options.set_redis_hub_name(redis_hub_name)
        context = self.server.map_hub(path, hub_class, options)
        if context is None:
            raise SystemExit(f"Cannot map {hub_class.__name__} on {path}")
        return context

    def map_endpoints(self):
        authorized = self.options(True)
        authorized.set_require_authentication(True)

        self.test_hub = self.map_hub("/testhub", TestHub, self.options(True))
        no_websockets = self.map_hub("/testhub-nowebsockets", TestHub,
                                     self.options(True, Hubs.TransportType.SERVER_SENT_EVENTS
                                                  | Hubs.TransportType.LONG_POLLING))
        self.map_hub("/uncreatable", UncreatableHub, self.options(True))
        self.map_hub("/authorizedhub", AuthorizedHub, authorized)
        self.feature_hub = self.map_hub("/featurehub", FeatureHub, self.options(False))
        test_hub_contexts.extend([self.test_hub, no_websockets])

        # An addition to the contract: TestHub and FeatureHub with stateful
        # reconnect allowed, for tests/js/stateful-reconnect.test.mjs.
        stateful = self.options(True)
        stateful.set_allow_stateful_reconnects(True)
        test_hub_contexts.append(self.map_hub("/testhub-statefulreconnect", TestHub, stateful))
        self.map_hub("/featurehub-statefulreconnect", FeatureHub, stateful)

        # hubs-glib's own, beyond the contract: filters and method authorization
        filtered = self.options(False)
        self.server.add_hub_filter(LogFilter("global", True))
        self.server.set_user_id_provider(filtered_user_id)
        filtered.add_hub_filter(LogFilter("hub", False))
        filtered.add_hub_filter(BannedPhraseFilter())
        filtered.set_close_on_authentication_expiration(True)
        authorize_filtered_hub()
        self.map_hub("/filteredhub", FilteredHub, filtered)
        authorize_admin_hub()
        self.map_hub("/adminhub", AdminHub, filtered)

        self.server.map_connection_handler("/echo", self.options(False), self.echo_connection)
        self.server.set_authentication_handler(self.authenticate)
        self.server.get_soup_server().connect("request-started", self.request_started)

    # /echo: every chunk comes back unchanged and in one piece.
    @staticmethod
    def echo_connection(server, connection, *user_data):
        connection.connect("received", lambda c, data: c.send(data))

    def authenticate(self, server, request, access_token):
        if not access_token:
            return None
        path = request.get_path()
        # Part B: the token is the user's name
        if path_is_under(path, "/featurehub"):
            user = Hubs.User.new("Bearer")
            user.add_claim(NAME_IDENTIFIER, access_token)
            user.add_claim(NAME, access_token)
            return user
        if path_is_under(path, "/filteredhub") or path_is_under(path, "/adminhub"):
            return filtered_hub_user(access_token)
        if not any(path_is_under(path, hub) for hub in JWT_HUB_PATHS):
            return None
        # A rejected token leaves the request anonymous: /authorizedhub then
        # answers 401, and message_got_headers() gives that answer its
        # reason. (From Python, an authentication handler cannot fail with
        # a reason: PyGObject drops the GError of a callback.)
        try:
            return self.jwt_key.validate(access_token)
        except InvalidToken:
            return None

    # The rows are checked in the contract's order for every request, from
    # the message's "got-headers", as interop-routes.c explains.
    def request_started(self, soup_server, msg):
        msg.connect("got-headers", self.message_got_headers)

    @staticmethod
    def answer(msg, status, content_type=None, body=None):
        msg.set_status(status, None)
        if body is None:
            return
        data = body.encode("utf-8")
        # Without a content type the reference sends none, and
        # set_response() would drop the body.
        if content_type is not None:
            msg.set_response(content_type, Soup.MemoryUse.COPY, data)
        else:
            msg.get_response_body().append_bytes(GLib.Bytes.new(data))

    @staticmethod
    def add_cors_headers(msg):
        request = msg.get_request_headers()
        response = msg.get_response_headers()
        origin = request.get_one("Origin")
        if not origin:
            return
        response.replace("Access-Control-Allow-Origin", origin)
        response.replace("Access-Control-Allow-Credentials", "true")
        method = request.get_list("Access-Control-Request-Method")
        if method:
            response.replace("Access-Control-Allow-Methods", method)
        headers = request.get_list("Access-Control-Request-Headers")
        if headers:
            response.replace("Access-Control-Allow-Headers", headers)

    @staticmethod
    def add_negotiate_cookies(msg):
        response = msg.get_response_headers()
        an_hour_ago = GLib.DateTime.new_now_utc().add_hours(-1)
        expires = Soup.date_time_to_string(an_hour_ago, Soup.DateFormat.HTTP)
        # Plain HTTP: the cookies never get "secure; samesite=none; partitioned".
        response.append("Set-Cookie", "testCookie=testValue; path=/")
        response.append("Set-Cookie", "testCookie2=testValue2; path=/")
        response.append("Set-Cookie", f"expiredCookie=doesntmatter; expires={expires}; path=/")

    @staticmethod
    def is_negotiate(path):
        # Case-sensitive, anywhere in the path, as the reference checks it
        return "/negotiate" in path

    def refuse_rejected_token(self, msg, path):
        """/authorizedhub with a token that does not validate: 401 naming
        invalid_token, as hubs-glib answers when the handler fails."""
        if not path_is_under(path, "/authorizedhub"):
            return False
        token = request_token(msg)
        if not token:
            return False
        try:
            self.jwt_key.validate(token)
            return False
        except InvalidToken as error:
            description = error.args[0].replace("\\", "\\\\").replace('"', '\\"')
        msg.set_status(Soup.Status.UNAUTHORIZED, "Unauthorized")
        msg.get_response_headers().replace(
            "WWW-Authenticate", f'Bearer error="invalid_token", error_description="{description}"')
        msg.set_response(None, Soup.MemoryUse.COPY, None)
        return True

    def message_got_headers(self, msg):
        method = msg.get_method()
        path = msg.get_uri().get_path()

        self.add_cors_headers(msg)

        # Something before us (hubs-glib's early handler, say) has answered
        # already: it gets the headers every answer gets, and nothing else.
        if msg.get_status() != 0:
            if (self.is_negotiate(path) and not path_is_under(path, "/echoredirect")
                    and not path_is_under(path, "/redirect")):
                self.add_negotiate_cookies(msg)
            if msg.get_status() == Soup.Status.UNAUTHORIZED and method != "OPTIONS":
                self.refuse_rejected_token(msg, path)
            return

        # A preflight: no authorization, no hub
        if method == "OPTIONS":
            self.answer(msg, Soup.Status.NO_CONTENT)
            return

        if path_is_under(path, "/echoredirect"):
            self.redirect_to_echo(msg)
            return

        if path_is_under(path, "/redirect"):
            self.redirect_negotiate(msg)
            return

        if self.is_negotiate(path):
            self.add_negotiate_cookies(msg)

        if path_is_under(path, "/bad-negotiate"):
            self.answer(msg, Soup.Status.BAD_REQUEST, None, "Some response from server")
            return

        if self.refuse_rejected_token(msg, path):
            return

        if method == "GET" and path_is(path, "/generateJwtToken"):
            self.answer(msg, Soup.Status.OK, "text/plain", self.jwt_key.issue("testuser", 5))
            return

        prefix = "/clientresult/"
        if method == "GET" and path[:len(prefix)].lower() == prefix and len(path) > len(prefix):
            self.client_result(msg, urllib.parse.unquote(path[len(prefix):]))
            return

        if method == "POST" and path_is(path, "/featurehub-notify"):
            self.notify_feature_hub(msg)
            return

        prefix = "/featurehub-group/"
        if method == "POST" and path[:len(prefix)].lower() == prefix and "/" not in path[len(prefix):]:
            self.feature_group(msg, path[len(prefix):])
            return

        # Anything else is hubs-glib's (or libsoup's 404)

    def redirect_to_echo(self, msg):
        """307 to the same path on /echo. The target is absolute because the
        EventSource of the Node SignalR client cannot follow a relative one."""
        uri = msg.get_uri()
        query = uri.get_query()
        # string.Replace in the reference: ordinal, every occurrence
        path = urllib.parse.quote(uri.get_path().replace("echoredirect", "echo"), safe="/!$&'()*+,;=:@")
        scheme = "https" if self.server.get_property("tls-certificate") else "http"
        location = f"{scheme}://127.0.0.1:{self.server.get_port()}{path}" + (f"?{query}" if query else "")
        self.answer(msg, Soup.Status.TEMPORARY_REDIRECT)
        msg.get_response_headers().replace("Location", location)

    def redirect_negotiate(self, msg):
        """A negotiate answer that sends the client on to /testHub, counting
        the redirects server-wide so that GetNumRedirects can tell them
        apart."""
        query = msg.get_uri().get_query()
        base_url = form_decode(query).get("baseUrl", "") if query else ""
        self.redirect_count += 1
        self.answer(msg, Soup.Status.OK, None,
                    f'{{ "url": "{base_url}/testHub?numRedirects={self.redirect_count}" }}')

    @staticmethod
    def answer_later(msg, future, text_of):
        """Pauses ``msg`` until ``future`` is done, then answers 200 with
        ``text_of(future)``, unless the client went away meanwhile."""
        finished = []
        handler = msg.connect("finished", lambda m: finished.append(True))
        msg.pause()

        def done(future):
            status, text = text_of(future)
            if not finished:
                App.answer(msg, status, "text/plain", text)
                msg.unpause()
            msg.disconnect(handler)

        future.add_done_callback(done)

    def client_result(self, msg, connection_id):
        """/clientresult/{connectionId}: the client's Result() through
        /testhub's hub context, or the error's message, both as 200 text."""
        client = self.test_hub.get_clients().client(connection_id)

        def text_of(future):
            try:
                return Soup.Status.OK, str(future.result())
            except GLib.Error as error:
                return Soup.Status.OK, error.message

        self.answer_later(msg, client.invoke("Result", result_type=int), text_of)

    def notify_feature_hub(self, msg):
        """POST /featurehub-notify answers once Notify has been handed to
        every connection's transport."""
        query = msg.get_uri().get_query()
        text = form_decode(query).get("text") if query else None

        def text_of(future):
            try:
                future.result()
                return Soup.Status.OK, "ok"
            except GLib.Error as error:
                print(f"Sending Notify to /featurehub: {error.message}", file=sys.stderr)
                return Soup.Status.INTERNAL_SERVER_ERROR, error.message

        self.answer_later(msg, self.feature_hub.get_clients().all().send("Notify", text), text_of)

    def feature_group(self, msg, action):
        """Beyond the contract, for the scale-out tests (as
        tests/aspnetcore-redis serves it): POST
        /featurehub-group/{add,remove}?connectionId=ID&group=G changes the
        group membership of a connection on any server through /featurehub's
        hub context; 200 text "ok" once done (for a connection on another
        server: once its owner acknowledged), or the error's message."""
        action = action.lower()
        if action not in ("add", "remove"):
            self.answer(msg, Soup.Status.NOT_FOUND, "text/plain", "add or remove")
            return
        query = msg.get_uri().get_query()
        form = form_decode(query) if query else {}
        # ASP.NET Core's query values are "" when absent
        connection_id = form.get("connectionId", "")
        group = form.get("group", "")
        groups = self.feature_hub.get_groups()
        finished = []
        handler = msg.connect("finished", lambda m: finished.append(True))
        msg.pause()

        def done(source, result):
            try:
                if action == "add":
                    source.add_to_group_finish(result)
                else:
                    source.remove_from_group_finish(result)
                text = "ok"
            except GLib.Error as error:
                text = error.message
            if not finished:
                App.answer(msg, Soup.Status.OK, "text/plain", text)
                msg.unpause()
            msg.disconnect(handler)

        if action == "add":
            groups.add_to_group_async(connection_id, group, None, done)
        else:
            groups.remove_from_group_async(connection_id, group, None, done)


def main():
    parser = argparse.ArgumentParser(description="Serve the hubs of the SignalR interop tests")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="Listen on this port of 127.0.0.1 (0: any free port)")
    parser.add_argument("--tls-cert", metavar="FILE", help="Serve HTTPS/WSS with this PEM certificate")
    parser.add_argument("--tls-key", metavar="FILE", help="… and this PEM private key")
    parser.add_argument("--metrics", action="store_true",
                        help="Serve the metrics on /metrics (Prometheus text)")
    parser.add_argument("--redis", metavar="HOST:PORT",
                        help="Scale out through the Redis server at this address "
                             "(host:port or unix:/path): every hub uses its backplane")
    arguments = parser.parse_args()
    if not 0 <= arguments.port <= 65535:
        print("The port must be between 0 and 65535", file=sys.stderr)
        return 2

    redis = None
    if arguments.redis is not None:
        try:
            redis = Hubs.RedisBackplane.new(arguments.redis)
        except GLib.Error as error:
            print(f"Cannot use Redis at {arguments.redis}: {error.message}", file=sys.stderr)
            return 2

    certificate = None
    if arguments.tls_cert is not None:
        try:
            certificate = Gio.TlsCertificate.new_from_files(arguments.tls_cert,
                                                            arguments.tls_key or arguments.tls_cert)
        except GLib.Error as error:
            print(f"Cannot load the TLS certificate: {error.message}", file=sys.stderr)
            return 2

    app = App(certificate, redis)
    app.map_endpoints()
    if arguments.metrics:
        app.server.map_metrics("/metrics")
    try:
        app.server.listen_local(arguments.port)
    except GLib.Error as error:
        print(f"Cannot listen on 127.0.0.1:{arguments.port}: {error.message}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()
    state = {"shutting_down": False, "exit_status": 0}

    def shut_down_done(server, result):
        try:
            server.shutdown_finish(result)
        except GLib.Error as error:
            print(f"Shutting down: {error.message}", file=sys.stderr)
            state["exit_status"] = 1
        loop.quit()

    def on_quit_signal():
        if not state["shutting_down"]:
            state["shutting_down"] = True
            app.server.shutdown_async(None, shut_down_done)
        else:
            # A second signal: stop waiting for the connections to close
            print("Stopping without waiting for the connections to close", file=sys.stderr)
            state["exit_status"] = 1
            loop.quit()
        return GLib.SOURCE_CONTINUE

    # GLib's handlers, not Python's: PyGObject's MainLoop.run() would turn
    # SIGINT into KeyboardInterrupt while Python's default handler is set.
    # Before the line below: a runner may signal as soon as it reads it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sources = [GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signo, on_quit_signal)
               for signo in (signal.SIGINT, signal.SIGTERM)]

    # Test runners wait for this exact line to learn the port: one write(),
    # so that they never see it without its newline.
    scheme = "https" if certificate is not None else "http"
    os.write(sys.stdout.fileno(),
             f"Now listening on: {scheme}://127.0.0.1:{app.server.get_port()}\n".encode("ascii"))

    loop.run()

    for source in sources:
        GLib.source_remove(source)
    return state["exit_status"]


if __name__ == "__main__":
    sys.exit(main())
