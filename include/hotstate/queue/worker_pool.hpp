// hotstate/queue/worker_pool.hpp: N threads that claim, run and settle jobs.
//
//   auto jobs = hotstate::queue<webhooks>(store);
//   hotstate::worker_pool pool(jobs, [](const webhook_job& job) { deliver(job); }, {.threads = 4});
//   ...
//   auto report = pool.stop(std::chrono::seconds{10});   // graceful: finish or give back
//
// Each thread claims (blocking, woken by enqueues), runs the handler, and acks
// (acking and claiming its next job in one round trip: job_queue::ack_and_claim);
// a handler that throws, whatever it throws, fails the job with the exception's
// message (retried with backoff, dead-lettered after max_attempts). A job that
// does not decode, whatever its codec throws, is dead-lettered by claim()
// itself with the codec's message. Either way the pool keeps running. One more
// thread heartbeats every in-flight job on a timer, so a long job keeps its
// lease and a dead process's jobs come back after one lease.
//
// Failures of the queue itself (a claim, ack, fail, release or heartbeat that
// threw: the backend is unreachable, or a job's lease was lost) do not stop the
// pool: a claim is tried again after claim_wait, and a job that could not be
// settled comes back by itself when its lease runs out. Each is reported to
// worker_options::on_error, if set:
//
//   hotstate::worker_pool pool(jobs, handle, {.threads = 4, .on_error = [](const hotstate::worker_error& e) {
//       log("queue worker: {} of job '{}' failed: {}", e.operation, e.job_id, e.problem.what());
//   }});
//
// Threads: the workers share the pool's state under one mutex, taken for a few
// instructions per job; a settled job wakes only a stop() that waits for it,
// never the heartbeat thread, so the threads add up like processes do
// (bench/queue/queue_scaling_bench: RATIO queue_workers_4_threads_vs_4_processes).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/queue.hpp>

namespace hotstate {

/// A failure of the queue that a worker (worker_pool, async_worker) handled by
/// itself and reports to its on_error callback. The worker goes on: a claim is
/// tried again after claim_wait; a job it could not settle (ack, fail) or give
/// back (release) returns to the queue by itself when its lease runs out; a
/// heartbeat is sent again at the next beat.
struct worker_error {
    /// What failed: "claim", "ack" (with the claim of the next job riding on it), "fail",
    /// "release" or "heartbeat".
    std::string_view operation;
    /// The job concerned; empty for a claim.
    std::string_view job_id;
    /// Why: the backend's error (kind() errc::connection, timeout...), or lease_lost's
    /// (errc::invalid_argument: the job's lease ran out before the call, and another worker
    /// may be running it). An exception that is not a hotstate::error comes as errc::storage
    /// with its message.
    error problem;
};

/// Receives each worker_error; see worker_options::on_error.
using worker_error_handler = std::function<void(const worker_error&)>;

/// Settings of a worker_pool.
struct worker_options {
    /// Threads claiming and running jobs.
    std::size_t threads = 4;
    /// How often in-flight jobs are heartbeated (keep it well under the queue's lease).
    std::chrono::milliseconds heartbeat_every{std::chrono::seconds{10}};
    /// How long one blocking claim waits before the thread looks at its stop flag again.
    std::chrono::milliseconds claim_wait{std::chrono::milliseconds{500}};
    /// Called with each failure of the queue the pool handled by itself (see worker_error):
    /// on the pool's threads, one call at a time; it must not block for long nor call the
    /// pool's stop(). What it throws is ignored. Empty: failures are not reported.
    worker_error_handler on_error{};
};

namespace detail::queue {

/// The exception being handled (call it inside a catch block) as a hotstate::error:
/// itself when it is one, else errc::storage naming `operation` and its message.
inline error current_error(std::string_view operation) {
    try {
        throw;
    } catch (const error& failure) {
        return failure;
    } catch (...) {
        return error(errc::storage, "hotstate: queue worker: " + std::string(operation) +
                                        " threw: " + detail::current_exception_message());
    }
}

/// Calls `on_error` (if set) with `failure`; what it throws is ignored, so a
/// faulty callback cannot stop a worker.
inline void report_worker_error(const worker_error_handler& on_error, const worker_error& failure) noexcept {
    if (!on_error) return;
    try {
        on_error(failure);
    } catch (...) {
    }
}

}  // namespace detail::queue

/// What a graceful stop did with the jobs in flight when it began.
struct stop_report {
    std::size_t finished = 0;  ///< settled (acked or failed) before the deadline
    std::size_t released = 0;  ///< given back to the queue at the deadline, claimable by others at once
};

/// A pool of worker threads over one job_queue handle.
/// @tparam Queue a hotstate::job_queue (which must outlive the pool)
template <class Queue>
class worker_pool {
public:
    /// The job type.
    using job_type = typename Queue::job_type;
    /// Runs one job; throwing fails it with the exception's message.
    using handler_type = std::function<void(const job_type&)>;

