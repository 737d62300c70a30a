// What the cluster tests share that moves slots (the blocking router's
// cluster_reshard_test, cluster_backend_test and cluster_pipeline_test, the
// asynchronous backend's async_cluster_test): keys in the slots that move,
// node ids, another master, and `redis-cli --cluster reshard` of those slots
// between two masters and back, checked.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/key.hpp>

#include <catch2/catch.hpp>

#include "support/redis_cluster.hpp"

namespace hotstate::testing {

/// How many slots a reshard moves: redis-cli moves the source's lowest slots first.
inline constexpr std::uint16_t moved_slots = 400;

/// `count` keys whose encoded form (in category C) falls in slots [0, moved_slots).
template <class C>
std::vector<std::string> keys_in_moving_slots(std::size_t count, std::string_view stem) {
    std::vector<std::string> keys;
    for (int i = 0; keys.size() < count; ++i) {
        std::string key = std::string(stem) + std::to_string(i);
        if (detail::redis::routing::key_slot(encode_key<C>(key)) < moved_slots) keys.push_back(std::move(key));
    }
    return keys;
}

/// The node id of `node` (CLUSTER MYID).
inline std::string my_id(redis_server& node) {
    auto reply = node.command({"CLUSTER", "MYID"});
    return std::string(reply->str, reply->len);
}

/// A running master of `cluster` other than `not_this` (nullptr: none).
inline redis_server* another_master(redis_cluster& cluster, const redis_server* not_this) {
    for (auto& node : cluster.nodes()) {
        if (node.get() == not_this || !node->running()) continue;
        auto role = node->command({"ROLE"});
        if (std::string_view(role->element[0]->str) == "master") return node.get();
    }
    return nullptr;
}

/// Keys for a test that kills one master: one it holds, one another master holds.
struct victim_keys {
    std::string on_victim;
    std::string elsewhere;
};

/// A key (category C, "k" ++ a number) whose master is `victim`, and one whose master is not.
template <class C>
victim_keys keys_on_and_off(redis_cluster& cluster, const redis_server* victim) {
    victim_keys keys;
    for (int i = 0; keys.on_victim.empty() || keys.elsewhere.empty(); ++i) {
        const std::string key = "k" + std::to_string(i);
        auto* owner = cluster.master_of_slot(detail::redis::routing::key_slot(encode_key<C>(key)));
        if (owner == victim && keys.on_victim.empty()) keys.on_victim = key;
        if (owner != victim && keys.elsewhere.empty()) keys.elsewhere = key;
    }
    return keys;
}

/// Moves `moved_slots` slots from `from` to `to` with redis-cli (to completion, within 90 s).
inline redis_cluster::cli_result reshard(redis_cluster& cluster, redis_server& from, redis_server& to) {
    using namespace std::chrono_literals;
    return cluster.run_cli({"--cluster", "reshard", cluster.any_live().address(), "--cluster-from", my_id(from),
                            "--cluster-to", my_id(to), "--cluster-slots", std::to_string(moved_slots), "--cluster-yes",
                            "--cluster-pipeline", "10"},
                           90s);
}

/// The slots [0, moved_slots) moved from `source` to `destination` and back, as it went.
struct round_trip {
    redis_cluster::cli_result there, back;
    bool moved_there = false;
    bool settled = false;
    bool moved_back = false;
    std::chrono::milliseconds took{0};

    /// Both moves done, each seen by the cluster, the cluster healthy after them.
    void check(redis_cluster& cluster) const {
        INFO("reshard there:\n" << there.output);
        INFO("reshard back:\n" << back.output);
        REQUIRE(there.status == 0);
        REQUIRE(back.status == 0);
        CHECK(moved_there);
        CHECK(settled);
        CHECK(moved_back);
        CHECK(cluster.wait_healthy());
    }
};

/// Moves the slots from `source` to `destination` and back (the owner of slot 0 must be `source`).
inline round_trip reshard_there_and_back(redis_cluster& cluster, redis_server& source, redis_server& destination) {
    const auto started = std::chrono::steady_clock::now();
    round_trip trip;
    trip.there = reshard(cluster, source, destination);
    trip.moved_there = cluster.master_of_slot(0) == &destination;
    trip.settled = cluster.wait_healthy();  // redis-cli refuses to start while nodes disagree
    trip.back = reshard(cluster, destination, source);
    trip.moved_back = cluster.master_of_slot(0) == &source;
    trip.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    return trip;
}

}  // namespace hotstate::testing
