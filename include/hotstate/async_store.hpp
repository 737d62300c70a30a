// hotstate/async_store.hpp: hotstate::async_store, the asynchronous front end.
//
//   boost::asio::io_context io;
//   hotstate::async_store<hotstate::backends::async_redis, failed_logins> store(io.get_executor(), config);
//   std::int64_t n = co_await store.async_increment<failed_logins>(ip, 1, 1h, boost::asio::use_awaitable);
//
// The same compile-time checks as hotstate::store (registered categories,
// value types, counter categories) and no runtime dispatch: the backend is a
// template argument and each call is one command value of
// detail/redis/proto/commands.hpp, the very one the blocking Redis backend sends.
// Every call takes an Asio completion token; the completion signature is
// void(std::exception_ptr, T), so callbacks, use_awaitable and use_future work.
// Arguments and their defaults are hotstate::store's (an expiry, an increment's
// step, a rate check's cost or mode, erase_all's prefix may be left out), the
// token always last; tests/laws/signatures.cpp lists the pairs.
// Arguments are copied into the operation: nothing the caller passes needs to
// outlive the call.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <cstddef>
#include <tuple>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <hotstate/category.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/async_backend.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/detail/base/token.hpp>
#include <hotstate/key.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

namespace hotstate {

template <AsyncStoreBackend Backend, KeyCategory... Categories>
class async_store;

namespace detail {
/// `Token` completes an operation whose result is a `T`: what tells a left-out
/// argument (an expiry, a step, a cost) from the completion token.
template <class Token, class T>
concept completion_token_of = boost::asio::completion_token_for<Token, void(std::exception_ptr, T)>;
}  // namespace detail

/// A lock held through an async_store: owner and fencing tokens. Release it
/// with async_release; destroyed while held, it schedules a release (never
/// blocks, never throws; the lease runs out by itself if that fails).
template <class Store, class Category>
class async_lock : public detail::lock_hold<Store> {
public:
    /// Takes over `other`'s lock.
    async_lock(async_lock&& other) noexcept = default;
    /// Schedules a release when still held.
    ~async_lock() {
        if (this->store_ != nullptr) this->store_->release_detached(std::move(this->key_), std::move(this->owner_), this->fence_);
    }

private:
    template <AsyncStoreBackend B, KeyCategory... Cs>
    friend class async_store;
    async_lock(Store& store, std::string key, std::string owner, std::uint64_t fence)
        : detail::lock_hold<Store>(store, std::move(key), std::move(owner), fence) {}
};

/// The asynchronous store: hotstate::store's calls as Asio operations over one
/// multiplexed connection (see the banner).
/// @tparam Backend an AsyncStoreBackend (backends::async_redis)
/// @tparam Categories the key categories this store may touch
template <AsyncStoreBackend Backend, KeyCategory... Categories>
class async_store {
    static_assert(detail::ids_are_unique<Categories...>(),
                  "hotstate: two key categories registered with this store share one id");


public:
    /// Constructs the backend from `args` (e.g. an executor and a redis::config).
    template <class... Args>
        requires std::constructible_from<Backend, Args&&...>
    explicit async_store(Args&&... args) : backend_(std::forward<Args>(args)...) {}

    /// The backend.
    [[nodiscard]] Backend& backend() noexcept { return backend_; }

    /// Closes the backend's connections, so that io_context::run() returns once
    /// nothing else is pending (the connections' loops and health checks keep
    /// it busy until then): operations still waiting fail with errc::connection,
    /// later ones at once. Call it when the program shuts down; destroying the
    /// store does it too. Thread-safe; closing twice is harmless.
    void close() { backend_.close(); }

