// A transport over something that is not a Link: one error naming the concept.
#include <hotstate/transports/redis_pubsub.hpp>

struct not_a_link {
    void run() {}
};

hotstate::transports::basic_redis_pubsub<not_a_link>* transport = nullptr;
