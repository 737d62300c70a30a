// The queue failover law (tests/laws/queue_failover.hpp) on a Redis Cluster:
// the master of the queue's slot SIGKILLed, a replica promoted by the cluster.
#include <chrono>
#include <string_view>
#include <tuple>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis_cluster.hpp>

#include "support/eventually.hpp"
#include "support/redis_cluster.hpp"

namespace {

struct cluster_failover {
    using backend_type = hotstate::backends::redis_cluster;
    static constexpr std::chrono::seconds deadline{30};
    static constexpr const char* name = "Redis Cluster";
    hotstate::testing::redis_cluster cluster;
    hotstate::testing::redis_server* victim = nullptr;

    hotstate::redis::cluster_config settings() {
        hotstate::redis::cluster_config result;
        result.urls = cluster.seed_urls();
        return result;
    }
    void prepare(std::string_view key) {
        victim = cluster.master_of_key(key);
        REQUIRE(victim != nullptr);
        REQUIRE(hotstate::testing::eventually([&] { return cluster.replicas_attached(); }, deadline));
    }
    void kill_master() { victim->kill(); }
    bool promoted(std::string_view key) {
        auto* owner = cluster.master_of_key(key);
        return owner != nullptr && owner != victim;
    }
    static bool agreed() { return true; }  // the cluster's own view is the only one
    void restart_killed() { victim->start(); }
};

}  // namespace

using hotstate_failover_models = std::tuple<cluster_failover>;
#include "laws/queue_failover.hpp"
