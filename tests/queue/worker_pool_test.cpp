// The worker pool on the embedded backend: jobs run and are acked, a throwing
// handler fails its job with the message, an undecodable job is dead-lettered
// while the pool keeps running, heartbeats keep a long job's lease, and a
// graceful stop finishes or gives back the jobs in flight.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include <hotstate/queue/memory_queue.hpp>
#include <hotstate/queue/worker_pool.hpp>

#include "support/eventually.hpp"

namespace {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

struct texts : hotstate::queue_category<61, "texts"> {};
struct numbers : hotstate::queue_category<62, "numbers", std::int64_t> {};
using memory_store = hotstate::store<hotstate::backends::basic_memory<hotstate::manual_clock>, texts, numbers>;

const hotstate::queue_options quick{.lease = 10s, .max_attempts = 1, .backoff_base = 1s, .backoff_max = 1min,
                                    .jitter = 0.0};

bool drained(auto& q) {
    const auto c = q.counts();
    return c.waiting + c.delayed + c.active == 0;
}

TEST_CASE("worker_pool: runs and acks every job") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<texts>(store, quick);
    std::atomic<int> ran{0};
    hotstate::worker_pool pool(q, [&](const std::string&) { ++ran; }, {.threads = 3, .claim_wait = 100ms});
    for (int i = 0; i < 200; ++i) q.enqueue("job-" + std::to_string(i));
    REQUIRE(eventually([&] { return pool.completed() == 200; }));
    CHECK(ran == 200);
    CHECK(drained(q));
    CHECK(q.counts().dead == 0);
}

TEST_CASE("worker_pool: a throwing handler fails the job with its message") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<texts>(store, quick);  // one attempt: a failure dead-letters
    hotstate::worker_pool pool(q, [](const std::string& job) {
        if (job == "bad") throw std::runtime_error("remote answered 503");
    }, {.threads = 1, .claim_wait = 100ms});
    q.enqueue("bad");
    q.enqueue("good");
    REQUIRE(eventually([&] { return pool.completed() == 1 && pool.failed() == 1; }));
    const auto dead = q.dead();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].last_error == "remote answered 503");
}

TEST_CASE("worker_pool: an undecodable job is dead-lettered and the pool keeps running") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    // a number queue whose bytes are written by a bytes queue of the same id cannot share a store,
    // so the bad payload goes in through the engine, as a foreign producer would write it
    auto q = hotstate::queue<numbers>(store, quick);
    const std::string bad = "not a number";
    const hotstate::detail::queue::job_spec spec{"foreign", bad, 0, 0};
    hotstate::queue_support<memory_store::backend_type>::engine(store.backend())
        .enqueue(memory_store::encoded_key<numbers>(""), std::span(&spec, 1), store.now().time_since_epoch().count());
    std::atomic<std::int64_t> sum{0};
    hotstate::worker_pool pool(q, [&](std::int64_t n) { sum += n; }, {.threads = 2, .claim_wait = 100ms});
    q.enqueue(40);
    q.enqueue(2);
    REQUIRE(eventually([&] { return pool.completed() == 2; }));
    CHECK(sum == 42);
    REQUIRE(eventually([&] { return q.counts().dead == 1; }));
    CHECK(q.dead()[0].id == "foreign");
    CHECK(q.dead()[0].last_error.find("decode") != std::string::npos);
}

TEST_CASE("worker_pool: heartbeats keep a long job's lease") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<texts>(store, quick);  // lease 10 s on the manual clock
    std::atomic<bool> started{false}, finish{false};
    hotstate::worker_pool pool(q, [&](const std::string&) {
        started = true;
        while (!finish) std::this_thread::yield();
    }, {.threads = 1, .heartbeat_every = 5ms, .claim_wait = 100ms});
    q.enqueue("long");
    REQUIRE(eventually([&] { return started.load(); }));
    for (int round = 0; round < 3; ++round) {
        clock.advance(8s);  // each round: a heartbeat must follow, or the lease would end 2 s later
        const auto seen = pool.heartbeats();
        REQUIRE(eventually([&] { return pool.heartbeats() > seen; }));
    }
    CHECK_FALSE(q.claim());  // 24 s after the claim, still leased
    finish = true;
    REQUIRE(eventually([&] { return pool.completed() == 1; }));
}

TEST_CASE("worker_pool: graceful stop finishes jobs that end before the deadline") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<texts>(store, quick);
    std::atomic<bool> started{false}, finish{false};
    hotstate::worker_pool pool(q, [&](const std::string&) {
        started = true;
        while (!finish) std::this_thread::yield();
    }, {.threads = 1, .claim_wait = 100ms});
    q.enqueue("job");
    REQUIRE(eventually([&] { return started.load(); }));
    std::thread finisher([&] { finish = true; });
    const auto report = pool.stop(30s);
    finisher.join();
    CHECK(report.finished == 1);
    CHECK(report.released == 0);
    CHECK(drained(q));
}

TEST_CASE("worker_pool: graceful stop releases jobs still running at the deadline") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<texts>(store, quick);
    std::atomic<int> started{0};
    std::atomic<bool> finish{false};
    {
        hotstate::worker_pool pool(q, [&](const std::string&) {
            ++started;
            while (!finish) std::this_thread::yield();
        }, {.threads = 2, .claim_wait = 100ms});
        q.enqueue("a");
        q.enqueue("b");
        q.enqueue("c");  // never started
        REQUIRE(eventually([&] { return started == 2; }));
        const auto report = pool.stop(20ms);
        CHECK(report.released == 2);
        CHECK(report.finished == 0);
        const auto counts = q.counts();
        CHECK(counts.waiting == 3);  // both given back untouched, plus the one never claimed
        CHECK(counts.active == 0);
        finish = true;  // the handlers return; their ack is refused and ignored
    }
    CHECK(q.counts().waiting == 3);
    auto again = q.claim();
    REQUIRE(again);
    CHECK(again->attempt == 1);
}

}  // namespace
