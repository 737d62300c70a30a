// Redis SIGKILLed and restarted under four threads of mixed operations (the
// blocking store on one server): once the restarted server has answered its
// first PING, every idempotent operation issued from then on succeeds. The
// pool finds its dead connections before writing to them (every idle one is
// checked after the first failure), and a request whose connection died
// after its write goes again on a fresh one when it is idempotent.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/store.hpp>

#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

using namespace std::chrono_literals;

namespace {

struct tokens : hotstate::category<32, "restart-tokens"> {};
struct counters : hotstate::category<33, "restart-counters", std::int64_t> {};
struct guard : hotstate::category<34, "restart-lock"> {};
struct lists : hotstate::category<35, "restart-lists"> {};
using store_type = hotstate::store<hotstate::backends::redis, tokens, counters, guard, lists>;

/// What the threads counted, before and after the restarted server's first PONG.
struct counts {
    std::atomic<std::uint64_t> idempotent_after{0}, idempotent_errors_after{0}, once_after{0}, once_errors_after{0};
    std::atomic<std::uint64_t> errors_before{0}, ops_before{0};
};

}  // namespace

TEST_CASE("restart: after the first PONG, no idempotent operation fails", "[exchange][restart]") {
    hotstate::testing::redis_server server;
    store_type store(hotstate::redis::config{.url = server.url(), .node = hotstate::testing::test_node(2s)});
    counts c;
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> pong_at{0};  // steady_clock ticks; 0: not answered yet
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&, t] {
            std::mt19937 random(static_cast<unsigned>(t + 1));
            while (!stop.load()) {
                const auto issued = std::chrono::steady_clock::now().time_since_epoch().count();
                const std::int64_t pong = pong_at.load();
                const bool after = pong != 0 && issued > pong;
                const std::string key = "k" + std::to_string(random() % 50);
                const auto which = random() % 7;
                const bool idempotent = which != 6;
                try {
                    switch (which) {
                        case 0: store.set<tokens>(key, std::string("v"), 1min); break;
                        case 1: (void)store.get<tokens>(key); break;
                        case 2: (void)store.exists<tokens>(key); break;
                        case 3: (void)store.lookup_add<lists>("l", key); break;
                        case 4: (void)store.lookup_contains<lists>("l", key); break;
                        case 5: {
                            auto held = store.try_lock<guard>(key + "-" + std::to_string(t), 5s);
                            if (held) (void)held->release();
                            break;
                        }
                        default: (void)store.increment<counters>(key, 1); break;
                    }
                    if (!after) ++c.ops_before;
                } catch (const hotstate::error& e) {
                    if (!after) {
                        ++c.errors_before;
                    } else if (idempotent) {
                        ++c.idempotent_errors_after;
                        UNSCOPED_INFO("after the first PONG: " << e.what());
                    } else {
                        ++c.once_errors_after;
                    }
                }
                if (after) ++(idempotent ? c.idempotent_after : c.once_after);
            }
        });
    }
    REQUIRE(hotstate::testing::eventually([&] { return c.ops_before.load() > 2000; }, 60s));
    server.kill();
    server.start();  // returns once the new server answered PING
    pong_at = std::chrono::steady_clock::now().time_since_epoch().count();
    const bool enough = hotstate::testing::eventually([&] { return c.idempotent_after.load() >= 5000; }, 60s);
    stop = true;
    for (auto& w : workers) w.join();
    std::cout << "restart under load: " << c.ops_before << " operations before the first PONG (" << c.errors_before
              << " failed), " << c.idempotent_after << " idempotent after it (" << c.idempotent_errors_after
              << " failed), " << c.once_after << " increments after it (" << c.once_errors_after << " failed)\n";
    CHECK(enough);
    CHECK(c.idempotent_errors_after == 0);
}
