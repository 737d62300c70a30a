// Good and bad JSON documents, each with the exact config or error it gives.
// No server: validate_on_load is off here (validate_on_load_test.cpp has it on).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/backends/sqlite.hpp>
#include <hotstate/json_config.hpp>

#include "support/redis_server.hpp"

using namespace std::chrono_literals;
namespace backends = hotstate::backends;

namespace {

const hotstate::json_load_options offline{.validate_on_load = false};

/// The message of the configuration error `load` throws ("" when it does not throw).
template <class Load>
std::string error_of(Load&& load) {
    try {
        load();
    } catch (const hotstate::error& failure) {
        CHECK(failure.kind() == hotstate::errc::configuration);
        return failure.message();
    }
    return "";
}

template <class Backend>
std::string error_loading(const std::string& text, hotstate::json_load_options options = offline) {
    return error_of([&] { (void)hotstate::load_store_config<Backend>(text, options); });
}

}  // namespace

TEST_CASE("Stalwart's Redis object loads into redis::config", "[config_json]") {
    const auto settings = hotstate::load_store_config<backends::redis>(R"({
        "@type": "Redis",
        "url": "redis://redis.example.com:6379",
        "timeout": "10s",
        "poolMaxConnections": 10
    })", offline);
    CHECK(settings.url == "redis://redis.example.com:6379");
    CHECK(settings.node.timeout == 10s);
    CHECK(settings.node.pool_max_connections == 10);
    CHECK(settings.node.pool_timeout_wait == 30s);  // not stated: the default
}

TEST_CASE("Stalwart's RedisCluster object loads into redis::cluster_config", "[config_json]") {
    const auto settings = hotstate::load_store_config<backends::redis_cluster>(R"({
        "@type": "RedisCluster",
        "urls": ["redis://redis-1.example.com:6379", "redis://redis-2.example.com:6379",
                 "redis://redis-3.example.com:6379"],
        "timeout": "10s",
        "authUsername": "stalwart",
        "authSecret": {"@type": "Value", "secret": "redis-password"},
        "maxRetries": 3, "minRetryWait": "50ms", "maxRetryWait": "1s",
        "readFromReplicas": true,
        "protocolVersion": "resp2",
        "tls": {"enabled": true, "caFile": "/etc/ssl/redis-ca.pem", "serverName": "redis.internal"}
    })", {.validate_on_load = false, .check_files = false});
    CHECK(settings.urls.size() == 3);
    CHECK(settings.urls[2] == "redis://redis-3.example.com:6379");
    CHECK(settings.node.auth_username == "stalwart");
    REQUIRE(settings.node.auth_secret);
    CHECK(settings.node.auth_secret->reveal() == "redis-password");
    CHECK(settings.retry.max_retries == 3);
    CHECK(settings.retry.min_retry_wait == 50ms);
    CHECK(settings.retry.max_retry_wait == 1s);
    CHECK(settings.read_from_replicas);
    CHECK(settings.node.protocol == hotstate::redis::protocol_version::resp2);
    CHECK(settings.node.tls.enabled);
    CHECK(settings.node.tls.ca_file == "/etc/ssl/redis-ca.pem");
    CHECK(settings.node.tls.server_name == "redis.internal");
    CHECK(settings.node.tls.verify_peer);
}

