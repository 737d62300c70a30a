// hotstate/detail/doctor/rules.hpp: the deployment rules as pure functions of
// what a server reports (INFO fields, CONFIG values, timings), so each verdict
// is unit-tested without a server. The rules are those EmailEngine documents
// for Redis as a primary store and hotstate's own needs (GETDEL, ACL).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotstate::doctor {

/// The outcome of one check.
enum class verdict : std::uint8_t { pass, warn, fail };

/// "PASS", "WARN" or "FAIL".
[[nodiscard]] constexpr std::string_view to_string(verdict v) noexcept {
    return v == verdict::pass ? "PASS" : v == verdict::warn ? "WARN" : "FAIL";
}

/// One line of a report.
struct check {
    std::string server;    ///< "host:port", or "" for the deployment as a whole
    std::string name;      ///< "version", "maxmemory-policy", ...
    verdict result = verdict::pass;
    std::string measured;  ///< what the server reported, e.g. "allkeys-lru"
    std::string rule;      ///< what passes, e.g. "noeviction (volatile-* warns, allkeys-* fails)"
};

}  // namespace hotstate::doctor

namespace hotstate::detail::doctor {

using ::hotstate::doctor::check;
using ::hotstate::doctor::verdict;

/// `INFO` text as field -> value.
[[nodiscard]] inline std::map<std::string, std::string, std::less<>> parse_info(std::string_view text) {
    std::map<std::string, std::string, std::less<>> out;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        out.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
    return out;
}

/// "7.0.15" -> {7, 0, 15}.
[[nodiscard]] inline std::vector<int> version_parts(std::string_view text) {
    std::vector<int> parts;
    int value = 0;
    bool digits = false;
    for (const char c : text) {
        if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
            digits = true;
        } else if (c == '.') {
            parts.push_back(value);
            value = 0;
            digits = false;
        } else {
            break;
        }
    }
    if (digits) parts.push_back(value);
    parts.resize(3);
    return parts;
}

[[nodiscard]] inline check version_rule(std::string server, std::string_view version) {
    const auto parts = version_parts(version);
    const std::vector<int> v60{6, 0, 0}, v62{6, 2, 0};
    const verdict result = parts < v60 ? verdict::fail : parts < v62 ? verdict::warn : verdict::pass;
    return {std::move(server), "version", result, std::string(version),
            ">= 6.0; >= 6.2 for GETDEL (take), else take runs a script"};
}

[[nodiscard]] inline check eviction_rule(std::string server, std::string_view policy) {
    const verdict result = policy == "noeviction"         ? verdict::pass
                           : policy.starts_with("volatile-") ? verdict::warn
                                                              : verdict::fail;
    return {std::move(server), "maxmemory-policy", result, std::string(policy),
            "noeviction; volatile-* warns; allkeys-* fails (locks and counters must not be evicted)"};
}

/// `save` as CONFIG GET returns it ("" when off, "3600 1 300 100" when on) and INFO's aof_enabled.
[[nodiscard]] inline check persistence_rule(std::string server, std::optional<std::string_view> save, bool aof,
                                            bool queues) {
    const bool rdb = save && !save->empty();
    std::string measured = std::string("rdb ") + (save ? (rdb ? "save " + std::string(*save) : "off") : "unknown (CONFIG denied)") +
                           ", aof " + (aof ? "on" : "off");
    verdict result = verdict::pass;
    if (!rdb && !aof) result = queues ? verdict::fail : verdict::warn;
    return {std::move(server), "persistence", result, std::move(measured),
            "RDB save points or AOF on (FAIL when queues are configured, WARN otherwise)"};
}

[[nodiscard]] inline check keepalive_rule(std::string server, std::optional<long long> seconds) {
    if (!seconds) return {std::move(server), "tcp-keepalive", verdict::warn, "unknown (CONFIG denied)", "300 recommended; 0 fails"};
    const verdict result = *seconds == 0 ? verdict::fail : *seconds > 300 ? verdict::warn : verdict::pass;
    return {std::move(server), "tcp-keepalive", result, std::to_string(*seconds) + "s", "300 recommended; 0 fails"};
}

/// `samples` round trips: the p-th percentile (nearest rank).
[[nodiscard]] inline std::chrono::microseconds percentile(std::vector<std::chrono::microseconds> samples, double p) {
    if (samples.empty()) return {};
    std::sort(samples.begin(), samples.end());
    auto rank = static_cast<std::size_t>(p * static_cast<double>(samples.size()));
    if (rank >= samples.size()) rank = samples.size() - 1;
    return samples[rank];
}

[[nodiscard]] inline std::string millis(std::chrono::microseconds value) {
    const auto us = value.count();
    return std::to_string(us / 1000) + "." + std::to_string((us % 1000) / 100) + std::to_string((us % 100) / 10) + " ms";
}

