#!/usr/bin/env python3
"""Medians and spread (min-max) per build of a bench/fanout-ab.sh folder: server CPU µs per delivered message
(the server's CPU in the measured window over the messages every watcher received in it), latency p50/p99, the
last watcher's p50, and the CPU other processes took in the window (noise)."""
import glob, json, os, statistics, sys

folder = sys.argv[1]
for kind, title in (("a", "(a) 1,000 watchers x 1,000 votes/s"), ("b", "(b) 1,000 watchers x 1 vote/s")):
    runs = {}
    print(title)
    for path in sorted(glob.glob(f"{folder}/{kind}-*.json")):
        j = json.load(open(path))
        name = os.path.basename(path)[:-5]
        messages = j["messagesPerSecond"] * j["durationSeconds"]
        row = dict(us=1e6 * j["serverCpuSeconds"] / messages, p50=j["p50Ms"], p90=j["p90Ms"], p99=j["p99Ms"], last=j["lastWatcherP50Ms"],
                   gen=j["loadGenCpuSeconds"], other=j["otherCpuSeconds"], ok=j["verified"])
        runs.setdefault(name.split("-")[-1], []).append(row)
        print(f"  {name:8} {row['us']:6.2f} µs/msg  p50 {row['p50']:6.2f}  p90 {row['p90']:6.2f}  p99 {row['p99']:6.2f}"
              f"  last p50 {row['last']:5.1f}  load-gen CPU-s {row['gen']:5.2f}  other CPU-s {row['other']:5.2f}  verified {row['ok']}")
    for build, rows in sorted(runs.items()):
        def cell(key):
            values = [r[key] for r in rows]
            return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"
        print(f"  {build} (n={len(rows)}): µs/msg {cell('us')}  p50 {cell('p50')}  p90 {cell('p90')}  p99 {cell('p99')}  last {cell('last')}"
              f"  load-gen {cell('gen')}  other {cell('other')}")
split = f"{folder}/cpu-split.txt"
if os.path.exists(split):
    print("server user/system CPU ticks over each (a) run:")
    print(open(split).read().rstrip())
