// hotstate/fmt.hpp and hotstate/redis/fmt.hpp: every public value type formats,
// with the same text as its to_string, and no secret shows.
#include <hotstate/fmt.hpp>
#include <hotstate/redis/fmt.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

TEST_CASE("fmt: errors and error kinds", "[unit][fmt]") {
    CHECK(fmt::format("{}", hotstate::errc::timeout) == "timeout");
    CHECK(fmt::format("{}", hotstate::errc::configuration) == "configuration error");
    const hotstate::error failure(hotstate::errc::connection, "hotstate redis: 10.0.0.5:6379: get: refused");
    CHECK(fmt::format("{}", failure) == "connection error: hotstate redis: 10.0.0.5:6379: get: refused");
    const auto unknown = hotstate::error::with_unknown_outcome(hotstate::errc::timeout, "incr: no reply");
    CHECK(fmt::format("{}", unknown) == "timeout: incr: no reply (outcome unknown)");
    CHECK(fmt::format("[{:>9}]", hotstate::errc::timeout) == "[  timeout]");  // the string spec applies
}

TEST_CASE("fmt: rate decisions", "[unit][fmt]") {
    CHECK(fmt::format("{}", hotstate::rate_decision{true, 0ms, 4}) == "allowed (remaining 4)");
    CHECK(fmt::format("{}", hotstate::rate_decision{false, 1200ms, 0}) == "denied (retry after 1200ms)");
}

TEST_CASE("fmt: coordinator gaps, stats and connection events", "[unit][fmt]") {
    hotstate::gap skip{hotstate::gap_kind::sequence_skip, 7, 3, 5, 9, 0ms, {}, {}};
    CHECK(fmt::format("{}", skip) == "gap{kind=sequence_skip, publisher=7, missing=[3, 5], lost_events=9}");
    hotstate::gap outage{hotstate::gap_kind::outage, 0, 0, 0, 0, 1500ms, "10.0.0.5:6379: subscriber reconnected", {}};
    CHECK(fmt::format("{}", outage) == "gap{kind=outage, duration=1500ms, detail=10.0.0.5:6379: subscriber reconnected}");
    hotstate::gap refused{hotstate::gap_kind::malformed_event, 7, 0, 0, 0, 0ms, "field 'n': missing", "test-ping"};
    CHECK(fmt::format("{}", refused) ==
          "gap{kind=malformed_event, publisher=7, channel=test-ping, detail=field 'n': missing}");
    CHECK(fmt::format("{}", hotstate::gap_kind::cursor_invalid) == "cursor_invalid");

    hotstate::coordinator_stats stats;
    stats.published_events = 3;
    stats.gaps = 1;
    const std::string text = fmt::format("{}", stats);
    CHECK(text.starts_with("coordinator_stats{published_events=3, sent_messages=0,"));
    CHECK(text.ends_with(", gaps=1}"));

    hotstate::connection_event failed{hotstate::connection_state::connect_failed,
                                      hotstate::error(hotstate::errc::authentication, "10.0.0.5:6379: AUTH refused"),
                                      0ms};
    CHECK(fmt::format("{}", failed) == "connect_failed (authentication failed: 10.0.0.5:6379: AUTH refused)");
    CHECK(fmt::format("{}", hotstate::connection_event{hotstate::connection_state::reconnected, {}, 250ms}) ==
          "reconnected after 250ms");
    CHECK(fmt::format("{}", hotstate::connection_state::send_recovered) == "send_recovered");
    CHECK(fmt::format("{}", hotstate::transport_outage{hotstate::outage_kind::retention_exceeded, 0ms, "trimmed"}) ==
          "outage{kind=retention_exceeded, detail=trimmed}");
    CHECK(fmt::format("{}", hotstate::outage_kind::disconnected) == "disconnected");
}

TEST_CASE("fmt: Redis configs and endpoints print as to_string does, secrets as ***", "[unit][fmt]") {
    hotstate::redis::config single;
    single.url = "redis://app:url-secret@10.0.0.5:6379/2";
    CHECK(fmt::format("{}", single) == hotstate::redis::to_string(single));
    CHECK(fmt::format("{}", single).find("url-secret") == std::string::npos);
    CHECK(fmt::format("{}", hotstate::redis::parse_url(single.url)) == "redis://app:***@10.0.0.5:6379/2");

    hotstate::redis::cluster_config cluster;
    cluster.urls = {"redis://:cluster-secret@n1:7000"};
    CHECK(fmt::format("{}", cluster) == hotstate::redis::to_string(cluster));
    CHECK(fmt::format("{}", cluster).find("cluster-secret") == std::string::npos);

    hotstate::redis::sentinel_config sentinel;
    sentinel.sentinel_urls = {"redis://:sentinel-secret@s1:26379"};
    CHECK(fmt::format("{}", sentinel) == hotstate::redis::to_string(sentinel));
    CHECK(fmt::format("{}", sentinel).find("sentinel-secret") == std::string::npos);
}
