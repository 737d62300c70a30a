// At-most-once sends against a real redis-server: a dead idle connection is
// found before anything is written to it (socket probe), a request that may
// have reached the server is sent again only when idempotent, and a client
// killing every other connection in a loop (CLIENT KILL TYPE normal SKIPME yes)
// can neither make an increment count twice nor lock a single user out (the
// at-most-once law, tests/laws/client_kill.hpp, registered at the end).
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/key.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>
#include <hotstate/store.hpp>

#include "redis/client_killer.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

using namespace std::chrono_literals;
using hotstate::detail::redis::peer_state;
using hotstate::detail::redis::probe_peer;
using hotstate::testing::eventually;
using hotstate::testing::raw_client;
using hotstate::testing::redis_server;

namespace {

struct hits : hotstate::category<11, "amo-hits", std::int64_t> {};
struct guard : hotstate::category<12, "amo-lock"> {};
using test_store = hotstate::store<hotstate::backends::redis, hits, guard>;

hotstate::redis::config config_for(const redis_server& server) {
    hotstate::redis::config settings;
    settings.url = server.url();
    settings.node = hotstate::testing::test_node(2s, 2);
    return settings;
}

/// The at-most-once law's model (tests/laws/client_kill.hpp): a server of its own.
struct standalone_kill {
    using backend_type = hotstate::backends::redis;
    static constexpr const char* name = "standalone";
    static hotstate::testing::kill_budget increments() { return {}; }
    static hotstate::testing::kill_budget locks() { return {.kills = 300, .min_ops = 1000, .max_ops = 20000}; }
    static constexpr std::uint64_t least_kills = 100;
    static constexpr std::string_view unknown_says = "";
    static constexpr std::uint64_t acquired_share = 2;
    static constexpr bool discount_orphans = true;
    redis_server server;

    hotstate::redis::config settings() const { return config_for(server); }
    redis_server& node_of(std::string_view) { return server; }
    template <class Store>
    static void ready(Store&) {}
};

/// A socketpair closed on destruction.
struct socket_pair {
    int ends[2] = {-1, -1};
    socket_pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, ends) == 0); }
    ~socket_pair() {
        for (const int fd : ends)
            if (fd >= 0) ::close(fd);
    }
    void close_peer() {
        ::close(ends[1]);
        ends[1] = -1;
    }
};

std::string text_of(const hotstate::testing::reply_ptr& reply) { return std::string(reply->str, reply->len); }

std::int64_t integer_of(const hotstate::testing::reply_ptr& reply) {
    if (reply->type == REDIS_REPLY_INTEGER) return reply->integer;
    if (reply->type == REDIS_REPLY_STRING) return std::stoll(std::string(reply->str, reply->len));
    return 0;  // nil: a missing counter
}

/// total_connections_received of INFO stats: how many connections the server accepted.
std::int64_t connections_received(redis_server& server) {
    const auto info = server.command({"INFO", "stats"});
    const std::string text(info->str, info->len);
    const std::string field = "total_connections_received:";
    const auto at = text.find(field);
    REQUIRE(at != std::string::npos);
    return std::stoll(text.substr(at + field.size()));
}

}  // namespace