    /// Stores `value` under `key` (expiring after `expiry` when given). [SET PX]
    template <class C, class V, class Token>
    auto async_set(std::string_view key, const V& value, ttl expiry, Token&& token) {
        check_registered<C>();
        detail::check_value_type<C, V>();
        const auto ms = detail::expiry_of<C>(expiry, "set").count();
        std::string payload;
        detail::with_encoded_value<C>(value, [&](std::string_view encoded) { payload.assign(encoded); });
        return backend_.async_kv_set(label<C>("set"), key_of<C>(key), std::move(payload), ms, std::forward<Token>(token));
    }
    /// Stores `value` under `key` until it is deleted. [SET]
    template <class C, class V, detail::completion_token_of<bool> Token>
    auto async_set(std::string_view key, const V& value, Token&& token) {
        return async_set<C>(key, value, std::nullopt, std::forward<Token>(token));
    }

    /// The value under `key`, or nullopt. [GET]
    template <class C, class Token>
    auto async_get(std::string_view key, Token&& token) {
        check_registered<C>();
        return backend_.template async_kv_get<std::optional<typename C::value_type>>(label<C>("get"), key_of<C>(key),
                                                                                     decode<C>{}, std::forward<Token>(token));
    }

    /// Gets and deletes `key` in one step: of concurrent takes exactly one gets it. [GETDEL]
    template <class C, class Token>
    auto async_take(std::string_view key, Token&& token) {
        check_registered<C>();
        return backend_.template async_kv_take<std::optional<typename C::value_type>>(
            label<C>("take"), key_of<C>(key), decode<C>{}, std::forward<Token>(token));
    }

    /// Deletes `key`; true when it existed. [UNLINK]
    template <class C, class Token>
    auto async_erase(std::string_view key, Token&& token) {
        check_registered<C>();
        return backend_.async_kv_del(label<C>("erase"), key_of<C>(key), std::forward<Token>(token));
    }

    /// Whether `key` exists. [EXISTS]
    template <class C, class Token>
    auto async_exists(std::string_view key, Token&& token) {
        check_registered<C>();
        return backend_.async_kv_exists(label<C>("exists"), key_of<C>(key), std::forward<Token>(token));
    }

    /// Adds `by` to the counter and gives the new value; `expiry` is re-applied on every increment. [INCRBY]
    template <class C, class Token>
    auto async_increment(std::string_view key, std::int64_t by, ttl expiry, Token&& token) {
        check_registered<C>();
        detail::check_counter_category<C>();
        const auto ms = detail::expiry_of<C>(expiry, "increment").count();
        return backend_.async_counter_incr(label<C>("increment"), key_of<C>(key), by, ms, std::forward<Token>(token));
    }
    /// Adds `by` to the counter (no expiry) and gives the new value. [INCRBY]
    template <class C, detail::completion_token_of<std::int64_t> Token>
    auto async_increment(std::string_view key, std::int64_t by, Token&& token) {
        return async_increment<C>(key, by, std::nullopt, std::forward<Token>(token));
    }
    /// Adds 1 to the counter (no expiry) and gives the new value. [INCRBY]
    template <class C, detail::completion_token_of<std::int64_t> Token>
    auto async_increment(std::string_view key, Token&& token) {
        return async_increment<C>(key, 1, std::nullopt, std::forward<Token>(token));
    }

    /// The counter's value (0 when missing). [GET]
    template <class C, class Token>
    auto async_counter(std::string_view key, Token&& token) {
        check_registered<C>();
        detail::check_counter_category<C>();
        return backend_.async_counter_get(label<C>("counter"), key_of<C>(key), std::forward<Token>(token));
    }

