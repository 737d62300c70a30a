// hotstate/doctor.hpp: checks a Redis deployment against what hotstate and
// the systems it serves (EmailEngine's documented requirements, Stalwart's
// in-memory store) need, and says PASS / WARN / FAIL with the measured value
// and the rule. The library side of the `hotstate-doctor` program.
//
//   auto report = hotstate::doctor::examine_url("redis://10.0.0.5:6379", {.mailboxes = 5000});
//   std::cout << report.table();
//   return report.exit_code();   // 0 pass, 1 warnings, 2 failures
//
// Per data node: server version (>= 6.0; >= 6.2 for GETDEL), maxmemory-policy
// (noeviction; volatile-* warns; allkeys-* fails), persistence (RDB or AOF;
// FAIL when queues are configured), tcp-keepalive (0 fails), round trip
// p50/p99 over a few hundred PINGs against 1 ms / 5 ms, memory used vs
// maxmemory (< 80 %), sizing for N mailboxes (1-2 MiB each, provisioned 2x),
// a sampled breakdown of keys and bytes by hotstate category, the ACL (every
// command hotstate sends: ACL DRYRUN, else a discarded MULTI; the list is the
// config loader's, detail/config/sent_commands.hpp, with the queues' and the
// coordinator transport's commands when options.queues / options.transport
// say they are configured), and the TLS certificate's expiry (within 30 days
// warns). The mode is detected: for a cluster every master and replica is
// checked and slot coverage verified from the slot map (CLUSTER SLOTS) and
// the doctor's own reach of each master, so a master that just died fails at
// once rather than after cluster-node-timeout; for Sentinel the quorum
// (SENTINEL CKQUORUM) and the replica count.
//
// Nothing is written to the servers: the ACL probe's commands are queued in a
// transaction and discarded, or only dry-run. Link hotstate::json.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <hotstate/detail/config/acl.hpp>
#include <hotstate/detail/config/reflect.hpp>
#include <hotstate/detail/config/transport_commands.hpp>
#include <hotstate/detail/config/validate.hpp>
#include <hotstate/detail/doctor/probe.hpp>
#include <hotstate/detail/doctor/rules.hpp>
#include <hotstate/error.hpp>
#include <hotstate/queue.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::doctor {

/// What the doctor checks against, beyond the fixed rules.
struct options {
    /// Round trips measured per server.
    std::size_t pings = 300;
    /// Mailboxes the deployment serves: adds the sizing check (1-2 MiB each, provisioned 2x).
    std::optional<std::uint64_t> mailboxes{};
    /// Durable queues run on the deployment, with these options (load_queue_options,
    /// hotstate/config/queue.hpp): missing persistence fails instead of warning,
    /// and the ACL check covers the queues' commands.
    std::optional<queue_options> queues{};
    /// The coordinator's transport runs on the examined servers ("Default" in
    /// the coordinator object, or its own "Redis" server examined on its own):
    /// the ACL check covers its commands (PUBLISH/SUBSCRIBE, or XADD/XREAD/XINFO
    /// and the cursor key) on its channel or stream.
    std::variant<std::monostate, transports::redis_pubsub_options, transports::redis_streams_options> transport{};
    /// Keys sampled for the per-category breakdown.
    std::size_t sample_keys = 1000;
    /// Round-trip limits (median and 99th percentile).
    std::chrono::microseconds p50_limit{1000};
    /// See p50_limit.
    std::chrono::microseconds p99_limit{5000};
    /// A TLS certificate expiring sooner than this warns.
    std::chrono::seconds tls_warning{std::chrono::hours{24 * 30}};
};

/// Every check of a deployment.
struct report {
    /// "standalone", "cluster" or "sentinel".
    std::string mode;
    /// The lines, in the order they were checked.
    std::vector<check> checks;

    /// The worst verdict.
    [[nodiscard]] verdict overall() const noexcept {
        verdict worst = verdict::pass;
        for (const auto& line : checks)
            if (line.result > worst) worst = line.result;
        return worst;
    }
    /// 0 when everything passes, 1 with warnings, 2 with failures.
    [[nodiscard]] int exit_code() const noexcept { return static_cast<int>(overall()); }
    /// The lines that have verdict `v`.
    [[nodiscard]] std::vector<check> with(verdict v) const {
        std::vector<check> out;
        for (const auto& line : checks)
            if (line.result == v) out.push_back(line);
        return out;
    }
    /// The first line named `name` (for `server`, when given); nullptr when none.
    [[nodiscard]] const check* find(std::string_view name, std::string_view server = {}) const noexcept {
        for (const auto& line : checks)
            if (line.name == name && (server.empty() || line.server == server)) return &line;
        return nullptr;
    }