TEST_CASE("probe_peer tells a live socket from a closed one and from unsolicited bytes", "[redis][unit]") {
    SECTION("alive while the peer is silent") {
        socket_pair pair;
        CHECK(probe_peer(pair.ends[0]) == peer_state::alive);
        CHECK(probe_peer(pair.ends[0]) == peer_state::alive);  // probing consumes nothing
    }
    SECTION("closed once the peer closed its end") {
        socket_pair pair;
        pair.close_peer();
        CHECK(probe_peer(pair.ends[0]) == peer_state::closed);
    }
    SECTION("closed once the peer shut down its writing side") {
        socket_pair pair;
        REQUIRE(::shutdown(pair.ends[1], SHUT_WR) == 0);
        CHECK(probe_peer(pair.ends[0]) == peer_state::closed);
    }
    SECTION("unexpected when bytes wait that nobody asked for, and still nothing consumed") {
        socket_pair pair;
        REQUIRE(::send(pair.ends[1], "-ERR x\r\n", 8, 0) == 8);
        CHECK(probe_peer(pair.ends[0]) == peer_state::unexpected);
        char buffer[8];
        CHECK(::recv(pair.ends[0], buffer, sizeof buffer, MSG_DONTWAIT) == 8);
        CHECK(probe_peer(pair.ends[0]) == peer_state::alive);
    }
    SECTION("closed after unsolicited bytes followed by a close") {
        socket_pair pair;
        REQUIRE(::send(pair.ends[1], "x", 1, 0) == 1);
        pair.close_peer();
        CHECK(probe_peer(pair.ends[0]) == peer_state::closed);
    }
}

TEST_CASE("redis: a connection killed by the server is seen dead before anything is written to it", "[redis][pool]") {
    redis_server server;
    hotstate::redis::connection c(hotstate::redis::resolve(config_for(server)),
                                  hotstate::redis::connection_options{});
    CHECK(c.peer_alive());
    CHECK_FALSE(c.broken());
    server.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    CHECK(eventually([&] { return !c.peer_alive(); }));
    CHECK(c.broken());
    CHECK(c.lost_peer());
}

TEST_CASE("redis: a request of which no byte left is not counted as sent", "[redis][pool][at-most-once]") {
    // a Unix socket refuses a write at once (EPIPE) after the server closed it,
    // so the INCRBY below fails before any byte of it leaves
    redis_server server(hotstate::testing::redis_server_options{.unix_socket = true});
    hotstate::redis::config settings = config_for(server);
    settings.url = "unix://" + server.unix_socket_path().string();
    hotstate::redis::connection c(hotstate::redis::resolve(settings), hotstate::redis::connection_options{});
    const auto id = c.command("CLIENT ID", "CLIENT", "ID").integer();
    server.command({"CLIENT", "KILL", "ID", std::to_string(id)});
    REQUIRE(eventually([&] { return probe_peer(c.native_handle()) == peer_state::closed; }));
    c.begin_request();
    try {
        (void)c.command("INCRBY", "INCRBY", "amo-unsent", "1");
        FAIL("the write succeeded");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::connection);
    }
    CHECK(c.broken());
    CHECK_FALSE(c.request_sent());  // so the pool may send it again, once
    CHECK(server.command({"EXISTS", "amo-unsent"})->integer == 0);
}

TEST_CASE("redis: the pool replaces a killed idle connection, and the increment runs exactly once",
          "[redis][pool]") {
    redis_server server;
    auto options = hotstate::redis::pool_options::from(config_for(server));
    options.probe_idle_after = 0ms;  // probe on every reuse: the kill may be a moment old
    hotstate::redis::pool pool(hotstate::redis::resolve(config_for(server)), options);
    const auto incr = [](hotstate::redis::connection& c) { return c.checked("INCR", "INCR", "n").integer(); };
    CHECK(pool.run(hotstate::redis::once, incr) == 1);
    const auto accepted = connections_received(server);
    server.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    // the kill is over once the server lists its own assertion client alone
    REQUIRE(eventually([&] {
        const auto list = server.command({"CLIENT", "LIST"});
        return std::string(list->str, list->len).find('\n') == std::string(list->str, list->len).rfind('\n');
    }));
    CHECK(pool.run(hotstate::redis::once, incr) == 2);
    CHECK(connections_received(server) == accepted + 1);  // one fresh connection, no error
    CHECK(integer_of(server.command({"GET", "n"})) == 2);
}

