// hotstate/detail/doctor/probe.hpp: what the doctor asks one server, over
// hotstate's own connection (redis/connection.hpp, public API only, replies
// read as reply_view), and the checks it derives with rules.hpp. Every
// failure to ask becomes a FAIL line rather than an exception, so one dead
// node does not hide the others.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/categories.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/config/acl.hpp>
#include <hotstate/detail/config/text.hpp>
#include <hotstate/detail/doctor/rules.hpp>
#include <hotstate/detail/doctor/tls_expiry.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::doctor {

/// What the checks of one data node need to know (doctor_options, unpacked).
struct node_rules {
    std::size_t pings = 300;
    std::optional<std::uint64_t> mailboxes;
    /// What is configured besides the store (queues, the coordinator's transport):
    /// the persistence rule and the ACL check follow it.
    config::capabilities sends;
    std::size_t sample_keys = 1000;
    std::chrono::microseconds p50_limit{1000};
    std::chrono::microseconds p99_limit{5000};
    std::chrono::seconds tls_warning{std::chrono::hours{24 * 30}};
};

/// The stock categories by prefix byte (hotstate/categories.hpp).
[[nodiscard]] inline std::string_view category_name(unsigned char prefix) {
    namespace c = ::hotstate::categories;
    switch (prefix) {
        case c::acme::id: return c::acme::name;
        case c::oauth::id: return c::oauth::name;
        case c::rate_limit_rcpt::id: return c::rate_limit_rcpt::name;
        case c::rate_limit_scan::id: return c::rate_limit_scan::name;
        case c::rate_limit_loiter::id: return c::rate_limit_loiter::name;
        case c::rate_limit_auth::id: return c::rate_limit_auth::name;
        case c::rate_limit_smtp::id: return c::rate_limit_smtp::name;
        case c::rate_limit_contact::id: return c::rate_limit_contact::name;
        case c::rate_limit_http_authenticated::id: return c::rate_limit_http_authenticated::name;
        case c::rate_limit_http_anonymous::id: return c::rate_limit_http_anonymous::name;
        case c::rate_limit_imap::id: return c::rate_limit_imap::name;
        case c::quota_blob::id: return c::quota_blob::name;
        case c::greylist::id: return c::greylist::name;
        case c::lock_queue_message::id: return c::lock_queue_message::name;
        case c::lock_task::id: return c::lock_task::name;
        case c::lock_dav::id: return c::lock_dav::name;
        case c::sieve_id::id: return c::sieve_id::name;
        default: return {};
    }
}

/// The category a key belongs to: its prefix byte (after '{' when hash-tagged).
[[nodiscard]] inline std::string key_category(std::string_view key) {
    if (key.size() > 1 && key.front() == '{') key.remove_prefix(1);
    if (key.empty()) return "other";
    const auto prefix = static_cast<unsigned char>(key.front());
    const std::string_view name = category_name(prefix);
    if (!name.empty()) return std::string(name);
    if (prefix < 0x20) return "prefix " + std::to_string(prefix);
    return "other";
}

/// The failure's message; for a timeout, with the timeout in use, so a slow
/// server and a short timeout can be told apart.
[[nodiscard]] inline std::string stated(const error& failure, const ::hotstate::redis::connection_options& options) {
    std::string out(failure.message());
    if (failure.kind() == errc::timeout)
        out += " (timeout " + config::format_duration(std::max(options.connect_timeout, options.command_timeout)) + ")";
    return out;
}

/// What a probe learned of a server's role (INFO replication), for the
/// deployment's own lines (its mode, a replica where a master belongs).
struct node_facts {
    /// Connected and logged in.
    bool reached = false;
    /// role:slave: every write and script fails there with READONLY.
    bool replica = false;
    /// Of a replica: its master, "host:port".
    std::string master;
};

/// Asks one server; every answer becomes checks appended to `out`.
class node_probe {
public:
    node_probe(::hotstate::redis::endpoint where, ::hotstate::redis::connection_options options, node_rules rules,
               std::vector<check>& out)
        : where_(std::move(where)), options_(options), rules_(rules), out_(out), server_(where_.address()) {}

