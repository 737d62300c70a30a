// hotstate/queue/async_worker.hpp: job queues on the asynchronous store, and
// an asynchronous worker loop on an Asio executor.
//
//   boost::asio::io_context io;
//   hotstate::async_store<hotstate::backends::async_redis, webhooks> store(io.get_executor(), config);
//   auto jobs = hotstate::async_queue<webhooks>(store, config);
//   co_await jobs.async_enqueue(job, {}, boost::asio::use_awaitable);
//   hotstate::async_worker worker(jobs, [](const webhook_job& job) -> boost::asio::awaitable<void> {
//       co_await deliver(job);                      // throwing fails the job with the message
//   }, {.concurrency = 16});
//   ...
//   hotstate::stop_report report = co_await worker.async_stop(10s, boost::asio::use_awaitable);
//
// The operations are the blocking Redis queue's command values
// (detail/queue/redis_commands.hpp: the same scripts, keys, effect tags)
// sent on the async store's multiplexed connection, so a queue is shared by
// blocking and asynchronous workers alike. Waiting for a job cannot block the
// shared connection (Redis answers a connection's requests in order, so a
// BLPOP would hold up every other caller): an async_job_queue keeps a second
// connection, the waiter, for the BLPOP on the queue's wake-up list, which
// every enqueue pushes to. An idle lane costs one claim and one BLPOP per
// claim_wait, and wakes within a round trip of an enqueue.
//
// async_worker runs `concurrency` lanes (coroutines) on one strand: each
// claims, runs the handler (an awaitable), and acks while claiming its next
// job in the same round trip (the ack_claim script); a handler that throws
// fails the job with the exception's message (retry with backoff, dead letter
// after max_attempts); an undecodable job (whatever its codec throws) is
// dead-lettered by the claim with the codec's message. A timer heartbeats
// every job in flight. Failures of the queue itself (the backend unreachable,
// a lease lost) do not stop the lanes and go to async_worker_options::on_error
// (see worker_error in queue/worker_pool.hpp). async_stop(deadline) stops claiming,
// waits for jobs in flight up to the deadline, releases the rest (claimable
// by other workers at once) and completes when every lane has returned.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/detail/async/io/operation.hpp>
#include <hotstate/detail/queue/backoff.hpp>
#include <hotstate/detail/queue/redis_commands.hpp>
#include <hotstate/detail/base/token.hpp>
#include <hotstate/error.hpp>
#include <hotstate/key.hpp>
#include <hotstate/queue.hpp>
#include <hotstate/queue/worker_pool.hpp>
#include <hotstate/redis/config.hpp>

namespace hotstate {

namespace detail::queue {

/// Whether async store `S` registers category `Q` (async_store keeps its list private).
template <class S, class Q>
struct async_registers : std::false_type {};
template <class B, class... Cs, class Q>
struct async_registers<async_store<B, Cs...>, Q> : std::bool_constant<detail::is_one_of<Q, Cs...>> {};

/// What an asynchronous queue operation owns: the queue's keys and up to four
/// strings (ids, owners, a message) the command value views.
struct async_data {
    commands::queue_keys keys;
    std::string a, b, c, d;
};

/// The result of a command, unchanged (queue command results own their values).
struct keep_result {
    template <class R>
    R operator()(R r, const async_data&) const {
        return r;
    }
};

}  // namespace detail::queue

/// A job queue `Q` over an async_store on backends::async_redis: the
/// blocking job_queue's operations as Asio operations (completion signature
/// void(std::exception_ptr, T), or void(std::exception_ptr) where T is none).
/// @tparam Store an async_store whose category list holds `Q`
/// @tparam Q     a queue_category
/// @tparam C     a Clock: what leases, delays and backoff are measured by
template <class Store, class Q, Clock C = system_clock>
class async_job_queue {
    static_assert(QueueCategory<Q>, "hotstate: the queue's template argument must be a queue category "
                                    "(a type derived from hotstate::queue_category<Id, \"name\", Job>)");
    static_assert(detail::queue::async_registers<Store, Q>::value,
                  "hotstate: this queue is not registered with this store; add it to the store's category list");

public:
    /// The job type.
    using job_type = typename Q::job_type;
    /// The queue category.
    using category_type = Q;

