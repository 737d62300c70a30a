// hotstate/coordinator.hpp: typed cluster coordination.
//
//   using coord_t = hotstate::coordinator<hotstate::transports::redis_pubsub,
//                                         hotstate::channels::state_changes,
//                                         hotstate::channels::blocked_ips>;
//   coord_t coord({.node_id = 7}, hotstate::transports::redis_pubsub(config));
//   coord.subscribe<hotstate::events::blocked_ip>([&](const auto& ip) { firewall.add(ip); });
//   coord.on_gap([&](const hotstate::gap&) { firewall.resync(); });
//   coord.on_connection([&](const hotstate::connection_event& e) { log(e); });
//   coord.start();
//   coord.publish(hotstate::events::state_change{.account_id = 42, .change_id = 9, .changed_types = 1});
//
// Compile time: the channel list is fixed; publishing or subscribing to an event
// type on no channel, two channels with one name, or one event type on two
// channels do not compile. The channel of an event is found by type at compile
// time; on receipt, the wire tag is matched against the declared channels by an
// unrolled comparison, with no table or map.
//
// Threads and ordering:
//   - publish() encodes the event on the caller's thread and queues it; it never
//     waits for the network. A sender thread drains the queue, packing events
//     published close together into one message (at most max_batch_events and
//     about max_batch_bytes), so a burst costs few round trips. With
//     send_mode::caller_when_idle, an idle coordinator sends on the caller's
//     thread instead (one round trip, no hand-off); sends never overlap either way.
//   - Handlers and the gap callback run on the transport's receive thread (for
//     transports::local: the thread that sends for the publishing node), one at a time,
//     in the order each publisher published. A slow handler delays later
//     events. Handlers must not call stop() or flush() on their own coordinator.
//   - A node never receives its own events.
//   - Every message carries (node id, incarnation, sequence, first event number,
//     event count): lost messages are reported to on_gap with the number of
//     events they held; repeated ones are dropped before reaching a handler.
//     After a crash the duplicate filter starts empty: what a durable transport
//     delivers again then does reach handlers (redis_streams with a cursor_key
//     bounds it to the one message being handled when the node died).
//
// Where the logic lives: this header holds the public API, the handlers and the
// threads. What is decided without them is in pure state machines, unit-tested
// without I/O: detail/coordinator/outbox.hpp (batching, sequence numbers, the
// retry/drop policy of sends and their connection_events), inbox.hpp (parse,
// own, duplicate, lost), wire.hpp (the message format), sequence_tracker.hpp.
//
// Failures are visible: on_connection reports the transport's connection
// state changes and errors (a refused connection, a wrong password, a lost
// subscription and its return, failing and recovering sends) as typed
// connection_events, on the receive thread or the thread that sends, one call
// at a time. Redis transports built with `redis::config::connect_on_start`
// connect in their constructor and throw (errc::authentication, connection...)
// when they cannot.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <hotstate/channel.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/detail/base/backoff.hpp>
#include <hotstate/detail/base/exception_text.hpp>
#include <hotstate/detail/coordinator/handler.hpp>
#include <hotstate/detail/coordinator/inbox.hpp>
#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/detail/coordinator/outbox.hpp>
#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>

