#!/usr/bin/env bash
# hotstate's memcached backend against a raw libmemcached loop.
#
#   bench/memcached/run.sh        (from the repository root; BUILD_DIR, OPS, ROUNDS optional)
#
# Builds bench/memcached/memcached_bench in Release, starts its own memcached
# on a free loopback port, then prints:
#   - client cost: instructions per get/set/incr from valgrind --tool=callgrind,
#     a run of N operations minus a run of 0 operations of the same binary,
#     divided by N (deterministic; loopback round trips hide it in wall time);
#   - throughput on one connection: hotstate and the raw loop interleaved
#     A B A B on the same server, median of the per-pair ratios.
# Every figure is a line `RATIO <name> <hotstate / libmemcached>` (instructions:
# lower is better; throughput: higher is better).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-memcached}"
OPS="${OPS:-10000}"
ROUNDS="${ROUNDS:-21}"
ROUND_OPS="${ROUND_OPS:-2000}"

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target memcached_bench >/dev/null
BENCH="$BUILD_DIR/bench/memcached/memcached_bench"

WORK="$(mktemp -d /tmp/hotstate-bench-memcached-XXXXXX)"
PORT="$("$BENCH" free-port)"
AS_ROOT=()
[ "$(id -u)" = 0 ] && AS_ROOT=(-u root)  # memcached refuses root without -u
memcached "${AS_ROOT[@]}" -p "$PORT" -l 127.0.0.1 -U 0 -m 64 >"$WORK/memcached.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 500); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.01  # waiting for the server we just started to accept connections
done

echo "memcached $(memcached -V | awk '{print $2}') on 127.0.0.1:$PORT"
echo
echo "== client cost: instructions per operation (callgrind, $OPS ops minus 0 ops)"
instructions() {  # case side n -> total instructions of the run
  local out="$WORK/callgrind.$1.$2.$3"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BENCH" count "$PORT" "$1" "$2" "$3" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
}
for case in get set incr; do
  hot=$(( ($(instructions "$case" hotstate "$OPS") - $(instructions "$case" hotstate 0)) / OPS ))
  raw=$(( ($(instructions "$case" raw "$OPS") - $(instructions "$case" raw 0)) / OPS ))
  printf '%-6s hotstate %6d   raw libmemcached %6d instructions/op\n' "$case" "$hot" "$raw"
  awk -v h="$hot" -v r="$raw" -v c="$case" 'BEGIN { printf "RATIO memcached_instructions_%s %.3f\n", c, h / r }'
done

echo
echo "== throughput on one connection, interleaved ($ROUNDS rounds of $ROUND_OPS ops per side)"
"$BENCH" throughput "$PORT" "$ROUNDS" "$ROUND_OPS"
