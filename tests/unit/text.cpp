#include <cstdint>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/detail/base/text.hpp>

using hotstate::detail::format_host_port;
using hotstate::detail::host_port;
using hotstate::detail::parse_decimal;
using hotstate::detail::parse_host_port;

TEST_CASE("parse_decimal: the whole text or nothing", "[unit][text]") {
    CHECK(parse_decimal<std::int64_t>("42") == 42);
    CHECK(parse_decimal<std::int64_t>("-42") == -42);
    CHECK(parse_decimal<std::int64_t>("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
    CHECK(parse_decimal<std::int64_t>("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
    CHECK_FALSE(parse_decimal<std::int64_t>("9223372036854775808"));
    CHECK_FALSE(parse_decimal<std::int64_t>(""));
    CHECK_FALSE(parse_decimal<std::int64_t>("+1"));
    CHECK_FALSE(parse_decimal<std::int64_t>(" 1"));
    CHECK_FALSE(parse_decimal<std::int64_t>("1 "));
    CHECK_FALSE(parse_decimal<std::int64_t>("1.5"));
    CHECK_FALSE(parse_decimal<std::int64_t>("0x10"));
    CHECK_FALSE(parse_decimal<std::uint64_t>("-1"));
    CHECK(parse_decimal<std::uint64_t>("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
    CHECK_FALSE(parse_decimal<std::uint16_t>("65536"));
    CHECK(parse_decimal<std::uint16_t>("65535") == 65535);
}

TEST_CASE("parse_host_port: IPv4, names, bracketed and bare IPv6", "[unit][text]") {
    CHECK(parse_host_port("127.0.0.1:6379") == host_port{"127.0.0.1", 6379});
    CHECK(parse_host_port("redis.example:7000") == host_port{"redis.example", 7000});
    CHECK(parse_host_port("[::1]:7000") == host_port{"::1", 7000});
    CHECK(parse_host_port("::1:7000") == host_port{"::1", 7000});
    CHECK(parse_host_port(":7000") == host_port{"", 7000});  // Redis 7's "unknown endpoint"
    CHECK_FALSE(parse_host_port("127.0.0.1"));
    CHECK_FALSE(parse_host_port("127.0.0.1:"));
    CHECK_FALSE(parse_host_port("127.0.0.1:0"));
    CHECK_FALSE(parse_host_port("127.0.0.1:65536"));
    CHECK_FALSE(parse_host_port("127.0.0.1:63x9"));
    CHECK_FALSE(parse_host_port("[::1]"));
}

TEST_CASE("format_host_port: brackets around an IPv6 host, and back", "[unit][text]") {
    CHECK(format_host_port("127.0.0.1", 6379) == "127.0.0.1:6379");
    CHECK(format_host_port("::1", 7000) == "[::1]:7000");
    CHECK(format_host_port("fe80::1%eth0", 65535) == "[fe80::1%eth0]:65535");
    CHECK(format_host_port("", 7000) == ":7000");
    for (const std::string text : {"10.0.0.7:6381", "[fe80::1]:7002", "host:1"}) {
        const auto parsed = parse_host_port(text);
        REQUIRE(parsed);
        CHECK(format_host_port(parsed->host, parsed->port) == text);
    }
}
