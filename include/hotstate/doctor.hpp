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
// (only noeviction passes: every hotstate key has a TTL, so volatile-* evicts
// locks and tokens as allkeys-* does), persistence with the AOF's appendfsync
// shown (with queues configured only AOF + appendfsync always passes,
// everysec warns, no or RDB alone fails; without, neither RDB nor AOF warns),
// waitReplicas against the master's connected replicas (fewer fails: every
// enqueue would be refused), tcp-keepalive (0 fails), round trip p50/p99 over
// a few hundred PINGs against 1 ms / 5 ms, memory used vs maxmemory (< 80 %),
// sizing for N mailboxes (1-2 MiB each, provisioned 2x), a sampled breakdown
// of keys and bytes by hotstate category, the ACL (every command hotstate
// sends: ACL DRYRUN, else a discarded MULTI; the list is the config loader's,
// detail/config/sent_commands.hpp, with the queues' and the coordinator
// transport's commands when options.queues / options.transport say they are
// configured; a user who may not run ACL WHOAMI is named as configured), and
// the TLS certificate's expiry (within 30 days warns).
//
// The mode is detected, and must be a writable master: a replica as target
// fails ("read-only replica of host:port"), and a server that does not answer
// is mode "unknown", never a PASS. For a cluster every node CLUSTER NODES
// lists is checked (those it marks failed counted apart), slot coverage
// verified from the slot map (CLUSTER SLOTS) and the doctor's own reach of
// each master, so a master that just died fails at once rather than after
// cluster-node-timeout, and a master without a live replica (a promoted one
// after a failover) warns; for Sentinel the quorum (SENTINEL CKQUORUM), the
// replica count, and that the master named is not a replica.
//
// Every server is given the configuration's timeout (10 s for a URL) or
// options::timeout for connecting and for each command; a line that failed
// on a timeout states the one in use.
//
// A memcached server (a "Memcached" configuration, or a memcached:// URL) is
// examined for what the memcached backend needs: its version (1.6 or later:
// the meta protocol), its memory limit (-m; with options::mailboxes, enough
// for them), eviction (-M off: memcached evicts any item when full, a lock,
// a counter or a one-time token with it: warns), and the item size limit (-I:
// the largest value it stores; below 1 MiB warns), read from `stats settings`.
//
// Nothing is written to the servers: the ACL probe's commands are queued in a
// transaction and discarded, or only dry-run. Link hotstate::json.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/backends/memcached.hpp>
#include <hotstate/detail/config/acl.hpp>
#include <hotstate/detail/config/memcached_fields.hpp>
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
#include <hotstate/redis/tls.hpp>

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
    /// Bounds connecting and each command on every server examined; empty:
    /// the configuration's `timeout` (10 s for a URL). A line that failed on
    /// a timeout states the one in use.
    std::optional<std::chrono::milliseconds> timeout{};
};

/// Every check of a deployment.
struct report {
    /// "standalone", "cluster" or "sentinel" ("sharded" and "embedded" from a
    /// file); "unknown" when the server did not answer.
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

/// How the doctor connects to a node: the node's timeout bounds connecting
/// and each command, unless the doctor's options state their own.
[[nodiscard]] inline hotstate::redis::connection_options connection_of(const hotstate::redis::node_settings& node,
                                                                       const hotstate::doctor::options& settings) {
    auto options = hotstate::detail::config::probe_options(node);
    if (settings.timeout) options.connect_timeout = options.command_timeout = *settings.timeout;
    return options;
}

/// `settings` pointed at host:port (credentials, TLS and timeouts kept).
[[nodiscard]] inline hotstate::redis::endpoint at(hotstate::redis::endpoint where, std::string_view host, std::uint16_t port) {
    where.host = std::string(host);
    where.port = port;
    where.type = hotstate::redis::endpoint::kind::tcp;
    return where;
}

/// What every mode line checks: hotstate writes, so the server must be a master.
inline constexpr std::string_view mode_rule = "a writable master: standalone, cluster or sentinel";

/// The mode line of a standalone server, from what its probe learned.
[[nodiscard]] inline check standalone_mode(std::string server, const node_facts& facts) {
    if (!facts.reached) return {std::move(server), "mode", verdict::fail, "unknown: no answer", std::string(mode_rule)};
    if (facts.replica)
        return {std::move(server), "mode", verdict::fail, "read-only replica of " + facts.master,
                std::string(mode_rule) + " (a replica refuses every write and script: READONLY)"};
    return {std::move(server), "mode", verdict::pass, "standalone", std::string(mode_rule)};
}

}  // namespace hotstate::detail::doctor

