// hotstate/transports/nats_jetstream.hpp: coordinator messages over NATS JetStream.
//
// Durable: one stream per coordinator (created on first use, file storage,
// bounded by max_messages / max_age), and one durable consumer per node (its
// name is the node's identity: a node that comes back under the same name
// resumes where it stopped, within the stream's retention). The consumer is
// created explicitly (js_AddConsumer) and the subscription only binds to it, so
// the node's position never depends on what the client library does with a
// consumer when a subscription ends.
//
// Sending: a JetStream publish with a Nats-Msg-Id made of its node id,
// incarnation and sequence number, so a publish sent again that had in fact been
// stored is dropped by the stream's duplicate window instead of being stored
// twice. By default (max_outstanding_publishes = 1) send() waits for the
// stream's acknowledgement and throws when it may not have been stored; the
// coordinator sends the same bytes again. Each publisher's messages are then in
// the stream in its order, whatever the server or the network does.
//
// With max_outstanding_publishes > 1, send() hands the message to the client and
// returns; at most that many acknowledgements are awaited at once (a send beyond
// waits for room, up to publish_timeout, then fails and is retried). A publish
// the stream refuses or does not acknowledge within publish_timeout is reported
// (connection_state::send_failed through coordinator::on_connection, on the
// receive thread) and sent again, in sequence order, before any later send: by
// the next send(), or by the receive thread if none comes; send_recovered follows
// once stored. After a failure or a lost connection, sends wait for their
// acknowledgement until one is stored (a restarted server refuses publishes until
// its streams are loaded); the publishes a lost connection carried without an
// answer are taken back from the client and sent again first; the JetStream
// connection keeps no reconnect buffer to speak of (nats_settings::
// reconnect_buffer_bytes does not apply). What this cannot exclude: a publish
// made while the connection is failing can still reach the restarted server
// ahead of older ones the old connection lost (the client hands one write to the
// new connection before anything else), and a publish the server refuses while
// later ones are stored lands behind them when sent again. Receivers then report
// the older messages as a sequence gap and drop them as late: reported, never
// silent, but a gap on a durable transport; hence not the default.
// flush() waits until every publish is stored; stop() does so too (bounded by
// publish_timeout) so that what was sent before a clean shutdown is stored.
//
// A node that only publishes leaves `consumer` empty: it makes no consumer
// (none stays on the stream holding messages for it) and receives nothing.
//
// Receiving: a push consumer with explicit acknowledgements, read by the
// transport's thread; each message is acknowledged after the coordinator
// handled it and the acknowledgement is written to the socket (the connection
// sends at once, send_asap) before the next message is handed over. A node that
// crashes therefore gets again at most the message it was handling (after
// ack_wait); fetched-but-unhandled messages were never handed to a handler. The
// acknowledgement is not confirmed (no round trip per message) unless
// confirm_acks: an acknowledgement the network loses makes the server deliver
// that message again, which the coordinator drops as a duplicate while the node
// runs. Messages the stream discarded before this node read them (retention) are
// reported as retention_exceeded.
//
// Connection handling is the core transport's (transports/nats.hpp): the
// client reconnects by itself; the receive side reports lost / reconnected;
// nothing is lost meanwhile, so no outage is reported.
#pragma once

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/detail/nats/client.hpp>
#include <hotstate/detail/nats/receiver.hpp>
#include <hotstate/detail/base/wire.hpp>
#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>
#include <hotstate/transports/nats_settings.hpp>

