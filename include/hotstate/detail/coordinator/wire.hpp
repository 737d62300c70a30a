// The coordinator's message format, as pure functions.
//
//   message := magic(0xC7) version(2) node:varint incarnation:varint
//              sequence:varint first_event:varint count:varint event{count}
//   event   := tag:u32 little endian   (FNV-1a of the channel name)
//              payload:varint length ++ bytes   (struct_wire of the event)
//
// One message is one batch of events from one publisher. `incarnation` is a
// random number drawn when a coordinator starts, so a restarted node's
// sequence numbers (which start again at 1) are not mistaken for duplicates.
// `first_event` numbers the message's first event in the same incarnation
// (events 1, 2, 3... across messages), so a receiver that misses messages
// knows how many events they held, not only how many messages.
// Version 1 had no first_event; a version 2 receiver refuses it.
// Parsing validates the whole frame before anything is delivered; a payload
// is decoded only when a handler wants it, so a bad payload costs one event,
// a bad frame one message, never the receiving thread.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/detail/base/wire.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail {

/// First byte of every coordinator message: foreign traffic is refused at once.
inline constexpr std::uint8_t coordinator_magic = 0xC7;
/// Format version; a receiver refuses versions it does not know.
inline constexpr std::uint8_t coordinator_wire_version = 2;
/// Upper bound a receiver accepts for the events of one message, whatever the sender says.
inline constexpr std::uint64_t coordinator_max_events_per_message = 65536;

/// Who sent a message and where it sits in that sender's sequence.
struct message_header {
    std::uint64_t node = 0;         ///< publishing node id
    std::uint64_t incarnation = 0;  ///< random per coordinator start
    std::uint64_t sequence = 0;     ///< 1, 2, 3... per incarnation, one per message
    std::uint64_t count = 0;        ///< events in the message
    std::uint64_t first_event = 0;  ///< number of its first event: 1, then previous first_event + count...
};

/// One event of a parsed message; the payload still points into the message.
struct event_view {
    std::uint32_t tag = 0;
    std::string_view payload;
};

/// Appends one event (tag + length-prefixed payload) to a batch body.
inline void append_event(std::string& body, std::uint32_t tag, std::string_view payload) {
    put_fixed_le(body, tag);
    put_bytes(body, payload);
}

/// Writes a complete message: header, then the `body` made by append_event.
inline void encode_message(std::string& out, const message_header& header, std::string_view body) {
    out.push_back(static_cast<char>(coordinator_magic));
    out.push_back(static_cast<char>(coordinator_wire_version));
    put_varint(out, header.node);
    put_varint(out, header.incarnation);
    put_varint(out, header.sequence);
    put_varint(out, header.first_event);
    put_varint(out, header.count);
    out.append(body);
}

/// Parses and validates a whole message. Fills `header` and replaces the
/// contents of `events` (reused by the caller to avoid allocating per message).
/// Throws hotstate::error(errc::decode) naming the fault and byte offset.
inline void parse_message(std::string_view message, message_header& header, std::vector<event_view>& events) {
    events.clear();
    wire_reader in(message, "coordinator message");
    if (in.byte() != coordinator_magic) in.fail("not a hotstate coordinator message (bad magic byte)");
    if (const auto version = in.byte(); version != coordinator_wire_version)
        in.fail("unsupported format version " + std::to_string(version));
    header.node = in.varint();
    header.incarnation = in.varint();
    header.sequence = in.varint();
    header.first_event = in.varint();
    header.count = in.varint();
    if (header.sequence == 0) in.fail("sequence number 0");
    if (header.first_event == 0) in.fail("event number 0");
    if (header.count == 0) in.fail("empty batch");
    // an event takes at least five bytes (tag + length): refuse counts garbage made up
    if (header.count > coordinator_max_events_per_message || header.count > in.remaining() / 5)
        in.fail("event count " + std::to_string(header.count) + " exceeds what the message can hold");
    if (header.first_event > std::numeric_limits<std::uint64_t>::max() - header.count) in.fail("event numbers overflow");
    events.reserve(static_cast<std::size_t>(header.count));
    for (std::uint64_t i = 0; i < header.count; ++i) {
        event_view event;
        event.tag = in.fixed_le<std::uint32_t>();
        event.payload = in.bytes();
        events.push_back(event);
    }
    in.expect_end();
}

}  // namespace hotstate::detail
