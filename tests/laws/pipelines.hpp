// The laws of PipelineBackend: the operations of hotstate/redis/batch.hpp sent
// together, typed results in call order, the store's own keys, every operation
// run even when one fails. Included by laws/store.hpp.
//
// A model stating `pipelines` is a Redis one; its fixture offers, beside the store's:
//   hotstate::testing::redis_server& node_of(std::string_view encoded_key);  the master holding a key
//   std::vector<hotstate::testing::redis_server*> masters();               every master
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <hotstate/redis/batch.hpp>

#include "laws/store_support.hpp"
#include "support/redis_server.hpp"

namespace laws {

namespace ops = hotstate::redis::ops;

/// `count` keys of category C (prefix ++ number), each on a master of its own
/// where there are that many (a cluster), else as they come.
template <class C, class F>
std::vector<std::string> spread_keys(F& fixture, std::string_view prefix, std::size_t count) {
    const std::size_t masters = fixture.masters().size();
    std::vector<std::string> keys;
    std::vector<hotstate::testing::redis_server*> used;
    for (int i = 0; keys.size() < count && i < 1000; ++i) {
        const std::string key = std::string(prefix) + std::to_string(i);
        auto* node = &fixture.node_of(hotstate::encode_key<C>(key));
        if (used.size() < masters && std::find(used.begin(), used.end(), node) != used.end()) continue;
        used.push_back(node);
        keys.push_back(key);
    }
    REQUIRE(keys.size() == count);
    return keys;
}

/// How often every master together ran `command` (INFO commandstats).
template <class F>
long long command_calls(F& fixture, std::string_view command) {
    long long calls = 0;
    for (auto* node : fixture.masters()) calls += hotstate::testing::command_calls(*node, command);
    return calls;
}

}  // namespace laws

// what the at-most-once rules rely on: reads and overwrites may be sent again, increments and takes may not
static_assert(laws::ops::get<laws::text>::idempotent && laws::ops::set<laws::text>::idempotent &&
              laws::ops::erase<laws::text>::idempotent);
static_assert(laws::ops::lookup_add<laws::list>::idempotent && laws::ops::lookup_set<laws::list>::idempotent);
static_assert(!laws::ops::take<laws::other_text>::idempotent && !laws::ops::incr<laws::number>::idempotent);