namespace hotstate {

/// Capped exponential backoff (initial, doubling, cap) used for reconnects and send retries.
using backoff_policy = detail::backoff_policy;

/// Settings of one coordinator instance.
struct coordinator_options {
    /// This node's id; must differ between the nodes of a cluster.
    std::uint64_t node_id = 0;
    /// At most this many events go into one message.
    std::size_t max_batch_events = 100;
    /// A message is closed once its events reach this many bytes.
    std::size_t max_batch_bytes = 64 * 1024;
    /// publish() refuses an event whose encoding is larger.
    std::size_t max_event_bytes = 1024 * 1024;
    /// publish() refuses events once this many wait to be sent (transport down).
    std::size_t max_pending_events = 100000;
    /// Wait between failed sends.
    backoff_policy send_backoff{};
    /// Who does the network I/O of publish() (see send_mode).
    enum class send_mode : std::uint8_t {
        /// publish() only queues; the sender thread sends. publish() never waits
        /// for the network, and events published while a send is in flight go
        /// out together: best for throughput and for callers that must not block.
        background,
        /// When nothing is being sent, the last send succeeded, and the last send
        /// ended longer ago than it took (so this is not a burst), publish() sends
        /// the event's batch itself, on the caller's thread, and returns after one
        /// round trip; otherwise it queues as in `background`, so bursts are still
        /// batched. Saves the hand-off to the sender thread (lower latency at
        /// moderate rates), at the price of publish() sometimes waiting for the network.
        caller_when_idle,
    };
    /// background (default) or caller_when_idle.
    send_mode sending = send_mode::background;
};

/// Who published a delivered event; handlers may take it as a second argument.
struct delivery {
    std::uint64_t publisher = 0;  ///< publishing node id
    std::uint64_t sequence = 0;   ///< the message's sequence number for that publisher
};

/// What kind of loss a gap reports.
enum class gap_kind : std::uint8_t {
    sequence_skip,       ///< messages [first_missing, last_missing] of `publisher` never arrived
    publisher_restart,   ///< `publisher` restarted; its first messages [first_missing, last_missing] never arrived
    outage,              ///< the transport was disconnected for `duration`: anything may be missing
    retention_exceeded,  ///< durable transport: entries were trimmed before this node read them
    cursor_invalid,      ///< durable transport: the saved position was unreadable or named no entry (`detail` says why); the
                         ///< reader started where its policy says, so events may be missing or repeated
    malformed_event,     ///< an event of `publisher` on `channel` was refused: its payload did not decode (`detail`:
                         ///< the codec's message) or exceeded max_event_bytes; the rest of its message was delivered
    malformed_message,   ///< a message that does not parse was dropped whole (`detail` says why and where); its
                         ///< sender is unknown
};

/// A report that events may have been lost: resynchronise what depends on them.
struct gap {
    gap_kind kind = gap_kind::sequence_skip;
    std::uint64_t publisher = 0;      ///< 0 when not tied to one publisher (outage, retention, malformed_message)
    std::uint64_t first_missing = 0;  ///< first lost sequence number (sequence_skip, publisher_restart)
    std::uint64_t last_missing = 0;   ///< last lost sequence number, inclusive
    /// Events the lost messages held (sequence_skip, publisher_restart: exact); 0 when unknown.
    std::uint64_t lost_events = 0;
    std::chrono::milliseconds duration{0};  ///< outage length, when known
    std::string detail;                     ///< what happened (outage, retention_exceeded, cursor_invalid, malformed_*)
    std::string channel;                    ///< malformed_event: the channel's name; empty otherwise
};

/// Counters of one coordinator; read with coordinator::stats().
struct coordinator_stats {
    std::uint64_t published_events = 0;        ///< accepted by publish()
    std::uint64_t sent_messages = 0;           ///< handed to the transport successfully
    std::uint64_t send_failures = 0;           ///< transport send attempts that threw
    std::uint64_t dropped_messages = 0;        ///< given up (non-durable transport, or at stop)
    std::uint64_t received_messages = 0;       ///< messages from the transport, own and malformed included
    std::uint64_t own_messages = 0;            ///< skipped because this node sent them
    std::uint64_t duplicate_messages = 0;      ///< dropped as already delivered
    std::uint64_t malformed_messages = 0;      ///< frames that failed to parse (garbage on the channel; reported)
    std::uint64_t malformed_events = 0;        ///< events refused: payload failed to decode or over max_event_bytes (reported)
    std::uint64_t unknown_channel_events = 0;  ///< events of channels this node does not declare
    std::uint64_t delivered_events = 0;        ///< events decoded and handed to handlers
    std::uint64_t handler_failures = 0;        ///< handler calls that threw
    std::uint64_t gaps = 0;                    ///< gap reports
};

namespace detail {

template <class... Channels>
consteval int channel_name_problem() {
    constexpr std::array<std::string_view, sizeof...(Channels)> names{Channels::name...};
    constexpr std::array<std::uint32_t, sizeof...(Channels)> tags{Channels::tag...};
    for (std::size_t i = 0; i < names.size(); ++i)
        for (std::size_t j = i + 1; j < names.size(); ++j) {
            if (names[i] == names[j]) return 1;
            if (tags[i] == tags[j]) return 2;
        }
    return 0;
}

template <class E, class... All>
inline constexpr std::size_t count_of = (std::size_t{std::is_same_v<E, All>} + ...);

template <class... Events>
inline constexpr bool events_are_unique = ((count_of<Events, Events...> == 1) && ...);

inline std::uint64_t random_incarnation() {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    std::mt19937_64 generator(seed);
    std::uint64_t value = 0;
    while (value == 0) value = generator();
    return value;
}

}  // namespace detail

/// Typed publish/subscribe between the nodes of a cluster over one transport.
/// @tparam T        the transport (see transport.hpp)
/// @tparam Channels the channels this node may publish and subscribe to
template <Transport T, class... Channels>
class coordinator {
    static_assert(sizeof...(Channels) > 0, "hotstate: a coordinator needs at least one channel");
    static_assert((CoordinatorChannel<Channels> && ...),
                  "hotstate: every channel of a coordinator must be a hotstate::channel<\"name\", Event>");
    static_assert(detail::channel_name_problem<Channels...>() != 1,
                  "hotstate: two channels of this coordinator have the same name");
    static_assert(detail::channel_name_problem<Channels...>() != 2,
                  "hotstate: two channel names of this coordinator hash to the same wire tag; rename one");
    static_assert(detail::events_are_unique<typename Channels::event_type...>,
                  "hotstate: the same event type is on two channels of this coordinator; give each "
                  "channel its own event type");

