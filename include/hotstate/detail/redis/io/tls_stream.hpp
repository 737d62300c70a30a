// hotstate/detail/redis/io/tls_stream.hpp: the Stream model for `rediss://host:port`.
//
// TLS 1.2 or 1.3 over a tcp connection, on OpenSSL. The socket is read and
// written through a small BIO of our own rather than OpenSSL's socket BIO,
// because that one write()s and a server that went away would raise SIGPIPE;
// ours uses send(MSG_NOSIGNAL) like the plain streams, and non-blocking I/O so
// deadlines bound the handshake, reads and writes alike.
//
// Verification is on unless tls_options::verify_peer is false: the chain must
// lead to the configured CA (or the system's), and the certificate must name
// the host (a DNS name or an IP address, checked as such) or server_name.
// Failures say why in OpenSSL's words ("certificate verify failed: certificate
// has expired", "hostname mismatch") with the address; a server that wants a
// client certificate the configuration lacks is errc::authentication. With
// TLS 1.3 that refusal arrives after the handshake, so it surfaces on the
// first read, typically the connection's AUTH, HELLO or PING.
//
// The engine does not include this header: it opens TLS sessions through
// tls_session.hpp, and this header installs the implementation there for the
// whole program (openssl_tls_library below). Include it through
// hotstate/redis/tls.hpp in any one translation unit.
#pragma once

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/redis/io/socket.hpp>
#include <hotstate/detail/redis/io/stream.hpp>
#include <hotstate/detail/redis/io/tls_session.hpp>
#include <hotstate/error.hpp>
#include <hotstate/tls.hpp>

namespace hotstate::detail::redis {

namespace tls {

/// The reason of the oldest error on OpenSSL's queue, in words ("no start
/// line"); empties the queue. Only the reason: the other fields of an entry may
/// carry file data.
[[nodiscard]] inline std::string take_reason(unsigned long* first_code = nullptr) {
    unsigned long first = 0;
    while (const unsigned long code = ERR_get_error())
        if (first == 0) first = code;
    if (first_code) *first_code = first;
    if (first == 0) return "unknown OpenSSL error";
    const char* reason = ERR_reason_error_string(first);
    return reason ? reason : "OpenSSL error " + std::to_string(ERR_GET_REASON(first));
}

/// Empties OpenSSL's per-thread error queue, as SSL_get_error needs before an
/// I/O call; peeks first because clearing costs ~800 instructions even when empty.
inline void clear_errors() noexcept {
    if (ERR_peek_error() != 0) [[unlikely]]
        ERR_clear_error();
}

/// Fails with errc::configuration unless `path` is a readable regular file.
inline void require_file(const std::string& path, std::string_view what) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || ::access(path.c_str(), R_OK) != 0)
        throw config_error("cannot read the " + std::string(what) + " '" + path +
                           "': " + std::generic_category().message(errno));
    if (!S_ISREG(info.st_mode)) throw config_error("the " + std::string(what) + " '" + path + "' is not a file");
}

/// Fails with errc::configuration unless `path` is a readable directory.
inline void require_directory(const std::string& path, std::string_view what) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && !S_ISDIR(info.st_mode))
        throw config_error("the " + std::string(what) + " '" + path + "' is not a directory");
    if (::stat(path.c_str(), &info) != 0 || ::access(path.c_str(), R_OK | X_OK) != 0)
        throw config_error("cannot read the " + std::string(what) + " '" + path +
                           "': " + std::generic_category().message(errno));
}

/// Marks the session when the server asked for a client certificate and none
/// is configured, so the refusal that follows can be named for what it is.
inline int note_certificate_request(SSL* ssl, X509**, EVP_PKEY**) {
    static char asked;
    SSL_set_app_data(ssl, &asked);
    return 0;  // no certificate: OpenSSL sends an empty one
}

/// Refuses to prompt on the terminal for an encrypted key's passphrase.
inline int no_passphrase(char*, int, int, void*) { return 0; }

// The socket BIO: recv/send(MSG_NOSIGNAL) on the descriptor stored as the BIO's data.
inline int bio_fd(BIO* bio) noexcept { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio))); }

