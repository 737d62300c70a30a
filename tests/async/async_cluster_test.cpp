// backends::async_redis_cluster through hotstate::async_store against a real
// 3-master/3-replica Redis Cluster, on an io_context run by two threads:
// 256 coroutines of random operations on keys across the slots checked
// against the memory backend; 64 coroutines looping while redis-cli moves
// slots between masters and back (every MOVED/ASK followed, nothing fails,
// counters exact); 64 coroutines incrementing while a master is SIGKILLed
// (no hang, recovery by itself after the failover, never an increment sent
// twice: the counter ends at most at acknowledged + unknown, as the blocking
// router's cluster_failover test asserts).
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis_cluster.hpp>
#include <hotstate/backends/memory.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/store.hpp>

#include "async/handoff.hpp"
#include "async/io_threads.hpp"
#include "async/random_operations.hpp"
#include "cluster/cluster_fixture.hpp"
#include "cluster/reshard_support.hpp"
#include "support/eventually.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using hotstate::detail::redis::routing::key_slot;
using hotstate::testing::keys_in_moving_slots;
using hotstate::testing::moved_slots;

namespace {
struct counters : hotstate::category<90, "acl-counters", std::int64_t> {};
struct tokens : hotstate::category<91, "acl-tokens"> {};
struct locks : hotstate::category<92, "acl-locks"> {};
struct limits : hotstate::category<93, "acl-limits", std::int64_t> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis_cluster, counters, tokens, locks, limits>;
using memory_store = hotstate::store<hotstate::backends::memory, counters, tokens, locks, limits>;

/// An io_context run by two threads until the object ends.
struct two_threads : hotstate::testing::io_threads {
    two_threads() : io_threads(2) {}
};

std::int64_t ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("async_redis_cluster: 10,240 random operations from 256 coroutines across the slots, two threads",
          "[async][cluster]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    memory_store reference;
    constexpr int callers = 256, per_caller = 40;
    std::atomic<int> mismatches{0}, failures{0}, done{0};
    std::mutex reference_lock;  // the reference is updated from both runner threads
    std::mutex message_lock;
    std::string first_failure;
    two_threads runner;
    async_store store(runner.io.get_executor(), shared_cluster_config());

    for (int caller = 0; caller < callers; ++caller) {
        asio::co_spawn(
            runner.io,
            [&, caller]() -> asio::awaitable<void> {
                try {
                    co_await hotstate::testing::random_operations<counters, tokens>(
                        store, reference, reference_lock, static_cast<unsigned>(caller), "caller" + std::to_string(caller) + ":",
                        per_caller, mismatches);
                } catch (const std::exception& e) {
                    failures.fetch_add(1);
                    std::scoped_lock guard(message_lock);
                    if (first_failure.empty()) first_failure = e.what();
                }
                done.fetch_add(1);
            },
            asio::detached);
    }
    REQUIRE(hotstate::testing::eventually([&] { return done.load() == callers; }, 60s));
    INFO(first_failure);
    CHECK(failures == 0);
    CHECK(mismatches == 0);
    // the keys spread over every master: one connection each (and the seeds known)
    CHECK(store.backend().node_count() >= 3);
    // erase_all scans every master
    const auto erased = store.async_erase_all<counters>("", asio::use_future).get();
    CHECK(erased == reference.erase_all<counters>());
    std::cout << "async cluster random: " << callers * per_caller << " operations, " << store.backend().refresh_count()
              << " topology reads, " << store.backend().retry_count() << " retries\n";
}

TEST_CASE("async_redis_cluster: resharding under async load fails nothing and loses nothing", "[async][cluster][reshard]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    REQUIRE(cluster.wait_healthy());
    auto settings = shared_cluster_config();
    settings.retry.max_retries = 40;
    settings.retry.min_retry_wait = 5ms;
    settings.retry.max_retry_wait = 200ms;

    auto* source = cluster.master_of_slot(0);
    auto* destination = cluster.master_of_slot(16383);
    REQUIRE(source != nullptr);
    REQUIRE(destination != nullptr);
    REQUIRE(source != destination);

    const auto text_keys = keys_in_moving_slots<tokens>(24, "t");
    const auto hit_keys = keys_in_moving_slots<counters>(24, "h");
    const auto lock_keys = keys_in_moving_slots<locks>(64, "l");
    const auto limit_keys = keys_in_moving_slots<limits>(12, "r");
    std::vector<std::atomic<std::int64_t>> acknowledged(hit_keys.size());

    constexpr int callers = 64;
    std::atomic<bool> stop{false};
    std::atomic<int> done{0};
    std::atomic<std::uint64_t> operations{0}, failures{0};
    std::mutex message_lock;
    std::vector<std::string> messages;
    two_threads runner;
    async_store store(runner.io.get_executor(), settings);

    for (int caller = 0; caller < callers; ++caller) {
        asio::co_spawn(
            runner.io,
            [&, caller]() -> asio::awaitable<void> {
                const auto me = static_cast<std::size_t>(caller);
                for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
                    try {
                        const std::size_t pick = static_cast<std::size_t>(i) * callers + me;
                        switch (i % 5) {
                        case 0: {
                            const std::size_t index = pick % hit_keys.size();
                            co_await store.async_increment<counters>(hit_keys[index], 1, std::nullopt, asio::use_awaitable);
                            acknowledged[index].fetch_add(1);
                            break;
                        }
                        case 1: {  // a key of its own: what it wrote is what it reads back
                            const std::string key = text_keys[me % text_keys.size()] + "-" + std::to_string(me);
                            const std::string value = "v" + std::to_string(i);
                            co_await store.async_set<tokens>(key, value, 1min, asio::use_awaitable);
                            if (co_await store.async_get<tokens>(key, asio::use_awaitable) != value)
                                throw std::runtime_error("a write was not read back");
                            break;
                        }
                        case 2: {  // its own lock key: never held by anyone else
                            auto held = co_await store.async_try_lock<locks>(lock_keys[me], 30s, asio::use_awaitable);
                            if (!held) throw std::runtime_error("an unheld lock was refused");
                            if (!co_await store.async_release(*held, asio::use_awaitable))
                                throw std::runtime_error("a held lock did not release");
                            break;
                        }
                        case 3: {
                            const std::string key = text_keys[pick % text_keys.size()];
                            const std::string member = "m" + std::to_string(me);
                            (void)co_await store.async_lookup_add<tokens>(key, member, asio::use_awaitable);
                            if (!co_await store.async_lookup_contains<tokens>(key, member, asio::use_awaitable))
                                throw std::runtime_error("a set member vanished");
                            break;
                        }
                        default:
                            (void)co_await store.async_check_rate<limits>(limit_keys[pick % limit_keys.size()],
                                                                          hotstate::gcra{100000, 1s, 100000}, 1, asio::use_awaitable);
                        }
                        operations.fetch_add(1, std::memory_order_relaxed);
                    } catch (const std::exception& e) {
                        failures.fetch_add(1, std::memory_order_relaxed);
                        std::scoped_lock guard(message_lock);
                        if (messages.size() < 5) messages.emplace_back(e.what());
                    }
                }
                done.fetch_add(1);
            },
            asio::detached);
    }
    REQUIRE(hotstate::testing::eventually([&] { return operations.load() > 1000; }, 30s));