    template <class Event>
    static constexpr bool carries = (std::is_same_v<Event, typename Channels::event_type> || ...);

    template <class Event>
    using handler_list = std::vector<detail::unique_handler<const Event&, const delivery&>>;

public:
    /// The transport type.
    using transport_type = T;

    /// A stopped coordinator; register handlers, then start().
    coordinator(coordinator_options options, T transport)
        : options_(options),
          transport_(std::move(transport)),
          inbox_(options.node_id),
          outbox_({options.node_id, detail::random_incarnation(), options.max_batch_events, options.max_batch_bytes,
                   options.max_pending_events, T::durable, options.send_backoff}) {
        // a transport that wants to know the channels (transports::json_envelope names them on the wire)
        if constexpr (requires { transport_.declare_channel(std::string_view{}, std::uint32_t{}, bool{}); })
            (transport_.declare_channel(Channels::name, Channels::tag,
                                        detail::codec_writes_json<typename Channels::codec_type>),
             ...);
    }

    coordinator(const coordinator&) = delete;
    coordinator& operator=(const coordinator&) = delete;

    /// Stops (see stop()).
    ~coordinator() { stop(); }

    /// Calls `handler(event)` or `handler(event, delivery)` for every `Event` other nodes publish.
    /// Only before start(): the handler list is read without locks afterwards.
    template <class Event, class Handler>
    void subscribe(Handler&& handler) {
        static_assert(carries<Event>,
                      "hotstate: this event type is not on any channel of this coordinator; add "
                      "hotstate::channel<\"name\", Event> to its channel list");
        if constexpr (carries<Event>) {
            static_assert(std::is_invocable_v<Handler&, const Event&, const delivery&> ||
                              std::is_invocable_v<Handler&, const Event&>,
                          "hotstate: a handler must be callable as handler(const Event&) or "
                          "handler(const Event&, const hotstate::delivery&)");
            require_not_started("subscribe");
            auto& handlers = std::get<handler_list<Event>>(handlers_);
            if constexpr (std::is_invocable_v<Handler&, const Event&, const delivery&>) {
                handlers.emplace_back(std::forward<Handler>(handler));
            } else {
                handlers.emplace_back([h = std::forward<Handler>(handler)](const Event& event, const delivery&) mutable {
                    h(event);
                });
            }
        }
    }

