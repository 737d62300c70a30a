// hotstate/redis/connection.hpp: one blocking hiredis connection, RAII.
//
// Opening connects with a timeout, turns TCP keep-alive on, sets the command
// timeout, and replays AUTH [user] pass and SELECT db: everything a new or
// replacement connection needs before its first command. Commands take their
// arguments as string_views and integers, laid out in arrays on the stack,
// encoded as RESP on the stack (binary safe, no format strings, no allocation)
// and sent with send(MSG_NOSIGNAL), so a server that went away is an EPIPE
// error and never a SIGPIPE; hiredis reads and parses the replies. Replies
// are owned by `reply` and read in place: a GET's bytes go to the caller
// without a copy.
//
// Failures are hotstate::error naming the server address and the command:
// errc::connection or errc::timeout for I/O (the connection is then broken and
// must be discarded), the server's classified error for an error reply (the
// connection stays usable). What the pool needs to decide whether a failed
// request may be sent again is kept here: whether any byte of it was handed to
// the kernel (request_sent()), and whether the server is still there before a
// command is written (peer_alive(): a poll and a peek, no round trip).
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

#include <hotstate/detail/redis/errors.hpp>
#include <hotstate/detail/redis/resp.hpp>
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

/// An owned hiredis reply (freed with freeReplyObject).
class reply {
public:
    /// No reply.
    reply() = default;
    /// Takes ownership of `raw`.
    explicit reply(redisReply* raw) noexcept : raw_(raw) {}
    reply(const reply&) = delete;
    reply& operator=(const reply&) = delete;
    reply(reply&& other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
    reply& operator=(reply&& other) noexcept {
        if (this != &other) {
            reset();
            raw_ = std::exchange(other.raw_, nullptr);
        }
        return *this;
    }
    ~reply() { reset(); }

    /// The hiredis reply (still owned).
    [[nodiscard]] redisReply* get() const noexcept { return raw_; }
    /// Member access to the hiredis reply.
    redisReply* operator->() const noexcept { return raw_; }
    /// Whether a reply is held.
    explicit operator bool() const noexcept { return raw_ != nullptr; }

    /// REDIS_REPLY_STRING, _ARRAY, _INTEGER, _NIL, _STATUS or _ERROR.
    [[nodiscard]] int type() const noexcept { return raw_->type; }
    /// An error reply (-ERR ...).
    [[nodiscard]] bool is_error() const noexcept { return raw_->type == REDIS_REPLY_ERROR; }
    /// A nil reply (missing key or field).
    [[nodiscard]] bool is_nil() const noexcept { return raw_->type == REDIS_REPLY_NIL; }
    /// An integer reply.
    [[nodiscard]] bool is_integer() const noexcept { return raw_->type == REDIS_REPLY_INTEGER; }
    /// String, status or error text, in place (valid while the reply lives).
    [[nodiscard]] std::string_view text() const noexcept { return {raw_->str, raw_->len}; }
    /// The value of an integer reply.
    [[nodiscard]] long long integer() const noexcept { return raw_->integer; }

    /// Frees the reply now.
    void reset() noexcept {
        if (raw_) freeReplyObject(raw_);
        raw_ = nullptr;
    }

private:
    redisReply* raw_ = nullptr;
};

/// An integer argument formatted on the stack.
class int_arg {
public:
    /// Formats a signed value.
    explicit int_arg(std::int64_t value) noexcept {
        if (value >= 0) {
            size_ = static_cast<std::size_t>(
                detail::redis::write_decimal(buffer_, static_cast<std::size_t>(value)) - buffer_);
        } else {
            buffer_[0] = '-';
            // two's complement negation in unsigned arithmetic: exact for INT64_MIN too
            const auto magnitude = std::size_t{0} - static_cast<std::size_t>(value);
            size_ = static_cast<std::size_t>(detail::redis::write_decimal(buffer_ + 1, magnitude) - buffer_);
        }
    }
    /// Formats an unsigned value.
    explicit int_arg(std::uint64_t value) noexcept {
        size_ = static_cast<std::size_t>(detail::redis::write_decimal(buffer_, static_cast<std::size_t>(value)) - buffer_);
    }
    /// The decimal digits.
    [[nodiscard]] std::string_view view() const noexcept { return {buffer_, size_}; }
    /// The decimal digits, as a command argument.
    operator std::string_view() const noexcept { return view(); }

private:
    char buffer_[24];
    std::size_t size_ = 0;
};

/// How a connection is opened.
struct connection_options {
    /// Bound on the TCP (or Unix socket) connect.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{10}};
    /// Bound on each read and write of a command.
    std::chrono::milliseconds command_timeout{std::chrono::seconds{10}};
    /// SO_KEEPALIVE on TCP connections.
    bool tcp_keepalive = true;
};

/// One blocking connection to a Redis server; move-only, closed on destruction.
/// Not thread-safe: one thread at a time (the pool hands each out exclusively).
class connection {
public:
    /// Connects to `where`, then replays AUTH and SELECT; throws errc::connection,
    /// errc::timeout or errc::authentication naming the address.
    connection(const endpoint& where, const connection_options& options)
        : address_(where.address()) {
        const timeval connect_tv = to_timeval(options.connect_timeout);
        redisContext* raw = where.type == endpoint::kind::unix_socket
                                ? redisConnectUnixWithTimeout(where.path.c_str(), connect_tv)
                                : redisConnectWithTimeout(where.host.c_str(), where.port, connect_tv);
        const int saved_errno = errno;
        context_.reset(raw);
        if (!context_) throw error(errc::connection, detail::redis::context(address_, "connect") + "out of memory");
        if (context_->err)
            throw detail::redis::io_error(address_, "connect", context_->err, context_->errstr, saved_errno);
        if (options.tcp_keepalive && where.type == endpoint::kind::tcp) redisEnableKeepAlive(context_.get());
        const timeval command_tv = to_timeval(options.command_timeout);
        redisSetTimeout(context_.get(), command_tv);
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

    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;
    ~connection() = default;

    /// "host:port" or the socket path.
    [[nodiscard]] const std::string& address() const noexcept { return address_; }
    /// Whether an I/O error has made this connection unusable.
    [[nodiscard]] bool broken() const noexcept { return !context_ || context_->err != 0; }
    /// Whether the last failure was the peer going away (closed or reset), which
    /// is what a connection left idle across a server restart sees first.
    [[nodiscard]] bool lost_peer() const noexcept { return lost_peer_; }

    /// Starts an operation: request_sent() is false until a byte of it is written.
    void begin_request() noexcept { sent_ = false; }
    /// Whether the kernel accepted any byte since begin_request(): from then on a
    /// failure leaves the outcome unknown, since the server may have executed
    /// the command and only its reply was lost. Before, nothing can have run.
    [[nodiscard]] bool request_sent() const noexcept { return sent_; }

    /// Whether the server is still at the other end of this idle connection,
    /// asked without a round trip (detail::redis::probe_peer). When it is not,
    /// the connection is marked broken (lost_peer()) so that it is discarded
    /// before any command is written to it.
    [[nodiscard]] bool peer_alive() noexcept {
        if (broken()) return false;
        const auto state = detail::redis::probe_peer(context_->fd);
        if (state == detail::redis::peer_state::alive) [[likely]]
            return true;
        context_->err = state == detail::redis::peer_state::closed ? REDIS_ERR_EOF : REDIS_ERR_PROTOCOL;
        std::snprintf(context_->errstr, sizeof context_->errstr, "%s",
                      state == detail::redis::peer_state::closed ? "the server closed the idle connection"
                                                                 : "unsolicited bytes on an idle connection");
        lost_peer_ = state == detail::redis::peer_state::closed;
        return false;
    }
    /// The hiredis context, for what this class does not wrap.
    [[nodiscard]] redisContext* native() const noexcept { return context_.get(); }

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
    void append_argv(std::string_view, int argc, const char** argv, const std::size_t* lengths) {
        std::size_t payload = 0;
        for (int i = 0; i < argc; ++i) payload += lengths[i];
        const std::size_t count = static_cast<std::size_t>(argc);
        const std::size_t old_size = pending_.size();
        pending_.resize(old_size + payload + detail::redis::resp_overhead(count));
        const std::size_t written = detail::redis::format_command(pending_.data() + old_size, count, argv, lengths);
        pending_.resize(old_size + written);
    }

    /// Flushes queued commands (first call) and reads the next reply. Always
    /// inlined, like command_argv: MULTI/INCRBY/PEXPIRE/EXEC reads four replies,
    /// and out of line (GCC's choice once three backends share the body) it
    /// cost a counter with expiry ~90 more instructions on a cluster.
    [[gnu::always_inline]] inline reply read_reply(std::string_view name) {
        if (!flush()) [[unlikely]]
            fail(name);
        void* raw = nullptr;
        if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) fail(name);
        return reply(static_cast<redisReply*>(raw));
    }

