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

#include "async/handoff.hpp"
#include "async/io_threads.hpp"

namespace hotstate::testing {


/// `Backend` (constructed from an executor, `Settings` and async_options) behind
/// the blocking backend concepts, with a `Clock` for rate limits.
template <class Clock, class Backend = backends::async_redis>
class async_blocking_adapter {
public:
    template <class Settings>
    async_blocking_adapter(const Settings& settings, Clock& clock, redis::async_options options = {})
        : clock_(&clock), backend_(io_.get_executor(), settings, options) {}
    ~async_blocking_adapter() { io_.stop(); }  // before the backend goes
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
    bool lock_release(std::string_view key, std::string_view owner, std::uint64_t fence, hotstate::release_attempt attempt) {
        return backend_.async_lock_release({}, std::string(key), std::string(owner), fence, attempt, use).get();
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
    io_threads io_;
    Backend backend_;
};

}  // namespace hotstate::testing
