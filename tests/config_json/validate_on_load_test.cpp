// validate_on_load against servers the test starts: credentials and ACL are
// checked when the configuration loads, and every problem is reported at once.
#include <catch2/catch.hpp>

#include <string>
#include <tuple>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/json_config.hpp>
#include <hotstate/store.hpp>

#include "support/redis_sentinel.hpp"
#include "support/redis_server.hpp"

namespace backends = hotstate::backends;
using hotstate::testing::redis_server;

namespace {

std::string redis_object(const redis_server& server, const std::string& user, const std::string& password) {
    return R"({"@type": "Redis", "url": ")" + server.url() + R"(", "authUsername": ")" + user +
           R"(", "authSecret": ")" + password + R"(", "timeout": "2s"})";
}

}  // namespace

TEST_CASE("validate_on_load: a user with every command hotstate sends loads", "[config_json][redis]") {
    redis_server server({.acl_users = {"app on >app-pass ~* &* +@all -@admin"}});
    const auto settings = hotstate::load_store_config<backends::redis>(redis_object(server, "app", "app-pass"));
    CHECK(settings.node.auth_username == "app");
}

TEST_CASE("validate_on_load reports a wrong password, a missing permission and a dead server together",
          "[config_json][redis]") {
    redis_server first({.acl_users = {"app on >app-pass ~* &* +@all -evalsha"}});
    redis_server second({.acl_users = {"app on >app-pass ~* &* +@all"}});
    const std::uint16_t dead_port = hotstate::testing::free_port();
    using store = backends::sharded<backends::redis>;
    const std::string document = R"({"@type": "Sharded", "stores": [)" + redis_object(first, "app", "app-pass") + ", " +
                                 redis_object(second, "app", "wrong-pass") +
                                 R"(, {"@type": "Redis", "url": "redis://127.0.0.1:)" + std::to_string(dead_port) +
                                 R"(", "timeout": "1s"}]})";
    std::string message;
    try {
        (void)hotstate::load_store_config<store>(document);
    } catch (const hotstate::error& failure) {
        CHECK(failure.kind() == hotstate::errc::configuration);
        message = failure.message();
    }
    INFO(message);
    CHECK(message.starts_with("hotstate: configuration: validate_on_load found 3 problems:\n  - "));
    // the first server: logged in, but EVALSHA is denied (ACL DRYRUN says so: this user may run ACL)
    CHECK(message.find(first.address() + ": user 'app' may not run EVALSHA (This user has no permissions to run the 'evalsha' command)") != std::string::npos);
    // the second: the password is refused, and not shown
    CHECK(message.find(second.address()) != std::string::npos);
    CHECK(message.find("the server refused user 'app' with the configured password") != std::string::npos);
    CHECK(message.find("wrong-pass") == std::string::npos);
    // the third: nobody listens
    CHECK(message.find("127.0.0.1:" + std::to_string(dead_port)) != std::string::npos);
}

TEST_CASE("validate_on_load: a user who may not run ACL is checked by a discarded MULTI", "[config_json][redis]") {
    redis_server server({.acl_users = {"app on >app-pass ~* &* +@all -@admin -evalsha -script"}});
    std::string message;
    try {
        (void)hotstate::load_store_config<backends::redis>(redis_object(server, "app", "app-pass"));
    } catch (const hotstate::error& failure) {
        message = failure.message();
    }
    INFO(message);
    CHECK(message.starts_with("hotstate: configuration: validate_on_load found 2 problems:"));
    CHECK(message.find("may not run EVALSHA (NOPERM") != std::string::npos);
    CHECK(message.find("may not run SCRIPT (NOPERM") != std::string::npos);
    // nothing ran: the probe key was never written
    CHECK(server.command({"DBSIZE"})->integer == 0);
}

TEST_CASE("validate_on_load: a user who may not even ask who it is is named as configured", "[config_json][redis]") {
    redis_server server({.acl_users = {"app3 on >app3-pass ~* &* +@all -acl -evalsha"}});
    std::string message;
    try {
        (void)hotstate::load_store_config<backends::redis>(redis_object(server, "app3", "app3-pass"));
    } catch (const hotstate::error& failure) {
        message = failure.message();
    }
    INFO(message);
    CHECK(message.find(server.address() + ": user 'app3' may not run EVALSHA (NOPERM") != std::string::npos);
    CHECK(message.find("'default'") == std::string::npos);
}

