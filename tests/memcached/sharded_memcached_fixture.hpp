// Conformance fixture for sharded<memcached>: two memcached servers per test
// binary, flushed before every test case, the shards sharing one manual clock.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include <hotstate/backends/memcached.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/clock.hpp>

#include "laws/fixture.hpp"
#include "support/memcached_server.hpp"

/// The two servers every test case of this binary shares.
inline std::array<hotstate::testing::memcached_server, 2>& shared_memcached_shards() {
    static std::array<hotstate::testing::memcached_server, 2> servers;
    return servers;
}

struct sharded_memcached_fixture : laws::server_clock {
    using shard_type = hotstate::backends::basic_memcached<hotstate::manual_clock>;
    using backend_type = hotstate::backends::sharded<shard_type>;
    static constexpr bool lookups_share_key_space = false;

    sharded_memcached_fixture() {
        for (auto& server : shared_memcached_shards()) server.flush();
    }
    [[nodiscard]] std::chrono::milliseconds short_ttl() const { return std::chrono::seconds{1}; }

    std::vector<std::unique_ptr<shard_type>> make_shards() {
        std::vector<std::unique_ptr<shard_type>> shards;
        for (auto& server : shared_memcached_shards()) {
            hotstate::backends::memcached_config settings;
            settings.urls = {server.url()};
            shards.push_back(std::make_unique<shard_type>(settings, clock));
        }
        return shards;
    }

    template <class... Categories>
    auto make_store() {
        return std::make_unique<hotstate::store<backend_type, Categories...>>(make_shards());
    }
};
