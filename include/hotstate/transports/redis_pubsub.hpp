// hotstate/transports/redis_pubsub.hpp: coordinator messages over Redis pub/sub.
//
// Sending: `PUBLISH channel message` on a pooled connection (the transport's
// own pool, or a Redis store's, as the seeds' "Default" coordinator shares it).
// Receiving: one dedicated connection SUBSCRIBEd to the channel, read by one
// thread; handlers run on that thread, in the order the server relays the
// messages, which is each publisher's order.
//
// Pub/sub keeps nothing: while the subscriber is disconnected, messages are
// lost. The subscriber reconnects and resubscribes by itself with capped
// exponential backoff (100 ms, 200 ms, ... capped at 3.2 s by default), then
// reports the outage (kind disconnected, with its duration), and the
// coordinator's sequence numbers name which publishers' messages were skipped.
//
// Failures are reported to the sink as connection_events (the coordinator's
// on_connection): a refused connection or a wrong password when subscribing
// (once, not at every retry), a lost subscription, and the resubscription.
// Built from a redis::config with connect_on_start, the constructor PINGs
// through the pool and throws (errc::authentication, connection, timeout)
// rather than leaving the problem to the background thread.
//
// A quiet subscription is PINGed every health_check_interval; a missing PONG
// counts as a lost connection, so a frozen server or a half-open connection is
// noticed in two intervals rather than never.
//
// stop() shuts the subscriber's socket down, so the thread returns at once
// instead of sitting in a wait for data.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <hotstate/detail/base/backoff.hpp>
#include <hotstate/detail/coordinator/link.hpp>
#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/detail/coordinator/redis_link.hpp>
#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/detail/redis/proto/stream_commands.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::transports {

/// Settings of transports::redis_pubsub.
struct redis_pubsub_options {
    /// The Redis pub/sub channel every node of the cluster uses.
    std::string channel = "hotstate:coordinator";
    /// Wait between resubscribe attempts.
    detail::backoff_policy reconnect{std::chrono::milliseconds{100}, std::chrono::milliseconds{3200}};
    /// When the subscription is quiet this long, PING it; no answer within another
    /// interval means the server is gone (a frozen server or a half-open TCP
    /// connection sends no FIN), and the subscriber reconnects.
    std::chrono::milliseconds health_check_interval{std::chrono::seconds{5}};
};

/// Counters of a redis_pubsub transport.
struct redis_pubsub_stats {
    std::uint64_t subscriptions = 0;    ///< successful SUBSCRIBEs (1 + resubscriptions)
    std::uint64_t connect_failures = 0; ///< failed (re)subscribe attempts
    std::uint64_t foreign_replies = 0;  ///< replies on the subscriber that were not messages of our channel
};

/// The commands of classic pub/sub (PUBLISH, SUBSCRIBE, "message" replies).
struct classic_pubsub_commands {
    using publish = detail::redis::commands::publish_to<"PUBLISH">;
    using subscribe = detail::redis::commands::subscribe_to<"SUBSCRIBE">;
    static constexpr std::string_view message = "message";
    /// The server ended the subscription (sharded pub/sub: the channel's slot moved).
    static constexpr std::string_view dropped = "unsubscribe";
};

/// The commands of sharded pub/sub (Redis 7: SPUBLISH, SSUBSCRIBE, "smessage").
struct sharded_pubsub_commands {
    using publish = detail::redis::commands::publish_to<"SPUBLISH">;
    using subscribe = detail::redis::commands::subscribe_to<"SSUBSCRIBE">;
    static constexpr std::string_view message = "smessage";
    static constexpr std::string_view dropped = "sunsubscribe";
};

/// Redis PUBLISH/SUBSCRIBE transport (see the banner above).
/// @tparam L        where it connects, a detail::Link (detail/coordinator/link.hpp): detail::redis_link
///                  (one server, the default) or detail::redis::link::cluster_link (transports/redis_cluster_pubsub.hpp)
/// @tparam Commands classic_pubsub_commands, or sharded_pubsub_commands on a cluster
template <detail::Link L = detail::redis_link, class Commands = classic_pubsub_commands>
class basic_redis_pubsub {
public:
    /// Fire and forget: a failed PUBLISH is dropped, the receivers see the sequence gap.
    static constexpr bool durable = false;

