// hotstate/queue/sqlite_queue.hpp: job queues on the SQLite backend.
//
// Jobs live in a table of the backend's database file, so they survive a
// restart or a crash of the process (synchronous = FULL: an enqueue that
// returned is on disk) and are shared by every process that opens the file.
// Every state change is one BEGIN IMMEDIATE transaction. A blocked claim wakes
// at once on an enqueue of its own process, and within a second on one of
// another process. Link hotstate::sqlite.
#pragma once

#include <hotstate/backends/sqlite.hpp>
#include <hotstate/detail/queue/sqlite_engine.hpp>
#include <hotstate/queue.hpp>

namespace hotstate {

/// The SQLite backend holds job queues (QueueBackend).
template <Clock C>
struct queue_support<backends::basic_sqlite<C>> {
    /// The backend's queue engine (its own connection), made on first use.
    static detail::queue::sqlite_engine& engine(backends::basic_sqlite<C>& backend) {
        return backend.template extension<detail::queue::sqlite_engine>();
    }
};

static_assert(QueueBackend<backends::sqlite>);

}  // namespace hotstate
