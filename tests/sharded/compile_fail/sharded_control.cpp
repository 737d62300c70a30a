// Must compile: the same sharded store uses the capability every shard has.
#include <vector>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/store.hpp>

#include "sharded/compile_fail/kv_only_backend.hpp"

struct jobs : hotstate::category<30, "jobs"> {};

static_assert(hotstate::KeyValueBackend<hotstate::backends::sharded<hotstate::backends::memory, kv_only_backend>>);
static_assert(!hotstate::LockBackend<hotstate::backends::sharded<hotstate::backends::memory, kv_only_backend>>);
static_assert(hotstate::LockBackend<hotstate::backends::sharded<hotstate::backends::memory>>);

int main() {
    using backend = hotstate::backends::sharded<hotstate::backends::memory, kv_only_backend>;
    hotstate::store<backend, jobs> s(std::vector<hotstate::backends::memory_config>{{}},
                                     std::vector<hotstate::backends::memory_config>{{}});
    s.set<jobs>("nightly", "x");
}
