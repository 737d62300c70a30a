// The law of a job queue on replicated Redis: a master SIGKILLed while a
// producer enqueues into a queue on it. The queue keeps working once a replica
// takes over; printed is how many acknowledged enqueues were lost (Redis
// replicates asynchronously), without and with wait_replicas = 1, and with it
// none may be lost. After the failover the promoted replica has no replica of
// its own, so WAIT 1 refuses enqueues (errc::timeout, not acknowledged) until
// the killed server is back as the new master's replica: the law restarts it.
//
//   using hotstate_failover_models = std::tuple<my_failover_fixture>;
//   #include "laws/queue_failover.hpp"
//
// A fixture F (one per test case, with servers of its own) offers:
//   using backend_type;  static constexpr std::chrono::seconds deadline;  how long a failover may take
//   static constexpr const char* name;
//   <its config> settings();            where the store connects (the law sets timeouts and retries)
//   void prepare(std::string_view key); before the load: what the master of `key` is, replicas attached
//   void kill_master();                 SIGKILL the master of the queue's key
//   bool promoted(std::string_view key); a replica now serves the key
//   bool agreed();                      everyone who names masters names the new one
//   void restart_killed();              the killed server comes back (as a replica)
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/store.hpp>

#include "laws/model.hpp"
#include "support/eventually.hpp"

namespace laws::queue_failover {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

struct texts : hotstate::queue_category<61, "failover-jobs"> {};

template <class F>
void measure(int wait_replicas) {
    using store_type = hotstate::store<typename F::backend_type, texts>;
    F fixture;
    auto settings = fixture.settings();
    settings.node.timeout = 1s;
    settings.retry.max_retries = 4;
    settings.retry.min_retry_wait = 20ms;
    settings.retry.max_retry_wait = 200ms;
    store_type store(settings);
    auto producer = hotstate::queue<texts>(store, {.wait_replicas = wait_replicas, .replica_timeout = 1s});
    const std::string key = store_type::template encoded_key<texts>("") + "w";
    fixture.prepare(key);

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
    fixture.kill_master();
    const bool promoted = eventually([&] { return fixture.promoted(key); }, F::deadline);
    const bool agreed = promoted && eventually([&] { return fixture.agreed(); }, F::deadline);
    if (wait_replicas > 0 && agreed) fixture.restart_killed();
    const auto before = acked_count();
    const bool resumed = eventually([&] { return acked_count() > before + 300; }, F::deadline);
    stop = true;
    load.join();
    REQUIRE(promoted);
    REQUIRE(agreed);
    REQUIRE(resumed);

    // an id still there is refused by deduplication; an acknowledged id the failover lost is enqueued anew
    auto checker = hotstate::queue<texts>(store);
    std::size_t lost = 0;
    for (const auto& id : acked) lost += checker.enqueue("probe", {.id = id}).enqueued;
    std::printf("queue failover on %s (wait_replicas=%d): %zu enqueues acknowledged (%zu before the kill), "
                "%zu of them lost, %d failed (not acknowledged)\n",
                F::name, wait_replicas, acked.size(), acked_before_kill, lost, failed.load());
    if (wait_replicas > 0) CHECK(lost == 0);
    CHECK(checker.counts().waiting >= acked.size() - lost);  // every acknowledged job is there to claim
}

}  // namespace laws::queue_failover

HOTSTATE_LAW("queue failover: a master SIGKILLed under load, without wait_replicas", "[laws][queue][failover]",
             hotstate_failover_models) {
    laws::queue_failover::measure<TestType>(0);
}
HOTSTATE_LAW("queue failover: a master SIGKILLed under load, with wait_replicas = 1", "[laws][queue][failover]",
             hotstate_failover_models) {
    laws::queue_failover::measure<TestType>(1);
}
