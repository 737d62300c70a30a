// A pipeline set checks the value against the category's value type, as store.set does.
#include <cstdint>

#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct failed_logins : hotstate::category<2, "failed-logins", std::int64_t> {};

void misuse(hotstate::store<hotstate::backends::redis, failed_logins>& store) {
    (void)store.pipeline(hotstate::redis::ops::set<failed_logins>{"198.51.100.7", "one"});
}
