// hotstate/detail/config/acl.hpp: may this connection's user run every
// command hotstate sends? Used by validate_on_load and by hotstate-doctor.
//
// Two ways to ask, neither of which runs a command:
//   ACL DRYRUN user cmd args...   (Redis 7) when the user may run ACL itself;
//   MULTI, cmd args..., DISCARD   otherwise: a command queued in a transaction
//                                 is checked against the ACL (NOPERM) when it
//                                 is queued, and DISCARD drops it unrun. Works on
//                                 Redis 6 and for users without @admin.
// The command list is pure data (sent_commands), so a test can name it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/error.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::config {

/// The role a server plays for hotstate, which decides what it is sent.
enum class server_role : std::uint8_t {
    standalone,  ///< redis backend (and the coordinator's transports on it)
    cluster,     ///< a Redis Cluster node
    master,      ///< the master a sentinel names
};

/// A command hotstate sends, with harmless arguments for probing it.
struct sent_command {
    std::vector<std::string> argv;
};

/// A key in category 0's keyspace: what a user restricted to hotstate's keys may touch.
inline const std::string probe_key = std::string(1, '\0') + "hotstate:acl-probe";

/// Every command hotstate's store sends to a server in `role`.
[[nodiscard]] inline std::vector<sent_command> sent_commands(server_role role, bool read_from_replicas = false,
                                                             bool select_db = false) {
    const std::string& k = probe_key;
    std::vector<sent_command> out = {
        {{"PING"}},
        {{"GET", k}},
        {{"SET", k, "v", "PX", "1000", "NX"}},
        {{"GETDEL", k}},
        {{"INCRBY", k, "1"}},
        {{"PEXPIRE", k, "1000"}},
        {{"UNLINK", k}},
        {{"EXISTS", k}},
        {{"SCAN", "0", "MATCH", "x*", "COUNT", "10"}},
        {{"SADD", k, "m"}},
        {{"SREM", k, "m"}},
        {{"SISMEMBER", k, "m"}},
        {{"HSET", k, "f", "v"}},
        {{"HGET", k, "f"}},
        {{"HDEL", k, "f"}},
        {{"EVAL", "return 1", "1", k}},
        {{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", k}},
        {{"SCRIPT", "LOAD", "return 1"}},
    };
    if (select_db) out.push_back({{"SELECT", "0"}});
    if (role == server_role::cluster) {
        out.push_back({{"CLUSTER", "SLOTS"}});
        out.push_back({{"ASKING"}});
        if (read_from_replicas) out.push_back({{"READONLY"}});
    }
    if (role == server_role::master) out.push_back({{"ROLE"}});
    return out;
}

/// What an ACL check found.
struct acl_report {
    /// "ACL DRYRUN" or "MULTI/DISCARD".
    std::string method;
    /// The user the connection is logged in as (ACL WHOAMI), when the server says.
    std::string user;
    /// One line per command the user may not run: "EVALSHA (<the server's reason>)".
    std::vector<std::string> denied;
};

/// The server's reason text, bounded and on one line.
[[nodiscard]] inline std::string reason_text(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, 160)) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
    return out;
}

/// Checks `commands` against the ACL of `c`'s user without running them.
/// Throws what the connection throws for I/O failures.
[[nodiscard]] inline acl_report check_acl(::hotstate::redis::connection& c, const std::vector<sent_command>& commands) {
    acl_report report;
    const auto run = [&](std::string_view name, const std::vector<std::string>& argv) {
        std::vector<std::string_view> args(argv.begin(), argv.end());
        return c.command(name, std::span<const std::string_view>(args));
    };
    {
        auto who = c.command("ACL WHOAMI", "ACL", "WHOAMI");
        if (!who.is_error() && who->type == REDIS_REPLY_STRING) report.user = std::string(who.text());
    }
    bool dryrun = false;
    if (!report.user.empty()) {
        auto trial = c.command("ACL DRYRUN", "ACL", "DRYRUN", report.user, "PING");
        dryrun = !trial.is_error();
    }
    if (dryrun) {
        report.method = "ACL DRYRUN";
        for (const auto& command : commands) {
            std::vector<std::string> argv{"ACL", "DRYRUN", report.user};
            argv.insert(argv.end(), command.argv.begin(), command.argv.end());
            auto answer = run("ACL DRYRUN", argv);
            const bool allowed = !answer.is_error() && answer->type == REDIS_REPLY_STATUS && answer.text() == "OK";
            if (!allowed) report.denied.push_back(command.argv.front() + " (" + reason_text(answer.text()) + ")");
        }
        return report;
    }
    report.method = "MULTI/DISCARD";
    auto begin = c.command("MULTI", "MULTI");
    if (begin.is_error()) {
        // without MULTI nothing can be probed, and hotstate's counters need it anyway
        report.denied.push_back("MULTI (" + reason_text(begin.text()) + ")");
        return report;
    }
    for (const auto& command : commands) {
        auto answer = run(command.argv.front(), command.argv);
        // only NOPERM is the ACL's verdict; an unknown command (GETDEL before
        // Redis 6.2) or a redirect is not a permission problem
        if (answer.is_error() && answer.text().starts_with("NOPERM"))
            report.denied.push_back(command.argv.front() + " (" + reason_text(answer.text()) + ")");
    }
    (void)c.command("DISCARD", "DISCARD");
    return report;
}

}  // namespace hotstate::detail::config
