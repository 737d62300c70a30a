// A memcached owned by a test: started on a free loopback port (and a Unix
// socket in a fresh temporary directory when asked), waited for until it
// answers `version` (with a deadline), stopped when the object dies.
// Restartable on the same port, like redis_server.
//
//   hotstate::testing::memcached_server server;                  // 64 MiB, 2 MiB items
//   server.command("flush_all");                                 // raw text protocol, for assertions
//   server.stop(); server.start();                               // an outage
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/eventually.hpp"
#include "support/loopback.hpp"
#include "support/process.hpp"

namespace hotstate::testing {

/// What a test wants of its memcached.
struct memcached_server_options {
    /// -m: memory limit in MiB.
    int memory_mb = 64;
    /// -I: the item size limit (a 1 MiB value needs more than memcached's default 1m).
    std::string item_size_max = "2m";
    /// -M: refuse writes when full instead of evicting.
    bool no_eviction = false;
    /// Also listen on `memcached.sock` in the directory (-s; memcached then serves only the socket,
    /// so a second server process is started for it).
    bool unix_socket = false;
    /// TLS on the port (-Z) with this certificate chain and key (both set):
    /// the server is then ready when it accepts, and command() is not available.
    std::string tls_cert{};
    std::string tls_key{};
    /// How long start() waits for the first answer.
    std::chrono::milliseconds start_deadline{10000};
};

/// A plain text-protocol client over a blocking socket, for assertions (no hotstate code).
class memcached_text_client {
public:
    explicit memcached_text_client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("memcached_text_client: socket");
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
            ::close(fd_);
            fd_ = -1;
            throw std::runtime_error("memcached_text_client: cannot connect to port " + std::to_string(port));
        }
    }
    memcached_text_client(const memcached_text_client&) = delete;
    memcached_text_client& operator=(const memcached_text_client&) = delete;
    ~memcached_text_client() {
        if (fd_ >= 0) ::close(fd_);
    }

    /// Sends `line` (CRLF added) and returns the reply up to and including a
    /// line `terminator` starts with (default: the first line; a meta VA reply:
    /// its data block too), within 5 s.
    std::string command(std::string_view line, std::string_view terminator = {}) {
        std::string request(line);
        request += "\r\n";
        if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
            throw std::runtime_error("memcached_text_client: send failed");
        std::string reply;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{5};
        for (;;) {
            if (reply.starts_with("VA ") && reply.find("\r\n") != std::string::npos) {
                // a value: its line, its block of <size> bytes, CRLF
                const auto line_end = reply.find("\r\n");
                const auto size = std::stoul(reply.substr(3, line_end - 3));
                if (reply.size() >= line_end + 2 + size + 2) return reply;
            } else if (reply.ends_with("\r\n")) {
                const auto previous = reply.size() > 2 ? reply.rfind("\r\n", reply.size() - 3) : std::string::npos;
                const std::size_t start = previous == std::string::npos ? 0 : previous + 2;
                const std::string_view last(reply.data() + start, reply.size() - start - 2);
                if (terminator.empty() || last.starts_with(terminator) || last.starts_with("ERROR") ||
                    last.starts_with("CLIENT_ERROR") || last.starts_with("SERVER_ERROR"))
                    return reply;
            }
            pollfd ready{fd_, POLLIN, 0};
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0)
                throw std::runtime_error("memcached_text_client: no reply to '" + std::string(line) + "'");
            char buffer[4096];
            const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
            if (got <= 0) throw std::runtime_error("memcached_text_client: connection closed");
            reply.append(buffer, static_cast<std::size_t>(got));
        }
    }

private:
    int fd_ = -1;
};