namespace hotstate::transports {

/// Settings of transports::nats_jetstream.
struct nats_jetstream_options {
    /// The stream's name (letters, digits, '-', '_'): one per coordinator cluster.
    std::string stream = "HOTSTATE_COORDINATOR";
    /// The subject the stream captures and every node publishes on.
    std::string subject = "hotstate.coordinator.durable";
    /// This node's durable consumer: must differ between nodes and stay the same
    /// across a node's restarts (e.g. "node-7"). Empty: a publish-only node, which
    /// makes no consumer and receives nothing (its handlers are never called).
    std::string consumer{};
    /// A consumer created for the first time starts with the stream's first retained
    /// message (true) or with what is published from now on (false).
    bool from_beginning = false;
    /// The stream keeps at most this many messages (oldest dropped first); 0: no bound.
    std::int64_t max_messages = 1'000'000;
    /// The stream drops messages older than this; 0: no bound.
    std::chrono::seconds max_age{std::chrono::hours{24}};
    /// Copies of the stream a JetStream cluster keeps (1, 3 or 5; at most the number of
    /// servers): with 3, a publish is acknowledged once two servers stored it, so one
    /// server lost (killed, restarted, its disk gone) loses nothing, and the stream and
    /// the consumers move to the others (tests/coordinator/jetstream_cluster.cpp). Only
    /// used by the node that creates the stream; a single server needs 1.
    int replicas = 1;
    /// A message handed to a node that does not acknowledge it within this is redelivered.
    std::chrono::milliseconds ack_wait{std::chrono::seconds{30}};
    /// Messages delivered to the node but not yet acknowledged, at most.
    std::int64_t max_ack_pending = 1024;
    /// How long a publish waits for the stream's acknowledgement.
    std::chrono::milliseconds publish_timeout{std::chrono::seconds{5}};
    /// Publishes whose acknowledgement is awaited at once, at most (see the banner). 1 (the
    /// default): each send waits for its own; the stream holds each publisher's messages in
    /// its order whatever happens. More (e.g. 256: several times the throughput): asynchronous
    /// publishes, which a server restart or refusal while some are in flight can reorder
    /// (reported to receivers as a gap, never silently).
    std::int64_t max_outstanding_publishes = 1;
    /// Each acknowledgement of a handled message is confirmed by the server before the next
    /// message is handled (one round trip per message) instead of only written to the socket.
    bool confirm_acks = false;
    /// Window in which the stream drops a message id it already stored (retried publishes).
    std::chrono::seconds duplicate_window{std::chrono::minutes{2}};
};

/// Counters of a nats_jetstream transport.
struct nats_jetstream_stats {
    std::uint64_t connections = 0;        ///< successful first connects and reconnects
    std::uint64_t connect_failures = 0;   ///< failed attempts to connect and bind the consumer
    std::uint64_t disconnects = 0;        ///< connections lost
    std::uint64_t delivered = 0;          ///< messages handed to the coordinator
    std::uint64_t redelivered = 0;        ///< of those, delivered more than once by the server
    std::uint64_t duplicates_stored = 0;  ///< publishes the stream recognised as already stored
    std::uint64_t retention_reports = 0;  ///< retention_exceeded outages reported
    std::uint64_t ack_failures = 0;       ///< acknowledgements that could not be sent (or confirmed)
    std::uint64_t publish_failures = 0;   ///< publishes refused or not acknowledged in time (then sent again)
    std::uint64_t republished = 0;        ///< of those, sent again and stored (or found stored)
};

/// JetStream transport: durable stream, durable consumer per node (see the banner above).
class nats_jetstream {
public:
    /// The coordinator retries a failed send with the same bytes until it succeeds.
    static constexpr bool durable = true;

    /// A transport for `settings`; connects now when settings.connect_on_start (and throws).
    explicit nats_jetstream(const nats_settings& settings, nats_jetstream_options options)
        : state_(std::make_unique<shared>(settings, std::move(options))) {
        const auto& o = state_->options;
        if (o.stream.empty() || o.stream.find_first_of(" .*>") != std::string::npos)
            throw error(errc::configuration, "hotstate nats_jetstream: the stream name '" + o.stream +
                                                 "' must be non-empty, without spaces, '.', '*' or '>'");
        if (o.subject.empty()) throw error(errc::configuration, "hotstate nats_jetstream: the subject must not be empty");
        if (o.consumer.find_first_of(" .*>") != std::string::npos)
            throw error(errc::configuration, "hotstate nats_jetstream: the durable consumer name '" + o.consumer +
                                                 "' must be without spaces, '.', '*' or '>'");
        if (o.replicas < 1 || o.replicas > 5)
            throw error(errc::configuration, "hotstate nats_jetstream: replicas must be 1..5 (JetStream's bound), not " +
                                                 std::to_string(o.replicas));
        if (o.ack_wait.count() <= 0 || o.max_ack_pending <= 0 || o.publish_timeout.count() <= 0 ||
            o.max_outstanding_publishes <= 0)
            throw error(errc::configuration, "hotstate nats_jetstream: ack_wait, max_ack_pending, publish_timeout and "
                                             "max_outstanding_publishes must be positive");
        if (settings.connect_on_start) ensure_ready();
    }

    nats_jetstream(nats_jetstream&&) noexcept = default;
    nats_jetstream& operator=(nats_jetstream&&) noexcept = delete;
    ~nats_jetstream() { stop(); }

