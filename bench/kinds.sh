#!/usr/bin/env bash
# Ingest by question kind: single-vote HTTP ingest (POST /v1/polls/{id}/votes, 64 loops) on single-choice polls
# (3 options), rating polls (1-5, votes by value), text polls (answers of 3-8 words: the word cloud's terms), ranking polls (10 options, every vote a full ranking shuffled per
# loop: up to 16,384 distinct rankings per poll, so each publication recounts the instant runoff over that many) and a
# quiz (one event, 10,000 joined participants answering 100 quiz questions in turn, the last loop done with a question
# showing the next: every answer is scored on the 10,000-entry leaderboard in the same commit), on one Tally, the kinds
# alternating inside each round; ratios against single-choice ingest in the same run. Each run votes on polls of its
# own and checks that the server counted exactly the votes it acknowledged.
#
#   bench/kinds.sh            # 3 rounds, 10 s measured after 2 s warm-up each, 45 s priming (~4 min)
#   bench/kinds.sh --quick    # 1 round, 3 s measured (~1.5 min)
#
# Options: --rounds N, --duration S, --warmup S, --prime S, --concurrency C, --quiet-wait S.
# Tally runs on core 1 and the load generator on core 0 (bench/lib.sh); both CPUs are in the table.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rounds=3 duration=10 warmup=2 prime=45 concurrency=64 quick=0 quiet_wait=30
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 rounds=1 duration=3 prime=20; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --prime) prime=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores: the server on core 1, the load generator on core 0" >&2; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="bench/results/raw/kinds-$stamp"
mkdir -p "$raw"
admin_key="bench-$RANDOM$RANDOM"
stop_tally_on_exit
data=$(mktemp -d -t tally-bench-data.XXXXXX)
build_tally_and_loadgen

port=$(free_port)
url="http://127.0.0.1:$port"
(cd "$server_dir" && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 \
  exec taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$url") >"$raw/tally.log" 2>&1 &
pid=$!
wait_ready "$pid" "$url" tally "$raw/tally.log"
log "Tally pid $pid on $url (core $bench_server_core), data in $data; the load generator runs on core $bench_loadgen_core"

max=$(( 60000 * (duration + warmup) ))
log "priming (not recorded): ${prime} s of each kind, so the JIT has settled on every kind's path"
for kind in single rating ranking text quiz; do
  $loadgen ingest-single --url "$url" --admin-key "$admin_key" --kind "$kind" --concurrency "$concurrency" --duration "$prime" --warmup 0 \
    --max-requests $(( 60000 * prime )) >>"$raw/prime.log" 2>&1
done

failed=0 n=0
for round in $(seq "$rounds"); do
  for kind in single rating ranking text quiz; do
    n=$((n + 1))
    wait_quiet
    kill -0 "$pid" 2>/dev/null || { log "Tally (pid $pid) is gone; its log ends:"; tail -5 "$raw/tally.log" >&2; failed=1; break 2; }
    log "run $n (round $round): $kind"
    $loadgen ingest-single --url "$url" --admin-key "$admin_key" --server-pid "$pid" --kind "$kind" --concurrency "$concurrency" \
      --duration "$duration" --warmup "$warmup" --max-requests "$max" --json "$(printf '%s/run-%02d-%s.json' "$raw" "$n" "$kind")" >&2 \
      || { log "run $n FAILED"; failed=1; }
  done
done

rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$pid/status" 2>/dev/null || echo "unknown")
stop_server "$pid" Tally
pid=""
problems=$(grep -cE '^(warn|fail|crit):' "$raw/tally.log" || true)

suffix=""; cmd="bench/kinds.sh"
[ $quick -eq 1 ] && { suffix="-quick"; cmd="$cmd --quick"; }
out="bench/results/kinds-$(date -u +%F)$suffix.md"
{
  echo "# Ingest by question kind, $(date -u '+%F %H:%M UTC')"
  echo
  echo "Command: \`$cmd\` (commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench ':!bench/results' || echo ', with uncommitted changes'))."
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -sr), .NET $(dotnet --version) SDK. $(pinning_note)"
  echo
  echo "Settings: $rounds round(s), the kinds alternating in each; each run ${duration} s measured after ${warmup} s warm-up on a new poll, $concurrency loops"
  echo "(one connection each) of single HTTP votes; ${prime} s of each kind first, not recorded. single: 3 options; rating: 1-5, votes by \`value\`;"
  echo "ranking: 10 options, every vote a full ranking (up to $((concurrency * 256)) distinct rankings per poll); text: answers of 3-8 words"
  echo "from a 5,000-word vocabulary at log-uniform ranks (normalised into terms, counted into the bounded top terms); quiz: one event of 100 quiz"
  echo "questions and 10,000 participants (joined before the run, not measured), each answer scored on the leaderboard, the questions shown"
  echo "in turn by the load generator as each is answered by all (its pauses count against the quiz's rate). Tally: default settings"
  echo "(SQLite WAL, synchronous=FULL, \`RankingPublishDelay\` 250 ms), abuse limits off (bench/README.md), one process for all runs."
  echo
  python3 - "$raw" <<'PY'
import glob, json, statistics, sys
runs = {}
for path in sorted(glob.glob(sys.argv[1] + "/run-*.json")):
    j = json.load(open(path))
    runs.setdefault(j["kind"], []).append(j)
def med(rows, key): return statistics.median(r[key] for r in rows)
def span(rows, key, f="{:,.0f}"): return f"{f.format(med(rows, key))} [{f.format(min(r[key] for r in rows))}-{f.format(max(r[key] for r in rows))}]"
base = med(runs["single"], "votesPerSecond") if "single" in runs else None
print("| kind | votes/s, median [min-max] | vs single | server CPU-s | µs server CPU per vote | p50 / p99 ms | load-gen CPU-s | other CPU-s | counted exactly |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
for kind in ("single", "rating", "ranking", "text", "quiz"):
    rows = runs.get(kind, [])
    if not rows:
        continue
    us = statistics.median(1e6 * r["serverCpuSeconds"] / (r["votesPerSecond"] * r["durationSeconds"]) for r in rows)
    ratio = f"**{med(rows, 'votesPerSecond') / base:.2f}×**" if base else "—"
    print(f"| {kind} | {span(rows, 'votesPerSecond')} | {ratio} | {med(rows, 'serverCpuSeconds'):.2f} | {us:.1f} | {med(rows, 'p50Ms'):.2f} / {med(rows, 'p99Ms'):.2f} |"
          f" {med(rows, 'loadGenCpuSeconds'):.2f} | {med(rows, 'otherCpuSeconds'):.2f} | {all(r.get('verified') for r in rows)} ({len(rows)} runs) |")
PY
  echo
  echo "After all runs: Tally's peak RSS was $rss; its log has $problems warn/fail/crit entries (\`$raw/tally.log\`)."
} >"$out"
cat "$out"
log "saved $out (raw runs in $raw)"
[ $failed -eq 0 ] || { log "SOME RUNS FAILED: the figures are not to be trusted"; exit 1; }
