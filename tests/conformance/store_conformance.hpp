// The store conformance suite: one set of Catch2 template test cases, written
// against the store concepts, that every backend runs unchanged.
//
// To run it, define the fixtures and include this header once:
//
//   using hotstate_conformance_fixtures = std::tuple<my_fixture>;
//   #include "conformance/store_conformance.hpp"
//
// A fixture `F` is default-constructible (one per test case, starting empty) and offers:
//   template <class... Cs> std::unique_ptr<hotstate::store<Backend, Cs...>> make_store();
//   void pass(std::chrono::milliseconds);  // advance the backend's clock
//   static constexpr bool expires_in_real_time; // true for servers with their own clock
//   std::chrono::milliseconds short_ttl(); // a TTL that expires soon after pass(short_ttl())
//                                          // (at once with a manual clock; a real server
//                                          //  expires it in real time, which tests poll for)
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <catch2/catch.hpp>

#include <hotstate/store.hpp>

#include "support/eventually.hpp"

namespace conformance {

using namespace std::chrono_literals;

struct login_record {
    BOOST_HANA_DEFINE_STRUCT(login_record, (std::string, account), (std::int64_t, attempts), (bool, blocked),
                             (std::optional<std::string>, reason));
};

struct text : hotstate::category<200, "conf-text"> {};
struct number : hotstate::category<201, "conf-number", std::int64_t> {};
struct record : hotstate::category<202, "conf-record", login_record> {};
struct guard : hotstate::category<203, "conf-lock"> {};
struct tagged_guard
    : hotstate::category<204, "conf-lock-tagged", hotstate::bytes, hotstate::hash_tagged> {};
struct list : hotstate::category<205, "conf-lookup"> {};
struct limits : hotstate::category<206, "conf-rate", std::int64_t> {};
struct other_text : hotstate::category<207, "conf-other"> {};

template <class F>
auto make_conformance_store(F& fixture) {
    return fixture.template make_store<text, number, record, guard, tagged_guard, list, limits, other_text>();
}

/// How long to watch for something that must not happen: only backends that
/// expire in real time (a server) need to be watched at all.
template <class F>
std::chrono::milliseconds real_time_wait(const F&, std::chrono::milliseconds span) {
    return F::expires_in_real_time ? span : std::chrono::milliseconds{0};
}

inline std::string binary_key() { return std::string("bin\0key\xff\x01", 9); }

}  // namespace conformance

using hotstate::testing::eventually;

