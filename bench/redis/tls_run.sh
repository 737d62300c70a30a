#!/usr/bin/env bash
# TLS vs plain throughput of the Redis store on one server (see tls_bench.cpp).
#
#   bench/redis/tls_run.sh        (from the repository root; BUILD_DIR, ROUNDS, OPS optional)
#
# Prints `RATIO throughput_tls_vs_plain_one_connection <tls / plain>` and
# `RATIO throughput_tls_vs_plain_pool_of_8 <tls / plain>`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-redis}"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target tls_bench >/dev/null
"$BUILD_DIR/bench/redis/tls_bench" "${ROUNDS:-11}" "${OPS:-2000}"
