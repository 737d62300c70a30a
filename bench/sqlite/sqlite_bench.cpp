// What the fewer-moving-parts choice costs: the SQLite backend against the
// embedded backend and against Redis (a redis-server this program starts on a
// free loopback port), same operations, same keys, one process run, rounds
// interleaved A B A B. Also: how the connection pool scales from 1 to 2 threads,
// and what fsync on every commit costs.
//
//   bench_sqlite [rounds] [round_ms]      (bench/sqlite/run.sh builds and runs it)
//
// Prints `RATIO <name> <value>` with value = median over rounds of
// (SQLite ops/s) / (other ops/s): below 1 means SQLite is slower.
#include <atomic>
#include <charconv>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/sqlite.hpp>
#include <hotstate/store.hpp>

#ifdef HOTSTATE_BENCH_WITH_REDIS
#include <hotstate/backends/redis.hpp>

#include "support/redis_server.hpp"
#endif

#include "support/interleave.hpp"

namespace {

using namespace std::chrono_literals;

struct text : hotstate::category<1, "bench-text"> {};
struct counter : hotstate::category<2, "bench-counter", std::int64_t> {};
struct rate : hotstate::category<3, "bench-rate", std::int64_t> {};
struct guard : hotstate::category<4, "bench-lock"> {};
struct lookup : hotstate::category<5, "bench-lookup"> {};

template <class Backend>
using bench_store = hotstate::store<Backend, text, counter, rate, guard, lookup>;

constexpr int key_count = 1000;
const hotstate::gcra gcra_policy{1'000'000'000, 1s, 1'000'000'000};

volatile std::size_t keep_alive = 0;  // results go here so nothing is optimised away

std::vector<std::string> make_keys() {
    std::vector<std::string> keys;
    for (int i = 0; i < key_count; ++i) keys.push_back("key:" + std::to_string(100000 + i));
    return keys;
}
const std::vector<std::string> keys = make_keys();

enum class op { get, set, set_ttl, incr, incr_expire, gcra, lock, lookup };
constexpr const char* op_names[] = {"get", "set", "set_ttl", "incr", "incr_expire", "gcra", "lock", "lookup"};

/// Fills what the read operations read.
template <class Store>
void prepare(Store& s) {
    for (const auto& k : keys) {
        s.template set<text>(k, "a value of some thirty bytes..");
        (void)s.template lookup_add<lookup>("members", k);
    }
}

/// One operation on key `i`.
template <class Store>
void run_one(Store& s, op which, std::size_t i) {
    const std::string& k = keys[i % keys.size()];
    // every write stores a value not stored before: rewriting identical bytes
    // is free in SQLite (the page stays clean), which would flatter it
    char buffer[32] = "value-";
    const auto end = std::to_chars(buffer + 6, buffer + sizeof buffer, i).ptr;
    const std::string_view value(buffer, static_cast<std::size_t>(end - buffer));
    switch (which) {
        case op::get: keep_alive = keep_alive + s.template get<text>(k)->size(); break;
        case op::set: s.template set<text>(k, value); break;
        case op::set_ttl: s.template set<text>(k, value, 10min); break;
        case op::incr: keep_alive = keep_alive + static_cast<std::size_t>(s.template increment<counter>(k)); break;
        case op::incr_expire:
            keep_alive = keep_alive + static_cast<std::size_t>(s.template increment<counter>(k, 1, 10min));
            break;
        case op::gcra: keep_alive = keep_alive + s.template check_rate<rate>(k, gcra_policy).allowed; break;
        case op::lock: {
            auto held = s.template try_lock<guard>(k, 10s);
            keep_alive = keep_alive + held.has_value();
            break;  // released here
        }
        case op::lookup: keep_alive = keep_alive + s.template lookup_contains<lookup>("members", k); break;
    }
}

/// Ops per second of `which` on `s` from `threads` threads for about `span`.
template <class Store>
double measure(Store& s, op which, std::chrono::milliseconds span, int threads = 1) {
    std::atomic<std::size_t> total{0};
    std::atomic<bool> failed{false};
    std::barrier start(threads);
    const auto body = [&](int t) {
        start.arrive_and_wait();
        const auto until = std::chrono::steady_clock::now() + span;
        std::size_t done = 0;
        try {
            for (std::size_t i = static_cast<std::size_t>(t) * 7919;; i += 64) {
                for (std::size_t j = 0; j < 64; ++j) run_one(s, which, i + j);
                done += 64;
                if (std::chrono::steady_clock::now() >= until) break;
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s failed: %s\n", op_names[static_cast<int>(which)], e.what());
            failed = true;
        }
        total += done;
    };
    const auto begin = std::chrono::steady_clock::now();
    {
        std::vector<std::jthread> pool;
        for (int t = 1; t < threads; ++t) pool.emplace_back(body, t);
        body(0);
    }
    const auto elapsed = std::chrono::steady_clock::now() - begin;
    if (failed) std::exit(1);
    return hotstate::bench::rate(total.load(), elapsed);
}

/// A database file in a fresh temp dir, removed at exit.
struct temp_db {
    std::string dir;
    temp_db() {
        std::string pattern = "/tmp/hotstate-sqlite-bench-XXXXXX";
        if (mkdtemp(pattern.data()) == nullptr) std::abort();
        dir = pattern;
    }
    ~temp_db() { std::system(("rm -rf '" + dir + "'").c_str()); }
    [[nodiscard]] std::string file(const char* name) const { return dir + "/" + name; }
};

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
    const std::chrono::milliseconds span{argc > 2 ? std::atoi(argv[2]) : 150};
    temp_db tmp;

    bench_store<hotstate::backends::sqlite> lite(hotstate::backends::sqlite_config{.path = tmp.file("bench.db")});
    bench_store<hotstate::backends::memory> memory;
    prepare(lite);
    prepare(memory);
    std::printf("# sqlite file %s, WAL, synchronous=NORMAL; %d rounds of %lld ms per side\n", tmp.dir.c_str(), rounds,
                static_cast<long long>(span.count()));

    for (int i = 0; i < static_cast<int>(std::size(op_names)); ++i) {
        const auto which = static_cast<op>(i);
        hotstate::bench::compare_interleaved(std::string("sqlite_vs_memory_") + op_names[i], rounds,
                                             [&] { return measure(lite, which, span); },
                                             [&] { return measure(memory, which, span); });
    }

#ifdef HOTSTATE_BENCH_WITH_REDIS
    {
        hotstate::testing::redis_server server;
        hotstate::redis::config settings;
        settings.url = server.url();
        bench_store<hotstate::backends::redis> redis(settings);
        prepare(redis);
        std::printf("# redis-server on %s (loopback, no persistence)\n", server.address().c_str());
        for (int i = 0; i < static_cast<int>(std::size(op_names)); ++i) {
            const auto which = static_cast<op>(i);
            hotstate::bench::compare_interleaved(std::string("sqlite_vs_redis_") + op_names[i], rounds,
                                                 [&] { return measure(lite, which, span); },
                                                 [&] { return measure(redis, which, span); });
        }
    }
#else
    std::printf("# hotstate::redis not built: no sqlite_vs_redis comparison\n");
#endif

    // The pool: does a second thread add throughput? (reads run in parallel
    // under WAL; writes share one write lock)
    for (const op which : {op::get, op::lookup, op::incr, op::set}) {
        hotstate::bench::compare_interleaved(std::string("sqlite_2_threads_vs_1_") + op_names[static_cast<int>(which)],
                                             rounds, [&] { return measure(lite, which, span, 2); },
                                             [&] { return measure(lite, which, span, 1); });
    }

    // What durability against power loss costs: fsync on every commit.
    {
        bench_store<hotstate::backends::sqlite> durable(
            hotstate::backends::sqlite_config{.path = tmp.file("durable.db"), .sync_every_commit = true});
        prepare(durable);
        hotstate::bench::compare_interleaved("sqlite_sync_full_vs_normal_incr", rounds,
                                             [&] { return measure(durable, op::incr, span); },
                                             [&] { return measure(lite, op::incr, span); });
    }
    return 0;
}
