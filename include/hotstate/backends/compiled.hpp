// hotstate/backends/compiled.hpp: a Redis backend whose code is compiled once.
//
// The Redis backends are header-only: every translation unit that calls
// store.get() over backends::redis parses the connection, TLS, routing and
// command code and generates it again (about 4x the compile time of a TU that
// calls hiredis by hand; bench/compile). compiled<Engine> is the same backend
// behind a thin declaration: this header names the engine without defining it,
// every operation is an out-of-line call, and the engine's code is compiled in
// one translation unit of yours:
//
//   // hotstate_redis.cpp, once per program
//   #include <hotstate/backends/compiled_definitions.hpp>
//   #include <hotstate/backends/redis.hpp>
//   template class hotstate::backends::compiled<hotstate::backends::redis>;
//
//   // everywhere else
//   #include <hotstate/backends/compiled.hpp>
//   using backend = hotstate::backends::compiled<hotstate::backends::redis>;
//   hotstate::store<backend, my_categories...> store(settings);   // settings: <hotstate/redis/config.hpp>
//
// Forgetting the instantiation is a link error naming compiled<...>::kv_get
// and friends; instantiating it in two TUs is harmless (weak symbols).
//
// When to use which: backends::redis (header-only) when few TUs touch the
// store or the build is small; compiled<backends::redis> when many TUs do, or
// compile time matters more than one indirect call per operation (the
// network round trip is thousands of times longer). Behaviour is the engine's,
// operation for operation: the same commands, scripts, retries and errors.
//
// Engines: backends::redis, redis_cluster, redis_sentinel (and their basic_*
// forms with another Clock), or any backend class whose header the TU that
// names it includes. What the light header cannot offer without the engine's
// code, it offers through engine(): pipelines (pipeline(ops...) works in a TU
// that includes the engine's header too, and says so in a static_assert
// otherwise), raw connections, cluster statistics.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/rate_limit.hpp>

namespace hotstate::redis {
struct config;
struct cluster_config;
struct sentinel_config;
}  // namespace hotstate::redis

namespace hotstate::backends {

template <Clock C>
class basic_redis;
template <Clock C>
class basic_redis_cluster;
template <Clock C>
class basic_redis_sentinel;
using redis = basic_redis<system_clock>;
using redis_cluster = basic_redis_cluster<system_clock>;
using redis_sentinel = basic_redis_sentinel<system_clock>;

/// What compiled<Engine> needs to know of an engine without its definition.
/// The stock engines are named here; any other engine is read from its class.
template <class Engine>
struct engine_traits {
    using config_type = typename Engine::config_type;
    using clock_type = typename Engine::clock_type;
};
template <Clock C>
struct engine_traits<basic_redis<C>> {
    using config_type = ::hotstate::redis::config;
    using clock_type = C;
};
template <Clock C>
struct engine_traits<basic_redis_cluster<C>> {
    using config_type = ::hotstate::redis::cluster_config;
    using clock_type = C;
};
template <Clock C>
struct engine_traits<basic_redis_sentinel<C>> {
    using config_type = ::hotstate::redis::sentinel_config;
    using clock_type = C;
};

}  // namespace hotstate::backends

namespace hotstate::detail {

/// A borrowed `void(std::string_view)` callable: how a store's decoding sink
/// crosses into the separately compiled engine without a template.
class bytes_sink_ref {
public:
    template <class F>
        requires(!std::same_as<std::remove_cvref_t<F>, bytes_sink_ref>)
    bytes_sink_ref(F& sink) noexcept  // NOLINT(google-explicit-constructor): a parameter adaptor
        : object_(static_cast<void*>(std::addressof(sink))),
          call_([](void* object, std::string_view bytes) { (*static_cast<F*>(object))(bytes); }) {}

