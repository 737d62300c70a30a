// The laws over the asynchronous Redis client, two models on one redis-server:
// backends::async_redis under the blocking backend concepts (the test adapter,
// tests/async/async_blocking_adapter.hpp), and hotstate::async_store on it with
// its job queue (laws/async_front.hpp).
#include <memory>
#include <tuple>

#include "async/async_blocking_adapter.hpp"
#include "laws/async_front.hpp"
#include "laws/model.hpp"
#include "redis/redis_fixture.hpp"

/// backends::async_redis behind the blocking concepts, rate limits on the manual clock.
struct async_redis_fixture : shared_redis_fixture<hotstate::testing::async_blocking_adapter<hotstate::manual_clock>> {};

/// hotstate::async_store over backends::async_redis.
struct async_store_fixture : shared_redis_fixture<hotstate::backends::async_redis> {
    static constexpr bool manual_rate_clock = false;
    template <class... Categories>
    auto make_store() {
        using front = laws::async_front<hotstate::async_store<hotstate::backends::async_redis, Categories...>>;
        return std::make_unique<front>(shared_redis_config(), clock);
    }
};

using hotstate_law_models =
    std::tuple<laws::model<async_redis_fixture, laws::store_capabilities, laws::differential>,
               laws::model<async_store_fixture, laws::store_capabilities, laws::pipelines, laws::queue>>;
#include "laws/store.hpp"