inline int bio_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    for (;;) {
        const ::ssize_t sent = ::send(bio_fd(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
        if (sent >= 0) return static_cast<int>(sent);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
        return -1;
    }
}

inline int bio_read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    for (;;) {
        const ::ssize_t got = ::recv(bio_fd(bio), data, static_cast<std::size_t>(size), 0);
        if (got > 0) return static_cast<int>(got);
        if (got == 0) {
            BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
            return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
        return -1;
    }
}

inline long bio_ctrl(BIO* bio, int command, long, void*) {
    switch (command) {
        case BIO_CTRL_FLUSH: return 1;
        case BIO_CTRL_EOF: return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
        default: return 0;
    }
}

/// The BIO method, made once per process.
[[nodiscard]] inline BIO_METHOD* socket_bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hotstate socket");
        if (made) {
            BIO_meth_set_write(made, bio_write);
            BIO_meth_set_read(made, bio_read);
            BIO_meth_set_ctrl(made, bio_ctrl);
        }
        return made;
    }();
    return method;
}

/// "certificate verify failed: <OpenSSL's words> (<what it means here>)" for a
/// verify result; `server_name` empty when none was checked.
[[nodiscard]] inline std::string verify_failure_text(long verified, std::string_view server_name,
                                                     std::string_view trust_source) {
    std::string text = "certificate verify failed: ";
    text += X509_verify_cert_error_string(verified);
    switch (verified) {
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            if (!server_name.empty())
                text += " (the server's certificate is not valid for '" + std::string(server_name) + "')";
            break;
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            text += " (the server's certificate is not signed by a CA in " + std::string(trust_source) + ")";
            break;
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID: text += " (the server's certificate is outside its validity period)"; break;
        default: break;
    }
    return text;
}

/// What a TLS failure other than a failed verification means.
struct failure_meaning {
    errc kind;
    std::string text;
};

/// The meaning of OpenSSL's reason `why` (ERR_GET_REASON of its first code, 0 when not
/// an SSL reason) in words, with OpenSSL's own `cause` kept; nullopt when the server
/// closed the connection mid-record (the caller says so in its own words).
/// `asked_for_one`: the server requested a client certificate during the handshake.
[[nodiscard]] inline std::optional<failure_meaning> explain_failure(int why, const std::string& cause,
                                                                    std::string_view cert_file, bool asked_for_one) {
    const bool has_certificate = !cert_file.empty();
    switch (why) {
        case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
        case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
        case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
        case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
            if (!has_certificate && (asked_for_one || why == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED))
                return failure_meaning{errc::authentication,
                                       "the server requires a client certificate and none is configured "
                                       "(TLS cert_file and key_file): " + cause};
            if (has_certificate && why != SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
                return failure_meaning{errc::authentication, "the server refused the client certificate '" +
                                                                 std::string(cert_file) + "': " + cause};
            break;
        case SSL_R_WRONG_VERSION_NUMBER:
        case SSL_R_PACKET_LENGTH_TOO_LONG:
        case SSL_R_RECORD_LENGTH_MISMATCH:
            return failure_meaning{errc::connection, cause + " (" + std::string(plain_port_hint) + ")"};
        case SSL_R_UNEXPECTED_EOF_WHILE_READING: return std::nullopt;
        default: break;
    }
    return failure_meaning{errc::connection, "TLS failure: " + cause};
}

}  // namespace tls