    /// Starts `options.threads` workers and the heartbeat thread.
    worker_pool(Queue& queue, handler_type handler, worker_options options = {})
        : queue_(queue), handler_(std::move(handler)), options_(options), slots_(options.threads) {
        if (options_.threads == 0 || options_.heartbeat_every.count() <= 0)
            throw error(errc::invalid_argument, "hotstate: worker_pool needs threads > 0 and heartbeat_every > 0");
        for (std::size_t i = 0; i < options_.threads; ++i)
            threads_.emplace_back([this, i](std::stop_token stop) { work(i, stop); });
        heartbeater_ = std::jthread([this](std::stop_token stop) { heartbeat_loop(stop); });
    }

    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Stops at once (in-flight jobs are released) and joins every thread;
    /// a handler still running is waited for.
    ~worker_pool() {
        (void)stop(std::chrono::milliseconds{0});
        for (auto& t : threads_) t.join();
    }

    /// Graceful stop: no new claims; waits up to `deadline` for the jobs in
    /// flight to finish, then releases the rest (their handlers keep running;
    /// their ack or fail is then refused and ignored). Idempotent.
    stop_report stop(std::chrono::milliseconds deadline) {
        stop_report report;
        std::vector<claimed<job_type>> left;  // still running at the deadline: given back below
        {
            std::unique_lock guard(mutex_);
            if (stopping_) return report;
            stopping_ = true;
            for (auto& t : threads_) t.request_stop();
            std::size_t in_flight = 0;
            for (const auto* s : slots_) in_flight += s != nullptr;
            settled_.wait_for(guard, deadline, [&] {
                for (const auto* s : slots_)
                    if (s) return false;
                return true;
            });
            for (auto& s : slots_) {
                if (!s) continue;
                left.push_back(*s);
                s = nullptr;  // its worker no longer settles it
            }
            report.released = left.size();
            report.finished = in_flight - left.size();
        }
        for (const auto& job : left) {
            try {
                queue_.release(job);
            } catch (...) {
                // the lease was already lost or the backend is unreachable: the lease expiry recovers it
                report_current("release", job.id);
            }
        }
        heartbeater_.request_stop();
        queue_.wake_claimers();
        return report;
    }

    /// Jobs acked so far.
    [[nodiscard]] std::uint64_t completed() const { return locked([&] { return completed_; }); }
    /// Jobs failed so far (handler threw).
    [[nodiscard]] std::uint64_t failed() const { return locked([&] { return failed_; }); }
    /// Heartbeats sent so far.
    [[nodiscard]] std::uint64_t heartbeats() const { return locked([&] { return heartbeats_; }); }

private:
    template <class F>
    auto locked(F&& read) const {
        std::scoped_lock guard(mutex_);
        return read();
    }

