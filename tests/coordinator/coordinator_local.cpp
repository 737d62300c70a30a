// The typed coordinator over the in-process transport: handlers, the error
// paths, send failure reports, stop. Delivery, batching, loss and garbage are
// the transport conformance suite's (conformance_local.cpp and the others).
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/local.hpp>

#include "support/eventually.hpp"
#include "support/fault_transports.hpp"
#include "test_events.hpp"

using namespace hotstate;
using coord_test::ping;
using coord_test::pings;
using hotstate::testing::eventually;

namespace {

using local_node = coordinator<transports::local, pings, channels::state_changes, channels::blocked_ips>;

}  // namespace


TEST_CASE("failing sends are reported once, and their recovery with its duration", "[coordinator][local][connection]") {
    auto bus = std::make_shared<transports::local_bus>();
    coordinator<hotstate::testing::flaky<transports::local>, pings> sender(
        {.node_id = 1, .send_backoff = {std::chrono::milliseconds{1}, std::chrono::milliseconds{4}}}, hotstate::testing::flaky<transports::local>(transports::local(bus), 5));
    std::mutex mutex;
    std::vector<connection_event> reported;
    sender.on_connection([&](const connection_event& e) {
        std::lock_guard lock(mutex);
        reported.push_back(e);
    });
    sender.start();
    sender.publish(ping{1, 1, ""});
    REQUIRE(sender.flush());
    CHECK(sender.stats().send_failures == 5);
    std::lock_guard lock(mutex);
    REQUIRE(reported.size() == 2);  // five failures with one error: one report
    CHECK(reported[0].state == connection_state::send_failed);
    REQUIRE(reported[0].problem);
    CHECK(reported[0].problem->kind() == errc::connection);
    CHECK(reported[0].problem->message() == "flaky: send refused");
    CHECK(reported[1].state == connection_state::send_recovered);
    CHECK_FALSE(reported[1].problem);
    CHECK(reported[1].down_for >= std::chrono::milliseconds{1 + 2 + 4 + 4});  // the backoff waits in between
}

TEST_CASE("handlers: several per event, both signatures, a throwing one is counted", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    local_node sender({.node_id = 1}, transports::local(bus));
    local_node receiver({.node_id = 2}, transports::local(bus));
    std::atomic<int> plain{0}, with_delivery{0}, states{0};
    receiver.subscribe<ping>([&](const ping&) { ++plain; });
    receiver.subscribe<ping>([&](const ping&, const delivery& d) {
        if (d.publisher == 1) ++with_delivery;
    });
    receiver.subscribe<ping>([](const ping&) { throw std::runtime_error("handler bug"); });
    receiver.subscribe<events::state_change>([&](const events::state_change& s) {
        if (s.account_id == 42 && s.has(events::changed_type::mailbox)) ++states;
    });
    receiver.start();
    sender.start();
    sender.publish(ping{1, 1, ""});
    sender.publish(events::state_change{42, 1, static_cast<std::uint64_t>(events::changed_type::mailbox)});
    REQUIRE(eventually([&] { return states.load() == 1 && plain.load() == 1; }));
    CHECK(with_delivery == 1);
    CHECK(receiver.stats().handler_failures == 1);
}

TEST_CASE("publish errors: oversize event, full queue, after stop; subscribe after start", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    local_node node({.node_id = 1, .max_event_bytes = 100, .max_pending_events = 3}, transports::local(bus));
    try {
        node.publish(ping{1, 1, std::string(200, 'x')});
        FAIL("oversize event accepted");
    } catch (const error& e) {
        CHECK(e.kind() == errc::invalid_argument);
        CHECK(std::string(e.what()).find("channel 'test-ping'") != std::string::npos);
        CHECK(std::string(e.what()).find("max_event_bytes") != std::string::npos);
    }
    // not started: nothing drains the queue
    for (int i = 0; i < 3; ++i) node.publish(ping{1, 1, ""});
    try {
        node.publish(ping{1, 1, ""});
        FAIL("queue bound ignored");
    } catch (const error& e) {
        CHECK(e.kind() == errc::memory_limit);
        CHECK(std::string(e.what()).find("max_pending_events") != std::string::npos);
    }
    node.start();
    REQUIRE(node.flush());
    node.publish(ping{1, 1, ""});  // room again once sent
    CHECK_THROWS_AS(node.subscribe<ping>([](const ping&) {}), error);
    CHECK_THROWS_AS(node.start(), error);
    node.stop();
    node.stop();  // idempotent
    CHECK_THROWS_AS(node.publish(ping{1, 1, ""}), error);
}

TEST_CASE("stop sends what was queued, then detaches", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    local_node receiver({.node_id = 2}, transports::local(bus));
    std::atomic<int> got{0};
    receiver.subscribe<ping>([&](const ping&) { ++got; });
    receiver.start();
    {
        local_node sender({.node_id = 1}, transports::local(bus));
        sender.start();
        for (std::uint64_t n = 0; n < 300; ++n) sender.publish(ping{1, n, ""});
    }  // destructor: stop
    CHECK(got.load() == 300);  // local delivery is synchronous: done when stop returned
    CHECK(bus->attached() == 1);
}

TEST_CASE("handlers may publish: two nodes play ping-pong", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    coordinator<transports::local, pings> a({.node_id = 1}, transports::local(bus));
    coordinator<transports::local, pings> b({.node_id = 2}, transports::local(bus));
    std::atomic<std::uint64_t> last{0};
    a.subscribe<ping>([&](const ping& p) {
        last = p.n;
        if (p.n < 200) a.publish(ping{1, p.n + 1, ""});
    });
    b.subscribe<ping>([&](const ping& p) { b.publish(ping{2, p.n + 1, ""}); });
    a.start();
    b.start();
    a.publish(ping{1, 0, ""});
    REQUIRE(eventually([&] { return last.load() >= 200; }));
    CHECK(a.stats().handler_failures == 0);
    CHECK(b.stats().handler_failures == 0);
}

TEST_CASE("bad batch settings are configuration errors", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    using node = coordinator<transports::local, pings>;
    CHECK_THROWS_AS(node({.node_id = 1, .max_batch_events = 0}, transports::local(bus)), error);
    try {
        node({.node_id = 1, .max_batch_events = 1'000'000}, transports::local(bus));
        FAIL("oversize batches accepted");
    } catch (const error& e) {
        CHECK(e.kind() == errc::configuration);
    }
}
