// The loader's pure text work: names, durations, suggestions, positions.
#include <catch2/catch.hpp>

#include <hotstate/detail/config/text.hpp>

using namespace std::chrono_literals;
namespace c = hotstate::detail::config;

TEST_CASE("C++ field names become camelCase", "[config_json]") {
    CHECK(c::camel_case("pool_max_connections") == "poolMaxConnections");
    CHECK(c::camel_case("url") == "url");
    CHECK(c::camel_case("ca_file") == "caFile");
}

TEST_CASE("durations: digits then a unit, nothing else", "[config_json]") {
    CHECK(c::parse_duration("250ms").value == 250ms);
    CHECK(c::parse_duration("10s").value == 10s);
    CHECK(c::parse_duration("5m").value == 5min);
    CHECK(c::parse_duration("2h").value == 2h);
    CHECK(c::parse_duration("1d").value == 24h);
    CHECK(c::parse_duration("0").value == 0ms);
    CHECK(c::parse_duration("1.5s").problem == "expected whole units; write \"1500ms\" rather than \"1.5s\"");
    CHECK(c::parse_duration("s").problem == "expected digits followed by a unit (ms, s, m, h, d), e.g. \"10s\"");
    CHECK(c::parse_duration("").problem == "expected digits followed by a unit (ms, s, m, h, d), e.g. \"10s\"");
    CHECK(c::parse_duration("99999999999999999999d").problem == "longer than the maximum, 365d");
    CHECK(c::parse_duration("365d").value == 24h * 365);
    CHECK(c::parse_duration("31536000001ms").problem == "longer than the maximum, 365d");
    CHECK(c::format_duration(10s) == "10s");
    CHECK(c::format_duration(1500ms) == "1500ms");
    CHECK(c::format_duration(2h) == "2h");
    CHECK(c::format_duration(0ms) == "0s");
}

TEST_CASE("did you mean: the closest known name within a third of the length", "[config_json]") {
    const std::vector<std::string> known{"poolMaxConnections", "poolTimeoutWait", "url", "urls"};
    CHECK(c::closest_name("poolMaxConection", known) == "poolMaxConnections");
    CHECK(c::closest_name("PoolTimeoutwait", known) == "poolTimeoutWait");
    CHECK(c::closest_name("uri", known) == "url");
    CHECK_FALSE(c::closest_name("colour", known));
}

TEST_CASE("the locator finds values through objects, arrays and escaped strings", "[config_json]") {
    const std::string text = "{\"a\\\"b\": [1, {\"x\": \"}]\"}],\n  \"s\": {\"urls\": [\"u0\", \"u1\",\n    \"u2\"]}}";
    const c::locator find(text);
    const auto at = [&](c::json_path path, bool name = false) {
        const auto position = c::position_of(text, find.find(path, name));
        return std::to_string(position.line) + ":" + std::to_string(position.column);
    };
    CHECK(at({std::string("s"), std::string("urls"), std::size_t{2}}) == "3:5");
    CHECK(at({std::string("s"), std::string("urls"), std::size_t{1}}) == "2:24");
    CHECK(at({std::string("s"), std::string("urls")}, true) == "2:9");
    CHECK(at({std::string("a\"b"), std::size_t{1}, std::string("x")}) == "1:20");
    // a path that does not exist: its deepest existing ancestor
    CHECK(at({std::string("s"), std::string("nope")}) == "2:8");
    CHECK(c::path_text({std::string("inMemoryStore"), std::string("urls"), std::size_t{2}}) == "inMemoryStore.urls[2]");
    // a name spelled with escapes is found by what it says
    const std::string escaped = R"({"ca\u0046ile": 1, "\ud83d\ude00": 2})";
    const c::locator in_escaped(escaped);
    CHECK(in_escaped.find({std::string("caFile")}) == 16);
    CHECK(in_escaped.find({std::string("\xf0\x9f\x98\x80")}) == 35);
}

TEST_CASE("a member named twice in one object is found, with both places", "[config_json]") {
    const auto duplicate = [](std::string_view text) { return c::locator(text).first_duplicate(); };
    CHECK_FALSE(duplicate(R"({"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}], "d": [], "e": {}})"));
    const auto nested = duplicate(R"({"a": [1, {"x": {}, "y": [], "x": 2}]})");
    REQUIRE(nested);
    CHECK(c::path_text(nested->path) == "a[1].x");
    CHECK(nested->name == "x");
    CHECK(nested->first == 11);
    CHECK(nested->second == 29);
    // deep nesting does not exhaust the stack
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK_FALSE(duplicate(deep));
}
