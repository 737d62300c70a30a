// hotstate/detail/base/text.hpp: the number and address texts every tier reads
// and writes, parsed and formatted in one place.
//
//   parse_decimal<std::uint64_t>("42")   -> 42      (the whole text, nothing else)
//   parse_host_port("[::1]:7000")        -> {"::1", 7000}
//   parse_host_port("::1:7000")          -> {"::1", 7000}  (the last colon: CLUSTER NODES, MOVED)
//   format_host_port("::1", 7000)        -> "[::1]:7000"
//
// Pure functions without I/O and without error text: each caller keeps its
// own message (a configuration error, a malformed reply), so the same parse
// serves a JSON loader and a protocol reader.
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace hotstate::detail {

/// `text` as a decimal integer of type T: every byte a digit (a leading '-'
/// for a signed T), in range; nothing else (no sign '+', no spaces, not empty).
template <std::integral T>
[[nodiscard]] inline std::optional<T> parse_decimal(std::string_view text) noexcept {
    T value{};
    if (text.empty()) return std::nullopt;
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
    if (parsed.ec != std::errc{} || parsed.ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

/// A host and a port, the host viewed in the text it was parsed from.
struct host_port {
    std::string_view host;  ///< without IPv6 brackets; may be empty (Redis 7's "unknown endpoint")
    std::uint16_t port = 0;
    bool operator==(const host_port&) const = default;
};

/// "host:port", "[v6]:port" or "v6:port" (the port after the last colon);
/// the port must be 1..65535. nullopt for anything else. An empty host is
/// returned as such: whether it is allowed is the caller's to say.
[[nodiscard]] inline std::optional<host_port> parse_host_port(std::string_view text) noexcept {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const auto port = parse_decimal<std::uint32_t>(text.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) return std::nullopt;
    return host_port{host, static_cast<std::uint16_t>(*port)};
}

/// "host:port", with brackets around an IPv6 literal (a host with a colon).
[[nodiscard]] inline std::string format_host_port(std::string_view host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string_view::npos;
    std::string text;
    text.reserve(host.size() + 8);
    if (v6) text.push_back('[');
    text.append(host);
    if (v6) text.push_back(']');
    text.push_back(':');
    text.append(std::to_string(port));
    return text;
}

}  // namespace hotstate::detail
