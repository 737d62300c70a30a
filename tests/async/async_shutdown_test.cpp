// Shutting an asynchronous store down: after close(), io_context::run()
// returns by itself (the connections' loops and health checks stop), whether
// the server answers or is gone, and nothing is left behind (the sanitizer
// presets' leak checks run this too). Operations after close() fail at once.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/backends/async_redis_cluster.hpp>

#include "support/loopback.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct tokens : hotstate::category<36, "shutdown-tokens"> {};

/// A coroutine that writes and reads a value through `store`, then closes it.
template <class Store>
asio::awaitable<void> use_then_close(Store& store, std::optional<std::string>& read) {
    co_await store.template async_set<tokens>("k", std::string("v"), std::chrono::minutes{1}, asio::use_awaitable);
    read = co_await store.template async_get<tokens>("k", asio::use_awaitable);
    store.close();
}

/// Runs `io` until it has nothing left, at most `limit`; true when it ran out of work.
bool runs_out(asio::io_context& io, std::chrono::seconds limit = 10s) {
    io.run_for(limit);
    return io.stopped();
}

}  // namespace

TEST_CASE("async shutdown: run() returns after close(), the work done", "[async][shutdown]") {
    hotstate::testing::redis_server server;
    asio::io_context io;
    hotstate::async_store<hotstate::backends::async_redis, tokens> store(
        io.get_executor(), hotstate::redis::config{.url = server.url()},
        hotstate::redis::async_options{.health_interval = 50ms});
    std::optional<std::string> read;
    std::optional<hotstate::errc> after_close;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await use_then_close(store, read);
            try {
                (void)co_await store.async_get<tokens>("k", asio::use_awaitable);
            } catch (const hotstate::error& e) {
                after_close = e.kind();
            }
        },
        asio::detached);
    const auto began = std::chrono::steady_clock::now();
    CHECK(runs_out(io));
    CHECK(std::chrono::steady_clock::now() - began < 5s);
    CHECK(read == "v");
    CHECK(after_close == hotstate::errc::connection);
}

TEST_CASE("async shutdown: run() returns after close() while the server is gone", "[async][shutdown]") {
    asio::io_context io;
    const std::uint16_t nobody = hotstate::testing::free_port();
    hotstate::async_store<hotstate::backends::async_redis, tokens> store(
        io.get_executor(), hotstate::redis::config{.url = "redis://127.0.0.1:" + std::to_string(nobody)},
        hotstate::redis::async_options{.timeout = 5s, .min_backoff = 500ms, .max_backoff = 5s});
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pause(io, 200ms);  // let the connection fail and wait out its backoff
            co_await pause.async_wait(asio::use_awaitable);
            store.close();
        },
        asio::detached);
    const auto began = std::chrono::steady_clock::now();
    CHECK(runs_out(io));
    CHECK(std::chrono::steady_clock::now() - began < 2s);  // not the 5 s backoff
}

TEST_CASE("async shutdown: a cluster store's run() returns after close()", "[async][shutdown][cluster]") {
    hotstate::testing::redis_cluster cluster;
    asio::io_context io;
    hotstate::redis::cluster_config settings;
    settings.urls = cluster.seed_urls();
    hotstate::async_store<hotstate::backends::async_redis_cluster, tokens> store(
        io.get_executor(), settings, hotstate::redis::async_options{.health_interval = 50ms});
    std::optional<std::string> read;
    asio::co_spawn(io, use_then_close(store, read), asio::detached);
    CHECK(runs_out(io));
    CHECK(read == "v");
}
