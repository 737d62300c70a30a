// What user code throws does not stop a worker: a codec or a handler that throws
// a std::runtime_error, or something that is not a std::exception at all, fails
// its job with the message and the pool keeps running; failures of the queue
// itself (a lease lost before the ack) reach worker_options::on_error.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/queue/memory_queue.hpp>
#include <hotstate/queue/worker_pool.hpp>

#include "support/eventually.hpp"

namespace faults {

/// A job whose codec is the user's own and refuses some payloads with its own exceptions.
struct order {
    std::string sku;
};

}  // namespace faults

template <>
struct hotstate::codec<faults::order> {
    static void encode(const faults::order& job, std::string& out) { out.append(job.sku); }
    static faults::order decode(std::string_view in) {
        if (in == "no-sku") throw std::runtime_error("order without a sku");
        if (in == "int") throw 42;  // not even a std::exception
        return {std::string(in)};
    }
};

namespace {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

struct orders : hotstate::queue_category<63, "orders", faults::order> {};
using memory_store = hotstate::store<hotstate::backends::basic_memory<hotstate::manual_clock>, orders>;

const hotstate::queue_options one_attempt{.lease = 10s, .max_attempts = 1, .backoff_base = 1s, .backoff_max = 1min,
                                          .jitter = 0.0};

/// The worker_errors a pool reported (on_error runs on the pool's threads).
struct error_log {
    std::mutex mutex;
    std::vector<std::string> lines;  // "operation job_id kind: message"

    hotstate::worker_error_handler handler() {
        return [this](const hotstate::worker_error& e) {
            std::scoped_lock guard(mutex);
            lines.push_back(std::string(e.operation) + " " + std::string(e.job_id) + " " +
                            std::to_string(static_cast<int>(e.problem.kind())) + ": " + e.problem.message());
        };
    }
    std::vector<std::string> all() {
        std::scoped_lock guard(mutex);
        return lines;
    }
};

}  // namespace

TEST_CASE("worker_pool: a codec that throws a std::runtime_error dead-letters its job with the message; the pool "
          "keeps running") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<orders>(store, one_attempt);
    std::atomic<int> ran{0};
    hotstate::worker_pool pool(q, [&](const faults::order&) { ++ran; }, {.threads = 2, .claim_wait = 100ms});
    q.enqueue({"no-sku"}, {.id = "poisoned"});
    q.enqueue({"int"}, {.id = "not-an-exception"});
    for (int i = 0; i < 20; ++i) q.enqueue({"sku-" + std::to_string(i)});
    REQUIRE(eventually([&] { return pool.completed() == 20 && q.counts().dead == 2; }));
    CHECK(ran == 20);
    std::vector<std::string> errors;
    for (const auto& dead : q.dead()) errors.push_back(dead.id + ": " + dead.last_error);
    std::sort(errors.begin(), errors.end());
    CHECK(errors == std::vector<std::string>{"not-an-exception: an exception that is not a std::exception was thrown",
                                             "poisoned: order without a sku"});
    CHECK(pool.failed() == 0);  // never handed to the handler
}

TEST_CASE("worker_pool: a handler that throws something that is not a std::exception fails its job") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<orders>(store, one_attempt);
    hotstate::worker_pool pool(q, [](const faults::order& job) {
        if (job.sku == "odd") throw std::string("a string, thrown");
    }, {.threads = 2, .claim_wait = 100ms});
    q.enqueue({"odd"}, {.id = "odd-one"});
    q.enqueue({"even"});
    REQUIRE(eventually([&] { return pool.completed() == 1 && pool.failed() == 1; }));
    const auto dead = q.dead();
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].id == "odd-one");
    CHECK(dead[0].last_error == "an exception that is not a std::exception was thrown");
}

TEST_CASE("worker_pool: a lease lost before the ack is reported to on_error, the pool keeps running") {
    hotstate::manual_clock clock;
    memory_store store(hotstate::backends::memory_config{}, clock);
    auto q = hotstate::queue<orders>(store, {.lease = 10s, .max_attempts = 3, .backoff_base = 1s, .jitter = 0.0});
    auto other = hotstate::queue<orders>(store, q.options());  // another worker's handle
    error_log log;
    std::atomic<int> ran{0};
    std::atomic<bool> taken_over{false};
    hotstate::worker_pool pool(q, [&](const faults::order& job) {
        ++ran;
        if (job.sku != "slow") return;
        // the handler outlives its lease and another worker takes the job over
        clock.advance(11s);
        taken_over = other.claim().has_value();
    }, {.threads = 1, .claim_wait = 100ms, .on_error = log.handler()});
    q.enqueue({"slow"}, {.id = "slow-job"});
    REQUIRE(eventually([&] { return !log.all().empty(); }));
    CHECK(taken_over);
    const auto lines = log.all();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("ack slow-job 1: hotstate: ack on category 'orders': the job is no longer leased to "
                               "this worker"));
    q.enqueue({"quick"});
    REQUIRE(eventually([&] { return ran == 2; }));
    CHECK(eventually([&] { return q.counts().active == 1; }));  // the other worker's lease; "quick" acked
}
