// hotstate/redis/connection.hpp: one blocking connection to a Redis server
// over a Stream (detail/redis/io/stream.hpp: TCP, Unix socket or TLS), RAII.
//
// Opening connects and (for TLS) handshakes within a deadline, with TCP
// keep-alive probes, and replays AUTH [user] pass and SELECT db: everything a
// new or replacement connection needs before its first command. Commands take
// their arguments as string_views and integers, laid out in arrays on the
// stack, encoded as RESP on the stack (binary safe, no format strings, no
// allocation) and written with the stream's write_all (send(MSG_NOSIGNAL)
// underneath, so a server that went away is an error, never a SIGPIPE).
// Replies are read with the stream's read_some and parsed by hiredis's
// redisReader, the only part of hiredis used: no redisContext, no hiredis
// socket code. Replies are owned by `reply` and read in place: a GET's bytes
// go to the caller without a copy. Every command is bounded by a deadline of
// command_timeout from its start.
//
// Failures are hotstate::error naming the server address and the command:
// errc::connection or errc::timeout for I/O (the connection is then broken and
// must be discarded), the server's classified error for an error reply (the
// connection stays usable). What the pool needs to decide whether a failed
// request may be sent again is kept here: whether a write of it began
// (request_sent()), and whether the server is still there before a command is
// written (peer_alive(): the stream's peek, no round trip).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/io/any_stream.hpp>
#include <hotstate/redis/reply.hpp>
#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/proto/resp.hpp>
#include <hotstate/detail/redis/io/stream.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>

namespace hotstate::detail::redis {

/// What an idle socket says about its peer, asked without sending anything.
enum class peer_state : std::uint8_t {
    alive,       ///< nothing to read, no hang-up: a command written now reaches a server that reads it
    closed,      ///< the peer shut down or reset the connection (a restart, CLIENT KILL, an idle timeout)
    unexpected,  ///< bytes nobody asked for (e.g. an error the server sent before closing): not trustworthy
};

/// Probes socket `fd` of an idle connection: poll() with a zero timeout for
/// readability and hang-up, then, when readable, a MSG_PEEK|MSG_DONTWAIT recv()
/// to tell an EOF from data. One system call when the peer is alive. A failing
/// poll() (out of memory) says alive: the command will find out by itself.
[[nodiscard]] inline peer_state probe_peer(int fd) noexcept {
#ifdef POLLRDHUP
    constexpr short hang_up = POLLRDHUP;
#else
    constexpr short hang_up = 0;
#endif
    pollfd probe{fd, static_cast<short>(POLLIN | hang_up), 0};
    int ready = 0;
    do {
        ready = ::poll(&probe, 1, 0);
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) return peer_state::alive;
    if ((probe.revents & (POLLHUP | POLLERR | POLLNVAL | hang_up)) != 0) return peer_state::closed;
    char byte = 0;
    ::ssize_t got = 0;
    do {
        got = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    if (got > 0) return peer_state::unexpected;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return peer_state::alive;  // readable a moment ago only
    return peer_state::closed;
}

}  // namespace hotstate::detail::redis

namespace hotstate::redis {

/// How a connection is opened.
struct connection_options {
    /// Bound on the TCP (or Unix socket) connect and the TLS handshake.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    /// Bound on each command's round trip (zero: no bound, for blocking readers).
    std::chrono::milliseconds command_timeout{std::chrono::seconds{10}};
    /// SO_KEEPALIVE on TCP connections.
    bool tcp_keepalive = true;
};

}  // namespace hotstate::redis

namespace hotstate::detail::redis {

/// The any_stream connector for `where`: TCP, a Unix socket, or TLS when the
/// endpoint asks for it (its files loaded here: errc::configuration naming a
/// bad one), with keep-alive probes when `options` wants them.
/// `shared`, when loaded, is the TLS context to use (a cluster's or a sentinel
/// deployment's nodes share one: their files are read once).
[[nodiscard]] inline any_stream::connector make_connector(const ::hotstate::redis::endpoint& where,
                                                          const ::hotstate::redis::connection_options& options,
                                                          const tls_context& shared = {}) {
    if (where.type == ::hotstate::redis::endpoint::kind::unix_socket) return unix_stream::connector(where.path);
    tcp_options socket_options;
    if (!options.tcp_keepalive) socket_options.keepalive = std::chrono::seconds{0};
    if (where.tls.enabled) {
        if (shared.loaded()) return tls_connector(where.host, where.port, socket_options, shared);
        return tls_connector(where.host, where.port, socket_options, where.tls);
    }
    return tcp_stream::connector(where.host, where.port, socket_options);
}


}  // namespace hotstate::detail::redis

namespace hotstate::redis {

/// One blocking connection to a Redis server over a Stream (TCP, Unix socket,
/// TLS); move-only, closed on destruction. Not thread-safe: one thread at a
/// time (the pool hands each out exclusively).
///
/// Requests are encoded by hotstate (on the stack when small) and written with
/// the stream's write_all; replies are read with read_some into hiredis's
/// redisReader, which parses them: hiredis's socket layer is not used, so every
/// stream model (and an asynchronous client later) shares this one body.
/// @tparam S the stream model (detail::redis::Stream); `connection` is the
///         run-time choice, any_stream, which the pools and backends use.
template <detail::redis::Stream S>
class basic_connection {
public:
    /// The stream type.
    using stream_type = S;
    /// What opens streams of this type.
    using connector_type = typename S::connector;

