// A Sentinel-managed master SIGKILLed while a producer enqueues: the queue
// keeps working once the sentinels promote the replica; printed is how many
// acknowledged enqueues were lost (Redis replicates asynchronously), without
// and with wait_replicas = 1, and with it none may be lost. After the
// failover the promoted replica has no replica of its own, so WAIT 1 refuses
// enqueues (not acknowledged) until the killed server is back, which the
// sentinels turn into the new master's replica: the test restarts it.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/backends/redis_sentinel.hpp>

#include "support/eventually.hpp"
#include "support/redis_sentinel.hpp"

namespace {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

struct texts : hotstate::queue_category<62, "sentinel-failover-jobs"> {};
using store_type = hotstate::store<hotstate::backends::redis_sentinel, texts>;

void measure(int wait_replicas) {
    hotstate::testing::redis_sentinel setup;
    hotstate::redis::sentinel_config settings;
    settings.service_name = setup.service_name();
    settings.sentinel_urls = setup.sentinel_urls();
    settings.node.timeout = 1s;
    settings.node.pool_max_connections = 4;
    settings.retry.max_retries = 4;
    settings.retry.min_retry_wait = 20ms;
    settings.retry.max_retry_wait = 200ms;
    store_type store(settings);
    auto producer = hotstate::queue<texts>(store, {.wait_replicas = wait_replicas, .replica_timeout = 1s});

    std::mutex mutex;
    std::vector<std::string> acked;
    std::atomic<int> failed{0};
    std::atomic<bool> stop{false};
    std::thread load([&] {
        for (int i = 0; !stop; ++i) {
            const std::string id = "j-" + std::to_string(i);
            try {
                producer.enqueue("job", {.id = id});
                std::scoped_lock guard(mutex);
                acked.push_back(id);
            } catch (const hotstate::error&) {
                ++failed;  // not acknowledged (unreachable, refused by WAIT, or outcome unknown)
            }
        }
    });
    auto acked_count = [&] {
        std::scoped_lock guard(mutex);
        return acked.size();
    };
    REQUIRE(eventually([&] { return acked_count() >= 300; }, 30s));
    const auto acked_before_kill = acked_count();
    setup.master().kill();
    const bool promoted = eventually([&] { return setup.master_port() == setup.replica().port(); }, 40s);
    // WAIT 1 needs a replica of the promoted master: the killed server, restarted, becomes one.
    // Only once every sentinel names the new master: a sentinel still on the old view sees the
    // restarted (empty: no persistence) server as a sane master and turns the promoted replica
    // into its replica, which then resyncs from it and loses every job (TSan-slowed run: 300 of
    // 300 acknowledged before the kill). Redis's warning about persistence off and auto-restart.
    const bool agreed = promoted && eventually([&] { return setup.sentinels_agree_on(setup.replica().port()); }, 40s);
    if (wait_replicas > 0 && agreed) setup.master().start();
    const auto before = acked_count();
    const bool resumed = eventually([&] { return acked_count() > before + 300; }, 40s);
    stop = true;
    load.join();
    REQUIRE(promoted);
    REQUIRE(agreed);
    REQUIRE(resumed);

    // an id still there is refused by deduplication; an acknowledged id the failover lost is enqueued anew
    auto checker = hotstate::queue<texts>(store);
    std::size_t lost = 0;
    for (const auto& id : acked) lost += checker.enqueue("probe", {.id = id}).enqueued;
    std::printf("queue sentinel failover (wait_replicas=%d): %zu enqueues acknowledged (%zu before the kill), "
                "%zu of them lost, %d failed (not acknowledged)\n",
                wait_replicas, acked.size(), acked_before_kill, lost, failed.load());
    if (wait_replicas > 0) CHECK(lost == 0);
    CHECK(checker.counts().waiting >= acked.size() - lost);  // every acknowledged job is there to claim
}

TEST_CASE("queue on Redis Sentinel: a master SIGKILLed under load, without wait_replicas", "[queue][sentinel]") {
    measure(0);
}
TEST_CASE("queue on Redis Sentinel: a master SIGKILLed under load, with wait_replicas = 1", "[queue][sentinel]") {
    measure(1);
}

}  // namespace
