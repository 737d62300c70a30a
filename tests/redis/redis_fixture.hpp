// Conformance fixture for the Redis backend: one redis-server per test binary,
// flushed before every test case; a manual clock drives rate-limit windows
// while the server expires keys in real time.
#pragma once

#include <chrono>
#include <memory>

#include <hotstate/backends/redis.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

#include "support/redis_server.hpp"

/// The server every test case of this binary shares.
inline hotstate::testing::redis_server& shared_redis_server() {
    static hotstate::testing::redis_server server;
    return server;
}

/// A config pointing at the shared server, with short timeouts for tests.
inline hotstate::redis::config shared_redis_config() {
    hotstate::redis::config settings;
    settings.url = shared_redis_server().url();
    settings.node.timeout = std::chrono::seconds{5};
    settings.node.pool_max_connections = 4;
    settings.node.pool_timeout_create = std::chrono::seconds{5};
    settings.node.pool_timeout_wait = std::chrono::seconds{5};
    return settings;
}

struct redis_fixture {
    static constexpr bool expires_in_real_time = true;
    hotstate::manual_clock clock;

    redis_fixture() { shared_redis_server().command({"FLUSHALL"}); }

    template <class... Categories>
    auto make_store() {
        return std::make_unique<hotstate::store<hotstate::backends::basic_redis<hotstate::manual_clock>, Categories...>>(
            shared_redis_config(), clock);
    }
    void pass(std::chrono::milliseconds span) { clock.advance(span); }
    std::chrono::milliseconds short_ttl() const { return std::chrono::milliseconds{150}; }
};
