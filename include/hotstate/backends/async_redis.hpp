// hotstate/backends/async_redis.hpp: backends::async_redis, one multiplexed
// connection to a standalone Redis (or a Unix socket) on the user's executor.
//
// Use it with hotstate::async_store (hotstate/async_store.hpp). Every caller
// shares one connection: requests issued while a write is in flight go out
// together in the next write, replies are matched in order. The behaviour
// (bounded queue, timeouts, health checks, reconnect, at-most-once) is
// described in detail/async/connection.hpp and the README's "Asynchronous store".
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include <hotstate/detail/async/connection.hpp>
#include <hotstate/redis/config.hpp>

namespace hotstate::redis {

/// How the asynchronous client's one connection behaves.
struct async_options {
    /// Connecting + logging in, and every operation from its start to its reply
    /// (a request past it fails with errc::timeout).
    std::chrono::milliseconds timeout{std::chrono::seconds{10}};
    /// Operations queued or awaiting their reply at once; one more fails at
    /// once with errc::timeout ("queue full"), not sent.
    std::size_t max_pending = 65536;
    /// A PING when nothing was read for this long (0: never), so a server that
    /// went silent is noticed between operations.
    std::chrono::milliseconds health_interval{std::chrono::seconds{1}};
    /// First and largest wait between reconnect attempts (doubling).
    std::chrono::milliseconds min_backoff{10};
    /// The cap of the reconnect backoff.
    std::chrono::milliseconds max_backoff{1000};
};

}  // namespace hotstate::redis

namespace hotstate::backends {

/// One multiplexed, automatically pipelined connection to a Redis server, run
/// on the executor given; for hotstate::async_store.
class async_redis {
public:
    /// Connects (in the background, on `executor`) to `settings.url` with
    /// `settings.node`'s credentials and `options`' timeouts. Opens no
    /// connection synchronously; a wrong address surfaces as failing operations.
    async_redis(boost::asio::any_io_executor executor, const redis::config& settings, redis::async_options options = {})
        : executor_(executor),
          connection_(std::make_shared<detail::async::connection>(
              executor, redis::resolve(settings),
              detail::async::connection_settings{options.timeout, options.max_pending, options.health_interval,
                                                 options.min_backoff, options.max_backoff})),
          fence_retention_ms_(settings.locks.fence_retention.count()) {
        connection_->start();
    }
    async_redis(const async_redis&) = delete;
    async_redis& operator=(const async_redis&) = delete;
    /// Closes the connection: operations still waiting fail with errc::connection.
    ~async_redis() { connection_->close(); }

    /// The executor completions run on unless a handler has its own.
    [[nodiscard]] const boost::asio::any_io_executor& get_executor() const noexcept { return executor_; }
    /// "host:port" or the socket path.
    [[nodiscard]] const std::string& address() const noexcept { return connection_->address(); }
    /// How many times the connection was opened (1 after the first; more after reconnects).
    [[nodiscard]] std::uint64_t connects() const noexcept { return connection_->connects(); }

    /// The multiplexed connection (for the front end).
    [[nodiscard]] detail::async::connection& connection() noexcept { return *connection_; }
    /// How long a lock's fencing state outlives its lease, in ms.
    [[nodiscard]] std::int64_t fence_retention_ms() const noexcept { return fence_retention_ms_; }

private:
    boost::asio::any_io_executor executor_;
    std::shared_ptr<detail::async::connection> connection_;
    std::int64_t fence_retention_ms_;
};

}  // namespace hotstate::backends
