// hotstate/detail/nats/receiver.hpp: the receive side both NATS transports
// (core NATS and JetStream) share: its thread, the stop flag a sleeping retry
// wakes on, the last receive error, the connection counters, and the loop's
// frame: subscribe until that works (each failure reported once, retried after
// reconnect_wait), then poll for a message every 50 ms and, after each poll,
// turn the client's link events into counters and connection reports.
//
// What differs between the transports (how to subscribe, what to do with a
// message, a slow-consumer notice, extra work after each poll) is passed in.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/detail/nats/client.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::nats {

/// Unsubscribes and frees a subscription.
struct subscription_deleter {
    void operator()(natsSubscription* sub) const noexcept {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
};

/// A subscription the receive loop owns.
using subscription = std::unique_ptr<natsSubscription, subscription_deleter>;

/// The receive side's state, shared by the transport's calls and its thread.
struct receive_state {
    mutable std::mutex wait_mutex;
    std::condition_variable wake;
    std::atomic<bool> stopping{false};
    std::atomic<bool> subscribed{false};
    std::string last_error;  // guarded by wait_mutex
    std::atomic<std::uint64_t> connections{0}, connect_failures{0}, disconnects{0};

    /// Sleeps `span` unless a stop comes first; false when stopping.
    bool wait(std::chrono::milliseconds span) {
        std::unique_lock lock(wait_mutex);
        return !wake.wait_for(lock, span, [&] { return stopping.load(); });
    }

    /// Keeps `problem` as the last receive error.
    void remember(const error& problem) {
        std::lock_guard lock(wait_mutex);
        last_error = problem.message();
    }

    /// The last receive error; empty if there was none.
    [[nodiscard]] std::string last_error_text() const {
        std::lock_guard lock(wait_mutex);
        return last_error;
    }
};

/// The receive thread: started once; stop() wakes a sleeping retry and joins.
class receive_thread {
public:
    /// Runs `loop` on a new thread; errc::invalid_argument when already started.
    template <class Loop>
    void start(receive_state& state, std::string_view transport, Loop loop) {
        if (thread_.joinable())
            throw error(errc::invalid_argument, "hotstate " + std::string(transport) + ": started twice");
        state.stopping.store(false);
        thread_ = std::thread(std::move(loop));
    }

    /// Stops the loop (within one poll, 50 ms) and joins it. Idempotent.
    void stop(receive_state& state) {
        {
            std::lock_guard lock(state.wait_mutex);
            state.stopping.store(true);
        }
        state.wake.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    std::thread thread_;
};

/// What the receive loop needs to know of its transport.
struct receive_setup {
    std::string_view transport;              // "nats", "nats_jetstream": messages name it
    std::chrono::milliseconds reconnect_wait;  // between failed first subscriptions
    const std::string& subject;
    bool lossy;  // core NATS: messages published while disconnected are lost (reported as an outage)
};

/// The receive loop's frame; returns when stopped (or after the client closed
/// for good, reported, once stopped).
/// @param subscribe  () -> subscription: connects and subscribes; throws on failure. A null
///                   subscription: nothing to receive (a publish-only node); the loop then only
///                   sleeps between polls, reports the link's events and runs after_poll
/// @param handle     (natsMsg*): one message (freed by the loop afterwards)
/// @param slow       (natsSubscription*): the client dropped messages for this subscriber
/// @param after_poll (): more work after each poll and its link events
template <class Sink, class Subscribe, class Handle, class Slow, class AfterPoll>
void receive_loop(receive_state& state, client& link, const receive_setup& setup, Sink& sink, Subscribe&& subscribe,
                  Handle&& handle, Slow&& slow, AfterPoll&& after_poll) {
    using clock = std::chrono::steady_clock;
    link_monitor monitor;
    subscription sub;
    bool ready = false;
    // first connection and subscription: ours to retry; afterwards the client reconnects
    while (!ready && !state.stopping.load()) {
        try {
            sub = subscribe();
            ready = true;
            state.subscribed.store(true, std::memory_order_release);
            state.connections.fetch_add(1, std::memory_order_relaxed);
            sink.on_connection(monitor.up(clock::now()));
        } catch (const std::exception& caught) {
            sub.reset();
            const error problem = as_error(caught, "hotstate " + std::string(setup.transport));
            state.connect_failures.fetch_add(1, std::memory_order_relaxed);
            state.remember(problem);
            if (auto event = monitor.down(problem, false, clock::now())) sink.on_connection(*event);
            if (!state.wait(setup.reconnect_wait)) break;
        }
    }
    while (ready && !state.stopping.load(std::memory_order_relaxed)) {
        natsMsg* msg = nullptr;
        natsStatus status = NATS_TIMEOUT;
        if (sub) status = natsSubscription_NextMsg(&msg, sub.get(), 50);
        else (void)state.wait(std::chrono::milliseconds{50});  // nothing to receive: publish-only
        if (status == NATS_OK) {
            handle(msg);
            natsMsg_Destroy(msg);
        } else if (status == NATS_SLOW_CONSUMER) {
            slow(sub.get());
        } else if (status != NATS_TIMEOUT) {
            // closed for good (the client gave up): report, then wait for stop
            const error problem = status_error(status, "receive", link.servers());
            state.remember(problem);
            if (auto event = monitor.down(problem, true, clock::now())) sink.on_connection(*event);
            state.wait(std::chrono::hours{24 * 365});
            break;
        }
        for (const auto& event : link.take_events()) {
            if (event.what == link_event::kind::lost) state.disconnects.fetch_add(1, std::memory_order_relaxed);
            if (event.what == link_event::kind::back) state.connections.fetch_add(1, std::memory_order_relaxed);
            if (auto problem = report_event(event, monitor, sink, link.servers(), setup.subject, setup.lossy))
                state.remember(*problem);
        }
        after_poll();
    }
    if (sub && link.connected()) {
        // The server learns of the unsubscription before stop() returns. Otherwise a
        // durable (push) consumer keeps sending to this gone subscriber what is published
        // right after the stop, and those messages come back only after ack_wait.
        natsSubscription_Unsubscribe(sub.get());
        (void)natsConnection_FlushTimeout(link.connection(), 1000);
    }
    state.subscribed.store(false, std::memory_order_release);
}

}  // namespace hotstate::detail::nats
