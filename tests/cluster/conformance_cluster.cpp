// The laws over the Redis Cluster backend: every store capability, pipelines and job queues.
#include <tuple>

#include <hotstate/queue/redis_queue.hpp>

#include "cluster/cluster_fixture.hpp"
#include "laws/model.hpp"

using hotstate_law_models =
    std::tuple<laws::model<cluster_fixture, laws::store_capabilities, laws::pipelines, laws::queues, laws::differential>>;
#include "laws/store.hpp"
