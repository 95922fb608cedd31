# Shell helpers shared by the benchmark scripts (sourced; they set -euo pipefail themselves).
# wait_quiet reads $quiet_wait from the caller.

# Every Tally these scripts start (embedded, and scripts/cluster.sh's nodes, which inherit the environment) runs with
# the abuse limits off: the load generator drives it from one address (loopback) at 30-40k votes/s, over up to
# 10,000 sockets per address, far past the defaults a deployment gets (README, "Abuse limits"), which would refuse
# most of it. What is measured is the engine and the transports, not the limits. See bench/README.md.
export Tally__RateLimit__Enabled=false
export Tally__Connections__MaxStreamsPerIp=0
export Tally__Connections__MaxConnectionsPerIp=0
export Tally__WebSockets__MessagesPerSecond=0

# The load generator makes its polls without a voterIdentity and votes with voterIds of its own, without a credential:
# that is only taken with the compatibility setting (otherwise new polls are anonymous and every vote is refused 422).
export Tally__Compatibility__ClientVoterIds=true

# Every server under test runs on one core and every load-generator process on the other (taskset), so a load generator
# that costs as much as the server cannot flatten the difference between servers by taking the server's CPU; each
# report shows both processes' CPU. TALLY_BENCH_SERVER_CORE / TALLY_BENCH_LOADGEN_CORE choose the cores.
bench_server_core=${TALLY_BENCH_SERVER_CORE:-1}
bench_loadgen_core=${TALLY_BENCH_LOADGEN_CORE:-0}
# The load generator also starts counting calls for tier-1 JIT at once (DOTNET_TC_CallCountingDelayMs=0): the runtime
# waits until 100 ms pass without new tier-0 methods, which a load generator that keeps meeting new code paths never
# gives it, so its watcher and sender loops ran unoptimised code for whole runs (perf: [QuickJitted] frames) and cost
# it ~1.4x the CPU. Only the load generator: every server runs with the runtime's defaults.
on_loadgen_core() { DOTNET_TC_CallCountingDelayMs=0 taskset -c "$bench_loadgen_core" "$@"; }
pinning_note() { echo "The server under test is pinned to core $bench_server_core and the load generator to core $bench_loadgen_core (\`taskset\`): each has a core of its own, and both CPUs are in the tables."; }

build_tally_and_loadgen() { # Release builds of the server and the load generator; sets server_dir and loadgen (pinned to the load generator's core)
  log "building Release (server, load generator)"
  for project in src/Tally.Server bench/Tally.LoadGen; do
    dotnet build "$project" -c Release -nologo -clp:ErrorsOnly -v:q >&2
  done
  server_dir=src/Tally.Server/bin/Release/net10.0
  loadgen="on_loadgen_core dotnet bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll"
}

ab_loadgen() { # sets loadgen (pinned to the load generator's core): $LOADGEN, a built Tally.LoadGen.dll, or bench/Tally.LoadGen's Release build, built when missing
  local dll=${LOADGEN:-bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll}
  [ -f "$dll" ] || dotnet build bench/Tally.LoadGen -c Release -nologo -clp:ErrorsOnly -v:q >&2
  loadgen="on_loadgen_core dotnet $dll"
}

stop_tally_on_exit() { # clears pid and data; when the script ends, the Tally in $pid is stopped and the data folder in $data removed
  pid="" data=""
  trap 'stop_server "$pid" Tally; [ -z "$data" ] || rm -rf "$data"' EXIT
  trap "exit 130" INT TERM
}

ensure_node_watchers() { # the ws package of the Node watchers (bench/watchers), installed from its lock file when missing
  if [ ! -d bench/watchers/node_modules/ws ]; then
    log "installing the Node watchers' package (npm ci in bench/watchers)"
    (cd bench/watchers && npm ci --no-audit --no-fund >&2)
  fi
}

hold_bench_lock() { # "$0" "$@": run the calling script under /tmp/tally-bench.lock (flock), so one benchmark runs at a time
  if [ "${TALLY_BENCH_LOCKED:-}" != 1 ]; then
    export TALLY_BENCH_LOCKED=1
    log "waiting for /tmp/tally-bench.lock (another benchmark may be running)"
    exec flock /tmp/tally-bench.lock "$@"
  fi
}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

stop_server() { # pid name: SIGTERM, then wait (bounded) for the process to end
  local pid=$1 name=$2 deadline=$((SECONDS + 45))
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      log "$name (pid $pid) still running 45 s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null || true
}

busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }

wait_quiet() { # until the whole machine used < 15% of a core over one second (the servers under test idle), at most $quiet_wait s (0: no wait)
  local deadline=$((SECONDS + quiet_wait)) before after hz
  [ "$quiet_wait" -gt 0 ] || return 0 # not waiting at all: each run records the CPU others took in its window
  hz=$(getconf CLK_TCK)
  while :; do
    before=$(busy_ticks); sleep 1; after=$(busy_ticks)
    if [ $(((after - before) * 100)) -lt $((hz * 15)) ]; then return 0; fi
    if [ $SECONDS -ge $deadline ]; then
      log "machine still busy after ${quiet_wait} s ($(((after - before) * 100 / hz))% of a core): running anyway; the run's 'other CPU-s' shows the noise"
      return 0
    fi
  done
}

free_port() { # a port nobody listens on, between 10000 and the start of the ephemeral range (watcher sockets take ports from that range)
  local port low
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range)
  for _ in $(seq 100); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "no free port found" >&2; return 1
}

wait_ready() { # pid url name logfile: poll /readyz until 200, for at most 60 s
  local pid=$1 url=$2 name=$3 logfile=$4 deadline=$((SECONDS + 60))
  until curl -sf -o /dev/null "$url/readyz"; do
    kill -0 "$pid" 2>/dev/null || { log "$name exited during start-up; its log:"; cat "$logfile" >&2; return 1; }
    [ $SECONDS -lt $deadline ] || { log "$name not ready after 60 s; its log:"; cat "$logfile" >&2; return 1; }
    sleep 0.2
  done
}
