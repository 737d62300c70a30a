// hotstate/store.hpp: hotstate::store, the front end applications call.
//
//   using my_store = hotstate::store<hotstate::backends::memory,
//                                    hotstate::categories::oauth, failed_logins>;
//   my_store s;
//   s.set<hotstate::categories::oauth>(code, payload, std::chrono::minutes{10});
//
// The store is a thin, fully inlined layer: it checks at compile time that the
// category is registered, that its value type fits, and that the backend has
// the capability; it encodes the key and value, calls the backend directly (no
// virtual call, no type erasure) and decodes the answer. It is as thread-safe
// as its backend (every stock backend is).
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <hotstate/backend.hpp>
#include <hotstate/category.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/detail/base/category_values.hpp>
#include <hotstate/detail/base/key_buffer.hpp>
#include <hotstate/detail/base/token.hpp>
#include <hotstate/error.hpp>
#include <hotstate/key.hpp>
#include <hotstate/rate_limit.hpp>

namespace hotstate {


template <class Store, class Category>
class lock;

/// The typed front end over one backend and a fixed set of key categories.
/// @tparam Backend    a StoreBackend model (backends::memory, backends::redis, ...)
/// @tparam Categories every key category this store may touch; ids must be unique
template <StoreBackend Backend, KeyCategory... Categories>
class store {
    static_assert(detail::ids_are_unique<Categories...>(),
                  "hotstate: two key categories of this store share one prefix id; every category needs its "
                  "own id (0..255)");

public:
    using backend_type = Backend;

    /// Constructs the backend with its default configuration.
    store() : backend_() {}

    /// Constructs the backend in place from `args` (its config, clock, ...).
    template <class First, class... Rest>
        requires std::constructible_from<Backend, First&&, Rest&&...>
    explicit store(First&& first, Rest&&... rest)
        : backend_(std::forward<First>(first), std::forward<Rest>(rest)...) {}

    /// The backend, for backend-specific operations (purge, stats, raw connections).
    [[nodiscard]] Backend& backend() noexcept { return backend_; }
    [[nodiscard]] const Backend& backend() const noexcept { return backend_; }

    /// Current time by the backend's clock.
    [[nodiscard]] time_point now() const { return backend_.now(); }

    // ---- key/value (Redis SET/GET/DEL/EXISTS) --------------------------------

    /// Stores `value` under `key`, replacing any previous value; expires after
    /// `expiry` when given. (SET key value [PX ms])
    template <class C, class V>
    void set(std::string_view key, const V& value, ttl expiry = std::nullopt) {
        check_registered<C>();
        static_assert(KeyValueBackend<Backend>, "hotstate: this backend has no key/value capability (KeyValueBackend)");
        check_value_type<C, V>();
        const auto ms = expiry_of<C>(expiry, "set");
        const detail::key_buffer encoded(C::id, C::layout, key);
        with_encoded_value<C>(value, [&](std::string_view payload) {
            with_context<C>("set", [&] { backend_.kv_set(encoded, payload, ms); });
        });
    }

    /// The value under `key`, or std::nullopt when missing or expired. (GET key)
    template <class C>
    [[nodiscard]] std::optional<typename C::value_type> get(std::string_view key) {
        check_registered<C>();
        static_assert(KeyValueBackend<Backend>, "hotstate: this backend has no key/value capability (KeyValueBackend)");
        std::optional<typename C::value_type> result;
        const detail::key_buffer encoded(C::id, C::layout, key);
        with_context<C>("get", [&] {
            backend_.kv_get(encoded, [&](std::string_view raw) { decode_into<C>(raw, result); });
        });
        return result;
    }

    /// Deletes `key`; true when it existed. (DEL key)
    template <class C>
    bool erase(std::string_view key) {
        check_registered<C>();
        static_assert(KeyValueBackend<Backend>, "hotstate: this backend has no key/value capability (KeyValueBackend)");
        const detail::key_buffer encoded(C::id, C::layout, key);
        return with_context<C>("erase", [&] { return backend_.kv_del(encoded); });
    }

