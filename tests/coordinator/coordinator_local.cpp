// The typed coordinator over the in-process transport: delivery, batching,
// loss detection and the error paths, with several nodes in one process.
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
#include "test_events.hpp"

using namespace hotstate;
using coord_test::ping;
using coord_test::pings;
using hotstate::testing::eventually;

namespace {

using local_node = coordinator<transports::local, pings, channels::state_changes, channels::blocked_ips>;

/// What one node received; filled on the delivery thread, read after eventually().
struct inbox {
    std::mutex mutex;
    std::map<std::uint64_t, std::vector<std::uint64_t>> by_publisher;  // publisher -> n in arrival order
    std::atomic<std::uint64_t> total{0};
    std::atomic<std::uint64_t> wrong_publisher{0};

    void add(const ping& p, const delivery& from) {
        if (p.from != from.publisher) ++wrong_publisher;
        std::lock_guard lock(mutex);
        by_publisher[from.publisher].push_back(p.n);
        ++total;
    }
};

}  // namespace

TEST_CASE("three nodes: every event reaches every other node once, in order, never its sender",
          "[coordinator][local]") {
    const auto mode = GENERATE(coordinator_options::send_mode::background, coordinator_options::send_mode::caller_when_idle);
    auto bus = std::make_shared<transports::local_bus>();
    constexpr std::uint64_t per_node = 500;
    std::vector<std::unique_ptr<local_node>> nodes;
    std::vector<std::unique_ptr<inbox>> inboxes;
    for (std::uint64_t id = 1; id <= 3; ++id) {
        nodes.push_back(
            std::make_unique<local_node>(coordinator_options{.node_id = id, .sending = mode}, transports::local(bus)));
        inboxes.push_back(std::make_unique<inbox>());
        nodes.back()->subscribe<ping>([box = inboxes.back().get()](const ping& p, const delivery& d) { box->add(p, d); });
        nodes.back()->start();
    }
    REQUIRE(bus->attached() == 3);
    for (std::uint64_t n = 1; n <= per_node; ++n)
        for (std::uint64_t id = 1; id <= 3; ++id) nodes[id - 1]->publish(ping{id, n, "hello"});

    for (auto& box : inboxes)
        REQUIRE(eventually([&] { return box->total.load() >= 2 * per_node; }));
    for (auto& node : nodes) REQUIRE(node->flush());
    for (std::uint64_t id = 1; id <= 3; ++id) {
        auto& box = *inboxes[id - 1];
        std::lock_guard lock(box.mutex);
        CHECK(box.total == 2 * per_node);
        CHECK(box.wrong_publisher == 0);
        CHECK(box.by_publisher.count(id) == 0);  // never its own
        for (auto& [publisher, ns] : box.by_publisher) {
            REQUIRE(ns.size() == per_node);
            for (std::uint64_t i = 0; i < per_node; ++i) CHECK(ns[i] == i + 1);
        }
        const auto stats = nodes[id - 1]->stats();
        CHECK(stats.gaps == 0);
        CHECK(stats.duplicate_messages == 0);
        CHECK(stats.malformed_messages == 0);
        CHECK(stats.published_events == per_node);
    }
}

TEST_CASE("events published together are batched into few messages, bounded in size", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    local_node sender({.node_id = 1, .max_batch_events = 50}, transports::local(bus));
    local_node receiver({.node_id = 2}, transports::local(bus));
    std::atomic<std::uint64_t> got{0};
    receiver.subscribe<ping>([&](const ping&) { ++got; });
    receiver.start();
    // queue before start: everything waits, then goes out in full batches
    for (std::uint64_t n = 1; n <= 1000; ++n) sender.publish(ping{1, n, ""});
    sender.start();
    REQUIRE(sender.flush());
    REQUIRE(eventually([&] { return got.load() == 1000; }));
    const auto stats = sender.stats();
    CHECK(stats.sent_messages == 20);  // 1000 / 50, no batch over the bound
    CHECK(receiver.stats().received_messages == 20);
}

TEST_CASE("batches are also bounded in bytes", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    local_node sender({.node_id = 1, .max_batch_bytes = 2500}, transports::local(bus));
    local_node receiver({.node_id = 2}, transports::local(bus));
    std::atomic<std::uint64_t> got{0};
    receiver.subscribe<ping>([&](const ping&) { ++got; });
    receiver.start();
    for (std::uint64_t n = 1; n <= 30; ++n) sender.publish(ping{1, n, std::string(1000, 'x')});
    sender.start();
    REQUIRE(sender.flush());
    REQUIRE(eventually([&] { return got.load() == 30; }));
    CHECK(sender.stats().sent_messages == 10);  // a batch closes once it holds 2500 bytes: 3 events each
}

