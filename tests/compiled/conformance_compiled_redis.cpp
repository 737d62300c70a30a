// The store conformance suite over compiled<basic_redis<manual_clock>>, in a
// TU that sees only the thin declaration: the engine's code is linked in
// from engine_definitions.cpp.
#include <chrono>
#include <memory>
#include <tuple>

#include <hotstate/backends/compiled.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/store.hpp>

#include "support/redis_server.hpp"

using compiled_engine = hotstate::backends::basic_redis<hotstate::manual_clock>;
static_assert(!hotstate::detail::defined_here<compiled_engine>,
              "the thin header must not pull in the engine's definition");

namespace {

hotstate::testing::redis_server& shared_server() {
    static hotstate::testing::redis_server server;
    return server;
}

struct compiled_redis_fixture {
    static constexpr bool expires_in_real_time = true;
    hotstate::manual_clock clock;

    compiled_redis_fixture() { shared_server().command({"FLUSHALL"}); }

    template <class... Categories>
    auto make_store() {
        hotstate::redis::config settings;
        settings.url = shared_server().url();
        settings.node.timeout = std::chrono::seconds{5};
        settings.node.pool_max_connections = 4;
        settings.node.pool_timeout_create = std::chrono::seconds{5};
        settings.node.pool_timeout_wait = std::chrono::seconds{5};
        return std::make_unique<
            hotstate::store<hotstate::backends::compiled<compiled_engine>, Categories...>>(std::move(settings),
                                                                                            clock);
    }
    void pass(std::chrono::milliseconds span) { clock.advance(span); }
    std::chrono::milliseconds short_ttl() const { return std::chrono::milliseconds{150}; }
};

}  // namespace

using hotstate_conformance_fixtures = std::tuple<compiled_redis_fixture>;
#include "conformance/store_conformance.hpp"
