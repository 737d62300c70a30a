#include <tuple>

#include "cluster/cluster_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<cluster_fixture>;
#include "conformance/store_conformance.hpp"