TEST_CASE("a node ignores and counts events of channels it does not declare", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    coordinator<transports::local, coord_test::others, pings> wide({.node_id = 1}, transports::local(bus));
    coordinator<transports::local, pings> narrow({.node_id = 2}, transports::local(bus));
    std::atomic<int> pings_seen{0};
    narrow.subscribe<ping>([&](const ping&) { ++pings_seen; });
    wide.start();
    narrow.start();
    wide.publish(coord_test::other{5});
    wide.publish(ping{1, 1, ""});
    REQUIRE(eventually([&] { return pings_seen.load() == 1; }));
    CHECK(narrow.stats().unknown_channel_events == 1);
}

TEST_CASE("garbage on the bus is skipped and counted; the node keeps working", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    local_node node({.node_id = 2}, transports::local(bus));
    std::atomic<int> got{0};
    node.subscribe<ping>([&](const ping&) { ++got; });
    node.start();
    transports::local raw(bus);
    raw.send("not a coordinator message");
    raw.send("");
    raw.send(std::string("\xC7\x02\x05", 3));  // a valid start, then truncated
    // a valid frame whose payload does not decode as a ping
    std::string body;
    detail::append_event(body, pings::tag, "\xff");
    std::string bad_payload;
    detail::encode_message(bad_payload, {9, 1, 1, 1, 1}, body);
    raw.send(bad_payload);

    local_node sender({.node_id = 1}, transports::local(bus));
    sender.start();
    sender.publish(ping{1, 1, "after the garbage"});
    REQUIRE(eventually([&] { return got.load() == 1; }));
    const auto stats = node.stats();
    CHECK(stats.malformed_messages == 3);
    CHECK(stats.malformed_events == 1);
    CHECK(stats.delivered_events == 1);
}

namespace {

/// A local transport that loses the sends it is told to lose: a stand-in for a
/// network that drops messages, to drive the loss detector end to end.
class lossy {
public:
    static constexpr bool durable = false;
    lossy(std::shared_ptr<transports::local_bus> bus, std::shared_ptr<std::atomic<int>> drop_next)
        : inner_(std::move(bus)), drop_next_(std::move(drop_next)) {}
    void send(std::string_view message) {
        if (drop_next_->load() > 0) {
            --*drop_next_;
            return;
        }
        inner_.send(message);
    }
    template <class Sink>
    void start(Sink& sink) { inner_.start(sink); }
    void stop() { inner_.stop(); }

private:
    transports::local inner_;
    std::shared_ptr<std::atomic<int>> drop_next_;
};

}  // namespace

namespace {

/// A durable local transport whose first `failures` sends throw: the
/// coordinator must retry them, keep their sequence numbers, lose nothing.
class flaky {
public:
    static constexpr bool durable = true;
    flaky(std::shared_ptr<transports::local_bus> bus, int failures) : inner_(std::move(bus)), failures_(failures) {}
    void send(std::string_view message) {
        if (failures_ > 0) {
            --failures_;
            throw error(errc::connection, "flaky: send refused");
        }
        inner_.send(message);
    }
    template <class Sink>
    void start(Sink& sink) { inner_.start(sink); }
    void stop() { inner_.stop(); }

private:
    transports::local inner_;
    int failures_;  // send() is never called concurrently
};

}  // namespace

TEST_CASE("a durable transport's failed sends are retried: nothing lost, no gap, nothing twice",
          "[coordinator][local][loss]") {
    const auto mode = GENERATE(coordinator_options::send_mode::background, coordinator_options::send_mode::caller_when_idle);
    auto bus = std::make_shared<transports::local_bus>();
    coordinator<flaky, pings> sender(
        {.node_id = 1, .send_backoff = {std::chrono::milliseconds{1}, std::chrono::milliseconds{4}}, .sending = mode},
        flaky(bus, 3));
    coordinator<transports::local, pings> receiver({.node_id = 2}, transports::local(bus));
    std::mutex mutex;
    std::vector<std::uint64_t> got;
    receiver.subscribe<ping>([&](const ping& p) {
        std::lock_guard lock(mutex);
        got.push_back(p.n);
    });
    receiver.start();
    sender.start();
    for (std::uint64_t n = 1; n <= 50; ++n) sender.publish(ping{1, n, ""});
    REQUIRE(sender.flush());
    REQUIRE(eventually([&] {
        std::lock_guard lock(mutex);
        return got.size() == 50;
    }));
    std::lock_guard lock(mutex);
    for (std::uint64_t i = 0; i < got.size(); ++i) CHECK(got[i] == i + 1);
    CHECK(sender.stats().send_failures == 3);
    CHECK(sender.stats().dropped_messages == 0);
    CHECK(receiver.stats().gaps == 0);
    CHECK(receiver.stats().duplicate_messages == 0);
}

