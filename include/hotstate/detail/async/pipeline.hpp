// hotstate/detail/async/pipeline.hpp: a pipeline of hotstate::redis::ops on a
// multiplexed connection, as one Asio asynchronous operation.
//
// The operation owns copies of the ops (each owns its key and value bytes) and
// the caller's handler; it is one `pending` of the connection: its commands,
// the very command values the blocking pipeline sends, are written together,
// and its replies arrive one by one (on_part), each interpreted at once into
// the result tuple (the reply is freed after it). A command with more than one
// reply (an increment with an expiry: MULTI ... EXEC) keeps its first error
// reply, as the blocking runner does. Every operation is interpreted even when
// an earlier one failed; the first failure completes the caller. A reply that
// asks for a fallback (GETDEL unknown to a server before 6.2) is noted, and
// once every reply is in, the operation is queued again with the fallbacks
// only: nothing of them ran, so nothing runs twice.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <array>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>

#include <hotstate/detail/async/connection.hpp>
#include <hotstate/detail/async/operation.hpp>
#include <hotstate/detail/redis/commands.hpp>
#include <hotstate/redis/batch.hpp>

namespace hotstate::detail::async {

/// The pending pipeline of `Ops` completing `Handler` (see the banner).
template <class Handler, class... Ops>
class pipeline_operation final : public pending {
    using access = redis::pipeline_access;
    using results_type = std::tuple<typename Ops::result_type...>;
    static constexpr std::size_t count = sizeof...(Ops);

public:
    pipeline_operation(std::tuple<Ops...> ops, Handler h, asio::any_io_executor fallback_executor)
        : ops_(std::move(ops)), handler_(std::move(h)), executor_(std::move(fallback_executor)) {
        idempotent = (Ops::idempotent && ...);
        own_replies = true;
    }
    static void* operator new(std::size_t n) { return block_cache::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { block_cache::deallocate(p, n); }

    void write_request(std::string& out) override {
        if (!fallback_phase_) {  // the first send, or an idempotent pipeline sent again whole
            results_ = {};
            failure_ = nullptr;
            needs_fallback_.fill(false);
        }
        replies_left = 0;
        for_each([&]<std::size_t I>(const auto& op, std::integral_constant<std::size_t, I>) {
            if (!selected(I)) return;
            const auto command = access::command(op);
            using command_type = std::remove_cvref_t<decltype(command)>;
            if constexpr (redis::commands::HasFallback<command_type>) {
                if (fallback_phase_) {
                    command.write_fallback(out);
                    replies_left += 1;
                    return;
                }
            }
            command.write(out);
            replies_left += replies_of(command);
        });
        at_ = first_selected(0);
        left_in_op_ = replies_for(at_);
        held_.reset();
    }

    void on_part(std::unique_ptr<redisReply, reply_free>& reply, std::string_view address) override {
        take(reply, address);
    }

    bool on_reply(::hotstate::redis::reply_view reply, std::string_view address) override {
        // the last reply: as a part, then the pipeline is done (or its fallbacks go out)
        take_view(reply, address);
        bool again = false;
        for (const bool f : needs_fallback_) again = again || f;
        if (again && !fallback_phase_) {
            fallback_phase_ = true;
            return false;
        }
        if (failure_)
            complete(failure_, results_type{});
        else
            complete(nullptr, std::move(results_));
        return true;
    }

    void on_error(std::exception_ptr e) override { complete(std::move(e), results_type{}); }

private:
    template <class F>
    void for_each(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::get<I>(ops_), std::integral_constant<std::size_t, I>{}), ...);
        }(std::index_sequence_for<Ops...>{});
    }

    template <class Command>
    static std::size_t replies_of(const Command& command) {
        if constexpr (redis::commands::MultiReply<Command>)
            return command.replies();
        else
            return 1;
    }

    [[nodiscard]] bool selected(std::size_t i) const noexcept { return !fallback_phase_ || needs_fallback_[i]; }
    [[nodiscard]] std::size_t first_selected(std::size_t from) const noexcept {
        while (from < count && !selected(from)) ++from;
        return from;
    }
    /// How many replies operation `i` gets in this phase.
    std::size_t replies_for(std::size_t i) {
        std::size_t n = 1;
        if (fallback_phase_ || i >= count) return n;
        for_each([&]<std::size_t I>(const auto& op, std::integral_constant<std::size_t, I>) {
            if (I == i) n = replies_of(access::command(op));
        });
        return n;
    }

    /// One reply of the operation at `at_`.
    void take(std::unique_ptr<redisReply, reply_free>& reply, std::string_view address) {
        if (left_in_op_ > 1) {  // a transaction's queued reply: its first error is its outcome
            --left_in_op_;
            if (!held_ && ::hotstate::redis::reply_view(reply.get()).is_error()) held_ = std::move(reply);
            return;
        }
        take_view(::hotstate::redis::reply_view(reply.get()), address);
    }

    /// The operation at `at_`'s outcome is `reply` (or its transaction's first error); on to the next.
    void take_view(::hotstate::redis::reply_view reply, std::string_view address) {
        if (held_) reply = ::hotstate::redis::reply_view(held_.get());
        for_each([&]<std::size_t I>(const auto& op, std::integral_constant<std::size_t, I>) {
            if (I != at_) return;
            interpret<I>(op, reply, address);
        });
        held_.reset();
        at_ = first_selected(at_ + 1);
        left_in_op_ = replies_for(at_);
    }

    template <std::size_t I, class Op>
    void interpret(const Op& op, ::hotstate::redis::reply_view reply, std::string_view address) {
        const auto command = access::command(op);
        using command_type = std::remove_cvref_t<decltype(command)>;
        if constexpr (redis::commands::HasFallback<command_type>) {
            if (!fallback_phase_ && command.fallback_on(reply)) [[unlikely]] {
                needs_fallback_[I] = true;
                return;
            }
        }
        try {
            typename command_type::result_type answer{};
            try {
                answer = command.interpret(reply, redis::commands::reply_context(address));
            } catch (const error& failure) {
                redis::fail_operation(access::operation<Op>, Op::category::name, failure);
            }
            access::decode(op, answer, std::get<I>(results_));
        } catch (...) {
            if (!failure_) failure_ = std::current_exception();
        }
    }

    void complete(std::exception_ptr e, results_type value) {
        complete_and_free(this, handler_, executor_, std::move(e), std::move(value));
    }

    std::tuple<Ops...> ops_;
    Handler handler_;
    asio::any_io_executor executor_;
    results_type results_{};
    std::exception_ptr failure_;
    std::array<bool, count> needs_fallback_{};
    bool fallback_phase_ = false;
    std::size_t at_ = 0;          ///< the operation the next reply belongs to
    std::size_t left_in_op_ = 1;  ///< its replies still to come
    std::unique_ptr<redisReply, reply_free> held_;  ///< a transaction's first error reply
};

/// Starts the pipeline `ops` on `c`; completes `token` with void(std::exception_ptr, std::tuple<results...>).
template <class Token, class... Ops>
auto start_pipeline(connection& c, const asio::any_io_executor& io, std::tuple<Ops...> ops, Token&& token) {
    using results_type = std::tuple<typename Ops::result_type...>;
    return asio::async_initiate<Token, void(std::exception_ptr, results_type)>(
        [&c, &io](auto handler, std::tuple<Ops...> owned) {
            using handler_type = decltype(handler);
            c.submit(new pipeline_operation<handler_type, Ops...>(std::move(owned), std::move(handler), io));
        },
        token, std::move(ops));
}

}  // namespace hotstate::detail::async
