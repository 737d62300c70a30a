// README.md's "Deploying" JSON example loads as the README says it does.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/config/coordinator.hpp>
#include <hotstate/config/queue.hpp>
#include <hotstate/json_config.hpp>

using namespace std::chrono_literals;

TEST_CASE("README's deployment example loads into a cluster config", "[config_json]") {
    std::ifstream in(HOTSTATE_README);
    REQUIRE(in);
    const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto marker = readme.find("<!-- deploying-example -->\n```json\n");
    REQUIRE(marker != std::string::npos);
    const auto begin = readme.find('\n', readme.find("```json", marker)) + 1;
    const auto end = readme.find("\n```", begin);
    const std::string document = readme.substr(begin, end - begin);

    ::setenv("REDIS_PASSWORD", "from-the-environment", 1);
    const auto settings = hotstate::load_store_config<hotstate::backends::redis_cluster>(
        document, {.member = "inMemoryStore", .validate_on_load = false, .check_files = false});
    CHECK(settings.urls.size() == 3);
    CHECK(settings.node.auth_username == "mailserver");
    CHECK(settings.node.auth_secret->reveal() == "from-the-environment");
    CHECK(settings.node.timeout == 2s);
    CHECK(settings.node.pool_max_connections == 16);
    CHECK(settings.node.pool_timeout_wait == 5s);
    CHECK(settings.node.tls.enabled);
    CHECK(settings.node.tls.server_name == "redis.internal");
    CHECK(settings.retry.max_retry_wait == 2s);
    CHECK(settings.locks.fence_retention == 10min);
    CHECK_FALSE(settings.read_from_replicas);
    // "complete": the example states every field the cluster config has
    std::vector<std::string> names;
    hotstate::detail::config::reader::collect_names<hotstate::redis::cluster_config>(names);
    for (const auto& name : names) {
        INFO(name);
        CHECK(document.find("\"" + name + "\"") != std::string::npos);
    }
    // and every queue option, beside a coordinator on the store's servers
    const auto queues = hotstate::load_queue_options(document, {.member = "queues", .validate_on_load = false});
    CHECK(queues.wait_replicas == 1);
    CHECK(queues.backoff_max == 10min);
    names.clear();
    hotstate::detail::config::reader::collect_names<hotstate::queue_options>(names);
    for (const auto& name : names) {
        INFO(name);
        CHECK(document.find("\"" + name + "\"") != std::string::npos);
    }
    const auto coordinator = hotstate::load_coordinator_config<hotstate::transports::redis_pubsub_options>(
        document, {.member = "coordinator", .validate_on_load = false});
    CHECK_FALSE(coordinator.connection);
    CHECK(coordinator.transport.channel == "mail:cluster");
    CHECK(coordinator.coordinator.node_id == 1);
}