    /// Gets and deletes `key` in one step: of any number of concurrent takes
    /// of one value, exactly one gets it (one-shot tokens such as OAuth codes).
    /// std::nullopt when missing or expired. The value is gone even when it
    /// cannot be decoded (the decode error is thrown). (GETDEL key)
    template <class C>
    [[nodiscard]] std::optional<typename C::value_type> take(std::string_view key) {
        check_registered<C>();
        static_assert(TakeBackend<Backend>, "hotstate: this backend has no get-and-delete (TakeBackend)");
        std::optional<typename C::value_type> result;
        const detail::key_buffer encoded(C::id, C::layout, key);
        with_context<C>("take", [&] {
            backend_.kv_take(encoded, [&](std::string_view raw) { decode_into<C>(raw, result); });
        });
        return result;
    }

    /// Whether `key` exists and has not expired. (EXISTS key)
    template <class C>
    [[nodiscard]] bool exists(std::string_view key) {
        check_registered<C>();
        static_assert(KeyValueBackend<Backend>, "hotstate: this backend has no key/value capability (KeyValueBackend)");
        const detail::key_buffer encoded(C::id, C::layout, key);
        return with_context<C>("exists", [&] { return backend_.kv_exists(encoded); });
    }

    /// Deletes every key of the category (whose key starts with `key_prefix`),
    /// counters, rate buckets, locks and lookups included; returns how many.
    /// (SCAN MATCH + UNLINK on Redis)
    template <class C>
    std::uint64_t erase_all(std::string_view key_prefix = {}) {
        check_registered<C>();
        static_assert(PrefixEraseBackend<Backend>,
                      "hotstate: this backend cannot delete keys by prefix (PrefixEraseBackend)");
        const std::string prefix = encode_key_prefix<C>(key_prefix);
        return with_context<C>("erase_all", [&] { return backend_.kv_del_prefix(prefix); });
    }

    // ---- counters (Redis INCRBY + PEXPIRE in one script) -----------------------

    /// Adds `by` to the counter and returns the new value; when `expiry` is
    /// given it is (re)applied on every increment, as the seeds' system does.
    template <class C>
    std::int64_t increment(std::string_view key, std::int64_t by = 1, ttl expiry = std::nullopt) {
        check_registered<C>();
        check_counter<C>();
        const auto ms = expiry_of<C>(expiry, "increment");
        const detail::key_buffer encoded(C::id, C::layout, key);
        return with_context<C>("increment", [&] { return backend_.counter_incr(encoded, by, ms); });
    }

    /// The counter's value; a missing counter reads as 0.
    template <class C>
    [[nodiscard]] std::int64_t counter(std::string_view key) {
        check_registered<C>();
        check_counter<C>();
        const detail::key_buffer encoded(C::id, C::layout, key);
        return with_context<C>("counter", [&] { return backend_.counter_get(encoded); });
    }

    // ---- rate limiting ------------------------------------------------------

    /// Fixed-window check with the seeds' semantics: counts the request (unless
    /// `mode` is soft) in the bucket of the current window.
    template <class C>
    rate_decision check_rate(std::string_view key, const fixed_window& policy, rate_check mode = rate_check::count) {
        check_registered<C>();
        check_counter<C>();
        if (policy.limit < 0 || policy.period.count() <= 0)
            throw error(errc::invalid_argument, context<C>("check_rate") + "fixed_window needs limit >= 0 and period > 0");
        const auto position = rate_math::locate_window(backend_.now(), policy.period);
        const detail::key_buffer bucket(C::id, C::layout, key, position.index);
        return with_context<C>("check_rate", [&] {
            if (mode == rate_check::soft)
                return rate_math::fixed_window_soft_decision(backend_.counter_get(bucket), policy, position.remaining);
            return rate_math::fixed_window_decision(backend_.counter_incr(bucket, 1, position.remaining), policy,
                                                    position.remaining);
        });
    }

    /// GCRA check: allows `policy.rate` requests per period on average with
    /// bursts of `policy.burst`; `cost` requests are counted at once.
    template <class C>
    rate_decision check_rate(std::string_view key, const gcra& policy, std::int64_t cost = 1) {
        check_registered<C>();
        static_assert(RateLimitBackend<Backend>, "hotstate: this backend has no GCRA rate limiting (RateLimitBackend)");
        if (policy.rate <= 0 || policy.burst <= 0 || policy.period.count() <= 0 || cost <= 0)
            throw error(errc::invalid_argument, context<C>("check_rate") + "gcra needs rate, burst, period and cost > 0");
        const detail::key_buffer encoded(C::id, C::layout, key);
        return with_context<C>("check_rate", [&] {
            return backend_.gcra_check(encoded, rate_math::gcra_parameters_of(policy), cost);
        });
    }

