// Conformance fixture for the Redis Cluster backend: one 3-master/3-replica
// cluster per test binary, flushed before every test case; a manual clock
// drives rate-limit windows while the servers expire keys in real time.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

#include "laws/fixture.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_settings.hpp"

/// The cluster every test case of this binary shares.
inline hotstate::testing::redis_cluster& shared_redis_cluster() {
    static hotstate::testing::redis_cluster cluster;
    return cluster;
}

/// A config seeded with the shared cluster's nodes, with short timeouts for tests.
inline hotstate::redis::cluster_config shared_cluster_config() {
    hotstate::redis::cluster_config settings;
    settings.urls = shared_redis_cluster().seed_urls();
    settings.node = hotstate::testing::test_node(std::chrono::seconds{5});
    return settings;
}

/// The shared cluster's config for tests that kill or move its nodes: 1 s
/// timeouts and up to twelve retries, 20 to 500 ms apart.
inline hotstate::redis::cluster_config patient_cluster_config() {
    auto settings = shared_cluster_config();
    settings.node.timeout = std::chrono::seconds{1};
    settings.retry.max_retries = 12;
    settings.retry.min_retry_wait = std::chrono::milliseconds{20};
    settings.retry.max_retry_wait = std::chrono::milliseconds{500};
    return settings;
}

/// Every running master of `cluster`.
inline std::vector<hotstate::testing::redis_server*> cluster_masters(hotstate::testing::redis_cluster& cluster) {
    std::vector<hotstate::testing::redis_server*> masters;
    for (auto& node : cluster.nodes()) {
        if (!node->running()) continue;
        auto role = node->command({"ROLE"});
        if (role->type == REDIS_REPLY_ARRAY && std::string_view(role->element[0]->str) == "master")
            masters.push_back(node.get());
    }
    return masters;
}

/// Empties every master (replicas follow).
inline void flush_cluster(hotstate::testing::redis_cluster& cluster) {
    for (auto* master : cluster_masters(cluster)) master->command({"FLUSHALL"});
}

struct cluster_fixture : laws::server_clock {
    cluster_fixture() { flush_cluster(shared_redis_cluster()); }

    template <class... Categories>
    auto make_store() {
        return store_on<hotstate::backends::basic_redis_cluster<hotstate::manual_clock>, Categories...>(
            shared_cluster_config());
    }
    hotstate::testing::redis_server& node_of(std::string_view key) { return *shared_redis_cluster().master_of_key(key); }
    std::vector<hotstate::testing::redis_server*> masters() { return cluster_masters(shared_redis_cluster()); }
};
