// hotstate/detail/redis/proto/redirect.hpp: what a cluster client does when a command
// does not succeed, as pure functions and a small state machine (no I/O).
//
//   classify_error("MOVED 3999 10.0.0.7:6381")  -> {moved, slot 3999, 10.0.0.7:6381}
//   retry_fsm::on_failure(kind)                 -> retry now / after ASKING / after a
//                                                  backoff wait (and a map refresh) / give up
//
// Rules (the contract): MOVED refreshes the slot map and retries at once;
// ASK retries once on the named node after ASKING; TRYAGAIN, CLUSTERDOWN,
// LOADING, MASTERDOWN, READONLY and connection errors wait, doubling from
// min_retry_wait up to max_retry_wait. Every retry counts against max_retries.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include <hotstate/detail/base/backoff.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/proto/slots_reply.hpp>
#include <hotstate/redis/node_settings.hpp>

namespace hotstate::detail::redis::routing {

/// Why an attempt did not succeed, as far as retrying is concerned.
enum class failure_kind : std::uint8_t {
    none,          ///< not a retryable failure: the error goes to the caller as it is
    moved,         ///< MOVED: the slot lives elsewhere for good
    ask,           ///< ASK: the slot is migrating; this key is on the target already
    try_again,     ///< TRYAGAIN: a multi-key command met a slot half-migrated
    cluster_down,  ///< CLUSTERDOWN: the cluster (or this slot) is not serving
    busy,          ///< LOADING / MASTERDOWN / READONLY: the node cannot serve this yet
    connection,    ///< no answer at all: connect failed, timed out or dropped
};

/// A reply error, classified; `target` is set for MOVED and ASK.
struct classified_error {
    failure_kind kind = failure_kind::none;
    std::uint16_t slot = 0;
    std::optional<node_address> target;
};

/// Parses "host:port" (IPv6 "[::1]:7000" or "::1:7000"); an empty host (Redis 7's
/// "unknown endpoint") becomes `fallback_host`.
[[nodiscard]] inline std::optional<node_address> parse_endpoint(std::string_view text,
                                                                std::string_view fallback_host = {}) {
    const auto parsed = parse_host_port(text);
    if (!parsed) return std::nullopt;
    node_address address;
    address.host = std::string(parsed->host.empty() ? fallback_host : parsed->host);
    address.port = parsed->port;
    return address;
}

/// Classifies the text of an error reply. `replying_host` fills in an empty
/// host in a MOVED/ASK target.
[[nodiscard]] inline classified_error classify_error(std::string_view text, std::string_view replying_host = {}) {
    const auto word_end = text.find(' ');
    const std::string_view word = text.substr(0, word_end);
    classified_error result;
    if (word == "MOVED" || word == "ASK") {
        // MOVED <slot> <host>:<port>
        if (word_end == std::string_view::npos) return result;
        const std::string_view rest = text.substr(word_end + 1);
        const auto space = rest.find(' ');
        if (space == std::string_view::npos) return result;
        const auto slot = parse_decimal<unsigned>(rest.substr(0, space));
        if (!slot || *slot >= slot_count) return result;
        auto target = parse_endpoint(rest.substr(space + 1), replying_host);
        if (!target) return result;
        result.kind = word == "MOVED" ? failure_kind::moved : failure_kind::ask;
        result.slot = static_cast<std::uint16_t>(*slot);
        result.target = std::move(target);
    } else if (word == "TRYAGAIN") {
        result.kind = failure_kind::try_again;
    } else if (word == "CLUSTERDOWN") {
        result.kind = failure_kind::cluster_down;
    } else if (word == "LOADING" || word == "MASTERDOWN" || word == "READONLY") {
        result.kind = failure_kind::busy;
    }
    return result;
}

/// Retry settings: the configuration's own (redis/node_settings.hpp).
using retry_policy = ::hotstate::redis::retry_policy;

/// What to do after a failed attempt.
struct retry_step {
    enum class action : std::uint8_t {
        retry,    ///< try again (after `wait`, on the node the map or `ask_target` names)
        give_up,  ///< the budget is spent, or the failure is not retryable
    };
    action what = action::give_up;
    /// Sleep this long before the next attempt (zero: at once).
    std::chrono::milliseconds wait{0};
    /// Rebuild the slot map (CLUSTER SLOTS) before the next attempt.
    bool refresh_map = false;
    /// Send the next attempt to this node, preceded by ASKING (ASK redirects only).
    std::optional<node_address> ask_target;
};

/// The retry state of one operation: feed it each failure, do what it says.
class retry_fsm {
public:
    explicit retry_fsm(retry_policy policy) noexcept : policy_(policy) {}

    /// The next step after an attempt failed with `failure`.
    [[nodiscard]] retry_step on_failure(const classified_error& failure) {
        retry_step step;
        if (failure.kind == failure_kind::none || retries_ >= policy_.max_retries) return step;
        ++retries_;
        step.what = retry_step::action::retry;
        switch (failure.kind) {
            case failure_kind::moved:
                step.refresh_map = true;
                break;
            case failure_kind::ask:
                step.ask_target = failure.target;
                break;
            case failure_kind::try_again:
            case failure_kind::busy:
                step.wait = next_wait();
                break;
            case failure_kind::cluster_down:
            case failure_kind::connection:
                step.wait = next_wait();
                step.refresh_map = true;
                break;
            case failure_kind::none:
                break;
        }
        return step;
    }

    /// Retries granted so far.
    [[nodiscard]] unsigned retries() const noexcept { return retries_; }

    /// The backoff wait before the `n`th wait (0-based): min * 2^n, capped at max
    /// (a zero min means no waiting at all).
    /// The one capped-exponential schedule of the project (detail::backoff_policy).
    [[nodiscard]] static std::chrono::milliseconds backoff(const retry_policy& policy, unsigned n) noexcept {
        return backoff_policy{policy.min_retry_wait, std::max(policy.max_retry_wait, policy.min_retry_wait)}.delay(n);
    }

private:
    std::chrono::milliseconds next_wait() noexcept { return backoff(policy_, waits_++); }

    retry_policy policy_;
    unsigned retries_ = 0;
    unsigned waits_ = 0;
};

}  // namespace hotstate::detail::redis::routing
