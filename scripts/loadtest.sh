#!/usr/bin/env bash
# The 10,000-user load test (issue 9). Starts what it needs, runs `buko-load`, stops everything on exit.
#
#   scripts/loadtest.sh            PostgreSQL + Redis, two Buko nodes, the full size (10,000 users, 200 books, 5 min)
#   scripts/loadtest.sh --sqlite   one node on SQLite (no Redis)
#   scripts/loadtest.sh --quick    a smoke run: 500 users, 20 books, 30 s (combine with --sqlite)
#
# Sizes and speeds come from the environment (defaults in brackets):
#   N [10000] users · M [200] writing books · WATCHERS [3] sessions per writing book · DURATION [300] s hold
#   RAMP_UP [60] s · RATE [1000] browsing req/s · BROWSERS [100] logged-in page users · PAGES [from DURATION]
#   TOKENS_PER_SEC [50] · TTFT_MS [1000] · WORDS [600] per LLM answer · FAULT_529 [0.01] · FAULT_429 [0]
#   NODE_B_ROLE [full|no-worker] · THREADS [2] load threads · SKIP_BUILD=1 use the binaries as built
#   DRAIN [900] longest wait (s) for the books after the hold
#   LLM [anthropic] the nodes' provider: anthropic = `buko fake-llm`; offline = the in-process writer at
#   TOKENS_PER_SEC (no LLM server, no injected faults)
#   KEEP=1 keep the work dir and the database · OUT [work dir] where report.md / report.json go
#   PROFILE [release] the cargo profile directory the binaries are taken from (debug for a quick try)
#   PERF=1 profile each node with `perf record` for PERF_SECS [20] s, PERF_AT [RAMP_UP+30] s into the load
#   (flat profile in perf-node<i>.txt next to the report)
#   REDIS_SLEEP_AT=S run `redis-cli DEBUG SLEEP ${REDIS_SLEEP_SECS:-3}` S seconds after the load starts
#   (the Redis-pause run: watchers must still see 0 gaps); each node's /metrics is saved next to the report
#   at the end (metrics-node<i>.txt: where store calls spend their time, relay retries, gap refills)
# Binaries: $CARGO_TARGET_DIR/release/{buko,buko-load} (built here with `cargo build --release` unless SKIP_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=pg
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --sqlite) MODE=sqlite ;;
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ "$QUICK" = 1 ]; then
  N=${N:-500}; M=${M:-20}; DURATION=${DURATION:-30}; RAMP_UP=${RAMP_UP:-10}; RATE=${RATE:-200}
  BROWSERS=${BROWSERS:-10}
fi
N=${N:-10000}; M=${M:-200}; WATCHERS=${WATCHERS:-3}; DURATION=${DURATION:-300}; RAMP_UP=${RAMP_UP:-60}
RATE=${RATE:-1000}; BROWSERS=${BROWSERS:-100}; THREADS=${THREADS:-2}
TOKENS_PER_SEC=${TOKENS_PER_SEC:-50}; TTFT_MS=${TTFT_MS:-1000}; WORDS=${WORDS:-600}
FAULT_529=${FAULT_529:-0.01}; FAULT_429=${FAULT_429:-0}; NODE_B_ROLE=${NODE_B_ROLE:-full}
# A chapter (≈ 10 pages, 3,610 words) is about 4 answers of WORDS words (≈ 1.3 tokens a word, each
# after a first-token wait: the answer and its length extensions) and 4 shorter memory calls (notes,
# summary, ledger, audit); at full size on 2 cores a chapter took twice that (150 s, 2026-12-06).
# Size the books (chapters ≈ pages / 10) so that they keep writing through the whole hold.
if [ -z "${PAGES:-}" ]; then
  per_chapter=$(( 2 * (4 * (WORDS * 13 / 10 / TOKENS_PER_SEC + TTFT_MS / 1000) + 4 * (TTFT_MS / 1000 + 3)) ))
  chapters=$(( (DURATION + RAMP_UP / 2 + per_chapter - 1) / per_chapter ))
  PAGES=$(( chapters * 10 ))
  [ "$PAGES" -lt 30 ] && PAGES=30
  [ "$PAGES" -gt 240 ] && PAGES=240
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/buko-target-load}
BIN="$CARGO_TARGET_DIR/${PROFILE:-release}"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ "${PROFILE:-release}" = debug ]; then
    cargo build --bin buko --bin buko-load
  else
    cargo build --release --bin buko --bin buko-load
  fi
fi

ulimit -n "$(ulimit -Hn)"
WORK=$(mktemp -d /var/tmp/buko-load.XXXXXX)
OUT=${OUT:-$WORK}
mkdir -p "$OUT"
PIDS=()
DB_NAME=""

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$DB_NAME" ] && [ "${KEEP:-0}" != 1 ]; then
    psql -h 127.0.0.1 -U postgres -qAtc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "${KEEP:-0}" != 1 ] && [ "$OUT" != "$WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

# shellcheck source=scripts/ensure-services.sh
source scripts/ensure-services.sh

SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 48)
LLM_PORT=${LLM_PORT:-18089}
if [ "$MODE" = pg ]; then
  ensure_postgres
  ensure_redis
  DB_NAME="buko_load_$(date +%s)"
  psql -h 127.0.0.1 -U postgres -qAtc "CREATE DATABASE \"$DB_NAME\"" >/dev/null
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME"
  REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
  redis-cli -u "$REDIS_URL" --scan --pattern 'buko:*' 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  PORTS=(18080 18081)
else
  DATABASE_URL="$WORK/buko.db"
  REDIS_URL=""
  PORTS=(18080)
fi

