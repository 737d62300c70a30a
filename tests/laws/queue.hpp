// The laws of job queues: QueueBackend through job_queue (capabilities queue
// and queue_admin), and async_job_queue through laws/async_front.hpp (queue
// only: it has no bulk enqueue, dead-letter list or purge, and the parts of a
// law that read them run where queue_admin is stated). Included by laws/store.hpp.
//
// The model's fixture offers, beside the store's (laws/model.hpp):
//   void pass(std::chrono::milliseconds);  advance the clock the queue reads (a manual clock)
#pragma once

#include "laws/queue_support.hpp"
#include "laws/store_support.hpp"

namespace laws::queue_laws {

/// A queue law: run for every model that states `Cap`, on a fresh store with the queue laws' categories.
#define HOTSTATE_QUEUE_LAW(Name, Cap) \
    HOTSTATE_LAW_OVER(Name, "[laws][queue]", ::laws::store_models<Cap>, ::laws::queue_laws::make)

HOTSTATE_QUEUE_LAW("queue: enqueue, claim, ack", queue) {
    auto q = open_queue<webhooks>(s, quick);
    const auto added = q.enqueue({.url = "https://a.example/hook", .tries = 7});
    CHECK(added.enqueued);
    CHECK(added.id.size() == 32);
    CHECK(q.counts().waiting == 1);
    auto job = q.claim();
    REQUIRE(job);
    CHECK(job->id == added.id);
    CHECK(job->job.url == "https://a.example/hook");
    CHECK(job->job.tries == 7);
    CHECK(job->attempt == 1);
    CHECK(q.counts().active == 1);
    CHECK(q.counts().waiting == 0);
    CHECK_FALSE(q.claim());
    q.ack(*job);
    CHECK(total(q.counts()) == 0);
    CHECK_THROWS_AS(q.ack(*job), hotstate::lease_lost);  // twice: gone
}

HOTSTATE_QUEUE_LAW("queue: a handle keeps its options and reaches the store through the store's seam", queue_admin) {
    using store_type = std::remove_cvref_t<decltype(s)>;
    auto q = open_queue<texts>(s, quick);
    CHECK(q.options().max_attempts == quick.max_attempts);
    CHECK(q.options().lease == quick.lease);
    static_assert(store_type::template registers<texts>() && !store_type::template registers<laws::text>());
    CHECK(store_type::template encoded_key<texts>("job") == hotstate::encode_key<texts>("job"));
    const auto e = error_of([] {
        store_type::template run_in_context<texts>("probe", []() -> int {
            throw hotstate::error::with_unknown_outcome(hotstate::errc::timeout, "lost");
        });
    });
    CHECK(e.kind() == hotstate::errc::timeout);
    CHECK(e.outcome_unknown());
    CHECK(e.message() == "hotstate: probe on category 'texts': lost");
    q.enqueue("job");
    q.wake_claimers();  // with nobody waiting: nothing happens, the job stays
    CHECK(q.claim());
}

HOTSTATE_QUEUE_LAW("queue: priority first, then enqueue order", queue) {
    auto q = open_queue<texts>(s, quick);
    q.enqueue("low-1", {.priority = 0});
    q.enqueue("high-1", {.priority = 5});
    q.enqueue("low-2", {.priority = 0});
    q.enqueue("high-2", {.priority = 5});
    q.enqueue("negative", {.priority = -1});
    std::vector<std::string> order;
    while (auto job = q.claim()) {
        order.push_back(job->job);
        q.ack(*job);
    }
    CHECK(order == std::vector<std::string>{"high-1", "high-2", "low-1", "low-2", "negative"});
}

HOTSTATE_QUEUE_LAW("queue: a delayed job is claimable only when due", queue) {
    auto q = open_queue<texts>(s, quick);
    q.enqueue("later", {.delay = 5s});
    q.enqueue("now");
    CHECK(q.counts().delayed == 1);
    auto first = q.claim();
    REQUIRE(first);
    CHECK(first->job == "now");
    q.ack(*first);
    CHECK_FALSE(q.claim());
    fixture.pass(4999ms);
    CHECK_FALSE(q.claim());
    fixture.pass(1ms);
    auto second = q.claim();
    REQUIRE(second);
    CHECK(second->job == "later");
    CHECK_THROWS_AS(q.enqueue("x", {.delay = -1ms}), hotstate::error);
}

HOTSTATE_QUEUE_LAW("queue: deduplication by id", queue) {
    auto q = open_queue<texts>(s, quick);
    const auto first = q.enqueue("one", {.id = "invoice-17"});
    const auto second = q.enqueue("two", {.id = "invoice-17"});
    CHECK(first.enqueued);
    CHECK_FALSE(second.enqueued);
    CHECK(second.id == "invoice-17");
    CHECK(q.counts().waiting == 1);
    auto job = q.claim();
    REQUIRE(job);
    CHECK(job->job == "one");
    CHECK_FALSE(q.enqueue("three", {.id = "invoice-17"}).enqueued);  // active still counts
    q.ack(*job);
    CHECK(q.enqueue("four", {.id = "invoice-17"}).enqueued);  // done: the id is free again
}

HOTSTATE_QUEUE_LAW("queue: an expired lease is taken back by the next claim", queue) {
    auto q = open_queue<texts>(s, quick);
    q.enqueue("job");
    auto crashed = q.claim();
    REQUIRE(crashed);
    fixture.pass(9999ms);
    CHECK_FALSE(q.claim());  // lease still running
    fixture.pass(1ms);
    auto rescued = q.claim();
    REQUIRE(rescued);
    CHECK(rescued->id == crashed->id);
    CHECK(rescued->attempt == 2);
    CHECK(rescued->owner != crashed->owner);
    // the first worker comes back: every owner-checked call refuses it
    CHECK_THROWS_AS(q.ack(*crashed), hotstate::lease_lost);
    CHECK_THROWS_AS(q.fail(*crashed, "late"), hotstate::lease_lost);
    CHECK_THROWS_AS(q.heartbeat(*crashed), hotstate::lease_lost);
    CHECK_THROWS_AS(q.release(*crashed), hotstate::lease_lost);
    try {
        q.ack(*crashed);
    } catch (const hotstate::lease_lost& lost) {
        CHECK(lost.job_id() == crashed->id);
        CHECK(std::string(lost.what()).find("ack on category 'texts'") != std::string::npos);
        CHECK(std::string(lost.what()).find("no longer leased to this worker") != std::string::npos);
    }
    q.ack(*rescued);
}

HOTSTATE_QUEUE_LAW("queue: heartbeat extends the lease", queue) {
    auto q = open_queue<texts>(s, quick);
    q.enqueue("long job");
    auto job = q.claim();
    REQUIRE(job);
    fixture.pass(8s);
    q.heartbeat(*job);
    fixture.pass(8s);  // 16 s after the claim, 8 s after the heartbeat
    CHECK_FALSE(q.claim());
    fixture.pass(2s);
    CHECK(q.claim());  // now it ran out
}

HOTSTATE_QUEUE_LAW("queue: fail retries with exponential backoff, then dead-letters", queue) {
    auto q = open_queue<texts>(s, quick);  // base 1 s, no jitter, 3 attempts
    q.enqueue("flaky");
    auto job = q.claim();
    REQUIRE(job);
    CHECK_FALSE(q.fail(*job, "HTTP 503"));
    CHECK(q.counts().delayed == 1);
    fixture.pass(999ms);
    CHECK_FALSE(q.claim());
    fixture.pass(1ms);
    job = q.claim();
    REQUIRE(job);
    CHECK(job->attempt == 2);
    CHECK_FALSE(q.fail(*job, "HTTP 502"));
    fixture.pass(1999ms);  // second delay: 2 s
    CHECK_FALSE(q.claim());
    fixture.pass(1ms);
    job = q.claim();
    REQUIRE(job);
    CHECK(job->attempt == 3);
    CHECK(q.fail(*job, "HTTP 500 on the last try"));  // out of attempts
    const auto counts = q.counts();
    CHECK(counts.dead == 1);
    CHECK(counts.delayed + counts.waiting + counts.active == 0);
    if constexpr (has<TestType, laws::queue_admin>) {
        const auto dead = q.dead();
        REQUIRE(dead.size() == 1);
        CHECK(dead[0].id == job->id);
        CHECK(dead[0].attempts == 3);
        CHECK(dead[0].last_error == "HTTP 500 on the last try");
        CHECK(dead[0].payload == "flaky");
        CHECK(q.requeue_dead(job->id));
        CHECK_FALSE(q.requeue_dead(job->id));
        auto again = q.claim();
        REQUIRE(again);
        CHECK(again->attempt == 1);
    }
}

HOTSTATE_QUEUE_LAW("queue: jittered backoff stays within its bounds", queue) {
    auto options = quick;
    options.jitter = 0.5;
    options.backoff_base = 4s;
    auto q = open_queue<texts>(s, options);
    q.enqueue("flaky");
    auto job = q.claim();
    REQUIRE(job);
    q.fail(*job, "busy");
    fixture.pass(1999ms);  // at most half of 4 s is cut
    CHECK_FALSE(q.claim());
    fixture.pass(2001ms);
    CHECK(q.claim());
}

HOTSTATE_QUEUE_LAW("queue: a lease lost on the last attempt dead-letters the job", queue) {
    auto options = quick;
    options.max_attempts = 1;
    auto q = open_queue<texts>(s, options);
    q.enqueue("crashes its worker");
    REQUIRE(q.claim());
    fixture.pass(10s);
    CHECK_FALSE(q.claim());
    CHECK(q.counts().dead == 1);
    if constexpr (has<TestType, laws::queue_admin>) {
        const auto dead = q.dead();
        REQUIRE(dead.size() == 1);
        CHECK(dead[0].last_error.find("lease expired") != std::string::npos);
    }
}

HOTSTATE_QUEUE_LAW("queue: release gives the job back untouched", queue) {
    auto q = open_queue<texts>(s, quick);
    q.enqueue("job");
    auto job = q.claim();
    REQUIRE(job);
    q.release(*job);
    CHECK(q.counts().waiting == 1);
    auto again = q.claim();
    REQUIRE(again);
    CHECK(again->attempt == 1);
    CHECK_THROWS_AS(q.release(*job), hotstate::lease_lost);
}

HOTSTATE_QUEUE_LAW("queue: an undecodable job is dead-lettered and the claim goes on", queue) {
    auto q = open_queue<pickies>(s, quick);
    q.enqueue({"poison"});
    q.enqueue({"fine"});
    auto job = q.claim();
    REQUIRE(job);
    CHECK(job->job.text == "fine");
    CHECK(q.counts().dead == 1);
    if constexpr (has<TestType, laws::queue_admin>) {
        const auto dead = q.dead();
        REQUIRE(dead.size() == 1);
        CHECK(dead[0].payload == "poison");
        CHECK(dead[0].last_error.find("poison is not a job") != std::string::npos);
    }
}

HOTSTATE_QUEUE_LAW("queue: bulk enqueue and purge", queue_admin) {
    auto q = open_queue<texts>(s, quick);
    std::vector<std::string> jobs;
    for (int i = 0; i < 100; ++i) jobs.push_back("job-" + std::to_string(i));
    const auto results = q.enqueue_bulk(jobs);
    REQUIRE(results.size() == 100);
    std::set<std::string> ids;
    for (const auto& r : results) {
        CHECK(r.enqueued);
        ids.insert(r.id);
    }
    CHECK(ids.size() == 100);
    CHECK(q.counts().waiting == 100);
    auto first = q.claim();
    REQUIRE(first);
    CHECK(first->job == "job-0");
    q.enqueue("later", {.delay = 1h});
    CHECK(q.purge() == 101);
    CHECK(q.counts().waiting + q.counts().delayed + q.counts().active == 0);
    CHECK_THROWS_AS(q.ack(*first), hotstate::lease_lost);
}

HOTSTATE_QUEUE_LAW("queue: a bulk-enqueued job lives like any other", queue_admin) {
    // the Redis queues keep a bulk's jobs whole in line until their first claim
    auto q = open_queue<texts>(s, quick);
    using namespace std::string_literals;
    const std::vector<std::string> jobs{"a\0b"s, "\0starts with NUL"s, ""s, "plain"s, std::string(70000, 'x')};
    const auto added = q.enqueue_bulk(jobs);
    REQUIRE(added.size() == jobs.size());
    CHECK(q.counts().waiting == jobs.size());

    auto first = q.claim();
    REQUIRE(first);
    CHECK(first->id == added[0].id);
    CHECK(first->job == jobs[0]);
    auto second = q.ack_and_claim(*first);
    CHECK(second.acked);
    REQUIRE(second.next);
    CHECK(second.next->id == added[1].id);
    CHECK(second.next->job == jobs[1]);
    CHECK(second.next->attempt == 1);
    CHECK_FALSE(q.fail(*second.next, "retry me"));  // back in 1 s, with its payload
    auto third = q.claim();
    REQUIRE(third);
    CHECK(third->id == added[2].id);
    CHECK(third->job.empty());
    CHECK(third->attempt == 1);
    fixture.pass(10s);  // the third's lease runs out; the second comes due
    auto lost = q.claim();
    REQUIRE(lost);
    CHECK(lost->id == added[2].id);  // an expired lease goes to the front
    CHECK(lost->attempt == 2);
    q.release(*lost);
    std::vector<std::string> rest;
    while (auto job = q.claim()) {
        rest.push_back(job->job);
        CHECK(job->attempt == (job->id == added[1].id || job->id == added[2].id ? 2 : 1));  // a release counts none
        q.ack(*job);
    }
    CHECK(rest == std::vector<std::string>{jobs[2], jobs[3], jobs[4], jobs[1]});
    CHECK(total(q.counts()) == 0);
}

HOTSTATE_QUEUE_LAW("queue: a deduplication id starting with NUL is refused", queue) {
    auto q = open_queue<texts>(s, quick);
    using namespace std::string_literals;
    try {
        q.enqueue("job", {.id = "\0id"s});
        FAIL("enqueued");
    } catch (const hotstate::error& refused) {
        CHECK(refused.kind() == hotstate::errc::invalid_argument);
        CHECK(std::string(refused.what()).find("must not start with a NUL byte") != std::string::npos);
    }
    CHECK(q.counts().waiting == 0);
}

HOTSTATE_QUEUE_LAW("queue: queues of one store are independent", queue) {
    auto a = open_queue<texts>(s, quick);
    auto b = open_queue<webhooks>(s, quick);
    a.enqueue("text");
    CHECK_FALSE(b.claim());
    CHECK(b.counts().waiting == 0);
    CHECK(a.counts().waiting == 1);
}

HOTSTATE_QUEUE_LAW("queue: a blocked claim wakes on an enqueue", queue) {
    auto q = open_queue<texts>(s, quick);
    std::optional<hotstate::claimed<std::string>> got;
    std::chrono::steady_clock::duration waited{};
    std::thread worker([&] {
        const auto start = std::chrono::steady_clock::now();
        got = q.claim(30s);
        waited = std::chrono::steady_clock::now() - start;
    });
    auto producer = open_queue<texts>(s, quick);
    producer.enqueue("wake up");
    worker.join();
    REQUIRE(got);
    CHECK(got->job == "wake up");
    CHECK(waited < 20s);  // woken, not timed out
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(q.claim(50ms));  // and an empty queue times out
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);
}

