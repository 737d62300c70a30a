// The job queue on the asynchronous store (hotstate/queue/async_worker.hpp)
// against a real redis-server, the io_context run by two threads: every
// operation, a worker loop that runs, fails and dead-letters jobs, the wake-up
// of an idle worker by an enqueue, a graceful stop that gives back jobs in
// flight, and a blocking job_queue sharing the queue with the async one.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

// the blocking backend first, on purpose: its alias backends::redis once hid namespace
// hotstate::redis from backends/async_redis.hpp, so this order did not compile
#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/queue/async_worker.hpp>

#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

/// A job type whose decoder refuses "poison".
struct picky {
    std::string text;
};

}  // namespace

template <>
struct hotstate::codec<picky> {
    static void encode(const picky& value, std::string& out) { out += value.text; }
    static picky decode(std::string_view in) {
        if (in == "poison") throw hotstate::error(hotstate::errc::decode, "picky: poison is not a job");
        if (in == "runtime") throw std::runtime_error("picky: runtime is not a job either");
        if (in == "int") throw 7;  // not even a std::exception
        return {std::string(in)};
    }
};

namespace {

struct jobs : hotstate::queue_category<70, "async-jobs", picky> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis, jobs>;
using blocking_store = hotstate::store<hotstate::backends::redis, jobs>;

const hotstate::queue_options quick{.lease = 30s, .max_attempts = 2, .backoff_base = 0ms, .backoff_max = 0ms,
                                    .jitter = 0.0};

/// A redis-server, a store on an io_context run by two threads, and the queue.
struct rig {
    hotstate::testing::redis_server server;
    hotstate::redis::config config{.url = server.url()};
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    async_store store{io.get_executor(), config};
    hotstate::async_job_queue<async_store, jobs> queue{store, config, quick};
    std::vector<std::thread> runners;
    rig() {
        for (int i = 0; i < 2; ++i) runners.emplace_back([this] { io.run(); });
    }
    ~rig() {
        work.reset();
        io.stop();
        for (auto& t : runners) t.join();
    }
};

}  // namespace

TEST_CASE("async queue: every operation on the async store's connection", "[queue][async]") {
    rig r;
    auto& q = r.queue;
    const auto first = q.async_enqueue({"one"}, {}, asio::use_future).get();
    CHECK(first.enqueued);
    CHECK_FALSE(q.async_enqueue({"again"}, {.id = first.id}, asio::use_future).get().enqueued);  // deduplicated
    q.async_enqueue({"two"}, {}, asio::use_future).get();
    q.async_enqueue({"urgent"}, {.priority = 5}, asio::use_future).get();
    CHECK(q.async_counts(asio::use_future).get().waiting == 3);

    auto job = q.async_claim(asio::use_future).get();
    REQUIRE(job);
    CHECK(job->job.text == "urgent");
    CHECK(job->attempt == 1);
    q.async_heartbeat(*job, asio::use_future).get();
    auto step = q.async_ack_and_claim(*job, asio::use_future).get();
    CHECK(step.acked);
    REQUIRE(step.next);
    CHECK(step.next->job.text == "one");
    CHECK_THROWS_AS(q.async_ack(*job, asio::use_future).get(), hotstate::lease_lost);  // gone

    q.async_release(*step.next, asio::use_future).get();
    auto again = q.async_claim(asio::use_future).get();
    REQUIRE(again);
    CHECK(again->id == step.next->id);  // back at the front, its attempt not counted
    CHECK(again->attempt == 1);
    CHECK_THROWS_AS(q.async_release(*step.next, asio::use_future).get(), hotstate::lease_lost);

    q.async_fail(*again, "HTTP 503", asio::use_future).get();  // attempt 1 of 2: due again at once (no backoff)
    auto two = q.async_claim(asio::use_future).get();  // a retry joins the back of the line
    REQUIRE(two);
    CHECK(two->job.text == "two");
    auto retried = q.async_claim(asio::use_future).get();
    REQUIRE(retried);
    CHECK(retried->id == again->id);
    CHECK(retried->attempt == 2);
    q.async_fail(*retried, "HTTP 503 again", asio::use_future).get();  // the last attempt: dead
    const auto counts = q.async_counts(asio::use_future).get();
    CHECK(counts.dead == 1);
    CHECK(counts.active == 1);
    CHECK(counts.waiting == 0);

    // the blocking queue sees the same jobs (one key layout, one set of scripts)
    blocking_store blocking(r.config);
    auto shared = hotstate::queue<jobs>(blocking, quick);
    const auto dead = shared.dead();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].last_error == "HTTP 503 again");
    shared.enqueue({"three"});
    shared.enqueue({"poison"}, {.priority = 9});
    auto last = q.async_ack_and_claim(*two, asio::use_future).get();  // the poison is dead-lettered on the way
    CHECK(last.acked);
    REQUIRE(last.next);
    CHECK(last.next->job.text == "three");
    CHECK(shared.counts().dead == 2);
    auto none = q.async_ack_and_claim(*last.next, asio::use_future).get();
    CHECK(none.acked);
    CHECK_FALSE(none.next);
    CHECK_FALSE(q.async_claim(asio::use_future).get());
    int tokens = 0;  // wake-up tokens the enqueues left (at most 16 are kept), then a timeout
    while (q.async_wait(50ms, asio::use_future).get()) ++tokens;
    CHECK(tokens <= 16);
    CHECK_THROWS_AS(q.async_enqueue({"x"}, {.priority = 1001}, asio::use_future), hotstate::error);
}

