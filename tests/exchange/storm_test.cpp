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

namespace {

struct guard : hotstate::category<30, "storm-lock"> {};

/// The blocking store's lock calls, as lock_storm drives them.
template <class Store>
struct blocking_locks {
    using held_type = hotstate::lock<Store, guard>;
    Store& store;

    auto try_lock(const std::string& key, std::chrono::milliseconds lease) { return store.template try_lock<guard>(key, lease); }
    auto try_lock_as(const std::string& key, std::chrono::milliseconds lease, const std::string& token) {
        return store.template try_lock<guard>(key, lease, token);
    }
    static bool release(held_type& held) { return held.release(); }
    static bool extend(held_type& held, std::chrono::milliseconds lease) { return held.extend(lease); }
    static bool held(const held_type& held) { return held.held(); }
};

}  // namespace

TEST_CASE("lock storm: one server, blocking store, connections killed every 100 ms", "[exchange][storm][locks]") {
    hotstate::testing::redis_server server;
    hotstate::store<hotstate::backends::redis, guard> store(
        hotstate::redis::config{.url = server.url(), .node = hotstate::testing::test_node(2s)});
    blocking_locks<decltype(store)> api{store};
    hotstate::testing::storm(api, {{"127.0.0.1", server.port()}}, "lock storm, one server, blocking");
}

TEST_CASE("lock storm: a cluster, blocking store, every master's connections killed every 100 ms",
          "[exchange][storm][locks][cluster]") {
    hotstate::testing::redis_cluster cluster;
    hotstate::store<hotstate::backends::redis_cluster, guard> store(hotstate::testing::storm_cluster_settings(cluster));
    store.backend().ping();
    blocking_locks<decltype(store)> api{store};
    hotstate::testing::storm(api, hotstate::testing::masters_of(cluster), "lock storm, cluster, blocking");
}
