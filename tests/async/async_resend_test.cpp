// A lock release the async connection sends again after a lost reply: the first
// send (HDEL of the owner's field) may have run, so the second must be the
// script that still answers 1 for it, as the blocking backend sends. The bytes
// are checked without I/O, then their answer on a real server after the first ran.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <string>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

#include <hotstate/detail/async/operation.hpp>
#include <hotstate/detail/redis/commands.hpp>

#include "support/redis_server.hpp"

namespace {

namespace cmd = hotstate::detail::redis::commands;

struct release_args {
    std::string key, owner;
};

// Writes the request of a release operation twice, as the connection does when the
// first write's reply is lost with the connection.
std::pair<std::string, std::string> first_and_second_send(const std::string& key, const std::string& owner) {
    auto make = [](const release_args& a) { return cmd::lock_release(a.key, a.owner); };
    auto finish = [](bool released, const release_args&) { return released; };
    using state_type = hotstate::detail::async::state<release_args, decltype(make), decltype(finish)>;
    auto handler = [](auto&&...) {};
    boost::asio::io_context io;
    auto* op = new hotstate::detail::async::operation<bool, state_type, decltype(handler)>(
        state_type{release_args{key, owner}, make, finish, "release", "locks"}, handler, io.get_executor());
    std::string first, second;
    op->write_request(first);
    op->write_request(second);
    delete op;
    return {first, second};
}

long long answer(redisContext* c, const std::string& request) {
    REQUIRE(redisAppendFormattedCommand(c, request.data(), request.size()) == REDIS_OK);
    void* raw = nullptr;
    REQUIRE(redisGetReply(c, &raw) == REDIS_OK);
    auto* reply = static_cast<redisReply*>(raw);
    REQUIRE(reply->type == REDIS_REPLY_INTEGER);
    const long long value = reply->integer;
    freeReplyObject(reply);
    return value;
}

}  // namespace

TEST_CASE("async: a release sent again is the script that finds its first send done", "[async][at-most-once]") {
    const auto [first, second] = first_and_second_send("lock:k", "owner-a");
    std::string hdel, again;
    cmd::lock_release("lock:k", "owner-a").write(hdel);
    cmd::lock_release_again("lock:k", "owner-a").write_fallback(again);
    CHECK(first == hdel);
    CHECK(second == again);
    CHECK(second.find("EVAL") != std::string::npos);
}

TEST_CASE("async: the second send of a release answers 1 on a server where the first ran", "[async][at-most-once]") {
    hotstate::testing::redis_server server;
    redisContext* c = redisConnect("127.0.0.1", server.port());
    REQUIRE(c != nullptr);
    REQUIRE(c->err == 0);
    // a lock held by owner-a, in the layout lock_acquire writes: last fence, last holder, the holder's field
    std::string acquire;
    cmd::lock_acquire("lock:k", "owner-a", 30000, 0).write_fallback(acquire);
    REQUIRE(redisAppendFormattedCommand(c, acquire.data(), acquire.size()) == REDIS_OK);
    void* raw = nullptr;
    REQUIRE(redisGetReply(c, &raw) == REDIS_OK);
    REQUIRE(static_cast<redisReply*>(raw)->type != REDIS_REPLY_ERROR);  // the fence
    REQUIRE(static_cast<redisReply*>(raw)->type != REDIS_REPLY_NIL);
    freeReplyObject(raw);

    const auto [first, second] = first_and_second_send("lock:k", "owner-a");
    CHECK(answer(c, first) == 1);   // the first send ran; say its reply was lost
    CHECK(answer(c, second) == 1);  // the second still reports the release
    const auto [first_b, second_b] = first_and_second_send("lock:k", "owner-b");
    CHECK(answer(c, second_b) == 0);  // not owner-b's lock, never was
    redisFree(c);
}
