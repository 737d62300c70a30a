// The redis-server a test binary shares, a config pointing at it, and the
// conformance fixture over any backend built from that config: without the
// Redis backend's code (tests/compiled uses it from a TU that must not see
// the engine).
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include <hotstate/clock.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/store.hpp>

#include "laws/fixture.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

/// The server every test case of this binary shares.
inline hotstate::testing::redis_server& shared_redis_server() {
    static hotstate::testing::redis_server server;
    return server;
}

/// A config pointing at the shared server, with short timeouts for tests.
inline hotstate::redis::config shared_redis_config() {
    hotstate::redis::config settings;
    settings.url = shared_redis_server().url();
    settings.node = hotstate::testing::test_node(std::chrono::seconds{5});
    return settings;
}

/// The conformance fixture over `Backend`, built from shared_redis_config()
/// and a manual clock: one server per test binary, flushed before every test
/// case; the clock drives rate-limit windows while the server expires keys in
/// real time.
template <class Backend>
struct shared_redis_fixture : laws::server_clock {
    shared_redis_fixture() { shared_redis_server().command({"FLUSHALL"}); }

    template <class... Categories>
    auto make_store() {
        return store_on<Backend, Categories...>(shared_redis_config());
    }
    hotstate::testing::redis_server& node_of(std::string_view) { return shared_redis_server(); }
    std::vector<hotstate::testing::redis_server*> masters() { return {&shared_redis_server()}; }
};
