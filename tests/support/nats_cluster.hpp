// Three nats-servers owned by a test, clustered with JetStream: each on free
// loopback ports (clients and cluster routes), with its own server name
// ("n0", "n1", "n2") and its own store directory, routes to the two others.
// The constructor waits until every server is ready and the cluster has
// elected its JetStream metadata leader, so an R3 stream can be made at once.
// One server can be SIGKILLed and started again on the same ports and store:
// it rejoins the cluster and catches up.
//
//   hotstate::testing::nats_cluster cluster;
//   settings.url = cluster.url();          // all three, comma separated
//   cluster.kill(cluster.index_of("n1"));  cluster.start(1);
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/eventually.hpp"
#include "support/loopback.hpp"
#include "support/nats_server.hpp"
#include "support/process.hpp"

namespace hotstate::testing {

/// Three clustered nats-servers with JetStream on 127.0.0.1 (see the banner).
class nats_cluster {
public:
    /// Servers in the cluster.
    static constexpr std::size_t size = 3;

    nats_cluster() : dir_("hotstate-nats-cluster") {
        for (auto& server : servers_) {
            server.client_port = free_port();
            server.route_port = free_port();
        }
        for (std::size_t i = 0; i < size; ++i) start(i);
        const bool led = eventually(
            [&] {
                for (auto& server : servers_)
                    if (server.child.log().find("metadata leader") != std::string::npos) return true;
                return false;
            },
            std::chrono::seconds{30});
        if (!led) throw std::runtime_error("nats_cluster: no JetStream metadata leader elected:\n" + servers_[0].child.log());
    }

    /// Starts server `i` (again): same ports, same store; waits until it is ready.
    void start(std::size_t i) {
        member& n = servers_.at(i);
        if (n.child.running()) return;
        std::string routes;
        for (std::size_t j = 0; j < size; ++j) {
            if (j == i) continue;
            if (!routes.empty()) routes += ',';
            routes += "nats://127.0.0.1:" + std::to_string(servers_[j].route_port);
        }
        const std::vector<std::string> argv{"nats-server",
                                            "-a", "127.0.0.1",
                                            "-p", std::to_string(n.client_port),
                                            "-n", name(i),
                                            "-js", "-sd", (dir_.path() / name(i)).string(),
                                            "--cluster_name", "hotstate",
                                            "--cluster", "nats://127.0.0.1:" + std::to_string(n.route_port),
                                            "--routes", routes};
        n.child = launch_nats_server(argv, dir_.path() / (name(i) + "-" + std::to_string(++n.starts) + ".log"),
                                     n.client_port);
    }

    /// SIGKILL of server `i`: a crash.
    void kill(std::size_t i) { servers_.at(i).child.kill(); }

    /// Whether server `i` runs.
    [[nodiscard]] bool running(std::size_t i) { return servers_.at(i).child.running(); }

    /// The server name of server `i` ("n0", "n1", "n2"), as JetStream's cluster info names it.
    [[nodiscard]] static std::string name(std::size_t i) { return "n" + std::to_string(i); }

    /// The index of the server JetStream calls `server_name`; size when none is.
    [[nodiscard]] static std::size_t index_of(std::string_view server_name) {
        for (std::size_t i = 0; i < size; ++i)
            if (server_name == name(i)) return i;
        return size;
    }

    /// The client URL of server `i`.
    [[nodiscard]] std::string url(std::size_t i) const {
        return "nats://127.0.0.1:" + std::to_string(servers_.at(i).client_port);
    }

    /// Every server's client URL, comma separated (nats_settings::url).
    [[nodiscard]] std::string url() const {
        std::string all;
        for (std::size_t i = 0; i < size; ++i) all += (i ? "," : "") + url(i);
        return all;
    }

    /// The log of server `i`'s current run.
    [[nodiscard]] std::string log(std::size_t i) { return servers_.at(i).child.log(); }

private:
    struct member {
        std::uint16_t client_port = 0;
        std::uint16_t route_port = 0;
        process child;
        int starts = 0;
    };

    temp_directory dir_;
    std::array<member, size> servers_{};
};

}  // namespace hotstate::testing
