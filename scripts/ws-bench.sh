#!/usr/bin/env bash
# WebSocket fan-out benchmark, RUNS times (a fresh server each run), then the medians.
#
#   scripts/ws-bench.sh                 10,000 subscribers, 1,000 books, 2,000 msg/s, 20 s, 3 runs
#   SUBSCRIBERS=2000 BOOKS=200 scripts/ws-bench.sh
#
# Environment (defaults in brackets): SUBSCRIBERS [10000] · BOOKS [1000] · RATE [2000] msg/s · SECONDS_ [20]
# TICK_MS [1] the publisher sends the messages due every TICK_MS (10: the bursts of the first runs) ·
# measured per run · RUNS [3] · THREADS [2] client threads · PROFILE [release] the cargo profile directory
# the binary is taken from · SKIP_BUILD=1 use the binary as built · OUT [/var/tmp/ws-bench] run logs.
# Each process holds SUBSCRIBERS sockets: the open-file limit is raised to the hard limit (it must exceed
# SUBSCRIBERS + a few hundred).
set -euo pipefail
cd "$(dirname "$0")/.."

SUBSCRIBERS=${SUBSCRIBERS:-10000}; BOOKS=${BOOKS:-1000}; RATE=${RATE:-2000}; SECONDS_=${SECONDS_:-20}
TICK_MS=${TICK_MS:-1}; RUNS=${RUNS:-3}; THREADS=${THREADS:-2}; PROFILE=${PROFILE:-release}; OUT=${OUT:-/var/tmp/ws-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/buko-target-load}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ "$PROFILE" = debug ]; then cargo build --bin ws-bench; else cargo build --release --bin ws-bench; fi
fi
B="$CARGO_TARGET_DIR/$PROFILE/ws-bench"
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -le $((SUBSCRIBERS + 200)) ]; then
  echo "open-file limit $(ulimit -n) is too low for $SUBSCRIBERS subscribers" >&2
  exit 2
fi
mkdir -p "$OUT"
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true' EXIT INT TERM

for run in $(seq 1 "$RUNS"); do
  DATA=$(mktemp -d /tmp/buko-ws-bench.XXXXXX)
  # Every socket comes from 127.0.0.1: the per-IP limits (3,000 requests a minute for upgrades and
  # pages) are raised, not removed, as in loadtest.sh.
  RUST_LOG=warn BUKO_RATE_IP_PER_MIN=100000000 BUKO_RATE_IP_OTHER_PER_MIN=100000000 \
    BUKO_RATE_ENDPOINT_PER_MIN=100000000 BUKO_API_KEY_RATE_LIMIT=100000000 "$B" server --books "$BOOKS" --rate "$RATE" --tick-ms "$TICK_MS" --data-dir "$DATA" >"$OUT/server-$run.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do [ -s "$DATA/bench.json" ] && break; sleep 0.5; done
  "$B" client --subscribers "$SUBSCRIBERS" --seconds "$SECONDS_" --threads "$THREADS" \
    --info "$DATA/bench.json" | tee "$OUT/client-$run.txt"
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
  rm -rf "$DATA"
done

# Medians of the runs' p50 / p95 / p99 / max and deliveries per second.
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
field() { grep -h "latency ms" "$OUT"/client-*.txt | awk -v k="$1" '{for (i=1;i<=NF;i++) if ($i==k) print $(i+1)}'; }
echo "== medians of $RUNS runs ($SUBSCRIBERS subscribers, $BOOKS books, $RATE msg/s, $PROFILE build)"
for k in p50 p95 p99 max; do echo "$k $(field "$k" | median) ms"; done
echo "deliveries/s $(grep -h "deliveries measured" "$OUT"/client-*.txt | sed 's/.*(\([0-9]*\)\/s).*/\1/' | median)"
echo "connected $(grep -h "subscribers connected:" "$OUT"/client-*.txt | awk '{print $3}' | median) / $SUBSCRIBERS"
echo "closed by server $(grep -h "closed by server" "$OUT"/client-*.txt | awk '{print $NF}' | median)"
