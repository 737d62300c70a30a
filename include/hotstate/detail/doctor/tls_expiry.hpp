// hotstate/detail/doctor/tls_expiry.hpp: how long the certificate a TLS server
// presents is still valid. A handshake of its own with OpenSSL that verifies
// nothing (the doctor wants the date even of a certificate that is already
// wrong) and sends no Redis command.
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <openssl/asn1.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace hotstate::detail::doctor {

/// Seconds until the server's certificate expires (negative: expired), or
/// nullopt with `problem` set when no certificate could be read.
[[nodiscard]] inline std::optional<std::chrono::seconds> certificate_time_left(const std::string& host, std::uint16_t port,
                                                                               const std::string& server_name,
                                                                               std::string& problem) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr) {
        problem = "cannot resolve " + host;
        return std::nullopt;
    }
    const std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, ::freeaddrinfo);
    const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
        if (fd >= 0) ::close(fd);
        problem = "cannot connect";
        return std::nullopt;
    }
    timeval bound{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    const std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> context(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    const std::unique_ptr<SSL, void (*)(SSL*)> session(context ? SSL_new(context.get()) : nullptr, SSL_free);
    std::optional<std::chrono::seconds> left;
    if (session) {
        SSL_set_fd(session.get(), fd);
        const std::string& sni = server_name.empty() ? host : server_name;
        SSL_set_tlsext_host_name(session.get(), sni.c_str());
        if (SSL_connect(session.get()) == 1) {
            if (X509* certificate = SSL_get_peer_certificate(session.get())) {
                int days = 0;
                int seconds = 0;
                if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(certificate)) == 1)
                    left = std::chrono::seconds{static_cast<long long>(days) * 86400 + seconds};
                X509_free(certificate);
            }
            SSL_shutdown(session.get());
        }
    }
    ::close(fd);
    if (!left) problem = "TLS handshake failed or no certificate";
    return left;
}

}  // namespace hotstate::detail::doctor
