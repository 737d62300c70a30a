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
// Sending: a JetStream publish, which returns once the stream stored the
// message (the server's acknowledgement); a failure throws, and the
// coordinator sends the same bytes again. Each message carries a
// Nats-Msg-Id made of its node id, incarnation and sequence number, so a
// retried publish that had in fact been stored is dropped by the stream's
// duplicate window instead of being stored twice.
//
// Receiving: a push consumer with explicit acknowledgements, read by the
// transport's thread; each message is acknowledged (and the acknowledgement
// confirmed by the server) after the coordinator handled it, before the next
// one is handed over. A node that crashes therefore gets again at most the
// message it was handling (after ack_wait); fetched-but-unhandled messages
// were never handed to a handler. Messages the stream discarded before this
// node read them (retention) are reported as retention_exceeded.
//
// Connection handling is the core transport's (transports/nats.hpp): the
// client reconnects by itself; the receive side reports lost / reconnected;
// nothing is lost meanwhile, so no outage is reported.
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
#include <vector>

#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/detail/nats/client.hpp>
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
    /// across a node's restarts (e.g. "node-7"). Required.
    std::string consumer{};
    /// A consumer created for the first time starts with the stream's first retained
    /// message (true) or with what is published from now on (false).
    bool from_beginning = false;
    /// The stream keeps at most this many messages (oldest dropped first); 0: no bound.
    std::int64_t max_messages = 1'000'000;
    /// The stream drops messages older than this; 0: no bound.
    std::chrono::seconds max_age{std::chrono::hours{24}};
    /// A message handed to a node that does not acknowledge it within this is redelivered.
    std::chrono::milliseconds ack_wait{std::chrono::seconds{30}};
    /// Messages delivered to the node but not yet acknowledged, at most.
    std::int64_t max_ack_pending = 1024;
    /// How long a publish waits for the stream's acknowledgement.
    std::chrono::milliseconds publish_timeout{std::chrono::seconds{5}};
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
    std::uint64_t ack_failures = 0;       ///< acknowledgements the server did not confirm
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
        if (o.consumer.empty() || o.consumer.find_first_of(" .*>") != std::string::npos)
            throw error(errc::configuration,
                        "hotstate nats_jetstream: each node needs a durable consumer name (options.consumer, e.g. "
                        "\"node-7\"), without spaces, '.', '*' or '>'");
        if (o.ack_wait.count() <= 0 || o.max_ack_pending <= 0 || o.publish_timeout.count() <= 0)
            throw error(errc::configuration,
                        "hotstate nats_jetstream: ack_wait, max_ack_pending and publish_timeout must be positive");
        if (settings.connect_on_start) ensure_ready();
    }

    nats_jetstream(nats_jetstream&&) noexcept = default;
    nats_jetstream& operator=(nats_jetstream&&) noexcept = delete;
    ~nats_jetstream() { stop(); }

    /// Publishes `message` to the stream and waits for it to be stored. Throws
    /// hotstate::error (connection, timeout, server) when it may not have been.
    void send(std::string_view message) {
        ensure_ready();
        shared& state = *state_;
        jsPubOptions options;
        jsPubOptions_Init(&options);
        options.MaxWait = state.options.publish_timeout.count();
        options.ExpectStream = state.options.stream.c_str();
        // the same message (a retry) gets the same id: the stream stores it once
        thread_local std::string id;
        thread_local detail::message_header header;
        thread_local std::vector<detail::event_view> events;
        try {
            detail::parse_message(message, header, events);
            id = std::to_string(header.node) + "-" + std::to_string(header.incarnation) + "-" +
                 std::to_string(header.sequence);
            options.MsgId = id.c_str();
        } catch (const error&) {
            // not a coordinator message (a test's raw bytes): no id, stored as is
        }
        jsPubAck* ack = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        const natsStatus status = js_Publish(&ack, state.js.get(), state.options.subject.c_str(), message.data(),
                                             static_cast<int>(message.size()), &options, &code);
        if (status != NATS_OK) [[unlikely]]
            throw with_code(status, code, "publish to stream '" + state.options.stream + "'");
        if (ack->Duplicate) state.duplicates_stored.fetch_add(1, std::memory_order_relaxed);
        jsPubAck_Destroy(ack);
    }

    /// Starts the receive thread; messages go to `sink.on_message` on that thread.
    template <class Sink>
    void start(Sink& sink) {
        if (reader_.joinable()) throw error(errc::invalid_argument, "hotstate nats_jetstream: started twice");
        state_->stopping.store(false);
        reader_ = std::thread([this, &sink] { receive_loop(sink); });
    }

    /// Stops the receive thread (within one poll interval, 50 ms) and joins it. The
    /// durable consumer stays on the server, for this node's next start. Idempotent.
    void stop() {
        if (!state_) return;
        {
            std::lock_guard lock(state_->wait_mutex);
            state_->stopping.store(true);
        }
        state_->wake.notify_all();
        if (reader_.joinable()) reader_.join();
    }

    /// Whether the consumer is bound and the connection up.
    [[nodiscard]] bool subscribed() const noexcept {
        return state_->subscribed.load(std::memory_order_acquire) && state_->link.connected();
    }

    /// Why the receive side last failed; empty if it never did.
    [[nodiscard]] std::string last_error() const {
        std::lock_guard lock(state_->wait_mutex);
        return state_->last_error;
    }

    /// A snapshot of the counters.
    [[nodiscard]] nats_jetstream_stats stats() const noexcept {
        const shared& s = *state_;
        return {s.connections.load(), s.connect_failures.load(), s.disconnects.load(), s.delivered.load(),
                s.redelivered.load(), s.duplicates_stored.load(), s.retention_reports.load(), s.ack_failures.load()};
    }

    /// The stream in use.
    [[nodiscard]] const std::string& stream() const noexcept { return state_->options.stream; }

