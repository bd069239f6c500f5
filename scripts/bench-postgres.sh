#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster with the settings tuning guides give a server with bulk
# imports, for benchmarks (bench/RESULTS.md "Bulk imports on a tuned server" measured them;
# docs/operations.md "PostgreSQL settings for a county server" keeps those that helped):
#
#   scripts/bench-postgres.sh start [name=value ...]   # prints its DATABASE_URL
#   scripts/bench-postgres.sh stop                     # stops it
#   scripts/bench-postgres.sh destroy                  # stops it and deletes its data
#
# Extra name=value arguments override a setting for this start (e.g. autovacuum=off to
# match this machine's stock server, or shared_buffers=128MB to measure one setting).
# Durability stays on: fsync, synchronous_commit and full_page_writes keep their defaults.
# Data under var/bench-pg, port $BENCH_PG_PORT (5440), trust authentication on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=/usr/lib/postgresql/15/bin
port=${BENCH_PG_PORT:-5440}
datadir="$PWD/var/bench-pg"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  run_as=(runuser -u postgres --)  # initdb and postgres refuse to run as root
fi

# A quarter of the memory for shared_buffers, at most 4 GB (PostgreSQL's docs: 25 % is a
# reasonable start, more than 40 % rarely helps); half of it as the planner's cache size.
ram_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
shared_mb=$((ram_mb / 4 < 4096 ? ram_mb / 4 : 4096))
cache_mb=$((ram_mb / 2))

tuning() {
  cat <<EOF
# Written by scripts/bench-postgres.sh: a county server with bulk imports.
shared_buffers = ${shared_mb}MB
effective_cache_size = ${cache_mb}MB
# An import of 1,000,000 doses writes ~850 MB of WAL: no checkpoint may be forced during it.
max_wal_size = 8GB
min_wal_size = 1GB
checkpoint_timeout = 30min
checkpoint_completion_target = 0.9
wal_buffers = 64MB
wal_compression = lz4
# Index builds after a COPY, VACUUM, ANALYZE.
maintenance_work_mem = 1GB
max_parallel_maintenance_workers = 1
work_mem = 32MB
# Solid-state disk.
effective_io_concurrency = 200
EOF
}

case "${1:-}" in
  start)
    shift
    if [ ! -f "$datadir/PG_VERSION" ]; then
      mkdir -p "$datadir"
      [ "$(id -u)" -eq 0 ] && chown postgres "$datadir"
      echo "Creating a throwaway PostgreSQL cluster in $datadir..." >&2
      "${run_as[@]}" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust >/dev/null
      echo "include_if_exists = 'tuning.conf'" >>"$datadir/postgresql.conf"
    fi
    tuning >"$datadir/tuning.conf"
    [ "$(id -u)" -eq 0 ] && chown postgres "$datadir/tuning.conf"
    options="-p $port -k $datadir -c listen_addresses=127.0.0.1"
    for setting in "$@"; do
      options+=" -c $setting"
    done
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      echo "Already running on port $port; restarting with these settings." >&2
      "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >&2
    fi
    # The server must not inherit the caller's open files: a lock the caller holds (such as
    # /work/notes/b's) would stay held for as long as the server runs.
    (
      for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
      done
      exec "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w \
        -o "$options" start >&2
    )
    echo "Stop it with: $0 stop (or destroy, to delete its data too)" >&2
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -m fast -w stop
    ;;
  destroy)
    if [ -f "$datadir/postmaster.pid" ]; then
      "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -m fast -w stop
    fi
    rm -rf "$datadir"
    ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
