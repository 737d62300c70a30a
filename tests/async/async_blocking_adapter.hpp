// A test adapter: the store backend concepts (backend.hpp) implemented by
// waiting on an asynchronous backend's operations (backends::async_redis, or
// async_redis_cluster), so hotstate::store and the shared conformance suite
// run unchanged against the asynchronous client (its multiplexed
// connections, its command values, its replies). One io_context thread per
// adapter; every call blocks its caller until its result is handed over
// (handoff_t).
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/async_result.hpp>

#include <hotstate/backends/async_redis.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/error.hpp>

namespace hotstate::testing {

/// The completion token the adapter waits with. Like use_future, except that
/// the result crosses threads as plain data: a failure is read on the
/// io_context's thread (kind, message, outcome_unknown) and thrown anew on the
/// waiting one, so no exception object is shared between the threads.
/// (libstdc++'s exception_ptr counts its references out of ThreadSanitizer's
/// sight, so an exception read on one thread and freed on the other is a race
/// to it.)
struct handoff_t {};
inline constexpr handoff_t handoff{};

/// What the handler hands over (see handoff_t).
template <class T>
class handoff_slot {
public:
    void complete(std::exception_ptr e, T value) {
        std::optional<errc> kind;
        std::string text;
        bool unknown = false;
        const bool failed = static_cast<bool>(e);
        if (failed) {
            try {
                std::rethrow_exception(std::move(e));
            } catch (const error& x) {
                kind = x.kind();
                text = x.message();
                unknown = x.outcome_unknown();
            } catch (const std::exception& x) {
                text = x.what();
            } catch (...) {
                text = "an exception that is not a std::exception";
            }
        }
        std::scoped_lock guard(mutex_);
        failed_ = failed;
        kind_ = kind;
        text_ = std::move(text);
        unknown_ = unknown;
        if (!failed_) value_.emplace(std::move(value));
        done_ = true;
        ready_.notify_one();
    }
    T get() {
        std::unique_lock guard(mutex_);
        ready_.wait(guard, [&] { return done_; });
        if (failed_ && kind_) throw unknown_ ? error::with_unknown_outcome(*kind_, text_) : error(*kind_, text_);
        if (failed_) throw std::runtime_error(text_);
        return std::move(*value_);
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    bool done_ = false;
    bool failed_ = false;
    std::optional<T> value_;
    std::optional<errc> kind_;  ///< set for a hotstate::error
    std::string text_;
    bool unknown_ = false;
};

/// The result of an operation started with `handoff`: get() waits for it.
template <class T>
class handoff_result {
public:
    explicit handoff_result(std::shared_ptr<handoff_slot<T>> slot) : slot_(std::move(slot)) {}
    T get() { return slot_->get(); }

private:
    std::shared_ptr<handoff_slot<T>> slot_;
};

}  // namespace hotstate::testing

template <class T>
struct boost::asio::async_result<hotstate::testing::handoff_t, void(std::exception_ptr, T)> {
    using return_type = hotstate::testing::handoff_result<T>;
    template <class Initiation, class... Args>
    static return_type initiate(Initiation&& initiation, hotstate::testing::handoff_t, Args&&... args) {
        auto slot = std::make_shared<hotstate::testing::handoff_slot<T>>();
        std::move(initiation)([slot](std::exception_ptr e, T value) { slot->complete(std::move(e), std::move(value)); },
                              std::forward<Args>(args)...);
        return return_type(slot);
    }
};

namespace hotstate::testing {

/// `Backend` (constructed from an executor, `Settings` and async_options) behind
/// the blocking backend concepts, with a `Clock` for rate limits.
template <class Clock, class Backend = backends::async_redis>
class async_blocking_adapter {
public:
    template <class Settings>
    async_blocking_adapter(const Settings& settings, Clock& clock, redis::async_options options = {})
        : clock_(&clock), backend_(io_.get_executor(), settings, options), runner_([this] { io_.run(); }) {}
    ~async_blocking_adapter() {
        work_.reset();
        io_.stop();
        runner_.join();
    }
    async_blocking_adapter(const async_blocking_adapter&) = delete;
    async_blocking_adapter& operator=(const async_blocking_adapter&) = delete;

    [[nodiscard]] time_point now() const { return clock_->now(); }

    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        backend_.async_kv_set({}, std::string(key), std::string(value), ttl.count(), use).get();
    }
    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        return deliver(backend_.template async_kv_get<std::optional<std::string>>({}, std::string(key), owned, use).get(), sink);
    }
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink) {
        return deliver(backend_.template async_kv_take<std::optional<std::string>>({}, std::string(key), owned, use).get(), sink);
    }
    bool kv_del(std::string_view key) { return backend_.async_kv_del({}, std::string(key), use).get(); }
    bool kv_exists(std::string_view key) { return backend_.async_kv_exists({}, std::string(key), use).get(); }
    std::uint64_t kv_del_prefix(std::string_view prefix) {
        return backend_.async_kv_del_prefix({}, std::string(prefix), use).get();
    }
    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
        return backend_.async_counter_incr({}, std::string(key), by, expiry.count(), use).get();
    }
    std::int64_t counter_get(std::string_view key) { return backend_.async_counter_get({}, std::string(key), use).get(); }
    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost) {
        const std::int64_t now_us = clock_->now().time_since_epoch().count() * 1000;
        return backend_.async_gcra_check({}, std::string(key), params, cost, now_us, use).get();
    }
    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        return backend_
            .template async_lock_acquire<std::optional<std::uint64_t>>(
                {}, std::string(key), std::string(owner), lease.count(),
                [](std::optional<std::uint64_t> fence, std::string, std::string) { return fence; }, use)
            .get();
    }
    bool lock_release(std::string_view key, std::string_view owner) {
        return backend_.async_lock_release({}, std::string(key), std::string(owner), use).get();
    }
    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        return backend_.async_lock_extend({}, std::string(key), std::string(owner), lease.count(), use).get();
    }
    bool set_add(std::string_view key, std::string_view member) {
        return backend_.async_set_add({}, std::string(key), std::string(member), use).get();
    }
    bool set_remove(std::string_view key, std::string_view member) {
        return backend_.async_set_remove({}, std::string(key), std::string(member), use).get();
    }
    bool set_contains(std::string_view key, std::string_view member) {
        return backend_.async_set_contains({}, std::string(key), std::string(member), use).get();
    }
    void map_set(std::string_view key, std::string_view field, std::string_view value) {
        backend_.async_map_set({}, std::string(key), std::string(field), std::string(value), use).get();
    }
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        return deliver(backend_.template async_map_get<std::optional<std::string>>({}, std::string(key), std::string(field),
                                                                                   owned, use)
                           .get(),
                       sink);
    }
    bool map_remove(std::string_view key, std::string_view field) {
        return backend_.async_map_remove({}, std::string(key), std::string(field), use).get();
    }

private:
    static constexpr auto use = handoff;
    static std::optional<std::string> owned(std::optional<std::string_view> raw) {
        return raw ? std::optional<std::string>(std::in_place, *raw) : std::nullopt;
    }
    template <class Sink>
    static bool deliver(const std::optional<std::string>& value, Sink& sink) {
        if (!value) return false;
        sink(std::string_view(*value));
        return true;
    }

    Clock* clock_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
    Backend backend_;
    std::thread runner_;
};

}  // namespace hotstate::testing
