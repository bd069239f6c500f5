#!/usr/bin/env bash
# Print a DATABASE_URL for the test suite, making sure a PostgreSQL server answers there:
#   1. $DATABASE_URL when it is set;
#   2. the local service on 127.0.0.1:5432 when it answers;
#   3. otherwise a throwaway cluster under var/pg on port 54329, started here (installing
#      Debian's postgresql first when no server binaries are present).
# Progress goes to stderr; only the URL goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DATABASE_URL:-}" ]; then
  echo "$DATABASE_URL"
  exit 0
fi

if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "postgres://postgres@127.0.0.1:5432/postgres"
  exit 0
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  echo "No PostgreSQL server found; installing Debian's postgresql..." >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

port=54329
datadir="$PWD/var/pg"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  run_as=(runuser -u postgres --)  # initdb refuses to run as root
fi
if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  mkdir -p "$datadir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$datadir"
  if [ ! -f "$datadir/PG_VERSION" ]; then
    echo "Creating a throwaway PostgreSQL cluster in $datadir..." >&2
    "${run_as[@]}" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust >&2
  fi
  "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w \
    -o "-p $port -k $datadir -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