    const auto during_before = operations.load();
    const auto trip = hotstate::testing::reshard_there_and_back(cluster, *source, *destination);
    const auto during = operations.load() - during_before;
    stop = true;
    REQUIRE(hotstate::testing::eventually([&] { return done.load() == callers; }, 60s));  // no coroutine hangs

    trip.check(cluster);
    auto& backend = store.backend();
    std::cout << "async reshard: " << 2 * moved_slots << " slot moves in " << trip.took.count() << " ms, " << operations.load()
              << " operations (" << during << " during the moves), " << failures.load() << " failed, "
              << backend.moved_count() << " MOVED and " << backend.ask_count() << " ASK followed, "
              << backend.retry_count() << " retries, " << backend.refresh_count() << " topology reads\n";
    {
        std::scoped_lock guard(message_lock);
        for (const auto& message : messages) UNSCOPED_INFO(message);
    }
    CHECK(failures.load() == 0);
    CHECK(during > 100);
    CHECK(backend.moved_count() > 0);  // the load did meet the migration
    for (std::size_t index = 0; index < hit_keys.size(); ++index) {
        const auto expected = acknowledged[index].load();
        CHECK(store.async_counter<counters>(hit_keys[index], asio::use_future).get() == expected);
        const std::string encoded = hotstate::encode_key<counters>(hit_keys[index]);
        auto raw = cluster.master_of_slot(key_slot(encoded))->command({"GET", encoded});
        CHECK(std::stoll(raw->type == REDIS_REPLY_STRING ? std::string(raw->str, raw->len) : "0") == expected);
    }
}

