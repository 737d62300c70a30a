// Counter increments in a pipeline need an integer category: the error names CounterCategory.
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct sessions : hotstate::category<1, "sessions"> {};

void misuse(hotstate::store<hotstate::backends::redis, sessions>& store) {
    (void)store.pipeline(hotstate::redis::ops::incr<sessions>{"k"});
}
