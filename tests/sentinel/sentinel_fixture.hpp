// Conformance fixture for the Redis Sentinel backend: one setup (master,
// replica, three sentinels) per test binary, flushed before every test case.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

#include "support/redis_sentinel.hpp"

/// The setup every test case of this binary shares.
inline hotstate::testing::redis_sentinel& shared_sentinel_setup() {
    static hotstate::testing::redis_sentinel setup;
    return setup;
}

/// A config naming the shared setup's sentinels, with short timeouts for tests.
inline hotstate::redis::sentinel_config shared_sentinel_config() {
    hotstate::redis::sentinel_config settings;
    settings.service_name = shared_sentinel_setup().service_name();
    settings.sentinel_urls = shared_sentinel_setup().sentinel_urls();
    settings.node.timeout = std::chrono::seconds{5};
    settings.node.pool_max_connections = 4;
    settings.node.pool_timeout_create = std::chrono::seconds{5};
    settings.node.pool_timeout_wait = std::chrono::seconds{5};
    return settings;
}

struct sentinel_fixture {
    static constexpr bool expires_in_real_time = true;
    hotstate::manual_clock clock;

    sentinel_fixture() {
        auto& setup = shared_sentinel_setup();
        setup.server_on(setup.master_port())->command({"FLUSHALL"});
    }

    template <class... Categories>
    auto make_store() {
        return std::make_unique<hotstate::store<hotstate::backends::basic_redis_sentinel<hotstate::manual_clock>, Categories...>>(
            shared_sentinel_config(), clock);
    }
    void pass(std::chrono::milliseconds span) { clock.advance(span); }
    std::chrono::milliseconds short_ttl() const { return std::chrono::milliseconds{150}; }
    hotstate::testing::redis_server& node_of(std::string_view) {
        auto& setup = shared_sentinel_setup();
        return *setup.server_on(setup.master_port());
    }
    std::vector<hotstate::testing::redis_server*> masters() { return {&node_of({})}; }
};