TEST_CASE("async worker: runs, fails and dead-letters jobs; the stop reports", "[queue][async]") {
    rig r;
    std::mutex mutex;
    std::multiset<std::string> ran;
    hotstate::async_worker worker(
        r.queue,
        [&](const picky& job) -> asio::awaitable<void> {
            {
                std::scoped_lock guard(mutex);
                ran.insert(job.text);
            }
            if (job.text.starts_with("bad")) throw std::runtime_error("refused " + job.text);
            co_return;
        },
        {.concurrency = 8, .heartbeat_every = 1h, .claim_wait = 200ms});
    blocking_store producer(r.config);
    auto q = hotstate::queue<jobs>(producer, quick);
    std::vector<picky> batch;
    for (int i = 0; i < 300; ++i) batch.push_back({"job-" + std::to_string(i)});
    q.enqueue_bulk(batch);
    q.enqueue({"bad-1"});
    q.enqueue({"poison"});
    // 300 acked; bad-1 failed twice (max_attempts 2) and dead; poison dead without running
    REQUIRE(hotstate::testing::eventually([&] { return worker.completed() == 300 && worker.failed() == 2; }, 30s));
    const auto report = worker.async_stop(5s, asio::use_future).get();
    CHECK(report.released == 0);
    CHECK(report.finished == 0);
    const auto counts = q.counts();
    CHECK(counts.waiting + counts.delayed + counts.active == 0);
    CHECK(counts.dead == 2);
    std::scoped_lock guard(mutex);
    CHECK(ran.size() == 302);
    CHECK(ran.count("bad-1") == 2);
    CHECK(ran.count("poison") == 0);
    CHECK(worker.async_stop(1s, asio::use_future).get().finished == 0);  // idempotent
}

TEST_CASE("async worker: an idle worker wakes on an enqueue, not on its timeout", "[queue][async]") {
    rig r;
    std::atomic<int> handled{0};
    hotstate::async_worker worker(
        r.queue,
        [&](const picky&) -> asio::awaitable<void> {
            ++handled;
            co_return;
        },
        {.concurrency = 2, .heartbeat_every = 1h, .claim_wait = 20s});
    blocking_store producer(r.config);
    auto q = hotstate::queue<jobs>(producer, quick);
    // let both lanes find the queue empty and block on the waiter connection (BLPOP)
    REQUIRE(hotstate::testing::eventually([&] {
        return producer.backend().with_connection([](hotstate::redis::connection& c) {
            const auto info = c.command("INFO", "INFO", "clients");
            return info.text().find("blocked_clients:1") != std::string_view::npos;
        });
    }));
    const auto start = std::chrono::steady_clock::now();
    q.enqueue({"wake"});
    REQUIRE(hotstate::testing::eventually([&] { return handled.load() == 1; }, 10s));
    CHECK(std::chrono::steady_clock::now() - start < 10s);  // far under claim_wait (20 s)
    // the stop waits for the lanes' BLPOP (up to claim_wait): give them a token each
    for (int i = 0; i < 2; ++i) q.enqueue({"late-" + std::to_string(i)});
    (void)worker.async_stop(5s, asio::use_future).get();
}