    // ---- locks --------------------------------------------------------------

    /// Tries to take the lock `key` for `lease`; an engaged result holds it
    /// (RAII: released on destruction) and carries the owner and fencing tokens.
    /// When the outcome stays unknown (the acquire may have taken the lock and
    /// its reply was lost twice), throws lock_outcome_unknown with the owner
    /// token it used: see the overload below.
    template <class C>
    [[nodiscard]] std::optional<lock<store, C>> try_lock(std::string_view key, std::chrono::milliseconds lease) {
        return try_lock<C>(key, lease, detail::random_token());
    }

    /// try_lock under `owner_token` (a lock_outcome_unknown's): the holder of a
    /// live lease under that token gets it back, renewed to `lease`, with its
    /// fence; nothing while another owner holds it.
    template <class C>
    [[nodiscard]] std::optional<lock<store, C>> try_lock(std::string_view key, std::chrono::milliseconds lease,
                                                         std::string owner_token) {
        check_registered<C>();
        static_assert(LockBackend<Backend>, "hotstate: this backend has no locks (LockBackend)");
        if (lease.count() <= 0) throw error(errc::invalid_argument, context<C>("try_lock") + "lease must be positive");
        if (owner_token.empty()) throw error(errc::invalid_argument, context<C>("try_lock") + "the owner token is empty");
        std::string encoded = encode_key(C::id, C::layout, key);
        std::optional<std::uint64_t> fence;
        try {
            fence = with_context<C>("try_lock", [&] { return backend_.lock_acquire(encoded, owner_token, lease); });
        } catch (const error& failure) {
            if (failure.outcome_unknown()) throw lock_outcome_unknown(failure, std::move(owner_token));
            throw;
        }
        if (!fence) return std::nullopt;
        return lock<store, C>(*this, std::move(encoded), std::move(owner_token), *fence);
    }

    // ---- lookups (Redis SADD/SREM/SISMEMBER, HSET/HGET/HDEL) ----------------

    /// Adds `member` to the set `name_space`; true when it was not there.
    template <class C>
    bool lookup_add(std::string_view name_space, std::string_view member) {
        return lookup_op<C>("lookup_add", name_space, [&](std::string_view k) { return backend_.set_add(k, member); });
    }
    /// Removes `member` from the set `name_space`; true when it was there.
    template <class C>
    bool lookup_remove(std::string_view name_space, std::string_view member) {
        return lookup_op<C>("lookup_remove", name_space, [&](std::string_view k) { return backend_.set_remove(k, member); });
    }
    /// Whether `member` is in the set `name_space`.
    template <class C>
    [[nodiscard]] bool lookup_contains(std::string_view name_space, std::string_view member) {
        return lookup_op<C>("lookup_contains", name_space,
                            [&](std::string_view k) { return backend_.set_contains(k, member); });
    }
    /// Sets `field` of the key-value lookup `name_space` to `value`.
    template <class C, class V>
    void lookup_set(std::string_view name_space, std::string_view field, const V& value) {
        check_value_type<C, V>();
        with_encoded_value<C>(value, [&](std::string_view payload) {
            lookup_op<C>("lookup_set", name_space, [&](std::string_view k) {
                backend_.map_set(k, field, payload);
                return true;
            });
        });
    }
    /// The value of `field` in the key-value lookup `name_space`.
    template <class C>
    [[nodiscard]] std::optional<typename C::value_type> lookup_get(std::string_view name_space, std::string_view field) {
        std::optional<typename C::value_type> result;
        lookup_op<C>("lookup_get", name_space, [&](std::string_view k) {
            return backend_.map_get(k, field, [&](std::string_view raw) { decode_into<C>(raw, result); });
        });
        return result;
    }
    /// Removes `field` from the key-value lookup `name_space`; true when it was there.
    template <class C>
    bool lookup_erase(std::string_view name_space, std::string_view field) {
        return lookup_op<C>("lookup_erase", name_space, [&](std::string_view k) { return backend_.map_remove(k, field); });
    }

