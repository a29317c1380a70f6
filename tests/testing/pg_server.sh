#!/bin/bash
# A throwaway PostgreSQL server for tests, started by the tests themselves:
#   pg_server.sh start DIR   initdb into DIR/data (as the postgres user when run as root), start
#                            on a free port on 127.0.0.1, write the DSN to DIR/dsn
#   pg_server.sh restart DIR crash (immediate stop) and restart on the same data and port
#   pg_server.sh stop DIR    stop it (immediate) and remove DIR
set -euo pipefail
cmd=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
  start)
    if [ -f "$dir/data/postmaster.pid" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_pg "$bin/initdb" -D "$dir/data" -U accord --auth=trust -E UTF8 >"$dir/initdb.log"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    echo "host=127.0.0.1 port=$port user=accord dbname=postgres" >"$dir/dsn"
    ;;
  restart)
    # Crash and restart on the same data and port: `pg_ctl stop -m immediate` skips the
    # shutdown checkpoint, so the restart runs crash recovery.
    port=$(sed 's/.*port=\([0-9]*\).*/\1/' "$dir/dsn")
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|restart|stop DIR" >&2
    exit 2
    ;;
esac
