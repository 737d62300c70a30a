// Must not compile: one shard type has no locks, so the sharded store has none.
#include <vector>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/store.hpp>

#include "sharded/compile_fail/kv_only_backend.hpp"

struct jobs : hotstate::category<30, "jobs"> {};

int main() {
    using backend = hotstate::backends::sharded<hotstate::backends::memory, kv_only_backend>;
    hotstate::store<backend, jobs> s(std::vector<hotstate::backends::memory_config>{{}},
                                     std::vector<hotstate::backends::memory_config>{{}});
    auto held = s.try_lock<jobs>("nightly", std::chrono::minutes{1});
    (void)held;
}