    /// Opens a stream with `connector` (connect, TLS handshake), then replays
    /// AUTH and SELECT of `where`; throws errc::connection, errc::timeout or
    /// errc::authentication naming the address.
    basic_connection(const connector_type& connector, const endpoint& where, const connection_options& options)
        : stream_(connector.connect(std::chrono::steady_clock::now() + positive(options.connect_timeout))),
          address_(connector.address()), timeout_(options.command_timeout),
          plain_(!where.tls.enabled && where.type != endpoint::kind::unix_socket) {
        if (where.password) {
            reply answer = where.username ? command("AUTH", "AUTH", *where.username, *where.password)
                                          : command("AUTH", "AUTH", *where.password);
            if (answer.is_error()) {
                const std::string who = where.username ? "user '" + *where.username + "'" : "the default user";
                throw error(errc::authentication, detail::redis::context(address_, "AUTH") + "the server refused " +
                                                      who + " with the configured password (" +
                                                      std::string(first_word(answer.text())) + ")");
            }
        }
        if (where.db != 0) {
            reply answer = command("SELECT", "SELECT", int_arg(std::uint64_t{where.db}));
            if (answer.is_error()) throw detail::redis::server_error(address_, "SELECT", answer.text());
        }
    }

    /// Connects to `where` with a connector made for it (see make_connector).
    basic_connection(const endpoint& where, const connection_options& options)
        requires std::same_as<S, detail::redis::any_stream>
        : basic_connection(detail::redis::make_connector(where, options), where, options) {}

    basic_connection(basic_connection&&) noexcept = default;
    basic_connection& operator=(basic_connection&&) noexcept = default;
    ~basic_connection() = default;

    /// "host:port" or the socket path.
    [[nodiscard]] const std::string& address() const noexcept { return address_; }
    /// Whether an I/O error has made this connection unusable.
    [[nodiscard]] bool broken() const noexcept { return broken_; }
    /// Whether the last failure was the peer going away (closed or reset), which
    /// is what a connection left idle across a server restart sees first.
    [[nodiscard]] bool lost_peer() const noexcept { return lost_peer_; }

    /// Starts a request (one attempt of an exchange, detail/redis/proto/exchange.hpp):
    /// request_sent() is false until a byte of it is written, and every send and
    /// receive of it until the next begin_request() is bounded by one deadline,
    /// command_timeout from now.
    [[gnu::always_inline]] inline void begin_request() noexcept {
        sent_ = false;
        until_ = deadline_from_now();
    }
    /// Bounds what follows by a new deadline, command_timeout from now, without
    /// starting a new request (a body of several commands: request_sent() stays
    /// true once any of them was written).
    [[gnu::always_inline]] inline void renew_deadline() noexcept { until_ = deadline_from_now(); }
    /// Whether a byte of this operation may have reached the server since
    /// begin_request(): from then on a failure leaves the outcome unknown, since
    /// the server may have executed the command and only its reply was lost.
    /// Before, nothing can have run: a write that failed before its first byte
    /// left (the stream's write_all counts them) leaves this false, so the
    /// request may be sent again on another connection.
    [[nodiscard]] bool request_sent() const noexcept { return sent_; }