    void work(std::size_t index, std::stop_token stop) {
        std::optional<claimed<job_type>> job;  // the next job, when the last ack claimed it
        while (!stop.stop_requested()) {
            if (!job) {
                try {
                    job = queue_.claim(options_.claim_wait);
                } catch (...) {
                    report_current("claim", {});
                    pause(stop, options_.claim_wait);  // backend unreachable: wait a little, claim again
                    continue;
                }
                if (!job) continue;
            }
            {
                std::scoped_lock guard(mutex_);
                if (stopping_) break;  // claimed while the pool began stopping: given back below
                slots_[index] = &*job;  // the worker's own: no copy under the lock
            }
            std::optional<std::string> failure;  // the handler's error: the job fails with it
            try {
                handler_(job->job);
            } catch (...) {
                failure = detail::current_exception_message();
            }
            {
                std::scoped_lock guard(mutex_);
                if (!slots_[index]) {  // released by stop(): no longer ours to settle
                    job.reset();
                    continue;
                }
            }
            std::optional<claimed<job_type>> next;
            try {
                if (failure) {
                    queue_.fail(*job, *failure);
                } else if (stop.stop_requested()) {
                    queue_.ack(*job);
                } else {
                    // the ack and the next claim in one round trip where the backend can; without
                    // waiting, so the job counts as settled at once (an idle thread waits in claim())
                    auto step = queue_.ack_and_claim(*job, std::chrono::milliseconds{0});
                    next = std::move(step.next);
                    if (!step.acked)
                        report_now({"ack", job->id,
                                    detail::queue::lost_lease<typename Queue::category_type>(
                                        "ack", job->id, detail::queue::owner_check::not_owner)});
                }
            } catch (...) {
                // lease lost (it ran out and another worker took the job) or the backend failed:
                // either way the job comes back by itself (as does a next job claimed unseen)
                report_current(failure ? "fail" : "ack", job->id);
            }
            bool stop_waits = false;
            {
                std::scoped_lock guard(mutex_);
                slots_[index] = nullptr;
                ++(failure ? failed_ : completed_);
                stop_waits = stopping_;
            }
            if (stop_waits) settled_.notify_all();  // only stop() waits for jobs to settle
            job = std::move(next);
        }
        if (job) {  // claimed as the pool stopped: give it back, claimable by others at once
            try {
                queue_.release(*job);
            } catch (...) {
                report_current("release", job->id);
            }
        }
    }

    /// Sleeps up to `wait` unless `stop` is requested. Nothing notifies `idle_` but stop
    /// requests: the settling of jobs must not wake sleepers (it would cost every job a
    /// context switch).
    void pause(const std::stop_token& stop, std::chrono::milliseconds wait) {
        std::unique_lock guard(mutex_);
        idle_.wait_for(guard, stop, wait, [] { return false; });
    }

    /// Reports the exception being handled (call it inside a catch block) as a failure of `operation`.
    void report_current(std::string_view operation, std::string_view job_id) {
        if (!options_.on_error) return;
        report_now({operation, job_id, detail::queue::current_error(operation)});
    }

    /// Reports `failure`, one call at a time.
    void report_now(const worker_error& failure) {
        if (!options_.on_error) return;
        std::scoped_lock serial(report_mutex_);
        detail::queue::report_worker_error(options_.on_error, failure);
    }

    /// Heartbeats every in-flight job on the timer; the calls run outside the
    /// pool's mutex (a slow backend must not hold up workers settling jobs).
    void heartbeat_loop(std::stop_token stop) {
        std::unique_lock guard(mutex_);
        while (!stop.stop_requested()) {
            idle_.wait_for(guard, stop, options_.heartbeat_every, [] { return false; });
            if (stop.stop_requested()) break;
            std::vector<claimed<job_type>> in_flight;
            for (const auto* s : slots_)
                if (s) in_flight.push_back(*s);
            guard.unlock();
            std::uint64_t sent = 0;
            for (auto& job : in_flight) {
                try {
                    queue_.heartbeat(job);
                    ++sent;
                } catch (...) {
                    report_current("heartbeat", job.id);  // the worker learns the rest when it settles the job
                }
            }
            guard.lock();
            heartbeats_ += sent;
        }
    }

    Queue& queue_;
    handler_type handler_;
    worker_options options_;
    mutable std::mutex mutex_;
    std::condition_variable_any settled_;  // a job settled while stop() waits
    std::condition_variable_any idle_;     // sleepers (heartbeat timer, claim retry): woken by stop requests only
    std::mutex report_mutex_;              // on_error calls, one at a time
    std::vector<const claimed<job_type>*> slots_;  // each worker's job in flight (its own), or null
    bool stopping_ = false;
    std::uint64_t completed_ = 0;
    std::uint64_t failed_ = 0;
    std::uint64_t heartbeats_ = 0;
    std::vector<std::jthread> threads_;
    std::jthread heartbeater_;
};

}  // namespace hotstate