    void operator()(std::string_view bytes) const { call_(object_, bytes); }

private:
    void* object_;
    void (*call_)(void*, std::string_view);
};

/// Whether `T` is defined in this translation unit; `Context` only delays
/// the question to the instantiation that asks it.
template <class T, class... Context>
concept defined_here = requires { sizeof(T); };

}  // namespace hotstate::detail

namespace hotstate::backends {

/// `Engine` (a Redis backend) compiled once, in the TU that includes
/// <hotstate/backends/compiled_definitions.hpp> and instantiates it.
/// @tparam Engine backends::redis, redis_cluster, redis_sentinel or a basic_* form
template <class Engine>
class compiled {
public:
    using engine_type = Engine;
    /// What it is built from (the engine's config; define it where you build one).
    using config_type = typename engine_traits<Engine>::config_type;
    /// The Clock policy.
    using clock_type = typename engine_traits<Engine>::clock_type;

    /// The engine with its default configuration.
    compiled();
    /// The engine built from `settings` (validated: errc::configuration).
    explicit compiled(config_type settings);
    /// The engine built from `settings` and `clock`.
    compiled(config_type settings, clock_type clock);
    compiled(compiled&&) noexcept;
    compiled& operator=(compiled&&) noexcept;
    ~compiled();

    /// The engine itself, for what only its full header offers (raw
    /// connections, pool and cluster statistics); include that header to use it.
    [[nodiscard]] Engine& engine() noexcept { return *engine_; }
    [[nodiscard]] const Engine& engine() const noexcept { return *engine_; }

    [[nodiscard]] const config_type& settings() const noexcept;
    [[nodiscard]] time_point now() const;
    /// Opens (or reuses) a connection and PINGs (see the engine's ping()).
    void ping();

    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl);
    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        return kv_get_into(key, detail::bytes_sink_ref(sink));
    }
    bool kv_del(std::string_view key);
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink) {
        return kv_take_into(key, detail::bytes_sink_ref(sink));
    }
    bool kv_exists(std::string_view key);
    std::uint64_t kv_del_prefix(std::string_view prefix);

    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry);
    std::int64_t counter_get(std::string_view key);
    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost);

    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease);
    bool lock_release(std::string_view key, std::string_view owner, std::uint64_t fence, release_attempt attempt);
    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease);

    bool set_add(std::string_view key, std::string_view member);
    bool set_remove(std::string_view key, std::string_view member);
    bool set_contains(std::string_view key, std::string_view member);
    void map_set(std::string_view key, std::string_view field, std::string_view value);
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        return map_get_into(key, field, detail::bytes_sink_ref(sink));
    }
    bool map_remove(std::string_view key, std::string_view field);

    /// The engine's pipeline (one write, typed results). Its code is the
    /// engine's, so the TU that calls it includes the engine's header too.
    template <class... Ops>
    std::tuple<typename Ops::result_type...> pipeline(const Ops&... ops) {
        static_assert(detail::defined_here<Engine, Ops...>,
                      "hotstate: compiled<Engine>::pipeline runs the engine's own pipeline code, which this "
                      "translation unit does not see: include the engine's header here as well "
                      "(<hotstate/backends/redis.hpp>, redis_cluster.hpp or redis_sentinel.hpp)");
        if constexpr (detail::defined_here<Engine, Ops...>) return engine_->pipeline(ops...);
        else return {};
    }

private:
    bool kv_get_into(std::string_view key, detail::bytes_sink_ref sink);
    bool kv_take_into(std::string_view key, detail::bytes_sink_ref sink);
    bool map_get_into(std::string_view key, std::string_view field, detail::bytes_sink_ref sink);

    std::unique_ptr<Engine> engine_;
};

static_assert(KeyValueBackend<compiled<redis>> && TakeBackend<compiled<redis>> && CounterBackend<compiled<redis>> &&
              RateLimitBackend<compiled<redis>> && LockBackend<compiled<redis>> && LookupBackend<compiled<redis>>);

}  // namespace hotstate::backends
