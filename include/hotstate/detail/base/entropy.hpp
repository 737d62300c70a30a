// hotstate/detail/base/entropy.hpp: random seeds without <random> or <thread>.
//
// The light headers (store.hpp through detail/base/token.hpp, the embedded
// backend's hash seed) need a few unpredictable bits once per process or per
// thread. <random> and <thread> cost about 0.9 s of parsing each in every
// translation unit that uses a store, for std::random_device and a thread id;
// getentropy(3) (glibc >= 2.25, macOS, the BSDs) gives the same bits from the
// kernel's generator, and a xoshiro256** generator does the rest.
#pragma once

#include <cstdint>

#include <unistd.h>

namespace hotstate::detail {

/// 64 bits from the kernel's random generator; if that is unavailable (a
/// sandbox without getentropy), the address of a thread-local and the stack,
/// which still differ between processes with ASLR and between threads.
inline std::uint64_t random_seed() noexcept {
    std::uint64_t bits = 0;
    if (::getentropy(&bits, sizeof bits) == 0) return bits;
    thread_local const char marker = 0;
    const char local = 0;
    return reinterpret_cast<std::uintptr_t>(&marker) * 0x9e3779b97f4a7c15ULL ^ reinterpret_cast<std::uintptr_t>(&local);
}

/// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, good
/// statistical quality; seeded with splitmix64 from random_seed().
class random_bits {
public:
    random_bits() noexcept {
        std::uint64_t x = random_seed();
        for (auto& word : state_) {
            x += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }

    /// The next 64 random bits.
    std::uint64_t operator()() noexcept {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t state_[4]{};
};

}  // namespace hotstate::detail
