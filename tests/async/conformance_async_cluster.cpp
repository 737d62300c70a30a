// The laws over the asynchronous Redis Cluster client (a real 3-master/3-replica
// cluster), two models: backends::async_redis_cluster under the blocking
// backend concepts (tests/async/async_blocking_adapter.hpp), and
// hotstate::async_store on it (laws/async_front.hpp; no pipelines there).
#include <memory>
#include <tuple>

#include <hotstate/backends/async_redis_cluster.hpp>

#include "async/async_blocking_adapter.hpp"
#include "cluster/cluster_fixture.hpp"
#include "laws/async_front.hpp"
#include "laws/model.hpp"

namespace {

/// backends::async_redis_cluster behind the blocking concepts, rate limits on the manual clock.
struct async_cluster_fixture : cluster_fixture {
    template <class... Categories>
    auto make_store() {
        using adapter = hotstate::testing::async_blocking_adapter<hotstate::manual_clock, hotstate::backends::async_redis_cluster>;
        return std::make_unique<hotstate::store<adapter, Categories...>>(shared_cluster_config(), clock);
    }
};

/// hotstate::async_store over backends::async_redis_cluster.
struct async_cluster_store_fixture : cluster_fixture {
    static constexpr bool manual_rate_clock = false;
    template <class... Categories>
    auto make_store() {
        using front = laws::async_front<hotstate::async_store<hotstate::backends::async_redis_cluster, Categories...>>;
        return std::make_unique<front>(shared_cluster_config(), clock);
    }
};

}  // namespace

using hotstate_law_models = std::tuple<laws::model<async_cluster_fixture, laws::store_capabilities, laws::differential>,
                                       laws::model<async_cluster_store_fixture, laws::store_capabilities>>;
#include "laws/store.hpp"