    /// An aligned text table: VERDICT, SERVER, CHECK, MEASURED, RULE, and a summary line.
    [[nodiscard]] std::string table() const {
        std::size_t widths[3] = {6, 5, 5};
        for (const auto& line : checks) {
            widths[0] = std::max(widths[0], line.server.size());
            widths[1] = std::max(widths[1], line.name.size());
            widths[2] = std::max(widths[2], line.measured.size());
        }
        const auto pad = [](std::string text, std::size_t width) {
            text.resize(std::max(text.size(), width), ' ');
            return text;
        };
        std::string out = "hotstate-doctor: " + mode + "\n" + pad("", 6) + pad("SERVER", widths[0]) + "  " +
                          pad("CHECK", widths[1]) + "  " + pad("MEASURED", widths[2]) + "  RULE\n";
        for (const auto& line : checks)
            out += std::string(to_string(line.result)) + "  " + pad(line.server.empty() ? "-" : line.server, widths[0]) +
                   "  " + pad(line.name, widths[1]) + "  " + pad(line.measured, widths[2]) + "  " + line.rule + "\n";
        out += std::to_string(with(verdict::pass).size()) + " passed, " + std::to_string(with(verdict::warn).size()) +
               " warnings, " + std::to_string(with(verdict::fail).size()) + " failures\n";
        return out;
    }

    /// The report as JSON: {"mode", "verdict", "exitCode", "checks": [{"server", "check", "verdict", "measured", "rule"}]}.
    [[nodiscard]] std::string json() const {
        detail::config::json out = detail::config::json::object();
        out["mode"] = mode;
        out["verdict"] = std::string(to_string(overall()));
        out["exitCode"] = exit_code();
        auto& lines = out["checks"] = detail::config::json::array();
        for (const auto& line : checks)
            lines.push_back({{"server", line.server},
                             {"check", line.name},
                             {"verdict", std::string(to_string(line.result))},
                             {"measured", line.measured},
                             {"rule", line.rule}});
        return out.dump(2) + "\n";
    }
};

}  // namespace hotstate::doctor

namespace hotstate::detail::doctor {

[[nodiscard]] inline node_rules rules_of(const hotstate::doctor::options& settings) {
    namespace cfg = hotstate::detail::config;
    cfg::capabilities sends{.queues = settings.queues, .transport = {}};
    std::visit(
        [&](const auto& transport) {
            if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(transport)>, std::monostate>)
                sends.transport = cfg::transport_use(transport);
        },
        settings.transport);
    return {settings.pings,     settings.mailboxes, std::move(sends),     settings.sample_keys,
            settings.p50_limit, settings.p99_limit, settings.tls_warning};
}

[[nodiscard]] inline hotstate::redis::connection_options connection_of(const hotstate::redis::node_settings& node) {
    return hotstate::detail::config::probe_options(node);
}

/// `settings` pointed at host:port (credentials, TLS and timeouts kept).
[[nodiscard]] inline hotstate::redis::endpoint at(hotstate::redis::endpoint where, std::string host, std::uint16_t port) {
    where.host = std::move(host);
    where.port = port;
    where.type = hotstate::redis::endpoint::kind::tcp;
    return where;
}

/// "ip:port@bus" or "ip:port" -> {ip, port}.
[[nodiscard]] inline std::optional<std::pair<std::string, std::uint16_t>> node_address(std::string_view text) {
    text = text.substr(0, text.find('@'));
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    unsigned port = 0;
    const auto digits = text.substr(colon + 1);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), port).ec != std::errc{} || port == 0 || port > 65535)
        return std::nullopt;
    return std::pair{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

}  // namespace hotstate::detail::doctor

