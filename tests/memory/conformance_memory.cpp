// The laws over the embedded backend on a manual clock: every store capability, and job queues.
#include <tuple>

#include <hotstate/queue/memory_queue.hpp>

#include "laws/model.hpp"
#include "memory/memory_fixture.hpp"

using hotstate_law_models = std::tuple<laws::model<memory_fixture, laws::store_capabilities, laws::queues>>;
#include "laws/store.hpp"
