#include <tuple>

#include "memory/memory_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<memory_fixture>;
#include "conformance/store_conformance.hpp"