    /// With its own connection pool, from the store's Redis settings (the "Default" way).
    /// settings.connect_on_start: PING now (see ping()), so a wrong address or password throws here.
    explicit basic_redis_pubsub(const redis::config& settings, redis_pubsub_options options = {})
        : link_(settings), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
        if (settings.connect_on_start) ping();
    }

    /// Publishing through `pool` (e.g. a Redis store's connections(); must outlive this).
    explicit basic_redis_pubsub(redis::pool& pool, redis_pubsub_options options = {})
        : link_(pool), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
    }

    /// Over a link built elsewhere (e.g. a cluster link).
    explicit basic_redis_pubsub(L link, redis_pubsub_options options = {})
        : link_(std::move(link)), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
    }

    basic_redis_pubsub(basic_redis_pubsub&&) noexcept = default;
    basic_redis_pubsub& operator=(basic_redis_pubsub&&) noexcept = delete;
    ~basic_redis_pubsub() { stop(); }

    /// PUBLISH on a pooled connection. Throws hotstate::error (connection, timeout, server).
    void send(std::string_view message) { (void)link_.execute(typename Commands::publish(options_.channel, message)); }

    /// PING through the pool: checks address and credentials now, rather than
    /// in the background threads. Throws errc::connection, errc::timeout or
    /// errc::authentication naming host:port.
    void ping() { (void)link_.execute(detail::redis::commands::ping{}); }

    /// Starts the subscriber thread; messages go to `sink.on_message` on that thread.
    template <class Sink>
    void start(Sink& sink) {
        if (reader_.joinable()) throw error(errc::invalid_argument, "hotstate redis_pubsub: started twice");
        state_->guard.reset();
        reader_ = std::thread([this, &sink] { subscribe_loop(sink); });
    }

    /// Stops the subscriber promptly (its socket is shut down) and joins it.
    void stop() {
        if (!state_) return;
        state_->guard.interrupt();
        if (reader_.joinable()) reader_.join();
    }

    /// Whether the subscriber is currently subscribed.
    [[nodiscard]] bool subscribed() const noexcept { return state_->subscribed.load(std::memory_order_acquire); }

    /// Why the receive side last failed to (re)connect or read; empty if it never did.
    [[nodiscard]] std::string last_error() const {
        std::lock_guard lock(state_->error_mutex);
        return state_->last_error;
    }

    /// A snapshot of the counters.
    [[nodiscard]] redis_pubsub_stats stats() const noexcept {
        return {state_->subscriptions.load(), state_->connect_failures.load(), state_->foreign_replies.load()};
    }

    /// The Redis channel in use.
    [[nodiscard]] const std::string& channel() const noexcept { return options_.channel; }

