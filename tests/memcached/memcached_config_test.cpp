// The memcached backend's JSON configuration ("@type": "Memcached": checked
// at load, errors at their JSON path), its validate_on_load, and the doctor's
// examination of memcached servers (version, -m, -M, -I), against real servers.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/backends/memcached.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/doctor.hpp>
#include <hotstate/json_config.hpp>

#include "support/memcached_server.hpp"

using namespace std::chrono_literals;
namespace backends = hotstate::backends;

namespace {

const hotstate::json_load_options offline{.validate_on_load = false};

std::string error_loading(const std::string& text, hotstate::json_load_options options = offline) {
    try {
        (void)hotstate::load_store_config<backends::memcached>(text, options);
    } catch (const hotstate::error& failure) {
        CHECK(failure.kind() == hotstate::errc::configuration);
        return failure.message();
    }
    return "";
}

}  // namespace

TEST_CASE("config: a Memcached object loads into memcached_config, and writes back", "[memcached][config]") {
    const auto settings = hotstate::load_store_config<backends::memcached>(R"({
        "@type": "Memcached",
        "urls": ["memcached://cache-1.example:11211", "unix:///run/memcached.sock"],
        "timeout": "2s",
        "poolMaxConnections": 20,
        "poolTimeoutWait": "5s"
    })", offline);
    CHECK(settings.urls.size() == 2);
    CHECK(settings.urls[1] == "unix:///run/memcached.sock");
    CHECK(settings.timeout == 2s);
    CHECK(settings.pool_max_connections == 20);
    CHECK(settings.pool_timeout_wait == 5s);
    CHECK(settings.pool_timeout_recycle == 30s);  // not stated: the default
    const auto again = hotstate::load_store_config<backends::memcached>(
        hotstate::config_to_json<backends::memcached>(settings), offline);
    CHECK(again.urls == settings.urls);
    CHECK(again.timeout == settings.timeout);
    CHECK(again.pool_max_connections == settings.pool_max_connections);
}

TEST_CASE("config: a bad Memcached object names the path and the problem", "[memcached][config]") {
    CHECK_THAT(error_loading(R"({"@type": "Memcached", "urls": ["memcached://a:11211", "redis://b:6379"]})"),
               Catch::Contains("urls[1]") && Catch::Contains("unsupported scheme 'redis'"));
    CHECK_THAT(error_loading(R"({"@type": "Memcached", "urls": []})"),
               Catch::Contains("urls") && Catch::Contains("at least one URL"));
    CHECK_THAT(error_loading(R"({"@type": "Memcached"})"), Catch::Contains("missing required field 'urls'"));
    CHECK_THAT(error_loading(R"({"@type": "Memcached", "urls": ["memcached://a"], "timeout": "0s"})"),
               Catch::Contains("timeout") && Catch::Contains("longer than 0"));
    CHECK_THAT(error_loading(R"({"@type": "Memcached", "urls": ["memcached://a"], "poolMaxConnections": 0})"),
               Catch::Contains("poolMaxConnections"));
    CHECK_THAT(error_loading(R"({"@type": "Memcached", "urls": ["memcached://a"], "timeot": "1s"})"),
               Catch::Contains("did you mean 'timeout'"));
    CHECK_THAT(error_loading(R"({"@type": "Redis", "url": "redis://a"})"),
               Catch::Contains("which reads \"Memcached\""));
}

TEST_CASE("config: validate_on_load asks every server its version", "[memcached][config]") {
    hotstate::testing::memcached_server server;
    const std::string good = R"({"@type": "Memcached", "urls": [")" + server.url() + R"("], "timeout": "2s"})";
    const auto settings = hotstate::load_store_config<backends::memcached>(good);
    CHECK(settings.urls.front() == server.url());
    // a port nobody listens on: the problem names it
    hotstate::testing::memcached_server gone;
    const std::string address = "127.0.0.1:" + std::to_string(gone.port());
    gone.stop();
    const std::string bad = R"({"@type": "Memcached", "urls": [")" + server.url() + R"(", "memcached://)" + address +
                            R"("], "timeout": "2s"})";
    CHECK_THAT(error_loading(bad, {}), Catch::Contains("memcached " + address) && Catch::Contains("connect"));
}

TEST_CASE("config: sharded<memcached> loads Memcached shards", "[memcached][config]") {
    using sharded = backends::sharded<backends::memcached>;
    const auto shards = hotstate::load_store_config<sharded>(R"({
        "@type": "Sharded",
        "stores": [{"@type": "Memcached", "urls": ["memcached://a:11211"]},
                   {"@type": "Memcached", "urls": ["memcached://b:11211"]}]
    })", offline);
    CHECK(std::get<0>(shards).size() == 2);
    CHECK(std::get<0>(shards)[1].urls.front() == "memcached://b:11211");
}

TEST_CASE("doctor: a memcached server's version, memory limit, eviction and item size limit", "[memcached][doctor]") {
    using hotstate::doctor::verdict;
    SECTION("evicting, default item size: eviction warns") {
        hotstate::testing::memcached_server server({.memory_mb = 64, .item_size_max = "1m"});
        const auto report = hotstate::doctor::examine_url(server.url());
        INFO(report.table());
        CHECK(report.mode == "memcached");
        REQUIRE(report.find("version"));
        CHECK(report.find("version")->result == verdict::pass);
        CHECK(report.find("memory limit")->measured == "64 MiB");
        CHECK(report.find("eviction")->result == verdict::warn);
        CHECK(report.find("item size limit")->measured == "1024 KiB");
        CHECK(report.find("item size limit")->result == verdict::pass);
        CHECK(report.exit_code() == 1);
    }
    SECTION("-M and sized for the mailboxes: every check passes; too small for them warns") {
        hotstate::testing::memcached_server server({.memory_mb = 128, .item_size_max = "2m", .no_eviction = true});
        hotstate::backends::memcached_config settings;
        settings.urls = {server.url()};
        auto report = hotstate::doctor::examine(settings, {.mailboxes = 50});
        INFO(report.table());
        CHECK(report.find("eviction")->measured == "off (-M)");
        CHECK(report.exit_code() == 0);
        report = hotstate::doctor::examine(settings, {.mailboxes = 100});
        CHECK(report.find("memory limit")->result == verdict::warn);
    }
    SECTION("an item size limit below 1 MiB warns; a server that does not answer fails") {
        hotstate::testing::memcached_server server({.item_size_max = "512k"});
        hotstate::testing::memcached_server gone;
        const auto address = "memcached://127.0.0.1:" + std::to_string(gone.port());
        gone.stop();
        hotstate::backends::memcached_config settings;
        settings.urls = {server.url(), address};
        settings.timeout = 2s;
        const auto report = hotstate::doctor::examine(settings);
        INFO(report.table());
        CHECK(report.find("item size limit")->result == verdict::warn);
        REQUIRE(report.find("connect"));
        CHECK(report.find("connect")->result == verdict::fail);
        CHECK(report.exit_code() == 2);
    }
}
