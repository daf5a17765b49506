#!/usr/bin/env bash
# Runs the whole suite. PostgreSQL-backed tests use AIRLOCK_TEST_POSTGRES_URL, set by scripts/postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${AIRLOCK_TEST_POSTGRES_URL:-}" ]; then
  AIRLOCK_TEST_POSTGRES_URL=$(scripts/postgres.sh)
  export AIRLOCK_TEST_POSTGRES_URL
fi
exec .venv/bin/python -m pytest "$@"
