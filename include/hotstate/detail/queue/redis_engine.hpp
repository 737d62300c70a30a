// The job queues on Redis (standalone, Sentinel and Cluster alike): each state
// change is one of the scripts of redis_scripts.hpp, run through the backend's
// router (so MOVED, ASK, failover and reconnects are handled as for every
// other operation) on the slot of the queue's hash tag.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/detail/cluster/routed_backend.hpp>
#include <hotstate/detail/queue/redis_scripts.hpp>
#include <hotstate/detail/queue/types.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::queue {

/// Parses a decimal integer reply element (a bulk string or an integer).
inline std::int64_t element_integer(const redisReply* e) {
    if (e->type == REDIS_REPLY_INTEGER) return e->integer;
    return std::strtoll(std::string(e->str, e->len).c_str(), nullptr, 10);
}
inline std::string element_text(const redisReply* e) {
    return e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS ? std::string(e->str, e->len) : std::string();
}

/// The queue engine over a Redis backend (anything with router().execute).
template <class Backend>
class redis_engine {
public:
    using connection = ::hotstate::redis::connection;
    using reply = ::hotstate::redis::reply;

    explicit redis_engine(Backend& backend) noexcept : backend_(&backend) {}

    /// Replicas to wait for after each enqueue (WAIT), and how long.
    void wait_for_replicas(int replicas, std::chrono::milliseconds timeout) noexcept {
        replicas_ = replicas;
        replica_timeout_ = timeout;
    }

    std::vector<bool> enqueue(std::string_view queue, std::span<const job_spec> specs, std::int64_t now_ms) {
        const keys k(queue);
        std::vector<std::string> numbers;
        numbers.reserve(specs.size() * 2 + 1);
        numbers.push_back(std::to_string(now_ms));
        for (const auto& s : specs) {
            numbers.push_back(std::to_string(s.priority));
            numbers.push_back(std::to_string(s.delay_ms));
        }
        std::vector<std::string_view> args{k.w, k.d, k.q, k.s, k.job_prefix, numbers[0]};
        for (std::size_t i = 0; i < specs.size(); ++i)
            args.insert(args.end(), {specs[i].id, specs[i].payload, numbers[1 + 2 * i], numbers[2 + 2 * i]});
        // idempotent in effect: sent again, every id exists and nothing is added twice
        return backend_->router().execute(k.w, cluster::access::write, ::hotstate::redis::idempotent, "enqueue",
                                          [&](connection& c) {
            reply r = run(c, redis_enqueue, 4, args);
            std::vector<bool> added;
            for (std::size_t i = 0; i < r->elements; ++i) added.push_back(element_integer(r->element[i]) == 1);
            if (replicas_ > 0) {
                reply w = c.command("WAIT", "WAIT", ::hotstate::redis::int_arg(std::int64_t{replicas_}),
                                    ::hotstate::redis::int_arg(std::int64_t{replica_timeout_.count()}));
                if (w.is_error()) cluster::fail_reply(c, "WAIT", w);
                if (!w.is_integer() || w.integer() < replicas_)
                    throw error(errc::timeout, "WAIT: fewer replicas than asked acknowledged the enqueue in time "
                                               "(it is on the master and may be lost if the master fails now)");
            }
            return added;
        });
    }

    std::optional<raw_claim> claim(std::string_view queue, std::string_view owner, std::int64_t lease_ms,
                                   std::int64_t max_attempts, std::int64_t now_ms) {
        const keys k(queue);
        const std::string now = std::to_string(now_ms), lease = std::to_string(lease_ms),
                          max = std::to_string(max_attempts);
        const std::array<std::string_view, 10> args{k.w, k.d, k.a, k.x, k.q, k.job_prefix, now, owner, lease, max};
        return backend_->router().execute(k.w, cluster::access::write, ::hotstate::redis::once, "claim",
                                          [&](connection& c) -> std::optional<raw_claim> {
            reply r = run(c, redis_claim, 5, args);
            if (r.is_nil() || r->elements < 4) return std::nullopt;
            return raw_claim{element_text(r->element[0]), element_text(r->element[1]), element_integer(r->element[2]),
                             element_integer(r->element[3])};
        });
    }

    owner_check heartbeat(std::string_view queue, std::string_view id, std::string_view owner, std::int64_t lease_ms,
                          std::int64_t now_ms) {
        const keys k(queue);
        const std::string job = k.job(id), until = std::to_string(now_ms + lease_ms);
        return checked(k, redis_heartbeat, 2, std::array<std::string_view, 5>{k.a, job, id, owner, until});
    }

    owner_check ack(std::string_view queue, std::string_view id, std::string_view owner) {
        const keys k(queue);
        const std::string job = k.job(id);
        return checked(k, redis_ack, 2, std::array<std::string_view, 4>{k.a, job, id, owner});
    }

    owner_check fail(std::string_view queue, std::string_view id, std::string_view owner, std::string_view message,
                     std::optional<std::int64_t> retry_ms, std::int64_t now_ms) {
        const keys k(queue);
        const std::string job = k.job(id), at = retry_ms ? std::to_string(now_ms + *retry_ms) : std::string();
        return checked(k, redis_fail, 5,
                       std::array<std::string_view, 9>{k.a, k.d, k.x, k.q, job, id, owner, message, at});
    }

