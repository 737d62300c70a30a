// hotstate/detail/redis/io/socket.hpp: the socket layer under every Stream model.
//
// A non-blocking socket (owned, closed once), connect with a deadline for TCP
// (every address the name resolves to, in order) and Unix sockets, poll() with
// what is left of a deadline, and the errors streams throw. Plain streams
// (TCP, Unix) are socket_stream; TLS adds OpenSSL on the same socket.
#pragma once

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/io/stream.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::redis {

/// How TCP connections are set up.
struct tcp_options {
    /// TCP_NODELAY: a command leaves at once instead of waiting for the previous reply's ACK.
    bool no_delay = true;
    /// SO_KEEPALIVE with the first probe after this much idleness, then probes
    /// every third of it, three unanswered probes closing the connection (as
    /// hiredis's redisEnableKeepAlive); zero turns keep-alive off.
    std::chrono::seconds keepalive{15};

    bool operator==(const tcp_options&) const = default;
};

/// The error of a failed stream operation: "redis ADDRESS: OPERATION: CAUSE".
[[nodiscard, gnu::cold]] inline error stream_error(errc kind, std::string_view address, std::string_view operation,
                                                   std::string_view cause) {
    return error(kind, context(address, operation) + std::string(cause));
}

/// The error of a deadline that passed.
[[nodiscard, gnu::cold]] inline error timeout_error(std::string_view address, std::string_view operation) {
    return stream_error(errc::timeout, address, operation, "no answer before the deadline");
}

/// The error of a socket call that failed with errno `code`.
[[nodiscard, gnu::cold]] inline error errno_error(std::string_view address, std::string_view operation, int code) {
    const std::string text = std::generic_category().message(code);
    if (code == ECONNRESET || code == EPIPE)
        return stream_error(errc::connection, address, operation, "the server closed the connection (" + text + ")");
    if (code == ETIMEDOUT)
        return stream_error(errc::connection, address, operation, "the server stopped answering (" + text + ")");
    return stream_error(errc::connection, address, operation, text);
}

/// The error of reading the end of the stream.
[[nodiscard, gnu::cold]] inline error closed_error(std::string_view address, std::string_view operation) {
    return stream_error(errc::connection, address, operation, "the server closed the connection");
}

/// An owned socket descriptor; move-only, closed on destruction.
class socket_handle {
public:
    /// No socket.
    socket_handle() = default;
    /// Takes ownership of `fd`.
    explicit socket_handle(int fd) noexcept : fd_(fd) {}
    socket_handle(const socket_handle&) = delete;
    socket_handle& operator=(const socket_handle&) = delete;
    socket_handle(socket_handle&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    socket_handle& operator=(socket_handle&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~socket_handle() { reset(); }

    /// The descriptor; -1 when none.
    [[nodiscard]] int get() const noexcept { return fd_; }
    /// Closes the socket now.
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

/// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or `until` passes;
/// false at the deadline. An error or hang-up counts as ready: the I/O call
/// that follows reports it.
[[nodiscard]] inline bool wait_ready(int fd, short events, deadline until, std::string_view address,
                                     std::string_view operation) {
    pollfd entry{fd, events, 0};
    for (;;) {
        const int ready = ::poll(&entry, 1, poll_timeout(until));
        if (ready > 0) return true;
        if (ready == 0) {
            if (std::chrono::steady_clock::now() >= until) return false;
            continue;  // poll's millisecond rounding woke us a little early
        }
        const int code = errno;
        if (code != EINTR) throw errno_error(address, operation, code);
    }
}

/// Whether a non-blocking peek sees the end of the stream or an error: the
/// server closed or reset the connection.
[[nodiscard]] inline bool socket_peer_gone(int fd) noexcept {
    if (fd < 0) return true;
    char byte;
    for (;;) {
        const ::ssize_t peeked = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (peeked > 0) return false;  // data waiting: alive
        if (peeked == 0) return true;  // FIN
        const int code = errno;
        if (code == EINTR) continue;
        return code != EAGAIN && code != EWOULDBLOCK;
    }
}

/// Connects `fd` (non-blocking) to `target`, waiting until `until`; 0 or the errno of the failure.
/// Throws errc::timeout when the deadline passes.
inline int connect_socket(int fd, const sockaddr* target, socklen_t length, deadline until, std::string_view address) {
    if (::connect(fd, target, length) == 0) return 0;
    int code = errno;
    if (code != EINPROGRESS && code != EINTR) return code;
    if (!wait_ready(fd, POLLOUT, until, address, "connect")) throw timeout_error(address, "connect");
    socklen_t size = sizeof code;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size) != 0) return errno;
    return code;
}

/// Sets an integer socket option; a failure is a connection error naming it.
inline void set_option(int fd, int level, int name, int value, std::string_view address, std::string_view what) {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0)
        throw stream_error(errc::connection, address, "connect",
                           "cannot set " + std::string(what) + ": " + std::generic_category().message(errno));
}

/// A connected, non-blocking TCP socket to `host`:`port`, tried at each address
/// the name resolves to (IPv6 and IPv4) until one accepts. Name resolution
/// (getaddrinfo) is not bounded by the deadline; an address literal needs none.
[[nodiscard]] inline socket_handle connect_tcp(const std::string& host, std::uint16_t port, const tcp_options& options,
                                               deadline until, std::string_view address) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        const std::string cause = rc == EAI_SYSTEM ? std::generic_category().message(errno) : ::gai_strerror(rc);
        throw stream_error(errc::connection, address, "connect", "cannot resolve '" + host + "': " + cause);
    }
    struct release {
        addrinfo* list;
        ~release() { ::freeaddrinfo(list); }
    } guard{found};
    std::string failures;
    for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
        socket_handle socket(::socket(entry->ai_family, entry->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                      entry->ai_protocol));
        int code = socket.get() < 0 ? errno : connect_socket(socket.get(), entry->ai_addr, entry->ai_addrlen, until, address);
        if (code == 0) {
            if (options.no_delay) set_option(socket.get(), IPPROTO_TCP, TCP_NODELAY, 1, address, "TCP_NODELAY");
            if (options.keepalive.count() > 0) {
                const auto idle = options.keepalive.count() > 32767 ? 32767 : static_cast<int>(options.keepalive.count());
                set_option(socket.get(), SOL_SOCKET, SO_KEEPALIVE, 1, address, "SO_KEEPALIVE");
                set_option(socket.get(), IPPROTO_TCP, TCP_KEEPIDLE, idle, address, "TCP_KEEPIDLE");
                set_option(socket.get(), IPPROTO_TCP, TCP_KEEPINTVL, idle / 3 > 0 ? idle / 3 : 1, address,
                           "TCP_KEEPINTVL");
                set_option(socket.get(), IPPROTO_TCP, TCP_KEEPCNT, 3, address, "TCP_KEEPCNT");
            }
            return socket;
        }
        char numeric[NI_MAXHOST] = "?";
        ::getnameinfo(entry->ai_addr, entry->ai_addrlen, numeric, sizeof numeric, nullptr, 0, NI_NUMERICHOST);
        if (!failures.empty()) failures += ", ";
        failures.append(std::generic_category().message(code)).append(" (").append(numeric).append(")");
    }
    throw stream_error(errc::connection, address, "connect", failures.empty() ? "no address" : failures);
}

