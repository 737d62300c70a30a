// A lock release the async connection sends again after a lost reply: the first
// send (HDEL of the owner's field) may have run, so the second must be the
// script that still answers 1 for it, as the blocking backend sends. The bytes
// are checked without I/O, then their answer on a real server after the first ran.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

#include <hotstate/detail/async/io/operation.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>

#include "support/redis_server.hpp"

namespace {

namespace cmd = hotstate::detail::redis::commands;

struct release_args {
    std::string key, owner;
    std::uint64_t fence;
};

/// A release operation driven by hand, as its connection drives it: written,
/// its connection lost (the exchange then sends it again in its resend form),
/// its replies handed over.
struct release_operation {
    using make_type = decltype([](const release_args& a) { return cmd::lock_release(a.key, a.owner, a.fence); });
    using finish_type = decltype([](bool released, const release_args&) { return released; });
    using state_type = hotstate::detail::async::state<release_args, make_type, finish_type>;
    struct handler_type {
        std::optional<bool>* released;
        void operator()(std::exception_ptr, bool value) const { *released = value; }
    };
    using operation_type = hotstate::detail::async::operation<bool, state_type, handler_type>;

    boost::asio::io_context io;
    std::optional<bool> released;
    operation_type* op;

    release_operation(const std::string& key, const std::string& owner, std::uint64_t fence)
        : op(new operation_type(state_type{release_args{key, owner, fence}, {}, {}, "release", "locks"},
                                handler_type{&released}, io.get_executor())) {
        op->deadline = std::chrono::steady_clock::now() + std::chrono::hours{1};
    }
    ~release_operation() {
        if (!released) delete op;  // completing frees it
    }
    std::string write() {
        std::string out;
        op->write_request(out);
        return out;
    }
    /// The connection broke after the write: whether the operation goes again.
    bool lose() {
        return op->on_lost(hotstate::error(hotstate::errc::connection, "connection lost"), std::chrono::steady_clock::now());
    }
    /// Hands over `r` (a raw hiredis reply, freed here), read again as the
    /// connection's reader makes replies; then runs the completion, if any.
    hotstate::detail::async::reply_effect reply(redisReply* r) {
        std::string resp;
        if (r->type == REDIS_REPLY_INTEGER) resp = ":" + std::to_string(r->integer) + "\r\n";
        else if (r->type == REDIS_REPLY_ERROR) resp = "-" + std::string(r->str, r->len) + "\r\n";
        else FAIL("a release is answered with an integer or an error");
        freeReplyObject(r);
        hotstate::detail::redis::reply_reader reader;
        hotstate::redis::reply ours;
        REQUIRE(reader.feed(resp.data(), resp.size()));
        REQUIRE(reader.next(ours));
        REQUIRE(ours);
        const auto effect = op->on_reply(std::move(ours), "127.0.0.1:6379", true);
        io.run();
        io.restart();
        return effect;
    }
};

/// Sends `request` on `c` and returns the reply (owned by the caller).
redisReply* send(redisContext* c, const std::string& request) {
    REQUIRE(redisAppendFormattedCommand(c, request.data(), request.size()) == REDIS_OK);
    void* raw = nullptr;
    REQUIRE(redisGetReply(c, &raw) == REDIS_OK);
    return static_cast<redisReply*>(raw);
}

}  // namespace

TEST_CASE("async: a release sent again is the script that finds its first send done", "[async][at-most-once]") {
    release_operation release("lock:k", "owner-a", 7);
    const std::string first = release.write();
    REQUIRE(release.lose());
    const std::string second = release.write();
    std::string hdel, again;
    cmd::lock_release("lock:k", "owner-a", 7).write(hdel);
    cmd::lock_release_again("lock:k", "owner-a", 7).write(again);
    CHECK(first == hdel);
    CHECK(second == again);
    CHECK(second.find("EVALSHA") != std::string::npos);
}

TEST_CASE("async: the second send of a release answers 1 on a server where the first ran", "[async][at-most-once]") {
    hotstate::testing::redis_server server;
    redisContext* c = redisConnect("127.0.0.1", server.port());
    REQUIRE(c != nullptr);
    REQUIRE(c->err == 0);
    // a lock held by owner-a, in the layout lock_acquire writes: last fence, last holder, the holder's field
    std::string acquire;
    cmd::lock_acquire("lock:k", "owner-a", 30000, 0).write_fallback(acquire);
    redisReply* fence = send(c, acquire);
    REQUIRE(fence->type != REDIS_REPLY_ERROR);
    REQUIRE(fence->type == REDIS_REPLY_STRING);
    const std::uint64_t owner_a_fence = std::stoull(std::string(fence->str, fence->len));
    freeReplyObject(fence);

    {
        release_operation release("lock:k", "owner-a", owner_a_fence);
        redisReply* first = send(c, release.write());  // the first send ran; say its reply was lost
        CHECK(first->integer == 1);
        freeReplyObject(first);
        REQUIRE(release.lose());
        // the server never saw the resend's script: NOSCRIPT, then its fallback (EVAL) on the same connection
        REQUIRE(release.reply(send(c, release.write())) == hotstate::detail::async::reply_effect::again);
        CHECK(release.reply(send(c, release.write())) == hotstate::detail::async::reply_effect::done);
        REQUIRE(release.released);
        CHECK(*release.released);  // the second still reports the release
    }
    {
        release_operation release("lock:k", "owner-b", 0);
        freeReplyObject(send(c, release.write()));
        REQUIRE(release.lose());
        (void)release.reply(send(c, release.write()));  // EVALSHA: the script is loaded now
        REQUIRE(release.released);
        CHECK_FALSE(*release.released);  // not owner-b's lock, never was
    }
    redisFree(c);
}