TEST_CASE("lost messages are reported as a sequence gap naming the publisher and range", "[coordinator][local][loss]") {
    auto bus = std::make_shared<transports::local_bus>();
    auto drop = std::make_shared<std::atomic<int>>(0);
    coordinator<lossy, pings> sender({.node_id = 11}, lossy(bus, drop));
    coordinator<transports::local, pings> receiver({.node_id = 12}, transports::local(bus));
    std::mutex mutex;
    std::vector<gap> gaps;
    std::atomic<int> got{0};
    receiver.subscribe<ping>([&](const ping&) { ++got; });
    receiver.on_gap([&](const gap& g) {
        std::lock_guard lock(mutex);
        gaps.push_back(g);
    });
    receiver.start();
    sender.start();
    sender.publish(ping{11, 1, ""});
    REQUIRE(sender.flush());
    *drop = 2;
    sender.publish(ping{11, 2, ""});
    REQUIRE(sender.flush());
    sender.publish(ping{11, 3, ""});
    REQUIRE(sender.flush());
    sender.publish(ping{11, 4, ""});
    REQUIRE(eventually([&] { return got.load() == 2; }));
    std::lock_guard lock(mutex);
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].kind == gap_kind::sequence_skip);
    CHECK(gaps[0].publisher == 11);
    CHECK(gaps[0].first_missing == 2);
    CHECK(gaps[0].last_missing == 3);
    CHECK(receiver.stats().gaps == 1);
}

namespace {

/// A local transport that loses the sends whose (1-based) numbers it is given.
class dropping {
public:
    static constexpr bool durable = false;
    dropping(std::shared_ptr<transports::local_bus> bus, std::set<int> lose) : inner_(std::move(bus)), lose_(std::move(lose)) {}
    void send(std::string_view message) {
        if (!lose_.contains(++sends_)) inner_.send(message);
    }
    template <class Sink>
    void start(Sink& sink) { inner_.start(sink); }
    void stop() { inner_.stop(); }

private:
    transports::local inner_;
    std::set<int> lose_;
    int sends_ = 0;  // send() is never called concurrently
};

}  // namespace

TEST_CASE("a gap says how many events the lost messages held", "[coordinator][local][loss]") {
    auto bus = std::make_shared<transports::local_bus>();
    // events queued before start() are batched four to a message: [1-4] [5-8] [9-12] [13]
    coordinator<dropping, pings> sender({.node_id = 21, .max_batch_events = 4}, dropping(bus, {2, 3}));
    coordinator<transports::local, pings> receiver({.node_id = 22}, transports::local(bus));
    std::mutex mutex;
    std::vector<gap> gaps;
    std::vector<std::uint64_t> got;
    receiver.subscribe<ping>([&](const ping& p) {
        std::lock_guard lock(mutex);
        got.push_back(p.n);
    });
    receiver.on_gap([&](const gap& g) {
        std::lock_guard lock(mutex);
        gaps.push_back(g);
    });
    receiver.start();
    for (std::uint64_t n = 1; n <= 13; ++n) sender.publish(ping{21, n, ""});
    sender.start();
    REQUIRE(sender.flush());
    std::lock_guard lock(mutex);  // local delivery is synchronous: done when flush returned
    CHECK(got == std::vector<std::uint64_t>{1, 2, 3, 4, 13});
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].kind == gap_kind::sequence_skip);
    CHECK(gaps[0].publisher == 21);
    CHECK(gaps[0].first_missing == 2);
    CHECK(gaps[0].last_missing == 3);
    CHECK(gaps[0].lost_events == 8);
}

TEST_CASE("failing sends are reported once, and their recovery with its duration", "[coordinator][local][connection]") {
    auto bus = std::make_shared<transports::local_bus>();
    coordinator<flaky, pings> sender(
        {.node_id = 1, .send_backoff = {std::chrono::milliseconds{1}, std::chrono::milliseconds{4}}}, flaky(bus, 5));
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
