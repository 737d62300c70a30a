#include <tuple>

#include "sharded/sharded_redis_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<sharded_redis_fixture>;
#include "conformance/store_conformance.hpp"
