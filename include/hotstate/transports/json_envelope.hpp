// hotstate/transports/json_envelope.hpp: coordinator messages as JSON documents
// a JSON parser reads alone (needs nlohmann-json: the hotstate::json target).
//
//   using node = hotstate::coordinator<hotstate::transports::json_envelope<hotstate::transports::nats_jetstream>,
//                                      blocks>;
//   node smtp3({.node_id = 3}, hotstate::transports::json_envelope(hotstate::transports::nats_jetstream(nats, js)));
//   // on the wire, the whole message:
//   // {"hotstate":2,"node":3,"incarnation":"13289211231243221504","sequence":1,"first_event":1,
//   //  "events":[{"channel":"address-blocked","tag":1458163270,"event":{"address":"192.0.2.7","minutes":30}}]}
//
// A transport adapter: it wraps any transport and carries the coordinator's
// messages as one JSON object each instead of the binary frame of
// docs/wire-format.md, with the same fields and meaning, so a service in
// another language reads and writes them with its JSON parser alone
// (docs/wire-format.md, "JSON envelope"). The event of a channel whose codec
// writes JSON (json_codec, or a codec declaring `writes_json = true`) is
// embedded as JSON ("event"); any other payload as base64 ("bytes").
// Integers follow json_codec's rule: numbers within +-(2^53 - 1), decimal
// strings beyond (a random incarnation usually is one); readers take either.
//
// Receiving, it reads both envelopes: a JSON document, and a binary frame (a
// node without the adapter). A document that is not a valid envelope is
// counted and reported to on_gap as gap_kind::malformed_message with why (the
// field, the problem). Every node of a bus should use the adapter: a node
// without it cannot read the JSON documents (it reports them as malformed).
//
// The channel names come from the coordinator, which calls
// declare_channel(name, tag, writes_json) for each of its channels before it
// starts; a message with a tag it was not told of carries only the tag.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <hotstate/channel.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::transports {

namespace detail_envelope {

/// Version of the envelope: the binary frame's format version, whose fields it carries.
inline constexpr int envelope_version = ::hotstate::detail::coordinator_wire_version;
inline constexpr std::uint64_t exact_integer = (std::uint64_t{1} << 53) - 1;

/// A number within +-(2^53 - 1) as itself, else its decimal digits (json_codec's rule).
inline void append_integer(std::string& out, std::uint64_t value) {
    if (value > exact_integer) out.push_back('"');
    out += std::to_string(value);
    if (value > exact_integer) out.push_back('"');
}

/// A JSON string of `text` (escaped; `text` is a channel name: UTF-8).
inline void append_string(std::string& out, std::string_view text) {
    out += nlohmann::json(std::string(text)).dump();
}

inline constexpr char base64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, with padding).
inline void append_base64(std::string& out, std::string_view bytes) {
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                       static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) out.push_back(base64_digits[(n >> shift) & 63]);
    }
    if (i < bytes.size()) {
        std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (i + 1 < bytes.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out.push_back(base64_digits[(n >> 18) & 63]);
        out.push_back(base64_digits[(n >> 12) & 63]);
        out.push_back(i + 1 < bytes.size() ? base64_digits[(n >> 6) & 63] : '=');
        out.push_back('=');
    }
}

/// Decodes standard base64 (padding required when the length calls for it); nullopt if it is not.
inline std::optional<std::string> decode_base64(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t n = 0;
        int pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            std::uint32_t v = 0;
            if (c == '=' && i + 4 == text.size() && j >= 2) {
                ++pad;
            } else {
                if (pad > 0) return std::nullopt;
                const char* at = std::char_traits<char>::find(base64_digits, 64, c);
                if (at == nullptr) return std::nullopt;
                v = static_cast<std::uint32_t>(at - base64_digits);
            }
            n = n << 6 | v;
        }
        out.push_back(static_cast<char>(n >> 16 & 0xff));
        if (pad < 2) out.push_back(static_cast<char>(n >> 8 & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    }
    return out;
}

/// A channel the coordinator declared.
struct channel_entry {
    std::uint32_t tag = 0;
    std::string name;
    bool json = false;  ///< its codec writes JSON: the payload is embedded as JSON
};

