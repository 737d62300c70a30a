// Conformance fixture for the Redis backend: one redis-server per test binary,
// flushed before every test case; a manual clock drives rate-limit windows
// while the server expires keys in real time.
#pragma once

#include <hotstate/backends/redis.hpp>
#include <hotstate/clock.hpp>

#include "redis/shared_redis.hpp"

struct redis_fixture : shared_redis_fixture<hotstate::backends::basic_redis<hotstate::manual_clock>> {};
