#include <tuple>

#include "redis/redis_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<redis_fixture>;
#include "conformance/store_conformance.hpp"
