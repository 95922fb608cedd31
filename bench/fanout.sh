#!/usr/bin/env bash
# Fan-out benchmark: how fast live results reach many watchers, and what an idle watcher costs.
# Builds Release, starts Tally from its output folder on a free 127.0.0.1 port with a fresh data folder, and runs
#   (a) 1,000 watchers of one poll × 1,000 votes/s   (goal: vote sent → watcher received p99 ≤ 50 ms)
#   (b) 1,000 watchers of one poll × 1 vote/s        (goal: p50 ≤ 5 ms — the leading edge, not the tick)
#   (c) idle watchers, up to 10,000 over 4 polls, each round on a fresh server (goal: ≤ 8 KiB server memory per
#       idle WebSocket watcher)
# then prints a markdown table of medians, also saved as bench/results/fanout-<date>.md (raw run JSON and the
# server logs under bench/results/raw/, not committed).
#
#   bench/fanout.sh            # full: 3 rounds of each; (a) 10 s after 2 s warm-up, (b) 10 s after 1 s (~4-5 min)
#   bench/fanout.sh --quick    # 1 round of each, shorter runs, idle cap 2,000 (1-2 min)
#
# Options: --rounds N, --duration S (a), --quiet-duration S (b), --watchers N, --rate R (a), --idle-watchers N,
# --tick MS (the server's Tally:Live:Tick; default: its own, 50 ms), --idle-rounds N, --idle-seconds S (how long the idle watchers sit before memory is read; default 20, longer than
# the server's 15 s SSE heartbeat, so timers that connecting left behind have expired), --transport auto|sse|ws (auto: ws when the server has /v1/ws, else sse), --quiet-wait S (how long
# to wait before each run for other processes to go quiet; default 30), --noisy-retries N (how often a fan-out run that
# other processes disturbed is run again; default 2), --client node|dotnet (what reads the WebSocket watchers: one
# Node.js process, bench/watchers, the default; or ClientWebSockets in the load generator).
# Tally runs on core 1 and the load generator (with its Node watchers) on core 0 (bench/lib.sh); each run reports
# both CPUs and what other processes took.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rounds=3 idle_rounds=3 duration=10 warmup=2 quiet_duration=10 watchers=1000 rate=1000 idle_watchers=10000 idle_seconds=20
transport=auto client=node quick=0 quiet_wait=30 noisy_retries=2 tick=""
args_given="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 rounds=1 idle_rounds=1 duration=3 warmup=1 quiet_duration=5 idle_watchers=2000 idle_seconds=16; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --idle-rounds) idle_rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --quiet-duration) quiet_duration=$2; shift 2 ;;
    --watchers) watchers=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --idle-watchers) idle_watchers=$2; shift 2 ;;
    --idle-seconds) idle_seconds=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    --tick) tick=$2; shift 2 ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
    --noisy-retries) noisy_retries=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done

# Every watcher is a socket in the server and one in the load generator: raise the open-file limit (root may raise
# the hard limit too). The idle run stops at the first watcher the machine refuses, and says why.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# Above ~28k watchers one source address runs out of ephemeral ports: bind the watchers to several 127.0.0.x.
source_addresses=$(( (idle_watchers + 19999) / 20000 ))

started=$SECONDS
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="bench/results/raw/fanout-$stamp"
mkdir -p "$raw"
admin_key="bench-$RANDOM$RANDOM"
tally_pid="" data=""

cleanup() {
  stop_server "$tally_pid" Tally
  [ -z "$data" ] || rm -rf "$data"
}
trap cleanup EXIT
trap "exit 130" INT TERM # so that cleanup runs

# Listening ports come from below the ephemeral range (free_port in lib.sh): thousands of watcher sockets, and their
# TIME_WAITs, take ports from that range, and a port one of them holds cannot be listened on.

[ "$client" != node ] || ensure_node_watchers

build_tally_and_loadgen

