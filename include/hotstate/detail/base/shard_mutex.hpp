#pragma once

#include <atomic>

namespace hotstate::detail {

/// A mutex for very short critical sections (one hash-table operation): the
/// uncontended lock and unlock are one inlined atomic instruction each, where
/// std::mutex costs two calls into libpthread. Contended, it spins briefly and
/// then sleeps in the kernel (std::atomic::wait), so an oversubscribed machine
/// does not burn its cores. Three states, as in Drepper's "Futexes Are Tricky":
/// 0 free, 1 held, 2 held with (possible) sleepers.
class shard_mutex {
public:
    void lock() noexcept {
        int expected = 0;
        if (state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
            return;
        lock_slow();
    }

    bool try_lock() noexcept {
        int expected = 0;
        return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
    }

    void unlock() noexcept {
        if (state_.exchange(0, std::memory_order_release) == 2) state_.notify_one();
    }

private:
    void lock_slow() noexcept {
        for (int spin = 0; spin < 64; ++spin) {
            int expected = 0;
            if (state_.load(std::memory_order_relaxed) == 0 &&
                state_.compare_exchange_weak(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
                return;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        // announce a sleeper; whoever unlocks from state 2 wakes one
        while (state_.exchange(2, std::memory_order_acquire) != 0) state_.wait(2, std::memory_order_relaxed);
    }

    std::atomic<int> state_{0};
};

}  // namespace hotstate::detail
