#!/usr/bin/env bash
# A three-node Tally cluster on this machine, every piece from Debian's packages and bound to 127.0.0.1:
# nats-server (JetStream), redis-server, PostgreSQL (initdb in the cluster folder), three Tally nodes, and
# nginx in front (HTTP, SSE and WebSocket on one port; gRPC on another).
#
#   scripts/cluster.sh up       install what is missing (apt-get), build, start everything, wait until ready
#   scripts/cluster.sh status   what runs, and each node's /readyz
#   scripts/cluster.sh down     stop everything (the data stays in the folder; `up` again resumes it)
#
# Settings (environment): TALLY_CLUSTER_DIR (./cluster), TALLY_PORT (8080, nginx), TALLY_GRPC_PORT (8081,
# nginx), TALLY_NODE_PORT (8091: nodes on 8091-8093, their gRPC on 8191-8193), NATS_PORT (4222),
# REDIS_PORT (6379), PG_PORT (5432), TALLY_ADMIN_KEY (generated once into the folder's admin.key), TALLY_NODES (3:
# how many Tally nodes `up` starts; `down` stops every node whose pidfile is in the folder).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(realpath -m "${TALLY_CLUSTER_DIR:-./cluster}")
port=${TALLY_PORT:-8080}
grpc_port=${TALLY_GRPC_PORT:-8081}
node_port=${TALLY_NODE_PORT:-8091}
nats_port=${NATS_PORT:-4222}
redis_port=${REDIS_PORT:-6379}
pg_port=${PG_PORT:-5432}
nodes=${TALLY_NODES:-3}
case "$nodes" in [1-9]) ;; *) echo "TALLY_NODES must be 1-9, got '$nodes'" >&2; exit 2 ;; esac
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

log() { echo "cluster: $*"; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Runs a PostgreSQL tool as the postgres user when we are root (PostgreSQL refuses to run as root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}

wait_for() { # what, command...: retries for up to 60 s
  local what=$1; shift
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  log "$what did not come up; see the logs in $dir"; return 1
}

install_missing() {
  local missing=()
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server redis-tools)
  [ -n "$pg_bin" ] || missing+=(postgresql)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  export PATH="$PATH:/usr/sbin"
}

start_nats() {
  alive "$dir/nats.pid" && return
  mkdir -p "$dir/nats"
  nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$dir/nats" --server_name tally-nats -P "$dir/nats.pid" -l "$dir/nats.log" </dev/null >/dev/null 2>&1 &
  wait_for "nats-server" grep -q "Server is ready" "$dir/nats.log"
  log "nats-server (JetStream) on 127.0.0.1:$nats_port"
}

start_redis() {
  alive "$dir/redis.pid" && return
  mkdir -p "$dir/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --appendonly yes --save ""
  wait_for "redis-server" redis-cli -p "$redis_port" ping
  log "redis-server on 127.0.0.1:$redis_port"
}

start_postgres() {
  local data="$dir/postgres/data"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$dir/postgres"
    [ "$(id -u)" -ne 0 ] || chown -R postgres:postgres "$dir/postgres"
    as_pg "$pg_bin/initdb" -D "$data" -U tally -A trust -E UTF8 >"$dir/postgres/initdb.log"
  fi
  if ! as_pg "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$pg_bin/pg_ctl" -D "$data" -l "$dir/postgres/postgres.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/postgres" start >/dev/null
  fi
  as_pg "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U tally -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'tally'" | grep -q 1 \
    || as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U tally tally
  log "PostgreSQL on 127.0.0.1:$pg_port (database tally, user tally)"
}

