// A Redis Cluster master SIGKILLed while a producer enqueues into a queue on
// its slot: the queue keeps working after the replica takes over; printed is
// how many acknowledged enqueues were lost (Redis replicates asynchronously),
// without and with wait_replicas = 1, and with it none may be lost (after
// the failover, WAIT 1 refuses enqueues until the killed node is back as the
// new master's replica: the test restarts it).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/queue/redis_queue.hpp>

#include "support/eventually.hpp"
#include "support/redis_cluster.hpp"

namespace {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

struct texts : hotstate::queue_category<61, "failover-jobs"> {};
using store_type = hotstate::store<hotstate::backends::redis_cluster, texts>;

void measure(int wait_replicas) {
    hotstate::testing::redis_cluster cluster;
    hotstate::redis::cluster_config settings;
    settings.urls = cluster.seed_urls();
    settings.node.timeout = 1s;
    settings.retry.max_retries = 4;
    settings.retry.min_retry_wait = 20ms;
    settings.retry.max_retry_wait = 200ms;
    store_type store(settings);
    auto producer = hotstate::queue<texts>(store, {.wait_replicas = wait_replicas, .replica_timeout = 1s});
    auto* victim = cluster.master_of_key(store_type::encoded_key<texts>("") + "w");
    REQUIRE(victim != nullptr);
    REQUIRE(eventually([&] { return cluster.replicas_attached(); }, 30s));

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
                ++failed;
            }
        }
    });
    auto acked_count = [&] {
        std::scoped_lock guard(mutex);
        return acked.size();
    };
    REQUIRE(eventually([&] { return acked_count() >= 300; }, 30s));
    victim->kill();
    const bool promoted = eventually(
        [&] {
            auto* owner = cluster.master_of_key(store_type::encoded_key<texts>("") + "w");
            return owner != nullptr && owner != victim;
        },
        30s);
    // the promoted replica has no replica of its own, so WAIT 1 refuses every enqueue
    // (errc::timeout, not acknowledged) until the old master comes back as its replica
    if (wait_replicas > 0) victim->start();
    const auto before = acked_count();
    const bool resumed = eventually([&] { return acked_count() > before + 300; }, 30s);
    stop = true;
    load.join();
    REQUIRE(promoted);
    REQUIRE(resumed);

    auto checker = hotstate::queue<texts>(store);
    std::size_t lost = 0;
    for (const auto& id : acked) lost += checker.enqueue("probe", {.id = id}).enqueued;
    std::printf("queue cluster failover (wait_replicas=%d): %zu enqueues acknowledged, %zu of them lost, %d failed "
                "(not acknowledged)\n",
                wait_replicas, acked.size(), lost, failed.load());
    if (wait_replicas > 0) CHECK(lost == 0);
}

TEST_CASE("queue on Redis Cluster: a master SIGKILLed under load, without wait_replicas") { measure(0); }
TEST_CASE("queue on Redis Cluster: a master SIGKILLed under load, with wait_replicas = 1") { measure(1); }

}  // namespace
