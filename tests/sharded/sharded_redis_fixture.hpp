// Conformance fixture: a sharded store over two real redis-servers (one pair
// per test binary, flushed before every test case), sharing a manual clock.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

#include "laws/fixture.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

/// The two servers every test case of this binary shares.
inline std::vector<std::unique_ptr<hotstate::testing::redis_server>>& shared_shard_servers() {
    static std::vector<std::unique_ptr<hotstate::testing::redis_server>> servers = [] {
        std::vector<std::unique_ptr<hotstate::testing::redis_server>> started;
        started.push_back(std::make_unique<hotstate::testing::redis_server>());
        started.push_back(std::make_unique<hotstate::testing::redis_server>());
        return started;
    }();
    return servers;
}

/// The config of shard `i`.
inline hotstate::redis::config shard_config(std::size_t i) {
    hotstate::redis::config settings;
    settings.url = shared_shard_servers().at(i)->url();
    settings.node = hotstate::testing::test_node(std::chrono::seconds{5}, 4, false);
    return settings;
}

struct sharded_redis_fixture : laws::server_clock {
    using shard_type = hotstate::backends::basic_redis<hotstate::manual_clock>;
    using backend_type = hotstate::backends::sharded<shard_type>;

    sharded_redis_fixture() {
        for (auto& server : shared_shard_servers()) server->command({"FLUSHALL"});
    }

    std::vector<std::unique_ptr<shard_type>> make_shards() {
        std::vector<std::unique_ptr<shard_type>> shards;
        for (std::size_t i = 0; i < shared_shard_servers().size(); ++i)
            shards.push_back(std::make_unique<shard_type>(shard_config(i), clock));
        return shards;
    }

    template <class... Categories>
    auto make_store() {
        return std::make_unique<hotstate::store<backend_type, Categories...>>(make_shards());
    }
};
