// The coordinator over sharded pub/sub (SPUBLISH/SSUBSCRIBE) on a cluster:
// events cross nodes; when the channel's slot moves to another master the
// server ends the subscription and the subscriber follows the slot; when the
// channel's master is killed it follows the promoted replica.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/coordinator.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/redis_cluster_sharded_pubsub.hpp>

#include "cluster/cluster_fixture.hpp"
#include "cluster/reshard_support.hpp"
#include "coordinator/redis_nodes.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace coord_test;
using hotstate::testing::my_id;

namespace {

using sharded_node = hotstate::coordinator<hotstate::transports::redis_cluster_sharded_pubsub, coord_test::pings>;
const std::string channel = "hotstate:coordinator";

std::unique_ptr<sharded_node> make_node(std::uint64_t id, recorder& box) {
    hotstate::transports::redis_pubsub_options options;
    options.channel = channel;
    options.reconnect = {50ms, 400ms};
    return start_node<sharded_node>(
        {.node_id = id}, hotstate::transports::make_redis_cluster_sharded_pubsub(patient_cluster_config(), options), box);
}

/// Publishes until the receiver has events beyond `n` again; returns how long that took.
template <class Sender>
std::chrono::milliseconds publish_until_flowing(Sender& sender, recorder& box, std::uint64_t& n) {
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t mark = n;  // only events published from now on count
    const bool flowing = eventually(
        [&] {
            sender.publish(ping{1, ++n, ""});
            const auto got = box.from(1);
            return !got.empty() && got.back() > mark && got.back() + 5 > n;
        },
        40s);
    REQUIRE(flowing);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
}

}  // namespace

TEST_CASE("cluster sharded pub/sub: events cross nodes and follow their slot across a move and a failover",
          "[cluster][coordinator][failover]") {
    auto& cluster = shared_redis_cluster();
    const std::uint16_t slot = hotstate::detail::redis::routing::key_slot(channel);
    recorder receiver_box, sender_box;
    auto receiver = make_node(2, receiver_box);
    REQUIRE(eventually([&] { return receiver->transport().subscribed(); }));
    auto sender = make_node(1, sender_box);

    std::uint64_t n = 0;
    for (; n < 50; ++n) sender->publish(ping{1, n + 1, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 50; }));
    auto* owner = cluster.master_of_slot(slot);
    REQUIRE(owner != nullptr);
    // sharded: both nodes' subscriptions sit on the master of the channel's slot
    REQUIRE(eventually([&] { return sender->transport().subscribed(); }));
    CHECK(eventually([&] { return owner->command({"PUBSUB", "SHARDNUMSUB", channel})->element[1]->integer == 2; }));

    SECTION("the channel's slot moves to another master") {
        hotstate::testing::redis_server* target = nullptr;
        for (auto& node : cluster.nodes()) {
            auto role = node->command({"ROLE"});
            if (node.get() != owner && std::string_view(role->element[0]->str) == "master") target = node.get();
        }
        REQUIRE(target != nullptr);
        const std::string slot_text = std::to_string(slot);
        const std::string target_id = my_id(*target);
        // redis-cli's resharding steps; no key lives in the slot, so there is nothing to MIGRATE
        CHECK(target->command({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", my_id(*owner)})->type == REDIS_REPLY_STATUS);
        CHECK(owner->command({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", target_id})->type == REDIS_REPLY_STATUS);
        CHECK(target->command({"CLUSTER", "SETSLOT", slot_text, "NODE", target_id})->type == REDIS_REPLY_STATUS);
        CHECK(owner->command({"CLUSTER", "SETSLOT", slot_text, "NODE", target_id})->type == REDIS_REPLY_STATUS);
        for (auto& node : cluster.nodes()) {
            auto role = node->command({"ROLE"});
            if (std::string_view(role->element[0]->str) == "master")
                (void)node->command({"CLUSTER", "SETSLOT", slot_text, "NODE", target_id});
        }
        const auto took = publish_until_flowing(*sender, receiver_box, n);
        std::cout << "sharded pub/sub: slot moved; events flowed again after " << took.count() << " ms\n";
        CHECK(receiver->transport().stats().subscriptions >= 2);
        CHECK(eventually([&] { return target->command({"PUBSUB", "SHARDNUMSUB", channel})->element[1]->integer == 2; }));
        CHECK(receiver_box.gaps_of(hotstate::gap_kind::outage) >= 1);
        CHECK(cluster.wait_healthy());  // the next section starts from a settled cluster
    }
    SECTION("the channel's master is killed") {
        owner->kill();
        const auto took = publish_until_flowing(*sender, receiver_box, n);
        std::cout << "sharded pub/sub: channel's master killed; events flowed again after " << took.count() << " ms\n";
        CHECK(receiver->transport().stats().subscriptions >= 2);
        CHECK(receiver_box.gaps_of(hotstate::gap_kind::outage) >= 1);
    }
    const auto got = receiver_box.from(1);
    CHECK(coord_test::strictly_increasing(got));
    const bool holes = got.size() != got.back();
    CHECK(holes == (receiver_box.gaps_of(hotstate::gap_kind::sequence_skip) > 0));
}