    /// A handle on `Q` of `store` (which must outlive it); `waiter` is where
    /// the waiter connection (the BLPOP of idle claims) connects: the store's server.
    async_job_queue(Store& store, const redis::config& waiter, queue_options options = {}, C clock = C())
        : store_(&store), key_(encode_key(Q::id, Q::layout, "")), options_(options), clock_(std::move(clock)),
          waiter_(std::make_unique<backends::async_redis>(store.backend().get_executor(), waiter,
                                                          redis::async_options{.timeout = std::chrono::seconds{30}})) {
        detail::queue::check_options<Q>(options_);
    }

    /// The options this handle uses.
    [[nodiscard]] const queue_options& options() const noexcept { return options_; }
    /// The executor of the store's connection.
    [[nodiscard]] boost::asio::any_io_executor get_executor() const { return store_->backend().get_executor(); }

    /// Adds `job` with the default enqueue_options, as job_queue::enqueue(job) does.
    template <detail::completion_token_of<enqueue_result> Token>
    auto async_enqueue(const job_type& job, Token&& token) {
        return async_enqueue(job, enqueue_options{}, std::forward<Token>(token));
    }

    /// Adds `job` (see job_queue::enqueue): enqueue_result. wait_replicas is
    /// not offered here (WAIT would hold up the shared connection).
    template <class Token>
    auto async_enqueue(const job_type& job, const enqueue_options& how, Token&& token) {
        check_enqueue(how);
        detail::queue::async_data data{detail::queue::commands::queue_keys(key_), how.id.empty() ? detail::random_token() : how.id,
                                       {}, {}, {}};
        codec<job_type>::encode(job, data.b);
        const std::int64_t now = now_ms(), priority = how.priority, delay = how.delay.count();
        return boost::asio::co_spawn(
            get_executor(),
            [this, data = std::move(data), now, priority, delay]() mutable -> boost::asio::awaitable<enqueue_result> {
                std::string id = data.a;
                const bool added = co_await run<bool>("enqueue", std::move(data), [=](const detail::queue::async_data& d) {
                    return detail::queue::commands::enqueue(d.keys, now, {d.a, d.b, priority, delay});
                });
                co_return enqueue_result{std::move(id), added};
            },
            std::forward<Token>(token));
    }

    /// Leases the next job, if one is claimable now (one round trip; no
    /// waiting: see async_wait): std::optional<claimed<job_type>>. A job that
    /// does not decode is dead-lettered and the next is tried.
    template <class Token>
    auto async_claim(Token&& token) {
        return boost::asio::co_spawn(get_executor(), claim_now(), std::forward<Token>(token));
    }

    /// Acks `done` and claims the next job in one round trip (see
    /// job_queue::ack_and_claim): ack_claim_result<job_type>, without waiting.
    template <class Token>
    auto async_ack_and_claim(const claimed<job_type>& done, Token&& token) {
        return boost::asio::co_spawn(
            get_executor(),
            [this, id = done.id, owner = done.owner]() -> boost::asio::awaitable<ack_claim_result<job_type>> {
                std::string next_owner = detail::random_token();
                const std::int64_t now = now_ms(), lease = options_.lease.count(), max = options_.max_attempts;
                auto raw = co_await run<detail::queue::commands::raw_ack_claim>(
                    "ack_claim", data_of(id, owner, next_owner), [=](const detail::queue::async_data& d) {
                        return detail::queue::commands::ack_claim(d.keys, d.a, d.b, d.c, now, lease, max);
                    });
                ack_claim_result<job_type> result;
                result.acked = raw.acked == detail::queue::owner_check::ok;
                if (raw.next) {
                    result.next = co_await decoded(std::move(*raw.next), std::move(next_owner));
                    if (!result.next) result.next = co_await claim_now();  // it was dead-lettered
                }
                co_return result;
            },
            std::forward<Token>(token));
    }

