#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine's loopback, beside (never joined to) the machine's own node.
#
#   deploy/rabbitmq-cluster.sh up|down|status [DIR]
#
# Nodes rabbit-c1@localhost, rabbit-c2@localhost, rabbit-c3@localhost listen for AMQP on 127.0.0.1:5701..5703
# (CG_RABBIT_CLUSTER_PORT moves the first, the others follow) and for Erlang distribution on 25701..25703. Each
# has its own config, data and log folders under DIR (default ${TMPDIR:-/tmp}/cg-rabbitmq-cluster), owned by the
# rabbitmq user the server runs as; all share that user's Erlang cookie (/var/lib/rabbitmq/.erlang.cookie).
# Services use it with CG_AMQP_URLS=amqp://guest:guest@127.0.0.1:5701/%2F,…:5702/%2F,…:5703/%2F (guest may
# connect from loopback).
#
# up     starts the nodes that are not running (all at once: nodes restarted after a machine restart wait for
#        each other), then joins nodes 2 and 3 to node 1 unless they already are members. Idempotent.
# down   stops the three nodes and removes DIR. Idempotent.
# status each node's state and the cluster's members as node 1 (or any running node) sees them.
#
# The machine's default node (rabbit@localhost, port 5672, /etc/rabbitmq) is never touched: every command here
# names one of the three nodes with -n, and the nodes read their own rabbitmq-env.conf, not /etc/rabbitmq's.
set -euo pipefail

ACTION="${1:-}"
DIR="${2:-${TMPDIR:-/tmp}/cg-rabbitmq-cluster}"
FIRST_PORT="${CG_RABBIT_CLUSTER_PORT:-5701}"
NODES=(c1 c2 c3)
SEED="rabbit-c1@localhost"
# How long a node may take to boot (two shared cores, three Erlang VMs starting together).
BOOT_TIMEOUT=120

say() { echo "rabbitmq-cluster: $*" >&2; }

nodename() { echo "rabbit-$1@localhost"; }
index_of() { echo "${1#c}"; }
amqp_port() { echo $((FIRST_PORT + $(index_of "$1") - 1)); }
dist_port() { echo $((FIRST_PORT + 20000 + $(index_of "$1") - 1)); }

ctl() { # ctl NODE ARGS...: rabbitmqctl against one of our nodes only
    local node="$1"
    shift
    rabbitmqctl -q -n "$(nodename "$node")" "$@"
}

running() { ctl "$1" ping >/dev/null 2>&1; }

require_server() {
    if ! command -v rabbitmq-server >/dev/null 2>&1 || ! command -v rabbitmqctl >/dev/null 2>&1; then
        say "rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server)"
        exit 2
    fi
    # Debian's wrappers run the server as the rabbitmq user (su from root); any other user is refused by them.
    if [ "$(id -u)" != 0 ] && [ "$(id -un)" != rabbitmq ]; then
        say "run as root or as the rabbitmq user (the server runs as rabbitmq)"
        exit 2
    fi
}

write_node_files() {
    local node="$1" base="$DIR/$1"
    mkdir -p "$base/data" "$base/log"
    # listeners.tcp.1: the machine's own rabbitmq.conf binds 5672 for the default node; each node binds its own.
    cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$(amqp_port "$node")
cluster_name = cg-local
EOF
    # Read instead of /etc/rabbitmq/rabbitmq-env.conf, which names the default node. Environment variables
    # are set too (below); this file keeps rabbitmqctl and the server of one node agreeing.
    cat >"$base/rabbitmq-env.conf" <<EOF
NODENAME=$(nodename "$node")
CONFIG_FILE=$base/rabbitmq.conf
MNESIA_BASE=$base/data
LOG_BASE=$base/log
PID_FILE=$base/pid
DIST_PORT=$(dist_port "$node")
ENABLED_PLUGINS_FILE=$base/enabled_plugins
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
    # No plugins: no management listener to collide with the default node's.
    [ -f "$base/enabled_plugins" ] || echo "[]." >"$base/enabled_plugins"
}