servers=0
start_tally() { # a fresh Tally (new data folder, new port) from its output folder: sets tally_pid, tally_url, data
  servers=$((servers + 1))
  [ -z "$data" ] || rm -rf "$data"
  data=$(mktemp -d -t tally-fanout-data.XXXXXX)
  local port; port=$(free_port)
  tally_url="http://127.0.0.1:$port"
  local server_log="$raw/tally-$servers.log"
  local settings=()
  [ -z "$tick" ] || settings+=("Tally__Live__Tick=$(awk -v ms="$tick" 'BEGIN {printf "00:00:%06.3f", ms / 1000}')")
  (cd "$server_dir" && exec env TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" "${settings[@]}" taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$tally_url") >"$server_log" 2>&1 &
  tally_pid=$!
  local deadline=$((SECONDS + 60))
  until curl -sf -o /dev/null "$tally_url/readyz"; do
    kill -0 "$tally_pid" 2>/dev/null || { log "Tally exited during start-up; its log:"; cat "$server_log" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "Tally not ready after 60 s; its log:"; cat "$server_log" >&2; exit 1; }
    sleep 0.2
  done
  log "Tally pid $tally_pid on $tally_url, data in $data"
}

failed=0 retried=0
n=0
run() { # kind (fanout|idle) [args]: one load-generator run, its JSON kept in $raw
  local kind=$1; shift
  n=$((n + 1))
  local json; json=$(printf '%s/%s-%02d.json' "$raw" "$kind" "$n")
  wait_quiet
  if ! kill -0 "$tally_pid" 2>/dev/null; then
    log "run $n: Tally (pid $tally_pid) is gone; its log ends:"
    tail -5 "$raw/tally-$servers.log" >&2
    failed=1
    return 0
  fi
  log "run $n: $kind $*"
  local status=0 noise=()
  # A fan-out run that other processes disturbed (more than a quarter of a core in its window) is run again once the
  # machine is quiet, at most $noisy_retries times; the last try is recorded whatever the noise (its row shows it).
  for try in $(seq 0 "$noisy_retries"); do
    noise=()
    [ "$kind" != fanout ] || [ "$try" -ge "$noisy_retries" ] || noise=(--noise-limit 0.25)
    status=0
    $loadgen "$kind" --url "$tally_url" --admin-key "$admin_key" --server-pid "$tally_pid" --transport "$transport" "${watch_client[@]}" --json "$json" "${noise[@]}" "$@" >&2 || status=$?
    [ $status -eq 4 ] || break
    retried=$((retried + 1))
    log "run $n was disturbed by other processes: again after the machine is quiet"
    wait_quiet
  done
  if [ $status -ne 0 ]; then
    log "run $n FAILED (exit $status)"
    failed=1
  fi
}

start_tally
if [ "$transport" = auto ]; then
  # The WebSocket endpoint answers a plain GET with 400 (not a WebSocket request); a server without it, 404.
  code=$(curl -s -o /dev/null -w '%{http_code}' "$tally_url/v1/ws" || true)
  if [ "$code" = 404 ]; then transport=sse; else transport=ws; fi
  log "transport: $transport (GET /v1/ws answered $code)"
fi
[ "$transport" = ws ] || client=dotnet # the Node watchers read WebSockets only
watch_client=(--client "$client")

# Warm-up at the measured load (not recorded): on one core the JIT needs seconds of load before the fan-out path
# runs tier-1 code, and a cold first round measured the compiler as much as the server.
log "warming Tally up at the measured load (JIT, pools; not recorded)"
for _ in 1 2; do
  $loadgen fanout --url "$tally_url" --admin-key "$admin_key" --transport "$transport" "${watch_client[@]}" --watchers "$watchers" --rate "$rate" \
    --senders 16 --duration 5 --warmup 1 >>"$raw/prime.log" 2>&1 || { log "warming up failed:"; tail -20 "$raw/prime.log" >&2; exit 1; }
done

