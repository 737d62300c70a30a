// The at-most-once law (tests/laws/client_kill.hpp) on Redis Cluster: the
// master that owns the keys has its connections killed in a loop while the
// cluster backend works. The router retries what never ran (connections that
// could not be opened, writes that never left) and idempotent operations,
// never an increment that may have run.
#include <chrono>
#include <cstdint>
#include <string_view>
#include <tuple>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>

#include "redis/client_killer.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_settings.hpp"

namespace {

struct cluster_kill {
    using backend_type = hotstate::backends::redis_cluster;
    static constexpr const char* name = "cluster";
    static hotstate::testing::kill_budget increments() { return {.kills = 200, .min_ops = 1000, .max_ops = 20000}; }
    static hotstate::testing::kill_budget locks() { return {.kills = 200, .min_ops = 500, .max_ops = 10000}; }
    static constexpr std::uint64_t least_kills = 50;
    static constexpr std::string_view unknown_says = "slot";
    static constexpr std::uint64_t acquired_share = 4;
    static constexpr bool discount_orphans = false;
    hotstate::testing::redis_cluster cluster;

    hotstate::redis::cluster_config settings() {
        hotstate::redis::cluster_config result;
        result.urls = cluster.seed_urls();
        result.node = hotstate::testing::test_node(std::chrono::seconds{2}, 2, false);
        result.retry.min_retry_wait = std::chrono::milliseconds{1};
        result.retry.max_retry_wait = std::chrono::milliseconds{20};
        return result;
    }
    hotstate::testing::redis_server& node_of(std::string_view key) {
        auto* owner = cluster.master_of_slot(hotstate::detail::redis::routing::key_slot(key));
        REQUIRE(owner != nullptr);
        return *owner;
    }
    template <class Store>
    static void ready(Store& store) {
        store.backend().ping();  // the slot map known before the killing starts
    }
};

}  // namespace

using hotstate_kill_models = std::tuple<cluster_kill>;
#include "laws/client_kill.hpp"
