// hotstate/backends/redis.hpp: the standalone Redis backend (hiredis).
//
// Every store operation is one round trip on a pooled connection:
//   kv_set/get/del/exists   SET [PX] / GET / UNLINK / EXISTS
//   kv_take                 GETDEL (a GET + DEL script on a server older than 6.2)
//   kv_del_prefix           SCAN MATCH <escaped prefix>* + UNLINK per batch (never KEYS)
//   counter_incr            INCRBY, or MULTI/INCRBY/PEXPIRE/EXEC in one write when an expiry is given
//   counter_get             GET (missing reads as 0)
//   gcra_check              a script running rate_math::gcra_step on the key's TAT
//   lock_acquire/release/extend  scripts on one hash {owner, until, fence}, server TIME
//   set_* / map_*           SADD SREM SISMEMBER / HSET HGET HDEL
//   pipeline(ops...)        the typed operations of hotstate/redis/batch.hpp in one write
// Scripts are called by EVALSHA with compile-time SHA-1s, loaded on every new
// connection, and reloaded transparently (EVAL) when the server answers NOSCRIPT.
//
// Semantics are backends::memory's (tests/redis/redis_differential_test.cpp
// checks it operation by operation), except that:
//   - Redis expires keys by its own clock: the Clock policy drives the
//     rate-limit arithmetic only, and a GCRA schedule is kept 1 s beyond its
//     end to absorb the difference between the two clocks;
//   - lock leases and fences use the server's TIME, so every client agrees;
//   - a lock is a hash {owner, until, fence}, so a lock and a key-value lookup
//     under the same category and key share one hash (the embedded backend
//     refuses the second with wrong_type); give locks their own category;
//   - an increment with expiry on a key of another type fails with wrong_type
//     but, inside the seeds' MULTI/EXEC, still re-applies the expiry to it.
//
// With the default key layout, keys and fixed-window buckets are byte-for-byte
// the seeds' (prefix byte ++ key; bucket = prefix ++ key ++ be64(window)).
//
// The operation bodies are detail::redis::routing::routed_backend's, shared with the
// cluster and sentinel backends, over detail::redis::routing::single_router: one pool,
// no slot, no redirect, no retry beyond the pool's one after a server-side close.
#pragma once

#include <string_view>
#include <utility>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/detail/redis/routing/single_router.hpp>
#include <hotstate/detail/redis/io/pipeline_state.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::backends {

/// The standalone Redis backend with clock policy `C`.
/// @tparam C a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <Clock C = system_clock>
class basic_redis : private detail::redis::routing::routed_backend<detail::redis::routing::single_router, C> {
    using base = detail::redis::routing::routed_backend<detail::redis::routing::single_router, C>;
    friend struct detail::redis::routing::router_access;

public:
    /// What it is built from (also what sharded<basic_redis<C>> takes per shard).
    using config_type = ::hotstate::redis::config;
    /// The Clock policy.
    using clock_type = C;
    /// A pooled connection, as with_connection() hands it out.
    using connection = ::hotstate::redis::connection;
    /// An owned reply.
    using reply = ::hotstate::redis::reply;

    /// Validates `settings` (errc::configuration) and prepares the pool; no
    /// connection is opened until the first operation unless
    /// settings.connect_on_start asks for a PING now (see ping()).
    explicit basic_redis(config_type backend_settings = {}, C clock_policy = C())
        : base(std::move(backend_settings), std::move(clock_policy)) {
        if (this->settings().connect_on_start) ping();
    }

    basic_redis(const basic_redis&) = delete;
    basic_redis& operator=(const basic_redis&) = delete;

    // The capabilities of backend.hpp, run by the engine this class keeps as a
    // private base (its type is not part of the backend's public face).
    using base::now, base::clock, base::settings;
    using base::kv_set, base::kv_get, base::kv_del, base::kv_take, base::kv_exists, base::kv_del_prefix;
    using base::counter_incr, base::counter_get, base::gcra_check;
    using base::lock_acquire, base::lock_release, base::lock_extend;
    using base::set_add, base::set_remove, base::set_contains, base::map_set, base::map_get, base::map_remove;
    using base::pipeline, base::with_connection;

    /// The connection pool (for stats and tests).
    [[nodiscard]] ::hotstate::redis::pool& connections() noexcept { return this->router().pool(); }

    /// Opens (or reuses) a connection and PINGs: surfaces a wrong address or
    /// password at start-up instead of on the first real request. (PING)
    void ping() { base::ping(); }

    /// Runs `body(connection&)` on a pooled connection, for commands this
    /// backend does not wrap.
    template <class F>
    decltype(auto) with_connection(F&& body) {
        return connections().run(std::forward<F>(body));
    }
};

/// The standalone Redis backend on the system clock.
using redis = basic_redis<system_clock>;

static_assert(KeyValueBackend<redis> && PrefixEraseBackend<redis> && TakeBackend<redis> && CounterBackend<redis> && RateLimitBackend<redis> &&
              LockBackend<redis> && LookupBackend<redis>);

}  // namespace hotstate::backends
