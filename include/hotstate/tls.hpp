// hotstate/tls.hpp: how to speak TLS to a server, as plain data: one type for
// every client hotstate runs (Redis, NATS).
//
// The fields mirror redis-server's own tls-* directives and redis-cli's
// options (--cacert, --cacertdir, --cert, --key, --sni) and nats-server's
// `tls { ... }` block, so a deployment's existing files plug in unchanged.
// Peer verification is on by default: the server's certificate must chain to
// a trusted CA and name the host (DNS name or IP address) the client connects
// to, or `server_name` when set.
//
// Paths are checked when the client is set up: a file that cannot be read or
// parsed is errc::configuration naming the path (never its contents).
#pragma once

#include <string>

namespace hotstate {

/// TLS settings of a connection to a server (redis-server's `tls-port`,
/// nats-server's `tls` block).
struct tls_options {
    /// Speak TLS (a `rediss://` or `tls://` URL turns this on).
    bool enabled = false;
    /// PEM file of the CA certificate(s) that sign the server's certificate
    /// (redis-cli --cacert). With neither this nor `ca_path`, the system's
    /// default trust store is used.
    std::string ca_file{};
    /// Directory of hashed CA certificates, as `openssl rehash` prepares it
    /// (redis-cli --cacertdir). Redis only: the NATS client reads CA
    /// certificates from a file, and refuses a directory (errc::configuration).
    std::string ca_path{};
    /// PEM file of the client certificate chain, for servers that demand one
    /// (redis-server `tls-auth-clients yes`, nats-server `verify: true`);
    /// needs `key_file`.
    std::string cert_file{};
    /// PEM file of the client certificate's private key (unencrypted); needs
    /// `cert_file`. Its contents never appear in a message.
    std::string key_file{};
    /// The name sent as SNI and checked against the server's certificate
    /// (subjectAltName DNS name or IP address); empty: the host connected to.
    std::string server_name{};
    /// Verify the server's certificate chain and name. Turning it off accepts
    /// any server (a man in the middle too): for tests only.
    bool verify_peer = true;

    /// Field-wise equality.
    bool operator==(const tls_options&) const = default;
};

}  // namespace hotstate
