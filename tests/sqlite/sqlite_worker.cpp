// A helper process for tests/sqlite/sqlite_processes.cpp: opens the database
// file it is given and works on it, so several processes share one file.
//
//   sqlite_worker increment <file> <count>  increments hits "shared" <count> times
//   sqlite_worker lock <file> <attempts>    guards a plain read-then-write with a lock
//   sqlite_worker gcra <file> <attempts>    GCRA checks on one key (1 a day, bursts of 1000)
//   sqlite_worker take <file> <count>       takes text "code-0" .. "code-<count-1>", counting each it got
//   sqlite_worker write <file>              writes one of everything, then dies holding a lock
//
// increment, lock, gcra and take first wait (up to a minute) for the text key "go", so the
// workers start together. Exit status 0 means every operation succeeded.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "sqlite/sqlite_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace sqlite_test;

namespace {

bool wait_for_go(system_store& s) {
    return hotstate::testing::eventually([&] { return s.exists<text>("go"); }, 60s);
}

int increment(system_store& s, long count) {
    if (!wait_for_go(s)) return 2;
    for (long i = 0; i < count; ++i) (void)s.increment<hits>("shared");
    return 0;
}

int lock(system_store& s, long attempts) {
    if (!wait_for_go(s)) return 2;
    for (long i = 0; i < attempts; ++i) {
        auto held = s.try_lock<guard>("critical", 1min);
        if (!held) continue;
        // A read followed by a write: only mutual exclusion keeps it from losing updates.
        const std::int64_t value = s.get<numbers>("value").value_or(0);
        s.set<numbers>("value", value + 1);
        const std::int64_t last_fence = s.get<numbers>("fence").value_or(0);
        if (static_cast<std::int64_t>(held->fencing_token()) <= last_fence) (void)s.increment<hits>("regressions");
        s.set<numbers>("fence", static_cast<std::int64_t>(held->fencing_token()));
        (void)s.increment<hits>("acquired");
        if (!held->release()) (void)s.increment<hits>("lost");
    }
    return 0;
}

int gcra(system_store& s, long attempts) {
    if (!wait_for_go(s)) return 2;
    const hotstate::gcra policy{1, std::chrono::hours{24}, 1000};
    for (long i = 0; i < attempts; ++i)
        if (s.check_rate<numbers>("one-key", policy).allowed) (void)s.increment<hits>("allowed");
    return 0;
}

int take(system_store& s, long count) {
    if (!wait_for_go(s)) return 2;
    for (long i = 0; i < count; ++i)
        if (s.take<text>("code-" + std::to_string(i))) (void)s.increment<hits>("taken");
    return 0;
}

[[noreturn]] void write_and_die(system_store& s) {
    s.set<text>("forever", "kept");
    s.set<text>("for-an-hour", "kept too", 1h);
    (void)s.increment<hits>("logins", 42);
    (void)s.lookup_add<domains>("blocked", "spam.example");
    s.lookup_set<domains>("redirect", "t.co", "twitter");
    auto held = s.try_lock<guard>("job", 1h);
    if (!held) std::_Exit(3);
    s.set<numbers>("fence", static_cast<std::int64_t>(held->fencing_token()));
    std::fflush(stdout);
    std::_Exit(0);  // no destructors: the connection is never closed, the lock never released
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: sqlite_worker increment|lock|gcra|take|write <file> [count]\n");
        return 64;
    }
    const std::string mode = argv[1];
    try {
        system_store s(hotstate::backends::sqlite_config{.path = argv[2], .busy_timeout = 30s});
        const long count = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 0;
        if (mode == "increment") return increment(s, count);
        if (mode == "lock") return lock(s, count);
        if (mode == "gcra") return gcra(s, count);
        if (mode == "take") return take(s, count);
        if (mode == "write") write_and_die(s);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sqlite_worker %s: %s\n", mode.c_str(), e.what());
        return 1;
    }
    return 64;
}
