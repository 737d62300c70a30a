// The laws over a sharded store of two redis-servers: every store capability.
#include <tuple>

#include "laws/model.hpp"
#include "sharded/sharded_redis_fixture.hpp"

using hotstate_law_models = std::tuple<laws::model<sharded_redis_fixture, laws::store_capabilities, laws::differential>>;
#include "laws/store.hpp"