TEMPLATE_LIST_TEST_CASE("conformance: key/value set, get, erase, exists", "[conformance][kv]",
                        hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    CHECK_FALSE(s.template get<text>("missing").has_value());
    CHECK_FALSE(s.template exists<text>("missing"));
    CHECK_FALSE(s.template erase<text>("missing"));

    s.template set<text>("greeting", "hello");
    CHECK(s.template get<text>("greeting") == "hello");
    CHECK(s.template exists<text>("greeting"));
    s.template set<text>("greeting", "replaced");
    CHECK(s.template get<text>("greeting") == "replaced");

    SECTION("categories are separate key spaces") {
        CHECK_FALSE(s.template exists<other_text>("greeting"));
        s.template set<other_text>("greeting", "other");
        CHECK(s.template get<text>("greeting") == "replaced");
        CHECK(s.template get<other_text>("greeting") == "other");
    }
    SECTION("erase removes") {
        CHECK(s.template erase<text>("greeting"));
        CHECK_FALSE(s.template exists<text>("greeting"));
        CHECK_FALSE(s.template get<text>("greeting").has_value());
    }
    SECTION("keys and values are binary safe") {
        const std::string value("\0v\0\xff\x80 end", 9);
        s.template set<text>(binary_key(), value);
        CHECK(s.template get<text>(binary_key()) == value);
        CHECK_FALSE(s.template exists<text>(std::string("bin")));
        s.template set<text>("empty", "");
        CHECK(s.template get<text>("empty") == std::string());
    }
    SECTION("a 1 MiB value round-trips") {
        std::string big(1 << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
        s.template set<text>("big", big);
        CHECK(s.template get<text>("big") == big);
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: TTLs", "[conformance][ttl]", hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    SECTION("a key with a TTL is readable until it expires") {
        s.template set<text>("long", "v", 10min);
        CHECK(s.template get<text>("long") == "v");
        s.template set<text>("short", "v", fixture.short_ttl());
        fixture.pass(fixture.short_ttl() + 1ms);
        CHECK(eventually([&] { return !s.template exists<text>("short"); }));
        CHECK_FALSE(s.template get<text>("short").has_value());
        CHECK(s.template get<text>("long") == "v");
    }
    SECTION("a plain set clears an earlier TTL") {
        s.template set<text>("k", "v1", fixture.short_ttl());
        s.template set<text>("k", "v2");
        fixture.pass(fixture.short_ttl() * 3);
        CHECK_FALSE(eventually([&] { return !s.template exists<text>("k"); }, real_time_wait(fixture, fixture.short_ttl() * 3)));
        CHECK(s.template get<text>("k") == "v2");
    }
    SECTION("zero and negative TTLs are refused") {
        CHECK_THROWS_MATCHES(s.template set<text>("k", "v", 0ms), hotstate::error,
                             Catch::Matchers::Predicate<hotstate::error>(
                                 [](const hotstate::error& e) { return e.kind() == hotstate::errc::invalid_argument; }));
        CHECK_THROWS_AS(s.template set<text>("k", "v", -5ms), hotstate::error);
        CHECK_FALSE(s.template exists<text>("k"));
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: typed values", "[conformance][codec]", hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    s.template set<number>("n", std::int64_t{-42});
    CHECK(s.template get<number>("n") == -42);

    const login_record written{"alice@example.org", 3, true, std::string("too many attempts")};
    s.template set<record>("alice", written);
    const auto read = s.template get<record>("alice");
    REQUIRE(read.has_value());
    CHECK(read->account == written.account);
    CHECK(read->attempts == 3);
    CHECK(read->blocked);
    CHECK(read->reason == written.reason);

    SECTION("foreign bytes under a typed key give a decode error naming the category") {
        s.backend().kv_set(hotstate::encode_key<record>("garbage"), std::string("\x05\x01", 2), 0ms);
        try {
            (void)s.template get<record>("garbage");
            FAIL("decoding foreign bytes must throw");
        } catch (const hotstate::error& e) {
            CHECK(e.kind() == hotstate::errc::decode);
            CHECK_THAT(e.what(), Catch::Contains("conf-record"));
            CHECK_THAT(e.what(), !Catch::Contains("garbage"));
        }
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: erase_all by category and prefix", "[conformance][kv]",
                        hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    for (int i = 0; i < 50; ++i) s.template set<text>("user:" + std::to_string(i), "v");
    for (int i = 0; i < 20; ++i) s.template set<text>("host:" + std::to_string(i), "v");
    s.template set<other_text>("user:1", "keep");
    s.template increment<number>("user:counter");

    CHECK(s.template erase_all<text>("user:") == 50);
    CHECK_FALSE(s.template exists<text>("user:7"));
    CHECK(s.template exists<text>("host:7"));
    CHECK(s.template get<other_text>("user:1") == "keep");
    CHECK(s.template counter<number>("user:counter") == 1);

    CHECK(s.template erase_all<text>() == 20);
    CHECK_FALSE(s.template exists<text>("host:0"));
    CHECK(s.template get<other_text>("user:1") == "keep");
}

TEMPLATE_LIST_TEST_CASE("conformance: counters", "[conformance][counter]", hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    CHECK(s.template counter<number>("c") == 0);
    CHECK(s.template increment<number>("c") == 1);
    CHECK(s.template increment<number>("c", 5) == 6);
    CHECK(s.template increment<number>("c", -10) == -4);
    CHECK(s.template counter<number>("c") == -4);
    CHECK(s.template get<number>("c") == -4);

    SECTION("an increment with expiry (re)applies it") {
        CHECK(s.template increment<number>("e", 1, fixture.short_ttl()) == 1);
        fixture.pass(fixture.short_ttl() + 1ms);
        CHECK(eventually([&] { return s.template counter<number>("e") == 0; }));
        CHECK(s.template increment<number>("e", 1, 10min) == 1);
        CHECK(s.template counter<number>("e") == 1);
    }
    SECTION("erase resets a counter") {
        CHECK(s.template erase<number>("c"));
        CHECK(s.template counter<number>("c") == 0);
    }
    SECTION("a counter over a non-integer value is a typed error naming the category, not the key") {
        s.backend().kv_set(hotstate::encode_key<number>("secret-token-123"), "not a number", 0ms);
        try {
            s.template increment<number>("secret-token-123");
            FAIL("incrementing a non-integer must throw");
        } catch (const hotstate::error& e) {
            CHECK((e.kind() == hotstate::errc::wrong_type || e.kind() == hotstate::errc::server));
            CHECK_THAT(e.what(), Catch::Contains("conf-number"));
            CHECK_THAT(e.what(), !Catch::Contains("secret-token-123"));
        }
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: fixed-window rate limits", "[conformance][rate]",
                        hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;
    const hotstate::fixed_window policy{3, 60s};

    const auto first = s.template check_rate<limits>("sender@example.org", policy);
    CHECK(first.allowed);
    CHECK(first.remaining == 2);
    CHECK(s.template check_rate<limits>("sender@example.org", policy).remaining == 1);
    CHECK(s.template check_rate<limits>("sender@example.org", policy).remaining == 0);

    SECTION("over the limit: denied with the time until the window resets") {
        const auto denied = s.template check_rate<limits>("sender@example.org", policy);
        CHECK_FALSE(denied.allowed);
        const auto expected = hotstate::rate_math::locate_window(s.now(), policy.period).remaining;
        CHECK(denied.retry_after == expected);
        CHECK(denied.retry_after > 0ms);
        CHECK(denied.retry_after <= 60s);
        CHECK_FALSE(s.template check_rate<limits>("other@example.org", policy).allowed == false);
    }
    SECTION("a soft check looks without counting") {
        CHECK_FALSE(s.template check_rate<limits>("sender@example.org", policy, hotstate::rate_check::soft).allowed);
        CHECK(s.template check_rate<limits>("fresh", policy, hotstate::rate_check::soft).allowed);
        CHECK(s.template check_rate<limits>("fresh", policy, hotstate::rate_check::soft).remaining == 3);
        CHECK(s.template check_rate<limits>("fresh", policy).remaining == 2);
    }
    SECTION("the bucket is prefix ++ key ++ big-endian window index") {
        const auto window = hotstate::rate_math::locate_window(s.now(), policy.period).index;
        const std::string bucket = hotstate::encode_window_bucket<limits>("sender@example.org", window);
        CHECK(s.backend().counter_get(bucket) == 3);
    }
    SECTION("the next window starts afresh") {
        fixture.pass(60s);
        CHECK(s.template check_rate<limits>("sender@example.org", policy).remaining == 2);
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: GCRA rate limits", "[conformance][rate]", hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;
    const hotstate::gcra policy{10, 1s, 3};  // one every 100 ms, bursts of 3

    CHECK(s.template check_rate<limits>("ip", policy).remaining == 2);
    CHECK(s.template check_rate<limits>("ip", policy).remaining == 1);
    CHECK(s.template check_rate<limits>("ip", policy).remaining == 0);
    const auto denied = s.template check_rate<limits>("ip", policy);
    CHECK_FALSE(denied.allowed);
    CHECK(denied.retry_after == 100ms);

    SECTION("allowed again exactly when retry_after says") {
        fixture.pass(99ms);
        CHECK_FALSE(s.template check_rate<limits>("ip", policy).allowed);
        fixture.pass(1ms);
        CHECK(s.template check_rate<limits>("ip", policy).allowed);
    }
    SECTION("a cost above the burst is never allowed; other keys are independent") {
        CHECK_FALSE(s.template check_rate<limits>("other", policy, 4).allowed);
        CHECK(s.template check_rate<limits>("other", policy, 3).allowed);
    }
    SECTION("invalid policies are refused") {
        CHECK_THROWS_AS(s.template check_rate<limits>("ip", hotstate::gcra{0, 1s, 1}), hotstate::error);
        CHECK_THROWS_AS(s.template check_rate<limits>("ip", hotstate::fixed_window{1, 0s}), hotstate::error);
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: locks", "[conformance][lock]", hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    auto first = s.template try_lock<guard>("purge-account", 10min);
    REQUIRE(first.has_value());
    CHECK(first->held());
    CHECK(first->owner_token().size() == 32);
    CHECK_FALSE(s.template try_lock<guard>("purge-account", 10min).has_value());
    CHECK(s.template try_lock<guard>("another-task", 10min).has_value());

    SECTION("release frees it for the next owner, whose fencing token is larger") {
        const auto fence = first->fencing_token();
        CHECK(first->release());
        CHECK_FALSE(first->held());
        CHECK_FALSE(first->release());
        auto second = s.template try_lock<guard>("purge-account", 10min);
        REQUIRE(second.has_value());
        CHECK(second->fencing_token() > fence);
        CHECK(second->owner_token() != first->owner_token());
    }
    SECTION("the destructor releases") {
        first.reset();
        CHECK(s.template try_lock<guard>("purge-account", 10min).has_value());
    }
    SECTION("extend keeps it for its owner") {
        CHECK(first->extend(20min));
        CHECK_FALSE(s.template try_lock<guard>("purge-account", 10min).has_value());
    }
    SECTION("an expired lease: another owner takes over and the old one can neither release nor extend") {
        auto brief = s.template try_lock<tagged_guard>("queue-run", fixture.short_ttl());
        REQUIRE(brief.has_value());
        fixture.pass(fixture.short_ttl() + 1ms);
        std::optional<hotstate::lock<std::remove_cvref_t<decltype(s)>, tagged_guard>> successor;
        CHECK(eventually([&] {
            successor = s.template try_lock<tagged_guard>("queue-run", 10min);
            return successor.has_value();
        }));
        REQUIRE(successor.has_value());
        CHECK(successor->fencing_token() > brief->fencing_token());
        CHECK_FALSE(brief->extend(10min));
        CHECK_FALSE(brief->release());
        CHECK_FALSE(s.template try_lock<tagged_guard>("queue-run", 10min).has_value());
    }
    SECTION("fencing tokens increase across many acquisitions") {
        std::uint64_t last = 0;
        for (int i = 0; i < 20; ++i) {
            auto held = s.template try_lock<guard>("fenced", 10min);
            REQUIRE(held.has_value());
            CHECK(held->fencing_token() > last);
            last = held->fencing_token();
        }
    }
    SECTION("a non-positive lease is refused") {
        CHECK_THROWS_AS(s.template try_lock<guard>("x", 0ms), hotstate::error);
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: lookups", "[conformance][lookup]", hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    CHECK_FALSE(s.template lookup_contains<list>("blocked-domains", "spam.example"));
    CHECK(s.template lookup_add<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_add<list>("blocked-domains", "spam.example"));
    CHECK(s.template lookup_add<list>("blocked-domains", "junk.example"));
    CHECK(s.template lookup_contains<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_contains<list>("trusted-domains", "spam.example"));
    CHECK(s.template lookup_remove<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_remove<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_contains<list>("blocked-domains", "spam.example"));
    CHECK(s.template lookup_contains<list>("blocked-domains", "junk.example"));

    CHECK_FALSE(s.template lookup_get<list>("redirectors", "t.co").has_value());
    s.template lookup_set<list>("redirectors", "t.co", "twitter");
    s.template lookup_set<list>("redirectors", std::string("bin\0", 4), std::string("v\0", 2));
    CHECK(s.template lookup_get<list>("redirectors", "t.co") == "twitter");
    CHECK(s.template lookup_get<list>("redirectors", std::string("bin\0", 4)) == std::string("v\0", 2));
    s.template lookup_set<list>("redirectors", "t.co", "x");
    CHECK(s.template lookup_get<list>("redirectors", "t.co") == "x");
    CHECK(s.template lookup_erase<list>("redirectors", "t.co"));
    CHECK_FALSE(s.template lookup_erase<list>("redirectors", "t.co"));
    CHECK_FALSE(s.template lookup_get<list>("redirectors", "t.co").has_value());
}

TEMPLATE_LIST_TEST_CASE("conformance: take gets and deletes once", "[conformance][take]",
                        hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;

    CHECK_FALSE(s.template take<text>("missing").has_value());
    s.template set<text>("c0de-42", "client=webmail;account=alice", 10min);
    CHECK(s.template take<text>("c0de-42") == "client=webmail;account=alice");
    CHECK_FALSE(s.template exists<text>("c0de-42"));
    CHECK_FALSE(s.template take<text>("c0de-42").has_value());
    CHECK_FALSE(s.template get<text>("c0de-42").has_value());

    SECTION("typed values, counters and binary keys") {
        const login_record written{"bob@example.org", 2, false, std::nullopt};
        s.template set<record>("bob", written);
        const auto taken = s.template take<record>("bob");
        REQUIRE(taken.has_value());
        CHECK(taken->account == written.account);
        CHECK(taken->attempts == 2);
        CHECK_FALSE(s.template take<record>("bob").has_value());

        CHECK(s.template increment<number>("n", 7) == 7);
        CHECK(s.template take<number>("n") == 7);
        CHECK(s.template counter<number>("n") == 0);

        s.template set<text>(binary_key(), std::string("\0v\xff", 3));
        CHECK(s.template take<text>(binary_key()) == std::string("\0v\xff", 3));
        CHECK_FALSE(s.template exists<text>(binary_key()));
    }
    SECTION("categories are separate key spaces") {
        s.template set<text>("shared", "text");
        s.template set<other_text>("shared", "other");
        CHECK(s.template take<other_text>("shared") == "other");
        CHECK(s.template get<text>("shared") == "text");
    }
    SECTION("an expired value is not taken") {
        s.template set<text>("short", "v", fixture.short_ttl());
        fixture.pass(fixture.short_ttl() + 1ms);
        // a server expires by its own clock: wait for it (EXISTS reads without taking);
        // a manual clock has expired it already, and the row is still stored
        if constexpr (TestType::expires_in_real_time)
            CHECK(eventually([&] { return !s.template exists<text>("short"); }));
        CHECK_FALSE(s.template take<text>("short").has_value());
        CHECK_FALSE(s.template get<text>("short").has_value());
    }
    SECTION("a value that does not decode is gone all the same, and the error names the category") {
        s.backend().kv_set(hotstate::encode_key<record>("garbage"), std::string("\x05\x01", 2), 0ms);
        try {
            (void)s.template take<record>("garbage");
            FAIL("decoding foreign bytes must throw");
        } catch (const hotstate::error& e) {
            CHECK(e.kind() == hotstate::errc::decode);
            CHECK_THAT(e.what(), Catch::Contains("conf-record"));
            CHECK_THAT(e.what(), Catch::Contains("take"));
        }
        CHECK_FALSE(s.template exists<record>("garbage"));
    }
    SECTION("take of a lookup is a wrong-type error and leaves it alone") {
        CHECK(s.template lookup_add<list>("blocked", "spam.example"));
        try {
            (void)s.template take<list>("blocked");
            FAIL("taking a set must throw");
        } catch (const hotstate::error& e) {
            CHECK(e.kind() == hotstate::errc::wrong_type);
            CHECK_THAT(e.what(), Catch::Contains("conf-lookup"));
        }
        CHECK(s.template lookup_contains<list>("blocked", "spam.example"));
    }
}

TEMPLATE_LIST_TEST_CASE("conformance: concurrent takes of one value have exactly one winner", "[conformance][take]",
                        hotstate_conformance_fixtures) {
    using namespace conformance;
    TestType fixture;
    auto store = make_conformance_store(fixture);
    auto& s = *store;
    constexpr int threads = 6;
    constexpr int codes = 150;
    for (int i = 0; i < codes; ++i) s.template set<text>("code-" + std::to_string(i), "grant-" + std::to_string(i), 10min);

    std::array<std::atomic<int>, codes> winners{};
    std::atomic<int> wrong_values{0};
    std::latch start(threads);
    std::vector<std::thread> racers;
    for (int t = 0; t < threads; ++t) {
        racers.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int n = 0; n < codes; ++n) {
                const int i = t % 2 == 0 ? n : codes - 1 - n;  // in step, both ways: they meet on every code
                const auto grant = s.template take<text>("code-" + std::to_string(i));
                if (!grant) continue;
                winners[static_cast<std::size_t>(i)].fetch_add(1);
                if (*grant != "grant-" + std::to_string(i)) wrong_values.fetch_add(1);
            }
        });
    }
    for (auto& racer : racers) racer.join();
    int exactly_once = 0;
    for (const auto& count : winners) exactly_once += count.load() == 1 ? 1 : 0;
    CHECK(exactly_once == codes);
    CHECK(wrong_values.load() == 0);
    for (int i = 0; i < codes; ++i) CHECK_FALSE(s.template exists<text>("code-" + std::to_string(i)));
}