    /// Publishes `message` to the stream (see the banner: asynchronous within
    /// max_outstanding_publishes, after any failed earlier publish was sent again).
    /// Throws hotstate::error (connection, timeout, server) when it was not handed over;
    /// the coordinator then sends the same bytes again.
    void send(std::string_view message) {
        ensure_ready();
        shared& state = *state_;
        std::lock_guard sending(state.send_mutex);
        // never into the reconnect buffer: what it holds may be stored after what the old
        // connection lost (the coordinator retries this send once connected again)
        if (!state.link.connected()) [[unlikely]]
            throw error(errc::connection, "hotstate nats_jetstream: publish to stream '" + state.options.stream +
                                              "' (" + state.link.servers() + "): not connected; retried");
        // room in the window first (the client's own stall would let this publish go out after
        // an older one that then fails, or into the reconnect buffer): then the checks below hold
        // when it is handed over
        if (state.options.max_outstanding_publishes > 1 &&
            state.outstanding.load(std::memory_order_acquire) >= state.options.max_outstanding_publishes) [[unlikely]]
            wait_for_room();
        if (state.link.disconnect_count() != state.seen_disconnects) [[unlikely]]
            take_over_unacknowledged();
        if (state.failed_pending.load(std::memory_order_acquire)) [[unlikely]]
            resend_failed();
        // the same message (a retry) gets the same id: the stream stores it once
        thread_local std::string id;
        jsPubOptions options;
        jsPubOptions_Init(&options);
        options.MaxWait = state.options.publish_timeout.count();
        options.ExpectStream = state.options.stream.c_str();
        if (message_id(message, id)) options.MsgId = id.c_str();  // else not a coordinator message (a test's bytes)
        // after a lost connection or a failed publish, one at a time until the stream answers
        // again: a server that just restarted refuses publishes (no responders) until its
        // streams are loaded, and an asynchronous one refused there while later ones are
        // stored would land behind them when sent again
        if (state.options.max_outstanding_publishes == 1 || state.careful.load(std::memory_order_acquire)) [[unlikely]] {
            publish_and_wait(message, options);
            state.careful.store(false, std::memory_order_release);
            return;
        }
        state.published_async = true;
        state.outstanding.fetch_add(1, std::memory_order_acq_rel);
        const natsStatus status = js_PublishAsync(state.js.get(), state.options.subject.c_str(), message.data(),
                                                  static_cast<int>(message.size()), &options);
        if (status != NATS_OK) [[unlikely]] {
            state.outstanding.fetch_sub(1, std::memory_order_acq_rel);
            throw with_code(status, static_cast<jsErrCode>(0), "publish to stream '" + state.options.stream + "'");
        }
    }

    /// Waits until every publish so far is stored (failed ones sent again). Throws
    /// errc::timeout (or what the last resend failed with) when `timeout` passes first.
    void flush(std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
        ensure_ready();
        std::lock_guard sending(state_->send_mutex);
        settle(timeout);
    }

    /// Starts the receive thread; messages go to `sink.on_message` on that thread.
    template <class Sink>
    void start(Sink& sink) {
        reader_.start(state_->receiver, "nats_jetstream", [this, &sink] { receive_loop(sink); });
    }

    /// Stops the receive thread (within one poll interval, 50 ms) and joins it. The
    /// durable consumer stays on the server, for this node's next start. Idempotent.
    /// Publishes still awaiting their acknowledgement are waited for (and failed ones sent
    /// again) first, up to publish_timeout: a clean stop loses nothing that was sent.
    void stop() {
        if (!state_) return;
        reader_.stop(state_->receiver);
        if (state_->ready.load(std::memory_order_acquire)) {
            std::lock_guard sending(state_->send_mutex);
            try {
                settle(state_->options.publish_timeout);
            } catch (const std::exception& caught) {
                remember(detail::as_error(caught, "hotstate nats_jetstream: stop"));  // counted in publish_failures
            }
        }
    }

    /// Whether the consumer is bound (publish-only: the stream is ready) and the connection up.
    [[nodiscard]] bool subscribed() const noexcept {
        return state_->receiver.subscribed.load(std::memory_order_acquire) && state_->link.connected();
    }

    /// Why the receive side last failed; empty if it never did.
    [[nodiscard]] std::string last_error() const { return state_->receiver.last_error_text(); }

    /// A snapshot of the counters.
    [[nodiscard]] nats_jetstream_stats stats() const noexcept {
        const shared& s = *state_;
        return {s.receiver.connections.load(), s.receiver.connect_failures.load(), s.receiver.disconnects.load(),
                s.delivered.load(),         s.redelivered.load(),       s.duplicates_stored.load(),
                s.retention_reports.load(), s.ack_failures.load(),      s.publish_failures.load(),
                s.republished.load()};
    }

