// hotstate/detail/redis/proto/exchange.hpp: one request to a Redis server, from
// its first byte to its outcome, as a state machine without I/O.
//
// A request is N command values (detail/redis/proto/commands.hpp) written together:
// one command (a store operation), or a pipeline. Every runner -- the blocking
// connection (detail/redis/io/run.hpp), the blocking pipeline (redis/batch.hpp),
// the asynchronous operation and pipeline (detail/async/) -- writes what the
// exchange says, hands it every reply and every failure, and does what it
// answers. So these rules are written here, once:
//
//   - The form of each command's request (`form`): its own request; its
//     fallback in its place once a reply asked for one (EVAL after NOSCRIPT,
//     the take script after "unknown command": nothing ran, so the fallback
//     goes in a further round on the same connection); its resend form when it
//     is sent again after a lost reply, for a command whose repeat is another
//     command (a release is then the script that still answers as the first
//     send did); ASKING before it while the route says the slot is being
//     imported (a cluster's ASK), in every round of that attempt, since
//     ASKING lasts one command.
//   - Framing: which replies belong to which command -- ASKING's +OK, a
//     transaction's queued replies (MULTI ... EXEC: its first error is its
//     outcome) -- and which reply is a command's outcome (on_reply).
//   - Judging an outcome (judge): delivered to the command's interpret(); or
//     its fallback is due; or, on a route that follows redirects, a redirect
//     (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING, BUSY, MASTERDOWN, READONLY:
//     the command did not run), which the retry budget turns into a step: at
//     once, after ASKING on the named node, after a backoff, after a topology
//     refresh (on_redirect).
//   - A failed attempt (on_failure): a request none of whose bytes left is
//     sent again whatever it does; one that may have reached the server only
//     when every command of it is idempotent in effect, and then on a fresh
//     connection (opened or checked after the failure: the runner asks its
//     pool for one). A single server that timed out is not tried again (a
//     route may find the slot elsewhere). Otherwise, and once the budget is
//     spent, the failure says
//     whether the request may have been applied (outcome unknown: a byte of
//     some attempt may have reached a server) or certainly was not.
//
// The exchange is a few bytes on the runner's stack (or in an asynchronous
// operation) and every call is inline: for a plain command on a route that
// follows no redirect, framing and judging compile to nothing.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/redirect.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/node_settings.hpp>
#include <hotstate/redis/reply.hpp>

