#include <tuple>

#include "sqlite/sqlite_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<sqlite_file_fixture, sqlite_memory_fixture>;
#include "conformance/store_conformance.hpp"