    /// The stream in use.
    [[nodiscard]] const std::string& stream() const noexcept { return state_->options.stream; }

private:
    struct js_deleter {
        void operator()(jsCtx* js) const noexcept { jsCtx_Destroy(js); }
    };

    /// A publish to send again: its bytes, id and place in its publisher's order.
    struct failed_publish {
        std::string data;
        std::string id;
        std::uint64_t incarnation = 0, sequence = 0;
    };

    /// The connection sends each write at once: an acknowledgement leaves the process
    /// before the next message is handled (see the banner).
    /// No reconnect buffer to speak of: a publish made while the client reconnects fails
    /// (and the coordinator retries it once connected) instead of waiting in the buffer
    /// and being stored ahead of older publishes the old connection lost.
    static nats_settings sending_at_once(nats_settings settings) {
        settings.send_asap = true;
        settings.reconnect_buffer_bytes = 1;
        return settings;
    }

    struct shared {
        shared(const nats_settings& settings, nats_jetstream_options opts)
            : link(sending_at_once(settings)), options(std::move(opts)), reconnect_wait(settings.reconnect_wait) {}
        // the client's threads call on_published with this object: none may run while it goes away
        ~shared() { link.close(); }
        detail::nats::client link;
        nats_jetstream_options options;
        std::chrono::milliseconds reconnect_wait;
        std::mutex ready_mutex;
        std::unique_ptr<jsCtx, js_deleter> js;
        std::atomic<bool> ready{false};  // connected, context made, stream exists
        detail::nats::receive_state receiver;
        std::mutex send_mutex;  // send(), flush(), stop() and the receive thread's resends: one at a time
        std::mutex failed_mutex;
        std::vector<failed_publish> failed;                 // guarded by failed_mutex
        std::optional<error> unreported_failure;            // guarded by failed_mutex
        std::atomic<bool> failed_pending{false};            // failed is not empty
        std::atomic<bool> failure_reported{false};          // a send_failed is out, send_recovered not yet
        std::atomic<bool> recovered{false};                 // resent: report send_recovered
        std::atomic<bool> careful{false};                   // publish synchronously until one is stored
        std::chrono::steady_clock::time_point failing_since{};  // guarded by failed_mutex
        std::uint64_t seen_disconnects = 0;  // link.disconnect_count() when last taken over; send_mutex
        bool published_async = false;        // js_PublishAsync was called; send_mutex
        std::atomic<std::int64_t> outstanding{0};  // asynchronous publishes awaiting their answer
        std::mutex room_mutex;
        std::condition_variable room;  // an answer came: outstanding went down
        std::atomic<std::uint64_t> seen_disconnects_hint{0};  // its copy for the receive thread's check
        std::atomic<std::uint64_t> delivered{0}, redelivered{0},
            duplicates_stored{0}, retention_reports{0}, ack_failures{0}, publish_failures{0}, republished{0};
    };

    /// The client's answer to an asynchronous publish (on one of its threads).
    static void on_published(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* failure, void* closure) {
        auto& state = *static_cast<shared*>(closure);
        struct room_made {
            shared& state;
            ~room_made() {
                {
                    std::lock_guard lock(state.room_mutex);
                    state.outstanding.fetch_sub(1, std::memory_order_acq_rel);
                }
                state.room.notify_all();
            }
        } made{state};
        if (ack != nullptr) {
            if (ack->Duplicate) state.duplicates_stored.fetch_add(1, std::memory_order_relaxed);
        } else if (failure != nullptr && msg != nullptr) {
            state.publish_failures.fetch_add(1, std::memory_order_relaxed);
            failed_publish again;
            again.data.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
            message_id(again.data, again.id, &again.incarnation, &again.sequence);
            std::string why = "hotstate nats_jetstream: publish to stream '" + state.options.stream + "' (" +
                              state.link.servers() + ") failed: ";
            why += failure->ErrText != nullptr ? failure->ErrText : natsStatus_GetText(failure->Err);
            if (failure->ErrCode != 0) why += " (JetStream error " + std::to_string(static_cast<int>(failure->ErrCode)) + ")";
            why += "; sent again";
            std::lock_guard lock(state.failed_mutex);
            if (state.failed.empty()) state.failing_since = std::chrono::steady_clock::now();
            state.failed.push_back(std::move(again));
            if (!state.unreported_failure)
                state.unreported_failure.emplace(failure->Err == NATS_TIMEOUT ? errc::timeout
                                                 : failure->ErrCode != 0    ? errc::server
                                                                            : detail::nats::kind_of(failure->Err),
                                                 std::move(why));
            state.failed_pending.store(true, std::memory_order_release);
            state.careful.store(true, std::memory_order_release);
        }
        natsMsg_Destroy(msg);
    }

