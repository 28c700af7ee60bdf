#!/usr/bin/env bash
# Fuzzes API v1 with schemathesis against a real node: starts `buko serve` on a free port with a temp
# data dir (SQLite, offline writer), creates a user and an API key with the CLI, and runs schemathesis
# on /api/v1/openapi.json. Fails on any 5xx or any response that breaks the document.
# Usage: scripts/schemathesis.sh [path/to/buko]   (default: $CARGO_TARGET_DIR/debug/buko)
# Bounded: SCHEMATHESIS_MAX_EXAMPLES (default 10) examples per operation, SCHEMATHESIS_MAX_TIME s total.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-/var/tmp/buko-target}/debug/buko}"
[ -x "$bin" ] || { echo "no buko binary at $bin (cargo build first)" >&2; exit 2; }
st="$("$here/install-schemathesis.sh" | tail -n1)"

data="$(mktemp -d)"
log="$data/serve.log"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

export BUKO_DATA_DIR="$data" BUKO_BIND=127.0.0.1:0 BUKO_LLM_PROVIDER=offline RUST_LOG=info
# Fuzzing sends many requests a minute; the limits under test here are shapes, not rates.
export BUKO_API_KEY_RATE_LIMIT=100000 BUKO_RATE_IP_PER_MIN=1000000 BUKO_RATE_IP_OTHER_PER_MIN=1000000 BUKO_RATE_ENDPOINT_PER_MIN=1000000
unset DATABASE_URL REDIS_URL
email="fuzz-$RANDOM@example.com"
"$bin" admin create-user --email "$email" --password "fuzzing password 123" >/dev/null
key="$("$bin" admin create-api-key --email "$email" 2>/dev/null)"

"$bin" serve >/dev/null 2>"$log" &
pid=$!
port=""
for _ in $(seq 1 300); do
  port="$(grep -o '"port":[0-9]*' "$log" | head -n1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "buko serve did not start:" >&2; cat "$log" >&2; exit 1; }
base="http://127.0.0.1:$port"

# Run from the temp dir: schemathesis keeps a cache in the working directory.
cd "$data"
"$st" --no-color run "$base/api/v1/openapi.json" \
  --url "$base" \
  -H "X-API-Key: $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-10}" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-120}" \
  --request-timeout 20 \
  --seed 1 \
  --suppress-health-check all
