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
#
# For the TLS and password tests, at `start`:
#   PG_PASSWORD=SECRET   the superuser's password; TCP clients must give it
#                        (scram-sha-256)
#   PG_TLS_DIR=D         D/server.pem and D/server.key: TLS on, and TCP
#                        clients must use it (hostssl only)
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
  local port tls=""
  port="$(cat "$dir/port")"
  if [[ -f "$dir/data/server.pem" ]]; then
    tls="-c ssl=on -c ssl_cert_file=$dir/data/server.pem -c ssl_key_file=$dir/data/server.key"
  fi
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 $tls" \
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
    if [[ -n "${PG_PASSWORD:-}" ]]; then
      printf '%s\n' "$PG_PASSWORD" > "$dir/pwfile"
      [[ "$(id -u)" == 0 ]] && chown nobody:nogroup "$dir/pwfile"
      as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --pwfile="$dir/pwfile" --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$dir/pwfile"
    else
      as_owner "$BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if [[ -n "${PG_TLS_DIR:-}" ]]; then
      cp "$PG_TLS_DIR/server.pem" "$PG_TLS_DIR/server.key" "$dir/data/"
      chmod 600 "$dir/data/server.key"
      [[ "$(id -u)" == 0 ]] && chown nobody:nogroup "$dir/data/server.pem" "$dir/data/server.key"
      # TCP only with TLS: a client that connects at all used it.
      method="$([[ -n "${PG_PASSWORD:-}" ]] && echo scram-sha-256 || echo trust)"
      printf 'local all all trust\nhostssl all all 127.0.0.1/32 %s\nhostnossl all all 0.0.0.0/0 reject\n' "$method" \
        > "$dir/data/pg_hba.conf"
    fi
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
