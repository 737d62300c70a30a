// The SQLite backend's pure decisions, without a database.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/detail/sqlite/logic.hpp>

using namespace std::chrono_literals;
namespace logic = hotstate::detail::sqlite;

TEST_CASE("sqlite logic: a prefix becomes a half-open key range", "[sqlite][unit]") {
    CHECK(logic::prefix_successor("abc") == std::string("abd"));
    CHECK(logic::prefix_successor(std::string("\x01", 1)) == std::string("\x02", 1));
    // trailing 0xff bytes carry into the byte before them
    CHECK(logic::prefix_successor(std::string("a\xff\xff", 3)) == std::string("b"));
    CHECK(logic::prefix_successor(std::string("\x05\x00", 2)) == std::string("\x05\x01", 2));
    // no upper bound exists: the range is open
    CHECK_FALSE(logic::prefix_successor("").has_value());
    CHECK_FALSE(logic::prefix_successor(std::string("\xff\xff", 2)).has_value());

    // every string with the prefix lies inside [prefix, successor), nothing else does
    const std::string prefix("k\xfe", 2);
    const auto bound = logic::prefix_successor(prefix);
    REQUIRE(bound.has_value());
    for (const std::string& inside : {std::string("k\xfe", 2), std::string("k\xfe\xff\xff", 4), std::string("k\xfe\x00", 3)}) {
        CHECK(inside >= prefix);
        CHECK(inside < *bound);
    }
    CHECK_FALSE(std::string("k\xff", 2) < *bound);
}

TEST_CASE("sqlite logic: what opening a file does, from its header", "[sqlite][unit]") {
    using logic::schema_state;
    CHECK(logic::classify_schema(0, 0, 0) == schema_state::empty);
    CHECK(logic::classify_schema(logic::application_id, logic::schema_version, 5) == schema_state::current);
    CHECK(logic::classify_schema(logic::application_id, logic::schema_version + 1, 5) == schema_state::newer);
    CHECK(logic::classify_schema(logic::application_id, 0, 0) == schema_state::foreign);
    CHECK(logic::classify_schema(0, 0, 1) == schema_state::foreign);  // someone else's tables
    CHECK(logic::classify_schema(0, 7, 0) == schema_state::foreign);  // someone else's version
    CHECK(logic::classify_schema(0x12345678, 1, 3) == schema_state::foreign);
}

TEST_CASE("sqlite logic: result codes map to error kinds", "[sqlite][unit]") {
    using hotstate::errc;
    CHECK(logic::errc_of(5) == errc::timeout);   // SQLITE_BUSY
    CHECK(logic::errc_of(6) == errc::timeout);   // SQLITE_LOCKED
    CHECK(logic::errc_of(11) == errc::storage);  // SQLITE_CORRUPT
    CHECK(logic::errc_of(26) == errc::storage);  // SQLITE_NOTADB
    CHECK(logic::errc_of(10) == errc::storage);  // SQLITE_IOERR
    CHECK(logic::errc_of(13) == errc::storage);  // SQLITE_FULL
    CHECK(logic::errc_of(14) == errc::storage);  // SQLITE_CANTOPEN
    CHECK(logic::errc_of(18) == errc::invalid_argument);  // SQLITE_TOOBIG
    CHECK(logic::errc_of(7) == errc::memory_limit);       // SQLITE_NOMEM
}

TEST_CASE("sqlite logic: expiry arithmetic never overflows", "[sqlite][unit]") {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    CHECK(logic::expires_at(1000, 0ms) == 0);
    CHECK(logic::expires_at(1000, 250ms) == 1250);
    CHECK(logic::expires_at(1000, std::chrono::milliseconds::max()) == max);
    CHECK(logic::saturating_add(max - 1, 5) == max);
    CHECK(logic::saturating_add(-5, 3) == -2);
}

TEST_CASE("sqlite logic: writers back off from a yield to at most 1 ms", "[sqlite][unit]") {
    CHECK(logic::busy_backoff(0) == 0us);
    CHECK(logic::busy_backoff(7) == 0us);
    CHECK(logic::busy_backoff(8) == 20us);
    CHECK(logic::busy_backoff(9) == 40us);
    std::chrono::microseconds previous{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
        const auto wait = logic::busy_backoff(attempt);
        CHECK(wait >= previous);
        CHECK(wait <= 1000us);
        previous = wait;
    }
    CHECK(logic::busy_backoff(1000) == 1000us);
}
