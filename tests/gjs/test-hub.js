// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A hub written in GJS over the Hubs-1 typelib, called by the official
// @microsoft/signalr client (client.cjs, under Node). Exits 0 when every
// check holds. Run by meson with GI_TYPELIB_PATH, LD_LIBRARY_PATH and
// NODE_PATH set.

imports.gi.versions.Hubs = '1';
const { Gio, GLib, GObject, Hubs } = imports.gi;
const System = imports.system;

let connected = 0;
let disconnected = 0;

function stringValue(text) {
    const value = new GObject.Value();
    value.init(GObject.TYPE_STRING);
    value.set_string(text);
    return value;
}

const ChatHub = GObject.registerClass({
    Signals: {
        'add': {
            param_types: [Hubs.Invocation.$gtype, GObject.TYPE_INT, GObject.TYPE_INT],
            return_type: GObject.TYPE_BOOLEAN,
        },
        'send-message': {
            param_types: [Hubs.Invocation.$gtype, GObject.TYPE_STRING, GObject.TYPE_STRING],
            return_type: GObject.TYPE_BOOLEAN,
        },
        'fail': {
            param_types: [Hubs.Invocation.$gtype, GObject.TYPE_STRING],
            return_type: GObject.TYPE_BOOLEAN,
        },
    },
}, class ChatHub extends Hubs.Hub {
    // A new instance serves every call, so its handlers connect as it is made.
    _init(params) {
        super._init(params);
        this.connect('add', (hub, invocation, a, b) => {
            invocation.return_int(a + b);
            return true;
        });
        this.connect('send-message', (hub, invocation, user, message) => {
            hub.get_clients().all().send_values('ReceiveMessage', [stringValue(user), stringValue(message)]);
            invocation.return_void();
            return true;
        });
        this.connect('fail', (hub, invocation, message) => {
            invocation.return_error_literal(Hubs.hub_error_quark(), Hubs.HubError.FAILED, message);
            return true;
        });
    }

    vfunc_on_connected() {
        connected += 1;
        return true;
    }

    vfunc_on_disconnected(error) {
        if (error === null)
            disconnected += 1;
    }
});

const server = Hubs.Server.new();
server.map_hub('/chathub', ChatHub.$gtype, null);
server.listen_local(0);

const loop = new GLib.MainLoop(null, false);
let status = 1;
const timeout = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 20, () => {
    printerr('timed out');
    loop.quit();
    return GLib.SOURCE_REMOVE;
});

const client = Gio.Subprocess.new(
    ['node', `${GLib.path_get_dirname(System.programPath)}/client.cjs`, `http://127.0.0.1:${server.get_port()}`],
    Gio.SubprocessFlags.STDOUT_PIPE);
client.communicate_utf8_async(null, null, (process, result) => {
    const [, stdout] = process.communicate_utf8_finish(result);
    print(stdout.trim());
    // The server may see the client's close a moment after it exits.
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 200, () => {
        const ok = process.get_exit_status() === 0 && connected === 1 && disconnected === 1;
        if (!ok)
            printerr(`client status ${process.get_exit_status()}, connected ${connected}, disconnected ${disconnected}`);
        status = ok ? 0 : 1;
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
});

loop.run();
GLib.source_remove(timeout);
System.exit(status);
