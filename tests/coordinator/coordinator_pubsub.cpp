// The coordinator over Redis pub/sub, against a real redis-server started here:
// what is specific to it (restarts, health checks, credentials, a shared pool).
// Delivery, batching, loss and garbage are the conformance suite's (conformance_redis.cpp).
#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <hotstate/backends/redis.hpp>
#include <hotstate/coordinator.hpp>
#include <hotstate/events.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/transports/redis_pubsub.hpp>

#include "redis_nodes.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

using namespace hotstate;
using namespace coord_test;
using hotstate::testing::redis_server;
using hotstate::testing::transport_config;

namespace {

using pubsub_node = coordinator<transports::redis_pubsub, coord_test::pings, channels::blocked_ips>;

std::unique_ptr<pubsub_node> make_node(const redis_server& server, std::uint64_t id, recorder& box,
                                       transports::redis_pubsub_options options = {},
                                       coordinator_options::send_mode mode = coordinator_options::send_mode::background) {
    return start_node<pubsub_node>({.node_id = id, .sending = mode}, transports::redis_pubsub(transport_config(server), options),
                                   box);
}

}  // namespace

TEST_CASE("pubsub: server restarted mid-stream, the subscriber comes back by itself and reports the gap",
          "[coordinator][redis][pubsub][restart]") {
    redis_server server;
    recorder sender_box, receiver_box;
    auto sender = make_node(server, 1, sender_box);
    auto receiver = make_node(server, 2, receiver_box);
    REQUIRE(eventually([&] { return receiver->transport().subscribed(); }));
    const auto got = across_an_outage(*sender, receiver_box, [&] { server.restart(); }, server.address());
    CHECK(receiver->transport().stats().subscriptions == 2);
    // whether anything was lost depends on who came back first, the subscriber or
    // the publisher; what must hold is that a loss is reported exactly when it happens
    const bool holes = got.size() != got.back();
    CHECK(holes == (receiver_box.gaps_of(gap_kind::sequence_skip) > 0));
}

TEST_CASE("pubsub: stop is prompt although the subscriber blocks in a read without timeout",
          "[coordinator][redis][pubsub]") {
    redis_server server;
    recorder box;
    auto node = make_node(server, 1, box);
    REQUIRE(eventually([&] { return node->transport().subscribed(); }));
    const auto before = std::chrono::steady_clock::now();
    node->stop();
    const auto took = std::chrono::steady_clock::now() - before;
    CHECK(took < std::chrono::seconds{2});  // a deadline, not a speed claim: without shutdown(2) it never returns
    CHECK_FALSE(node->transport().subscribed());
}