    /// The Nats-Msg-Id of a coordinator message: "node-incarnation-sequence". False for other bytes.
    static bool message_id(std::string_view message, std::string& id, std::uint64_t* incarnation = nullptr,
                           std::uint64_t* sequence = nullptr) noexcept {
        try {
            detail::wire_reader in(message, "coordinator message");
            if (in.byte() != detail::coordinator_magic || in.byte() != detail::coordinator_wire_version) return false;
            const std::uint64_t node = in.varint(), inc = in.varint(), seq = in.varint();
            id.clear();
            id += std::to_string(node);
            id += '-';
            id += std::to_string(inc);
            id += '-';
            id += std::to_string(seq);
            if (incarnation) *incarnation = inc;
            if (sequence) *sequence = seq;
            return true;
        } catch (...) {
            return false;
        }
    }

    /// One publish that waits for the stream's acknowledgement. Throws when it may not be stored.
    void publish_and_wait(std::string_view message, jsPubOptions& options) {
        shared& state = *state_;
        jsPubAck* ack = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        const natsStatus status = js_Publish(&ack, state.js.get(), state.options.subject.c_str(), message.data(),
                                             static_cast<int>(message.size()), &options, &code);
        if (status != NATS_OK) [[unlikely]]
            throw with_code(status, code, "publish to stream '" + state.options.stream + "'");
        if (ack->Duplicate) state.duplicates_stored.fetch_add(1, std::memory_order_relaxed);
        jsPubAck_Destroy(ack);
    }

    /// Waits until fewer than max_outstanding_publishes await their answer. Throws
    /// errc::timeout after publish_timeout (the coordinator retries). send_mutex held.
    void wait_for_room() {
        shared& state = *state_;
        std::unique_lock lock(state.room_mutex);
        if (!state.room.wait_for(lock, state.options.publish_timeout, [&] {
                return state.outstanding.load(std::memory_order_acquire) < state.options.max_outstanding_publishes ||
                       state.link.disconnect_count() != state.seen_disconnects;
            }))
            throw error(errc::timeout, "hotstate nats_jetstream: publish to stream '" + state.options.stream + "' (" +
                                           state.link.servers() + "): " +
                                           std::to_string(state.options.max_outstanding_publishes) +
                                           " publishes still unacknowledged after publish_timeout; retried");
    }

    /// After a lost connection: the publishes it carried that were not acknowledged are taken
    /// back from the client (their acknowledgements will not come, or come too late to count)
    /// and sent again, in order, before anything new: otherwise a new publish could be stored
    /// ahead of one the old connection lost. Those that had been stored are dropped by the
    /// stream's duplicate window. send_mutex held.
    void take_over_unacknowledged() {
        shared& state = *state_;
        const std::uint64_t disconnects = state.link.disconnect_count();
        natsMsgList pending{};
        // (libnats 3.4 crashes on a context that never published asynchronously)
        if (state.published_async && js_PublishAsyncGetPendingList(&pending, state.js.get()) == NATS_OK) {
            std::lock_guard lock(state.failed_mutex);
            for (int i = 0; i < pending.Count; ++i) {
                if (pending.Msgs[i] == nullptr) continue;
                failed_publish again;
                again.data.assign(natsMsg_GetData(pending.Msgs[i]),
                                  static_cast<std::size_t>(natsMsg_GetDataLength(pending.Msgs[i])));
                message_id(again.data, again.id, &again.incarnation, &again.sequence);
                if (state.failed.empty()) state.failing_since = std::chrono::steady_clock::now();
                state.failed.push_back(std::move(again));
            }
            const int taken = pending.Count;
            if (taken > 0) state.failed_pending.store(true, std::memory_order_release);
            natsMsgList_Destroy(&pending);
            {
                // their answers will not come to on_published now
                std::lock_guard room_lock(state.room_mutex);
                state.outstanding.fetch_sub(taken, std::memory_order_acq_rel);
            }
        }
        state.seen_disconnects = disconnects;
        state.careful.store(true, std::memory_order_release);
    }

