// hotstate/transports/nats.hpp: coordinator messages over core NATS.
//
// Sending: a core NATS publish on one subject (the NATS C client buffers it and
// its flusher thread writes it). Receiving: a synchronous subscription to the
// subject, read by the transport's own thread; handlers run on that thread in
// the order the server relays messages, which is each publisher's order.
// Like Redis pub/sub, core NATS keeps nothing: the same node id / incarnation /
// sequence header lets the coordinator report what a disconnected node missed
// (an outage with its duration, then the exact skipped sequence numbers).
//
// Connection: the receive thread connects (with nats_settings::reconnect_wait
// between attempts, each failure reported once as connect_failed: a wrong
// password is errc::authentication); once connected, the client reconnects by
// itself and resubscribes; the transport reports `lost`, then `reconnected`
// and the outage. What is published while disconnected waits in the client's
// reconnect buffer (bounded; a publish beyond it fails with errc::memory_limit
// and is dropped, as every failed core NATS send is). With connect_on_start,
// the constructor connects and throws instead.
//
// Messages the client had to drop because this node read too slowly (a slow
// consumer, past max_pending_messages) are counted in stats().dropped and show
// up as the coordinator's sequence gaps.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/detail/nats/client.hpp>
#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>
#include <hotstate/transports/nats_settings.hpp>

namespace hotstate::transports {

/// Settings of transports::nats.
struct nats_options {
    /// The subject every node of the cluster publishes on and subscribes to.
    std::string subject = "hotstate.coordinator";
    /// Messages the client queues for this node before it drops them (slow consumer).
    int max_pending_messages = 65536;
    /// Bytes the client queues for this node before it drops messages.
    int max_pending_bytes = 64 * 1024 * 1024;
};

/// Counters of a nats transport.
struct nats_stats {
    std::uint64_t connections = 0;       ///< successful connects (1) and reconnects
    std::uint64_t connect_failures = 0;  ///< failed first-connect attempts
    std::uint64_t disconnects = 0;       ///< connections lost
    std::uint64_t dropped = 0;           ///< messages the client dropped for this slow subscriber
    std::uint64_t async_errors = 0;      ///< asynchronous errors the client reported
    std::int64_t reconnect_buffered = 0; ///< bytes now waiting in the reconnect buffer
};

/// Core NATS publish/subscribe transport (see the banner above).
class nats {
public:
    /// Fire and forget: a failed publish is dropped, the receivers see the sequence gap.
    static constexpr bool durable = false;

    /// A transport for `settings`; connects now when settings.connect_on_start (and throws).
    explicit nats(const nats_settings& settings, nats_options options = {})
        : state_(std::make_unique<shared>(settings, std::move(options))) {
        if (state_->options.subject.empty())
            throw error(errc::configuration, "hotstate nats: the subject must not be empty");
        if (state_->options.max_pending_messages <= 0 || state_->options.max_pending_bytes <= 0)
            throw error(errc::configuration, "hotstate nats: max_pending_messages and max_pending_bytes must be positive");
        if (settings.connect_on_start) state_->link.connect();
    }

    nats(nats&&) noexcept = default;
    nats& operator=(nats&&) noexcept = delete;
    ~nats() { stop(); }

    /// Publishes `message` on the subject. Throws hotstate::error (not connected yet,
    /// reconnect buffer full: memory_limit, connection closed).
    void send(std::string_view message) { state_->link.publish(state_->options.subject, message); }

    /// Starts the receive thread; messages go to `sink.on_message` on that thread.
    template <class Sink>
    void start(Sink& sink) {
        if (reader_.joinable()) throw error(errc::invalid_argument, "hotstate nats: started twice");
        state_->stopping.store(false);
        reader_ = std::thread([this, &sink] { receive_loop(sink); });
    }

    /// Stops the receive thread (within one poll interval, 50 ms) and joins it. Idempotent.
    void stop() {
        if (!state_) return;
        {
            std::lock_guard lock(state_->wait_mutex);
            state_->stopping.store(true);
        }
        state_->wake.notify_all();
        if (reader_.joinable()) reader_.join();
    }

    /// Whether subscribed and connected now.
    [[nodiscard]] bool subscribed() const noexcept {
        return state_->subscribed.load(std::memory_order_acquire) && state_->link.connected();
    }

    /// Waits until the server has processed everything published so far (a PING round trip).
    /// Throws errc::timeout or connection.
    void flush(std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
        natsConnection* nc = state_->link.connection();
        if (!nc) throw error(errc::connection, "hotstate nats: flush (" + state_->link.servers() + "): not connected");
        const natsStatus status = natsConnection_FlushTimeout(nc, timeout.count());
        if (status != NATS_OK) throw detail::nats::status_error(status, "flush", state_->link.servers());
    }

    /// Why the receive side last failed; empty if it never did.
    [[nodiscard]] std::string last_error() const {
        std::lock_guard lock(state_->wait_mutex);
        return state_->last_error;
    }

