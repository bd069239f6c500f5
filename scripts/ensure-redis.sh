#!/usr/bin/env bash
# Print the Redis URL of the task queue, making sure a Redis server answers there:
#   1. $EPIDISPATCH_REDIS_URL when it is set;
#   2. the local server on 127.0.0.1:6379 when it answers;
#   3. otherwise Debian's redis-server (installed when missing) started here on 127.0.0.1:6379,
#      keeping its append-only file under var/redis so queued tasks survive a restart.
# Progress goes to stderr; only the URL goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${EPIDISPATCH_REDIS_URL:-}" ]; then
  echo "$EPIDISPATCH_REDIS_URL"
  exit 0
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v redis-server >/dev/null; then
  echo "No Redis found; installing Debian's redis-server..." >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >&2
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis on 127.0.0.1:6379 (data in var/redis)..." >&2
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir "$PWD/var/redis" \
    --appendonly yes --logfile "$PWD/var/redis/redis.log" >&2
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
echo "redis://127.0.0.1:6379/0"
