// What redis_streams reads out of XINFO STREAM and XREAD replies, apart from
// the socket: the transport sends the commands, these walk the hiredis reply
// trees and skip whatever does not have the expected shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <hiredis/hiredis.h>

#include <hotstate/detail/coordinator/stream_id.hpp>

namespace hotstate::detail {

/// The ids and counts of an `XINFO STREAM` reply (zeros when it is not an array).
[[nodiscard]] inline stream_state parse_stream_info(const redisReply* raw) {
    stream_state info;
    if (raw == nullptr || raw->type != REDIS_REPLY_ARRAY) return info;
    for (std::size_t i = 0; i + 1 < raw->elements; i += 2) {
        const redisReply* key = raw->element[i];
        const redisReply* value = raw->element[i + 1];
        if (key->type != REDIS_REPLY_STRING && key->type != REDIS_REPLY_STATUS) continue;
        const std::string_view name(key->str, key->len);
        if (name == "first-entry" && value->type == REDIS_REPLY_ARRAY && value->elements >= 1 &&
            value->element[0]->type == REDIS_REPLY_STRING) {
            info.first_entry = stream_id::parse(std::string_view(value->element[0]->str, value->element[0]->len));
            continue;
        }
        if (value->type == REDIS_REPLY_INTEGER) {
            if (name == "length") info.length = static_cast<std::uint64_t>(value->integer);
            else if (name == "entries-added") info.entries_added = static_cast<std::uint64_t>(value->integer);
            continue;
        }
        if (value->type != REDIS_REPLY_STRING && value->type != REDIS_REPLY_STATUS) continue;
        const auto id = stream_id::parse(std::string_view(value->str, value->len));
        if (!id) continue;
        if (name == "last-generated-id") info.last_generated = *id;
        else if (name == "max-deleted-entry-id") info.max_deleted = *id;
    }
    return info;
}

/// Calls `entry(stream_id, std::string_view payload)` for each entry of a
/// one-stream `XREAD` reply, in order: the payload is the `d` field (empty when
/// the entry has none, so the coordinator counts it as malformed); entries
/// without a valid id are skipped. Returns the number of entries in the reply
/// (0 for nil: the block ran out).
template <class Entry>
std::size_t for_each_stream_entry(const redisReply* raw, Entry&& entry) {
    if (raw == nullptr || raw->type != REDIS_REPLY_ARRAY || raw->elements == 0) return 0;
    const redisReply* stream = raw->element[0];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) return 0;
    const redisReply* entries = stream->element[1];
    if (entries->type != REDIS_REPLY_ARRAY) return 0;
    for (std::size_t i = 0; i < entries->elements; ++i) {
        const redisReply* item = entries->element[i];
        if (item->type != REDIS_REPLY_ARRAY || item->elements != 2 || item->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const auto id = stream_id::parse(std::string_view(item->element[0]->str, item->element[0]->len));
        if (!id) continue;
        std::string_view payload;
        const redisReply* fields = item->element[1];
        if (fields->type == REDIS_REPLY_ARRAY)
            for (std::size_t f = 0; f + 1 < fields->elements; f += 2)
                if (fields->element[f]->type == REDIS_REPLY_STRING &&
                    std::string_view(fields->element[f]->str, fields->element[f]->len) == "d" &&
                    fields->element[f + 1]->type == REDIS_REPLY_STRING) {
                    payload = std::string_view(fields->element[f + 1]->str, fields->element[f + 1]->len);
                    break;
                }
        entry(*id, payload);
    }
    return entries->elements;
}

}  // namespace hotstate::detail
