// hotstate/detail/redis/run.hpp: running a command value (detail/redis/commands.hpp)
// on a blocking connection: the request encoded on the stack and written, the
// reply read, the command's fallback sent when its reply asks for it (EVAL after
// NOSCRIPT, the take script after "unknown command"; preceded by ASKING when the
// operation runs after one), and the reply interpreted. The one place a blocking
// caller sends a fallback; pipelines do the same per reply (redis/batch.hpp).
#pragma once

#include <cstddef>
#include <utility>

#include <hotstate/detail/redis/commands.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::redis {

/// Sends `command`'s fallback request on `c` (after ASKING when the operation
/// runs after one) and reads its reply. Out of line: a cold path.
template <commands::HasFallback Cmd>
[[gnu::cold, gnu::noinline]] ::hotstate::redis::reply run_fallback(::hotstate::redis::connection& c,
                                                                   const Cmd& command) {
    if (c.asking()) (void)c.command("ASKING", "ASKING");
    c.queue_fallback(command);
    return c.read_reply(Cmd::name);
}

/// Runs `command` on `c` and hands its result to `use` while the reply lives
/// (results may view the reply's bytes); returns what `use` returns. With
/// `Redirects`, an error reply a router acts on throws commands::redirected.
template <bool Redirects, commands::Command Cmd, class Use>
[[gnu::always_inline]] inline decltype(auto) run_with(::hotstate::redis::connection& c, const Cmd& command,
                                                      Use&& use) {
    ::hotstate::redis::reply r =
        command.with_args([&](std::size_t argc, const char* const* argv, const std::size_t* lengths) {
            return c.command_argv(Cmd::name, static_cast<int>(argc), argv, lengths);
        });
    if constexpr (commands::HasFallback<Cmd>) {
        if (command.fallback_on(r)) [[unlikely]]
            r = run_fallback(c, command);
    }
    return std::forward<Use>(use)(command.interpret(r, commands::reply_context(c.address(), Redirects)));
}

/// Runs `command` on `c` and returns its result; for results that own their
/// value (not a view of the reply: use run_with for those).
template <bool Redirects, commands::Command Cmd>
[[gnu::always_inline]] inline typename Cmd::result_type run(::hotstate::redis::connection& c, const Cmd& command) {
    return run_with<Redirects>(c, command, [](typename Cmd::result_type value) { return value; });
}

}  // namespace hotstate::detail::redis