    /// Runs every check of a data node in `role`.
    node_facts run(config::server_role role, bool read_from_replicas = false) {
        node_facts facts;
        std::optional<::hotstate::redis::connection> c;
        try {
            c.emplace(where_, options_);
        } catch (const error& failure) {
            unreachable(failure);
            return facts;
        }
        facts.reached = true;
        try {
            const auto info = parse_info(text(*c, "INFO", {"INFO", "all"}));
            facts.replica = field(info, "role") == "slave";
            if (facts.replica)
                facts.master = format_host_port(field(info, "master_host"),
                                                parse_decimal<std::uint16_t>(field(info, "master_port")).value_or(0));
            out_.push_back(version_rule(server_, field(info, "redis_version")));
            out_.push_back(eviction_rule(server_, field(info, "maxmemory_policy")));
            const auto save = config_get(*c, "save");
            const bool aof = field(info, "aof_enabled") == "1";
            const auto appendfsync = aof ? config_get(*c, "appendfsync") : std::nullopt;
            out_.push_back(persistence_rule(server_, save ? std::optional<std::string_view>(*save) : std::nullopt, aof,
                                            appendfsync ? std::optional<std::string_view>(*appendfsync) : std::nullopt,
                                            rules_.sends.queues.has_value()));
            if (rules_.sends.queues && rules_.sends.queues->wait_replicas > 0 && !facts.replica)
                out_.push_back(wait_replicas_rule(server_, static_cast<std::uint64_t>(rules_.sends.queues->wait_replicas),
                                                  number(info, "connected_slaves")));
            const auto keepalive = config_get(*c, "tcp-keepalive");
            out_.push_back(keepalive_rule(server_, keepalive ? parse_decimal<long long>(*keepalive) : std::nullopt));
            latency(*c);
            const std::uint64_t used = number(info, "used_memory");
            const std::uint64_t maxmemory = number(info, "maxmemory");
            out_.push_back(memory_rule(server_, used, maxmemory));
            if (rules_.mailboxes) {
                const bool bounded = maxmemory != 0;
                out_.push_back(sizing_rule(server_, *rules_.mailboxes, bounded ? maxmemory : number(info, "total_system_memory"),
                                           bounded ? "maxmemory" : "system memory (no maxmemory)"));
            }
            if (role != config::server_role::cluster || !facts.replica) keyspace(*c);
            acl(*c, role, read_from_replicas);
        } catch (const error& failure) {
            out_.push_back({server_, "probe", verdict::fail, stated(failure), "the server answers the doctor's commands"});
        }
        if (where_.tls.enabled) tls_check();
        return facts;
    }

    /// The lines of a server that could not be reached or logged in to (and,
    /// over TLS, its certificate, which a handshake of its own may still read).
    void unreachable(const error& failure) {
        out_.push_back({server_, "connect", verdict::fail, stated(failure), "reachable, credentials accepted"});
        if (where_.tls.enabled) tls_check();
    }

private:
    [[nodiscard]] std::string stated(const error& failure) const { return doctor::stated(failure, options_); }

    static std::string text(::hotstate::redis::connection& c, std::string_view name, std::vector<std::string_view> args) {
        auto answer = c.command(name, std::span<const std::string_view>(args));
        if (answer.is_error()) throw detail::redis::server_error(c.address(), name, answer.text());
        return std::string(answer.text());
    }

    static std::string_view field(const std::map<std::string, std::string, std::less<>>& info, std::string_view name) {
        const auto found = info.find(name);
        return found == info.end() ? std::string_view("unknown") : std::string_view(found->second);
    }

    static std::uint64_t number(const std::map<std::string, std::string, std::less<>>& info, std::string_view name) {
        const auto found = info.find(name);
        return found == info.end() ? 0 : parse_decimal<std::uint64_t>(found->second).value_or(0);
    }

    /// CONFIG GET name's value; nullopt when CONFIG is denied (managed services rename or forbid it).
    static std::optional<std::string> config_get(::hotstate::redis::connection& c, std::string_view name) {
        const auto answer = c.command("CONFIG GET", "CONFIG", "GET", name);
        const ::hotstate::redis::reply_view pair = answer;
        if (!pair.is_array() || pair.size() != 2) return std::nullopt;
        return std::string(pair[1].text());
    }

