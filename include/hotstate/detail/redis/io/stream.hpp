// hotstate/detail/redis/io/stream.hpp: the Stream concept, a blocking byte stream
// to one Redis server, bounded by deadlines.
//
// A connection owns one stream, writes encoded commands with write_all, feeds
// what read_some returns to hiredis's redisReader, and asks peer_gone() before
// it writes on a connection that sat idle: a server that restarted or a
// `CLIENT KILL` leaves a dead socket in the pool, and finding that out before
// the first byte leaves means no command is ever sent twice (the at-most-once
// rule: a non-idempotent command that may have reached the server is never
// re-sent; one that provably did not leave may go through a new connection).
//
// Models (each static_asserts the concept):
//
//   | model       | header          | when                                                  |
//   |-------------|-----------------|-------------------------------------------------------|
//   | tcp_stream  | tcp_stream.hpp  | `redis://host:port`: IPv4 or IPv6, TCP_NODELAY,       |
//   |             |                 | keep-alive probes at a configurable interval          |
//   | unix_stream | unix_stream.hpp | `unix:///path`: a server on the same host; no TCP     |
//   |             |                 | stack, the lowest latency                             |
//   | tls_stream  | tls_stream.hpp  | `rediss://host:port`: TLS over TCP (OpenSSL), server  |
//   |             |                 | verification on by default, mutual TLS on demand      |
//   | any_stream  | any_stream.hpp  | the model chosen at run time from a URL: one switch   |
//   |             |                 | per call over the three above                         |
//
// Every model is a non-blocking socket under the hood: a call tries the I/O,
// and only when the kernel would block does it poll() with what is left until
// the deadline, so a deadline bounds each call whatever the server does.
// Streams are move-only and not thread-safe (one thread at a time, as a pool
// hands them out). Opening goes through the model's `connector`, a copyable
// value holding the address and the options (and, for TLS, the loaded
// certificates), made once per server: a pool keeps one and calls connect().
//
// Failures are hotstate::error naming the address and the cause:
//   errc::timeout        the deadline passed (connect, handshake, read, write);
//   errc::connection     refused, reset, closed by the server (EOF is an error:
//                        read_some never returns 0), TLS verification failed;
//   errc::authentication the server demands a client certificate the
//                        configuration lacks;
//   errc::configuration  a CA, certificate or key file cannot be read or used
//                        (from the connector's constructor).
// After any I/O error the stream is unusable: close it and open another.
#pragma once

#include <chrono>
#include <climits>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

namespace hotstate::detail::redis {

/// The instant by which a stream operation must be done.
using deadline = std::chrono::steady_clock::time_point;

/// No bound: wait as long as it takes.
inline constexpr deadline no_deadline = deadline::max();

/// A blocking byte stream to one Redis server with deadlines; see the banner.
template <class S>
concept Stream =
    std::movable<S> && std::copy_constructible<typename S::connector> &&
    requires(S& stream, const S& view, const typename S::connector& connector, std::span<const char> bytes,
             std::span<char> buffer, deadline until, std::size_t& written) {
        /// Opens a stream (connect, TLS handshake) before `until`.
        { connector.connect(until) } -> std::same_as<S>;
        /// "host:port" (brackets around IPv6) or the socket path, for messages.
        { connector.address() } -> std::convertible_to<std::string_view>;
        /// Writes every byte before `until`, or throws; `written` (set also when it
        /// throws) counts the bytes that may have reached the server: 0 means
        /// provably none did, so a request of which no byte left may be re-sent.
        { stream.write_all(bytes, until, written) } -> std::same_as<void>;
        /// Reads at least one byte (at most buffer.size()) before `until`, or throws.
        { stream.read_some(buffer, until) } -> std::same_as<std::size_t>;
        /// Whether a read would not block, waiting until `until` at most; false at the deadline.
        { stream.wait_readable(until) } -> std::same_as<bool>;
        /// Without blocking: whether the server closed or reset this (idle) stream.
        { stream.peer_gone() } noexcept -> std::same_as<bool>;
        /// Releases the socket now; the stream is then closed.
        { stream.close() } noexcept;
        { view.is_open() } noexcept -> std::same_as<bool>;
        { view.address() } noexcept -> std::convertible_to<std::string_view>;
        /// The socket, for an event loop; -1 when closed.
        { view.native_handle() } noexcept -> std::same_as<int>;
    };

/// poll()'s timeout for what is left until `until`: -1 for no_deadline, 0 when
/// passed, otherwise rounded up so a wait never ends before the deadline.
[[nodiscard]] inline int poll_timeout(deadline until) noexcept {
    if (until == no_deadline) return -1;
    const auto left = until - std::chrono::steady_clock::now();
    if (left <= deadline::duration::zero()) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace hotstate::detail::redis
