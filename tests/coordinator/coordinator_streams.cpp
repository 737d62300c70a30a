// The coordinator over Redis Streams, against a real redis-server started here.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/redis_streams.hpp>

#include "redis_nodes.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

using namespace hotstate;
using coord_test::ping;
using coord_test::recorder;
using hotstate::testing::eventually;
using hotstate::testing::redis_server;

namespace {

using streams_node = coordinator<transports::redis_streams, coord_test::pings, channels::certificates>;

redis::config config_for(const redis_server& server) {
    redis::config settings;
    settings.url = server.url();
    settings.timeout = std::chrono::seconds{2};
    return settings;
}

transports::redis_streams_options quick(std::string cursor_key = {}) {
    transports::redis_streams_options options;
    options.block = std::chrono::milliseconds{200};
    options.cursor_key = std::move(cursor_key);
    return options;
}

std::unique_ptr<streams_node> make_node(const redis_server& server, std::uint64_t id, recorder& box,
                                        transports::redis_streams_options options = quick()) {
    auto node = std::make_unique<streams_node>(coordinator_options{.node_id = id},
                                               transports::redis_streams(config_for(server), std::move(options)));
    box.attach(*node);
    node->start();
    REQUIRE(eventually([&] { return node->transport().reading(); }));
    return node;
}

}  // namespace

TEST_CASE("streams: three nodes, every event reaches every other node exactly once, none its sender",
          "[coordinator][redis][streams]") {
    redis_server server;
    recorder boxes[3];
    std::vector<std::unique_ptr<streams_node>> nodes;
    for (std::uint64_t id = 1; id <= 3; ++id) nodes.push_back(make_node(server, id, boxes[id - 1]));

    constexpr std::uint64_t per_node = 300;
    for (std::uint64_t n = 1; n <= per_node; ++n)
        for (std::uint64_t id = 1; id <= 3; ++id) nodes[id - 1]->publish(ping{id, n, "x"});
    for (auto& box : boxes) REQUIRE(eventually([&] { return box.total.load() >= 2 * per_node; }));
    for (auto& node : nodes) REQUIRE(node->flush());
    for (std::uint64_t id = 1; id <= 3; ++id) {
        const recorder& box = boxes[id - 1];
        CHECK(box.total.load() == 2 * per_node);
        CHECK(box.count(id) == 0);
        for (std::uint64_t other = 1; other <= 3; ++other) {
            if (other == id) continue;
            const auto ns = box.from(other);
            CHECK(ns.size() == per_node);
            CHECK(coord_test::strictly_increasing(ns));
        }
        CHECK(nodes[id - 1]->stats().gaps == 0);
    }
}

TEST_CASE("streams: server restarted mid-stream, every event is delivered, none twice",
          "[coordinator][redis][streams][restart]") {
    redis_server server({.persistence = true});
    recorder sender_box, receiver_box;
    auto sender = make_node(server, 1, sender_box);
    auto receiver = make_node(server, 2, receiver_box);

    constexpr std::uint64_t total = 600;
    for (std::uint64_t n = 1; n <= total / 2; ++n) sender->publish(ping{1, n, ""});
    server.restart();  // some of the first half may still be queued: they are retried
    for (std::uint64_t n = total / 2 + 1; n <= total; ++n) sender->publish(ping{1, n, ""});

    REQUIRE(eventually([&] { return receiver_box.count(1) >= total; }, std::chrono::seconds{20}));
    REQUIRE(sender->flush());
    const auto got = receiver_box.from(1);
    CHECK(got.size() == total);
    CHECK(coord_test::strictly_increasing(got));
    CHECK(got.front() == 1);
    CHECK(got.back() == total);
    CHECK(sender->stats().dropped_messages == 0);
    CHECK(receiver_box.gaps_of(gap_kind::sequence_skip) == 0);
    CHECK(receiver_box.gaps_of(gap_kind::retention_exceeded) == 0);
}

