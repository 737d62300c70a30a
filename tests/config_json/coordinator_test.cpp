// The coordinator object: Stalwart's "Redis" coordinator, and "Default"
// reusing the store's connection, with the transport and coordinator options.
#include <catch2/catch.hpp>

#include <string>

#include <hotstate/backends/redis.hpp>
#include <hotstate/config/coordinator.hpp>

#include "support/redis_server.hpp"

using namespace std::chrono_literals;
using pubsub_config = hotstate::coordinator_config<hotstate::transports::redis_pubsub_options>;
using streams_config = hotstate::coordinator_config<hotstate::transports::redis_streams_options>;

namespace {

const hotstate::json_load_options offline{.validate_on_load = false};

template <class Options>
std::string error_loading(const std::string& text, hotstate::json_load_options options = offline) {
    try {
        (void)hotstate::load_coordinator_config<Options>(text, options);
    } catch (const hotstate::error& failure) {
        CHECK(failure.kind() == hotstate::errc::configuration);
        return failure.message();
    }
    return "";
}

}  // namespace

TEST_CASE("Stalwart's Redis coordinator object loads with pub/sub and coordinator options", "[config_json]") {
    const auto settings = hotstate::load_coordinator_config<hotstate::transports::redis_pubsub_options>(R"({
        "@type": "Redis",
        "url": "redis://redis.example.com:6379",
        "timeout": "10s",
        "poolMaxConnections": 10,
        "channel": "mail:cluster",
        "healthCheckInterval": "2s",
        "reconnect": {"initial": "50ms", "cap": "5s"},
        "nodeId": 7,
        "maxBatchEvents": 50,
        "sendBackoff": {"initial": "10ms", "cap": "1s"},
        "sending": "callerWhenIdle"
    })", offline);
    REQUIRE(settings.connection);
    CHECK(settings.connection->url == "redis://redis.example.com:6379");
    CHECK(settings.connection->node.pool_max_connections == 10);
    CHECK(settings.transport.channel == "mail:cluster");
    CHECK(settings.transport.health_check_interval == 2s);
    CHECK(settings.transport.reconnect.cap == 5s);
    CHECK(settings.coordinator.node_id == 7);
    CHECK(settings.coordinator.max_batch_events == 50);
    CHECK(settings.coordinator.send_backoff.initial == 10ms);
    CHECK(settings.coordinator.sending == hotstate::coordinator_options::send_mode::caller_when_idle);
}

TEST_CASE("Stalwart's RedisCluster coordinator object loads", "[config_json]") {
    const auto settings = hotstate::load_coordinator_config<hotstate::transports::redis_pubsub_options>(R"({
        "@type": "RedisCluster",
        "urls": ["redis://redis-1.example.com:6379", "redis://redis-2.example.com:6379",
                 "redis://redis-3.example.com:6379"],
        "timeout": "10s",
        "authUsername": "stalwart",
        "authSecret": {"@type": "Value", "secret": "redis-password"},
        "readFromReplicas": true,
        "protocolVersion": "resp3",
        "channel": "mail:cluster"
    })", offline);
    CHECK_FALSE(settings.connection);
    REQUIRE(settings.cluster);
    CHECK(settings.cluster->urls.size() == 3);
    CHECK(settings.cluster->node.auth_username == "stalwart");
    CHECK(settings.cluster->node.auth_secret->reveal() == "redis-password");
    CHECK(settings.cluster->read_from_replicas);
    CHECK(settings.cluster->node.protocol == hotstate::redis::protocol_version::resp3);
    CHECK(settings.transport.channel == "mail:cluster");
    // the secret is masked when written for a log
    const std::string shown = hotstate::coordinator_config_to_json(settings);
    CHECK(shown.find("redis-password") == std::string::npos);
    CHECK(shown.find("\"@type\": \"RedisCluster\"") != std::string::npos);
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(R"({"@type": "RedisCluster", "urls": []})") ==
          "hotstate: configuration: urls (line 1, column 35): at least one URL is needed");
}

TEST_CASE("the Default coordinator reuses the store's connection and reads streams options", "[config_json]") {
    const auto settings = hotstate::load_coordinator_config<hotstate::transports::redis_streams_options>(
        R"({"coordinator": {"@type": "Default", "nodeId": 3, "stream": "mail:events", "maxLength": 5000,
            "cursorKey": "mail:cursor:3", "onInvalidCursor": "streamStart"}})",
        {.member = "coordinator", .validate_on_load = false});
    CHECK_FALSE(settings.connection);
    CHECK(settings.coordinator.node_id == 3);
    CHECK(settings.transport.stream == "mail:events");
    CHECK(settings.transport.max_length == 5000);
    CHECK(settings.transport.on_invalid_cursor == hotstate::transports::invalid_cursor_start::stream_start);
}

