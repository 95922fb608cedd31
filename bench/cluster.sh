#!/usr/bin/env bash
# Cluster benchmark: the load generator against the nginx front of a Tally cluster (scripts/cluster.sh: nats-server
# with JetStream, redis-server, PostgreSQL, N Tally nodes, nginx), with 1 node and then with 3, and the embedded single
# server (no nginx, no engines) as the same run's baseline. Each cluster gets its own folder and its own free ports on
# 127.0.0.1, and is taken down and wiped after its runs. Scenarios, each against all three set-ups:
#   ingest-single  64 loops of HTTP single votes               votes/s, p50/p99, CPU µs per vote (whole cluster)
#   ingest-batch   4 loops of batches of 1,000 votes            votes/s, CPU µs per vote
#   ingest-ws      64 WebSockets voting with the `vote` op      votes/s
#   fanout         1,000 WebSocket watchers (nginx spreads them over the nodes) × R votes/s through nginx:
#                  vote sent → watcher received p50/p99, deliveries/s, CPU
#   fanout-quiet   1,000 watchers × 1 vote/s: the latency of the hops when nothing queues
# It prints a markdown table of medians, also saved as bench/results/cluster-<date>[-quick].md (raw run JSON, the
# load generator's output and every process's log under bench/results/raw/cluster-<stamp>/, not committed).
#
#   bench/cluster.sh            # 2 rounds of each, 8 s windows (quiet fan-out 6 s) — about 12 minutes
#   bench/cluster.sh --quick    # 1 round of each, 3 s windows (quiet fan-out 5 s) — about 5 minutes
#
# Options: --rounds N, --duration S, --warmup S, --quiet-duration S (fanout-quiet's window), --rate R (fan-out votes/s, default 200), --watchers N (default 1000),
# --nodes "1 3" (the cluster sizes, in order), --no-embedded, --ack-after-ledger (the nodes answer a vote only once the
# PostgreSQL ledger has it: Tally:Cluster:AckAfterLedger), --ack-modes "stream ledger" (a cluster of each size with each
# ack, in one run, the ratio column then ledger ÷ stream), --pin (every cluster process on one core, the load generator
# on the other: TALLY_BENCH_SERVER_CORE / TALLY_BENCH_LOADGEN_CORE), --quiet-wait S (how long to wait before each run for
# other processes to go quiet — an idle cluster itself keeps the machine a little busy; default 5, --quick 2).
# "CPU" of a cluster is the user + system CPU of every process of it — the Tally nodes, nats-server, redis-server,
# PostgreSQL (postmaster and backends) and nginx (master and workers) — read from /proc inside each run's measured
# window by the load generator (--cpu-pids). On this 2-core machine all of them and the load generator share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PATH="$PATH:/usr/sbin"

rounds=2 duration=8 warmup=2 quiet_duration=6 rate=200 watchers=1000 sizes="1 3" embedded=1 quick=0 quiet_wait=5 ack_after_ledger=0 ack_modes="" pin=0
args_given="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 rounds=1 duration=3 warmup=1 quiet_duration=5 quiet_wait=2; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --quiet-duration) quiet_duration=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --watchers) watchers=$2; shift 2 ;;
    --nodes) sizes=$2; shift 2 ;;
    --no-embedded) embedded=0; shift ;;
    --ack-after-ledger) ack_after_ledger=1; shift ;;
    --ack-modes) ack_modes=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
for size in $sizes; do case "$size" in [1-9]) ;; *) echo "--nodes takes sizes 1-9, got '$size'" >&2; exit 2 ;; esac; done
[ -n "$ack_modes" ] || ack_modes=$([ "$ack_after_ledger" -eq 1 ] && echo ledger || echo stream)
for mode in $ack_modes; do case "$mode" in stream | ledger) ;; *) echo "--ack-modes takes stream and ledger, got '$mode'" >&2; exit 2 ;; esac; done

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
started=$SECONDS
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="bench/results/raw/cluster-$stamp"
mkdir -p "$raw"
raw=$(realpath "$raw")
[ "$(id -u)" -ne 0 ] || chmod 755 "$raw" # PostgreSQL runs as the postgres user and needs to reach its folder
admin_key="bench-$RANDOM$RANDOM"
tally_pid="" data="" cluster_dir=""
loadgen="dotnet bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll"
# --pin: commands, not shell functions, since `timeout` runs them (lib.sh's on_loadgen_core, spelt out).
server_prefix=(env)
[ "$pin" -eq 0 ] || server_prefix=(taskset -c "$bench_server_core")
[ "$pin" -eq 0 ] || loadgen="env DOTNET_TC_CallCountingDelayMs=0 taskset -c $bench_loadgen_core $loadgen"