    /// Calls `handler(const hotstate::gap&)` whenever events may have been lost. Only before start().
    template <class Handler>
    void on_gap(Handler&& handler) {
        static_assert(std::is_invocable_v<Handler&, const gap&>, "hotstate: a gap handler must be callable as handler(const hotstate::gap&)");
        require_not_started("on_gap");
        gap_handler_ = detail::unique_handler<const gap&>(std::forward<Handler>(handler));
    }

    /// Calls `handler(const hotstate::connection_event&)` when the transport connects, fails to
    /// (refused, authentication, timeout), loses its connection, is back, or when sends start
    /// failing or succeed again. Runs on the transport's receive thread or on the thread that
    /// sends, never two calls at once; it must not block for long. Only before start().
    template <class Handler>
    void on_connection(Handler&& handler) {
        static_assert(std::is_invocable_v<Handler&, const connection_event&>,
                      "hotstate: a connection handler must be callable as handler(const hotstate::connection_event&)");
        require_not_started("on_connection");
        connection_handler_ = detail::unique_handler<const connection_event&>(std::forward<Handler>(handler));
    }

    /// Starts the sender thread and the transport's receive side.
    void start() {
        std::unique_lock lock(mutex_);
        if (state_ != run_state::created) throw error(errc::invalid_argument, "hotstate coordinator: start() called twice");
        state_ = run_state::running;
        lock.unlock();
        transport_.start(sink_);
        sender_ = std::thread([this] { send_loop(); });
    }

    /// Queues `event` for every other node. Thread-safe; in the default send_mode
    /// (background) it never waits for the network.
    /// Throws errc::invalid_argument (event too large, coordinator stopped) or
    /// errc::memory_limit (max_pending_events reached, e.g. while the server is down).
    template <class Event>
    void publish(const Event& event) {
        static_assert(carries<Event>,
                      "hotstate: this event type is not on any channel of this coordinator; add "
                      "hotstate::channel<\"name\", Event> to its channel list");
        if constexpr (carries<Event>) {
            using channel = channel_of<Event>;
            thread_local std::string payload;
            payload.clear();
            channel::codec_type::encode(event, payload);
            if (payload.size() > options_.max_event_bytes)
                throw error(errc::invalid_argument,
                            "hotstate coordinator: event of " + std::to_string(payload.size()) + " bytes on channel '" +
                                std::string(channel::name) + "' exceeds max_event_bytes (" +
                                std::to_string(options_.max_event_bytes) + ")");
            std::unique_lock lock(mutex_);
            if (state_ == run_state::stopping || state_ == run_state::stopped)  // stop() drains a queue that no longer grows
                throw error(errc::invalid_argument, "hotstate coordinator: publish on channel '" +
                                                        std::string(channel::name) + "' after stop()");
            if (outbox_.full())
                throw error(errc::memory_limit,
                            "hotstate coordinator: " + std::to_string(outbox_.pending_events()) +
                                " events wait to be sent (max_pending_events); event on channel '" +
                                std::string(channel::name) + "' refused; is the transport down?");
            const bool wake = outbox_.push(channel::tag, payload);
            if (options_.sending == coordinator_options::send_mode::caller_when_idle && state_ == run_state::running &&
                outbox_.idle() && outbox_.quiet_at(std::chrono::steady_clock::now())) {
                send_front_inline(lock);
                return;
            }
            lock.unlock();
            if (wake) wake_sender_.notify_one();
        }
    }

    /// Waits until every event published before the call was handed to the transport (or dropped).
    /// Returns false if `timeout` passed first.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds{30}) {
        std::unique_lock lock(mutex_);
        const std::uint64_t target = outbox_.last_ticket();
        return flushed_.wait_for(lock, timeout, [&] { return outbox_.settled(target) || state_ == run_state::stopped; }) &&
               outbox_.settled(target);
    }

