// hotstate/detail/base/backoff.hpp: the one capped exponential backoff, as a
// pure function of the attempt. What waits between tries uses it: the
// coordinator's reconnects and send retries, the transports' reconnects, the
// cluster/sentinel retry_fsm, the async connection's reconnects, and the
// exponential part of a failed job's retry delay (detail/queue/backoff.hpp).
#pragma once

#include <chrono>
#include <cstdint>

namespace hotstate::detail {

/// Waits initial, 2x initial, 4x initial... never more than cap. Deterministic
/// on purpose: nodes reconnect to one server, not a crowd of them, and tests
/// can assert the schedule exactly.
struct backoff_policy {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds cap{3200};

    /// The wait before retry number `attempt` (0 = first retry).
    [[nodiscard]] constexpr std::chrono::milliseconds delay(std::uint32_t attempt) const noexcept {
        if (initial.count() <= 0) return std::chrono::milliseconds{0};
        auto wait = initial;
        for (std::uint32_t i = 0; i < attempt && wait < cap; ++i) wait *= 2;
        return wait < cap ? wait : cap;
    }
};

}  // namespace hotstate::detail
