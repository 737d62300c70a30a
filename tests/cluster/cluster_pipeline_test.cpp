// Pipelines on a real 3-master Redis Cluster: operations are grouped by the
// master of their key's slot (one write per node), results come back in call
// order, and an operation that meets MOVED or ASK runs again alone through the
// router, exactly once (a take included). What every pipeline does (keys
// spread over the masters, a failure on one of them) is the pipeline law's
// (tests/laws/pipelines.hpp).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

#include "cluster/cluster_fixture.hpp"
#include "cluster/reshard_support.hpp"

using namespace std::chrono_literals;
using hotstate::detail::redis::routing::key_slot;
using hotstate::testing::another_master;
using hotstate::testing::command_calls;
using hotstate::testing::my_id;
namespace ops = hotstate::redis::ops;

namespace {

struct text : hotstate::category<70, "pipe-text"> {};
struct hits : hotstate::category<71, "pipe-hits", std::int64_t> {};
struct oauth : hotstate::category<72, "pipe-oauth"> {};

using store_type = hotstate::store<hotstate::backends::redis_cluster, text, hits, oauth>;
static_assert(hotstate::PipelineBackend<hotstate::backends::redis_cluster, ops::get<text>, ops::take<oauth>>);

hotstate::testing::redis_server* owner_of(std::string_view encoded) {
    return shared_redis_cluster().master_of_slot(key_slot(encoded));
}

/// `count` keys of category C (prefix ++ number), each on a different master.
template <class C>
std::vector<std::string> keys_on_distinct_masters(std::string_view prefix, std::size_t count) {
    std::vector<std::string> keys;
    std::vector<int> ports;
    for (int i = 0; keys.size() < count && i < 1000; ++i) {
        const std::string key = std::string(prefix) + std::to_string(i);
        const int port = owner_of(hotstate::encode_key<C>(key))->port();
        if (std::find(ports.begin(), ports.end(), port) != ports.end()) continue;
        ports.push_back(port);
        keys.push_back(key);
    }
    REQUIRE(keys.size() == count);
    return keys;
}

/// Hands `slot` to `target` on every master (the end of a migration).
void assign_slot(std::uint16_t slot, hotstate::testing::redis_server& target) {
    for (auto& node : shared_redis_cluster().nodes()) {
        if (!node->running()) continue;
        auto role = node->command({"ROLE"});
        if (std::string_view(role->element[0]->str) != "master") continue;
        REQUIRE(node->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", my_id(target)})->type ==
                REDIS_REPLY_STATUS);
    }
}

}  // namespace

TEST_CASE("cluster pipeline: operations on every master, one group per node, results in call order",
          "[cluster][pipeline]") {
    cluster_fixture fixture;
    store_type s(shared_cluster_config());
    s.backend().ping();  // learn the map first, so every group goes straight to its master
    auto& backend = s.backend();
    const auto keys = keys_on_distinct_masters<text>("user:", 3);
    const auto counters = keys_on_distinct_masters<hits>("ip-", 3);
    s.set<oauth>("code", "grant");

    // GETs expected per master: one per get<text>, and counter<hits> is a GET too
    std::map<hotstate::testing::redis_server*, long long> expected_gets;
    for (const auto& key : keys) expected_gets[owner_of(hotstate::encode_key<text>(key))] += 1;
    expected_gets[owner_of(hotstate::encode_key<hits>(counters[2]))] += 1;
    for (auto& [node, gets] : expected_gets) gets += command_calls(*node, "get");
    const auto retries = backend.retry_count();

    // interleaved on purpose: node order and call order differ
    auto [w0, c0, w1, c1, w2, c2, r0, r1, r2, code, n2, gone] =
        s.pipeline(ops::set<text>{keys[0], "v0"}, ops::incr<hits>{counters[0], 5}, ops::set<text>{keys[1], "v1"},
                   ops::incr<hits>{counters[1], 6, 1min}, ops::set<text>{keys[2], "v2"}, ops::incr<hits>{counters[2], 7},
                   ops::get<text>{keys[0]}, ops::get<text>{keys[1]}, ops::get<text>{keys[2]}, ops::take<oauth>{"code"},
                   ops::counter<hits>{counters[2]}, ops::erase<text>{keys[1]});
    CHECK((w0 && w1 && w2));
    CHECK(c0 == 5);
    CHECK(c1 == 6);
    CHECK(c2 == 7);
    CHECK(r0 == "v0");
    CHECK(r1 == "v1");
    CHECK(r2 == "v2");
    CHECK(code == "grant");
    CHECK(n2 == 7);
    CHECK(gone);
    CHECK(backend.retry_count() == retries);  // nothing was redirected or sent twice

    // each master got its own reads, once: nothing went to the wrong node and came back redirected
    for (const auto& [node, gets] : expected_gets) CHECK(command_calls(*node, "get") == gets);
    CHECK(owner_of(hotstate::encode_key<text>(keys[0]))->command({"GET", hotstate::encode_key<text>(keys[0])})->len == 2);
    CHECK(owner_of(hotstate::encode_key<text>(keys[1]))->command({"EXISTS", hotstate::encode_key<text>(keys[1])})->integer ==
          0);
    CHECK_FALSE(s.exists<oauth>("code"));
    CHECK(s.counter<hits>(counters[1]) == 6);
}

