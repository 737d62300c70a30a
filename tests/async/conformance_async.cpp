// The store conformance suite against backends::async_redis, through the
// blocking test adapter (tests/async/async_blocking_adapter.hpp).
#include <memory>
#include <tuple>

#include "async/async_blocking_adapter.hpp"
#include "redis/redis_fixture.hpp"

struct async_redis_fixture {
    static constexpr bool expires_in_real_time = true;
    hotstate::manual_clock clock;

    async_redis_fixture() { shared_redis_server().command({"FLUSHALL"}); }

    template <class... Categories>
    auto make_store() {
        return std::make_unique<hotstate::store<hotstate::testing::async_blocking_adapter<hotstate::manual_clock>, Categories...>>(
            shared_redis_config(), clock);
    }
    void pass(std::chrono::milliseconds span) { clock.advance(span); }
    std::chrono::milliseconds short_ttl() const { return std::chrono::milliseconds{150}; }
};

using hotstate_conformance_fixtures = std::tuple<async_redis_fixture>;
#include "conformance/store_conformance.hpp"
