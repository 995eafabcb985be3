#!/usr/bin/env python3
# summarize.py --markdown LATEST.jsonl: that table in Markdown, for bench/README.md.
# summarize.py RUNS.jsonl LATEST.jsonl: the median of each row over its runs,
# one JSON object a line into LATEST.jsonl, a table on standard output and,
# last, "echo ratio R" (hubs-glib's echo rate over ASP.NET Core's, at the
# largest echo row both servers ran).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import statistics
import sys

def label(r):
    # groups/10: groups of 10; echo over sse or longPolling: echo (sse)
    s = r["scenario"]
    if r.get("group_size"):
        s += "/%d" % r["group_size"]
    if r.get("transport", "websockets") != "websockets":
        s += " (%s)" % r["transport"]
    if r.get("topology"):
        s += " [%s]" % r["topology"]
    return s


if len(sys.argv) == 3 and sys.argv[1] == "--markdown":
    rows = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    rate = {(r["scenario"], r["connections"], r["server"], r.get("protocol", "json"), r.get("group_size", 0),
             r.get("transport", "websockets"), r.get("topology", "")): r.get("msgs_per_s")
            for r in rows}

    def ms(v):
        return "" if v is None else (">1000" if v >= 999.99 else "%.2f" % v)

    print("| protocol | scenario | server | conns | msgs/s | ratio | p50 ms | p99 ms | max ms | server CPU s | CPU µs/msg "
          "| RSS KiB mid → end | KiB/conn | kernel slab MiB | errors (setup) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        a = rate.get((r["scenario"], r["connections"], "aspnetcore", r.get("protocol", "json"), r.get("group_size", 0),
                      r.get("transport", "websockets"), r.get("topology", "")))
        ratio = "**%.2f**" % (r["msgs_per_s"] / a) if r["server"] == "hubs" and a else ""
        dur = 1.0 if r.get("quick") else 15.0
        scenario = label(r)
        n = r.get("msgs_per_s", 0) * r.get("elapsed_s", dur)
        cpu_us = "%.1f" % (r["server_cpu_s"] * 1e6 / n) if n and r["scenario"] != "idle" else ""
        server = r["server"] if r["scenario"] != "raw" else "raw-ws-echo, %s in flight" % r.get("window")
        rss = ("%d → %d" % (r["rss_mid_kib"], r.get("rss_kib", -1)) if "rss_mid_kib" in r
               else "%d (end)" % r.get("rss_kib", -1))
        print("| %s | %s | %s | %d | %.0f | %s | %s | %s | %s | %.2f | %s | %s | %s | %.1f | %s (%s) |" % (
            r.get("protocol", "json"), scenario, server, r["connections"], r.get("msgs_per_s", 0), ratio,
            ms(r.get("p50_ms")), ms(r.get("p99_ms")), ms(r.get("max_ms")), r.get("server_cpu_s", 0), cpu_us,
            rss,
            r.get("rss_kib_per_conn", "") if r["scenario"] == "idle" else "",
            r.get("slab_kib_delta", 0) / 1024, r.get("errors", ""),
            "%s%s" % (r.get("setup_errors", 0), ", %d lost" % r["lost"] if r.get("lost") else "")))
    sys.exit(0)

FIELDS = ["msgs_per_s", "p50_ms", "p99_ms", "max_ms", "server_cpu_s", "loadgen_cpu_s",
          "rss_kib", "rss_base_kib", "rss_mid_kib", "rss_peak_kib", "rss_kib_per_conn",
          "pss_kib", "slab_kib_delta", "errors", "setup_errors", "ready", "groups_at_start",
          "disconnects", "cpu_us_per_disconnect", "lost"]

runs = []
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if line:
            runs.append(json.loads(line))

groups = {}
failed = {}
for r in runs:
    # a server that never took a connection (it did not start, or its port
    # was taken): no measurement; counted apart, out of the medians
    key = (r.get("scenario"), r.get("server"), r.get("connections"), r.get("window", 0),
           r.get("protocol", "json"), r.get("group_size", 0), r.get("transport", "websockets"),
           r.get("topology", ""))
    if r.get("ready") == 0 and r.get("scenario") != "raw":
        failed[key] = failed.get(key, 0) + 1
        continue
    groups.setdefault(key, []).append(r)

