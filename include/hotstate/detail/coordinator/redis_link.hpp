// detail::redis_link, the Link (detail/coordinator/link.hpp) to one Redis server.
//
// Where the Redis transports connect: the one place that knows about pools,
// endpoints and dedicated connections, so a cluster- or sentinel-aware
// variant can replace it without touching the transports' protocol logic.
//
// Publishing goes through a pool (the transport's own, or the store's when a
// program shares one, as the seeds' "Default" coordinator does). Receiving
// needs a connection of its own (SUBSCRIBE and XREAD BLOCK monopolise it),
// opened from the pool's endpoint and options. `socket_guard` lets stop()
// wake a thread blocked reading that connection by shutting the socket down.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include <hiredis/hiredis.h>

#include <hotstate/detail/coordinator/link.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail {

/// A pool for commands plus what is needed to open a dedicated connection.
class redis_link {
public:
    /// Own pool, built from `settings` (validated: errc::configuration).
    explicit redis_link(const ::hotstate::redis::config& settings)
        : pool_(std::make_shared<::hotstate::redis::pool>(::hotstate::redis::resolve(settings), ::hotstate::redis::pool_options::from(settings))) {}

    /// Borrow `shared` (e.g. a Redis store's connections()); it must outlive the transport.
    explicit redis_link(::hotstate::redis::pool& shared) : pool_(std::shared_ptr<::hotstate::redis::pool>(), &shared) {}

    /// Runs command value `command` as an exchange on a pooled connection.
    template <class Command>
    typename Command::result_type execute(const Command& command) {
        return pool_->execute(command);
    }

    /// A new connection of its own (AUTH/SELECT done), for a blocking reader.
    /// `read_timeout` zero means reads block until data or shutdown.
    [[nodiscard]] ::hotstate::redis::connection open_dedicated(std::chrono::milliseconds read_timeout) const {
        ::hotstate::redis::connection conn = pool_->open();
        conn.set_timeout(read_timeout);
        return conn;
    }

    /// "host:port" (or socket path) for messages.
    [[nodiscard]] std::string address() const { return pool_->where().address(); }
    /// The timeout configured for commands.
    [[nodiscard]] std::chrono::milliseconds command_timeout() const { return pool_->options().connect.command_timeout; }

private:
    std::shared_ptr<::hotstate::redis::pool> pool_;
};

static_assert(Link<redis_link>);

/// Shared between a transport's stop() and its receive thread: a stop flag, an
/// interruptible wait, and the socket to shut down so a blocked read returns.
class socket_guard {
public:
    /// Registers the socket the receive thread is about to block on; false if stopping.
    bool attach(int fd) {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        fd_ = fd;
        return true;
    }
    /// Unregisters it before the connection is closed (so stop() never touches a reused fd).
    void detach() {
        std::lock_guard lock(mutex_);
        fd_ = -1;
    }
    /// Stops: wakes waits and unblocks reads.
    void interrupt() {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
        wake_.notify_all();
    }
    /// Waits `span` unless stopped first; returns false when stopping.
    bool wait_for(std::chrono::milliseconds span) {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, span, [&] { return stopping_; });
        return !stopping_;
    }
    [[nodiscard]] bool stopping() const {
        std::lock_guard lock(mutex_);
        return stopping_;
    }
    /// Allows a new start after stop.
    void reset() {
        std::lock_guard lock(mutex_);
        stopping_ = false;
        fd_ = -1;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    int fd_ = -1;
    bool stopping_ = false;
};

}  // namespace hotstate::detail
