// Crash and durability tests of the Redis queue, with real processes:
// - 10,000 jobs, 4 worker processes, random workers SIGKILLed and replaced
//   until the queue drains: every job ran at least once, none is lost, and
//   the jobs that ran twice are counted (at most kills x jobs in flight);
// - a Redis with appendonly yes / appendfsync always SIGKILLed and restarted
//   loses no enqueue it acknowledged.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "queue/crash_jobs.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

std::int64_t hash_len(hotstate::testing::redis_server& server) {
    return server.command({"HLEN", crash_test::runs_key})->integer;
}

TEST_CASE("queue crash: 10,000 jobs, worker processes SIGKILLed at random, none lost") {
    hotstate::testing::redis_server server;
    crash_test::redis_store store(hotstate::redis::config{.url = server.url()});
    auto queue = hotstate::queue<crash_test::jobs>(store, crash_test::options);
    constexpr int total = 10000;
    for (int chunk = 0; chunk < total; chunk += 1000) {
        std::vector<std::string> batch;
        for (int i = chunk; i < chunk + 1000; ++i) batch.push_back(std::to_string(i));
        queue.enqueue_bulk(batch);
    }
    REQUIRE(queue.counts().waiting == total);

    auto spawn = [&] { return hotstate::testing::process({HOTSTATE_QUEUE_CRASH_WORKER, server.url()}); };
    std::vector<hotstate::testing::process> workers;
    for (int i = 0; i < 4; ++i) workers.push_back(spawn());

    std::mt19937 random(std::random_device{}());
    int kills = 0;
    auto drained = [&] {
        const auto c = queue.counts();
        return c.waiting + c.delayed + c.active == 0;
    };
    while (!drained() && kills < 12) {
        // let a random amount of work happen, then kill a random worker mid-stream
        const std::int64_t target = std::min<std::int64_t>(total, hash_len(server) + 200 + static_cast<std::int64_t>(random() % 800));
        if (!eventually([&] { return hash_len(server) >= target || drained(); }, 60s)) break;
        if (drained()) break;
        auto& victim = workers[random() % workers.size()];
        victim.kill();
        victim = spawn();
        ++kills;
    }
    REQUIRE(eventually(drained, 90s));
    for (auto& w : workers) w.kill();

    std::int64_t runs = 0, missing = 0;
    for (int i = 0; i < total; ++i) {
        auto r = server.command({"HGET", crash_test::runs_key, std::to_string(i)});
        if (r->type != REDIS_REPLY_STRING) {
            ++missing;
            continue;
        }
        runs += std::stoll(std::string(r->str, r->len));
    }
    const std::int64_t twice = runs - (total - missing);
    const auto bound = static_cast<std::int64_t>(kills) * static_cast<std::int64_t>(crash_test::threads_per_worker);
    std::printf("queue crash: %d jobs, %d workers killed, %lld ran more than once (bound %lld), %lld lost\n", total,
                kills, static_cast<long long>(twice), static_cast<long long>(bound), static_cast<long long>(missing));
    CHECK(missing == 0);
    CHECK(queue.counts().dead == 0);
    CHECK(kills > 0);
    CHECK(twice <= bound);
}

TEST_CASE("queue durability: Redis with appendfsync always, SIGKILLed, keeps every acknowledged enqueue") {
    hotstate::testing::redis_server server(
        hotstate::testing::redis_server_options{.extra_config = {"appendfsync always"}, .persistence = true});
    hotstate::redis::config settings{.url = server.url()};
    settings.node.timeout = 2s;
    crash_test::redis_store store(settings);
    auto queue = hotstate::queue<crash_test::jobs>(store, crash_test::options);
    std::vector<std::string> acknowledged;
    for (int i = 0; i < 300; ++i) {
        queue.enqueue(std::to_string(i), {.id = "job-" + std::to_string(i)});
        acknowledged.push_back("job-" + std::to_string(i));
    }
    server.kill();  // no shutdown save: only the fsynced AOF survives
    server.start();
    REQUIRE(eventually([&] {
        try {
            return queue.counts().waiting == acknowledged.size();
        } catch (const hotstate::error&) {
            return false;  // still loading
        }
    }));
    for (const auto& id : acknowledged) CHECK_FALSE(queue.enqueue("again", {.id = id}).enqueued);  // each still there
}

}  // namespace
