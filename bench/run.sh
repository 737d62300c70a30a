#!/usr/bin/env bash
# Every benchmark, one after the other; each builds in Release and starts the
# servers it needs on loopback. Prints RATIO lines (hotstate / the other side).
#   bench/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for area in memory redis cluster sqlite memcached coordinator compile; do
  echo "== bench/$area"
  bash "$HERE/$area/run.sh"
done
