#!/bin/sh
# Builds and runs the SQLite backend's benchmark in a Release build.
#   bench/sqlite/run.sh [build-dir] [rounds] [round_ms]
# Prints RATIO lines: sqlite_vs_memory_<op>, sqlite_vs_redis_<op> (when hiredis
# is available; a redis-server is started on a free loopback port),
# sqlite_vs_raw_sqlite_<op> (hand-written sqlite3 calls), sqlite_2_threads_vs_1_<op>, sqlite_sync_full_vs_normal_incr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build=${1:-/tmp/hotstate-bench-sqlite}
cmake -S "$source_dir" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF -DHOTSTATE_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_sqlite >/dev/null
"$build/bench/sqlite/bench_sqlite" "${2:-7}" "${3:-150}"
