#!/usr/bin/env bash
# Production: the platform on gunicorn and the huey consumer (imports from the web, the
# daily cutoff, reminders and the other periodic jobs), on PostgreSQL and Redis, DEBUG off,
# HTTPS settings on. Runs in the foreground; stopping it stops both. See docs/operations.md.
#
#   DATABASE_URL=postgres://epidispatch:PASSWORD@127.0.0.1:5432/epidispatch \
#   EPIDISPATCH_ALLOWED_HOSTS=epi.example.gov.cn make serve
#
# BIND (default 127.0.0.1:8000, behind nginx with TLS) and WORKERS (default 4) adjust
# gunicorn; EPIDISPATCH_HTTPS=0 serves plain HTTP (a closed network without a proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if [ -z "${DATABASE_URL:-}" ] || [[ "$DATABASE_URL" != postgres* ]]; then
  echo "Set DATABASE_URL to the PostgreSQL database, e.g." >&2
  echo "  DATABASE_URL=postgres://epidispatch:PASSWORD@127.0.0.1:5432/epidispatch make serve" >&2
  echo "(docs/operations.md: creating the database)" >&2
  exit 2
fi
EPIDISPATCH_REDIS_URL="$(scripts/ensure-redis.sh)"
export EPIDISPATCH_REDIS_URL
export EPIDISPATCH_HTTPS="${EPIDISPATCH_HTTPS:-1}"
export EPIDISPATCH_DEBUG=0
unset EPIDISPATCH_DEMO EPIDISPATCH_TASKS_IMMEDIATE

"$BIN/epidispatch" migrate --noinput --verbosity 1
"$BIN/epidispatch" check --deploy --fail-level WARNING

"$BIN/epidispatch" run_huey &
tasks=$!
trap 'kill "$tasks" 2>/dev/null || true' EXIT INT TERM
"$BIN/gunicorn" epidispatch.wsgi \
  --bind "${BIND:-127.0.0.1:8000}" \
  --workers "${WORKERS:-4}" \
  --access-logfile - \
  --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
