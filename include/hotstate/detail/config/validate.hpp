// hotstate/detail/config/validate.hpp: validate_on_load. Connects to every
// server a loaded configuration names, logs in, and checks that the user may
// run every command hotstate sends, collecting every problem rather than
// stopping at the first, so one start-up shows all of them.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include <hotstate/detail/config/acl.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::config {

/// How validation connects: the node's timeout bounds the connect and each command.
[[nodiscard]] inline ::hotstate::redis::connection_options probe_options(const ::hotstate::redis::node_settings& node) {
    ::hotstate::redis::connection_options options;
    options.connect_timeout = node.timeout;
    options.command_timeout = node.timeout;
    options.tcp_keepalive = node.tcp_keepalive;
    return options;
}

/// Configs without a server (embedded, SQLite): nothing to connect to.
template <class Config>
void validate(const Config&, std::vector<std::string>&, const capabilities& = {}) {}

/// Connects to `settings` (as `role`) and checks the ACL; appends what failed to `problems`.
inline void validate_server(const ::hotstate::redis::config& settings, server_role role, bool read_from_replicas,
                            std::vector<std::string>& problems, const capabilities& with = {}) {
    ::hotstate::redis::endpoint where;
    try {
        where = ::hotstate::redis::resolve(settings);
    } catch (const error& failure) {
        problems.push_back(failure.message());
        return;
    }
    try {
        ::hotstate::redis::connection c(where, probe_options(settings.node));
        const acl_report report = check_acl(c, commands_sent(role, read_from_replicas, where.db != 0, with));
        for (const auto& denied : report.denied)
            problems.push_back(where.address() + ": user '" + (report.user.empty() ? "default" : report.user) +
                               "' may not run " + denied);
    } catch (const error& failure) {
        problems.push_back(failure.message());
    }
}

inline void validate(const ::hotstate::redis::config& settings, std::vector<std::string>& problems,
                     const capabilities& with = {}) {
    validate_server(settings, server_role::standalone, false, problems, with);
}

inline void validate(const ::hotstate::redis::cluster_config& settings, std::vector<std::string>& problems,
                     const capabilities& with = {}) {
    for (const auto& url : settings.urls) {
        ::hotstate::redis::config node{.url = url, .node = settings.node};
        validate_server(node, server_role::cluster, settings.read_from_replicas, problems, with);
    }
}

inline void validate(const ::hotstate::redis::sentinel_config& settings, std::vector<std::string>& problems,
                     const capabilities& with = {}) {
    bool master_checked = false;
    for (const auto& url : settings.sentinel_urls) {
        ::hotstate::redis::config sentinel{.url = url, .node = settings.node};
        sentinel.node.auth_username = settings.sentinel_username;
        sentinel.node.auth_secret = settings.sentinel_secret;
        sentinel.node.tls.enabled = false;
        try {
            const auto where = ::hotstate::redis::resolve(sentinel);
            ::hotstate::redis::connection c(where, probe_options(sentinel.node));
            auto answer = c.command("SENTINEL get-master-addr-by-name", "SENTINEL", "get-master-addr-by-name",
                                    settings.service_name);
            if (answer.is_error()) {
                // NOPERM for the sentinel user, or a sentinel that is not one: the server's own words
                problems.push_back(where.address() + ": SENTINEL get-master-addr-by-name: " + reason_text(answer.text()));
                continue;
            }
            if (answer->type != REDIS_REPLY_ARRAY || answer->elements != 2) {
                problems.push_back(where.address() + ": the sentinel does not know the service '" +
                                   reason_text(settings.service_name) + "'");
                continue;
            }
            if (master_checked) continue;
            master_checked = true;
            const std::string host(answer->element[0]->str, answer->element[0]->len);
            const std::string port(answer->element[1]->str, answer->element[1]->len);
            const bool v6 = host.find(':') != std::string::npos;
            ::hotstate::redis::config master{
                .url = "redis://" + (v6 ? "[" + host + "]" : host) + ":" + port + "/" + std::to_string(settings.db),
                .node = settings.node};
            validate_server(master, server_role::master, false, problems, with);
        } catch (const error& failure) {
            problems.push_back(failure.message());
        }
    }
}

template <class Config>
void validate_each(const std::vector<Config>& list, std::vector<std::string>& problems, const capabilities& with) {
    for (const auto& item : list) validate(item, problems, with);
}

/// Sharded: every shard.
template <class... Lists>
void validate(const std::tuple<Lists...>& shards, std::vector<std::string>& problems, const capabilities& with = {}) {
    std::apply([&](const auto&... lists) { ((validate_each(lists, problems, with)), ...); }, shards);
}


/// Throws one errc::configuration listing every problem, when there are any.
inline void throw_problems(const std::vector<std::string>& problems) {
    if (problems.empty()) return;
    std::string message = "hotstate: configuration: validate_on_load found " + std::to_string(problems.size()) +
                          (problems.size() == 1 ? " problem:" : " problems:");
    for (const auto& problem : problems) message.append("\n  - ").append(problem);
    throw error(errc::configuration, message);
}

}  // namespace hotstate::detail::config
