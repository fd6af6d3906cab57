#!/usr/bin/env bash
# Regenerate migration 0001 (the initial schema) from the models, keeping 0002 (audit
# triggers). Only while nothing has been deployed; after the first release add a new
# migration with `flask --app tracker db migrate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mv tracker/migrations/versions/0002_audit_append_only.py "$tmp/"
rm -f tracker/migrations/versions/0001_*.py
export TRACKER_DATABASE_URL="sqlite:///$tmp/regen.sqlite3" TRACKER_SECRET_KEY=regen
.venv/bin/flask --app tracker db migrate -m "initial schema" --rev-id 0001 >/dev/null
mv "$tmp/0002_audit_append_only.py" tracker/migrations/versions/
echo "Regenerated tracker/migrations/versions/0001_initial_schema.py"