    // ---- pipelines (Redis backends) -------------------------------------------

    /// Sends every operation in one pipeline (one write per server) and returns
    /// their typed results, in call order, as a tuple:
    ///
    ///     namespace ops = hotstate::redis::ops;   // <hotstate/redis/batch.hpp>
    ///     auto [hits, code] = store.pipeline(ops::incr<failed_logins>{ip, 1, 1h},
    ///                                        ops::take<cat::oauth>{code_id});
    ///
    /// Every operation names its category, checked against this store's list
    /// as the store's own calls are; keys are encoded and values checked and
    /// encoded exactly as the store does. Every operation runs even when an
    /// earlier one fails; the first failure is then thrown.
    template <class... Ops>
    auto pipeline(const Ops&... ops) {
        static_assert(sizeof...(Ops) > 0, "hotstate: a pipeline needs at least one operation");
        static_assert((PipelineOp<Ops> && ...),
                      "hotstate: a pipeline takes operations of hotstate::redis::ops, such as "
                      "ops::get<Category>{key} (PipelineOp)");
        if constexpr ((PipelineOp<Ops> && ...)) {
            (check_registered<typename Ops::category>(), ...);
            static_assert(PipelineBackend<Backend, Ops...>,
                          "hotstate: this backend has no pipelines (PipelineBackend); the Redis, Redis Cluster "
                          "and Redis Sentinel backends have");
            if constexpr (PipelineBackend<Backend, Ops...>) return backend_.pipeline(ops...);
        }
    }

    // ---- extension seam for capability add-ons ---------------------------------
    // A capability that lives in its own headers (the job queues of
    // hotstate/queue.hpp) reaches the store through these three members only,
    // so adding one never grows this class.

    /// Whether `C` is one of this store's categories (a compile-time answer).
    template <class C>
    static constexpr bool registers() noexcept {
        return detail::is_one_of<C, Categories...>;
    }

    /// `key` of category `C` encoded exactly as the store's own calls encode it.
    template <class C>
    [[nodiscard]] static std::string encoded_key(std::string_view key) {
        return encode_key(C::id, C::layout, key);
    }

    /// Runs `call`; a hotstate::error it throws is rethrown with
    /// "hotstate: <operation> on category '<name>': " in front (kind and
    /// outcome_unknown() kept), as the store's own calls report errors.
    template <class C, class F>
    static decltype(auto) run_in_context(std::string_view operation, F&& call) {
        return with_context<C>(operation, std::forward<F>(call));
    }

private:
    template <class Store, class Category>
    friend class lock;

    template <class C>
    static constexpr void check_registered() {
        detail::check_registered<C, Categories...>();
    }

    template <class C, class V>
    static constexpr void check_value_type() {
        detail::check_value_type<C, V>();
    }

    template <class C>
    static constexpr void check_counter() {
        detail::check_counter_category<C>();
        static_assert(CounterBackend<Backend>, "hotstate: this backend has no counters (CounterBackend)");
    }

    template <class C, class V, class F>
    static void with_encoded_value(const V& value, F&& use) {
        detail::with_encoded_value<C>(value, std::forward<F>(use));
    }

    template <class C>
    static void decode_into(std::string_view raw, std::optional<typename C::value_type>& result) {
        detail::decode_into<C>(raw, result);
    }

    template <class C>
    static std::string context(std::string_view operation) {
        return detail::operation_context<C>(operation);
    }

    template <class C>
    static std::chrono::milliseconds expiry_of(const ttl& expiry, std::string_view operation) {
        return detail::expiry_of<C>(expiry, operation);
    }

    /// Runs a backend call; errors gain the operation and category.
    template <class C, class F>
    static decltype(auto) with_context(std::string_view operation, F&& call) {
        try {
            return std::forward<F>(call)();
        } catch (const error& failure) {
            throw error(failure, context<C>(operation) + failure.message());  // keeps outcome_unknown()
        }
    }

    template <class C, class F>
    decltype(auto) lookup_op(std::string_view operation, std::string_view name_space, F&& call) {
        check_registered<C>();
        static_assert(LookupBackend<Backend>, "hotstate: this backend has no lookups (LookupBackend)");
        const detail::key_buffer encoded(C::id, C::layout, name_space);
        return with_context<C>(operation, [&] { return call(encoded.view()); });
    }

