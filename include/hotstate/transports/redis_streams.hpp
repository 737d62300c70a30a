// hotstate/transports/redis_streams.hpp: durable coordinator messages on a Redis Stream.
//
// Sending: `XADD stream MAXLEN ~ max_length * d message` on a pooled
// connection. A failed XADD is retried by the coordinator (durable = true)
// until it succeeds, so an outage delays messages instead of losing them; a
// retry of an XADD that did reach the server adds a copy, which the
// coordinator's sequence numbers drop before any handler sees it.
//
// Receiving: one dedicated connection reads `XREAD COUNT n BLOCK ms STREAMS
// stream <last id>` from the last delivered id, kept in memory across
// reconnects and, when `cursor_key` is set, in that Redis key, so a restarted
// node resumes where it stopped and catches up on what was published while it
// was away. A node with no cursor starts at the end of the stream (or at its
// beginning with from_beginning). Handlers run on the reader thread, in stream
// order.
//
// The cursor contract: the cursor is saved after every message (one batch of
// events) its handlers finished, before the next message is handled. Within a
// reply of several messages each save is a `SET cursor_key id` round trip on
// the reader's connection; the save after the last one travels in the same
// write as the next XREAD (pipelined, no extra round trip), and stop() makes
// the pending save before it returns. So a node that crashes (SIGKILL, power
// loss) gets again, after its restart, at most the one message it was
// handling, whose events reach handlers twice (the duplicate filter of the
// coordinator is in memory). Nothing is skipped. Handlers that must not see
// an event twice make its effect idempotent.
//
// A cursor key that holds something that is not a cursor (an unparsable
// value, or a key of another type) is never taken for "no cursor", and a
// cursor that names no entry of the stream is never resumed from (XREAD after
// it would pass silently over every entry below it): a cursor ahead of the
// stream's last id, or one between its ids that no entry has and no XDEL
// explains (written by hand, under a clock that ran ahead, or left from
// another copy of the stream; see detail::check_cursor). Either is reported
// to on_gap as gap_kind::cursor_invalid, and the reader starts where
// `on_invalid_cursor` says (the end of the stream by default, so the node
// resynchronises; or its start, so every retained event is handled again).
// The next save overwrites the key. A cursor below the oldest retained entry
// is a trim, reported as below.
//
// Retention: MAXLEN trims the oldest entries. On every (re)connect, and when a
// read comes back full (the reader is behind, at most once a second), the
// reader compares its position with the stream's oldest retained entry and
// max-deleted-entry-id (XINFO STREAM; see detail::check_resume) and reports
// outage_kind::retention_exceeded when entries it had not read were removed,
// or when the stream falls behind the position it reached in this run
// (deleted, or lost by a server restarted without persistence; it then reads
// the new stream from its start).
//
// Failures are reported to the sink as connection_events (the coordinator's
// on_connection): a refused connection or a wrong password (once, not at
// every retry), a lost reader connection, and its return. Built from a
// redis::config with connect_on_start, the constructor PINGs through the pool
// and throws (errc::authentication, connection, timeout) if that fails.
//
// stop() shuts the reader's socket down; the blocking read also has a bound
// (`block`), so no thread stays in a socket read.
#pragma once

#include <atomic>
#include <chrono>
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
#include <hotstate/detail/redis/proto/stream_id.hpp>
#include <hotstate/detail/coordinator/stream_progress.hpp>
#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/detail/redis/proto/stream_commands.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::transports {

/// Where a redis_streams reader starts when its cursor key holds something that is not a cursor.
enum class invalid_cursor_start : std::uint8_t {
    stream_end,    ///< read only what is added from now on; what was added since the node stopped is missed
    stream_start,  ///< read the whole retained stream; events handled before reach handlers again
};

/// Settings of transports::redis_streams.
struct redis_streams_options {
    /// The stream every node of the cluster appends to and reads.
    std::string stream = "hotstate:coordinator:stream";
    /// Approximate bound on the stream's length (XADD MAXLEN ~): the retention.
    std::size_t max_length = 100000;
    /// Where this node keeps its last delivered id; must differ per node. Empty:
    /// in memory only (a restarted node then starts at the end of the stream).
    std::string cursor_key{};
    /// A node without a cursor reads the whole retained stream instead of only new entries.
    bool from_beginning = false;
    /// Where to start when cursor_key holds an unparsable value, a key of another type, or an
    /// id that names no entry of the stream (reported to on_gap as gap_kind::cursor_invalid).
    invalid_cursor_start on_invalid_cursor = invalid_cursor_start::stream_end;
    /// Entries per XREAD.
    std::size_t read_count = 256;
    /// How long one XREAD waits for new entries.
    std::chrono::milliseconds block{1000};
    /// Wait between reconnect attempts.
    detail::backoff_policy reconnect{std::chrono::milliseconds{100}, std::chrono::milliseconds{3200}};
};

