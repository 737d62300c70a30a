#pragma once

#include <cstdint>
#include <string>

#include <hotstate/detail/base/entropy.hpp>

namespace hotstate::detail {

/// 128 random bits as 32 hex characters: a lock owner token. Each thread keeps
/// its own generator, seeded once from the kernel (detail/base/entropy.hpp), so
/// tokens of different threads and processes do not repeat.
inline std::string random_token() {
    thread_local random_bits generator;
    static constexpr char digits[] = "0123456789abcdef";
    std::string token(32, '0');
    for (int half = 0; half < 2; ++half) {
        std::uint64_t bits = generator();
        for (int i = 0; i < 16; ++i, bits >>= 4) token[static_cast<std::size_t>(half * 16 + i)] = digits[bits & 0xf];
    }
    return token;
}

}  // namespace hotstate::detail
