// Retry delays of failed jobs: exponential backoff with jitter, pure arithmetic
// so every backend and the tests agree on it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace hotstate::detail::queue {

/// The delay before attempt `failed_attempt + 1`: base * 2^(failed_attempt - 1),
/// capped at `cap`, then shortened by up to `jitter` of itself (`unit` in [0, 1)
/// picks how much), so workers that failed together do not retry together.
[[nodiscard]] inline std::chrono::milliseconds retry_delay(std::int64_t failed_attempt, std::chrono::milliseconds base,
                                                           std::chrono::milliseconds cap, double jitter,
                                                           double unit) noexcept {
    const std::int64_t shift = std::clamp<std::int64_t>(failed_attempt - 1, 0, 40);
    const std::int64_t capped = cap.count() > 0 ? cap.count() : INT64_MAX / 4;
    std::int64_t delay = std::max<std::int64_t>(base.count(), 0);
    for (std::int64_t i = 0; i < shift && delay < capped; ++i) delay *= 2;
    delay = std::min(delay, capped);
    const double cut = std::clamp(jitter, 0.0, 1.0) * std::clamp(unit, 0.0, 1.0) * static_cast<double>(delay);
    return std::chrono::milliseconds{delay - static_cast<std::int64_t>(cut)};
}

}  // namespace hotstate::detail::queue
