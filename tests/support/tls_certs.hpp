// Certificates for TLS tests, made with the `openssl` command line in a fresh
// temporary directory (removed when the object dies), and a redis-server that
// speaks TLS with them.
//
//   hotstate::testing::tls_certs certs;                       // CA, server, client, ...
//   hotstate::testing::redis_tls_server server(certs);         // tls-auth-clients no
//   hotstate::testing::redis_tls_server mutual(certs, {.auth_clients = true});
//   server.tls_port();   // TLS
//   server.plain();      // the same server's plain loopback port: readiness and assertions
//
// Keys are EC P-256 (generated in milliseconds). The server certificate names
// localhost, 127.0.0.1 and ::1; the expired one ended yesterday (`-days -1`,
// which OpenSSL 3.0 accepts: no waiting, no clock games).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <utility>
#include <vector>

#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace hotstate::testing {

/// Runs a program to its end (at most `deadline`); throws with its output when it fails.
/// Returns its exit code when `allowed_codes` lists it (0 always allowed).
inline int run_program(const std::vector<std::string>& argv, const std::filesystem::path& log,
                       std::vector<int> allowed_codes = {}, std::chrono::milliseconds deadline = std::chrono::seconds{30}) {
    std::filesystem::remove(log);
    process child(argv, log);
    if (!eventually([&] { return !child.running(); }, deadline))
        throw std::runtime_error("run_program: " + argv[0] + " did not finish in time");
    const auto status = child.exit_status();
    const int code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    allowed_codes.push_back(0);
    for (const int allowed : allowed_codes)
        if (code == allowed) return code;
    std::string command;
    for (const auto& arg : argv) command += arg + " ";
    throw std::runtime_error("run_program: `" + command + "` exited with " + std::to_string(code) + ":\n" + child.log());
}

/// A CA, certificates signed by it (server, client, expired server), and a
/// second CA with a server and a client certificate of its own.
class tls_certs {
public:
    tls_certs() : dir_("hotstate-tls") {
        make_ca("ca", "hotstate test CA");
        make_ca("other-ca", "hotstate other CA");
        make_key_and_request("server", "localhost");
        make_key_and_request("client", "hotstate-client");
        write("server.ext",
              "basicConstraints = CA:FALSE\n"
              "keyUsage = critical, digitalSignature\n"
              "extendedKeyUsage = serverAuth\n"
              "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1\n");
        write("client.ext",
              "basicConstraints = CA:FALSE\n"
              "keyUsage = critical, digitalSignature\n"
              "extendedKeyUsage = clientAuth\n");
        sign("server", "ca", "server.ext", "server.crt", "30", "2");
        sign("client", "ca", "client.ext", "client.crt", "30", "3");
        sign("server", "other-ca", "server.ext", "foreign-server.crt", "30", "4");
        sign("client", "other-ca", "client.ext", "foreign-client.crt", "30", "5");
        sign("server", "ca", "server.ext", "expired-server.crt", "-1", "6");
        // -checkend 0 exits 1 when the certificate has expired: prove the fixture made what it claims
        if (run_program({"openssl", "x509", "-checkend", "0", "-noout", "-in", path("expired-server.crt").string()},
                        path("checkend.log"), {1}) != 1)
            throw std::runtime_error("tls_certs: expired-server.crt is not expired");
    }

    [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_.path(); }
    [[nodiscard]] std::filesystem::path path(std::string_view name) const { return dir_.path() / std::string(name); }

    /// The CA that signs the server and client certificates.
    [[nodiscard]] std::string ca() const { return path("ca.crt").string(); }
    /// A CA that signed nothing the servers present.
    [[nodiscard]] std::string other_ca() const { return path("other-ca.crt").string(); }
    /// Server certificate for localhost, 127.0.0.1 and ::1, signed by ca().
    [[nodiscard]] std::string server_cert() const { return path("server.crt").string(); }
    /// The key of every server certificate.
    [[nodiscard]] std::string server_key() const { return path("server.key").string(); }
    /// The same names, signed by other_ca().
    [[nodiscard]] std::string foreign_server_cert() const { return path("foreign-server.crt").string(); }
    /// The same names, signed by ca(), expired yesterday.
    [[nodiscard]] std::string expired_server_cert() const { return path("expired-server.crt").string(); }
    /// Client certificate (clientAuth), signed by ca().
    [[nodiscard]] std::string client_cert() const { return path("client.crt").string(); }
    /// The key of both client certificates.
    [[nodiscard]] std::string client_key() const { return path("client.key").string(); }
    /// A client certificate signed by other_ca().
    [[nodiscard]] std::string foreign_client_cert() const { return path("foreign-client.crt").string(); }

