// hotstate/fmt.hpp: {fmt} formatters for hotstate's public value types.
//
// Opt-in and linked explicitly: include this header and link the
// `hotstate::fmt` CMake target (hotstate + fmt::fmt). No other hotstate header
// includes {fmt}, so a translation unit that does not ask for it never pays
// for <fmt/format.h> (about 0.8 s of compile time wherever it is installed).
//
//   hotstate::error, hotstate::errc      "configuration error: <message>" / "timeout"
//   hotstate::rate_decision              "allowed (remaining 4)" / "denied (retry after 1200ms)"
//   hotstate::gap, hotstate::gap_kind    "gap{kind=sequence_skip, publisher=7, missing=[3, 5], ...}"
//   hotstate::coordinator_stats          "coordinator_stats{published_events=3, ...}"
//   hotstate::connection_event, connection_state, transport_outage, outage_kind
//
// The Redis configs and endpoint have theirs in hotstate/redis/fmt.hpp (which
// includes this one), so a user of the embedded store needs no hiredis for it.
// Each formatter prints what the type's to_string prints where one exists, and
// never a secret.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <hotstate/coordinator.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/transport.hpp>

namespace hotstate {

/// The kind's name as hotstate's error category words it, e.g. "timeout".
[[nodiscard]] inline std::string to_string(errc code) { return error_category().message(static_cast<int>(code)); }

/// "<kind>: <message>"; the message names what failed and where, never a secret.
[[nodiscard]] inline std::string to_string(const error& failure) {
    std::string out = to_string(failure.kind()) + ": " + failure.message();
    if (failure.outcome_unknown()) out += " (outcome unknown)";
    return out;
}

/// "allowed (remaining N)" or "denied (retry after Nms)".
[[nodiscard]] inline std::string to_string(const rate_decision& decision) {
    if (decision.allowed) return "allowed (remaining " + std::to_string(decision.remaining) + ")";
    return "denied (retry after " + std::to_string(decision.retry_after.count()) + "ms)";
}

/// The kind's name, e.g. "publisher_restart".
[[nodiscard]] constexpr std::string_view to_string(gap_kind kind) noexcept {
    switch (kind) {
        case gap_kind::sequence_skip: return "sequence_skip";
        case gap_kind::publisher_restart: return "publisher_restart";
        case gap_kind::outage: return "outage";
        case gap_kind::retention_exceeded: return "retention_exceeded";
        case gap_kind::cursor_invalid: return "cursor_invalid";
        case gap_kind::malformed_event: return "malformed_event";
        case gap_kind::malformed_message: return "malformed_message";
    }
    return "unknown";
}

/// The gap for logs: its kind and the fields that kind fills in.
[[nodiscard]] inline std::string to_string(const gap& lost) {
    std::string out = "gap{kind=" + std::string(to_string(lost.kind));
    if (lost.publisher != 0) out += ", publisher=" + std::to_string(lost.publisher);
    if (!lost.channel.empty()) out += ", channel=" + lost.channel;
    if (lost.kind == gap_kind::sequence_skip || lost.kind == gap_kind::publisher_restart)
        out += ", missing=[" + std::to_string(lost.first_missing) + ", " + std::to_string(lost.last_missing) + "]";
    if (lost.lost_events != 0) out += ", lost_events=" + std::to_string(lost.lost_events);
    if (lost.duration.count() != 0) out += ", duration=" + std::to_string(lost.duration.count()) + "ms";
    if (!lost.detail.empty()) out += ", detail=" + lost.detail;
    return out + "}";
}

/// Every counter as name=value.
[[nodiscard]] inline std::string to_string(const coordinator_stats& s) {
    std::string out = "coordinator_stats{";
    const auto add = [&out](std::string_view name, std::uint64_t value, bool last = false) {
        out.append(name).append("=").append(std::to_string(value)).append(last ? "}" : ", ");
    };
    add("published_events", s.published_events);
    add("sent_messages", s.sent_messages);
    add("send_failures", s.send_failures);
    add("dropped_messages", s.dropped_messages);
    add("received_messages", s.received_messages);
    add("own_messages", s.own_messages);
    add("duplicate_messages", s.duplicate_messages);
    add("malformed_messages", s.malformed_messages);
    add("malformed_events", s.malformed_events);
    add("unknown_channel_events", s.unknown_channel_events);
    add("delivered_events", s.delivered_events);
    add("handler_failures", s.handler_failures);
    add("gaps", s.gaps, true);
    return out;
}

/// The state, then the problem or how long it had been failing.
[[nodiscard]] inline std::string to_string(const connection_event& event) {
    std::string out(to_string(event.state));
    if (event.problem) out += " (" + to_string(*event.problem) + ")";
    if (event.down_for.count() != 0) out += " after " + std::to_string(event.down_for.count()) + "ms";
    return out;
}

/// The kind's name, e.g. "retention_exceeded".
[[nodiscard]] constexpr std::string_view to_string(outage_kind kind) noexcept {
    switch (kind) {
        case outage_kind::disconnected: return "disconnected";
        case outage_kind::retention_exceeded: return "retention_exceeded";
        case outage_kind::cursor_invalid: return "cursor_invalid";
    }
    return "unknown";
}

/// The outage's kind, length and description.
[[nodiscard]] inline std::string to_string(const transport_outage& outage) {
    std::string out = "outage{kind=" + std::string(to_string(outage.kind));
    if (outage.duration.count() != 0) out += ", duration=" + std::to_string(outage.duration.count()) + "ms";
    if (!outage.detail.empty()) out += ", detail=" + outage.detail;
    return out + "}";
}

namespace detail {

/// A formatter that prints hotstate::to_string(value) with the string
/// formatter's spec (width, fill, alignment): one spelling for every type.
template <class T>
struct to_string_formatter : ::fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const T& value, FormatContext& ctx) const {
        using ::hotstate::to_string;
        const auto text = to_string(value);
        return ::fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};

}  // namespace detail
}  // namespace hotstate

