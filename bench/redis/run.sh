#!/usr/bin/env bash
# hotstate's Redis backend against a raw hiredis loop and redis-benchmark.
#
#   bench/redis/run.sh            (from the repository root; BUILD_DIR, OPS, ROUNDS optional)
#
# Builds bench/redis/redis_bench in Release, starts its own redis-server on a
# free loopback port in a temporary directory (no persistence), then prints:
#   - client cost: instructions per operation from valgrind --tool=callgrind,
#     a run of N operations minus a run of 0 operations of the same binary,
#     divided by N (deterministic; loopback round trips hide it in wall time);
#   - throughput: hotstate and the raw loop interleaved A B A B on the same
#     server, median of the per-pair ratios (this machine is noisy);
#   - a batch of 16 pipelined GETs against redis-benchmark -c 1 -P 16.
# Every figure is a line `RATIO <name> <hotstate / other>`.
# The server's side of the lock scripts alone: bench/redis/lock_server_cost.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-redis}"
OPS="${OPS:-10000}"         # operations per callgrind run (more: runs agree closer)
ROUNDS="${ROUNDS:-21}"      # interleaved rounds per throughput case
ROUND_OPS="${ROUND_OPS:-2000}"
BATCHES="${BATCHES:-5000}"  # batches of 16 per batch round

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target redis_bench >/dev/null
BENCH="$BUILD_DIR/bench/redis/redis_bench"

WORK="$(mktemp -d /tmp/hotstate-bench-redis-XXXXXX)"
PORT="$("$BENCH" free-port)"
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --save "" --appendonly no \
             --daemonize no --logfile "$WORK/redis.log" &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 500); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.01  # waiting for the server we just started to accept connections
done

echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$PORT"
echo
echo "== client cost: instructions per operation (callgrind, $OPS ops minus 0 ops)"
instructions() {  # case side n -> total instructions of the run
  local out="$WORK/callgrind.$1.$2.$3"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BENCH" count "$PORT" "$1" "$2" "$3" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
}
for case in get set_ttl incr incr_expire rate_fixed lock lock_owner_checked; do
  hot=$(( ($(instructions "$case" hotstate "$OPS") - $(instructions "$case" hotstate 0)) / OPS ))
  raw=$(( ($(instructions "$case" raw "$OPS") - $(instructions "$case" raw 0)) / OPS ))
  printf '%-12s hotstate %6d   raw hiredis %6d instructions/op\n' "$case" "$hot" "$raw"
  awk -v h="$hot" -v r="$raw" -v c="$case" 'BEGIN { printf "RATIO instructions_%s %.3f\n", c, h / r }'
done

echo
echo "== the same count again: how far two runs of one binary agree (timing moves the pool's idle probe)"
for case in get set_ttl incr lock; do
  first=$(( ($(instructions "$case" hotstate "$OPS") - $(instructions "$case" hotstate 0)) * 1000 / OPS ))
  second=$(( ($(instructions "$case" hotstate "$OPS") - $(instructions "$case" hotstate 0)) * 1000 / OPS ))
  awk -v a="$first" -v b="$second" -v c="$case" 'BEGIN { printf "RATIO instructions_%s_run_to_run %.4f\n", c, b / a }'
done

echo
echo "== the price of the layers alone: the raw loop sending requests the way hotstate does"
for case in get set_ttl incr; do
  hot=$(( ($(instructions "$case" hotstate "$OPS") - $(instructions "$case" hotstate 0)) / OPS ))
  raw=$(( ($(instructions "$case" raw_formatted "$OPS") - $(instructions "$case" raw_formatted 0)) / OPS ))
  printf '%-12s hotstate %6d   raw, same encoding %6d instructions/op\n' "$case" "$hot" "$raw"
  awk -v h="$hot" -v r="$raw" -v c="$case" 'BEGIN { printf "RATIO instructions_%s_vs_raw_same_encoding %.3f\n", c, h / r }'
done

echo
echo "== separate compilation: compiled<redis> (engine in its own TU) vs the header-only backend"
for case in get set_ttl incr lock; do
  hot=$(( ($(instructions "$case" hotstate "$OPS") - $(instructions "$case" hotstate 0)) / OPS ))
  sep=$(( ($(instructions "$case" compiled "$OPS") - $(instructions "$case" compiled 0)) / OPS ))
  printf '%-12s compiled %6d   header-only %6d instructions/op\n' "$case" "$sep" "$hot"
  awk -v s="$sep" -v h="$hot" -v c="$case" 'BEGIN { printf "RATIO instructions_%s_compiled_vs_header_only %.3f\n", c, s / h }'
done

echo
echo "== throughput, interleaved ($ROUNDS rounds of $ROUND_OPS ops per side)"
"$BENCH" throughput "$PORT" "$ROUNDS" "$ROUND_OPS"

echo
echo "== batch of 16 pipelined GETs vs redis-benchmark -c 1 -P 16 -t get ($ROUNDS rounds of $BATCHES batches)"
"$BENCH" batch "$PORT" "$ROUNDS" "$BATCHES"
