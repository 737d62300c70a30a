#include <chrono>
#include <system_error>

#include <catch2/catch.hpp>

#include <hotstate/clock.hpp>
#include <hotstate/error.hpp>

using namespace std::chrono_literals;

TEST_CASE("manual clock: moves only when told; copies share the time", "[unit][clock]") {
    hotstate::manual_clock clock;
    const auto start = clock.now();
    const hotstate::manual_clock copy = clock;
    clock.advance(1500ms);
    CHECK(copy.now() - start == 1500ms);
    clock.set(start);
    CHECK(copy.now() == start);
}

TEST_CASE("system clock: close to std::chrono::system_clock", "[unit][clock]") {
    const auto ours = hotstate::system_clock{}.now();
    const auto theirs = std::chrono::system_clock::now();
    CHECK(std::chrono::abs(theirs - ours) < 5s);
}

TEST_CASE("errors: one family, comparable as std::error_code", "[unit][error]") {
    const hotstate::error e(hotstate::errc::timeout, "pool wait ran out");
    CHECK(e.kind() == hotstate::errc::timeout);
    CHECK(e.code() == hotstate::errc::timeout);
    CHECK(e.code().category().name() == std::string("hotstate"));
    CHECK(e.code().message() == "timeout");
    CHECK_THAT(e.what(), Catch::Contains("pool wait ran out"));
    const std::system_error& as_base = e;
    CHECK(as_base.code().value() == static_cast<int>(hotstate::errc::timeout));
}