TEST_CASE("validate_on_load: with queues configured, their commands are checked too", "[config_json][redis]") {
    redis_server server({.acl_users = {"app on >app-pass ~* &* +@all -blpop -wait"}});
    const auto loading = [&](std::optional<hotstate::queue_options> queues) {
        try {
            (void)hotstate::load_store_config<backends::redis>(redis_object(server, "app", "app-pass"),
                                                               {.queues = std::move(queues)});
        } catch (const hotstate::error& failure) {
            return failure.message();
        }
        return std::string();
    };
    // the store alone sends neither BLPOP nor WAIT
    CHECK(loading(std::nullopt).empty());
    CHECK(loading(hotstate::queue_options{}) ==
          "hotstate: configuration: validate_on_load found 1 problem:\n  - " + server.address() +
              ": user 'app' may not run BLPOP (This user has no permissions to run the 'blpop' command)");
    // WAIT only when the queues wait for replicas
    const std::string waiting = loading(hotstate::queue_options{.wait_replicas = 1});
    CHECK(waiting.starts_with("hotstate: configuration: validate_on_load found 2 problems:"));
    CHECK(waiting.find("may not run WAIT (This user has no permissions to run the 'wait' command)") != std::string::npos);
}

TEST_CASE("validate_on_load: the store's transactions (MULTI/EXEC) are checked, and the MULTI probe never runs EXEC",
          "[config_json][redis]") {
    redis_server dry({.acl_users = {"app on >app-pass ~* &* +@all -exec"}});
    std::string message;
    try {
        (void)hotstate::load_store_config<backends::redis>(redis_object(dry, "app", "app-pass"));
    } catch (const hotstate::error& failure) {
        message = failure.message();
    }
    CHECK(message == "hotstate: configuration: validate_on_load found 1 problem:\n  - " + dry.address() +
                         ": user 'app' may not run EXEC (This user has no permissions to run the 'exec' command)");
    // without ACL DRYRUN the commands are queued and discarded: nothing runs, EXEC included
    redis_server queued({.acl_users = {"app on >app-pass ~* &* +@all -@admin"}});
    CHECK_NOTHROW(hotstate::load_store_config<backends::redis>(redis_object(queued, "app", "app-pass")));
    CHECK(queued.command({"DBSIZE"})->integer == 0);
}

TEST_CASE("validate_on_load: a sentinel user who may not ask for the master gets the sentinel's reason",
          "[config_json][sentinel]") {
    hotstate::testing::redis_sentinel setup;
    auto& sentinel = *setup.sentinels().front();
    REQUIRE(sentinel.command({"ACL", "SETUSER", "watcher", "on", ">watch-pass", "+ping", "+auth"})->type == REDIS_REPLY_STATUS);
    hotstate::redis::sentinel_config settings{.service_name = setup.service_name(), .sentinel_urls = {sentinel.url()}};
    settings.sentinel_username = "watcher";
    settings.sentinel_secret = hotstate::secret("watch-pass");
    std::string message;
    try {
        (void)hotstate::load_store_config<backends::redis_sentinel>(
            hotstate::config_to_json<backends::redis_sentinel>(settings, hotstate::json_secrets::revealed));
    } catch (const hotstate::error& failure) {
        message = failure.message();
    }
    INFO(message);
    CHECK(message.starts_with("hotstate: configuration: validate_on_load found 1 problem:\n  - " + sentinel.address() +
                              ": SENTINEL get-master-addr-by-name: NOPERM"));
    CHECK(message.find("watch-pass") == std::string::npos);
}

TEST_CASE("a store is built from a loaded Sharded configuration as README shows (std::apply)", "[config_json][redis]") {
    redis_server first;
    redis_server second;
    using shards = backends::sharded<backends::redis>;
    struct sessions : hotstate::category<90, "sessions", std::string> {};
    using app_store = hotstate::store<shards, sessions>;
    const auto settings = hotstate::load_store_config<shards>(
        R"({"inMemoryStore": {"@type": "Sharded", "stores": [{"@type": "Redis", "url": ")" + first.url() +
            R"("}, {"@type": "Redis", "url": ")" + second.url() + R"("}]}})",
        {.member = "inMemoryStore"});
    app_store store = std::apply([](const auto&... lists) { return app_store(lists...); }, settings);
    for (int i = 0; i < 40; ++i) store.set<sessions>("user-" + std::to_string(i), "s" + std::to_string(i));
    CHECK(store.get<sessions>("user-7") == "s7");
    // the keys are spread over both servers
    CHECK(first.command({"DBSIZE"})->integer + second.command({"DBSIZE"})->integer == 40);
    CHECK(first.command({"DBSIZE"})->integer > 0);
    CHECK(second.command({"DBSIZE"})->integer > 0);
}
