#!/usr/bin/env bash
# A three-node enclave-os cluster on one machine, for trying things out and
# for the cluster tests: a throwaway PostgreSQL (scripts/pgtmp.sh), three
# nodes on loopback ports sharing it as their store, and HAProxy in front in
# TCP mode (TLS passes through to the nodes; health checks on each node's
# /.well-known/enclave-os/healthz).
#
#   scripts/cluster.sh start [DIR]    starts everything, loads the example apps, prints how
#                                     to reach it (state in DIR, default /tmp/eos-cluster)
#   scripts/cluster.sh stop [DIR]     stops HAProxy, the nodes and PostgreSQL; removes DIR
#   scripts/cluster.sh run [DIR]      start, then wait for Ctrl-C, then stop
#   scripts/cluster.sh kill N [DIR]   kill -9 node N (1-3); `revive N [DIR]` starts it again
#   scripts/cluster.sh env [DIR]      prints the ports and paths as shell variables
#   scripts/cluster.sh bench [DIR]    requests per second through HAProxy with 1, 2, 3 nodes
#
# The nodes run the simulated TEE (--tee sim --dev). Node 1 creates the data
# key and its enclave CA; nodes 2 and 3 join through node 1 (serve --join),
# which releases both to their attested keys since their measurement is its
# own, so all three present certificates under one root. Apps loaded through
# any node reach the others through the store.
# Needs: postgresql, haproxy, a build in build/ (or EOS_BIN).
set -Eeuo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${EOS_BIN:-$here/build/src/cli/enclave-os}"
apps="${EOS_APPS:-$here/build/examples}"
cmd="${1:-}"
shift || true
node_arg=""
if [ "$cmd" = kill ] || [ "$cmd" = revive ]; then
  node_arg="${1:-}"
  shift || true
fi
state="${1:-/tmp/eos-cluster}"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ping() { # port pid
  for _ in $(seq 1 400); do
    "$bin" ping "127.0.0.1:$1" --timeout 1000 >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start_node() { # n
  local n="$1" port join=()
  port="$(cat "$state/n$n/port")"
  [ "$n" = 1 ] || join=(--join "127.0.0.1:$(cat "$state/n1/port")")
  # Each node in its own process group, so that stopping one never reaches
  # the shell that started it.
  setsid "$bin" serve --dev --tee sim --data-dir "$state/n$n" --listen "127.0.0.1:$port" \
    --store "$(cat "$state/store")" \
    "${join[@]}" --log-level "${EOS_LOG_LEVEL:-info}" ${EOS_E2E_TIER:+--tier "$EOS_E2E_TIER"} \
    >>"$state/n$n/log" 2>&1 </dev/null &
  echo $! >"$state/n$n/pid"
  if ! wait_ping "$port" "$!"; then
    echo "cluster: node $n did not start; its log:" >&2
    tail -20 "$state/n$n/log" >&2
    return 1
  fi
}

wait_apps() { # n app...
  local n="$1" listed app missing
  shift
  for _ in $(seq 1 600); do
    listed="$(curl -sk "https://127.0.0.1:$(cat "$state/n$n/port")/.well-known/enclave-os/apps" || true)"
    missing=""
    for app in "$@"; do
      case "$listed" in *"\"name\":\"$app\""*) ;; *) missing="$app" ;; esac
    done
    [ -z "$missing" ] && return 0
    sleep 0.5
  done
  echo "cluster: node $n did not take app '$missing' from the store in 300 s; its log:" >&2
  tail -20 "$state/n$n/log" >&2
  return 1
}

write_haproxy_cfg() { # [nodes, default "1 2 3"]
  local nodes="${1:-1 2 3}"
  cat >"$state/haproxy.cfg" <<EOF
# enclave-os behind HAProxy: TCP mode, TLS passes through to the nodes.
global
    maxconn 4096
    pidfile $state/haproxy.pid

defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s

frontend eos_tls
    bind 127.0.0.1:$(cat "$state/haproxy.port")
    # Wait for the ClientHello so that its SNI can route (the name is passed
    # on untouched: the node still sees it and picks the app by it).
    tcp-request inspect-delay 5s
    tcp-request content accept if { req.ssl_hello_type 1 }
    default_backend eos_nodes

backend eos_nodes
    balance roundrobin
    # Health: an HTTPS GET of the well-known endpoint on each node. The
    # check skips certificate verification: it only asks "is it up"; clients
    # verify the node's attestation themselves.
    option httpchk
    http-check send meth GET uri /.well-known/enclave-os/healthz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server check check-ssl verify none inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
$(for n in $nodes; do echo "    server n$n 127.0.0.1:$(cat "$state/n$n/port")"; done)

frontend stats
    mode http
    bind 127.0.0.1:$(cat "$state/stats.port")
    stats enable
    stats uri /
    stats refresh 2s
EOF
}

stop_all() {
  [ -d "$state" ] || return 0
  if [ -f "$state/haproxy.pid" ]; then
    kill "$(cat "$state/haproxy.pid")" 2>/dev/null || true
  fi
  for n in 1 2 3; do
    local f="$state/n$n/pid"
    [ -f "$f" ] || continue
    local pid
    pid="$(cat "$f")"
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  "$here/scripts/pgtmp.sh" stop "$state/pg" >/dev/null 2>&1 || true
  rm -rf "$state"
}

