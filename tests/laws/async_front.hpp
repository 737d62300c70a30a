// The asynchronous front end behind the blocking store's calls, so that the
// store's laws (and the queue's) run unchanged on hotstate::async_store and
// async_job_queue: every call is the async member of the same name and
// arguments, started with the `handoff` token and waited for. Where the
// blocking call has a default, the call without the argument uses the async
// overload without it, so the laws reach every async member and overload.
//
// A model over an asynchronous backend (async_redis, async_redis_cluster)
// makes an async_front<async_store<Backend, Cs...>>; what it offers is read
// from the backend's operations (offers_of below). Two things the front end
// does differently, which the laws know of:
//   - its rate limits read the system clock, not the model's manual one
//     (the fixture says manual_rate_clock = false);
//   - a lock destroyed while held is released in the background
//     (effects_land_later: the laws wait for that to land).
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/backends/async_redis_cluster.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/queue/async_worker.hpp>

#include "async/handoff.hpp"
#include "async/io_threads.hpp"
#include "laws/model.hpp"

namespace laws {

/// Backends whose async_pipeline is a compile error naming the alternative
/// (tests/async/compile_fail_async_cluster_pipeline.cpp proves it).
template <class B>
inline constexpr bool refuses_async_pipelines = false;
template <>
inline constexpr bool refuses_async_pipelines<hotstate::backends::async_redis_cluster> = true;

namespace detail {
template <class T>
using async_handler = void (*)(std::exception_ptr, T);
inline std::optional<std::string> owned(std::optional<std::string_view> raw) {
    return raw ? std::optional<std::string>(std::in_place, *raw) : std::nullopt;
}
}  // namespace detail

/// What an asynchronous backend offers async_store, read from its operations.
template <hotstate::AsyncStoreBackend B>
struct offers_of<B> {
    template <class Cap>
    static constexpr bool offers() {
        using hotstate::redis::async_label;
        using detail::async_handler;
        if constexpr (std::is_same_v<Cap, key_value>)
            return requires(B& b, std::string s) {
                b.async_kv_set(async_label{}, s, s, 0, async_handler<bool>{});
                b.async_kv_exists(async_label{}, s, async_handler<bool>{});
            };
        else if constexpr (std::is_same_v<Cap, erase_prefix>)
            return requires(B& b, std::string s) {
                b.async_kv_del_prefix(async_label{}, s, async_handler<std::uint64_t>{});
            };
        else if constexpr (std::is_same_v<Cap, take>)
            return requires(B& b, std::string s) {
                b.template async_kv_take<std::optional<std::string>>(async_label{}, s, &detail::owned,
                                                                     async_handler<std::optional<std::string>>{});
            };
        else if constexpr (std::is_same_v<Cap, counters>)
            return requires(B& b, std::string s) { b.async_counter_incr(async_label{}, s, 1, 0, async_handler<std::int64_t>{}); };
        else if constexpr (std::is_same_v<Cap, rate_limits>)
            return requires(B& b, std::string s, hotstate::rate_math::gcra_parameters p) {
                b.async_gcra_check(async_label{}, s, p, 1, 0, async_handler<hotstate::rate_decision>{});
            };
        else if constexpr (std::is_same_v<Cap, locks>)
            return requires(B& b, std::string s) { b.async_lock_extend(async_label{}, s, s, 1, async_handler<bool>{}); };
        else if constexpr (std::is_same_v<Cap, lookups>)
            return requires(B& b, std::string s) {
                b.async_set_add(async_label{}, s, s, async_handler<bool>{});
                b.async_map_set(async_label{}, s, s, s, async_handler<bool>{});
            };
        else if constexpr (std::is_same_v<Cap, pipelines>) {
            using probe = hotstate::redis::ops::exists<detail::probe_category>;
            if constexpr (refuses_async_pipelines<B>) return false;
            else return requires(B& b, std::tuple<probe> ops) { b.async_pipeline(ops, async_handler<std::tuple<bool>>{}); };
        }
        else if constexpr (std::is_same_v<Cap, queue>)
            return requires(B& b) { b.connection(); };  // async_job_queue runs on the backend's one connection
        else return false;
    }
};

/// async_job_queue `Queue` behind job_queue's calls (capability queue: it has
/// no bulk enqueue, dead-letter list or purge).
template <class Queue>
class async_queue_front {
public:
    using job_type = typename Queue::job_type;
    using claimed_job = hotstate::claimed<job_type>;

    explicit async_queue_front(Queue queue) : queue_(std::move(queue)) {}

    [[nodiscard]] const hotstate::queue_options& options() const noexcept { return queue_.options(); }