[[nodiscard]] inline check latency_rule(std::string server, std::chrono::microseconds p50, std::chrono::microseconds p99,
                                        std::size_t pings, std::chrono::microseconds p50_limit,
                                        std::chrono::microseconds p99_limit) {
    const verdict result = p50 <= p50_limit && p99 <= p99_limit ? verdict::pass
                           : p50 <= p99_limit                    ? verdict::warn
                                                                 : verdict::fail;
    return {std::move(server), "round trip", result,
            "p50 " + millis(p50) + ", p99 " + millis(p99) + " over " + std::to_string(pings) + " PINGs",
            "p50 <= " + millis(p50_limit) + " and p99 <= " + millis(p99_limit)};
}

[[nodiscard]] inline std::string mebibytes(std::uint64_t bytes) {
    const std::uint64_t tenths = bytes * 10 / (1024 * 1024);
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MiB";
}

[[nodiscard]] inline check memory_rule(std::string server, std::uint64_t used, std::uint64_t maxmemory) {
    if (maxmemory == 0)
        return {std::move(server), "memory", verdict::warn, mebibytes(used) + " used, no maxmemory",
                "maxmemory set, used < 80 % of it"};
    const std::uint64_t percent = used * 100 / maxmemory;
    const verdict result = percent < 80 ? verdict::pass : percent < 95 ? verdict::warn : verdict::fail;
    return {std::move(server), "memory", result,
            mebibytes(used) + " of " + mebibytes(maxmemory) + " (" + std::to_string(percent) + " %)",
            "used < 80 % of maxmemory (95 % fails)"};
}

/// 1-2 MiB per mailbox, provisioned 2x: 4 MiB each passes, 2 MiB each warns, less fails.
[[nodiscard]] inline check sizing_rule(std::string server, std::uint64_t mailboxes, std::uint64_t capacity,
                                       std::string_view capacity_source) {
    constexpr std::uint64_t mib = 1024 * 1024;
    const verdict result = capacity >= mailboxes * 4 * mib ? verdict::pass
                           : capacity >= mailboxes * 2 * mib ? verdict::warn
                                                             : verdict::fail;
    return {std::move(server), "sizing", result,
            mebibytes(capacity) + " " + std::string(capacity_source) + " for " + std::to_string(mailboxes) + " mailboxes",
            "1-2 MiB per mailbox, provisioned 2x: >= " + mebibytes(mailboxes * 4 * mib) + " (>= " +
                mebibytes(mailboxes * 2 * mib) + " warns)"};
}

[[nodiscard]] inline check tls_expiry_rule(std::string server, std::chrono::seconds left, std::chrono::seconds warn_within) {
    const auto days = left.count() / 86400;
    const verdict result = left.count() <= 0 ? verdict::fail : left <= warn_within ? verdict::warn : verdict::pass;
    return {std::move(server), "tls certificate", result,
            left.count() <= 0 ? "expired" : "expires in " + std::to_string(days) + " days",
            "valid for more than " + std::to_string(warn_within.count() / 86400) + " days (expiring within them warns)"};
}

}  // namespace hotstate::detail::doctor

namespace hotstate::detail::doctor {

/// Slots [first, last] as CLUSTER SLOTS assigns them to a master ("host:port").
struct slot_range {
    unsigned first = 0;
    unsigned last = 0;
    std::string master;
};

/// Slot coverage from the slot map and what the doctor could reach itself:
/// a slot is served when a range assigns it to a master that answered. This
/// does not wait for the cluster to notice a dead master (cluster_state turns
/// "fail" only after cluster-node-timeout), so the verdict is right at once.
/// `unreachable`: the masters that did not answer; `state`: CLUSTER INFO's cluster_state.
[[nodiscard]] inline check slot_coverage_rule(const std::vector<slot_range>& ranges,
                                              const std::vector<std::string>& unreachable, std::string_view state) {
    constexpr unsigned slots = 16384;
    std::vector<bool> assigned(slots, false);
    std::vector<bool> served(slots, false);
    for (const auto& range : ranges) {
        const bool up = std::find(unreachable.begin(), unreachable.end(), range.master) == unreachable.end();
        for (unsigned s = range.first; s <= range.last && s < slots; ++s) {
            assigned[s] = true;
            if (up) served[s] = true;
        }
    }
    const auto count = [](const std::vector<bool>& bits) {
        return static_cast<unsigned>(std::count(bits.begin(), bits.end(), true));
    };
    const unsigned served_slots = count(served);
    const unsigned unassigned = slots - count(assigned);
    std::string measured = std::to_string(served_slots) + " of 16384 slots served";
    if (unassigned > 0) measured += ", " + std::to_string(unassigned) + " unassigned";
    for (const auto& master : unreachable) {
        unsigned lost = 0;
        for (const auto& range : ranges)
            if (range.master == master) lost += range.last - range.first + 1;
        if (lost > 0) measured += ", " + std::to_string(lost) + " on unreachable " + master;
    }
    measured += " (cluster_state " + std::string(state) + ")";
    const bool covered = served_slots == slots && state == "ok";
    return {"", "slot coverage", covered ? verdict::pass : verdict::fail, std::move(measured),
            "all 16384 slots assigned (CLUSTER SLOTS) to masters that answer, and cluster_state ok"};
}

}  // namespace hotstate::detail::doctor
