#include <chrono>

#include <catch2/catch.hpp>

#include <hotstate/rate_limit.hpp>

using namespace std::chrono_literals;
using namespace hotstate;

TEST_CASE("fixed window: index and time left, as the seeds compute them", "[unit][rate]") {
    const time_point now{std::chrono::milliseconds{1'767'225'612'345}};
    const auto position = rate_math::locate_window(now, 60s);
    CHECK(position.index == 1'767'225'612'345 / 60'000);
    // seconds-based arithmetic of the seeds gives the same index
    CHECK(position.index == (1'767'225'612'345 / 1000) / 60);
    CHECK(position.remaining == std::chrono::milliseconds{60'000 - 1'767'225'612'345 % 60'000});
}

TEST_CASE("fixed window: allowed up to the limit, then retry at the reset", "[unit][rate]") {
    const fixed_window policy{2, 10s};
    CHECK(rate_math::fixed_window_decision(1, policy, 4s) == rate_decision{true, 0ms, 1});
    CHECK(rate_math::fixed_window_decision(2, policy, 4s) == rate_decision{true, 0ms, 0});
    CHECK(rate_math::fixed_window_decision(3, policy, 4s) == rate_decision{false, 4s, 0});
    CHECK(rate_math::fixed_window_soft_decision(1, policy, 4s).allowed);
    CHECK_FALSE(rate_math::fixed_window_soft_decision(2, policy, 4s).allowed);
}

TEST_CASE("GCRA: bursts, spacing and the exact retry time", "[unit][rate]") {
    const auto params = rate_math::gcra_parameters_of(gcra{10, 1s, 3});
    CHECK(params.emission_us == 100'000);
    CHECK(params.capacity_us == 300'000);

    std::optional<std::int64_t> tat;
    std::int64_t now = 1'000'000'000;
    for (int i = 0; i < 3; ++i) {
        const auto step = rate_math::gcra_step(tat, now, params);
        REQUIRE(step.decision.allowed);
        CHECK(step.decision.remaining == 2 - i);
        tat = step.new_tat_us;
    }
    const auto denied = rate_math::gcra_step(tat, now, params);
    CHECK_FALSE(denied.decision.allowed);
    CHECK(denied.decision.retry_after == 100ms);
    CHECK_FALSE(rate_math::gcra_step(tat, now + 99'999, params).decision.allowed);
    const auto later = rate_math::gcra_step(tat, now + 100'000, params);
    CHECK(later.decision.allowed);
    CHECK(later.ttl == 300ms);

    SECTION("an idle key refills fully and no more") {
        const auto refilled = rate_math::gcra_step(tat, now + 10'000'000, params);
        CHECK(refilled.decision.remaining == 2);
    }
    SECTION("sub-millisecond waits round up") {
        const auto p = rate_math::gcra_parameters_of(gcra{3, 1s, 1});
        CHECK(p.emission_us == 333'333);
        const auto first = rate_math::gcra_step(std::nullopt, 0, p);
        const auto second = rate_math::gcra_step(first.new_tat_us, 1, p);
        CHECK(second.decision.retry_after == 334ms);
    }
}

TEST_CASE("GCRA: extreme costs and stored values deny instead of overflowing", "[unit][rate]") {
    const auto params = rate_math::gcra_parameters_of(gcra{10, 1s, 3});
    const std::int64_t now = 1'767'225'600'000'000;
    const auto huge_cost = rate_math::gcra_step(std::nullopt, now, params, INT64_MAX);
    CHECK_FALSE(huge_cost.decision.allowed);
    CHECK(huge_cost.decision.retry_after > 1000h);
    const auto huge_tat = rate_math::gcra_step(INT64_MAX, now, params);
    CHECK_FALSE(huge_tat.decision.allowed);
    const auto huge_burst = rate_math::gcra_parameters_of(gcra{1, 1s, INT64_MAX});
    CHECK(huge_burst.capacity_us > 0);
    CHECK(rate_math::gcra_step(std::nullopt, now, huge_burst, 1000).decision.allowed);
}