TEST_CASE("redis: without the probe, a lost reply re-sends an idempotent command and reports a once command",
          "[redis][pool]") {
    redis_server server;
    auto options = hotstate::redis::pool_options::from(config_for(server));
    options.probe_idle_after = std::chrono::hours{1};  // never probe: the write meets the dead socket
    hotstate::redis::pool pool(hotstate::redis::resolve(config_for(server)), options);
    const auto kill_and_wait = [&] {
        server.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
        REQUIRE(eventually([&] {
            const auto list = server.command({"CLIENT", "LIST"});
            const std::string text(list->str, list->len);
            return text.find('\n') == text.rfind('\n');
        }));
    };
    pool.run(hotstate::redis::idempotent, [](hotstate::redis::connection& c) { c.checked("SET", "SET", "k", "1"); });

    kill_and_wait();
    // SET may be sent twice: it is, on a fresh connection, and the caller sees nothing
    pool.run(hotstate::redis::idempotent, [](hotstate::redis::connection& c) { c.checked("SET", "SET", "k", "2"); });
    CHECK(std::string(server.command({"GET", "k"})->str) == "2");

    kill_and_wait();
    // INCR must not: the pool cannot know the server closed before reading it, so the outcome is unknown
    try {
        pool.run(hotstate::redis::once, [](hotstate::redis::connection& c) { c.checked("INCR", "INCR", "n"); });
        FAIL("the INCR written to a killed connection succeeded");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::connection);
        CHECK(e.outcome_unknown());
        CHECK_THAT(e.what(), Catch::Contains("outcome unknown") && Catch::Contains("INCR") &&
                                 Catch::Contains(server.address()));
    }
    CHECK(integer_of(server.command({"GET", "n"})) == 0);  // it had not run: nothing was applied twice
    pool.run(hotstate::redis::idempotent, [](hotstate::redis::connection& c) { c.checked("PING", "PING"); });
    // the default for a body the pool knows nothing about is "once"
    pool.run(hotstate::redis::idempotent, [](hotstate::redis::connection& c) { c.checked("PING", "PING"); });
    kill_and_wait();
    bool unknown = false;
    try {
        pool.run([](hotstate::redis::connection& c) { c.checked("INCR", "INCR", "n"); });
    } catch (const hotstate::error& e) {
        unknown = e.outcome_unknown();
    }
    CHECK(unknown);
    CHECK(pool.run(hotstate::redis::once, [](hotstate::redis::connection& c) {
        return c.checked("INCR", "INCR", "n").integer();
    }) == 1);
}

TEST_CASE("redis: an increment whose reply timed out is outcome-unknown, through the store too", "[redis][store]") {
    redis_server server;
    auto settings = config_for(server);
    settings.node.timeout = 300ms;
    test_store s(settings);
    CHECK(s.increment<hits>("n") == 1);
    CHECK(s.increment<hits>("n") == 2);
    // a stopped server leaves the written request unread: the reply times out after the write
    server.child().signal(SIGSTOP);
    try {
        (void)s.increment<hits>("n");
        FAIL("an increment on a stopped server succeeded");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::timeout);
        CHECK(e.outcome_unknown());
        CHECK_THAT(e.what(), Catch::Contains("amo-hits") && Catch::Contains("outcome unknown"));
    }
    server.child().signal(SIGCONT);
    // it did run once the server went on, and exactly once: it was not sent again
    CHECK(eventually([&] { return integer_of(server.command({"GET", hotstate::encode_key<hits>("n")})) == 3; }));
    CHECK(s.increment<hits>("n") == 4);
}

