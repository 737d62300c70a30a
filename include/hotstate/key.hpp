// hotstate/key.hpp: key encoding, as pure functions.
//
// Default (key_layout::plain) layout, byte-compatible with the seeds' system:
//   key            = prefix byte ++ key bytes
//   window bucket  = prefix byte ++ key bytes ++ big-endian u64 window index
//   lookup         = prefix byte ++ namespace bytes
// key_layout::hash_tagged wraps `prefix ++ key` in `{...}` so that a key and
// any companion (bucket suffix) share one Redis Cluster slot.
// Keys are binary safe: NUL bytes and any other byte value are allowed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <hotstate/category.hpp>
#include <hotstate/detail/base/key_buffer.hpp>

namespace hotstate {

/// The encoded key: prefix byte ++ key (or `{prefix ++ key}` when hash-tagged).
[[nodiscard]] inline std::string encode_key(std::uint8_t id, key_layout layout, std::string_view key) {
    return detail::key_buffer(id, layout, key).str();
}

/// The fixed-window bucket key: encoded key ++ big-endian u64 window index.
[[nodiscard]] inline std::string encode_window_bucket(std::uint8_t id, key_layout layout, std::string_view key,
                                                      std::uint64_t window) {
    return detail::key_buffer(id, layout, key, window).str();
}

/// The prefix shared by every key of a category whose key starts with `key_prefix`;
/// what delete-by-category matches.
[[nodiscard]] inline std::string encode_key_prefix(std::uint8_t id, key_layout layout, std::string_view key_prefix) {
    std::string out;
    out.reserve(key_prefix.size() + 2);
    if (layout == key_layout::hash_tagged) out.push_back('{');
    out.push_back(static_cast<char>(id));
    out.append(key_prefix);
    return out;
}

/// Typed front ends: the category supplies id and layout.
template <KeyCategory C>
[[nodiscard]] std::string encode_key(std::string_view key) {
    return encode_key(C::id, C::layout, key);
}
template <KeyCategory C>
[[nodiscard]] std::string encode_window_bucket(std::string_view key, std::uint64_t window) {
    return encode_window_bucket(C::id, C::layout, key, window);
}
template <KeyCategory C>
[[nodiscard]] std::string encode_key_prefix(std::string_view key_prefix = {}) {
    return encode_key_prefix(C::id, C::layout, key_prefix);
}

}  // namespace hotstate