print_env() {
  echo "EOS_CLUSTER=$state"
  echo "EOS_HAPROXY=127.0.0.1:$(cat "$state/haproxy.port")"
  echo "EOS_HAPROXY_STATS=127.0.0.1:$(cat "$state/stats.port")"
  for n in 1 2 3; do echo "EOS_NODE$n=127.0.0.1:$(cat "$state/n$n/port")"; done
  echo "EOS_STORE='$(cat "$state/store")'"
}

start_all() {
  command -v haproxy >/dev/null || { echo "cluster: haproxy is not installed" >&2; exit 1; }
  [ -x "$bin" ] || { echo "cluster: no $bin; build first" >&2; exit 1; }
  if [ -e "$state" ]; then
    echo "cluster: $state exists; run '$0 stop $state' first" >&2
    exit 1
  fi
  mkdir -p "$state"
  "$here/scripts/pgtmp.sh" start "$state/pg" >/dev/null
  local pgport
  pgport="$(cat "$state/pg/port")"
  echo "postgresql://eos@127.0.0.1:$pgport/postgres" >"$state/store"
  for n in 1 2 3; do
    mkdir -p "$state/n$n"
    chmod 700 "$state/n$n"
    free_port >"$state/n$n/port"
  done
  free_port >"$state/haproxy.port"
  free_port >"$state/stats.port"
  start_node 1
  start_node 2
  start_node 3
  local n1="127.0.0.1:$(cat "$state/n1/port")" loaded=()
  for app in hello kv-counter; do
    if [ -f "$apps/$app/$app.wasm" ]; then
      "$bin" load "$apps/$app/$app.wasm" --name "$app" -s "$n1" --allow-simulated >/dev/null
      loaded+=("$app")
    fi
  done
  # The other nodes follow the store on their own; on --tier compiled each
  # compiles the apps before it serves them, so wait until every node lists
  # every app (until then their certificates carry an older root).
  wait_apps 2 "${loaded[@]}"
  wait_apps 3 "${loaded[@]}"
  write_haproxy_cfg
  haproxy -c -q -f "$state/haproxy.cfg"
  haproxy -D -f "$state/haproxy.cfg"
  # Ready when HAProxy counts every node up.
  for _ in $(seq 1 100); do
    local up
    up="$(curl -s "http://127.0.0.1:$(cat "$state/stats.port")/;csv" | grep -c '^eos_nodes,n[123],.*,UP,' || true)"
    [ "$up" = 3 ] && break
    sleep 0.1
  done
}

# Requests per second through HAProxy with 1, 2 and 3 nodes behind it (wrk,
# new TLS connections kept alive, 2 threads, 32 connections).
bench() {
  command -v wrk >/dev/null || { echo "cluster: bench needs wrk" >&2; exit 1; }
  local h="127.0.0.1:$(cat "$state/haproxy.port")" secs="${EOS_BENCH_S:-5}"
  printf "%-6s %14s %14s\n" nodes "hello req/s" "kv-counter req/s"
  for nodes in "1" "1 2" "1 2 3"; do
    write_haproxy_cfg "$nodes"
    haproxy -D -f "$state/haproxy.cfg" -sf "$(cat "$state/haproxy.pid")"
    sleep 2
    local a b
    a="$(wrk -t2 -c32 -d"${secs}s" "https://$h/hello/hello" | awk '/Requests\/sec/ {print $2}')"
    b="$(wrk -t2 -c32 -d"${secs}s" "https://$h/kv-counter/bench" | awk '/Requests\/sec/ {print $2}')"
    printf "%-6s %14s %14s\n" "$(echo "$nodes" | wc -w)" "$a" "$b"
  done
  write_haproxy_cfg
  haproxy -D -f "$state/haproxy.cfg" -sf "$(cat "$state/haproxy.pid")"
}

case "$cmd" in
start)
  # A start that fails half-way stops what it started.
  trap 'echo "cluster: start failed; stopping what started" >&2; stop_all' ERR
  start_all
  trap - ERR
  h="127.0.0.1:$(cat "$state/haproxy.port")"
  cat <<EOF
cluster up in $state
  HAProxy (TLS passthrough)  https://$h/hello/hello   curl -k https://$h/kv-counter/x
  HAProxy stats              http://127.0.0.1:$(cat "$state/stats.port")/
  node 1 / 2 / 3             127.0.0.1:$(cat "$state/n1/port") / $(cat "$state/n2/port") / $(cat "$state/n3/port")   (logs: $state/nN/log)
  PostgreSQL                 $(cat "$state/store")
stop with: $0 stop $state
EOF
  ;;
stop)
  stop_all
  ;;
run)
  trap 'echo "cluster: start failed; stopping what started" >&2; stop_all' ERR
  start_all
  trap - ERR
  trap 'stop_all; exit 0' INT TERM
  "$0" env "$state"
  echo "cluster: running; Ctrl-C stops it" >&2
  while sleep 1; do :; done
  ;;
kill)
  kill -KILL "$(cat "$state/n$node_arg/pid")"
  ;;
revive)
  start_node "$node_arg"
  ;;
env)
  print_env
  ;;
bench)
  bench
  ;;
*)
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
