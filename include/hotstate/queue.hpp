// hotstate/queue.hpp: durable job queues, a capability added beside the store.
//
//   struct webhook_job { BOOST_HANA_DEFINE_STRUCT(webhook_job, (std::string, url), (std::string, body)); };
//   struct webhooks : hotstate::queue_category<60, "webhooks", webhook_job> {};
//   hotstate::store<hotstate::backends::memory, webhooks> store;
//
//   auto jobs = hotstate::queue<webhooks>(store);
//   jobs.enqueue({.url = "https://example.org/hook", .body = "{}"});
//   if (auto job = jobs.claim(std::chrono::seconds{1})) {   // blocks up to 1 s
//       deliver(job->job);
//       jobs.ack(*job);                                      // or jobs.fail(*job, "HTTP 503")
//   }
//
// A queue is a key category (it takes a prefix id from the store's list, so it
// cannot collide with another category) whose value is the job. Delivery is at
// least once: a claimed job carries a lease and an owner token; a worker that
// dies stops heartbeating, its lease runs out, and the next claim anywhere
// moves the job back (no sweeper process has to be alive). Only the lease's
// owner can ack, fail, heartbeat or release; anyone else gets lease_lost.
// fail() retries with exponential backoff and jitter until max_attempts, then
// the job goes to the dead-letter list with its last error.
//
// The queue reaches the store through its extension seam (registers,
// encoded_key, run_in_context) and the backend through queue_support<Backend>
// (QueueBackend): memory (hotstate/queue/memory_queue.hpp), Redis, Sentinel
// and Cluster (hotstate/queue/redis_queue.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <hotstate/category.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/detail/base/exception_text.hpp>
#include <hotstate/detail/queue/backoff.hpp>
#include <hotstate/detail/queue/types.hpp>
#include <hotstate/detail/base/token.hpp>
#include <hotstate/error.hpp>
#include <hotstate/store.hpp>

