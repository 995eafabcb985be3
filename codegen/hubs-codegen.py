#!/usr/bin/env python3
# hubs-codegen: typed hub code from a hub description, like gdbus-codegen
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Reads an XML description of a hub (the methods clients call on it and the
# methods it calls on clients) and writes:
#   - a C header and source: one typed function per client method on a
#     HubsClientProxy, so that a misspelled client method or a wrong
#     argument type is a compile error; and the typed registration of the
#     server methods (a handler type per method, the signal declarations,
#     typed completion functions);
#   - a TypeScript declaration file typing @microsoft/signalr's
#     HubConnection for this hub.
#
# The description:
#
#   <hub name="Chat" c-prefix="chat">
#     <method name="SendMessage">
#       <arg name="user" type="s"/>
#       <arg name="message" type="s"/>
#     </method>
#     <method name="Add" returns="i">
#       <arg name="a" type="i"/> <arg name="b" type="i"/>
#     </method>
#     <client-method name="ReceiveMessage">
#       <arg name="user" type="s"/>
#       <arg name="message" type="s"/>
#     </client-method>
#   </hub>
#
# Types: b (boolean), i (32-bit integer), u, x (64-bit), t, d (double),
# s (string), as (array of strings), ay (bytes, base64 in JSON),
# datetime (GDateTime, ISO 8601 in JSON), v (any value, a GVariant), and any
# other GVariant type string such as ax or a{sv} (a GVariant of that type).

import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET

VERSION = "0.1.0"


class CodegenError(Exception):
    pass


class Type:
    """How one description type maps to C, to GType and to TypeScript."""

    def __init__(self, signature):
        self.signature = signature
        self.variant_type = None
        simple = {
            "b": ("gboolean", "G_TYPE_BOOLEAN", "boolean"),
            "i": ("gint", "G_TYPE_INT", "number"),
            "u": ("guint", "G_TYPE_UINT", "number"),
            "x": ("gint64", "G_TYPE_INT64", "number"),
            "t": ("guint64", "G_TYPE_UINT64", "number"),
            "d": ("double", "G_TYPE_DOUBLE", "number"),
            "s": ("const char *", "G_TYPE_STRING", "string | null"),
            "as": ("const char * const *", "G_TYPE_STRV", "string[] | null"),
            "ay": ("GBytes *", "G_TYPE_BYTES", "string | Uint8Array | null"),
            "datetime": ("GDateTime *", "G_TYPE_DATE_TIME", "string | Date | null"),
            "v": ("GVariant *", "G_TYPE_VARIANT", "any"),
        }
        if signature in simple:
            self.c_type, self.gtype, self.ts_type = simple[signature]
        elif is_variant_type(signature):
            self.c_type, self.gtype = "GVariant *", "G_TYPE_VARIANT"
            self.variant_type = signature
            self.ts_type = ts_for_variant(signature)
        else:
            raise CodegenError(f"unknown type ‘{signature}’")

    def value_setter(self, value_name, expr):
        setters = {
            "G_TYPE_BOOLEAN": "g_value_set_boolean",
            "G_TYPE_INT": "g_value_set_int",
            "G_TYPE_UINT": "g_value_set_uint",
            "G_TYPE_INT64": "g_value_set_int64",
            "G_TYPE_UINT64": "g_value_set_uint64",
            "G_TYPE_DOUBLE": "g_value_set_double",
            "G_TYPE_STRING": "g_value_set_string",
            "G_TYPE_STRV": "g_value_set_boxed",
            "G_TYPE_BYTES": "g_value_set_boxed",
            "G_TYPE_DATE_TIME": "g_value_set_boxed",
            "G_TYPE_VARIANT": "g_value_set_variant",
        }
        return f"{setters[self.gtype]} (&{value_name}, {expr});"


def is_variant_type(signature):
    """A definite GVariant type string, checked the way GLib would."""
    def parse(pos):
        if pos >= len(signature):
            return -1
        c = signature[pos]
        if c in "bynqiuxthdsogv":
            return pos + 1
        if c in "am":
            return parse(pos + 1)
        if c == "(":
            pos += 1
            while pos < len(signature) and signature[pos] != ")":
                pos = parse(pos)
                if pos < 0:
                    return -1
            return pos + 1 if pos < len(signature) else -1
        if c == "{":
            key = parse(pos + 1)
            if key < 0 or signature[pos + 1] not in "bynqiuxthdsog":
                return -1
            value = parse(key)
            if value < 0 or value >= len(signature) or signature[value] != "}":
                return -1
            return value + 1
        return -1
    return parse(0) == len(signature)


def ts_for_variant(signature):
    if signature in ("b",):
        return "boolean"
    if signature in ("y", "n", "q", "i", "u", "x", "t", "h", "d"):
        return "number"
    if signature in ("s", "o", "g"):
        return "string"
    if signature.startswith("a{s"):
        return f"Record<string, {ts_for_variant(signature[3:-1])}>"
    if signature == "ay":
        return "string"
    if signature.startswith("a"):
        inner = ts_for_variant(signature[1:])
        return f"({inner})[]"
    if signature.startswith("m"):
        return f"{ts_for_variant(signature[1:])} | null"
    return "any"


class Arg:
    def __init__(self, element, where):
        self.name = element.get("name")
        if not self.name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise CodegenError(f"{where}: an <arg> needs a name that is a C identifier")
        self.type = Type(element.get("type", ""))


class Method:
    def __init__(self, element, kind):
        self.wire_name = element.get("name")
        if not self.wire_name:
            raise CodegenError(f"a <{kind}> needs a name")
        self.c_name = element.get("c-name") or snake_case(self.wire_name)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.c_name):
            raise CodegenError(f"{self.wire_name}: c-name ‘{self.c_name}’ is not a C identifier")
        self.args = [Arg(a, self.wire_name) for a in element.findall("arg")]
        returns = element.get("returns")
        self.returns = Type(returns) if returns else None
        names = [a.name for a in self.args]
        if len(names) != len(set(names)):
            raise CodegenError(f"{self.wire_name}: two arguments have the same name")