    /// One command through the argv interface; the hot path of every operation.
    /// redisCommandArgv's wire bytes and reply, but the request is encoded by
    /// hotstate (on the stack when small: no allocation) and sent with
    /// send(MSG_NOSIGNAL); hiredis only reads and parses the reply.
    [[gnu::always_inline]] inline reply command_argv(std::string_view name, int argc, const char** argv,
                                                     const std::size_t* lengths) {
        std::size_t payload = 0;
        for (int i = 0; i < argc; ++i) payload += lengths[i];
        constexpr std::size_t stack_capacity = 1024;
        const std::size_t count = static_cast<std::size_t>(argc);
        if (payload + detail::redis::resp_overhead(count) <= stack_capacity && pending_.empty()) [[likely]] {
            char buffer[stack_capacity];
            const std::size_t size = detail::redis::format_command(buffer, count, argv, lengths);
            if (!send_bytes(buffer, size)) [[unlikely]]
                fail(name);
        } else {
            append_argv(name, argc, argv, lengths);
            if (!flush()) [[unlikely]]
                fail(name);
        }
        void* raw = nullptr;
        if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) [[unlikely]]
            fail(name);
        return reply(static_cast<redisReply*>(raw));
    }

    /// Sends what append() queued. Not hiredis's write(): a write to a
    /// connection the server has reset raises SIGPIPE, which kills a process
    /// that does not ignore it, while send(MSG_NOSIGNAL) reports EPIPE.
    bool flush() noexcept {
        if (pending_.empty()) return true;
        const bool sent = send_bytes(pending_.data(), pending_.size());
        if (pending_.capacity() > 64 * 1024)
            std::string().swap(pending_);  // do not keep a big value's buffer around
        else
            pending_.clear();
        return sent;
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
    struct context_deleter {
        void operator()(redisContext* context) const noexcept { redisFree(context); }
    };

    static timeval to_timeval(std::chrono::milliseconds span) noexcept {
        const auto ms = span.count() > 0 ? span.count() : 1;
        return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
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

    /// send() until done; on failure the context is marked as hiredis would.
    bool send_bytes(const char* data, std::size_t size) noexcept {
        if (context_->err) return false;
        while (size != 0) {
            const ::ssize_t sent = ::send(context_->fd, data, size, MSG_NOSIGNAL);
            if (sent < 0) {
                const int code = errno;
                if (code == EINTR) continue;
                context_->err = REDIS_ERR_IO;
                const std::string text = std::generic_category().message(code);
                std::snprintf(context_->errstr, sizeof context_->errstr, "%s", text.c_str());
                errno = code;
                return false;
            }
            sent_ = true;
            data += sent;
            size -= static_cast<std::size_t>(sent);
        }
        return true;
    }

    [[noreturn]] void fail(std::string_view name) {
        const int saved_errno = errno;
        const int err = context_->err;
        lost_peer_ = err == REDIS_ERR_EOF ||
                     (err == REDIS_ERR_IO && (saved_errno == ECONNRESET || saved_errno == EPIPE));
        if (err == 0) context_->err = REDIS_ERR_OTHER;  // never reuse a context in an unknown state
        throw detail::redis::io_error(address(), name, err, context_->errstr, saved_errno);
    }

    std::unique_ptr<redisContext, context_deleter> context_;
    std::string address_;
    std::string pending_;  // appended commands not yet sent
    bool lost_peer_ = false;
    bool sent_ = false;  // a byte of the current operation reached the kernel (see request_sent())
};

}  // namespace hotstate::redis
