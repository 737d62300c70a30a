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
// reconnects and, when `cursor_key` is set, in that Redis key (written after
// each batch is handled), so a restarted node resumes where it stopped and
// catches up on what was published while it was away. A node with no cursor
// starts at the end of the stream (or at its beginning with from_beginning).
// Handlers run on the reader thread, in stream order.
//
// Retention: MAXLEN trims the oldest entries. On every (re)connect, and when a
// read comes back full (the reader is behind, at most once a second), the
// reader compares its position with the stream's oldest retained entry and
// max-deleted-entry-id (XINFO STREAM; see detail::check_resume) and reports
// outage_kind::retention_exceeded when entries it had not read were removed,
// or when the stream is behind its position (deleted, or lost by a server
// restarted without persistence; it then reads the new stream from its start).
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

#include <hotstate/detail/coordinator/backoff.hpp>
#include <hotstate/detail/coordinator/redis_link.hpp>
#include <hotstate/detail/coordinator/stream_id.hpp>
#include <hotstate/detail/redis/errors.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::transports {

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
};

/// Redis Streams transport (see the banner above).
/// @tparam Link where it connects: detail::redis_link (one server, the default),
///              or detail::cluster::cluster_link (transports/redis_cluster_streams.hpp)
template <class Link = detail::redis_link>
class basic_redis_streams {
public:
    /// Failed sends are retried: what is published is delivered unless trimmed.
    static constexpr bool durable = true;

