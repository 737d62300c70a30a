// backends::async_redis through hotstate::async_store against a real
// redis-server: completion tokens, 256 coroutines on one connection checked
// against the memory backend, an io_context run by two threads, a server
// restart under load with the at-most-once counter check.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

#include "async/random_operations.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
struct counters : hotstate::category<40, "counters", std::int64_t> {};
struct tokens : hotstate::category<41, "tokens"> {};
struct locks : hotstate::category<42, "locks"> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis, counters, tokens, locks>;
using memory_store = hotstate::store<hotstate::backends::memory, counters, tokens, locks>;

hotstate::redis::config config_of(const hotstate::testing::redis_server& server) { return {.url = server.url()}; }
}  // namespace

TEST_CASE("async_redis: callbacks, futures and coroutines run the store's commands", "[async]") {
    hotstate::testing::redis_server server;
    asio::io_context io;
    async_store store(io.get_executor(), config_of(server));
    std::thread runner;
    auto guard = asio::make_work_guard(io);
    runner = std::thread([&] { io.run(); });

    store.async_set<tokens>("code", std::string("grant"), 10min, asio::use_future).get();
    CHECK(store.async_get<tokens>("code", asio::use_future).get() == "grant");
    CHECK(store.async_exists<tokens>("code", asio::use_future).get());
    CHECK(store.async_take<tokens>("code", asio::use_future).get() == "grant");
    CHECK_FALSE(store.async_take<tokens>("code", asio::use_future).get().has_value());
    CHECK(store.async_increment<counters>("ip", 2, 1h, asio::use_future).get() == 2);
    CHECK(store.async_increment<counters>("ip", 3, std::nullopt, asio::use_future).get() == 5);
    CHECK(store.async_counter<counters>("ip", asio::use_future).get() == 5);
    CHECK(store.async_lookup_add<tokens>("blocked", "a.example", asio::use_future).get());
    CHECK(store.async_lookup_contains<tokens>("blocked", "a.example", asio::use_future).get());
    CHECK(store.async_lookup_remove<tokens>("blocked", "a.example", asio::use_future).get());
    const auto first = store.async_check_rate<counters>("login", hotstate::gcra{1, 1min, 1}, 1, asio::use_future).get();
    const auto second = store.async_check_rate<counters>("login", hotstate::gcra{1, 1min, 1}, 1, asio::use_future).get();
    CHECK(first.allowed);
    CHECK_FALSE(second.allowed);

    // a callback gets the server's typed error: INCRBY on bytes is WRONGTYPE / not an integer
    std::promise<std::string> failed;
    store.async_set<tokens>("text", std::string("x"), std::nullopt, asio::use_future).get();
    server.command({"SET", std::string(hotstate::encode_key(counters::id, counters::layout, "text")), "abc"});
    store.async_increment<counters>("text", 1, std::nullopt, [&](std::exception_ptr e, std::int64_t) {
        try {
            if (e) std::rethrow_exception(e);
            failed.set_value("no error");
        } catch (const hotstate::error& error) {
            failed.set_value(error.what());
        }
    });
    const std::string message = failed.get_future().get();
    CHECK(message.find("increment on category 'counters'") != std::string::npos);

    // locks: a guard, a release, and a guard dropped while held schedules its release
    auto held = store.async_try_lock<locks>("purge", 30s, asio::use_future).get();
    REQUIRE(held.has_value());
    CHECK_FALSE(store.async_try_lock<locks>("purge", 30s, asio::use_future).get().has_value());
    CHECK(store.async_release(*held, asio::use_future).get());
    {
        auto again = store.async_try_lock<locks>("purge", 30s, asio::use_future).get();
        REQUIRE(again.has_value());
        CHECK(again->fencing_token() > held->fencing_token());
    }  // destroyed while held: a release is scheduled
    CHECK(hotstate::testing::eventually(
        [&] { return store.async_try_lock<locks>("purge", 30s, asio::use_future).get().has_value(); }, 5s));
    CHECK(store.backend().connects() == 1);
    guard.reset();
    io.stop();
    runner.join();
}

TEST_CASE("async_redis: 10,240 random operations from 256 coroutines on one connection, two threads", "[async]") {
    hotstate::testing::redis_server server;
    asio::io_context io;
    async_store store(io.get_executor(), config_of(server));
    memory_store reference;
    constexpr int callers = 256, per_caller = 40;
    std::atomic<int> mismatches{0}, failures{0}, done{0};
    std::mutex reference_lock;  // the reference is updated from both runner threads

    for (int caller = 0; caller < callers; ++caller) {
        asio::co_spawn(
            io,
            [&, caller]() -> asio::awaitable<void> {
                try {
                    co_await hotstate::testing::random_operations<counters, tokens>(
                        store, reference, reference_lock, static_cast<unsigned>(caller), "caller" + std::to_string(caller) + ":",
                        per_caller, mismatches);
                } catch (...) {
                    failures.fetch_add(1);
                }
                if (done.fetch_add(1) + 1 == callers) io.stop();  // the connection's loops run until then
            },
            asio::detached);
    }
    std::thread second([&] { io.run(); });
    io.run();
    second.join();
    CHECK(done == callers);
    CHECK(failures == 0);
    CHECK(mismatches == 0);
}
