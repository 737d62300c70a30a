// The laws over the standalone Redis backend: every store capability, pipelines and job queues.
#include <tuple>

#include <hotstate/queue/redis_queue.hpp>

#include "laws/model.hpp"
#include "redis/redis_fixture.hpp"

using hotstate_law_models =
    std::tuple<laws::model<redis_fixture, laws::store_capabilities, laws::pipelines, laws::queues, laws::differential>>;
#include "laws/store.hpp"
