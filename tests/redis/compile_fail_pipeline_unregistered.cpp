// A pipeline operation's category must be registered with the store, as for the store's own calls.
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct sessions : hotstate::category<1, "sessions"> {};
struct failed_logins : hotstate::category<2, "failed-logins", std::int64_t> {};

void misuse(hotstate::store<hotstate::backends::redis, sessions>& store) {
    (void)store.pipeline(hotstate::redis::ops::get<sessions>{"k"},
                         hotstate::redis::ops::get<failed_logins>{"198.51.100.7"});
}