    /// Sends what is queued (one attempt each), then stops the sender thread and
    /// the transport. Idempotent; no handler runs after it returns.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (state_ == run_state::created) {
                state_ = run_state::stopped;
                return;
            }
            if (state_ != run_state::running) return;
            state_ = run_state::stopping;
        }
        wake_sender_.notify_all();
        if (sender_.joinable()) sender_.join();
        transport_.stop();
        {
            std::lock_guard lock(mutex_);
            state_ = run_state::stopped;
        }
        flushed_.notify_all();
    }

    /// A snapshot of the counters.
    [[nodiscard]] coordinator_stats stats() const {
        std::lock_guard lock(mutex_);
        coordinator_stats result;
        const detail::outbox_counters& sending = outbox_.counters();
        result.published_events = sending.published_events;
        result.sent_messages = sending.sent_messages;
        result.send_failures = sending.send_failures;
        result.dropped_messages = sending.dropped_messages;
        result.received_messages = received_messages_.load(std::memory_order_relaxed);
        result.own_messages = own_messages_.load(std::memory_order_relaxed);
        result.duplicate_messages = duplicate_messages_.load(std::memory_order_relaxed);
        result.malformed_messages = malformed_messages_.load(std::memory_order_relaxed);
        result.malformed_events = malformed_events_.load(std::memory_order_relaxed);
        result.unknown_channel_events = unknown_channel_events_.load(std::memory_order_relaxed);
        result.delivered_events = delivered_events_.load(std::memory_order_relaxed);
        result.handler_failures = handler_failures_.load(std::memory_order_relaxed);
        result.gaps = gaps_.load(std::memory_order_relaxed);
        return result;
    }

    /// This node's id.
    [[nodiscard]] std::uint64_t node_id() const noexcept { return options_.node_id; }

    /// The transport, e.g. to read its own statistics.
    [[nodiscard]] T& transport() noexcept { return transport_; }