    void latency(::hotstate::redis::connection& c) {
        std::vector<std::chrono::microseconds> samples;
        samples.reserve(rules_.pings);
        for (std::size_t i = 0; i < rules_.pings; ++i) {
            const auto start = std::chrono::steady_clock::now();
            auto answer = c.command("PING", "PING");
            const auto took = std::chrono::steady_clock::now() - start;
            if (answer.is_error()) throw detail::redis::server_error(c.address(), "PING", answer.text());
            samples.push_back(std::chrono::duration_cast<std::chrono::microseconds>(took));
        }
        out_.push_back(latency_rule(server_, percentile(samples, 0.50), percentile(samples, 0.99), samples.size(),
                                    rules_.p50_limit, rules_.p99_limit));
    }

    /// A sample of keys (SCAN) with their sizes (MEMORY USAGE), one line per category.
    void keyspace(::hotstate::redis::connection& c) {
        struct tally {
            std::uint64_t keys = 0;
            std::uint64_t bytes = 0;
        };
        std::map<std::string, tally> categories;
        std::string cursor = "0";
        std::size_t sampled = 0;
        do {
            const auto answer = c.command("SCAN", "SCAN", cursor, "COUNT", "200");
            const ::hotstate::redis::reply_view page = answer;
            if (!page.is_array() || page.size() != 2) return;
            cursor.assign(page[0].text());
            const ::hotstate::redis::reply_view keys = page[1];
            for (std::size_t i = 0; i < keys.size() && sampled < rules_.sample_keys; ++i, ++sampled) {
                const std::string_view key = keys[i].text();
                auto size = c.command("MEMORY USAGE", "MEMORY", "USAGE", key, "SAMPLES", "0");
                auto& entry = categories[key_category(key)];
                ++entry.keys;
                if (size.is_integer()) entry.bytes += static_cast<std::uint64_t>(size.integer());
            }
        } while (cursor != "0" && sampled < rules_.sample_keys);
        if (categories.empty()) {
            out_.push_back({server_, "keys", verdict::pass, "no keys", "breakdown of a sample by category"});
            return;
        }
        for (const auto& [name, entry] : categories)
            out_.push_back({server_, "keys: " + name, verdict::pass,
                            std::to_string(entry.keys) + " keys, " + std::to_string(entry.bytes) + " bytes",
                            "sampled (SCAN, MEMORY USAGE), up to " + std::to_string(rules_.sample_keys) + " keys"});
    }

    void acl(::hotstate::redis::connection& c, config::server_role role, bool read_from_replicas) {
        const auto report =
            config::check_acl(c, config::commands_sent(role, read_from_replicas, where_.db != 0, rules_.sends));
        const std::string user = config::user_named(report, where_.username);
        std::string measured = report.denied.empty() ? "user '" + user + "' may run all" : "user '" + user + "' may not run ";
        std::vector<std::string> names;  // a command denied on two probe keys is named once
        for (const auto& line : report.denied) {
            std::string name = line.substr(0, line.find(' '));
            if (std::find(names.begin(), names.end(), name) != names.end()) continue;
            measured += (names.empty() ? "" : ", ") + name;
            names.push_back(std::move(name));
        }
        out_.push_back({server_, "acl", report.denied.empty() ? verdict::pass : verdict::fail, measured,
                        "every command hotstate sends (" + report.method + ")"});
    }

    void tls_check() {
        std::string problem;
        const auto left = certificate_time_left(where_.host, where_.port, where_.tls.server_name, problem);
        if (!left) {
            out_.push_back({server_, "tls certificate", verdict::fail, problem, "a certificate is presented"});
            return;
        }
        out_.push_back(tls_expiry_rule(server_, *left, rules_.tls_warning));
    }

    ::hotstate::redis::endpoint where_;
    ::hotstate::redis::connection_options options_;
    node_rules rules_;
    std::vector<check>& out_;
    std::string server_;
};

}  // namespace hotstate::detail::doctor
