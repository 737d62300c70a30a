#include <tuple>

#include "sentinel/sentinel_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<sentinel_fixture>;
#include "conformance/store_conformance.hpp"
