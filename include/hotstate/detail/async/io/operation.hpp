// hotstate/detail/async/io/operation.hpp: one store operation on a multiplexed
// connection, as an Asio asynchronous operation.
//
// The operation owns what the command value views (the encoded key, the value,
// the owner token) and the caller's completion handler; the command itself is
// rebuilt from that storage when needed (encoding, fallback, interpretation),
// so the request and the reply are exactly those of the blocking backends
// (detail/redis/proto/commands.hpp). The completion signature is
// void(std::exception_ptr, T): callbacks, use_awaitable and use_future all take it.
//
// The hot path, per operation: one block from a per-thread cache (no malloc
// once warm), the request encoded straight into the connection's output
// buffer when written, and the handler dispatched on its executor: a caller
// on the thread that read the reply (a coroutine on the io_context) resumes
// inline, without a trip through the scheduler's queue.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <concepts>
#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>

#include <hotstate/detail/async/io/connection.hpp>
#include <hotstate/detail/base/block_cache.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::async {

/// Operation data that tells an outcome-unknown failure its own way (a lock
/// acquire's: lock_outcome_unknown with its owner token).
template <class D>
concept TellsUnknownOutcome = requires(D& data, const error& e) {
    { data.unknown_outcome(e) } -> std::same_as<std::exception_ptr>;
};

/// An operation's storage and meaning: `data` owns the arguments, `make(data)`
/// builds the command, `finish(result, data)` turns its result into the caller's T.
template <class Data, class Make, class Finish>
struct state {
    Data data;
    Make make;
    Finish finish;
    std::string_view context;  ///< "hotstate: get on category 'x': " is built from this only on failure
    std::string_view category;
};

/// Frees `op`, which owns `handler`, then hands the result to the handler on
/// its executor (`fallback` when it has none): inline when this thread may run
/// it there (dispatch), else posted. Freeing first lets the handler start the
/// next operation with the block just released.
template <class Op, class Handler, class Value>
void complete_and_free(Op* op, Handler& handler, const asio::any_io_executor& fallback, std::exception_ptr e,
                       Value value) {
    auto executor = asio::get_associated_executor(handler, fallback);
    Handler owned = std::move(handler);
    delete op;
    asio::dispatch(executor, [handler = std::move(owned), e = std::move(e), value = std::move(value)]() mutable {
        std::move(handler)(e, std::move(value));
    });
}

/// Where an operation goes: the standalone backend's one connection. A reply
/// is a standalone server's (MOVED would be an error like any other), and a
/// request the exchange sends again goes again on that connection.
///
/// A route that follows redirects (the cluster's, cluster_route.hpp) has
/// `redirects` true, a retry `budget()`, and takes the operation over after a
/// redirect (on_redirect), a connection lost under it (on_lost) or one that
/// could not be had (on_unreachable): it asks the exchange, sends the
/// operation where it says (now, after a backoff, to an ASK's node), or
/// returns the error to complete it with.
struct direct_route {
    static constexpr bool redirects = false;
    connection* to;
    void submit(pending* p) const { to->submit(p); }
};

