// A pipeline accepts only pipeline operations: the error names PipelineOp.
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct sessions : hotstate::category<1, "sessions"> {};

void misuse(hotstate::store<hotstate::backends::redis, sessions>& store) {
    (void)store.pipeline(hotstate::redis::ops::get<sessions>{"k"}, 42);
}
