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
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <hotstate/detail/nats/client.hpp>
#include <hotstate/detail/nats/receiver.hpp>
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
        reader_.start(state_->receiver, "nats", [this, &sink] { receive_loop(sink); });
    }

    /// Stops the receive thread (within one poll interval, 50 ms) and joins it. Idempotent.
    void stop() {
        if (state_) reader_.stop(state_->receiver);
    }

    /// Whether subscribed and connected now.
    [[nodiscard]] bool subscribed() const noexcept {
        return state_->receiver.subscribed.load(std::memory_order_acquire) && state_->link.connected();
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
    [[nodiscard]] std::string last_error() const { return state_->receiver.last_error_text(); }

    /// A snapshot of the counters.
    [[nodiscard]] nats_stats stats() const noexcept {
        const auto& receiver = state_->receiver;
        return {receiver.connections.load(), receiver.connect_failures.load(), receiver.disconnects.load(),
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
        detail::nats::receive_state receiver;
        std::atomic<std::uint64_t> dropped{0};
    };

    template <class Sink>
    void receive_loop(Sink& sink) {
        shared& state = *state_;
        const detail::nats::receive_setup setup{"nats", state.reconnect_wait, state.options.subject, true};
        detail::nats::receive_loop(
            state.receiver, state.link, setup, sink,
            [&] {
                state.link.connect();
                natsSubscription* raw = nullptr;
                natsStatus status = natsConnection_SubscribeSync(&raw, state.link.connection(), state.options.subject.c_str());
                if (status != NATS_OK)
                    throw detail::nats::status_error(status, "subscribe to '" + state.options.subject + "'",
                                                     state.link.servers());
                detail::nats::subscription sub(raw);
                status = natsSubscription_SetPendingLimits(raw, state.options.max_pending_messages,
                                                           state.options.max_pending_bytes);
                if (status != NATS_OK)
                    throw detail::nats::status_error(status, "subscription limits", state.link.servers());
                // the server has the subscription once this round trip returns: no message is missed after start
                status = natsConnection_FlushTimeout(state.link.connection(), 5000);
                if (status != NATS_OK) throw detail::nats::status_error(status, "subscribe", state.link.servers());
                return sub;
            },
            [&](natsMsg* msg) {
                sink.on_message(std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
            },
            [&](natsSubscription* sub) {
                int64_t dropped = 0;
                if (natsSubscription_GetDropped(sub, &dropped) == NATS_OK)
                    state.dropped.store(static_cast<std::uint64_t>(dropped), std::memory_order_relaxed);
            },
            [] {});
    }

    std::unique_ptr<shared> state_;
    detail::nats::receive_thread reader_;
};

static_assert(Transport<nats>);

}  // namespace hotstate::transports
