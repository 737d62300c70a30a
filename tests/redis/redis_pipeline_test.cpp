// Pipelines and take on a real redis-server: a pipeline reads and writes the
// keys the store does (the category prefix is never forgotten), every kind of
// operation in one pipeline comes back typed and in call order, an error in
// the middle neither stops the rest nor desynchronises the connection, and
// take works on a server without GETDEL (Redis < 6.2) through one script.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/hana/define_struct.hpp>
#include <catch2/catch.hpp>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

#include "redis/redis_fixture.hpp"
#include "support/redis_server.hpp"

using namespace std::chrono_literals;
namespace ops = hotstate::redis::ops;

namespace {

struct profile {
    BOOST_HANA_DEFINE_STRUCT(profile, (std::string, account), (std::int64_t, logins));
};

struct failed_logins : hotstate::category<40, "failed-logins", std::int64_t> {};
struct sessions : hotstate::category<41, "sessions"> {};
struct oauth : hotstate::category<42, "oauth"> {};
struct profiles : hotstate::category<43, "profiles", profile> {};
struct lists : hotstate::category<44, "lists"> {};

using store_type = hotstate::store<hotstate::backends::redis, failed_logins, sessions, oauth, profiles, lists>;

// what the merge of the at-most-once work relies on: reads and overwrites may be sent
// again, increments and takes may not
static_assert(ops::get<sessions>::idempotent && ops::set<sessions>::idempotent && ops::erase<sessions>::idempotent);
static_assert(ops::lookup_add<lists>::idempotent && ops::lookup_set<lists>::idempotent);
static_assert(!ops::take<oauth>::idempotent && !ops::incr<failed_logins>::idempotent);
static_assert(hotstate::PipelineBackend<hotstate::backends::redis, ops::get<sessions>, ops::take<oauth>>);
static_assert(!hotstate::PipelineBackend<hotstate::backends::memory, ops::get<sessions>>);

std::string info_section(hotstate::testing::redis_server& server, std::string_view section) {
    auto reply = server.command({"INFO", section});
    return std::string(reply->str, reply->len);
}

long long stat_of(const std::string& info, std::string_view marker) {
    const auto at = info.find(marker);
    if (at == std::string::npos) return 0;
    return std::stoll(info.substr(at + marker.size(), 20));
}

template <class F>
hotstate::error error_from(F&& f) {
    try {
        f();
    } catch (const hotstate::error& e) {
        return e;
    }
    FAIL("expected a hotstate::error");
    return hotstate::error(hotstate::errc::server, "unreachable");
}

}  // namespace

TEST_CASE("redis pipeline: a counter incremented through the store is what a pipeline reads", "[redis][pipeline]") {
    redis_fixture fixture;
    store_type s(shared_redis_config());
    CHECK(s.increment<failed_logins>("198.51.100.7", 1, 1h) == 1);

    auto [as_value, as_counter, elsewhere] =
        s.pipeline(ops::get<failed_logins>{"198.51.100.7"}, ops::counter<failed_logins>{"198.51.100.7"},
                   ops::get<sessions>{"198.51.100.7"});
    static_assert(std::is_same_v<decltype(as_value), std::optional<std::int64_t>>);
    CHECK(as_value == 1);
    CHECK(as_counter == 1);
    CHECK_FALSE(elsewhere.has_value());  // same key bytes, another category: another key

    auto [after] = s.pipeline(ops::incr<failed_logins>{"198.51.100.7", 4, 1h});
    CHECK(after == 5);
    CHECK(s.counter<failed_logins>("198.51.100.7") == 5);
}

TEST_CASE("redis pipeline: every kind of operation, typed results in call order", "[redis][pipeline]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    store_type s(shared_redis_config());
    s.set<oauth>("c0de-42", "client=webmail");
    s.lookup_set<lists>("redirectors", "t.co", "twitter");

    server.command({"CONFIG", "RESETSTAT"});
    auto [written, session, missing, profile_written, read_profile, count, counted, added, there, field, stored,
          existed, gone, code, code_again, removed_field, counter_value] =
        s.pipeline(ops::set<sessions>{"alice", "token-1", 10min}, ops::get<sessions>{"alice"},
                   ops::get<sessions>{"bob"}, ops::set<profiles>{"alice", profile{"alice@example.org", 3}},
                   ops::get<profiles>{"alice"}, ops::incr<failed_logins>{"203.0.113.9"},
                   ops::incr<failed_logins>{"203.0.113.9", 2, 10s}, ops::lookup_add<lists>{"blocked", "spam.example"},
                   ops::lookup_contains<lists>{"blocked", "spam.example"}, ops::lookup_get<lists>{"redirectors", "t.co"},
                   ops::lookup_set<lists>{"redirectors", "bit.ly", "bitly"}, ops::exists<sessions>{"alice"},
                   ops::erase<sessions>{"alice"}, ops::take<oauth>{"c0de-42"}, ops::take<oauth>{"c0de-42"},
                   ops::lookup_erase<lists>{"redirectors", "t.co"}, ops::counter<failed_logins>{"203.0.113.9"});
    static_assert(std::is_same_v<decltype(read_profile), std::optional<profile>>);
    static_assert(std::is_same_v<decltype(code), std::optional<std::string>>);
    static_assert(std::is_same_v<decltype(count), std::int64_t>);
    CHECK(written);
    CHECK(session == "token-1");
    CHECK_FALSE(missing.has_value());
    CHECK(profile_written);
    REQUIRE(read_profile.has_value());
    CHECK(read_profile->account == "alice@example.org");
    CHECK(read_profile->logins == 3);
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
    CHECK_FALSE(s.exists<sessions>("alice"));
    CHECK_FALSE(s.exists<oauth>("c0de-42"));
    CHECK(s.get<profiles>("alice")->logins == 3);
    CHECK(s.lookup_contains<lists>("blocked", "spam.example"));
    CHECK(s.lookup_get<lists>("redirectors", "bit.ly") == "bitly");
    CHECK_FALSE(s.lookup_get<lists>("redirectors", "t.co").has_value());
    CHECK(server.command({"PTTL", hotstate::encode_key<failed_logins>("203.0.113.9")})->integer > 0);
    const std::string commands = info_section(server, "commandstats");
    CHECK(stat_of(commands, "cmdstat_getdel:calls=") == 2);
    CHECK(stat_of(commands, "cmdstat_unlink:calls=") == 1);
}