namespace hotstate::doctor {

/// Checks one standalone server. The report's mode is "unknown" when it does not answer.
[[nodiscard]] inline report examine(const redis::config& settings, const options& settings_of_doctor = {}) {
    namespace d = hotstate::detail::doctor;
    report out{.mode = "standalone", .checks = {}};
    redis::endpoint where;
    try {
        where = redis::resolve(settings);
    } catch (const error& failure) {
        out.checks.push_back({"", "configuration", verdict::fail, failure.message(), "a usable configuration"});
        return out;
    }
    std::vector<check> lines;
    const auto facts = d::node_probe(where, d::connection_of(settings.node, settings_of_doctor), d::rules_of(settings_of_doctor), lines)
                           .run(hotstate::detail::config::server_role::standalone);
    if (!facts.reached) out.mode = "unknown";
    out.checks.push_back(d::standalone_mode(where.address(), facts));
    out.checks.insert(out.checks.end(), lines.begin(), lines.end());
    return out;
}

/// Checks a Redis Cluster: slot coverage (CLUSTER SLOTS, and whether each
/// master answers now), a replica for every master, then every node CLUSTER
/// NODES lists (the ones it marks failed are counted apart, and probed too).
[[nodiscard]] inline report examine(const redis::cluster_config& settings, const options& settings_of_doctor = {}) {
    namespace d = hotstate::detail::doctor;
    report out{.mode = "cluster", .checks = {}};
    const auto connection = d::connection_of(settings.node, settings_of_doctor);
    std::optional<redis::endpoint> template_endpoint;
    std::vector<d::cluster_node> nodes;
    std::vector<redis::endpoint> masters_to_reach;
    std::vector<d::slot_range> slot_map;
    std::string cluster_state;
    for (const auto& url : settings.urls) {
        try {
            const auto where = redis::resolve(redis::config{.url = url, .node = settings.node});
            if (!template_endpoint) template_endpoint = where;
            redis::connection c(where, connection);
            const auto info = c.command("CLUSTER INFO", "CLUSTER", "INFO");
            const auto listing = c.command("CLUSTER NODES", "CLUSTER", "NODES");
            const auto answer = c.command("CLUSTER SLOTS", "CLUSTER", "SLOTS");
            const redis::reply_view slots = answer;
            if (info.is_error() || listing.is_error() || !slots.is_array()) continue;
            const auto fields = d::parse_info(info.text());
            const auto state = fields.find("cluster_state");
            cluster_state = state == fields.end() ? "unknown" : state->second;
            // [first, last, [ip, port, id, ...], replicas...] per range; an empty ip is the seed's
            for (std::size_t i = 0; i < slots.size(); ++i) {
                const redis::reply_view range = slots[i];
                if (range.size() < 3 || range[2].size() < 2 || !range[0].is_integer() || !range[1].is_integer() ||
                    !range[2][1].is_integer())
                    continue;
                const redis::reply_view master = range[2];
                std::string_view host = master[0].is_string() ? master[0].text() : std::string_view{};
                if (host.empty() || host == "?") host = where.host;
                const auto node = d::at(where, host, static_cast<std::uint16_t>(master[1].integer()));
                slot_map.push_back({static_cast<unsigned>(range[0].integer()), static_cast<unsigned>(range[1].integer()),
                                    node.address()});
                if (std::find(masters_to_reach.begin(), masters_to_reach.end(), node) == masters_to_reach.end())
                    masters_to_reach.push_back(node);
            }
            nodes = d::parse_cluster_nodes(listing.text());
            break;
        } catch (const error& failure) {
            out.checks.push_back({"", "seed", verdict::warn, d::stated(failure, connection), "every seed URL reachable"});
        }
    }
    if (nodes.empty() || !template_endpoint) {
        out.checks.push_back({"", "mode", verdict::fail, "no seed answered CLUSTER NODES", std::string(d::mode_rule)});
        return out;
    }
    out.checks.insert(out.checks.begin(), {"", "mode", verdict::pass, "cluster: " + d::cluster_roles(nodes), std::string(d::mode_rule)});
    // coverage from the slot map and the doctor's own reach: a master that
    // does not answer here loses its slots now, not when the cluster notices
    std::vector<std::string> unreachable;
    for (const auto& master : masters_to_reach) {
        try {
            redis::connection c(master, connection);
            if (c.command("PING", "PING").is_error()) unreachable.push_back(master.address());
        } catch (const error&) {
            unreachable.push_back(master.address());
        }
    }
    out.checks.insert(out.checks.begin() + 1, d::slot_coverage_rule(slot_map, unreachable, cluster_state));
    out.checks.insert(out.checks.begin() + 2, d::replica_coverage_rule(d::masters_without_replica(nodes)));
    for (const auto& node : nodes)
        d::node_probe(d::at(*template_endpoint, node.host, node.port), connection, d::rules_of(settings_of_doctor), out.checks)
            .run(hotstate::detail::config::server_role::cluster, settings.read_from_replicas);
    return out;
}

/// Checks a Sentinel deployment: each sentinel's quorum and replica count,
/// then the master (which must not be a replica: a sentinel with a stale view
/// or a failover in progress).
[[nodiscard]] inline report examine(const redis::sentinel_config& settings, const options& settings_of_doctor = {}) {
    namespace d = hotstate::detail::doctor;
    report out{.mode = "sentinel", .checks = {}};
    out.checks.push_back({"", "mode", verdict::pass, "sentinel: service " + settings.service_name, std::string(d::mode_rule)});
    std::optional<std::pair<std::string, std::uint16_t>> master;
    for (const auto& url : settings.sentinel_urls) {
        redis::config sentinel{.url = url, .node = settings.node};
        sentinel.node.auth_username = settings.sentinel_username;
        sentinel.node.auth_secret = settings.sentinel_secret;
        sentinel.node.tls.enabled = false;
        std::string server = url;
        const auto connection = d::connection_of(sentinel.node, settings_of_doctor);
        try {
            const auto where = redis::resolve(sentinel);
            server = where.address();
            redis::connection c(where, connection);
            auto quorum = c.command("SENTINEL CKQUORUM", "SENTINEL", "CKQUORUM", settings.service_name);
            out.checks.push_back({server, "sentinel quorum", quorum.is_error() ? verdict::fail : verdict::pass,
                                  hotstate::detail::config::reason_text(quorum.text()),
                                  "SENTINEL CKQUORUM: enough sentinels reachable to fail over"});
            const auto answer = c.command("SENTINEL MASTER", "SENTINEL", "MASTER", settings.service_name);
            const redis::reply_view state = answer;
            if (state.is_array()) {
                std::string replicas = "0";
                std::string_view address;
                std::optional<std::uint16_t> port;
                for (std::size_t i = 0; i + 1 < state.size(); i += 2) {
                    const std::string_view key = state[i].text();
                    if (key == "num-slaves") replicas = std::string(state[i + 1].text());
                    if (key == "ip") address = state[i + 1].text();
                    if (key == "port") port = hotstate::detail::parse_decimal<std::uint16_t>(state[i + 1].text());
                }
                out.checks.push_back({server, "replicas", replicas == "0" ? verdict::warn : verdict::pass,
                                      replicas + " replicas", "at least one replica to fail over to"});
                if (!master && !address.empty() && port && *port != 0) master.emplace(std::string(address), *port);
            }
        } catch (const error& failure) {
            out.checks.push_back({server, "connect", verdict::fail, d::stated(failure, connection), "every sentinel reachable"});
        }
    }
    if (!master) {
        out.checks.push_back({"", "master", verdict::fail, "no sentinel named the master", "a known master"});
        return out;
    }
    redis::endpoint where = redis::resolve(redis::config{.url = "redis://127.0.0.1", .node = settings.node});
    where.db = settings.db;
    where = d::at(where, master->first, master->second);
    const auto facts = d::node_probe(where, d::connection_of(settings.node, settings_of_doctor), d::rules_of(settings_of_doctor),
                                     out.checks)
                           .run(hotstate::detail::config::server_role::master);
    if (facts.replica)
        out.checks.push_back({where.address(), "role", verdict::fail, "read-only replica of " + facts.master,
                              "the master the sentinels name accepts writes"});
    return out;
}

/// Checks memcached servers (mode "memcached", or "unknown" when none answers):
/// version, memory limit, eviction and item size limit of each (see the banner).
[[nodiscard]] inline report examine(const backends::memcached_config& settings, const options& settings_of_doctor = {}) {
    report out{.mode = "memcached", .checks = {}};
    redis::connection_options connection;
    connection.connect_timeout = connection.command_timeout = settings_of_doctor.timeout.value_or(settings.timeout);
    bool any_reached = false;
    for (const auto& url : settings.urls) {
        std::string server = url;
        try {
            const auto where = backends::memcached_endpoint(settings, url);
            server = where.address();
            hotstate::detail::memcached::connection c(hotstate::detail::redis::make_connector(where, connection), where,
                                                      connection);
            c.begin_request();
            const std::string version = c.version();
            c.begin_request();
            const auto settings_stats = c.stats("stats settings");
            any_reached = true;
            const auto stat = [&](std::string_view name) -> std::string {
                for (const auto& [key, value] : settings_stats)
                    if (key == name) return value;
                return "";
            };
            const bool meta = hotstate::detail::config::has_meta_protocol(version);
            out.checks.push_back({server, "version", meta ? verdict::pass : verdict::fail, version,
                                  ">= 1.6 (the meta protocol: mg, ms, md, ma)"});
            const auto max_bytes = hotstate::detail::parse_decimal<std::uint64_t>(stat("maxbytes")).value_or(0);
            constexpr std::uint64_t mib = 1024 * 1024;
            const std::string memory = std::to_string(max_bytes / mib) + " MiB";
            if (settings_of_doctor.mailboxes) {
                const std::uint64_t needed = *settings_of_doctor.mailboxes * 2 * mib;
                out.checks.push_back({server, "memory limit", max_bytes >= needed ? verdict::pass : verdict::warn,
                                      memory, "-m: at least " + std::to_string(needed / mib) + " MiB for " +
                                                  std::to_string(*settings_of_doctor.mailboxes) +
                                                  " mailboxes (1-2 MiB each)"});
            } else {
                out.checks.push_back({server, "memory limit", verdict::pass, memory, "-m: shown for sizing"});
            }
            const std::string evictions = stat("evictions");
            out.checks.push_back({server, "eviction", evictions == "off" ? verdict::pass : verdict::warn,
                                  evictions == "off" ? "off (-M)" : "on",
                                  "off (-M): when full, memcached evicts any item, a lock, a counter or a one-time "
                                  "token among them"});
            const auto item_max = hotstate::detail::parse_decimal<std::uint64_t>(stat("item_size_max")).value_or(0);
            out.checks.push_back({server, "item size limit", item_max >= mib ? verdict::pass : verdict::warn,
                                  std::to_string(item_max / 1024) + " KiB",
                                  "-I: at least 1 MiB (a larger value is refused: errc::invalid_argument)"});
        } catch (const error& failure) {
            out.checks.push_back({server, "connect", verdict::fail, failure.message(), "every memcached server reachable"});
        }
    }
    if (!any_reached) out.mode = "unknown";
    return out;
}

/// Checks the deployment behind one URL, detecting its mode (memcached:// is
/// a memcached server; otherwise INFO server's redis_mode): a cluster node leads to the whole cluster, a sentinel to every
/// master it monitors. A server that does not answer is waited for once (the
/// timeout: the URL's default 10 s, or options::timeout) and reported with
/// the mode "unknown".
[[nodiscard]] inline report examine_url(const std::string& url, const options& settings_of_doctor = {}) {
    namespace d = hotstate::detail::doctor;
    if (url.starts_with("memcached://") || url.starts_with("memcacheds://"))
        return examine(backends::memcached_config{.urls = {url}}, settings_of_doctor);
    const redis::config settings{.url = url};
    redis::endpoint where;
    try {
        where = redis::resolve(settings);
    } catch (const error&) {
        return examine(settings, settings_of_doctor);  // reports the configuration error
    }
    std::string mode = "standalone";
    std::vector<std::string> services;
    const auto connection = d::connection_of(settings.node, settings_of_doctor);
    try {
        redis::connection c(where, connection);
        auto info = c.command("INFO", "INFO", "server");
        if (!info.is_error()) {
            const auto fields = d::parse_info(info.text());
            if (const auto found = fields.find("redis_mode"); found != fields.end()) mode = found->second;
        }
        if (mode == "sentinel") {
            const auto answer = c.command("SENTINEL MASTERS", "SENTINEL", "MASTERS");
            const redis::reply_view masters = answer;
            for (std::size_t m = 0; m < masters.size(); ++m)
                for (std::size_t i = 0; i + 1 < masters[m].size(); i += 2)
                    if (masters[m][i].text() == "name") services.emplace_back(masters[m][i + 1].text());
        }
    } catch (const error& failure) {
        // the failure is the report: connecting again to examine would wait as long once more
        report out{.mode = "unknown", .checks = {}};
        std::vector<check> lines;
        d::node_probe(where, connection, d::rules_of(settings_of_doctor), lines).unreachable(failure);
        out.checks.push_back(d::standalone_mode(where.address(), d::node_facts{}));
        out.checks.insert(out.checks.end(), lines.begin(), lines.end());
        return out;
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
