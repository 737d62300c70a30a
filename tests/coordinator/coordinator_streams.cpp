// The coordinator over Redis Streams, against a real redis-server started here:
// what is specific to it (retention, cursors, restarts). Delivery, batching,
// loss, garbage, catch-up and a crashed node's resume are the transport laws'
// (laws/transport.hpp, run by conformance_redis.cpp).
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/detail/redis/proto/stream_commands.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/redis_streams.hpp>

#include "redis_nodes.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

using namespace hotstate;
using namespace coord_test;
using hotstate::testing::redis_server;
using hotstate::testing::transport_config;

namespace {

using streams_node = coordinator<transports::redis_streams, coord_test::pings, channels::certificates>;

transports::redis_streams_options quick(std::string cursor_key = {}) {
    transports::redis_streams_options options;
    options.block = std::chrono::milliseconds{200};
    options.cursor_key = std::move(cursor_key);
    return options;
}

std::unique_ptr<streams_node> make_node(const redis_server& server, std::uint64_t id, recorder& box,
                                        transports::redis_streams_options options = quick()) {
    auto node = start_node<streams_node>({.node_id = id}, transports::redis_streams(transport_config(server), std::move(options)),
                                         box);
    REQUIRE(eventually([&] { return node->transport().reading(); }));
    return node;
}

constexpr std::string_view default_stream = "hotstate:coordinator:stream";

/// The ids of the stream's entries, oldest first.
std::vector<detail::stream_id> stream_ids(redis_server& server) {
    const auto reply = server.command({"XRANGE", default_stream, "-", "+"});
    std::vector<detail::stream_id> ids;
    for (std::size_t i = 0; i < reply->elements; ++i) {
        const redisReply* id = reply->element[i]->element[0];
        ids.push_back(*detail::stream_id::parse(std::string_view(id->str, id->len)));
    }
    return ids;
}

detail::stream_id last_generated(redis_server& server) {
    const auto info = server.command({"XINFO", "STREAM", default_stream});
    return detail::redis::commands::read_stream_info(hotstate::redis::reply_view(info.get())).last_generated;
}

/// Node 1 publishing on a server of its own; node 2 is the test's.
struct publisher {
    redis_server server;
    recorder sender_box;
    std::unique_ptr<streams_node> sender = make_node(server, 1, sender_box);

    /// Pings first..last from node 1, each flushed (one stream entry per ping).
    void publish(std::uint64_t first, std::uint64_t last) {
        for (std::uint64_t n = first; n <= last; ++n) {
            sender->publish(ping{1, n, ""});
            REQUIRE(sender->flush());
        }
    }
    /// Stores `id` as node 2's cursor (a hand edit, a restore, a clock that ran ahead).
    void set_cursor(const std::string& id) { server.command({"SET", "test:cursor:2", id}); }
    /// Node 2, from its stored cursor.
    std::unique_ptr<streams_node> restart(recorder& box, transports::redis_streams_options options = quick("test:cursor:2")) {
        return make_node(server, 2, box, std::move(options));
    }
};

/// A publisher, and node 2 stopped after it read pings 1..`count` with its
/// cursor key (the cursor names the last entry).
struct stopped_reader : publisher {
    explicit stopped_reader(std::uint64_t count) {
        recorder first_life;
        auto node = restart(first_life);
        publish(1, count);
        REQUIRE(eventually([&] { return first_life.count(1) == count; }));
    }
};

/// The text of the one gap `box` saw, which is of `kind`.
std::string only_gap(const recorder& box, gap_kind kind) {
    const auto gaps = box.all_gaps();
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].kind == kind);
    return gaps[0].detail;
}

/// Whether `key` holds the node's position (the cursor was saved, or repaired).
template <class Node>
bool cursor_saved(redis_server& server, std::string_view key, Node& node) {
    const auto stored = server.command({"GET", key});
    return stored->type == REDIS_REPLY_STRING && std::string(stored->str, stored->len) == node.transport().position();
}

}  // namespace

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
    // the reader said it lost the server and came back; the sender that its sends failed, then recovered
    CHECK(receiver_box.connections_of(connection_state::connected) == 1);
    CHECK(receiver_box.connections_of(connection_state::lost) == 1);
    CHECK(receiver_box.connections_of(connection_state::reconnected) == 1);
    if (sender->stats().send_failures > 0) {
        CHECK(sender_box.connections_of(connection_state::send_failed) >= 1);
        CHECK(sender_box.connections_of(connection_state::send_recovered) ==
              sender_box.connections_of(connection_state::send_failed));
    }
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
    const auto report = only_gap(receiver_box, gap_kind::retention_exceeded);
    CHECK(report.find("deleted or lost") != std::string::npos);
    CHECK(report.find(server.address()) != std::string::npos);

    for (std::uint64_t n = 21; n <= 40; ++n) sender->publish(ping{1, n, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 40; }, std::chrono::seconds{20}));
    CHECK(coord_test::strictly_increasing(receiver_box.from(1)));
}

