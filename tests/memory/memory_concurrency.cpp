// Eight threads hammer counters and locks: no increment is lost and no lock
// ever has two owners at once.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

using namespace std::chrono_literals;

namespace {
struct hits : hotstate::category<2, "hits", std::int64_t> {};
struct task_lock : hotstate::category<23, "lock-task"> {};
using store_type = hotstate::store<hotstate::backends::memory, hits, task_lock>;
constexpr int thread_count = 8;
}  // namespace

TEST_CASE("memory: concurrent increments are never lost", "[memory][concurrency]") {
    store_type s;
    constexpr int per_thread = 20000;
    std::vector<std::jthread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                s.increment<hits>("shared");
                s.increment<hits>("key-" + std::to_string(i % 64), 2);
                s.increment<hits>("own-" + std::to_string(t));
            }
        });
    }
    threads.clear();
    CHECK(s.counter<hits>("shared") == thread_count * per_thread);
    std::int64_t spread = 0;
    for (int k = 0; k < 64; ++k) spread += s.counter<hits>("key-" + std::to_string(k));
    CHECK(spread == 2LL * thread_count * per_thread);
    for (int t = 0; t < thread_count; ++t) CHECK(s.counter<hits>("own-" + std::to_string(t)) == per_thread);
}

TEST_CASE("memory: a lock never has two owners", "[memory][concurrency]") {
    store_type s;
    constexpr int attempts = 5000;
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> acquired{0};
    std::atomic<std::uint64_t> last_fence{0};
    std::atomic<int> fence_regressions{0};
    std::atomic<int> failed_releases{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < attempts; ++i) {
                auto held = s.try_lock<task_lock>("the-one-task", 10min);
                if (!held) continue;
                if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
                const auto previous = last_fence.exchange(held->fencing_token());
                if (previous >= held->fencing_token()) fence_regressions.fetch_add(1);
                acquired.fetch_add(1);
                inside.fetch_sub(1);
                if (!held->release()) failed_releases.fetch_add(1);
            }
        });
    }
    threads.clear();
    CHECK(overlaps.load() == 0);
    CHECK(fence_regressions.load() == 0);
    CHECK(acquired.load() > 0);
    CHECK(failed_releases.load() == 0);
}

TEST_CASE("memory: expiry, sweeping and a memory limit under concurrent writers", "[memory][concurrency]") {
    struct tokens : hotstate::category<1, "oauth"> {};
    hotstate::manual_clock clock;
    hotstate::store<hotstate::backends::basic_memory<hotstate::manual_clock>, tokens, hits> s(
        hotstate::backends::memory_config{.memory_limit = 256 * 1024, .sweep_interval = std::chrono::milliseconds{1}},
        clock);
    std::atomic<bool> stop{false};
    std::atomic<int> limit_refusals{0};
    std::atomic<int> other_errors{0};
    std::atomic<int> stale_reads{0};
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20000; ++i) {
                const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i % 500);
                try {
                    s.set<tokens>(key, std::string(64, 'x'), std::chrono::seconds{1 + i % 3});
                    if (auto value = s.get<tokens>(key); value && value->size() != 64) stale_reads.fetch_add(1);
                    if (i % 7 == 0) s.erase<tokens>(key);
                    s.increment<hits>(key, 1, std::chrono::seconds{2});
                } catch (const hotstate::error& e) {
                    (e.kind() == hotstate::errc::memory_limit ? limit_refusals : other_errors).fetch_add(1);
                }
            }
        });
    }
    threads.emplace_back([&] {
        for (int i = 0; i < 2000 && !stop.load(); ++i) clock.advance(std::chrono::milliseconds{5});
    });
    threads.clear();
    stop = true;
    CHECK(other_errors.load() == 0);
    CHECK(stale_reads.load() == 0);
    CHECK(s.backend().memory_used() <= 256 * 1024);
    clock.advance(std::chrono::minutes{1});
    s.backend().sweep_all();
    CHECK(s.backend().entry_count() == 0);
    CHECK(s.backend().memory_used() == 0);
}
