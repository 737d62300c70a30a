// The lock scripts' arithmetic against a real redis-server. The scripts never
// parse TIME (see detail/redis/scripts.hpp): they concatenate its seconds and
// zero-padded microseconds into decimal strings and compare the stored `until`
// and `fence` with them as decimal strings. These tests pin down that this is
// exactly the numeric rule: fences and leases bracketed by TIME taken around the
// call (a missing zero pad would be off by up to 0.9 s in one call of ten), and
// stored numbers of other lengths, or not numbers at all, compared as numbers.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/key.hpp>

#include "support/redis_server.hpp"

using namespace std::chrono_literals;
using hotstate::testing::redis_server;

namespace {

struct guard : hotstate::category<13, "lock-scripts"> {};

hotstate::redis::config config_for(const redis_server& server) {
    hotstate::redis::config settings;
    settings.url = server.url();
    settings.node.timeout = 2s;
    settings.locks.fence_retention = 5min;
    return settings;
}

std::string text_of(const hotstate::testing::reply_ptr& reply) {
    REQUIRE(reply);
    return reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : std::string();
}

std::uint64_t server_us(redis_server& server) {
    const auto time = server.command({"TIME"});
    return std::stoull(std::string(time->element[0]->str, time->element[0]->len)) * 1'000'000ull +
           std::stoull(std::string(time->element[1]->str, time->element[1]->len));
}

TEST_CASE("redis locks: fence and lease are TIME to the microsecond and millisecond, every call",
          "[redis][locks]") {
    redis_server server;
    hotstate::backends::redis backend(config_for(server));
    // 200 acquires: the microsecond part of TIME is below 100000 (the case a
    // missing zero pad gets wrong) in about one call of ten
    for (int i = 0; i < 200; ++i) {
        const std::string key = hotstate::encode_key<guard>("k" + std::to_string(i));
        const auto before = server_us(server);
        const auto fence = backend.lock_acquire(key, "owner", 30s);
        const auto after = server_us(server);
        REQUIRE(fence.has_value());
        INFO("call " << i << ": TIME " << before << ".." << after << ", fence " << *fence);
        REQUIRE(*fence >= before);
        REQUIRE(*fence <= after);
        const auto until = std::stoull(text_of(server.command({"HGET", key, "until"})));
        REQUIRE(until >= before / 1000 + 30'000);
        REQUIRE(until <= after / 1000 + 30'000);
        const auto ttl = server.command({"PTTL", key})->integer;
        REQUIRE(ttl > 30'000 + 5 * 60'000 - 10'000);
        REQUIRE(ttl <= 30'000 + 5 * 60'000);
    }
}

TEST_CASE("redis locks: stored numbers of any length compare as numbers", "[redis][locks]") {
    redis_server server;
    hotstate::backends::redis backend(config_for(server));
    const std::string key = hotstate::encode_key<guard>("lengths");

    // a lease that ended at 999 ms after the epoch (shorter than now): not live
    server.command({"HSET", key, "owner", "old", "until", "999", "fence", "7"});
    CHECK_FALSE(backend.lock_release(key, "old"));
    CHECK_FALSE(backend.lock_extend(key, "old", 10s));
    const auto before = server_us(server);
    const auto taken = backend.lock_acquire(key, "new", 10s);
    REQUIRE(taken.has_value());
    CHECK(*taken >= before);  // a shorter fence is below now: the fence is now

    // a lease that ends in the year 5138 (one digit longer than now): live
    server.command({"HSET", key, "owner", "holder", "until", "99999999999999"});
    CHECK_FALSE(backend.lock_acquire(key, "other", 10s).has_value());
    CHECK(backend.lock_acquire(key, "holder", 10s) == taken);  // its own lease, renewed to 10 s
    CHECK(std::stoull(text_of(server.command({"HGET", key, "until"}))) <= server_us(server) / 1000 + 10'000);
    server.command({"HSET", key, "until", "99999999999999"});
    CHECK(backend.lock_extend(key, "holder", 10s));
    CHECK(std::stoull(text_of(server.command({"HGET", key, "until"}))) <= server_us(server) / 1000 + 10'000);
    server.command({"HSET", key, "until", "99999999999999"});
    CHECK(backend.lock_release(key, "holder"));

    // a fence of the same length as now but later: bumped by one, exactly
    server.command({"HSET", key, "fence", "9000000000000000"});
    CHECK(backend.lock_acquire(key, "next", 10s) == 9000000000000001ull);
    CHECK(text_of(server.command({"HGET", key, "fence"})) == "9000000000000001");
    CHECK(backend.lock_release(key, "next"));

    // a fence that is not a number counts as none, as tonumber() did: the fence is now
    server.command({"HSET", key, "fence", "not-a-number-but-long"});
    const auto before_garbage = server_us(server);
    const auto after_garbage = backend.lock_acquire(key, "again", 10s);
    REQUIRE(after_garbage.has_value());
    CHECK(*after_garbage >= before_garbage);
    CHECK(*after_garbage <= server_us(server));
}

}  // namespace