private:
    struct shared {
        detail::socket_guard guard;
        mutable std::mutex error_mutex;
        std::string last_error;  // why the receive side last failed
        std::atomic<bool> subscribed{false};
        std::atomic<std::uint64_t> subscriptions{0}, connect_failures{0}, foreign_replies{0};
    };

    void validate() const {
        if (options_.channel.empty())
            throw error(errc::configuration, "hotstate redis_pubsub: the channel name must not be empty");
        if (options_.health_check_interval.count() <= 0)
            throw error(errc::configuration, "hotstate redis_pubsub: health_check_interval must be positive");
    }

    template <class Sink>
    void subscribe_loop(Sink& sink) {
        using clock = std::chrono::steady_clock;
        detail::link_monitor monitor;
        std::string last_problem;
        std::uint32_t attempt = 0;
        shared& state = *state_;
        while (!state.guard.stopping()) {
            bool established = false;
            try {
                redis::connection conn = link_.open_dedicated(link_.command_timeout());
                (void)detail::redis::run<false>(conn, typename Commands::subscribe(options_.channel));
                if (!state.guard.attach(conn.native_handle())) break;
                state.subscribed.store(true, std::memory_order_release);
                state.subscriptions.fetch_add(1, std::memory_order_relaxed);
                attempt = 0;
                established = true;
                if (monitor.is_down()) {
                    const auto down =
                        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - monitor.down_since());
                    sink.on_outage(transport_outage{
                        outage_kind::disconnected, down,
                        "hotstate redis_pubsub: subscriber to '" + options_.channel + "' at " + conn.address() +
                            " was not subscribed for " + std::to_string(down.count()) +
                            " ms (" + last_problem + "); messages published meanwhile are lost"});
                }
                sink.on_connection(monitor.up(clock::now()));
                try {
                    bool ping_outstanding = false;
                    for (;;) {
                        redis::reply message = next_reply(conn, ping_outstanding);
                        deliver(message, sink);
                    }
                } catch (...) {
                    state.guard.detach();
                    throw;
                }
            } catch (const std::exception& problem) {
                state.subscribed.store(false, std::memory_order_release);
                if (state.guard.stopping()) break;
                state.connect_failures.fetch_add(1, std::memory_order_relaxed);
                last_problem = problem.what();
                {
                    std::lock_guard lock(state.error_mutex);
                    state.last_error = last_problem;
                }
                if (auto event = monitor.down(detail::as_error(problem, "hotstate redis_pubsub"), established,
                                              clock::now()))
                    sink.on_connection(*event);
                if (!state.guard.wait_for(options_.reconnect.delay(attempt++))) break;
            }
        }
        state.subscribed.store(false, std::memory_order_release);
    }

    /// The next reply on the subscription: buffered ones first, else wait for
    /// the socket with poll(2), PINGing when it stays quiet (see the banner).
    redis::reply next_reply(redis::connection& conn, bool& ping_outstanding) {
        const int interval = static_cast<int>(std::max<std::int64_t>(1, options_.health_check_interval.count()));
        for (;;) {
            redis::reply buffered = conn.buffered_reply(Commands::subscribe::name);
            if (buffered) {
                ping_outstanding = false;  // anything from the server proves it alive
                return buffered;
            }
            // the stream's wait: a TLS record already decrypted counts as readable
            const bool ready =
                conn.stream().wait_readable(std::chrono::steady_clock::now() + std::chrono::milliseconds{interval});
            if (!ready) {
                if (ping_outstanding)
                    throw error(errc::timeout, "hotstate redis_pubsub: " + conn.address() +
                                                   ": SUBSCRIBE: no answer to the health-check PING within " +
                                                   std::to_string(interval) + " ms");
                std::string ping;
                detail::redis::commands::ping{}.write(ping);
                conn.write_raw("SUBSCRIBE (health-check PING)", ping);
                ping_outstanding = true;
                continue;
            }
            conn.read_available(Commands::subscribe::name);
        }
    }

    /// A subscriber reply is ["message", channel, payload]; a health-check PONG is
    /// ["pong", ""]; anything else is counted and skipped.
    template <class Sink>
    void deliver(const redis::reply& message, Sink& sink) {
        using kind = detail::redis::commands::subscriber_reply::kind;
        const auto read = detail::redis::commands::read_subscriber_reply(message, Commands::message, Commands::dropped);
        switch (read.what) {
            case kind::message: sink.on_message(read.payload); return;
            case kind::pong: return;
            case kind::ended:  // not ours to ignore: resubscribe where the channel lives now
                throw error(errc::connection, "hotstate redis_pubsub: the server ended the subscription to '" +
                                                  options_.channel + "' (" + std::string(Commands::dropped) + ")");
            case kind::other: break;
        }
        state_->foreign_replies.fetch_add(1, std::memory_order_relaxed);
    }

    L link_;
    redis_pubsub_options options_;
    std::unique_ptr<shared> state_;
    std::thread reader_;
};

/// PUBLISH/SUBSCRIBE on one Redis server.
using redis_pubsub = basic_redis_pubsub<>;

static_assert(Transport<redis_pubsub>);

}  // namespace hotstate::transports