HOTSTATE_QUEUE_LAW("queue: ack_and_claim acks and leases the next job in one step", queue) {
    auto q = open_queue<texts>(s, quick);
    q.enqueue("first");
    q.enqueue("second");
    q.enqueue("poison-free third", {.priority = -1});
    auto job = q.claim();
    REQUIRE(job);
    CHECK(job->job == "first");
    auto step = q.ack_and_claim(*job);
    CHECK(step.acked);
    REQUIRE(step.next);
    CHECK(step.next->job == "second");
    CHECK(step.next->attempt == 1);
    CHECK(step.next->owner != job->owner);
    CHECK(q.counts().active == 1);
    CHECK(q.counts().waiting == 1);
    CHECK_THROWS_AS(q.ack(*job), hotstate::lease_lost);  // the first is gone
    // a lease lost meanwhile: the ack is refused, and the next job still comes
    auto second = *step.next;
    fixture.pass(10s);
    auto rescuer = q.claim();  // takes the second back (expired), and leases the highest: the second
    REQUIRE(rescuer);
    CHECK(rescuer->id == second.id);
    auto late = q.ack_and_claim(second);
    CHECK_FALSE(late.acked);
    REQUIRE(late.next);
    CHECK(late.next->job == "poison-free third");
    auto last = q.ack_and_claim(*late.next);
    CHECK(last.acked);
    CHECK_FALSE(last.next);
    const auto start = std::chrono::steady_clock::now();
    auto none = q.ack_and_claim(*rescuer, 50ms);  // waits for a next job, none comes
    CHECK(none.acked);
    CHECK_FALSE(none.next);
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);
    CHECK(total(q.counts()) == 0);
}

