// One connection of the NATS C client (libnats), as the NATS transports use it:
// options built from nats_settings, connect with typed errors, publish, and the
// client's callbacks (disconnected, reconnected, asynchronous errors) turned
// into events that the transport's receive thread collects, so its sink is
// only ever called from that thread.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>
#include <hotstate/transports/nats_settings.hpp>

namespace hotstate::detail::nats {

/// The error kind of a libnats status.
[[nodiscard]] inline errc kind_of(natsStatus status) noexcept {
    switch (status) {
        case NATS_CONNECTION_AUTH_FAILED:
        case NATS_NOT_PERMITTED: return errc::authentication;
        case NATS_TIMEOUT: return errc::timeout;
        case NATS_INSUFFICIENT_BUFFER: return errc::memory_limit;
        case NATS_INVALID_ARG: return errc::invalid_argument;
        default: return errc::connection;
    }
}

/// `url` with any `user:password@` part of each server removed: what messages may print.
[[nodiscard]] inline std::string redacted_servers(std::string_view url) {
    std::string out;
    for (;;) {
        const auto comma = url.find(',');
        const std::string_view one = url.substr(0, comma);
        const auto scheme = one.find("://");
        const std::size_t host = scheme == std::string_view::npos ? 0 : scheme + 3;
        const auto at = one.rfind('@');
        if (!out.empty()) out += ',';
        if (at != std::string_view::npos && at >= host) {
            out += one.substr(0, host);
            out += one.substr(at + 1);
        } else {
            out += one;
        }
        if (comma == std::string_view::npos) break;
        url.remove_prefix(comma + 1);
    }
    return out;
}

/// The server URLs of a comma-separated list (spaces around each trimmed); empty when
/// an entry is empty.
[[nodiscard]] inline std::vector<std::string> server_list(std::string_view url) {
    std::vector<std::string> servers;
    for (;;) {
        const auto comma = url.find(',');
        std::string_view one = url.substr(0, comma);
        while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
        while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
        if (one.empty()) return {};
        servers.emplace_back(one);
        if (comma == std::string_view::npos) return servers;
        url.remove_prefix(comma + 1);
    }
}

/// A hotstate::error for a failed libnats call: what, where (servers, never credentials), why.
[[nodiscard]] inline error status_error(natsStatus status, std::string_view what, std::string_view servers) {
    std::string message = "hotstate nats: " + std::string(what) + " (" + std::string(servers) + "): ";
    message += natsStatus_GetText(status);
    return error(kind_of(status), std::move(message));
}

/// What the client's own threads observed, for the receive thread to report.
struct link_event {
    enum class kind : std::uint8_t { lost, back, async_error };
    kind what = kind::lost;
    std::chrono::steady_clock::time_point at{};
    std::string text;  ///< async_error: the client's description
    natsStatus status = NATS_OK;
};

/// One libnats connection with its options and callbacks. Not movable: the
/// client's callbacks hold its address.
class client {
public:
    /// Validates `settings` and builds the client's options (errc::configuration on a bad value).
    explicit client(const transports::nats_settings& settings) : servers_(redacted_servers(settings.url)) {
        if (settings.url.empty()) throw error(errc::configuration, "hotstate nats: the server URL must not be empty");
        if (settings.reconnect_buffer_bytes > static_cast<std::size_t>(INT32_MAX))
            throw error(errc::configuration, "hotstate nats: reconnect_buffer_bytes must fit in 31 bits");
        if (settings.connect_timeout.count() <= 0 || settings.ping_interval.count() <= 0)
            throw error(errc::configuration, "hotstate nats: connect_timeout and ping_interval must be positive");
        if (settings.tls.enabled && !settings.tls.ca_path.empty())
            throw error(errc::configuration, "hotstate nats: tls.ca_path '" + settings.tls.ca_path +
                                                 "': the NATS client reads CA certificates from a file; name one in "
                                                 "tls.ca_file");
        natsOptions* raw = nullptr;
        check(natsOptions_Create(&raw), "creating options");
        options_.reset(raw);
        // libnats reads one URL per natsOptions_SetURL: a list goes through SetServers
        const std::vector<std::string> servers = server_list(settings.url);
        if (servers.empty())
            throw error(errc::configuration, "hotstate nats: the server list '" + servers_ + "' has an empty entry");
        std::vector<const char*> server_texts;
        for (const auto& server : servers) server_texts.push_back(server.c_str());
        check(natsOptions_SetServers(raw, server_texts.data(), static_cast<int>(server_texts.size())), "server URLs");
        if (!settings.name.empty()) check(natsOptions_SetName(raw, settings.name.c_str()), "connection name");
        if (!settings.user.empty())
            check(natsOptions_SetUserInfo(raw, settings.user.c_str(), settings.password.reveal().c_str()), "user");
        else if (!settings.token.empty())
            check(natsOptions_SetToken(raw, settings.token.reveal().c_str()), "token");
        if (settings.tls.enabled) {
            check(natsOptions_SetSecure(raw, true), "TLS");
            if (!settings.tls.ca_file.empty())
                check(natsOptions_LoadCATrustedCertificates(raw, settings.tls.ca_file.c_str()),
                      "TLS CA file " + settings.tls.ca_file);
            if (!settings.tls.cert_file.empty() || !settings.tls.key_file.empty())
                check(natsOptions_LoadCertificatesChain(raw, settings.tls.cert_file.c_str(),
                                                        settings.tls.key_file.c_str()),
                      "TLS certificate " + settings.tls.cert_file);
            if (!settings.tls.server_name.empty())
                check(natsOptions_SetExpectedHostname(raw, settings.tls.server_name.c_str()), "TLS server name");
            if (!settings.tls.verify_peer)
                check(natsOptions_SkipServerVerification(raw, true), "TLS verification");
        }
        check(natsOptions_SetTimeout(raw, settings.connect_timeout.count()), "connect timeout");
        check(natsOptions_SetAllowReconnect(raw, true), "reconnect");
        check(natsOptions_SetMaxReconnect(raw, -1), "reconnect");  // for ever: the transport outlives outages
        check(natsOptions_SetReconnectWait(raw, settings.reconnect_wait.count()), "reconnect wait");
        check(natsOptions_SetReconnectBufSize(raw, static_cast<int>(settings.reconnect_buffer_bytes)),
              "reconnect buffer");
        check(natsOptions_SetPingInterval(raw, settings.ping_interval.count()), "ping interval");
        check(natsOptions_SetMaxPingsOut(raw, settings.max_pings_out), "max pings out");
        check(natsOptions_SetSendAsap(raw, settings.send_asap), "send asap");
        // the coordinator skips its own messages by node id; no echo spares the bandwidth
        check(natsOptions_SetNoEcho(raw, true), "no echo");
        check(natsOptions_SetDisconnectedCB(raw, &client::on_disconnected, this), "callbacks");
        check(natsOptions_SetReconnectedCB(raw, &client::on_reconnected, this), "callbacks");
        check(natsOptions_SetErrorHandler(raw, &client::on_async_error, this), "callbacks");
        check(natsOptions_SetClosedCB(raw, &client::on_closed, this), "callbacks");
    }

