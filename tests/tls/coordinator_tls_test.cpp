// The coordinator's Redis transports over TLS: pub/sub (the subscriber's own
// poll loop with health-check PINGs) and streams (blocking XREAD) against a
// TLS-only port, with the client certificate of a mutual-TLS server.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/events.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

#include "coordinator/redis_nodes.hpp"
#include "support/eventually.hpp"
#include "support/tls_certs.hpp"
#include "tls/tls_fixture.hpp"

using namespace hotstate;
using namespace coord_test;
using hotstate::testing::redis_tls_server;

namespace {

redis::config mutual_config(const redis_tls_server& server) {
    auto settings = tls_config_for(server.tls_port());
    settings.node.timeout = std::chrono::seconds{2};
    settings.node.tls.cert_file = shared_tls_certs().client_cert();
    settings.node.tls.key_file = shared_tls_certs().client_key();
    return settings;
}

template <class Node>
void check_exchange(std::vector<std::unique_ptr<Node>>& nodes, recorder (&boxes)[2]) {
    constexpr std::uint64_t per_node = 200;
    for (std::uint64_t n = 1; n <= per_node; ++n)
        for (std::uint64_t id = 1; id <= 2; ++id) nodes[id - 1]->publish(ping{id, n, "x"});
    for (auto& box : boxes) REQUIRE(eventually([&] { return box.total.load() >= per_node; }));
    for (auto& node : nodes) REQUIRE(node->flush());
    for (std::uint64_t id = 1; id <= 2; ++id) {
        const auto other = 3 - id;
        CHECK(boxes[id - 1].total.load() == per_node);
        CHECK(boxes[id - 1].count(id) == 0);
        const auto ns = boxes[id - 1].from(other);
        CHECK(ns.size() == per_node);
        CHECK(coord_test::strictly_increasing(ns));
        CHECK(nodes[id - 1]->stats().gaps == 0);
    }
}

}  // namespace

TEST_CASE("tls coordinator: pub/sub over mutual TLS, every event once, health-check PINGs answered",
          "[tls][coordinator][pubsub]") {
    redis_tls_server server(shared_tls_certs(), {.auth_clients = true});
    using node_type = coordinator<transports::redis_pubsub, coord_test::pings, channels::blocked_ips>;
    recorder boxes[2];
    std::vector<std::unique_ptr<node_type>> nodes;
    transports::redis_pubsub_options options;
    options.health_check_interval = std::chrono::milliseconds{50};  // PINGs go out while the test runs
    for (std::uint64_t id = 1; id <= 2; ++id) {
        nodes.push_back(start_node<node_type>({.node_id = id}, transports::redis_pubsub(mutual_config(server), options),
                                              boxes[id - 1]));
    }
    for (auto& node : nodes) REQUIRE(eventually([&] { return node->transport().subscribed(); }));
    check_exchange(nodes, boxes);
    // quiet: the subscribers PING every 50 ms; the server counts the PINGs, and
    // a PONG lost in the TLS layer would end the subscription (a resubscribe)
    const auto pings = [&] {
        const auto info = server.plain().command({"INFO", "commandstats"});
        const std::string text(info->str, info->len);
        const auto at = text.find("cmdstat_ping:calls=");
        return at == std::string::npos ? 0L : std::stol(text.substr(at + 19));
    };
    REQUIRE(eventually([&] { return pings() >= 6; }));
    for (auto& node : nodes) CHECK(node->transport().stats().subscriptions == 1);
    nodes[1]->publish(ping{2, 1000, "after the quiet"});
    REQUIRE(eventually([&] { return boxes[0].total.load() == 201; }));
}

TEST_CASE("tls coordinator: streams over mutual TLS, every event once", "[tls][coordinator][streams]") {
    redis_tls_server server(shared_tls_certs(), {.auth_clients = true});
    using node_type = coordinator<transports::redis_streams, coord_test::pings, channels::certificates>;
    recorder boxes[2];
    std::vector<std::unique_ptr<node_type>> nodes;
    transports::redis_streams_options options;
    options.block = std::chrono::milliseconds{200};
    for (std::uint64_t id = 1; id <= 2; ++id) {
        nodes.push_back(start_node<node_type>({.node_id = id}, transports::redis_streams(mutual_config(server), options),
                                              boxes[id - 1]));
        REQUIRE(eventually([&] { return nodes.back()->transport().reading(); }));
    }
    check_exchange(nodes, boxes);
}
