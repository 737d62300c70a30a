// async_store's fixed-window rate check and erase_all against a real
// redis-server, checked against the blocking store on the same server: the
// same bucket keys, the same decisions, the same prefix deletion.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <future>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/store.hpp>

#include "support/redis_server.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
struct logins : hotstate::category<45, "r-logins", std::int64_t> {};
struct names : hotstate::category<46, "r-names"> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis, logins, names>;
using blocking_store = hotstate::store<hotstate::backends::redis, logins, names>;

/// Runs `io` on this thread until `done` is ready.
template <class T>
T wait(asio::io_context& io, std::future<T> done) {
    while (done.wait_for(0s) != std::future_status::ready) io.run_one();
    return done.get();
}
}  // namespace

TEST_CASE("async_store: fixed-window checks share the blocking store's buckets", "[async][rate]") {
    hotstate::testing::redis_server server;
    asio::io_context io;
    async_store store(io.get_executor(), hotstate::redis::config{.url = server.url()});
    blocking_store blocking(hotstate::redis::config{.url = server.url()});
    // an hour's window: the test does not straddle a window boundary in practice
    const hotstate::fixed_window policy{3, 1h};
    const auto count = [&] {
        return wait(io, store.async_check_rate<logins>("10.0.0.1", policy, hotstate::rate_check::count, asio::use_future));
    };
    const auto first = count();
    CHECK(first.allowed);
    CHECK(first.remaining == 2);
    // a soft check counts nothing, in either store
    const auto soft = wait(io, store.async_check_rate<logins>("10.0.0.1", policy, hotstate::rate_check::soft, asio::use_future));
    CHECK(soft.allowed);
    CHECK(soft.remaining == 2);
    CHECK(blocking.check_rate<logins>("10.0.0.1", policy, hotstate::rate_check::soft).remaining == 2);
    CHECK(blocking.check_rate<logins>("10.0.0.1", policy).remaining == 1);  // the same bucket
    CHECK(count().remaining == 0);
    const auto denied = count();
    CHECK_FALSE(denied.allowed);
    CHECK(denied.retry_after > 0ms);
    CHECK(denied.retry_after <= 1h);
    // the bucket expires with its window: a TTL was set
    const auto ttl = server.command(
        {"PTTL", hotstate::encode_window_bucket(logins::id, logins::layout, "10.0.0.1",
                                                hotstate::rate_math::locate_window(hotstate::system_clock{}.now(), 1h).index)});
    REQUIRE(ttl->type == REDIS_REPLY_INTEGER);
    CHECK(ttl->integer > 0);
    CHECK_THROWS_AS(store.async_check_rate<logins>("x", hotstate::fixed_window{-1, 1h}, hotstate::rate_check::count,
                                                   asio::use_future),
                    hotstate::error);
}

TEST_CASE("async_store: erase_all deletes a category's keys under a prefix", "[async][erase_all]") {
    hotstate::testing::redis_server server;
    asio::io_context io;
    async_store store(io.get_executor(), hotstate::redis::config{.url = server.url()});
    blocking_store blocking(hotstate::redis::config{.url = server.url()});
    for (int i = 0; i < 25; ++i) blocking.set<names>("user:" + std::to_string(i), std::string("x"));
    blocking.set<names>("group:1", std::string("y"));
    blocking.increment<logins>("user:1");  // another category, same key text
    CHECK(wait(io, store.async_erase_all<names>("user:", asio::use_future)) == 25);
    CHECK_FALSE(blocking.exists<names>("user:3"));
    CHECK(blocking.exists<names>("group:1"));
    CHECK(blocking.counter<logins>("user:1") == 1);
    CHECK(wait(io, store.async_erase_all<names>("", asio::use_future)) == 1);
    CHECK_FALSE(blocking.exists<names>("group:1"));
}
