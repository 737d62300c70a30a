#!/usr/bin/env bash
# The Redis Cluster backend against the standalone backend and a raw hiredis loop.
#
#   bench/cluster/run.sh          (from anywhere; BUILD_DIR, OPS, ROUNDS, ROUND_OPS optional)
#
# Builds bench/cluster/cluster_bench in Release, starts one cluster-enabled
# redis-server on a free loopback port (temporary directory, no persistence),
# gives it all 16384 slots, and runs both backends against that same server, so
# only the client differs. Prints:
#   - client cost: instructions per operation from valgrind --tool=callgrind
#     (a run of N operations minus a run of 0, divided by N), cluster backend
#     against standalone backend (target <= 1.10) and against the raw loop;
#   - throughput: interleaved A B A B on the same server, median of per-pair
#     ratios (target >= 0.95 against the standalone backend).
# Every figure is a line `RATIO <name> <cluster / other>`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-cluster}"
OPS="${OPS:-2000}"
ROUNDS="${ROUNDS:-21}"
ROUND_OPS="${ROUND_OPS:-2000}"

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target cluster_bench >/dev/null
BENCH="$BUILD_DIR/bench/cluster/cluster_bench"

WORK="$(mktemp -d /tmp/hotstate-bench-cluster-XXXXXX)"
PORT="$("$BENCH" free-port)"
BUS="$("$BENCH" free-port)"
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --save "" --appendonly no --daemonize no \
             --cluster-enabled yes --cluster-config-file "$WORK/nodes.conf" --cluster-port "$BUS" \
             --logfile "$WORK/redis.log" &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 500); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.01  # waiting for the server we just started to accept connections
done
redis-cli -p "$PORT" cluster addslotsrange 0 16383 >/dev/null
for _ in $(seq 1 500); do
  redis-cli -p "$PORT" cluster info | grep -q 'cluster_state:ok' && break
  sleep 0.01  # waiting for the one-node cluster to declare itself ok
done

echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$PORT (cluster mode, all slots)"
echo
echo "== client cost: instructions per operation (callgrind, $OPS ops minus 0 ops)"
instructions() {  # case side n -> total instructions of the run
  local out="$WORK/callgrind.$1.$2.$3"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BENCH" count "$PORT" "$1" "$2" "$3" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
}
for case in get set_ttl incr incr_expire gcra lock; do
  cl=$(( ($(instructions "$case" cluster "$OPS") - $(instructions "$case" cluster 0)) / OPS ))
  st=$(( ($(instructions "$case" standalone "$OPS") - $(instructions "$case" standalone 0)) / OPS ))
  raw=$(( ($(instructions "$case" raw "$OPS") - $(instructions "$case" raw 0)) / OPS ))
  printf '%-12s cluster %6d   standalone %6d   raw hiredis %6d instructions/op\n' "$case" "$cl" "$st" "$raw"
  awk -v a="$cl" -v b="$st" -v c="$case" 'BEGIN { printf "RATIO instructions_cluster_vs_standalone_%s %.3f\n", c, a / b }'
  awk -v a="$cl" -v b="$raw" -v c="$case" 'BEGIN { printf "RATIO instructions_cluster_vs_raw_%s %.3f\n", c, a / b }'
done

echo
echo "== throughput, interleaved ($ROUNDS rounds of $ROUND_OPS ops per side)"
"$BENCH" throughput "$PORT" "$ROUNDS" "$ROUND_OPS"
