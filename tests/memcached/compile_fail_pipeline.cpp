// memcached has no pipelines of hotstate's typed operations: a pipeline over it must not compile.
#include <hotstate/backends/memcached.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct sessions : hotstate::category<1, "mc-sessions"> {};

void use(hotstate::store<hotstate::backends::memcached, sessions>& s) {
#ifdef HOTSTATE_CONTROL
    (void)s.get<sessions>("k");
#else
    (void)s.pipeline(hotstate::redis::ops::get<sessions>{"k"});
#endif
}
