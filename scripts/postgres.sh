#!/usr/bin/env bash
# Prints a URL of a reachable PostgreSQL test database; installs and starts Debian's server only
# when none is running (the usual machines start one before the session).
set -euo pipefail
URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if ! ready; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "postgres: installing PostgreSQL from Debian's packages…" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  conf=/etc/postgresql/$version/main/pg_hba.conf
  grep -q "airlock-trust" "$conf" || sed -i '1i host all all 127.0.0.1/32 trust # airlock-trust' "$conf"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 30); do ready && break; sleep 1; done
  psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >&2
fi
echo "$URL"