namespace hotstate::detail::redis::proto {

namespace commands = detail::redis::commands;
using ::hotstate::redis::reply_view;

/// How a command's request is written on an attempt (see the banner).
enum class form : std::uint8_t {
    first,            ///< the command's own request (EVALSHA for a script)
    fallback,         ///< its fallback in its place (EVAL after NOSCRIPT; the take script after "unknown command")
    resend,           ///< a send after a lost reply, of a command whose repeat is another command (HasResend)
    resend_fallback,  ///< the fallback of that resend (EVAL of the resend script after NOSCRIPT)
};

/// What the exchange needs to know of one command.
struct command_traits {
    std::uint16_t replies = 1;  ///< replies its request gets (MULTI ... EXEC: one per command in it)
    bool idempotent = false;    ///< running it twice has the effect of running it once
    bool has_fallback = false;  ///< a reply may ask for another request in its place
    bool has_resend = false;    ///< a send after a lost reply is another command
    bool sent_before = false;   ///< an earlier request of it may have run: it is written in its resend form from the start
};

/// The traits of `command`.
template <commands::Command C>
[[nodiscard]] constexpr command_traits traits_of(const C& command) noexcept {
    command_traits traits;
    if constexpr (commands::MultiReply<C>) traits.replies = static_cast<std::uint16_t>(command.replies());
    traits.idempotent = C::idempotent;
    traits.has_fallback = commands::HasFallback<C>;
    traits.has_resend = commands::HasResend<C>;
    if constexpr (commands::HasResend<C>) traits.sent_before = command.sent_before;
    return traits;
}

/// The traits of a body that writes and reads by itself (a raw command the
/// engine knows nothing about): must not run twice.
inline constexpr command_traits opaque_body{1, false, false, false, false};

/// Calls `f(argc, argv, lengths)` with `command`'s request in form `how`.
template <commands::Command C, class F>
decltype(auto) with_request(const C& command, form how, F&& f) {
    if constexpr (commands::HasResend<C>) {
        if (how == form::resend) [[unlikely]]
            return command.resend().with_args(f);
        if (how == form::resend_fallback) [[unlikely]]
            return command.resend().with_fallback_args(f);
    }
    if constexpr (commands::HasFallback<C>) {
        if (how == form::fallback) [[unlikely]]
            return command.with_fallback_args(f);
    }
    return command.with_args(f);
}

/// Appends `command`'s request in form `how` to `out` (every request of a
/// transaction for a MultiReply command in its first form).
template <commands::Command C>
void write_request(std::string& out, const C& command, form how) {
    if (how == form::first) return command.write(out);
    with_request(command, how, [&](std::size_t argc, const char* const* argv, const std::size_t* lengths) {
        commands::append_request(out, argc, argv, lengths);
    });
}

/// Whether `outcome`, the reply to `command` sent in form `how`, asks for the fallback.
template <commands::Command C>
[[nodiscard]] bool wants_fallback(const C& command, form how, reply_view outcome) {
    if constexpr (commands::HasFallback<C>) {
        if (how == form::first) return command.fallback_on(outcome);
    }
    if constexpr (commands::HasResend<C>) {
        if (how == form::resend) return command.resend().fallback_on(outcome);
    }
    (void)command, (void)how, (void)outcome;
    return false;
}

/// What a reply is to the command it belongs to (exchange::on_reply).
enum class part : std::uint8_t {
    more,          ///< not its outcome (ASKING's +OK, a transaction's +QUEUED): read on
    keep,          ///< a transaction's first error: its outcome once the rest is read; keep it, read on
    outcome,       ///< this reply is the command's outcome
    kept_outcome,  ///< the last reply is in: the kept error is the outcome
};

/// What an outcome means (exchange::judge).
enum class verdict : std::uint8_t {
    deliver,     ///< interpret it: the command is done
    fallback,    ///< nothing ran; its fallback goes in the next round (after_round says write)
    redirected,  ///< nothing ran; a route's redirect (on_redirect says what next)
};

/// What to do after a round's last outcome (exchange::after_round).
enum class next : std::uint8_t {
    done,   ///< every command's outcome was delivered (or deferred)
    write,  ///< write the next round (the fallbacks due) on the same connection, then read
};

/// Why an attempt failed without an outcome.
enum class failure : std::uint8_t {
    lost,         ///< the connection broke (closed, reset, a write or read error)
    timed_out,    ///< no reply in time: the connection is dropped (a late reply would be out of step)
    unreachable,  ///< no connection could be had (connect refused, no node serves the slot): nothing written
};

/// What the runner does next after a failure or a redirect.
struct decision {
    bool retry = false;             ///< send the request again; else fail
    bool fresh = false;             ///< (retry) on a connection opened or checked after the failure
    bool outcome_unknown = false;   ///< (fail) the request may have been applied
    bool refresh = false;           ///< (retry) read the topology again first
    std::chrono::milliseconds wait{0};               ///< (retry) wait this long first
    std::optional<routing::node_address> ask;        ///< (retry) send it there, after ASKING
};

/// The retry budget of an exchange: the route's policy (a cluster's or a
/// sentinel deployment's retry settings), or one retry at once (a single
/// server: a fresh connection heals a killed one; anything more is an outage).
[[nodiscard]] constexpr ::hotstate::redis::retry_policy one_retry() noexcept {
    return ::hotstate::redis::retry_policy{1, std::chrono::milliseconds{0}, std::chrono::milliseconds{0}};
}

/// One request of N commands (see the banner). `Redirects`: the route follows
/// redirects (a cluster or a sentinel deployment); a single server's error
/// replies are delivered like any other.
template <std::size_t N, bool Redirects>
class exchange {
    static_assert(N > 0, "an exchange carries at least one command");

public:
    /// The commands' traits; every command is written in the first round.
    constexpr exchange(const std::array<command_traits, N>& traits,
                       ::hotstate::redis::retry_policy budget = one_retry()) noexcept
        : traits_(traits), retries_(budget) {
        status_.fill(status::pending);
        first_forms();
    }
    /// Only the commands `selected` picks take part (a pipeline's group on one node).
    template <class Selected>
    constexpr exchange(const std::array<command_traits, N>& traits, ::hotstate::redis::retry_policy budget,
                       const Selected& selected) noexcept
        : traits_(traits), retries_(budget) {
        for (std::size_t i = 0; i < N; ++i) status_[i] = selected(i) ? status::pending : status::skipped;
        first_forms();
    }

    // ---- writing a round ----------------------------------------------------

