#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A terminal client of the chat example, over hubs-glib's Hubs.Connection.

Connects to the chat example's hub (examples/chat, hubs-chat), prints every
message as it arrives, sends each line typed on standard input as
SendMessage(name, line), reconnects by itself when the server goes away
(and says so), and leaves cleanly at the end of input or on Ctrl-C. The
same as hubs-chat-client (chat-client.c), in Python.

From a build tree (here _build), without installing:

    GI_TYPELIB_PATH=_build/introspection LD_LIBRARY_PATH=_build/hubs-glib \\
    PYTHONPATH=_build/introspection/python \\
        /usr/bin/python3 examples/client/chat-client.py \\
        --url http://127.0.0.1:5000/chathub --name grace
"""

import argparse
import getpass
import signal
import sys

import gi

gi.require_version("Hubs", "1")
from gi.repository import Gio, GLib, Hubs  # noqa: E402

# The reference's first delays, then a try every five seconds for as long
# as the program runs: a desktop client never gives up.
DELAYS = [0, 1000, 2000]


def retry_delay(connection, previous_retry_count, elapsed_ms, reason):
    if previous_retry_count < len(DELAYS):
        return DELAYS[previous_retry_count]
    return 5000


class ChatClient:
    def __init__(self, url, name):
        self.name = name
        self.loop = GLib.MainLoop()
        self.status = 0
        self.pending_sends = 0
        self.leaving = False
        self.stopping = False
        self.reading = Gio.Cancellable()
        self.input = Gio.DataInputStream.new(Gio.UnixInputStream.new(sys.stdin.fileno(), False))

        self.connection = Hubs.Connection.new(url)
        self.connection.set_reconnect_policy(retry_delay)
        self.connection.connect("reconnecting", self.on_reconnecting)
        self.connection.connect("reconnected", lambda connection, connection_id: say("Reconnected."))
        self.connection.connect("closed", self.on_closed)

        @self.connection.handler("ReceiveMessage", str, str)
        def receive(user, text):
            say(f"{user}: {text}")

    def run(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, self.on_signal)
        Hubs.spawn(self.connect())
        self.loop.run()
        return self.status

    async def connect(self):
        try:
            await self.connection.start()
        except GLib.Error as error:
            if not self.stopping:       # Ctrl-C while connecting: stop() ends us
                print(f"Cannot connect to {self.connection.get_url()}: {error.message}", file=sys.stderr)
                self.quit(1)
            return
        say(f"Connected to {self.connection.get_url()} as {self.name}. "
            "Type a message and press Enter; Ctrl-D or Ctrl-C leaves.")
        if self.leaving:
            self.stop_when_idle()
        else:
            self.read_next_line()

    def read_next_line(self):
        if not self.leaving:
            self.input.read_line_async(GLib.PRIORITY_DEFAULT, self.reading, self.line_read)

    def line_read(self, stream, result):
        try:
            line, _ = stream.read_line_finish_utf8(result)
        except GLib.Error as error:
            if not error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
                print(f"Reading standard input: {error.message}", file=sys.stderr)
            line = None
        if line is None:                # the end of input, or Ctrl-C
            self.leave()
            return
        line = line.rstrip()
        if line:
            self.send(line)
        self.read_next_line()

    def send(self, line):
        # While reconnecting a message would fail anyway; say why now.
        if self.connection.get_state() != Hubs.ConnectionState.CONNECTED:
            say("(not sent: not connected)")
            return
        self.pending_sends += 1
        self.connection.send("SendMessage", self.name, line).add_done_callback(self.sent)

    def sent(self, future):
        if future.exception() is not None:
            say(f"(not sent: {future.exception()})")
        self.pending_sends -= 1
        self.stop_when_idle()

    def on_signal(self):
        self.leave()
        return GLib.SOURCE_CONTINUE

    def leave(self):
        self.leaving = True
        self.reading.cancel()
        self.stop_when_idle()

    def stop_when_idle(self):
        """Stops the connection once every line read has been handed over."""
        if not self.leaving or self.pending_sends > 0 or self.stopping:
            return
        self.stopping = True
        if self.connection.get_state() == Hubs.ConnectionState.DISCONNECTED:
            self.quit(self.status)
            return
        self.connection.stop().add_done_callback(self.stopped)

    def stopped(self, future):
        if future.exception() is not None:
            print(f"Stopping: {future.exception()}", file=sys.stderr)
            self.status = 1
        self.quit(self.status)

    def on_reconnecting(self, connection, error):
        say(f"Connection lost ({error.message if error else 'no reason given'}); reconnecting...")

    def on_closed(self, connection, error):
        if self.stopping:
            return
        # The server refused us for good (a Close without allowReconnect).
        say(f"Connection closed: {error.message if error else 'by the server'}")
        self.stopping = True
        self.quit(1)

    def quit(self, status):
        self.status = status
        if status == 0:
            say("Bye.")
        self.loop.quit()


def say(text):
    print(text, flush=True)


def main():
    parser = argparse.ArgumentParser(description="Chat in the terminal with the chat example.")
    parser.add_argument("--url", default="http://127.0.0.1:5000/chathub",
                        help="the chat hub (default %(default)s)")
    parser.add_argument("--name", default=getpass.getuser(),
                        help="the name to chat under (default: your user name)")
    arguments = parser.parse_args()
    return ChatClient(arguments.url, arguments.name).run()


if __name__ == "__main__":
    sys.exit(main())
