// The coordinator over core NATS, against a real nats-server started here:
// what is specific to NATS (credentials, reconnect buffer, server restarts).
// Delivery, ordering, batching and loss are the transport conformance suite's.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <hotstate/coordinator.hpp>
#include <hotstate/transports/nats.hpp>

#include "redis_nodes.hpp"
#include "support/eventually.hpp"
#include "support/nats_server.hpp"

using namespace hotstate;
using coord_test::ping;
using coord_test::recorder;
using hotstate::testing::eventually;
using hotstate::testing::nats_server;

namespace {

using nats_node = coordinator<transports::nats, coord_test::pings>;

transports::nats_settings settings_for(const nats_server& server) {
    transports::nats_settings settings;
    settings.url = server.url();
    settings.reconnect_wait = std::chrono::milliseconds{50};
    return settings;
}

std::unique_ptr<nats_node> make_node(transports::nats_settings settings, std::uint64_t id, recorder& box) {
    auto node = std::make_unique<nats_node>(coordinator_options{.node_id = id}, transports::nats(settings));
    box.attach(*node);
    node->start();
    return node;
}

}  // namespace

TEST_CASE("nats: a wrong password is an authentication error through on_connection; connect_on_start throws it",
          "[coordinator][nats][errors]") {
    nats_server server({.user = "hotstate", .password = "right-horse"});
    auto settings = settings_for(server);
    settings.user = "hotstate";
    settings.password = "wrong-battery";
    recorder box;
    auto node = make_node(settings, 1, box);
    REQUIRE(eventually([&] { return box.connections_of(connection_state::connect_failed) == 1; }));
    const auto failure = box.first_of(connection_state::connect_failed);
    REQUIRE(failure->problem);
    CHECK(failure->problem->kind() == errc::authentication);
    CHECK_THAT(failure->problem->message(), Catch::Contains(server.address()));
    CHECK_THAT(failure->problem->message(), !Catch::Contains("wrong-battery"));
    // it keeps retrying, reported once
    REQUIRE(eventually([&] { return node->transport().stats().connect_failures >= 3; }));
    CHECK(box.connections_of(connection_state::connect_failed) == 1);
    node->stop();

    settings.connect_on_start = true;
    try {
        transports::nats transport(settings);
        FAIL("wrong password accepted");
    } catch (const error& e) {
        CHECK(e.kind() == errc::authentication);
        CHECK_THAT(e.message(), !Catch::Contains("wrong-battery"));
    }
    settings.password = "right-horse";
    CHECK_NOTHROW(transports::nats(settings));
}

TEST_CASE("nats: token authentication; a wrong token is refused", "[coordinator][nats][errors]") {
    nats_server server({.token = "s3cret-token"});
    auto settings = settings_for(server);
    settings.connect_on_start = true;
    settings.token = "s3cret-token";
    recorder a_box, b_box;
    auto a = make_node(settings, 1, a_box);
    auto b = make_node(settings, 2, b_box);
    REQUIRE(eventually([&] { return a->transport().subscribed() && b->transport().subscribed(); }));
    a->publish(ping{1, 1, "with a token"});
    REQUIRE(eventually([&] { return b_box.count(1) == 1; }));
    settings.token = "guessed";
    try {
        transports::nats transport(settings);
        FAIL("wrong token accepted");
    } catch (const error& e) {
        CHECK(e.kind() == errc::authentication);
        CHECK_THAT(e.message(), !Catch::Contains("guessed"));
    }
}

TEST_CASE("nats: nothing listening is a connection error naming the address", "[coordinator][nats][errors]") {
    const auto port = hotstate::testing::free_port();
    transports::nats_settings settings;
    settings.url = "nats://127.0.0.1:" + std::to_string(port);
    settings.connect_on_start = true;
    try {
        transports::nats transport(settings);
        FAIL("connected to nothing");
    } catch (const error& e) {
        CHECK(e.kind() == errc::connection);
        CHECK_THAT(e.message(), Catch::Contains("127.0.0.1:" + std::to_string(port)));
    }
    transports::nats_settings bad;
    bad.url = "nats://u:pw-in-url@127.0.0.1:" + std::to_string(port);
    bad.connect_on_start = true;
    try {
        transports::nats transport(bad);
        FAIL("connected to nothing");
    } catch (const error& e) {
        CHECK_THAT(e.message(), !Catch::Contains("pw-in-url"));  // URL credentials are never printed
    }
}

TEST_CASE("nats: nats-server killed and restarted: lost, reconnected, the outage and the exact gap reported",
          "[coordinator][nats][restart]") {
    nats_server server;
    recorder sender_box, receiver_box;
    auto sender = make_node(settings_for(server), 1, sender_box);
    auto receiver = make_node(settings_for(server), 2, receiver_box);
    REQUIRE(eventually([&] { return sender->transport().subscribed() && receiver->transport().subscribed(); }));
    std::uint64_t n = 0;
    for (; n < 50; ++n) sender->publish(ping{1, n + 1, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 50; }));

    server.kill();
    REQUIRE(eventually([&] { return receiver_box.connections_of(connection_state::lost) == 1; }));
    server.start();
    REQUIRE(eventually(
        [&] {
            sender->publish(ping{1, ++n, ""});
            const auto got = receiver_box.from(1);
            return got.size() > 50 && got.back() > 60;
        },
        std::chrono::seconds{20}));
    REQUIRE(eventually([&] { return receiver_box.gaps_of(gap_kind::outage) == 1; }));
    CHECK(receiver_box.connections_of(connection_state::reconnected) == 1);
    const auto got = receiver_box.from(1);
    CHECK(coord_test::strictly_increasing(got));
    // what the client buffered while disconnected may arrive; what was lost is reported exactly
    std::uint64_t reported = 0;
    for (const auto& g : receiver_box.all_gaps()) {
        if (g.kind == gap_kind::outage) {
            CHECK_THAT(g.detail, Catch::Contains(server.address()));
        } else {
            REQUIRE(g.kind == gap_kind::sequence_skip);
            CHECK(g.publisher == 1);
            reported += g.lost_events;
        }
    }
    CHECK(reported == got.back() - got.size());
}

TEST_CASE("nats: the reconnect buffer is bounded: beyond it a send fails with memory_limit, reported",
          "[coordinator][nats][restart]") {
    nats_server server;
    auto settings = settings_for(server);
    settings.reconnect_buffer_bytes = 4096;
    settings.reconnect_wait = std::chrono::seconds{30};  // stays disconnected for the test
    recorder box;
    auto node = make_node(settings, 1, box);
    REQUIRE(eventually([&] { return node->transport().subscribed(); }));
    server.kill();
    REQUIRE(eventually([&] { return box.connections_of(connection_state::lost) == 1; }));
    std::uint64_t n = 0;
    REQUIRE(eventually([&] {
        node->publish(ping{1, ++n, std::string(500, 'x')});
        node->flush();
        return box.connections_of(connection_state::send_failed) == 1;
    }));
    const auto failed = box.first_of(connection_state::send_failed);
    REQUIRE(failed->problem);
    CHECK(failed->problem->kind() == errc::memory_limit);
    CHECK_THAT(failed->problem->message(), Catch::Contains("reconnect buffer"));
    CHECK(node->transport().stats().reconnect_buffered <= 4096);
    CHECK(node->stats().dropped_messages >= 1);
}