/// Counters of a redis_streams transport.
struct redis_streams_stats {
    std::uint64_t connections = 0;       ///< successful reader (re)connects
    std::uint64_t connect_failures = 0;  ///< failed reader attempts
    std::uint64_t entries_read = 0;      ///< entries handed to the coordinator
    std::uint64_t retention_reports = 0; ///< retention_exceeded outages reported
    std::uint64_t cursor_saves = 0;      ///< SETs of cursor_key (one per handled message)
    std::uint64_t invalid_cursors = 0;   ///< cursor keys found unusable (cursor_invalid reports)
};

/// Redis Streams transport (see the banner above).
/// @tparam L where it connects, a detail::Link (detail/coordinator/link.hpp): detail::redis_link
///            (one server, the default) or detail::redis::link::cluster_link (transports/redis_cluster_streams.hpp)
template <detail::Link L = detail::redis_link>
class basic_redis_streams {

public:
    /// Failed sends are retried: what is published is delivered unless trimmed.
    static constexpr bool durable = true;

    /// With its own connection pool, from the store's Redis settings (the "Default" way).
    /// settings.connect_on_start: PING now (see ping()), so a wrong address or password throws here.
    explicit basic_redis_streams(const redis::config& settings, redis_streams_options options = {})
        : link_(settings), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
        if (settings.connect_on_start) ping();
    }

    /// Appending through `pool` (e.g. a Redis store's connections(); must outlive this).
    explicit basic_redis_streams(redis::pool& pool, redis_streams_options options = {})
        : link_(pool), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
    }

    /// Over a link built elsewhere (e.g. a cluster link).
    explicit basic_redis_streams(L link, redis_streams_options options = {})
        : link_(std::move(link)), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
    }

    basic_redis_streams(basic_redis_streams&&) noexcept = default;
    basic_redis_streams& operator=(basic_redis_streams&&) noexcept = delete;
    ~basic_redis_streams() { stop(); }

    /// XADD with an approximate MAXLEN. Throws hotstate::error (connection, timeout, server).
    void send(std::string_view message) {
        (void)link_.execute(detail::redis::commands::xadd(options_.stream, message, static_cast<std::uint64_t>(options_.max_length)));
    }

    /// PING through the pool: checks address and credentials now, rather than
    /// in the background threads. Throws errc::connection, errc::timeout or
    /// errc::authentication naming host:port.
    void ping() { (void)link_.execute(detail::redis::commands::ping{}); }

    /// Starts the reader thread; messages go to `sink.on_message` on that thread.
    template <class Sink>
    void start(Sink& sink) {
        if (reader_.joinable()) throw error(errc::invalid_argument, "hotstate redis_streams: started twice");
        state_->guard.reset();
        reader_ = std::thread([this, &sink] { read_loop(sink); });
    }

    /// Stops the reader promptly (its socket is shut down) and joins it; a cursor save
    /// still pending for the last handled message is made first (one round trip), unless
    /// the server was unreachable (then that one message is delivered again next time).
    void stop() {
        if (!state_) return;
        state_->guard.interrupt();
        if (reader_.joinable()) reader_.join();
    }

    /// Whether the reader is connected and positioned.
    [[nodiscard]] bool reading() const noexcept { return state_->reading.load(std::memory_order_acquire); }

    /// Why the receive side last failed to (re)connect or read; empty if it never did.
    [[nodiscard]] std::string last_error() const {
        std::lock_guard lock(state_->error_mutex);
        return state_->last_error;
    }

    /// A snapshot of the counters.
    [[nodiscard]] redis_streams_stats stats() const noexcept {
        return {state_->connections.load(), state_->connect_failures.load(), state_->entries_read.load(),
                state_->retention_reports.load(), state_->cursor_saves.load(), state_->invalid_cursors.load()};
    }

    /// The last delivered entry id ("ms-seq"), empty before the reader positioned itself.
    [[nodiscard]] std::string position() const {
        std::lock_guard lock(state_->position_mutex);
        return state_->position ? state_->position->str() : std::string();
    }

