// The laws over compiled<basic_redis<manual_clock>>, in a TU that sees only
// the thin declaration: the engine's code is linked in from
// engine_definitions.cpp. Pipelines run the engine's own code, which is not
// here: compiled<> offers them where the engine's header is included
// (laws/model.hpp, pipelines_run_here), so this model states every other capability.
#include <tuple>

#include <hotstate/backends/compiled.hpp>
#include <hotstate/clock.hpp>

#include "laws/model.hpp"
#include "redis/shared_redis.hpp"

using compiled_engine = hotstate::backends::basic_redis<hotstate::manual_clock>;
static_assert(!hotstate::detail::defined_here<compiled_engine>,
              "the thin header must not pull in the engine's definition");

struct compiled_redis_fixture : shared_redis_fixture<hotstate::backends::compiled<compiled_engine>> {};

using hotstate_law_models = std::tuple<laws::model<compiled_redis_fixture, laws::store_capabilities, laws::differential>>;
#include "laws/store.hpp"