namespace hotstate::doctor {

/// Checks one standalone server.
[[nodiscard]] inline report examine(const redis::config& settings, const options& settings_of_doctor = {}) {
    report out{.mode = "standalone", .checks = {}};
    redis::endpoint where;
    try {
        where = redis::resolve(settings);
    } catch (const error& failure) {
        out.checks.push_back({"", "configuration", verdict::fail, failure.message(), "a usable configuration"});
        return out;
    }
    out.checks.push_back({where.address(), "mode", verdict::pass, "standalone", "standalone, cluster or sentinel"});
    hotstate::detail::doctor::node_probe(where, detail::doctor::connection_of(settings.node),
                                         detail::doctor::rules_of(settings_of_doctor), out.checks)
        .run(hotstate::detail::config::server_role::standalone);
    return out;
}

/// Checks a Redis Cluster: slot coverage (CLUSTER SLOTS, and whether each
/// master answers now), then every master and replica CLUSTER NODES lists.
[[nodiscard]] inline report examine(const redis::cluster_config& settings, const options& settings_of_doctor = {}) {
    namespace d = hotstate::detail::doctor;
    report out{.mode = "cluster", .checks = {}};
    std::optional<redis::endpoint> template_endpoint;
    std::vector<std::pair<std::string, std::uint16_t>> nodes;
    std::vector<std::pair<std::string, std::uint16_t>> masters_to_reach;
    std::vector<d::slot_range> slot_map;
    std::string cluster_state;
    std::string roles;
    for (const auto& url : settings.urls) {
        try {
            const auto where = redis::resolve(redis::config{.url = url, .node = settings.node});
            if (!template_endpoint) template_endpoint = where;
            redis::connection c(where, detail::doctor::connection_of(settings.node));
            auto info = c.command("CLUSTER INFO", "CLUSTER", "INFO");
            auto listing = c.command("CLUSTER NODES", "CLUSTER", "NODES");
            auto slots = c.command("CLUSTER SLOTS", "CLUSTER", "SLOTS");
            if (info.is_error() || listing.is_error() || slots.is_error() || slots->type != REDIS_REPLY_ARRAY) continue;
            const auto fields = d::parse_info(info.text());
            const auto state = fields.find("cluster_state");
            cluster_state = state == fields.end() ? "unknown" : state->second;
            // [first, last, [ip, port, id, ...], replicas...] per range; an empty ip is the seed's
            for (std::size_t i = 0; i < slots->elements; ++i) {
                const redisReply* range = slots->element[i];
                if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 || range->element[2]->type != REDIS_REPLY_ARRAY ||
                    range->element[2]->elements < 2)
                    continue;
                const redisReply* master = range->element[2];
                std::string host(master->element[0]->str ? master->element[0]->str : "", master->element[0]->len);
                if (host.empty() || host == "?") host = where.host;
                const auto port = static_cast<std::uint16_t>(master->element[1]->integer);
                slot_map.push_back({static_cast<unsigned>(range->element[0]->integer),
                                    static_cast<unsigned>(range->element[1]->integer),
                                    detail::doctor::at(where, host, port).address()});
                const std::pair<std::string, std::uint16_t> node{host, port};
                if (std::find(masters_to_reach.begin(), masters_to_reach.end(), node) == masters_to_reach.end())
                    masters_to_reach.push_back(node);
            }
            std::size_t masters = 0;
            std::size_t replicas = 0;
            std::string_view text = listing.text();
            while (!text.empty()) {
                const auto end = text.find('\n');
                const std::string_view line = text.substr(0, end);
                text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
                // <id> <ip:port@bus> <flags> ...
                const auto first = line.find(' ');
                if (first == std::string_view::npos) continue;
                const auto second = line.find(' ', first + 1);
                const auto third = line.find(' ', second + 1);
                const auto address = detail::doctor::node_address(line.substr(first + 1, second - first - 1));
                const std::string_view flags = line.substr(second + 1, third - second - 1);
                if (!address) continue;
                (flags.find("master") != std::string_view::npos ? masters : replicas)++;
                nodes.push_back(*address);
            }
            roles = std::to_string(masters) + " masters, " + std::to_string(replicas) + " replicas";
            break;
        } catch (const error& failure) {
            out.checks.push_back({"", "seed", verdict::warn, failure.message(), "every seed URL reachable"});
        }
    }
    if (nodes.empty() || !template_endpoint) {
        out.checks.push_back({"", "mode", verdict::fail, "no seed answered CLUSTER NODES", "a reachable cluster"});
        return out;
    }
    out.checks.insert(out.checks.begin(), {"", "mode", verdict::pass, "cluster: " + roles, "standalone, cluster or sentinel"});
    // coverage from the slot map and the doctor's own reach: a master that
    // does not answer here loses its slots now, not when the cluster notices
    std::vector<std::string> unreachable;
    for (const auto& [host, port] : masters_to_reach) {
        const auto master = detail::doctor::at(*template_endpoint, host, port);
        try {
            redis::connection c(master, detail::doctor::connection_of(settings.node));
            if (c.command("PING", "PING").is_error()) unreachable.push_back(master.address());
        } catch (const error&) {
            unreachable.push_back(master.address());
        }
    }
    out.checks.insert(out.checks.begin() + 1, d::slot_coverage_rule(slot_map, unreachable, cluster_state));
    for (const auto& [host, port] : nodes)
        d::node_probe(detail::doctor::at(*template_endpoint, host, port), detail::doctor::connection_of(settings.node),
                      detail::doctor::rules_of(settings_of_doctor), out.checks)
            .run(hotstate::detail::config::server_role::cluster, settings.read_from_replicas);
    return out;
}

