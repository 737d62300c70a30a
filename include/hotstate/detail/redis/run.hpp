// hotstate/detail/redis/run.hpp: running a command value (detail/redis/commands.hpp)
// on a blocking connection: the request encoded on the stack and written, the
// reply read, the command's fallback sent when its reply asks for it (EVAL after
// NOSCRIPT, the take script after "unknown command"; preceded by ASKING when the
// operation runs after one), and the reply interpreted. A command of several
// replies (a MULTI/EXEC transaction) is written at once and all its replies read. The one place a blocking
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

/// Reads the replies of `command`'s request on `c`: one, or for a MultiReply
/// command all of them (so the connection stays in step), handing on the first
/// error among the queued ones (a MOVED, a WRONGTYPE) or else the last.
template <commands::Command Cmd>
[[gnu::always_inline]] inline ::hotstate::redis::reply read_replies(::hotstate::redis::connection& c,
                                                                    const Cmd& command) {
    if constexpr (commands::MultiReply<Cmd>) {
        const std::size_t count = command.replies();
        if (count > 1) {
            ::hotstate::redis::reply first_error;
            for (std::size_t i = 0; i + 1 < count; ++i) {
                ::hotstate::redis::reply queued = c.read_reply(Cmd::name);
                if (queued.is_error() && !first_error) [[unlikely]]
                    first_error = std::move(queued);
            }
            ::hotstate::redis::reply last = c.read_reply(Cmd::name);
            return first_error ? std::move(first_error) : std::move(last);
        }
    }
    return c.read_reply(Cmd::name);
}

/// Runs `command` on `c` and hands its result to `use` while the reply lives
/// (results may view the reply's bytes); returns what `use` returns. With
/// `Redirects`, an error reply a router acts on throws commands::redirected.
template <bool Redirects, commands::Command Cmd, class Use>
[[gnu::always_inline]] inline decltype(auto) run_with(::hotstate::redis::connection& c, const Cmd& command,
                                                      Use&& use) {
    if constexpr (commands::MultiReply<Cmd>) {
        if (command.replies() > 1) {  // a transaction: one write of all its requests
            c.queue(command);
            const ::hotstate::redis::reply r = read_replies(c, command);
            return std::forward<Use>(use)(command.interpret(r, commands::reply_context(c.address(), Redirects)));
        }
    }
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
