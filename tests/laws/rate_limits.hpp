// The laws of RateLimitBackend: GCRA rate limits. Included by laws/store.hpp.
#pragma once

#include "laws/store_support.hpp"

namespace laws {

HOTSTATE_STORE_LAW("rate_limits: GCRA", "[laws][rate_limits][rate]", rate_limits) {
    // one every 100 ms, bursts of 3; on the system clock one every second, so
    // that the four calls surely take less than one emission interval
    constexpr bool manual = manual_rate_clock<TestType>();
    const auto interval = manual ? 100ms : 1000ms;
    const hotstate::gcra policy{10, manual ? 1s : 10s, 3};

    CHECK(s.template check_rate<limits>("ip", policy).remaining == 2);
    CHECK(s.template check_rate<limits>("ip", policy).remaining == 1);
    CHECK(s.template check_rate<limits>("ip", policy).remaining == 0);
    const auto denied = s.template check_rate<limits>("ip", policy);
    CHECK_FALSE(denied.allowed);
    if constexpr (manual) CHECK(denied.retry_after == interval);
    CHECK(denied.retry_after > 0ms);
    CHECK(denied.retry_after <= interval);

    if constexpr (manual) {
        SECTION("allowed again exactly when retry_after says") {
            fixture.pass(99ms);
            CHECK_FALSE(s.template check_rate<limits>("ip", policy).allowed);
            fixture.pass(1ms);
            CHECK(s.template check_rate<limits>("ip", policy).allowed);
        }
    }
    SECTION("a cost above the burst is never allowed; other keys are independent") {
        CHECK_FALSE(s.template check_rate<limits>("other", policy, 4).allowed);
        CHECK(s.template check_rate<limits>("other", policy, 3).allowed);
    }
    SECTION("invalid policies are refused") {
        CHECK_THROWS_AS(s.template check_rate<limits>("ip", hotstate::gcra{0, 1s, 1}), hotstate::error);
        CHECK_THROWS_AS(s.template check_rate<limits>("ip", policy, 0), hotstate::error);
        if constexpr (has<TestType, laws::counters>)
            CHECK_THROWS_AS(s.template check_rate<limits>("ip", hotstate::fixed_window{1, 0s}), hotstate::error);
    }
}

}  // namespace laws