    /// Completes `job`; lease_lost when it is no longer this worker's.
    template <class Token>
    auto async_ack(const claimed<job_type>& job, Token&& token) {
        return checked("ack", job.id, job.owner, [](const detail::queue::async_data& d) {
            return detail::queue::commands::ack(d.keys, d.a, d.b);
        }, std::forward<Token>(token));
    }

    /// Extends the lease of `job` to options().lease from now; lease_lost as async_ack.
    template <class Token>
    auto async_heartbeat(const claimed<job_type>& job, Token&& token) {
        const std::int64_t until = now_ms() + options_.lease.count();
        return checked("heartbeat", job.id, job.owner, [until](const detail::queue::async_data& d) {
            return detail::queue::commands::heartbeat(d.keys, d.a, d.b, until);
        }, std::forward<Token>(token));
    }

    /// Gives `job` back untouched; lease_lost as async_ack.
    template <class Token>
    auto async_release(const claimed<job_type>& job, Token&& token) {
        return checked("release", job.id, job.owner, [](const detail::queue::async_data& d) {
            return detail::queue::commands::release(d.keys, d.a, d.b);
        }, std::forward<Token>(token));
    }

    /// Fails `job` with `message`: retried after backoff with jitter, or
    /// dead-lettered after max_attempts (as job_queue::fail); lease_lost as async_ack.
    template <class Token>
    auto async_fail(const claimed<job_type>& job, std::string_view message, Token&& token) {
        std::optional<std::int64_t> at;
        if (const auto after = detail::queue::retry_after(options_, job.attempt)) at = now_ms() + after->count();
        std::string text(message);
        return checked("fail", job.id, job.owner, [at, text = std::move(text)](const detail::queue::async_data& d) {
            return detail::queue::commands::fail(d.keys, d.a, d.b, text, at);
        }, std::forward<Token>(token));
    }

    /// Jobs per state: queue_counts.
    template <class Token>
    auto async_counts(Token&& token) {
        return boost::asio::co_spawn(
            get_executor(),
            [this]() -> boost::asio::awaitable<queue_counts> {
                const auto raw = co_await run<detail::queue::raw_counts>(
                    "counts", data_of(), [](const detail::queue::async_data& d) { return detail::queue::commands::counts(d.keys); });
                co_return queue_counts{raw.waiting, raw.delayed, raw.active, raw.dead};
            },
            std::forward<Token>(token));
    }

    /// Waits on the waiter connection until an enqueue wakes this queue or
    /// `wait` passes: bool, whether woken. Claim afterwards either way.
    template <class Token>
    auto async_wait(std::chrono::milliseconds wait, Token&& token) {
        char seconds[32];
        const int n = std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(wait.count()) / 1000.0);
        detail::queue::async_data data = data_of(std::string(seconds, static_cast<std::size_t>(n > 0 ? n : 0)));
        using state_type = detail::async::state<detail::queue::async_data, decltype(&wake_command),
                                                detail::queue::keep_result>;
        return detail::async::start<bool>(waiter_->connection(), waiter_->get_executor(),
                                          state_type{std::move(data), &wake_command, {}, "claim", Q::name},
                                          std::forward<Token>(token));
    }

private:
    static detail::queue::commands::wait_wake wake_command(const detail::queue::async_data& d) {
        return detail::queue::commands::wait_wake(d.keys.wake_list(), d.a);
    }

    std::int64_t now_ms() const { return clock_.now().time_since_epoch().count(); }

    detail::queue::async_data data_of(std::string a = {}, std::string b = {}, std::string c = {}) const {
        return {detail::queue::commands::queue_keys(key_), std::move(a), std::move(b), std::move(c), {}};
    }

    /// Runs the command `make(data)` on the store's connection, as an awaitable.
    template <class T, class Make>
    boost::asio::awaitable<T> run(std::string_view operation, detail::queue::async_data data, Make make) {
        using state_type = detail::async::state<detail::queue::async_data, Make, detail::queue::keep_result>;
        return detail::async::start<T>(store_->backend().connection(), store_->backend().get_executor(),
                                       state_type{std::move(data), std::move(make), {}, operation, Q::name},
                                       boost::asio::use_awaitable);
    }

