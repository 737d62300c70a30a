// Pipelines on the Redis Sentinel backend: one write to the master the
// sentinels name; a write refused with READONLY (the master was demoted under
// the backend) runs again alone once the sentinels name a master, exactly once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

#include "sentinel/sentinel_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using hotstate::testing::eventually;
namespace ops = hotstate::redis::ops;

namespace {

struct hits : hotstate::category<95, "sentinel-pipe-hits", std::int64_t> {};
struct oauth : hotstate::category<96, "sentinel-pipe-oauth"> {};
using store_type = hotstate::store<hotstate::backends::redis_sentinel, hits, oauth>;

}  // namespace

TEST_CASE("sentinel pipeline: the store's keys, typed results in call order", "[sentinel][pipeline]") {
    sentinel_fixture fixture;
    store_type s(shared_sentinel_config());
    CHECK(s.increment<hits>("198.51.100.7", 1, 1h) == 1);
    s.set<oauth>("c0de-42", "grant");
    auto [read, incremented, code, again, count] =
        s.pipeline(ops::get<hits>{"198.51.100.7"}, ops::incr<hits>{"198.51.100.7", 2}, ops::take<oauth>{"c0de-42"},
                   ops::take<oauth>{"c0de-42"}, ops::counter<hits>{"198.51.100.7"});
    CHECK(read == 1);
    CHECK(incremented == 3);
    CHECK(code == "grant");
    CHECK_FALSE(again.has_value());
    CHECK(count == 3);
    CHECK_FALSE(s.exists<oauth>("c0de-42"));
}

TEST_CASE("sentinel pipeline: writes refused with READONLY run again alone, once", "[sentinel][pipeline]") {
    hotstate::testing::redis_sentinel setup;
    hotstate::redis::sentinel_config settings;
    settings.service_name = setup.service_name();
    settings.sentinel_urls = setup.sentinel_urls();
    settings.node.timeout = 1s;
    settings.retry.max_retries = 40;
    settings.retry.min_retry_wait = 10ms;
    settings.retry.max_retry_wait = 50ms;
    store_type s(settings);
    s.set<oauth>("code", "grant");
    REQUIRE(eventually([&] {
        auto r = setup.replica().command({"EXISTS", hotstate::encode_key<oauth>("code")});
        return r->integer == 1;
    }));
    const auto discoveries = s.backend().discovery_count();

    // demote the master behind the backend's back, without closing its connections
    auto& master = setup.master();
    REQUIRE(master.command({"REPLICAOF", "127.0.0.1", std::to_string(setup.replica().port())})->type ==
            REDIS_REPLY_STATUS);
    REQUIRE(eventually([&] { return master.command({"SET", "probe", "x"})->type == REDIS_REPLY_ERROR; }));
    std::atomic<bool> done{false};
    std::optional<std::string> code;
    std::int64_t count = 0;
    std::thread runner([&] {
        try {
            auto [taken, incremented] = s.pipeline(ops::take<oauth>{"code"}, ops::incr<hits>{"n", 1});
            code = taken;
            count = incremented;
            done = true;
        } catch (const hotstate::error&) {
        }
    });
    // the refused writes are retrying (READONLY, ask the sentinels, back off); promote the master back
    REQUIRE(eventually([&] { return s.backend().retry_count() >= 2; }));
    REQUIRE(master.command({"REPLICAOF", "NO", "ONE"})->type == REDIS_REPLY_STATUS);
    runner.join();
    REQUIRE(done.load());
    CHECK(code == "grant");
    CHECK(count == 1);
    CHECK(s.counter<hits>("n") == 1);  // ran once
    CHECK_FALSE(s.exists<oauth>("code"));
    CHECK(s.backend().discovery_count() > discoveries);
}