    /// Sends the failed publishes again, in their publisher's order, each waiting for its
    /// acknowledgement; first lets every outstanding publish resolve, so that all failures
    /// are known. What cannot be sent stays for the next attempt (and throws). send_mutex held.
    void resend_failed() {
        shared& state = *state_;
        jsPubOptions wait;
        jsPubOptions_Init(&wait);
        wait.MaxWait = state.options.publish_timeout.count();
        natsStatus status = js_PublishAsyncComplete(state.js.get(), &wait);
        if (status != NATS_OK)
            throw detail::nats::status_error(status, "waiting for the stream's acknowledgements", state.link.servers());
        std::vector<failed_publish> again;
        {
            std::lock_guard lock(state.failed_mutex);
            again.swap(state.failed);
            state.failed_pending.store(false, std::memory_order_release);
        }
        std::stable_sort(again.begin(), again.end(), [](const failed_publish& a, const failed_publish& b) {
            return a.incarnation != b.incarnation ? a.incarnation < b.incarnation : a.sequence < b.sequence;
        });
        std::size_t done = 0;
        try {
            for (; done < again.size(); ++done) {
                if (!state.link.connected())
                    throw error(errc::connection, "hotstate nats_jetstream: publish to stream '" +
                                                      state.options.stream + "' (" + state.link.servers() +
                                                      "): not connected; retried");
                jsPubOptions options;
                jsPubOptions_Init(&options);
                options.MaxWait = state.options.publish_timeout.count();
                options.ExpectStream = state.options.stream.c_str();
                if (!again[done].id.empty()) options.MsgId = again[done].id.c_str();
                publish_and_wait(again[done].data, options);
                state.republished.fetch_add(1, std::memory_order_relaxed);
            }
        } catch (...) {
            std::lock_guard lock(state.failed_mutex);
            state.failed.insert(state.failed.begin(), std::make_move_iterator(again.begin() + static_cast<std::ptrdiff_t>(done)),
                                std::make_move_iterator(again.end()));
            state.failed_pending.store(true, std::memory_order_release);
            throw;
        }
        if (state.failure_reported.load(std::memory_order_acquire)) state.recovered.store(true, std::memory_order_release);
    }

    /// Waits until nothing is outstanding and nothing failed is left. send_mutex held.
    void settle(std::chrono::milliseconds timeout) {
        shared& state = *state_;
        jsPubOptions wait;
        jsPubOptions_Init(&wait);
        wait.MaxWait = timeout.count();
        const natsStatus status = js_PublishAsyncComplete(state.js.get(), &wait);
        if (status != NATS_OK)
            throw detail::nats::status_error(status, "waiting for the stream's acknowledgements", state.link.servers());
        if (state.failed_pending.load(std::memory_order_acquire)) resend_failed();
    }

    /// Receive thread: reports asynchronous publish failures and their recovery, and sends
    /// failed publishes again when no send() came to do it.
    template <class Sink>
    void tend_publishes(Sink& sink) {
        shared& state = *state_;
        std::optional<error> failure;
        std::chrono::steady_clock::time_point since{};
        {
            std::lock_guard lock(state.failed_mutex);
            failure.swap(state.unreported_failure);
            since = state.failing_since;
        }
        if (failure && !state.failure_reported.exchange(true)) {
            remember(*failure);
            sink.on_connection(connection_event{connection_state::send_failed, std::move(failure)});
        }
        const bool lost_some = state.link.disconnect_count() != state.seen_disconnects_hint.load();
        if ((lost_some || state.failed_pending.load(std::memory_order_acquire)) && state.link.connected()) {
            std::unique_lock sending(state.send_mutex, std::try_to_lock);
            if (sending.owns_lock()) {
                try {
                    if (state.link.disconnect_count() != state.seen_disconnects) take_over_unacknowledged();
                    state.seen_disconnects_hint.store(state.seen_disconnects);
                    if (state.failed_pending.load(std::memory_order_acquire)) resend_failed();
                } catch (const std::exception& caught) {
                    remember(detail::as_error(caught, "hotstate nats_jetstream: publish"));
                }
            }
        }
        if (state.recovered.exchange(false)) {
            state.failure_reported.store(false, std::memory_order_release);
            sink.on_connection(connection_event{
                connection_state::send_recovered, std::nullopt,
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since)});
        }
    }

    [[nodiscard]] error with_code(natsStatus status, jsErrCode code, const std::string& what) const {
        error base = detail::nats::status_error(status, what, state_->link.servers());
        if (code == 0) return base;
        return error(status == NATS_ERR ? errc::server : base.kind(),
                     base.message() + " (JetStream error " + std::to_string(static_cast<int>(code)) + ")");
    }

