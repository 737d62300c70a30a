// queue_options::wait_replicas on a Redis without replicas: WAIT cannot be
// satisfied, so the enqueue throws errc::timeout after replica_timeout, and
// says so; the job is on the master all the same.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/queue/redis_queue.hpp>

#include "redis/redis_fixture.hpp"

namespace {

using namespace std::chrono_literals;
struct texts : hotstate::queue_category<61, "texts"> {};

TEST_CASE("queue wait_replicas: an enqueue no replica acknowledged throws timeout, the job stays on the master") {
    redis_fixture fixture;
    auto store = fixture.make_store<texts>();
    auto waiting = hotstate::queue<texts>(*store, {.wait_replicas = 1, .replica_timeout = 50ms});
    try {
        waiting.enqueue("job", {.id = "j1"});
        FAIL("WAIT for a replica that does not exist succeeded");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::timeout);
        CHECK(std::string(e.what()).find("enqueue on category 'texts'") != std::string::npos);
        CHECK(std::string(e.what()).find("fewer replicas") != std::string::npos);
    }
    auto plain = hotstate::queue<texts>(*store);
    CHECK(plain.counts().waiting == 1);
    CHECK(plain.enqueue("job", {.id = "j2"}).enqueued);  // without the option: no WAIT
}

}  // namespace