TEST_CASE("streams: the cursor is saved after every handled message, in the next read's round trip",
          "[coordinator][redis][streams][cursor]") {
    redis_server server;
    recorder sender_box, receiver_box;
    auto sender = make_node(server, 1, sender_box);
    auto receiver = make_node(server, 2, receiver_box, quick("test:cursor:2"));
    for (std::uint64_t n = 1; n <= 40; ++n) {
        sender->publish(ping{1, n, ""});
        if (n % 4 == 0) REQUIRE(sender->flush());
    }
    REQUIRE(eventually([&] { return receiver_box.count(1) == 40; }));
    const auto& transport = receiver->transport();
    REQUIRE(eventually([&] { return transport.stats().cursor_saves == transport.stats().entries_read; }));
    CHECK(transport.stats().entries_read == receiver->stats().received_messages);
    const auto stored = server.command({"GET", "test:cursor:2"});
    REQUIRE(stored->type == REDIS_REPLY_STRING);
    CHECK(std::string(stored->str, stored->len) == transport.position());
}

TEST_CASE("streams: an unparsable cursor is reported, the reader starts at the end, the key is repaired",
          "[coordinator][redis][streams][cursor]") {
    publisher setup;
    setup.publish(1, 5);
    setup.set_cursor("not-a-cursor");

    recorder box;
    auto node = setup.restart(box);
    auto& server = setup.server;
    auto& sender = setup.sender;
    REQUIRE(eventually([&] { return box.gaps_of(gap_kind::cursor_invalid) == 1; }));
    const auto report = box.all_gaps().front();
    CHECK(report.detail.find("test:cursor:2") != std::string::npos);
    CHECK(report.detail.find("12 bytes that are not a stream id") != std::string::npos);
    CHECK(report.detail.find("from its end") != std::string::npos);
    CHECK(node->transport().stats().invalid_cursors == 1);

    sender->publish(ping{1, 6, "after"});
    REQUIRE(eventually([&] { return box.count(1) == 1; }));
    CHECK(box.from(1) == std::vector<std::uint64_t>{6});  // the policy: what came before is not read
    REQUIRE(eventually([&] { return cursor_saved(server, "test:cursor:2", *node); }));
}

TEST_CASE("streams: a cursor key of another type is reported; stream_start reads the whole retained stream",
          "[coordinator][redis][streams][cursor]") {
    publisher setup;
    auto& server = setup.server;
    setup.publish(1, 5);
    server.command({"HSET", "test:cursor:2", "field", "value"});

    recorder box;
    auto options = quick("test:cursor:2");
    options.on_invalid_cursor = transports::invalid_cursor_start::stream_start;
    auto node = make_node(server, 2, box, options);
    REQUIRE(eventually([&] { return box.count(1) == 5; }));
    const auto report = only_gap(box, gap_kind::cursor_invalid);
    CHECK(report.find("WRONGTYPE") != std::string::npos);
    CHECK(report.find("from its start") != std::string::npos);
    REQUIRE(eventually([&] {
        const auto type = server.command({"TYPE", "test:cursor:2"});
        return std::string(type->str, type->len) == "string";
    }));
    CHECK(box.connections_of(connection_state::connect_failed) == 0);  // handled, not retried
    CHECK(node->transport().stats().connections == 1);
}

TEST_CASE("streams: a cursor ahead of the stream that the stream then passes is reported, nothing is skipped",
          "[coordinator][redis][streams][cursor]") {
    stopped_reader setup(5);
    auto& server = setup.server;
    auto& sender = setup.sender;
    // a hand edit (or a clock that ran ahead): the cursor names an id 50 ms beyond the stream,
    // with a sequence number no entry of that millisecond reaches
    const detail::stream_id ahead{last_generated(server).ms + 50, 1'000'000};
    setup.set_cursor(ahead.str());
    // while node 2 is down, the stream passes that id, one entry per event
    std::uint64_t published = 5;
    while (published < 30 || !(ahead < last_generated(server))) {
        sender->publish(ping{1, ++published, ""});
        REQUIRE(sender->flush());
    }
    std::uint64_t below_cursor = 0;
    for (const auto& id : stream_ids(server)) below_cursor += id < ahead ? 1 : 0;
    REQUIRE(below_cursor > 5);  // resuming after the cursor would pass over these
    INFO("published " << published << ", " << below_cursor << " of them below the cursor");

    recorder box;
    auto options = quick("test:cursor:2");
    options.on_invalid_cursor = transports::invalid_cursor_start::stream_start;
    auto node = setup.restart(box, options);
    REQUIRE(eventually([&] { return box.count(1) == published; }));
    const auto got = box.from(1);
    CHECK(got.front() == 1);
    CHECK(got.back() == published);
    CHECK(coord_test::strictly_increasing(got));
    const auto report = only_gap(box, gap_kind::cursor_invalid);
    CHECK(report.find("holds " + ahead.str() + ", which names no entry of the stream") != std::string::npos);
    CHECK(report.find("from its start") != std::string::npos);
    CHECK(node->transport().stats().invalid_cursors == 1);
}

