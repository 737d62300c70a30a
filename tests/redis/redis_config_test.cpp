// URL parsing and config validation: pure functions, no server.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <hotstate/redis/config.hpp>

using hotstate::redis::config;
using hotstate::redis::endpoint;
using hotstate::redis::parse_url;

namespace {

std::string configuration_error_of(auto&& call) {
    try {
        call();
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::configuration);
        return e.what();
    }
    FAIL("expected a configuration error");
    return {};
}

}  // namespace

TEST_CASE("redis config: defaults are the seeds'", "[redis][config]") {
    const config c;
    CHECK(c.pool_max_connections == 10);
    CHECK(c.pool_timeout_create == std::chrono::seconds{30});
    CHECK(c.pool_timeout_wait == std::chrono::seconds{30});
    CHECK(c.pool_timeout_recycle == std::chrono::seconds{30});
    CHECK(c.timeout == std::chrono::seconds{10});
    CHECK(c.protocol == hotstate::redis::protocol_version::resp2);
}

TEST_CASE("redis URL: the accepted forms", "[redis][config]") {
    SECTION("host only") {
        const endpoint e = parse_url("redis://cache.example.com");
        CHECK(e.type == endpoint::kind::tcp);
        CHECK(e.host == "cache.example.com");
        CHECK(e.port == 6379);
        CHECK(e.db == 0);
        CHECK_FALSE(e.username);
        CHECK_FALSE(e.password);
    }
    SECTION("user, password, port, db") {
        const endpoint e = parse_url("redis://alice:p%40ss:word@10.0.0.5:6380/3");
        CHECK(e.host == "10.0.0.5");
        CHECK(e.port == 6380);
        CHECK(e.db == 3);
        CHECK(e.username == "alice");
        CHECK(e.password == "p@ss:word");
        CHECK(e.address() == "10.0.0.5:6380");
    }
    SECTION("password only") {
        const endpoint e = parse_url("redis://:secret@localhost:7000/");
        CHECK_FALSE(e.username);
        CHECK(e.password == "secret");
        CHECK(e.port == 7000);
    }
    SECTION("IPv6") {
        const endpoint e = parse_url("redis://[::1]:6390/2");
        CHECK(e.host == "::1");
        CHECK(e.port == 6390);
        CHECK(e.address() == "[::1]:6390");
    }
    SECTION("unix socket") {
        const endpoint e = parse_url("unix:///run/redis/redis.sock?db=4");
        CHECK(e.type == endpoint::kind::unix_socket);
        CHECK(e.path == "/run/redis/redis.sock");
        CHECK(e.db == 4);
        CHECK(parse_url("unix:///tmp/r.sock").db == 0);
    }
}

TEST_CASE("redis URL: malformed URLs name the offending part and never the password", "[redis][config]") {
    using Catch::Contains;
    CHECK_THAT(configuration_error_of([] { (void)parse_url("cache.example.com:6379"); }), Contains("missing scheme"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("http://h"); }), Contains("unsupported scheme 'http'"));
    const auto bad_port = configuration_error_of([] { (void)parse_url("redis://bob:hunter2@host:65536"); });
    CHECK_THAT(bad_port, Contains("port '65536'"));
    CHECK_THAT(bad_port, !Contains("hunter2"));
    CHECK_THAT(bad_port, Contains("bob:***@host"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host:abc"); }), Contains("port 'abc'"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host:"); }), Contains("empty port"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://:pw@:6379"); }), Contains("missing host"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host/x1"); }), Contains("database 'x1'"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host/1?foo=bar"); }), Contains("query"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://[::1:6379"); }), Contains("']'"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("unix://relative.sock"); }), Contains("absolute"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("unix:///s.sock?db=x"); }), Contains("db='x'"));
    const auto bad_escape = configuration_error_of([] { (void)parse_url("redis://u:%zzsecret@h"); });
    CHECK_THAT(bad_escape, Contains("password has a malformed %-escape"));
    CHECK_THAT(bad_escape, !Contains("secret"));
}

TEST_CASE("redis config: TLS and RESP3 are refused naming hiredis's version", "[redis][config]") {
    using Catch::Contains;
    const auto version = hotstate::redis::hiredis_version();
    CHECK(version == std::to_string(HIREDIS_MAJOR) + "." + std::to_string(HIREDIS_MINOR) + "." +
                         std::to_string(HIREDIS_PATCH));
    const auto tls = configuration_error_of([] { (void)parse_url("rediss://u:topsecret@host:6380"); });
    CHECK_THAT(tls, Contains("TLS"));
    CHECK_THAT(tls, !Contains("topsecret"));
    if constexpr (!hotstate::redis::hiredis_has_tls) CHECK_THAT(tls, Contains("hiredis " + version));
    config c;
    c.protocol = hotstate::redis::protocol_version::resp3;
    const auto resp3 = configuration_error_of([&] { (void)hotstate::redis::resolve(c); });
    CHECK_THAT(resp3, Contains("resp3"));
    if constexpr (!hotstate::redis::hiredis_has_resp3) CHECK_THAT(resp3, Contains("hiredis " + version));
}

TEST_CASE("redis config: resolve applies auth overrides and validates", "[redis][config]") {
    config c;
    c.url = "redis://url-user:url-pass@h:1/2";
    c.auth_secret = "override";
    const endpoint e = hotstate::redis::resolve(c);
    CHECK(e.username == "url-user");
    CHECK(e.password == "override");
    CHECK(e.db == 2);
    c.auth_username = "acl-user";
    CHECK(hotstate::redis::resolve(c).username == "acl-user");
    config zero;
    zero.pool_max_connections = 0;
    CHECK_THAT(configuration_error_of([&] { (void)hotstate::redis::resolve(zero); }),
               Catch::Contains("pool_max_connections"));
    config user_only;
    user_only.auth_username = "alice";
    CHECK_THAT(configuration_error_of([&] { (void)hotstate::redis::resolve(user_only); }), Catch::Contains("password"));
}

TEST_CASE("redis config: printing masks every secret", "[redis][config]") {
    config c;
    c.url = "redis://alice:url-secret@h:6379/1";
    c.auth_username = "bob";
    c.auth_secret = "field-secret";
    const std::string text = hotstate::redis::to_string(c);
    CHECK_THAT(text, Catch::Contains("alice:***@h:6379/1"));
    CHECK_THAT(text, Catch::Contains("auth_secret=***"));
    CHECK_THAT(text, !Catch::Contains("secret@") && !Catch::Contains("field-secret") && !Catch::Contains("url-secret"));
    const std::string formatted = fmt::format("{}", c);
    CHECK(formatted == text);
    const std::string where = fmt::format("{}", hotstate::redis::resolve(c));
    CHECK(where == "redis://bob:***@h:6379/1");
}