/// A binary frame of the coordinator (well formed: the coordinator made it) as a JSON envelope.
inline void to_json(std::string_view frame, const std::vector<channel_entry>& channels, std::string& out) {
    ::hotstate::detail::message_header header;
    thread_local std::vector<::hotstate::detail::event_view> events;
    ::hotstate::detail::parse_message(frame, header, events);
    out += "{\"hotstate\":" + std::to_string(envelope_version) + ",\"node\":";
    append_integer(out, header.node);
    out += ",\"incarnation\":";
    append_integer(out, header.incarnation);
    out += ",\"sequence\":";
    append_integer(out, header.sequence);
    out += ",\"first_event\":";
    append_integer(out, header.first_event);
    out += ",\"events\":[";
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (i) out.push_back(',');
        const channel_entry* known = nullptr;
        for (const auto& channel : channels)
            if (channel.tag == events[i].tag) known = &channel;
        out.push_back('{');
        if (known) {
            out += "\"channel\":";
            append_string(out, known->name);
            out.push_back(',');
        }
        out += "\"tag\":" + std::to_string(events[i].tag);
        if (known && known->json && nlohmann::json::accept(events[i].payload)) {
            out += ",\"event\":";
            out += events[i].payload;  // the codec's JSON, as it wrote it
        } else {
            out += ",\"bytes\":\"";
            append_base64(out, events[i].payload);
            out.push_back('"');
        }
        out.push_back('}');
    }
    out += "]}";
}

[[noreturn]] inline void refuse(const std::string& what) {
    throw error(errc::decode, "hotstate json_envelope: " + what);
}

/// A 64-bit unsigned field: a JSON number, or a string of decimal digits.
inline std::uint64_t unsigned_field(const nlohmann::ordered_json& document, const char* name) {
    const auto found = document.find(name);
    if (found == document.end()) refuse("field '" + std::string(name) + "': missing");
    if (found->is_number_unsigned()) return found->get<std::uint64_t>();
    if (found->is_string()) {
        if (const auto value = ::hotstate::detail::parse_decimal<std::uint64_t>(found->get_ref<const std::string&>()))
            return *value;
    }
    refuse("field '" + std::string(name) + "': expected an unsigned integer (a number, or a string of decimal digits)");
}

/// A JSON envelope as the binary frame the coordinator reads. Throws errc::decode naming the fault.
inline void from_json(std::string_view text, std::string& frame) {
    const auto document = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
    if (document.is_discarded()) refuse("not valid JSON");
    if (!document.is_object()) refuse("expected an object");
    const auto version = document.find("hotstate");
    if (version == document.end() || !version->is_number_integer() || version->get<std::int64_t>() != envelope_version)
        refuse("field 'hotstate': expected the envelope version " + std::to_string(envelope_version));
    ::hotstate::detail::message_header header;
    header.node = unsigned_field(document, "node");
    header.incarnation = unsigned_field(document, "incarnation");
    header.sequence = unsigned_field(document, "sequence");
    header.first_event = unsigned_field(document, "first_event");
    const auto events = document.find("events");
    if (events == document.end() || !events->is_array() || events->empty())
        refuse("field 'events': expected a non-empty array");
    if (events->size() > ::hotstate::detail::coordinator_max_events_per_message)
        refuse("field 'events': more than " +
               std::to_string(::hotstate::detail::coordinator_max_events_per_message) + " events");
    header.count = events->size();
    std::string body;
    for (std::size_t i = 0; i < events->size(); ++i) {
        const auto& event = (*events)[i];
        const std::string at = "events[" + std::to_string(i) + "]";
        if (!event.is_object()) refuse(at + ": expected an object");
        std::optional<std::uint32_t> tag;
        if (const auto channel = event.find("channel"); channel != event.end()) {
            if (!channel->is_string()) refuse(at + ".channel: expected a string");
            tag = ::hotstate::detail::fnv1a_32(channel->get_ref<const std::string&>());
        }
        if (const auto number = event.find("tag"); number != event.end()) {
            if (!number->is_number_unsigned() || number->get<std::uint64_t>() > 0xffffffffu)
                refuse(at + ".tag: expected a 32-bit unsigned integer");
            const auto given = static_cast<std::uint32_t>(number->get<std::uint64_t>());
            if (tag && *tag != given) refuse(at + ": tag " + std::to_string(given) + " is not the channel name's");
            tag = given;
        }
        if (!tag) refuse(at + ": names no channel (a 'channel' or a 'tag')");
        const auto json_event = event.find("event");
        const auto bytes = event.find("bytes");
        if ((json_event == event.end()) == (bytes == event.end())) refuse(at + ": needs one of 'event' and 'bytes'");
        if (json_event != event.end()) {
            ::hotstate::detail::append_event(body, *tag, json_event->dump());
        } else {
            if (!bytes->is_string()) refuse(at + ".bytes: expected a base64 string");
            const auto decoded = decode_base64(bytes->get_ref<const std::string&>());
            if (!decoded) refuse(at + ".bytes: not base64 (RFC 4648, padded)");
            ::hotstate::detail::append_event(body, *tag, *decoded);
        }
    }
    frame.clear();
    ::hotstate::detail::encode_message(frame, header, body);
}

}  // namespace detail_envelope

