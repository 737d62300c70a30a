// {fmt} is opt-in (hotstate/fmt.hpp, target hotstate::fmt): a store over any
// Redis backend, the coordinator and its Redis transports compile without it,
// even where <fmt/format.h> is on the include path, as it is for this target.
#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/coordinator.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/store.hpp>
#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

#if defined(FMT_VERSION) || defined(FMT_CORE_H_)
#error "a hotstate header pulled in {fmt}: only hotstate/fmt.hpp may include it"
#endif

#if !__has_include(<fmt/core.h>)
#error "this check needs <fmt/core.h> on the include path, or it proves nothing"
#endif

#include <catch2/catch.hpp>

TEST_CASE("fmt: no hotstate header but fmt.hpp includes {fmt}", "[unit][fmt]") {
    // the check is the #error above; here, that the headers were usable
    STATIC_REQUIRE(hotstate::StoreBackend<hotstate::backends::redis>);
}
