// hotstate/detail/redis/io/run.hpp: the blocking runner of the exchange
// (detail/redis/proto/exchange.hpp) for one command value on one connection.
//
// attempt() is one attempt: it writes the request in the form the exchange
// says (on the stack when it is one small request; ASKING first when asked),
// reads every reply, lets the exchange frame and judge them, sends the
// fallback round on the same connection when the exchange asks for it, and
// hands the outcome to `use` while the reply lives (results may view its
// bytes). A redirect (only on a route that follows them) throws
// commands::redirected, for the router to act on with exchange::on_redirect();
// an I/O failure throws from the connection (now broken), for the router to
// hand to exchange::on_failure(). Deciding is the exchange's: nothing here
// chooses a form, counts replies or tells a redirect from an error.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/proto/scripts.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::redis {

/// Writes the round of a one-command exchange on `c` (see the banner).
template <bool Redirects, commands::Command Cmd>
[[gnu::always_inline]] inline void send_round(::hotstate::redis::connection& c,
                                              const proto::exchange<1, Redirects>& ex, const Cmd& command) {
    if constexpr (Redirects) {
        if (ex.asking()) [[unlikely]]
            c.queue(commands::asking{});
    }
    if constexpr (commands::MultiReply<Cmd>) {
        if (command.replies() > 1) {  // a transaction: every request of it in one write
            proto::write_request(c.queued(), command, ex.form_of(0));
            return c.send_queued(Cmd::name);
        }
    }
    proto::with_request(command, ex.form_of(0),
                        [&](std::size_t argc, const char* const* argv, const std::size_t* lengths) {
                            c.send(Cmd::name, argc, argv, lengths);
                        });
}

/// Throws the redirect the exchange judged (cold: the router follows it).
template <std::size_t N, bool Redirects>
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_redirected(const ::hotstate::redis::connection& c,
                                                                    const proto::exchange<N, Redirects>& ex,
                                                                    ::hotstate::redis::reply_view outcome) {
    throw commands::redirected{ex.redirect(), std::string(outcome.text()), c.address()};
}

/// One attempt of `ex` for `command` on `c` (after c.begin_request()): the
/// outcome given to `use`; returns what `use` returns.
template <bool Redirects, commands::Command Cmd, class Use>
[[gnu::always_inline]] inline decltype(auto) attempt(::hotstate::redis::connection& c,
                                                     proto::exchange<1, Redirects>& ex, const Cmd& command, Use&& use) {
    send_round(c, ex, command);
    ex.round_written();
    ::hotstate::redis::reply kept;
    for (;;) {
        ::hotstate::redis::reply r = c.receive(Cmd::name);
        switch (ex.on_reply(r.is_error())) {
            case proto::part::outcome: break;
            case proto::part::more: continue;
            case proto::part::keep: kept = std::move(r); continue;
            case proto::part::kept_outcome: r = std::move(kept); break;
        }
        const proto::verdict judged = ex.judge(r, proto::wants_fallback(command, ex.form_of(0), r),
                                               Redirects ? commands::host_of(c.address()) : std::string_view());
        if (judged == proto::verdict::deliver) [[likely]]
            return std::forward<Use>(use)(command.interpret(r, commands::reply_context(c.address(), Redirects)));
        if constexpr (Redirects) {
            if (judged == proto::verdict::redirected) throw_redirected(c, ex, r);
        }
        (void)ex.after_round();  // the fallback's round
        send_round(c, ex, command);
        ex.round_written();
    }
}

/// One attempt whose result owns its value (not a view of the reply).
template <bool Redirects, commands::Command Cmd>
[[gnu::always_inline]] inline typename Cmd::result_type attempt(::hotstate::redis::connection& c,
                                                                proto::exchange<1, Redirects>& ex, const Cmd& command) {
    return attempt(c, ex, command, [](typename Cmd::result_type value) { return value; });
}

/// Runs `command` once on `c`, on an exchange of its own, with no retry: for
/// a caller that owns the connection (a connection's log-in, a body of several
/// commands whose router retries the whole body). A new deadline bounds it;
/// request_sent() keeps what earlier commands of the body wrote. The result
/// owns its value.
template <bool Redirects, commands::Command Cmd>
typename Cmd::result_type run(::hotstate::redis::connection& c, const Cmd& command) {
    auto ex = proto::exchange_of<Redirects>(command);
    c.renew_deadline();
    return attempt(c, ex, command);
}

