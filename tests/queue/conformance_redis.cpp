#include <memory>
#include <tuple>

#include <hotstate/backends/redis_queue.hpp>

#include "redis/redis_fixture.hpp"

using hotstate_queue_fixtures = std::tuple<redis_fixture>;
#include "queue/queue_conformance.hpp"
