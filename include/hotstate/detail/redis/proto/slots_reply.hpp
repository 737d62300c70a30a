// hotstate/detail/redis/proto/slots_reply.hpp: the CLUSTER SLOTS reply, turned into
// slot ranges. Reads the one reply model (hotstate::redis::reply_view), so tests
// feed it bytes through the reader the connection uses, without any server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/redis/reply.hpp>

namespace hotstate::detail::redis::routing {

/// A node's address as the cluster announces it.
struct node_address {
    std::string host;
    std::uint16_t port = 0;

    /// host:port (IPv6 hosts in brackets), for routing tables and error messages.
    [[nodiscard]] std::string to_string() const { return format_host_port(host, port); }
    bool operator==(const node_address&) const = default;
};

/// One contiguous slot range with the master that serves it and its replicas.
struct slot_range {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    node_address master;
    std::vector<node_address> replicas;
};

namespace slots_entry {

inline std::optional<node_address> node_of(::hotstate::redis::reply_view entry, std::string_view fallback_host) {
    // [host, port, node-id, (metadata)...]
    if (!entry || !entry.is_array() || entry.size() < 2) return std::nullopt;
    const ::hotstate::redis::reply_view host = entry[0];
    const ::hotstate::redis::reply_view port = entry[1];
    if (!host || !port || !port.is_integer() || port.integer() <= 0 || port.integer() > 65535) return std::nullopt;
    if (!host.is_string() && !host.is_status()) return std::nullopt;
    std::string_view name = host.text();
    // Redis announces an unknown endpoint as "" or "?": reach it where we asked
    if (name.empty() || name == "?") name = fallback_host;
    node_address address;
    address.host = std::string(name);
    address.port = static_cast<std::uint16_t>(port.integer());
    return address;
}

}  // namespace slots_entry

/// The slot ranges of a CLUSTER SLOTS reply; nullopt when the reply is not one.
/// `queried_host` stands in for nodes announced without an endpoint.
[[nodiscard]] inline std::optional<std::vector<slot_range>> parse_cluster_slots(::hotstate::redis::reply_view reply,
                                                                               std::string_view queried_host) {
    if (!reply || !reply.is_array()) return std::nullopt;
    std::vector<slot_range> ranges;
    ranges.reserve(reply.size());
    for (std::size_t i = 0; i < reply.size(); ++i) {
        const ::hotstate::redis::reply_view item = reply[i];
        if (!item || !item.is_array() || item.size() < 3) return std::nullopt;
        const ::hotstate::redis::reply_view first = item[0];
        const ::hotstate::redis::reply_view last = item[1];
        if (!first || !last || !first.is_integer() || !last.is_integer() || first.integer() < 0 ||
            last.integer() < first.integer() || last.integer() >= slot_count)
            return std::nullopt;
        auto master = slots_entry::node_of(item[2], queried_host);
        if (!master) return std::nullopt;
        slot_range range;
        range.first = static_cast<std::uint16_t>(first.integer());
        range.last = static_cast<std::uint16_t>(last.integer());
        range.master = std::move(*master);
        for (std::size_t r = 3; r < item.size(); ++r) {
            auto replica = slots_entry::node_of(item[r], queried_host);
            if (!replica) return std::nullopt;
            range.replicas.push_back(std::move(*replica));
        }
        ranges.push_back(std::move(range));
    }
    return ranges;
}

}  // namespace hotstate::detail::redis::routing
