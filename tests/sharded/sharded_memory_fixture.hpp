#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

#include "laws/fixture.hpp"

/// Conformance fixture: a sharded store over three embedded shards sharing one manual clock.
struct sharded_memory_fixture : laws::manual_clock_only {
    using shard_type = hotstate::backends::basic_memory<hotstate::manual_clock>;
    using backend_type = hotstate::backends::sharded<shard_type>;
    static constexpr std::size_t shard_count = 3;

    std::vector<std::unique_ptr<shard_type>> make_shards() {
        std::vector<std::unique_ptr<shard_type>> shards;
        for (std::size_t i = 0; i < shard_count; ++i)
            shards.push_back(std::make_unique<shard_type>(hotstate::backends::memory_config{}, clock));
        return shards;
    }

    template <class... Categories>
    auto make_store() {
        return std::make_unique<hotstate::store<backend_type, Categories...>>(make_shards());
    }
};
