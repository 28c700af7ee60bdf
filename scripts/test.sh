#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs and starts what it needs, then checks formatting,
# lints, and runs every test on SQLite and again on PostgreSQL. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/buko-target}"
export CARGO_TERM_COLOR=never
source scripts/ensure-services.sh

ensure_pkgs libpq-dev pkg-config
ensure_postgres
ensure_redis
[ -x scripts/install-test-tools.sh ] && scripts/install-test-tools.sh

export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

step() { echo; echo "== $*"; }
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "tests on SQLite"
cargo test --workspace --quiet
step "integration tests on PostgreSQL"
TEST_DATABASE_URL="$TEST_POSTGRES_URL" cargo test -p buko --test api --quiet
echo; echo "== all green"
