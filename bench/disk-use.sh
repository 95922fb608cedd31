#!/usr/bin/env bash
# Disk use per million votes, in each mode: the load generator sends batches of 1,000 votes (4 loops, new voters, 4
# polls) for --seconds, then the script reads what stays on disk.
#   embedded: the data folder (SQLite log and its WAL, snapshots, the access store) after a clean stop;
#   cluster (one node, scripts/cluster.sh): the JetStream store folder, the PostgreSQL database (the ledger: a row per
#   ballot; credentials; snapshots) once the ledger has every ballot, Redis's append-only file, the node's folder.
# The vote count is the log's own: `POST /v1/verify` answers how many events it read.
#
#   bench/disk-use.sh                 # 10 s of batches per mode (about 1-2 million votes each)
#   bench/disk-use.sh --seconds 30
#
# Writes bench/results/disk-use-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PATH="$PATH:/usr/sbin"
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: $0 [--seconds S]" >&2; exit 2 ;;
  esac
done

build_tally_and_loadgen
key="bench-$RANDOM$RANDOM"
work=$(mktemp -d -t tally-disk-use.XXXXXX)
chmod 755 "$work"
pid="" cluster=""
cleanup() {
  stop_server "$pid" Tally
  [ -z "$cluster" ] || TALLY_CLUSTER_DIR="$cluster" timeout 120 scripts/cluster.sh down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM

events_of() { curl -sf -X POST -H "Authorization: Bearer $2" "$1/v1/verify" | jq -r '.events'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
per_million() { awk -v b="$1" -v n="$2" 'BEGIN {printf "%.1f", b / n * 1e6 / 1048576}'; }
per_vote() { awk -v b="$1" -v n="$2" 'BEGIN {printf "%.0f", b / n}'; }

# 1. Embedded.
data="$work/embedded"; mkdir -p "$data"
port=$(free_port); url="http://127.0.0.1:$port"
(cd "$server_dir" && TALLY_DATA="$data" TALLY_ADMIN_KEY="$key" TALLY_GRPC_URLS=http://127.0.0.1:0 exec dotnet Tally.Server.dll --urls "$url") >"$work/embedded.log" 2>&1 &
pid=$!
wait_ready "$pid" "$url" Tally "$work/embedded.log"
log "embedded: batches for $seconds s"
$loadgen ingest-batch --url "$url" --admin-key "$key" --batch 1000 --concurrency 4 --duration "$seconds" --warmup 1 >"$work/embedded-load.log" 2>&1
e_events=$(events_of "$url" "$key")
stop_server "$pid" Tally; pid=""
e_bytes=$(du -sb "$data" | cut -f1)
e_files=$(cd "$data" && du -ab . | sort -k2 | awk '$2 != "." {sub(/^\.\//, "", $2); printf "%s%s %.1f MiB", (n++ ? "; " : ""), $2, $1 / 1048576}')

# 2. A one-node cluster.
cluster="$work/cluster"; mkdir -p "$cluster"
nginx_port=$(free_port) grpc_port=$(free_port) nats_port=$(free_port) redis_port=$(free_port) pg_port=$(free_port) node_port=$(free_port)
TALLY_CLUSTER_DIR="$cluster" TALLY_NODES=1 TALLY_PORT="$nginx_port" TALLY_GRPC_PORT="$grpc_port" TALLY_NODE_PORT="$node_port" \
  NATS_PORT="$nats_port" REDIS_PORT="$redis_port" PG_PORT="$pg_port" TALLY_ADMIN_KEY="$key" timeout 300 scripts/cluster.sh up >"$work/cluster.log" 2>&1
url="http://127.0.0.1:$nginx_port"
log "cluster: batches for $seconds s"
$loadgen ingest-batch --url "$url" --admin-key "$key" --batch 1000 --concurrency 4 --duration "$seconds" --warmup 1 >"$work/cluster-load.log" 2>&1
c_events=$(events_of "$url" "$key")
psql_() { psql -h 127.0.0.1 -p "$pg_port" -U tally -d tally -Atc "$1"; }
# The ledger trails the stream: wait (at most 5 minutes) until its ballot count holds still for 3 s.
ballots=0 still=0
for _ in $(seq 300); do
  now=$(psql_ "SELECT count(*) FROM ballots" 2>/dev/null || echo 0)
  if [ "$now" -gt 0 ] && [ "$now" -eq "$ballots" ]; then still=$((still + 1)); else still=0; fi
  ballots=$now
  [ "$still" -lt 3 ] || break
  sleep 1
done
n_bytes=$(du -sb "$cluster/nats" | cut -f1)
pg_bytes=$(psql_ "SELECT pg_database_size('tally')")
ballot_bytes=$(psql_ "SELECT pg_total_relation_size('ballots')")
redis_bytes=$(du -sb "$cluster/redis" | cut -f1)
node_bytes=$(du -sb "$cluster/node1" | cut -f1)

out="bench/results/disk-use-$(date -u +%F).md"
{
  echo "# Disk use per million votes, $(date -u '+%F %H:%M UTC')"
  echo
  echo "Command: \`bench/disk-use.sh --seconds $seconds\` (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench scripts ':!bench/results' || echo ', with uncommitted changes'))."
  echo "Load: the load generator's ingest-batch (batches of 1,000 single-choice votes of new voters, 4 loops, 4 polls) for $seconds s after 1 s of warm-up; vote counts are the events \`POST /v1/verify\` read from the log."
  echo
  echo "| mode | what | events in the log | bytes | MiB per million votes | bytes per vote |"
  echo "|---|---|---:|---:|---:|---:|"
  echo "| embedded | the data folder after a clean stop ($e_files) | $e_events | $e_bytes | $(per_million "$e_bytes" "$e_events") | $(per_vote "$e_bytes" "$e_events") |"
  echo "| cluster, 1 node | the JetStream store (1 replica; each replica holds as much) | $c_events | $n_bytes | $(per_million "$n_bytes" "$c_events") | $(per_vote "$n_bytes" "$c_events") |"
  echo "| cluster, 1 node | the PostgreSQL database ($ballots ballot rows; the ballots table with its indexes $(mib "$ballot_bytes") MiB) | $c_events | $pg_bytes | $(per_million "$pg_bytes" "$c_events") | $(per_vote "$pg_bytes" "$c_events") |"
  echo "| cluster, 1 node | Redis's folder (append-only file of the read models) | $c_events | $redis_bytes | $(per_million "$redis_bytes" "$c_events") | $(per_vote "$redis_bytes" "$c_events") |"
  echo "| cluster, 1 node | the node's own folder (nothing of the votes: cluster mode keeps them in NATS and PostgreSQL) | $c_events | $node_bytes | — | — |"
  echo
  echo "Nothing is compacted yet: every vote stays in the log (and in cluster mode in the stream and the ledger) for ever."
} >"$out"
cat "$out"
log "saved $out"