    boost::asio::awaitable<std::optional<claimed<job_type>>> claim_now() {
        for (;;) {
            std::string owner = detail::random_token();
            const std::int64_t now = now_ms(), lease = options_.lease.count(), max = options_.max_attempts;
            auto raw = co_await run<std::optional<detail::queue::raw_claim>>(
                "claim", data_of(owner), [=](const detail::queue::async_data& d) {
                    return detail::queue::commands::claim(d.keys, d.a, now, lease, max);
                });
            if (!raw) co_return std::nullopt;
            auto job = co_await decoded(std::move(*raw), std::move(owner));
            if (job) co_return job;
        }
    }

    /// The claimed job decoded, or nullopt after dead-lettering it with the decode error.
    boost::asio::awaitable<std::optional<claimed<job_type>>> decoded(detail::queue::raw_claim raw, std::string owner) {
        std::optional<job_type> job;
        std::string why;
        try {
            job.emplace(codec<job_type>::decode(raw.payload));
        } catch (...) {  // a user's codec may throw its own exceptions
            why = detail::current_exception_message();
        }
        if (!job) {
            (void)co_await run<detail::queue::owner_check>(
                "claim", data_of(raw.id, owner, std::move(why)), [](const detail::queue::async_data& d) {
                    return detail::queue::commands::fail(d.keys, d.a, d.b, d.c, std::nullopt);
                });
            co_return std::nullopt;
        }
        co_return claimed<job_type>{std::move(raw.id), std::move(*job), raw.attempt, std::move(owner),
                                    time_point{std::chrono::milliseconds{raw.lease_until_ms}}};
    }

    /// An owner-checked operation completing with void(std::exception_ptr): lease_lost unless ok.
    template <class Make, class Token>
    auto checked(std::string_view operation, std::string id, std::string owner, Make make, Token&& token) {
        return boost::asio::co_spawn(
            get_executor(),
            [this, operation, id = std::move(id), owner = std::move(owner),
             make = std::move(make)]() mutable -> boost::asio::awaitable<void> {
                const auto found = co_await run<detail::queue::owner_check>(operation, data_of(id, owner), std::move(make));
                detail::queue::require_owner<Q>(operation, id, found);
            },
            std::forward<Token>(token));
    }

    void check_enqueue(const enqueue_options& how) const { detail::queue::check_enqueue<Q>(how); }

    Store* store_;
    std::string key_;
    queue_options options_;
    C clock_;
    std::unique_ptr<backends::async_redis> waiter_;  ///< the BLPOP connection (a pointer: the handle stays movable)
};

/// A handle on queue `Q` of async store `store`: `hotstate::async_queue<webhooks>(store, config)`.
template <class Q, class Store>
[[nodiscard]] async_job_queue<Store, Q> async_queue(Store& store, const redis::config& waiter, queue_options options = {}) {
    return async_job_queue<Store, Q>(store, waiter, options);
}

/// Settings of an async_worker.
struct async_worker_options {
    /// Jobs run at once (lanes: coroutines claiming and running jobs).
    std::size_t concurrency = 4;
    /// How often jobs in flight are heartbeated (keep it well under the queue's lease).
    std::chrono::milliseconds heartbeat_every{std::chrono::seconds{10}};
    /// How long one idle wait (BLPOP on the waiter connection) lasts before the lane claims again.
    std::chrono::milliseconds claim_wait{std::chrono::milliseconds{500}};
    /// Called with each failure of the queue the worker handled by itself (see worker_error), on
    /// the worker's strand; it must not block. What it throws is ignored. Empty: not reported.
    worker_error_handler on_error{};
};

/// An asynchronous worker loop over an async_job_queue (see the banner).
/// @tparam Queue a hotstate::async_job_queue (which must outlive the worker's lanes:
///               destroy it only after async_stop completed)
template <class Queue>
class async_worker {
public:
    /// The job type.
    using job_type = typename Queue::job_type;
    /// Runs one job; throwing fails it with the exception's message.
    using handler_type = std::function<boost::asio::awaitable<void>(const job_type&)>;

