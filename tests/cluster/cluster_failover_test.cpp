// Failover under load: a master of a 3-master/3-replica cluster is killed
// (SIGKILL) while a thread keeps operating on keys of its slots and of other
// masters' slots. Once its replica is promoted, operations succeed again
// without any user action; the test prints how long they failed. Increments
// are never sent twice: the one in flight when the master died may fail with
// error::outcome_unknown() (counted apart), and the counter ends between the
// acknowledged increments and those plus the unknown ones.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/store.hpp>

#include "cluster/cluster_fixture.hpp"
#include "cluster/reshard_support.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using hotstate::detail::redis::routing::key_slot;
using hotstate::testing::eventually;

namespace {

struct hits : hotstate::category<80, "failover-hits", std::int64_t> {};
struct text : hotstate::category<81, "failover-text"> {};
using store_type = hotstate::store<hotstate::backends::redis_cluster, hits, text>;

std::int64_t since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("cluster: a killed master's replica takes over and operations resume by themselves", "[cluster][failover]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    auto settings = shared_cluster_config();
    settings.node.timeout = 1s;
    settings.retry.max_retries = 4;
    settings.retry.min_retry_wait = 20ms;
    settings.retry.max_retry_wait = 200ms;
    store_type s(settings);

    // one key on the master we kill, one on another master
    hotstate::testing::redis_server* victim = cluster.master_of_slot(0);
    REQUIRE(victim != nullptr);
    const auto keys = hotstate::testing::keys_on_and_off<hits>(cluster, victim);
    const std::uint16_t doomed_slot = key_slot(hotstate::encode_key<hits>(keys.on_victim));
    for (int i = 0; i < 10; ++i) s.increment<hits>(keys.on_victim);

    const auto start = std::chrono::steady_clock::now();
    std::atomic<bool> stop{false};
    std::atomic<bool> killed{false};
    std::atomic<std::int64_t> first_failure_ms{-1};
    std::atomic<std::int64_t> last_failure_ms{-1};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::int64_t> doomed_unknown{0};
    std::atomic<std::uint64_t> succeeded_after_kill{0};
    std::atomic<std::int64_t> successes{10};
    std::mutex message_mutex;
    std::string first_message;

    std::thread load([&] {
        while (!stop.load()) {
            for (const auto* key : {&keys.on_victim, &keys.elsewhere}) {
                try {
                    s.increment<hits>(*key);
                    if (key == &keys.on_victim) successes.fetch_add(1);
                    if (killed.load()) succeeded_after_kill.fetch_add(1);
                } catch (const hotstate::error& e) {
                    const auto at = since(start);
                    std::int64_t unset = -1;
                    first_failure_ms.compare_exchange_strong(unset, at);
                    last_failure_ms.store(at);
                    failed.fetch_add(1);
                    if (e.outcome_unknown() && key == &keys.on_victim) doomed_unknown.fetch_add(1);
                    std::scoped_lock guard(message_mutex);
                    if (first_message.empty()) first_message = e.what();
                }
            }
        }
    });

    REQUIRE(eventually([&] { return successes.load() > 50; }));
    const auto kill_at = since(start);
    victim->kill();
    killed = true;
    const bool promoted = eventually(
        [&] {
            auto* owner = cluster.master_of_slot(doomed_slot);
            return owner != nullptr && owner != victim && cluster.healthy();
        },
        30s);
    const auto promoted_at = since(start);
    // operations must come back by themselves: wait for a run of successes after promotion
    const auto before = succeeded_after_kill.load();
    const bool resumed = eventually([&] { return succeeded_after_kill.load() > before + 50; }, 30s);
    stop = true;
    load.join();

    REQUIRE(promoted);
    CHECK(resumed);
    const auto failure_window = first_failure_ms.load() < 0 ? 0 : last_failure_ms.load() - first_failure_ms.load();
    std::cout << "cluster failover: master killed at " << kill_at << " ms, replica promoted (seen) at " << promoted_at
              << " ms; " << failed.load() << " operations failed, from " << first_failure_ms.load() << " ms to "
              << last_failure_ms.load() << " ms (window " << failure_window << " ms); "
              << succeeded_after_kill.load() << " succeeded after the kill\n";
    if (!first_message.empty()) std::cout << "first failure: " << first_message << "\n";
    // never sent twice: at most the acknowledged increments plus those whose outcome was unknown
    // (the lower bound is async replication's: at most the last acknowledged write may be lost)
    const auto counted = s.counter<hits>(keys.on_victim);
    std::cout << "cluster failover: counter " << counted << ", acknowledged " << successes.load() << ", outcome unknown "
              << doomed_unknown.load() << "\n";
    CHECK(counted <= successes.load() + doomed_unknown.load());
    // Acknowledged increments the replica had not received when its master died are lost: Redis
    // replicates asynchronously. Measured, not asserted (a lower bound of "all but one" failed
    // 2 runs in 3 on a quiet machine, on this tree and the one before it).
    std::cout << "cluster failover: acknowledged increments lost in the failover: "
              << (successes.load() > counted ? successes.load() - counted : 0) << "\n";
    // no user action: the same store object works on both keys now
    const auto value = s.increment<hits>(keys.on_victim);
    CHECK(value > 10);
    s.set<text>("after", "ok");
    CHECK(s.get<text>("after") == "ok");
    // delete-by-category scans the masters there are now, the promoted replica included
    CHECK(s.erase_all<hits>() == 2);
    CHECK(s.counter<hits>(keys.on_victim) == 0);
    // a failure names what failed and where, never the key
    if (!first_message.empty()) {
        CHECK_THAT(first_message, Catch::Contains("failover-hits") && Catch::Contains("slot"));
        CHECK_THAT(first_message, !Catch::Contains(keys.on_victim + "\""));
    }
}

TEST_CASE("cluster: with the default retry budget a master's failover fails no operation, it only delays them",
          "[cluster][failover]") {
    hotstate::testing::redis_cluster cluster;
    hotstate::redis::cluster_config settings;  // default max_retries, min_retry_wait, max_retry_wait
    settings.urls = cluster.seed_urls();
    settings.node.timeout = 1s;
    store_type s(settings);

    hotstate::testing::redis_server* victim = cluster.master_of_slot(0);
    REQUIRE(victim != nullptr);
    std::string key;
    for (int i = 0; key.empty(); ++i) {
        const std::string candidate = "k" + std::to_string(i);
        if (cluster.master_of_slot(key_slot(hotstate::encode_key<hits>(candidate))) == victim) key = candidate;
    }
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::int64_t> unknown{0};
    std::atomic<std::int64_t> acknowledged{0};
    std::atomic<std::int64_t> slowest_ms{0};
    std::mutex message_mutex;
    std::string failure_message;
    std::thread load([&] {
        while (!stop.load()) {
            const auto begin = std::chrono::steady_clock::now();
            try {
                s.increment<hits>(key);
                acknowledged.fetch_add(1);
            } catch (const hotstate::error& e) {
                if (e.outcome_unknown()) {
                    unknown.fetch_add(1);
                } else {
                    failed.fetch_add(1);
                    std::scoped_lock guard(message_mutex);
                    if (failure_message.empty()) failure_message = e.what();
                }
            }
            const auto took = since(begin);
            if (took > slowest_ms.load()) slowest_ms.store(took);
        }
    });
    REQUIRE(eventually([&] { return acknowledged.load() > 50; }));
    victim->kill();
    const bool promoted = eventually(
        [&] {
            auto* owner = cluster.master_of_slot(key_slot(hotstate::encode_key<hits>(key)));
            return owner != nullptr && owner != victim;
        },
        30s);
    const auto before = acknowledged.load();
    const bool resumed = eventually([&] { return acknowledged.load() > before + 50; }, 30s);
    stop = true;
    load.join();
    REQUIRE(promoted);
    CHECK(resumed);
    std::cout << "cluster failover, default budget: " << failed.load() << " operations failed, " << unknown.load()
              << " with an unknown outcome; the slowest took " << slowest_ms.load() << " ms\n";
    INFO(failure_message);
    // the budget covers the failover: every failure is the increment in flight when the master died,
    // which may have run there, so it is reported rather than sent again
    CHECK(failed.load() == 0);
    CHECK(unknown.load() <= 1);
    // never sent twice: at most the acknowledged increments plus the unknown one. Redis replicates
    // asynchronously, so the last increment the dead master acknowledged may not have reached the replica
    const auto final_value = s.counter<hits>(key);
    std::cout << "cluster failover, default budget: counter " << final_value << ", acknowledged increments "
              << acknowledged.load() << "\n";
    CHECK(final_value <= acknowledged.load() + unknown.load());
    // acknowledged increments lost to asynchronous replication: measured, not asserted (see above)
    std::cout << "cluster failover, default budget: acknowledged increments lost in the failover: "
              << (acknowledged.load() > final_value ? acknowledged.load() - final_value : 0) << "\n";
}
