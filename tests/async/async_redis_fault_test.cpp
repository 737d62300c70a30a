// backends::async_redis through outages, with 64 coroutines looping on one
// connection: a server restart and a SIGSTOP/SIGCONT. No crash, no hang,
// operations during the outage end by their deadline, the connection recovers
// without user action, and no increment is applied twice: the final counter is
// at least the increments that succeeded and at most those plus the ones that
// ended with outcome_unknown().
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>

#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
struct counters : hotstate::category<40, "counters", std::int64_t> {};
struct door : hotstate::category<41, "door"> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis, counters, door>;

struct tally {
    std::atomic<std::int64_t> ok{0}, unknown{0}, timeouts{0}, refused{0}, other{0}, done{0};
    std::atomic<std::int64_t> slowest_failure_ms{0};
};

int server_pid(hotstate::testing::redis_server& server) {
    auto reply = server.command({"INFO", "server"});
    const std::string text(reply->str, reply->len);
    const auto at = text.find("process_id:");
    return std::stoi(text.substr(at + 11));
}

std::int64_t read_counter(hotstate::testing::redis_server& server) {
    auto reply = server.command({"GET", hotstate::encode_key(counters::id, counters::layout, "total")});
    return reply->type == REDIS_REPLY_NIL ? 0 : std::stoll(std::string(reply->str, reply->len));
}
}  // namespace

TEST_CASE("async_redis: restart and SIGSTOP under 64 looping coroutines", "[async][fault]") {
    hotstate::testing::redis_server server({.persistence = true});  // the counter survives the restart
    asio::io_context io;
    constexpr auto timeout = 400ms;
    async_store store(io.get_executor(), hotstate::redis::config{.url = server.url()},
                      hotstate::redis::async_options{.timeout = timeout, .health_interval = 100ms,
                                                     .min_backoff = 5ms, .max_backoff = 200ms});
    tally t;
    std::atomic<bool> stop{false};
    constexpr int callers = 64;
    for (int caller = 0; caller < callers; ++caller) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                while (!stop.load()) {
                    const auto began = std::chrono::steady_clock::now();
                    try {
                        (void)co_await store.async_increment<counters>("total", 1, std::nullopt, asio::use_awaitable);
                        t.ok.fetch_add(1);
                    } catch (const hotstate::error& e) {
                        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - began).count();
                        std::int64_t seen = t.slowest_failure_ms.load();
                        while (took > seen && !t.slowest_failure_ms.compare_exchange_weak(seen, took)) {}
                        if (e.outcome_unknown())
                            t.unknown.fetch_add(1);
                        else if (e.code() == hotstate::errc::timeout)
                            t.timeouts.fetch_add(1);
                        else if (e.code() == hotstate::errc::connection)
                            t.refused.fetch_add(1);
                        else
                            t.other.fetch_add(1);
                    }
                }
                if (t.done.fetch_add(1) + 1 == callers) io.stop();
            },
            asio::detached);
    }
    std::thread first([&] { io.run(); });
    std::thread second([&] { io.run(); });

    REQUIRE(hotstate::testing::eventually([&] { return t.ok.load() >= 500; }, 20s));

    // a restart: the loops see failures, then recover by themselves
    server.stop();
    REQUIRE(hotstate::testing::eventually([&] { return t.timeouts.load() + t.unknown.load() + t.refused.load() >= 64; }, 20s));
    server.start();
    const auto before_recovery = t.ok.load();
    CHECK(hotstate::testing::eventually([&] { return t.ok.load() >= before_recovery + 500; }, 20s));
    CHECK(store.backend().connects() >= 2);

    // SIGSTOP: written requests find no reply; they end by the deadline, the connection is replaced
    const int pid = server_pid(server);
    const auto timeouts_before = t.timeouts.load() + t.unknown.load();
    ::kill(pid, SIGSTOP);
    const bool timed_out =
        hotstate::testing::eventually([&] { return t.timeouts.load() + t.unknown.load() >= timeouts_before + 64; }, 20s);
    ::kill(pid, SIGCONT);
    CHECK(timed_out);
    const auto before_thaw = t.ok.load();
    CHECK(hotstate::testing::eventually([&] { return t.ok.load() >= before_thaw + 500; }, 20s));

    stop = true;
    first.join();
    second.join();
    CHECK(t.done.load() == callers);
    CHECK(t.other.load() == 0);
    // the deadline bounds every failure: the timeout, plus the maintenance tick and scheduling slack
    CHECK(t.slowest_failure_ms.load() <= std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count() + 2000);
    const auto value = read_counter(server);
    WARN("ok " << t.ok << " unknown " << t.unknown << " timeouts " << t.timeouts << " refused " << t.refused
               << " counter " << value);
    CHECK(value >= t.ok.load());
    CHECK(value <= t.ok.load() + t.unknown.load());
}

TEST_CASE("async_redis: a lock whose release timed out, released again, is told its release ran", "[async][fault]") {
    hotstate::testing::redis_server server;
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    async_store store(io.get_executor(), hotstate::redis::config{.url = server.url()},
                      hotstate::redis::async_options{.timeout = 300ms, .min_backoff = 5ms, .max_backoff = 50ms});
    std::thread runner([&] { io.run(); });
    const std::string key = hotstate::encode_key(door::id, door::layout, "door");
    const auto holds = [&](const std::string& owner) {
        return server.command({"HEXISTS", key, owner})->integer == 1;
    };

    auto held = store.async_try_lock<door>("door", 30s, asio::use_future).get();
    REQUIRE(held);
    // a stopped server leaves the release unread: its reply times out after the write
    const int pid = server_pid(server);
    ::kill(pid, SIGSTOP);
    try {
        (void)store.async_release(*held, asio::use_future).get();
        FAIL("a release on a stopped server was answered");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::timeout);
        CHECK(e.outcome_unknown());
    }
    CHECK(held->held());  // unconfirmed: still releasable
    ::kill(pid, SIGCONT);
    REQUIRE(hotstate::testing::eventually([&] { return !holds(held->owner_token()); }));  // it ran
    // the lock changes hands twice meanwhile
    auto second = store.async_try_lock<door>("door", 30s, asio::use_future).get();
    REQUIRE(second);
    REQUIRE(store.async_release(*second, asio::use_future).get());
    auto third = store.async_try_lock<door>("door", 30s, asio::use_future).get();
    REQUIRE(third);
    // released again: this guard's release ran (HDEL alone would answer "not yours")
    CHECK(store.async_release(*held, asio::use_future).get());
    CHECK_FALSE(held->held());
    CHECK(holds(third->owner_token()));  // the holder's lease is untouched
    CHECK(store.async_release(*third, asio::use_future).get());

    store.close();
    work.reset();
    runner.join();
}
