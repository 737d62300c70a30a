// hotstate/detail/async/io/pipeline.hpp: a pipeline of hotstate::redis::ops on a
// multiplexed connection, as one Asio asynchronous operation.
//
// The operation owns copies of the ops (each owns its key and value bytes),
// the pipeline's exchange (detail/redis/proto/exchange.hpp) and the caller's
// handler; it is one `pending` of the connection: its commands, the very
// command values the blocking pipeline sends, are written together in the
// forms the exchange says, and its replies arrive one by one, each framed and
// judged by the exchange and its outcome interpreted at once into the result
// tuple (the reply is freed after it). Every operation is interpreted even
// when an earlier one failed; the first failure in call order completes the
// caller. Fallbacks the exchange finds due go in a further round on the same
// connection: nothing of them ran, so nothing runs twice.
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

#include <hotstate/detail/async/io/connection.hpp>
#include <hotstate/detail/async/io/operation.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/io/pipeline_state.hpp>

namespace hotstate::detail::async {

/// The pending pipeline of `Ops` completing `Handler` (see the banner).
template <class Handler, class... Ops>
class pipeline_operation final : public pending {
    using access = redis::pipeline_access;
    using results_type = std::tuple<typename Ops::result_type...>;
    static constexpr std::size_t count = sizeof...(Ops);

public:
    pipeline_operation(std::tuple<Ops...> ops, Handler h, asio::any_io_executor fallback_executor)
        : ops_(std::move(ops)), handler_(std::move(h)), executor_(std::move(fallback_executor)),
          ex_(std::apply([](const auto&... op) { return traits_array{proto::traits_of(access::command(op))...}; }, ops_)) {}
    static void* operator new(std::size_t n) { return block_cache::allocate(n); }
    static void operator delete(void* p, std::size_t n) noexcept { block_cache::deallocate(p, n); }

    void write_request(std::string& out) override {
        if (ex_.first_round()) state_.reset();  // a first send, or the whole pipeline again after a lost reply
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((ex_.writes(I) ? proto::write_request(out, access::command(std::get<I>(ops_)), ex_.form_of(I)) : void()), ...);
        }(std::index_sequence_for<Ops...>{});
        replies_left = ex_.round_replies();
        ex_.round_written();
        kept_.reset();
    }

    reply_effect on_reply(::hotstate::redis::reply reply, std::string_view address, bool last) override {
        switch (ex_.on_reply(reply.is_error())) {
            case proto::part::outcome: break;
            case proto::part::more: return reply_effect::more;
            case proto::part::keep: kept_ = std::move(reply); return reply_effect::more;
            case proto::part::kept_outcome: reply = std::move(kept_); break;
        }
        proto::at_index<count>(ex_.at(), [&](auto index) {
            constexpr std::size_t i = decltype(index)::value;
            const auto& op = std::get<i>(ops_);
            const auto command = access::command(op);
            if (ex_.judge(reply, proto::wants_fallback(command, ex_.form_of(i), reply)) != proto::verdict::deliver) return;
            try {
                access::receive(op, command, reply, address, state_.template slot<i>());
            } catch (...) {
                state_.fail(i, std::current_exception());
            }
        });
        if (!last) return reply_effect::more;
        if (ex_.after_round() == proto::next::write) return reply_effect::again;  // the fallbacks, on this connection
        std::exception_ptr failure;
        results_type results{};
        try {
            results = state_.finish();
        } catch (...) {
            failure = std::current_exception();
        }
        complete(std::move(failure), std::move(results));
        return reply_effect::done;
    }

    bool on_lost(const error& why, std::chrono::steady_clock::time_point now) override {
        const proto::decision d = ex_.on_failure(proto::failure_of(why), true);
        if (d.retry && deadline > now) return true;  // again whole, on the reconnected connection
        proto::decision final = d;
        final.outcome_unknown = true;  // it was written: it may have run
        complete(std::make_exception_ptr(proto::give_up(why, final, ex_.all_idempotent(), ex_.retries())), results_type{});
        return false;
    }

    void on_error(std::exception_ptr e) override {
        if (ex_.sent()) {  // an earlier send was written: it may have run
            try {
                std::rethrow_exception(e);
            } catch (const error& cause) {
                proto::decision d;
                d.outcome_unknown = true;
                e = std::make_exception_ptr(proto::give_up(cause, d, ex_.all_idempotent(), ex_.retries()));
            } catch (...) {
            }
        }
        complete(std::move(e), results_type{});
    }

private:
    using traits_array = std::array<proto::command_traits, count>;

    void complete(std::exception_ptr e, results_type value) {
        complete_and_free(this, handler_, executor_, std::move(e), std::move(value));
    }

    std::tuple<Ops...> ops_;
    Handler handler_;
    asio::any_io_executor executor_;
    proto::exchange<count, false> ex_;
    redis::pipeline_state<Ops...> state_;
    ::hotstate::redis::reply kept_;  ///< a transaction's first error: its outcome once the rest is read
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