    hotstate::enqueue_result enqueue(const job_type& job, const hotstate::enqueue_options& how = {}) {
        return queue_.async_enqueue(job, how, hotstate::testing::handoff).get();
    }
    /// A claim now, then async_wait and claim again until one comes or `wait` passes.
    std::optional<claimed_job> claim(std::chrono::milliseconds wait = std::chrono::milliseconds{0}) {
        return claim_until(std::chrono::steady_clock::now() + wait);
    }
    hotstate::ack_claim_result<job_type> ack_and_claim(const claimed_job& done,
                                                       std::chrono::milliseconds wait = std::chrono::milliseconds{0}) {
        const auto until = std::chrono::steady_clock::now() + wait;
        auto result = queue_.async_ack_and_claim(done, hotstate::testing::handoff).get();
        if (!result.next && wait.count() > 0) result.next = claim_until(until);
        return result;
    }
    void heartbeat(claimed_job& job) { (void)queue_.async_heartbeat(job, hotstate::testing::handoff).get(); }
    void ack(const claimed_job& job) { (void)queue_.async_ack(job, hotstate::testing::handoff).get(); }
    /// Whether `job` was dead-lettered: async_fail does not say, its attempt and max_attempts do.
    bool fail(const claimed_job& job, std::string_view message) {
        (void)queue_.async_fail(job, message, hotstate::testing::handoff).get();
        return job.attempt >= queue_.options().max_attempts;
    }
    void release(const claimed_job& job) { (void)queue_.async_release(job, hotstate::testing::handoff).get(); }
    hotstate::queue_counts counts() { return queue_.async_counts(hotstate::testing::handoff).get(); }

private:
    std::optional<claimed_job> claim_until(std::chrono::steady_clock::time_point until) {
        for (;;) {
            auto job = queue_.async_claim(hotstate::testing::handoff).get();
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (job || left.count() <= 0) return job;
            (void)queue_.async_wait(left, hotstate::testing::handoff).get();
        }
    }

    Queue queue_;
};

/// async_store `Store` behind hotstate::store's calls, on an io_context of its own.
template <class Store>
class async_front {
public:
    using backend_type = std::remove_reference_t<decltype(std::declval<Store&>().backend())>;
    /// A lock destroyed while held is released in the background.
    static constexpr bool effects_land_later = true;

    /// The front end over `settings`; `clock` is what its queues measure leases and delays by.
    template <class Settings>
    async_front(const Settings& settings, hotstate::manual_clock clock)
        : clock_(clock), store_(io_.get_executor(), settings), raw_(store_.backend()) {
        if constexpr (std::is_same_v<Settings, hotstate::redis::config>) settings_ = settings;
    }
    ~async_front() { io_.stop(); }  // before the store goes
    async_front(const async_front&) = delete;
    async_front& operator=(const async_front&) = delete;

    /// The time the front end's rate limits read: the system clock's.
    [[nodiscard]] hotstate::time_point now() const { return hotstate::system_clock{}.now(); }

    /// What the laws write and read past the store (foreign bytes, a window's bucket).
    class raw_backend {
    public:
        explicit raw_backend(backend_type& backend) : backend_(&backend) {}
        void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
            (void)backend_->async_kv_set({}, std::string(key), std::string(value), ttl.count(), hotstate::testing::handoff).get();
        }
        std::int64_t counter_get(std::string_view key) {
            return backend_->async_counter_get({}, std::string(key), hotstate::testing::handoff).get();
        }

    private:
        backend_type* backend_;
    };
    raw_backend& backend() noexcept { return raw_; }

