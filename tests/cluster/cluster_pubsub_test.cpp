// The coordinator over Redis pub/sub on a 3-master/3-replica cluster: events
// published through one node reach a subscriber listening on another, and
// after the subscriber's node is killed (SIGKILL) it moves to another node by
// itself, reports the outage, and events flow again.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/coordinator.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/redis_cluster_pubsub.hpp>

#include "cluster/cluster_fixture.hpp"
#include "coordinator/redis_nodes.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace coord_test;

namespace {

using cluster_node = hotstate::coordinator<hotstate::transports::redis_cluster_pubsub, coord_test::pings>;
constexpr std::string_view channel = "hotstate:coordinator";

/// A routing key whose slot's master is not `avoid` (so publisher and subscriber use different nodes).
std::string key_not_on(hotstate::testing::redis_cluster& cluster, const hotstate::testing::redis_server* avoid) {
    for (int i = 0;; ++i) {
        std::string key = "route-" + std::to_string(i);
        if (cluster.master_of_slot(hotstate::detail::redis::routing::key_slot(key)) != avoid) return key;
    }
}

std::unique_ptr<cluster_node> make_node(std::uint64_t id, std::string routing_key, recorder& box) {
    hotstate::transports::redis_pubsub_options options;
    options.channel = std::string(channel);
    options.reconnect = {50ms, 400ms};
    return start_node<cluster_node>(
        {.node_id = id},
        hotstate::transports::redis_cluster_pubsub(
            hotstate::detail::redis::link::cluster_link(patient_cluster_config(), std::move(routing_key)), options),
        box);
}

}  // namespace

TEST_CASE("cluster pub/sub: events cross nodes, and survive the subscriber's node being killed",
          "[cluster][coordinator][failover]") {
    auto& cluster = shared_redis_cluster();
    recorder receiver_box, sender_box;
    auto receiver = make_node(2, std::string(channel), receiver_box);
    REQUIRE(eventually([&] { return receiver->transport().subscribed(); }));
    // the cluster link subscribes on the master of the channel's slot first
    auto* listening = cluster.master_of_slot(hotstate::detail::redis::routing::key_slot(channel));
    REQUIRE(listening != nullptr);
    auto sender = make_node(1, key_not_on(cluster, listening), sender_box);

    std::uint64_t n = 0;
    for (; n < 50; ++n) sender->publish(ping{1, n + 1, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 50; }));
    CHECK(coord_test::strictly_increasing(receiver_box.from(1)));

    const auto started = std::chrono::steady_clock::now();
    listening->kill();
    // keep publishing until events flow again through another node
    const bool flowing = eventually(
        [&] {
            sender->publish(ping{1, ++n, ""});
            const auto got = receiver_box.from(1);
            return got.size() > 50 && got.back() > n - 5 && receiver->transport().stats().subscriptions >= 2;
        },
        30s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    REQUIRE(flowing);
    REQUIRE(eventually([&] { return receiver_box.gaps_of(hotstate::gap_kind::outage) == 1; }));
    std::cout << "cluster pub/sub: subscriber's node killed; events flowed again after " << took.count()
              << " ms; resubscriptions " << receiver->transport().stats().subscriptions - 1 << "; last error: "
              << receiver->transport().last_error() << "\n";
    const auto got = receiver_box.from(1);
    CHECK(coord_test::strictly_increasing(got));  // nothing twice, nothing out of order
    const bool holes = got.size() != got.back();
    CHECK(holes == (receiver_box.gaps_of(hotstate::gap_kind::sequence_skip) > 0));
    REQUIRE(sender->flush());
}
