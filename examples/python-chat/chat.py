#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A chat with rooms, its hub written in Python over hubs-glib.

Clients join rooms (SignalR groups) under a name, talk in them and hear
who comes and goes. It serves its own page: open
http://127.0.0.1:5000/index.html in two browser windows.

From a build tree (here _build), without installing:

    GI_TYPELIB_PATH=_build/introspection LD_LIBRARY_PATH=_build/hubs-glib \\
    PYTHONPATH=_build/introspection/python \\
        /usr/bin/python3 examples/python-chat/chat.py --port 5000

Hub methods:  JoinRoom(room, user) → [users in the room], LeaveRoom(room),
              SendMessage(room, message)
Client calls: ReceiveMessage(room, user, message), UserJoined(room, user),
              UserLeft(room, user)
"""

import argparse
import os
import signal
import sys

import gi

gi.require_version("Hubs", "1")
gi.require_version("Soup", "3.0")
from gi.repository import GLib, Hubs, Soup  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_NAME_LENGTH = 40

# Who is in which room: {room: {connection id: user name}}. A new hub
# instance serves every call, so the application keeps the state, not the
# hub (the rooms themselves are SignalR groups, which the server keeps).
rooms = {}


def check_name(kind, name):
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise Hubs.HubException(f"A {kind} name has 1 to {MAX_NAME_LENGTH} characters")
    return name


class ChatHub(Hubs.Hub):
    @Hubs.method
    def join_room(self, room: str, user: str) -> list[str]:
        room = check_name("room", room)
        user = check_name("user", user)
        connection_id = self.get_context().get_connection_id()
        members = rooms.setdefault(room, {})
        if connection_id in members:
            raise Hubs.HubException(f"You are in {room} already")

        members[connection_id] = user
        self.get_groups().add_to_group(connection_id, room)
        self.get_clients().others_in_group(room).send("UserJoined", room, user)
        return sorted(members.values())

    @Hubs.method
    def leave_room(self, room: str) -> None:
        self._leave(self.get_context().get_connection_id(), room)

    @Hubs.method
    def send_message(self, room: str, message: str) -> None:
        user = rooms.get(room, {}).get(self.get_context().get_connection_id())
        if user is None:
            # The client sees this message: a HubException is meant for it.
            raise Hubs.HubException(f"Join {room} before you talk in it")
        self.get_clients().group(room).send("ReceiveMessage", room, user, message)

    def do_on_disconnected(self, error):
        connection_id = self.get_context().get_connection_id()
        for room in [r for r, members in rooms.items() if connection_id in members]:
            self._leave(connection_id, room)

    def _leave(self, connection_id, room):
        members = rooms.get(room, {})
        user = members.pop(connection_id, None)
        if user is None:
            return
        if not members:
            del rooms[room]
        self.get_groups().remove_from_group(connection_id, room)
        self.get_clients().group(room).send("UserLeft", room, user)


def serve_files(static_dir):
    """A handler for the page and the SignalR browser bundle."""
    files = {
        "/index.html": ("index.html", "text/html; charset=utf-8"),
        "/signalr.js": (os.path.join("node_modules", "@microsoft", "signalr", "dist", "browser", "signalr.js"),
                        "text/javascript"),
    }

    def handler(server, message, path, query):
        name, content_type = files.get(path, (None, None))
        try:
            with open(os.path.join(static_dir, name), "rb") as f:
                data = f.read()
        except (TypeError, OSError):
            message.set_status(Soup.Status.NOT_FOUND, None)
            return
        message.set_status(Soup.Status.OK, None)
        message.set_response(content_type, Soup.MemoryUse.COPY, data)

    return handler, files.keys()


def main():
    parser = argparse.ArgumentParser(description="A chat with rooms, its hub in Python")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (0: any free port)")
    parser.add_argument("--static", default=HERE, help="folder of index.html and node_modules")
    args = parser.parse_args()

    server = Hubs.Server.new()
    server.map_hub("/chathub", ChatHub)
    handler, paths = serve_files(args.static)
    for path in paths:
        server.get_soup_server().add_handler(path, handler)

    try:
        server.listen_local(args.port)
    except GLib.Error as error:
        print(f"Cannot listen on port {args.port}: {error.message}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()

    def quit():
        server.shutdown_async(None, lambda server, result: (server.shutdown_finish(result), loop.quit()))
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, quit)

    port = server.get_port()
    print(f"Now listening on: http://127.0.0.1:{port}", flush=True)
    print(f"Chat page: http://127.0.0.1:{port}/index.html", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