    /// GCRA check: `cost` requests at once (the client's system clock gives "now"). [the GCRA script]
    template <class C, class Token>
    auto async_check_rate(std::string_view key, const gcra& policy, std::int64_t cost, Token&& token) {
        check_registered<C>();
        if (policy.rate <= 0 || policy.burst <= 0 || policy.period.count() <= 0 || cost <= 0)
            throw error(errc::invalid_argument,
                        detail::operation_context<C>("check_rate") + "gcra needs rate, burst, period and cost > 0");
        const std::int64_t now_us =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        return backend_.async_gcra_check(label<C>("check_rate"), key_of<C>(key), rate_math::gcra_parameters_of(policy),
                                         cost, now_us, std::forward<Token>(token));
    }
    /// GCRA check of one request. [the GCRA script]
    template <class C, detail::completion_token_of<rate_decision> Token>
    auto async_check_rate(std::string_view key, const gcra& policy, Token&& token) {
        return async_check_rate<C>(key, policy, std::int64_t{1}, std::forward<Token>(token));
    }

    /// Fixed-window check with the store's semantics: counts the request (unless
    /// `mode` is soft) in the bucket of the current window (the client's system
    /// clock gives "now"). [INCRBY + PEXPIRE in one transaction, or GET]
    template <class C, class Token>
    auto async_check_rate(std::string_view key, const fixed_window& policy, rate_check mode, Token&& token) {
        check_registered<C>();
        detail::check_counter_category<C>();
        if (policy.limit < 0 || policy.period.count() <= 0)
            throw error(errc::invalid_argument,
                        detail::operation_context<C>("check_rate") + "fixed_window needs limit >= 0 and period > 0");
        const auto position = rate_math::locate_window(
            std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()), policy.period);
        std::string bucket = encode_window_bucket(C::id, C::layout, key, position.index);
        if (mode == rate_check::soft)
            return backend_.template async_counter_get_as<rate_decision>(
                label<C>("check_rate"), std::move(bucket),
                [policy, remaining = position.remaining](std::int64_t count) {
                    return rate_math::fixed_window_soft_decision(count, policy, remaining);
                },
                std::forward<Token>(token));
        return backend_.template async_counter_incr_as<rate_decision>(
            label<C>("check_rate"), std::move(bucket), 1, position.remaining.count(),
            [policy, remaining = position.remaining](std::int64_t count) {
                return rate_math::fixed_window_decision(count, policy, remaining);
            },
            std::forward<Token>(token));
    }
    /// Fixed-window check that counts the request. [INCRBY + PEXPIRE in one transaction]
    template <class C, detail::completion_token_of<rate_decision> Token>
    auto async_check_rate(std::string_view key, const fixed_window& policy, Token&& token) {
        return async_check_rate<C>(key, policy, rate_check::count, std::forward<Token>(token));
    }

    /// Deletes every key of the category (whose key starts with `key_prefix`):
    /// how many there were. [SCAN MATCH pages, the UNLINKs of a page pipelined]
    template <class C, class Token>
    auto async_erase_all(std::string_view key_prefix, Token&& token) {
        check_registered<C>();
        return backend_.async_kv_del_prefix(label<C>("erase_all"), encode_key_prefix(C::id, C::layout, key_prefix),
                                            std::forward<Token>(token));
    }
    /// Deletes every key of the category: how many there were.
    template <class C, detail::completion_token_of<std::uint64_t> Token>
    auto async_erase_all(Token&& token) {
        return async_erase_all<C>(std::string_view{}, std::forward<Token>(token));
    }