TEST_CASE("async worker: a graceful stop gives back the jobs still running at its deadline", "[queue][async]") {
    rig r;
    auto gate_strand = asio::make_strand(r.io.get_executor());
    asio::steady_timer gate(gate_strand, asio::steady_timer::time_point::max());
    std::atomic<int> started{0};
    hotstate::async_worker worker(
        r.queue,
        [&](const picky&) -> asio::awaitable<void> {
            ++started;
            // wait for the gate on its own strand (the test opens it there)
            co_await asio::co_spawn(
                gate_strand,
                [&]() -> asio::awaitable<void> {
                    boost::system::error_code ec;
                    co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                },
                asio::use_awaitable);
        },
        {.concurrency = 3, .heartbeat_every = 50ms, .claim_wait = 100ms});
    blocking_store producer(r.config);
    auto q = hotstate::queue<jobs>(producer, quick);
    for (int i = 0; i < 5; ++i) q.enqueue({"long-" + std::to_string(i)});
    REQUIRE(hotstate::testing::eventually([&] { return started.load() == 3; }));
    REQUIRE(hotstate::testing::eventually([&] { return worker.heartbeats() >= 3; }));  // the timer heartbeats them
    auto stopping = worker.async_stop(100ms, asio::use_future);
    // at the deadline the three are released: all five wait again
    REQUIRE(hotstate::testing::eventually([&] { return q.counts().waiting == 5; }));
    asio::post(gate_strand, [&] { gate.cancel(); });  // the handlers end; their jobs are no longer theirs
    const auto report = stopping.get();
    CHECK(report.released == 3);
    CHECK(report.finished == 0);
    CHECK(worker.completed() == 0);
    CHECK(q.counts().waiting == 5);
    CHECK(q.counts().active == 0);
}

TEST_CASE("async worker: a codec that throws what it likes dead-letters the job with its message; the lanes keep "
          "running", "[queue][async]") {
    rig r;
    std::atomic<int> handled{0};
    hotstate::async_worker worker(
        r.queue, [&](const picky&) -> asio::awaitable<void> {
            ++handled;
            co_return;
        },
        {.concurrency = 2, .heartbeat_every = 1h, .claim_wait = 100ms});
    blocking_store producer(r.config);
    auto q = hotstate::queue<jobs>(producer, quick);
    q.enqueue({"runtime"}, {.id = "runtime-job"});
    q.enqueue({"int"}, {.id = "int-job"});
    for (int i = 0; i < 10; ++i) q.enqueue({"fine-" + std::to_string(i)});
    REQUIRE(hotstate::testing::eventually([&] { return handled == 10 && q.counts().dead == 2; }, 20s));
    std::set<std::string> errors;
    for (const auto& dead : q.dead()) errors.insert(dead.id + ": " + dead.last_error);
    CHECK(errors == std::set<std::string>{"int-job: an exception that is not a std::exception was thrown",
                                          "runtime-job: picky: runtime is not a job either"});
    const auto report = worker.async_stop(5s, asio::use_future).get();  // every lane returned
    CHECK(report.released == 0);
}

TEST_CASE("async worker: failed claims reach on_error while the server is down; work resumes after", "[queue][async]") {
    rig r;
    std::mutex mutex;
    std::vector<std::string> errors;
    std::atomic<int> handled{0};
    hotstate::async_worker worker(
        r.queue, [&](const picky&) -> asio::awaitable<void> {
            ++handled;
            co_return;
        },
        {.concurrency = 2, .heartbeat_every = 1h, .claim_wait = 100ms, .on_error = [&](const hotstate::worker_error& e) {
             std::scoped_lock guard(mutex);
             errors.push_back(std::string(e.operation) + "|" + std::string(e.job_id) + "|" + e.problem.message());
         }});
    r.server.stop();
    REQUIRE(hotstate::testing::eventually([&] {
        std::scoped_lock guard(mutex);
        return errors.size() >= 2;
    }, 20s));
    {
        std::scoped_lock guard(mutex);
        for (const auto& e : errors) CHECK(e.starts_with("claim||"));
    }
    r.server.start();
    blocking_store producer(r.config);
    auto q = hotstate::queue<jobs>(producer, quick);
    q.enqueue({"after"});
    REQUIRE(hotstate::testing::eventually([&] { return handled == 1; }, 20s));
    (void)worker.async_stop(5s, asio::use_future).get();
}