start_node() {
    local node="$1" base="$DIR/$1"
    write_node_files "$node"
    if [ "$(id -u)" = 0 ]; then
        chown -R rabbitmq:rabbitmq "$DIR"
    fi
    say "starting $(nodename "$node") on 127.0.0.1:$(amqp_port "$node")"
    # The Debian wrapper keeps the environment across su (only HOME and SHELL change), so HOME is the rabbitmq
    # user's and the nodes share its Erlang cookie.
    env RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" \
        RABBITMQ_NODENAME="$(nodename "$node")" \
        RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
        RABBITMQ_MNESIA_BASE="$base/data" \
        RABBITMQ_LOG_BASE="$base/log" \
        RABBITMQ_PID_FILE="$base/pid" \
        RABBITMQ_DIST_PORT="$(dist_port "$node")" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        rabbitmq-server -detached >>"$base/log/start.log" 2>&1
}

await_node() {
    local node="$1" deadline=$((SECONDS + BOOT_TIMEOUT))
    # await_startup fails at once while the node's VM has not registered with epmd yet (slow on busy cores).
    until ctl "$node" await_startup --timeout "$BOOT_TIMEOUT" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "$(nodename "$node") did not start within ${BOOT_TIMEOUT}s; its log:"
            tail -n 40 "$DIR/$node"/log/*.log >&2 || true
            exit 1
        fi
        sleep 1
    done
}

member() { # member NODE: NODE is a disc node of the seed's cluster
    ctl c1 cluster_status --formatter json 2>/dev/null | grep -q "\"$(nodename "$1")\""
}

up() {
    require_server
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    local node pids=()
    for node in "${NODES[@]}"; do
        # Without its pid file a node was never started here (or `down` removed it): no CLI call needed.
        if [ ! -f "$DIR/$node/pid" ] || ! running "$node"; then
            start_node "$node"
        fi
    done
    # Each CLI call boots an Erlang VM of its own (a second or two): the nodes are awaited together.
    for node in "${NODES[@]}"; do
        await_node "$node" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid"
    done
    for node in "${NODES[@]:1}"; do
        if member "$node"; then
            continue
        fi
        say "joining $(nodename "$node") to $SEED"
        # The CLI reports the joining node's own tables as errors while it is stopped: kept in its log unless
        # the join fails.
        if ! { ctl "$node" stop_app && ctl "$node" join_cluster "$SEED" && ctl "$node" start_app; } \
            >>"$DIR/$node/log/join.log" 2>&1; then
            say "$(nodename "$node") could not join $SEED:"
            tail -n 20 "$DIR/$node/log/join.log" >&2
            exit 1
        fi
    done
    say "up: $(urls)"
}

urls() {
    local node out=""
    for node in "${NODES[@]}"; do
        out+="${out:+,}amqp://guest:guest@127.0.0.1:$(amqp_port "$node")/%2F"
    done
    echo "$out"
}

down() {
    local node pid
    if command -v rabbitmqctl >/dev/null 2>&1; then
        # Together: the data is removed below, so no node needs to be the last to stop.
        for node in "${NODES[@]}"; do
            { running "$node" && ctl "$node" stop >/dev/null 2>&1; } &
        done
        wait
    fi
    # A node whose CLI no longer answers is ended by its own pid file, never by name.
    for node in "${NODES[@]}"; do
        if [ -f "$DIR/$node/pid" ]; then
            pid="$(cat "$DIR/$node/pid")"
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                kill "$pid" 2>/dev/null || true
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -9 "$pid" 2>/dev/null || true
            fi
        fi
    done
    rm -rf "$DIR"
    say "down"
}

status() {
    require_server
    local node seen=""
    for node in "${NODES[@]}"; do
        if running "$node"; then
            echo "$(nodename "$node") running on 127.0.0.1:$(amqp_port "$node")"
            seen="${seen:-$node}"
        else
            echo "$(nodename "$node") stopped"
        fi
    done
    if [ -n "$seen" ]; then
        ctl "$seen" cluster_status
        echo "CG_AMQP_URLS=$(urls)"
    else
        return 3
    fi
}

case "$ACTION" in
up) up ;;
down) down ;;
status) status ;;
urls) urls ;;
*)
    echo "usage: $0 up|down|status|urls [DIR]" >&2
    exit 64
    ;;
esac