TEST_CASE("bad coordinator objects give the exact error", "[config_json]") {
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(R"({"@type": "Default", "chanel": "x"})") ==
          "hotstate: configuration: chanel (line 1, column 22): unknown field 'chanel'; did you mean 'channel'?");
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(R"({"@type": "Default", "url": "redis://a:1"})") ==
          "hotstate: configuration: url (line 1, column 22): unknown field 'url'");
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(R"({"@type": "Default", "sending": "eager"})") ==
          "hotstate: configuration: sending (line 1, column 33): unknown value 'eager' (expected one of background, callerWhenIdle)");
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(R"({"@type": "Redis", "nodeId": 1})") ==
          "hotstate: configuration: (document) (line 1, column 1): missing required field 'url'");
    CHECK(error_loading<hotstate::transports::redis_streams_options>(R"({"@type": "Kafka"})") ==
          "hotstate: configuration: @type (line 1, column 11): \"Kafka\" is not a coordinator this build reads (expected \"Redis\", \"RedisCluster\" or \"Default\")");
}

TEST_CASE("validate_on_load checks the coordinator's Redis user for the transport's commands too", "[config_json][redis]") {
    hotstate::testing::redis_server server({.acl_users = {"bus on >bus-pass ~* &* +@all -publish"}});
    const std::string message = error_loading<hotstate::transports::redis_pubsub_options>(
        R"({"@type": "Redis", "url": ")" + server.url() + R"(", "authUsername": "bus", "authSecret": "bus-pass"})", {});
    hotstate::testing::redis_server allowed({.acl_users = {"bus on >bus-pass ~* &mail:* +@all"}});
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(
              R"({"@type": "Redis", "url": ")" + allowed.url() +
                  R"(", "authUsername": "bus", "authSecret": "bus-pass", "channel": "mail:cluster"})", {})
              .empty());
    // a channel outside the user's channel patterns is refused
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(
              R"({"@type": "Redis", "url": ")" + allowed.url() +
                  R"(", "authUsername": "bus", "authSecret": "bus-pass", "channel": "other"})", {})
              .find("may not run PUBLISH") != std::string::npos);
    CHECK(message == "hotstate: configuration: validate_on_load found 1 problem:\n  - " + server.address() +
                     ": user 'bus' may not run PUBLISH (This user has no permissions to run the 'publish' command)");
    CHECK(error_loading<hotstate::transports::redis_pubsub_options>(
              R"({"@type": "Redis", "url": ")" + server.url() + R"(", "authUsername": "bus", "authSecret": "nope"})", {})
              .find("the server refused user 'bus'") != std::string::npos);
}

TEST_CASE("validate_on_load: a Default coordinator's transport is checked on the store's servers", "[config_json][redis]") {
    hotstate::testing::redis_server server({.acl_users = {"app on >app-pass ~* &* +@all -xadd"}});
    const std::string document = R"({"inMemoryStore": {"@type": "Redis", "url": ")" + server.url() +
                                 R"(", "authUsername": "app", "authSecret": "app-pass"},
        "coordinator": {"@type": "Default", "stream": "mail:events"}})";
    // the store alone is fine: it sends no XADD
    const auto store = hotstate::load_store_config<hotstate::backends::redis>(document, {.member = "inMemoryStore"});
    // pub/sub on the store's server is allowed too
    CHECK_NOTHROW(hotstate::load_coordinator_config<hotstate::transports::redis_pubsub_options>(
        R"({"@type": "Default", "channel": "mail:cluster"})", {}, store));
    std::string message;
    try {
        (void)hotstate::load_coordinator_config<hotstate::transports::redis_streams_options>(
            document, {.member = "coordinator"}, store);
    } catch (const hotstate::error& failure) {
        message = failure.message();
    }
    CHECK(message == "hotstate: configuration: validate_on_load found 1 problem:\n  - " + server.address() +
                         ": user 'app' may not run XADD (This user has no permissions to run the 'xadd' command)");
    CHECK(message.find("app-pass") == std::string::npos);
}
