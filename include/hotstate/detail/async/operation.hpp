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

/// The pending request of one state and handler (see the banner).
template <class T, class State, class Handler>
class operation final : public pending {
public:
    operation(State s, Handler h, asio::any_io_executor fallback_executor)
        : state_(std::move(s)), handler_(std::move(h)), executor_(std::move(fallback_executor)) {
        idempotent = command_type::idempotent;
    }
    static void* operator new(std::size_t n) { return block_cache::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { block_cache::deallocate(p, n); }

    void write_request(std::string& out) override {
        const auto command = state_.make(state_.data);
        first_error.reset();
        if constexpr (redis::commands::HasResend<command_type>) {
            if (std::exchange(written_, true)) {  // sent before: its reply was lost with a connection
                replies_left = 1;
                return command.resend().write_fallback(out);  // EVAL: no NOSCRIPT turn on a new connection
            }
        }
        if constexpr (redis::commands::HasFallback<command_type>) {
            if (fallback_) {
                replies_left = 1;
                return command.write_fallback(out);
            }
        }
        if constexpr (redis::commands::MultiReply<command_type>) replies_left = command.replies();
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
        try {
            value.emplace(state_.finish(command.interpret(reply, redis::commands::reply_context(address)), state_.data));
        } catch (const error& e) {
            failure = std::make_exception_ptr(with_context(e));
        } catch (...) {
            failure = std::current_exception();
        }
        if (value)
            complete(nullptr, std::move(*value));
        else
            complete(std::move(failure), T{});
        return true;
    }

    void on_error(std::exception_ptr e) override {
        std::exception_ptr failure;
        try {
            std::rethrow_exception(std::move(e));
        } catch (const error& cause) {
            failure = std::make_exception_ptr(with_context(cause));
        } catch (...) {
            failure = std::current_exception();
        }
        complete(std::move(failure), T{});
    }

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
    bool fallback_ = false;  ///< the command's fallback replaces its request (an old server, a flushed script)
    bool written_ = false;   ///< written once already (HasResend commands only)
};

/// Starts `s` on `c` and completes `token` with void(std::exception_ptr, T).
template <class T, class State, class Token>
auto start(connection& c, const asio::any_io_executor& io, State s, Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr, T)>(
        [&c, &io](auto handler, State st) {
            using handler_type = decltype(handler);
            c.submit(new operation<T, State, handler_type>(std::move(st), std::move(handler), io));
        },
        token, std::move(s));
}

}  // namespace hotstate::detail::async
