#!/usr/bin/env bash
# The asynchronous store (one multiplexed connection) against redis-benchmark
# and the blocking store, both sides in one run on one server.
#
#   bench/async/run.sh            (from the repository root; BUILD_DIR, ROUNDS, OPS, COUNT_OPS optional)
#
# Prints RATIO lines:
#   async64_vs_redis_benchmark_c50_{get,incr}      64 coroutines on ONE connection / redis-benchmark -c 50
#   async64_vs_redis_benchmark_c1_P64_{get,incr}   the same / redis-benchmark -c 1 -P 64 (the pipelined ceiling)
#   async_single_caller_vs_blocking_get            one caller at a time, throughput (latency ratio = 1 / this)
#   async_cluster_vs_standalone_get                64 coroutines' GETs of one key: async_redis_cluster on a
#                                                  3-master cluster / async_redis on the standalone server
#   async_cluster_vs_async_redis_on_the_keys_master_get
#                                                  the same / async_redis on the cluster node owning the key
#                                                  (the client's routing cost alone: same server both sides)
#   instructions per GET at 64 in flight (callgrind) beside the blocking store's (bench/redis's count mode)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-async}"
ROUNDS="${ROUNDS:-7}"
OPS="${OPS:-100000}"
COUNT_OPS="${COUNT_OPS:-4000}"

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target async_bench redis_bench >/dev/null
BENCH="$BUILD_DIR/bench/async/async_bench"
BLOCKING="$BUILD_DIR/bench/redis/redis_bench"

WORK="$(mktemp -d /tmp/hotstate-bench-async-XXXXXX)"
PORT="$("$BENCH" free-port)"
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --save "" --appendonly no \
             --daemonize no --logfile "$WORK/redis.log" &
SERVER=$!
CLUSTER_PIDS=()
cleanup() {
  kill "$SERVER" "${CLUSTER_PIDS[@]}" 2>/dev/null || true
  wait "$SERVER" "${CLUSTER_PIDS[@]}" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 500); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.01  # waiting for the server we just started to accept connections
done

echo "== throughput: 64 coroutines on one connection"
"$BENCH" many "$PORT" "$ROUNDS" "$OPS"
echo
echo "== one caller at a time"
"$BENCH" single "$PORT" "$ROUNDS" 20000
echo
echo "== client cost: instructions per GET (callgrind, $COUNT_OPS ops minus 0 ops)"
instructions() {  # command... -> total instructions of the run
  local out="$WORK/callgrind.$RANDOM"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"
}
async=$(( ($(instructions "$BENCH" count "$PORT" "$COUNT_OPS") - $(instructions "$BENCH" count "$PORT" 0)) / COUNT_OPS ))
blocking=$(( ($(instructions "$BLOCKING" count "$PORT" get hotstate "$COUNT_OPS") - $(instructions "$BLOCKING" count "$PORT" get hotstate 0)) / COUNT_OPS ))
echo "async (64 in flight) $async   blocking store $blocking instructions/GET"
awk -v a="$async" -v b="$blocking" 'BEGIN { printf "RATIO instructions_get_async64_vs_blocking %.3f\n", a / b }'

echo
echo "== a 3-master cluster: async_redis_cluster vs async_redis, 64 coroutines' GETs"
CLUSTER_NODES=()
for i in 1 2 3; do
  port="$("$BENCH" free-port)"
  mkdir -p "$WORK/node$i"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$WORK/node$i" --save "" --appendonly no \
               --cluster-enabled yes --cluster-config-file "$WORK/node$i/nodes.conf" \
               --daemonize no --logfile "$WORK/node$i/redis.log" &
  CLUSTER_PIDS+=($!)
  CLUSTER_NODES+=("127.0.0.1:$port")
  for _ in $(seq 1 500); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.01  # waiting for the server we just started to accept connections
  done
done
redis-cli --cluster create "${CLUSTER_NODES[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
FIRST_PORT="${CLUSTER_NODES[0]##*:}"
for _ in $(seq 1 1000); do
  redis-cli -p "$FIRST_PORT" cluster info 2>/dev/null | grep -q "cluster_state:ok" && break
  sleep 0.01  # waiting for the cluster to agree on its slots
done
"$BENCH" cluster "$PORT" "$ROUNDS" "$OPS" "${CLUSTER_NODES[@]##*:}"
