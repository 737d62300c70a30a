// hotstate/detail/async/operation.hpp: one store operation on a multiplexed
// connection, as an Asio asynchronous operation.
//
// The operation owns what the command value views (the encoded key, the value,
// the owner token) and the caller's completion handler; the command itself is
// rebuilt from that storage when needed (encoding, fallback, interpretation),
// so the request and the reply are exactly those of the blocking backends
// (detail/redis/commands.hpp). The completion signature is
// void(std::exception_ptr, T): callbacks, use_awaitable and use_future all take it.
//
// The hot path, per operation: one block from a per-thread cache (no malloc
// once warm), the request encoded straight into the connection's output
// buffer when written, and the handler dispatched on its executor: a caller
// on the thread that read the reply (a coroutine on the io_context) resumes
// inline, without a trip through the scheduler's queue.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>

#include <hotstate/detail/async/connection.hpp>
#include <hotstate/detail/redis/commands.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::async {

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

/// Operation blocks reused per thread. With 64 requests in flight, malloc's
/// own per-thread cache (7 blocks of a size) overflows on every batch and each
/// operation pays a trip into the allocator's slow path; here a thread keeps
/// up to `kept` blocks of each size class (128 to 1024 bytes) for reuse. A
/// block freed on another thread joins that thread's cache.
class block_cache {
    static constexpr std::size_t classes = 4;
    static constexpr std::size_t kept = 512;
    struct node {
        node* next;
    };
    struct lists {
        node* head[classes]{};
        std::size_t count[classes]{};
        lists() = default;
        lists(const lists&) = delete;
        lists& operator=(const lists&) = delete;
        ~lists() {
            gone() = true;
            for (node* n : head)
                while (n != nullptr) ::operator delete(std::exchange(n, n->next));
        }
    };
    static bool& gone() noexcept {  // trivially destructible: readable while the thread's lists are destroyed
        thread_local bool dead = false;
        return dead;
    }
    static lists& mine() noexcept {
        thread_local lists cache;
        return cache;
    }
    static constexpr int class_of(std::size_t n) noexcept {
        return n <= 128 ? 0 : n <= 256 ? 1 : n <= 512 ? 2 : n <= 1024 ? 3 : -1;
    }

public:
    static void* allocate(std::size_t n) {
        const int c = class_of(n);
        if (c < 0 || gone()) return ::operator new(n);
        lists& l = mine();
        if (node* head = l.head[c]) {
            l.head[c] = head->next;
            --l.count[c];
            return head;
        }
        return ::operator new(std::size_t{128} << c);
    }
    static void deallocate(void* p, std::size_t n) noexcept {
        const int c = class_of(n);
        if (c < 0 || gone()) return ::operator delete(p);
        lists& l = mine();
        if (l.count[c] >= kept) return ::operator delete(p);
        l.head[c] = ::new (p) node{l.head[c]};
        ++l.count[c];
    }
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
/// is a standalone server's (MOVED would be an error like any other).
///
/// A route that follows redirects (the cluster's, cluster_route.hpp) has
/// `redirects` true, says whether the next write goes after ASKING (asking()),
/// and takes the operation back after a redirect (follow) or a failure that
/// left nothing run (retry): it sends it again, now or after a backoff, or
/// says no and hands over the error to complete with.
struct direct_route {
    static constexpr bool redirects = false;
    connection* to;
    void submit(pending* p) const { to->submit(p); }
};

/// The pending request of one state and handler (see the banner), sent where `Route` says.
template <class T, class State, class Handler, class Route = direct_route>
class operation final : public pending {
public:
    operation(State s, Handler h, asio::any_io_executor fallback_executor, Route route = {})
        : state_(std::move(s)), handler_(std::move(h)), executor_(std::move(fallback_executor)), route_(std::move(route)) {
        idempotent = command_type::idempotent;
    }
    static void* operator new(std::size_t n) { return block_cache::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { block_cache::deallocate(p, n); }

    void write_request(std::string& out) override {
        const auto command = state_.make(state_.data);
        first_error.reset();
        // ASK: ASKING in the same write, its +OK skipped as a transaction's queued reply is
        std::size_t before = 0;
        if constexpr (Route::redirects) {
            if (route_.asking()) {
                redis::commands::asking{}.write(out);
                before = 1;
            }
        }
        replies_left = before + 1;
        if constexpr (redis::commands::HasResend<command_type>) {
            if (std::exchange(written_, true))  // sent before: its reply was lost with a connection
                return command.resend().write_fallback(out);  // EVAL: no NOSCRIPT turn on a new connection
        }
        if constexpr (redis::commands::HasFallback<command_type>) {
            if (fallback_) return command.write_fallback(out);
        }
        if constexpr (redis::commands::MultiReply<command_type>) replies_left = before + command.replies();
        command.write(out);
    }

    bool on_reply(::hotstate::redis::reply_view reply, std::string_view address) override {
        const auto command = state_.make(state_.data);
        if constexpr (redis::commands::HasFallback<command_type>) {
            if (!fallback_ && command.fallback_on(reply)) [[unlikely]] {
                fallback_ = true;  // written in place of the request from now on
                return false;
            }
        }
        // the failure leaves every catch block before the handler is posted: no
        // reference to an exception stays on this thread while another uses it
        std::exception_ptr failure;
        std::optional<T> value;
        std::optional<redis::commands::redirected> redirect;
        try {
            value.emplace(state_.finish(
                command.interpret(reply, redis::commands::reply_context(address, Route::redirects)), state_.data));
        } catch (redis::commands::redirected& r) {  // thrown only when Route::redirects
            redirect.emplace(std::move(r));
        } catch (const error& e) {
            failure = std::make_exception_ptr(with_context(e));
        } catch (...) {
            failure = std::current_exception();
        }
        if constexpr (Route::redirects) {
            if (redirect) {
                // the command did not run: the next send is a first one (not a resend)
                written_ = false;
                std::optional<error> final;
                if (route_.follow(this, *redirect, command_type::name, final)) return true;  // `this` may be gone
                failure = std::make_exception_ptr(with_context(*final));
            }
        }
        if (value)
            complete(nullptr, std::move(*value));
        else
            complete(std::move(failure), T{});
        return true;
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
                std::optional<error> final;
                if (route_.retry(this, *cause, command_type::name, final)) return;  // `this` may be gone
                cause = std::move(final);
            }
            failure = std::make_exception_ptr(with_context(*cause));
        }
        complete(std::move(failure), T{});
    }

    /// The route, for the front end to submit through (start()).
    [[nodiscard]] Route& route() noexcept { return route_; }

private:
    [[nodiscard]] error with_context(const error& e) const {
        if (state_.context.empty()) return e;
        std::string text = "hotstate: ";
        text.append(state_.context).append(" on category '").append(state_.category).append("': ").append(e.message());
        return error(e, text);
    }

    void complete(std::exception_ptr e, T value) { complete_and_free(this, handler_, executor_, std::move(e), std::move(value)); }

    using command_type = std::remove_cvref_t<decltype(std::declval<State&>().make(std::declval<State&>().data))>;

    State state_;
    Handler handler_;
    asio::any_io_executor executor_;
    Route route_;
    bool fallback_ = false;  ///< the command's fallback replaces its request (an old server, a flushed script)
    bool written_ = false;   ///< written once already (HasResend commands only)
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