/// A memcached process on 127.0.0.1:port() owned by the test.
class memcached_server {
public:
    explicit memcached_server(memcached_server_options options = {})
        : options_(std::move(options)), dir_("hotstate-memcached") {
        // a port can be taken between free_port() and the server's bind: try a few
        for (int attempt = 0;; ++attempt) {
            port_ = free_port();
            try {
                start();
                return;
            } catch (const std::exception&) {
                if (attempt >= 4) throw;
            }
        }
    }
    memcached_server(const memcached_server&) = delete;
    memcached_server& operator=(const memcached_server&) = delete;
    ~memcached_server() { stop(); }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// "memcached://127.0.0.1:PORT".
    [[nodiscard]] std::string url() const { return "memcached://127.0.0.1:" + std::to_string(port_); }
    /// "memcacheds://127.0.0.1:PORT" (options.tls_cert).
    [[nodiscard]] std::string tls_url() const { return "memcacheds://127.0.0.1:" + std::to_string(port_); }
    /// "unix://PATH" of the socket server (options.unix_socket).
    [[nodiscard]] std::string unix_url() const { return "unix://" + unix_socket_path().string(); }
    [[nodiscard]] std::filesystem::path unix_socket_path() const { return dir_.path() / "memcached.sock"; }

    /// Starts the server (same port) and waits until it answers `version`.
    void start() {
        if (process_.running()) return;
        process_ = process(arguments({"-p", std::to_string(port_), "-l", "127.0.0.1"}), dir_.path() / "memcached.log");
        if (options_.unix_socket && !socket_process_.running())
            socket_process_ = process(arguments({"-s", unix_socket_path().string()}), dir_.path() / "memcached-unix.log");
        const bool up = eventually([&] { return !process_.running() || answers(); }, options_.start_deadline);
        if (!up || !process_.running()) {
            std::string log = process_.log();
            process_.stop();
            throw std::runtime_error("memcached_server: port " + std::to_string(port_) + " did not come up; log:\n" + log);
        }
        if (options_.unix_socket &&
            !eventually([&] { return std::filesystem::exists(unix_socket_path()); }, options_.start_deadline))
            throw std::runtime_error("memcached_server: the Unix socket did not appear");
    }

    /// Stops the server (SIGTERM, SIGKILL after 5 s): everything it held is gone.
    void stop() noexcept {
        client_.reset();
        process_.stop();
        socket_process_.stop();
    }
    /// Kills the server abruptly (SIGKILL), like a crash.
    void kill() noexcept {
        client_.reset();
        process_.kill();
    }
    void restart() {
        stop();
        start();
    }
    [[nodiscard]] bool running() { return process_.running(); }

    /// One raw text command on the assertion connection (see memcached_text_client::command).
    std::string command(std::string_view line, std::string_view terminator = {}) {
        if (!client_) client_ = std::make_unique<memcached_text_client>(port_);
        return client_->command(line, terminator);
    }
    /// Empties the server.
    void flush() {
        if (command("flush_all") != "OK\r\n") throw std::runtime_error("memcached_server: flush_all failed");
    }
    /// A number of `stats` (e.g. "curr_connections", "cmd_get").
    long long stat(std::string_view name) {
        const std::string all = command("stats", "END");
        const std::string needle = "STAT " + std::string(name) + " ";
        const auto at = all.find(needle);
        if (at == std::string::npos) throw std::runtime_error("memcached_server: no stat " + std::string(name));
        return std::stoll(all.substr(at + needle.size()));
    }

private:
    std::vector<std::string> arguments(std::vector<std::string> where) const {
        std::vector<std::string> argv{"memcached", "-U", "0", "-m", std::to_string(options_.memory_mb), "-I",
                                      options_.item_size_max};
        if (options_.no_eviction) argv.push_back("-M");
        if (!options_.tls_cert.empty())
            argv.insert(argv.end(), {"-Z", "-o", "ssl_chain_cert=" + options_.tls_cert + ",ssl_key=" + options_.tls_key});
        if (::geteuid() == 0) argv.insert(argv.end(), {"-u", "root"});  // memcached refuses root without -u
        argv.insert(argv.end(), where.begin(), where.end());
        return argv;
    }

    bool answers() {
        if (!options_.tls_cert.empty()) return accepts();
        try {
            memcached_text_client probe(port_);
            return probe.command("version").starts_with("VERSION ");
        } catch (const std::exception&) {
            return false;
        }
    }

    bool accepts() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port_);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
        ::close(fd);
        return ok;
    }

    memcached_server_options options_;
    temp_directory dir_;
    std::uint16_t port_ = 0;
    process process_;
    process socket_process_;
    std::unique_ptr<memcached_text_client> client_;
};

}  // namespace hotstate::testing