start_nodes() {
  local dll=src/Tally.Server/bin/Release/net10.0/Tally.Server.dll
  log "building Tally (Release)"
  dotnet build src/Tally.Server -c Release -nologo -clp:ErrorsOnly >/dev/null
  [ -f "$dir/admin.key" ] || { [ -n "${TALLY_ADMIN_KEY:-}" ] && echo "$TALLY_ADMIN_KEY" >"$dir/admin.key" || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/tally_/' >"$dir/admin.key"; }
  chmod 600 "$dir/admin.key"
  for i in $(seq 1 $nodes); do
    local pidfile="$dir/node$i.pid"
    alive "$pidfile" && continue
    mkdir -p "$dir/node$i"
    # The nodes get the default abuse limits (README, "Abuse limits"), shared through Redis, and believe nginx's
    # X-Forwarded-For (loopback is the default trusted proxy). Tally__* settings in the environment reach every node:
    # bench/cluster.sh turns the limits off that way (bench/lib.sh).
    TALLY_ADMIN_KEY=$(cat "$dir/admin.key") TALLY_DATA="$dir/node$i" \
    Tally__Mode=cluster \
    Tally__Nats__Url="nats://127.0.0.1:$nats_port" \
    Tally__Redis__Configuration="127.0.0.1:$redis_port" \
    Tally__Postgres__ConnectionString="Host=127.0.0.1;Port=$pg_port;Username=tally;Database=tally" \
    Tally__Cluster__NodeId="node$i" \
    Tally__Cluster__Replicas=1 Tally__Cluster__AllowFewerReplicas=true \
      nohup dotnet "$dll" --urls "http://127.0.0.1:$((node_port + i - 1))" --TALLY_GRPC_URLS "http://127.0.0.1:$((node_port + 100 + i - 1))" \
      >"$dir/node$i.log" 2>&1 &
    echo $! >"$pidfile"
  done
  log "one NATS server, so one JetStream replica (Tally:Cluster:AllowFewerReplicas=true): fine for a trial; an OS crash of this machine can lose the last 2 minutes of acknowledged votes (README: What a 2xx means)"
  for i in $(seq 1 $nodes); do
    wait_for "node$i" curl -fsS "http://127.0.0.1:$((node_port + i - 1))/readyz"
    log "node$i on 127.0.0.1:$((node_port + i - 1)) (gRPC $((node_port + 100 + i - 1)))"
  done
}

start_nginx() {
  local upstream="" grpc_upstream=""
  for i in $(seq 1 $nodes); do
    upstream+="    server 127.0.0.1:$((node_port + i - 1)) max_fails=1 fail_timeout=2s;"$'\n'
    grpc_upstream+="    server 127.0.0.1:$((node_port + 100 + i - 1)) max_fails=1 fail_timeout=2s;"$'\n'
  done
  mkdir -p "$dir/nginx"
  cat >"$dir/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  client_max_body_size 8m;
  client_body_buffer_size 1m; # a batch of 1,000 votes (~60 KB) stays in memory instead of a temporary file

  # WebSocket: pass the upgrade on; plain requests keep their upstream connection alive.
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }

  upstream tally {
$upstream    keepalive 64;
  }
  upstream tally_grpc {
$grpc_upstream  }

  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://tally;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$http_host; # with the port: the WebSocket Origin check compares it with the page's origin
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      # SSE and WebSocket: no buffering, and watchers may stay for hours.
      proxy_buffering off;
      proxy_cache off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      # A node that is down or answers 503 (stopping): try the next one. POSTs are not retried after
      # they were sent (nginx's default), so a vote is never sent twice by the proxy.
      proxy_next_upstream error timeout http_503;
    }
  }

  server {
    listen 127.0.0.1:$grpc_port http2;
    location / {
      grpc_pass grpc://tally_grpc;
      grpc_read_timeout 1h;
      grpc_send_timeout 1h;
    }
  }
}
CONF
  if alive "$dir/nginx/nginx.pid"; then
    nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -s reload
  else
    nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf"
  fi
  wait_for "nginx" curl -fsS "http://127.0.0.1:$port/readyz"
  log "nginx on http://127.0.0.1:$port (gRPC h2c on 127.0.0.1:$grpc_port)"
}

up() {
  install_missing
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chmod 755 "$dir"
  start_nats
  start_redis
  start_postgres
  start_nodes
  start_nginx
  log "up. Admin key: $(cat "$dir/admin.key")"
  log "try: curl -s http://127.0.0.1:$port/readyz"
}

stop_pid() { # name pidfile signal
  if alive "$2"; then
    local pid; pid=$(cat "$2")
    kill "-$3" "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    log "$1 stopped"
  fi
  rm -f "$2"
}

down() {
  export PATH="$PATH:/usr/sbin"
  if alive "$dir/nginx/nginx.pid"; then nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -s quit; log "nginx stopped"; fi
  local pidfile
  for pidfile in "$dir"/node*.pid; do [ -e "$pidfile" ] || continue; stop_pid "$(basename "$pidfile" .pid)" "$pidfile" TERM; done
  if [ -n "$pg_bin" ] && [ -f "$dir/postgres/data/PG_VERSION" ] && as_pg "$pg_bin/pg_ctl" -D "$dir/postgres/data" status >/dev/null 2>&1; then
    as_pg "$pg_bin/pg_ctl" -D "$dir/postgres/data" -m fast -w stop >/dev/null; log "PostgreSQL stopped"
  fi
  stop_pid "redis-server" "$dir/redis.pid" TERM
  stop_pid "nats-server" "$dir/nats.pid" TERM
}

status() {
  local code=0
  show() { if "$@" >/dev/null 2>&1; then echo "up"; else echo "down"; code=1; fi; }
  echo "nats-server  $(show alive "$dir/nats.pid")"
  echo "redis-server $(show alive "$dir/redis.pid")"
  echo "postgres     $(show as_pg "${pg_bin:-/nonexistent}/pg_ctl" -D "$dir/postgres/data" status)"
  for i in $(seq 1 $nodes); do
    echo "node$i        $(show alive "$dir/node$i.pid")  $(curl -s "http://127.0.0.1:$((node_port + i - 1))/readyz" || true)"
  done
  echo "nginx        $(show alive "$dir/nginx/nginx.pid")  http://127.0.0.1:$port"
  return $code
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
