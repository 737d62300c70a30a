// The job queues on Redis (standalone, Sentinel and Cluster alike): each
// operation is a command value of redis_commands.hpp (one script per state
// change), run by the engine's one runner (detail/redis/io/run.hpp) through the
// backend's router on the slot of the queue's hash tag, so MOVED, ASK,
// failover, reconnects, NOSCRIPT and the at-most-once rule are handled as for
// every other operation.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/detail/queue/redis_commands.hpp>
#include <hotstate/detail/queue/types.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::queue {

/// The queue engine over a Redis backend (a routed_backend: its router runs the scripts).
template <class Backend>
class redis_engine {
public:
    using connection = ::hotstate::redis::connection;

    explicit redis_engine(Backend& backend) noexcept : backend_(&backend) {}

    /// Replicas to wait for after each enqueue (WAIT), and how long.
    void wait_for_replicas(int replicas, std::chrono::milliseconds timeout) noexcept {
        replicas_ = replicas;
        replica_timeout_ = timeout;
    }

    /// One job (deduplicated by its id), or many with fresh ids, one priority
    /// and one delay (enqueue_bulk: one script of three variadic commands).
    std::vector<bool> enqueue(std::string_view queue, std::span<const job_spec> specs, std::int64_t now_ms) {
        const commands::queue_keys k(queue);
        if (specs.size() == 1) return {enqueue_then_wait(k, commands::enqueue(k, now_ms, specs[0]))};
        bool uniform = true;
        for (const auto& s : specs) uniform = uniform && s.priority == specs[0].priority && s.delay_ms == specs[0].delay_ms;
        if (specs.empty() || !uniform) {  // not what job_queue asks for; kept correct anyway
            std::vector<bool> added;
            for (const auto& s : specs) added.push_back(enqueue_then_wait(k, commands::enqueue(k, now_ms, s)));
            return added;
        }
        const auto count =
            enqueue_then_wait(k, commands::enqueue_bulk(k, now_ms, specs[0].priority, specs[0].delay_ms, specs));
        return std::vector<bool>(specs.size(), count == specs.size());
    }

    std::optional<raw_claim> claim(std::string_view queue, std::string_view owner, std::int64_t lease_ms,
                                   std::int64_t max_attempts, std::int64_t now_ms) {
        const commands::queue_keys k(queue);
        return execute(k, commands::claim(k, owner, now_ms, lease_ms, max_attempts));
    }

    /// Acks `id` and claims the next job for `next_owner`, one round trip.
    commands::raw_ack_claim ack_claim(std::string_view queue, std::string_view id, std::string_view owner,
                                      std::string_view next_owner, std::int64_t lease_ms, std::int64_t max_attempts,
                                      std::int64_t now_ms) {
        const commands::queue_keys k(queue);
        return execute(k, commands::ack_claim(k, id, owner, next_owner, now_ms, lease_ms, max_attempts));
    }

    owner_check heartbeat(std::string_view queue, std::string_view id, std::string_view owner, std::int64_t lease_ms,
                          std::int64_t now_ms) {
        const commands::queue_keys k(queue);
        return execute(k, commands::heartbeat(k, id, owner, now_ms + lease_ms));
    }

    owner_check ack(std::string_view queue, std::string_view id, std::string_view owner) {
        const commands::queue_keys k(queue);
        return execute(k, commands::ack(k, id, owner));
    }

    owner_check fail(std::string_view queue, std::string_view id, std::string_view owner, std::string_view message,
                     std::optional<std::int64_t> retry_ms, std::int64_t now_ms) {
        const commands::queue_keys k(queue);
        const auto at = retry_ms ? std::optional<std::int64_t>(now_ms + *retry_ms) : std::nullopt;
        return execute(k, commands::fail(k, id, owner, message, at));
    }

    owner_check release(std::string_view queue, std::string_view id, std::string_view owner) {
        const commands::queue_keys k(queue);
        return execute(k, commands::release(k, id, owner));
    }

    raw_counts counts(std::string_view queue) {
        const commands::queue_keys k(queue);
        return execute(k, commands::counts(k));
    }

