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
using hotstate::testing::beat_killer;
using hotstate::testing::handoff;
using hotstate::testing::storm_figures;

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

    hotstate::testing::lock_attempt<held_type> try_lock_recovering(const std::string& key, std::chrono::milliseconds lease,
                                                                   storm_figures& figures) {
        return hotstate::testing::try_lock_recovering<held_type>(
            [&] { return store.template async_try_lock<guard>(key, lease, handoff).get(); },
            [&](const std::string& token) { return store.template async_try_lock<guard>(key, lease, token, handoff).get(); },
            figures);
    }
    bool release(held_type& held) { return store.async_release(held, handoff).get(); }
    bool extend(held_type& held, std::chrono::milliseconds lease) { return store.async_extend(held, lease, handoff).get(); }
    static bool held(const held_type& held) { return held.held(); }
};

constexpr auto storm_length = 8s;
constexpr auto kill_beat = 100ms;
constexpr auto lease = 2s;

}  // namespace

TEST_CASE("lock storm: one server, asynchronous store, connections killed every 100 ms", "[exchange][storm][async]") {
    hotstate::testing::redis_server server;
    storm_figures figures;
    {
        running r;
        using store_type = hotstate::async_store<hotstate::backends::async_redis, guard>;
        store_type store(r.io.get_executor(), hotstate::redis::config{.url = server.url()},
                         hotstate::redis::async_options{.timeout = 2s, .min_backoff = 1ms, .max_backoff = 20ms});
        async_locks<store_type> api{store};
        {
            beat_killer killer({{"127.0.0.1", server.port()}}, kill_beat);
            hotstate::testing::lock_storm(api, killer, 4, 100, lease, storm_length, figures);
        }
    }
    figures.print("lock storm, one server, asynchronous");
    hotstate::testing::check_storm(figures);
}

TEST_CASE("lock storm: a cluster, asynchronous store, every master's connections killed every 100 ms",
          "[exchange][storm][async][cluster]") {
    hotstate::testing::redis_cluster cluster;
    storm_figures figures;
    {
        running r;
        using store_type = hotstate::async_store<hotstate::backends::async_redis_cluster, guard>;
        store_type store(r.io.get_executor(), hotstate::testing::storm_cluster_settings(cluster),
                         hotstate::redis::async_options{.timeout = 2s, .min_backoff = 1ms, .max_backoff = 20ms});
        async_locks<store_type> api{store};
        const auto masters = hotstate::testing::masters_of(cluster);
        {
            beat_killer killer(masters, kill_beat);
            hotstate::testing::lock_storm(api, killer, 4, 100, lease, storm_length, figures);
        }
    }
    figures.print("lock storm, cluster, asynchronous");
    hotstate::testing::check_storm(figures);
}
