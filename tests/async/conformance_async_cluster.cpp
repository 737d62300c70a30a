// The store conformance suite against backends::async_redis_cluster (a real
// 3-master/3-replica cluster), through the blocking test adapter.
#include <memory>
#include <tuple>

#include <hotstate/backends/async_redis_cluster.hpp>

#include "async/async_blocking_adapter.hpp"
#include "cluster/cluster_fixture.hpp"

struct async_cluster_fixture {
    static constexpr bool expires_in_real_time = true;
    hotstate::manual_clock clock;

    async_cluster_fixture() { flush_cluster(shared_redis_cluster()); }

    template <class... Categories>
    auto make_store() {
        using adapter = hotstate::testing::async_blocking_adapter<hotstate::manual_clock, hotstate::backends::async_redis_cluster>;
        return std::make_unique<hotstate::store<adapter, Categories...>>(shared_cluster_config(), clock);
    }
    void pass(std::chrono::milliseconds span) { clock.advance(span); }
    std::chrono::milliseconds short_ttl() const { return std::chrono::milliseconds{150}; }
};

using hotstate_conformance_fixtures = std::tuple<async_cluster_fixture>;
#include "conformance/store_conformance.hpp"