namespace tls {

inline void load_trust(SSL_CTX* context, const ::hotstate::tls_options& options) {
    if (options.ca_file.empty() && options.ca_path.empty()) {
        if (SSL_CTX_set_default_verify_paths(context) != 1)
            throw tls::config_error("cannot load the system's default CAs: " + tls::take_reason());
        return;
    }
    if (!options.ca_file.empty()) tls::require_file(options.ca_file, "CA file");
    if (!options.ca_path.empty()) tls::require_directory(options.ca_path, "CA directory");
    if (SSL_CTX_load_verify_locations(context, options.ca_file.empty() ? nullptr : options.ca_file.c_str(),
                                      options.ca_path.empty() ? nullptr : options.ca_path.c_str()) != 1) {
        const std::string what = options.ca_file.empty() ? "CA directory '" + options.ca_path + "'"
                                                         : "CA file '" + options.ca_file + "'";
        throw tls::config_error("cannot load the " + what + ": " + tls::take_reason());
    }
}

inline void load_identity(SSL_CTX* context, const ::hotstate::tls_options& options) {
    if (options.cert_file.empty() != options.key_file.empty())
        throw tls::config_error("a client certificate needs both cert_file and key_file (only " +
                                std::string(options.cert_file.empty() ? "key_file" : "cert_file") + " is set)");
    if (options.cert_file.empty()) {
        SSL_CTX_set_client_cert_cb(context, tls::note_certificate_request);
        return;
    }
    tls::require_file(options.cert_file, "client certificate file");
    tls::require_file(options.key_file, "private key file");
    if (SSL_CTX_use_certificate_chain_file(context, options.cert_file.c_str()) != 1)
        throw tls::config_error("cannot use the client certificate file '" + options.cert_file +
                                "': " + tls::take_reason());
    const auto mismatch = [&] {
        return tls::config_error("the private key file '" + options.key_file +
                                 "' does not belong to the client certificate '" + options.cert_file + "'");
    };
    if (SSL_CTX_use_PrivateKey_file(context, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        unsigned long code = 0;
        const std::string reason = tls::take_reason(&code);
        if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) throw mismatch();
        throw tls::config_error("cannot use the private key file '" + options.key_file + "': " + reason +
                                " (an unencrypted PEM key is expected)");
    }
    if (SSL_CTX_check_private_key(context) != 1) {
        ERR_clear_error();
        throw mismatch();
    }
}

/// A new OpenSSL context loaded with `options`: TLS 1.2 or later, the CA, the
/// client certificate and key, verification as asked.
[[nodiscard]] inline std::shared_ptr<SSL_CTX> load_context(const ::hotstate::tls_options& options) {
    std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    if (!context) throw config_error("cannot create a TLS context: " + take_reason());
    SSL_CTX_set_min_proto_version(context.get(), TLS1_2_VERSION);
    SSL_CTX_set_mode(context.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // one recv() for whatever has arrived instead of one per record header and one per body
    SSL_CTX_set_read_ahead(context.get(), 1);
    SSL_CTX_set_default_passwd_cb(context.get(), no_passphrase);
    load_trust(context.get(), options);
    load_identity(context.get(), options);
    SSL_CTX_set_verify(context.get(), options.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    ERR_clear_error();
    return context;
}

}  // namespace tls

/// A TLS connection (over TCP) to one Redis server.
class tls_stream final : public tls_channel {
public:
    /// Connects to `to` and completes the TLS handshake before `until`.
    [[nodiscard]] static tls_stream open(const tls_connector& to, deadline until) {
        tls_stream stream(connect_tcp(to.host(), to.port(), to.socket_options(), until, to.address()), to.address(),
                          to.context());
        stream.handshake(to.server_name(), to.name_is_ip(), until);
        return stream;
    }

    /// A closed stream.
    tls_stream() = default;
    tls_stream(tls_stream&&) noexcept = default;
    tls_stream& operator=(tls_stream&& other) noexcept {
        if (this != &other) {
            close();
            socket_ = std::move(other.socket_);
            ssl_ = std::move(other.ssl_);
            address_ = std::move(other.address_);
            context_ = std::move(other.context_);
            broken_ = other.broken_;
        }
        return *this;
    }
    ~tls_stream() override { close(); }

    /// Encrypts and sends every byte before `until`. `written` (also when it
    /// throws) is 0 while no byte of a TLS record has reached the socket (the
    /// BIO's count did not move), else every byte of `bytes`: the server cannot
    /// tell a part of a record, so any wire byte means the request may have
    /// reached it (Stream::write_all).
    void write_all(std::span<const char> bytes, deadline until, std::size_t& written) override {
        written = 0;
        if (!ssl_) [[unlikely]]
            throw closed_stream("write");
        const char* data = bytes.data();
        std::size_t size = bytes.size();
        BIO* wire = SSL_get_wbio(ssl_.get());
        const std::uint64_t wire_before = BIO_number_written(wire);
        struct count_on_exit {
            BIO* wire;
            std::uint64_t before;
            std::size_t total;
            std::size_t& written;
            ~count_on_exit() {
                if (BIO_number_written(wire) != before) written = total;
            }
        } count{wire, wire_before, bytes.size(), written};
        while (size != 0) {
            tls::clear_errors();
            const int chunk = size > INT_MAX ? INT_MAX : static_cast<int>(size);
            const int sent = SSL_write(ssl_.get(), data, chunk);
            if (sent > 0) [[likely]] {
                data += sent;
                size -= static_cast<std::size_t>(sent);
                continue;
            }
            wait_for(SSL_get_error(ssl_.get(), sent), until, "write");
        }
    }
    /// write_all without the count.
    void write_all(std::span<const char> bytes, deadline until) {
        std::size_t written = 0;
        write_all(bytes, until, written);
    }

    /// Reads and decrypts at least one byte before `until`.
    std::size_t read_some(std::span<char> buffer, deadline until) override {
        if (!ssl_) [[unlikely]]
            throw closed_stream("read");
        // decrypted or buffered bytes need no poll; otherwise the reply is rarely there yet
        bool must_wait = SSL_has_pending(ssl_.get()) == 0;
        const int capacity = buffer.size() > INT_MAX ? INT_MAX : static_cast<int>(buffer.size());
        for (;;) {
            if (must_wait && !wait_ready(socket_.get(), POLLIN, until, address_, "read")) [[unlikely]]
                throw timeout_error(address_, "read");
            tls::clear_errors();
            const int got = SSL_read(ssl_.get(), buffer.data(), capacity);
            if (got > 0) [[likely]]
                return static_cast<std::size_t>(got);
            const int reason = SSL_get_error(ssl_.get(), got);
            must_wait = reason == SSL_ERROR_WANT_READ;
            wait_for(reason, until, "read");
        }
    }

    /// Whether application data (or the end of the stream) can be read without
    /// blocking, waiting until `until` at most. TLS records that carry no data
    /// (TLS 1.3 session tickets) are consumed and do not count.
    bool wait_readable(deadline until) override {
        if (!ssl_) [[unlikely]]
            throw closed_stream("read");
        for (;;) {
            if (SSL_pending(ssl_.get()) > 0) return true;
            if (!wait_ready(socket_.get(), POLLIN, until, address_, "read")) return false;
            tls::clear_errors();
            char byte;
            const int got = SSL_peek(ssl_.get(), &byte, 1);
            if (got > 0) return true;
            const int reason = SSL_get_error(ssl_.get(), got);
            if (reason != SSL_ERROR_WANT_READ) wait_for(reason, until, "read");
        }
    }

    /// Without blocking: whether the server closed (close_notify or FIN) or
    /// reset the connection. Session tickets and other records without data
    /// that arrived meanwhile are consumed on the way.
    [[nodiscard]] bool peer_gone() noexcept override {
        if (!ssl_ || broken_) return true;
        if (SSL_pending(ssl_.get()) > 0) return false;
        for (int round = 0; round < 3; ++round) {
            char byte;
            const ::ssize_t peeked = ::recv(socket_.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            if (peeked == 0) return true;
            if (peeked < 0) {
                if (errno == EINTR) continue;
                return errno != EAGAIN && errno != EWOULDBLOCK;
            }
            tls::clear_errors();
            const int got = SSL_peek(ssl_.get(), &byte, 1);
            if (got > 0) return false;
            const int reason = SSL_get_error(ssl_.get(), got);
            if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                broken_ = true;
                return true;
            }
        }
        return false;  // a record still arriving: alive
    }

    /// Sends close_notify when the session is healthy (best effort, no wait), then closes.
    void close() noexcept override {
        if (ssl_ && !broken_) {
            ERR_clear_error();
            SSL_shutdown(ssl_.get());
            ERR_clear_error();
        }
        ssl_.reset();
        socket_.reset();
    }
    /// Whether the stream is open.
    [[nodiscard]] bool is_open() const noexcept override { return socket_.get() >= 0; }
    /// "host:port".
    [[nodiscard]] std::string_view address() const noexcept override { return address_; }
    /// The socket descriptor; -1 when closed.
    [[nodiscard]] int native_handle() const noexcept override { return socket_.get(); }
    /// The OpenSSL session (for the negotiated version or cipher); null when closed.
    [[nodiscard]] SSL* native_session() const noexcept override { return ssl_.get(); }

private:
    struct ssl_deleter {
        void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
    };

    tls_stream(socket_handle socket, std::string address, tls_context context)
        : socket_(std::move(socket)), address_(std::move(address)), context_(std::move(context)) {}

    void handshake(const std::string& server_name, bool name_is_ip, deadline until) {
        ssl_.reset(SSL_new(context_.native()));
        if (!ssl_) throw stream_error(errc::connection, address_, "TLS handshake", tls::take_reason());
        BIO* bio = BIO_new(tls::socket_bio_method());
        if (!bio) throw stream_error(errc::connection, address_, "TLS handshake", tls::take_reason());
        BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(socket_.get())));
        BIO_set_init(bio, 1);
        SSL_set_bio(ssl_.get(), bio, bio);  // the session owns the BIO
        // SNI carries host names only (RFC 6066)
        if (!name_is_ip && SSL_set_tlsext_host_name(ssl_.get(), server_name.c_str()) != 1)
            throw bad_server_name(server_name);
        if (context_.options().verify_peer) {
            X509_VERIFY_PARAM* parameters = SSL_get0_param(ssl_.get());
            if (name_is_ip) {
                if (X509_VERIFY_PARAM_set1_ip_asc(parameters, server_name.c_str()) != 1) throw bad_server_name(server_name);
            } else {
                X509_VERIFY_PARAM_set_hostflags(parameters, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                if (X509_VERIFY_PARAM_set1_host(parameters, server_name.c_str(), server_name.size()) != 1)
                    throw bad_server_name(server_name);
            }
        }
        SSL_set_connect_state(ssl_.get());
        for (;;) {
            ERR_clear_error();
            const int done = SSL_connect(ssl_.get());
            if (done == 1) return;
            wait_for(SSL_get_error(ssl_.get(), done), until, "TLS handshake", &server_name);
        }
    }

    [[gnu::cold]] error closed_stream(std::string_view operation) const {
        return stream_error(errc::connection, address_, operation, "the stream is closed");
    }

    [[gnu::cold]] error bad_server_name(const std::string& server_name) {
        ERR_clear_error();
        return tls::config_error("server_name '" + server_name + "' is not a valid host name or IP address");
    }

    /// Waits as OpenSSL asks (WANT_READ, WANT_WRITE) or throws what the failure means.
    void wait_for(int reason, deadline until, std::string_view operation, const std::string* server_name = nullptr) {
        if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) [[likely]] {
            const short events = reason == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
            if (wait_ready(socket_.get(), events, until, address_, operation)) return;
            broken_ = true;
            if (operation == "TLS handshake")  // a plain-text server reads the hello as a command and waits for more
                throw stream_error(errc::timeout, address_, operation,
                                   "no answer to the TLS handshake before the deadline (" + std::string(tls::plain_port_hint) + ")");
            throw timeout_error(address_, operation);
        }
        broken_ = true;
        throw failure(reason, operation, server_name);
    }

