// hotstate/detail/redis/io/tls_session.hpp: a TLS stream as the engine sees it,
// without OpenSSL.
//
// Whether a server is reached over TLS is known only at run time (a rediss://
// URL), so every translation unit that opens a connection must be able to open
// a TLS one. Parsing OpenSSL's headers and compiling the TLS code in each of
// them would tax every user of the Redis backends for a feature few TUs name.
// So the engine sees TLS through this header only: loaded settings
// (tls_context), how to reach a server (tls_connector) and an open session
// (tls_session, a Stream). The OpenSSL code behind them lives in
// tls_stream.hpp, which installs itself here when any translation unit of the
// program includes it (hotstate/redis/tls.hpp does; so do the JSON
// configuration, the doctor, the asynchronous engine and compiled<>'s
// definitions). A program that asks for TLS without it is told so, with the
// header to include, when its settings are loaded: before any connection.
#pragma once

#include <arpa/inet.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/redis/io/socket.hpp>
#include <hotstate/detail/redis/io/stream.hpp>
#include <hotstate/error.hpp>
#include <hotstate/tls.hpp>

// OpenSSL's own names for SSL_CTX and SSL (stable since 1.1), so that a
// caller that includes OpenSSL can use the native handles.
struct ssl_ctx_st;
struct ssl_st;

namespace hotstate::detail::redis {

namespace tls {

/// The error of unusable TLS settings (a file that cannot be read or used).
[[nodiscard, gnu::cold]] inline error config_error(std::string_view what) {
    return error(errc::configuration, "hotstate: redis TLS configuration: " + std::string(what));
}

/// Whether `name` is an IPv4 or IPv6 address literal (checked as an IP address, sent without SNI).
[[nodiscard]] inline bool is_ip_literal(const std::string& name) noexcept {
    unsigned char scratch[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, name.c_str(), scratch) == 1 || ::inet_pton(AF_INET6, name.c_str(), scratch) == 1;
}

/// What a TLS client says when the server does not speak TLS.
inline constexpr std::string_view plain_port_hint =
    "is the server plain-text? redis-server listens for TLS on its tls-port; a plain port wants redis://";
/// What a plain client says when the server reset it before any reply.
inline constexpr std::string_view tls_port_hint = "is the server TLS-only? then use rediss://";

}  // namespace tls

class tls_connector;

/// An open TLS session: the Stream operations of tls_stream (tls_stream.hpp),
/// called through this interface so that callers need not see OpenSSL.
class tls_channel {
public:
    virtual ~tls_channel() = default;
    virtual void write_all(std::span<const char> bytes, deadline until, std::size_t& written) = 0;
    virtual std::size_t read_some(std::span<char> buffer, deadline until) = 0;
    virtual bool wait_readable(deadline until) = 0;
    [[nodiscard]] virtual bool peer_gone() noexcept = 0;
    virtual void close() noexcept = 0;
    [[nodiscard]] virtual bool is_open() const noexcept = 0;
    [[nodiscard]] virtual std::string_view address() const noexcept = 0;
    [[nodiscard]] virtual int native_handle() const noexcept = 0;
    [[nodiscard]] virtual ::ssl_st* native_session() const noexcept = 0;
};

/// The TLS implementation a program has compiled in: installed by tls_stream.hpp.
struct tls_library {
    /// Builds an OpenSSL context from `options` (errc::configuration naming a bad file).
    std::shared_ptr<::ssl_ctx_st> (*load_context)(const ::hotstate::tls_options& options);
    /// Connects and completes the handshake before `until`.
    std::unique_ptr<tls_channel> (*connect)(const tls_connector& to, deadline until);
};

/// Where tls_stream.hpp installs its tls_library (null while no TU includes it).
[[nodiscard]] inline std::atomic<const tls_library*>& installed_tls_library() noexcept {
    static std::atomic<const tls_library*> installed{nullptr};
    return installed;
}

/// The installed TLS implementation, or errc::configuration saying what to include.
[[nodiscard]] inline const tls_library& require_tls_library() {
    if (const tls_library* library = installed_tls_library().load(std::memory_order_acquire)) [[likely]]
        return *library;
    throw tls::config_error(
        "TLS is asked for (rediss://, or tls.enabled) but this program has no TLS support compiled in: include "
        "<hotstate/redis/tls.hpp> in one of its translation units (it brings OpenSSL; link OpenSSL::SSL)");
}

/// Loaded TLS settings, shared by every connection to every server that uses
/// them (a cluster's nodes): the OpenSSL context with the CA, the client
/// certificate and its key. Copies share one context.
class tls_context {
public:
    /// No settings (what a closed stream holds).
    tls_context() = default;
    /// Loads the files of `options`; errc::configuration naming the path when
    /// one cannot be read or used, or when no TLS support is compiled in.
    explicit tls_context(const ::hotstate::tls_options& options)
        : state_(std::make_shared<state>(options, require_tls_library().load_context(options))) {
        loads().fetch_add(1, std::memory_order_relaxed);
    }

