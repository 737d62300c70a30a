// A model whose backend has a capability the model does not state: its laws
// would not run, so the registration does not compile. (The embedded backend
// holds job queues once hotstate/queue/memory_queue.hpp is included.)
// Built with HOTSTATE_CONTROL, the same registration stating it compiles.
#include <tuple>

#include <hotstate/queue/memory_queue.hpp>

#include "laws/model.hpp"
#include "memory/memory_fixture.hpp"

#ifdef HOTSTATE_CONTROL
using hotstate_law_models = std::tuple<laws::model<memory_fixture, laws::store_capabilities, laws::queues>>;
#else
using hotstate_law_models = std::tuple<laws::model<memory_fixture, laws::store_capabilities>>;
#endif

using registered = laws::models_with<laws::key_value, hotstate_law_models>;
static_assert(std::tuple_size_v<registered> == 1);
