// hotstate/backends/sharded.hpp: one store spread over several backends.
//
//   using store_t = hotstate::store<hotstate::backends::sharded<hotstate::backends::redis>, my_category>;
//   store_t s(std::vector<hotstate::backends::redis_config>{shard_a, shard_b});
//
// A key lives on shard `xxh3_64(encoded key) % n`: the seeds' rule, so a store
// migrated from that system finds every key where it was left (the shard order
// is the order of the configuration). Delete-by-category runs on every shard.
//
// The shard types are a compile-time list, the shards of each type a runtime
// list: `sharded<redis, redis_cluster>` takes one vector of configs per type and
// numbers the shards in that order (all of the first type, then the second...).
// Routing is a hash and an index, with no virtual call; with a single shard type
// the type walk disappears at compile time. sharded models exactly the
// capabilities every one of its shard types models. `sharded<memcached>`
// spreads keys over memcached servers by the same hash.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <xxhash.h>

#include <hotstate/backend.hpp>
#include <hotstate/backends/memory.hpp>
#include <hotstate/error.hpp>

namespace hotstate::backends {

/// What a shard of type `S` is built from: `S::config_type` (every Redis
/// backend has one), memory_config for the embedded backend.
/// Specialise it for a backend of your own.
template <class S>
struct shard_config {
    using type = typename S::config_type;
};
template <Clock C>
struct shard_config<basic_memory<C>> {
    using type = memory_config;
};
/// The configuration type of one shard of type `S`.
template <class S>
using shard_config_t = typename shard_config<S>::type;

/// The shard index of an encoded key among `shard_count` shards: xxh3_64 % n,
/// as the seeds' sharded store computes it.
[[nodiscard]] inline std::size_t shard_of(std::string_view encoded_key, std::size_t shard_count) noexcept {
    return static_cast<std::size_t>(XXH3_64bits(encoded_key.data(), encoded_key.size()) % shard_count);
}

/// Several backends behind one: each key on shard xxh3_64(key) % n.
/// @tparam Shards the shard backend types, each a StoreBackend
template <StoreBackend... Shards>
    requires(sizeof...(Shards) > 0)
class sharded {
public:
    /// Builds the shards from one list of configurations per shard type.
    explicit sharded(std::vector<shard_config_t<Shards>>... configs)
        : shards_(build<Shards>(std::move(configs))...) {
        check_not_empty();
    }

    /// Adopts shards built elsewhere (for example sharing one manual clock).
    explicit sharded(std::vector<std::unique_ptr<Shards>>... shards) : shards_(std::move(shards)...) {
        const bool any_null = std::apply(
            [](const auto&... lists) {
                return (std::any_of(lists.begin(), lists.end(), [](const auto& shard) { return !shard; }) || ...);
            },
            shards_);
        if (any_null) throw error(errc::configuration, "sharded: a shard is null");
        check_not_empty();
    }

    sharded(const sharded&) = delete;
    sharded& operator=(const sharded&) = delete;

    /// The time of the first shard: every shard must agree on it.
    [[nodiscard]] time_point now() const { return std::get<0>(shards_).front()->now(); }

    /// Number of shards, all types together.
    [[nodiscard]] std::size_t shard_count() const noexcept { return total_; }

    /// The shard index `encoded_key` lives on.
    [[nodiscard]] std::size_t shard_index(std::string_view encoded_key) const noexcept {
        return shard_of(encoded_key, total_);
    }

    /// The `index`th shard of type number `TypeIndex`, counted within that type.
    template <std::size_t TypeIndex = 0>
    [[nodiscard]] auto& shard(std::size_t index) {
        return *std::get<TypeIndex>(shards_).at(index);
    }