    /// Connects, makes the JetStream context and the stream (once).
    void ensure_ready() {
        shared& state = *state_;
        if (state.ready.load(std::memory_order_acquire)) [[likely]]
            return;
        std::lock_guard lock(state.ready_mutex);
        if (state.ready.load(std::memory_order_acquire)) return;
        state.link.connect();
        jsOptions js_options;
        jsOptions_Init(&js_options);
        js_options.Wait = state.options.publish_timeout.count();
        // the window is kept by send() (wait_for_room), never by the client's stall
        js_options.PublishAsync.MaxPending = state.options.max_outstanding_publishes + 1;
        js_options.PublishAsync.StallWait = state.options.publish_timeout.count();
        js_options.PublishAsync.AckHandler = &nats_jetstream::on_published;
        js_options.PublishAsync.AckHandlerClosure = &state;
        jsCtx* raw = nullptr;
        natsStatus status = natsConnection_JetStream(&raw, state.link.connection(), &js_options);
        if (status != NATS_OK) throw detail::nats::status_error(status, "JetStream context", state.link.servers());
        state.js.reset(raw);
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        config.Name = state.options.stream.c_str();
        const char* subjects[] = {state.options.subject.c_str()};
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        config.MaxMsgs = state.options.max_messages > 0 ? state.options.max_messages : -1;
        config.MaxAge = std::chrono::duration_cast<std::chrono::nanoseconds>(state.options.max_age).count();
        config.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(state.options.duplicate_window).count();
        config.Replicas = static_cast<std::int64_t>(state.options.replicas);
        jsStreamInfo* info = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        status = js_AddStream(&info, state.js.get(), &config, nullptr, &code);
        if (info) jsStreamInfo_Destroy(info);
        // another node made it first (same or other limits): use it as it is
        if (status != NATS_OK && code != JSStreamNameExistErr)
            throw with_code(status, code, "creating stream '" + state.options.stream + "'");
        state.ready.store(true, std::memory_order_release);
    }

    void remember(const error& problem) { state_->receiver.remember(problem); }

    /// Makes sure this node's durable consumer exists, creating it explicitly (js_AddConsumer,
    /// with the options' ack wait, pending bound and start policy) when it does not, then
    /// binds a subscription to it. The subscription does not own the consumer: unsubscribing
    /// it leaves the consumer, and with it the node's position, on the server, whatever the
    /// client library does with consumers a subscription created itself. An existing consumer
    /// is used as it is (its own limits). Returns the subscription; `ack_floor` is the last
    /// stream sequence the consumer had acknowledged.
    natsSubscription* bind(std::uint64_t& ack_floor) {
        shared& state = *state_;
        const std::string where = "consumer '" + state.options.consumer + "' of stream '" + state.options.stream + "'";
        jsErrCode code = static_cast<jsErrCode>(0);
        jsConsumerInfo* info = nullptr;
        natsStatus status = js_GetConsumerInfo(&info, state.js.get(), state.options.stream.c_str(),
                                               state.options.consumer.c_str(), nullptr, &code);
        if (status == NATS_NOT_FOUND || code == JSConsumerNotFoundErr) {
            natsInbox* inbox = nullptr;
            status = natsInbox_Create(&inbox);
            if (status != NATS_OK) throw detail::nats::status_error(status, "creating " + where, state.link.servers());
            jsConsumerConfig config;
            jsConsumerConfig_Init(&config);
            config.Durable = state.options.consumer.c_str();
            config.DeliverSubject = inbox;  // a push consumer: the server sends, within max_ack_pending
            config.FilterSubject = state.options.subject.c_str();
            config.AckPolicy = js_AckExplicit;
            config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(state.options.ack_wait).count();
            config.MaxAckPending = state.options.max_ack_pending;
            config.DeliverPolicy = state.options.from_beginning ? js_DeliverAll : js_DeliverNew;
            code = static_cast<jsErrCode>(0);
            status = js_AddConsumer(&info, state.js.get(), state.options.stream.c_str(), &config, nullptr, &code);
            natsInbox_Destroy(inbox);
            if (status != NATS_OK) {
                // another instance under the same name made it meanwhile: use that one
                code = static_cast<jsErrCode>(0);
                status = js_GetConsumerInfo(&info, state.js.get(), state.options.stream.c_str(),
                                            state.options.consumer.c_str(), nullptr, &code);
            }
        }
        if (status != NATS_OK || info == nullptr) throw with_code(status, code, "looking up or creating " + where);
        ack_floor = info->AckFloor.Stream;
        const bool push = info->Config != nullptr && info->Config->DeliverSubject != nullptr &&
                          info->Config->DeliverSubject[0] != '\0';
        jsConsumerInfo_Destroy(info);
        if (!push)
            throw error(errc::configuration, "hotstate nats_jetstream: " + where +
                                                 " exists as a pull consumer; this transport needs a push consumer "
                                                 "(delete it, or choose another name)");
        jsSubOptions options;
        jsSubOptions_Init(&options);
        options.Stream = state.options.stream.c_str();
        options.Consumer = state.options.consumer.c_str();  // bind only: never creates, never deletes
        options.ManualAck = true;
        natsSubscription* sub = nullptr;
        code = static_cast<jsErrCode>(0);
        status = js_SubscribeSync(&sub, state.js.get(), state.options.subject.c_str(), nullptr, &options, &code);
        if (status != NATS_OK) throw with_code(status, code, "binding " + where);
        status = natsConnection_FlushTimeout(state.link.connection(), 5000);
        if (status != NATS_OK) {
            natsSubscription_Destroy(sub);
            throw detail::nats::status_error(status, "binding " + where, state.link.servers());
        }
        return sub;
    }

