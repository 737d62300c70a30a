// The lock storm (lock_storm.hpp) on the blocking store, against one server
// and against a cluster whose masters all have their connections killed on a
// beat: no double holder, no self-lockout, no extend or release error over at
// most one kill, every acquire error either not applied or carrying its token.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/store.hpp>

#include "exchange/lock_storm.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

using namespace std::chrono_literals;
using hotstate::testing::beat_killer;
using hotstate::testing::storm_figures;

namespace {

struct guard : hotstate::category<30, "storm-lock"> {};

/// The blocking store's lock calls, as lock_storm drives them.
template <class Store>
struct blocking_locks {
    using held_type = hotstate::lock<Store, guard>;
    Store& store;

    hotstate::testing::lock_attempt<held_type> try_lock_recovering(const std::string& key, std::chrono::milliseconds lease,
                                                                   storm_figures& figures) {
        return hotstate::testing::try_lock_recovering<held_type>(
            [&] { return store.template try_lock<guard>(key, lease); },
            [&](const std::string& token) { return store.template try_lock<guard>(key, lease, token); }, figures);
    }
    static bool release(held_type& held) { return held.release(); }
    static bool extend(held_type& held, std::chrono::milliseconds lease) { return held.extend(lease); }
    static bool held(const held_type& held) { return held.held(); }
};

constexpr auto storm_length = 8s;
constexpr auto kill_beat = 100ms;
constexpr auto lease = 2s;

}  // namespace

TEST_CASE("lock storm: one server, blocking store, connections killed every 100 ms", "[exchange][storm][locks]") {
    hotstate::testing::redis_server server;
    hotstate::store<hotstate::backends::redis, guard> store(
        hotstate::redis::config{.url = server.url(), .node = hotstate::testing::test_node(2s)});
    blocking_locks<decltype(store)> api{store};
    storm_figures figures;
    {
        beat_killer killer({{"127.0.0.1", server.port()}}, kill_beat);
        hotstate::testing::lock_storm(api, killer, 4, 100, lease, storm_length, figures);
    }
    figures.print("lock storm, one server, blocking");
    hotstate::testing::check_storm(figures);
}

TEST_CASE("lock storm: a cluster, blocking store, every master's connections killed every 100 ms",
          "[exchange][storm][locks][cluster]") {
    hotstate::testing::redis_cluster cluster;
    hotstate::store<hotstate::backends::redis_cluster, guard> store(hotstate::testing::storm_cluster_settings(cluster));
    store.backend().ping();
    blocking_locks<decltype(store)> api{store};
    const auto masters = hotstate::testing::masters_of(cluster);
    storm_figures figures;
    {
        beat_killer killer(masters, kill_beat);
        hotstate::testing::lock_storm(api, killer, 4, 100, lease, storm_length, figures);
    }
    figures.print("lock storm, cluster, blocking");
    hotstate::testing::check_storm(figures);
}