    // ---- KeyValueBackend ----------------------------------------------------

    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl)
        requires(KeyValueBackend<Shards> && ...)
    {
        route(key, [&](auto& shard) { shard.kv_set(key, value, ttl); });
    }
    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink)
        requires(KeyValueBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.kv_get(key, sink); });
    }
    bool kv_del(std::string_view key)
        requires(KeyValueBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.kv_del(key); });
    }
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink)
        requires(TakeBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.kv_take(key, sink); });
    }
    bool kv_exists(std::string_view key)
        requires(KeyValueBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.kv_exists(key); });
    }
    /// Runs on every shard, in shard order; returns the total removed.
    std::uint64_t kv_del_prefix(std::string_view prefix)
        requires(PrefixEraseBackend<Shards> && ...)
    {
        std::uint64_t removed = 0;
        for_each_shard([&](auto& shard) { removed += shard.kv_del_prefix(prefix); });
        return removed;
    }

    // ---- CounterBackend -----------------------------------------------------

    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry)
        requires(CounterBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.counter_incr(key, by, expiry); });
    }
    std::int64_t counter_get(std::string_view key)
        requires(CounterBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.counter_get(key); });
    }

    // ---- RateLimitBackend ---------------------------------------------------

    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost)
        requires(RateLimitBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.gcra_check(key, params, cost); });
    }

    // ---- LockBackend --------------------------------------------------------

    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease)
        requires(LockBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.lock_acquire(key, owner, lease); });
    }
    bool lock_release(std::string_view key, std::string_view owner, std::uint64_t fence, release_attempt attempt)
        requires(LockBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.lock_release(key, owner, fence, attempt); });
    }
    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease)
        requires(LockBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.lock_extend(key, owner, lease); });
    }

    // ---- LookupBackend ------------------------------------------------------

    bool set_add(std::string_view key, std::string_view member)
        requires(LookupBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.set_add(key, member); });
    }
    bool set_remove(std::string_view key, std::string_view member)
        requires(LookupBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.set_remove(key, member); });
    }
    bool set_contains(std::string_view key, std::string_view member)
        requires(LookupBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.set_contains(key, member); });
    }
    void map_set(std::string_view key, std::string_view field, std::string_view value)
        requires(LookupBackend<Shards> && ...)
    {
        route(key, [&](auto& shard) { shard.map_set(key, field, value); });
    }
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink)
        requires(LookupBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.map_get(key, field, sink); });
    }
    bool map_remove(std::string_view key, std::string_view field)
        requires(LookupBackend<Shards> && ...)
    {
        return route(key, [&](auto& shard) { return shard.map_remove(key, field); });
    }

private:
    template <class S>
    static std::vector<std::unique_ptr<S>> build(std::vector<shard_config_t<S>> configs) {
        std::vector<std::unique_ptr<S>> built;
        built.reserve(configs.size());
        for (auto& config : configs) built.push_back(std::make_unique<S>(std::move(config)));
        return built;
    }

    void check_not_empty() {
        total_ = std::apply([](const auto&... lists) { return (lists.size() + ...); }, shards_);
        if (total_ == 0) throw error(errc::configuration, "sharded: at least one shard is needed");
        if (std::get<0>(shards_).empty())
            throw error(errc::configuration, "sharded: the first shard type needs at least one shard (it keeps the time)");
    }

    template <class F>
    void for_each_shard(F&& f) {
        std::apply([&](auto&... lists) { (for_each_in(lists, f), ...); }, shards_);
    }
    template <class List, class F>
    static void for_each_in(List& list, F& f) {
        for (auto& shard : list) f(*shard);
    }

    /// Calls `f` on the shard `key` belongs to.
    template <class F>
    decltype(auto) route(std::string_view key, F&& f) {
        const std::size_t index = shard_of(key, total_);
        if constexpr (sizeof...(Shards) == 1) {
            return f(*std::get<0>(shards_)[index]);
        } else {
            return route_from<0>(index, f);
        }
    }
    template <std::size_t I, class F>
    decltype(auto) route_from(std::size_t index, F& f) {
        auto& list = std::get<I>(shards_);
        if constexpr (I + 1 == sizeof...(Shards)) {
            return f(*list[index]);
        } else {
            if (index < list.size()) return f(*list[index]);
            return route_from<I + 1>(index - list.size(), f);
        }
    }

    std::tuple<std::vector<std::unique_ptr<Shards>>...> shards_;
    std::size_t total_ = 0;
};

static_assert(KeyValueBackend<sharded<memory>> && TakeBackend<sharded<memory>> &&
              CounterBackend<sharded<memory>> && RateLimitBackend<sharded<memory>> && LockBackend<sharded<memory>> &&
              LookupBackend<sharded<memory>>);

}  // namespace hotstate::backends
