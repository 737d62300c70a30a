// A Redis Sentinel setup owned by a test: one master, one replica and three
// sentinels (quorum 2) on free loopback ports, with a short
// down-after-milliseconds so a killed master is failed over in seconds.
// Waits (with a deadline) until the replica is in sync and every sentinel
// knows the replica and the other two sentinels. Every process dies with it.
//
//   hotstate::testing::redis_sentinel setup;
//   setup.sentinel_urls();         // {"redis://127.0.0.1:P1", ...}
//   setup.master_port();           // what the sentinels say now
//   setup.master().kill();         // SIGKILL the first master
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace hotstate::testing {

/// What a test wants of its sentinel setup.
struct redis_sentinel_options {
    std::string service_name = "hotstate";
    /// sentinel down-after-milliseconds: how soon a dead master is noticed.
    std::chrono::milliseconds down_after{1000};
    /// sentinel failover-timeout.
    std::chrono::milliseconds failover_timeout{10000};
    /// Password of the data servers' default user (requirepass and masterauth); empty: none.
    std::string requirepass;
    /// Password of the sentinels' default user; empty: none.
    std::string sentinel_pass;
    std::chrono::milliseconds start_deadline{30000};
    /// TLS: with a server certificate and key (and the CA that signed them),
    /// the data servers and the sentinels also listen on TLS ports, the
    /// replica replicates over TLS, and the sentinels monitor the master's TLS
    /// port over TLS (`tls-replication yes`), so they name TLS ports. The
    /// fixture's own raw commands keep using the plain ports.
    struct tls_files {
        std::string ca_file;
        std::string cert_file;
        std::string key_file;
    };
    std::optional<tls_files> tls{};
};

/// A master, a replica and three sentinels on loopback.
class redis_sentinel {
public:
    explicit redis_sentinel(redis_sentinel_options options = {}) : options_(std::move(options)) {
        const auto tls_lines = [&](std::uint16_t port) -> std::vector<std::string> {
            if (!options_.tls) return {};
            return {"tls-port " + std::to_string(port), "tls-cert-file " + options_.tls->cert_file,
                    "tls-key-file " + options_.tls->key_file, "tls-ca-cert-file " + options_.tls->ca_file,
                    "tls-auth-clients no", "tls-replication yes"};
        };
        redis_server_options data;
        data.requirepass = options_.requirepass;
        data.extra_config = {"repl-diskless-sync-delay 0", "appendonly no"};
        if (!options_.requirepass.empty()) data.extra_config.push_back("masterauth " + options_.requirepass);
        std::vector<std::string> plain_lines = data.extra_config;
        for (int i = 0; i < 2; ++i) {
            data.extra_config = plain_lines;
            if (options_.tls) {
                tls_ports_.push_back(free_port());
                for (auto& line : tls_lines(tls_ports_.back())) data.extra_config.push_back(line);
            }
            if (i == 1) data.extra_config.push_back("replicaof 127.0.0.1 " + std::to_string(monitored_port(0)));
            servers_.push_back(std::make_unique<redis_server>(data));
        }

        for (int i = 0; i < 3; ++i) {
            redis_server_options sentinel;
            sentinel.executable = "redis-sentinel";
            sentinel.requirepass = options_.sentinel_pass;
            const std::string& name = options_.service_name;
            sentinel.extra_config = {
                "sentinel monitor " + name + " 127.0.0.1 " + std::to_string(monitored_port(0)) + " 2",
                "sentinel down-after-milliseconds " + name + " " + std::to_string(options_.down_after.count()),
                "sentinel failover-timeout " + name + " " + std::to_string(options_.failover_timeout.count()),
                "sentinel parallel-syncs " + name + " 1",
            };
            if (!options_.requirepass.empty())
                sentinel.extra_config.push_back("sentinel auth-pass " + name + " " + options_.requirepass);
            if (!options_.sentinel_pass.empty())
                sentinel.extra_config.push_back("sentinel sentinel-pass " + options_.sentinel_pass);
            if (options_.tls) {
                sentinel_tls_ports_.push_back(free_port());
                for (auto& line : tls_lines(sentinel_tls_ports_.back())) sentinel.extra_config.push_back(line);
            }
            sentinels_.push_back(std::make_unique<redis_server>(sentinel));
        }
        if (!eventually([&] { return ready(); }, options_.start_deadline))
            throw std::runtime_error("redis_sentinel: the setup did not settle in time");
    }

    redis_sentinel(const redis_sentinel&) = delete;
    redis_sentinel& operator=(const redis_sentinel&) = delete;

    [[nodiscard]] const std::string& service_name() const noexcept { return options_.service_name; }
    /// The server that started as master.
    [[nodiscard]] redis_server& master() { return *servers_[0]; }
    /// The server that started as replica.
    [[nodiscard]] redis_server& replica() { return *servers_[1]; }
    [[nodiscard]] std::vector<std::unique_ptr<redis_server>>& sentinels() noexcept { return sentinels_; }

    /// "redis://127.0.0.1:P" of every sentinel ("rediss://127.0.0.1:TLS_PORT" with TLS).
    [[nodiscard]] std::vector<std::string> sentinel_urls() const {
        std::vector<std::string> urls;
        for (std::size_t i = 0; i < sentinels_.size(); ++i)
            urls.push_back(options_.tls ? "rediss://127.0.0.1:" + std::to_string(sentinel_tls_ports_[i])
                                        : sentinels_[i]->url());
        return urls;
    }

    /// The master port a live sentinel names now (0 when none answers).
    [[nodiscard]] std::uint16_t master_port() {
        for (auto& s : sentinels_)
            if (const auto port = master_port_named_by(*s)) return port;
        return 0;
    }

    /// Whether every live sentinel names `port` as the master (a failover is
    /// over everywhere, not only at its leader).
    [[nodiscard]] bool sentinels_agree_on(std::uint16_t port) {
        for (auto& s : sentinels_)
            if (s->running() && master_port_named_by(*s) != port) return false;
        return true;
    }

    /// The data server (master or replica) on `port`, or nullptr.
    [[nodiscard]] redis_server* server_on(std::uint16_t port) {
        for (std::size_t i = 0; i < servers_.size(); ++i)
            if (servers_[i]->port() == port || monitored_port(i) == port) return servers_[i].get();
        return nullptr;
    }

private:
    /// The master port `sentinel` names (0 when it is down or does not answer).
    [[nodiscard]] std::uint16_t master_port_named_by(redis_server& sentinel) {
        if (!sentinel.running()) return 0;
        try {
            auto reply = sentinel.command({"SENTINEL", "get-master-addr-by-name", options_.service_name});
            if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
                return static_cast<std::uint16_t>(std::stoi(std::string(reply->element[1]->str, reply->element[1]->len)));
        } catch (const std::exception&) {
            // down, or not answering yet
        }
        return 0;
    }

    /// The port data server `i` is known by (its TLS port in a TLS setup).
    [[nodiscard]] std::uint16_t monitored_port(std::size_t i) const {
        return options_.tls ? tls_ports_.at(i) : servers_.at(i)->port();
    }

    bool ready() {
        auto info = servers_[1]->command({"INFO", "replication"});
        if (std::string_view(info->str, info->len).find("master_link_status:up") == std::string_view::npos) return false;
        for (auto& s : sentinels_) {
            auto replicas = s->command({"SENTINEL", "REPLICAS", options_.service_name});
            auto peers = s->command({"SENTINEL", "SENTINELS", options_.service_name});
            if (replicas->type != REDIS_REPLY_ARRAY || replicas->elements != 1) return false;
            if (peers->type != REDIS_REPLY_ARRAY || peers->elements != 2) return false;
        }
        return true;
    }

    redis_sentinel_options options_;
    std::vector<std::unique_ptr<redis_server>> servers_;
    std::vector<std::unique_ptr<redis_server>> sentinels_;
    std::vector<std::uint16_t> tls_ports_;           // TLS setup: the data servers' TLS ports
    std::vector<std::uint16_t> sentinel_tls_ports_;  // TLS setup: the sentinels' TLS ports
};

}  // namespace hotstate::testing
