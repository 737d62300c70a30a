// hotstate/backend.hpp: the store backend concepts, one per capability.
//
// A backend works on encoded keys and raw bytes; hotstate::store does the typing,
// key encoding and value codecs on top. A backend models the capabilities it
// can honour and no others; calling a missing one through a store is a compile
// error that names the capability.
//
//   capability          concept             memory  redis*  sharded  sqlite  memcached
//   key/value with TTL  KeyValueBackend       yes     yes     yes**    yes     yes
//   delete by prefix    PrefixEraseBackend    yes     yes     yes**    yes     no
//   get-and-delete      TakeBackend           yes     yes     yes**    yes     yes
//   counters + expiry   CounterBackend        yes     yes     yes**    yes     yes
//   GCRA rate limits    RateLimitBackend      yes     yes     yes**    yes     yes
//   owner-token locks   LockBackend           yes     yes     yes**    yes     yes
//   lookups             LookupBackend         yes     yes     yes**    yes     yes
//   pipelines           PipelineBackend       no      yes     no       no      no
//   (* redis, redis_cluster, redis_sentinel; ** when every shard type has it)
//
// Which backend when:
//   - backends::memory: one process, no server; tests, single-node deployments,
//     and a cache in front of anything else. Fastest; state dies with the process.
//   - backends::redis (and its cluster, sentinel and sharded siblings): several
//     processes or nodes share the state; the choice for a cluster.
//   - backends::sqlite: state must survive restarts and no Redis is wanted; the
//     seeds' "Default" variant. Slower writes; needs purge() of expired rows.
//
// Take when a value must be used once (OAuth codes, magic links): of several
// concurrent takes of one value exactly one gets it, in one round trip.
// Pipelines when one request needs several Redis operations: one write and
// one round trip per server instead of one per operation.
//
// Conventions every model follows:
//   - a TTL or expiry of zero milliseconds means "no expiry";
//   - readers never see an expired entry, purged or not;
//   - errors are thrown as hotstate::error naming the operation (the store adds
//     the category); a key's bytes never appear in a message.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>

#include <hotstate/category.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/rate_limit.hpp>

namespace hotstate {

namespace detail {
/// Stands for the callback a backend hands a value's bytes to, in concept checks.
struct bytes_sink_archetype {
    void operator()(std::string_view) const {}
};
}  // namespace detail

/// Every backend tells the time it expires and windows by.
template <class B>
concept StoreBackend = requires(const B& backend) {
    { backend.now() } -> std::same_as<time_point>;
};

/// Key/value with TTL. `kv_get` hands the value's bytes to a sink and returns
/// whether the key exists; the bytes are only valid during the call.
template <class B>
concept KeyValueBackend = StoreBackend<B> && requires(B& backend, std::string_view key, std::string_view value,
                                                      std::chrono::milliseconds ttl,
                                                      detail::bytes_sink_archetype sink) {
    backend.kv_set(key, value, ttl);
    { backend.kv_get(key, sink) } -> std::same_as<bool>;
    { backend.kv_del(key) } -> std::same_as<bool>;
    { backend.kv_exists(key) } -> std::same_as<bool>;
};

/// Deleting every key that starts with a prefix (the store's erase_all):
/// returns how many live keys it removed. A store that cannot list its keys
/// (memcached) does not model it.
template <class B>
concept PrefixEraseBackend = KeyValueBackend<B> && requires(B& backend, std::string_view prefix) {
    { backend.kv_del_prefix(prefix) } -> std::same_as<std::uint64_t>;
};

/// Get-and-delete in one atomic step: `kv_take` hands the live value's bytes to
/// a sink (valid during the call) and deletes the key; of concurrent takes of
/// one value exactly one sees it. An expired value is never handed out.
template <class B>
concept TakeBackend = KeyValueBackend<B> && requires(B& backend, std::string_view key,
                                                     detail::bytes_sink_archetype sink) {
    { backend.kv_take(key, sink) } -> std::same_as<bool>;
};

/// Counters: atomic increment that (re)applies an expiry, returns the new value;
/// a missing counter reads as 0.
template <class B>
concept CounterBackend = StoreBackend<B> && requires(B& backend, std::string_view key, std::int64_t by,
                                                     std::chrono::milliseconds expiry) {
    { backend.counter_incr(key, by, expiry) } -> std::same_as<std::int64_t>;
    { backend.counter_get(key) } -> std::same_as<std::int64_t>;
};

/// Rate limiting: fixed windows come from counters; GCRA needs an atomic
/// read-compute-write of one timestamp, following rate_math::gcra_step.
template <class B>
concept RateLimitBackend = CounterBackend<B> && requires(B& backend, std::string_view key,
                                                         rate_math::gcra_parameters params, std::int64_t cost) {
    { backend.gcra_check(key, params, cost) } -> std::same_as<rate_decision>;
};

/// Which release of one lease this is. `after_unknown_outcome`: an earlier
/// release of it failed with its outcome unknown (its reply lost), so it may
/// have run; a store whose answers can be lost (Redis) then answers true also
/// when that one ran (the lock since freed, or taken by other owners after
/// it), where a plain release would say "not yours". A store whose answers are
/// never lost (memory, SQLite) treats both alike.
enum class release_attempt : bool { first, after_unknown_outcome };

/// Locks with an owner token and a lease. Acquire returns the fencing token:
/// strictly increasing per key (microsecond time, bumped by one when needed);
/// the owner of a live lease acquiring again gets it renewed and its own
/// fence back (so an acquire is safe to send again after a lost reply).
/// Release and extend succeed only for the owner of a live lease. A release
/// names the lease by its owner token and the fence its acquire returned (a
/// network store needs the fence to tell a release of its own that ran), and
/// says whether an earlier one of it may have run (release_attempt).
template <class B>
concept LockBackend = StoreBackend<B> && requires(B& backend, std::string_view key, std::string_view owner,
                                                  std::chrono::milliseconds lease, std::uint64_t fence,
                                                  release_attempt attempt) {
    { backend.lock_acquire(key, owner, lease) } -> std::same_as<std::optional<std::uint64_t>>;
    { backend.lock_release(key, owner, fence, attempt) } -> std::same_as<bool>;
    { backend.lock_extend(key, owner, lease) } -> std::same_as<bool>;
};

/// Lookups: membership sets and key-value maps, each stored under one key
/// (the category prefix ++ the namespace).
template <class B>
concept LookupBackend = StoreBackend<B> && requires(B& backend, std::string_view key, std::string_view member,
                                                    std::string_view value, detail::bytes_sink_archetype sink) {
    { backend.set_add(key, member) } -> std::same_as<bool>;
    { backend.set_remove(key, member) } -> std::same_as<bool>;
    { backend.set_contains(key, member) } -> std::same_as<bool>;
    backend.map_set(key, member, value);
    { backend.map_get(key, member, sink) } -> std::same_as<bool>;
    { backend.map_remove(key, member) } -> std::same_as<bool>;
};

/// An operation for a pipeline: it names its key category and its result
/// type (hotstate::redis::ops::get<C>, ::set<C>, ::incr<C>, ...).
template <class Op>
concept PipelineOp = requires {
    typename Op::category;
    typename Op::result_type;
    { Op::idempotent } -> std::convertible_to<bool>;
} && KeyCategory<typename Op::category>;

/// Pipelines: `pipeline(ops...)` sends the operations together and returns a
/// std::tuple of their results in call order.
template <class B, class... Ops>
concept PipelineBackend = StoreBackend<B> && (PipelineOp<Ops> && ...) && requires(B& backend, const Ops&... ops) {
    backend.pipeline(ops...);
};

}  // namespace hotstate