    /// Starts `options.concurrency` lanes and the heartbeat timer on a strand of the queue's executor.
    async_worker(Queue& queue, handler_type handler, async_worker_options options = {})
        : core_(std::make_shared<core>(queue, std::move(handler), options)) {
        if (options.concurrency == 0 || options.heartbeat_every.count() <= 0 || options.claim_wait.count() <= 0)
            throw error(errc::invalid_argument,
                        "hotstate: async_worker needs concurrency > 0, heartbeat_every > 0 and claim_wait > 0");
        core_->lanes_running = options.concurrency;
        for (std::size_t i = 0; i < options.concurrency; ++i)
            boost::asio::co_spawn(core_->strand, lane(core_, i), boost::asio::detached);
        boost::asio::co_spawn(core_->strand, heartbeat_loop(core_), boost::asio::detached);
    }

    async_worker(const async_worker&) = delete;
    async_worker& operator=(const async_worker&) = delete;

    /// Asks the lanes to stop (not waiting: see async_stop); they finish on their own.
    ~async_worker() {
        boost::asio::post(core_->strand, [core = core_] { core->begin_stop(); });
    }

    /// Graceful stop: no new claims; waits up to `deadline` for the jobs in
    /// flight, releases the rest, and completes with a stop_report once every
    /// lane has returned (a handler still running past the deadline is waited
    /// for; its job was released at the deadline). Idempotent: a second call
    /// reports nothing.
    template <class Token>
    auto async_stop(std::chrono::milliseconds deadline, Token&& token) {
        return boost::asio::co_spawn(core_->strand, stop(core_, deadline), std::forward<Token>(token));
    }

    /// Jobs acked so far.
    [[nodiscard]] std::uint64_t completed() const noexcept { return core_->completed.load(); }
    /// Jobs failed so far (the handler threw).
    [[nodiscard]] std::uint64_t failed() const noexcept { return core_->failed.load(); }
    /// Heartbeats sent so far.
    [[nodiscard]] std::uint64_t heartbeats() const noexcept { return core_->heartbeats.load(); }

private:
    using job_slot = std::optional<claimed<job_type>>;

    /// What the lanes share; touched only on `strand` (the counters are read from anywhere).
    struct core {
        core(Queue& q, handler_type h, async_worker_options o)
            : queue(q), handler(std::move(h)), options(o), strand(boost::asio::make_strand(q.get_executor())),
              changed(strand), heartbeat_timer(strand), slots(o.concurrency) {}

        /// Wakes whoever waits on `changed` (async_stop) to look again.
        void signal() { changed.cancel(); }
        /// Reports the exception being handled (inside a catch block) as a failure of `operation`.
        void report_current(std::string_view operation, std::string_view job_id) {
            if (options.on_error) report({operation, job_id, detail::queue::current_error(operation)});
        }
        /// Reports `failure` to on_error (the strand makes the calls one at a time).
        void report(const worker_error& failure) { detail::queue::report_worker_error(options.on_error, failure); }
        void begin_stop() {
            stopping = true;
            heartbeat_timer.cancel();
            signal();
        }

        Queue& queue;
        handler_type handler;
        async_worker_options options;
        boost::asio::strand<boost::asio::any_io_executor> strand;
        boost::asio::steady_timer changed;
        boost::asio::steady_timer heartbeat_timer;
        std::vector<job_slot> slots;
        bool stopping = false;
        bool stop_reported = false;
        std::size_t lanes_running = 0;
        std::atomic<std::uint64_t> completed{0}, failed{0}, heartbeats{0};
    };

    static boost::asio::awaitable<void> pause(core& c, std::chrono::milliseconds wait) {
        boost::asio::steady_timer timer(c.strand, wait);
        boost::system::error_code ignored;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    }

