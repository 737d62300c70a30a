// async_store::async_pipeline against a real redis-server: 64 coroutines
// mixing pipelines and single calls on one connection each get their own
// results (checked against the memory backend), and at most once when the
// server stops answering. What every pipeline does (results in call order,
// a failing operation in the middle) is the pipeline law's, which
// async_store runs too (tests/laws/pipelines.hpp, tests/async/conformance_async.cpp).
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <csignal>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
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
#include <hotstate/backends/memory.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

#include "async/io_threads.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace asio = boost::asio;
namespace ops = hotstate::redis::ops;
using namespace std::chrono_literals;

namespace {
struct counters : hotstate::category<43, "p-counters", std::int64_t> {};
struct tokens : hotstate::category<44, "p-tokens"> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis, counters, tokens>;
using memory_store = hotstate::store<hotstate::backends::memory, counters, tokens>;

int server_pid(hotstate::testing::redis_server& server) {
    auto reply = server.command({"INFO", "server"});
    const std::string text(reply->str, reply->len);
    return std::stoi(text.substr(text.find("process_id:") + 11));
}

/// What a failed operation said, copied on the io_context's thread: the
/// exception itself never crosses threads (TSan cannot see libstdc++'s
/// reference count of an exception_ptr, so a future's rethrown error would
/// look like a race).
struct failure {
    bool failed = false;
    hotstate::errc code{};
    bool unknown = false;
    std::string message;
};

/// Starts an operation with a callback (`start(handler)`) and waits for what it failed with.
template <class Start>
failure failure_of(Start start) {
    std::promise<failure> got;
    start([&got](std::exception_ptr e, auto&&...) {
        failure f;
        try {
            if (e) std::rethrow_exception(e);
        } catch (const hotstate::error& x) {
            f = {true, x.kind(), x.outcome_unknown(), x.what()};
        } catch (...) {
            f.failed = true;
        }
        got.set_value(std::move(f));
    });
    return got.get_future().get();
}

/// An io_context run by one thread for the test's use_future calls.
using running = hotstate::testing::io_threads;
}  // namespace

TEST_CASE("async_pipeline: 64 coroutines mixing pipelines and single calls on one connection", "[async][pipeline]") {
    hotstate::testing::redis_server server;
    asio::io_context io;
    async_store store(io.get_executor(), hotstate::redis::config{.url = server.url()});
    memory_store expected;
    constexpr int callers = 64, rounds = 40;
    int finished = 0, mismatches = 0;
    for (int c = 0; c < callers; ++c)
        asio::co_spawn(
            io,
            [&, c]() -> asio::awaitable<void> {
                const std::string key = "caller-" + std::to_string(c);
                for (int i = 0; i < rounds; ++i) {
                    const std::string value = key + "/" + std::to_string(i);
                    auto [n, set, got] = co_await store.async_pipeline(ops::incr<counters>{key, c + 1},
                                                                      ops::set<tokens>{key, value},
                                                                      ops::get<tokens>{key}, asio::use_awaitable);
                    const auto n_expected = expected.increment<counters>(key, c + 1);
                    expected.set<tokens>(key, value);
                    if (n != n_expected || !set || got != value) ++mismatches;
                    const auto single = co_await store.async_counter<counters>(key, asio::use_awaitable);
                    if (single != n_expected) ++mismatches;
                }
                ++finished;
            },
            asio::detached);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (finished < callers && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    REQUIRE(finished == callers);
    CHECK(mismatches == 0);
    for (int c = 0; c < callers; ++c)
        CHECK(expected.counter<counters>("caller-" + std::to_string(c)) == std::int64_t{c + 1} * rounds);
    CHECK(store.backend().connects() == 1);
}

TEST_CASE("async_pipeline: at most once when the server stops answering", "[async][pipeline][fault]") {
    hotstate::testing::redis_server server;
    running r;
    async_store store(r.io.get_executor(), hotstate::redis::config{.url = server.url()},
                      hotstate::redis::async_options{.timeout = 300ms, .min_backoff = 5ms, .max_backoff = 50ms});
    CHECK(store.async_increment<counters>("n", 1, std::nullopt, asio::use_future).get() == 1);
    const int pid = server_pid(server);
    ::kill(pid, SIGSTOP);
    // written, never answered: both may have reached the server (outcome unknown); only the
    // increment's matters, and neither is sent again on a single server that went silent
    std::future<failure> read_later = std::async(std::launch::async, [&] {
        return failure_of([&](auto handler) {
            store.async_pipeline(ops::counter<counters>{"n"}, ops::exists<tokens>{"x"}, handler);
        });
    });
    const auto changed = failure_of([&](auto handler) {
        store.async_pipeline(ops::incr<counters>{"n"}, ops::get<tokens>{"x"}, handler);
    });
    const auto read = read_later.get();
    ::kill(pid, SIGCONT);
    REQUIRE(changed.failed);
    REQUIRE(read.failed);
    CHECK(changed.unknown);
    CHECK(changed.code == hotstate::errc::timeout);
    CHECK(read.unknown);  // whenever a request may have been applied, a read too
    CHECK(read.code == hotstate::errc::timeout);
    // the connection recovers by itself; the increment ran at most once
    std::int64_t now = 0;
    CHECK(hotstate::testing::eventually(
        [&] {
            std::promise<std::optional<std::int64_t>> got;  // the value only: no exception crosses threads
            store.async_pipeline(ops::counter<counters>{"n"}, [&got](std::exception_ptr e, std::tuple<std::int64_t> v) {
                got.set_value(e ? std::nullopt : std::optional<std::int64_t>(std::get<0>(v)));
            });
            const auto value = got.get_future().get();
            if (value) now = *value;
            return value.has_value();
        },
        10s));
    CHECK(now >= 1);
    CHECK(now <= 2);
}
