#!/usr/bin/env bash
# A private PostgreSQL server for the tests: Debian's `postgresql` package
# (installed by setup-test-env.sh), one data directory, listening on
# 127.0.0.1 only, on a free port, with no password (trust) and no fsync.
#
#   pg-server.sh start DIR   prints the admin URL: postgres://postgres@127.0.0.1:PORT/postgres
#   pg-server.sh stop DIR    stops it (fast); the caller removes DIR
#   pg-server.sh restart DIR starts it again on the same port (a network cut)
#
# PostgreSQL refuses to run as root: as root, the server runs as `nobody`,
# which owns DIR.
set -euo pipefail

cmd="${1:?start|stop|restart}"
dir="${2:?data directory}"
BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[[ -x "$BIN/pg_ctl" ]] || { echo "pg-server: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

start() {
  local port
  port="$(cat "$dir/port")"
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ "$(id -u)" == 0 ]]; then
      chown nobody:nogroup "$dir"
      # `nobody` must reach DIR: its parent (a private temp dir) gets
      # search permission, nothing more.
      chmod o+x "$(dirname "$dir")"
    fi
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
    # A free port: the kernel's choice for a socket bound and closed.
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' > "$dir/port"
    start
    echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
    ;;
  restart)
    start
    ;;
  stop)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  *)
    echo "pg-server: unknown command $cmd" >&2
    exit 2
    ;;
esac