TEST_CASE("streams: a node stopped for a while catches up on everything published meanwhile",
          "[coordinator][redis][streams]") {
    redis_server server;
    recorder sender_box;
    auto sender = make_node(server, 1, sender_box);
    {
        recorder first_life;
        auto node = make_node(server, 2, first_life, quick("test:cursor:2"));
        for (std::uint64_t n = 1; n <= 100; ++n) sender->publish(ping{1, n, ""});
        REQUIRE(eventually([&] { return first_life.count(1) == 100; }));
    }  // node 2 goes away; its cursor stays in Redis
    for (std::uint64_t n = 101; n <= 350; ++n) sender->publish(ping{1, n, ""});
    REQUIRE(sender->flush());

    recorder second_life;
    auto node = make_node(server, 2, second_life, quick("test:cursor:2"));
    REQUIRE(eventually([&] { return second_life.count(1) >= 250; }));
    sender->publish(ping{1, 351, "live again"});
    REQUIRE(eventually([&] { return second_life.count(1) == 251; }));
    const auto got = second_life.from(1);
    CHECK(got.front() == 101);  // nothing from before it went away, nothing missed
    CHECK(got.back() == 351);
    CHECK(coord_test::strictly_increasing(got));
    CHECK(second_life.all_gaps().empty());
}

TEST_CASE("streams: a node that fell behind the retention is told so", "[coordinator][redis][streams]") {
    redis_server server({.extra_config = {"stream-node-max-entries 10"}});
    recorder sender_box;
    transports::redis_streams_options small = quick();
    small.max_length = 20;
    auto sender = make_node(server, 1, sender_box, small);
    {
        recorder first_life;
        auto node = make_node(server, 2, first_life, quick("test:cursor:2"));
        sender->publish(ping{1, 1, ""});
        REQUIRE(eventually([&] { return first_life.count(1) == 1; }));
    }
    for (std::uint64_t n = 2; n <= 200; ++n) {
        sender->publish(ping{1, n, ""});
        REQUIRE(sender->flush());  // one entry per event, so the trimming bites
    }
    recorder second_life;
    auto node = make_node(server, 2, second_life, quick("test:cursor:2"));
    REQUIRE(eventually([&] { return second_life.count(1) > 0 && second_life.from(1).back() == 200; }));
    CHECK(second_life.gaps_of(gap_kind::retention_exceeded) == 1);
    CHECK(second_life.count(1) < 199);  // the trimmed ones are gone
    const auto gaps = second_life.all_gaps();
    REQUIRE_FALSE(gaps.empty());
    CHECK(gaps.front().detail.find("trimmed") != std::string::npos);
    CHECK(node->transport().stats().retention_reports == 1);
}

TEST_CASE("streams: garbage XADDed by raw hiredis is skipped and counted", "[coordinator][redis][streams]") {
    redis_server server;
    recorder receiver_box, sender_box;
    auto receiver = make_node(server, 2, receiver_box);
    const std::string stream = transports::redis_streams_options{}.stream;
    server.command({"XADD", stream, "*", "d", "garbage"});
    server.command({"XADD", stream, "*", "other-field", "x"});
    auto sender = make_node(server, 1, sender_box);
    sender->publish(ping{1, 1, "real"});
    REQUIRE(eventually([&] { return receiver_box.total.load() == 1; }));
    CHECK(receiver->stats().malformed_messages == 2);
}

TEST_CASE("streams: stop is prompt", "[coordinator][redis][streams]") {
    redis_server server;
    recorder box;
    transports::redis_streams_options slow = quick();
    slow.block = std::chrono::seconds{30};  // a blocking read that would outlast the test without shutdown(2)
    auto node = make_node(server, 1, box, slow);
    const auto before = std::chrono::steady_clock::now();
    node->stop();
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds{2});
    CHECK_FALSE(node->transport().reading());
}

TEST_CASE("streams: a server that lost the stream (restart without persistence) is reported, reading goes on",
          "[coordinator][redis][streams][restart]") {
    redis_server server;  // no persistence: a restart empties it
    recorder sender_box, receiver_box;
    auto sender = make_node(server, 1, sender_box);
    auto receiver = make_node(server, 2, receiver_box);
    for (std::uint64_t n = 1; n <= 20; ++n) sender->publish(ping{1, n, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 20; }));

    server.restart();
    // the reader comes back to an empty server before anything new is published: its
    // position is ahead of a stream that no longer exists
    REQUIRE(eventually([&] { return receiver->transport().stats().connections == 2; }, std::chrono::seconds{20}));
    REQUIRE(eventually([&] { return receiver_box.gaps_of(gap_kind::retention_exceeded) == 1; }));
    const auto gaps = receiver_box.all_gaps();
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].detail.find("deleted or lost") != std::string::npos);
    CHECK(gaps[0].detail.find(server.address()) != std::string::npos);

    for (std::uint64_t n = 21; n <= 40; ++n) sender->publish(ping{1, n, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 40; }, std::chrono::seconds{20}));
    CHECK(coord_test::strictly_increasing(receiver_box.from(1)));
}
