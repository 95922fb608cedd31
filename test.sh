#!/usr/bin/env bash
# Runs every test. On a fresh Debian machine with the .NET 10 SDK this is all you need:
# it installs what the tests need from Debian's packages (chromium for the results page's browser test;
# redis-server, nats-server and PostgreSQL, which the cluster tests start themselves on free loopback
# ports; iproute2, nftables and faketime for the cluster fault harness; embedded mode uses SQLite in-process),
# builds once in Release, and runs each test project.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
missing=()
# The results page's Playwright test drives Debian's chromium (never a downloaded browser).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Cluster mode's tests start real servers from Debian's packages on loopback ports of their own
# (tests/Tally.Cluster.Tests/Infrastructure); this only makes sure the binaries are there.
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The cluster fault harness (tests/Tally.Server.Tests/Faults/Cluster, docs/faults.md) puts every process in a network
# namespace of its own (ip), cuts links with nftables (nft) and skews clocks with libfaketime; it needs root (or sudo -n)
# and runs when TALLY_FAULT_SEEDS is set (bench/fault-soak.sh sets it; ./test.sh skips it while an anomaly it finds is open).
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
[ -f /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || missing+=(faketime)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt-get) for the tests"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dotnet build Tally.slnx -c Release -nologo -clp:ErrorsOnly

log=$(mktemp)
status=0
dotnet test Tally.slnx -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?

# One closing line for any reader: the sum over the test projects.
count() { grep -E '^(Passed|Failed)!' "$log" | grep -Eo "$1: +[0-9]+" | awk '{s+=$2} END {print s+0}' || true; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
