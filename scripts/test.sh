#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs and starts what it needs (PostgreSQL, Redis,
# epubcheck, poppler, LibreOffice, Chromium, schemathesis), then checks formatting and lints, runs every
# test (integration tests on SQLite, then again on PostgreSQL; multi-node tests on PostgreSQL + Redis),
# and fuzzes API v1 against its OpenAPI document. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/buko-target}"
export CARGO_TERM_COLOR=never
source scripts/ensure-services.sh

ensure_pkgs libpq-dev pkg-config
ensure_postgres
ensure_redis
scripts/install-test-tools.sh >/dev/null

export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
# Loopback needs no TLS: without it libpq never touches OpenSSL, whose exit-time cleanup could race a
# pool thread still closing a TLS connection and crash the test binary after every test had passed
# (SIGSEGV in libcrypto at exit, seen once on the PostgreSQL run).
export PGSSLMODE="${PGSSLMODE:-disable}"

step() { echo; echo "== $*"; }
# Free space first: a full disk fails tests far from its cause (SQLite writes, export caches).
df -h "$CARGO_TARGET_DIR" "${TMPDIR:-/tmp}" 2>/dev/null || true
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "tests: engine, exports, LLM, web on SQLite, multi-node on PostgreSQL + Redis"
cargo test --workspace --quiet
step "integration tests on PostgreSQL"
TEST_DATABASE_URL="$TEST_POSTGRES_URL" cargo test -p buko --test api --quiet
step "schemathesis: API v1 against its OpenAPI document"
BUKO_SCHEMATHESIS=1 cargo test -p buko --test api --quiet schemathesis
echo; echo "== all green"