/// Carries the coordinator's messages over `T` as JSON documents (see the banner above).
/// @tparam T the transport that moves the documents (any Transport)
template <Transport T>
class json_envelope {
public:
    /// The wrapped transport's: a durable transport stays durable.
    static constexpr bool durable = T::durable;

    /// Over `inner`.
    explicit json_envelope(T inner) : inner_(std::move(inner)), state_(std::make_unique<shared>()) {}

    json_envelope(json_envelope&&) noexcept = default;
    json_envelope& operator=(json_envelope&&) noexcept = delete;
    /// Stops the wrapped transport before the sink it delivers to goes away.
    ~json_envelope() { stop(); }

    /// Called by the coordinator for each of its channels before it starts: the
    /// documents name the channel, and embed JSON payloads as JSON.
    void declare_channel(std::string_view name, std::uint32_t tag, bool writes_json) {
        state_->channels.push_back({tag, std::string(name), writes_json});
    }

    /// Sends the coordinator's `message` as a JSON document.
    void send(std::string_view message) {
        thread_local std::string document;
        document.clear();
        detail_envelope::to_json(message, state_->channels, document);
        inner_.send(document);
    }

    /// Starts the wrapped transport; documents reach `sink` as the coordinator's frames.
    template <class Sink>
    void start(Sink& sink) {
        state_->sink = std::make_unique<translating<Sink>>(sink);
        inner_.start(*state_->sink);
    }

    /// Stops the wrapped transport.
    void stop() {
        if (state_) inner_.stop();
    }

    /// The wrapped transport (its statistics, its own calls).
    [[nodiscard]] T& inner() noexcept { return inner_; }
    /// The wrapped transport.
    [[nodiscard]] const T& inner() const noexcept { return inner_; }

private:
    /// What the wrapped transport delivers to: turns documents into frames.
    struct sink_base {
        virtual ~sink_base() = default;
        virtual void on_message(std::string_view message) = 0;
        virtual void on_outage(const transport_outage& outage) = 0;
        virtual void on_connection(const connection_event& event) = 0;
    };

    template <class Sink>
    struct translating final : sink_base {
        explicit translating(Sink& s) : sink(s) {}
        void on_message(std::string_view message) override {
            if (!message.empty() && static_cast<std::uint8_t>(message.front()) == ::hotstate::detail::coordinator_magic) {
                sink.on_message(message);  // a binary frame (a node without the adapter)
                return;
            }
            try {
                detail_envelope::from_json(message, frame);
            } catch (const error& problem) {
                if constexpr (requires { sink.on_malformed(message.size(), std::string_view{}); })
                    sink.on_malformed(message.size(), problem.message());
                else
                    sink.on_message(message);  // counted as malformed by whoever reads it
                return;
            }
            sink.on_message(frame);
        }
        void on_outage(const transport_outage& outage) override { sink.on_outage(outage); }
        void on_connection(const connection_event& event) override { sink.on_connection(event); }
        Sink& sink;
        std::string frame;  // reused: the receive thread's only
    };

    struct shared {
        std::vector<detail_envelope::channel_entry> channels;
        std::unique_ptr<sink_base> sink;
    };

    T inner_;
    std::unique_ptr<shared> state_;
};

}  // namespace hotstate::transports
