#!/usr/bin/env bash
# Installs every Debian 12 package hotstate builds, tests or benchmarks with,
# skipping what is already there. Safe to run again. Uses sudo when not root.
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libboost-dev libfmt-dev libhiredis-dev catch2 libxxhash-dev nlohmann-json3-dev libsqlite3-dev libbenchmark-dev
  redis-server redis-tools redis-sentinel
  libssl-dev openssl
  libnats-dev nats-server
  memcached libmemcached-dev
  valgrind
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "hotstate: installing ${missing[*]}"
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
