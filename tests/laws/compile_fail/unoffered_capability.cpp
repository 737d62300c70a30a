// A model that states a capability its backend does not have (the embedded
// backend has no pipelines): the registration does not compile. Built with
// HOTSTATE_CONTROL, the same registration without it compiles.
#include <tuple>

#include "laws/model.hpp"
#include "memory/memory_fixture.hpp"

#ifdef HOTSTATE_CONTROL
using hotstate_law_models = std::tuple<laws::model<memory_fixture, laws::store_capabilities>>;
#else
using hotstate_law_models = std::tuple<laws::model<memory_fixture, laws::store_capabilities, laws::pipelines>>;
#endif

using registered = laws::models_with<laws::key_value, hotstate_law_models>;
static_assert(std::tuple_size_v<registered> == 1);