namespace laws {

HOTSTATE_STORE_LAW("pipelines: a counter incremented through the store is what a pipeline reads", "[laws][pipelines]", pipelines) {
    const auto ips = spread_keys<number>(fixture, "198.51.100.", 3);
    for (const auto& ip : ips) CHECK(s.template increment<number>(ip, 1, 1h) == 1);

    auto [a, b, c, as_counter, elsewhere] =
        s.pipeline(ops::get<number>{ips[0]}, ops::get<number>{ips[1]}, ops::get<number>{ips[2]},
                   ops::counter<number>{ips[0]}, ops::get<text>{ips[0]});
    static_assert(std::is_same_v<decltype(a), std::optional<std::int64_t>>);
    CHECK(a == 1);
    CHECK(b == 1);
    CHECK(c == 1);
    CHECK(as_counter == 1);
    CHECK_FALSE(elsewhere.has_value());  // same key bytes, another category: another key

    auto [after] = s.pipeline(ops::incr<number>{ips[0], 4, 1h});
    CHECK(after == 5);
    CHECK(s.template counter<number>(ips[0]) == 5);
}

HOTSTATE_STORE_LAW("pipelines: every kind of operation, typed results in call order", "[laws][pipelines]", pipelines) {
    s.template set<other_text>("c0de-42", "client=webmail");
    s.template lookup_set<list>("redirectors", "t.co", "twitter");

    const auto takes_before = command_calls(fixture, "getdel");
    const auto unlinks_before = command_calls(fixture, "unlink");
    auto [written, session, missing, profile_written, read_profile, count, counted, added, there, field, stored,
          existed, gone, code, code_again, removed_field, counter_value] =
        s.pipeline(ops::set<text>{"alice", "token-1", 10min}, ops::get<text>{"alice"}, ops::get<text>{"bob"},
                   ops::set<record>{"alice", login_record{"alice@example.org", 3, false, std::nullopt}},
                   ops::get<record>{"alice"}, ops::incr<number>{"203.0.113.9"}, ops::incr<number>{"203.0.113.9", 2, 10s},
                   ops::lookup_add<list>{"blocked", "spam.example"}, ops::lookup_contains<list>{"blocked", "spam.example"},
                   ops::lookup_get<list>{"redirectors", "t.co"}, ops::lookup_set<list>{"redirectors", "bit.ly", "bitly"},
                   ops::exists<text>{"alice"}, ops::erase<text>{"alice"}, ops::take<other_text>{"c0de-42"},
                   ops::take<other_text>{"c0de-42"}, ops::lookup_erase<list>{"redirectors", "t.co"},
                   ops::counter<number>{"203.0.113.9"});
    static_assert(std::is_same_v<decltype(read_profile), std::optional<login_record>>);
    static_assert(std::is_same_v<decltype(code), std::optional<std::string>>);
    static_assert(std::is_same_v<decltype(count), std::int64_t>);
    CHECK(written);
    CHECK(session == "token-1");
    CHECK_FALSE(missing.has_value());
    CHECK(profile_written);
    REQUIRE(read_profile.has_value());
    CHECK(read_profile->account == "alice@example.org");
    CHECK(read_profile->attempts == 3);
    CHECK(count == 1);
    CHECK(counted == 3);
    CHECK(added);
    CHECK(there);
    CHECK(field == "twitter");
    CHECK(stored);
    CHECK(existed);
    CHECK(gone);
    CHECK(code == "client=webmail");
    CHECK_FALSE(code_again.has_value());
    CHECK(removed_field);
    CHECK(counter_value == 3);

    // the store sees what the pipeline did, under the same keys
    CHECK_FALSE(s.template exists<text>("alice"));
    CHECK_FALSE(s.template exists<other_text>("c0de-42"));
    CHECK(s.template get<record>("alice")->attempts == 3);
    CHECK(s.template lookup_contains<list>("blocked", "spam.example"));
    CHECK(s.template lookup_get<list>("redirectors", "bit.ly") == "bitly");
    CHECK_FALSE(s.template lookup_get<list>("redirectors", "t.co").has_value());
    const std::string counter_key = hotstate::encode_key<number>("203.0.113.9");
    const auto ttl = fixture.node_of(counter_key).command({"PTTL", counter_key});
    REQUIRE(ttl->type == REDIS_REPLY_INTEGER);
    CHECK(ttl->integer > 0);  // the expiry reached the server, on the store's key
    CHECK(ttl->integer <= 10'000);
    CHECK(command_calls(fixture, "getdel") == takes_before + 2);
    CHECK(command_calls(fixture, "unlink") == unlinks_before + 1);
}

HOTSTATE_STORE_LAW("pipelines: a failure in the middle leaves the rest run, each once, and the connection in step", "[laws][pipelines]", pipelines) {
    const auto listy = spread_keys<text>(fixture, "listy-", 1)[0];
    const auto counters = spread_keys<number>(fixture, "n-", 3);
    const std::string listy_key = hotstate::encode_key<text>(listy);
    fixture.node_of(listy_key).command({"LPUSH", listy_key, "x"});
    s.template set<other_text>("code", "grant");

    const auto e = error_of([&] {
        (void)s.pipeline(ops::set<text>{"a", "1"}, ops::incr<number>{counters[0]}, ops::get<text>{listy},
                         ops::incr<number>{counters[1]}, ops::incr<number>{counters[2]}, ops::take<other_text>{"code"});
    });
    CHECK(e.kind() == hotstate::errc::wrong_type);
    CHECK_THAT(e.what(), Catch::Contains("get on category 'conf-text'"));
    CHECK_THAT(e.what(), !Catch::Contains(listy));
    CHECK(s.template get<text>("a") == "1");  // before the failure
    for (const auto& counter : counters) CHECK(s.template counter<number>(counter) == 1);  // each ran, once
    CHECK_FALSE(s.template exists<other_text>("code"));  // taken (its value went with the failed pipeline)
    auto [again] = s.pipeline(ops::get<text>{"a"});      // the connection is in step
    CHECK(again == "1");

    SECTION("an increment of a value that is not an integer names its category") {
        const std::string not_a_number = hotstate::encode_key<number>("text");
        fixture.node_of(not_a_number).command({"SET", not_a_number, "abc"});
        const auto failed = error_of([&] {
            (void)s.pipeline(ops::set<text>{"before", "1"}, ops::incr<number>{"text", 1, 1h}, ops::set<text>{"after", "2"},
                             ops::incr<number>{"fine"});
        });
        CHECK(failed.kind() == hotstate::errc::wrong_type);
        CHECK_THAT(failed.what(), Catch::Contains("increment on category 'conf-number'"));
        CHECK(s.template get<text>("before") == "1");
        CHECK(s.template get<text>("after") == "2");
        CHECK(s.template counter<number>("fine") == 1);
    }
    SECTION("a value that does not decode names its category") {
        const std::string broken = hotstate::encode_key<record>("broken");
        fixture.node_of(broken).command({"SET", broken, std::string_view("\x05\x01", 2)});
        const auto decode = error_of([&] { (void)s.pipeline(ops::get<record>{"broken"}); });
        CHECK(decode.kind() == hotstate::errc::decode);
        CHECK_THAT(decode.what(), Catch::Contains("conf-record"));
    }
    SECTION("a non-positive expiry is refused before anything is sent") {
        CHECK(error_of([&] { (void)s.pipeline(ops::set<text>{"x", "v", 0ms}); }).kind() ==
              hotstate::errc::invalid_argument);
        CHECK(error_of([&] { (void)s.pipeline(ops::incr<number>{"x", 1, -1s}); }).kind() ==
              hotstate::errc::invalid_argument);
        CHECK_FALSE(s.template exists<text>("x"));
    }
}

HOTSTATE_STORE_LAW("pipelines: NOSCRIPT inside a pipeline loads the script and the increment runs once", "[laws][pipelines]", pipelines) {
    CHECK(s.template increment<number>("n", 7) == 7);
    for (auto* node : fixture.masters()) node->command({"SCRIPT", "FLUSH"});
    auto [first, second] = s.pipeline(ops::incr<number>{"n", 1, 10s}, ops::incr<number>{"n", 1, 10s});
    CHECK(first == 8);
    CHECK(second == 9);
    CHECK(s.template counter<number>("n") == 9);
}

}  // namespace laws
