// hotstate/detail/redis/proto/stream_commands.hpp: the commands of the coordinator's
// Redis transports (pub/sub, Streams) as values, beside the store's
// (detail/redis/proto/commands.hpp): the transports send them through the one
// exchange like every other request, and read their replies through
// reply_view. What their replies mean lives here too, without I/O:
// XINFO STREAM's ids and counts, XREAD's entries, a subscriber's messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <hotstate/detail/redis/proto/stream_id.hpp>
#include <hotstate/fixed_string.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/redis/reply.hpp>

namespace hotstate::detail::redis::commands {

/// An integer reply (PUBLISH's receiver count, WAIT's replicas).
[[nodiscard]] inline std::int64_t integer(reply_context where, std::string_view command, reply_view r) {
    if (!r.is_integer()) [[unlikely]]
        unexpected(where, command, r);
    return r.integer();
}

/// PUBLISH / SPUBLISH channel message: how many subscribers got it. Not
/// idempotent: a repeat delivers the message twice (receivers drop it by its
/// sequence number, but the send is the transport's to repeat).
template <::hotstate::fixed_string Name>
using publish_to = key_command<Name, false, integer, 1>;

/// SUBSCRIBE / SSUBSCRIBE channel: the confirmation (an array), read as "the
/// server took it"; the messages that follow are a subscriber's to read.
template <::hotstate::fixed_string Name>
struct subscribe_to : command_base<subscribe_to<Name>> {
    using result_type = bool;
    static constexpr std::string_view name = Name.view();
    static constexpr bool idempotent = true;
    std::string_view key;  ///< the channel
    explicit subscribe_to(std::string_view channel) noexcept : key(channel) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array()) [[unlikely]]
            unexpected(where, name, r);
        return true;
    }
};

/// XADD stream MAXLEN ~ max_length * d message: true (an id came back; the
/// transport has no use for it). Not idempotent: a repeat adds a second entry.
struct xadd : command_base<xadd> {
    using result_type = bool;
    static constexpr std::string_view name = "XADD";
    static constexpr bool idempotent = false;
    std::string_view key;  ///< the stream
    std::string_view message;
    std::uint64_t max_length;
    xadd(std::string_view stream, std::string_view payload, std::uint64_t trim_to) noexcept
        : key(stream), message(payload), max_length(trim_to) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        const ::hotstate::redis::int_arg length(max_length);
        return pass_args(f, name, key, std::string_view("MAXLEN"), std::string_view("~"), length.view(),
                         std::string_view("*"), std::string_view("d"), message);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_string()) [[unlikely]]
            unexpected(where, name, r);
        return true;
    }
};

/// The ids and counts of an `XINFO STREAM` reply (zeros when it is not a map).
[[nodiscard]] inline stream_state read_stream_info(reply_view r) {
    stream_state info;
    if (!r || !r.is_array()) return info;
    for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
        const reply_view key = r[i], value = r[i + 1];
        if (!key.is_string() && !key.is_status()) continue;
        const std::string_view field = key.text();
        if (field == "first-entry" && value.is_array() && value.size() >= 1 && value[0].is_string()) {
            info.first_entry = stream_id::parse(value[0].text());
            continue;
        }
        if (value.is_integer()) {
            if (field == "length") info.length = static_cast<std::uint64_t>(value.integer());
            else if (field == "entries-added") info.entries_added = static_cast<std::uint64_t>(value.integer());
            continue;
        }
        if (!value.is_string() && !value.is_status()) continue;
        const auto id = stream_id::parse(value.text());
        if (!id) continue;
        if (field == "last-generated-id") info.last_generated = *id;
        else if (field == "max-deleted-entry-id") info.max_deleted = *id;
    }
    return info;
}

/// XINFO STREAM stream: its ids and counts; a stream that does not exist
/// ("no such key") reads as zeros.
struct xinfo_stream : command_base<xinfo_stream> {
    using result_type = stream_state;
    static constexpr std::string_view name = "XINFO STREAM";
    static constexpr bool idempotent = true;
    std::string_view key;  ///< the stream
    explicit xinfo_stream(std::string_view stream) noexcept : key(stream) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, std::string_view("XINFO"), std::string_view("STREAM"), key);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (r.is_error() && r.text().find("no such key") != std::string_view::npos) return {};
        if (!r.is_array()) [[unlikely]]
            unexpected(where, name, r);
        return read_stream_info(r);
    }
};

