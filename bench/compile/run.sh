#!/usr/bin/env bash
# Compile cost of using hotstate: a TU with a store over the Redis backend
# (three categories, one get) against a TU that includes the libraries hotstate
# builds on (<boost/hana.hpp>, <fmt/format.h>, <hiredis/hiredis.h>) and does one
# raw GET. Every TU is compiled with the same flags, best of ROUNDS each,
# alternating. Two stores:
#   RATIO compile_store_vs_raw              compiled<redis> (store_compiled_get.cpp): the
#                                           engine's code is compiled once, elsewhere
#   RATIO compile_store_header_only_vs_raw  backends::redis, header-only (store_get.cpp)
# and, once per program, the TU that compiles the engine (compiled_engine.cpp).
#   bench/compile/run.sh            (CXX, FLAGS, ROUNDS optional)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CXX="${CXX:-g++}"
FLAGS="${FLAGS:--std=c++20 -O2}"
ROUNDS="${ROUNDS:-3}"
OUT="$(mktemp -d /tmp/hotstate-bench-compile-XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

seconds() {  # file -> wall seconds of one compilation
  local start end
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$CXX" $FLAGS -I"$ROOT/include" -c "$HERE/$1" -o "$OUT/${1%.cpp}.o"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

smaller() { awk -v a="$1" -v b="${2:-$1}" 'BEGIN { print (a < b ? a : b) }'; }
best_compiled=""; best_header_only=""; best_raw=""
for _ in $(seq 1 "$ROUNDS"); do
  best_compiled=$(smaller "$(seconds store_compiled_get.cpp)" "$best_compiled")
  best_raw=$(smaller "$(seconds raw_get.cpp)" "$best_raw")
  best_header_only=$(smaller "$(seconds store_get.cpp)" "$best_header_only")
done
engine=$(seconds compiled_engine.cpp)
echo "$CXX $FLAGS (best of $ROUNDS): store over compiled<redis> ${best_compiled}s," \
     "over header-only redis ${best_header_only}s, raw hiredis + hana + fmt ${best_raw}s;" \
     "the engine's own TU, once per program, ${engine}s"
awk -v s="$best_compiled" -v r="$best_raw" 'BEGIN { printf "RATIO compile_store_vs_raw %.3f\n", s / r }'
awk -v s="$best_header_only" -v r="$best_raw" 'BEGIN { printf "RATIO compile_store_header_only_vs_raw %.3f\n", s / r }'