    /// The OpenSSL context (SSL_CTX*).
    [[nodiscard]] ::ssl_ctx_st* native() const noexcept { return state_->context.get(); }
    /// Whether settings are loaded (a default-made context has none).
    [[nodiscard]] bool loaded() const noexcept { return state_ != nullptr; }
    /// How many contexts this process has loaded (each reads its files and
    /// builds an SSL_CTX): lets tests see that connections and a cluster's
    /// nodes share one instead of loading their own.
    [[nodiscard]] static std::uint64_t load_count() noexcept { return loads().load(std::memory_order_relaxed); }
    /// The settings it was loaded from.
    [[nodiscard]] const ::hotstate::tls_options& options() const noexcept { return state_->options; }
    /// Where trusted CAs come from, for messages: "CA file '/etc/ca.pem'".
    [[nodiscard]] std::string trust_source() const {
        const auto& options = state_->options;
        if (!options.ca_file.empty()) return "CA file '" + options.ca_file + "'";
        if (!options.ca_path.empty()) return "CA directory '" + options.ca_path + "'";
        return "the system's default CAs";
    }

private:
    static std::atomic<std::uint64_t>& loads() noexcept {
        static std::atomic<std::uint64_t> count{0};
        return count;
    }

    struct state {
        state(const ::hotstate::tls_options& settings, std::shared_ptr<::ssl_ctx_st> loaded)
            : options(settings), context(std::move(loaded)) {}
        ::hotstate::tls_options options;
        std::shared_ptr<::ssl_ctx_st> context;
    };

    std::shared_ptr<const state> state_;
};

/// An open TLS session to one server: a Stream, owning its tls_channel.
class tls_session {
public:
    /// How to open one (below).
    using connector = tls_connector;

    /// A closed session.
    tls_session() = default;
    /// Takes an open channel.
    explicit tls_session(std::unique_ptr<tls_channel> channel) noexcept : channel_(std::move(channel)) {}

    /// Stream::write_all.
    void write_all(std::span<const char> bytes, deadline until, std::size_t& written) {
        written = 0;
        open_channel("write").write_all(bytes, until, written);
    }
    /// write_all without the count.
    void write_all(std::span<const char> bytes, deadline until) {
        std::size_t written = 0;
        write_all(bytes, until, written);
    }
    /// Stream::read_some.
    std::size_t read_some(std::span<char> buffer, deadline until) { return open_channel("read").read_some(buffer, until); }
    /// Stream::wait_readable.
    bool wait_readable(deadline until) { return open_channel("read").wait_readable(until); }
    /// Stream::peer_gone.
    [[nodiscard]] bool peer_gone() noexcept { return !channel_ || channel_->peer_gone(); }
    /// Closes the session (close_notify when healthy).
    void close() noexcept {
        if (channel_) channel_->close();
    }
    /// Whether the session is open.
    [[nodiscard]] bool is_open() const noexcept { return channel_ && channel_->is_open(); }
    /// "host:port".
    [[nodiscard]] std::string_view address() const noexcept { return channel_ ? channel_->address() : std::string_view(); }
    /// The socket descriptor; -1 when closed.
    [[nodiscard]] int native_handle() const noexcept { return channel_ ? channel_->native_handle() : -1; }
    /// The OpenSSL session (SSL*, for the negotiated version or cipher); null when closed.
    [[nodiscard]] ::ssl_st* native_session() const noexcept { return channel_ ? channel_->native_session() : nullptr; }

private:
    tls_channel& open_channel(std::string_view operation) const {
        if (!channel_) [[unlikely]]
            throw stream_error(errc::connection, "", operation, "the stream is closed");
        return *channel_;
    }

    std::unique_ptr<tls_channel> channel_;
};

/// How to open TLS sessions to one server; copyable, made once per server.
class tls_connector {
public:
    /// `host` is a name or an address literal (IPv6 without brackets); the
    /// certificate is checked against `context.options().server_name`, or `host`.
    tls_connector(std::string host, std::uint16_t port, tcp_options socket_options, tls_context context)
        : host_(std::move(host)), port_(port), socket_options_(socket_options), context_(std::move(context)),
          address_(format_host_port(host_, port_)),
          server_name_(context_.options().server_name.empty() ? host_ : context_.options().server_name),
          name_is_ip_(tls::is_ip_literal(server_name_)) {}
    /// Loads `options` into a context of its own (errc::configuration on bad files).
    tls_connector(std::string host, std::uint16_t port, tcp_options socket_options,
                  const ::hotstate::tls_options& options)
        : tls_connector(std::move(host), port, socket_options, tls_context(options)) {}

    /// Connects and completes the TLS handshake before `until`.
    [[nodiscard]] tls_session connect(deadline until) const {
        return tls_session(require_tls_library().connect(*this, until));
    }
    /// The host name or address literal.
    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    /// The TCP port.
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// The TCP socket's options.
    [[nodiscard]] const tcp_options& socket_options() const noexcept { return socket_options_; }
    /// "host:port".
    [[nodiscard]] const std::string& address() const noexcept { return address_; }
    /// The name sent as SNI and verified against the certificate.
    [[nodiscard]] const std::string& server_name() const noexcept { return server_name_; }
    /// Whether server_name() is an IP address (verified as one, no SNI).
    [[nodiscard]] bool name_is_ip() const noexcept { return name_is_ip_; }
    /// The loaded TLS settings.
    [[nodiscard]] const tls_context& context() const noexcept { return context_; }

private:
    std::string host_;
    std::uint16_t port_;
    tcp_options socket_options_;
    tls_context context_;
    std::string address_;
    std::string server_name_;
    bool name_is_ip_;
};

static_assert(Stream<tls_session>);

}  // namespace hotstate::detail::redis