TEST_CASE("Sentinel, Default (SQLite) and Sharded objects load", "[config_json]") {
    const auto sentinel = hotstate::load_store_config<backends::redis_sentinel>(R"({
        "@type": "Sentinel", "serviceName": "mail", "sentinelUrls": ["redis://10.0.0.1:26379"],
        "sentinelSecret": "s", "db": 2, "timeout": "2s"
    })", offline);
    CHECK(sentinel.service_name == "mail");
    CHECK(sentinel.db == 2);
    CHECK(sentinel.node.timeout == 2s);

    const auto sqlite = hotstate::load_store_config<backends::sqlite>(
        R"({"@type": "Default", "path": "/var/lib/hotstate.db", "purgeInterval": "1h", "purgeBatch": 500})", offline);
    CHECK(sqlite.path == "/var/lib/hotstate.db");
    CHECK(sqlite.purge_interval == 1h);
    CHECK(sqlite.purge_batch == 500);

    using store = backends::sharded<backends::redis, backends::redis_cluster>;
    const auto shards = hotstate::load_store_config<store>(R"({"@type": "Sharded", "stores": [
        {"@type": "Redis", "url": "redis://a:6379"},
        {"@type": "RedisCluster", "urls": ["redis://c:7000"]},
        {"@type": "Redis", "url": "redis://b:6379"}
    ]})", offline);
    REQUIRE(std::get<0>(shards).size() == 2);
    CHECK(std::get<0>(shards)[1].url == "redis://b:6379");
    REQUIRE(std::get<1>(shards).size() == 1);
    CHECK(std::get<1>(shards)[0].urls[0] == "redis://c:7000");
}