namespace hotstate {

namespace detail {
struct queue_category_base {};
}  // namespace detail

/// A job queue declared at compile time, like a key category: the id is the
/// prefix byte of its keys (unique among the store's categories), `Job` the
/// job type (bytes, a Hana struct, or any type with a codec).
template <unsigned Id, fixed_string Name, class Job = bytes>
struct queue_category : category<Id, Name, Job, hash_tagged>, detail::queue_category_base {
    /// The job type.
    using job_type = Job;
};

/// A type derived from hotstate::queue_category<...>.
template <class Q>
concept QueueCategory = KeyCategory<Q> && std::derived_from<Q, detail::queue_category_base>;

/// Customisation point: how a backend keeps queues. A specialisation has
/// `static Engine& engine(Backend&)` (or returns an engine by value); the
/// engine speaks detail::queue's raw vocabulary.
template <class Backend, class Enable = void>
struct queue_support;

/// A backend that can hold job queues.
///
/// Models: backends::memory (hotstate/queue/memory_queue.hpp: one process,
/// tests; jobs die with the process); backends::redis, redis_sentinel and
/// redis_cluster (hotstate/queue/redis_queue.hpp: several processes or
/// nodes share the queue; jobs live as long as Redis keeps its data); and any
/// backend whose queue_support is specialised.
template <class B>
concept QueueBackend = requires(B& backend) { queue_support<B>::engine(backend); };

/// Behaviour of one queue handle.
struct queue_options {
    /// How long a claim holds a job before another worker may take it over.
    std::chrono::milliseconds lease{std::chrono::seconds{30}};
    /// Claims per job before it is dead-lettered (a lease that ran out counts).
    std::int64_t max_attempts = 5;
    /// First retry delay; each further failure doubles it.
    std::chrono::milliseconds backoff_base{std::chrono::seconds{1}};
    /// Longest retry delay.
    std::chrono::milliseconds backoff_max{std::chrono::minutes{10}};
    /// Up to this fraction of each retry delay is cut at random (0: none).
    double jitter = 0.2;
    /// Replicated Redis only: after each enqueue, WAIT until this many replicas
    /// have the job (0: do not wait). An enqueue they do not all acknowledge
    /// within `replica_timeout` throws errc::timeout, though the job is on the
    /// master. See the README for what this does and does not guarantee.
    int wait_replicas = 0;
    /// How long an enqueue waits for `wait_replicas`.
    std::chrono::milliseconds replica_timeout{std::chrono::seconds{1}};
};

/// Options of one enqueue.
struct enqueue_options {
    /// Claimable only after this long.
    std::chrono::milliseconds delay{0};
    /// Higher first (-1000..1000); equal priorities in enqueue order.
    std::int64_t priority = 0;
    /// Deduplication id: while a job with this id exists (waiting, delayed,
    /// active or dead) another enqueue with it adds nothing. Empty: a random id.
    std::string id{};
};

/// What an enqueue did.
struct enqueue_result {
    /// The job's id (the deduplication id, or the random one made).
    std::string id;
    /// False when a job with this id already existed: nothing was added.
    bool enqueued = false;
};

/// Jobs per state (one consistent snapshot).
struct queue_counts {
    std::uint64_t waiting = 0;  ///< claimable now (or once a due delay is noticed)
    std::uint64_t delayed = 0;  ///< scheduled: enqueued with a delay, or waiting out a retry backoff
    std::uint64_t active = 0;   ///< leased to a worker (including leases that ran out but were not yet taken back)
    std::uint64_t dead = 0;     ///< out of attempts, or undecodable
};

/// A claimed job: the job and what proves the lease.
template <class Job>
struct claimed {
    std::string id;          ///< the job's id
    Job job;                 ///< the decoded job
    std::int64_t attempt;    ///< 1 on the first claim
    std::string owner;       ///< this lease's random owner token
    time_point lease_until;  ///< by the backend's clock
};

/// What job_queue::ack_and_claim did.
template <class Job>
struct ack_claim_result {
    /// Whether the ack took effect; false when the lease was lost (another
    /// worker may be running the job, which stays in the queue).
    bool acked = false;
    /// The next job, leased to this worker, if one came in time.
    std::optional<claimed<Job>> next;
};

/// A dead-lettered job, as bytes (it may be one that does not decode).
struct dead_job {
    std::string id;          ///< the job's id
    std::string payload;     ///< the encoded job
    std::int64_t attempts;   ///< claims it had
    std::string last_error;  ///< the last fail() message, the decode error, or the lease expiry
};

/// Thrown by ack, fail, heartbeat and release when the caller no longer holds
/// the job's lease: it ran out and another worker claimed the job, or the job
/// was released, retried, completed or purged. kind() is errc::invalid_argument.
class lease_lost : public error {
public:
    /// `message` says what; `id` is the job's id.
    lease_lost(const std::string& message, std::string id) : error(errc::invalid_argument, message), id_(std::move(id)) {}
    /// The job whose lease was lost.
    [[nodiscard]] const std::string& job_id() const noexcept { return id_; }

private:
    std::string id_;
};

namespace detail::queue {

/// The lease_lost of job `id` of queue `Q` that `found` (not owner_check::ok) describes.
template <class Q>
lease_lost lost_lease(std::string_view operation, const std::string& id, owner_check found) {
    return lease_lost(operation_context<Q>(operation) +
                          (found == owner_check::missing
                               ? "the job is gone (completed, purged or never there): this worker's lease is lost"
                               : "the job is no longer leased to this worker (its lease ran out and another "
                                 "worker claimed it, or it was released or retried)"),
                      id);
}

/// Throws lease_lost for job `id` of queue `Q` unless `found` says the caller
/// still holds its lease; the blocking queue and the async worker share it.
template <class Q>
void require_owner(std::string_view operation, const std::string& id, owner_check found) {
    if (found != owner_check::ok) throw lost_lease<Q>(operation, id, found);
}

/// Refuses queue options no backend can honour (errc::invalid_argument).
template <class Q>
void check_options(const queue_options& options) {
    if (options.lease.count() <= 0 || options.max_attempts < 1 || options.backoff_base.count() < 0)
        throw error(errc::invalid_argument,
                    operation_context<Q>("queue") + "needs lease > 0, max_attempts >= 1 and backoff_base >= 0");
}

/// How long a job that failed its `attempt` waits before the next one (the
/// options' exponential backoff with random jitter); nullopt when that was the
/// last attempt and the job is dead-lettered.
inline std::optional<std::chrono::milliseconds> retry_after(const queue_options& options, std::int64_t attempt) {
    if (attempt >= options.max_attempts) return std::nullopt;
    thread_local std::minstd_rand random{std::random_device{}()};
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random);
    return retry_delay(attempt, options.backoff_base, options.backoff_max, options.jitter, unit);
}

/// Refuses enqueue options no backend can honour (errc::invalid_argument).
template <class Q>
void check_enqueue(const enqueue_options& how) {
    if (how.delay.count() < 0)
        throw error(errc::invalid_argument, operation_context<Q>("enqueue") + "delay must not be negative");
    if (how.priority < -1000 || how.priority > 1000)
        throw error(errc::invalid_argument, operation_context<Q>("enqueue") + "priority must be within -1000..1000");
    if (!how.id.empty() && how.id.front() == '\0')  // the Redis queues mark whole jobs in line with a NUL
        throw error(errc::invalid_argument, operation_context<Q>("enqueue") + "a deduplication id must not start with a NUL byte");
}

}  // namespace detail::queue

