// The laws over the SQLite backend, on a database file and in memory: every
// store capability, and job queues.
#include <tuple>

#include <hotstate/queue/sqlite_queue.hpp>

#include "laws/model.hpp"
#include "sqlite/sqlite_fixture.hpp"

using hotstate_law_models = std::tuple<laws::model<sqlite_file_fixture, laws::store_capabilities, laws::queues, laws::differential>,
                                       laws::model<sqlite_memory_fixture, laws::store_capabilities, laws::queues, laws::differential>>;
#include "laws/store.hpp"