    /// With its own connection pool, from the store's Redis settings (the "Default" way).
    explicit basic_redis_streams(const redis::config& settings, redis_streams_options options = {})
        : link_(settings), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
    }

    /// Appending through `pool` (e.g. a Redis store's connections(); must outlive this).
    explicit basic_redis_streams(redis::pool& pool, redis_streams_options options = {})
        : link_(pool), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
    }

    /// Over a link built elsewhere (e.g. a cluster link).
    explicit basic_redis_streams(Link link, redis_streams_options options = {})
        : link_(std::move(link)), options_(std::move(options)), state_(std::make_unique<shared>()) {
        validate();
    }

    basic_redis_streams(basic_redis_streams&&) noexcept = default;
    basic_redis_streams& operator=(basic_redis_streams&&) noexcept = delete;
    ~basic_redis_streams() { stop(); }

    /// XADD with an approximate MAXLEN. Throws hotstate::error (connection, timeout, server).
    void send(std::string_view message) {
        const redis::int_arg max_length(static_cast<std::uint64_t>(options_.max_length));
        link_.run([&](redis::connection& conn) {
            redis::reply answer =
                conn.command("XADD", "XADD", options_.stream, "MAXLEN", "~", max_length, "*", "d", message);
            if (answer.is_error()) throw detail::redis::server_error(conn.address(), "XADD", answer.text());
        });
    }

    /// PING through the pool: checks address and credentials now, rather than
    /// in the background threads. Throws errc::connection, errc::timeout or
    /// errc::authentication naming host:port.
    void ping() {
        link_.run([](redis::connection& conn) { (void)conn.checked("PING", "PING"); });
    }

    /// Starts the reader thread; messages go to `sink.on_message` on that thread.
    template <class Sink>
    void start(Sink& sink) {
        if (reader_.joinable()) throw error(errc::invalid_argument, "hotstate redis_streams: started twice");
        state_->guard.reset();
        reader_ = std::thread([this, &sink] { read_loop(sink); });
    }

    /// Stops the reader promptly (its socket is shut down) and joins it.
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
                state_->retention_reports.load()};
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
        std::atomic<std::uint64_t> connections{0}, connect_failures{0}, entries_read{0}, retention_reports{0};
        mutable std::mutex position_mutex;       // position is written by the reader, read by position()
        std::optional<detail::stream_id> position;
        detail::stream_id reported_oldest{};     // oldest retained entry when a trim was last reported
        std::chrono::steady_clock::time_point last_check{};
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
        redis::reply answer = conn.command("XINFO STREAM", "XINFO", "STREAM", options_.stream);
        detail::stream_state info;
        if (answer.is_error()) {
            if (answer.text().find("no such key") != std::string_view::npos) return info;
            throw detail::redis::server_error(conn.address(), "XINFO STREAM", answer.text());
        }
        const redisReply* raw = answer.get();
        if (raw->type != REDIS_REPLY_ARRAY) return info;
        for (std::size_t i = 0; i + 1 < raw->elements; i += 2) {
            const redisReply* key = raw->element[i];
            const redisReply* value = raw->element[i + 1];
            if (key->type != REDIS_REPLY_STRING && key->type != REDIS_REPLY_STATUS) continue;
            const std::string_view name(key->str, key->len);
            if (name == "first-entry" && value->type == REDIS_REPLY_ARRAY && value->elements >= 1 &&
                value->element[0]->type == REDIS_REPLY_STRING) {
                info.first_entry =
                    detail::stream_id::parse(std::string_view(value->element[0]->str, value->element[0]->len));
                continue;
            }
            if (value->type == REDIS_REPLY_INTEGER) {
                if (name == "length") info.length = static_cast<std::uint64_t>(value->integer);
                else if (name == "entries-added") info.entries_added = static_cast<std::uint64_t>(value->integer);
                continue;
            }
            if (value->type != REDIS_REPLY_STRING && value->type != REDIS_REPLY_STATUS) continue;
            const auto id = detail::stream_id::parse(std::string_view(value->str, value->len));
            if (!id) continue;
            if (name == "last-generated-id") info.last_generated = *id;
            else if (name == "max-deleted-entry-id") info.max_deleted = *id;
        }
        return info;
    }

    /// Compares the position with the stream; reports and repositions when entries were lost.
    template <class Sink>
    void check_retention(redis::connection& conn, Sink& sink) {
        shared& state = *state_;
        state.last_check = std::chrono::steady_clock::now();
        const detail::stream_state info = read_info(conn);
        detail::stream_id position;
        {
            std::lock_guard lock(state.position_mutex);
            if (!state.position) {
                state.position = options_.from_beginning ? detail::stream_id{} : info.last_generated;
                return;
            }
            position = *state.position;
        }
        switch (detail::check_resume(position, info)) {
            case detail::resume_verdict::intact: return;
            case detail::resume_verdict::trimmed_unread: {
                // report each trim once, however often the reader checks before catching up
                const detail::stream_id oldest = info.first_entry ? *info.first_entry : info.last_generated;
                if (oldest <= state.reported_oldest) return;
                state.reported_oldest = oldest;
                report(sink, "entries of stream '" + options_.stream + "' at " + conn.address() +
                                 " after this node's position " + position.str() + " were removed (trimmed by max_length " +
                                 std::to_string(options_.max_length) + ", or deleted) before it read them; the oldest retained is " +
                                 (info.first_entry ? info.first_entry->str() : std::string("none")));
                return;
            }
            case detail::resume_verdict::stream_reset: {
                {
                    std::lock_guard lock(state.position_mutex);
                    state.position = detail::stream_id{};  // read whatever the new stream holds
                }
                state.reported_oldest = {};
                report(sink, "stream '" + options_.stream + "' at " + conn.address() + " ends at " +
                                 info.last_generated.str() + ", before this node's position " + position.str() +
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

    /// Reads the persisted cursor, if any and the reader has no position yet.
    void load_cursor() {
        shared& state = *state_;
        {
            std::lock_guard lock(state.position_mutex);
            if (state.position || options_.cursor_key.empty()) return;
        }
        std::optional<detail::stream_id> stored;
        link_.run([&](redis::connection& conn) {
            redis::reply answer = conn.command("GET", "GET", options_.cursor_key);
            if (answer.is_error()) throw detail::redis::server_error(conn.address(), "GET (stream cursor)", answer.text());
            if (!answer.is_nil()) stored = detail::stream_id::parse(answer.text());
        });
        std::lock_guard lock(state.position_mutex);
        if (stored) state.position = *stored;
    }

    void save_cursor(detail::stream_id position) {
        if (options_.cursor_key.empty()) return;
        const std::string text = position.str();
        link_.run([&](redis::connection& conn) {
            redis::reply answer = conn.command("SET", "SET", options_.cursor_key, text);
            if (answer.is_error()) throw detail::redis::server_error(conn.address(), "SET (stream cursor)", answer.text());
        });
    }

    template <class Sink>
    void read_loop(Sink& sink) {
        shared& state = *state_;
        std::uint32_t attempt = 0;
        const std::chrono::milliseconds read_timeout = link_.command_timeout() + options_.block;
        const redis::int_arg count(static_cast<std::uint64_t>(options_.read_count));
        const redis::int_arg block(static_cast<std::uint64_t>(options_.block.count()));
        while (!state.guard.stopping()) {
            try {
                redis::connection conn = link_.open_dedicated(read_timeout);
                if (!state.guard.attach(conn.native()->fd)) break;
                try {
                    load_cursor();
                    check_retention(conn, sink);
                    state.connections.fetch_add(1, std::memory_order_relaxed);
                    state.reading.store(true, std::memory_order_release);
                    attempt = 0;
                    std::string from;
                    while (!state.guard.stopping()) {
                        {
                            std::lock_guard lock(state.position_mutex);
                            from = state.position->str();
                        }
                        redis::reply answer =
                            conn.command("XREAD", "XREAD", "COUNT", count, "BLOCK", block, "STREAMS", options_.stream, from);
                        if (answer.is_error()) throw detail::redis::server_error(conn.address(), "XREAD", answer.text());
                        const std::size_t entries = deliver(answer, sink);
                        if (entries >= options_.read_count &&
                            std::chrono::steady_clock::now() - state.last_check > std::chrono::seconds{1})
                            check_retention(conn, sink);
                    }
                } catch (...) {
                    state.guard.detach();
                    throw;
                }
                state.guard.detach();
            } catch (const std::exception& problem) {
                state.reading.store(false, std::memory_order_release);
                if (state.guard.stopping()) break;
                {
                    std::lock_guard lock(state.error_mutex);
                    state.last_error = problem.what();
                }
                state.connect_failures.fetch_add(1, std::memory_order_relaxed);
                if (!state.guard.wait_for(options_.reconnect.delay(attempt++))) break;
            }
        }
        state.reading.store(false, std::memory_order_release);
    }

    /// Hands each entry's `d` field to the sink (an entry without one as empty
    /// bytes, which the coordinator counts as malformed); advances the position.
    template <class Sink>
    std::size_t deliver(const redis::reply& answer, Sink& sink) {
        const redisReply* raw = answer.get();
        if (raw->type != REDIS_REPLY_ARRAY || raw->elements == 0) return 0;  // nil: the block ran out
        const redisReply* stream = raw->element[0];
        if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) return 0;
        const redisReply* entries = stream->element[1];
        if (entries->type != REDIS_REPLY_ARRAY) return 0;
        std::optional<detail::stream_id> last;
        for (std::size_t i = 0; i < entries->elements; ++i) {
            const redisReply* entry = entries->element[i];
            if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING)
                continue;
            const auto id = detail::stream_id::parse(std::string_view(entry->element[0]->str, entry->element[0]->len));
            if (!id) continue;
            std::string_view payload;
            const redisReply* fields = entry->element[1];
            if (fields->type == REDIS_REPLY_ARRAY)
                for (std::size_t f = 0; f + 1 < fields->elements; f += 2)
                    if (fields->element[f]->type == REDIS_REPLY_STRING &&
                        std::string_view(fields->element[f]->str, fields->element[f]->len) == "d" &&
                        fields->element[f + 1]->type == REDIS_REPLY_STRING) {
                        payload = std::string_view(fields->element[f + 1]->str, fields->element[f + 1]->len);
                        break;
                    }
            state_->entries_read.fetch_add(1, std::memory_order_relaxed);
            sink.on_message(payload);
            last = *id;
            std::lock_guard lock(state_->position_mutex);
            state_->position = *id;
        }
        if (last) save_cursor(*last);
        return entries->elements;
    }

    Link link_;
    redis_streams_options options_;
    std::unique_ptr<shared> state_;
    std::thread reader_;
};

/// A Redis Stream on one Redis server.
using redis_streams = basic_redis_streams<>;

static_assert(Transport<redis_streams>);

}  // namespace hotstate::transports
