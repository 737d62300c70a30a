// hotstate/rate_limit.hpp: rate-limit policies and their arithmetic, without I/O.
//
// Two strategies:
//   - fixed_window: the seeds' limiter. window = now / period; the counter lives
//     in the bucket key prefix ++ key ++ be64(window) and expires when the window
//     ends; over the limit the answer carries the time until the window resets.
//     Cheap and byte-compatible, but allows up to 2x the limit across a boundary.
//   - gcra: the generic cell rate algorithm. One timestamp per key, smooth
//     spacing with a burst allowance, and the exact time until the next request
//     would be allowed. Use it where bursts at window edges matter (logins, APIs).
#pragma once

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>

#include <hotstate/clock.hpp>

namespace hotstate {

/// At most `limit` requests per `period`, counted in fixed windows.
struct fixed_window {
    std::int64_t limit;
    std::chrono::milliseconds period;
};

/// `rate` requests per `period` on average, with up to `burst` at once.
struct gcra {
    std::int64_t rate;
    std::chrono::milliseconds period;
    std::int64_t burst = 1;
};

/// Whether a fixed-window check counts the request (`count`) or only looks (`soft`).
enum class rate_check : std::uint8_t { count, soft };

/// The answer of a rate check.
struct rate_decision {
    bool allowed = true;
    /// When denied: time until a request would be allowed (window reset for
    /// fixed windows, exact for GCRA). Zero when allowed.
    std::chrono::milliseconds retry_after{0};
    /// Requests still allowed now (fixed window: in this window; GCRA: at once).
    std::int64_t remaining = 0;

    explicit operator bool() const noexcept { return allowed; }
    bool operator==(const rate_decision&) const = default;
};

namespace rate_math {

/// Where `now` falls among windows of `period`.
struct window_position {
    std::uint64_t index;                 ///< now / period
    std::chrono::milliseconds remaining; ///< until the window ends
};

[[nodiscard]] constexpr window_position locate_window(time_point now, std::chrono::milliseconds period) noexcept {
    const std::int64_t now_ms = now.time_since_epoch().count();
    const std::int64_t period_ms = period.count();
    const std::int64_t index = now_ms / period_ms;
    return {static_cast<std::uint64_t>(index), std::chrono::milliseconds{(index + 1) * period_ms - now_ms}};
}

/// Decision after a counting check: `count` is the bucket's value including this request.
[[nodiscard]] constexpr rate_decision fixed_window_decision(std::int64_t count, const fixed_window& policy,
                                                            std::chrono::milliseconds window_remaining) noexcept {
    if (count <= policy.limit) return {true, std::chrono::milliseconds{0}, policy.limit - count};
    return {false, window_remaining, 0};
}

/// Decision of a soft check: `count` is the bucket's current value; nothing was counted.
[[nodiscard]] constexpr rate_decision fixed_window_soft_decision(std::int64_t count, const fixed_window& policy,
                                                                 std::chrono::milliseconds window_remaining) noexcept {
    if (count < policy.limit) return {true, std::chrono::milliseconds{0}, policy.limit - count};
    return {false, window_remaining, 0};
}

/// GCRA parameters in microseconds, as every backend's implementation uses them.
struct gcra_parameters {
    std::int64_t emission_us;  ///< period / rate: spacing between requests
    std::int64_t capacity_us;  ///< burst * emission: how far ahead the schedule may run
};

namespace detail {
inline constexpr std::int64_t saturated = INT64_MAX / 4;  // far beyond any real schedule, safe to add to

constexpr std::int64_t saturating_mul(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t product = 0;
    return __builtin_mul_overflow(a, b, &product) || product > saturated ? saturated : product;
}
constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t sum = 0;
    return __builtin_add_overflow(a, b, &sum) || sum > saturated ? saturated : sum;
}
}  // namespace detail

[[nodiscard]] constexpr gcra_parameters gcra_parameters_of(const gcra& policy) noexcept {
    const std::int64_t emission = std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::microseconds>(policy.period).count() / policy.rate);
    return {emission, detail::saturating_mul(emission, policy.burst)};
}

/// One GCRA step: the stored theoretical arrival time (absent when the key is
/// missing or expired) and `now`, both in microseconds.
struct gcra_outcome {
    rate_decision decision;
    std::int64_t new_tat_us = 0;   ///< store this when allowed
    std::chrono::milliseconds ttl{0}; ///< and let it expire after this
};

[[nodiscard]] constexpr gcra_outcome gcra_step(std::optional<std::int64_t> stored_tat_us, std::int64_t now_us,
                                               gcra_parameters params, std::int64_t cost = 1) noexcept {
    // saturating: a huge cost or a stored value near INT64_MAX (say, a counter
    // read as a TAT) gives a denial, never signed overflow
    const std::int64_t tat = std::min(stored_tat_us ? std::max(*stored_tat_us, now_us) : now_us, detail::saturated);
    const std::int64_t new_tat = detail::saturating_add(tat, detail::saturating_mul(params.emission_us, cost));
    const std::int64_t ahead = new_tat - now_us;
    const auto ceil_ms = [](std::int64_t us) { return std::chrono::milliseconds{(us + 999) / 1000}; };
    if (ahead > params.capacity_us) {
        return {{false, ceil_ms(ahead - params.capacity_us), 0}, tat, std::chrono::milliseconds{0}};
    }
    return {{true, std::chrono::milliseconds{0}, (params.capacity_us - ahead) / params.emission_us}, new_tat,
            ceil_ms(ahead)};
}

}  // namespace rate_math
}  // namespace hotstate
