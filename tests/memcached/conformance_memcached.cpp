// The laws over the memcached backend: every store capability but delete by
// prefix (memcached cannot list its keys), and the differential law.
#include <tuple>

#include "laws/model.hpp"
#include "memcached/memcached_fixture.hpp"

using hotstate_law_models = std::tuple<
    laws::model<memcached_fixture, laws::store_capabilities_without_prefix_erase, laws::differential>>;
#include "laws/store.hpp"
