#!/usr/bin/env bash
# The leading edge against the bare Kestrel ceiling: 1,000 WebSocket watchers of one poll × 1 vote/s, Tally and
# bench/baselines/KestrelCeiling alternating, 3 rounds of 10 s each (~3 min). The ceiling broadcasts on a fixed
# 50 ms tick (no leading edge) and acknowledges a vote without making it durable, so what it shows is the spread
# of one fan-out on this machine: first watcher → last watcher, the part no server can skip when the server and
# the load generator share the 2 cores. Tally's figures add the durable ack (SQLite, fsync) before the fan-out.
# Prints a markdown table and saves it as bench/results/quiet-vs-ceiling-<date>.md (raw JSON under bench/results/raw/).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
quiet_wait=30 rounds=${ROUNDS:-3}
raw="bench/results/raw/quiet-vs-ceiling-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$raw"
admin_key="bench-$RANDOM$RANDOM"
loadgen="dotnet bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll"
declare -A pid url
data=$(mktemp -d -t tally-quiet-data.XXXXXX)
cleanup() {
  for server in "${!pid[@]}"; do stop_server "${pid[$server]}" "$server"; done
  rm -rf "$data"
}
trap cleanup EXIT
trap "exit 130" INT TERM

log "building Release (Tally, the ceiling, the load generator)"
dotnet build bench/Bench.slnx -c Release -nologo -clp:ErrorsOnly -v:q >&2

start() { # server: on a free 127.0.0.1 port, from its output folder
  local server=$1 port; port=$(free_port); url[$server]="http://127.0.0.1:$port"
  case $server in
    tally) (cd src/Tally.Server/bin/Release/net10.0 && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 \
      exec dotnet Tally.Server.dll --urls "${url[$server]}") >"$raw/$server.log" 2>&1 & ;;
    ceiling) (cd bench/baselines/KestrelCeiling/bin/Release/net10.0 && exec dotnet KestrelCeiling.dll --urls "${url[$server]}") >"$raw/$server.log" 2>&1 & ;;
  esac
  pid[$server]=$!
  wait_ready "${pid[$server]}" "${url[$server]}" "$server" "$raw/$server.log"
}

start tally; start ceiling
for server in tally ceiling; do # JIT and pools, not recorded
  $loadgen fanout --url "${url[$server]}" --target $server --admin-key "$admin_key" --watchers 100 --rate 200 --duration 0.5 --warmup 0.5 --transport ws >>"$raw/prime.log" 2>&1 || log "priming $server failed"
done
for round in $(seq 1 "$rounds"); do
  for server in tally ceiling; do
    wait_quiet
    log "round $round: $server"
    $loadgen fanout --url "${url[$server]}" --target $server --admin-key "$admin_key" --server-pid "${pid[$server]}" \
      --json "$raw/$server-$round.json" --transport ws --watchers 1000 --rate 1 --duration 10 --warmup 1 >>"$raw/runs.log" 2>&1 \
      || log "round $round: $server exited $? (see $raw/runs.log)"
  done
done

out="bench/results/quiet-vs-ceiling-$(date -u +%F).md"
python3 - "$raw" "$rounds" >"$out" <<'PY'
import json, statistics, sys
raw, rounds = sys.argv[1], int(sys.argv[2])
fields = [("ackP50Ms", "ack p50"), ("firstWatcherP50Ms", "first watcher p50"), ("p50Ms", "p50"), ("lastWatcherP50Ms", "last watcher p50"), ("p99Ms", "p99")]
print("# 1,000 WebSocket watchers × 1 vote/s: Tally and the bare Kestrel ceiling\n")
print(f"`bench/quiet-vs-ceiling.sh`, {rounds} rounds of 10 s each, alternating; medians (ms), range in brackets.\n")
print("| server | " + " | ".join(label for _, label in fields) + " | spread (last − first) |")
print("|---|" + "---:|" * (len(fields) + 1))
for server in ("tally", "ceiling"):
    runs = []
    for r in range(1, rounds + 1):
        try:
            runs.append(json.load(open(f"{raw}/{server}-{r}.json")))
        except (OSError, ValueError):
            pass
    if not runs:
        print(f"| {server} | " + " | ".join("—" for _ in fields) + " | — |"); continue
    cells = []
    for key, _ in fields:
        values = [run[key] for run in runs]
        cells.append(f"{statistics.median(values):.1f} [{min(values):.1f}–{max(values):.1f}]")
    spread = statistics.median(run["lastWatcherP50Ms"] - run["firstWatcherP50Ms"] for run in runs)
    print(f"| {server} | " + " | ".join(cells) + f" | {spread:.1f} |")
print("\nThe ceiling sends on a fixed 50 ms tick and its ack is not durable: read its first-to-last spread, not its p50.")
PY
cat "$out"
