#!/bin/sh
# Builds and runs the SQLite backend's benchmark in a Release build.
#   bench/sqlite/run.sh [build-dir] [rounds] [round_ms]
# Prints RATIO lines (SQLite / other; below 1: SQLite is slower):
#   sqlite_vs_memory_<op>, sqlite_vs_redis_<op> (when hiredis is available; a
#   redis-server is started on a free loopback port), sqlite_vs_raw_sqlite_<op>
#   (the same SQL as hand-written sqlite3 calls), sqlite_2_threads_vs_1_<op>,
#   sqlite_sync_full_vs_normal_incr; and, when valgrind is installed,
#   sqlite_vs_raw_sqlite_instructions_<op>: instructions per operation,
#   hotstate / hand-written (above 1: hotstate executes more), which unlike
#   throughput does not depend on the machine's load.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build=${1:-/tmp/hotstate-bench-sqlite}
cmake -S "$source_dir" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF \
      -DHOTSTATE_BUILD_EXAMPLES=OFF -DHOTSTATE_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_sqlite >/dev/null
bench="$build/bench/sqlite/bench_sqlite"
"$bench" "${2:-7}" "${3:-150}"

command -v valgrind >/dev/null 2>&1 || exit 0
instructions() {  # op side n
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bench" count "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  rm -f "$out"
}
n=4000
for op in get set_ttl incr; do
  h=$(( $(instructions "$op" hotstate $n) - $(instructions "$op" hotstate 0) ))
  r=$(( $(instructions "$op" raw $n) - $(instructions "$op" raw 0) ))
  echo "$op: hotstate $((h / n)) instructions/op, hand-written $((r / n))"
  awk -v h="$h" -v r="$r" -v op="$op" 'BEGIN { printf "RATIO sqlite_vs_raw_sqlite_instructions_%s %.3f\n", op, h / r }'
done
