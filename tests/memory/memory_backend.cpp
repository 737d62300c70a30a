// Behaviour particular to the embedded backend: memory limit, sweeping, clock.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

#include "support/eventually.hpp"

// The light path: store + memory backend must not drag in a server client.
#if defined(__HIREDIS_H) || defined(BOOST_ASIO_VERSION) || defined(SQLITE_VERSION)
#error "hotstate/store.hpp + hotstate/backends/memory.hpp pulled in hiredis, Asio or SQLite"
#endif

using namespace std::chrono_literals;
using hotstate::testing::eventually;

namespace {
struct token : hotstate::category<1, "oauth"> {};
struct hits : hotstate::category<2, "hits", std::int64_t> {};
using backend = hotstate::backends::basic_memory<hotstate::manual_clock>;
using store_type = hotstate::store<backend, token, hits>;
}  // namespace

TEST_CASE("memory: the limit refuses writes instead of evicting", "[memory]") {
    hotstate::manual_clock clock;
    store_type s(hotstate::backends::memory_config{.memory_limit = 16 * 1024}, clock);

    int written = 0;
    try {
        for (; written < 10000; ++written) s.set<token>("key-" + std::to_string(written), std::string(100, 'x'));
        FAIL("the limit was never reached");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::memory_limit);
        CHECK_THAT(e.what(), Catch::Contains("oauth"));
        CHECK_THAT(e.what(), Catch::Contains("16384"));
    }
    CHECK(written > 10);
    CHECK(s.backend().memory_used() <= 16 * 1024);
    // nothing was evicted
    for (int i = 0; i < written; ++i) REQUIRE(s.exists<token>("key-" + std::to_string(i)));

    SECTION("deleting frees room") {
        CHECK(s.erase<token>("key-0"));
        CHECK_NOTHROW(s.set<token>("after-delete", std::string(50, 'y')));
    }
    SECTION("expired entries anywhere are reclaimed before a write is refused") {
        s.erase_all<token>();
        for (int i = 0; i < written; ++i) s.set<token>("ttl-" + std::to_string(i), std::string(100, 'x'), 1s);
        clock.advance(2s);
        // whichever shard the new keys land in, expired entries of every shard make room
        for (int i = 0; i < written; ++i) CHECK_NOTHROW(s.set<token>("new-" + std::to_string(i), std::string(100, 'z')));
        CHECK_THROWS_AS(s.set<token>("one-too-many", std::string(100, 'z')), hotstate::error);
    }
}

TEST_CASE("memory: expired entries are invisible at once and swept in bounded steps", "[memory]") {
    hotstate::manual_clock clock;
    store_type s(hotstate::backends::memory_config{.shards = 4}, clock);
    for (int i = 0; i < 1000; ++i) s.set<token>("k" + std::to_string(i), "v", 1s);
    for (int i = 0; i < 10; ++i) s.set<token>("keep" + std::to_string(i), "v");
    CHECK(s.backend().entry_count() == 1010);
    clock.advance(1s);
    CHECK_FALSE(s.exists<token>("k5"));

    const auto used_before = s.backend().memory_used();
    const auto removed = s.backend().sweep(100);
    CHECK(removed > 0);
    CHECK(removed <= 200);  // bounded: roughly the budget, never the whole table
    std::size_t total = removed;
    for (int round = 0; round < 1000 && s.backend().entry_count() > 10; ++round) total += s.backend().sweep(100);
    CHECK(s.backend().entry_count() == 10);
    CHECK(total == 999);  // k5 went on the lazy read above
    CHECK(s.backend().memory_used() < used_before);
}

TEST_CASE("memory: the background sweeper reclaims expired entries", "[memory]") {
    hotstate::manual_clock clock;
    store_type s(hotstate::backends::memory_config{.sweep_interval = 1ms}, clock);
    for (int i = 0; i < 500; ++i) s.set<token>("k" + std::to_string(i), "v", 1s);
    clock.advance(5s);
    CHECK(eventually([&] { return s.backend().entry_count() == 0; }));
    CHECK(s.backend().memory_used() == 0);
}

TEST_CASE("memory: wrong kinds of value are typed errors", "[memory]") {
    store_type s;
    (void)s.lookup_add<token>("ns", "member");
    CHECK_THROWS_MATCHES(s.get<token>("ns"), hotstate::error,
                         Catch::Matchers::Predicate<hotstate::error>(
                             [](const hotstate::error& e) { return e.kind() == hotstate::errc::wrong_type; }));
    CHECK_THROWS_AS(s.increment<hits>("x", INT64_MAX) + s.increment<hits>("x", 1), hotstate::error);
}

TEST_CASE("memory: a store error names operation and category once, with its kind once", "[memory]") {
    store_type s;
    (void)s.lookup_add<hits>("ns", "member");
    try {
        (void)s.increment<hits>("ns");
        FAIL("incrementing a set must throw");
    } catch (const hotstate::error& e) {
        CHECK(e.message() == "hotstate: increment on category 'hits': increment: the key holds a value of another kind");
        CHECK(std::string(e.what()) == e.message() + ": wrong type");
    }
}