private:
    struct shared {
        detail::socket_guard guard;
        mutable std::mutex error_mutex;
        std::string last_error;  // why the receive side last failed
        std::atomic<bool> reading{false};
        std::atomic<std::uint64_t> connections{0}, connect_failures{0}, entries_read{0}, retention_reports{0},
            cursor_saves{0}, invalid_cursors{0};
        mutable std::mutex position_mutex;       // position is written by the reader, read by position()
        std::optional<detail::stream_id> position;
        std::chrono::steady_clock::time_point last_check{};
        detail::stream_progress progress;        // trim reports and cursor saves (reader thread only)
    };


    void validate() const {
        if (options_.stream.empty())
            throw error(errc::configuration, "hotstate redis_streams: the stream name must not be empty");
        if (options_.read_count == 0 || options_.max_length == 0)
            throw error(errc::configuration, "hotstate redis_streams: read_count and max_length must be positive");
        if (options_.block.count() <= 0)
            throw error(errc::configuration, "hotstate redis_streams: block must be positive (0 would block forever)");
    }

    /// XINFO STREAM's ids; zeros when the stream does not exist.
    detail::stream_state read_info(redis::connection& conn) const {
        return detail::redis::run<false>(conn, detail::redis::commands::xinfo_stream(options_.stream));
    }

    /// Compares the position with the stream; reports and repositions when entries were lost.
    template <class Sink>
    void check_retention(redis::connection& conn, Sink& sink, bool start_at_beginning = false) {
        shared& state = *state_;
        state.last_check = std::chrono::steady_clock::now();
        const detail::stream_state info = read_info(conn);
        std::optional<detail::stream_id> position;
        {
            std::lock_guard lock(state.position_mutex);
            position = state.position;
        }
        const detail::retention_step step = state.progress.judge(position, info, start_at_beginning);
        switch (step.what) {
            case detail::retention_step::action::adopt: {
                std::lock_guard lock(state.position_mutex);
                state.position = step.position;
                return;
            }
            case detail::retention_step::action::intact: return;
            case detail::retention_step::action::trimmed:
                report(sink, "entries of stream '" + options_.stream + "' at " + conn.address() +
                                 " after this node's position " + position->str() + " were removed (trimmed by max_length " +
                                 std::to_string(options_.max_length) + ", or deleted) before it read them; the oldest retained is " +
                                 (info.first_entry ? info.first_entry->str() : std::string("none")));
                return;
            case detail::retention_step::action::reset: {
                {
                    std::lock_guard lock(state.position_mutex);
                    state.position = step.position;  // read whatever the new stream holds
                }
                report(sink, "stream '" + options_.stream + "' at " + conn.address() + " ends at " +
                                 info.last_generated.str() + ", before this node's position " + position->str() +
                                 ": it was deleted or lost; reading it again from its start");
                return;
            }
        }
    }

    template <class Sink>
    void report(Sink& sink, std::string detail_text) {
        state_->retention_reports.fetch_add(1, std::memory_order_relaxed);
        sink.on_outage(transport_outage{outage_kind::retention_exceeded, std::chrono::milliseconds{0},
                                        "hotstate redis_streams: " + std::move(detail_text)});
    }

    /// Positions a reader that has none yet: from the persisted cursor (GET on the
    /// reader's connection), else at the end or start of the stream; then checks
    /// the position against the retention. A cursor key holding something else, or
    /// a cursor that names no entry, is reported (cursor_invalid) and the reader
    /// starts per on_invalid_cursor.
    template <class Sink>
    void position_reader(redis::connection& conn, Sink& sink) {
        shared& state = *state_;
        bool positioned = false;
        {
            std::lock_guard lock(state.position_mutex);
            positioned = state.position.has_value();
        }
        if (positioned || options_.cursor_key.empty()) {
            check_retention(conn, sink, options_.from_beginning);
            return;
        }
        std::optional<std::string> stored;
        bool wrong_type = false;
        try {
            detail::redis::run_with<false>(conn, detail::redis::commands::get(options_.cursor_key), [&](std::optional<std::string_view> bytes) {
                if (bytes) stored.emplace(*bytes);
            });
        } catch (const error& e) {
            if (e.kind() != errc::wrong_type) throw;
            wrong_type = true;  // a key of another kind: reported as an invalid cursor below
        }
        const detail::cursor_lookup found = detail::interpret_cursor(
            wrong_type, stored ? std::optional<std::string_view>(*stored) : std::nullopt);
        switch (found.result) {
            case detail::cursor_lookup::outcome::absent:  // a first start
                check_retention(conn, sink, options_.from_beginning);
                return;
            case detail::cursor_lookup::outcome::found: {
                const std::string problem = cursor_problem(conn, found.id);
                if (!problem.empty()) {
                    report_invalid_cursor(conn, sink, problem);
                    return;
                }
                {
                    std::lock_guard lock(state.position_mutex);
                    state.position = found.id;
                }
                check_retention(conn, sink);
                return;
            }
            case detail::cursor_lookup::outcome::invalid: break;
        }
        report_invalid_cursor(conn, sink, found.problem);
    }

    /// Why the parsed cursor `cursor` cannot be resumed from (detail::check_cursor), empty if it can:
    /// XRANGE for its entry, then XINFO STREAM for what may have removed it.
    std::string cursor_problem(redis::connection& conn, detail::stream_id cursor) const {
        const std::string id = cursor.str();
        const bool exists = detail::redis::run<false>(conn, detail::redis::commands::xrange_one(options_.stream, id));
        const detail::stream_state info = read_info(conn);
        switch (detail::check_cursor(cursor, info, exists)) {
            case detail::cursor_verdict::usable: return {};
            case detail::cursor_verdict::ahead:
                return "holds " + id + ", ahead of the stream's last id " + info.last_generated.str() +
                       ": it names no entry (written by hand or under a clock that ran ahead, or the stream was "
                       "deleted, lost or restored from an older copy), and reading after it would skip what the "
                       "stream adds until it passes that id";
            case detail::cursor_verdict::names_nothing:
                return "holds " + id + ", which names no entry of the stream (its entries run from " +
                       (info.first_entry ? info.first_entry->str() : std::string("none")) + " to " +
                       info.last_generated.str() + " and none at or after that id was deleted): reading after it "
                       "would skip the entries before it";
        }
        return {};
    }

    /// A cursor key that cannot be resumed from (`problem` says why): the reader starts per
    /// on_invalid_cursor and the sink hears of it as cursor_invalid.
    template <class Sink>
    void report_invalid_cursor(redis::connection& conn, Sink& sink, const std::string& problem) {
        shared& state = *state_;
        const bool from_start = options_.on_invalid_cursor == invalid_cursor_start::stream_start;
        check_retention(conn, sink, from_start);
        state.invalid_cursors.fetch_add(1, std::memory_order_relaxed);
        sink.on_outage(transport_outage{
            outage_kind::cursor_invalid, std::chrono::milliseconds{0},
            "hotstate redis_streams: cursor key '" + options_.cursor_key + "' at " + conn.address() + " " + problem +
                "; reading stream '" + options_.stream + "' from its " + (from_start ? "start" : "end") +
                " (on_invalid_cursor), so events " +
                (from_start ? "handled before are delivered again" : "added since this node last read are missed") +
                "; the next save overwrites the key"});
    }

    /// SET cursor_key, one round trip on the reader's connection.
    void save_cursor(redis::connection& conn, detail::stream_id position) {
        const std::string text = position.str();
        (void)detail::redis::run<false>(conn, detail::redis::commands::set(options_.cursor_key, text));
        state_->cursor_saves.fetch_add(1, std::memory_order_relaxed);
        state_->progress.saved();
    }

    /// At stop: the save of the last handled message, through the pool (the reader's socket is shut down).
    void save_unsaved() noexcept {
        shared& state = *state_;
        if (!state.progress.pending_save()) return;
        try {
            const std::string text = state.progress.pending_save()->str();
            (void)link_.execute(detail::redis::commands::set(options_.cursor_key, text));
            state.cursor_saves.fetch_add(1, std::memory_order_relaxed);
            state.progress.saved();
        } catch (const std::exception& problem) {
            // the node restarts with the message before it: that one message is delivered again
            std::lock_guard lock(state.error_mutex);
            state.last_error = problem.what();
        }
    }

    template <class Sink>
    void read_loop(Sink& sink) {
        using clock = std::chrono::steady_clock;
        shared& state = *state_;
        detail::link_monitor monitor;
        std::uint32_t attempt = 0;
        const std::chrono::milliseconds read_timeout = link_.command_timeout() + options_.block;
        bool connected_at_stop = false;  // stopped while reading, rather than while the server was unreachable
        while (!state.guard.stopping()) {
            bool established = false;
            try {
                redis::connection conn = link_.open_dedicated(read_timeout);
                if (!state.guard.attach(conn.native_handle())) break;
                try {
                    position_reader(conn, sink);
                    state.connections.fetch_add(1, std::memory_order_relaxed);
                    state.reading.store(true, std::memory_order_release);
                    attempt = 0;
                    established = true;
                    sink.on_connection(monitor.up(clock::now()));
                    std::string from, saving;
                    while (!state.guard.stopping()) {
                        {
                            std::lock_guard lock(state.position_mutex);
                            from = state.position->str();
                        }
                        // the last handled message's cursor goes out in the XREAD's write
                        const detail::redis::commands::xread read(options_.stream, from, static_cast<std::uint64_t>(options_.read_count),
                                                   static_cast<std::uint64_t>(options_.block.count()));
                        std::size_t entries = 0;
                        if (state.progress.pending_save()) {
                            saving = state.progress.pending_save()->str();
                            const std::tuple both{detail::redis::commands::set(options_.cursor_key, saving), read};
                            detail::redis::proto::exchange<2, false> ex(
                                {detail::redis::proto::traits_of(std::get<0>(both)), detail::redis::proto::traits_of(read)});
                            conn.begin_request();
                            detail::redis::attempt_all(
                                conn, ex, both,
                                [&](auto index, redis::reply_view r) {
                                    (void)std::get<decltype(index)::value>(both).interpret(r, std::string_view(conn.address()));
                                    if constexpr (decltype(index)::value == 0) {
                                        state.cursor_saves.fetch_add(1, std::memory_order_relaxed);
                                        state.progress.saved();
                                    } else {
                                        entries = deliver(r, sink, conn);
                                    }
                                },
                                [](std::size_t, redis::reply_view) {});
                        } else {
                            detail::redis::run_with<false>(conn, read, [&](redis::reply_view r) { entries = deliver(r, sink, conn); });
                        }
                        if (entries >= options_.read_count &&
                            std::chrono::steady_clock::now() - state.last_check > std::chrono::seconds{1})
                            check_retention(conn, sink);
                    }
                } catch (...) {
                    state.guard.detach();
                    throw;
                }
                state.guard.detach();
                connected_at_stop = true;
            } catch (const std::exception& problem) {
                state.reading.store(false, std::memory_order_release);
                if (state.guard.stopping()) {
                    connected_at_stop = established;
                    break;
                }
                {
                    std::lock_guard lock(state.error_mutex);
                    state.last_error = problem.what();
                }
                state.connect_failures.fetch_add(1, std::memory_order_relaxed);
                if (auto event = monitor.down(detail::as_error(problem, "hotstate redis_streams"), established,
                                              clock::now()))
                    sink.on_connection(*event);
                if (!state.guard.wait_for(options_.reconnect.delay(attempt++))) break;
            }
        }
        state.reading.store(false, std::memory_order_release);
        // a server that was unreachable would make stop() wait for a connect timeout: the
        // cursor then stays one message behind, and that message is delivered again next time
        if (connected_at_stop) save_unsaved();
    }

    /// Hands each entry's `d` field to the sink (an entry without one as empty
    /// bytes, which the coordinator counts as malformed); advances the position.
    /// With a cursor_key, the previous message's cursor is saved before the next
    /// message is handled; the last one's is left for the next XREAD's write.
    template <class Sink>
    std::size_t deliver(redis::reply_view answer, Sink& sink, redis::connection& conn) {
        shared& state = *state_;
        const bool persist = !options_.cursor_key.empty();
        return detail::redis::commands::for_each_stream_entry(answer, [&](detail::stream_id id, std::string_view payload) {
            if (const auto due = state.progress.save_due_before_next(persist)) save_cursor(conn, *due);
            state.entries_read.fetch_add(1, std::memory_order_relaxed);
            sink.on_message(payload);
            {
                std::lock_guard lock(state.position_mutex);
                state.position = id;
            }
            state.progress.handled(id, persist);
        });
    }

    L link_;
    redis_streams_options options_;
    std::unique_ptr<shared> state_;
    std::thread reader_;
};

/// A Redis Stream on one Redis server.
using redis_streams = basic_redis_streams<>;

static_assert(Transport<redis_streams>);

}  // namespace hotstate::transports
