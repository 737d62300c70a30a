// Conformance fixture for the memcached backend: one memcached per test
// binary, flushed before every test case; a manual clock drives rate-limit
// windows and lock leases while the server expires items in real time, in
// whole seconds (so a short TTL is one second).
#pragma once

#include <chrono>

#include <hotstate/backends/memcached.hpp>
#include <hotstate/clock.hpp>

#include "laws/fixture.hpp"
#include "support/memcached_server.hpp"

/// The server every test case of this binary shares.
inline hotstate::testing::memcached_server& shared_memcached_server() {
    static hotstate::testing::memcached_server server;
    return server;
}

/// A config pointing at the shared server, with a short timeout for tests.
inline hotstate::backends::memcached_config shared_memcached_config() {
    hotstate::backends::memcached_config settings;
    settings.urls = {shared_memcached_server().url()};
    settings.timeout = std::chrono::seconds{5};
    return settings;
}

struct memcached_fixture : laws::server_clock {
    /// A lookup's members are items of their own, not a key of the key space.
    static constexpr bool lookups_share_key_space = false;

    memcached_fixture() { shared_memcached_server().flush(); }

    /// memcached's TTLs are whole seconds.
    [[nodiscard]] std::chrono::milliseconds short_ttl() const { return std::chrono::seconds{1}; }

    template <class... Categories>
    auto make_store() {
        return store_on<hotstate::backends::basic_memcached<hotstate::manual_clock>, Categories...>(
            shared_memcached_config());
    }
};
