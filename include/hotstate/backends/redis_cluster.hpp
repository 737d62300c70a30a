// hotstate/backends/redis_cluster.hpp: the Redis Cluster backend.
//
//   hotstate::redis::cluster_config settings;
//   settings.urls = {"redis://10.0.0.1:7000", "redis://10.0.0.2:7000"};
//   hotstate::store<hotstate::backends::redis_cluster, my_categories...> s(settings);
//
// Same operations, commands, Lua scripts and semantics as backends::redis; what
// differs is where a command goes:
//   - the slot map comes from CLUSTER SLOTS (asked of any known node, seeds
//     first) and a key's slot is CRC16 with {hash tag} rules, computed locally;
//   - one connection pool per node; MOVED patches the slot and refreshes the
//     map, ASK retries once on the target after ASKING, TRYAGAIN/CLUSTERDOWN/
//     LOADING and connection errors back off from min_retry_wait doubling up to
//     max_retry_wait, at most max_retries times; then the error names the slot
//     and the node;
//   - with read_from_replicas, reads go to a replica (READONLY), writes never;
//   - delete-by-category SCANs every master.
// Retries are at-least-once: a write whose connection broke after it was sent
// (its master died) is sent again, so an increment in flight at that moment
// may count twice; and since Redis replicates asynchronously, a write the dead
// master acknowledged but had not yet passed to its replica is lost with it.
// Every operation touches one key, and every Lua script one KEYS[1], so all
// of them (rate limits, locks, counters) run on a cluster: there is no
// multi-key script that could hit CROSSSLOT. Keys of a hash_tagged category
// keep a key and its window buckets in one slot.
#pragma once

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/redis/routing/cluster_router.hpp>
#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/redis/cluster/config.hpp>

namespace hotstate::backends {

/// The Redis Cluster backend with clock policy `C`.
/// @tparam C a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <Clock C = system_clock>
using basic_redis_cluster = detail::redis::routing::routed_backend<detail::redis::routing::cluster_router, C>;

/// The Redis Cluster backend on the system clock.
using redis_cluster = basic_redis_cluster<system_clock>;

static_assert(KeyValueBackend<redis_cluster> && TakeBackend<redis_cluster> && CounterBackend<redis_cluster> &&
              RateLimitBackend<redis_cluster> && LockBackend<redis_cluster> && LookupBackend<redis_cluster>);

}  // namespace hotstate::backends
