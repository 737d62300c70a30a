// hotstate/detail/async/operation.hpp: one store operation on a multiplexed
// connection, as an Asio asynchronous operation.
//
// The operation owns what the command value views (the encoded key, the value,
// the owner token) and the caller's completion handler; the command itself is
// rebuilt from that storage when needed (encoding, fallback, interpretation),
// so the request and the reply are exactly those of the blocking backends
// (detail/redis/commands.hpp). The completion signature is
// void(std::exception_ptr, T): callbacks, use_awaitable and use_future all take it.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

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

/// The pending request of one state and handler (see the banner).
template <class T, class State, class Handler>
class operation final : public pending {
public:
    operation(State s, Handler h, asio::any_io_executor fallback_executor)
        : state_(std::move(s)), handler_(std::move(h)), executor_(std::move(fallback_executor)) {
        const auto command = state_.make(state_.data);
        idempotent = decltype(command)::idempotent;
        if constexpr (redis::commands::MultiReply<std::remove_cvref_t<decltype(command)>>) replies_left = command.replies();
        command.write(request);
    }

    bool on_reply(::hotstate::redis::reply_view reply, std::string_view address) override {
        const auto command = state_.make(state_.data);
        using command_type = std::remove_cvref_t<decltype(command)>;
        if constexpr (redis::commands::HasFallback<command_type>) {
            if (command.fallback_on(reply)) [[unlikely]] {
                request.clear();
                command.write_fallback(request);
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

    void complete(std::exception_ptr e, T value) {
        auto executor = asio::get_associated_executor(handler_, executor_);
        Handler handler = std::move(handler_);
        delete this;
        asio::post(executor, [handler = std::move(handler), e = std::move(e), value = std::move(value)]() mutable {
            std::move(handler)(e, std::move(value));
        });
    }

    State state_;
    Handler handler_;
    asio::any_io_executor executor_;
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
