// hotstate/backends/async_redis.hpp: backends::async_redis, one multiplexed
// connection to a standalone Redis (or a Unix socket) on the user's executor.
//
// Use it with hotstate::async_store (hotstate/async_store.hpp). Every caller
// shares one connection: requests issued while a write is in flight go out
// together in the next write, replies are matched in order. The behaviour
// (bounded queue, timeouts, health checks, reconnect, at-most-once) is
// described in detail/async/io/connection.hpp and the README's "Asynchronous store".
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <hotstate/detail/async/io/connection.hpp>
#include <hotstate/detail/async/io/operation.hpp>
#include <hotstate/detail/async/io/pipeline.hpp>
#include <hotstate/detail/async/routing/redis_operations.hpp>
#include <hotstate/async_backend.hpp>
#include <hotstate/redis/async_options.hpp>
#include <hotstate/redis/config.hpp>

namespace hotstate::backends {

/// One multiplexed, automatically pipelined connection to a Redis server, run
/// on the executor given; for hotstate::async_store. The operations
/// (async_kv_get, async_counter_incr, async_lock_acquire...) are
/// detail::async::redis_operations', every one on this connection.
class async_redis : public detail::async::redis_operations<async_redis> {
    friend class detail::async::redis_operations<async_redis>;
    using base = detail::async::redis_operations<async_redis>;

    /// Every key goes to the one connection.
    [[nodiscard]] detail::async::direct_route route_of(std::string_view, bool) const noexcept { return {connection_.get()}; }
    /// A prefix is scanned on the one server.
    [[nodiscard]] boost::asio::awaitable<std::vector<std::shared_ptr<detail::async::connection>>> scan_nodes() const {
        co_return std::vector<std::shared_ptr<detail::async::connection>>{connection_};
    }

public:
    /// Connects (in the background, on `executor`) to `settings.url` with
    /// `settings.node`'s credentials and `options`' timeouts. Opens no
    /// connection synchronously; a wrong address surfaces as failing operations.
    async_redis(boost::asio::any_io_executor executor, const hotstate::redis::config& settings, hotstate::redis::async_options options = {})
        : base(executor, settings.locks.fence_retention.count()),
          connection_(std::make_shared<detail::async::connection>(executor, hotstate::redis::resolve(settings), options)) {
        connection_->start();
    }
    async_redis(const async_redis&) = delete;
    async_redis& operator=(const async_redis&) = delete;
    /// Closes the connection (see close()).
    ~async_redis() { connection_->close(); }

    /// Closes the connection: its loops (reads, reconnects, health checks)
    /// end, so io_context::run() returns once nothing else is pending;
    /// operations still waiting fail with errc::connection, and later ones fail
    /// at once. Thread-safe; closing twice is harmless.
    void close() { connection_->close(); }

    /// "host:port" or the socket path.
    [[nodiscard]] const std::string& address() const noexcept { return connection_->address(); }
    /// How many times the connection was opened (1 after the first; more after reconnects).
    [[nodiscard]] std::uint64_t connects() const noexcept { return connection_->connects(); }

    /// The multiplexed connection (for the front end).
    [[nodiscard]] detail::async::connection& connection() noexcept { return *connection_; }

    /// A pipeline of hotstate::redis::ops (copied into the operation): every
    /// command in one request, the results as a std::tuple in call order; the
    /// first failure, after every operation was interpreted, completes instead.
    template <class Token, class... Ops>
    auto async_pipeline(std::tuple<Ops...> ops, Token&& token) {
        return detail::async::start_pipeline(*connection_, executor_, std::move(ops), std::forward<Token>(token));
    }

private:
    std::shared_ptr<detail::async::connection> connection_;
};

static_assert(AsyncStoreBackend<async_redis>);

}  // namespace hotstate::backends
