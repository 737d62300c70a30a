// The one capped exponential backoff (detail/base/backoff.hpp) as its newer
// callers use it: a failed job's retry delay (detail/queue/backoff.hpp) and a
// floor that is above the cap (the async connection and retry_fsm keep the floor).
#include <algorithm>
#include <chrono>
#include <cstdint>

#include <catch2/catch.hpp>

#include <hotstate/detail/base/backoff.hpp>
#include <hotstate/detail/queue/backoff.hpp>

using namespace std::chrono_literals;
using hotstate::detail::backoff_policy;
using hotstate::detail::queue::retry_delay;

TEST_CASE("backoff: a floor above the cap waits the cap, or the floor when the caller lifts the cap to it",
          "[unit][backoff]") {
    CHECK(backoff_policy{500ms, 100ms}.delay(0) == 100ms);
    CHECK(backoff_policy{500ms, std::max(100ms, 500ms)}.delay(0) == 500ms);
    CHECK(backoff_policy{500ms, std::max(100ms, 500ms)}.delay(7) == 500ms);
    CHECK(backoff_policy{-5ms, 100ms}.delay(3) == 0ms);
}

TEST_CASE("queue retry delay: base doubling per failed attempt, capped, then jittered down", "[unit][backoff][queue]") {
    // no jitter: base * 2^(attempt - 1), capped
    CHECK(retry_delay(1, 1s, 1min, 0.0, 0.0) == 1s);
    CHECK(retry_delay(2, 1s, 1min, 0.0, 0.0) == 2s);
    CHECK(retry_delay(3, 1s, 1min, 0.0, 0.0) == 4s);
    CHECK(retry_delay(6, 1s, 1min, 0.0, 0.0) == 32s);
    CHECK(retry_delay(7, 1s, 1min, 0.0, 0.0) == 1min);
    CHECK(retry_delay(1000000, 1s, 1min, 0.0, 0.0) == 1min);
    // attempt 0 or below counts as the first
    CHECK(retry_delay(0, 1s, 1min, 0.0, 0.0) == 1s);
    CHECK(retry_delay(-3, 1s, 1min, 0.0, 0.0) == 1s);
    // no base: retried at once; a negative base is none
    CHECK(retry_delay(5, 0ms, 1min, 0.0, 0.0) == 0ms);
    CHECK(retry_delay(5, -10ms, 1min, 0.0, 0.0) == 0ms);
    // no cap (0 or below): doubling up to 2^40 times the base
    CHECK(retry_delay(11, 1ms, 0ms, 0.0, 0.0) == 1024ms);
    CHECK(retry_delay(41, 1ms, 0ms, 0.0, 0.0) == std::chrono::milliseconds{std::int64_t{1} << 40});
    CHECK(retry_delay(500, 1ms, -1ms, 0.0, 0.0) == std::chrono::milliseconds{std::int64_t{1} << 40});
    // a cap below the base: the cap
    CHECK(retry_delay(1, 10s, 1s, 0.0, 0.0) == 1s);
    // jitter shortens by jitter * unit of the delay, both clamped to [0, 1]
    CHECK(retry_delay(3, 1s, 1min, 0.5, 0.5) == 3s);
    CHECK(retry_delay(3, 1s, 1min, 0.5, 0.0) == 4s);
    CHECK(retry_delay(3, 1s, 1min, 2.0, 0.25) == 3s);
    CHECK(retry_delay(3, 1s, 1min, -1.0, 0.9) == 4s);
}