class Hub:
    def __init__(self, root):
        if root.tag != "hub":
            raise CodegenError("the root element must be <hub>")
        self.name = root.get("name")
        if not self.name or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", self.name):
            raise CodegenError("<hub> needs a name in CamelCase, such as Chat")
        self.prefix = root.get("c-prefix") or snake_case(self.name)
        self.methods = [Method(m, "method") for m in root.findall("method")]
        self.client_methods = [Method(m, "client-method") for m in root.findall("client-method")]
        for group, what in ((self.methods, "method"), (self.client_methods, "client-method")):
            keys = [m.wire_name.lower() for m in group]
            if len(keys) != len(set(keys)):
                raise CodegenError(f"two <{what}>s have the same name (names ignore case on the wire)")
        for m in self.client_methods:
            if m.returns is not None:
                raise CodegenError(f"client method {m.wire_name}: client results are not generated yet")


def snake_case(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()


def camel_case(name):
    return name[:1].lower() + name[1:]


HEADER_TEMPLATE = """/* {basename}.h: generated by hubs-codegen {version} from {source}; do not edit */

#pragma once

#include <hubs-glib/hubs.h>

G_BEGIN_DECLS
"""


def c_params(args):
    return "".join(f",\n    {a.type.c_type}{'' if a.type.c_type.endswith('*') else ' '}{a.name}" for a in args)


def write_c(hub, source, header_path, body_path):
    p = hub.prefix
    basename = os.path.splitext(os.path.basename(header_path))[0]
    h = [HEADER_TEMPLATE.format(basename=basename, version=VERSION, source=os.path.basename(source))]
    c = [f"/* {basename}.c: generated by hubs-codegen {VERSION} from {os.path.basename(source)}; do not edit */\n",
         f'#include "{os.path.basename(header_path)}"\n\n#include <string.h>\n']

    # Client methods: typed sends.
    for m in hub.client_methods:
        fn = f"{p}_client_call_{m.c_name}"
        h.append(f"/* Calls {m.wire_name} on every client of @proxy, without waiting. */\n"
                 f"void {fn} (HubsClientProxy *proxy{c_params(m.args)});\n")
        h.append(f"void {fn}_async (HubsClientProxy *proxy{c_params(m.args)},\n"
                 f"    GCancellable *cancellable,\n    GAsyncReadyCallback callback,\n    gpointer user_data);\n")
        h.append(f"gboolean {fn}_finish (HubsClientProxy *proxy,\n    GAsyncResult *result,\n    GError **error);\n")
        fill = []
        for i, a in enumerate(m.args):
            fill.append(f"  g_value_init (&args[{i}], {a.type.gtype});\n  {a.type.value_setter(f'args[{i}]', a.name)}\n")
        n = len(m.args)
        decl = f"  GValue args[{max(n, 1)}];\n\n  memset (args, 0, sizeof args);\n"
        unset = f"  for (guint i = 0; i < {n}; i++)\n    g_value_unset (&args[i]);\n" if n else ""
        c.append(f"void\n{fn} (HubsClientProxy *proxy{c_params(m.args)})\n{{\n{decl}\n"
                 f"  g_return_if_fail (HUBS_IS_CLIENT_PROXY (proxy));\n\n{''.join(fill)}"
                 f"  hubs_client_proxy_send_values (proxy, \"{m.wire_name}\", {n}, args);\n{unset}}}\n")
        c.append(f"void\n{fn}_async (HubsClientProxy *proxy{c_params(m.args)},\n    GCancellable *cancellable,\n"
                 f"    GAsyncReadyCallback callback,\n    gpointer user_data)\n{{\n{decl}\n"
                 f"  g_return_if_fail (HUBS_IS_CLIENT_PROXY (proxy));\n\n{''.join(fill)}"
                 f"  hubs_client_proxy_send_async (proxy, \"{m.wire_name}\", {n}, args, cancellable, callback, user_data);\n"
                 f"{unset}}}\n")
        c.append(f"gboolean\n{fn}_finish (HubsClientProxy *proxy,\n    GAsyncResult *result,\n    GError **error)\n{{\n"
                 f"  return hubs_client_proxy_send_finish (proxy, result, error);\n}}\n")

    # Server methods: handler types, registration, typed completions.
    for m in hub.methods:
        cb = f"{snake_to_camel(p)}Hub{snake_to_camel(m.c_name)}Func"
        h.append(f"/* The handler of {m.wire_name}: complete @invocation with {p}_hub_complete_{m.c_name}()\n"
                 f" * or hubs_invocation_return_error(), now or later. */\n"
                 f"typedef gboolean (*{cb}) (HubsHub *hub,\n    HubsInvocation *invocation{c_params(m.args)});\n")
    h.append(f"typedef struct\n{{\n" +
             "".join(f"  {snake_to_camel(p)}Hub{snake_to_camel(m.c_name)}Func {m.c_name};\n" for m in hub.methods) +
             ("  gpointer unused;\n" if not hub.methods else "") +
             f"}} {snake_to_camel(p)}HubMethods;\n")
    h.append(f"/* Declares every method of the {hub.name} hub on @klass, each handled by\n"
             f" * the matching function of @methods (NULL: connect handlers later). */\n"
             f"void {p}_hub_add_methods (HubsHubClass *klass,\n    const {snake_to_camel(p)}HubMethods *methods);\n")
    body = [f"void\n{p}_hub_add_methods (HubsHubClass *klass,\n    const {snake_to_camel(p)}HubMethods *methods)\n{{\n"
            f"  g_return_if_fail (HUBS_IS_HUB_CLASS (klass));\n  g_return_if_fail (methods != NULL);\n\n"]
    for m in hub.methods:
        types = "".join(f", {a.type.gtype}" for a in m.args)
        ret = m.returns.gtype if m.returns else "G_TYPE_NONE"
        signal_name = m.c_name.replace("_", "-")
        body.append(f"  hubs_hub_class_add_method (klass, \"{signal_name}\", G_CALLBACK (methods->{m.c_name}),\n"
                    f"                             {ret}, {len(m.args)}{types});\n"
                    f"  hubs_hub_class_set_method_name (klass, \"{signal_name}\", \"{m.wire_name}\");\n")
        for i, a in enumerate(m.args):
            if a.type.variant_type:
                body.append(f"  hubs_hub_class_set_parameter_variant_type (klass, \"{signal_name}\", {i},\n"
                            f"                                             G_VARIANT_TYPE (\"{a.type.variant_type}\"));\n")
    body.append("}\n")
    c.append("".join(body))
    for m in hub.methods:
        fn = f"{p}_hub_complete_{m.c_name}"
        if m.returns is None:
            h.append(f"void {fn} (HubsInvocation *invocation);\n")
            c.append(f"void\n{fn} (HubsInvocation *invocation)\n{{\n  hubs_invocation_return_void (invocation);\n}}\n")
        else:
            t = m.returns
            h.append(f"void {fn} (HubsInvocation *invocation,\n    {t.c_type}{'' if t.c_type.endswith('*') else ' '}result);\n")
            c.append(f"void\n{fn} (HubsInvocation *invocation,\n    {t.c_type}{'' if t.c_type.endswith('*') else ' '}result)\n{{\n"
                     f"  g_auto(GValue) value = G_VALUE_INIT;\n\n  g_value_init (&value, {t.gtype});\n"
                     f"  {t.value_setter('value', 'result')}\n  hubs_invocation_return_value (invocation, &value);\n}}\n")
    h.append("G_END_DECLS\n")

    with open(header_path, "w", encoding="utf-8") as f:
        f.write("\n".join(h))
    with open(body_path, "w", encoding="utf-8") as f:
        f.write("\n".join(c))


def snake_to_camel(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def ts_params(args):
    return ", ".join(f"{a.name}: {a.type.ts_type}" for a in args)


def write_ts(hub, source, path):
    n = hub.name
    out = [f"// {os.path.basename(path)}: generated by hubs-codegen {VERSION} from {os.path.basename(source)}; do not edit",
           'import type { HubConnection } from "@microsoft/signalr";', "",
           f"// Use: const connection = builder.build() as unknown as {hub.name}HubConnection;", ""]
    out.append(f"/** The methods clients call on the {n} hub. */")
    out.append(f"export interface {n}HubServer {{")
    for m in hub.methods:
        ret = m.returns.ts_type if m.returns else "void"
        out.append(f"  {camel_case(m.wire_name)}({ts_params(m.args)}): Promise<{ret}>;")
    out.append("}")
    out.append("")
    out.append(f"/** The methods the {n} hub calls on clients. */")
    out.append(f"export interface {n}HubClient {{")
    for m in hub.client_methods:
        out.append(f"  {camel_case(m.wire_name)}({ts_params(m.args)}): void;")
    out.append("}")
    out.append("")
    out.append(f"/** A HubConnection to the {n} hub: only its methods and callbacks type-check. */")
    out.append(f'export interface {n}HubConnection extends Omit<HubConnection, "invoke" | "send" | "on" | "off" | "stream"> {{')
    for m in hub.methods:
        ret = m.returns.ts_type if m.returns else "void"
        params = ts_params(m.args)
        sep = ", " if params else ""
        out.append(f'  invoke(methodName: "{m.wire_name}"{sep}{params}): Promise<{ret}>;')
        out.append(f'  send(methodName: "{m.wire_name}"{sep}{params}): Promise<void>;')
    for m in hub.client_methods:
        out.append(f'  on(methodName: "{m.wire_name}", newMethod: ({ts_params(m.args)}) => void): void;')
        out.append(f'  off(methodName: "{m.wire_name}", method?: ({ts_params(m.args)}) => void): void;')
    if not hub.methods:
        out.append("  invoke(methodName: never): never;")
    out.append("}")

    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main(argv):
    parser = argparse.ArgumentParser(prog="hubs-codegen",
                                     description="Typed C and TypeScript code for a hubs-glib hub")
    parser.add_argument("description", help="the hub's XML description")
    parser.add_argument("--output-directory", default=".", help="where to write the files")
    parser.add_argument("--c-basename", help="write BASENAME.h and BASENAME.c")
    parser.add_argument("--header", help="write the C header to this path")
    parser.add_argument("--body", help="write the C source to this path")
    parser.add_argument("--typescript", help="write the TypeScript declarations to this path")
    parser.add_argument("--version", action="version", version=f"hubs-codegen {VERSION}")
    args = parser.parse_args(argv)

    try:
        hub = Hub(ET.parse(args.description).getroot())
    except (ET.ParseError, OSError) as error:
        print(f"hubs-codegen: {args.description}: {error}", file=sys.stderr)
        return 1
    except CodegenError as error:
        print(f"hubs-codegen: {args.description}: {error}", file=sys.stderr)
        return 1

    header, body = args.header, args.body
    if args.c_basename:
        header = header or os.path.join(args.output_directory, args.c_basename + ".h")
        body = body or os.path.join(args.output_directory, args.c_basename + ".c")
    if bool(header) != bool(body):
        print("hubs-codegen: --header and --body go together", file=sys.stderr)
        return 1
    if not header and not args.typescript:
        print("hubs-codegen: nothing to write: give --c-basename, --header/--body or --typescript", file=sys.stderr)
        return 1
    if header:
        write_c(hub, args.description, header, body)
    if args.typescript:
        write_ts(hub, args.description, args.typescript)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
