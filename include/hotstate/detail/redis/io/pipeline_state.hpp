// hotstate/detail/redis/io/pipeline_state.hpp: running a pipeline of
// operations (hotstate::redis::ops, redis/batch.hpp) on a blocking connection:
// where its results gather (pipeline_state), how a runner reaches an
// operation's command and decoding (pipeline_access), and one attempt of its
// exchange on a connection (run_pipeline). What the operations are is the
// front end's (redis/batch.hpp); how they run is here, below the routers,
// which run pipelines without knowing the operations' types.
#pragma once

#include <array>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <hotstate/detail/base/category_values.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::redis {

/// `failure` of `operation` on category `category_name` told with that first
/// ("hotstate: get on category 'sessions': redis ...: GET: ...").
[[nodiscard, gnu::cold, gnu::noinline]] inline error operation_error(std::string_view operation,
                                                                    std::string_view category_name,
                                                                    const error& failure) {
    std::string text = "hotstate: ";
    text.append(operation).append(" on category '").append(category_name).append("': ").append(failure.message());
    return error(failure, text);
}

/// Throws operation_error().
[[noreturn, gnu::cold, gnu::noinline]] inline void fail_operation(std::string_view operation,
                                                                  std::string_view category_name,
                                                                  const error& failure) {
    throw operation_error(operation, category_name, failure);
}

/// The bytes of a value reply decoded with category `C`'s codec into `out`
/// (the pipeline's result slot: decoded in place).
template <class C>
void decode_value(std::string_view operation, std::optional<std::string_view> bytes,
                  std::optional<typename C::value_type>& out) {
    if (!bytes) {
        out.reset();
        return;
    }
    try {
        decode_into<C>(*bytes, out);
    } catch (const error& failure) {
        throw error(failure.kind(), operation_context<C>(operation) + failure.message());
    }
}

/// How the pipeline runners reach an operation's command and decoding, which
/// are not part of the operation's public face.
struct pipeline_access {
    /// The command value the operation sends (views of the operation's buffers).
    template <class Op>
    static auto command(const Op& op) noexcept {
        return op.command();
    }
    template <class Op>
    using command_type = decltype(std::declval<const Op&>().command());
    /// The key the command touches (routing).
    template <class Op>
    static std::string_view key(const Op& op) noexcept {
        return op.command().key;
    }
    /// The command's name, for messages.
    template <class Op>
    static constexpr std::string_view name = command_type<Op>::name;
    /// Whether it only reads (may go to a replica when reads are allowed there).
    template <class Op>
    static constexpr bool reads_only = Op::reads_only;
    /// The operation's name ("get"), for messages.
    template <class Op>
    static constexpr std::string_view operation = Op::operation;
    /// Decodes the command's answer into the operation's result (the
    /// asynchronous pipeline interprets replies itself, one at a time).
    template <class Op, class Answer>
    static void decode(const Op& op, Answer&& answer, typename Op::result_type& out) {
        op.decode(std::forward<Answer>(answer), out);
    }

    /// Interprets `r`, the outcome of `op`'s command `command` (the exchange
    /// judged it: no redirect reaches here), into `out`; a failure names the
    /// operation and its category.
    template <class Op, class Command>
    static void receive(const Op& op, const Command& command, ::hotstate::redis::reply_view r, std::string_view address,
                        typename Op::result_type& out) {
        typename Command::result_type answer{};
        try {
            answer = command.interpret(r, commands::reply_context(address));
        } catch (const error& failure) {
            fail_operation(Op::operation, Op::category::name, failure);
        }
        op.decode(answer, out);
    }
};

/// Where a pipeline's results gather while its operations run, on one
/// connection or in several groups (one per cluster node). Each result is
/// decoded in place, in the tuple the pipeline returns.
template <class... Ops>
class pipeline_state {
public:
    static constexpr std::size_t size = sizeof...(Ops);
    /// Whether every operation may be sent again once it may have reached the server.
    static constexpr bool idempotent = (Ops::idempotent && ...);
    /// Per operation, the same.
    static constexpr std::array<bool, size> idempotent_each{Ops::idempotent...};
    static_assert((std::is_default_constructible_v<typename Ops::result_type> && ...),
                  "a pipeline result is decoded in place: its type needs a default value");

    /// Forgets everything (a router runs the attempt again).
    void reset() {
        results_ = {};
        deferred_.fill(false);
        failures_.fill(nullptr);
    }

    /// Keeps the failure of operation `i` for finish().
    void fail(std::size_t i, std::exception_ptr failure) noexcept { failures_[i] = std::move(failure); }
    /// Forgets what operation `i` did (it is run again alone).
    void forget(std::size_t i) noexcept { failures_[i] = nullptr; }

    /// Where the result of operation I goes.
    template <std::size_t I>
    auto& slot() noexcept {
        return std::get<I>(results_);
    }

    /// Marks operation `i` to be run alone (its reply was a redirect).
    void defer(std::size_t i) noexcept { deferred_[i] = true; }
    [[nodiscard]] bool deferred(std::size_t i) const noexcept { return deferred_[i]; }
    void undefer(std::size_t i) noexcept { deferred_[i] = false; }

    /// The results in call order; throws the failure of the first operation
    /// that failed (the others are the same story told later).
    std::tuple<typename Ops::result_type...> finish() {
        for (auto& failure : failures_)
            if (failure) std::rethrow_exception(failure);
        return std::move(results_);
    }

private:
    std::tuple<typename Ops::result_type...> results_{};
    std::array<bool, size> deferred_{};
    std::array<std::exception_ptr, size> failures_{};
};

/// One attempt of pipeline exchange `ex` for `ops` (whose commands are
/// `all`) on `c`: every selected operation's request in one write, each
/// outcome interpreted into `state` as its reply is read (an operation that
/// fails keeps its error for finish(), so the others are still interpreted),
/// the fallbacks in a further round; a redirected operation is deferred, to
/// be run alone through the router. An I/O error throws from the connection
/// (broken): the router asks the exchange whether to run it again.
template <bool Redirects, class... Cmds, class... Ops>
void run_pipeline(::hotstate::redis::connection& c, proto::exchange<sizeof...(Ops), Redirects>& ex,
                  const std::tuple<Cmds...>& all, pipeline_state<Ops...>& state, const Ops&... ops) {
    const std::tuple<const Ops&...> each{ops...};
    attempt_all(
        c, ex, all,
        [&](auto index, ::hotstate::redis::reply_view r) {
            constexpr std::size_t i = decltype(index)::value;
            try {
                pipeline_access::receive(std::get<i>(each), std::get<i>(all), r, c.address(), state.template slot<i>());
            } catch (...) {
                state.fail(i, std::current_exception());
            }
        },
        [&](std::size_t i, ::hotstate::redis::reply_view) { state.defer(i); });
}

}  // namespace hotstate::detail::redis
