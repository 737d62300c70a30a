// The laws of CounterBackend: counters with expiry, and the fixed-window rate
// limits built on them. Included by laws/store.hpp.
#pragma once

#include "laws/store_support.hpp"

namespace laws {

/// Waits (on the clock, at most ten seconds) until at least ten seconds of
/// `period`'s current window are left, so that a law reading the system clock
/// runs inside one window. A manual clock does not move by itself: no wait.
template <class F, class S>
void enter_fresh_window(S& s, std::chrono::milliseconds period) {
    if constexpr (!manual_rate_clock<F>())
        REQUIRE(eventually([&] { return hotstate::rate_math::locate_window(s.now(), period).remaining >= 10s; }, 11s));
}


HOTSTATE_STORE_LAW("counters: increment, read, expiry", "[laws][counters]", counters) {

    CHECK(s.template counter<number>("c") == 0);
    CHECK(s.template increment<number>("c") == 1);
    CHECK(s.template increment<number>("c", 5) == 6);
    CHECK(s.template increment<number>("c", -10) == -4);
    CHECK(s.template counter<number>("c") == -4);
    if constexpr (has<TestType, laws::key_value>) CHECK(s.template get<number>("c") == -4);

    SECTION("an increment with expiry (re)applies it") {
        CHECK(s.template increment<number>("e", 1, fixture.short_ttl()) == 1);
        fixture.pass(fixture.short_ttl() + 1ms);
        CHECK(eventually([&] { return s.template counter<number>("e") == 0; }));
        CHECK(s.template increment<number>("e", 1, 10min) == 1);
        CHECK(s.template counter<number>("e") == 1);
    }
    if constexpr (has<TestType, laws::key_value>) {
        SECTION("erase resets a counter") {
            CHECK(s.template erase<number>("c"));
            CHECK(s.template counter<number>("c") == 0);
        }
        SECTION("a counter over a non-integer value is a typed error naming the category, not the key") {
            s.backend().kv_set(hotstate::encode_key<number>("secret-token-123"), "not a number", 0ms);
            const auto e = error_of([&] { s.template increment<number>("secret-token-123"); });
            CHECK((e.kind() == hotstate::errc::wrong_type || e.kind() == hotstate::errc::server));
            CHECK_THAT(e.what(), Catch::Contains("conf-number"));
            CHECK_THAT(e.what(), !Catch::Contains("secret-token-123"));
        }
    }
    SECTION("a non-positive expiry is refused") {
        CHECK(error_of([&] { s.template increment<number>("c", 1, 0ms); }).kind() == hotstate::errc::invalid_argument);
        CHECK(s.template counter<number>("c") == -4);
    }
}

HOTSTATE_STORE_LAW("counters: fixed-window rate limits", "[laws][counters][rate]", counters) {
    const hotstate::fixed_window policy{3, 60s};
    enter_fresh_window<TestType>(s, policy.period);

    const auto first = s.template check_rate<limits>("sender@example.org", policy);
    CHECK(first.allowed);
    CHECK(first.remaining == 2);
    CHECK(s.template check_rate<limits>("sender@example.org", policy).remaining == 1);
    CHECK(s.template check_rate<limits>("sender@example.org", policy).remaining == 0);

    SECTION("over the limit: denied with the time until the window resets") {
        const auto before = hotstate::rate_math::locate_window(s.now(), policy.period).remaining;
        const auto denied = s.template check_rate<limits>("sender@example.org", policy);
        CHECK_FALSE(denied.allowed);
        const auto expected = hotstate::rate_math::locate_window(s.now(), policy.period).remaining;
        // one instant on a manual clock; on the system clock, between the two readings
        CHECK(denied.retry_after <= before);
        CHECK(denied.retry_after >= expected);
        if constexpr (manual_rate_clock<TestType>()) CHECK(denied.retry_after == expected);
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
    if constexpr (manual_rate_clock<TestType>()) {
        SECTION("the next window starts afresh") {
            fixture.pass(60s);
            CHECK(s.template check_rate<limits>("sender@example.org", policy).remaining == 2);
        }
    }
    SECTION("an invalid policy is refused") {
        CHECK_THROWS_AS(s.template check_rate<limits>("ip", hotstate::fixed_window{1, 0s}), hotstate::error);
        CHECK_THROWS_AS(s.template check_rate<limits>("ip", hotstate::fixed_window{-1, 1s}), hotstate::error);
    }
}

}  // namespace laws
