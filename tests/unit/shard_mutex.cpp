#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/detail/base/shard_mutex.hpp>

TEST_CASE("shard mutex: mutual exclusion under contention, sleepers woken", "[unit][mutex]") {
    hotstate::detail::shard_mutex mutex;
    long counter = 0;  // deliberately not atomic: only the mutex protects it
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    constexpr int threads = 6;  // more threads than cores: some must sleep and be woken
    constexpr int rounds = 20000;
    {
        std::vector<std::jthread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&] {
                for (int i = 0; i < rounds; ++i) {
                    std::scoped_lock guard(mutex);
                    if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
                    ++counter;
                    inside.fetch_sub(1);
                }
            });
    }
    CHECK(counter == static_cast<long>(threads) * rounds);
    CHECK(overlaps.load() == 0);
    CHECK(mutex.try_lock());
    CHECK_FALSE(mutex.try_lock());
    mutex.unlock();
}
