// Routing of the sharded backend, on embedded shards: every key sits on the
// shard xxh3_64(encoded key) % n says, and nowhere else.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <xxhash.h>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/store.hpp>

#include "sharded/sharded_memory_fixture.hpp"

namespace {
struct sessions : hotstate::category<40, "sessions"> {};
struct hits : hotstate::category<41, "hits", std::int64_t> {};
struct tasks : hotstate::category<42, "tasks"> {};
struct bad_lists : hotstate::category<43, "bad-lists"> {};
}  // namespace

TEST_CASE("sharded: each key lives on shard xxh3_64(encoded key) % n", "[sharded]") {
    sharded_memory_fixture fixture;
    hotstate::store<sharded_memory_fixture::backend_type, sessions, hits, tasks, bad_lists> s(fixture.make_shards());
    auto& backend = s.backend();
    REQUIRE(backend.shard_count() == 3);

    std::vector<int> per_shard(3, 0);
    for (int i = 0; i < 300; ++i) {
        const std::string key = "user:" + std::to_string(i);
        s.set<sessions>(key, "v");
        s.increment<hits>(key);
        const std::string encoded = hotstate::encode_key<sessions>(key);
        const std::size_t expected = XXH3_64bits(encoded.data(), encoded.size()) % 3;
        CHECK(backend.shard_index(encoded) == expected);
        ++per_shard[expected];
        for (std::size_t shard = 0; shard < 3; ++shard) {
            CHECK(backend.shard(shard).kv_exists(encoded) == (shard == expected));
            const std::string counter = hotstate::encode_key<hits>(key);
            const std::size_t counter_shard = XXH3_64bits(counter.data(), counter.size()) % 3;
            CHECK((backend.shard(shard).counter_get(counter) == 1) == (shard == counter_shard));
        }
    }
    // xxh3 spreads 300 keys over 3 shards; none is starved
    for (const int count : per_shard) CHECK(count > 50);

    SECTION("locks and lookups are routed by their key too") {
        auto held = s.try_lock<tasks>("nightly", std::chrono::minutes{1});
        REQUIRE(held.has_value());
        const std::string lock_key = hotstate::encode_key<tasks>("nightly");
        CHECK_FALSE(backend.shard(backend.shard_index(lock_key)).lock_acquire(lock_key, "x", std::chrono::minutes{1}));
        s.lookup_add<bad_lists>("domains", "spam.example");
        const std::string set_key = hotstate::encode_key<bad_lists>("domains");
        CHECK(backend.shard(backend.shard_index(set_key)).set_contains(set_key, "spam.example"));
        CHECK_FALSE(backend.shard((backend.shard_index(set_key) + 1) % 3).set_contains(set_key, "spam.example"));
    }
    SECTION("erase_all reaches every shard") {
        CHECK(s.erase_all<sessions>() == 300);
        for (std::size_t shard = 0; shard < 3; ++shard)
            CHECK(backend.shard(shard).kv_del_prefix(hotstate::encode_key_prefix<sessions>()) == 0);
        CHECK(s.counter<hits>("user:7") == 1);
    }
}

TEST_CASE("sharded: the seeds' rule, fixed values", "[sharded]") {
    // xxh3_64 of the prefix byte ++ key, modulo the shard count: values any
    // other implementation of the rule (the seeds' Rust one) must reproduce
    const std::string key = std::string("\x02") + "sender@example.org";
    const std::uint64_t hash = XXH3_64bits(key.data(), key.size());
    CHECK(hotstate::backends::shard_of(key, 1) == 0);
    CHECK(hotstate::backends::shard_of(key, 2) == hash % 2);
    CHECK(hotstate::backends::shard_of(key, 7) == hash % 7);
    CHECK(XXH3_64bits("", 0) == 0x2D06800538D394C2ull);  // the XXH3 reference value for empty input
}

TEST_CASE("sharded: several shard types, numbered in type order", "[sharded]") {
    using fast = hotstate::backends::basic_memory<hotstate::manual_clock>;
    struct other_memory : hotstate::backends::basic_memory<hotstate::manual_clock> {
        using config_type = hotstate::backends::memory_config;
        explicit other_memory(config_type config) : basic_memory(config) {}
    };
    hotstate::backends::sharded<fast, other_memory> backend(
        std::vector<hotstate::backends::memory_config>{{}, {}},
        std::vector<hotstate::backends::memory_config>{{}});
    REQUIRE(backend.shard_count() == 3);
    int found_on_second_type = 0;
    for (int i = 0; i < 100; ++i) {
        const std::string key = "k" + std::to_string(i);
        backend.kv_set(key, "v", std::chrono::milliseconds{0});
        const std::size_t index = backend.shard_index(key);
        if (index == 2) {
            CHECK(backend.shard<1>(0).kv_exists(key));
            ++found_on_second_type;
        } else {
            CHECK(backend.shard<0>(index).kv_exists(key));
        }
    }
    CHECK(found_on_second_type > 10);
    CHECK(backend.kv_del_prefix("k") == 100);
}

TEST_CASE("sharded: configuration errors", "[sharded]") {
    using backend_type = hotstate::backends::sharded<hotstate::backends::memory>;
    try {
        backend_type backend(std::vector<hotstate::backends::memory_config>{});
        FAIL("no shards must be refused");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::configuration);
        CHECK_THAT(e.what(), Catch::Contains("at least one shard"));
    }
    std::vector<std::unique_ptr<hotstate::backends::memory>> with_null;
    with_null.push_back(nullptr);
    CHECK_THROWS_AS(backend_type(std::move(with_null)), hotstate::error);
}
