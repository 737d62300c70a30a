// The laws over a sharded store of three embedded shards: every store capability.
#include <tuple>

#include "laws/model.hpp"
#include "sharded/sharded_memory_fixture.hpp"

using hotstate_law_models = std::tuple<laws::model<sharded_memory_fixture, laws::store_capabilities, laws::differential>>;
#include "laws/store.hpp"
