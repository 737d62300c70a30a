#include <tuple>

#include "sharded/sharded_memory_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<sharded_memory_fixture>;
#include "conformance/store_conformance.hpp"