    /// Adds `member` to the set `name_space`; true when new. [SADD]
    template <class C, class Token>
    auto async_lookup_add(std::string_view name_space, std::string_view member, Token&& token) {
        check_registered<C>();
        return backend_.async_set_add(label<C>("lookup_add"), key_of<C>(name_space), std::string(member),
                                      std::forward<Token>(token));
    }
    /// Removes `member` from the set `name_space`; true when it was there. [SREM]
    template <class C, class Token>
    auto async_lookup_remove(std::string_view name_space, std::string_view member, Token&& token) {
        check_registered<C>();
        return backend_.async_set_remove(label<C>("lookup_remove"), key_of<C>(name_space), std::string(member),
                                         std::forward<Token>(token));
    }
    /// Whether `member` is in the set `name_space`. [SISMEMBER]
    template <class C, class Token>
    auto async_lookup_contains(std::string_view name_space, std::string_view member, Token&& token) {
        check_registered<C>();
        return backend_.async_set_contains(label<C>("lookup_contains"), key_of<C>(name_space), std::string(member),
                                           std::forward<Token>(token));
    }
    /// Sets `field` of the map `name_space`; true when the field is new. [HSET]
    template <class C, class V, class Token>
    auto async_lookup_set(std::string_view name_space, std::string_view field, const V& value, Token&& token) {
        check_registered<C>();
        detail::check_value_type<C, V>();
        std::string payload;
        detail::with_encoded_value<C>(value, [&](std::string_view encoded) { payload.assign(encoded); });
        return backend_.async_map_set(label<C>("lookup_set"), key_of<C>(name_space), std::string(field),
                                      std::move(payload), std::forward<Token>(token));
    }
    /// A field of the map `name_space`, or nullopt. [HGET]
    template <class C, class Token>
    auto async_lookup_get(std::string_view name_space, std::string_view field, Token&& token) {
        check_registered<C>();
        return backend_.template async_map_get<std::optional<typename C::value_type>>(
            label<C>("lookup_get"), key_of<C>(name_space), std::string(field), decode<C>{}, std::forward<Token>(token));
    }
    /// Removes a field of the map `name_space`; true when it was there. [HDEL]
    template <class C, class Token>
    auto async_lookup_erase(std::string_view name_space, std::string_view field, Token&& token) {
        check_registered<C>();
        return backend_.async_map_remove(label<C>("lookup_erase"), key_of<C>(name_space), std::string(field),
                                         std::forward<Token>(token));
    }

    /// Tries to take the lock `key` for `lease`: an engaged async_lock holds it.
    /// When the outcome stays unknown, completes with lock_outcome_unknown,
    /// which carries the owner token it used (see the overload below). [the lock scripts]
    template <class C, class Token>
    auto async_try_lock(std::string_view key, std::chrono::milliseconds lease, Token&& token) {
        return async_try_lock<C>(key, lease, detail::random_token(), std::forward<Token>(token));
    }

    /// async_try_lock under `owner_token` (a lock_outcome_unknown's): the
    /// holder of a live lease under that token gets it back, renewed, with its
    /// fence; nothing while another owner holds it. [the lock scripts]
    template <class C, class Token>
    auto async_try_lock(std::string_view key, std::chrono::milliseconds lease, std::string owner_token, Token&& token) {
        check_registered<C>();
        if (lease.count() <= 0)
            throw error(errc::invalid_argument, detail::operation_context<C>("try_lock") + "lease must be positive");
        if (owner_token.empty())
            throw error(errc::invalid_argument, detail::operation_context<C>("try_lock") + "the owner token is empty");
        return backend_.template async_lock_acquire<std::optional<async_lock<async_store, C>>>(
            label<C>("try_lock"), key_of<C>(key), std::move(owner_token), lease.count(),
            [this](std::optional<std::uint64_t> fence, std::string k,
                   std::string owner) -> std::optional<async_lock<async_store, C>> {
                if (!fence) return std::nullopt;
                return async_lock<async_store, C>(*this, std::move(k), std::move(owner), *fence);
            },
            std::forward<Token>(token));
    }