    template <class C, class V>
    void set(std::string_view key, const V& value, hotstate::ttl expiry = std::nullopt) {
        if (expiry) (void)store_.template async_set<C>(key, value, expiry, use).get();
        else (void)store_.template async_set<C>(key, value, use).get();
    }
    template <class C>
    std::optional<typename C::value_type> get(std::string_view key) {
        return store_.template async_get<C>(key, use).get();
    }
    template <class C>
    std::uint64_t erase_all(std::string_view key_prefix = {}) {
        if (key_prefix.empty()) return store_.template async_erase_all<C>(use).get();
        return store_.template async_erase_all<C>(key_prefix, use).get();
    }
    template <class C>
    bool erase(std::string_view key) {
        return store_.template async_erase<C>(key, use).get();
    }
    template <class C>
    std::int64_t increment(std::string_view key, std::int64_t by = 1, hotstate::ttl expiry = std::nullopt) {
        if (expiry) return store_.template async_increment<C>(key, by, expiry, use).get();
        if (by != 1) return store_.template async_increment<C>(key, by, use).get();
        return store_.template async_increment<C>(key, use).get();
    }
    template <class C>
    std::optional<typename C::value_type> take(std::string_view key) {
        return store_.template async_take<C>(key, use).get();
    }
    template <class C>
    hotstate::rate_decision check_rate(std::string_view key, const hotstate::fixed_window& policy,
                                       hotstate::rate_check mode = hotstate::rate_check::count) {
        if (mode == hotstate::rate_check::count) return store_.template async_check_rate<C>(key, policy, use).get();
        return store_.template async_check_rate<C>(key, policy, mode, use).get();
    }
    template <class C>
    bool exists(std::string_view key) {
        return store_.template async_exists<C>(key, use).get();
    }
    template <class C>
    hotstate::rate_decision check_rate(std::string_view key, const hotstate::gcra& policy, std::int64_t cost = 1) {
        if (cost == 1) return store_.template async_check_rate<C>(key, policy, use).get();
        return store_.template async_check_rate<C>(key, policy, cost, use).get();
    }
    template <class C>
    std::int64_t counter(std::string_view key) {
        return store_.template async_counter<C>(key, use).get();
    }
    /// A held async_lock behind hotstate::lock's calls.
    template <class C>
    class front_lock {
    public:
        using held_lock = hotstate::async_lock<Store, C>;
        front_lock(Store& store, held_lock held) : store_(&store) { held_.emplace(std::move(held)); }
        front_lock(front_lock&& other) noexcept : store_(other.store_) { held_.emplace(std::move(*other.held_)); }
        /// As hotstate::lock's: this one's lock is let go (a release in the background), the other's taken over.
        front_lock& operator=(front_lock&& other) noexcept {
            if (this != &other) {
                store_ = other.store_;
                held_.reset();
                held_.emplace(std::move(*other.held_));
            }
            return *this;
        }
        ~front_lock() = default;

        [[nodiscard]] bool held() const noexcept { return held_->held(); }
        [[nodiscard]] const std::string& owner_token() const noexcept { return held_->owner_token(); }
        [[nodiscard]] std::uint64_t fencing_token() const noexcept { return held_->fencing_token(); }
        bool release() {
            if (!held_->held()) return false;
            return store_->template async_release<C>(*held_, use).get();
        }
        bool extend(std::chrono::milliseconds lease) {
            if (!held_->held()) return false;
            return store_->template async_extend<C>(*held_, lease, use).get();
        }

    private:
        Store* store_;
        std::optional<held_lock> held_;  ///< engaged but for the moment of a move assignment
    };
    template <class C>
    std::optional<front_lock<C>> try_lock(std::string_view key, std::chrono::milliseconds lease) {
        auto held = store_.template async_try_lock<C>(key, lease, use).get();
        if (!held) return std::nullopt;
        return front_lock<C>(store_, std::move(*held));
    }
    template <class C>
    bool lookup_add(std::string_view name_space, std::string_view member) {
        return store_.template async_lookup_add<C>(name_space, member, use).get();
    }
    template <class C, class V>
    void lookup_set(std::string_view name_space, std::string_view field, const V& value) {
        (void)store_.template async_lookup_set<C>(name_space, field, value, use).get();
    }
    template <class C>
    bool lookup_remove(std::string_view name_space, std::string_view member) {
        return store_.template async_lookup_remove<C>(name_space, member, use).get();
    }
    template <class... Ops>
    auto pipeline(const Ops&... ops) {
        return store_.async_pipeline(ops..., use).get();
    }
    template <class C>
    bool lookup_contains(std::string_view name_space, std::string_view member) {
        return store_.template async_lookup_contains<C>(name_space, member, use).get();
    }
    /// Queue `Q` of this store (async_queue, on the model's clock).
    template <class Q>
    auto open_queue(const hotstate::queue_options& options) {
        using queue_type = hotstate::async_job_queue<Store, Q, hotstate::manual_clock>;
        queue_type made(store_, settings_.value(), options, clock_);
        CHECK(made.get_executor() == store_.backend().get_executor());  // it runs on the store's connection
        return async_queue_front<queue_type>(std::move(made));
    }
    template <class C>
    std::optional<typename C::value_type> lookup_get(std::string_view name_space, std::string_view field) {
        return store_.template async_lookup_get<C>(name_space, field, use).get();
    }
    template <class C>
    bool lookup_erase(std::string_view name_space, std::string_view field) {
        return store_.template async_lookup_erase<C>(name_space, field, use).get();
    }

private:
    static constexpr auto use = hotstate::testing::handoff;

    std::optional<hotstate::redis::config> settings_;  ///< a standalone server's: where a queue's waiter connects
    hotstate::manual_clock clock_;
    hotstate::testing::io_threads io_;
    Store store_;
    raw_backend raw_;
};

}  // namespace laws
