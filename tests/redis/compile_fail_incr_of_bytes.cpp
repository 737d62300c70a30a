// Counter increments in a pipeline need an integer category: the error names CounterCategory.
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>

struct sessions : hotstate::category<1, "sessions"> {};

void misuse(hotstate::backends::redis& backend) {
    (void)backend.pipeline(hotstate::redis::ops::incr_of<sessions>("k"));
}