rows = []
for key, rs in groups.items():
    scenario, server, connections, window, protocol, group_size, transport, topology = key
    out = {"scenario": scenario, "server": server, "protocol": protocol, "transport": transport,
           "connections": connections, "runs": len(rs)}
    if topology:
        out["topology"] = topology
    if scenario == "raw":
        out["window"] = window
    if group_size:
        out["group_size"] = group_size
    for f in FIELDS:
        vals = [r[f] for r in rs if isinstance(r.get(f), (int, float))]
        if not vals:
            continue
        if f in ("errors", "setup_errors"):
            out[f] = max(vals) if min(vals) >= 0 else -1
        else:
            out[f] = round(statistics.median(vals), 3)
    errs = [r.get("first_error") for r in rs if r.get("first_error")]
    if errs:
        out["first_error"] = errs[0]
    if failed.get(key):
        out["failed_runs"] = failed[key]
    out["commit"] = rs[0].get("commit")
    out["quick"] = rs[0].get("quick")
    out["elapsed_s"] = round(statistics.median([r.get("elapsed_s", 0) for r in rs]), 2)
    rows.append(out)

order = {"echo": 0, "broadcast": 1, "echoAll": 2, "idle": 3, "groups": 4, "groupsJoinLeave": 5,
         "groupsDisconnect": 6, "raw": 7, "sendToUser": 8}
transports = {"websockets": 0, "serverSentEvents": 1, "longPolling": 2}
rows.sort(key=lambda r: (r["protocol"] != "json", "topology" in r, order.get(r["scenario"], 9),
                         transports.get(r["transport"], 9), r["connections"], r.get("group_size", 0),
                         r.get("window", 0), r.get("topology", ""), r["server"]))

with open(sys.argv[2], "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")

rate = {(r["scenario"], r["connections"], r["server"], r["protocol"], r.get("group_size", 0), r["transport"],
         r.get("topology", "")): r.get("msgs_per_s") for r in rows}


def ratio(r):
    if r["server"] != "hubs":
        return ""
    a = rate.get((r["scenario"], r["connections"], "aspnetcore", r["protocol"], r.get("group_size", 0),
                  r["transport"], r.get("topology", "")))
    h = r.get("msgs_per_s")
    if not a or h is None:
        return ""
    return "%.2f" % (h / a)


def ms(v):
    # the load generator's histogram ends at 1 s: its top bucket reads 999.995
    if v is None:
        return ""
    return ">1000" if v >= 999.99 else "%.2f" % v


hdr = "%-5s %-22s %-10s %6s %11s %6s %8s %8s %8s %7s %9s %9s %6s %6s" % (
    "proto", "scenario", "server", "conns", "msgs/s", "ratio", "p50 ms", "p99 ms", "max ms",
    "cpu s", "rss KiB", "KiB/conn", "slabMB", "errors")
print(hdr)
print("-" * len(hdr))
for r in rows:
    server = r["server"] if r["scenario"] != "raw" else "raw w%s" % r.get("window")
    print("%-5s %-22s %-10s %6d %11.0f %6s %8s %8s %8.2f %7.2f %9s %9s %6s %6s" % (
        "json" if r["protocol"] == "json" else "mpack", label(r), server, r["connections"],
        r.get("msgs_per_s", 0), ratio(r), ms(r.get("p50_ms")), ms(r.get("p99_ms")), r.get("max_ms", 0), r.get("server_cpu_s", 0),
        r.get("rss_kib", ""), r.get("rss_kib_per_conn", ""),
        "%.1f" % (r["slab_kib_delta"] / 1024) if "slab_kib_delta" in r else "",
        r.get("errors", "")))

echo = sorted([r for r in rows if r["scenario"] == "echo" and r["server"] == "hubs" and r["transport"] == "websockets"
               and rate.get(("echo", r["connections"], "aspnetcore", r["protocol"], 0, "websockets", ""))],
              key=lambda r: (r["protocol"] == "json", r["connections"]))
if echo:
    r = echo[-1]
    print("echo ratio %.2f" % (r["msgs_per_s"] / rate[("echo", r["connections"], "aspnetcore", r["protocol"], 0,
                                                       "websockets", "")]))
else:
    print("echo ratio n/a")
