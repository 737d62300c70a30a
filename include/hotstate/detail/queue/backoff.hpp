// Retry delays of failed jobs: exponential backoff with jitter, pure arithmetic
// so every backend and the tests agree on it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <hotstate/detail/base/backoff.hpp>

namespace hotstate::detail::queue {

/// The delay before attempt `failed_attempt + 1`: base * 2^(failed_attempt - 1),
/// capped at `cap` (detail::backoff_policy; no cap when `cap` is not positive),
/// then shortened by up to `jitter` of itself (`unit` in [0, 1) picks how
/// much), so workers that failed together do not retry together.
[[nodiscard]] inline std::chrono::milliseconds retry_delay(std::int64_t failed_attempt, std::chrono::milliseconds base,
                                                           std::chrono::milliseconds cap, double jitter,
                                                           double unit) noexcept {
    const auto shift = static_cast<std::uint32_t>(std::clamp<std::int64_t>(failed_attempt - 1, 0, 40));
    const std::chrono::milliseconds capped{cap.count() > 0 ? cap.count() : INT64_MAX / 4};
    const std::int64_t delay = backoff_policy{base, capped}.delay(shift).count();
    const double cut = std::clamp(jitter, 0.0, 1.0) * std::clamp(unit, 0.0, 1.0) * static_cast<double>(delay);
    return std::chrono::milliseconds{delay - static_cast<std::int64_t>(cut)};
}

}  // namespace hotstate::detail::queue