cluster_down() { # stops the cluster in $cluster_dir (only the processes of its pidfiles), then wipes its data, keeps its logs
  [ -n "$cluster_dir" ] || return 0
  local d=$cluster_dir pids
  cluster_dir=""
  pids=$(cluster_pids "$d" || true)
  TALLY_CLUSTER_DIR="$d" timeout 120 scripts/cluster.sh down >>"$d.log" 2>&1 || log "cluster.sh down failed; see $d.log"
  # nginx quits gracefully and on its own time: wait (bounded) for every process the cluster had, then SIGKILL by pid.
  for pid in ${pids//,/ }; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "pid $pid of $d still runs 10 s after down: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$d/nats" "$d/redis" "$d/postgres/data" "$d"/node[0-9] "$d/nginx/body" "$d/nginx/proxy" "$d/nginx/fastcgi" "$d/nginx/uwsgi" "$d/nginx/scgi"
}

cleanup() {
  cluster_down
  stop_server "$tally_pid" Tally
  [ -z "$data" ] || rm -rf "$data"
}
trap cleanup EXIT
trap "exit 130" INT TERM # so that cleanup runs

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

used_ports=" "
pick_port() { # a free port not handed out before in this run
  local p
  for _ in $(seq 50); do
    p=$(free_port)
    case "$used_ports" in *" $p "*) continue ;; esac
    used_ports+="$p "; echo "$p"; return 0
  done
  return 1
}

pick_node_base() { # a base port B with B..B+8 and B+100..B+108 free (nodes and their gRPC ports), below the ephemeral range
  local b low ok i
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range)
  for _ in $(seq 100); do
    b=$((10000 + RANDOM % (low - 10200)))
    ok=1
    for i in $(seq 0 8); do
      port_free $((b + i)) && port_free $((b + 100 + i)) || { ok=0; break; }
      case "$used_ports" in *" $((b + i)) "* | *" $((b + 100 + i)) "*) ok=0; break ;; esac
    done
    [ $ok -eq 1 ] && { echo "$b"; return 0; }
  done
  echo "no free node ports found" >&2; return 1
}

cluster_pids() { # dir: every root process of the cluster, comma-separated (nodes, nats, redis, postmaster, nginx master)
  local d=$1 out="" f
  for f in "$d"/node[0-9].pid "$d/nats.pid" "$d/redis.pid" "$d/nginx/nginx.pid"; do
    [ -s "$f" ] && out+="$(cat "$f"),"
  done
  [ -s "$d/postgres/data/postmaster.pid" ] && out+="$(head -1 "$d/postgres/data/postmaster.pid"),"
  echo "${out%,}"
}

component_ticks() { # dir: "nodes nats postgres redis nginx" CPU ticks of each component's process trees (utime+stime+cutime+cstime)
  local d=$1
  ps -e -o pid=,ppid= | awk -v d="$d" '
    function root(f,   line) { if ((getline line < f) > 0) { close(f); return line + 0 } return 0 }
    function ticks(p,   f, line, n, a, s, rest) {
      f = "/proc/" p "/stat"; if ((getline line < f) <= 0) return 0; close(f)
      rest = substr(line, index(line, ") ") + 2); n = split(rest, a, " ")
      return a[12] + a[13] + a[14] + a[15]
    }
    function tree(r,   sum, q, h, t, p, c) {
      if (r == 0) return 0
      sum = 0; h = 1; t = 1; q[1] = r
      while (h <= t) { p = q[h++]; sum += ticks(p); for (c in kids) if (kids[c] == p) q[++t] = c }
      return sum
    }
    { kids[$1] = $2 }
    END {
      nodes = 0
      for (i = 1; i <= 9; i++) nodes += tree(root(d "/node" i ".pid"))
      print nodes, tree(root(d "/nats.pid")), tree(root(d "/postgres/data/postmaster.pid")), tree(root(d "/redis.pid")), tree(root(d "/nginx/nginx.pid"))
    }'
}

