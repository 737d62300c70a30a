// The control of compile_fail_pipeline.cpp: the same pipeline in a TU that
// includes the engine's header builds.
#include <hotstate/backends/compiled.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct oauth : hotstate::category<42, "oauth"> {};

void run(hotstate::store<hotstate::backends::compiled<hotstate::backends::redis>, oauth>& s) {
    (void)s.pipeline(hotstate::redis::ops::get<oauth>{"code"});
}
