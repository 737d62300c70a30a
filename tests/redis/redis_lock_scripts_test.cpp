// The lock's layout and arithmetic against a real redis-server (see
// detail/redis/proto/scripts.hpp): one hash per lock {f: last fence, h: last holder,
// <holder's token>: fence while its lease is live}; the lease is the key's
// expiry; a new hash's fence is TIME in microseconds, then one more per
// acquisition; the release is HDEL of the holder's field. These tests pin that
// down: fences bracketed by TIME taken around the call (a missing zero pad
// would be off by up to 0.9 s in one call of ten), the expiry bracketed by the
// lease, the bump by exactly one, stored garbage and other shapes.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/error.hpp>
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

TEST_CASE("redis locks: a new lock's fence is TIME to the microsecond, its lease the key's expiry",
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
        REQUIRE(text_of(server.command({"HGET", key, "f"})) == std::to_string(*fence));
        REQUIRE(text_of(server.command({"HGET", key, "h"})) == "owner");
        REQUIRE(text_of(server.command({"HGET", key, "owner"})) == std::to_string(*fence));
        const auto ttl = server.command({"PTTL", key})->integer;
        REQUIRE(ttl > 30'000 - 10'000);
        REQUIRE(ttl <= 30'000);
    }
}

TEST_CASE("redis locks: the next fence is the last plus one; a release deletes only the holder's field",
          "[redis][locks]") {
    redis_server server;
    hotstate::backends::redis backend(config_for(server));
    const std::string key = hotstate::encode_key<guard>("bump");

    const auto first = backend.lock_acquire(key, "a", 10s);
    REQUIRE(first.has_value());
    CHECK(backend.lock_release(key, "a", *first, hotstate::release_attempt::first));
    CHECK(server.command({"HEXISTS", key, "a"})->integer == 0);
    CHECK(text_of(server.command({"HGET", key, "f"})) == std::to_string(*first));
    CHECK(text_of(server.command({"HGET", key, "h"})) == "a");
    CHECK(server.command({"PTTL", key})->integer > 0);  // the fence stays for the rest of the lease
    CHECK(backend.lock_acquire(key, "b", 10s) == *first + 1);
    CHECK(backend.lock_release(key, "b", *first + 1, hotstate::release_attempt::first));

    // a fence far in the future (or of any length) is bumped by exactly one
    server.command({"HSET", key, "f", "9000000000000000"});
    CHECK(backend.lock_acquire(key, "c", 10s) == 9000000000000001ull);
    CHECK(text_of(server.command({"HGET", key, "f"})) == "9000000000000001");
    CHECK(backend.lock_release(key, "c", 9000000000000001ull, hotstate::release_attempt::first));

    // a fence that is not a number counts as none: the fence is now
    server.command({"HSET", key, "f", "not-a-number"});
    const auto before = server_us(server);
    const auto after_garbage = backend.lock_acquire(key, "d", 10s);
    REQUIRE(after_garbage.has_value());
    CHECK(*after_garbage >= before);
    CHECK(*after_garbage <= server_us(server));

    // the lease is the key's expiry: once it is over, the lock is free and its
    // next fence, TIME again, is above the last one
    server.command({"PEXPIRE", key, "1"});
    const auto next = [&] {
        for (int i = 0; i < 10'000; ++i)  // a bounded wait for the server's expiry, no sleep
            if (auto f = backend.lock_acquire(key, "e", 10s)) return f;
        return std::optional<std::uint64_t>{};
    }();
    REQUIRE(next.has_value());
    CHECK(*next > *after_garbage);
    CHECK_FALSE(backend.lock_release(key, "d", *after_garbage, hotstate::release_attempt::first));  // its lease ran out
}

TEST_CASE("redis locks: a hash of another shape is not a lock", "[redis][locks]") {
    redis_server server;
    hotstate::backends::redis backend(config_for(server));
    const std::string key = hotstate::encode_key<guard>("other");
    // the layout of hotstate before this one, for instance
    server.command({"HSET", key, "owner", "x", "until", "1", "fence", "7", "released", ""});
    try {
        (void)backend.lock_acquire(key, "a", 10s);
        FAIL("acquired a hash that is not a lock");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::wrong_type);
    }
    CHECK_FALSE(backend.lock_release(key, "a", 1, hotstate::release_attempt::first));
    CHECK_FALSE(backend.lock_extend(key, "a", 10s));
    // fields in another order (a hash table instead of a listpack) are read by name
    const std::string reordered = hotstate::encode_key<guard>("reordered");
    server.command({"HSET", reordered, "holder", "41", "h", "holder", "f", "41"});
    CHECK_FALSE(backend.lock_acquire(reordered, "a", 10s).has_value());
    CHECK(backend.lock_acquire(reordered, "holder", 10s) == 41u);
    CHECK(backend.lock_release(reordered, "holder", 41, hotstate::release_attempt::first));  // now {h, f}: free
    CHECK(backend.lock_acquire(reordered, "a", 10s) == 42u);
}

}  // namespace
