// hotstate/detail/redis/io/any_stream.hpp: the Stream model chosen at run time.
//
// A configuration names its server by URL, so whether a pool holds TCP, Unix
// or TLS streams is known only at run time. any_stream holds either a plain
// socket stream (TCP and Unix share one body) or a TLS session: one
// predictable branch per call, no allocation and no virtual call on the plain
// path (a TLS session is reached through tls_session.hpp, so that OpenSSL
// stays out of translation units that never name TLS).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>
#include <variant>

#include <hotstate/detail/redis/io/socket.hpp>
#include <hotstate/detail/redis/io/stream.hpp>
#include <hotstate/detail/redis/io/tcp_stream.hpp>
#include <hotstate/detail/redis/io/tls_session.hpp>
#include <hotstate/detail/redis/io/unix_stream.hpp>

namespace hotstate::detail::redis {

/// A TCP, Unix socket or TLS stream, whichever its connector was made for.
class any_stream {
public:
    /// How to open any_streams to one server: one of the three connectors.
    class connector {
    public:
        /// TCP.
        connector(tcp_stream::connector tcp) : model_(std::move(tcp)) {}
        /// Unix socket.
        connector(unix_stream::connector unix_socket) : model_(std::move(unix_socket)) {}
        /// TLS over TCP.
        connector(tls_connector tls) : model_(std::move(tls)) {}

        /// Connects (and for TLS completes the handshake) before `until`.
        [[nodiscard]] any_stream connect(deadline until) const {
            return std::visit([&](const auto& model) { return any_stream(model.connect(until)); }, model_);
        }
        /// "host:port" or the socket path.
        [[nodiscard]] std::string_view address() const noexcept {
            return std::visit([](const auto& model) -> std::string_view { return model.address(); }, model_);
        }
        /// Whether streams from this connector speak TLS.
        [[nodiscard]] bool is_tls() const noexcept { return std::holds_alternative<tls_connector>(model_); }

    private:
        std::variant<tcp_stream::connector, unix_stream::connector, tls_connector> model_;
    };

    /// A closed stream.
    any_stream() = default;
    /// Takes a TCP stream.
    explicit any_stream(tcp_stream stream) noexcept : model_(std::in_place_type<socket_stream>, std::move(stream)) {}
    /// Takes a Unix socket stream.
    explicit any_stream(unix_stream stream) noexcept : model_(std::in_place_type<socket_stream>, std::move(stream)) {}
    /// Takes a TLS session.
    explicit any_stream(tls_session stream) noexcept : model_(std::move(stream)) {}

    /// Stream::write_all of the model.
    void write_all(std::span<const char> bytes, deadline until, std::size_t& written) {
        if (auto* plain = std::get_if<socket_stream>(&model_)) [[likely]]
            return plain->write_all(bytes, until, written);
        std::get<tls_session>(model_).write_all(bytes, until, written);
    }
    /// write_all without the count.
    void write_all(std::span<const char> bytes, deadline until) {
        std::size_t written = 0;
        write_all(bytes, until, written);
    }
    /// Stream::read_some of the model.
    std::size_t read_some(std::span<char> buffer, deadline until) {
        if (auto* plain = std::get_if<socket_stream>(&model_)) [[likely]]
            return plain->read_some(buffer, until);
        return std::get<tls_session>(model_).read_some(buffer, until);
    }
    /// Stream::wait_readable of the model.
    bool wait_readable(deadline until) {
        return std::visit([&](auto& model) { return model.wait_readable(until); }, model_);
    }
    /// Stream::peer_gone of the model.
    [[nodiscard]] bool peer_gone() noexcept {
        return std::visit([](auto& model) noexcept { return model.peer_gone(); }, model_);
    }
    /// Closes the stream.
    void close() noexcept {
        std::visit([](auto& model) noexcept { model.close(); }, model_);
    }
    /// Whether the stream is open.
    [[nodiscard]] bool is_open() const noexcept {
        return std::visit([](const auto& model) noexcept { return model.is_open(); }, model_);
    }
    /// "host:port" or the socket path.
    [[nodiscard]] std::string_view address() const noexcept {
        return std::visit([](const auto& model) noexcept { return model.address(); }, model_);
    }
    /// The socket descriptor; -1 when closed.
    [[nodiscard]] int native_handle() const noexcept {
        return std::visit([](const auto& model) noexcept { return model.native_handle(); }, model_);
    }
    /// The TLS session, or null for a plain stream.
    [[nodiscard]] tls_session* tls() noexcept { return std::get_if<tls_session>(&model_); }

private:
    std::variant<socket_stream, tls_session> model_;
};

static_assert(Stream<any_stream>);

}  // namespace hotstate::detail::redis
