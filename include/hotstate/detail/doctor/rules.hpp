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

#include <hotstate/detail/base/text.hpp>
#include <hotstate/doctor/check.hpp>

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

/// Every hotstate key carries a TTL, so a volatile-* policy evicts locks,
/// tokens and counters exactly as an allkeys-* one does: only noeviction passes.
[[nodiscard]] inline check eviction_rule(std::string server, std::string_view policy) {
    const verdict result = policy == "noeviction" ? verdict::pass : verdict::fail;
    return {std::move(server), "maxmemory-policy", result, std::string(policy),
            "noeviction (every hotstate key has a TTL, so volatile-* evicts locks and tokens as allkeys-* does)"};
}

/// `save` as CONFIG GET returns it ("" when off, "3600 1 300 100" when on),
/// INFO's aof_enabled and CONFIG GET appendfsync (nullopt: CONFIG denied).
/// Without queues any persistence passes (the store's data is short-lived).
/// With queues, "no acknowledged enqueue lost" needs every write on disk
/// before the reply: AOF with appendfsync always; everysec may lose the last
/// second (WARN); appendfsync no leaves it to the OS, and RDB alone loses
/// everything since the last snapshot (FAIL).
[[nodiscard]] inline check persistence_rule(std::string server, std::optional<std::string_view> save, bool aof,
                                            std::optional<std::string_view> appendfsync, bool queues) {
    const bool rdb = save && !save->empty();
    std::string measured = std::string("rdb ") + (save ? (rdb ? "save " + std::string(*save) : "off") : "unknown (CONFIG denied)") +
                           ", aof " + (aof ? "on (appendfsync " + std::string(appendfsync ? *appendfsync : "unknown: CONFIG denied") + ")" : "off");
    verdict result = verdict::pass;
    if (!queues) {
        if (!rdb && !aof) result = verdict::warn;
    } else if (!aof) {
        result = verdict::fail;
    } else if (appendfsync != std::optional<std::string_view>("always")) {
        result = appendfsync == std::optional<std::string_view>("no") ? verdict::fail : verdict::warn;
    }
    return {std::move(server), "persistence", result, std::move(measured),
            "queues: AOF with appendfsync always (everysec warns; no, or RDB alone, fails); "
            "otherwise RDB or AOF (neither warns)"};
}

/// queue_options::wait_replicas against INFO's connected_slaves of a master:
/// with fewer replicas attached, WAIT never reaches the count and every
/// enqueue is refused.
[[nodiscard]] inline check wait_replicas_rule(std::string server, std::uint64_t wanted, std::uint64_t connected) {
    return {std::move(server), "wait replicas", connected >= wanted ? verdict::pass : verdict::fail,
            "waitReplicas " + std::to_string(wanted) + ", " + std::to_string(connected) + " replicas connected",
            "waitReplicas <= connected replicas (else every enqueue is refused)"};
}

/// A master that has no replica loses its slots (and what it acknowledged)
/// when it dies; after a failover the promoted replica has none until one is attached.
/// `alone`: the masters ("host:port") without a live replica.
[[nodiscard]] inline check replica_coverage_rule(const std::vector<std::string>& alone) {
    std::string measured = alone.empty() ? "every master has a replica" : "no replica: ";
    for (std::size_t i = 0; i < alone.size(); ++i) measured += (i ? ", " : "") + alone[i];
    return {"", "replicas", alone.empty() ? verdict::pass : verdict::warn, std::move(measured),
            "at least one replica per master to fail over to"};
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

/// One node of CLUSTER NODES: `<id> <ip:port@cport[,hostname]> <flags> <master id | -> ...`.
struct cluster_node {
    std::string id;
    std::string host;  ///< without IPv6 brackets
    std::uint16_t port = 0;
    bool master = false;
    /// Flagged fail or fail? : the cluster no longer hears from it. After a
    /// failover the dead master keeps its "master" flag, so a count of masters
    /// that does not skip these counts it twice.
    bool failed = false;
    std::string master_id;  ///< of a replica: its master's id
    /// "host:port" as the doctor's lines name a server.
    [[nodiscard]] std::string address() const { return format_host_port(host, port); }
};

/// CLUSTER NODES' text, one entry per node with an address (nodes still in
/// handshake, or without an address, are left out).
[[nodiscard]] inline std::vector<cluster_node> parse_cluster_nodes(std::string_view text) {
    std::vector<cluster_node> nodes;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::vector<std::string_view> fields;
        while (!line.empty() && fields.size() < 4) {
            const auto space = line.find(' ');
            fields.push_back(line.substr(0, space));
            line = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
        }
        if (fields.size() < 4) continue;
        const auto address = parse_host_port(fields[1].substr(0, fields[1].find_first_of("@,")));
        if (!address || address->host.empty()) continue;
        cluster_node node;
        node.id = std::string(fields[0]);
        node.host = std::string(address->host);
        node.port = address->port;
        bool usable = true;
        for (std::string_view flags = fields[2]; !flags.empty();) {
            const auto comma = flags.find(',');
            const std::string_view flag = flags.substr(0, comma);
            flags = comma == std::string_view::npos ? std::string_view{} : flags.substr(comma + 1);
            if (flag == "master") node.master = true;
            if (flag == "fail" || flag == "fail?") node.failed = true;
            if (flag == "handshake" || flag == "noaddr") usable = false;
        }
        if (!usable) continue;
        if (!node.master && fields[3] != "-") node.master_id = std::string(fields[3]);
        nodes.push_back(std::move(node));
    }
    return nodes;
}

/// "3 masters, 2 replicas, 1 failed (host:port)": the nodes that answer the
/// cluster by role, and those it marks failed, apart.
[[nodiscard]] inline std::string cluster_roles(const std::vector<cluster_node>& nodes) {
    std::size_t masters = 0;
    std::size_t replicas = 0;
    std::string failed;
    std::size_t failed_count = 0;
    for (const auto& node : nodes) {
        if (node.failed) {
            failed += (failed_count++ ? ", " : "") + node.address();
            continue;
        }
        (node.master ? masters : replicas)++;
    }
    std::string out = std::to_string(masters) + " masters, " + std::to_string(replicas) + " replicas";
    if (failed_count > 0) out += ", " + std::to_string(failed_count) + " failed (" + failed + ")";
    return out;
}

/// The live masters without a live replica, "host:port" each.
[[nodiscard]] inline std::vector<std::string> masters_without_replica(const std::vector<cluster_node>& nodes) {
    std::vector<std::string> alone;
    for (const auto& master : nodes) {
        if (!master.master || master.failed) continue;
        const bool covered = std::any_of(nodes.begin(), nodes.end(), [&](const cluster_node& replica) {
            return !replica.master && !replica.failed && replica.master_id == master.id;
        });
        if (!covered) alone.push_back(master.address());
    }
    return alone;
}

}  // namespace hotstate::detail::doctor
