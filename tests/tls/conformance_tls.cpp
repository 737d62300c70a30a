// The laws against a standalone redis-server reached only over TLS (`rediss://`,
// the CA of the test certificates): every store capability and pipelines.
#include <tuple>

#include "laws/model.hpp"
#include "tls/tls_fixture.hpp"

using hotstate_law_models = std::tuple<laws::model<redis_tls_fixture, laws::store_capabilities, laws::pipelines, laws::differential>>;
#include "laws/store.hpp"