/// run() handing the result to `use` while the reply lives.
template <bool Redirects, commands::Command Cmd, class Use>
decltype(auto) run_with(::hotstate::redis::connection& c, const Cmd& command, Use&& use) {
    auto ex = proto::exchange_of<Redirects>(command);
    c.renew_deadline();
    return attempt(c, ex, command, std::forward<Use>(use));
}

/// One attempt of `ex` for the commands of `all` (a tuple of command values)
/// on `c`, after c.begin_request(): each round's requests in one write (in
/// the forms the exchange says), every reply framed and judged as it is read,
/// the fallback rounds on the same connection. Each command's outcome goes to
/// `deliver(std::integral_constant<std::size_t, I>, reply_view)` in call order
/// while the reply lives; a redirected command (only on a route that follows
/// them) to `redirected(I, reply_view)`, for the caller to defer or follow.
/// What either throws leaves once every reply of the round is read (the
/// connection stays in step), and no further round is sent. An I/O failure
/// throws from the connection, as attempt() does.
template <bool Redirects, class... Cmds, class Deliver, class Redirected>
void attempt_all(::hotstate::redis::connection& c, proto::exchange<sizeof...(Cmds), Redirects>& ex,
                 const std::tuple<Cmds...>& all, Deliver&& deliver, Redirected&& redirected) {
    constexpr std::size_t count = sizeof...(Cmds);
    // what deliver or redirected threw: kept until every reply of the round is
    // read, so the connection stays in step for the next request
    std::exception_ptr failure;
    for (;;) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            const auto write = [&](const auto& command, proto::form how) {
                if (ex.asking()) [[unlikely]]
                    commands::asking{}.write(c.queued());  // ASKING lasts one command: before each
                proto::write_request(c.queued(), command, how);
            };
            ((ex.writes(I) ? write(std::get<I>(all), ex.form_of(I)) : void()), ...);
        }(std::index_sequence_for<Cmds...>{});
        c.send_queued("pipeline");
        ex.round_written();
        ::hotstate::redis::reply kept;
        while (!ex.round_read()) {
            ::hotstate::redis::reply r = c.receive("pipeline");
            switch (ex.on_reply(r.is_error())) {
                case proto::part::outcome: break;
                case proto::part::more: continue;
                case proto::part::keep: kept = std::move(r); continue;
                case proto::part::kept_outcome: r = std::move(kept); break;
            }
            proto::at_index<count>(ex.at(), [&](auto index) {
                constexpr std::size_t i = decltype(index)::value;
                const auto& command = std::get<i>(all);
                const proto::verdict judged = ex.judge(r, proto::wants_fallback(command, ex.form_of(i), r),
                                                       Redirects ? commands::host_of(c.address()) : std::string_view());
                if (failure || judged == proto::verdict::fallback) return;
                try {
                    if (judged == proto::verdict::deliver)
                        deliver(index, ::hotstate::redis::reply_view(r));
                    else
                        redirected(i, ::hotstate::redis::reply_view(r));
                } catch (...) {
                    failure = std::current_exception();
                }
            });
        }
        if (failure) std::rethrow_exception(failure);
        if (ex.after_round() == proto::next::done) return;
    }
}

/// Loads every script on a new connection (SCRIPT LOAD of each, in one
/// write), so EVALSHA finds them on a node it never used before, a promoted
/// replica included. Part of a connection's log-in: one attempt, no retry.
inline void load_scripts(::hotstate::redis::connection& c) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        const std::tuple loads{commands::script_load(*all_scripts[I])...};
        proto::exchange<sizeof...(I), false> ex({proto::traits_of(std::get<I>(loads))...});
        c.renew_deadline();
        attempt_all(
            c, ex, loads,
            [&](auto index, ::hotstate::redis::reply_view r) {
                (void)std::get<decltype(index)::value>(loads).interpret(r, std::string_view(c.address()));
            },
            [](std::size_t, ::hotstate::redis::reply_view) {});
    }(std::make_index_sequence<all_scripts.size()>{});
}

}  // namespace hotstate::detail::redis
