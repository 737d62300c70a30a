#!/bin/sh
# Builds coordinator_bench (Release), starts a throw-away redis-server and (when
# installed) a nats-server with JetStream on free loopback ports, runs the
# comparisons and stops the servers.
#   bench/coordinator/run.sh [build-dir] [rounds] [events]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build=${1:-"$source_dir/build/bench-coordinator"}
rounds=${2:-5}
events=${3:-20000}

cmake -S "$source_dir" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHOTSTATE_BUILD_TESTS=OFF -DHOTSTATE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j2 --target coordinator_bench >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
dir=$(mktemp -d /tmp/hotstate-coordinator-bench.XXXXXX)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log" &
server=$!
nats_port=""
nats=""
if command -v nats-server >/dev/null 2>&1; then
  nats_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$dir/nats" >"$dir/nats.log" 2>&1 &
  nats=$!
fi
trap 'kill "$server" $nats 2>/dev/null; wait "$server" $nats 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 200 ] || { echo "redis-server did not start" >&2; exit 1; }
  sleep 0.05
done
if [ -n "$nats" ]; then
  i=0
  until grep -q "Server is ready" "$dir/nats.log" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -lt 200 ] || { echo "nats-server did not start" >&2; exit 1; }
    sleep 0.05
  done
fi
"$build/bench/coordinator/coordinator_bench" "$port" "$rounds" "$events" $nats_port
