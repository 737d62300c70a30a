// hotstate/transports/nats_settings.hpp: how the NATS transports connect.
//
// Shared by transports::nats (core NATS) and transports::nats_jetstream: the
// servers, credentials (user/password or token, both hotstate::secret so they
// never print), TLS, and the NATS C client's reconnect behaviour. The client
// reconnects by itself after a lost connection; what is published meanwhile
// waits in its reconnect buffer, bounded by reconnect_buffer_bytes: a publish
// that would overflow it fails (errc::memory_limit, reported as send_failed)
// instead of growing memory without bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <hotstate/secret.hpp>
#include <hotstate/tls.hpp>

namespace hotstate::transports {

/// TLS towards nats-server (`tls { ... }` in its configuration): hotstate's one
/// TLS settings type, as the Redis clients take it (`ca_path` is refused: the
/// NATS client reads CA certificates from a file).
using nats_tls_options = ::hotstate::tls_options;

/// Connection settings of the NATS transports.
struct nats_settings {
    /// Server URL(s), comma separated: `nats://host:4222,nats://other:4222`. Credentials
    /// belong in `user`/`password` or `token`, not in the URL (a URL is printed in messages).
    std::string url = "nats://127.0.0.1:4222";
    /// User name (nats-server `authorization { user: ... }`); empty: none.
    std::string user{};
    /// Password of `user`.
    secret password{};
    /// Token (nats-server `--auth`); used when `user` is empty.
    secret token{};
    /// TLS settings.
    nats_tls_options tls{};
    /// Connection name shown by the server's monitoring (`connz`).
    std::string name = "hotstate";
    /// How long one connection attempt may take.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds{2}};
    /// Wait between connection attempts (first connect and the client's reconnects).
    std::chrono::milliseconds reconnect_wait{std::chrono::milliseconds{100}};
    /// Bytes published while disconnected that the client keeps to send on reconnect;
    /// beyond it a publish fails with errc::memory_limit (never unbounded memory). Core NATS
    /// only: nats_jetstream keeps none (its sends fail while reconnecting and are retried).
    std::size_t reconnect_buffer_bytes = 8 * 1024 * 1024;
    /// Client PINGs a quiet connection this often; `max_pings_out` unanswered ones mean it is lost.
    std::chrono::milliseconds ping_interval{std::chrono::seconds{5}};
    /// Unanswered PINGs before the connection counts as lost.
    int max_pings_out = 2;
    /// Write each publish to the socket at once (the client's SendAsap) instead of
    /// leaving it to the client's flusher thread. The coordinator already packs
    /// events into few messages, so this trades nothing for lower latency.
    bool send_asap = true;
    /// Connect in the constructor and throw (errc::authentication, connection, timeout)
    /// instead of reporting the failure later through on_connection.
    bool connect_on_start = false;
};

}  // namespace hotstate::transports