TEST_CASE("pubsub: typed errors for bad settings, a dead server and a wrong password",
          "[coordinator][redis][pubsub][errors]") {
    SECTION("TLS settings that cannot be used are refused at construction") {
        redis::config settings;
        settings.url = "rediss://127.0.0.1:6390";
        settings.node.tls.ca_file = "/nonexistent/hotstate-ca.crt";
        try {
            transports::redis_pubsub transport(settings);
            FAIL("an unreadable CA file accepted");
        } catch (const error& e) {
            CHECK(e.kind() == errc::configuration);
            CHECK_THAT(e.message(), Catch::Contains("/nonexistent/hotstate-ca.crt"));
        }
    }
    SECTION("a dead server: ping names the address; publishing drops and counts, the subscriber keeps trying") {
        const auto port = hotstate::testing::free_port();
        redis::config settings;
        settings.url = "redis://127.0.0.1:" + std::to_string(port);
        settings.node.timeout = std::chrono::milliseconds{500};
        transports::redis_pubsub transport(settings);
        try {
            transport.ping();
            FAIL("ping to a dead server succeeded");
        } catch (const error& e) {
            CHECK(e.kind() == errc::connection);
            CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
        }
        pubsub_node node({.node_id = 1, .send_backoff = {std::chrono::milliseconds{1}, std::chrono::milliseconds{1}}},
                         std::move(transport));
        node.start();
        node.publish(ping{1, 1, ""});
        REQUIRE(node.flush());
        CHECK(node.stats().dropped_messages == 1);
        CHECK(node.stats().send_failures >= 1);
        REQUIRE(eventually([&] { return node.transport().stats().connect_failures >= 2; }));
        CHECK(node.transport().last_error().find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
    }
    SECTION("a wrong password: errc::authentication, the password never printed") {
        redis_server secured({.requirepass = "right-horse"});
        redis::config settings;
        settings.url = "redis://:wrong-battery@127.0.0.1:" + std::to_string(secured.port());
        transports::redis_pubsub transport(settings);
        try {
            transport.ping();
            FAIL("wrong password accepted");
        } catch (const error& e) {
            CHECK(e.kind() == errc::authentication);
            CHECK(std::string(e.what()).find(secured.address()) != std::string::npos);
            CHECK(std::string(e.what()).find("wrong-battery") == std::string::npos);
        }
    }
}

TEST_CASE("pubsub: the Default way shares a Redis store's connection pool", "[coordinator][redis][pubsub]") {
    redis_server server;
    backends::redis store(transport_config(server));
    recorder box_a, box_b;
    pubsub_node a({.node_id = 1}, transports::redis_pubsub(store.connections()));
    pubsub_node b({.node_id = 2}, transports::redis_pubsub(transport_config(server)));
    box_a.attach(a);
    box_b.attach(b);
    a.start();
    b.start();
    REQUIRE(eventually([&] { return a.transport().subscribed() && b.transport().subscribed(); }));
    a.publish(ping{1, 1, ""});
    b.publish(ping{2, 1, ""});
    REQUIRE(eventually([&] { return box_a.total.load() == 1 && box_b.total.load() == 1; }));
    CHECK(store.connections().open_connections() >= 1);  // a's PUBLISH went through the store's pool
}

TEST_CASE("pubsub: a frozen server (no FIN, no data) is noticed by the health check; the subscriber comes back",
          "[coordinator][redis][pubsub][restart]") {
    redis_server server;
    recorder sender_box, receiver_box;
    transports::redis_pubsub_options watchful;
    watchful.health_check_interval = std::chrono::milliseconds{100};
    auto sender = make_node(server, 1, sender_box);
    auto receiver = make_node(server, 2, receiver_box, watchful);
    REQUIRE(eventually([&] { return receiver->transport().subscribed(); }));
    sender->publish(ping{1, 1, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 1; }));

    server.child().signal(SIGSTOP);
    const bool noticed = eventually([&] { return !receiver->transport().subscribed(); }, std::chrono::seconds{10});
    const std::string why = receiver->transport().last_error();
    server.child().signal(SIGCONT);
    REQUIRE(noticed);
    CHECK(why.find("health-check PING") != std::string::npos);

    std::uint64_t n = 1;
    REQUIRE(eventually(
        [&] {
            sender->publish(ping{1, ++n, ""});
            return receiver_box.count(1) > 1;
        },
        std::chrono::seconds{20}));
    CHECK(receiver_box.gaps_of(gap_kind::outage) == 1);
    CHECK(receiver->transport().stats().subscriptions == 2);
}

TEST_CASE("pubsub: messages published while a subscriber is cut off are reported as exactly that gap, in events",
          "[coordinator][redis][pubsub]") {
    redis_server server;
    recorder sender_box, receiver_box;
    transports::redis_pubsub_options slow_return;
    slow_return.reconnect = {std::chrono::milliseconds{1000}, std::chrono::milliseconds{1000}};
    auto sender = make_node(server, 1, sender_box);
    auto receiver = make_node(server, 2, receiver_box, slow_return);
    REQUIRE(eventually([&] { return receiver->transport().subscribed(); }));
    for (std::uint64_t n = 1; n <= 5; ++n) {
        sender->publish(ping{1, n, ""});
        REQUIRE(sender->flush());  // one message each: sequence numbers 1..5
    }
    REQUIRE(eventually([&] { return receiver_box.count(1) == 5; }));

    server.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    REQUIRE(eventually([&] { return !receiver->transport().subscribed(); }));
    for (std::uint64_t n = 6; n <= 8; ++n) {  // the subscriber waits a second before it returns
        sender->publish(ping{1, n, ""});
        REQUIRE(sender->flush());  // messages 6, 7, 8: one event each
    }
    for (std::uint64_t n = 9; n <= 20; ++n) sender->publish(ping{1, n, ""});  // batched as the sender likes
    REQUIRE(sender->flush());
    const auto sent = sender->stats().sent_messages;
    REQUIRE(eventually([&] { return receiver->transport().subscribed(); }));
    sender->publish(ping{1, 21, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 6; }));

    CHECK(receiver_box.from(1) == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 21});
    const auto gaps = receiver_box.all_gaps();
    REQUIRE(gaps.size() == 2);
    CHECK(gaps[0].kind == gap_kind::outage);
    CHECK(gaps[0].duration >= std::chrono::milliseconds{900});
    CHECK(gaps[1].kind == gap_kind::sequence_skip);
    CHECK(gaps[1].publisher == 1);
    CHECK(gaps[1].first_missing == 6);
    CHECK(gaps[1].last_missing == sent);  // every message sent while it was away
    CHECK(gaps[1].lost_events == 15);     // events 6..20, however they were batched

    // the subscriber's side of it, through on_connection
    const auto lost = receiver_box.first_of(connection_state::lost);
    REQUIRE(lost);
    REQUIRE(lost->problem);
    CHECK(lost->problem->kind() == errc::connection);
    const auto back = receiver_box.first_of(connection_state::reconnected);
    REQUIRE(back);
    CHECK(back->down_for >= std::chrono::milliseconds{900});
}

