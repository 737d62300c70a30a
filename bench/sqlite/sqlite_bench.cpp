// What the fewer-moving-parts choice costs: the SQLite backend against the
// embedded backend and against Redis (a redis-server this program starts on a
// free loopback port), same operations, same keys, one process run, rounds
// interleaved A B A B. Also: how the connection pool scales from 1 to 2 threads,
// what fsync on every commit costs, and what hotstate's layers cost over a
// hand-written loop of sqlite3 calls running the same SQL on the same schema.
//
//   bench_sqlite [rounds] [round_ms]      (bench/sqlite/run.sh builds and runs it)
//   bench_sqlite count <op> <hotstate|raw> <n>   n operations, for callgrind (see run.sh)
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
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sqlite3.h>

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

/// What a careful engineer writes by hand: prepared statements on one
/// connection, keys built on the stack, the value copied out into a string.
class raw_sqlite {
public:
    explicit raw_sqlite(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
            std::abort();
        sqlite3_busy_timeout(db_, 5000);
        sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
        prepare(get_, "SELECT value FROM hotstate_entries WHERE key = ?1 AND (expires_at = 0 OR expires_at > ?2)");
        prepare(set_ttl_,
                "INSERT INTO hotstate_entries(key, kind, value, expires_at) VALUES (?1, 0, ?2, ?3) "
                "ON CONFLICT(key) DO UPDATE SET kind = 0, value = excluded.value, expires_at = excluded.expires_at");
        prepare(incr_,
                "INSERT INTO hotstate_entries(key, kind, number, expires_at) VALUES (?1, 1, 1, 0) "
                "ON CONFLICT(key) DO UPDATE SET number = CASE WHEN expires_at = 0 OR expires_at > ?2 "
                "THEN number + 1 ELSE 1 END RETURNING number");
    }
    raw_sqlite(const raw_sqlite&) = delete;
    raw_sqlite& operator=(const raw_sqlite&) = delete;
    ~raw_sqlite() {
        for (auto* stmt : {get_, set_ttl_, incr_}) sqlite3_finalize(stmt);
        sqlite3_close_v2(db_);
    }

    std::optional<std::string> get(std::string_view key) {
        char buffer[64];
        bind_key(get_, buffer, key);
        sqlite3_bind_int64(get_, 2, now_ms());
        std::optional<std::string> result;
        if (sqlite3_step(get_) == SQLITE_ROW)
            result.emplace(static_cast<const char*>(sqlite3_column_blob(get_, 0)),
                           static_cast<std::size_t>(sqlite3_column_bytes(get_, 0)));
        sqlite3_reset(get_);
        return result;
    }
    void set_ttl(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        char buffer[64];
        bind_key(set_ttl_, buffer, key);
        sqlite3_bind_blob64(set_ttl_, 2, value.data(), value.size(), SQLITE_STATIC);
        sqlite3_bind_int64(set_ttl_, 3, now_ms() + ttl.count());
        if (sqlite3_step(set_ttl_) != SQLITE_DONE) std::abort();
        sqlite3_reset(set_ttl_);
    }
    std::int64_t incr(std::string_view key) {
        char buffer[64];
        bind_key(incr_, buffer, key, counter::id);
        sqlite3_bind_int64(incr_, 2, now_ms());
        if (sqlite3_step(incr_) != SQLITE_ROW) std::abort();
        const std::int64_t value = sqlite3_column_int64(incr_, 0);
        while (sqlite3_step(incr_) == SQLITE_ROW) {
        }
        sqlite3_reset(incr_);
        return value;
    }

private:
    void prepare(sqlite3_stmt*& stmt, const char* sql) {
        if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) std::abort();
    }
    static void bind_key(sqlite3_stmt* stmt, char (&buffer)[64], std::string_view key, std::uint8_t prefix = text::id) {
        buffer[0] = static_cast<char>(prefix);  // the category's prefix byte, as hotstate::encode_key writes it
        key.copy(buffer + 1, sizeof buffer - 1);
        sqlite3_bind_blob(stmt, 1, buffer, static_cast<int>(key.size() + 1), SQLITE_STATIC);
    }
    static std::int64_t now_ms() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    sqlite3* db_ = nullptr;
    sqlite3_stmt* get_ = nullptr;
    sqlite3_stmt* set_ttl_ = nullptr;
    sqlite3_stmt* incr_ = nullptr;
};

/// The raw side of one operation; false when it has none.
bool run_raw(raw_sqlite& raw, op which, std::size_t i) {
    const std::string& k = keys[i % keys.size()];
    char buffer[32] = "value-";
    const auto end = std::to_chars(buffer + 6, buffer + sizeof buffer, i).ptr;
    const std::string_view value(buffer, static_cast<std::size_t>(end - buffer));
    switch (which) {
        case op::get: keep_alive = keep_alive + raw.get(k)->size(); return true;
        case op::set_ttl: raw.set_ttl(k, value, 10min); return true;
        case op::incr: keep_alive = keep_alive + static_cast<std::size_t>(raw.incr(k)); return true;
        default: return false;
    }
}

double measure_raw(raw_sqlite& raw, op which, std::chrono::milliseconds span) {
    const auto begin = std::chrono::steady_clock::now();
    const auto until = begin + span;
    std::size_t done = 0;
    for (std::size_t i = 0;; i += 64) {
        for (std::size_t j = 0; j < 64; ++j) run_raw(raw, which, i + j);
        done += 64;
        if (std::chrono::steady_clock::now() >= until) break;
    }
    return hotstate::bench::rate(done, std::chrono::steady_clock::now() - begin);
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

/// `count <op> <hotstate|raw> <n>`: n operations after the same set-up, for an
/// instruction counter (run n and 0 under callgrind, subtract, divide by n).
int count_mode(const std::string& name, const std::string& side, long n) {
    temp_db tmp;
    bench_store<hotstate::backends::sqlite> lite(hotstate::backends::sqlite_config{.path = tmp.file("bench.db")});
    prepare(lite);
    for (std::size_t i = 0; i < keys.size(); ++i) (void)lite.increment<counter>(keys[i]);
    raw_sqlite raw(tmp.file("bench.db"));
    op which = op::get;
    for (int i = 0; i < static_cast<int>(std::size(op_names)); ++i)
        if (name == op_names[i]) which = static_cast<op>(i);
    for (long i = 0; i < n; ++i) {
        if (side == "raw") {
            if (!run_raw(raw, which, static_cast<std::size_t>(i))) return 64;
        } else {
            run_one(lite, which, static_cast<std::size_t>(i));
        }
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 4 && std::string(argv[1]) == "count") return count_mode(argv[2], argv[3], std::atol(argv[4]));
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

    // hotstate's layers against the same SQL written by hand, on the same file
    // and rows through a second connection (the sides take turns, never overlap).
    {
        raw_sqlite raw(tmp.file("bench.db"));
        for (const op which : {op::get, op::set_ttl, op::incr}) {
            hotstate::bench::compare_interleaved(std::string("sqlite_vs_raw_sqlite_") + op_names[static_cast<int>(which)],
                                                 rounds, [&] { return measure(lite, which, span); },
                                                 [&] { return measure_raw(raw, which, span); });
        }
    }

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