HOTSTATE_QUEUE_LAW("queue: bulk enqueue keeps priority, delay and order", queue_admin) {
    auto q = open_queue<texts>(s, quick);
    const std::vector<std::string> low{"low-1", "low-2"}, high{"high-1", "high-2"}, late{"late-1", "late-2"};
    q.enqueue_bulk(low);
    q.enqueue_bulk(late, {.delay = 2s});
    q.enqueue_bulk(high, {.priority = 3});
    CHECK(q.counts().waiting == 4);
    CHECK(q.counts().delayed == 2);
    std::vector<std::string> order;
    while (auto job = q.claim()) {
        order.push_back(job->job);
        q.ack(*job);
    }
    fixture.pass(2s);
    while (auto job = q.claim()) {
        order.push_back(job->job);
        q.ack(*job);
    }
    CHECK(order == std::vector<std::string>{"high-1", "high-2", "low-1", "low-2", "late-1", "late-2"});
    CHECK(q.enqueue_bulk(std::vector<std::string>{}).empty());
}

HOTSTATE_QUEUE_LAW("queue: requeued dead jobs run again with fresh attempts", queue_admin) {
    auto options = quick;
    options.max_attempts = 1;
    auto q = open_queue<texts>(s, options);
    for (const char* text : {"a", "b", "c"}) {
        q.enqueue(text);
        auto job = q.claim();
        REQUIRE(job);
        CHECK(q.fail(*job, std::string("broke ") + text));
    }
    REQUIRE(q.dead().size() == 3);
    CHECK(q.dead(2).size() == 2);
    CHECK(q.dead()[1].last_error == "broke b");
    CHECK(q.dead()[1].attempts == 1);
    CHECK_FALSE(q.requeue_dead("no-such-id"));
    CHECK(q.requeue_dead(q.dead()[0].id));
    CHECK(q.requeue_all_dead() == 2);
    CHECK(q.counts().dead == 0);
    CHECK(q.counts().waiting == 3);
    std::vector<std::string> order;
    while (auto job = q.claim()) {
        CHECK(job->attempt == 1);
        order.push_back(job->job);
        q.ack(*job);
    }
    CHECK(order == std::vector<std::string>{"a", "b", "c"});
}