TEST_CASE("pubsub: a wrong password is reported through on_connection; connect_on_start throws it",
          "[coordinator][redis][pubsub][errors]") {
    redis_server secured({.requirepass = "right-horse"});
    redis::config settings;
    settings.url = "redis://:wrong-battery@127.0.0.1:" + std::to_string(secured.port());
    settings.node.timeout = std::chrono::seconds{2};
    SECTION("connect_on_start: the constructor throws errc::authentication") {
        settings.connect_on_start = true;
        try {
            transports::redis_pubsub transport(settings);
            FAIL("a wrong password passed connect_on_start");
        } catch (const error& e) {
            CHECK(e.kind() == errc::authentication);
            CHECK(std::string(e.what()).find(secured.address()) != std::string::npos);
            CHECK(std::string(e.what()).find("wrong-battery") == std::string::npos);
        }
    }
    SECTION("started anyway: subscriber and sender report the refusal, once each") {
        transports::redis_pubsub_options fast;
        fast.reconnect = {std::chrono::milliseconds{10}, std::chrono::milliseconds{20}};
        pubsub_node node({.node_id = 1, .send_backoff = {std::chrono::milliseconds{1}, std::chrono::milliseconds{1}}},
                         transports::redis_pubsub(settings, fast));
        recorder box;
        box.attach(node);
        node.start();
        node.publish(ping{1, 1, ""});
        REQUIRE(node.flush());
        node.publish(ping{1, 2, ""});
        REQUIRE(node.flush());
        REQUIRE(eventually([&] { return node.transport().stats().connect_failures >= 5; }));
        CHECK(box.connections_of(connection_state::connect_failed) == 1);  // not once per retry
        CHECK(box.connections_of(connection_state::send_failed) == 1);
        CHECK(box.connections_of(connection_state::connected) == 0);
        for (const auto& event : box.connections()) {
            REQUIRE(event.problem);
            CHECK(event.problem->kind() == errc::authentication);
            CHECK(event.problem->message().find(secured.address()) != std::string::npos);
            CHECK(std::string(event.problem->what()).find("wrong-battery") == std::string::npos);
        }
        CHECK(node.stats().dropped_messages == 2);
    }
}

TEST_CASE("pubsub: a server that goes down and comes back is reported: lost, refused, reconnected, sends recovered",
          "[coordinator][redis][pubsub][restart]") {
    redis_server server;
    transports::redis_pubsub_options fast;
    fast.reconnect = {std::chrono::milliseconds{20}, std::chrono::milliseconds{100}};
    recorder sender_box, receiver_box;
    auto sender = make_node(server, 1, sender_box);
    auto receiver = make_node(server, 2, receiver_box, fast);
    REQUIRE(eventually([&] { return receiver_box.connections_of(connection_state::connected) == 1; }));
    CHECK(receiver_box.connections().size() == 1);

    server.stop();
    REQUIRE(eventually([&] { return receiver_box.connections_of(connection_state::lost) == 1; }));
    REQUIRE(eventually([&] { return receiver_box.connections_of(connection_state::connect_failed) == 1; }));
    const auto refused = receiver_box.first_of(connection_state::connect_failed);
    REQUIRE(refused->problem);
    CHECK(refused->problem->kind() == errc::connection);
    CHECK(refused->problem->message().find(server.address()) != std::string::npos);
    sender->publish(ping{1, 1, ""});  // nobody to take it: dropped, and said so
    REQUIRE(sender->flush());
    REQUIRE(eventually([&] { return sender_box.connections_of(connection_state::send_failed) == 1; }));
    REQUIRE(eventually([&] { return receiver->transport().stats().connect_failures >= 4; }));

    server.start();
    REQUIRE(eventually([&] { return receiver_box.connections_of(connection_state::reconnected) == 1; },
                       std::chrono::seconds{20}));
    std::uint64_t n = 1;
    REQUIRE(eventually([&] {
        sender->publish(ping{1, ++n, ""});
        return sender_box.connections_of(connection_state::send_recovered) == 1 && receiver_box.count(1) > 0;
    }));
    const auto back = receiver_box.first_of(connection_state::reconnected);
    CHECK(back->down_for > std::chrono::milliseconds{0});
    // refused at every attempt, said once (twice at most, should one attempt have met the server shutting down)
    CHECK(receiver_box.connections_of(connection_state::connect_failed) <= 2);
    CHECK(receiver->transport().stats().connect_failures >= 4);
}