/// A queue `Q` of a store: every operation of the capability.
/// @tparam Store a hotstate::store whose category list holds `Q`
/// @tparam Q     a queue_category
template <class Store, class Q>
class job_queue {
    static_assert(QueueCategory<Q>, "hotstate: the queue's template argument must be a queue category "
                                    "(a type derived from hotstate::queue_category<Id, \"name\", Job>)");
    static_assert(Store::template registers<Q>(),
                  "hotstate: this queue is not registered with this store; add it to the store's category list");
    static_assert(QueueBackend<typename Store::backend_type>,
                  "hotstate: this backend has no job queues (QueueBackend); include the backend's queue header "
                  "(hotstate/queue/memory_queue.hpp, ...)");

    using backend_type = typename Store::backend_type;
    using support = queue_support<backend_type>;
    using engine_ref = decltype(support::engine(std::declval<backend_type&>()));

public:
    /// The job type.
    using job_type = typename Q::job_type;
    /// The queue category.
    using category_type = Q;

    /// A handle on `Q` of `store` (which must outlive it).
    explicit job_queue(Store& store, queue_options options = {})
        : store_(&store), engine_(support::engine(store.backend())), key_(Store::template encoded_key<Q>("")),
          options_(options) {
        detail::queue::check_options<Q>(options_);
        if constexpr (requires { engine_.wait_for_replicas(1, options_.replica_timeout); })
            engine_.wait_for_replicas(options_.wait_replicas, options_.replica_timeout);
    }

    /// The options this handle uses.
    [[nodiscard]] const queue_options& options() const noexcept { return options_; }

    /// Adds `job`; with a deduplication id that exists already, adds nothing
    /// and says so. One atomic step on the backend.
    enqueue_result enqueue(const job_type& job, const enqueue_options& how = {}) {
        check_enqueue(how);
        std::string payload;
        codec<job_type>::encode(job, payload);
        std::string id = how.id.empty() ? detail::random_token() : how.id;
        const detail::queue::job_spec spec{id, payload, how.priority, how.delay.count()};
        const auto added = Store::template run_in_context<Q>("enqueue", [&] {
            return engine_.enqueue(key_, std::span<const detail::queue::job_spec>(&spec, 1), now_ms());
        });
        return {std::move(id), added.at(0)};
    }

