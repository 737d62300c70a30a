// hotstate/detail/memcached/io/connection.hpp: one blocking connection to a
// memcached server over the engine's Stream (TCP, Unix socket or TLS), the
// connection type the engine's pool (redis/pool.hpp's basic_pool) hands out
// for the memcached backend.
//
// A request is one meta command value (detail/memcached/proto/meta.hpp):
// written into a buffer the connection keeps, sent with the stream's
// write_all, its reply read with read_some and parsed in place by
// proto::parse_reply (a value's bytes are handed on without a copy, valid
// until the next request). Every request is bounded by one deadline,
// `timeout` from begin_request().
//
// What the pool needs for its at-most-once rule is kept as the Redis
// connection keeps it: whether a byte of the request may have reached the
// server (request_sent()), whether an I/O failure broke the connection
// (broken(): it is then discarded), and whether the server still holds an
// idle connection (peer_alive(): the stream's peek, no round trip). An error
// reply (CLIENT_ERROR, SERVER_ERROR) is an error of the command; the
// connection stays usable, since memcached answers such lines in step.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/detail/memcached/proto/meta.hpp>
#include <hotstate/detail/redis/io/any_stream.hpp>
#include <hotstate/detail/redis/io/stream.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::memcached {

using namespace std::string_view_literals;

using redis::any_stream;
using redis::deadline;

/// One memcached connection (see the banner). Move-only; one thread at a time.
class connection {
public:
    /// The pool names the protocol in its messages.
    static constexpr std::string_view protocol_name = "memcached";

    /// Connects with `connector` within options.connect_timeout; the endpoint's
    /// Redis-only parts (password, db) are not used.
    connection(const any_stream::connector& connector, const ::hotstate::redis::endpoint& /*where*/,
               const ::hotstate::redis::connection_options& options)
        : stream_(open(connector, options)), address_(connector.address()), timeout_(options.command_timeout) {
        in_.resize(16 * 1024);
    }

    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;

    /// "host:port" or the socket path.
    [[nodiscard]] const std::string& address() const noexcept { return address_; }
    /// Whether an I/O failure made the connection unusable.
    [[nodiscard]] bool broken() const noexcept { return broken_; }
    /// Starts a request: nothing of it sent yet; its deadline is `timeout` from now.
    void begin_request() noexcept {
        sent_ = false;
        until_ = timeout_.count() > 0 ? std::chrono::steady_clock::now() + timeout_ : redis::no_deadline;
    }
    /// Whether a byte of the request may have reached the server.
    [[nodiscard]] bool request_sent() const noexcept { return sent_; }

    /// Whether the server still holds this idle connection (no round trip);
    /// marks it broken when not.
    [[nodiscard]] bool peer_alive() noexcept {
        if (broken_) return false;
        if (stream_.peer_gone()) {
            broken_ = true;
            return false;
        }
        try {
            if (!stream_.wait_readable(deadline{})) return true;
        } catch (...) {
        }
        broken_ = true;  // bytes nobody asked for: never read them as the next reply
        return false;
    }

    /// mn: false (and broken) when the server does not answer.
    bool ping() noexcept {
        try {
            begin_request();
            return execute(proto::noop{});
        } catch (...) {
            broken_ = true;
            return false;
        }
    }

    /// Sends `command` and interprets its reply (within the request's deadline);
    /// an error reply throws its error, naming the server and the command.
    template <class Command>
    [[gnu::always_inline]] inline typename Command::result_type execute(const Command& command) {
        out_.clear();
        command.write(out_);
        send(Command::name);
        const proto::reply answer = receive(Command::name);
        if (answer.is_error()) [[unlikely]]
            throw proto::server_error(address_, Command::name, answer);
        return command.interpret(answer);
    }

