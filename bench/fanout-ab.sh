#!/usr/bin/env bash
# A/B fan-out: compares builds (or settings) of the server under the fan-out workload, alternating them run by run,
# each round on a fresh server, to tell a change in server CPU per delivered message or in latency from the noise.
#
#   bench/fanout-ab.sh OUT ROUNDS DIR_A DIR_B [DIR_C ...]
#
# DIR_x: a folder holding Tally.Server.dll (e.g. `dotnet publish src/Tally.Server -c Release -o /tmp/ab/A` at each
# commit). A file `ab.env` in the folder (KEY=VALUE lines) adds environment variables to that server only, so one build
# can be compared with itself under other settings (copy the folder, add the file). Builds are named A, B, C… in the
# order given. The instrument is fanout.sh's: the server pinned to one core, the load generator and its Node watchers
# to the other (bench/lib.sh), each server warmed up at the measured load before it is measured. Each round runs every
# build in turn: warm-up (ten 5 s runs of (a), not recorded; see AB_WARMUP_RUNS), then (a) 1,000 WebSocket watchers ×
# 1,000 votes/s for 8 s after 2 s, and (b) 1,000 watchers × 1 vote/s for 6 s after 1 s. The load generator's JSON of
# each run is kept in OUT (a-ROUND-NAME.json, b-ROUND-NAME.json) with the server's log, and the server's user and
# system CPU ticks over each (a) run in OUT/cpu-split.txt. Set LOADGEN to a built Tally.LoadGen.dll (default: bench/Tally.LoadGen's Release
# build, built if missing). AB_WARMUP_RUNS=N sets the warm-up runs (default 10: Tally's JIT settles after 30-40 s of
# load on one core, results/jit-warmup-2026-12-02.md; until then it was 2; 0 measures servers that have just started). Takes the benchmark lock. Summarize with:
#   dotnet bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll report-fanout --dir OUT   (every run), or
#   python3 bench/fanout-ab-summary.py OUT                                                    (medians and spread per build)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ $# -ge 4 ] || { echo "usage: $0 OUT ROUNDS DIR_A DIR_B [DIR_C ...]" >&2; exit 2; }
out=$1 rounds=$2; shift 2
dirs=("$@")
mkdir -p "$out"
quiet_wait=20
warmup_runs=${AB_WARMUP_RUNS:-10}
admin_key="ab-$RANDOM$RANDOM"
ab_loadgen
ensure_node_watchers
stop_tally_on_exit
ulimit -n 65536 2>/dev/null || true
for dir in "${dirs[@]}"; do [ -f "$dir/Tally.Server.dll" ] || { echo "$dir has no Tally.Server.dll" >&2; exit 2; }; done
for r in $(seq "$rounds"); do
  for i in "${!dirs[@]}"; do
    name=$(printf "\\x$(printf %x $((65 + i)))")
    dir=${dirs[$i]}
    settings=()
    [ ! -f "$dir/ab.env" ] || mapfile -t settings < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$dir/ab.env")
    data=$(mktemp -d -t tally-ab-data.XXXXXX)
    port=$(free_port)
    url="http://127.0.0.1:$port"
    (cd "$dir" && exec env TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" "${settings[@]}" taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$url") >"$out/tally-$r-$name.log" 2>&1 &
    pid=$!
    wait_ready "$pid" "$url" Tally "$out/tally-$r-$name.log"
    log "round $r $name ($dir${settings[*]:+; ${settings[*]}}): $warmup_runs warm-up runs"
    for _ in $(seq "$warmup_runs"); do
      $loadgen fanout --url "$url" --admin-key "$admin_key" --transport ws --client node --watchers 1000 --rate 1000 --senders 16 \
        --duration 5 --warmup 1 >>"$out/prime-$r-$name.log" 2>&1
    done
    wait_quiet
    log "round $r $name: 1,000 watchers × 1,000 votes/s"
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    $loadgen fanout --url "$url" --admin-key "$admin_key" --server-pid "$pid" --transport ws --client node --json "$out/a-$r-$name.json" \
      --watchers 1000 --rate 1000 --senders 16 --duration 8 --warmup 2 >"$out/a-$r-$name.log" 2>&1 || log "run failed: exit $?"
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    echo "$r $name user $((u1 - u0)) sys $((s1 - s0))" >>"$out/cpu-split.txt"
    wait_quiet
    log "round $r $name: 1,000 watchers × 1 vote/s"
    $loadgen fanout --url "$url" --admin-key "$admin_key" --server-pid "$pid" --transport ws --client node --json "$out/b-$r-$name.json" \
      --watchers 1000 --rate 1 --senders 1 --duration 6 --warmup 1 >"$out/b-$r-$name.log" 2>&1 || log "run failed: exit $?"
    stop_server "$pid" Tally
    pid=""
    rm -rf "$data"
    data=""
  done
done
