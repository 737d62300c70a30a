// A worker_pool on Redis when Redis goes away: the claims that fail are reported
// to worker_options::on_error (errc::connection naming the server), the pool
// keeps running, and work resumes once the server is back.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/queue/worker_pool.hpp>

#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

struct mails : hotstate::queue_category<64, "mails"> {};
using redis_store = hotstate::store<hotstate::backends::redis, mails>;

struct reported {
    std::string operation, job_id;
    hotstate::errc kind;
    std::string message;
};

}  // namespace

TEST_CASE("worker_pool on Redis: failed claims reach on_error while the server is down; work resumes after",
          "[queue][redis]") {
    hotstate::testing::redis_server server;
    hotstate::redis::config config{.url = server.url()};
    config.node.timeout = 500ms;
    redis_store store(config);
    auto q = hotstate::queue<mails>(store);
    std::mutex mutex;
    std::vector<reported> errors;
    std::atomic<int> sent{0};
    hotstate::worker_pool pool(q, [&](const std::string&) { ++sent; },
                               {.threads = 2, .claim_wait = 100ms, .on_error = [&](const hotstate::worker_error& e) {
                                    std::scoped_lock guard(mutex);
                                    errors.push_back({std::string(e.operation), std::string(e.job_id),
                                                      e.problem.kind(), e.problem.message()});
                                }});
    q.enqueue("before");
    REQUIRE(eventually([&] { return sent == 1; }));

    server.stop();
    REQUIRE(eventually([&] {
        std::scoped_lock guard(mutex);
        return errors.size() >= 4;  // both threads, more than once: the pool goes on trying
    }));
    {
        std::scoped_lock guard(mutex);
        for (const auto& e : errors) {
            CHECK(e.operation == "claim");
            CHECK(e.job_id.empty());
            CHECK((e.kind == hotstate::errc::connection || e.kind == hotstate::errc::timeout));
            CHECK(e.message.find(server.address()) != std::string::npos);
        }
    }

    server.start();
    q.enqueue("after");
    REQUIRE(eventually([&] { return sent == 2; }, 20s));
    CHECK(eventually([&] { return pool.completed() == 2; }));  // acked after the handler returned
}
