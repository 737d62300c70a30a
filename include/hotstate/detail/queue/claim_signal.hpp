// hotstate/detail/queue/claim_signal.hpp: how a blocking claim on an
// in-process queue engine (memory, SQLite) waits for work without polling.
//
// The signal is a number that changes whenever a job may have become
// claimable (an enqueue, a release, a requeue, a stopping pool). A claimer
// reads it BEFORE looking for a job and, finding none, waits for it to move:
// a change made after the look moves the number after it was read, so no
// wake-up is lost, and the engine's own lock is never held while waiting.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace hotstate::detail::queue {

/// The wake-up of blocked claimers on one in-process engine.
class claim_signal {
public:
    /// The number to pass to wait(); read it before looking for a job.
    [[nodiscard]] std::uint64_t generation() const {
        std::scoped_lock guard(mutex_);
        return generation_;
    }

    /// Blocks until the number moves past `seen` or `until` passes.
    void wait(std::uint64_t seen, std::chrono::steady_clock::time_point until) const {
        std::unique_lock guard(mutex_);
        wake_.wait_until(guard, until, [&] { return generation_ != seen; });
    }

    /// A job may have become claimable: wakes every waiting claimer.
    void notify() {
        {
            std::scoped_lock guard(mutex_);
            ++generation_;
        }
        wake_.notify_all();
    }

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable wake_;
    std::uint64_t generation_ = 0;
};

}  // namespace hotstate::detail::queue