    /// Whether command `i` is written in this round.
    [[nodiscard]] constexpr bool writes(std::size_t i) const noexcept { return status_[i] == status::pending; }
    /// The form command `i` is written in.
    [[nodiscard]] constexpr form form_of(std::size_t i) const noexcept { return form_[i]; }
    /// Whether every command of this attempt goes after ASKING.
    [[nodiscard]] constexpr bool asking() const noexcept { return Redirects && asking_; }
    /// Whether this is the first round of the attempt (the rest are fallbacks).
    [[nodiscard]] constexpr bool first_round() const noexcept { return !fallback_round_; }
    /// The replies the round gets (the asynchronous connection counts them).
    [[nodiscard]] constexpr std::size_t round_replies() const noexcept {
        std::size_t count = 0;
        for (std::size_t i = 0; i < N; ++i)
            if (writes(i)) count += replies_of(i);
        return count;
    }

    /// The round is written: framing starts at its first command.
    constexpr void round_written() noexcept { frame_from(0); }

    // ---- reading a round ----------------------------------------------------

    /// The command the next reply belongs to.
    [[nodiscard]] constexpr std::size_t at() const noexcept { return at_; }
    /// Whether every reply of the round has been framed.
    [[nodiscard]] constexpr bool round_read() const noexcept { return at_ >= N; }

    /// Frames the next reply (an error reply or not) of command at().
    [[nodiscard]] constexpr part on_reply(bool is_error) noexcept {
        if (left_ > 1) [[unlikely]] {
            --left_;
            if (is_error && !kept_) {
                kept_ = true;
                return part::keep;
            }
            return part::more;
        }
        return kept_ ? part::kept_outcome : part::outcome;
    }

    /// Judges the outcome of command at(): `wants_fallback` is what the
    /// command said of it (proto::wants_fallback); `replying_host` fills in a
    /// redirect's empty host. Framing moves on to the next command.
    [[nodiscard]] constexpr verdict judge(reply_view outcome, bool wants_fallback,
                                          std::string_view replying_host = {}) {
        const std::size_t i = at_;
        frame_from(i + 1);
        if (wants_fallback) [[unlikely]] {
            form_[i] = form_[i] == form::resend ? form::resend_fallback : form::fallback;
            fallbacks_due_ = true;
            return verdict::fallback;
        }
        if constexpr (Redirects) {
            if (outcome.is_error()) {
                routing::classified_error what = routing::classify_error(outcome.text(), replying_host);
                if (what.kind != routing::failure_kind::none) {
                    status_[i] = status::redirected;
                    redirect_ = std::move(what);
                    return verdict::redirected;
                }
            }
        }
        status_[i] = status::done;
        return verdict::deliver;
    }

    /// After the round's last outcome: another round (the fallbacks due) or done.
    [[nodiscard]] constexpr next after_round() noexcept {
        if (!fallbacks_due_) [[likely]]
            return next::done;
        fallbacks_due_ = false;
        fallback_round_ = true;
        return next::write;
    }

    /// Whether command `i` was redirected (a pipeline runs it alone, through its router).
    [[nodiscard]] constexpr bool redirected(std::size_t i) const noexcept { return status_[i] == status::redirected; }
    /// The last redirect judged.
    [[nodiscard]] constexpr const routing::classified_error& redirect() const noexcept { return redirect_; }

    // ---- after an attempt ---------------------------------------------------

    /// The attempt failed (`why`); `sent`: a byte of it may have reached the
    /// server. Says whether to send the whole request again, and how.
    [[nodiscard]] decision on_failure(failure why, bool sent) {
        if (sent) sent_ = true;
        decision next;
        if (sent && !all_idempotent()) {
            next.outcome_unknown = true;  // may have run, and must not run twice
            return next;
        }
        // a single server that went silent is not healed by another connection to it
        // (it would only double the wait); a route may find the slot elsewhere
        if (why == failure::timed_out && !Redirects) {
            next.outcome_unknown = sent_;
            return next;
        }
        const routing::retry_step step =
            retries_.on_failure(routing::classified_error{routing::failure_kind::connection, 0, std::nullopt});
        if (step.what == routing::retry_step::action::give_up) {
            next.outcome_unknown = sent_;
            return next;
        }
        next.retry = true;
        next.fresh = why != failure::unreachable;
        next.wait = step.wait;
        next.refresh = step.refresh_map;
        start_again(sent);
        return next;
    }

    /// A command was redirected (judge said so): the request goes again where
    /// the budget says, or the redirect is final.
    [[nodiscard]] decision on_redirect() {
        decision next;
        const routing::retry_step step = retries_.on_failure(redirect_);
        if (step.what == routing::retry_step::action::give_up) {
            next.outcome_unknown = sent_;
            return next;
        }
        next.retry = true;
        next.wait = step.wait;
        next.refresh = step.refresh_map;
        next.ask = step.ask_target;
        start_again(false);
        asking_ = next.ask.has_value();
        return next;
    }