/// Formats hotstate::errc as its category's words ("timeout").
template <>
struct fmt::formatter<hotstate::errc> : hotstate::detail::to_string_formatter<hotstate::errc> {};
/// Formats hotstate::error as "<kind>: <message>".
template <>
struct fmt::formatter<hotstate::error> : hotstate::detail::to_string_formatter<hotstate::error> {};
/// Formats a rate_decision as "allowed (remaining N)" / "denied (retry after Nms)".
template <>
struct fmt::formatter<hotstate::rate_decision> : hotstate::detail::to_string_formatter<hotstate::rate_decision> {};
/// Formats a gap_kind by name.
template <>
struct fmt::formatter<hotstate::gap_kind> : hotstate::detail::to_string_formatter<hotstate::gap_kind> {};
/// Formats a coordinator gap report.
template <>
struct fmt::formatter<hotstate::gap> : hotstate::detail::to_string_formatter<hotstate::gap> {};
/// Formats coordinator counters.
template <>
struct fmt::formatter<hotstate::coordinator_stats> : hotstate::detail::to_string_formatter<hotstate::coordinator_stats> {};
/// Formats a connection_state by name.
template <>
struct fmt::formatter<hotstate::connection_state> : hotstate::detail::to_string_formatter<hotstate::connection_state> {};
/// Formats a transport's connection event (state, problem, downtime).
template <>
struct fmt::formatter<hotstate::connection_event> : hotstate::detail::to_string_formatter<hotstate::connection_event> {};
/// Formats an outage_kind by name.
template <>
struct fmt::formatter<hotstate::outage_kind> : hotstate::detail::to_string_formatter<hotstate::outage_kind> {};
/// Formats a transport outage report.
template <>
struct fmt::formatter<hotstate::transport_outage> : hotstate::detail::to_string_formatter<hotstate::transport_outage> {};
