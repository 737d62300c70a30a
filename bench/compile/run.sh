#!/usr/bin/env bash
# Compile cost of using hotstate: a TU with a store over the Redis backend
# (three categories, one get) against a TU that includes the libraries hotstate
# builds on (<boost/hana.hpp>, <fmt/format.h>, <hiredis/hiredis.h>) and does one
# raw GET. Both are compiled with the same flags, best of ROUNDS each,
# alternating, and the figure is `RATIO compile_store_vs_raw <store / raw>`.
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

best_store=""; best_raw=""
for _ in $(seq 1 "$ROUNDS"); do
  s=$(seconds store_get.cpp); r=$(seconds raw_get.cpp)
  best_store=$(awk -v a="$s" -v b="${best_store:-$s}" 'BEGIN { print (a < b ? a : b) }')
  best_raw=$(awk -v a="$r" -v b="${best_raw:-$r}" 'BEGIN { print (a < b ? a : b) }')
done
echo "$CXX $FLAGS: store over Redis ${best_store}s, raw hiredis + hana + fmt ${best_raw}s (best of $ROUNDS)"
awk -v s="$best_store" -v r="$best_raw" 'BEGIN { printf "RATIO compile_store_vs_raw %.3f\n", s / r }'