    /// Whether the server is still at the other end of this idle connection,
    /// asked without a round trip (the stream's peer_gone(), then a zero-wait
    /// readability check: bytes nobody asked for make it untrustworthy). When
    /// it is not, the connection is marked broken (lost_peer() when closed).
    [[nodiscard]] bool peer_alive() noexcept {
        if (broken_) return false;
        if (stream_.peer_gone()) {
            broken_ = true;
            lost_peer_ = true;
            return false;
        }
        try {
            if (!stream_.wait_readable(detail::redis::deadline{})) [[likely]]
                return true;
        } catch (...) {
        }
        broken_ = true;  // unsolicited bytes (or an error): never parse them as the next reply
        return false;
    }

    /// The stream (for its descriptor in an event loop, or its TLS session).
    [[nodiscard]] S& stream() noexcept { return stream_; }
    /// The socket descriptor, for poll(); -1 when closed.
    [[nodiscard]] int native_handle() const noexcept { return stream_.native_handle(); }
    /// Bound on each command's round trip from now on (zero: no bound).
    void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }
    /// The bound on each command's round trip.
    [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return timeout_; }

    /// Sends one command and reads its reply. `name` is the command as error
    /// messages show it. An error reply is returned, not thrown; I/O failures throw.
    template <class... Args>
    reply command(std::string_view name, const Args&... args) {
        const char* argv[sizeof...(Args)] = {arg_data(args)...};
        const std::size_t lengths[sizeof...(Args)] = {arg_size(args)...};
        return command_argv(name, static_cast<int>(sizeof...(Args)), argv, lengths);
    }

    /// A command with a run-time number of arguments.
    reply command(std::string_view name, std::span<const std::string_view> args) {
        constexpr std::size_t inline_capacity = 16;
        if (args.size() <= inline_capacity) {
            const char* argv[inline_capacity];
            std::size_t lengths[inline_capacity];
            for (std::size_t i = 0; i < args.size(); ++i) {
                argv[i] = args[i].data();
                lengths[i] = args[i].size();
            }
            return command_argv(name, static_cast<int>(args.size()), argv, lengths);
        }
        std::vector<const char*> argv(args.size());
        std::vector<std::size_t> lengths(args.size());
        for (std::size_t i = 0; i < args.size(); ++i) {
            argv[i] = args[i].data();
            lengths[i] = args[i].size();
        }
        return command_argv(name, static_cast<int>(args.size()), argv.data(), lengths.data());
    }

    /// Like command(), but an error reply throws (classified, with the server's message).
    template <class... Args>
    reply checked(std::string_view name, const Args&... args) {
        reply answer = command(name, args...);
        if (answer.is_error()) throw detail::redis::server_error(address(), name, answer.text());
        return answer;
    }

    /// Queues a command for a pipeline (sent by the next read_reply).
    template <class... Args>
    void append(std::string_view name, const Args&... args) {
        const char* argv[sizeof...(Args)] = {arg_data(args)...};
        const std::size_t lengths[sizeof...(Args)] = {arg_size(args)...};
        append_argv(name, static_cast<int>(sizeof...(Args)), argv, lengths);
    }
    /// Queues a command with a run-time number of arguments.
    void append(std::string_view name, std::span<const std::string_view> args) {
        std::vector<const char*> argv(args.size());
        std::vector<std::size_t> lengths(args.size());
        for (std::size_t i = 0; i < args.size(); ++i) {
            argv[i] = args[i].data();
            lengths[i] = args[i].size();
        }
        append_argv(name, static_cast<int>(args.size()), argv.data(), lengths.data());
    }
    /// Queues one argv command in the connection's own output buffer.
    void append_argv(std::string_view, int argc, const char* const* argv, const std::size_t* lengths) {
        std::size_t payload = 0;
        for (int i = 0; i < argc; ++i) payload += lengths[i];
        const std::size_t count = static_cast<std::size_t>(argc);
        const std::size_t old_size = pending_.size();
        pending_.resize(old_size + payload + detail::redis::resp_overhead(count));
        const std::size_t written = detail::redis::format_command(pending_.data() + old_size, count, argv, lengths);
        pending_.resize(old_size + written);
    }
    /// Queues bytes already encoded as RESP (a command object's request).
    void append_raw(std::string_view bytes) { pending_.append(bytes); }
    /// Queues a command value (detail::redis::commands) for a pipeline.
    template <class Command>
    void queue(const Command& command) {
        command.write(pending_);
    }
    /// The queue of requests not sent yet, to append encoded requests to (the
    /// exchange's runners write a round's requests here, in their forms).
    [[nodiscard]] std::string& queued() noexcept { return pending_; }

    // ---- one request of an exchange (after begin_request()) -------------------