wait_cluster_idle() { # dir: seconds until the cluster's processes use < 10% of a core over a second (at most 180 s)
  local d=$1 t0=$SECONDS a b hz
  hz=$(getconf CLK_TCK)
  while :; do
    a=$(component_ticks "$d" | awk '{print $1 + $2 + $3 + $4 + $5}'); sleep 1
    b=$(component_ticks "$d" | awk '{print $1 + $2 + $3 + $4 + $5}')
    if [ $(((b - a) * 100)) -lt $((hz * 10)) ] || [ $((SECONDS - t0)) -ge 180 ]; then echo $((SECONDS - t0 - 1)); return 0; fi
  done
}

wait_balanced() { # dir nodes: until every node owns at most ceil(16 / nodes) partitions and all 16 are owned, at most 90 s
  local d=$1 size=$2 share=$(((16 + $2 - 1) / $2)) deadline=$((SECONDS + 90)) owned total max i
  while :; do
    total=0 max=0
    for i in $(seq "$size"); do
      owned=$(( $(grep -c 'Tally.Cluster\[5003\]' "$d/node$i.log" || true) - $(grep -c 'Tally.Cluster\[5004\]' "$d/node$i.log" || true) ))
      total=$((total + owned)); [ $owned -le $max ] || max=$owned
    done
    if [ $total -eq 16 ] && [ $max -le $share ]; then log "partitions balanced: 16 over $size node(s), at most $max each"; sleep 2; return 0; fi
    if [ $SECONDS -ge $deadline ]; then log "partitions not balanced after 90 s ($total owned, at most $max on one node): measuring anyway"; return 0; fi
    sleep 1
  done
}

log "building Release (server, load generator)"
for project in src/Tally.Server bench/Tally.LoadGen; do
  timeout 600 dotnet build "$project" -c Release -nologo -clp:ErrorsOnly -v:q >&2
done
server_dir=src/Tally.Server/bin/Release/net10.0

failed=0
n=0
run() { # setup scenario round [args]: one load-generator run against $url, CPU read over $cpu_args; JSON in $raw
  local setup=$1 scenario=$2 round=$3; shift 3
  n=$((n + 1))
  local name; name=$(printf '%02d-%s-%s-%s' "$n" "$setup" "$scenario" "$round")
  wait_quiet
  local ticks0="" ticks1="" status=0 command=$scenario
  case "$scenario" in fanout-quiet) command=fanout ;; esac
  log "run $n: $scenario on $setup (round $round) $*"
  [ -z "$cluster_now" ] || ticks0=$(component_ticks "$cluster_now")
  timeout 300 $loadgen "$command" --url "$url" --admin-key "$key" "${cpu_args[@]}" --json "$raw/$name.json" "$@" >"$raw/$name.log" 2>&1 || status=$?
  # A cluster keeps working after the last answer (the ledger projector writing the votes to PostgreSQL, the Redis read
  # models): wait for it to go idle before the next run, and record how long that took (at most 180 s).
  local settle=null
  [ -z "$cluster_now" ] || settle=$(wait_cluster_idle "$cluster_now")
  [ -z "$cluster_now" ] || ticks1=$(component_ticks "$cluster_now")
  tail -4 "$raw/$name.log" | sed 's/^/    /' >&2
  if [ $status -ne 0 ]; then
    log "run $n FAILED (exit $status); its output ends:"; tail -5 "$raw/$name.log" >&2
    failed=1
    # keep a record of the failure for the report
    [ -f "$raw/$name.json" ] || echo "{\"failed\":true,\"exit\":$status}" >"$raw/$name.json"
  fi
  # The cluster's CPU by component over the whole invocation (set-up, warm-up, window and checks): where the cost goes.
  if [ -n "$ticks0" ] && [ -n "$ticks1" ]; then
    paste -d' ' <(echo "$ticks0" | tr ' ' '\n') <(echo "$ticks1" | tr ' ' '\n') | awk '{printf "%s%d", (NR > 1 ? " " : ""), $2 - $1} END {print ""}' >"$raw/$name.components"
  fi
  jq -n --arg setup "$setup" --arg scenario "$scenario" --argjson round "$round" --arg file "$name.json" --argjson settle "$settle" \
    '{setup: $setup, scenario: $scenario, round: $round, file: $file, settleSeconds: $settle}' >"$raw/$name.meta"
}

