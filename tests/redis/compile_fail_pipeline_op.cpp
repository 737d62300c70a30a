// A pipeline accepts only pipeline operations: the error names PipelineOp.
#include <hotstate/backends/redis.hpp>

void misuse(hotstate::backends::redis& backend) {
    (void)backend.pipeline(hotstate::redis::ops::get{"k"}, 42);
}