"$BIN/buko" fake-llm --port "$LLM_PORT" --tokens-per-sec "$TOKENS_PER_SEC" --ttft-ms "$TTFT_MS" \
  --words "$WORDS" --fault-rate-529 "$FAULT_529" --fault-rate-429 "$FAULT_429" --workers 1 \
  >"$WORK/fake-llm.log" 2>&1 &
PIDS+=($!)

# The load runs from one address with few API keys: the per-IP, per-endpoint and per-key limits (300, 1000
# and 120 a minute by default)
# are raised, not removed, so every request still goes through the limiter (Redis on two nodes).
node_env=(
  DATABASE_URL="$DATABASE_URL" BUKO_SECRET_KEY="$SECRET" RUST_LOG="${RUST_LOG:-warn}"
  BUKO_LLM_PROVIDER="${LLM:-anthropic}" ANTHROPIC_API_KEY=load-test ANTHROPIC_BASE_URL="http://127.0.0.1:$LLM_PORT"
  BUKO_OFFLINE_TOKENS_PER_SEC="$TOKENS_PER_SEC"
  BUKO_RATE_IP_PER_MIN=100000000 BUKO_RATE_IP_OTHER_PER_MIN=100000000 BUKO_RATE_ENDPOINT_PER_MIN=100000000 BUKO_API_KEY_RATE_LIMIT=100000000
  BUKO_WORKERS_BOOK="$M" BUKO_WORKERS_ARCHITECTURE=${ARCH_WORKERS:-50}
  BUKO_DB_POOL_SIZE=${POOL:-32}
)
[ -n "$REDIS_URL" ] && node_env+=(REDIS_URL="$REDIS_URL")

NODE_PIDS=()
TARGETS=()
for i in "${!PORTS[@]}"; do
  port=${PORTS[$i]}
  args=(serve)
  if [ "$i" = 1 ] && [ "$NODE_B_ROLE" = no-worker ]; then args+=(--no-worker); fi
  # Migrations run on start; start the second node once the first is ready so they do not race.
  env "${node_env[@]}" BUKO_BIND="127.0.0.1:$port" BUKO_DATA_DIR="$WORK/node$i" \
    "$BIN/buko" "${args[@]}" >"$WORK/node$i.log" 2>&1 &
  pid=$!
  PIDS+=("$pid"); NODE_PIDS+=("$pid"); TARGETS+=(--target "http://127.0.0.1:$port")
  ok=0
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if [ "$ok" != 1 ]; then echo "node $i did not become ready; log:" >&2; tail -20 "$WORK/node$i.log" >&2; exit 1; fi
done

PID_ARGS=()
for pid in "${NODE_PIDS[@]}"; do PID_ARGS+=(--server-pid "$pid"); done

if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  (
    sleep "${PERF_AT:-$((RAMP_UP + 30))}"
    for i in "${!NODE_PIDS[@]}"; do
      perf record -F 499 -p "${NODE_PIDS[$i]}" -o "$WORK/perf-node$i.data" -- sleep "${PERF_SECS:-20}" >/dev/null 2>&1 &
    done
    wait
    for i in "${!NODE_PIDS[@]}"; do
      perf report -i "$WORK/perf-node$i.data" --stdio --no-children --sort comm,dso,symbol 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -60 >"$OUT/perf-node$i.txt" || true
    done
  ) &
  PIDS+=($!)
fi

# The whole machine's CPU over the hold, by process name (the nodes, PostgreSQL's backends, Redis, the
# fake provider, the load program, the kernel's threads): where the 2 cores went.
(
  sleep "$((RAMP_UP + 5))"
  ps -eo pid=,comm=,cputimes= >"$WORK/cpu-start.txt"
  sleep "$((DURATION - 10))"
  ps -eo pid=,comm=,cputimes= >"$WORK/cpu-end.txt"
  awk -v secs="$((DURATION - 10))" '
    NR == FNR { start[$1] = $3; next }
    { used[$2] += $3 - ($1 in start ? start[$1] : 0) }
    END { for (c in used) if (used[c] > 0) printf "%-24s %6.2f cores\n", c, used[c] / secs }
  ' "$WORK/cpu-start.txt" "$WORK/cpu-end.txt" | sort -k2 -rn >"$OUT/cpu-by-process.txt"
) &
PIDS+=($!)

if [ -n "${REDIS_SLEEP_AT:-}" ] && [ -n "$REDIS_URL" ]; then
  (
    sleep "$REDIS_SLEEP_AT"
    echo "== redis: DEBUG SLEEP ${REDIS_SLEEP_SECS:-3} at $(date -u +%T)"
    redis-cli -u "$REDIS_URL" DEBUG SLEEP "${REDIS_SLEEP_SECS:-3}" >/dev/null
  ) &
  PIDS+=($!)
fi

echo "== load: mode=$MODE users=$N books=$M watchers=$WATCHERS pages=$PAGES hold=${DURATION}s rate=$RATE work=$WORK"
status=0
"$BIN/buko-load" "${TARGETS[@]}" "${PID_ARGS[@]}" --database-url "$DATABASE_URL" \
  --users "$N" --books "$M" --watchers "$WATCHERS" --target-pages "$PAGES" --rate "$RATE" \
  --browsers "$BROWSERS" --ramp-up "$RAMP_UP" --hold "$DURATION" --threads "$THREADS" \
  --drain-timeout "${DRAIN:-900}" \
  --json "$OUT/report.json" | tee "$OUT/report.md" || status=$?
for i in "${!PORTS[@]}"; do
  curl -fsS "http://127.0.0.1:${PORTS[$i]}/metrics" >"$OUT/metrics-node$i.txt" 2>/dev/null || true
done
echo "== report: $OUT/report.md (node logs in $WORK)"
exit "$status"