TEST_CASE("redis: a lock whose release timed out, released again, is told its release ran", "[redis][locks]") {
    redis_server server;
    auto settings = config_for(server);
    settings.node.timeout = 300ms;
    test_store s(settings);
    test_store other(config_for(server));
    const std::string key = hotstate::encode_key<guard>("door");
    const auto holds = [&](const std::string& owner) {
        return integer_of(server.command({"HEXISTS", key, owner})) == 1;
    };

    // taken since by nobody, by one other owner, by three in turn (the lock changed hands meanwhile)
    for (const int taken_since : {0, 1, 3}) {
        CAPTURE(taken_since);
        auto held = s.try_lock<guard>("door", 30s);
        REQUIRE(held);
        // a stopped server leaves the release unread: its reply times out after the write
        server.child().signal(SIGSTOP);
        try {
            (void)held->release();
            FAIL("a release on a stopped server was answered");
        } catch (const hotstate::error& e) {
            CHECK(e.kind() == hotstate::errc::timeout);
            CHECK(e.outcome_unknown());
        }
        CHECK(held->held());  // unconfirmed: still releasable
        server.child().signal(SIGCONT);
        // the release ran once the server went on
        REQUIRE(eventually([&] { return !holds(held->owner_token()); }));
        std::optional<hotstate::lock<test_store, guard>> next;
        for (int i = 0; i < taken_since; ++i) {
            if (next) REQUIRE(next->release());
            next = other.try_lock<guard>("door", 30s);
            REQUIRE(next);
        }
        // released again: it was this guard's, and its release ran (HDEL alone would answer "not yours")
        CHECK(held->release());
        CHECK_FALSE(held->held());
        if (next) {
            CHECK(holds(next->owner_token()));  // the new owner's lease is untouched
            CHECK(next->release());
        }
    }
}

