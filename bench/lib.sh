# Shell helpers shared by the benchmark scripts (sourced; they set -euo pipefail themselves).
# wait_quiet reads $quiet_wait from the caller.

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

wait_quiet() { # until the whole machine used < 15% of a core over one second (the servers under test idle), at most $quiet_wait s
  local deadline=$((SECONDS + quiet_wait)) before after hz
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
