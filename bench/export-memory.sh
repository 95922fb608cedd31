#!/usr/bin/env bash
# Export memory: does GET /v1/polls/{id}/export stream, or hold the export in memory? One Tally (core 1) on a fresh
# data folder takes N ballots on one poll (batches of 1,000 from a Python client on core 0), then the export is read
# to the end in each format while the server's resident memory is sampled from /proc every 50 ms. Reported: the
# server's RSS before each export, the highest RSS during it, the rows and bytes, and the time it took; then how long
# POST /v1/verify takes over the same data.
#
#   bench/export-memory.sh              # 1,000,000 ballots
#   bench/export-memory.sh --ballots N
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
hold_bench_lock "$0" "$@"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ballots=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --ballots) ballots=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="bench/results/raw/export-$stamp"
mkdir -p "$raw"
admin_key="bench-$RANDOM$RANDOM"
stop_tally_on_exit
data=$(mktemp -d -t tally-bench-data.XXXXXX)
log "building Release (server)"
dotnet build src/Tally.Server -c Release -nologo -clp:ErrorsOnly -v:q >&2
port=$(free_port)
url="http://127.0.0.1:$port"
(cd src/Tally.Server/bin/Release/net10.0 && TALLY_DATA="$data" TALLY_ADMIN_KEY="$admin_key" TALLY_GRPC_URLS=http://127.0.0.1:0 \
  exec taskset -c "$bench_server_core" dotnet Tally.Server.dll --urls "$url") >"$raw/tally.log" 2>&1 &
pid=$!
wait_ready "$pid" "$url" tally "$raw/tally.log"
log "Tally pid $pid on $url; casting $ballots ballots"

out="bench/results/export-memory-$(date -u +%F).md"
taskset -c "$bench_loadgen_core" python3 - "$url" "$admin_key" "$pid" "$ballots" "$out" "$(git rev-parse --short HEAD)" <<'PY'
import json, sys, time, threading, urllib.request
url, key, pid, ballots, out, commit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
def call(method, path, body=None, auth=True):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + key} if auth else {})})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())
poll = call("POST", "/v1/polls", {"question": "export bench", "options": ["A", "B", "C"], "dedupe": "none"})["id"]
started = time.time()
for b in range(0, ballots, 1000):
    n = min(1000, ballots - b)
    answer = call("POST", "/v1/votes/batch", {"votes": [{"pollId": poll, "optionIds": [1 + (b + i) % 3], "voterId": f"v{b + i}"} for i in range(n)]})
    assert all(r["status"] == "counted" for r in answer["results"]), answer["results"][:3]
cast_s = time.time() - started
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
rows = []
for fmt in ("csv", "ndjson"):
    before, peak, stop = rss(), [rss()], threading.Event()
    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss()); time.sleep(0.05)
    t = threading.Thread(target=sample); t.start()
    begun = time.time(); size = 0; lines = 0
    req = urllib.request.Request(f"{url}/v1/polls/{poll}/export?format={fmt}&voters=hashed", headers={"Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=600) as r:
        while chunk := r.read(1 << 16):
            size += len(chunk); lines += chunk.count(b"\n")
    took = time.time() - begun; stop.set(); t.join()
    rows.append((fmt, before, peak[0], lines, size, took))
total = call("GET", f"/v1/polls/{poll}/results", auth=False)["totalVotes"]
begun = time.time()
verified = call("POST", "/v1/verify", {})
verify_s = time.time() - begun
with open(out, "w") as f:
    f.write(f"# Export memory, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n")
    f.write(f"Command: `bench/export-memory.sh --ballots {ballots}` (commit {commit}). Tally on core 1 (default settings, SQLite, synchronous=FULL),\n")
    f.write(f"the Python client on core 0. {ballots:,} ballots on one poll (`dedupe: none`, batches of 1,000) took {cast_s:.0f} s; the server counted {total:,}.\n")
    f.write("Each export is read to its end (voters hashed) while the server's RSS is sampled every 50 ms.\n\n")
    f.write("| format | server RSS before | highest RSS during | growth | lines | bytes | seconds | rows/s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
    for fmt, before, peak, lines, size, took in rows:
        f.write(f"| {fmt} | {before:.0f} MiB | {peak:.0f} MiB | {peak - before:+.0f} MiB | {lines:,} | {size / 1e6:.0f} MB | {took:.1f} | {lines / took:,.0f} |\n")
    f.write(f"\n`POST /v1/verify` over the same data ({verified['polls']} poll, {verified['events']:,} events read from the log) took {verify_s:.1f} s: "
            f"{'clean' if verified['ok'] else str(verified['differenceCount']) + ' differences'}.\n")
print(open(out).read())
PY
log "saved $out (server log in $raw)"
