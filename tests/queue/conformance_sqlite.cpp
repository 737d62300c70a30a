#include <memory>
#include <tuple>

#include <hotstate/queue/sqlite_queue.hpp>

#include "sqlite/sqlite_fixture.hpp"

using hotstate_queue_fixtures = std::tuple<sqlite_file_fixture>;
#include "queue/queue_conformance.hpp"
