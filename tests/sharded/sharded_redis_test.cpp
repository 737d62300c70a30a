// The sharded backend over two real redis-servers: each key is on the server
// xxh3_64(encoded key) % 2 names (checked with raw hiredis on both), the
// seeds' byte layout is kept, and delete-by-category reaches both.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <xxhash.h>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/store.hpp>

#include "sharded/sharded_redis_fixture.hpp"

namespace {
struct sessions : hotstate::category<1, "oauth"> {};  // the seeds' KV_OAUTH prefix
struct senders : hotstate::category<2, "rate-rcpt", std::int64_t> {};
struct greylist : hotstate::category<16, "greylist"> {};
}  // namespace

TEST_CASE("sharded over two Redis servers: keys land where xxh3 says", "[sharded][redis]") {
    auto& servers = shared_shard_servers();
    for (auto& server : servers) server->command({"FLUSHALL"});
    // built from configs, as an application would
    hotstate::store<hotstate::backends::sharded<hotstate::backends::redis>, sessions, senders, greylist> s(
        std::vector<hotstate::redis::config>{shard_config(0), shard_config(1)});

    int on_first = 0;
    for (int i = 0; i < 200; ++i) {
        const std::string key = "code-" + std::to_string(i);
        s.set<sessions>(key, "payload-" + std::to_string(i));
        s.check_rate<senders>(key, hotstate::fixed_window{10, std::chrono::minutes{1}});
        const std::string encoded = std::string("\x01", 1) + key;  // the seeds' layout, byte for byte
        REQUIRE(hotstate::encode_key<sessions>(key) == encoded);
        const std::size_t shard = XXH3_64bits(encoded.data(), encoded.size()) % 2;
        on_first += shard == 0 ? 1 : 0;
        auto here = servers[shard]->command({"GET", encoded});
        auto there = servers[1 - shard]->command({"EXISTS", encoded});
        REQUIRE(here->type == REDIS_REPLY_STRING);
        CHECK(std::string(here->str, here->len) == "payload-" + std::to_string(i));
        CHECK(there->integer == 0);
        // the rate bucket (prefix ++ key ++ be64 window) is routed by its own bytes
        const auto window = hotstate::rate_math::locate_window(s.now(), std::chrono::minutes{1}).index;
        const std::string bucket = hotstate::encode_window_bucket<senders>(key, window);
        const std::size_t bucket_shard = XXH3_64bits(bucket.data(), bucket.size()) % 2;
        CHECK(servers[bucket_shard]->command({"GET", bucket})->type == REDIS_REPLY_STRING);
        CHECK(servers[1 - bucket_shard]->command({"EXISTS", bucket})->integer == 0);
    }
    CHECK(on_first > 60);
    CHECK(on_first < 140);

    SECTION("delete-by-category fans out to every shard") {
        s.set<greylist>("triplet", "1");
        CHECK(s.erase_all<sessions>() == 200);
        for (auto& server : servers) {
            auto left = server->command({"SCAN", "0", "MATCH", "\x01*", "COUNT", "1000"});
            CHECK(left->element[1]->elements == 0);
        }
        CHECK(s.get<greylist>("triplet") == "1");
    }
    SECTION("a dead shard fails only its own keys, with an error naming it") {
        const std::string encoded0 = std::string("\x01", 1) + "code-0";
        const std::size_t dead = XXH3_64bits(encoded0.data(), encoded0.size()) % 2;
        servers[dead]->stop();
        try {
            (void)s.get<sessions>("code-0");
            FAIL("a key on a stopped shard cannot be read");
        } catch (const hotstate::error& e) {
            CHECK((e.kind() == hotstate::errc::connection || e.kind() == hotstate::errc::timeout));
            CHECK_THAT(e.what(), Catch::Contains(servers[dead]->address()) && Catch::Contains("oauth"));
        }
        int served = 0;
        for (int i = 0; i < 20; ++i) {
            const std::string key = "code-" + std::to_string(i);
            const std::string encoded = std::string("\x01", 1) + key;
            if (XXH3_64bits(encoded.data(), encoded.size()) % 2 == dead) continue;
            CHECK(s.get<sessions>(key) == "payload-" + std::to_string(i));
            ++served;
        }
        CHECK(served > 0);
        servers[dead]->start();
    }
}