    Backend backend_;
};

namespace detail {

/// What a held lock is, whichever store releases it (store's lock,
/// async_store's async_lock): the store it came from (null once released or
/// moved from), the encoded key, the owner token and the fence.
template <class Store>
class lock_hold {
public:
    /// Strictly increasing per lock key; pass it to the guarded resource so it
    /// can refuse writes from a holder whose lease ran out.
    [[nodiscard]] std::uint64_t fencing_token() const noexcept { return fence_; }
    /// The random owner token this holder proves ownership with.
    [[nodiscard]] const std::string& owner_token() const noexcept { return owner_; }
    /// Whether this object still holds (has not released) the lock.
    [[nodiscard]] bool held() const noexcept { return store_ != nullptr; }

protected:
    lock_hold(Store& owner_store, std::string key, std::string owner, std::uint64_t fence) noexcept
        : store_(&owner_store), key_(std::move(key)), owner_(std::move(owner)), fence_(fence) {}
    lock_hold(lock_hold&& other) noexcept
        : store_(std::exchange(other.store_, nullptr)), key_(std::move(other.key_)), owner_(std::move(other.owner_)),
          fence_(other.fence_), release_sent_(other.release_sent_) {}
    lock_hold(const lock_hold&) = delete;
    lock_hold& operator=(const lock_hold&) = delete;
    lock_hold& operator=(lock_hold&&) = delete;
    ~lock_hold() = default;

    /// Takes over `other`'s hold; the caller has let go of its own first.
    void take_over(lock_hold& other) noexcept {
        store_ = std::exchange(other.store_, nullptr);
        key_ = std::move(other.key_);
        owner_ = std::move(other.owner_);
        fence_ = other.fence_;
        release_sent_ = other.release_sent_;
    }

    Store* store_;
    std::string key_;
    std::string owner_;
    std::uint64_t fence_;
    bool release_sent_ = false;  ///< a release failed: it may have run, so the next is sent as one that did
};

}  // namespace detail

/// A held lock: owner token, fencing token, and the lease it was granted.
/// Released when destroyed (errors there are swallowed: the lease bounds the
/// damage); call release() to learn whether the lease was still yours.
template <class Store, class Category>
class lock : public detail::lock_hold<Store> {
public:
    lock(lock&& other) noexcept = default;
    lock& operator=(lock&& other) noexcept {
        if (this != &other) {
            release_quietly();
            this->take_over(other);
        }
        return *this;
    }
    ~lock() { release_quietly(); }

    /// Releases the lock; false when the lease had already run out or another
    /// owner holds it now. When it throws (the release could not be
    /// confirmed), the lock is still held() and may be released again (its
    /// destructor tries once more): that release is true when the failed one
    /// did run (release_attempt::after_unknown_outcome).
    bool release() {
        if (!this->store_) return false;
        const auto attempt = this->release_sent_ ? release_attempt::after_unknown_outcome : release_attempt::first;
        this->release_sent_ = true;  // until it is answered
        const bool was_live = Store::template with_context<Category>("release", [&] {
            return this->store_->backend_.lock_release(this->key_, this->owner_, this->fence_, attempt);
        });
        this->store_ = nullptr;
        return was_live;
    }

    /// Renews the lease to `lease` from now; false when it was already lost
    /// (the lock is then no longer held()). When it throws, the lock is still
    /// held() (its lease may or may not have been renewed).
    bool extend(std::chrono::milliseconds lease) {
        if (!this->store_) return false;
        if (lease.count() <= 0)
            throw error(errc::invalid_argument, Store::template context<Category>("extend") + "lease must be positive");
        const bool renewed = Store::template with_context<Category>(
            "extend", [&] { return this->store_->backend_.lock_extend(this->key_, this->owner_, lease); });
        if (!renewed) this->store_ = nullptr;  // the lease is known to be over
        return renewed;
    }

private:
    friend Store;
    lock(Store& owner_store, std::string key, std::string owner, std::uint64_t fence)
        : detail::lock_hold<Store>(owner_store, std::move(key), std::move(owner), fence) {}

    void release_quietly() noexcept {
        try {
            release();
        } catch (...) {
            // the lease expires on its own; nothing useful to do in a destructor
        }
    }
};

}  // namespace hotstate
