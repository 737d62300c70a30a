// hotstate/queue/worker_pool.hpp: N threads that claim, run and settle jobs.
//
//   auto jobs = hotstate::queue<webhooks>(store);
//   hotstate::worker_pool pool(jobs, [](const webhook_job& job) { deliver(job); }, {.threads = 4});
//   ...
//   auto report = pool.stop(std::chrono::seconds{10});   // graceful: finish or give back
//
// Each thread claims (blocking, woken by enqueues), runs the handler, and acks
// (acking and claiming its next job in one round trip: job_queue::ack_and_claim);
// a handler that throws fails the job with the exception's message (retried
// with backoff, dead-lettered after max_attempts). A job that does not decode
// is dead-lettered by claim() itself, so the pool keeps running. One more
// thread heartbeats every in-flight job on a timer, so a long job keeps its
// lease and a dead process's jobs come back after one lease.
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
#include <vector>

#include <hotstate/queue.hpp>

namespace hotstate {

/// Settings of a worker_pool.
struct worker_options {
    /// Threads claiming and running jobs.
    std::size_t threads = 4;
    /// How often in-flight jobs are heartbeated (keep it well under the queue's lease).
    std::chrono::milliseconds heartbeat_every{std::chrono::seconds{10}};
    /// How long one blocking claim waits before the thread looks at its stop flag again.
    std::chrono::milliseconds claim_wait{std::chrono::milliseconds{500}};
};

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
        {
            std::unique_lock guard(mutex_);
            if (stopping_) return report;
            stopping_ = true;
            for (auto& t : threads_) t.request_stop();
            std::size_t in_flight = 0;
            for (const auto& s : slots_) in_flight += s.has_value();
            settled_.wait_for(guard, deadline, [&] {
                for (const auto& s : slots_)
                    if (s) return false;
                return true;
            });
            std::size_t left = 0;
            for (auto& s : slots_) {
                if (!s) continue;
                ++left;
                try {
                    queue_.release(*s);
                } catch (const error&) {
                    // the lease was already lost or the backend is unreachable: the lease expiry recovers it
                }
                s.reset();
            }
            report.released = left;
            report.finished = in_flight - left;
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
                } catch (const error&) {
                    // backend unreachable: wait a little (interruptibly) and claim again
                    std::unique_lock guard(mutex_);
                    settled_.wait_for(guard, stop, options_.claim_wait, [] { return false; });
                    continue;
                }
                if (!job) continue;
            }
            {
                std::scoped_lock guard(mutex_);
                if (stopping_) break;  // claimed while the pool began stopping: given back below
                slots_[index] = *job;
            }
            std::optional<std::string> failure;  // the handler's error: the job fails with it
            try {
                handler_(job->job);
            } catch (...) {
                failure = detail::queue::handler_failure();
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
                if (failure)
                    queue_.fail(*job, *failure);
                else if (stop.stop_requested())
                    queue_.ack(*job);
                else  // the ack and the next claim in one round trip where the backend can
                    next = queue_.ack_and_claim(*job, options_.claim_wait).next;
            } catch (const error&) {
                // lease lost (it ran out and another worker took the job) or the backend failed:
                // either way the job comes back by itself (as does a next job claimed unseen)
            }
            {
                std::scoped_lock guard(mutex_);
                slots_[index].reset();
                ++(failure ? failed_ : completed_);
            }
            settled_.notify_all();
            job = std::move(next);
        }
        if (job) {  // claimed as the pool stopped: give it back, claimable by others at once
            try {
                queue_.release(*job);
            } catch (const error&) {
            }
        }
    }

    /// Heartbeats every in-flight job on the timer; the calls run outside the
    /// pool's mutex (a slow backend must not hold up workers settling jobs).
    void heartbeat_loop(std::stop_token stop) {
        std::unique_lock guard(mutex_);
        while (!stop.stop_requested()) {
            settled_.wait_for(guard, stop, options_.heartbeat_every, [] { return false; });
            if (stop.stop_requested()) break;
            std::vector<claimed<job_type>> in_flight;
            for (const auto& s : slots_)
                if (s) in_flight.push_back(*s);
            guard.unlock();
            std::uint64_t sent = 0;
            for (auto& job : in_flight) {
                try {
                    queue_.heartbeat(job);
                    ++sent;
                } catch (const error&) {
                    // lost or unreachable: the worker learns it when it settles the job
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
    std::condition_variable_any settled_;
    std::vector<std::optional<claimed<job_type>>> slots_;
    bool stopping_ = false;
    std::uint64_t completed_ = 0;
    std::uint64_t failed_ = 0;
    std::uint64_t heartbeats_ = 0;
    std::vector<std::jthread> threads_;
    std::jthread heartbeater_;
};

}  // namespace hotstate
