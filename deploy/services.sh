#!/usr/bin/env bash
# Services mode: each service as its own API process and its own worker process,
# against PostgreSQL (one database per service) and RabbitMQ.
#   deploy/services.sh up | down | status
# Scale-out: APIS=n and WORKERS=n processes per service (default 1), or per service INTAKE_APIS=n,
# ROUTING_WORKERS=n …; a service's APIs share its port (SO_REUSEPORT). WORKER_NICE (default 15): how
# much lower the workers run than the APIs, so a saturated pipeline never starves the APIs of the cores.
#   make up APIS=2 WORKERS=2
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
RUN=var/run
LOG=var/log
export CG_MODE=services
declare -A PORTS=([identity]=8005 [intake]=8001 [routing]=8002 [mediation]=8003 [notify]=8004 [grid]=8006 [selfgov]=8007)
SERVICES=(identity intake routing mediation notify grid selfgov)
KEYS=var/keys/services
export CG_IDENTITY_URL=${CG_IDENTITY_URL:-http://127.0.0.1:8005}
# Demo staff get the published demo password only when asked: CG_DEMO_PASSWORDS=true make up
# (a local demo on loopback). Otherwise they sign in once an admin sets their password.
export CG_DEMO_PASSWORDS=${CG_DEMO_PASSWORDS:-false}

keys() {  # a deployment's keys, made once as an operator would (docs: README, "Keys")
  mkdir -p "$KEYS" && chmod 700 "$KEYS"
  [[ -f $KEYS/signing-key.pem ]] || (umask 077; $BIN/python -m shared.keys new-signing-key >"$KEYS/signing-key.pem")
  [[ -f $KEYS/data-keys ]] || (umask 077; $BIN/python -m shared.keys new-data-key >"$KEYS/data-keys")
  [[ -f $KEYS/index-key ]] || (umask 077; $BIN/python -m shared.keys new-index-key >"$KEYS/index-key")
  export CG_SIGNING_KEYS=${CG_SIGNING_KEYS:-$PWD/$KEYS/signing-key.pem}
  export CG_DATA_KEYS=${CG_DATA_KEYS:-$(cat "$KEYS/data-keys")}
  export CG_INDEX_KEY=${CG_INDEX_KEY:-$(cat "$KEYS/index-key")}
}

start() {  # name, command...
  local name=$1; shift
  if [[ -f $RUN/$name.pid ]] && kill -0 "$(cat $RUN/$name.pid)" 2>/dev/null; then
    echo "$name already running (pid $(cat $RUN/$name.pid))"; return
  fi
  nohup "$@" >"$LOG/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

count() {  # service, kind (APIS | WORKERS): the per-service figure, else the global one, else 1
  local var="${1^^}_$2" global=$2
  local n=${!var:-${!global:-1}}
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "$var/$global must be a positive number, not '$n'" >&2; exit 2; }
  echo "$n"
}

up() {
  mkdir -p "$RUN" "$LOG"
  keys
  $BIN/python -m shared.migrate
  $BIN/python -m services seed
  for s in "${SERVICES[@]}"; do
    for i in $(seq 1 "$(count "$s" APIS)"); do
      start "$s-api-$i" $BIN/python -m services api "$s" --port "${PORTS[$s]}"
    done
    for i in $(seq 1 "$(count "$s" WORKERS)"); do
      start "$s-worker-$i" nice -n "${WORKER_NICE:-15}" $BIN/python -m services worker "$s"
    done
  done
  for s in "${SERVICES[@]}"; do
    for _ in $(seq 1 100); do
      if curl -fsS "http://127.0.0.1:${PORTS[$s]}/$s/readyz" >/dev/null 2>&1; then break; fi
      sleep 0.2
    done
    if curl -fsS "http://127.0.0.1:${PORTS[$s]}/$s/readyz" >/dev/null 2>&1; then
      echo "$s: http://127.0.0.1:${PORTS[$s]}/$s/docs  ($(count "$s" APIS) API, $(count "$s" WORKERS) worker;" \
        "logs: $LOG/$s-api-*.log, $LOG/$s-worker-*.log)"
    else
      echo "$s did not become ready; see $LOG/$s-api-1.log" >&2; exit 1
    fi
  done
}

down() {
  shopt -s nullglob
  for pidfile in "$RUN"/*.pid; do
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  echo "stopped"
}

status() {
  shopt -s nullglob
  for pidfile in "$RUN"/*.pid; do
    name=$(basename "$pidfile" .pid)
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name running"; else echo "$name dead"; fi
  done
}

"${1:-up}"