    static boost::asio::awaitable<void> lane(std::shared_ptr<core> self, std::size_t index) {
        auto& c = *self;
        const auto await = boost::asio::use_awaitable;
        job_slot job;  // the next job, when the last ack claimed it
        while (!c.stopping) {
            if (!job) {
                bool unreachable = false;
                try {
                    job = co_await c.queue.async_claim(await);
                } catch (...) {
                    c.report_current("claim", {});
                    unreachable = true;
                }
                if (unreachable) {  // backend unreachable: wait a little and claim again
                    co_await pause(c, c.options.claim_wait);
                    continue;
                }
                if (!job) {
                    try {
                        (void)co_await c.queue.async_wait(c.options.claim_wait, await);
                    } catch (...) {
                        c.report_current("claim", {});
                        unreachable = true;
                    }
                    if (unreachable) co_await pause(c, c.options.claim_wait);
                    continue;
                }
            }
            if (c.stopping) break;  // claimed while stopping: given back below
            c.slots[index] = *job;
            std::optional<std::string> failure;  // the handler's error: the job fails with it
            try {
                co_await c.handler(job->job);
            } catch (...) {
                failure = detail::current_exception_message();
            }
            if (!c.slots[index]) {  // released by async_stop: no longer ours to settle
                job.reset();
                continue;
            }
            job_slot next;
            try {
                if (failure)
                    co_await c.queue.async_fail(*job, *failure, await);
                else if (c.stopping)
                    co_await c.queue.async_ack(*job, await);
                else {  // the ack and the next claim in one round trip
                    auto step = co_await c.queue.async_ack_and_claim(*job, await);
                    next = std::move(step.next);
                    if (!step.acked)
                        c.report({"ack", job->id,
                                  detail::queue::lost_lease<typename Queue::category_type>(
                                      "ack", job->id, detail::queue::owner_check::not_owner)});
                }
            } catch (...) {
                // lease lost, or the backend failed: the job comes back by itself (as does a next job claimed unseen)
                c.report_current(failure ? "fail" : "ack", job->id);
            }
            c.slots[index].reset();
            ++(failure ? c.failed : c.completed);
            c.signal();
            job = std::move(next);
        }
        if (job) {
            try {
                co_await c.queue.async_release(*job, await);
            } catch (...) {
                c.report_current("release", job->id);  // its lease runs out by itself
            }
        }
        --c.lanes_running;
        c.signal();
    }

    static boost::asio::awaitable<void> heartbeat_loop(std::shared_ptr<core> self) {
        auto& c = *self;
        while (!c.stopping) {
            c.heartbeat_timer.expires_after(c.options.heartbeat_every);
            boost::system::error_code ec;
            co_await c.heartbeat_timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            if (c.stopping) break;
            std::vector<claimed<job_type>> in_flight;
            for (const auto& s : c.slots)
                if (s) in_flight.push_back(*s);
            for (auto& job : in_flight) {
                bool sent = true;
                try {
                    co_await c.queue.async_heartbeat(job, boost::asio::use_awaitable);
                } catch (...) {
                    c.report_current("heartbeat", job.id);
                    sent = false;  // lost or unreachable: the lane learns it when it settles the job
                }
                if (sent) ++c.heartbeats;
            }
        }
    }

    static boost::asio::awaitable<stop_report> stop(std::shared_ptr<core> self, std::chrono::milliseconds deadline) {
        auto& c = *self;
        stop_report report;
        if (c.stop_reported) co_return report;
        c.stop_reported = true;
        c.begin_stop();
        const auto busy = [&] {
            std::size_t n = 0;
            for (const auto& s : c.slots) n += s.has_value();
            return n;
        };
        const std::size_t in_flight = busy();
        const auto until = std::chrono::steady_clock::now() + deadline;
        while (busy() > 0 && std::chrono::steady_clock::now() < until) {
            c.changed.expires_at(until);
            boost::system::error_code ec;
            co_await c.changed.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        }
        std::vector<claimed<job_type>> left;
        for (auto& s : c.slots) {
            if (!s) continue;
            left.push_back(std::move(*s));
            s.reset();
        }
        for (auto& job : left) {
            try {
                co_await c.queue.async_release(job, boost::asio::use_awaitable);
            } catch (...) {
                // the lease was lost already, or the backend is unreachable: the lease expiry recovers it
                c.report_current("release", job.id);
            }
        }
        report.released = left.size();
        report.finished = in_flight - left.size();
        while (c.lanes_running > 0) {
            c.changed.expires_at(std::chrono::steady_clock::time_point::max());
            boost::system::error_code ec;
            co_await c.changed.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        }
        co_return report;
    }

    std::shared_ptr<core> core_;
};

}  // namespace hotstate
