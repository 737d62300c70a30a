#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <thread>

namespace hotstate::detail {

/// 128 random bits as 32 hex characters: a lock owner token. Each thread keeps
/// its own generator, seeded once from std::random_device.
inline std::string random_token() {
    thread_local std::mt19937_64 generator = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(),
                           static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id()))};
        return std::mt19937_64(seed);
    }();
    static constexpr char digits[] = "0123456789abcdef";
    std::string token(32, '0');
    for (int half = 0; half < 2; ++half) {
        std::uint64_t bits = generator();
        for (int i = 0; i < 16; ++i, bits >>= 4) token[static_cast<std::size_t>(half * 16 + i)] = digits[bits & 0xf];
    }
    return token;
}

}  // namespace hotstate::detail
