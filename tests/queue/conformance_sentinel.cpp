#include <memory>
#include <tuple>

#include <hotstate/queue/redis_queue.hpp>

#include "sentinel/sentinel_fixture.hpp"

using hotstate_queue_fixtures = std::tuple<sentinel_fixture>;
#include "queue/queue_conformance.hpp"