    owner_check release(std::string_view queue, std::string_view id, std::string_view owner) {
        const keys k(queue);
        const std::string job = k.job(id);
        return checked(k, redis_release, 4, std::array<std::string_view, 6>{k.a, k.w, k.s, job, id, owner});
    }

    raw_counts counts(std::string_view queue) {
        const keys k(queue);
        return backend_->router().execute(k.w, cluster::access::write, ::hotstate::redis::idempotent, "counts",
                                          [&](connection& c) {
            reply r = run(c, redis_counts, 4, std::array<std::string_view, 4>{k.w, k.d, k.a, k.x});
            auto at = [&](std::size_t i) { return static_cast<std::uint64_t>(element_integer(r->element[i])); };
            return raw_counts{at(0), at(1), at(2), at(3)};
        });
    }

    std::vector<raw_dead> dead(std::string_view queue, std::size_t limit) {
        const keys k(queue);
        const std::string n = std::to_string(limit);
        return backend_->router().execute(k.w, cluster::access::write, ::hotstate::redis::idempotent, "dead",
                                          [&](connection& c) {
            reply r = run(c, redis_dead, 1, std::array<std::string_view, 3>{k.x, k.job_prefix, n});
            std::vector<raw_dead> out;
            for (std::size_t i = 0; i + 4 <= r->elements; i += 4)
                out.push_back({element_text(r->element[i]), element_text(r->element[i + 1]),
                               element_integer(r->element[i + 2]), element_text(r->element[i + 3])});
            return out;
        });
    }

    std::uint64_t requeue_dead(std::string_view queue, std::optional<std::string_view> id) {
        const keys k(queue);
        return integer(k, redis_requeue_dead, 3,
                       std::array<std::string_view, 5>{k.x, k.w, k.s, k.job_prefix, id.value_or("")});
    }

    std::uint64_t purge(std::string_view queue) {
        const keys k(queue);
        return integer(k, redis_purge, 4, std::array<std::string_view, 5>{k.w, k.d, k.a, k.x, k.job_prefix});
    }

    /// Blocked claims wait on the wake-up list, not a local counter.
    std::uint64_t generation() const noexcept { return 0; }

    /// BLPOP on the queue's wake-up list until `until` (one command; an
    /// enqueue elsewhere answers it at once). A failure is swallowed: the
    /// caller claims again either way.
    void wait(std::string_view queue, std::uint64_t, std::chrono::steady_clock::time_point until) {
        const keys k(queue);
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return;
        char seconds[32];
        const int n = std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(left.count()) / 1000.0);
        try {
            backend_->router().execute(k.w, cluster::access::write, ::hotstate::redis::once, "BLPOP",
                                       [&](connection& c) {
                reply r = c.command("BLPOP", "BLPOP", k.s, std::string_view(seconds, static_cast<std::size_t>(n)));
                if (r.is_error()) cluster::fail_reply(c, "BLPOP", r);
                return 0;
            });
        } catch (const error&) {
        }
    }

    /// Nothing to wake locally: blocked claims return within their wait.
    void wake_all() noexcept {}

private:
    struct keys {
        explicit keys(std::string_view base)
            : w(with(base, "w")), d(with(base, "d")), a(with(base, "a")), x(with(base, "x")), q(with(base, "q")),
              s(with(base, "s")), job_prefix(with(base, "j")) {}
        [[nodiscard]] std::string job(std::string_view id) const { return job_prefix + std::string(id); }
        static std::string with(std::string_view base, std::string_view suffix) {
            std::string out(base);
            out.append(suffix);
            return out;
        }
        std::string w, d, a, x, q, s, job_prefix;
    };

    /// EVALSHA (EVAL on NOSCRIPT) with `numkeys` keys first in `args`; an error reply throws.
    static reply run(connection& c, const detail::redis::script& s, int numkeys, std::span<const std::string_view> args) {
        const std::string count = std::to_string(numkeys);
        std::vector<std::string_view> argv{"EVALSHA", s.sha_view(), count};
        argv.insert(argv.end(), args.begin(), args.end());
        reply r = c.command(s.name, std::span<const std::string_view>(argv));
        if (r.is_error() && detail::redis::is_noscript(r.text())) {
            argv[0] = "EVAL";
            argv[1] = s.text;
            r = c.command(s.name, std::span<const std::string_view>(argv));
        }
        if (r.is_error()) cluster::fail_reply(c, s.name, r);
        return r;
    }

    template <std::size_t N>
    owner_check checked(const keys& k, const detail::redis::script& s, int numkeys,
                        const std::array<std::string_view, N>& args) {
        // not re-sent after a write: a second ack would find the job gone and say "lease lost"
        const auto code = backend_->router().execute(k.w, cluster::access::write, ::hotstate::redis::once, s.name,
                                                     [&](connection& c) { return run(c, s, numkeys, args).integer(); });
        return code == 0 ? owner_check::ok : code == 1 ? owner_check::not_owner : owner_check::missing;
    }

    template <std::size_t N>
    std::uint64_t integer(const keys& k, const detail::redis::script& s, int numkeys,
                          const std::array<std::string_view, N>& args) {
        return static_cast<std::uint64_t>(backend_->router().execute(
            k.w, cluster::access::write, ::hotstate::redis::once, s.name,
            [&](connection& c) { return run(c, s, numkeys, args).integer(); }));
    }

    Backend* backend_;
    int replicas_ = 0;
    std::chrono::milliseconds replica_timeout_{0};
};

}  // namespace hotstate::detail::queue