    client(const client&) = delete;
    client& operator=(const client&) = delete;

    ~client() { close(); }

    /// Closes the connection and waits for the client's last callback: afterwards no
    /// callback (of this object or of the connection's subscriptions and JetStream
    /// publishes) runs any more. Idempotent; the object is then unusable.
    void close() noexcept {
        closing_.store(true, std::memory_order_release);
        if (natsConnection* nc = connection_.exchange(nullptr, std::memory_order_acq_rel)) {
            natsConnection_Close(nc);
            // the client runs its callbacks on a thread of its own, after Close returns:
            // wait for the last one (closed) before this object, their closure, goes away
            std::unique_lock lock(events_mutex_);
            closed_cv_.wait_for(lock, std::chrono::seconds{10}, [&] { return closed_; });
            lock.unlock();
            natsConnection_Destroy(nc);
        }
    }

    /// Connects once (no-op when connected). Throws errc::authentication, timeout or connection.
    void connect() {
        if (connection_.load(std::memory_order_acquire)) return;
        std::lock_guard lock(connect_mutex_);
        if (connection_.load(std::memory_order_acquire)) return;
        if (closing_.load(std::memory_order_acquire))
            throw error(errc::connection, "hotstate nats: connect (" + servers_ + "): the transport is closing");
        natsConnection* nc = nullptr;
        const natsStatus status = natsConnection_Connect(&nc, options_.get());
        if (status != NATS_OK) throw status_error(status, "connect", servers_);
        connection_.store(nc, std::memory_order_release);
    }

    /// The connection, or nullptr before connect() succeeded.
    [[nodiscard]] natsConnection* connection() const noexcept { return connection_.load(std::memory_order_acquire); }

    /// Whether connected now (not before the first connect, not while reconnecting).
    [[nodiscard]] bool connected() const noexcept {
        natsConnection* nc = connection();
        return nc != nullptr && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
    }

    /// Bytes waiting in the reconnect buffer (0 when connected).
    [[nodiscard]] std::int64_t buffered() const noexcept {
        natsConnection* nc = connection();
        return nc ? natsConnection_Buffered(nc) : 0;
    }

    /// Core NATS publish (buffered by the client, sent by its flusher). Throws a hotstate::error.
    void publish(const std::string& subject, std::string_view data) {
        natsConnection* nc = connection();
        if (nc == nullptr) [[unlikely]]
            throw error(errc::connection, "hotstate nats: publish on '" + subject + "' (" + servers_ +
                                              "): not connected yet");
        const natsStatus status =
            natsConnection_Publish(nc, subject.c_str(), data.data(), static_cast<int>(data.size()));
        if (status != NATS_OK) [[unlikely]] {
            if (status == NATS_INSUFFICIENT_BUFFER)
                throw error(errc::memory_limit, "hotstate nats: publish on '" + subject + "' (" + servers_ +
                                                    "): disconnected and the reconnect buffer is full "
                                                    "(reconnect_buffer_bytes); message dropped");
            throw status_error(status, "publish on '" + subject + "'", servers_);
        }
    }