    /// A snapshot of the counters.
    [[nodiscard]] nats_stats stats() const noexcept {
        return {state_->connections.load(), state_->connect_failures.load(), state_->disconnects.load(),
                state_->dropped.load(), state_->link.async_errors(), state_->link.buffered()};
    }

    /// The subject in use.
    [[nodiscard]] const std::string& subject() const noexcept { return state_->options.subject; }

private:
    struct shared {
        shared(const nats_settings& settings, nats_options opts)
            : link(settings), options(std::move(opts)), reconnect_wait(settings.reconnect_wait) {}
        detail::nats::client link;
        nats_options options;
        std::chrono::milliseconds reconnect_wait;
        mutable std::mutex wait_mutex;
        std::condition_variable wake;
        std::atomic<bool> stopping{false};
        std::atomic<bool> subscribed{false};
        std::string last_error;
        std::atomic<std::uint64_t> connections{0}, connect_failures{0}, disconnects{0}, dropped{0};
    };

    struct subscription_deleter {
        void operator()(natsSubscription* sub) const noexcept {
            natsSubscription_Unsubscribe(sub);
            natsSubscription_Destroy(sub);
        }
    };

    bool wait(std::chrono::milliseconds span) {
        std::unique_lock lock(state_->wait_mutex);
        return !state_->wake.wait_for(lock, span, [&] { return state_->stopping.load(); });
    }

    void remember(const error& problem) {
        std::lock_guard lock(state_->wait_mutex);
        state_->last_error = problem.message();
    }

    template <class Sink>
    void receive_loop(Sink& sink) {
        using clock = std::chrono::steady_clock;
        shared& state = *state_;
        detail::link_monitor monitor;
        std::unique_ptr<natsSubscription, subscription_deleter> sub;
        // first connection and subscription: ours to retry; afterwards the client reconnects
        while (!sub && !state.stopping.load()) {
            try {
                state.link.connect();
                natsSubscription* raw = nullptr;
                natsStatus status = natsConnection_SubscribeSync(&raw, state.link.connection(), state.options.subject.c_str());
                if (status != NATS_OK)
                    throw detail::nats::status_error(status, "subscribe to '" + state.options.subject + "'",
                                                     state.link.servers());
                sub.reset(raw);
                status = natsSubscription_SetPendingLimits(raw, state.options.max_pending_messages,
                                                           state.options.max_pending_bytes);
                if (status != NATS_OK)
                    throw detail::nats::status_error(status, "subscription limits", state.link.servers());
                // the server has the subscription once this round trip returns: no message is missed after start
                status = natsConnection_FlushTimeout(state.link.connection(), 5000);
                if (status != NATS_OK) throw detail::nats::status_error(status, "subscribe", state.link.servers());
                state.subscribed.store(true, std::memory_order_release);
                state.connections.fetch_add(1, std::memory_order_relaxed);
                sink.on_connection(monitor.up(clock::now()));
            } catch (const std::exception& caught) {
                sub.reset();
                const error problem = detail::as_error(caught, "hotstate nats");
                state.connect_failures.fetch_add(1, std::memory_order_relaxed);
                remember(problem);
                if (auto event = monitor.down(problem, false, clock::now())) sink.on_connection(*event);
                if (!wait(state.reconnect_wait)) break;
            }
        }
        while (sub && !state.stopping.load(std::memory_order_relaxed)) {
            natsMsg* msg = nullptr;
            const natsStatus status = natsSubscription_NextMsg(&msg, sub.get(), 50);
            if (status == NATS_OK) {
                sink.on_message(std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
                natsMsg_Destroy(msg);
            } else if (status == NATS_SLOW_CONSUMER) {
                int64_t dropped = 0;
                if (natsSubscription_GetDropped(sub.get(), &dropped) == NATS_OK)
                    state.dropped.store(static_cast<std::uint64_t>(dropped), std::memory_order_relaxed);
            } else if (status != NATS_TIMEOUT) {
                // closed for good (the client gave up): report, then wait for stop
                const error problem = detail::nats::status_error(status, "receive", state.link.servers());
                remember(problem);
                if (auto event = monitor.down(problem, true, clock::now())) sink.on_connection(*event);
                wait(std::chrono::hours{24 * 365});
                break;
            }
            for (const auto& event : state.link.take_events()) {
                if (event.what == detail::nats::link_event::kind::lost)
                    state.disconnects.fetch_add(1, std::memory_order_relaxed);
                if (event.what == detail::nats::link_event::kind::back)
                    state.connections.fetch_add(1, std::memory_order_relaxed);
                if (auto problem = detail::nats::report_event(event, monitor, sink, state.link.servers(),
                                                              state.options.subject, true))
                    remember(*problem);
            }
        }
        state.subscribed.store(false, std::memory_order_release);
    }

    std::unique_ptr<shared> state_;
    std::thread reader_;
};

static_assert(Transport<nats>);

}  // namespace hotstate::transports
