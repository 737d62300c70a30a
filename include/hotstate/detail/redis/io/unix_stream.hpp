// hotstate/detail/redis/io/unix_stream.hpp: the Stream model for `unix:///path`.
//
// A Redis server on the same host through its `unixsocket`: no TCP stack, so
// no Nagle, no keep-alive and the lowest round trip of the three models.
#pragma once

#include <string>
#include <utility>

#include <hotstate/detail/redis/io/socket.hpp>
#include <hotstate/detail/redis/io/stream.hpp>

namespace hotstate::detail::redis {

/// A Unix domain socket connection to one Redis server.
class unix_stream final : public socket_stream {
public:
    /// How to open unix_streams to one server; copyable, made once per server.
    class connector {
    public:
        /// `path` is the server's `unixsocket` file.
        explicit connector(std::string path) : path_(std::move(path)) {}

        /// Connects before `until`; errc::timeout or errc::connection naming the path.
        [[nodiscard]] unix_stream connect(deadline until) const { return unix_stream(connect_unix(path_, until), path_); }
        /// The socket path (what messages name).
        [[nodiscard]] const std::string& address() const noexcept { return path_; }

    private:
        std::string path_;
    };

    /// A closed stream.
    unix_stream() = default;

private:
    unix_stream(socket_handle socket, std::string address) noexcept
        : socket_stream(std::move(socket), std::move(address)) {}
};

static_assert(Stream<unix_stream>);

}  // namespace hotstate::detail::redis
