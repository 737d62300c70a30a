// Resharding under load: while threads run store operations of every kind on
// keys whose slots are being moved, `redis-cli --cluster reshard` moves those
// slots to another master and back. No operation may fail and no counter
// increment may be lost; MOVED and ASK are absorbed by the backend.
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

using namespace std::chrono_literals;
using hotstate::detail::redis::routing::key_slot;
using hotstate::testing::keys_in_moving_slots;
using hotstate::testing::moved_slots;

namespace {

struct text : hotstate::category<70, "reshard-text"> {};
struct hits : hotstate::category<71, "reshard-hits", std::int64_t> {};
struct limits : hotstate::category<72, "reshard-limits", std::int64_t> {};
struct locks : hotstate::category<73, "reshard-locks"> {};
struct lists : hotstate::category<74, "reshard-lists"> {};

using store_type = hotstate::store<hotstate::backends::redis_cluster, text, hits, limits, locks, lists>;

}  // namespace

TEST_CASE("cluster: resharding under load loses nothing and fails nothing", "[cluster][reshard]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    auto settings = shared_cluster_config();
    settings.retry.max_retries = 40;
    settings.retry.min_retry_wait = 5ms;
    settings.retry.max_retry_wait = 200ms;
    settings.node.pool_max_connections = 8;
    store_type s(settings);

    auto* source = cluster.master_of_slot(0);
    auto* destination = cluster.master_of_slot(16383);
    REQUIRE(source != nullptr);
    REQUIRE(destination != nullptr);
    REQUIRE(source != destination);

    constexpr int threads = 2;
    const auto text_keys = keys_in_moving_slots<text>(24, "t");
    const auto hit_keys = keys_in_moving_slots<hits>(24, "h");
    const auto limit_keys = keys_in_moving_slots<limits>(12, "r");
    const auto lock_keys = keys_in_moving_slots<locks>(12, "l");
    const auto list_keys = keys_in_moving_slots<lists>(12, "s");

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> operations{0};
    std::atomic<std::uint64_t> failures{0};
    std::mutex failure_mutex;
    std::vector<std::string> failure_messages;
    // each thread owns the keys with index % threads == its number, so it knows what it wrote
    std::vector<std::vector<std::int64_t>> increments(threads, std::vector<std::int64_t>(hit_keys.size(), 0));

    auto worker = [&](int me) {
        std::uint64_t i = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            const std::size_t pick = (i / 7 * threads + static_cast<std::size_t>(me));
            try {
                switch (i % 7) {
                    case 0: {
                        const auto& key = text_keys[pick % text_keys.size()];
                        if (pick % text_keys.size() % threads != static_cast<std::size_t>(me)) break;
                        const std::string value = "v" + std::to_string(i);
                        s.set<text>(key, value, 1min);
                        if (s.get<text>(key) != value) throw std::runtime_error("a write was not read back");
                        break;
                    }
                    case 1: {
                        const std::size_t index = pick % hit_keys.size();
                        if (index % threads != static_cast<std::size_t>(me)) break;
                        s.increment<hits>(hit_keys[index]);
                        ++increments[static_cast<std::size_t>(me)][index];
                        break;
                    }
                    case 2:
                        (void)s.check_rate<limits>(limit_keys[pick % limit_keys.size()], hotstate::gcra{1000, 1s, 1000});
                        break;
                    case 3: {
                        const auto& key = lock_keys[pick % lock_keys.size()];
                        if (pick % lock_keys.size() % threads != static_cast<std::size_t>(me)) break;
                        auto held = s.try_lock<locks>(key, 30s);
                        if (!held) throw std::runtime_error("an unheld lock was refused");
                        if (!held->release()) throw std::runtime_error("a held lock did not release");
                        break;
                    }
                    case 4: {
                        const auto& key = list_keys[pick % list_keys.size()];
                        (void)s.lookup_add<lists>(key, "member-" + std::to_string(me));
                        if (!s.lookup_contains<lists>(key, "member-" + std::to_string(me)))
                            throw std::runtime_error("a set member vanished");
                        break;
                    }
                    case 5:
                        (void)s.exists<text>(text_keys[pick % text_keys.size()]);
                        break;
                    case 6:
                        (void)s.check_rate<limits>(limit_keys[pick % limit_keys.size()], hotstate::fixed_window{1000000, 1min});
                        break;
                }
                operations.fetch_add(1, std::memory_order_relaxed);
            } catch (const std::exception& e) {
                failures.fetch_add(1, std::memory_order_relaxed);
                std::scoped_lock guard(failure_mutex);
                if (failure_messages.size() < 5) failure_messages.emplace_back(e.what());
            }
            ++i;
        }
    };

    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back(worker, t);

    const auto trip = hotstate::testing::reshard_there_and_back(cluster, *source, *destination);
    stop = true;
    for (auto& w : workers) w.join();

    trip.check(cluster);

    const auto& backend = s.backend();
    std::cout << "reshard: " << 2 * moved_slots << " slot moves in " << trip.took.count() << " ms, " << operations.load()
              << " operations, " << failures.load() << " failed, " << backend.retry_count()
              << " redirects/retries absorbed, " << backend.refresh_count() << " map refreshes\n";
    {
        std::scoped_lock guard(failure_mutex);
        for (const auto& message : failure_messages) UNSCOPED_INFO(message);
    }
    CHECK(failures.load() == 0);
    CHECK(operations.load() > 100);
    CHECK(backend.retry_count() > 0);  // the load did meet the migration

    for (std::size_t index = 0; index < hit_keys.size(); ++index) {
        std::int64_t expected = 0;
        for (const auto& per_thread : increments) expected += per_thread[index];
        CHECK(s.counter<hits>(hit_keys[index]) == expected);
        const std::string encoded = hotstate::encode_key<hits>(hit_keys[index]);
        auto raw = cluster.master_of_slot(key_slot(encoded))->command({"GET", encoded});
        CHECK(std::stoll(raw->type == REDIS_REPLY_STRING ? std::string(raw->str, raw->len) : "0") == expected);
    }
}
