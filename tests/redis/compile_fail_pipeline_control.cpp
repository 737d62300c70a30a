// Control: the includes and a correct pipeline compile, so the failures beside
// it fail for the reason their message names, not for a broken include.
#include <chrono>
#include <cstdint>

#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

struct sessions : hotstate::category<1, "sessions"> {};
struct failed_logins : hotstate::category<2, "failed-logins", std::int64_t> {};

void use(hotstate::store<hotstate::backends::redis, sessions, failed_logins>& store) {
    namespace ops = hotstate::redis::ops;
    (void)store.pipeline(ops::get<sessions>{"k"}, ops::incr<failed_logins>{"198.51.100.7", 1, std::chrono::hours{1}},
                         ops::set<failed_logins>{"198.51.100.7", std::int64_t{1}}, ops::take<sessions>{"k"});
}
