// hotstate/clock.hpp: the Clock policy.
//
// Models:
//   - system_clock: wall-clock time; the default for production.
//   - manual_clock: time moves only when told; for tests of TTLs, rate windows
//     and lock leases without sleeping. Copies share one time source.
// Backends that keep time themselves (the embedded store, SQLite) expire by
// this clock; Redis expires keys by its own clock and uses this one for
// rate-limit windows only.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>

namespace hotstate {

/// Milliseconds since the Unix epoch: the resolution of every hotstate time.
using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

/// Optional time-to-live or expiry: std::nullopt means "keep until deleted".
using ttl = std::optional<std::chrono::milliseconds>;

/// A source of the current time.
template <class C>
concept Clock = std::copy_constructible<C> && requires(const C& clock) {
    { clock.now() } -> std::same_as<time_point>;
};

/// Wall-clock time.
struct system_clock {
    [[nodiscard]] time_point now() const noexcept {
        return std::chrono::time_point_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now());
    }
};

/// A clock that only moves when advanced; copies share the same time.
class manual_clock {
public:
    /// Starts at 2026-01-01T00:00:00Z.
    manual_clock() : manual_clock(time_point{std::chrono::milliseconds{1767225600000}}) {}
    /// Starts at `start`.
    explicit manual_clock(time_point start)
        : now_(std::make_shared<std::atomic<std::int64_t>>(start.time_since_epoch().count())) {}

    [[nodiscard]] time_point now() const noexcept {
        return time_point{std::chrono::milliseconds{now_->load(std::memory_order_acquire)}};
    }
    void advance(std::chrono::milliseconds by) noexcept {
        now_->fetch_add(by.count(), std::memory_order_acq_rel);
    }
    void set(time_point to) noexcept {
        now_->store(to.time_since_epoch().count(), std::memory_order_release);
    }

private:
    std::shared_ptr<std::atomic<std::int64_t>> now_;
};

static_assert(Clock<system_clock>);
static_assert(Clock<manual_clock>);

}  // namespace hotstate