TEST_CASE("async_redis_cluster: a SIGKILLed master under async load: no hang, recovery by itself, at most once",
          "[async][cluster][failover]") {
    hotstate::testing::redis_cluster cluster;  // its own: a master dies
    hotstate::redis::cluster_config settings;  // the default retry budget, as the blocking failover test
    settings.urls = cluster.seed_urls();
    hotstate::redis::async_options options;
    options.timeout = 1s;

    // a replica whose replication link is not up yet would be promoted without any of the writes
    REQUIRE(hotstate::testing::eventually([&] { return cluster.replicas_attached(); }, 30s));
    hotstate::testing::redis_server* victim = cluster.master_of_slot(0);
    REQUIRE(victim != nullptr);
    const auto keys = hotstate::testing::keys_on_and_off<counters>(cluster, victim);
    const std::uint16_t doomed_slot = key_slot(hotstate::encode_key<counters>(keys.on_victim));

    constexpr int callers = 64;
    std::atomic<bool> stop{false}, killed{false};
    std::atomic<int> done{0};
    std::atomic<std::int64_t> acknowledged{0}, unknown{0}, safe_acknowledged{0};
    std::atomic<std::uint64_t> failed{0}, after_kill{0};
    std::atomic<std::int64_t> slowest_ms{0};
    std::mutex message_lock;
    std::string first_failure;
    two_threads runner;
    async_store store(runner.io.get_executor(), settings, options);

    for (int caller = 0; caller < callers; ++caller) {
        asio::co_spawn(
            runner.io,
            [&]() -> asio::awaitable<void> {
                while (!stop.load(std::memory_order_relaxed)) {
                    for (const std::string* key : {&keys.on_victim, &keys.elsewhere}) {
                        const auto begin = std::chrono::steady_clock::now();
                        try {
                            co_await store.async_increment<counters>(*key, 1, std::nullopt, asio::use_awaitable);
                            (key == &keys.on_victim ? acknowledged : safe_acknowledged).fetch_add(1);
                            if (killed.load()) after_kill.fetch_add(1);
                        } catch (const hotstate::error& e) {
                            if (e.outcome_unknown() && key == &keys.on_victim) {
                                unknown.fetch_add(1);
                            } else if (!e.outcome_unknown()) {
                                failed.fetch_add(1);
                                std::scoped_lock guard(message_lock);
                                if (first_failure.empty()) first_failure = e.what();
                            }
                        }
                        const auto took = ms_since(begin);
                        for (auto seen = slowest_ms.load(); took > seen && !slowest_ms.compare_exchange_weak(seen, took);) {
                        }
                    }
                }
                done.fetch_add(1);
            },
            asio::detached);
    }
    REQUIRE(hotstate::testing::eventually([&] { return acknowledged.load() > 500; }, 30s));
    const auto start = std::chrono::steady_clock::now();
    victim->kill();
    killed = true;
    const bool promoted = hotstate::testing::eventually(
        [&] {
            auto* owner = cluster.master_of_slot(doomed_slot);
            return owner != nullptr && owner != victim;
        },
        30s);
    const auto promoted_ms = ms_since(start);
    // operations come back by themselves: a run of successes after the promotion, on the doomed key too
    const auto before = acknowledged.load();
    const bool resumed = hotstate::testing::eventually([&] { return acknowledged.load() > before + 500; }, 30s);
    stop = true;
    const bool all_ended = hotstate::testing::eventually([&] { return done.load() == callers; }, 30s);  // no hang
    REQUIRE(promoted);
    CHECK(resumed);
    CHECK(all_ended);
    auto& backend = store.backend();
    const auto counted = store.async_counter<counters>(keys.on_victim, asio::use_future).get();
    std::cout << "async failover: master killed, replica promoted (seen) after " << promoted_ms << " ms; "
              << after_kill.load() << " increments acknowledged after the kill, " << failed.load() << " failed, "
              << unknown.load() << " with an unknown outcome; slowest " << slowest_ms.load() << " ms; "
              << backend.retry_count() << " retries, " << backend.refresh_count() << " topology reads\n";
    std::cout << "async failover: counter " << counted << ", acknowledged " << acknowledged.load() << ", unknown "
              << unknown.load() << ", acknowledged increments lost in the failover (async replication): "
              << (acknowledged.load() > counted ? acknowledged.load() - counted : 0) << "\n";
    INFO(first_failure);
    // the default budget covers the failover: the only failures are increments that may have run
    CHECK(failed.load() == 0);
    // at most the increments written when the master died (one per coroutine) have an unknown outcome
    CHECK(unknown.load() <= callers);
    // never sent twice: at most the acknowledged increments plus those whose outcome was unknown. Redis
    // replicates asynchronously, so increments the dead master acknowledged may be missing (measured above)
    CHECK(counted <= acknowledged.load() + unknown.load());
    CHECK(counted > 0);
    CHECK(store.async_counter<counters>(keys.elsewhere, asio::use_future).get() == safe_acknowledged.load());
    // no user action: the same store works on both keys and erase_all scans the masters there are now
    CHECK(store.async_increment<counters>(keys.on_victim, 1, std::nullopt, asio::use_future).get() == counted + 1);
    CHECK(store.async_erase_all<counters>("", asio::use_future).get() == 2);
    if (!first_failure.empty()) CHECK_THAT(first_failure, Catch::Contains("slot") && !Catch::Contains(keys.on_victim + "\""));
}

