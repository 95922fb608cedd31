#!/usr/bin/env bash
# The cluster fault harness's soak: the seeded fault schedules ./test.sh runs two of (30 s each), run for as long as you
# like. Each seed starts a fresh cluster (three nats-servers in one JetStream cluster with 3 replicas, PostgreSQL, Redis
# and three Tally nodes, each in a network namespace of its own), runs voters and watchers through that seed's random
# schedule of kills, pauses, partitions, isolation and clock skew, heals everything and checks the history (see
# docs/faults.md). Needs root (or sudo without a password) for the namespaces, and iproute2, nftables, faketime,
# nats-server, redis-server and PostgreSQL (./test.sh installs them).
#
#   bench/fault-soak.sh                      # 60 minutes of runs, 60 s schedules, seeds from 1000
#   bench/fault-soak.sh --minutes 10 --seconds 45 --first-seed 1
#
# Writes bench/results/fault-soak-<date>.md: one row per run (faults injected, votes acknowledged, refused, unknown,
# watcher messages, anomalies) and each run's fault log. A failing seed replays its schedule with
#   TALLY_FAULT_SEEDS=<seed> TALLY_FAULT_SECONDS=<seconds> dotnet test tests/Tally.Server.Tests --filter ClusterFaultScheduleTests
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=60 seconds=60 first=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --first-seed) first=$2; shift 2 ;;
    *) echo "usage: $0 [--minutes N] [--seconds S] [--first-seed N]" >&2; exit 2 ;;
  esac
done

dotnet build tests/Tally.Server.Tests -c Release -nologo -clp:ErrorsOnly -v:q >&2
out="bench/results/fault-soak-$(date -u +%F).md"
# The rows are kept under bench/results/raw/ (not committed) as they come, so a soak stopped early keeps what it ran.
mkdir -p bench/results/raw
rows="$(pwd)/bench/results/raw/fault-soak-$(date -u +%Y%m%dT%H%M%SZ).rows"
: >"$rows"
end=$(( $(date +%s) + minutes * 60 ))
seed=$first runs=0 failed=0
while [ "$(date +%s)" -lt "$end" ]; do
  echo "seed $seed ($(date -u +%T))" >&2
  if ! TALLY_FAULT_SEEDS=$seed TALLY_FAULT_SECONDS=$seconds TALLY_FAULT_REPORT=$rows \
      dotnet test tests/Tally.Server.Tests -c Release --no-build -nologo --filter "FullyQualifiedName~ClusterFaultScheduleTests" >"$rows.last" 2>&1; then
    failed=$((failed + 1))
    echo "seed $seed FAILED: see $out" >&2
    { echo "### seed $seed failed"; echo '```'; tail -200 "$rows.last"; echo '```'; } >>"$rows.failures"
  fi
  runs=$((runs + 1)) seed=$((seed + 1))
done

{
  echo "# Cluster fault soak, $(date -u +%F)"
  echo
  echo "Command: \`bench/fault-soak.sh --minutes $minutes --seconds $seconds --first-seed $first\` at commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')."
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(nats-server --version 2>/dev/null | head -1), $(redis-server --version | awk '{print $3}'), PostgreSQL $(ls /usr/lib/postgresql | sort -n | tail -1)."
  echo
  echo "Runs: $runs (seeds $first to $((seed - 1))), failed: $failed. Faults, votes and anomalies per run:"
  echo
  echo "| seed | schedule | faults injected | votes | acknowledged | refused | unknown | never sent | watcher messages / connections | anomalies |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  cat "$rows"
  echo
  python3 - "$rows" <<'PY'
import sys, re
runs = faults = votes = acked = unknown = anomalies = 0
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip('|').split('|')]
    if len(cells) < 10: continue
    runs += 1
    faults += int(cells[2].split()[0])
    votes += int(cells[3].replace(',', ''))
    acked += int(cells[4].replace(',', ''))
    unknown += int(cells[6].replace(',', ''))
    anomalies += int(cells[9])
print(f"Totals: {runs} runs, {faults} faults injected, {votes:,} votes checked ({acked:,} acknowledged, {unknown:,} unknown), anomalies: {anomalies}.")
PY
  echo
  echo "## Fault logs"
  echo
  echo '```'
  cat "$rows.log" 2>/dev/null || true
  echo '```'
  if [ -f "$rows.failures" ]; then echo; echo "## Failures"; echo; cat "$rows.failures"; fi
} >"$out"
echo "wrote $out (rows and logs in $rows*)" >&2
[ "$failed" -eq 0 ]
