// A nats-server owned by a test: started on a free loopback port with
// JetStream enabled on a fresh temporary store directory (-js -sd), waited for
// until it logs that it is ready (with a deadline), stopped and its directory
// removed when the object dies. Restartable on the same port and store, so
// JetStream keeps its streams across a restart.
//
//   hotstate::testing::nats_server server;                           // open
//   hotstate::testing::nats_server secured({.user = "u", .password = "p"});
//   server.url();  server.stop(); server.start();  server.kill();
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/eventually.hpp"
#include "support/loopback.hpp"
#include "support/process.hpp"

namespace hotstate::testing {

/// Settings of a test nats-server.
struct nats_server_options {
    std::string user{};      ///< with password: --user/--pass
    std::string password{};
    std::string token{};     ///< --auth
    std::string tls_cert{};  ///< PEM files: --tls --tlscert --tlskey
    std::string tls_key{};
};

/// Starts nats-server with `argv` (logging to `log`) and waits until it says it is ready;
/// throws, with its log, if it does not within 20 s. What nats_server and nats_cluster share.
inline process launch_nats_server(const std::vector<std::string>& argv, const std::filesystem::path& log,
                                  std::uint16_t port) {
    process child(argv, log);
    const bool ready = eventually(
        [&] { return child.log().find("Server is ready") != std::string::npos || !child.running(); },
        std::chrono::seconds{20});
    if (!ready || !child.running())
        throw std::runtime_error("nats_server: nats-server did not start on port " + std::to_string(port) + ":\n" +
                                 child.log());
    return child;
}

/// A nats-server child process on 127.0.0.1 (see the banner).
class nats_server {
public:
    explicit nats_server(nats_server_options options = {})
        : options_(std::move(options)), port_(free_port()), dir_("hotstate-nats") {
        start();
    }

    /// Starts the server (again) on the same port and store; waits until it is ready.
    void start() {
        if (child_.running()) return;
        std::vector<std::string> argv{"nats-server", "-a",  "127.0.0.1", "-p", std::to_string(port_),
                                      "-js",         "-sd", (dir_.path() / "store").string()};
        if (!options_.user.empty()) argv.insert(argv.end(), {"--user", options_.user, "--pass", options_.password});
        if (!options_.token.empty()) argv.insert(argv.end(), {"--auth", options_.token});
        if (!options_.tls_cert.empty())
            argv.insert(argv.end(), {"--tls", "--tlscert", options_.tls_cert, "--tlskey", options_.tls_key});
        child_ = launch_nats_server(argv, dir_.path() / ("nats-" + std::to_string(++starts_) + ".log"), port_);
    }

    /// SIGTERM and wait.
    void stop() { child_.stop(); }
    /// SIGKILL: a crash.
    void kill() { child_.kill(); }
    /// Stops and starts again (same port, same JetStream store).
    void restart() {
        stop();
        start();
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::string url() const {
        return (options_.tls_cert.empty() ? "nats://" : "tls://") + address();
    }
    [[nodiscard]] process& child() noexcept { return child_; }

private:
    nats_server_options options_;
    std::uint16_t port_;
    temp_directory dir_;
    process child_;
    int starts_ = 0;
};

}  // namespace hotstate::testing