    /// Adds every job in one round trip, all with `how`'s delay and priority
    /// (ids are random: use enqueue for deduplication). Results in order.
    /// A bulk job's random id is not meant as a deduplication id: the Redis
    /// queues keep a bulk's jobs of priority 0 without delay whole in line
    /// until their first claim, and only then is their id known to enqueue's
    /// check.
    std::vector<enqueue_result> enqueue_bulk(std::span<const job_type> jobs, const enqueue_options& how = {}) {
        check_enqueue(how);
        if (!how.id.empty())
            throw error(errc::invalid_argument,
                        detail::operation_context<Q>("enqueue_bulk") + "a deduplication id names one job");
        std::vector<std::string> payloads(jobs.size());
        std::vector<enqueue_result> results(jobs.size());
        std::vector<detail::queue::job_spec> specs(jobs.size());
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            codec<job_type>::encode(jobs[i], payloads[i]);
            results[i].id = detail::random_token();
            specs[i] = {results[i].id, payloads[i], how.priority, how.delay.count()};
        }
        const auto added = Store::template run_in_context<Q>(
            "enqueue_bulk", [&] { return engine_.enqueue(key_, std::span<const detail::queue::job_spec>(specs), now_ms()); });
        for (std::size_t i = 0; i < results.size(); ++i) results[i].enqueued = added.at(i);
        return results;
    }

    /// Leases the next job (highest priority, then oldest) for options().lease;
    /// first moves due delayed jobs and expired leases back. Waits up to `wait`
    /// for one to arrive (woken by an enqueue, not by polling). A job that does
    /// not decode (whatever its codec throws) is dead-lettered with the codec's
    /// message and the next is tried.
    [[nodiscard]] std::optional<claimed<job_type>> claim(std::chrono::milliseconds wait = std::chrono::milliseconds{0}) {
        return claim_until(std::chrono::steady_clock::now() + wait, true);
    }

    /// A worker's step: acks `done` and claims the next job in one round trip
    /// where the backend can (Redis: one script), else ack then claim. Waits
    /// up to `wait` for a next job as claim() does. A lost lease on `done` does
    /// not throw here (the next job must not be stranded): it reads acked == false.
    [[nodiscard]] ack_claim_result<job_type> ack_and_claim(const claimed<job_type>& done,
                                                           std::chrono::milliseconds wait = std::chrono::milliseconds{0}) {
        const auto until = std::chrono::steady_clock::now() + wait;
        ack_claim_result<job_type> result;
        if constexpr (requires { engine_.ack_claim(key_, done.id, done.owner, done.owner, 1, 1, 1); }) {
            std::string owner = detail::random_token();
            auto raw = Store::template run_in_context<Q>("ack_claim", [&] {
                return engine_.ack_claim(key_, done.id, done.owner, owner, options_.lease.count(),
                                         options_.max_attempts, now_ms());
            });
            result.acked = raw.acked == detail::queue::owner_check::ok;
            if (raw.next) {
                result.next = decoded(std::move(*raw.next), std::move(owner));
                if (!result.next) result.next = claim_until(until, true);  // it was dead-lettered
            } else {
                result.next = claim_until(until, false);
            }
        } else {
            result.acked = Store::template run_in_context<Q>("ack", [&] {
                               return engine_.ack(key_, done.id, done.owner);
                           }) == detail::queue::owner_check::ok;
            result.next = claim_until(until, true);
        }
        return result;
    }

    /// Extends the lease of `job` to options().lease from now. Throws lease_lost
    /// when it is no longer this worker's.
    void heartbeat(claimed<job_type>& job) {
        const std::int64_t now = now_ms();
        check_owner("heartbeat", job.id, Store::template run_in_context<Q>("heartbeat", [&] {
                        return engine_.heartbeat(key_, job.id, job.owner, options_.lease.count(), now);
                    }));
        job.lease_until = time_point{std::chrono::milliseconds{now + options_.lease.count()}};
    }

    /// Completes `job`: it is removed. Throws lease_lost when it is no longer
    /// this worker's (another worker may be running it).
    void ack(const claimed<job_type>& job) {
        check_owner("ack", job.id,
                    Store::template run_in_context<Q>("ack", [&] { return engine_.ack(key_, job.id, job.owner); }));
    }

    /// Fails `job` with `message`: it is retried after an exponential backoff
    /// with jitter, or dead-lettered when this was attempt max_attempts.
    /// Returns true when it was dead-lettered. Throws lease_lost as ack does.
    bool fail(const claimed<job_type>& job, std::string_view message) {
        std::optional<std::int64_t> retry;
        if (const auto after = detail::queue::retry_after(options_, job.attempt)) retry = after->count();
        check_owner("fail", job.id, Store::template run_in_context<Q>("fail", [&] {
                        return engine_.fail(key_, job.id, job.owner, message, retry, now_ms());
                    }));
        return !retry;
    }

    /// Gives `job` back untouched (its attempt is not counted): claimable at
    /// once by any worker. Throws lease_lost as ack does.
    void release(const claimed<job_type>& job) {
        check_owner("release", job.id, Store::template run_in_context<Q>(
                                           "release", [&] { return engine_.release(key_, job.id, job.owner); }));
    }

    /// Jobs per state.
    [[nodiscard]] queue_counts counts() {
        const auto raw = Store::template run_in_context<Q>("counts", [&] { return engine_.counts(key_); });
        return {raw.waiting, raw.delayed, raw.active, raw.dead};
    }

    /// Up to `limit` dead jobs, in the order they died.
    [[nodiscard]] std::vector<dead_job> dead(std::size_t limit = 100) {
        auto raw = Store::template run_in_context<Q>("dead", [&] { return engine_.dead(key_, limit); });
        std::vector<dead_job> out;
        out.reserve(raw.size());
        for (auto& d : raw) out.push_back({std::move(d.id), std::move(d.payload), d.attempts, std::move(d.last_error)});
        return out;
    }

    /// Moves dead job `id` back to waiting with no attempts counted; true when it was dead.
    bool requeue_dead(std::string_view id) {
        return Store::template run_in_context<Q>("requeue_dead",
                                                 [&] { return engine_.requeue_dead(key_, id); }) > 0;
    }

    /// Moves every dead job back to waiting; how many.
    std::uint64_t requeue_all_dead() {
        return Store::template run_in_context<Q>("requeue_dead",
                                                 [&] { return engine_.requeue_dead(key_, std::nullopt); });
    }

    /// Deletes every job in every state; how many. Workers holding leases get
    /// lease_lost on their next call.
    std::uint64_t purge() {
        return Store::template run_in_context<Q>("purge", [&] { return engine_.purge(key_); });
    }

    /// Wakes every claim() blocked on this queue's backend (used by a stopping worker pool).
    void wake_claimers() { engine_.wake_all(); }

