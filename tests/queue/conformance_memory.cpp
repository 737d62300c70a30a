#include <memory>
#include <tuple>

#include <hotstate/queue/memory_queue.hpp>

#include "memory/memory_fixture.hpp"

using hotstate_queue_fixtures = std::tuple<memory_fixture>;
#include "queue/queue_conformance.hpp"