    /// Releases `held`; true when it was still ours (false: the lease had run
    /// out). `held` stays held() until the answer comes (so it must live until
    /// then, as an Asio buffer must): a release that fails leaves it
    /// releasable, and that release is true when the failed one did run. [HDEL; the release script]
    template <class C, class Token>
    auto async_release(async_lock<async_store, C>& held, Token&& token) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr, bool)>(
            [this, &held](auto handler) {
                auto answered = [&held](bool released) {
                    held.store_ = nullptr;  // answered: no longer held
                    return released;
                };
                const auto attempt =
                    held.release_sent_ ? release_attempt::after_unknown_outcome : release_attempt::first;
                held.release_sent_ = true;  // until it is answered: the next is sent as one that may have run
                backend_.template async_lock_release<bool>(label<C>("release"), held.key_, held.owner_, held.fence_,
                                                           attempt, answered, std::move(handler));
            },
            token);
    }

    /// Renews `held`'s lease; true when it was still ours (false: it is no
    /// longer held()). `held` must live until the answer comes. [the extend script]
    template <class C, class Token>
    auto async_extend(async_lock<async_store, C>& held, std::chrono::milliseconds lease, Token&& token) {
        if (lease.count() <= 0)
            throw error(errc::invalid_argument, detail::operation_context<C>("extend") + "lease must be positive");
        return backend_.template async_lock_extend<bool>(label<C>("extend"), held.key_, held.owner_, lease.count(),
                                                         [&held](bool renewed) {
                                                             if (!renewed) held.store_ = nullptr;  // the lease is over
                                                             return renewed;
                                                         },
                                                         std::forward<Token>(token));
    }

    /// Sends the operations of hotstate::redis::ops together (one request on
    /// the connection, written with whatever else is queued) and completes with
    /// their results as a std::tuple, in call order; the completion token comes
    /// last, as in every Asio call:
    ///
    ///     namespace ops = hotstate::redis::ops;
    ///     auto [fails, code] = co_await store.async_pipeline(ops::incr<failed_logins>{ip, 1, 1h},
    ///                                                        ops::take<cat::oauth>{code_id}, use_awaitable);
    ///
    /// The categories are checked against this store's list, keys and values
    /// encoded as the store does (the ops are copied: nothing needs to outlive
    /// the call). Every operation runs even when one fails; the first failure
    /// then completes the call. Sent again after a lost connection only when
    /// every operation is idempotent.
    template <class... Args>
    auto async_pipeline(Args&&... args) {
        static_assert(sizeof...(Args) >= 2, "hotstate: async_pipeline takes operations, then a completion token");
        auto all = std::forward_as_tuple(std::forward<Args>(args)...);
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return pipeline_of(std::get<sizeof...(Args) - 1>(std::move(all)), std::get<I>(all)...);
        }(std::make_index_sequence<sizeof...(Args) - 1>{});
    }

private:
    template <class S, class C>
    friend class async_lock;

    template <class Token, class... Ops>
    auto pipeline_of(Token&& token, const Ops&... ops) {
        static_assert((PipelineOp<std::remove_cvref_t<Ops>> && ...),
                      "hotstate: async_pipeline takes operations of hotstate::redis::ops, such as "
                      "ops::get<Category>{key} (PipelineOp), then a completion token");
        (check_registered<typename Ops::category>(), ...);
        return backend_.async_pipeline(std::tuple<Ops...>(ops...), std::forward<Token>(token));
    }

    template <class C>
    struct decode {
        std::optional<typename C::value_type> operator()(std::optional<std::string_view> raw) const {
            std::optional<typename C::value_type> out;
            if (raw) detail::decode_into<C>(*raw, out);
            return out;
        }
    };

    template <class C>
    static redis::async_label label(std::string_view operation) noexcept {
        return {operation, C::name};
    }
    template <class C>
    static std::string key_of(std::string_view key) {
        return encode_key(C::id, C::layout, key);
    }

    /// A release nobody waits for (a guard destroyed while held): its answer
    /// is not read, so it is the plain release even after one that failed.
    void release_detached(std::string key, std::string owner, std::uint64_t fence) noexcept {
        try {
            backend_.async_lock_release({}, std::move(key), std::move(owner), fence, release_attempt::first,
                                        [](std::exception_ptr, bool) {});
        } catch (...) {  // the lease runs out by itself
        }
    }

    template <class C>
    static constexpr void check_registered() {
        detail::check_registered<C, Categories...>();
    }

    Backend backend_;
};

}  // namespace hotstate
