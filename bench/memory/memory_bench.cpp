// The embedded backend against the obvious hand-written alternative, a
// std::mutex around std::unordered_map, doing the same operations on the same
// keys, with 1 and 2 threads. Prints RATIO lines: hotstate / baseline throughput.
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

#include "support/interleave.hpp"

namespace {

struct sessions : hotstate::category<40, "sessions"> {};
struct hits : hotstate::category<41, "hits", std::int64_t> {};
using store_type = hotstate::store<hotstate::backends::memory, sessions, hits>;

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

/// What a careful engineer writes without hotstate.
struct mutex_map {
    std::mutex mutex;
    std::unordered_map<std::string, std::string, string_hash, std::equal_to<>> values;
    std::unordered_map<std::string, std::int64_t, string_hash, std::equal_to<>> counters;

    void set(std::string_view key, std::string_view value) {
        std::scoped_lock guard(mutex);
        auto it = values.find(key);
        if (it == values.end())
            values.emplace(std::string(key), std::string(value));
        else
            it->second.assign(value);
    }
    std::optional<std::string> get(std::string_view key) {
        std::scoped_lock guard(mutex);
        auto it = values.find(key);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
    std::int64_t incr(std::string_view key) {
        std::scoped_lock guard(mutex);
        auto it = counters.find(key);
        if (it == counters.end()) it = counters.emplace(std::string(key), 0).first;
        return ++it->second;
    }
};

constexpr std::size_t key_count = 4096;
constexpr std::size_t ops_per_thread = 400'000;

std::vector<std::string> make_keys() {
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < key_count; ++i) keys.push_back("user" + std::to_string(i) + "@example.org");
    return keys;
}

/// Runs `op(thread, i)` ops_per_thread times on each of `threads` threads; ops/s.
template <class Op>
double run_threads(int threads, Op&& op) {
    std::barrier start(threads + 1);
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            start.arrive_and_wait();
            for (std::size_t i = 0; i < ops_per_thread; ++i) op(t, i);
        });
    const auto begin = std::chrono::steady_clock::now();
    start.arrive_and_wait();
    workers.clear();
    return hotstate::bench::rate(ops_per_thread * static_cast<std::size_t>(threads),
                                 std::chrono::steady_clock::now() - begin);
}

// keeps results observable, one cache line per thread so the sink is not what is measured
struct alignas(64) padded_sink {
    std::size_t value = 0;
};
padded_sink local_sink[2];

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 9;
    const auto keys = make_keys();
    const std::string value(32, 'v');
    const std::size_t shards = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 64;
    store_type store(hotstate::backends::memory_config{.shards = shards});
    mutex_map baseline;
    for (const auto& key : keys) {
        store.set<sessions>(key, value);
        baseline.set(key, value);
    }
    // threads stride through the keys from different offsets
    const auto key_of = [&](int thread, std::size_t i) -> const std::string& {
        return keys[(i * 7 + static_cast<std::size_t>(thread) * 1021) % key_count];
    };

    for (int threads : {1, 2}) {
        const std::string suffix = "_" + std::to_string(threads) + "t";
        hotstate::bench::compare_interleaved(
            "memory_set" + suffix, rounds,
            [&] { return run_threads(threads, [&](int t, std::size_t i) { store.set<sessions>(key_of(t, i), value); }); },
            [&] { return run_threads(threads, [&](int t, std::size_t i) { baseline.set(key_of(t, i), value); }); });
        hotstate::bench::compare_interleaved(
            "memory_get" + suffix, rounds,
            [&] {
                return run_threads(threads, [&](int t, std::size_t i) {
                    local_sink[t].value += store.get<sessions>(key_of(t, i))->size();
                });
            },
            [&] {
                return run_threads(threads, [&](int t, std::size_t i) {
                    local_sink[t].value += baseline.get(key_of(t, i))->size();
                });
            });
        hotstate::bench::compare_interleaved(
            "memory_incr" + suffix, rounds,
            [&] {
                return run_threads(threads, [&](int t, std::size_t i) {
                    local_sink[t].value += static_cast<std::size_t>(store.increment<hits>(key_of(t, i)));
                });
            },
            [&] {
                return run_threads(threads, [&](int t, std::size_t i) {
                    local_sink[t].value += static_cast<std::size_t>(baseline.incr(key_of(t, i)));
                });
            });
    }
    std::printf("(checksum %zu)\n", local_sink[0].value + local_sink[1].value);
    return 0;
}