    /// Sends one argv request (with anything queued before it), within the
    /// request's deadline: encoded on the stack when small and nothing is queued.
    [[gnu::always_inline]] inline void send(std::string_view name, std::size_t argc, const char* const* argv,
                                            const std::size_t* lengths) {
        std::size_t payload = 0;
        for (std::size_t i = 0; i < argc; ++i) payload += lengths[i];
        constexpr std::size_t stack_capacity = 1024;
        if (payload + detail::redis::resp_overhead(argc) <= stack_capacity && pending_.empty()) [[likely]] {
            char buffer[stack_capacity];
            const std::size_t size = detail::redis::format_command(buffer, argc, argv, lengths);
            write(name, buffer, size, until_);
            return;
        }
        append_argv(name, static_cast<int>(argc), argv, lengths);
        flush(name, until_);
    }
    /// Sends what is queued, within the request's deadline.
    void send_queued(std::string_view name) {
        if (!pending_.empty()) flush(name, until_);
    }
    /// The next reply of the request, within its deadline.
    [[gnu::always_inline]] inline reply receive(std::string_view name) { return receive(name, until_); }

    /// Flushes queued commands (first call) and reads the next reply. Always
    /// inlined, like command_argv: MULTI/INCRBY/PEXPIRE/EXEC reads four replies,
    /// and out of line (GCC's choice once three backends share the body) it
    /// cost a counter with expiry ~90 more instructions on a cluster.
    [[gnu::always_inline]] inline reply read_reply(std::string_view name) {
        const detail::redis::deadline until = deadline_from_now();
        if (!pending_.empty()) flush(name, until);
        return receive(name, until);
    }

    /// One command through the argv interface; the hot path of every operation.
    /// The request is encoded on the stack when small (no allocation), written
    /// with the stream's write_all, and its reply read into the redisReader.
    [[gnu::always_inline]] inline reply command_argv(std::string_view name, int argc, const char* const* argv,
                                                     const std::size_t* lengths) {
        std::size_t payload = 0;
        for (int i = 0; i < argc; ++i) payload += lengths[i];
        constexpr std::size_t stack_capacity = 1024;
        const std::size_t count = static_cast<std::size_t>(argc);
        const detail::redis::deadline until = deadline_from_now();
        if (payload + detail::redis::resp_overhead(count) <= stack_capacity && pending_.empty()) [[likely]] {
            char buffer[stack_capacity];
            const std::size_t size = detail::redis::format_command(buffer, count, argv, lengths);
            write(name, buffer, size, until);
        } else {
            append_argv(name, argc, argv, lengths);
            flush(name, until);
        }
        return receive(name, until);
    }

    /// Sends what append() queued; false (and broken) on failure.
    bool flush() noexcept {
        try {
            if (!pending_.empty()) flush("pipeline", deadline_from_now());
            return true;
        } catch (...) {
            return false;
        }
    }

    /// The next reply if one is already buffered (parsed without any I/O),
    /// else an empty reply. For readers that poll the socket themselves.
    [[nodiscard]] reply buffered_reply(std::string_view name) {
        reply next;
        if (!reader_.next(next)) [[unlikely]]
            fail_protocol(name);
        return next;
    }
    /// Reads what has arrived (at least one byte, before the command timeout)
    /// into the reader; for readers that poll the socket themselves.
    void read_available(std::string_view name) { read_into_reader(name, deadline_from_now()); }
    /// Writes bytes already encoded as RESP, now (a health-check PING).
    void write_raw(std::string_view name, std::string_view bytes) {
        write(name, bytes.data(), bytes.size(), deadline_from_now());
    }

    /// PING; false (and broken) when the server does not answer.
    bool ping() noexcept {
        try {
            reply answer = command("PING", std::string_view("PING"));
            return !answer.is_error();
        } catch (...) {
            return false;
        }
    }

private:
    static std::chrono::milliseconds positive(std::chrono::milliseconds span) noexcept {
        return span.count() > 0 ? span : std::chrono::milliseconds{1};
    }

    [[gnu::always_inline]] inline detail::redis::deadline deadline_from_now() const noexcept {
        if (timeout_.count() <= 0) [[unlikely]]
            return detail::redis::no_deadline;
        return std::chrono::steady_clock::now() + timeout_;
    }

    static std::string_view first_word(std::string_view text) noexcept { return text.substr(0, text.find(' ')); }

