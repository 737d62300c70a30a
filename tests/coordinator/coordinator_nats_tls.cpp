// The NATS transports over TLS, against a nats-server started here with
// certificates made by tests/support/tls_certs.hpp.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

#include <hotstate/coordinator.hpp>
#include <hotstate/redis/tls.hpp>
#include <hotstate/transports/nats.hpp>

#include "redis_nodes.hpp"
#include "support/eventually.hpp"
#include "support/nats_server.hpp"
#include "support/tls_certs.hpp"

using namespace hotstate;
using coord_test::ping;
using coord_test::recorder;
using hotstate::testing::eventually;

// one TLS settings type for every client: a Redis node's settings fit a NATS transport
static_assert(std::is_same_v<redis::tls_options, transports::nats_tls_options>);

TEST_CASE("nats over TLS: nodes exchange events; a server signed by another CA is refused; a missing CA file "
          "is a configuration error naming it",
          "[coordinator][nats][tls]") {
    hotstate::testing::tls_certs certs;
    hotstate::testing::nats_server server({.tls_cert = certs.server_cert(), .tls_key = certs.server_key()});
    transports::nats_settings settings;
    settings.url = server.url();
    settings.tls.enabled = true;
    settings.tls.ca_file = certs.ca();
    settings.connect_on_start = true;

    using node = coordinator<transports::nats, coord_test::pings>;
    recorder a_box, b_box;
    node a({.node_id = 1}, transports::nats(settings));
    node b({.node_id = 2}, transports::nats(settings));
    a_box.attach(a);
    b_box.attach(b);
    a.start();
    b.start();
    REQUIRE(eventually([&] { return a.transport().subscribed() && b.transport().subscribed(); }));
    a.publish(ping{1, 1, "over TLS"});
    REQUIRE(eventually([&] { return b_box.count(1) == 1; }));

    auto foreign = settings;
    foreign.tls.ca_file = certs.other_ca();
    try {
        transports::nats transport(foreign);
        FAIL("a server signed by another CA accepted");
    } catch (const error& e) {
        CHECK(e.kind() == errc::connection);
        CHECK_THAT(e.message(), Catch::Contains(server.address()));
    }

    // verification off (tests only): the same foreign CA is accepted
    auto unverified = foreign;
    unverified.tls.verify_peer = false;
    {
        transports::nats transport(unverified);
        transport.flush();  // connected: a PING round trip answered
    }

    // a directory of CA certificates is Redis's option only: refused, named
    auto directory = settings;
    directory.tls.ca_path = "/etc/ssl/certs";
    try {
        transports::nats transport(directory);
        FAIL("a CA directory accepted");
    } catch (const error& e) {
        CHECK(e.kind() == errc::configuration);
        CHECK_THAT(e.message(), Catch::Contains("tls.ca_path '/etc/ssl/certs'"));
    }

    auto missing = settings;
    missing.tls.ca_file = "/nonexistent/hotstate-nats-ca.crt";
    try {
        transports::nats transport(missing);
        FAIL("an unreadable CA file accepted");
    } catch (const error& e) {
        CHECK(e.kind() == errc::configuration);
        CHECK_THAT(e.message(), Catch::Contains("/nonexistent/hotstate-nats-ca.crt"));
    }
}
