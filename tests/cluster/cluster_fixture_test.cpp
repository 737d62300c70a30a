// The cluster fixture and the pure pieces against a real Redis Cluster: key
// slots agree with CLUSTER KEYSLOT for random binary keys, and the slot map
// built from a live CLUSTER SLOTS reply routes like the cluster does.
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>
#include <hotstate/detail/redis/proto/slots_reply.hpp>
#include <hotstate/key.hpp>

#include "support/redis_cluster.hpp"

using namespace hotstate::detail::redis::routing;

TEST_CASE("a 3-master/3-replica cluster: slots and slot map agree with Redis", "[cluster][live]") {
    hotstate::testing::redis_cluster cluster;
    REQUIRE(cluster.healthy());
    auto& node = cluster.any_live();

    SECTION("CRC16 slots equal CLUSTER KEYSLOT for random binary keys, tags and the seeds' layout") {
        std::mt19937_64 random(20261122);
        std::uniform_int_distribution<int> length(0, 24);
        std::uniform_int_distribution<int> byte(0, 255);
        std::uniform_int_distribution<int> brace(0, 9);
        for (int i = 0; i < 2000; ++i) {
            std::string key;
            const int n = length(random);
            for (int j = 0; j < n; ++j) {
                // plenty of braces so that tag rules are exercised
                const int pick = brace(random);
                key.push_back(pick == 0 ? '{' : pick == 1 ? '}' : static_cast<char>(byte(random)));
            }
            if (i % 3 == 0) key = hotstate::encode_key(static_cast<std::uint8_t>(i % 256), hotstate::key_layout::plain, key);
            if (i % 3 == 1)
                key = hotstate::encode_key(static_cast<std::uint8_t>(i % 256), hotstate::key_layout::hash_tagged, key);
            auto reply = node.command({"CLUSTER", "KEYSLOT", key});
            REQUIRE(reply->type == REDIS_REPLY_INTEGER);
            CHECK(key_slot(key) == reply->integer);
        }
    }
    SECTION("the map parsed from CLUSTER SLOTS routes every slot to the master Redis names") {
        REQUIRE(hotstate::testing::eventually([&] { return cluster.replicas_known(); }, std::chrono::seconds{30}));
        auto reply = node.command({"CLUSTER", "SLOTS"});
        const auto ranges = parse_cluster_slots(hotstate::redis::reply_view(reply.get()), "127.0.0.1");
        REQUIRE(ranges.has_value());
        const auto map = slot_map::from_ranges(*ranges);
        CHECK(map.covers_all_slots());
        CHECK(map.masters().size() == 3);
        CHECK(map.nodes().size() == 6);
        for (std::uint16_t slot : {std::uint16_t{0}, std::uint16_t{5460}, std::uint16_t{5461}, std::uint16_t{10922},
                                   std::uint16_t{10923}, std::uint16_t{16383}}) {
            auto* owner = cluster.master_of_slot(slot);
            REQUIRE(owner != nullptr);
            CHECK(map.nodes()[map.master_of(slot)].port == owner->port());
            CHECK(map.nodes()[map.reader_of(slot, 0)].port != owner->port());  // a replica
        }
        // a key routed by the map is accepted there without a redirect
        const std::string key = hotstate::encode_key(2, hotstate::key_layout::plain, "sender@example.org");
        const auto& target = map.nodes()[map.master_of(key_slot(key))];
        auto* server = cluster.by_port(target.port);
        REQUIRE(server != nullptr);
        auto set = server->command({"SET", key, "v"});
        CHECK(set->type == REDIS_REPLY_STATUS);
    }
}