TEST_CASE("redis: lock operations are idempotent, so a re-sent request answers as the first did", "[redis][locks]") {
    redis_server server;
    hotstate::backends::redis backend(config_for(server));
    const std::string key = hotstate::encode_key<guard>("job");
    // what the backend sends when a release is sent again after a lost reply
    const auto release_again = [&](std::string_view owner, std::uint64_t fence) {
        return backend.with_connection([&](hotstate::redis::connection& c) {
            return hotstate::detail::redis::run<false>(
                c, hotstate::detail::redis::commands::lock_release_again(key, owner, fence));
        });
    };

    const auto first = backend.lock_acquire(key, "owner-a", 10s);
    REQUIRE(first.has_value());
    server.command({"PEXPIRE", key, "5000"});
    // the same owner again (what a re-sent acquire is): the lease renewed, the same fence
    CHECK(backend.lock_acquire(key, "owner-a", 10s) == first);
    CHECK(server.command({"PTTL", key})->integer > 9'000);
    CHECK_FALSE(backend.lock_acquire(key, "owner-b", 10s).has_value());
    CHECK_FALSE(backend.lock_acquire(key, "", 10s).has_value());

    CHECK(backend.lock_extend(key, "owner-a", 20s));
    CHECK(backend.lock_extend(key, "owner-a", 20s));  // extend twice: the lease runs 20 s from the later call
    CHECK_FALSE(backend.lock_extend(key, "owner-b", 20s));

    CHECK(backend.lock_release(key, "owner-a", *first, hotstate::release_attempt::first));
    // a re-sent release finds its own release done, and says so
    CHECK(release_again("owner-a", *first));
    CHECK_FALSE(release_again("", *first));
    CHECK_FALSE(backend.lock_release(key, "owner-a", *first, hotstate::release_attempt::first));  // a new release (not a re-send): nothing to release
    CHECK_FALSE(backend.lock_extend(key, "owner-a", 10s));      // released is released

    // once other owners took it in turn, owner-a's re-send still says 1: the
    // hash is the one owner-a's lease was in (g, its first fence, is at or
    // below owner-a's), and only owner-a's release removes owner-a's field
    const auto second = backend.lock_acquire(key, "owner-b", 10s);
    REQUIRE(second.has_value());
    CHECK(*second == *first + 1);
    CHECK(backend.lock_release(key, "owner-b", *second, hotstate::release_attempt::first));
    const auto third = backend.lock_acquire(key, "owner-c", 10s);
    REQUIRE(third.has_value());
    CHECK(release_again("owner-a", *first));
    CHECK(release_again("owner-b", *second));
    CHECK(text_of(server.command({"HGET", key, "g"})) == std::to_string(*first));
    CHECK_FALSE(backend.lock_acquire(key, "owner-a", 10s).has_value());  // the lock is owner-c's
    CHECK(server.command({"HEXISTS", key, "owner-c"})->integer == 1);  // the re-sends released nothing of c's
    CHECK(release_again("owner-c", *third));  // a re-send whose first send never arrived releases
    CHECK(server.command({"HEXISTS", key, "owner-c"})->integer == 0);
    CHECK(release_again("owner-c", *third));

    // a lease that ran out is not a release: owner-d's lease ends by expiry,
    // owner-e takes the lock anew (a new hash, g above every fence before it),
    // and owner-d's re-send says 0
    const auto fourth = backend.lock_acquire(key, "owner-d", 10s);
    REQUIRE(fourth.has_value());
    server.command({"PEXPIRE", key, "1"});
    std::optional<std::uint64_t> fifth;
    REQUIRE(eventually([&] { return (fifth = backend.lock_acquire(key, "owner-e", 10s)).has_value(); }));
    CHECK(*fifth > *fourth);
    CHECK(text_of(server.command({"HGET", key, "g"})) == std::to_string(*fifth));
    CHECK_FALSE(release_again("owner-d", *fourth));
    CHECK(server.command({"HEXISTS", key, "owner-e"})->integer == 1);
    CHECK(release_again("owner-e", *fifth));

    // a hash written before g (the previous layout, {f h p}): a re-send says 1
    // when its owner was the last holder
    const std::string legacy = hotstate::encode_key<guard>("legacy");
    server.command({"HSET", legacy, "f", "41", "h", "owner-f", "p", "owner-x"});
    server.command({"PEXPIRE", legacy, "10000"});
    const auto legacy_again = [&](std::string_view owner, std::uint64_t fence) {
        return backend.with_connection([&](hotstate::redis::connection& c) {
            return hotstate::detail::redis::run<false>(
                c, hotstate::detail::redis::commands::lock_release_again(legacy, owner, fence));
        });
    };
    CHECK(legacy_again("owner-f", 41));
    CHECK_FALSE(legacy_again("owner-x", 40));
    CHECK(backend.lock_acquire(legacy, "owner-g", 10s) == 42u);  // still read as a lock
    CHECK(backend.lock_release(legacy, "owner-g", 42, hotstate::release_attempt::first));
}

TEST_CASE("redis: fencing tokens are microseconds of the server's TIME and strictly increase", "[redis][locks]") {
    redis_server server;
    hotstate::backends::redis backend(config_for(server));
    const auto server_us = [&] {
        const auto time = server.command({"TIME"});
        return std::stoull(std::string(time->element[0]->str, time->element[0]->len)) * 1'000'000ull +
               std::stoull(std::string(time->element[1]->str, time->element[1]->len));
    };
    bool sub_millisecond = false;
    for (int i = 0; i < 5; ++i) {
        const std::string key = hotstate::encode_key<guard>("fresh-" + std::to_string(i));
        const auto before = server_us();
        const auto fence = backend.lock_acquire(key, "owner", 10s);
        const auto after = server_us();
        REQUIRE(fence.has_value());
        CHECK(*fence >= before);  // milliseconds x 1000 would fall up to 999 below
        CHECK(*fence <= after);
        if (*fence % 1000 != 0) sub_millisecond = true;
    }
    CHECK(sub_millisecond);
    // strictly increasing even when the clock would not move it: a fence far in the future is bumped by one
    const std::string key = hotstate::encode_key<guard>("future");
    const std::string future = std::to_string(server_us() + 3'600'000'000ull);
    server.command({"HSET", key, "f", future, "h", "nobody"});
    const auto bumped = backend.lock_acquire(key, "owner", 10s);
    REQUIRE(bumped.has_value());
    CHECK(*bumped == std::stoull(future) + 1);
}

using hotstate_kill_models = std::tuple<standalone_kill>;
#include "laws/client_kill.hpp"
