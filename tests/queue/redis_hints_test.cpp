#include <string>
#include <vector>

#include <hotstate/queue/redis_queue.hpp>

#include "laws/queue_support.hpp"
#include "redis/redis_fixture.hpp"

// The Redis scripts keep two hints in the job hash so a claim skips its look
// at timers (T: no delayed or lease score below it) and at the priority set
// (W: known empty). Every way a score or a job can go there must refresh them:
// a hint that is wrong in the other direction would strand a due job.
namespace laws::queue_laws {

TEST_CASE("redis queue hints: a shorter lease or heartbeat lowers the timer hint", "[queue][redis]") {
    redis_fixture fixture;
    auto store = make(fixture);
    auto slow = hotstate::queue<texts>(*store, {.lease = 60s, .max_attempts = 5});
    auto fast = hotstate::queue<texts>(*store, {.lease = 1s, .max_attempts = 5});
    slow.enqueue("a");
    slow.enqueue("b");
    slow.enqueue("c");
    auto a = slow.claim();  // hint: nothing due before 60 s
    REQUIRE(a);
    auto b = fast.claim();  // a lease of 1 s
    REQUIRE(b);
    fixture.pass(1s);
    auto again = slow.claim();
    REQUIRE(again);
    CHECK(again->id == b->id);
    CHECK(again->attempt == 2);
    fast.heartbeat(*a);  // a's lease now ends in 1 s, before the hint
    fixture.pass(1s);
    auto a_again = slow.claim();
    REQUIRE(a_again);
    CHECK(a_again->id == a->id);
    CHECK(a_again->attempt == 2);
}

TEST_CASE("redis queue hints: a delayed enqueue or a retry lowers the timer hint", "[queue][redis]") {
    redis_fixture fixture;
    auto store = make(fixture);
    auto q = hotstate::queue<texts>(*store, quick);  // lease 10 s, backoff 1 s
    q.enqueue("first");
    auto first = q.claim();  // hint: nothing due before 10 s
    REQUIRE(first);
    q.enqueue("later", {.delay = 1s});
    std::vector<std::string> bulk{"bulk"};
    q.enqueue_bulk(bulk, {.delay = 2s});
    CHECK_FALSE(q.claim());
    fixture.pass(1s);
    auto later = q.claim();
    REQUIRE(later);
    CHECK(later->job == "later");
    fixture.pass(1s);
    auto from_bulk = q.claim();
    REQUIRE(from_bulk);
    CHECK(from_bulk->job == "bulk");
    CHECK_FALSE(q.fail(*from_bulk, "retry in 1 s"));
    fixture.pass(1s);
    auto retried = q.claim();
    REQUIRE(retried);
    CHECK(retried->id == from_bulk->id);
    CHECK(retried->attempt == 2);
}

TEST_CASE("redis queue hints: every way into the priority set clears its hint", "[queue][redis]") {
    redis_fixture fixture;
    auto store = make(fixture);
    auto q = hotstate::queue<texts>(*store, {.lease = 10s, .max_attempts = 1});
    q.enqueue("p0");
    REQUIRE(q.claim()->job == "p0");  // the priority set is seen empty
    q.enqueue("zero");
    q.enqueue("high", {.priority = 5});
    auto high = q.claim();
    REQUIRE(high);
    CHECK(high->job == "high");
    REQUIRE(q.claim()->job == "zero");  // seen empty again
    q.release(*high);                   // back in the priority set
    q.enqueue("zero 2");
    high = q.claim();
    REQUIRE(high);
    CHECK(high->job == "high");
    CHECK(q.fail(*high, "dead"));  // max_attempts 1: dead-lettered
    REQUIRE(q.claim()->job == "zero 2");  // seen empty again
    CHECK(q.requeue_dead(high->id));
    q.enqueue("zero 3");
    CHECK(q.claim()->job == "high");
    std::vector<std::string> bulk{"bulk high"};
    REQUIRE(q.claim()->job == "zero 3");  // seen empty again
    q.enqueue("zero 4");
    q.enqueue_bulk(bulk, {.priority = 3});
    CHECK(q.claim()->job == "bulk high");
    CHECK(q.claim()->job == "zero 4");
}

TEST_CASE("redis queue hints: an expired lease of a priority job goes back before waiting jobs", "[queue][redis]") {
    redis_fixture fixture;
    auto store = make(fixture);
    auto q = hotstate::queue<texts>(*store, quick);
    q.enqueue("high", {.priority = 2});
    auto high = q.claim();
    REQUIRE(high);
    q.enqueue("zero");
    fixture.pass(10s);  // high's lease runs out: the next claim puts it back in the priority set
    auto again = q.claim();
    REQUIRE(again);
    CHECK(again->id == high->id);
    CHECK(q.claim()->job == "zero");
    q.purge();
    q.enqueue("after purge", {.delay = 1s});
    CHECK_FALSE(q.claim());
    fixture.pass(1s);
    CHECK(q.claim()->job == "after purge");
}

}  // namespace laws::queue_laws
