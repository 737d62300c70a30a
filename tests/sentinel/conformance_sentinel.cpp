// The laws over the Redis Sentinel backend: every store capability, pipelines and job queues.
#include <tuple>

#include <hotstate/queue/redis_queue.hpp>

#include "laws/model.hpp"
#include "sentinel/sentinel_fixture.hpp"

using hotstate_law_models =
    std::tuple<laws::model<sentinel_fixture, laws::store_capabilities, laws::pipelines, laws::queues, laws::differential>>;
#include "laws/store.hpp"
