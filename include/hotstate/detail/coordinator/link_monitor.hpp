// What a transport's receiving side reports about its connection, as a pure
// state machine: the receive loop tells it "up" or "down (with this error)",
// it answers with the connection_event to report, or nothing when a failure
// only repeats the one reported last (a server that stays down is reported
// once, not at every reconnect attempt). No clock or socket inside: the
// caller passes the time, so every transition is unit-tested directly.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::detail {

/// Turns a receive loop's successes and failures into connection_events.
class link_monitor {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// The receiving side is connected (subscribed, positioned): connected the first
    /// time, reconnected afterwards, with how long it was down when it was.
    connection_event up(time_point now) {
        connection_event event;
        event.state = ever_up_ ? connection_state::reconnected : connection_state::connected;
        if (down_) event.down_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - down_since_);
        ever_up_ = true;
        down_ = false;
        last_.reset();
        return event;
    }

    /// An attempt failed with `problem`; `was_up`: the connection had been established
    /// (a loss) rather than never made. Nothing to report when it repeats the last failure.
    std::optional<connection_event> down(const error& problem, bool was_up, time_point now) {
        if (!down_) {
            down_ = true;
            down_since_ = now;
        }
        if (!was_up && last_ && last_->kind() == problem.kind() && last_->message() == problem.message())
            return std::nullopt;
        last_ = problem;
        return connection_event{was_up ? connection_state::lost : connection_state::connect_failed, problem,
                                std::chrono::milliseconds{0}};
    }

    /// Whether the last report was a failure (or nothing connected yet after one).
    [[nodiscard]] bool is_down() const noexcept { return down_; }
    /// Since when it is down (meaningful when is_down()).
    [[nodiscard]] time_point down_since() const noexcept { return down_since_; }

private:
    bool ever_up_ = false;
    bool down_ = false;
    time_point down_since_{};
    std::optional<error> last_;  // the failure reported last, until the next up
};

/// The error a receive loop caught, as a hotstate::error (a foreign exception becomes errc::connection).
[[nodiscard]] inline error as_error(const std::exception& caught, std::string_view where) {
    if (const auto* typed = dynamic_cast<const error*>(&caught)) return *typed;
    return error(errc::connection, std::string(where) + ": " + caught.what());
}

}  // namespace hotstate::detail