private:
    std::int64_t now_ms() const { return store_->now().time_since_epoch().count(); }

    /// Claims until a job comes or `until` passes; `look_first` false starts by waiting
    /// (the caller just found nothing).
    std::optional<claimed<job_type>> claim_until(std::chrono::steady_clock::time_point until, bool look_first) {
        for (;;) {
            const std::uint64_t seen = engine_.generation();
            if (look_first) {
                std::string owner = detail::random_token();
                auto raw = Store::template run_in_context<Q>("claim", [&] {
                    return engine_.claim(key_, owner, options_.lease.count(), options_.max_attempts, now_ms());
                });
                if (raw) {
                    if (auto job = decoded(std::move(*raw), std::move(owner))) return job;
                    continue;  // dead-lettered: try the next
                }
            }
            look_first = true;
            if (std::chrono::steady_clock::now() >= until) return std::nullopt;
            // a delayed job or a lease may come due meanwhile: look again after at most a second
            engine_.wait(key_, seen, std::min(until, std::chrono::steady_clock::now() + std::chrono::seconds{1}));
        }
    }

    /// The claimed job decoded, or nullopt after dead-lettering it with the decode error
    /// (whatever the codec threw: a user's codec may throw its own exceptions).
    std::optional<claimed<job_type>> decoded(detail::queue::raw_claim&& raw, std::string&& owner) {
        std::optional<job_type> job;
        try {
            job.emplace(codec<job_type>::decode(raw.payload));
        } catch (...) {
            const std::string why = detail::current_exception_message();
            Store::template run_in_context<Q>("claim", [&] {
                return engine_.fail(key_, raw.id, owner, why, std::nullopt, now_ms());
            });
            return std::nullopt;
        }
        return claimed<job_type>{std::move(raw.id), std::move(*job), raw.attempt, std::move(owner),
                                 time_point{std::chrono::milliseconds{raw.lease_until_ms}}};
    }

    void check_enqueue(const enqueue_options& how) const { detail::queue::check_enqueue<Q>(how); }

    static void check_owner(std::string_view operation, const std::string& id, detail::queue::owner_check found) {
        detail::queue::require_owner<Q>(operation, id, found);
    }

    Store* store_;
    engine_ref engine_;
    std::string key_;
    queue_options options_;
};

/// A handle on queue `Q` of `store`: `hotstate::queue<webhooks>(store)`.
template <class Q, class Store>
[[nodiscard]] job_queue<Store, Q> queue(Store& store, queue_options options = {}) {
    return job_queue<Store, Q>(store, options);
}

}  // namespace hotstate