    /// The events the client's threads recorded since the last call.
    [[nodiscard]] std::vector<link_event> take_events() {
        if (!pending_.load(std::memory_order_acquire)) return {};
        std::lock_guard lock(events_mutex_);
        pending_.store(false, std::memory_order_relaxed);
        return std::exchange(events_, {});
    }

    /// The servers, without credentials: for messages.
    [[nodiscard]] const std::string& servers() const noexcept { return servers_; }

    /// Connections lost so far (the client's disconnected callback, counted as it runs).
    [[nodiscard]] std::uint64_t disconnect_count() const noexcept {
        return disconnect_count_.load(std::memory_order_acquire);
    }

    /// Asynchronous errors the client reported (slow consumer, permission violation...).
    [[nodiscard]] std::uint64_t async_errors() const noexcept { return async_errors_.load(std::memory_order_relaxed); }

private:
    struct options_deleter {
        void operator()(natsOptions* options) const noexcept { natsOptions_Destroy(options); }
    };

    void check(natsStatus status, const std::string& what) const {
        if (status == NATS_OK) return;
        if (status == NATS_ERR || status == NATS_SSL_ERROR || status == NATS_INVALID_ARG || status == NATS_NOT_FOUND)
            throw error(errc::configuration,
                        "hotstate nats: " + what + " (" + servers_ + "): " + natsStatus_GetText(status));
        throw status_error(status, what, servers_);
    }

    void record(link_event event) {
        std::lock_guard lock(events_mutex_);
        events_.push_back(std::move(event));
        pending_.store(true, std::memory_order_release);
    }

    static void on_disconnected(natsConnection*, void* closure) {
        auto* self = static_cast<client*>(closure);
        self->disconnect_count_.fetch_add(1, std::memory_order_release);
        if (self->closing_.load(std::memory_order_acquire)) return;
        self->record({link_event::kind::lost, std::chrono::steady_clock::now(), {}, NATS_CONNECTION_DISCONNECTED});
    }
    static void on_reconnected(natsConnection*, void* closure) {
        auto* self = static_cast<client*>(closure);
        if (self->closing_.load(std::memory_order_acquire)) return;
        self->record({link_event::kind::back, std::chrono::steady_clock::now(), {}, NATS_OK});
    }
    static void on_closed(natsConnection*, void* closure) {
        auto* self = static_cast<client*>(closure);
        std::lock_guard lock(self->events_mutex_);
        self->closed_ = true;
        self->closed_cv_.notify_all();
    }
    static void on_async_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
        auto* self = static_cast<client*>(closure);
        self->async_errors_.fetch_add(1, std::memory_order_relaxed);
        if (self->closing_.load(std::memory_order_acquire)) return;
        self->record({link_event::kind::async_error, std::chrono::steady_clock::now(), natsStatus_GetText(status),
                      status});
    }

    std::string servers_;
    std::unique_ptr<natsOptions, options_deleter> options_;
    std::mutex connect_mutex_;
    std::atomic<natsConnection*> connection_{nullptr};
    std::atomic<bool> closing_{false};
    std::mutex events_mutex_;
    std::vector<link_event> events_;
    std::condition_variable closed_cv_;
    bool closed_ = false;  // the client's last callback ran (guarded by events_mutex_)
    std::atomic<bool> pending_{false};
    std::atomic<std::uint64_t> async_errors_{0};
    std::atomic<std::uint64_t> disconnect_count_{0};
};

/// Reports one of the client's events to a transport's sink, through the receive loop's
/// monitor. `lossy` (core NATS): what was published while disconnected is lost, so the
/// return is reported as an outage too; JetStream loses nothing and reports only the state.
/// Returns the error to remember as the last one, if any.
template <class Sink>
std::optional<error> report_event(const link_event& event, link_monitor& monitor, Sink& sink,
                                  const std::string& servers, const std::string& subject, bool lossy) {
    switch (event.what) {
        case link_event::kind::lost: {
            error problem(errc::connection, "hotstate nats: connection to " + servers + " lost; the client reconnects");
            if (auto report = monitor.down(problem, true, event.at)) sink.on_connection(*report);
            return problem;
        }
        case link_event::kind::back: {
            if (lossy && monitor.is_down()) {
                const auto down = std::chrono::duration_cast<std::chrono::milliseconds>(event.at - monitor.down_since());
                sink.on_outage(transport_outage{outage_kind::disconnected, down,
                                                "hotstate nats: subscriber to '" + subject + "' at " + servers +
                                                    " was disconnected for " + std::to_string(down.count()) +
                                                    " ms; messages published meanwhile are lost"});
            }
            sink.on_connection(monitor.up(event.at));
            return std::nullopt;
        }
        case link_event::kind::async_error:
            return error(kind_of(event.status), "hotstate nats: " + servers + ": " + event.text);
    }
    return std::nullopt;
}

}  // namespace hotstate::detail::nats
