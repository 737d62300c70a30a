// memcached cannot list its keys: erase_all (delete by prefix) must not compile.
#include <hotstate/backends/memcached.hpp>
#include <hotstate/store.hpp>

struct sessions : hotstate::category<1, "mc-sessions"> {};

void use(hotstate::store<hotstate::backends::memcached, sessions>& s) {
#ifdef HOTSTATE_CONTROL
    s.erase<sessions>("k");
#else
    (void)s.erase_all<sessions>();
#endif
}