private:
    struct js_deleter {
        void operator()(jsCtx* js) const noexcept { jsCtx_Destroy(js); }
    };
    struct subscription_deleter {
        // the subscription is bound to a consumer made explicitly (bind()): unsubscribing
        // ends this node's interest, the consumer and its position stay on the server
        void operator()(natsSubscription* sub) const noexcept {
            natsSubscription_Unsubscribe(sub);
            natsSubscription_Destroy(sub);
        }
    };

    struct shared {
        shared(const nats_settings& settings, nats_jetstream_options opts)
            : link(settings), options(std::move(opts)), reconnect_wait(settings.reconnect_wait) {}
        detail::nats::client link;
        nats_jetstream_options options;
        std::chrono::milliseconds reconnect_wait;
        std::mutex ready_mutex;
        std::unique_ptr<jsCtx, js_deleter> js;
        std::atomic<bool> ready{false};  // connected, context made, stream exists
        mutable std::mutex wait_mutex;
        std::condition_variable wake;
        std::atomic<bool> stopping{false};
        std::atomic<bool> subscribed{false};
        std::string last_error;
        std::atomic<std::uint64_t> connections{0}, connect_failures{0}, disconnects{0}, delivered{0}, redelivered{0},
            duplicates_stored{0}, retention_reports{0}, ack_failures{0};
    };

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
        jsStreamInfo* info = nullptr;
        jsErrCode code = static_cast<jsErrCode>(0);
        status = js_AddStream(&info, state.js.get(), &config, nullptr, &code);
        if (info) jsStreamInfo_Destroy(info);
        // another node made it first (same or other limits): use it as it is
        if (status != NATS_OK && code != JSStreamNameExistErr)
            throw with_code(status, code, "creating stream '" + state.options.stream + "'");
        state.ready.store(true, std::memory_order_release);
    }

    bool wait(std::chrono::milliseconds span) {
        std::unique_lock lock(state_->wait_mutex);
        return !state_->wake.wait_for(lock, span, [&] { return state_->stopping.load(); });
    }

    void remember(const error& problem) {
        std::lock_guard lock(state_->wait_mutex);
        state_->last_error = problem.message();
    }

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
        using clock = std::chrono::steady_clock;
        shared& state = *state_;
        detail::link_monitor monitor;
        std::unique_ptr<natsSubscription, subscription_deleter> sub;
        std::uint64_t last_stream_sequence = 0;  // the last message handled (or acknowledged before a restart)
        while (!sub && !state.stopping.load()) {
            try {
                ensure_ready();
                sub.reset(bind(last_stream_sequence));
                state.subscribed.store(true, std::memory_order_release);
                state.connections.fetch_add(1, std::memory_order_relaxed);
                sink.on_connection(monitor.up(clock::now()));
            } catch (const std::exception& caught) {
                const error problem = detail::as_error(caught, "hotstate nats_jetstream");
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
                handle(msg, last_stream_sequence, sink);
                natsMsg_Destroy(msg);
            } else if (status != NATS_TIMEOUT && status != NATS_SLOW_CONSUMER) {
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
                                                              state.options.subject, false))
                    remember(*problem);
            }
        }
        state.subscribed.store(false, std::memory_order_release);
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
        // confirmed before the next message is handled: a crash replays at most this one
        jsErrCode code = static_cast<jsErrCode>(0);
        if (natsMsg_AckSync(msg, nullptr, &code) != NATS_OK) state.ack_failures.fetch_add(1, std::memory_order_relaxed);
    }

    std::unique_ptr<shared> state_;
    std::thread reader_;
};

static_assert(Transport<nats_jetstream>);

}  // namespace hotstate::transports