for round in $(seq "$rounds"); do
  run fanout --watchers "$watchers" --rate "$rate" --senders 16 --duration "$duration" --warmup "$warmup"
  run fanout --watchers "$watchers" --rate 1 --senders 1 --duration "$quiet_duration" --warmup 1
  # Once: a single watcher at 1 vote/s, the floor under (b) — the vote's durable commit plus the publish path, no fan-out.
  [ "$round" -ne 1 ] || run fanout --watchers 1 --rate 1 --senders 1 --duration "$quiet_duration" --warmup 1
done
fanout_peak_rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$tally_pid/status" 2>/dev/null || echo "unknown (the process is gone)")
stop_server "$tally_pid" Tally

# Idle watchers: each round on a fresh server, primed with a few watchers, so the memory read is the watchers' own
# and not reuse of a heap that earlier runs grew.
for round in $(seq "$idle_rounds"); do
  start_tally
  $loadgen idle --url "$tally_url" --admin-key "$admin_key" --transport "$transport" --watchers 200 --duration 0.5 \
    >>"$raw/prime.log" 2>&1 || { log "priming failed:"; tail -20 "$raw/prime.log" >&2; exit 1; }
  run idle --watchers "$idle_watchers" --polls 4 --duration "$idle_seconds" --source-addresses "$source_addresses" --connect-concurrency 64
  stop_server "$tally_pid" Tally
done

problems=$(cat "$raw"/tally-*.log | grep -cE '^(warn|fail|crit):' || true)

suffix=""
[ "$transport" = ws ] || suffix="-$transport"
[ -z "$tick" ] || suffix="$suffix-tick$tick"
[ $quick -eq 1 ] && suffix="$suffix-quick"
out="bench/results/fanout-$(date -u +%F)$suffix.md"
cmd="bench/fanout.sh${args_given:+ $args_given}"
{
  echo "# Fan-out benchmark, $(date -u '+%F %H:%M UTC')"
  echo
  echo "Command: \`$cmd\` (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ', with uncommitted changes'))."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -h | awk '/^Mem:/ {print $2}') memory, $(uname -sr), .NET $(dotnet --version) SDK."
  echo "$(pinning_note) The load generator parses every message every watcher gets."
  echo
  echo "Settings: transport $transport, watchers read by $client ($( [ "$client" = node ] && echo "one Node.js process, bench/watchers" || echo "ClientWebSocket in the load generator")); $rounds rounds of (a) $watchers watchers × $rate votes/s (16 sender loops, open loop), ${duration} s measured after ${warmup} s warm-up, and (b) $watchers watchers × 1 vote/s, ${quiet_duration} s after 1 s, alternating on one server (with, once, 1 watcher × 1 vote/s: the floor under (b));"
  echo "$idle_rounds rounds of (c) up to $idle_watchers idle watchers over 4 polls, ${idle_seconds} s idle, each on a fresh server. Open-file limit $(ulimit -n); $source_addresses source address(es)."
  if [ -z "$tick" ]; then
    echo "Tally: default settings (tick 50 ms, SQLite WAL, synchronous=FULL, group commit), fresh data folder, started from its output folder."
  else
    echo "Tally: default settings but **\`Tally:Live:Tick\` = $tick ms** (SQLite WAL, synchronous=FULL, group commit), fresh data folder, started from its output folder."
  fi
  echo
} >"$out"
report_status=0
$loadgen report-fanout --dir "$raw" >>"$out" || report_status=$?
{
  echo
  echo "Tally's peak RSS over the fan-out runs was $fanout_peak_rss; the servers' logs have $problems warn/fail/crit entries (logs kept in \`$raw/\`)."
  echo "Fan-out runs repeated because other processes disturbed them: $retried. The whole script took $((SECONDS - started)) s."
} >>"$out"

cat "$out"
echo
log "saved $out (raw runs in $raw)"
if [ $failed -ne 0 ] || [ $report_status -ne 0 ]; then
  log "SOME RUNS FAILED (see above): the figures are not to be trusted"
  exit 1
fi