    /// A file's content (to prove messages never carry a key).
    [[nodiscard]] std::string read(std::string_view name_or_path) const {
        std::filesystem::path file(name_or_path);
        if (file.is_relative()) file = path(name_or_path);
        std::ifstream in(file, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

private:
    void write(std::string_view name, std::string_view content) const {
        std::ofstream out(path(name), std::ios::trunc);
        out << content;
    }

    void openssl(std::vector<std::string> args) const {
        args.insert(args.begin(), "openssl");
        run_program(args, path("openssl.log"));
    }

    void make_ca(const std::string& stem, const std::string& name) const {
        openssl({"req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", path(stem + ".key").string(), "-out", path(stem + ".crt").string(), "-days", "30",
                 "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign"});
    }

    void make_key_and_request(const std::string& stem, const std::string& common_name) const {
        openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                 path(stem + ".key").string(), "-out", path(stem + ".csr").string(), "-subj", "/CN=" + common_name});
    }

    void sign(const std::string& stem, const std::string& ca, const std::string& extensions, const std::string& out,
              const std::string& days, const std::string& serial) const {
        openssl({"x509", "-req", "-in", path(stem + ".csr").string(), "-CA", path(ca + ".crt").string(), "-CAkey",
                 path(ca + ".key").string(), "-set_serial", serial, "-days", days, "-extfile",
                 path(extensions).string(), "-out", path(out).string()});
    }

    temp_directory dir_;
};

/// What a TLS test server presents and demands.
struct redis_tls_server_options {
    /// The certificate it presents (default: tls_certs::server_cert()).
    std::string cert_file{};
    /// `tls-auth-clients yes`: a client certificate signed by the CA is required.
    bool auth_clients = false;
    /// Further redis.conf lines.
    std::vector<std::string> extra_config{};
};

/// A redis-server with a TLS port (tls_port()) and a plain loopback port
/// (plain()) that the fixture uses to know it is up and tests use for
/// assertions such as CLIENT KILL.
class redis_tls_server {
public:
    explicit redis_tls_server(const tls_certs& certs, redis_tls_server_options options = {}) {
        // a port can be taken between free_port() and the server's bind: try a few
        for (int attempt = 0;; ++attempt) {
            tls_port_ = free_port();
            redis_server_options settings;
            settings.unix_socket = true;
            settings.extra_config = {
                "tls-port " + std::to_string(tls_port_),
                "tls-cert-file " + (options.cert_file.empty() ? certs.server_cert() : options.cert_file),
                "tls-key-file " + certs.server_key(),
                "tls-ca-cert-file " + certs.ca(),
                std::string("tls-auth-clients ") + (options.auth_clients ? "yes" : "no"),
            };
            settings.extra_config.insert(settings.extra_config.end(), options.extra_config.begin(),
                                         options.extra_config.end());
            try {
                server_.emplace(std::move(settings));
                return;
            } catch (const std::exception&) {
                if (attempt >= 4) throw;
            }
        }
    }

    /// The TLS port on 127.0.0.1.
    [[nodiscard]] std::uint16_t tls_port() const noexcept { return tls_port_; }
    /// "127.0.0.1:TLS_PORT".
    [[nodiscard]] std::string tls_address() const { return "127.0.0.1:" + std::to_string(tls_port_); }
    /// The server as a plain one (its plain port, log, raw commands).
    [[nodiscard]] redis_server& plain() { return *server_; }

private:
    std::uint16_t tls_port_ = 0;
    std::optional<redis_server> server_;
};

}  // namespace hotstate::testing
