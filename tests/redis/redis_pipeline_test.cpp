// Take on a real redis-server without GETDEL (Redis < 6.2), through one script,
// in a pipeline too. What every pipeline does (the store's keys, typed results
// in call order, a failure in the middle) is the pipeline law's (tests/laws/pipelines.hpp).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

#include "support/redis_server.hpp"

using namespace std::chrono_literals;
namespace ops = hotstate::redis::ops;

namespace {

struct failed_logins : hotstate::category<40, "failed-logins", std::int64_t> {};
struct sessions : hotstate::category<41, "sessions"> {};
struct oauth : hotstate::category<42, "oauth"> {};

using store_type = hotstate::store<hotstate::backends::redis, failed_logins, sessions, oauth>;

static_assert(hotstate::PipelineBackend<hotstate::backends::redis, ops::get<sessions>, ops::take<oauth>>);
static_assert(!hotstate::PipelineBackend<hotstate::backends::memory, ops::get<sessions>>);

std::string info_section(hotstate::testing::redis_server& server, std::string_view section) {
    auto reply = server.command({"INFO", section});
    return std::string(reply->str, reply->len);
}

long long stat_of(const std::string& info, std::string_view marker) {
    const auto at = info.find(marker);
    if (at == std::string::npos) return 0;
    return std::stoll(info.substr(at + marker.size(), 20));
}

}  // namespace

TEST_CASE("redis take: on a server without GETDEL, one script, found out once", "[redis][take]") {
    // Redis before 6.2 has no GETDEL; renaming it away gives the same answer ("unknown command")
    hotstate::testing::redis_server old_server({.extra_config = {"rename-command GETDEL \"\""}});
    hotstate::redis::config settings;
    settings.url = old_server.url();
    settings.node.timeout = 5s;
    store_type s(settings);
    REQUIRE(old_server.command({"GETDEL", "probe"})->type == REDIS_REPLY_ERROR);
    const auto unknown_before = stat_of(info_section(old_server, "errorstats"), "errorstat_ERR:count=");

    s.set<oauth>("c0de-1", "grant-1");
    s.set<oauth>("c0de-2", "grant-2");
    CHECK(s.take<oauth>("c0de-1") == "grant-1");
    CHECK_FALSE(s.take<oauth>("c0de-1").has_value());
    CHECK(s.take<oauth>("c0de-2") == "grant-2");
    CHECK_FALSE(s.exists<oauth>("c0de-2"));
    // only the first take asked for GETDEL; later ones went straight to the script
    CHECK(stat_of(info_section(old_server, "errorstats"), "errorstat_ERR:count=") == unknown_before + 1);

    SECTION("in a pipeline too") {
        s.set<oauth>("c0de-3", "grant-3");
        auto [code, again, other] =
            s.pipeline(ops::take<oauth>{"c0de-3"}, ops::take<oauth>{"c0de-3"}, ops::get<sessions>{"none"});
        CHECK(code == "grant-3");
        CHECK_FALSE(again.has_value());
        CHECK_FALSE(other.has_value());
    }
    SECTION("a typed value") {
        s.increment<failed_logins>("ip", 3);
        CHECK(s.take<failed_logins>("ip") == 3);
        CHECK(s.counter<failed_logins>("ip") == 0);
    }
}