/// XRANGE stream id id COUNT 1: whether the entry `id` exists.
struct xrange_one : command_base<xrange_one> {
    using result_type = bool;
    static constexpr std::string_view name = "XRANGE";
    static constexpr bool idempotent = true;
    std::string_view key;  ///< the stream
    std::string_view id;
    xrange_one(std::string_view stream, std::string_view entry) noexcept : key(stream), id(entry) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key, id, id, std::string_view("COUNT"), std::string_view("1"));
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array()) [[unlikely]]
            unexpected(where, name, r);
        return r.size() > 0;
    }
};

/// XREAD COUNT count BLOCK block_ms STREAMS stream from: the reply in place
/// (nil when the block ran out); for_each_stream_entry walks it.
struct xread : command_base<xread> {
    using result_type = reply_view;
    static constexpr std::string_view name = "XREAD";
    static constexpr bool idempotent = true;
    std::string_view key;  ///< the stream
    std::string_view from;
    std::uint64_t count, block_ms;
    xread(std::string_view stream, std::string_view after, std::uint64_t at_most, std::uint64_t block) noexcept
        : key(stream), from(after), count(at_most), block_ms(block) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        const ::hotstate::redis::int_arg n(count), block(block_ms);
        return pass_args(f, name, std::string_view("COUNT"), n.view(), std::string_view("BLOCK"), block.view(),
                         std::string_view("STREAMS"), key, from);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() && !r.is_nil()) [[unlikely]]
            unexpected(where, name, r);
        return r;
    }
};

/// Calls `entry(stream_id, std::string_view payload)` for each entry of a
/// one-stream `XREAD` reply, in order: the payload is the `d` field (empty when
/// the entry has none, so the coordinator counts it as malformed); entries
/// without a valid id are skipped. Returns the number of entries in the reply
/// (0 for nil: the block ran out).
template <class Entry>
std::size_t for_each_stream_entry(reply_view r, Entry&& entry) {
    if (!r || !r.is_array() || r.size() == 0) return 0;
    const reply_view stream = r[0];
    if (!stream.is_array() || stream.size() != 2) return 0;
    const reply_view entries = stream[1];
    if (!entries.is_array()) return 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const reply_view item = entries[i];
        if (!item.is_array() || item.size() != 2 || !item[0].is_string()) continue;
        const auto id = stream_id::parse(item[0].text());
        if (!id) continue;
        std::string_view payload;
        const reply_view fields = item[1];
        if (fields.is_array())
            for (std::size_t f = 0; f + 1 < fields.size(); f += 2)
                if (fields[f].is_string() && fields[f].text() == "d" && fields[f + 1].is_string()) {
                    payload = fields[f + 1].text();
                    break;
                }
        entry(*id, payload);
    }
    return entries.size();
}

/// What a subscriber reads: a message of its channel (its payload), a
/// health-check PONG, the server ending the subscription, or something else.
struct subscriber_reply {
    enum class kind : std::uint8_t { message, pong, ended, other };
    kind what = kind::other;
    std::string_view payload;  ///< kind::message: the message, in place
};

/// Reads `r`, a reply on a subscribed connection: [`message_word`, channel,
/// payload], ["pong", ""], [`ended_word`, ...], or anything else.
[[nodiscard]] inline subscriber_reply read_subscriber_reply(reply_view r, std::string_view message_word,
                                                            std::string_view ended_word) {
    if (!r || !r.is_array() || r.size() < 2 || !r[0].is_string()) return {};
    const std::string_view word = r[0].text();
    if (word == message_word && r.size() == 3 && r[2].is_string()) return {subscriber_reply::kind::message, r[2].text()};
    if (word == "pong") return {subscriber_reply::kind::pong, {}};
    if (word == ended_word) return {subscriber_reply::kind::ended, {}};
    return {};
}

static_assert(Command<publish_to<"PUBLISH">> && Command<subscribe_to<"SUBSCRIBE">> && Command<xadd> &&
              Command<xinfo_stream> && Command<xrange_one> && Command<xread>);

}  // namespace hotstate::detail::redis::commands
