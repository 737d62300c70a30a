// The store conformance suite over compiled<basic_redis<manual_clock>>, in a
// TU that sees only the thin declaration: the engine's code is linked in
// from engine_definitions.cpp.
#include <tuple>

#include <hotstate/backends/compiled.hpp>
#include <hotstate/clock.hpp>

#include "redis/shared_redis.hpp"

using compiled_engine = hotstate::backends::basic_redis<hotstate::manual_clock>;
static_assert(!hotstate::detail::defined_here<compiled_engine>,
              "the thin header must not pull in the engine's definition");

struct compiled_redis_fixture : shared_redis_fixture<hotstate::backends::compiled<compiled_engine>> {};

using hotstate_conformance_fixtures = std::tuple<compiled_redis_fixture>;
#include "conformance/store_conformance.hpp"