TEST_CASE("redis pipeline: a failure in the middle leaves the rest run and the connection in step",
          "[redis][pipeline]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    store_type s(shared_redis_config());
    server.command({"LPUSH", hotstate::encode_key<sessions>("listy"), "x"});
    s.set<oauth>("code", "grant");

    const auto e = error_from([&] {
        (void)s.pipeline(ops::set<sessions>{"a", "1"}, ops::get<sessions>{"listy"}, ops::incr<failed_logins>{"n"},
                         ops::take<oauth>{"code"});
    });
    CHECK(e.kind() == hotstate::errc::wrong_type);
    CHECK_THAT(e.what(), Catch::Contains("get on category 'sessions'"));
    CHECK_THAT(e.what(), !Catch::Contains("listy"));
    CHECK(s.get<sessions>("a") == "1");           // before the failure
    CHECK(s.counter<failed_logins>("n") == 1);    // after it: ran once
    CHECK_FALSE(s.exists<oauth>("code"));          // taken (its value went with the failed pipeline)
    auto [again] = s.pipeline(ops::get<sessions>{"a"});  // the pooled connection is in step
    CHECK(again == "1");

    SECTION("a value that does not decode names its category") {
        server.command({"SET", hotstate::encode_key<profiles>("broken"), std::string("\x05\x01", 2)});
        const auto decode = error_from([&] { (void)s.pipeline(ops::get<profiles>{"broken"}); });
        CHECK(decode.kind() == hotstate::errc::decode);
        CHECK_THAT(decode.what(), Catch::Contains("profiles"));
    }
    SECTION("a non-positive expiry is refused before anything is sent") {
        CHECK(error_from([&] { (void)s.pipeline(ops::set<sessions>{"x", "v", 0ms}); }).kind() ==
              hotstate::errc::invalid_argument);
        CHECK(error_from([&] { (void)s.pipeline(ops::incr<failed_logins>{"x", 1, -1s}); }).kind() ==
              hotstate::errc::invalid_argument);
        CHECK_FALSE(s.exists<sessions>("x"));
    }
}

TEST_CASE("redis pipeline: NOSCRIPT inside a pipeline loads the script and the increment runs once",
          "[redis][pipeline]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    store_type s(shared_redis_config());
    CHECK(s.increment<failed_logins>("n", 7) == 7);
    server.command({"SCRIPT", "FLUSH"});
    auto [first, second] = s.pipeline(ops::incr<failed_logins>{"n", 1, 10s}, ops::incr<failed_logins>{"n", 1, 10s});
    CHECK(first == 8);
    CHECK(second == 9);
    CHECK(s.counter<failed_logins>("n") == 9);
}

TEST_CASE("redis take: on a server without GETDEL, one script, found out once", "[redis][take]") {
    // Redis before 6.2 has no GETDEL; renaming it away gives the same answer ("unknown command")
    hotstate::testing::redis_server old_server({.extra_config = {"rename-command GETDEL \"\""}});
    hotstate::redis::config settings;
    settings.url = old_server.url();
    settings.node.timeout = 5s;
    store_type s(settings);
    REQUIRE(old_server.command({"GETDEL", "probe"})->type == REDIS_REPLY_ERROR);
    const auto unknown_before = stat_of(info_section(old_server, "errorstats"), "errorstat_ERR:count=");

    s.set<oauth>("c0de-1", "grant-1");
    s.set<oauth>("c0de-2", "grant-2");
    CHECK(s.take<oauth>("c0de-1") == "grant-1");
    CHECK_FALSE(s.take<oauth>("c0de-1").has_value());
    CHECK(s.take<oauth>("c0de-2") == "grant-2");
    CHECK_FALSE(s.exists<oauth>("c0de-2"));
    // only the first take asked for GETDEL; later ones went straight to the script
    CHECK(stat_of(info_section(old_server, "errorstats"), "errorstat_ERR:count=") == unknown_before + 1);

    SECTION("in a pipeline too") {
        s.set<oauth>("c0de-3", "grant-3");
        auto [code, again, other] =
            s.pipeline(ops::take<oauth>{"c0de-3"}, ops::take<oauth>{"c0de-3"}, ops::get<sessions>{"none"});
        CHECK(code == "grant-3");
        CHECK_FALSE(again.has_value());
        CHECK_FALSE(other.has_value());
    }
    SECTION("a typed value") {
        s.increment<failed_logins>("ip", 3);
        CHECK(s.take<failed_logins>("ip") == 3);
        CHECK(s.counter<failed_logins>("ip") == 0);
    }
}
