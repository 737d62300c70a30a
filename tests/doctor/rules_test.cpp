// The doctor's rules as pure functions: each verdict boundary.
#include <catch2/catch.hpp>

#include <hotstate/detail/doctor/rules.hpp>
#include <hotstate/detail/doctor/probe.hpp>

using namespace std::chrono_literals;
namespace d = hotstate::detail::doctor;
using hotstate::doctor::verdict;

TEST_CASE("version: 6.0 is the minimum, 6.2 brings GETDEL", "[doctor]") {
    CHECK(d::version_rule("s", "5.0.14").result == verdict::fail);
    CHECK(d::version_rule("s", "6.0.16").result == verdict::warn);
    CHECK(d::version_rule("s", "6.2.0").result == verdict::pass);
    CHECK(d::version_rule("s", "7.0.15").result == verdict::pass);
    CHECK(d::version_rule("s", "10.1").result == verdict::pass);
}

TEST_CASE("maxmemory-policy: noeviction passes, volatile-* warns, allkeys-* fails", "[doctor]") {
    CHECK(d::eviction_rule("s", "noeviction").result == verdict::pass);
    CHECK(d::eviction_rule("s", "volatile-lru").result == verdict::warn);
    CHECK(d::eviction_rule("s", "volatile-ttl").result == verdict::warn);
    CHECK(d::eviction_rule("s", "allkeys-lru").result == verdict::fail);
    CHECK(d::eviction_rule("s", "allkeys-random").result == verdict::fail);
}

TEST_CASE("persistence: RDB or AOF; none fails only when queues are configured", "[doctor]") {
    CHECK(d::persistence_rule("s", "3600 1", false, true).result == verdict::pass);
    CHECK(d::persistence_rule("s", "", true, true).result == verdict::pass);
    CHECK(d::persistence_rule("s", "", false, false).result == verdict::warn);
    CHECK(d::persistence_rule("s", "", false, true).result == verdict::fail);
    CHECK(d::persistence_rule("s", std::nullopt, false, false).measured == "rdb unknown (CONFIG denied), aof off");
}

TEST_CASE("tcp-keepalive: 0 fails, up to 300 passes", "[doctor]") {
    CHECK(d::keepalive_rule("s", 0).result == verdict::fail);
    CHECK(d::keepalive_rule("s", 60).result == verdict::pass);
    CHECK(d::keepalive_rule("s", 300).result == verdict::pass);
    CHECK(d::keepalive_rule("s", 7200).result == verdict::warn);
    CHECK(d::keepalive_rule("s", std::nullopt).result == verdict::warn);
}

TEST_CASE("round trip: percentiles and the 1 ms / 5 ms limits", "[doctor]") {
    std::vector<std::chrono::microseconds> samples;
    for (int i = 1; i <= 100; ++i) samples.emplace_back(i * 10);
    CHECK(d::percentile(samples, 0.50) == 510us);
    CHECK(d::percentile(samples, 0.99) == 1000us);
    CHECK(d::latency_rule("s", 400us, 3ms, 300, 1ms, 5ms).result == verdict::pass);
    CHECK(d::latency_rule("s", 400us, 6ms, 300, 1ms, 5ms).result == verdict::warn);
    CHECK(d::latency_rule("s", 2ms, 4ms, 300, 1ms, 5ms).result == verdict::warn);
    CHECK(d::latency_rule("s", 6ms, 9ms, 300, 1ms, 5ms).result == verdict::fail);
    CHECK(d::latency_rule("s", 400us, 3ms, 300, 1ms, 5ms).measured == "p50 0.40 ms, p99 3.00 ms over 300 PINGs");
}

TEST_CASE("memory: under 80 % of maxmemory; sizing: 2-4 MiB per mailbox", "[doctor]") {
    constexpr std::uint64_t mib = 1024 * 1024;
    CHECK(d::memory_rule("s", 10 * mib, 0).result == verdict::warn);
    CHECK(d::memory_rule("s", 79 * mib, 100 * mib).result == verdict::pass);
    CHECK(d::memory_rule("s", 80 * mib, 100 * mib).result == verdict::warn);
    CHECK(d::memory_rule("s", 95 * mib, 100 * mib).result == verdict::fail);
    CHECK(d::memory_rule("s", 79 * mib, 100 * mib).measured == "79.0 MiB of 100.0 MiB (79 %)");
    CHECK(d::sizing_rule("s", 1000, 4000 * mib, "maxmemory").result == verdict::pass);
    CHECK(d::sizing_rule("s", 1000, 3999 * mib, "maxmemory").result == verdict::warn);
    CHECK(d::sizing_rule("s", 1000, 2000 * mib, "maxmemory").result == verdict::warn);
    CHECK(d::sizing_rule("s", 1000, 1999 * mib, "maxmemory").result == verdict::fail);
}

TEST_CASE("TLS: a certificate expiring within 30 days warns, an expired one fails", "[doctor]") {
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 90}, std::chrono::hours{24 * 30}).result == verdict::pass);
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 29}, std::chrono::hours{24 * 30}).result == verdict::warn);
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 30}, std::chrono::hours{24 * 30}).result == verdict::warn);
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 30 + 1}, std::chrono::hours{24 * 30}).result == verdict::pass);
    CHECK(d::tls_expiry_rule("s", std::chrono::seconds{-5}, std::chrono::hours{24 * 30}).result == verdict::fail);
}

TEST_CASE("keys are counted under the stock category their prefix byte names", "[doctor]") {
    CHECK(d::key_category(std::string(1, '\x05') + "user@example.com") == "rate-limit-auth");
    CHECK(d::key_category(std::string("{") + std::string(1, '\x10') + "grey}") == "greylist");
    CHECK(d::key_category(std::string(1, '\x0c') + "x") == "prefix 12");
    CHECK(d::key_category("session:1") == "other");
}

TEST_CASE("INFO text is read field by field", "[doctor]") {
    const auto info = d::parse_info("# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\n\r\n# Memory\r\nmaxmemory:0\r\n");
    CHECK(info.at("redis_version") == "7.0.15");
    CHECK(info.at("redis_mode") == "cluster");
    CHECK(info.at("maxmemory") == "0");
}
