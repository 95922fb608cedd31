#!/usr/bin/env bash
# Webhook delivery rate: one endpoint (vote.counted) on one Tally, N votes ingested in batches, timed until a Node.js
# receiver (bench/watchers/webhook-receiver.cjs: http module, keep-alive, verifying every signature) has taken every
# one; against the same receiver fed by a minimal in-order sender (one signed POST at a time on one keep-alive
# connection, Node) in the same run: the rate one-at-a-time delivery can reach here. Tally and the baseline sender
# run on core 1, the receiver (and curl) on core 0; both processes' CPU is in the table. Checks: every vote acked is
# taken once, no bad signature, no poll out of seq order.
#
#   bench/webhooks.sh              # 30,000 votes, 3 rounds (~2 min)
#   bench/webhooks.sh --votes N --rounds R
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

votes=30000 rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --votes) votes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores" >&2; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="bench/results/raw/webhooks-$stamp"
mkdir -p "$raw"
admin_key="bench-$RANDOM$RANDOM"
stop_tally_on_exit
receiver_pid=""
trap 'stop_server "$pid" Tally; [ -z "$receiver_pid" ] || kill "$receiver_pid" 2>/dev/null; [ -z "$data" ] || rm -rf "$data"' EXIT
data=$(mktemp -d -t tally-bench-data.XXXXXX)
log "building Release (server)"
dotnet build src/Tally.Server -c Release -nologo -clp:ErrorsOnly -v:q >&2
server_dir=src/Tally.Server/bin/Release/net10.0

rport=$(free_port)
taskset -c "$bench_loadgen_core" node bench/watchers/webhook-receiver.cjs "$rport" >"$raw/receiver.log" 2>&1 &
receiver_pid=$!
receiver="http://127.0.0.1:$rport"
port=$(free_port)
url="http://127.0.0.1:$port"
(cd "$server_dir" && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 \
  Tally__Webhooks__AllowPrivateNetworks=true Tally__Webhooks__AllowHttp=true \
  exec taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$url") >"$raw/tally.log" 2>&1 &
pid=$!
wait_ready "$pid" "$url" tally "$raw/tally.log"
for _ in $(seq 100); do curl -sf "$receiver/stats" >/dev/null && break; sleep 0.1; done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, clock ticks
hz=$(getconf CLK_TCK)
auth=(-H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json')
rows=()
for round in $(seq "$rounds"); do
  # A fresh endpoint each round (from now on), and its secret to the receiver.
  created=$(curl -sf "${auth[@]}" -X POST "$url/v1/workspaces/default/webhooks" -d "{\"url\":\"$receiver/hook\",\"eventTypes\":[\"vote.counted\"]}")
  hook=$(echo "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["webhook"]["id"])')
  echo "$created" | python3 -c 'import json,sys; print(json.dumps({"secret": json.load(sys.stdin)["secret"]}))' | curl -sf -X POST "$receiver/config" -d @- >/dev/null
  before=$(curl -sf "$receiver/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["taken"])')
  poll=$(curl -sf "${auth[@]}" -X POST "$url/v1/polls" -d '{"question":"Bench?","options":["A","B","C"],"dedupe":"voter"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  acked=0
  t_cpu0=$(cpu "$pid"); r_cpu0=$(cpu "$receiver_pid"); t0=$(date +%s%N)
  for ((from = 0; from < votes; from += 5000)); do
    python3 -c "import json,sys; print(json.dumps({'votes':[{'pollId':'$poll','optionIds':[1 + i % 3],'voterId':'r$round-v%d' % i} for i in range($from, min($from + 5000, $votes))]}))" >"$raw/batch.json"
    n=$(taskset -c "$bench_loadgen_core" curl -sf "${auth[@]}" -X POST "$url/v1/votes/batch" --data-binary @"$raw/batch.json" \
      | python3 -c 'import json,sys; print(sum(r["status"] == "counted" for r in json.load(sys.stdin)["results"]))')
    acked=$((acked + n))
  done
  t_ingested=$(date +%s%N)
  deadline=$((SECONDS + 600))
  while :; do
    stats=$(curl -sf "$receiver/stats")
    taken=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["taken"])')
    [ $((taken - before)) -ge "$acked" ] && break
    [ $SECONDS -lt $deadline ] || { log "round $round: only $((taken - before)) of $acked delivered in 600 s"; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s%N); t_cpu1=$(cpu "$pid"); r_cpu1=$(cpu "$receiver_pid")
  secs=$(python3 -c "print(($t1 - $t0) / 1e9)")
  rate=$(python3 -c "print(round($acked / $secs))")
  tcpu=$(python3 -c "print(round(100 * ($t_cpu1 - $t_cpu0) / $hz / $secs))")
  rcpu=$(python3 -c "print(round(100 * ($r_cpu1 - $r_cpu0) / $hz / $secs))")
  ingest=$(python3 -c "print(round($acked / (($t_ingested - $t0) / 1e9)))")
  log "round $round: $acked votes acked (ingest $ingest/s), all delivered in $secs s: $rate/s; Tally CPU $tcpu%, receiver CPU $rcpu%"
  curl -sf "${auth[@]}" "$url/v1/workspaces/default/webhooks/$hook" >"$raw/endpoint-$round.json"
  curl -sf "${auth[@]}" -X DELETE "$url/v1/workspaces/default/webhooks/$hook" >/dev/null
  # The baseline: the minimal in-order sender on Tally's core, to the same receiver.
  base=$(taskset -c "$bench_server_core" node bench/watchers/webhook-receiver.cjs --send "$receiver/hook" "$acked")
  base_rate=$(echo "$base" | python3 -c 'import json,sys; print(json.load(sys.stdin)["perSecond"])')
  log "round $round: baseline sender $base_rate/s"
  rows+=("| $round | $acked | $ingest | $secs | **$rate** | $tcpu% | $rcpu% | $base_rate | $(python3 -c "print(f'{$rate / $base_rate:.2f}')") |")
done
final=$(curl -sf "$receiver/stats")
stop_server "$pid" Tally
pid=""

out="bench/results/webhooks-$(date -u +%F).md"
{
  echo "# Webhook delivery rate ($(date -u +%F), commit $(git rev-parse --short HEAD))"
  echo
  echo "\`bench/webhooks.sh --votes $votes --rounds $rounds\`. One endpoint (\`vote.counted\`), $votes votes per round ingested in"
  echo "batches of 5,000, timed from the first batch until the receiver had taken every acknowledged vote. The receiver is"
  echo "Node.js (\`bench/watchers/webhook-receiver.cjs\`, verifying every signature); the baseline is a minimal in-order sender"
  echo "(Node, one signed POST at a time on one keep-alive connection) to the same receiver. $(pinning_note) (The receiver"
  echo "and curl are on core $bench_loadgen_core; Tally and the baseline sender on core $bench_server_core.)"
  echo
  echo "| round | votes acked | ingest votes/s | all delivered (s) | deliveries/s | Tally CPU | receiver CPU | baseline sender/s | ratio |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Receiver's checks over the whole run: \`$final\` (bad = signatures that failed, duplicates = a message taken twice,"
  echo "outOfOrder = a poll's seq going back)."
} >"$out"
log "wrote $out"
cat "$out"
