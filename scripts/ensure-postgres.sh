#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the embedded cluster.
# Skipped when DATABASE_URL is set (an existing server is used) or binaries are present.
set -euo pipefail
if [[ -n "${DATABASE_URL:-}" ]]; then exit 0; fi
if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/postgres" ]]; then exit 0; fi
if compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then exit 0; fi
if [[ "$(id -u)" != "0" ]]; then
    echo "PostgreSQL server binaries not found. Install them (Debian: apt-get install postgresql)" >&2
    echo "or set DATABASE_URL to an existing server." >&2
    exit 1
fi
echo "Installing PostgreSQL server binaries (apt-get; no default cluster is created)..."
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/gallery-gql.conf
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