    template <class Sink>
    void receive_loop(Sink& sink) {
        shared& state = *state_;
        std::uint64_t last_stream_sequence = 0;  // the last message handled (or acknowledged before a restart)
        const detail::nats::receive_setup setup{"nats_jetstream", state.reconnect_wait, state.options.subject, false};
        detail::nats::receive_loop(
            state.receiver, state.link, setup, sink,
            [&] {
                ensure_ready();
                // publish-only: no consumer, nothing to receive (the loop still reports the
                // connection and sends failed publishes again)
                if (state.options.consumer.empty()) return detail::nats::subscription();
                // bound to a consumer made explicitly (bind()): unsubscribing ends this
                // node's interest, the consumer and its position stay on the server
                return detail::nats::subscription(bind(last_stream_sequence));
            },
            [&](natsMsg* msg) { handle(msg, last_stream_sequence, sink); },
            [](natsSubscription*) {},  // JetStream redelivers what it could not deliver
            [&] {
                if (state.failed_pending.load(std::memory_order_relaxed) ||
                    state.recovered.load(std::memory_order_relaxed) ||
                    state.link.disconnect_count() != state.seen_disconnects_hint.load(std::memory_order_relaxed))
                    [[unlikely]]
                    tend_publishes(sink);
            });
    }

    template <class Sink>
    void handle(natsMsg* msg, std::uint64_t& last_stream_sequence, Sink& sink) {
        shared& state = *state_;
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta) {
            const std::uint64_t sequence = meta->Sequence.Stream;
            if (meta->NumDelivered > 1) state.redelivered.fetch_add(1, std::memory_order_relaxed);
            if (last_stream_sequence != 0 && sequence > last_stream_sequence + 1) {
                state.retention_reports.fetch_add(1, std::memory_order_relaxed);
                sink.on_outage(transport_outage{
                    outage_kind::retention_exceeded, std::chrono::milliseconds{0},
                    "hotstate nats_jetstream: stream '" + state.options.stream + "' messages " +
                        std::to_string(last_stream_sequence + 1) + ".." + std::to_string(sequence - 1) +
                        " were discarded (retention) before consumer '" + state.options.consumer + "' read them"});
            }
            if (sequence > last_stream_sequence) last_stream_sequence = sequence;
            jsMsgMetaData_Destroy(meta);
        }
        state.delivered.fetch_add(1, std::memory_order_relaxed);
        sink.on_message(std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
        // on the socket (send_asap) before the next message is handled: a crash replays at most this one
        if (state.options.confirm_acks) {
            jsErrCode code = static_cast<jsErrCode>(0);
            if (natsMsg_AckSync(msg, nullptr, &code) != NATS_OK)
                state.ack_failures.fetch_add(1, std::memory_order_relaxed);
        } else if (natsMsg_Ack(msg, nullptr) != NATS_OK) {
            state.ack_failures.fetch_add(1, std::memory_order_relaxed);
        }
    }

    std::unique_ptr<shared> state_;
    detail::nats::receive_thread reader_;
};

static_assert(Transport<nats_jetstream>);

}  // namespace hotstate::transports
