// hotstate/queue/memory_queue.hpp: job queues on the embedded backend.
//
// The queues of one basic_memory live in the backend (its extension slot),
// under one mutex; a blocked claim waits on a condition variable that every
// enqueue signals. Jobs die with the process: use SQLite or Redis to keep them.
#pragma once

#include <hotstate/backends/memory.hpp>
#include <hotstate/detail/queue/memory_engine.hpp>
#include <hotstate/queue.hpp>

namespace hotstate {

/// The embedded backend holds job queues (QueueBackend).
template <Clock C>
struct queue_support<backends::basic_memory<C>> {
    /// The backend's queue engine, made on first use.
    static detail::queue::memory_engine& engine(backends::basic_memory<C>& backend) {
        return backend.template extension<detail::queue::memory_engine>();
    }
};

static_assert(QueueBackend<backends::memory>);

}  // namespace hotstate