/// Checks a Sentinel deployment: each sentinel's quorum and replica count, then the master.
[[nodiscard]] inline report examine(const redis::sentinel_config& settings, const options& settings_of_doctor = {}) {
    namespace d = hotstate::detail::doctor;
    report out{.mode = "sentinel", .checks = {}};
    out.checks.push_back({"", "mode", verdict::pass, "sentinel: service " + settings.service_name,
                          "standalone, cluster or sentinel"});
    std::optional<std::pair<std::string, std::uint16_t>> master;
    for (const auto& url : settings.sentinel_urls) {
        redis::config sentinel{.url = url, .node = settings.node};
        sentinel.node.auth_username = settings.sentinel_username;
        sentinel.node.auth_secret = settings.sentinel_secret;
        sentinel.node.tls.enabled = false;
        std::string server = url;
        try {
            const auto where = redis::resolve(sentinel);
            server = where.address();
            redis::connection c(where, detail::doctor::connection_of(sentinel.node));
            auto quorum = c.command("SENTINEL CKQUORUM", "SENTINEL", "CKQUORUM", settings.service_name);
            out.checks.push_back({server, "sentinel quorum", quorum.is_error() ? verdict::fail : verdict::pass,
                                  hotstate::detail::config::reason_text(quorum.text()),
                                  "SENTINEL CKQUORUM: enough sentinels reachable to fail over"});
            auto state = c.command("SENTINEL MASTER", "SENTINEL", "MASTER", settings.service_name);
            if (!state.is_error() && state->type == REDIS_REPLY_ARRAY) {
                std::string replicas = "0";
                std::string address;
                std::string port;
                for (std::size_t i = 0; i + 1 < state->elements; i += 2) {
                    const std::string_view key(state->element[i]->str, state->element[i]->len);
                    const std::string value(state->element[i + 1]->str, state->element[i + 1]->len);
                    if (key == "num-slaves") replicas = value;
                    if (key == "ip") address = value;
                    if (key == "port") port = value;
                }
                out.checks.push_back({server, "replicas", replicas == "0" ? verdict::warn : verdict::pass,
                                      replicas + " replicas", "at least one replica to fail over to"});
                if (!master) master = detail::doctor::node_address(address + ":" + port);
            }
        } catch (const error& failure) {
            out.checks.push_back({server, "connect", verdict::fail, failure.message(), "every sentinel reachable"});
        }
    }
    if (!master) {
        out.checks.push_back({"", "master", verdict::fail, "no sentinel named the master", "a known master"});
        return out;
    }
    redis::endpoint where = redis::resolve(redis::config{.url = "redis://127.0.0.1", .node = settings.node});
    where.db = settings.db;
    d::node_probe(detail::doctor::at(where, master->first, master->second), detail::doctor::connection_of(settings.node),
                  detail::doctor::rules_of(settings_of_doctor), out.checks)
        .run(hotstate::detail::config::server_role::master);
    return out;
}

/// Checks the deployment behind one URL, detecting its mode (INFO server's
/// redis_mode): a cluster node leads to the whole cluster, a sentinel to every
/// master it monitors.
[[nodiscard]] inline report examine_url(const std::string& url, const options& settings_of_doctor = {}) {
    redis::config settings{.url = url};
    std::string mode = "standalone";
    std::vector<std::string> services;
    try {
        const auto where = redis::resolve(settings);
        redis::connection c(where, detail::doctor::connection_of(settings.node));
        auto info = c.command("INFO", "INFO", "server");
        if (!info.is_error()) {
            const auto fields = hotstate::detail::doctor::parse_info(info.text());
            if (const auto found = fields.find("redis_mode"); found != fields.end()) mode = found->second;
        }
        if (mode == "sentinel") {
            auto masters = c.command("SENTINEL MASTERS", "SENTINEL", "MASTERS");
            if (!masters.is_error() && masters->type == REDIS_REPLY_ARRAY)
                for (std::size_t m = 0; m < masters->elements; ++m) {
                    const redisReply* fields = masters->element[m];
                    for (std::size_t i = 0; i + 1 < fields->elements; i += 2)
                        if (std::string_view(fields->element[i]->str, fields->element[i]->len) == "name")
                            services.emplace_back(fields->element[i + 1]->str, fields->element[i + 1]->len);
                }
        }
    } catch (const error&) {
        // examine() reports the connection failure as a FAIL line
    }
    if (mode == "cluster") return examine(redis::cluster_config{.urls = {url}}, settings_of_doctor);
    if (mode == "sentinel") {
        report out{.mode = "sentinel", .checks = {}};
        for (const auto& service : services) {
            auto one = examine(redis::sentinel_config{.service_name = service, .sentinel_urls = {url}}, settings_of_doctor);
            out.checks.insert(out.checks.end(), one.checks.begin(), one.checks.end());
        }
        if (services.empty()) out.checks.push_back({"", "master", verdict::fail, "the sentinel monitors no master", "a monitored master"});
        return out;
    }
    return examine(settings, settings_of_doctor);
}

}  // namespace hotstate::doctor
