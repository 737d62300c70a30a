// hotstate/detail/redis/io/tcp_stream.hpp: the Stream model for `redis://host:port`.
//
// IPv4 or IPv6 (a name is tried at each address it resolves to), TCP_NODELAY
// so a command leaves at once, keep-alive probes so a server that vanished
// without a FIN (a pulled cable, a dropped NAT entry) is noticed while idle.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/redis/io/socket.hpp>
#include <hotstate/detail/redis/io/stream.hpp>

namespace hotstate::detail::redis {

/// A TCP connection to one Redis server.
class tcp_stream final : public socket_stream {
public:
    /// How to open tcp_streams to one server; copyable, made once per server.
    class connector {
    public:
        /// `host` is a name or an address literal (IPv6 without brackets).
        connector(std::string host, std::uint16_t port, tcp_options options = {})
            : host_(std::move(host)), port_(port), options_(options), address_(format_host_port(host_, port_)) {}

        /// Connects before `until`; errc::timeout or errc::connection naming the address.
        [[nodiscard]] tcp_stream connect(deadline until) const {
            return tcp_stream(connect_tcp(host_, port_, options_, until, address_), address_);
        }
        /// "host:port".
        [[nodiscard]] const std::string& address() const noexcept { return address_; }
        /// The host as given.
        [[nodiscard]] const std::string& host() const noexcept { return host_; }
        /// The port.
        [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
        /// The socket options.
        [[nodiscard]] const tcp_options& options() const noexcept { return options_; }

    private:
        std::string host_;
        std::uint16_t port_;
        tcp_options options_;
        std::string address_;
    };

    /// A closed stream.
    tcp_stream() = default;

private:
    tcp_stream(socket_handle socket, std::string address) noexcept
        : socket_stream(std::move(socket), std::move(address)) {}
};

static_assert(Stream<tcp_stream>);

}  // namespace hotstate::detail::redis
