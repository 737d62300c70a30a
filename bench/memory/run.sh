#!/usr/bin/env bash
# The embedded backend against a std::mutex + std::unordered_map doing the same
# operations, 1 and 2 threads, interleaved rounds.
#   bench/memory/run.sh [rounds]      (BUILD_DIR optional)
# Prints `RATIO memory_<op>_<threads>t <hotstate / baseline throughput>`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-/tmp/hotstate-bench-memory}"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD_DIR" -j2 --target bench_memory >/dev/null
"$BUILD_DIR/bench/memory/bench_memory" "${1:-9}"
