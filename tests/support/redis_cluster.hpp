// A Redis Cluster owned by a test: 3 masters and 3 replicas (configurable), each
// a redis-server with cluster-enabled yes on free loopback ports (client and
// bus port both picked, so no port + 10000 clash), joined with
// `redis-cli --cluster create ... --cluster-replicas N --cluster-yes`, and
// waited for (with a deadline) until every node reports cluster_state:ok and
// agrees on who serves all 16384 slots. Every process dies with the object.
//
//   hotstate::testing::redis_cluster cluster;          // 6 nodes
//   cluster.seed_urls();                               // {"redis://127.0.0.1:P1", ...}
//   cluster.node_for_slot(1234).command({"GET", k});   // raw hiredis on the owner
//   cluster.master_of_slot(1234)->kill();              // SIGKILL a master
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace hotstate::testing {

/// What a test wants of its cluster.
struct redis_cluster_options {
    std::size_t masters = 3;
    std::size_t replicas_per_master = 1;
    /// cluster-node-timeout: how soon a dead master is noticed (and failed over).
    std::chrono::milliseconds node_timeout{1000};
    /// Password of every node's default user (requirepass and masterauth); empty: none.
    std::string requirepass;
    /// Further redis.conf lines for every node.
    std::vector<std::string> extra_config;
    /// How long creation may take before the test fails.
    std::chrono::milliseconds create_deadline{60000};
    /// TLS: with a server certificate and key (and the CA that signed them),
    /// every node also listens on a TLS port, the cluster bus and replication
    /// speak TLS (`tls-cluster yes`, `tls-replication yes`), and the cluster is
    /// created over TLS. Clients on the TLS ports learn TLS ports (CLUSTER
    /// SLOTS answers by the connection's kind); the fixture's own raw commands
    /// keep using the plain ports.
    struct tls_files {
        std::string ca_file;
        std::string cert_file;
        std::string key_file;
        /// The certificate a node presents when it connects to another (the
        /// bus authenticates both ends, and a serverAuth-only certificate will
        /// not do as a client's).
        std::string client_cert_file;
        std::string client_key_file;
    };
    std::optional<tls_files> tls{};
};

/// A running Redis Cluster on loopback.
class redis_cluster {
public:
    explicit redis_cluster(redis_cluster_options options = {}) : options_(std::move(options)) {
        const std::size_t total = options_.masters * (1 + options_.replicas_per_master);
        for (std::size_t i = 0; i < total; ++i) {
            redis_server_options node;
            node.extra_config = {"cluster-enabled yes",
                                 "cluster-config-file nodes.conf",
                                 "cluster-port " + std::to_string(free_port()),
                                 "cluster-node-timeout " + std::to_string(options_.node_timeout.count()),
                                 "cluster-replica-validity-factor 0",
                                 "cluster-allow-replica-migration no",
                                 "repl-diskless-sync-delay 0",
                                 "appendonly no"};
            if (!options_.requirepass.empty()) {
                node.requirepass = options_.requirepass;
                node.extra_config.push_back("masterauth " + options_.requirepass);
            }
            if (options_.tls) {
                tls_ports_.push_back(free_port());
                node.extra_config.insert(node.extra_config.end(),
                                         {"tls-port " + std::to_string(tls_ports_.back()),
                                          "tls-cert-file " + options_.tls->cert_file,
                                          "tls-key-file " + options_.tls->key_file,
                                          "tls-ca-cert-file " + options_.tls->ca_file, "tls-auth-clients no",
                                          "tls-client-cert-file " + options_.tls->client_cert_file,
                                          "tls-client-key-file " + options_.tls->client_key_file,
                                          "tls-cluster yes", "tls-replication yes"});
            }
            node.extra_config.insert(node.extra_config.end(), options_.extra_config.begin(),
                                     options_.extra_config.end());
            nodes_.push_back(std::make_unique<redis_server>(std::move(node)));
        }
        create();
    }

    redis_cluster(const redis_cluster&) = delete;
    redis_cluster& operator=(const redis_cluster&) = delete;

    /// Every node, in creation order (the first `masters` started as masters).
    [[nodiscard]] std::vector<std::unique_ptr<redis_server>>& nodes() noexcept { return nodes_; }
    [[nodiscard]] redis_server& node(std::size_t i) { return *nodes_.at(i); }

    /// "redis://127.0.0.1:P" of every node: the seed list a client is given
    /// ("rediss://127.0.0.1:TLS_PORT" for a TLS cluster).
    [[nodiscard]] std::vector<std::string> seed_urls() const {
        std::vector<std::string> urls;
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            urls.push_back(options_.tls ? "rediss://127.0.0.1:" + std::to_string(tls_ports_[i]) : nodes_[i]->url());
        return urls;
    }
    /// The TLS port of node `i` (a TLS cluster only).
    [[nodiscard]] std::uint16_t tls_port(std::size_t i) const { return tls_ports_.at(i); }

    /// The node serving `slot` as master now (asked of a live node), or nullptr.
    [[nodiscard]] redis_server* master_of_slot(std::uint16_t slot) {
        for (auto& asker : nodes_) {
            if (!asker->running()) continue;
            try {
                auto reply = asker->command({"CLUSTER", "SLOTS"});
                if (reply->type != REDIS_REPLY_ARRAY) continue;
                for (std::size_t i = 0; i < reply->elements; ++i) {
                    const redisReply* range = reply->element[i];
                    if (slot < range->element[0]->integer || slot > range->element[1]->integer) continue;
                    return by_port(static_cast<std::uint16_t>(range->element[2]->element[1]->integer));
                }
            } catch (const std::exception&) {
                // a node that went away between running() and the command: ask another
            }
        }
        return nullptr;
    }

    /// The node serving `key`'s slot as master (CLUSTER KEYSLOT asked of a live node).
    [[nodiscard]] redis_server* master_of_key(std::string_view key) {
        return master_of_slot(static_cast<std::uint16_t>(any_live().command({"CLUSTER", "KEYSLOT", key})->integer));
    }

    /// A running node (for raw commands that any node answers).
    [[nodiscard]] redis_server& any_live() {
        for (auto& n : nodes_)
            if (n->running()) return *n;
        throw std::runtime_error("redis_cluster: no node is running");
    }

    /// The node listening on `port`, or nullptr.
    [[nodiscard]] redis_server* by_port(std::uint16_t port) {
        for (auto& n : nodes_)
            if (n->port() == port) return n.get();
        return nullptr;
    }

    /// Whether every running node says cluster_state:ok and maps all slots the
    /// same way.
    [[nodiscard]] bool healthy() {
        std::optional<std::string> reference;
        for (auto& n : nodes_) {
            if (!n->running()) continue;
            try {
                auto info = n->command({"CLUSTER", "INFO"});
                if (info->type != REDIS_REPLY_STRING ||
                    std::string_view(info->str, info->len).find("cluster_state:ok") == std::string_view::npos)
                    return false;
                auto slots = n->command({"CLUSTER", "SLOTS"});
                const std::string summary = summarise(slots.get());
                if (summary.empty()) return false;
                if (!reference) reference = summary;
                if (*reference != summary) return false;
            } catch (const std::exception&) {
                return false;
            }
        }
        return reference.has_value();
    }

    /// Waits (with a deadline) until healthy(); false when it did not happen.
    bool wait_healthy(std::chrono::milliseconds deadline = std::chrono::seconds{30}) {
        return eventually([&] { return healthy(); }, deadline);
    }

    /// Runs redis-cli with `args` (and the password, if any) to completion
    /// (deadline), returning its exit status and output.
    struct cli_result {
        int status = -1;
        std::string output;
    };
    cli_result run_cli(std::vector<std::string> args, std::chrono::milliseconds deadline = std::chrono::seconds{60}) {
        if (!options_.requirepass.empty())
            args.insert(args.begin(), {"-a", options_.requirepass, "--no-auth-warning"});
        if (options_.tls) args.insert(args.begin(), {"--tls", "--cacert", options_.tls->ca_file});
        args.insert(args.begin(), "redis-cli");
        const auto log = log_dir_.path() / ("cli-" + std::to_string(++cli_runs_) + ".log");
        process cli(std::move(args), log);
        const bool finished = eventually([&] { return !cli.running(); }, deadline);
        cli_result result;
        if (!finished) {
            cli.kill();
            result.output = cli.log();
            return result;
        }
        const auto status = cli.exit_status();
        result.status = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
        result.output = cli.log();
        return result;
    }

    /// "127.0.0.1:P" of node `i` (what redis-cli --cluster takes).
    [[nodiscard]] std::string address(std::size_t i) const { return nodes_.at(i)->address(); }

    /// The node id (CLUSTER MYID) of node `i`.
    [[nodiscard]] std::string node_id(std::size_t i) {
        auto reply = nodes_.at(i)->command({"CLUSTER", "MYID"});
        return std::string(reply->str, reply->len);
    }

    /// Whether every replica has a live replication link to its master.
    [[nodiscard]] bool replicas_attached() {
        std::size_t connected = 0;
        for (auto& n : nodes_) {
            if (!n->running()) continue;
            auto info = n->command({"INFO", "replication"});
            const std::string_view text(info->str, info->len);
            if (text.find("role:slave") != std::string_view::npos &&
                text.find("master_link_status:up") != std::string_view::npos)
                ++connected;
        }
        return connected == options_.masters * options_.replicas_per_master;
    }

    /// Whether every running node's CLUSTER SLOTS lists every replica. Gossip
    /// spreads replica roles seconds after replication starts, so only tests
    /// that route reads to replicas wait for it.
    [[nodiscard]] bool replicas_known() {
        for (auto& n : nodes_) {
            if (!n->running()) continue;
            auto slots = n->command({"CLUSTER", "SLOTS"});
            if (slots->type != REDIS_REPLY_ARRAY) return false;
            for (std::size_t i = 0; i < slots->elements; ++i)
                if (slots->element[i]->elements - 3 != options_.replicas_per_master) return false;
        }
        return true;
    }

private:
    void create() {
        std::vector<std::string> args{"--cluster", "create"};
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            args.push_back(options_.tls ? "127.0.0.1:" + std::to_string(tls_ports_[i]) : nodes_[i]->address());
        args.insert(args.end(), {"--cluster-replicas", std::to_string(options_.replicas_per_master), "--cluster-yes"});
        const auto created = run_cli(std::move(args), options_.create_deadline);
        if (created.status != 0)
            throw std::runtime_error("redis_cluster: redis-cli --cluster create failed:\n" + created.output);
        // every replica must also be attached, or a failover test has nothing to promote
        const bool up = eventually([&] { return healthy() && replicas_attached(); }, options_.create_deadline);
        if (!up) throw std::runtime_error("redis_cluster: the cluster did not become healthy in time");
    }

    /// "first-last:port;..." of a CLUSTER SLOTS reply, sorted; empty when not
    /// covering every slot.
    static std::string summarise(const redisReply* slots) {
        if (slots == nullptr || slots->type != REDIS_REPLY_ARRAY) return {};
        std::vector<std::pair<long long, std::string>> ranges;
        long long covered = 0;
        for (std::size_t i = 0; i < slots->elements; ++i) {
            const redisReply* r = slots->element[i];
            covered += r->element[1]->integer - r->element[0]->integer + 1;
            ranges.emplace_back(r->element[0]->integer, std::to_string(r->element[0]->integer) + "-" +
                                                            std::to_string(r->element[1]->integer) + ":" +
                                                            std::to_string(r->element[2]->element[1]->integer));
        }
        if (covered != 16384) return {};
        std::sort(ranges.begin(), ranges.end());
        std::string out;
        for (const auto& r : ranges) out += r.second + ";";
        return out;
    }

    redis_cluster_options options_;
    temp_directory log_dir_{"hotstate-cluster"};
    std::vector<std::unique_ptr<redis_server>> nodes_;
    std::vector<std::uint16_t> tls_ports_;  // a TLS cluster: node i's TLS port
    int cli_runs_ = 0;
};

}  // namespace hotstate::testing
