#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <hotstate/detail/base/entropy.hpp>

namespace hotstate::detail {

/// A per-process random seed, so that which keys collide cannot be predicted
/// from outside (keys are often attacker-chosen: IPs, addresses, tokens).
inline std::uint64_t process_hash_seed() noexcept {
    static const std::uint64_t seed = random_seed() ^ 0x243f6a8885a308d3ULL;
    return seed;
}

__extension__ using uint128 = unsigned __int128;  // g++ and clang++ on 64-bit targets

inline std::uint64_t hash_mix(std::uint64_t a, std::uint64_t b) noexcept {
    const uint128 product = static_cast<uint128>(a) * b;
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

inline std::uint64_t load_le64(const char* p) noexcept {
    std::uint64_t value;
    std::memcpy(&value, p, 8);
    if constexpr (std::endian::native == std::endian::big) value = __builtin_bswap64(value);
    return value;
}

/// A fast seeded hash for short keys: 8 bytes per multiply-fold step (the
/// construction of wyhash-style hashes), a few instructions for a typical key
/// where std::hash costs a hundred.
///
/// Its loads follow the pattern key_buffer stores with (whole 8-byte chunks
/// from the start, then single bytes), so hashing a key that was just built on
/// the stack never waits on a failed store-to-load forward.
inline std::uint64_t fast_hash(std::string_view text, std::uint64_t seed) noexcept {
    constexpr std::uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL, k2 = 0x8ebc6af09c88c6e3ULL;
    const char* p = text.data();
    std::size_t n = text.size();
    std::uint64_t h = seed ^ hash_mix(seed ^ k0, n ^ k1);
    while (n >= 16) {
        h = hash_mix(load_le64(p) ^ k1, load_le64(p + 8) ^ h);
        p += 16;
        n -= 16;
    }
    std::uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = load_le64(p);
        p += 8;
        n -= 8;
    }
    for (std::size_t i = 0; i < n; ++i) b |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    return hash_mix(k2 ^ text.size(), hash_mix(a ^ k1, b ^ h));
}

/// Copies `size` bytes in whole 8-byte chunks, then single bytes: the store
/// pattern fast_hash and equal_chunked load with.
inline void copy_chunked(char* out, const char* in, std::size_t size) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) std::memcpy(out + i, in + i, 8);
    for (; i < size; ++i) out[i] = in[i];
}

/// Byte equality of two ranges of `size` bytes, loading as copy_chunked stores.
inline bool equal_chunked(const char* a, const char* b, std::size_t size) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t x, y;
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        if (x != y) return false;
    }
    for (; i < size; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

}  // namespace hotstate::detail