/// The pending request of one state and handler (see the banner), sent where
/// `Route` says, as an exchange (detail/redis/proto/exchange.hpp).
template <class T, class State, class Handler, class Route = direct_route>
class operation final : public pending {
    using command_type = std::remove_cvref_t<decltype(std::declval<State&>().make(std::declval<State&>().data))>;

public:
    operation(State s, Handler h, asio::any_io_executor fallback_executor, Route route = {})
        : state_(std::move(s)), handler_(std::move(h)), executor_(std::move(fallback_executor)), route_(std::move(route)),
          ex_(proto::exchange_of<Route::redirects>(state_.make(state_.data), budget(route_))) {}
    static void* operator new(std::size_t n) { return block_cache::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { block_cache::deallocate(p, n); }

    void write_request(std::string& out) override {
        const auto command = state_.make(state_.data);
        if constexpr (Route::redirects) {
            if (ex_.asking()) redis::commands::asking{}.write(out);
        }
        proto::write_request(out, command, ex_.form_of(0));
        replies_left = ex_.round_replies();
        ex_.round_written();
        kept_.reset();
    }

    reply_effect on_reply(::hotstate::redis::reply reply, std::string_view address, bool) override {
        switch (ex_.on_reply(reply.is_error())) {
            case proto::part::outcome: break;
            case proto::part::more: return reply_effect::more;
            case proto::part::keep: kept_ = std::move(reply); return reply_effect::more;
            case proto::part::kept_outcome: reply = std::move(kept_); break;
        }
        const auto command = state_.make(state_.data);
        const proto::verdict judged = ex_.judge(reply, proto::wants_fallback(command, ex_.form_of(0), reply),
                                                Route::redirects ? redis::commands::host_of(address) : std::string_view());
        if (judged == proto::verdict::fallback) [[unlikely]] {
            (void)ex_.after_round();
            return reply_effect::again;  // written in place of the request, on this connection
        }
        if constexpr (Route::redirects) {
            if (judged == proto::verdict::redirected) {
                finish(route_.on_redirect(this, ex_, reply, address, command_type::name));  // `this` may be gone
                return reply_effect::done;
            }
        }
        // the failure leaves every catch block before the handler is posted: no
        // reference to an exception stays on this thread while another uses it
        std::exception_ptr failure;
        std::optional<T> value;
        try {
            value.emplace(state_.finish(command.interpret(reply, redis::commands::reply_context(address)), state_.data));
        } catch (const error& e) {
            failure = failure_of(with_context(e));
        } catch (...) {
            failure = std::current_exception();
        }
        if (value)
            complete(nullptr, std::move(*value));
        else
            complete(std::move(failure), T{});
        return reply_effect::done;
    }

    bool on_lost(const error& why, std::chrono::steady_clock::time_point now) override {
        if constexpr (Route::redirects) {
            finish(route_.on_lost(this, ex_, why, command_type::name));  // `this` may be gone
            return false;
        } else {
            const proto::decision d = ex_.on_failure(proto::failure_of(why), true);
            if (d.retry && deadline > now) return true;  // again, on the reconnected connection
            proto::decision final = d;
            final.outcome_unknown = true;  // it was written: it may have run
            complete(failure_of(with_context(proto::give_up(why, final, ex_.all_idempotent(), ex_.retries()))),
                     T{});
            return false;
        }
    }

    void on_error(std::exception_ptr e) override {
        std::exception_ptr failure;
        std::optional<error> cause;
        try {
            std::rethrow_exception(std::move(e));
        } catch (const error& what) {
            cause.emplace(what);
        } catch (...) {
            failure = std::current_exception();
        }
        if (cause) {
            if constexpr (Route::redirects) {
                // nothing of it was written here: another node may serve it
                if (cause->kind() == errc::connection || cause->kind() == errc::timeout)
                    return finish(route_.on_unreachable(this, ex_, *cause, command_type::name));  // `this` may be gone
            }
            if (ex_.sent()) {  // an earlier attempt was written: it may have run
                proto::decision d;
                d.outcome_unknown = true;
                cause = proto::give_up(*cause, d, ex_.all_idempotent(), ex_.retries());
            }
            failure = failure_of(with_context(*cause));
        }
        complete(std::move(failure), T{});
    }

    /// The route, for the front end to submit through (start()).
    [[nodiscard]] Route& route() noexcept { return route_; }

private:
    [[nodiscard]] static ::hotstate::redis::retry_policy budget(const Route& route) noexcept {
        if constexpr (Route::redirects)
            return route.budget();
        else
            return proto::one_retry();
    }

    /// Completes with the route's final error, if it gave one (else the route took the operation).
    void finish(std::optional<error> final) {
        if (final) complete(failure_of(with_context(*final)), T{});
    }

    /// The exception a failure completes the caller with: an outcome-unknown
    /// one told as the operation's data says, when it says (a lock acquire's
    /// carries its owner token: lock_outcome_unknown).
    std::exception_ptr failure_of(const error& e) {
        if constexpr (TellsUnknownOutcome<decltype(state_.data)>) {
            if (e.outcome_unknown()) return state_.data.unknown_outcome(e);
        }
        return std::make_exception_ptr(e);
    }

    [[nodiscard]] error with_context(const error& e) const {
        if (state_.context.empty()) return e;
        std::string text = "hotstate: ";
        text.append(state_.context).append(" on category '").append(state_.category).append("': ").append(e.message());
        return error(e, text);
    }

    void complete(std::exception_ptr e, T value) { complete_and_free(this, handler_, executor_, std::move(e), std::move(value)); }

    State state_;
    Handler handler_;
    asio::any_io_executor executor_;
    Route route_;
    proto::exchange<1, Route::redirects> ex_;
    ::hotstate::redis::reply kept_;  ///< a transaction's first error: its outcome once the rest is read
};

/// Starts `s` where `route` says and completes `token` with void(std::exception_ptr, T).
template <class T, class Route, class State, class Token>
auto start_routed(Route route, const asio::any_io_executor& io, State s, Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr, T)>(
        [&io](auto handler, Route r, State st) {
            using operation_type = operation<T, State, decltype(handler), Route>;
            auto* op = new operation_type(std::move(st), std::move(handler), io, std::move(r));
            op->route().submit(op);
        },
        token, std::move(route), std::move(s));
}

/// Starts `s` on `c` and completes `token` with void(std::exception_ptr, T).
template <class T, class State, class Token>
auto start(connection& c, const asio::any_io_executor& io, State s, Token&& token) {
    return start_routed<T>(direct_route{&c}, io, std::move(s), std::forward<Token>(token));
}

}  // namespace hotstate::detail::async
