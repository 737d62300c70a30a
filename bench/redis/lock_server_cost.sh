#!/usr/bin/env bash
# The server's side of a lock: redis-server's own instructions per acquire+release
# pair, hotstate's two lock scripts against the raw owner-checked lock (SET NX PX +
# a compare-and-DEL script), each side on its own server under callgrind.
#
#   bench/redis/lock_server_cost.sh      (from the repository root; BUILD_DIR, OPS optional)
#
# Wall-clock throughput on a loaded machine hides this (RATIO throughput_lock_* in
# run.sh); instruction counts do not, and the client's share is small (run.sh's
# instructions_lock_owner_checked). serverCron runs once a second (--hz 1) so that
# it barely depends on how slow valgrind makes the run. Prints
# `RATIO server_instructions_lock_owner_checked <hotstate / raw>`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-redis}"
OPS="${OPS:-1000}"

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target redis_bench >/dev/null
BENCH="$BUILD_DIR/bench/redis/redis_bench"
WORK="$(mktemp -d /tmp/hotstate-lock-cost-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

server_instructions() {  # side n -> redis-server's instructions for n pairs after set-up
  local port out="$WORK/callgrind.$1.$2"
  port="$("$BENCH" free-port)"
  valgrind --tool=callgrind --callgrind-out-file="$out" redis-server --port "$port" --bind 127.0.0.1 \
           --dir "$WORK" --save "" --appendonly no --hz 1 --dynamic-hz no --daemonize no \
           --logfile "$WORK/redis.log" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 1 3000); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.02  # waiting for the server we just started (under valgrind) to accept connections
  done
  "$BENCH" count "$port" lock_owner_checked "$1" "$2" >/dev/null
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$server" || true
  awk '/^summary:/ {print $2}' "$out"
}

for side in hotstate raw; do
  per_pair=$(( ($(server_instructions "$side" "$OPS") - $(server_instructions "$side" 0)) / OPS ))
  printf '%-9s redis-server %7d instructions per acquire+release\n' "$side" "$per_pair"
  eval "cost_$side=$per_pair"
done
awk -v h="$cost_hotstate" -v r="$cost_raw" 'BEGIN { printf "RATIO server_instructions_lock_owner_checked %.3f\n", h / r }'
