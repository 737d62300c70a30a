// The test fixture itself: a server on a free port, stoppable, restartable, with a password.
#include <catch2/catch.hpp>

#include "support/redis_server.hpp"

using hotstate::testing::redis_server;

TEST_CASE("redis_server starts on a free port, answers, restarts on the same port and cleans up", "[redis][fixture]") {
    std::filesystem::path dir;
    {
        redis_server server;
        dir = server.dir();
        CHECK(server.port() > 0);
        CHECK(server.url() == "redis://127.0.0.1:" + std::to_string(server.port()));
        CHECK(std::string_view(server.command({"PING"})->str) == "PONG");
        server.command({"SET", "k", std::string_view("v\0x", 3)});
        auto reply = server.command({"GET", "k"});
        CHECK(std::string_view(reply->str, reply->len) == std::string_view("v\0x", 3));
        auto save = server.command({"CONFIG", "GET", "save"});
        REQUIRE(save->elements == 2);
        CHECK(std::string_view(save->element[1]->str, save->element[1]->len).empty());
        const auto port = server.port();
        server.stop();
        CHECK_FALSE(server.running());
        server.start();
        CHECK(server.port() == port);
        CHECK(server.command({"EXISTS", "k"})->integer == 0);  // no persistence
    }
    CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("redis_server with a password and an ACL user", "[redis][fixture]") {
    redis_server server({.requirepass = "s3cret", .acl_users = {"alice on >wonderland ~* &* +@all"}});
    CHECK(server.command({"PING"})->type == REDIS_REPLY_STATUS);
    hotstate::testing::raw_client alice(server.host(), server.port(), "wonderland", "alice");
    CHECK(std::string_view(alice.command({"ACL", "WHOAMI"})->str) == "alice");
    hotstate::testing::raw_client anonymous(server.host(), server.port());
    CHECK(anonymous.command({"GET", "x"})->type == REDIS_REPLY_ERROR);
}
