#!/usr/bin/env bash
# The job queue against a raw hiredis LPUSH/BRPOP queue on one redis-server.
#
#   bench/queue/run.sh            (from anywhere; BUILD_DIR, ROUNDS, JOBS optional)
#
# Builds bench/queue/queue_bench in Release, starts a redis-server on a free
# loopback port (no persistence) and prints `RATIO <case> <hotstate / raw>`
# lines (interleaved rounds, median ratio) and memory-backend FIGURE lines; then
# queue_scaling_bench: a worker_pool of 4 threads against 4 worker processes
# (RATIO queue_workers_4_threads_vs_4_processes) and the 1/2/4/8 figures.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-queue}"
ROUNDS="${ROUNDS:-7}"
JOBS="${JOBS:-4000}"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target queue_bench queue_scaling_bench >/dev/null
WORK="$(mktemp -d /tmp/hotstate-bench-queue-XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --save "" --appendonly no \
             --daemonize no --logfile "$WORK/redis.log" &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 500); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.01  # waiting for the server we just started to accept connections
done
"$BUILD_DIR/bench/queue/queue_bench" "$PORT" "$ROUNDS" "$JOBS"
"$BUILD_DIR/bench/queue/queue_scaling_bench" "$PORT" "$ROUNDS" 8000
