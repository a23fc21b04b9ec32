#!/usr/bin/env bash
# Starts Debian's PostgreSQL in a private data folder for tests and benchmarks:
#   scripts/postgres.sh start DIR   initdb DIR/pg, listen on 127.0.0.1 (a free port) and on a unix
#                                   socket in DIR; prints the URL of the superuser database
#   scripts/postgres.sh stop DIR
# PostgreSQL refuses to run as root, so as root the folder belongs to the `postgres` user and the
# server runs under runuser. Durability is off (fsync): the data is thrown away after the run.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: postgres.sh start|stop DIR}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "postgres.sh: PostgreSQL is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
  user=$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$bin/initdb" -D "$dir/pg" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_pg "$bin/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" \
    >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
  echo "postgres://$user@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  [ -d "$dir/pg" ] && as_pg "$bin/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: postgres.sh start|stop DIR" >&2; exit 2
  ;;
esac
