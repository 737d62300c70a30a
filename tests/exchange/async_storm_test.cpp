// The lock storm (lock_storm.hpp) on the asynchronous store (backends::async_redis
// and async_redis_cluster), driven from plain threads that wait on each
// operation: the same verdicts as the blocking store's.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/backends/async_redis_cluster.hpp>

#include "async/handoff.hpp"
#include "exchange/lock_storm.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
using hotstate::testing::handoff;

namespace {

struct guard : hotstate::category<31, "async-storm-lock"> {};

/// An io_context run by two threads for the test's length.
struct running {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    std::vector<std::thread> threads;
    running() {
        for (int i = 0; i < 2; ++i) threads.emplace_back([this] { io.run(); });
    }
    ~running() {
        work.reset();
        for (auto& t : threads) t.join();
    }
};

/// The asynchronous store's lock calls, each waited for, as lock_storm drives them.
template <class Store>
struct async_locks {
    using held_type = hotstate::async_lock<Store, guard>;
    Store& store;

    auto try_lock(const std::string& key, std::chrono::milliseconds lease) {
        return store.template async_try_lock<guard>(key, lease, handoff).get();
    }
    auto try_lock_as(const std::string& key, std::chrono::milliseconds lease, const std::string& token) {
        return store.template async_try_lock<guard>(key, lease, token, handoff).get();
    }
    bool release(held_type& held) { return store.async_release(held, handoff).get(); }
    bool extend(held_type& held, std::chrono::milliseconds lease) { return store.async_extend(held, lease, handoff).get(); }
    static bool held(const held_type& held) { return held.held(); }
};

}  // namespace

TEST_CASE("lock storm: one server, asynchronous store, connections killed every 100 ms", "[exchange][storm][async]") {
    hotstate::testing::redis_server server;
    running r;
    using store_type = hotstate::async_store<hotstate::backends::async_redis, guard>;
    store_type store(r.io.get_executor(), hotstate::redis::config{.url = server.url()},
                     hotstate::redis::async_options{.timeout = 2s, .min_backoff = 1ms, .max_backoff = 20ms});
    async_locks<store_type> api{store};
    hotstate::testing::storm(api, {{"127.0.0.1", server.port()}}, "lock storm, one server, asynchronous");
}

TEST_CASE("lock storm: a cluster, asynchronous store, every master's connections killed every 100 ms",
          "[exchange][storm][async][cluster]") {
    hotstate::testing::redis_cluster cluster;
    running r;
    using store_type = hotstate::async_store<hotstate::backends::async_redis_cluster, guard>;
    store_type store(r.io.get_executor(), hotstate::testing::storm_cluster_settings(cluster),
                     hotstate::redis::async_options{.timeout = 2s, .min_backoff = 1ms, .max_backoff = 20ms});
    async_locks<store_type> api{store};
    hotstate::testing::storm(api, hotstate::testing::masters_of(cluster), "lock storm, cluster, asynchronous");
}