scenarios() { # setup: every scenario, $rounds rounds, interleaved so that drift falls on all of them alike
  local setup=$1
  log "priming $setup (JIT, pools, connections; not recorded)"
  timeout 120 $loadgen ingest-single --url "$url" --admin-key "$key" --duration 2 --warmup 1 >>"$raw/prime.log" 2>&1 || log "priming ingest-single on $setup failed (see $raw/prime.log)"
  timeout 120 $loadgen fanout --url "$url" --admin-key "$key" --transport ws --watchers 100 --rate 100 --duration 1 --warmup 1 "${presence_args[@]}" >>"$raw/prime.log" 2>&1 || log "priming fanout on $setup failed (see $raw/prime.log)"
  for round in $(seq "$rounds"); do
    run "$setup" ingest-single "$round" --concurrency 64 --duration "$duration" --warmup "$warmup"
    run "$setup" ingest-batch "$round" --batch 1000 --concurrency 4 --duration "$duration" --warmup "$warmup"
    run "$setup" ingest-ws "$round" --concurrency 64 --duration "$duration" --warmup "$warmup"
    run "$setup" fanout "$round" --transport ws --watchers "$watchers" --rate "$rate" --senders 16 --duration "$duration" --warmup "$warmup" "${presence_args[@]}"
    run "$setup" fanout-quiet "$round" --transport ws --watchers "$watchers" --rate 1 --senders 1 --duration "$quiet_duration" --warmup 1 "${presence_args[@]}"
  done
}

cluster_now=""
cpu_args=()
presence_args=()
# 1. The embedded single server, started as bench/fanout.sh starts it: the same run's baseline.
if [ $embedded -eq 1 ]; then
  data=$(mktemp -d -t tally-cluster-bench-data.XXXXXX)
  port=$(pick_port)
  url="http://127.0.0.1:$port" key=$admin_key
  (cd "$server_dir" && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 exec "${server_prefix[@]}" dotnet Tally.Server.dll --urls "$url") >"$raw/embedded.log" 2>&1 &
  tally_pid=$!
  wait_ready "$tally_pid" "$url" Tally "$raw/embedded.log"
  log "embedded Tally pid $tally_pid on $url, data in $data"
  cpu_args=(--server-pid "$tally_pid")
  scenarios embedded
  embedded_rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$tally_pid/status" 2>/dev/null || echo "?")
  stop_server "$tally_pid" Tally
  tally_pid=""
  rm -rf "$data"; data=""
fi

# 2. A cluster of each size, through nginx, each in a fresh folder with fresh ports, taken down and wiped after.
declare -A cluster_rss
for size in $sizes; do
 for mode in $ack_modes; do
  # The nodes read Tally__* from the environment (scripts/cluster.sh passes it on).
  if [ "$mode" = ledger ]; then export Tally__Cluster__AckAfterLedger=true; else unset Tally__Cluster__AckAfterLedger; fi
  setup="${size}node$([ "$mode" = ledger ] && echo -ledger || true)"
  cluster_dir="$raw/cluster-$setup"
  mkdir -p "$cluster_dir"
  [ "$(id -u)" -ne 0 ] || chmod 755 "$cluster_dir"
  nginx_port=$(pick_port) grpc_port=$(pick_port) nats_port=$(pick_port) redis_port=$(pick_port) pg_port=$(pick_port)
  node_base=$(pick_node_base)
  log "starting a $size-node cluster in $cluster_dir (nginx :$nginx_port, nodes :$node_base…, NATS :$nats_port, Redis :$redis_port, PostgreSQL :$pg_port)"
  if ! TALLY_CLUSTER_DIR="$cluster_dir" TALLY_NODES="$size" TALLY_PORT="$nginx_port" TALLY_GRPC_PORT="$grpc_port" \
      TALLY_NODE_PORT="$node_base" NATS_PORT="$nats_port" REDIS_PORT="$redis_port" PG_PORT="$pg_port" TALLY_ADMIN_KEY="$admin_key" \
      timeout 300 "${server_prefix[@]}" scripts/cluster.sh up >"$cluster_dir.log" 2>&1; then
    log "the $size-node cluster did not come up; its log:"; cat "$cluster_dir.log" >&2
    failed=1
    cluster_down
    continue
  fi
  cluster_now=$cluster_dir
  url="http://127.0.0.1:$nginx_port" key=$(cat "$cluster_dir/admin.key")
  pids=$(cluster_pids "$cluster_dir")
  log "$size-node cluster up; its processes: $pids"
  cpu_args=(--cpu-pids "$pids")
  # Each node's live messages count that node's watchers only (docs/cluster.md, still to build), so the cluster-wide
  # count a fan-out run waits for may never show: wait 5 s for it instead of 30, and report it.
  presence_args=(--presence-timeout 5)
  # The first node up takes every partition and hands the others' share back one per lease round after they join:
  # measure only once each node holds its fair share (from the nodes' logs: EventIds 5003 owns, 5004 gave up).
  wait_balanced "$cluster_dir" "$size"
  scenarios "$setup"
  rss=0
  for f in "$cluster_dir"/node[0-9].pid; do rss=$((rss + $(awk '/VmHWM/ {print $2}' "/proc/$(cat "$f")/status" 2>/dev/null || echo 0))); done
  cluster_rss[$setup]=$((rss / 1024))
  for f in "$cluster_dir"/node[0-9].log; do cp "$f" "$raw/$setup-$(basename "$f")"; done
  cp "$cluster_dir/nats.log" "$raw/$setup-nats.log" 2>/dev/null || true
  cluster_now=""
  cluster_down
 done