    std::vector<raw_dead> dead(std::string_view queue, std::size_t limit) {
        const commands::queue_keys k(queue);
        return execute(k, commands::dead(k, limit));
    }

    std::uint64_t requeue_dead(std::string_view queue, std::optional<std::string_view> id) {
        const commands::queue_keys k(queue);
        return execute(k, commands::requeue_dead(k, id.value_or("")));
    }

    std::uint64_t purge(std::string_view queue) {
        const commands::queue_keys k(queue);
        return execute(k, commands::purge(k));
    }

    /// Blocked claims wait on the wake-up list, not a local counter.
    std::uint64_t generation() const noexcept { return 0; }

    /// BLPOP on the queue's wake-up list until `until` (one command; an
    /// enqueue elsewhere answers it at once). A failure is swallowed: the
    /// caller claims again either way.
    void wait(std::string_view queue, std::uint64_t, std::chrono::steady_clock::time_point until) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        const commands::queue_keys k(queue);
        char seconds[32];
        const int n = std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(left.count()) / 1000.0);
        try {
            (void)execute(k, commands::wait_wake(k.wake_list(), std::string_view(seconds, static_cast<std::size_t>(n))));
        } catch (const error&) {
        }
    }

    /// Nothing to wake locally: blocked claims return within their wait.
    void wake_all() noexcept {}

private:
    using router_type = std::remove_cvref_t<decltype(redis::routing::router_access::of(std::declval<Backend&>()))>;
    /// Whether error replies a router acts on throw `redirected` (cluster, sentinel).
    static constexpr bool redirects = router_type::follows_redirects;

    /// Runs `command` on the master of the queue's slot through the router, as
    /// an exchange of its own (sent again after a lost reply only when the
    /// command is idempotent in effect; redirects and NOSCRIPT as the exchange says).
    template <class Cmd>
    typename Cmd::result_type execute(const commands::queue_keys& k, const Cmd& command) {
        auto& router = redis::routing::router_access::of(*backend_);
        auto ex = redis::proto::exchange_of<redirects>(command, router.retry_budget());
        return router.execute(k.route(), redis::routing::access::write, ex, Cmd::name,
                              [&](connection& c) { return detail::redis::attempt(c, ex, command); });
    }

    /// An enqueue, then (with wait_replicas) WAIT on the same connection, so it
    /// covers that write: one exchange of the two commands, both idempotent, so
    /// sent again together after a lost reply.
    template <class Cmd>
    typename Cmd::result_type enqueue_then_wait(const commands::queue_keys& k, const Cmd& command) {
        static_assert(Cmd::idempotent);
        if (replicas_ == 0) return execute(k, command);
        auto& router = redis::routing::router_access::of(*backend_);
        const std::tuple both{command, commands::wait_replicas(replicas_, replica_timeout_.count())};
        redis::proto::exchange<2, redirects> ex({redis::proto::traits_of(std::get<0>(both)),
                                                 redis::proto::traits_of(std::get<1>(both))},
                                                router.retry_budget());
        return router.execute(k.route(), redis::routing::access::write, ex, Cmd::name, [&](connection& c) {
            std::optional<typename Cmd::result_type> added;
            std::int64_t acknowledged = 0;
            detail::redis::attempt_all(
                c, ex, both,
                [&](auto index, ::hotstate::redis::reply_view r) {
                    const auto& which = std::get<decltype(index)::value>(both);
                    if constexpr (decltype(index)::value == 0)
                        added.emplace(which.interpret(r, std::string_view(c.address())));
                    else
                        acknowledged = which.interpret(r, std::string_view(c.address()));
                },
                [&](std::size_t, ::hotstate::redis::reply_view r) { detail::redis::throw_redirected(c, ex, r); });
            if (acknowledged < replicas_)
                throw error(errc::timeout, "WAIT: fewer replicas than asked acknowledged the enqueue in time "
                                           "(it is on the master and may be lost if the master fails now)");
            return std::move(*added);
        });
    }

    Backend* backend_;
    int replicas_ = 0;
    std::chrono::milliseconds replica_timeout_{0};
};

}  // namespace hotstate::detail::queue
