// hotstate/detail/redis/proto/slot.hpp: Redis Cluster key slots, as pure constexpr functions.
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

namespace hotstate::detail::redis::routing {

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

namespace crc16_slicing {

/// The state after feeding one byte `x` and then `zeros` zero bytes, from 0:
/// CRC16 is linear over xor, so n bytes fold into n table lookups
/// ("slicing by n"): the 16-bit state enters through the first two bytes.
constexpr std::array<std::uint16_t, 256> shifted_table(int zeros) {
    std::array<std::uint16_t, 256> table = crc16_table;
    for (int z = 0; z < zeros; ++z)
        for (auto& t : table)
            t = static_cast<std::uint16_t>(((static_cast<unsigned>(t) << 8) & 0xffffu) ^ crc16_table[t >> 8]);
    return table;
}

inline constexpr std::array<std::uint16_t, 256> t1 = shifted_table(1);
inline constexpr std::array<std::uint16_t, 256> t2 = shifted_table(2);
inline constexpr std::array<std::uint16_t, 256> t3 = shifted_table(3);

constexpr std::uint32_t step1(std::uint32_t crc, std::uint8_t b) noexcept {
    return ((crc << 8) & 0xffffu) ^ crc16_table[(crc >> 8) ^ b];
}

constexpr std::uint32_t step4(std::uint32_t crc, std::uint8_t b0, std::uint8_t b1, std::uint8_t b2,
                              std::uint8_t b3) noexcept {
    return static_cast<std::uint32_t>(t3[(crc >> 8) ^ b0] ^ t2[(crc & 0xffu) ^ b1] ^ t1[b2] ^ crc16_table[b3]);
}

}  // namespace crc16_slicing

/// CRC16-XMODEM of `bytes`, the checksum Redis Cluster hashes keys with.
[[nodiscard]] constexpr std::uint16_t crc16(std::string_view bytes) noexcept {
    std::uint32_t crc = 0;
    std::size_t i = 0;
    const auto at = [&](std::size_t k) { return static_cast<std::uint8_t>(bytes[k]); };
    for (; i + 4 <= bytes.size(); i += 4) crc = crc16_slicing::step4(crc, at(i), at(i + 1), at(i + 2), at(i + 3));
    for (; i < bytes.size(); ++i) crc = crc16_slicing::step1(crc, at(i));
    return static_cast<std::uint16_t>(crc);
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

/// The hash slot of `key` (CLUSTER KEYSLOT key). One pass: the CRC of the
/// whole key runs four bytes at a time while looking for a '{', and only a key
/// that has one goes through hashed_part (every key of a hash_tagged category
/// does; a plain key pays no separate scan).
[[nodiscard]] constexpr std::uint16_t key_slot(std::string_view key) noexcept {
    constexpr std::uint16_t mask = slot_count - 1;
    std::uint32_t crc = 0;
    std::size_t i = 0;
    const std::size_t n = key.size();
    const auto at = [&](std::size_t k) { return static_cast<std::uint8_t>(key[k]); };
    for (; i + 4 <= n; i += 4) {
        const std::uint8_t b0 = at(i), b1 = at(i + 1), b2 = at(i + 2), b3 = at(i + 3);
        if ((b0 == '{') | (b1 == '{') | (b2 == '{') | (b3 == '{')) [[unlikely]]
            return static_cast<std::uint16_t>(crc16(hashed_part(key)) & mask);
        crc = crc16_slicing::step4(crc, b0, b1, b2, b3);
    }
    for (; i < n; ++i) {
        const std::uint8_t b = at(i);
        if (b == '{') [[unlikely]]
            return static_cast<std::uint16_t>(crc16(hashed_part(key)) & mask);
        crc = crc16_slicing::step1(crc, b);
    }
    return static_cast<std::uint16_t>(crc & mask);
}

static_assert(crc16("123456789") == 0x31c3, "CRC16-XMODEM check value from the Redis Cluster specification");

}  // namespace hotstate::detail::redis::routing