TEST_CASE("secrets come from a literal, a Value, an environment variable or a file", "[config_json]") {
    ::setenv("HOTSTATE_TEST_REDIS_SECRET", "from-env", 1);
    hotstate::testing::temp_directory dir;
    const auto file = dir.path() / "secret";
    std::ofstream(file) << "from-file\n";
    const auto load = [](const std::string& secret) {
        return hotstate::load_store_config<backends::redis>(
                    R"({"@type": "Redis", "url": "redis://h:1", "authSecret": )" + secret + "}", offline)
                    .node.auth_secret->reveal();
    };
    CHECK(load(R"("literal")") == "literal");
    CHECK(load(R"({"@type": "Value", "secret": "value"})") == "value");
    CHECK(load(R"({"@type": "EnvironmentVariable", "variable": "HOTSTATE_TEST_REDIS_SECRET"})") == "from-env");
    CHECK(load(R"({"@type": "File", "path": ")" + file.string() + R"("})") == "from-file");
}

TEST_CASE("the store object may sit under a member of a larger document", "[config_json]") {
    const auto settings = hotstate::load_store_config<backends::redis>(
        R"({"coordinator": {}, "inMemoryStore": {"@type": "Redis", "url": "redis://x:1"}})",
        {.member = "inMemoryStore", .validate_on_load = false});
    CHECK(settings.url == "redis://x:1");
}

// Each row: a document and the exact message. Line and column point at the
// offending value (at the name, for an unknown field).
TEST_CASE("bad documents give the exact error, with path, line and column", "[config_json]") {
    struct row {
        const char* document;
        const char* message;
    };
    const row rows[] = {
        {R"({"@type": "RedisCluster", "urls": ["redis://a:1"]})",
         R"(hotstate: configuration: @type (line 1, column 11): "RedisCluster" does not match this store's backend, which reads "Redis" (the backend is chosen at compile time))"},
        {R"({"url": "redis://a:1"})",
         "hotstate: configuration: (document) (line 1, column 1): missing required field '@type' (this store's backend reads \"Redis\")"},
        {R"({"@type": "Redis"})", "hotstate: configuration: (document) (line 1, column 1): missing required field 'url'"},
        {"{\"@type\": \"Redis\",\n \"url\": \"redis://a:1\",\n \"poolMaxConection\": 4}",
         "hotstate: configuration: poolMaxConection (line 3, column 2): unknown field 'poolMaxConection'; did you mean 'poolMaxConnections'?"},
        {R"({"@type": "Redis", "url": "redis://a:1", "colour": 4})",
         "hotstate: configuration: colour (line 1, column 42): unknown field 'colour'"},
        {R"({"@type": "Redis", "url": 6379})",
         "hotstate: configuration: url (line 1, column 27): expected a string, got a number"},
        {R"({"@type": "Redis", "url": "redis://a:1", "timeout": "10 s"})",
         "hotstate: configuration: timeout (line 1, column 53): bad duration '10 s': no space is allowed between the number and the unit"},
        {R"({"@type": "Redis", "url": "redis://a:1", "timeout": "-1s"})",
         "hotstate: configuration: timeout (line 1, column 53): bad duration '-1s': must not be negative"},
        {R"({"@type": "Redis", "url": "redis://a:1", "timeout": "10x"})",
         "hotstate: configuration: timeout (line 1, column 53): bad duration '10x': unknown unit (expected ms, s, m, h or d)"},
        {R"({"@type": "Redis", "url": "redis://a:1", "timeout": "10"})",
         "hotstate: configuration: timeout (line 1, column 53): bad duration '10': missing unit (ms, s, m, h, d), e.g. \"10s\""},
        {R"({"@type": "Redis", "url": "redis://a:1", "timeout": 10})",
         "hotstate: configuration: timeout (line 1, column 53): expected a duration such as \"10s\" or \"250ms\", got a number"},
        {R"({"@type": "Redis", "url": "redis://a:1", "protocolVersion": "resp4"})",
         "hotstate: configuration: protocolVersion (line 1, column 61): unknown value 'resp4' (expected one of resp2, resp3)"},
        {R"({"@type": "Redis", "url": "redis://a:1", "tls": {"enabled": "yes"}})",
         "hotstate: configuration: tls.enabled (line 1, column 61): expected true or false, got a string"},
        {R"({"@type": "Redis", "url": "redis://a:1", "tls": {"caFil": "x"}})",
         "hotstate: configuration: tls.caFil (line 1, column 50): unknown field 'caFil'; did you mean 'caFile'?"},
        {R"({"@type": "Redis", "url": "redis://a:99999"})",
         "hotstate: configuration: url (line 1, column 27): URL 'redis://a:99999': port '99999' is not a number in 1..65535"},
        {R"({"@type": "Redis", "url": "redis://a:1", "minRetryWait": "1s"})",
         "hotstate: configuration: minRetryWait (line 1, column 42): unknown field 'minRetryWait'"},
        {R"({"@type": "Redis", "url": "redis://a:1",)",
         "hotstate: configuration: invalid JSON at line 1, column 41: syntax error while parsing object key - unexpected end of input; expected string literal"},
        {R"({"@type": "Redis", "url": "redis://a:1", "authSecret": {"@type": "Vault", "secret": "x"}})",
         "hotstate: configuration: authSecret.@type (line 1, column 66): unknown secret type 'Vault' (expected Value, EnvironmentVariable or File)"},
        {R"({"@type": "Redis", "url": "redis://a:1", "authSecret": {"@type": "EnvironmentVariable", "variable": "HOTSTATE_NO_SUCH_VARIABLE"}})",
         "hotstate: configuration: authSecret.variable (line 1, column 101): environment variable 'HOTSTATE_NO_SUCH_VARIABLE' is not set"},
    };
    for (const auto& [document, message] : rows) {
        INFO(document);
        CHECK(error_loading<backends::redis>(document) == message);
    }
}

TEST_CASE("errors in cluster, sentinel, sharded and sqlite documents name the JSON path", "[config_json]") {
    const std::string cluster = R"({"inMemoryStore": {
    "@type": "RedisCluster",
    "urls": ["redis://a:7000", "redis://b:7000",
             "redis://c:70000"]
}})";
    CHECK(error_loading<backends::redis_cluster>(cluster, {.member = "inMemoryStore", .validate_on_load = false}) ==
          "hotstate: configuration: inMemoryStore.urls[2] (line 4, column 14): URL 'redis://c:70000': port '70000' is "
          "not a number in 1..65535");
    CHECK(error_loading<backends::redis_cluster>(R"({"@type": "RedisCluster", "urls": ["redis://a:1"], "db": 4294967296})") ==
          "hotstate: configuration: db (line 1, column 52): unknown field 'db'");
    CHECK(error_loading<backends::redis_sentinel>(R"({"@type": "Sentinel", "serviceName": "m", "sentinelUrls": [], "db": 4294967296})") ==
          "hotstate: configuration: db (line 1, column 69): must be a whole number in 0..4294967295, got 4294967296");
    CHECK(error_loading<backends::redis_sentinel>(R"({"@type": "Sentinel", "sentinelUrls": ["redis://a:1"]})") ==
          "hotstate: configuration: (document) (line 1, column 1): missing required field 'serviceName'");
    CHECK(error_loading<backends::redis_cluster>(R"({"@type": "RedisCluster", "urls": ["redis://a:1"], "maxRetryWait": "1ms"})") ==
          "hotstate: configuration: maxRetryWait (line 1, column 68): must not be shorter than minRetryWait");
    CHECK(error_loading<backends::sqlite>(R"({"@type": "Default", "purgeInterval": "5m"})") ==
          "hotstate: configuration: (document) (line 1, column 1): missing required field 'path'");
    using store = backends::sharded<backends::redis, backends::redis_cluster>;
    CHECK(error_loading<store>(R"({"@type": "Sharded", "stores": [{"@type": "Redis", "url": "redis://a:1"}, {"@type": "Sentinel"}]})") ==
          R"(hotstate: configuration: stores[1].@type (line 1, column 85): "Sentinel" is not a shard type of this store, which has "Redis", "RedisCluster" (the backend is chosen at compile time))");
    CHECK(error_loading<store>(R"({"@type": "Sharded", "store": []})") ==
          "hotstate: configuration: store (line 1, column 22): unknown field 'store'; did you mean 'stores'?");
    CHECK(error_loading<store>(R"({"@type": "Sharded", "stores": [{"@type": "Redis", "url": 1}]})") ==
          "hotstate: configuration: stores[0].url (line 1, column 59): expected a string, got a number");
}

TEST_CASE("a key stated twice in an object is an error naming both places", "[config_json]") {
    CHECK(error_loading<backends::redis>("{\"@type\": \"Redis\", \"url\": \"redis://a:1\", \"timeout\": \"2s\",\n"
                                         "   \"timeout\": \"1h\"}") ==
          "hotstate: configuration: timeout (line 2, column 4): duplicate key 'timeout' (first at line 1, column 42)");
    // anywhere in the document, through arrays and nested objects, however the name is escaped
    CHECK(error_loading<backends::redis_cluster>(
              R"({"@type": "RedisCluster", "urls": ["redis://a:1"], "tls": {"caFile": "a", "caFile": "b"}})") ==
          "hotstate: configuration: tls.caFile (line 1, column 75): duplicate key 'caFile' (first at line 1, column 60)");
    using store = backends::sharded<backends::redis>;
    CHECK(error_loading<store>(R"({"@type": "Sharded", "stores": [{"@type": "Redis", "url": "redis://a:1", "url": "redis://b:1"}]})") ==
          "hotstate: configuration: stores[0].url (line 1, column 74): duplicate key 'url' (first at line 1, column 52)");
    // a part the loader does not read is no less ambiguous
    CHECK(error_loading<backends::redis>(R"({"inMemoryStore": {"@type": "Redis", "url": "redis://a:1"}, "queues": {"lease": "1s", "lease": "2s"}})",
                                         {.member = "inMemoryStore", .validate_on_load = false}) ==
          "hotstate: configuration: queues.lease (line 1, column 87): duplicate key 'lease' (first at line 1, column 72)");
    // the same name in two objects is no duplicate
    CHECK(error_loading<backends::redis>(R"({"@type": "Redis", "url": "redis://a:1", "tls": {"enabled": false}, "authSecret": {"@type": "Value", "secret": "x"}})") == "");
}

TEST_CASE("durations longer than the stated maximum of 365 days are refused", "[config_json]") {
    const auto timeout = [](const std::string& value) {
        return error_loading<backends::redis>(R"({"@type": "Redis", "url": "redis://a:1", "timeout": ")" + value + R"("})");
    };
    CHECK(timeout("365d") == "");
    CHECK(timeout("8760h") == "");
    CHECK(timeout("366d") == "hotstate: configuration: timeout (line 1, column 53): bad duration '366d': longer than the maximum, 365d");
    CHECK(timeout("8761h") == "hotstate: configuration: timeout (line 1, column 53): bad duration '8761h': longer than the maximum, 365d");
    // once a deadline in the past (a healthy server failed at once), once a wait for ever
    CHECK(timeout("106752d") == "hotstate: configuration: timeout (line 1, column 53): bad duration '106752d': longer than the maximum, 365d");
    CHECK(timeout("100000000d") == "hotstate: configuration: timeout (line 1, column 53): bad duration '100000000d': longer than the maximum, 365d");
    CHECK(timeout("99999999999999999999999ms") == "hotstate: configuration: timeout (line 1, column 53): bad duration '99999999999999999999999ms': longer than the maximum, 365d");
}

TEST_CASE("poolMaxConnections: one stated range, 1..10000, whatever is wrong", "[config_json]") {
    const auto pool = [](const std::string& value) {
        return error_loading<backends::redis>(R"({"@type": "Redis", "url": "redis://a:1", "poolMaxConnections": )" + value + "}");
    };
    const std::string at = "hotstate: configuration: poolMaxConnections (line 1, column 64): ";
    CHECK(pool("1e9") == at + "must be a whole number in 1..10000, got 1000000000.0");
    CHECK(pool("-3") == at + "must be a whole number in 1..10000, got -3");
    CHECK(pool("0") == at + "must be a whole number in 1..10000, got 0");
    CHECK(pool("1000000000") == at + "must be a whole number in 1..10000, got 1000000000");
    CHECK(pool("2.5") == at + "must be a whole number in 1..10000, got 2.5");
    CHECK(pool("\"8\"") == at + "must be a whole number in 1..10000, got a string");
    CHECK(pool("10000") == "");
    CHECK(pool("1e3") == "");  // a whole number, however JSON spells it
    CHECK(hotstate::load_store_config<backends::redis>(
              R"({"@type": "Redis", "url": "redis://a:1", "poolMaxConnections": 1e3})", offline)
              .node.pool_max_connections == 1000);
    // the C++ configuration is held to the same range
    hotstate::redis::config settings{.url = "redis://a:1"};
    settings.node.pool_max_connections = 1000000000;
    CHECK(error_of([&] { (void)hotstate::redis::resolve(settings); }) ==
          "hotstate: redis configuration: pool_max_connections must be in 1..10000");
}

TEST_CASE("files a document names: the JSON path and the system's reason", "[config_json]") {
    hotstate::testing::temp_directory dir;
    const std::string missing = (dir.path() / "missing.pem").string();
    CHECK(error_loading<backends::redis>(R"({"@type": "Redis", "url": "rediss://a:1", "tls": {"caFile": ")" + missing + R"("}})") ==
          "hotstate: configuration: tls.caFile (line 1, column 61): cannot read '" + missing + "': No such file or directory");
    CHECK(error_loading<backends::redis>(R"({"@type": "Redis", "url": "rediss://a:1", "tls": {"caPath": ")" + missing + R"("}})") ==
          "hotstate: configuration: tls.caPath (line 1, column 61): cannot read '" + missing + "': No such file or directory");
    CHECK(error_loading<backends::redis>(R"({"@type": "Redis", "url": "rediss://a:1", "tls": {"keyFile": ")" + dir.path().string() + R"("}})") ==
          "hotstate: configuration: tls.keyFile (line 1, column 62): '" + dir.path().string() + "' is not a file");
    CHECK(error_loading<backends::redis>(R"({"@type": "Redis", "url": "redis://a:1", "authSecret": {"@type": "File", "path": ")" + missing + R"("}})") ==
          "hotstate: configuration: authSecret.path (line 1, column 82): cannot read the secret file '" + missing +
              "': No such file or directory");
    // a document written for another machine loads without its files when asked
    CHECK(hotstate::load_store_config<backends::redis>(
              R"({"@type": "Redis", "url": "rediss://a:1", "tls": {"caFile": ")" + missing + R"("}})",
              {.validate_on_load = false, .check_files = false})
              .node.tls.ca_file == missing);
}

TEST_CASE("a document is at most 1 MiB", "[config_json]") {
    std::string big = R"({"@type": "Redis", "url": "redis://a:1", "pad": ")";
    big.append(std::size_t{1} << 20, 'x');
    big += "\"}";
    CHECK(error_loading<backends::redis>(big) ==
          "hotstate: configuration: the document is " + std::to_string(big.size()) +
              " bytes; a configuration may have at most 1048576 (1 MiB)");
    hotstate::testing::temp_directory dir;
    const auto file = dir.path() / "big.json";
    std::ofstream(file) << big;
    CHECK(error_of([&] { (void)hotstate::load_store_config_file<backends::redis>(file, offline); }) ==
          "hotstate: configuration: " + file.string() + ": the file is larger than the 1048576 bytes (1 MiB) a configuration may have");
    CHECK(error_of([&] { (void)hotstate::load_store_config_file<backends::redis>(dir.path() / "none.json", offline); }) ==
          "hotstate: configuration: cannot read '" + (dir.path() / "none.json").string() + "': No such file or directory");
}

TEST_CASE("no message shows a secret, whatever is wrong around it", "[config_json]") {
    const std::string secret = "hunter2-SECRET";
    const std::string documents[] = {
        R"({"@type": "Redis", "url": "redis://user:)" + secret + R"(@a:99999"})",
        R"({"@type": "Redis", "url": "redis://user:)" + secret + R"(@a:1", "authSecret": ")" + secret + R"(",)",
        R"({"@type": "Redis", "url": "redis://a:1", "authSecret": ")" + secret,
        R"({"@type": "Redis", "url": "redis://a:1", "authSecret": {"@type": "Value", "secret": ")" + secret + R"(", "x": 1}})",
        R"({"@type": "Redis", "url": "redis://a:1", "authSecret": {"@type": "Value", "secret": ")" + secret + R"(", "secrte": 1}})",
        R"({"@type": "Redis", "url": "redis://a:1", "authSecret": ")" + secret + R"(", "timeout": "1 s"})",
        R"({"@type": "Redis", "url": "redis://a:1", "authSecret": ")" + secret + R"(\u0000"})",
        R"({"@type": "Redis", "url": "redis://a:1", ")" + secret + R"(": 1})",  // not a secret field: named
        R"({"@type": "RedisCluster", "urls": ["redis://a:1"], "authSecret": ")" + secret + R"("})",
        R"({"@type": "Redis", "url": "redis://a:1", "authUsername": "u", "authSecret": ")" + secret + R"(", "timeout": "x"})",
    };
    for (std::size_t i = 0; i < std::size(documents); ++i) {
        INFO("document " << i);
        const std::string message = error_loading<backends::redis>(documents[i]);
        CHECK_FALSE(message.empty());
        if (i == 7) continue;  // the unknown member name is the user's typo, shown on purpose
        CHECK(message.find(secret) == std::string::npos);
        CHECK(message.find("hunter2") == std::string::npos);
    }
    // a password that fails validate_on_load is not in that message either
    hotstate::testing::redis_server server({.requirepass = "right-password"});
    const std::string message = error_loading<backends::redis>(
        R"({"@type": "Redis", "url": ")" + server.url() + R"(", "authSecret": ")" + secret + R"("})", {});
    CHECK(message.find("AUTH") != std::string::npos);
    CHECK(message.find("hunter2") == std::string::npos);
}