    static const char* arg_data(std::string_view text) noexcept { return text.data(); }
    static std::size_t arg_size(std::string_view text) noexcept { return text.size(); }
    static const char* arg_data(const int_arg& number) noexcept { return number.view().data(); }
    static std::size_t arg_size(const int_arg& number) noexcept { return number.view().size(); }
    template <std::size_t N>
    static const char* arg_data(const char (&literal)[N]) noexcept {
        return literal;
    }
    template <std::size_t N>
    static std::size_t arg_size(const char (&)[N]) noexcept {
        return N - 1;
    }
    static const char* arg_data(const std::string& text) noexcept { return text.data(); }
    static std::size_t arg_size(const std::string& text) noexcept { return text.size(); }

    /// Writes `size` bytes; a failure breaks the connection and throws.
    [[gnu::always_inline]] inline void write(std::string_view name, const char* data, std::size_t size,
                                             detail::redis::deadline until) {
        if (broken_) [[unlikely]]
            fail_broken(name);
        std::size_t written = 0;
        try {
            stream_.write_all(std::span<const char>(data, size), until, written);
        } catch (const error& failure) {
            if (written != 0) sent_ = true;  // a part left: the server may run it
            fail_io(name, failure);
        }
        sent_ = true;
    }

    void flush(std::string_view name, detail::redis::deadline until) {
        struct reset_buffer {
            std::string& pending;
            ~reset_buffer() {
                if (pending.capacity() > 64 * 1024)
                    std::string().swap(pending);  // do not keep a big value's buffer around
                else
                    pending.clear();
            }
        } guard{pending_};
        write(name, pending_.data(), pending_.size(), until);
    }

    /// The next reply: a buffered one, else read until the reader has one.
    [[gnu::always_inline]] inline reply receive(std::string_view name, detail::redis::deadline until) {
        reply next;
        for (;;) {
            if (!reader_.next(next)) [[unlikely]]
                fail_protocol(name);
            if (next) [[likely]] {
                answered_ = true;
                return next;
            }
            read_into_reader(name, until);
        }
    }

    void read_into_reader(std::string_view name, detail::redis::deadline until) {
        if (broken_) [[unlikely]]
            fail_broken(name);
        char buffer[16 * 1024];
        std::size_t got = 0;
        try {
            got = stream_.read_some(std::span<char>(buffer, sizeof buffer), until);
        } catch (const error& failure) {
            fail_io(name, failure);
        }
        if (!reader_.feed(buffer, got)) [[unlikely]]
            fail_protocol(name);
    }

    /// Rethrows a stream failure with the command named; the connection is broken.
    [[noreturn, gnu::cold, gnu::noinline]] void fail_io(std::string_view name, const error& failure) {
        broken_ = true;
        lost_peer_ = failure.kind() == errc::connection && stream_.peer_gone();
        // the stream says "redis ADDRESS: read: CAUSE"; keep the cause, name the command
        const std::string prefix = "redis " + address_ + ": ";
        std::string_view cause = failure.message();
        if (cause.starts_with(prefix)) cause.remove_prefix(prefix.size());
        std::string text = detail::redis::context(address_, name) + std::string(cause);
        // a TLS-only port resets a plain client at its first bytes
        if (plain_ && !answered_ && failure.kind() == errc::connection)
            text.append(" (the server reset the connection before its first reply: ")
                .append(detail::redis::tls::tls_port_hint)
                .append(")");
        throw error(failure.kind(), text);
    }

    [[noreturn, gnu::cold, gnu::noinline]] void fail_protocol(std::string_view name) {
        broken_ = true;
        throw error(errc::connection, detail::redis::context(address_, name) + "protocol error in the reply (" +
                                          std::string(reader_.error_text()) + ")");
    }

    [[noreturn, gnu::cold, gnu::noinline]] void fail_broken(std::string_view name) {
        throw error(errc::connection,
                    detail::redis::context(address_, name) + "the connection failed earlier and was not replaced");
    }

    S stream_;
    detail::redis::reply_reader reader_;
    std::string address_;
    std::string pending_;  // appended commands not yet sent
    std::chrono::milliseconds timeout_;
    bool broken_ = false;
    bool lost_peer_ = false;
    detail::redis::deadline until_{};  // the current request's deadline (see begin_request())
    bool sent_ = false;  // a write of the current request began (see request_sent())
    bool answered_ = false;  // a reply was read (a reset before one on a plain connection hints at TLS)
    bool plain_ = true;      // TCP without TLS
};

/// The connection the pools and backends use: TCP, Unix socket or TLS, chosen
/// at run time from the endpoint (one predictable branch per I/O call).
using connection = basic_connection<detail::redis::any_stream>;

}  // namespace hotstate::redis