done

problems=$(cat "$raw"/*.log 2>/dev/null | grep -cE '^(warn|fail|crit):' || true)

# ---- the report --------------------------------------------------------------------------------------------------
all=$(for m in "$raw"/*.meta; do
  f="$raw/$(jq -r .file "$m")"
  c="${m%.meta}.components"
  jq -c --slurpfile meta "$m" --arg comp "$( [ -f "$c" ] && cat "$c" || echo "")" '. + $meta[0] + {components: $comp}' "$f"
done | jq -s .)
echo "$all" >"$raw/all.json"

q() { jq -r --arg setup "$1" --arg scenario "$2" "$3" "$raw/all.json"; } # setup scenario jq-on-the-runs

# jq helpers: the median of the runs' values (runs that failed count as nothing), formatted.
JQ_LIB='def med: map(select(. != null)) | sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def runs: map(select(.setup == $setup and .scenario == $scenario and (.failed | not)));
def n0: if . == null then "—" else (. + 0.5 | floor | tostring | if length > 3 then .[:-3] + "," + .[-3:] else . end | if length > 7 then .[:-7] + "," + .[-7:] else . end) end;
def f1: if . == null then "—" else (. * 10 + 0.5 | floor) / 10 | tostring end;
def f2: if . == null then "—" else (. * 100 + 0.5 | floor) / 100 | tostring end;'

cell() { # setup scenario figure
  local expr
  case "$3" in
    votes) expr='runs | map(.votesPerSecond) | med | n0' ;;
    lat) expr='runs | [(map(.p50Ms) | med | f1), (map(.p99Ms) | med | f1)] | join(" / ")' ;;
    cpu) expr='runs | map(.serverCpuSeconds) | med | f2' ;;
    lgcpu) expr='runs | map(.loadGenCpuSeconds) | med | f2' ;;
    other) expr='runs | map(.otherCpuSeconds) | med | f2' ;;
    usvote) expr='runs | map(if .serverCpuSeconds != null and .votesPerSecond > 0 then .serverCpuSeconds * 1e6 / (.votesPerSecond * .durationSeconds) else null end) | med | f1' ;;
    msgs) expr='runs | map(.messagesPerSecond) | med | n0' ;;
    usmsg) expr='runs | map(if .serverCpuSeconds != null and .messagesPerSecond > 0 then .serverCpuSeconds * 1e6 / (.messagesPerSecond * .durationSeconds) else null end) | med | f1' ;;
    ack) expr='runs | [(map(.ackP50Ms) | med | f1), (map(.ackP99Ms) | med | f1)] | join(" / ")' ;;
    first) expr='runs | [(map(.firstWatcherP50Ms) | med | f1), (map(.lastWatcherP50Ms) | med | f1)] | join(" / ")' ;;
    verified) expr='[map(select(.setup == $setup and .scenario == $scenario)) | length, (runs | map(select(.verified == true)) | length)] | "\(.[1]) of \(.[0])"' ;;
    *) echo "?"; return ;;
  esac
  jq -r --arg setup "$1" --arg scenario "$2" "$JQ_LIB $expr" "$raw/all.json"
}
ratio() { # setup-a setup-b scenario field: median(a) / median(b)
  jq -r --arg a "$1" --arg b "$2" --arg scenario "$3" --arg field "$4" "$JQ_LIB"'
    def m($s): map(select(.setup == $s and .scenario == $scenario and (.failed | not))) | map(.[$field]) | med;
    if (m($a) != null and m($b) != null and m($b) > 0) then (m($a) / m($b) * 100 + 0.5 | floor) / 100 | "\(.)×" else "—" end' "$raw/all.json"
}

setups=()
[ $embedded -eq 0 ] || setups+=(embedded)
for size in $sizes; do for mode in $ack_modes; do setups+=("${size}node$([ "$mode" = ledger ] && echo -ledger || true)"); done; done
label() {
  case "$1" in
    embedded) echo "embedded (direct)" ;;
    *-ledger) local n=${1%node-ledger}; echo "$n node$([ "$n" = 1 ] || echo s) (nginx), ack after ledger" ;;
    *) echo "${1%node} node$([ "${1%node}" = 1 ] || echo s) (nginx)" ;;
  esac
}
first_cluster=""; last_cluster=""
for s in "${setups[@]}"; do [ "$s" = embedded ] && continue; [ -n "$first_cluster" ] || first_cluster=$s; last_cluster=$s; done

suffix=""
[ $quick -eq 1 ] && suffix="-quick"
[ "$ack_modes" = ledger ] && suffix="$suffix-ack-after-ledger"
[ "$ack_modes" = "stream ledger" ] && suffix="$suffix-ack-modes"
[ "$pin" -eq 0 ] || suffix="$suffix-pinned"
out="bench/results/cluster-$(date -u +%F)$suffix.md"
cmd="bench/cluster.sh${args_given:+ $args_given}"
{
  echo "# Cluster benchmark, $(date -u '+%F %H:%M UTC')"
  echo
  echo "Command: \`$cmd\` (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench scripts ':!bench/results' || echo ', with uncommitted changes'))."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -h | awk '/^Mem:/ {print $2}') memory, $(uname -sr), .NET $(dotnet --version) SDK; $(nats-server --version 2>/dev/null | head -1), $(redis-server --version | awk '{print "Redis " $3}' | tr -d 'v='), PostgreSQL $(ls /usr/lib/postgresql | sort -V | tail -1), $(nginx -v 2>&1 | sed 's/.*: //')."
  if [ "$pin" -eq 1 ]; then
    echo "**Pinned** (\`taskset\`): every server process (the Tally nodes, nats-server, redis-server, PostgreSQL, nginx; the embedded server) on core $bench_server_core, the load generator on core $bench_loadgen_core."
  else
    echo "**Everything shares these $(nproc) cores**: the Tally nodes, nats-server, redis-server, PostgreSQL, nginx and the load generator."
  fi
  echo
  echo "Set-ups, one after the other: $(for s in "${setups[@]}"; do printf '%s; ' "$(label "$s")"; done | sed 's/; $//'). The embedded server is Tally alone on its port (SQLite log, synchronous=FULL), as \`bench/fanout.sh\` starts it; a cluster is \`scripts/cluster.sh up\` with \`TALLY_NODES\` set, in its own folder with its own ports, everything on 127.0.0.1, default settings (16 partitions, JetStream file storage, 1 replica), and is taken down and wiped after its runs; the load generator talks to nginx only."
  echo "Each set-up: $rounds round(s) of ingest-single (64 loops of HTTP single votes, one poll), ingest-batch (4 loops × 1,000 votes over 4 polls), ingest-ws (64 WebSockets voting with the \`vote\` op), fanout ($watchers WebSocket watchers of one poll × $rate votes/s from 16 senders) and fanout-quiet ($watchers watchers × 1 vote/s); windows of ${duration} s after ${warmup} s warm-up (fanout-quiet: ${quiet_duration} s after 1 s)."
  echo
  printf '| figure |'; for s in "${setups[@]}"; do printf ' %s |' "$(label "$s")"; done
  [ $embedded -eq 0 ] || [ -z "$first_cluster" ] || printf ' %s ÷ embedded |' "$(label "$first_cluster")"
  [ -z "$first_cluster" ] || [ "$first_cluster" = "$last_cluster" ] || printf ' %s ÷ %s |' "$(label "$last_cluster")" "$(label "$first_cluster")"
  echo
  printf '|---|'; for _ in "${setups[@]}"; do printf -- '---:|'; done
  [ $embedded -eq 0 ] || [ -z "$first_cluster" ] || printf -- '---:|'
  [ -z "$first_cluster" ] || [ "$first_cluster" = "$last_cluster" ] || printf -- '---:|'
  echo
  row() { # title scenario figure [ratio-field]
    printf '| %s |' "$1"
    for s in "${setups[@]}"; do printf ' %s |' "$(cell "$s" "$2" "$3")"; done
    if [ $embedded -eq 1 ] && [ -n "$first_cluster" ]; then printf ' %s |' "$([ -n "${4:-}" ] && ratio "$first_cluster" embedded "$2" "$4" || echo "")"; fi
    if [ -n "$first_cluster" ] && [ "$first_cluster" != "$last_cluster" ]; then printf ' %s |' "$([ -n "${4:-}" ] && ratio "$last_cluster" "$first_cluster" "$2" "$4" || echo "")"; fi
    echo
  }
  row "ingest, single votes (64 loops): votes/s" ingest-single votes votesPerSecond
  row "ingest, single votes: p50 / p99 ms" ingest-single lat p99Ms
  row "ingest, single votes: CPU µs per vote (all server processes)" ingest-single usvote
  row "ingest, batches of 1,000 (4 loops): votes/s" ingest-batch votes votesPerSecond
  row "ingest, batches: p50 / p99 ms per request" ingest-batch lat p99Ms
  row "ingest, batches: CPU µs per vote" ingest-batch usvote
  row "ingest over the WebSocket \`vote\` op (64 sockets): votes/s" ingest-ws votes votesPerSecond
  row "ingest over WebSocket: p50 / p99 ms" ingest-ws lat p99Ms
  row "fan-out ${watchers} × ${rate}/s: vote → watcher p50 / p99 ms" fanout lat p99Ms
  row "fan-out: first / last watcher p50 ms (per vote)" fanout first
  row "fan-out: the vote's own ack p50 / p99 ms" fanout ack
  row "fan-out: deliveries/s (messages to watchers)" fanout msgs messagesPerSecond
  row "fan-out: server CPU-s in the ${duration} s window (all server processes)" fanout cpu serverCpuSeconds
  row "fan-out: CPU µs per delivery" fanout usmsg
  row "fan-out: load-generator CPU-s in the window" fanout lgcpu loadGenCpuSeconds
  row "quiet fan-out ${watchers} × 1/s: vote → watcher p50 / p99 ms" fanout-quiet lat p50Ms
  row "quiet fan-out: the vote's own ack p50 / p99 ms" fanout-quiet ack
  printf "| other processes' CPU-s in the windows (noise), ingest-single / batch / ws / fan-out / quiet |"
  for s in "${setups[@]}"; do
    printf ' %s |' "$(for sc in ingest-single ingest-batch ingest-ws fanout fanout-quiet; do cell "$s" "$sc" other; done | paste -sd/ | sed 's|/| / |g')"
  done
  [ $embedded -eq 0 ] || [ -z "$first_cluster" ] || printf ' |'
  [ -z "$first_cluster" ] || [ "$first_cluster" = "$last_cluster" ] || printf ' |'
  echo
  if [ -n "$first_cluster" ]; then
    printf '| a cluster: seconds until idle after ingest-single / ingest-batch / fan-out (work left after the last answer) |'
    for s in "${setups[@]}"; do
      if [ "$s" = embedded ]; then printf ' — |'; continue; fi
      printf ' %s |' "$(for sc in ingest-single ingest-batch fanout; do jq -r --arg setup "$s" --arg scenario "$sc" "$JQ_LIB"' map(select(.setup == $setup and .scenario == $scenario)) | map(.settleSeconds) | med | if . == null then "—" else tostring end' "$raw/all.json"; done | paste -sd/ | sed 's|/| / |g')"
    done
    [ $embedded -eq 0 ] || printf ' |'
    [ "$first_cluster" = "$last_cluster" ] || printf ' |'
    echo
  fi
  printf '| runs verified (ingest: counted = acknowledged; fan-out: every watcher ends with the served counts) |'
  for s in "${setups[@]}"; do
    printf ' %s |' "$(for sc in ingest-single ingest-batch ingest-ws fanout fanout-quiet; do cell "$s" "$sc" verified; done | awk '{v += $1; t += $3} END {print v " of " t}')"
  done
  [ $embedded -eq 0 ] || [ -z "$first_cluster" ] || printf ' |'
  [ -z "$first_cluster" ] || [ "$first_cluster" = "$last_cluster" ] || printf ' |'
  echo
  echo
  echo "Medians over the rounds (p50 and p99: the median of each run's percentile; every run's own figures are in the raw JSON). Ratios are of the medians: above 1× for votes/s, deliveries/s and CPU-s means more; for latency, slower."
  echo "CPU: user + system CPU seconds inside the measured window of every server process — for a cluster the Tally nodes, nats-server, redis-server, PostgreSQL (postmaster and backends) and nginx (master and workers), process trees read from /proc; for the embedded server its one process. µs per vote or delivery divides them by the window's acknowledged votes or messages delivered."
  echo "Noise: what the rest of the machine (other sessions' builds and tests on this shared box) took in each window, from /proc/stat less the server processes and the load generator; a window of ${duration} s has $(awk -v d="$duration" -v n="$(nproc)" 'BEGIN {print d * n}') CPU-s in all."
  echo "Deliveries/s: messages (deltas, presence included) the watchers received in the window; with a 50 ms tick a watcher of a busy poll gets at most ~20 a second, so this is bounded by watchers × 20 whatever the vote rate."
  echo
  if [ -n "$first_cluster" ]; then
    echo "Where a cluster's CPU went: each component's share of the cluster processes' CPU from the start of a load-generator invocation (set-up, warm-up, window, checks) until the cluster was idle again (so the work left after the last answer, e.g. the ledger catching up, is in it); medians over the rounds:"
    echo
    echo "| set-up | scenario | Tally nodes | nats-server | PostgreSQL | redis-server | nginx |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    for s in "${setups[@]}"; do
      [ "$s" = embedded ] && continue
      for sc in ingest-single ingest-batch ingest-ws fanout fanout-quiet; do
        jq -r --arg setup "$s" --arg scenario "$sc" --arg lbl "$(label "$s")" "$JQ_LIB"'
          runs | map(.components | select(. != "") | split(" ") | map(tonumber)) | select(length > 0)
          | [range(0; 5) as $i | map(.[$i] / ((add // 1) | if . == 0 then 1 else . end)) | med]
          | "| \($lbl) | \($scenario) | " + (map((. * 100 | floor | tostring) + "%") | join(" | ")) + " |"' "$raw/all.json"
      done
    done
    echo
  fi
  unsettled=$(grep -l "presence did not settle" "$raw"/[0-9]*-fanout*.log 2>/dev/null | sed 's|.*/[0-9]*-||; s|-[0-9]*\.log$||' | sort | uniq -c | awk '{printf "%s%s: %s", (NR > 1 ? "; " : ""), $2, $1}' || true)
  if [ -n "$unsettled" ]; then
    echo "Presence did not reach the run's watcher count in the live messages (fan-out runs, by set-up and scenario: $unsettled): a cluster node's \`watchers\` counts its own watchers only (docs/cluster.md); it does not change what is measured."
    echo
  fi
  echo "Failed runs, if any (a failed run counts as nothing in the medians):"
  echo
  jq -r 'map(select(.failed or .verified == false)) | if length == 0 then "- none" else .[] | "- \(.setup) \(.scenario) round \(.round): \(if .failed then "exit \(.exit)" else (.problem // .firstProblem // "not verified") end)" end' "$raw/all.json"
  echo
  echo "Peak RSS: embedded ${embedded_rss:-—} MiB; $(for s in "${setups[@]}"; do [ "$s" = embedded ] || printf '%s %s MiB over its Tally nodes; ' "$(label "$s")" "${cluster_rss[$s]:-—}"; done | sed 's/; $//')."
  echo "Logs have $problems warn/fail/crit entries (\`$(realpath --relative-to=. "$raw")/\`). The whole script took $((SECONDS - started)) s."
} >"$out"

cat "$out"
echo
log "saved $out (raw runs in $raw)"
if [ $failed -ne 0 ]; then
  log "SOME RUNS FAILED (see above): the figures are not to be trusted"
  exit 1
fi
