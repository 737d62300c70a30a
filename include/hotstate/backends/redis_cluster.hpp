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
// At most once: a command whose connection broke after it may have reached
// the server (its master died) is sent again only when running it twice has
// the effect of running it once (GET, SET, lock calls...); an increment, a
// rate check or a take fails instead with error::outcome_unknown(). Redis
// replicates asynchronously, so a write the dead master acknowledged but had
// not yet passed to its replica is lost with it.
// Every operation touches one key, and every Lua script one KEYS[1], so all
// of them (rate limits, locks, counters) run on a cluster: there is no
// multi-key script that could hit CROSSSLOT. Keys of a hash_tagged category
// keep a key and its window buckets in one slot.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/redis/routing/cluster_router.hpp>
#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/redis/cluster/config.hpp>

namespace hotstate::backends {

/// The Redis Cluster backend with clock policy `C`.
/// @tparam C a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <Clock C = system_clock>
class basic_redis_cluster
    : private detail::redis::routing::routed_backend<detail::redis::routing::cluster_router, C> {
    using base = detail::redis::routing::routed_backend<detail::redis::routing::cluster_router, C>;
    friend struct detail::redis::routing::router_access;

public:
    /// What it is built from.
    using config_type = ::hotstate::redis::cluster_config;
    /// The Clock policy.
    using clock_type = C;

    /// Validates `settings` (errc::configuration); opens no connection until
    /// the first operation (see ping()).
    explicit basic_redis_cluster(config_type backend_settings = {}, C clock_policy = C())
        : base(std::move(backend_settings), std::move(clock_policy)) {}

    basic_redis_cluster(const basic_redis_cluster&) = delete;
    basic_redis_cluster& operator=(const basic_redis_cluster&) = delete;

    // The capabilities of backend.hpp, run by the engine this class keeps as a
    // private base (its type is not part of the backend's public face).
    using base::now, base::clock, base::settings, base::ping;
    using base::kv_set, base::kv_get, base::kv_del, base::kv_take, base::kv_exists, base::kv_del_prefix;
    using base::counter_incr, base::counter_get, base::gcra_check;
    using base::lock_acquire, base::lock_release, base::lock_extend;
    using base::set_add, base::set_remove, base::set_contains, base::map_set, base::map_get, base::map_remove;
    using base::pipeline, base::with_connection;

    /// Redirects (MOVED, ASK) and failed attempts followed or retried so far.
    [[nodiscard]] std::uint64_t retry_count() const noexcept { return this->router().retry_count(); }
    /// Times the slot map was read again (CLUSTER SLOTS).
    [[nodiscard]] std::uint64_t refresh_count() const noexcept { return this->router().refresh_count(); }
    /// "host:port" of the master the slot map names for `slot` (0..16383) now:
    /// where a command on a key of that slot goes first.
    [[nodiscard]] std::string master_of_slot(std::uint16_t slot) {
        auto& router = this->router();
        return router.address_of(router.master_index(slot)).to_string();
    }
};

/// The Redis Cluster backend on the system clock.
using redis_cluster = basic_redis_cluster<system_clock>;

static_assert(KeyValueBackend<redis_cluster> && TakeBackend<redis_cluster> && CounterBackend<redis_cluster> &&
              RateLimitBackend<redis_cluster> && LockBackend<redis_cluster> && LookupBackend<redis_cluster>);

}  // namespace hotstate::backends