TEST_CASE("cluster pipeline: MOVED and ASK send that operation alone through the router, once",
          "[cluster][pipeline]") {
    cluster_fixture fixture;
    store_type s(shared_cluster_config());
    s.backend().ping();
    auto& backend = s.backend();
    const auto elsewhere = keys_on_distinct_masters<text>("steady-", 3);
    for (const auto& key : elsewhere) s.set<text>(key, "steady");

    SECTION("MOVED: the slot changed owner since the map was read") {
        const std::string value_key = hotstate::encode_key<text>("{pipe-moved}value");
        const std::string code_key = hotstate::encode_key<oauth>("{pipe-moved}code");
        const std::uint16_t slot = key_slot(value_key);
        REQUIRE(key_slot(code_key) == slot);
        auto* source = owner_of(value_key);
        REQUIRE(source != nullptr);
        auto* target = another_master(shared_redis_cluster(), source);
        REQUIRE(target != nullptr);
        assign_slot(slot, *target);  // the slot is empty: no key to migrate
        REQUIRE(target->command({"SET", value_key, "moved"})->type == REDIS_REPLY_STATUS);
        REQUIRE(target->command({"SET", code_key, "grant"})->type == REDIS_REPLY_STATUS);
        REQUIRE(backend.master_of_slot(slot) == source->address());  // the map is stale
        const auto refreshes = backend.refresh_count();

        auto [first, value, code, last] =
            s.pipeline(ops::get<text>{elsewhere[0]}, ops::get<text>{"{pipe-moved}value"},
                       ops::take<oauth>{"{pipe-moved}code"}, ops::get<text>{elsewhere[2]});
        CHECK(first == "steady");
        CHECK(value == "moved");
        CHECK(code == "grant");
        CHECK(last == "steady");
        CHECK(target->command({"EXISTS", code_key})->integer == 0);
        CHECK(backend.refresh_count() > refreshes);
        CHECK(backend.master_of_slot(slot) == target->address());
        CHECK_FALSE(s.take<oauth>("{pipe-moved}code").has_value());
    }
    SECTION("ASK: the key already moved to the slot's importing node") {
        const std::string code_key = hotstate::encode_key<oauth>("{pipe-ask}code");
        const std::uint16_t slot = key_slot(code_key);
        s.set<oauth>("{pipe-ask}code", "grant");
        auto* source = owner_of(code_key);
        REQUIRE(source != nullptr);
        auto* target = another_master(shared_redis_cluster(), source);
        REQUIRE(target != nullptr);
        const std::string slot_text = std::to_string(slot);
        REQUIRE(target->command({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", my_id(*source)})->type ==
                REDIS_REPLY_STATUS);
        REQUIRE(source->command({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", my_id(*target)})->type ==
                REDIS_REPLY_STATUS);
        REQUIRE(source->command({"MIGRATE", "127.0.0.1", std::to_string(target->port()), "", "0", "5000", "KEYS",
                                 code_key})
                    ->type == REDIS_REPLY_STATUS);
        const auto retries = backend.retry_count();

        auto [before, code, after] = s.pipeline(ops::get<text>{elsewhere[1]}, ops::take<oauth>{"{pipe-ask}code"},
                                                ops::get<text>{elsewhere[2]});
        CHECK(before == "steady");
        CHECK(code == "grant");
        CHECK(after == "steady");
        CHECK(backend.retry_count() == retries + 1);  // one ASK, followed once
        auto asking = target->client().command({"ASKING"});
        CHECK(target->client().command({"EXISTS", code_key})->integer == 0);  // taken on the target
        assign_slot(slot, *target);
        CHECK_FALSE(s.take<oauth>("{pipe-ask}code").has_value());
    }
}