    /// A text command answered by STAT lines up to END ("stats settings"), as name/value pairs.
    std::vector<std::pair<std::string, std::string>> stats(std::string_view command) {
        out_.clear();
        out_.append(command);
        out_.append("\r\n"sv);
        send(command);
        std::vector<std::pair<std::string, std::string>> lines;
        for (;;) {
            const std::string line = read_line(command);
            if (line == "END") return lines;
            if (!line.starts_with("STAT ")) fail_protocol(command);
            const auto space = line.find(' ', 5);
            lines.emplace_back(line.substr(5, space - 5), space == std::string::npos ? "" : line.substr(space + 1));
        }
    }
    /// "version": the server's version, e.g. "1.6.18".
    std::string version() {
        out_.clear();
        out_.append("version\r\n"sv);
        send("version");
        std::string line = read_line("version");
        if (!line.starts_with("VERSION ")) fail_protocol("version");
        return line.substr(8);
    }

private:
    /// Connects, naming memcached in a failure (the stream's messages say "redis").
    static any_stream open(const any_stream::connector& connector, const ::hotstate::redis::connection_options& options) {
        try {
            return connector.connect(std::chrono::steady_clock::now() + positive(options.connect_timeout));
        } catch (const error& failure) {
            std::string text(failure.message());
            if (text.starts_with("redis ")) text.replace(0, 5, "memcached");
            throw error(failure.kind(), text);
        }
    }

    static std::chrono::milliseconds positive(std::chrono::milliseconds span) noexcept {
        return span.count() > 0 ? span : std::chrono::milliseconds{1};
    }

    void send(std::string_view name) {
        if (broken_) [[unlikely]]
            throw error(errc::connection, proto::context(address_, name) + "the connection failed earlier");
        // a reply left over from an earlier request would be read as this one's
        if (begin_ != end_) [[unlikely]]
            fail_protocol(name);
        begin_ = end_ = 0;
        std::size_t written = 0;
        try {
            stream_.write_all(std::span<const char>(out_.view().data(), out_.view().size()), until_, written);
        } catch (const error& failure) {
            if (written != 0) sent_ = true;
            fail_io(name, failure);
        }
        sent_ = true;
        out_.shrink();  // do not keep a big value's buffer
    }

    /// The next reply, parsed in place in in_ (valid until the next request).
    proto::reply receive(std::string_view name) {
        for (;;) {
            const proto::parsed got =
                proto::parse_reply(std::string_view(in_.data() + begin_, end_ - begin_));
            if (got.what == proto::parsed::state::complete) [[likely]] {
                begin_ += got.consumed;
                return got.answer;
            }
            if (got.what == proto::parsed::state::malformed) fail_protocol(name);
            read_more(name);
        }
    }

    std::string read_line(std::string_view name) {
        for (;;) {
            const std::string_view have(in_.data() + begin_, end_ - begin_);
            if (const auto end = have.find("\r\n"); end != std::string_view::npos) {
                std::string line(have.substr(0, end));
                begin_ += end + 2;
                return line;
            }
            read_more(name);
        }
    }

    /// Reads what has arrived after the buffered bytes, making room first.
    void read_more(std::string_view name) {
        if (begin_ != 0 && begin_ == end_) begin_ = end_ = 0;
        if (in_.size() - end_ < 4096) {
            if (begin_ != 0) {  // move the unread part to the front
                std::copy(in_.begin() + static_cast<std::ptrdiff_t>(begin_), in_.begin() + static_cast<std::ptrdiff_t>(end_),
                          in_.begin());
                end_ -= begin_;
                begin_ = 0;
            }
            if (in_.size() - end_ < 4096) in_.resize(in_.size() * 2);
        }
        try {
            end_ += stream_.read_some(std::span<char>(in_.data() + end_, in_.size() - end_), until_);
        } catch (const error& failure) {
            fail_io(name, failure);
        }
    }

    [[noreturn, gnu::cold, gnu::noinline]] void fail_io(std::string_view name, const error& failure) {
        broken_ = true;
        // the stream says "redis ADDRESS: read: CAUSE"; keep the cause, name the command
        const std::string prefix = "redis " + address_ + ": ";  // the stream's own prefix
        std::string_view cause = failure.message();
        if (cause.starts_with(prefix)) cause.remove_prefix(prefix.size());
        throw error(failure.kind(), proto::context(address_, name) + std::string(cause));
    }

    [[noreturn, gnu::cold, gnu::noinline]] void fail_protocol(std::string_view name) {
        broken_ = true;
        throw error(errc::connection, proto::context(address_, name) + "protocol error: the reply is not memcached's");
    }

    any_stream stream_;
    std::string address_;
    std::chrono::milliseconds timeout_;
    proto::request out_;
    std::vector<char> in_;
    std::size_t begin_ = 0;  // the unread part of in_: [begin_, end_)
    std::size_t end_ = 0;
    deadline until_{};
    bool broken_ = false;
    bool sent_ = false;
};

}  // namespace hotstate::detail::memcached
