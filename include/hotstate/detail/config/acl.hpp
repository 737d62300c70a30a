// hotstate/detail/config/acl.hpp: may this connection's user run every
// command hotstate sends? Used by validate_on_load and by hotstate-doctor.
//
// Two ways to ask, neither of which runs a command:
//   ACL DRYRUN user cmd args...   (Redis 7) when the user may run ACL itself;
//   MULTI, cmd args..., DISCARD   otherwise: a command queued in a transaction
//                                 is checked against the ACL (NOPERM) when it
//                                 is queued, and DISCARD drops it unrun. Works on
//                                 Redis 6 and for users without @admin.
// The command lists are pure data (sent_commands.hpp), so a test can name them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/detail/config/sent_commands.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::config {

/// What an ACL check found.
struct acl_report {
    /// "ACL DRYRUN" or "MULTI/DISCARD".
    std::string method;
    /// The user the connection is logged in as (ACL WHOAMI), when the server says.
    std::string user;
    /// One line per command the user may not run: "EVALSHA (<the server's reason>)".
    std::vector<std::string> denied;
};

/// The user a report names: the one ACL WHOAMI gave, else the one the
/// connection logged in as (`configured`, a user who may not run ACL), else
/// "default" (no user name: the default user).
[[nodiscard]] inline std::string user_named(const acl_report& report, const std::optional<std::string>& configured) {
    if (!report.user.empty()) return report.user;
    return configured.value_or("default");
}

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
        const auto who = c.command("ACL WHOAMI", "ACL", "WHOAMI");
        if (who.view().is_string()) report.user = std::string(who.text());
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
            const bool allowed = answer.view().is_status() && answer.text() == "OK";
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
        // the transaction's own commands cannot be queued: EXEC would run what
        // is queued, MULTI nests, DISCARD ends the probe; MULTI was just checked
        // by starting it, and EXEC is taken to follow MULTI
        const std::string& name = command.argv.front();
        if (name == "MULTI" || name == "EXEC" || name == "DISCARD" || name == "WATCH") continue;
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
