// hotstate/detail/redis/proto/sha1.hpp: SHA-1 at compile time, for EVALSHA.
//
// Redis names a loaded script by the SHA-1 of its text; computing it at
// compile time means every EVALSHA sends a constant and no client ever needs a
// SCRIPT LOAD round trip just to learn the name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hotstate::detail::redis {

constexpr std::uint32_t rotl32(std::uint32_t value, int bits) noexcept {
    return (value << bits) | (value >> (32 - bits));
}

/// The lowercase hex SHA-1 digest of `text` (as Redis prints script names).
constexpr std::array<char, 40> sha1_hex(std::string_view text) noexcept {
    std::uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    const std::uint64_t bit_length = static_cast<std::uint64_t>(text.size()) * 8u;
    const std::size_t padded = ((text.size() + 8) / 64 + 1) * 64;
    const auto byte_at = [&](std::size_t i) -> std::uint8_t {
        if (i < text.size()) return static_cast<std::uint8_t>(text[i]);
        if (i == text.size()) return 0x80;
        if (i >= padded - 8) return static_cast<std::uint8_t>(bit_length >> ((padded - 1 - i) * 8));
        return 0;
    };
    for (std::size_t block = 0; block < padded; block += 64) {
        std::uint32_t w[80] = {};
        for (std::size_t t = 0; t < 16; ++t) {
            w[t] = static_cast<std::uint32_t>(byte_at(block + t * 4)) << 24 |
                   static_cast<std::uint32_t>(byte_at(block + t * 4 + 1)) << 16 |
                   static_cast<std::uint32_t>(byte_at(block + t * 4 + 2)) << 8 |
                   static_cast<std::uint32_t>(byte_at(block + t * 4 + 3));
        }
        for (std::size_t t = 16; t < 80; ++t) w[t] = rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (std::size_t t = 0; t < 80; ++t) {
            std::uint32_t f = 0, k = 0;
            if (t < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (t < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            const std::uint32_t next = rotl32(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = rotl32(b, 30);
            b = a;
            a = next;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    constexpr char digits[] = "0123456789abcdef";
    std::array<char, 40> out{};
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 8; ++j) out[i * 8 + j] = digits[(h[i] >> (28 - 4 * j)) & 0xF];
    return out;
}

static_assert(std::string_view(sha1_hex("abc").data(), 40) == "a9993e364706816aba3e25717850c26c9cd0d89d");
static_assert(std::string_view(sha1_hex("").data(), 40) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");

}  // namespace hotstate::detail::redis
