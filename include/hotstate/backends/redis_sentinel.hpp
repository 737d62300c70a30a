// hotstate/backends/redis_sentinel.hpp: the Redis Sentinel backend.
//
//   hotstate::redis::sentinel_config settings;
//   settings.service_name = "hotstate";
//   settings.sentinel_urls = {"redis://10.0.0.1:26379", "redis://10.0.0.2:26379", "redis://10.0.0.3:26379"};
//   hotstate::store<hotstate::backends::redis_sentinel, my_categories...> s(settings);
//
// Three small servers instead of a six-node cluster (the seeds' users asked
// for it). Same operations, commands, Lua scripts and semantics as
// backends::redis, on the master the sentinels name (checked with ROLE). On a
// connection error or a READONLY reply (a failover demoted the server) the
// sentinels are asked again and the operation retried after a backoff, within
// max_retries; then the error names the service and the master it tried.
// At most once, as on a cluster: a command that may have reached the old
// master is sent again only when running it twice is harmless; an increment
// in flight when the master died fails with error::outcome_unknown(). What
// the old master acknowledged but had not replicated is lost with it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/detail/redis/routing/sentinel_router.hpp>
#include <hotstate/redis/cluster/config.hpp>

namespace hotstate::backends {

/// The Redis Sentinel backend with clock policy `C`.
/// @tparam C a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <Clock C = system_clock>
class basic_redis_sentinel
    : private detail::redis::routing::routed_backend<detail::redis::routing::sentinel_router, C> {
    using base = detail::redis::routing::routed_backend<detail::redis::routing::sentinel_router, C>;
    friend struct detail::redis::routing::router_access;

public:
    /// What it is built from.
    using config_type = ::hotstate::redis::sentinel_config;
    /// The Clock policy.
    using clock_type = C;

    /// Validates `settings` (errc::configuration); asks no sentinel until the
    /// first operation (see ping()).
    explicit basic_redis_sentinel(config_type backend_settings = {}, C clock_policy = C())
        : base(std::move(backend_settings), std::move(clock_policy)) {}

    basic_redis_sentinel(const basic_redis_sentinel&) = delete;
    basic_redis_sentinel& operator=(const basic_redis_sentinel&) = delete;

    // The capabilities of backend.hpp, run by the engine this class keeps as a
    // private base (its type is not part of the backend's public face).
    using base::now, base::clock, base::settings, base::ping;
    using base::kv_set, base::kv_get, base::kv_del, base::kv_take, base::kv_exists, base::kv_del_prefix;
    using base::counter_incr, base::counter_get, base::gcra_check;
    using base::lock_acquire, base::lock_release, base::lock_extend;
    using base::set_add, base::set_remove, base::set_contains, base::map_set, base::map_get, base::map_remove;
    using base::pipeline, base::with_connection;

    /// The master in use now ("host:port"), or empty before the sentinels were first asked.
    [[nodiscard]] std::string master_address() const { return this->router().master_address(); }
    /// Times the sentinels named a master (the first discovery and every one after a failover).
    [[nodiscard]] std::uint64_t discovery_count() const noexcept { return this->router().discovery_count(); }
    /// Failed attempts that were retried (connection errors, READONLY, LOADING).
    [[nodiscard]] std::uint64_t retry_count() const noexcept { return this->router().retry_count(); }
};

/// The Redis Sentinel backend on the system clock.
using redis_sentinel = basic_redis_sentinel<system_clock>;

static_assert(KeyValueBackend<redis_sentinel> && TakeBackend<redis_sentinel> && CounterBackend<redis_sentinel> &&
              RateLimitBackend<redis_sentinel> && LockBackend<redis_sentinel> && LookupBackend<redis_sentinel>);

}  // namespace hotstate::backends