    /// The error for a failed SSL_connect, SSL_read or SSL_write, in words.
    [[gnu::cold]] error failure(int reason, std::string_view operation, const std::string* server_name) {
        const int saved_errno = errno;
        if (reason == SSL_ERROR_ZERO_RETURN) {
            ERR_clear_error();
            return stream_error(errc::connection, address_, operation,
                                "the server closed the connection (TLS close_notify)");
        }
        if (reason == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && operation == "write") {
            // A server that refuses the session sends an alert saying why, then
            // closes; the write only sees the reset. Read the alert, if it came.
            ERR_clear_error();
            char byte;
            const int got = SSL_read(ssl_.get(), &byte, 1);
            if (got <= 0 && SSL_get_error(ssl_.get(), got) == SSL_ERROR_SSL) return failure(SSL_ERROR_SSL, operation, server_name);
            ERR_clear_error();
        }
        if (reason == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            const BIO* bio = SSL_get_rbio(ssl_.get());
            if (saved_errno == 0 || (bio && BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0))
                return closed_error(address_, operation);
            return errno_error(address_, operation, saved_errno);
        }
        unsigned long code = 0;
        const std::string cause = tls::take_reason(&code);
        const int why = ERR_GET_LIB(code) == ERR_LIB_SSL ? ERR_GET_REASON(code) : 0;
        const long verified = SSL_get_verify_result(ssl_.get());
        if (why == SSL_R_CERTIFICATE_VERIFY_FAILED || (verified != X509_V_OK && server_name))
            return stream_error(errc::connection, address_, operation,
                                tls::verify_failure_text(verified, server_name ? std::string_view(*server_name) : "",
                                                         context_.trust_source()));
        const auto meaning = tls::explain_failure(why, cause, context_.options().cert_file,
                                                  SSL_get_app_data(ssl_.get()) != nullptr);
        if (!meaning) return closed_error(address_, operation);
        return stream_error(meaning->kind, address_, operation, meaning->text);
    }

    socket_handle socket_;
    std::unique_ptr<SSL, ssl_deleter> ssl_;
    std::string address_;
    tls_context context_;
    bool broken_ = false;
};


/// OpenSSL's implementation of the engine's TLS (tls_session.hpp).
inline constexpr tls_library openssl_tls_library{
    [](const ::hotstate::tls_options& options) { return tls::load_context(options); },
    [](const tls_connector& to, deadline until) -> std::unique_ptr<tls_channel> {
        return std::make_unique<tls_stream>(tls_stream::open(to, until));
    }};

/// Installs it in every program with a TU that includes this header: set
/// while static objects are initialized, before main.
inline const bool openssl_tls_installed = [] {
    installed_tls_library().store(&openssl_tls_library, std::memory_order_release);
    return true;
}();

}  // namespace hotstate::detail::redis
