#!/usr/bin/env bash
# Auth-cost benchmark: what each credential costs a single vote (POST /v1/polls/{id}/votes), as ratios of the same
# run's unauthenticated votes. One Tally on a fresh data folder, pinned to core 1; the load generator pinned to core 0
# (taskset). Modes alternate inside each round (none, key, hs256, rs256, es256, anon), two shapes:
#   - one vote per token: every request carries a token the server has never seen (the worst case);
#   - 10 votes per token: each voter votes on 10 polls with one token (a session's questions): checked once, cached.
# Every poll dedupes by voter and every vote is counted; after each run the server's totals are checked against the
# acknowledged votes. Prints markdown, saved as bench/results/auth-<date>.md (raw JSON and logs in bench/results/raw/).
#
#   bench/auth.sh            # 3 rounds, 5 s measured after 1 s warm-up per run (~15 min, most of it signing tokens)
#   bench/auth.sh --quick    # 1 round, 3 s after 1 s (~4 min)
#
# Options: --rounds N, --duration S, --warmup S, --concurrency C, --quiet-wait S (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rounds=3 duration=5 warmup=1 concurrency=32 quick=0 quiet_wait=30
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 rounds=1 duration=3; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores: the server on core 1, the load generator on core 0" >&2; exit 2; }

# Requests a run may send (and so voters, and tokens to sign before it): past what one core of server takes in the
# window, so the voters do not run out (the report says when they do; CPU per vote stays right either way).
per_second=14000
max_one=$(( per_second * (duration + warmup) ))
max_ten=$(( 2 * per_second * (duration + warmup) )) # a tenth as many voters to prepare: cheap

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="bench/results/raw/auth-$stamp"
mkdir -p "$raw"
data=$(mktemp -d -t tally-bench-data.XXXXXX)
admin_key="bench-$RANDOM$RANDOM"
tally_pid=""
cleanup() { stop_server "$tally_pid" Tally; rm -rf "$data"; }
trap cleanup EXIT

build_tally_and_loadgen

# The JWKS the rs256 / es256 runs' workspaces name is served by the load generator over plain http on loopback.
port=$(free_port)
url="http://127.0.0.1:$port"
(cd "$server_dir" && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 \
  Tally__Access__JwksRequireHttps=false exec taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$url") >"$raw/tally.log" 2>&1 &
tally_pid=$!
wait_ready "$tally_pid" "$url" tally "$raw/tally.log"
log "Tally pid $tally_pid on $url (core 1), data in $data; the load generator runs on core 0"

# On one core the server's JIT takes tens of seconds of load to tier up (the first runs of a cold server went at a
# quarter of the warm rate): every mode runs three times, unrecorded, before round 1.
log "priming (not recorded): every mode three times, 3 s each"
for _ in 1 2 3; do
  for mode in none key hs256 rs256 es256 anon; do
    $loadgen ingest-auth --url "$url" --admin-key "$admin_key" --auth "$mode" --concurrency "$concurrency" --duration 2 --warmup 1 --max-requests 25000 >>"$raw/prime.log" 2>&1
  done
done

failed=0 n=0
run() { # mode votes-per-token max-requests
  n=$((n + 1))
  local json; json=$(printf '%s/run-%03d-%s-%s.json' "$raw" "$n" "$1" "$2")
  wait_quiet
  kill -0 "$tally_pid" 2>/dev/null || { log "Tally (pid $tally_pid) is gone; its log ends:"; tail -5 "$raw/tally.log" >&2; failed=1; return 0; }
  log "run $n: $1, $2 vote(s) per token"
  $loadgen ingest-auth --url "$url" --admin-key "$admin_key" --server-pid "$tally_pid" --auth "$1" --votes-per-token "$2" \
    --max-requests "$3" --concurrency "$concurrency" --duration "$duration" --warmup "$warmup" --json "$json" >&2 \
    || { log "run $n FAILED"; failed=1; }
}

for round in $(seq "$rounds"); do
  for mode in none key hs256 rs256 es256 anon; do run "$mode" 1 "$max_one"; done
  for mode in none key hs256 rs256 es256 anon; do run "$mode" 10 "$max_ten"; done
done

tally_rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$tally_pid/status" 2>/dev/null || echo "unknown")
stop_server "$tally_pid" Tally
problems=$(grep -cE '^(warn|fail|crit):' "$raw/tally.log" || true)

suffix=""; cmd="bench/auth.sh"
[ $quick -eq 1 ] && { suffix="-quick"; cmd="$cmd --quick"; }
out="bench/results/auth-$(date -u +%F)$suffix.md"
{
  echo "# Auth-cost benchmark, $(date -u '+%F %H:%M UTC')"
  echo
  echo "Command: \`$cmd\` (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ', with uncommitted changes'))."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -sr), .NET $(dotnet --version) SDK."
  echo "Tally pinned to core 1, the load generator to core 0 (\`taskset\`); the load generator's CPU is in the tables (it has a core of its own: it is not the bottleneck while it stays well under ${duration} CPU-s a run)."
  echo
  echo "Settings: $rounds round(s); each run ${duration} s measured after ${warmup} s warm-up, $concurrency concurrent loops (one connection each), single votes;"
  echo "the credential modes alternate inside each round. Every poll dedupes by voter (\`dedupe: voter\`), every vote is a new voter's (or a voter's vote on another poll) and is counted."
  echo "Tokens are signed by the load generator before each run (IdentityModel's JsonWebTokenHandler; RSA 2048, P-256, a 64-byte HS256 secret), live 1 h, \`sub\` = the voter;"
  echo "the rs256 and es256 workspaces name a JWKS URL the load generator serves. The API key has \`votes:write\`; anonymous tokens come from \`POST /v1/voters\` before the run."
  echo "Tally: default settings (SQLite WAL, synchronous=FULL, token cache 100,000), abuse limits off (bench/README.md), one process for all runs."
  echo
} >"$out"
report_status=0
on_loadgen_core dotnet bench/Tally.LoadGen/bin/Release/net10.0/Tally.LoadGen.dll report-auth --dir "$raw" >>"$out" || report_status=$?
{
  echo
  echo "After all runs: Tally's peak RSS was $tally_rss; its log has $problems warn/fail/crit entries (\`$raw/tally.log\`)."
} >>"$out"
cat "$out"
log "saved $out (raw runs in $raw)"
[ $failed -eq 0 ] && [ $report_status -eq 0 ] || { log "SOME RUNS FAILED: the figures are not to be trusted"; exit 1; }
