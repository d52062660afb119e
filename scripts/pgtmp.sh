#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and scripts/cluster.sh: initdb in a
# directory of its own under /tmp (so that the unprivileged account can reach
# it whatever DIR's parents allow), run as that account (`postgres` when
# started as root), listening on a free loopback port and on a unix socket
# in that directory. DIR keeps the connection string, the port and the
# path of the server's directory.
#
#   scripts/pgtmp.sh start DIR    prints the connection string, also kept in DIR/conninfo
#   scripts/pgtmp.sh stop DIR     stops the server (fast shutdown) and removes DIR
#   scripts/pgtmp.sh restart DIR  stops and starts the server on the same port and data
#   scripts/pgtmp.sh down DIR     stops the server, keeping its data; `up DIR` starts it again
#   scripts/pgtmp.sh psql DIR ... runs psql against it
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|restart|down|up|psql DIR" >&2; exit 2; }

bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && bindir="$d"
done
[ -n "$bindir" ] || { echo "pgtmp: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }

# As root, everything runs as an account that PostgreSQL accepts.
as=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  as=(runuser -u postgres --)
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

home() { cat "$dir/home"; }

start_server() {
  local port="$1" h
  h="$(home)"
  "${as[@]}" "$bindir/pg_ctl" -D "$h/data" -l "$h/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$h -c max_connections=300 -c shared_buffers=32MB" \
    start >/dev/null || { cat "$h/log" >&2; exit 1; }
}

case "$cmd" in
start)
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  h="$(mktemp -d /tmp/eos-pg.XXXXXX)"
  echo "$h" >"$dir/home"
  if [ -n "${as[*]}" ]; then chown postgres "$h"; fi
  chmod 0700 "$h"
  "${as[@]}" "$bindir/initdb" -D "$h/data" -U eos --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port="$(free_port)"
  echo "$port" >"$dir/port"
  start_server "$port"
  echo "host=127.0.0.1 port=$port user=eos dbname=postgres" >"$dir/conninfo"
  cat "$dir/conninfo"
  ;;
stop)
  if [ -f "$dir/home" ]; then
    h="$(home)"
    if [ -d "$h/data" ]; then "${as[@]}" "$bindir/pg_ctl" -D "$h/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    case "$h" in /tmp/eos-pg.*) rm -rf "$h" ;; esac
  fi
  rm -rf "$dir"
  ;;
restart)
  "${as[@]}" "$bindir/pg_ctl" -D "$(home)/data" -m fast -w stop >/dev/null
  start_server "$(cat "$dir/port")"
  ;;
down)
  "${as[@]}" "$bindir/pg_ctl" -D "$(home)/data" -m fast -w stop >/dev/null
  ;;
up)
  start_server "$(cat "$dir/port")"
  ;;
psql)
  shift 2
  exec "${as[@]}" "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$(cat "$dir/conninfo")" "$@"
  ;;
*)
  echo "usage: $0 start|stop|restart|down|up|psql DIR" >&2
  exit 2
  ;;
esac
