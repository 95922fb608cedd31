#!/usr/bin/env bash
# Warm-up curve: how fast a server that has just started serves single durable votes, window after window, until its
# JIT has settled — to choose the runtime's code-generation settings (tiered PGO, ReadyToRun, tiering delays) for a
# server that has just started as much as for one that has run for a day.
#
#   bench/warm-curve.sh OUT ROUNDS WINDOWS DIR_A DIR_B [DIR_C ...]
#
# DIR_x: a folder holding Tally.Server.dll (`dotnet build`/`dotnet publish` output); a file `ab.env` in it (KEY=VALUE
# lines) adds environment variables to that server only, as in bench/fanout-ab.sh. Builds are named by their folder.
# Each round starts every build in turn on a fresh data folder, pinned to its core (bench/lib.sh), waits for /readyz,
# and runs WINDOWS back-to-back 10 s windows of `Tally.LoadGen ingest-single` (64 loops of single HTTP votes, each
# vote counted by the server afterwards) with the load generator on the other core; no warm-up before the first window,
# the start is what is measured. The JSON of each window is kept in OUT (ROUND-NAME-WINDOW.json). Prints, and writes to
# OUT/curve.md, the median over rounds of votes/s and server CPU µs/vote per window and build. Takes the benchmark lock.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ $# -ge 4 ] || { echo "usage: $0 OUT ROUNDS WINDOWS DIR_A DIR_B [DIR_C ...]" >&2; exit 2; }
out=$1 rounds=$2 windows=$3; shift 3
dirs=("$@")
mkdir -p "$out"
quiet_wait=20
admin_key="warm-$RANDOM$RANDOM"
ab_loadgen
stop_tally_on_exit
for dir in "${dirs[@]}"; do [ -f "$dir/Tally.Server.dll" ] || { echo "$dir has no Tally.Server.dll" >&2; exit 2; }; done
for r in $(seq "$rounds"); do
  for dir in "${dirs[@]}"; do
    name=$(basename "$dir")
    settings=()
    [ ! -f "$dir/ab.env" ] || mapfile -t settings < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$dir/ab.env")
    wait_quiet
    data=$(mktemp -d -t tally-warm-data.XXXXXX)
    port=$(free_port)
    url="http://127.0.0.1:$port"
    (cd "$dir" && exec env TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 "${settings[@]}" \
      taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$url") >"$out/tally-$r-$name.log" 2>&1 &
    pid=$!
    wait_ready "$pid" "$url" Tally "$out/tally-$r-$name.log"
    log "round $r $name (${settings[*]:-no settings}): $windows windows of 10 s"
    for w in $(seq "$windows"); do
      $loadgen ingest-single --url "$url" --target tally --admin-key "$admin_key" --server-pid "$pid" --concurrency 64 \
        --duration 10 --warmup 0 --json "$out/$r-$name-$w.json" >>"$out/runs.log" 2>&1 || log "window $w failed: exit $?"
    done
    stop_server "$pid" Tally
    pid=""
    rm -rf "$data"
    data=""
  done
done
python3 - "$out" "$windows" "${dirs[@]}" <<'EOF' | tee "$out/curve.md"
import json, os, statistics, sys
out, windows, dirs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
names = [os.path.basename(d.rstrip("/")) for d in dirs]
def cells(name, w):
    runs = []
    for f in sorted(os.listdir(out)):
        if f.endswith(f"-{name}-{w}.json"):
            j = json.load(open(os.path.join(out, f)))
            if j.get("verified"):
                runs.append(j)
    if not runs:
        return "—", "—"
    rate = statistics.median(j["votesPerSecond"] for j in runs)
    cpu = statistics.median(1e6 * j["serverCpuSeconds"] / (j["votesPerSecond"] * j["durationSeconds"]) for j in runs)
    return f"{rate:,.0f}", f"{cpu:.1f}"
print("| window (10 s each, from start) | " + " | ".join(f"{n} votes/s | {n} µs/vote" for n in names) + " |")
print("|---:|" + "---:|---:|" * len(names))
for w in range(1, windows + 1):
    row = []
    for n in names:
        row.extend(cells(n, w))
    print(f"| {w} | " + " | ".join(row) + " |")
EOF