    /// Whether a byte of some attempt may have reached a server.
    [[nodiscard]] constexpr bool sent() const noexcept { return sent_; }
    /// Retries granted so far.
    [[nodiscard]] constexpr unsigned retries() const noexcept { return retries_.retries(); }
    /// Whether every command is idempotent in effect.
    [[nodiscard]] constexpr bool all_idempotent() const noexcept {
        for (std::size_t i = 0; i < N; ++i)
            if (status_[i] != status::skipped && !traits_[i].idempotent) return false;
        return true;
    }

private:
    enum class status : std::uint8_t { pending, done, redirected, skipped };

    [[nodiscard]] constexpr std::uint16_t replies_of(std::size_t i) const noexcept {
        // ASKING's reply is framed as one more of the command's, as a transaction's are
        return static_cast<std::uint16_t>(traits_[i].replies + (asking() ? 1 : 0));
    }

    /// A command sent before by an earlier exchange (a release called again
    /// after one whose outcome stayed unknown) starts in its resend form.
    constexpr void first_forms() noexcept {
        for (std::size_t i = 0; i < N; ++i)
            if (traits_[i].has_resend && traits_[i].sent_before) form_[i] = form::resend;
    }

    constexpr void frame_from(std::size_t i) noexcept {
        while (i < N && !writes(i)) ++i;
        at_ = i;
        left_ = i < N ? replies_of(i) : 0;
        kept_ = false;
    }

    /// A new attempt: every command that took part goes again (a pipeline
    /// again in whole: the runner forgets its results), in its resend form
    /// where an earlier send may have run.
    constexpr void start_again(bool sent) noexcept {
        for (std::size_t i = 0; i < N; ++i) {
            if (status_[i] == status::skipped) continue;
            status_[i] = status::pending;
            if (sent && traits_[i].has_resend && (form_[i] == form::first || form_[i] == form::fallback))
                form_[i] = form::resend;
        }
        asking_ = false;
        fallback_round_ = false;
        fallbacks_due_ = false;
    }

    std::array<command_traits, N> traits_;
    std::array<form, N> form_{};
    std::array<status, N> status_{};
    routing::retry_fsm retries_;
    routing::classified_error redirect_{};
    std::size_t at_ = 0;         ///< the command the next reply belongs to
    std::uint16_t left_ = 0;     ///< its replies still to come, the next one included
    bool kept_ = false;          ///< one of them was an error, kept as its outcome
    bool asking_ = false;        ///< this attempt's commands go after ASKING
    bool fallbacks_due_ = false; ///< a command asked for its fallback in this round
    bool fallback_round_ = false;
    bool sent_ = false;          ///< a byte of some attempt may have reached a server
};

/// The error an exchange ends with after a failed attempt it will not retry:
/// `cause` (the connection's error), told with whether the request may have
/// been applied. `sent_again`: the request was sent more than once.
[[nodiscard, gnu::cold, gnu::noinline]] inline error give_up(const error& cause, const decision& d, bool idempotent,
                                                             unsigned retries) {
    if (!d.outcome_unknown) return cause;
    std::string text = cause.message();
    if (!idempotent)
        text += " (outcome unknown: the request was sent and may have been applied; not sent again, since running it "
                "twice is not the same as once)";
    else
        text += " (outcome unknown: the request was sent and may have been applied; sent " + std::to_string(retries + 1) +
                (retries == 0 ? " time" : " times") + ", and no reply came back)";
    return error::with_unknown_outcome(cause.kind(), text);
}

/// How a failed attempt's error counts for the exchange.
[[nodiscard]] inline failure failure_of(const error& e) noexcept {
    return e.kind() == errc::timeout ? failure::timed_out : failure::lost;
}

/// Calls `f(std::integral_constant<std::size_t, I>{})` for the I that equals
/// `i`: a runner reaches the command an exchange names (at()) in a pack.
template <std::size_t N, class F>
[[gnu::always_inline]] inline void at_index(std::size_t i, F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (void)((I == i ? (f(std::integral_constant<std::size_t, I>{}), true) : false) || ...);
    }(std::make_index_sequence<N>{});
}

/// The exchange of one command value.
template <bool Redirects, commands::Command C>
[[nodiscard]] constexpr exchange<1, Redirects> exchange_of(const C& command,
                                                           ::hotstate::redis::retry_policy budget = one_retry()) noexcept {
    return exchange<1, Redirects>({traits_of(command)}, budget);
}

}  // namespace hotstate::detail::redis::proto
