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
// Retries are at-least-once, as on a cluster: an increment in flight when the
// master died may count twice, and what the old master acknowledged but had
// not replicated is lost with it.
#pragma once

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/detail/redis/routing/sentinel_router.hpp>
#include <hotstate/redis/cluster/config.hpp>

namespace hotstate::backends {

/// The Redis Sentinel backend with clock policy `C`.
/// @tparam C a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <Clock C = system_clock>
using basic_redis_sentinel = detail::redis::routing::routed_backend<detail::redis::routing::sentinel_router, C>;

/// The Redis Sentinel backend on the system clock.
using redis_sentinel = basic_redis_sentinel<system_clock>;

static_assert(KeyValueBackend<redis_sentinel> && TakeBackend<redis_sentinel> && CounterBackend<redis_sentinel> &&
              RateLimitBackend<redis_sentinel> && LockBackend<redis_sentinel> && LookupBackend<redis_sentinel>);

}  // namespace hotstate::backends