private:
    enum class run_state { created, running, stopping, stopped };

    template <class Event>
    struct channel_finder {
        template <class C, class... Rest>
        static auto find() {
            if constexpr (std::is_same_v<typename C::event_type, Event>) return std::type_identity<C>{};
            else return find<Rest...>();
        }
        using type = typename decltype(find<Channels...>())::type;
    };
    template <class Event>
    using channel_of = typename channel_finder<Event>::type;

    /// What the transport calls; forwards to the coordinator's receive path.
    struct sink {
        coordinator* self;
        void on_message(std::string_view message) { self->receive(message); }
        void on_outage(const transport_outage& outage) { self->report_outage(outage); }
        void on_connection(const connection_event& event) { self->report_connection(event); }
        /// A transport that reads messages itself (transports::json_envelope) found one that is not.
        void on_malformed(std::size_t size, std::string_view why) { self->report_malformed(size, why); }
    };

    void require_not_started(const char* what) const {
        std::lock_guard lock(mutex_);
        if (state_ != run_state::created)
            throw error(errc::invalid_argument,
                        std::string("hotstate coordinator: ") + what + "() must be called before start()");
    }

    // ---- sending -------------------------------------------------------------------------

    // The outbox (detail/coordinator/outbox.hpp) decides: batches, numbers, retry or drop,
    // which send failures to report. This part runs it: under mutex_, one batch in flight
    // at a time (the sender thread's or a caller's), the transport called without the lock.
    // A connection_event is reported before the send in flight ends, so reports of
    // consecutive sends cannot overtake each other.

    /// One transport send; a failure becomes the error the outbox judges.
    std::optional<error> attempt(std::string_view message) {
        try {
            transport_.send(message);
        } catch (const error& problem) {
            return problem;
        } catch (const std::exception& problem) {
            return detail::as_error(problem, "hotstate coordinator: send failed");
        }
        return std::nullopt;
    }

    /// Reports `event` (if any) with mutex_ released; the send in flight stays ours meanwhile.
    void report_unlocked(std::unique_lock<std::mutex>& lock, const std::optional<connection_event>& event) {
        if (!event) [[likely]]
            return;
        lock.unlock();
        report_connection(*event);
        lock.lock();
    }

    /// caller_when_idle: one attempt on the caller's thread. A failure leaves
    /// the batch to the sender thread (retried with backoff if durable).
    void send_front_inline(std::unique_lock<std::mutex>& lock) {
        outbox_.begin_send();
        lock.unlock();
        thread_local std::string message;
        message.clear();
        outbox_.encode(message);
        const auto began = std::chrono::steady_clock::now();
        const std::optional<error> problem = attempt(message);
        const auto ended = std::chrono::steady_clock::now();
        lock.lock();
        if (!problem) [[likely]]
            report_unlocked(lock, outbox_.sent(began, ended));
        else
            report_unlocked(lock, outbox_.failed(*problem, ended, detail::outbox::sender::caller, false).report);
        outbox_.end_send();
        flushed_.notify_all();
        const bool wake = outbox_.has_queued() || state_ != run_state::running;
        lock.unlock();
        if (wake) wake_sender_.notify_all();
    }

    void send_loop() {
        std::string message;
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_sender_.wait(lock, [&] {
                return !outbox_.in_flight() && (state_ != run_state::running || outbox_.has_queued());
            });
            if (!outbox_.has_queued()) break;  // stopping and drained
            if (outbox_.failures() > 0) {
                // the last send failed (maybe on a caller's thread): back off before trying again
                wake_sender_.wait_for(lock, outbox_.retry_delay(), [&] { return state_ != run_state::running; });
                if (outbox_.in_flight() || !outbox_.has_queued()) continue;
            }
            outbox_.begin_send();
            const bool stopping = state_ != run_state::running;
            lock.unlock();

            message.clear();
            outbox_.encode(message);
            for (;;) {
                const auto began = std::chrono::steady_clock::now();
                const std::optional<error> problem = attempt(message);
                const auto ended = std::chrono::steady_clock::now();
                lock.lock();
                if (!problem) [[likely]] {
                    report_unlocked(lock, outbox_.sent(began, ended));
                    break;
                }
                const auto decision = outbox_.failed(*problem, ended, detail::outbox::sender::background,
                                                     stopping || state_ != run_state::running);
                report_unlocked(lock, decision.report);
                if (decision.step != detail::outbox::next_step::retry) break;
                // durable: wait (interruptible by stop), then send the same message again
                wake_sender_.wait_for(lock, decision.wait, [&] { return state_ != run_state::running; });
                if (state_ != run_state::running) {
                    outbox_.give_up();
                    break;
                }
                lock.unlock();
            }
            const bool dropped = outbox_.end_send();
            if (dropped && state_ != run_state::running) {
                // stopping and the transport fails: drop the rest rather than wait on each
                outbox_.drop_queued();
                flushed_.notify_all();
                break;
            }
            flushed_.notify_all();
        }
    }

    // ---- receiving (transport's receive thread only) -------------------------------------

    void receive(std::string_view message) {
        received_messages_.fetch_add(1, std::memory_order_relaxed);
        const detail::receipt got = inbox_.accept(message);
        switch (got.what) {
            case detail::receipt::status::malformed: report_malformed(message.size(), got.problem); return;
            case detail::receipt::status::own: own_messages_.fetch_add(1, std::memory_order_relaxed); return;
            case detail::receipt::status::duplicate:
                duplicate_messages_.fetch_add(1, std::memory_order_relaxed);
                return;
            case detail::receipt::status::deliver: break;
        }
        if (got.seen.lost()) {
            gap report;
            report.kind = got.seen.verdict == detail::sequence_verdict::restarted ? gap_kind::publisher_restart
                                                                                   : gap_kind::sequence_skip;
            report.publisher = got.header.node;
            report.first_missing = got.seen.missing_first;
            report.last_missing = got.seen.missing_last;
            report.lost_events = got.seen.lost_events;
            emit_gap(report);
        }
        const delivery from{got.header.node, got.header.sequence};
        for (const auto& event : inbox_.events()) {
            const bool known = (dispatch<Channels>(event, from) || ...);
            if (!known) unknown_channel_events_.fetch_add(1, std::memory_order_relaxed);
        }
    }

    template <class Channel>
    bool dispatch(const detail::event_view& event, const delivery& from) {
        if (event.tag != Channel::tag) return false;
        using event_type = typename Channel::event_type;
        const auto& handlers = std::get<handler_list<event_type>>(handlers_);
        if (handlers.empty()) return true;
        // the bound publish() keeps, kept on receipt too: what a node may not send, it does not take
        if (event.payload.size() > options_.max_event_bytes) [[unlikely]] {
            refuse<Channel>(from, "an event of " + std::to_string(event.payload.size()) +
                                      " bytes exceeds max_event_bytes (" + std::to_string(options_.max_event_bytes) +
                                      "), as publish() refuses it");
            return true;
        }
        std::optional<event_type> decoded;
        try {
            decoded.emplace(Channel::codec_type::decode(event.payload));
        } catch (...) {  // a user's codec may throw its own
            refuse<Channel>(from, "the payload does not decode: " + detail::current_exception_message());
            return true;
        }
        delivered_events_.fetch_add(1, std::memory_order_relaxed);
        for (const auto& handler : handlers) {
            try {
                handler(*decoded, from);
            } catch (...) {
                handler_failures_.fetch_add(1, std::memory_order_relaxed);
            }
        }
        return true;
    }

    /// Counts and reports a message of `size` bytes that does not parse (`why`).
    void report_malformed(std::size_t size, std::string_view why) {
        malformed_messages_.fetch_add(1, std::memory_order_relaxed);
        gap report;
        report.kind = gap_kind::malformed_message;
        report.detail = "hotstate coordinator: a message of " + std::to_string(size) +
                        " bytes does not parse and was dropped: " + std::string(why);
        emit_gap(report);
    }

    /// Counts and reports an event of `Channel` from `from` that is not delivered, and why.
    template <class Channel>
    void refuse(const delivery& from, std::string why) {
        malformed_events_.fetch_add(1, std::memory_order_relaxed);
        gap report;
        report.kind = gap_kind::malformed_event;
        report.publisher = from.publisher;
        report.channel = std::string(Channel::name);
        report.detail = "hotstate coordinator: event of node " + std::to_string(from.publisher) + " on channel '" +
                        report.channel + "' (message " + std::to_string(from.sequence) + ") refused: " + std::move(why);
        emit_gap(report);
    }

    void report_outage(const transport_outage& outage) {
        gap report;
        switch (outage.kind) {
            case outage_kind::disconnected: report.kind = gap_kind::outage; break;
            case outage_kind::retention_exceeded: report.kind = gap_kind::retention_exceeded; break;
            case outage_kind::cursor_invalid: report.kind = gap_kind::cursor_invalid; break;
        }
        report.duration = outage.duration;
        report.detail = outage.detail;
        emit_gap(report);
    }

    void emit_gap(const gap& report) {
        gaps_.fetch_add(1, std::memory_order_relaxed);
        if (!gap_handler_) return;
        try {
            gap_handler_(report);
        } catch (...) {
            handler_failures_.fetch_add(1, std::memory_order_relaxed);
        }
    }

    void report_connection(const connection_event& event) {
        if (!connection_handler_) return;
        std::lock_guard serial(connection_mutex_);  // the receive thread and the sending thread may both report
        try {
            connection_handler_(event);
        } catch (...) {
            handler_failures_.fetch_add(1, std::memory_order_relaxed);
        }
    }

    coordinator_options options_;
    T transport_;
    sink sink_{this};

    // handlers: written before start(), read by the receive thread only after
    std::tuple<handler_list<typename Channels::event_type>...> handlers_;
    detail::unique_handler<const gap&> gap_handler_;
    detail::unique_handler<const connection_event&> connection_handler_;
    std::mutex connection_mutex_;

    // receive state: the transport's receive thread only
    detail::inbox inbox_;
    std::atomic<std::uint64_t> received_messages_{0}, own_messages_{0}, duplicate_messages_{0},
        malformed_messages_{0}, malformed_events_{0}, unknown_channel_events_{0}, delivered_events_{0},
        handler_failures_{0}, gaps_{0};

    // send state, guarded by mutex_ (the batch in flight: by whoever sends it)
    mutable std::mutex mutex_;
    std::condition_variable wake_sender_;
    std::condition_variable flushed_;
    run_state state_ = run_state::created;
    detail::outbox outbox_;
    std::thread sender_;
};

}  // namespace hotstate
