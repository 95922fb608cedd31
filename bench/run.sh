#!/usr/bin/env bash
# The comparison benchmark (issue 4): Tally side by side with what a user would build instead, in ONE run, on the same
# workloads, servers alternating (A B A B …) so that drift and noise fall on all of them alike:
#   ingest   Tally ÷ KestrelCeiling: HTTP single votes (64 loops), and Tally's WebSocket `vote` op
#   fan-out  Tally, SignalR (throttled), Socket.IO (throttled), KestrelCeiling's bare broadcaster, the Node ws floor:
#            1,000 watchers × 1,000 votes/s and 5,000 × 5,000 (vote → watcher latency, updates per server CPU-second);
#            quiet: 1,000 watchers × 1 vote/s, Tally against the two broadcasters (first-to-last fan-out span)
#   naive    Tally, SignalR (naive), Socket.IO (naive) at 2,000 watchers × 2,000 votes/s
#   many     (full run only) 10,000 polls with one watcher each, 2,000 votes/s spread over them, all four servers
#   idle     10,000 idle WebSocket watchers over 4 polls on each of the five servers, each run on a fresh server:
#            server memory (RSS) per idle watcher
#   micro    BenchmarkDotNet micro-benchmarks of the hot paths (bench/Tally.Micro)
# then writes bench/results/<date>.md (<date>-quick.md with --quick) with the ratios, charts under
# bench/results/charts/<same name>/, and every run; raw JSON and server logs under bench/results/raw/ (not committed).
#
#   bench/run.sh            # full: 3 rounds (many-polls 1), 10 s windows (5 s for 5k × 5k, naive and many-polls),
#                           # 3 rounds of 10,000 idle watchers — ~35 minutes (32 without the micro-benchmarks)
#   bench/run.sh --quick    # 3 rounds of ingest and 1k × 1k, 1 round of 5k × 5k, the naive runs and 5,000 idle watchers,
#                           # 2 s windows, short micro-benchmark job — ~8 minutes
#
# Options: --rounds N, --big-rounds N (5k × 5k and naive), --many-rounds N, --duration S, --warmup S, --prime S (the unrecorded
# 1k × 1k fan-out each server gets before its first window, default 45; --quick 2), --ingest-prime S (default 45; --quick 14), --quiet-wait S (how long to wait, at
# most, before each run for the machine to go quiet, default 3; every run records the CPU other processes took in its window),
# --idle-rounds N, --idle-watchers N, --idle-seconds S, --no-micro, --no-fanout, --no-ingest, --no-idle. --quick does not wait for quiet at all (--quiet-wait 0): it records the noise.
# Only one benchmark runs at a time on this machine: the script holds /tmp/tally-bench.lock (flock) while it runs.
# Servers bind 127.0.0.1 on free ports; every load loop is bounded in time and count; only the processes this script
# started are stopped (by pid).
set -euo pipefail
# Everything runs inside main, which bash reads whole before running it: editing this file during a run cannot break the run.
main() {
  cd "$(dirname "$0")/.."
  . bench/lib.sh
  hold_bench_lock "$0" "$@"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

  prime_duration=45 ingest_prime=45 quick=0 rounds=3 big_rounds=3 many_rounds=1 ingest_duration=10 duration=10 warmup=2 big_duration=5 quiet_duration=10 naive_duration=5 drain=10 quiet_wait=3
  micro=1 fanout=1 ingest=1 idle=1 micro_job=default many=1 idle_rounds=3 idle_watchers=10000 idle_seconds=20
  args_given="$*"
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) quick=1 prime_duration=2 ingest_prime=14 big_rounds=1 ingest_duration=2 duration=2 quiet_duration=4 warmup=1 big_duration=2 naive_duration=2 drain=5 quiet_wait=0 micro_job=quick many=0 idle_rounds=1 idle_watchers=5000 idle_seconds=10; shift ;;
      --rounds) rounds=$2; shift 2 ;;
      --big-rounds) big_rounds=$2; shift 2 ;;
      --many-rounds) many_rounds=$2; shift 2 ;;
      --duration) duration=$2 ingest_duration=$2; shift 2 ;;
      --warmup) warmup=$2; shift 2 ;;
      --prime) prime_duration=$2; shift 2 ;;
      --ingest-prime) ingest_prime=$2; shift 2 ;;
      --quiet-wait) quiet_wait=$2; shift 2 ;;
      --no-micro) micro=0; shift ;;
      --no-fanout) fanout=0; shift ;;
      --no-ingest) ingest=0; shift ;;
      --no-idle) idle=0; shift ;;
      --idle-rounds) idle_rounds=$2; shift 2 ;;
      --idle-watchers) idle_watchers=$2; shift 2 ;;
      --idle-seconds) idle_seconds=$2; shift 2 ;;
      *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
    esac
  done

  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  started=$SECONDS
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  name=$(date -u +%F)
  [ $quick -eq 1 ] && name="$name-quick"
  raw="bench/results/raw/compare-$stamp"
  charts="bench/results/charts/$name"
  mkdir -p "$raw"
  admin_key="bench-$RANDOM$RANDOM"
  declare -gA pid url # global: the EXIT trap reads them
  data=""

  cleanup() {
    for server in "${!pid[@]}"; do stop_server "${pid[$server]}" "$server"; done
    [ -z "$data" ] || rm -rf "$data"
  }
  trap cleanup EXIT
  trap "exit 130" INT TERM # so that cleanup runs

  log "building Release (Tally, baselines, load generator, micro-benchmarks)"
  dotnet build bench/Bench.slnx -c Release -nologo -clp:ErrorsOnly -v:q >&2
  for node_baseline in SocketIoBaseline NodeWsFloor; do
    if [ ! -d "bench/baselines/$node_baseline/node_modules" ]; then
      log "installing $node_baseline's packages (npm ci)"
      (cd "bench/baselines/$node_baseline" && npm ci --no-audit --no-fund >&2)
    fi
  done
  loadgen="on_loadgen_core dotnet bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll"
  # Every stack's watchers are read by one Node.js process (bench/watchers; TALLY_BENCH_CLIENT=dotnet for the
  # load generator's own clients): the cheaper side, the same for every server.
  watch_client=(--client "${TALLY_BENCH_CLIENT:-node}")
  [ "${TALLY_BENCH_CLIENT:-node}" != node ] || ensure_node_watchers

  start() { # server [variant]: start it on a free 127.0.0.1 port, from its output folder; sets pid[server], url[server]
    local server=$1 variant=${2:-} port
    port=$(free_port)
    url[$server]="http://127.0.0.1:$port"
    local logfile="$raw/$server${variant:+-$variant}.log"
    case "$server" in
      tally)
        [ -z "$data" ] || rm -rf "$data"
        data=$(mktemp -d -t tally-compare-data.XXXXXX)
        (cd src/Tally.Server/bin/Release/net10.0 && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 \
          exec taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "${url[$server]}") >"$logfile" 2>&1 & ;;
      ceiling)
        (cd bench/baselines/KestrelCeiling/bin/Release/net10.0 && exec taskset -c "$bench_server_core" dotnet KestrelCeiling.dll --urls "${url[$server]}") >"$logfile" 2>&1 & ;;
      signalr)
        (cd bench/baselines/SignalRBaseline/bin/Release/net10.0 && BASELINE_MODE=$variant exec taskset -c "$bench_server_core" dotnet SignalRBaseline.dll --urls "${url[$server]}") >"$logfile" 2>&1 & ;;
      socketio)
        (cd bench/baselines/SocketIoBaseline && BASELINE_MODE=$variant exec taskset -c "$bench_server_core" node server.js --host 127.0.0.1 --port "$port") >"$logfile" 2>&1 & ;;
      nodews)
        (cd bench/baselines/NodeWsFloor && exec taskset -c "$bench_server_core" node server.js --host 127.0.0.1 --port "$port") >"$logfile" 2>&1 & ;;
    esac
    pid[$server]=$!
    wait_ready "${pid[$server]}" "${url[$server]}" "$server" "$logfile"
    log "$server${variant:+ ($variant)} pid ${pid[$server]} on ${url[$server]}"
  }

  stop() { # server
    stop_server "${pid[$1]}" "$1"
    unset "pid[$1]"
  }

  failed=0 n=0
  run() { # kind (ingest-single|ingest-ws|fanout) server [args]: one recorded run, its JSON in $raw
    local kind=$1 server=$2; shift 2
    n=$((n + 1))
    local prefix=fanout
    [ "$kind" = fanout ] || [ "$kind" = many-polls ] || prefix=ingest
    [ "$kind" != idle ] || prefix=idle
    local json; json=$(printf '%s/%s-%03d-%s.json' "$raw" "$prefix" "$n" "$server")
    wait_quiet
    if ! kill -0 "${pid[$server]}" 2>/dev/null; then
      log "run $n: $server (pid ${pid[$server]}) is gone"; failed=1; return 0
    fi
    log "run $n: $kind against $server $*"
    local status=0
    $loadgen "$kind" --url "${url[$server]}" --target "$server" --admin-key "$admin_key" --server-pid "${pid[$server]}" --json "$json" "$@" \
      >>"$raw/runs.log" 2>&1 || status=$?
    tail -n 4 "$raw/runs.log" | sed 's/^/    /' >&2
    if [ $status -ne 0 ] && [ $status -ne 3 ]; then
      log "run $n FAILED (exit $status; see $raw/runs.log)"; failed=1
      echo "- run $n, $kind against $server $* — exit $status: $(grep -E '^(RUN FAILED|Unhandled)' "$raw/runs.log" | tail -1 | cut -c1-200)" >>"$raw/failed-runs.md"
    elif [ $status -eq 3 ] && [ "$server" = tally ]; then
      log "run $n: Tally FAILED verification"; failed=1
    fi
  }

  prime() { # server: an unrecorded fan-out at the measured load (1k × 1k), so its JIT has tiered up before a window
    $loadgen fanout --url "${url[$1]}" --target "$1" --admin-key "$admin_key" --watchers 1000 --rate 1000 --duration "$prime_duration" --warmup 1 \
      --transport ws "${watch_client[@]}" >>"$raw/prime.log" 2>&1 || log "priming $1 failed (see $raw/prime.log)"
  }

  if [ $ingest -eq 1 ]; then
    start tally; start ceiling
    # On one core a server's JIT needs tens of seconds of load before the vote path runs tier-1 code (bench/warm-curve.sh
    # measured Tally's votes/s still climbing 30-40 s after start): prime each server at the measured load, unrecorded,
    # for 45 s (--ingest-prime; Tally over HTTP, then 4 s over its WebSocket).
    $loadgen ingest-single --url "${url[ceiling]}" --target ceiling --concurrency 64 --duration "$ingest_prime" --warmup 1 >>"$raw/prime.log" 2>&1
    $loadgen ingest-single --url "${url[tally]}" --target tally --admin-key "$admin_key" --concurrency 64 --duration "$ingest_prime" --warmup 1 >>"$raw/prime.log" 2>&1
    $loadgen ingest-ws --url "${url[tally]}" --target tally --admin-key "$admin_key" --concurrency 64 --duration 4 --warmup 1 >>"$raw/prime.log" 2>&1
    for round in $(seq "$rounds"); do
      run ingest-single ceiling --concurrency 64 --duration "$ingest_duration" --warmup "$warmup"
      run ingest-single tally --concurrency 64 --duration "$ingest_duration" --warmup "$warmup"
      run ingest-ws tally --concurrency 64 --duration "$ingest_duration" --warmup "$warmup"
    done
    stop ceiling; stop tally
  fi

  if [ $fanout -eq 1 ]; then
    fan=(--senders 16 --drain-timeout "$drain" --connect-concurrency 64 --connect-timeout 60 "${watch_client[@]}")
    start tally; start ceiling; start signalr throttled; start socketio throttled; start nodews
    for server in tally ceiling signalr socketio nodews; do prime "$server"; done
    for round in $(seq "$rounds"); do
      for server in tally signalr socketio ceiling nodews; do
        variant=(); case $server in signalr | socketio) variant=(--variant throttled) ;; esac
        run fanout "$server" "${variant[@]}" --transport ws --watchers 1000 --rate 1000 --duration "$duration" --warmup "$warmup" "${fan[@]}"
      done
    done
    # Quiet: 1,000 watchers × 1 vote/s, where nothing queues: how long one vote takes to reach every watcher, against
    # the floors' own first-to-last fan-out span.
    for round in $(seq "$rounds"); do
      for server in tally ceiling nodews; do
        run fanout "$server" --transport ws --watchers 1000 --rate 1 --senders 1 --duration "$quiet_duration" --warmup 1 \
          --drain-timeout "$drain" --connect-concurrency 64 --connect-timeout 60 "${watch_client[@]}"
      done
    done
    for round in $(seq "$big_rounds"); do
      for server in tally signalr socketio ceiling nodews; do
        variant=(); case $server in signalr | socketio) variant=(--variant throttled) ;; esac
        run fanout "$server" "${variant[@]}" --transport ws --watchers 5000 --rate 5000 --duration "$big_duration" --warmup 1 "${fan[@]}"
      done
    done
    stop ceiling; stop signalr; stop socketio; stop nodews
    start signalr naive; start socketio naive
    for server in signalr socketio; do prime "$server"; done
    for round in $(seq "$big_rounds"); do
      run fanout tally --transport ws --watchers 2000 --rate 2000 --duration "$naive_duration" --warmup 1 "${fan[@]}"
      run fanout signalr --variant naive --watchers 2000 --rate 2000 --duration "$naive_duration" --warmup 1 "${fan[@]}"
      run fanout socketio --variant naive --watchers 2000 --rate 2000 --duration "$naive_duration" --warmup 1 "${fan[@]}"
    done
    stop signalr; stop socketio
    if [ $many -eq 1 ]; then
      # Many polls: 10,000 polls with one watcher each, 2,000 votes/s spread over them (full run only).
      start ceiling; start signalr throttled; start socketio throttled; start nodews
      for round in $(seq "$many_rounds"); do
        for server in tally signalr socketio ceiling nodews; do
          variant=(); case $server in signalr | socketio) variant=(--variant throttled) ;; esac
          run many-polls "$server" "${variant[@]}" --transport ws --watchers 10000 --polls 10000 --rate 2000 --duration "$naive_duration" --warmup 1 "${fan[@]}"
        done
      done
      stop ceiling; stop signalr; stop socketio; stop nodews
    fi
    stop tally
  fi

  if [ $idle -eq 1 ]; then
    # Idle watchers: each run on a fresh server, so the memory it gains is the watchers' own; servers alternate. A few
    # watchers first (unrecorded) pay each server's lazy start-up costs. One source address holds ~28k watchers.
    for round in $(seq "$idle_rounds"); do
      for server in tally signalr socketio ceiling nodews; do
        variant=(); case $server in signalr | socketio) variant=(throttled) ;; esac
        start "$server" "${variant[@]}"
        $loadgen idle --url "${url[$server]}" --target "$server" --admin-key "$admin_key" --transport ws --watchers 200 --duration 0.5 "${watch_client[@]}" \
          >>"$raw/prime.log" 2>&1 || log "priming $server's idle run failed (see $raw/prime.log)"
        run idle "$server" --transport ws --watchers "$idle_watchers" --polls 4 --duration "$idle_seconds" --connect-concurrency 64 \
          --source-addresses $(((idle_watchers + 19999) / 20000)) "${watch_client[@]}"
        stop "$server"
      done
    done
  fi

  micro_md=""
  if [ $micro -eq 1 ]; then
    log "micro-benchmarks (BenchmarkDotNet, job $micro_job)"
    wait_quiet
    micro_out="$raw/micro"
    if dotnet bench/Tally.Micro/bin/Release/net10.0/Tally.Micro.dll --job-kind "$micro_job" --artifacts "$micro_out" --filter '*' \
        >"$raw/micro.log" 2>&1; then
      micro_md=$(cat "$micro_out"/results/*-report-github.md 2>/dev/null || true)
    else
      log "micro-benchmarks FAILED (see $raw/micro.log)"; failed=1
    fi
  fi

  problems=$(cat "$raw"/*.log | grep -cE '^(warn|fail|crit):' || true)
  out="bench/results/$name.md"
  cmd="bench/run.sh${args_given:+ $args_given}"
  {
    echo "# Tally side by side: ingest, fan-out and idle watchers against SignalR, Socket.IO, a bare Kestrel ceiling and the Node ws floor, $(date -u '+%F %H:%M UTC')"
    echo
    echo "Command: \`$cmd\` (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ', with uncommitted changes'))."
    echo
    echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -h | awk '/^Mem:/ {print $2}') memory, $(uname -sr), .NET $(dotnet --version) SDK, Node.js $(node --version), socket.io $(node -e 'console.log(require("./bench/baselines/SocketIoBaseline/node_modules/socket.io/package.json").version)'), ws $(node -e 'console.log(require("./bench/baselines/NodeWsFloor/node_modules/ws/package.json").version)')."
    echo "$(pinning_note) Whatever else runs on the machine shares the cores too: each run's window records the CPU other processes took (\"other CPU-s\" below); a run with more than ~0.5 CPU-s of it per second of window measured a busy machine."
    echo
    echo "Settings: each server primed, unrecorded, before its first window (ingest ${ingest_prime} s of the measured load, fan-out ${prime_duration} s of 1k × 1k); ingest $rounds rounds of ${ingest_duration} s windows; 1k × 1k $rounds rounds, 5k × 5k and the naive 2k × 2k $big_rounds round(s); windows ${duration} s after ${warmup} s warm-up (5k × 5k ${big_duration} s, naive ${naive_duration} s, after 1 s); drain ${drain} s; idle: $idle_rounds round(s) of up to $idle_watchers watchers, ${idle_seconds} s idle, each on a fresh server; servers alternate within each round."
    echo "Tally: default settings (tick 50 ms, SQLite WAL, synchronous=FULL), fresh data folder. Baselines: \`bench/baselines/\` (throttled = at most one broadcast per poll per 50 ms; naive = one per vote; the KestrelCeiling and Node ws floor broadcasters send each changed poll's bytes, encoded once, every 50 ms)."
    echo
  } >"$out"
  $loadgen report-compare --dir "$raw" --charts "$charts" --chart-link "charts/$name" >>"$out" || failed=1
  {
    if [ -n "$micro_md" ]; then
      echo "### Micro-benchmarks (BenchmarkDotNet, job \`$micro_job\`)"
      echo
      echo "$micro_md"
      echo
    fi
    if [ -s "$raw/failed-runs.md" ]; then
      echo "### Runs that failed (no figures recorded)"
      echo
      cat "$raw/failed-runs.md"
      echo
    fi
    echo "The servers' logs have $problems warn/fail/crit entries (kept in \`$raw/\`). The whole script took $((SECONDS - started)) s."
  } >>"$out"

  cat "$out"
  log "saved $out, charts in $charts/ (raw runs in $raw)"
  if [ $failed -ne 0 ]; then
    log "SOME RUNS FAILED (see above)"
    exit 1
  fi
}

main "$@"