/// A connected, non-blocking Unix domain socket to `path`.
[[nodiscard]] inline socket_handle connect_unix(const std::string& path, deadline until) {
    sockaddr_un target{};
    target.sun_family = AF_UNIX;
    if (path.size() >= sizeof target.sun_path)
        throw stream_error(errc::configuration, path, "connect",
                           "the socket path is longer than " + std::to_string(sizeof target.sun_path - 1) + " bytes");
    std::memcpy(target.sun_path, path.data(), path.size());
    socket_handle socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (socket.get() < 0) throw errno_error(path, "connect", errno);
    for (;;) {
        const int code = connect_socket(socket.get(), reinterpret_cast<const sockaddr*>(&target), sizeof target, until, path);
        if (code == 0) return socket;
        // a full listen backlog: the server is busy, not gone; retry until the deadline
        if (code != EAGAIN) throw errno_error(path, "connect", code);
        if (std::chrono::steady_clock::now() >= until) throw timeout_error(path, "connect");
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
}

/// The plain (TCP or Unix) stream: send/recv on a non-blocking socket. The
/// shared body of tcp_stream and unix_stream, which add how to connect.
class socket_stream {
public:
    /// A closed stream.
    socket_stream() = default;
    /// Takes a connected non-blocking socket to `address`.
    socket_stream(socket_handle socket, std::string address) noexcept
        : socket_(std::move(socket)), address_(std::move(address)) {}

    /// Writes every byte before `until` with send(MSG_NOSIGNAL): a server that
    /// went away is an error, never a SIGPIPE. `written` counts the bytes the
    /// kernel accepted, also when it throws (Stream::write_all).
    void write_all(std::span<const char> bytes, deadline until, std::size_t& written) {
        const char* data = bytes.data();
        std::size_t size = bytes.size();
        written = 0;
        while (size != 0) {
            const ::ssize_t sent = ::send(socket_.get(), data, size, MSG_NOSIGNAL);
            if (sent >= 0) [[likely]] {
                data += sent;
                size -= static_cast<std::size_t>(sent);
                written += static_cast<std::size_t>(sent);
                continue;
            }
            const int code = errno;
            if (code == EINTR) continue;
            if (code != EAGAIN && code != EWOULDBLOCK) throw errno_error(address_, "write", code);
            if (!wait_ready(socket_.get(), POLLOUT, until, address_, "write")) throw timeout_error(address_, "write");
        }
    }

    /// write_all without the count.
    void write_all(std::span<const char> bytes, deadline until) {
        std::size_t written = 0;
        write_all(bytes, until, written);
    }

    /// Reads what arrived, at least one byte, before `until`. Waits first: a
    /// reply is rarely there the instant after its request left.
    std::size_t read_some(std::span<char> buffer, deadline until) {
        for (;;) {
            if (!wait_ready(socket_.get(), POLLIN, until, address_, "read")) [[unlikely]]
                throw timeout_error(address_, "read");
            const ::ssize_t got = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
            if (got > 0) [[likely]]
                return static_cast<std::size_t>(got);
            if (got == 0) throw closed_error(address_, "read");
            const int code = errno;
            if (code != EINTR && code != EAGAIN && code != EWOULDBLOCK) throw errno_error(address_, "read", code);
        }
    }

    /// Whether a read would not block (data, end of stream or error), waiting until `until` at most.
    bool wait_readable(deadline until) { return wait_ready(socket_.get(), POLLIN, until, address_, "read"); }

    /// One non-blocking MSG_PEEK: true when the server closed or reset the connection.
    [[nodiscard]] bool peer_gone() noexcept { return socket_peer_gone(socket_.get()); }

    /// Closes the socket.
    void close() noexcept { socket_.reset(); }
    /// Whether the socket is open.
    [[nodiscard]] bool is_open() const noexcept { return socket_.get() >= 0; }
    /// "host:port" or the socket path.
    [[nodiscard]] std::string_view address() const noexcept { return address_; }
    /// The socket descriptor; -1 when closed.
    [[nodiscard]] int native_handle() const noexcept { return socket_.get(); }

private:
    socket_handle socket_;
    std::string address_;
};

}  // namespace hotstate::detail::redis