TEST_CASE("async_redis_cluster: no reachable seed: the typed error after the retry budget, naming where",
          "[async][cluster]") {
    hotstate::redis::cluster_config settings;
    settings.urls = {"redis://127.0.0.1:1"};  // nothing listens on port 1: refused at once
    settings.retry.max_retries = 2;
    settings.retry.min_retry_wait = 5ms;
    settings.retry.max_retry_wait = 20ms;
    hotstate::redis::async_options options;
    options.timeout = 2s;
    two_threads runner;
    {
        async_store store(runner.io.get_executor(), settings, options);
        const auto begin = std::chrono::steady_clock::now();
        std::string message;
        try {
            (void)store.async_get<tokens>("k", hotstate::testing::handoff).get();  // the error is thrown anew here
        } catch (const hotstate::error& e) {
            message = e.what();
            CHECK(e.kind() == hotstate::errc::connection);
            CHECK_FALSE(e.outcome_unknown());
        }
        INFO(message);
        CHECK_THAT(message, Catch::Contains("get on category 'acl-tokens'") && Catch::Contains("async_redis_cluster") &&
                                Catch::Contains("slot") && Catch::Contains("after 2 retries") &&
                                Catch::Contains("no node answered CLUSTER SLOTS") && Catch::Contains("127.0.0.1:1"));
        CHECK(ms_since(begin) < 2000);  // refused connections fail over at once, not at the deadline
    }
}

TEST_CASE("async_redis_cluster: with read_from_replicas, replicas serve the reads and masters the writes", "[async][cluster]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    REQUIRE(cluster.wait_healthy());
    // routed to replicas only once every node's CLUSTER SLOTS lists them
    REQUIRE(hotstate::testing::eventually([&] { return cluster.replicas_known(); }, 30s));
    for (auto& node : cluster.nodes()) node->command({"CONFIG", "RESETSTAT"});
    auto settings = shared_cluster_config();
    settings.read_from_replicas = true;
    two_threads runner;
    async_store store(runner.io.get_executor(), settings);

    constexpr int keys = 64;
    for (int i = 0; i < keys; ++i) {
        const std::string key = "r" + std::to_string(i);
        store.async_set<tokens>(key, "v" + std::to_string(i), std::nullopt, asio::use_future).get();
        CHECK(store.async_increment<counters>(key, i + 1, std::nullopt, asio::use_future).get() == i + 1);
    }
    // a replica lags its master: every value is read back once replicated
    for (int i = 0; i < keys; ++i) {
        const std::string key = "r" + std::to_string(i);
        CHECK(hotstate::testing::eventually(
            [&] { return store.async_get<tokens>(key, asio::use_future).get() == "v" + std::to_string(i); }, 10s));
        CHECK(hotstate::testing::eventually(
            [&] { return store.async_counter<counters>(key, asio::use_future).get() == i + 1; }, 10s));
    }
    // who served what: GETs on the replicas, every write on the masters
    std::int64_t replica_gets = 0, master_sets = 0, master_gets = 0;
    const auto calls = [](hotstate::testing::redis_server& node, std::string_view command) -> std::int64_t {
        auto stats = node.command({"INFO", "commandstats"});
        const std::string_view text(stats->str, stats->len);
        const std::string wanted = "cmdstat_" + std::string(command) + ":calls=";
        const auto at = text.find(wanted);
        return at == std::string_view::npos ? 0 : std::stoll(std::string(text.substr(at + wanted.size(), 20)));
    };
    for (auto& node : cluster.nodes()) {
        auto role = node->command({"ROLE"});
        const bool master = std::string_view(role->element[0]->str) == "master";
        (master ? master_gets : replica_gets) += calls(*node, "get");
        if (master) master_sets += calls(*node, "set");
    }
    std::cout << "async read_from_replicas: " << replica_gets << " GETs on replicas, " << master_gets << " on masters\n";
    CHECK(replica_gets >= 2 * keys);
    CHECK(master_gets == 0);
    CHECK(master_sets == keys);  // the writes went to the masters
}
