// The laws of TakeBackend: get-and-delete, once, under concurrency too.
// Included by laws/store.hpp.
#pragma once

#include <array>
#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "laws/store_support.hpp"

namespace laws {

HOTSTATE_STORE_LAW("take: gets and deletes once", "[laws][take]", take) {

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

        if constexpr (has<TestType, laws::counters>) {
            CHECK(s.template increment<number>("n", 7) == 7);
            CHECK(s.template take<number>("n") == 7);
            CHECK(s.template counter<number>("n") == 0);
        }

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
        const auto e = error_of([&] { (void)s.template take<record>("garbage"); });
        CHECK(e.kind() == hotstate::errc::decode);
        CHECK_THAT(e.what(), Catch::Contains("conf-record"));
        CHECK_THAT(e.what(), Catch::Contains("take"));
        CHECK_FALSE(s.template exists<record>("garbage"));
    }
    if constexpr (has<TestType, laws::lookups> && !lookups_share_key_space<TestType>()) {
        SECTION("a lookup is not a key: take of its key finds nothing and leaves it alone") {
            CHECK(s.template lookup_add<list>("blocked", "spam.example"));
            CHECK_FALSE(s.template take<list>("blocked").has_value());
            CHECK(s.template lookup_contains<list>("blocked", "spam.example"));
        }
    }
    if constexpr (has<TestType, laws::lookups> && lookups_share_key_space<TestType>()) {
        SECTION("take of a lookup is a wrong-type error and leaves it alone") {
            CHECK(s.template lookup_add<list>("blocked", "spam.example"));
            const auto e = error_of([&] { (void)s.template take<list>("blocked"); });
            CHECK(e.kind() == hotstate::errc::wrong_type);
            CHECK_THAT(e.what(), Catch::Contains("conf-lookup"));
            CHECK(s.template lookup_contains<list>("blocked", "spam.example"));
        }
    }
}

HOTSTATE_STORE_LAW("take: concurrent takes of one value have exactly one winner", "[laws][take]", take) {
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

}  // namespace laws
