#!/usr/bin/env bash
# Ingest benchmark: Tally against the ceiling (Kestrel + JSON doing nothing else), then Tally's batch
# endpoint. Builds Release, starts both servers on free 127.0.0.1 ports (Tally on a fresh data folder),
# runs ceiling, Tally, ceiling, Tally, ... and prints a markdown table of medians, also saved as
# bench/results/ingest-<date>.md (raw run JSON and server logs under bench/results/raw/, not committed).
#
#   bench/ingest.sh            # full: 3 rounds of each, 10 s measured after 2 s warm-up (~3 min)
#   bench/ingest.sh --quick    # 3 rounds of each, 3 s after 1 s warm-up (~1.5 min)
#
# Options: --rounds N, --duration S, --warmup S, --concurrency C (single votes), --batch-concurrency C,
# --quiet-wait S (how long to wait before each run for other processes to go quiet; default 120).
# The servers run on core 1 and the load generator on core 0 (bench/lib.sh); each run reports both CPUs and the CPU
# other processes took, and waits first, bounded, for the machine to be quiet.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rounds=3 duration=10 warmup=2 concurrency=64 batch_concurrency=4 quick=0 quiet_wait=120
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 duration=3 warmup=1; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --batch-concurrency) batch_concurrency=$2; shift 2 ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="bench/results/raw/$stamp"
mkdir -p "$raw"
data=$(mktemp -d -t tally-bench-data.XXXXXX)
admin_key="bench-$RANDOM$RANDOM"
ceiling_pid="" tally_pid=""

cleanup() {
  stop_server "$ceiling_pid" ceiling
  stop_server "$tally_pid" Tally
  rm -rf "$data"
}
trap cleanup EXIT


log "building Release (server, ceiling, load generator)"
for project in src/Tally.Server bench/baselines/KestrelCeiling bench/Tally.LoadGen; do
  dotnet build "$project" -c Release -nologo -clp:ErrorsOnly -v:q >&2
done
server_dir=src/Tally.Server/bin/Release/net10.0
ceiling_dir=bench/baselines/KestrelCeiling/bin/Release/net10.0
loadgen="on_loadgen_core dotnet bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll"

# Each server runs from its output folder, as a deployment does, so its appsettings.json (request logging
# at Warning) is read: the content root is the working directory.
ceiling_port=$(free_port)
tally_port=$(free_port)
[ "$ceiling_port" != "$tally_port" ] || tally_port=$(free_port)
ceiling_url="http://127.0.0.1:$ceiling_port"
tally_url="http://127.0.0.1:$tally_port"
(cd "$ceiling_dir" && exec taskset -c "$bench_server_core" dotnet KestrelCeiling.dll --urls "$ceiling_url") >"$raw/ceiling.log" 2>&1 &
ceiling_pid=$!
(cd "$server_dir" && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 exec taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$tally_url") >"$raw/tally.log" 2>&1 &
tally_pid=$!
wait_ready "$ceiling_pid" "$ceiling_url" ceiling "$raw/ceiling.log"
wait_ready "$tally_pid" "$tally_url" tally "$raw/tally.log"
log "ceiling pid $ceiling_pid on $ceiling_url; Tally pid $tally_pid on $tally_url, data in $data"

# Prime both servers (JIT, connection pools) with short unrecorded runs, so round 1 is not a cold start.
# On one core a server's JIT needs tens of seconds of load before the vote path runs tier-1 code: prime each at the
# measured load for 15 s (and Tally's batch path for 5 s), unrecorded.
log "priming both servers (not recorded)"
$loadgen ingest-single --url "$ceiling_url" --target ceiling --concurrency "$concurrency" --duration 14 --warmup 1 >"$raw/prime.log" 2>&1
$loadgen ingest-single --url "$tally_url" --target tally --admin-key "$admin_key" --concurrency "$concurrency" --duration 14 --warmup 1 >>"$raw/prime.log" 2>&1
$loadgen ingest-batch --url "$tally_url" --target tally --admin-key "$admin_key" --duration 4 --warmup 1 >>"$raw/prime.log" 2>&1

failed=0
n=0
run() { # scenario target url pid [extra args]: one load-generator run, its JSON kept in $raw
  local scenario=$1 target=$2 url=$3 pid=$4; shift 4
  n=$((n + 1))
  local json; json=$(printf '%s/run-%02d-%s-%s.json' "$raw" "$n" "$scenario" "$target")
  wait_quiet
  if ! kill -0 "$pid" 2>/dev/null; then
    log "run $n: the $target server (pid $pid) is gone; its log ends:"
    tail -5 "$raw/$target.log" >&2
    failed=1
    return 0
  fi
  log "run $n: $scenario against $target $*"
  local status=0
  $loadgen "$scenario" --url "$url" --target "$target" --server-pid "$pid" --admin-key "$admin_key" \
    --duration "$duration" --warmup "$warmup" --json "$json" "$@" >&2 || status=$?
  if [ $status -ne 0 ]; then
    log "run $n FAILED (exit $status)"
    failed=1
  fi
}

for round in $(seq "$rounds"); do
  run ingest-single ceiling "$ceiling_url" "$ceiling_pid" --concurrency "$concurrency"
  run ingest-single tally "$tally_url" "$tally_pid" --concurrency "$concurrency"
done
# The ceiling has no batch endpoint; the two batch sizes alternate so both see a log of similar size.
for round in $(seq "$rounds"); do
  run ingest-batch tally "$tally_url" "$tally_pid" --batch 1000 --concurrency "$batch_concurrency"
  run ingest-batch tally "$tally_url" "$tally_pid" --batch 10000 --concurrency "$batch_concurrency"
done

data_size=$(du -sh "$data" | cut -f1)
tally_rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$tally_pid/status" 2>/dev/null || echo "unknown (the process is gone)")
stop_server "$ceiling_pid" ceiling
stop_server "$tally_pid" Tally
tally_problems=$(grep -cE '^(warn|fail|crit):' "$raw/tally.log" || true)

suffix=""
[ $quick -eq 1 ] && suffix="-quick"
out="bench/results/ingest-$(date -u +%F)$suffix.md"
cmd="bench/ingest.sh"
[ $quick -eq 1 ] && cmd="$cmd --quick"
{
  echo "# Ingest benchmark, $(date -u '+%F %H:%M UTC')"
  echo
  echo "Command: \`$cmd\` (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ', with uncommitted changes'))."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -h | awk '/^Mem:/ {print $2}') memory, $(uname -sr), .NET $(dotnet --version) SDK."
  echo "$(pinning_note)"
  echo
  echo "Settings: $rounds rounds, each run ${duration} s measured after ${warmup} s warm-up; ceiling and Tally alternate."
  echo "Single votes: $concurrency concurrent loops (one connection each), one poll, dedupe \"none\"."
  echo "Batches: $batch_concurrency concurrent loops, votes spread over 4 polls and distinct voter ids, dedupe \"none\"."
  echo "Tally: default settings (SQLite WAL, synchronous=FULL, group commit), one process for all runs, fresh data folder."
  echo
} >"$out"
report_status=0
$loadgen report --dir "$raw" >>"$out" || report_status=$?
{
  echo
  echo "After all runs: Tally's data folder holds $data_size; Tally's peak RSS was $tally_rss;"
  echo "Tally's log has $tally_problems warn/fail/crit entries (log kept in \`$raw/tally.log\`)."
} >>"$out"

cat "$out"
echo
log "saved $out (raw runs in $raw)"
if [ $failed -ne 0 ] || [ $report_status -ne 0 ]; then
  log "SOME RUNS FAILED (see above): the figures are not to be trusted"
  exit 1
fi