TEST_CASE("streams: a cursor ahead of the stream is an invalid cursor, not a retention loss",
          "[coordinator][redis][streams][cursor]") {
    stopped_reader setup(3);
    const detail::stream_id last = last_generated(setup.server);
    const detail::stream_id ahead{last.ms + 86'400'000, 0};  // a clock a day ahead
    setup.set_cursor(ahead.str());

    recorder box;
    auto node = setup.restart(box);
    REQUIRE(eventually([&] { return box.gaps_of(gap_kind::cursor_invalid) == 1; }));
    const auto report = only_gap(box, gap_kind::cursor_invalid);
    CHECK(report.find("holds " + ahead.str() + ", ahead of the stream's last id " + last.str()) != std::string::npos);
    CHECK(report.find("from its end") != std::string::npos);
    CHECK(node->transport().stats().retention_reports == 0);

    // the policy's start, the stream's end: the next event arrives (it is below the cursor's id)
    setup.sender->publish(ping{1, 4, ""});
    REQUIRE(eventually([&] { return box.count(1) == 1; }));
    CHECK(box.from(1) == std::vector<std::uint64_t>{4});
    REQUIRE(eventually([&] { return cursor_saved(setup.server, "test:cursor:2", *node); }));
}

TEST_CASE("streams: a cursor whose entry was deleted with XDEL resumes after it, unreported",
          "[coordinator][redis][streams][cursor]") {
    stopped_reader setup(5);
    auto& server = setup.server;
    const auto ids = stream_ids(server);
    REQUIRE(ids.size() == 5);
    // the node had handled the third entry when it stopped; that entry was deleted since
    setup.set_cursor(ids[2].str());
    const auto deleted = server.command({"XDEL", default_stream, ids[2].str()});
    REQUIRE(deleted->integer == 1);

    recorder box;
    auto node = setup.restart(box);
    REQUIRE(eventually([&] { return box.count(1) == 2; }));
    CHECK(box.from(1) == std::vector<std::uint64_t>{4, 5});
    CHECK(box.all_gaps().empty());
    CHECK(node->transport().stats().invalid_cursors == 0);
}

TEST_CASE("streams: a wrong password is reported once by the reader and the sender; connect_on_start throws it",
          "[coordinator][redis][streams][errors]") {
    redis_server secured({.requirepass = "right-horse"});
    redis::config settings;
    settings.url = "redis://:wrong-battery@127.0.0.1:" + std::to_string(secured.port());
    settings.node.timeout = std::chrono::seconds{2};
    {
        auto eager = settings;
        eager.connect_on_start = true;
        try {
            transports::redis_streams transport(eager, quick());
            FAIL("a wrong password passed connect_on_start");
        } catch (const error& e) {
            CHECK(e.kind() == errc::authentication);
            CHECK(std::string(e.what()).find("wrong-battery") == std::string::npos);
        }
    }
    auto options = quick();
    options.reconnect = {std::chrono::milliseconds{10}, std::chrono::milliseconds{20}};
    streams_node node({.node_id = 1, .send_backoff = {std::chrono::milliseconds{5}, std::chrono::milliseconds{10}}},
                      transports::redis_streams(settings, options));
    recorder box;
    box.attach(node);
    node.start();
    node.publish(ping{1, 1, ""});  // durable: retried, never dropped
    REQUIRE(eventually([&] {
        return node.transport().stats().connect_failures >= 5 && node.stats().send_failures >= 5;
    }));
    CHECK(box.connections_of(connection_state::connect_failed) == 1);
    CHECK(box.connections_of(connection_state::send_failed) == 1);
    for (const auto& event : box.connections()) {
        REQUIRE(event.problem);
        CHECK(event.problem->kind() == errc::authentication);
        CHECK(std::string(event.problem->what()).find("wrong-battery") == std::string::npos);
    }
    CHECK(node.stats().dropped_messages == 0);
    node.stop();
}

