// The store conformance suite against a standalone redis-server reached only
// over TLS (`rediss://`, the CA of the test certificates).
#include <tuple>

#include "tls/tls_fixture.hpp"

using hotstate_conformance_fixtures = std::tuple<redis_tls_fixture>;
#include "conformance/store_conformance.hpp"
