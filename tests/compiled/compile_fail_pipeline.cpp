// A pipeline through compiled<redis> in a TU that does not include the
// engine's header: the engine's pipeline code is not there to run, and the
// static_assert says which header to add.
#include <hotstate/backends/compiled.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct oauth : hotstate::category<42, "oauth"> {};

void run(hotstate::store<hotstate::backends::compiled<hotstate::backends::redis>, oauth>& s) {
    (void)s.pipeline(hotstate::redis::ops::get<oauth>{"code"});
}
