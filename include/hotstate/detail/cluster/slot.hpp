// hotstate/detail/cluster/slot.hpp: Redis Cluster key slots, as pure constexpr functions.
//
// slot = CRC16-XMODEM(hashed part) mod 16384, where the hashed part is the text
// between the first '{' and the first '}' after it when that text is non-empty,
// and the whole key otherwise (the Redis Cluster specification's rules, binary
// keys included). key_layout::hash_tagged keys (`{P K}`) therefore keep a key and
// every companion of it in one slot.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hotstate::detail::cluster {

/// Number of hash slots of a Redis Cluster.
inline constexpr std::uint16_t slot_count = 16384;

/// The CRC16 table (polynomial 0x1021, XMODEM), built at compile time.
inline constexpr std::array<std::uint16_t, 256> crc16_table = [] {
    std::array<std::uint16_t, 256> table{};
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
        std::uint32_t crc = byte << 8;
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) : (crc << 1);
        table[byte] = static_cast<std::uint16_t>(crc & 0xffffu);
    }
    return table;
}();

/// CRC16-XMODEM of `bytes`, the checksum Redis Cluster hashes keys with.
[[nodiscard]] constexpr std::uint16_t crc16(std::string_view bytes) noexcept {
    std::uint16_t crc = 0;
    for (const char c : bytes) {
        const auto byte = static_cast<std::uint8_t>(c);
        crc = static_cast<std::uint16_t>((crc << 8) ^ crc16_table[((crc >> 8) ^ byte) & 0xffu]);
    }
    return crc;
}

/// The part of `key` that decides its slot: the non-empty text of the first
/// `{...}` hash tag, or the whole key.
[[nodiscard]] constexpr std::string_view hashed_part(std::string_view key) noexcept {
    const auto open = key.find('{');
    if (open == std::string_view::npos) return key;
    const auto close = key.find('}', open + 1);
    if (close == std::string_view::npos || close == open + 1) return key;
    return key.substr(open + 1, close - open - 1);
}

/// The hash slot of `key` (CLUSTER KEYSLOT key).
[[nodiscard]] constexpr std::uint16_t key_slot(std::string_view key) noexcept {
    return static_cast<std::uint16_t>(crc16(hashed_part(key)) & (slot_count - 1));
}

static_assert(crc16("123456789") == 0x31c3, "CRC16-XMODEM check value from the Redis Cluster specification");

}  // namespace hotstate::detail::cluster