HOTSTATE_QUEUE_LAW("queue: a job coming due joins the back of its priority; a released one the front", queue) {
    auto q = open_queue<texts>(s, quick);
    const auto drain = [&] {
        std::vector<std::string> order;
        while (auto job = q.claim()) {
            order.push_back(job->job);
            q.ack(*job);
        }
        return order;
    };
    // delays: due ones line up behind jobs waiting, in due order, then enqueue order
    q.enqueue("first");
    q.enqueue("due-2s", {.delay = 2s});
    q.enqueue("due-1s-a", {.delay = 1s});
    q.enqueue("due-1s-b", {.delay = 1s});
    q.enqueue("high-due", {.delay = 1s, .priority = 4});
    q.enqueue("high", {.priority = 4});
    q.enqueue("second");
    fixture.pass(2s);
    CHECK(drain() ==
          std::vector<std::string>{"high", "high-due", "first", "second", "due-1s-a", "due-1s-b", "due-2s"});
    // a retry comes due behind the jobs waiting; a release goes back to the front
    q.enqueue("retried");
    q.enqueue("other");
    auto job = q.claim();
    REQUIRE(job);
    CHECK(job->job == "retried");
    CHECK_FALSE(q.fail(*job, "try later"));
    auto other = q.claim();
    REQUIRE(other);
    CHECK(other->job == "other");
    q.release(*other);
    q.enqueue("third");
    fixture.pass(1s);  // backoff_base: the retry is due
    CHECK(drain() == std::vector<std::string>{"other", "third", "retried"});
}

}  // namespace laws::queue_laws
