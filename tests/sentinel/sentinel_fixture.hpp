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

#include "laws/fixture.hpp"
#include "support/redis_sentinel.hpp"
#include "support/redis_settings.hpp"

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
    settings.node = hotstate::testing::test_node(std::chrono::seconds{5});
    return settings;
}

struct sentinel_fixture : laws::server_clock {
    sentinel_fixture() {
        auto& setup = shared_sentinel_setup();
        setup.server_on(setup.master_port())->command({"FLUSHALL"});
    }

    template <class... Categories>
    auto make_store() {
        return store_on<hotstate::backends::basic_redis_sentinel<hotstate::manual_clock>, Categories...>(
            shared_sentinel_config());
    }
    hotstate::testing::redis_server& node_of(std::string_view) {
        auto& setup = shared_sentinel_setup();
        return *setup.server_on(setup.master_port());
    }
    std::vector<hotstate::testing::redis_server*> masters() { return {&node_of({})}; }
};
