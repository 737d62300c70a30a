// hotstate/detail/redis/routing/slots_reply.hpp: the CLUSTER SLOTS reply, turned into
// slot ranges. Works on a parsed hiredis reply tree, so tests feed it bytes
// through hiredis' own reader without any server.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/routing/slot_map.hpp>

namespace hotstate::detail::redis::routing {

namespace slots_entry {

inline std::optional<node_address> node_of(const redisReply* entry, std::string_view fallback_host) {
    // [host, port, node-id, (metadata)...]
    if (entry == nullptr || entry->type != REDIS_REPLY_ARRAY || entry->elements < 2) return std::nullopt;
    const redisReply* host = entry->element[0];
    const redisReply* port = entry->element[1];
    if (host == nullptr || port == nullptr || port->type != REDIS_REPLY_INTEGER || port->integer <= 0 ||
        port->integer > 65535)
        return std::nullopt;
    if (host->type != REDIS_REPLY_STRING && host->type != REDIS_REPLY_STATUS) return std::nullopt;
    std::string_view name(host->str, host->len);
    // Redis announces an unknown endpoint as "" or "?": reach it where we asked
    if (name.empty() || name == "?") name = fallback_host;
    node_address address;
    address.host = std::string(name);
    address.port = static_cast<std::uint16_t>(port->integer);
    return address;
}

}  // namespace slots_entry

/// The slot ranges of a CLUSTER SLOTS reply; nullopt when the reply is not one.
/// `queried_host` stands in for nodes announced without an endpoint.
[[nodiscard]] inline std::optional<std::vector<slot_range>> parse_cluster_slots(const redisReply* reply,
                                                                               std::string_view queried_host) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return std::nullopt;
    std::vector<slot_range> ranges;
    ranges.reserve(reply->elements);
    for (std::size_t i = 0; i < reply->elements; ++i) {
        const redisReply* item = reply->element[i];
        if (item == nullptr || item->type != REDIS_REPLY_ARRAY || item->elements < 3) return std::nullopt;
        const redisReply* first = item->element[0];
        const redisReply* last = item->element[1];
        if (first->type != REDIS_REPLY_INTEGER || last->type != REDIS_REPLY_INTEGER || first->integer < 0 ||
            last->integer < first->integer || last->integer >= slot_count)
            return std::nullopt;
        auto master = slots_entry::node_of(item->element[2], queried_host);
        if (!master) return std::nullopt;
        slot_range range;
        range.first = static_cast<std::uint16_t>(first->integer);
        range.last = static_cast<std::uint16_t>(last->integer);
        range.master = std::move(*master);
        for (std::size_t r = 3; r < item->elements; ++r) {
            auto replica = slots_entry::node_of(item->element[r], queried_host);
            if (!replica) return std::nullopt;
            range.replicas.push_back(std::move(*replica));
        }
        ranges.push_back(std::move(range));
    }
    return ranges;
}

}  // namespace hotstate::detail::redis::routing
