#include <memory>
#include <tuple>

#include <hotstate/queue/redis_queue.hpp>

#include "cluster/cluster_fixture.hpp"

using hotstate_queue_fixtures = std::tuple<cluster_fixture>;
#include "queue/queue_conformance.hpp"
