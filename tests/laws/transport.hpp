// The laws of the Transport concept (hotstate/transport.hpp), run through the
// coordinator by every transport model: a transport is "done" when it passes.
//
//   capability      what the model has                          laws
//   transport       the Transport concept: every model          delivery, batches, gap accounting,
//                                                               retries, garbage, unknown channels
//   durable         T::durable: nothing is lost while a node     catch-up after a stop, and a node
//                   is away                                     SIGKILLed mid-message resuming
//   server_restart  the fixture owns the server and can          the server restarted under it
//                   stop and start it
//
//   using hotstate_transport_models = std::tuple<laws::transport_model<my_fixture, laws::transport, laws::durable>>;
//   #include "laws/transport.hpp"
//
// What a model states is checked against the transport and the fixture (a
// durable transport whose model does not state `durable` is a compile error).
//
// A fixture `F` is default-constructible (one per test case, on a channel /
// subject / stream of its own, so test cases never see each other's traffic):
//   using transport = ...;                      the model under test
//   transport make(std::uint64_t node);         a transport for `node`; for durable
//                                               models, a node made again resumes
//                                               where the last one of that id stopped
//   static bool ready(transport&);              its receive side is live (subscribed,
//                                               positioned): what is sent now arrives
//   void inject(std::string_view bytes);        raw bytes on the wire, past hotstate
// a durable one:
//   std::vector<std::string> worker_arguments(std::uint64_t node);  how laws_transport_worker
//                                               (laws/transport_worker.cpp) makes `node`'s transport
// and, when the fixture owns the server the transport talks to (fixtures without
// them say why in their comment):
//   void stop_server();                         the server goes away (SIGTERM; a durable
//                                               transport's server keeps its data)
//   void start_server();                        and comes back on the same address
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/coordinator.hpp>

#include "coordinator/redis_nodes.hpp"
#include "coordinator/test_events.hpp"
#include "laws/transport_model.hpp"
#include "support/eventually.hpp"
#include "support/fault_transports.hpp"
#include "support/loopback.hpp"
#include "support/process.hpp"

namespace laws::registered {
using transport = models_with<laws::transport, hotstate_transport_models, transport_family>;
using durable = models_with<laws::durable, hotstate_transport_models, transport_family>;
using server_restart = models_with<laws::server_restart, hotstate_transport_models, transport_family>;
}  // namespace laws::registered

namespace transport_conformance {

using coord_test::ping;
using coord_test::recorder;
using hotstate::testing::eventually;

template <class T>
using node = hotstate::coordinator<T, coord_test::pings, coord_test::others>;

/// A started node of `F::transport` whose receive side is live.
template <class F>
std::unique_ptr<node<typename F::transport>> started(F& fixture, std::uint64_t id, recorder& box,
                                                     hotstate::coordinator_options options = {}) {
    options.node_id = id;
    auto made = coord_test::start_node<node<typename F::transport>>(options, fixture.make(id), box);
    REQUIRE(eventually([&] { return F::ready(made->transport()); }, std::chrono::seconds{20}));
    return made;
}

inline constexpr auto deadline = std::chrono::seconds{20};

/// A node (not started) of `F::transport` wrapped in the fault decorator `Fault`
/// (support/fault_transports.hpp), made with `fault_argument`, recording in `box`.
template <template <class> class Fault, class F, class Argument>
auto faulty_node(F& fixture, recorder& box, hotstate::coordinator_options options, Argument fault_argument) {
    using wrapped = Fault<typename F::transport>;
    auto made = std::make_unique<hotstate::coordinator<wrapped, coord_test::pings>>(
        options, wrapped(fixture.make(options.node_id), std::move(fault_argument)));
    box.attach(*made);
    return made;
}

/// The path of laws_transport_worker, which the crash law of a durable model `F` starts.
template <class F>
std::string transport_worker_program() {
#ifdef HOTSTATE_TRANSPORT_WORKER
    return HOTSTATE_TRANSPORT_WORKER;
#else
    static_assert(sizeof(F) == 0, "laws: a durable transport's model runs the crash law, which starts "
                                  "laws_transport_worker: call hotstate_laws_use_transport_worker(<the test>) in CMake");
    return {};
#endif
}

/// What a laws_transport_worker's log says it handled: (message sequence, ping.n) per line.
struct handled_log {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> events;
    bool reading = false;
};

inline handled_log read_log(const std::string& text) {
    handled_log log;
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
        if (word == "reading") {
            log.reading = true;
        } else if (word == "event") {
            std::uint64_t sequence = 0, n = 0;
            if (in >> sequence >> n) log.events.emplace_back(sequence, n);
        }
    }
    return log;
}

}  // namespace transport_conformance

namespace transport_conformance {

HOTSTATE_LAW("transport: every event reaches every other node exactly once, in its "
             "publisher's order, never its sender",
             "[laws][transport]", laws::registered::transport) {
    using hotstate::coordinator_options;
    const auto mode = GENERATE(coordinator_options::send_mode::background, coordinator_options::send_mode::caller_when_idle);
    TestType fixture;
    recorder boxes[3];
    std::vector<std::unique_ptr<node<typename TestType::transport>>> nodes;
    for (std::uint64_t id = 1; id <= 3; ++id)
        nodes.push_back(started(fixture, id, boxes[id - 1], {.sending = mode}));
    constexpr std::uint64_t per_node = 300;
    for (std::uint64_t n = 1; n <= per_node; ++n)
        for (std::uint64_t id = 1; id <= 3; ++id) nodes[id - 1]->publish(ping{id, n, "x"});
    for (auto& box : boxes) REQUIRE(eventually([&] { return box.total.load() >= 2 * per_node; }, deadline));
    for (auto& each : nodes) REQUIRE(each->flush());
    for (std::uint64_t id = 1; id <= 3; ++id) {
        const recorder& box = boxes[id - 1];
        CHECK(box.total.load() == 2 * per_node);
        CHECK(box.mislabelled.load() == 0);
        CHECK(box.count(id) == 0);  // never its own
        for (std::uint64_t other = 1; other <= 3; ++other) {
            if (other == id) continue;
            const auto ns = box.from(other);
            REQUIRE(ns.size() == per_node);
            CHECK(coord_test::strictly_increasing(ns));  // publisher order, nothing twice
        }
        CHECK(nodes[id - 1]->node_id() == id);
        const auto stats = nodes[id - 1]->stats();
        CHECK(stats.gaps == 0);
        CHECK(stats.duplicate_messages == 0);
        CHECK(stats.malformed_messages == 0);
        CHECK(stats.published_events == per_node);
        CHECK(stats.delivered_events == 2 * per_node);
    }
    for (auto& each : nodes) each->stop();  // stopped by hand before they go: nothing more arrives
    for (auto& box : boxes) CHECK(box.total.load() == 2 * per_node);
}

HOTSTATE_LAW("transport: batches are bounded in events and in bytes",
             "[laws][transport]", laws::registered::transport) {
    TestType fixture;
    recorder receiver_box, sender_box;
    auto receiver = started(fixture, 2, receiver_box);
    SECTION("max_batch_events") {
        node<typename TestType::transport> sender({.node_id = 1, .max_batch_events = 50}, fixture.make(1));
        sender_box.attach(sender);
        // queued before start: everything waits, then goes out in full batches
        for (std::uint64_t n = 1; n <= 1000; ++n) sender.publish(ping{1, n, ""});
        sender.start();
        REQUIRE(sender.flush());
        REQUIRE(eventually([&] { return receiver_box.count(1) == 1000; }, deadline));
        CHECK(sender.stats().sent_messages == 20);  // 1000 / 50, none over the bound
        CHECK(coord_test::strictly_increasing(receiver_box.from(1)));
    }
    SECTION("max_batch_bytes") {
        node<typename TestType::transport> sender({.node_id = 1, .max_batch_bytes = 2500}, fixture.make(1));
        sender_box.attach(sender);
        for (std::uint64_t n = 1; n <= 30; ++n) sender.publish(ping{1, n, std::string(1000, 'x')});
        sender.start();
        REQUIRE(sender.flush());
        REQUIRE(eventually([&] { return receiver_box.count(1) == 30; }, deadline));
        CHECK(sender.stats().sent_messages == 10);  // a batch closes once it holds 2500 bytes: 3 events each
    }
    CHECK(receiver->stats().gaps == 0);
}

HOTSTATE_LAW("transport: lost messages are reported as the exact gap, in messages and events",
             "[laws][transport][loss]", laws::registered::transport) {
    TestType fixture;
    recorder receiver_box, sender_box;
    auto receiver = started(fixture, 22, receiver_box);
    // events queued before start() go four to a message: [1-4] [5-8] [9-12] [13]; sends 2 and 3 are lost
    auto sender = faulty_node<hotstate::testing::lossy>(fixture, sender_box, {.node_id = 21, .max_batch_events = 4},
                                                        std::set<int>{2, 3});
    for (std::uint64_t n = 1; n <= 13; ++n) sender->publish(ping{21, n, ""});
    sender->start();
    REQUIRE(sender->flush());
    REQUIRE(eventually([&] { return receiver_box.count(21) == 5; }, deadline));
    CHECK(receiver_box.from(21) == std::vector<std::uint64_t>{1, 2, 3, 4, 13});
    const auto gaps = receiver_box.all_gaps();
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].kind == hotstate::gap_kind::sequence_skip);
    CHECK(gaps[0].publisher == 21);
    CHECK(gaps[0].first_missing == 2);
    CHECK(gaps[0].last_missing == 3);
    CHECK(gaps[0].lost_events == 8);
}

HOTSTATE_LAW("transport: failed sends of a durable sender are retried: nothing lost, "
             "no gap, nothing twice",
             "[laws][transport][loss]", laws::registered::transport) {
    TestType fixture;
    recorder receiver_box, sender_box;
    auto receiver = started(fixture, 2, receiver_box);
    auto sender = faulty_node<hotstate::testing::flaky>(
        fixture, sender_box, {.node_id = 1, .send_backoff = {std::chrono::milliseconds{1}, std::chrono::milliseconds{4}}},
        3);
    sender->start();
    for (std::uint64_t n = 1; n <= 50; ++n) sender->publish(ping{1, n, ""});
    REQUIRE(sender->flush());
    REQUIRE(eventually([&] { return receiver_box.count(1) == 50; }, deadline));
    const auto got = receiver_box.from(1);
    for (std::uint64_t i = 0; i < got.size(); ++i) CHECK(got[i] == i + 1);
    CHECK(sender->stats().send_failures == 3);
    CHECK(sender->stats().dropped_messages == 0);
    CHECK(receiver->stats().gaps == 0);
    CHECK(receiver->stats().duplicate_messages == 0);
}

HOTSTATE_LAW("transport: garbage on the wire is counted and skipped; the node keeps working",
             "[laws][transport]", laws::registered::transport) {
    TestType fixture;
    recorder receiver_box, sender_box;
    auto receiver = started(fixture, 2, receiver_box);
    fixture.inject("not a coordinator message");
    fixture.inject(std::string_view("\xC7\x02\x05", 3));  // a valid start, then truncated
    fixture.inject(std::string_view("\xC7\x09\x01\x01\x01\x01\x00", 7));  // an unknown version
    // a valid frame whose payload does not decode as a ping
    std::string body;
    hotstate::detail::append_event(body, coord_test::pings::tag, "\xff");
    std::string bad_payload;
    hotstate::detail::encode_message(bad_payload, {9, 1, 1, 1, 1}, body);
    fixture.inject(bad_payload);
    auto sender = started(fixture, 1, sender_box);
    sender->publish(ping{1, 1, "after the garbage"});
    REQUIRE(eventually(
        [&] {
            const auto stats = receiver->stats();
            return receiver_box.total.load() == 1 && stats.malformed_messages == 3 && stats.malformed_events == 1;
        },
        deadline));
    CHECK(receiver->stats().delivered_events == 1);
}

HOTSTATE_LAW("transport: events of channels a node does not declare are counted and skipped",
             "[laws][transport]", laws::registered::transport) {
    TestType fixture;
    recorder receiver_box;
    hotstate::coordinator<typename TestType::transport, coord_test::pings> narrow({.node_id = 2}, fixture.make(2));
    receiver_box.attach(narrow);
    narrow.start();
    REQUIRE(eventually([&] { return TestType::ready(narrow.transport()); }, deadline));
    recorder sender_box;
    auto wide = started(fixture, 1, sender_box);
    wide->publish(coord_test::other{5});
    wide->publish(ping{1, 1, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 1; }, deadline));
    CHECK(narrow.stats().unknown_channel_events == 1);
}

HOTSTATE_LAW("transport: a durable transport's node stopped for a while catches up on "
             "everything published meanwhile, exactly once",
             "[laws][transport][durable]", laws::registered::durable) {
    {
        TestType fixture;
        recorder sender_box;
        auto sender = started(fixture, 1, sender_box);
        {
            recorder first_life;
            auto late = started(fixture, 2, first_life);
            for (std::uint64_t n = 1; n <= 100; ++n) sender->publish(ping{1, n, ""});
            REQUIRE(eventually([&] { return first_life.count(1) == 100; }, deadline));
        }  // node 2 goes away; the transport keeps its position
        for (std::uint64_t n = 101; n <= 350; ++n) sender->publish(ping{1, n, ""});
        REQUIRE(sender->flush());
        recorder second_life;
        auto late = started(fixture, 2, second_life);
        REQUIRE(eventually([&] { return second_life.count(1) >= 250; }, deadline));
        sender->publish(ping{1, 351, "live again"});
        REQUIRE(eventually([&] { return second_life.count(1) == 251; }, deadline));
        const auto got = second_life.from(1);
        CHECK(got.front() == 101);  // nothing from before it went away, nothing missed
        CHECK(got.back() == 351);
        CHECK(coord_test::strictly_increasing(got));
        CHECK(second_life.all_gaps().empty());
    }
}

HOTSTATE_LAW("transport: the server restarted under the transport: a fire-and-forget "
             "transport reports the outage and the exact loss as gaps, a durable one loses nothing "
             "and catches up",
             "[laws][transport][restart]", laws::registered::server_restart) {
    using hotstate::connection_state;
    using hotstate::gap_kind;
    {
        TestType fixture;
        recorder sender_box, receiver_box;
        // durable: a send that fails while the server is down is retried soon after it is back
        auto sender = started(fixture, 1, sender_box,
                              {.send_backoff = {std::chrono::milliseconds{5}, std::chrono::milliseconds{100}}});
        auto receiver = started(fixture, 2, receiver_box);
        std::uint64_t n = 0;
        while (n < 50) sender->publish(ping{1, ++n, "before"});
        REQUIRE(eventually([&] { return receiver_box.count(1) == 50; }, deadline));

        fixture.stop_server();
        // the receiving side noticed: it lost its connection, or failed to read / reconnect
        REQUIRE(eventually(
            [&] {
                return receiver_box.connections_of(connection_state::lost) +
                           receiver_box.connections_of(connection_state::connect_failed) >
                       0;
            },
            deadline));
        while (n < 100) sender->publish(ping{1, ++n, "while the server is down"});
        fixture.start_server();
        REQUIRE(eventually([&] { return TestType::ready(receiver->transport()); }, deadline));

        if constexpr (TestType::transport::durable) {
            while (n < 150) sender->publish(ping{1, ++n, "after"});
            REQUIRE(sender->flush(deadline));
            REQUIRE(eventually([&] { return receiver_box.count(1) == 150; }, deadline));
            const auto got = receiver_box.from(1);
            for (std::uint64_t i = 0; i < got.size(); ++i) CHECK(got[i] == i + 1);  // all, in order, once
            CHECK(receiver_box.all_gaps().empty());
            CHECK(sender->stats().dropped_messages == 0);
            CHECK(receiver->stats().duplicate_messages == 0);
        } else {
            // fire and forget: keep publishing until the receiver hears the sender again...
            REQUIRE(eventually(
                [&] {
                    sender->publish(ping{1, ++n, "after"});
                    const auto got = receiver_box.from(1);
                    return !got.empty() && got.back() > 100;
                },
                deadline));
            // ...then one last event, so that nothing is in flight when the books are checked
            const std::uint64_t last = ++n;
            sender->publish(ping{1, last, "last"});
            REQUIRE(sender->flush(deadline));
            REQUIRE(eventually(
                [&] {
                    const auto got = receiver_box.from(1);
                    return !got.empty() && got.back() == last;
                },
                deadline));
            const auto got = receiver_box.from(1);
            CHECK(coord_test::strictly_increasing(got));  // nothing twice, nothing out of order
            // the outage is reported; each event that did not arrive is in exactly one sequence gap
            CHECK(receiver_box.gaps_of(gap_kind::outage) >= 1);
            std::uint64_t reported = 0;
            for (const auto& g : receiver_box.all_gaps()) {
                if (g.kind == gap_kind::outage) continue;
                CHECK(g.kind == gap_kind::sequence_skip);
                CHECK(g.publisher == 1);
                reported += g.lost_events;
            }
            CHECK(reported == last - got.size());
            CHECK(receiver->stats().duplicate_messages == 0);
        }
    }
}

HOTSTATE_LAW("transport: a durable transport's node SIGKILLed while handling slowly gets again at most the "
             "message it was handling",
             "[laws][transport][durable][crash]", laws::registered::durable) {
    TestType fixture;
    hotstate::testing::temp_directory logs("hotstate-transport-worker");
    recorder sender_box;
    auto sender = started(fixture, 1, sender_box);
    constexpr std::uint64_t total = 400;
    for (std::uint64_t n = 1; n <= total; ++n) {
        sender->publish(ping{1, n, ""});
        if (n % 10 == 0) REQUIRE(sender->flush());  // messages of at most ten events
    }
    const auto published = sender->stats().sent_messages;

    // every message is stored already: the first life reads replies of many of them
    std::vector<std::string> argv{transport_worker_program<TestType>()};
    for (auto& argument : fixture.worker_arguments(2)) argv.push_back(std::move(argument));
    argv.push_back("2");  // milliseconds per event
    hotstate::testing::process first(argv, logs.path() / "first.log");
    REQUIRE(eventually([&] { return read_log(first.log()).events.size() >= 125 || !first.running(); },
                       std::chrono::seconds{30}));
    REQUIRE(first.running());
    first.kill();  // SIGKILL mid-message (messages break at multiples of ten): an event takes 2 ms
    const handled_log before = read_log(first.log());

    hotstate::testing::process second(argv, logs.path() / "second.log");
    REQUIRE(eventually(
        [&] {
            const auto after = read_log(second.log());
            return !after.events.empty() && after.events.back().second == total;
        },
        std::chrono::seconds{60}));
    const handled_log after = read_log(second.log());
    REQUIRE(after.reading);

    std::map<std::uint64_t, int> times;              // ping.n -> how often handled
    std::map<std::uint64_t, std::uint64_t> message;  // ping.n -> its message's sequence
    std::map<std::uint64_t, std::size_t> size;       // message sequence -> events
    for (const auto& [sequence, n] : before.events) ++times[n], message[n] = sequence;
    for (const auto& [sequence, n] : after.events) ++times[n], message[n] = sequence;
    for (const auto& [n, sequence] : message) ++size[sequence];

    std::set<std::uint64_t> twice_in;  // messages with events handled twice
    std::size_t duplicates = 0;
    for (std::uint64_t n = 1; n <= total; ++n) {
        INFO("event " << n);
        CHECK(times[n] >= 1);  // none missing
        CHECK(times[n] <= 2);
        if (times[n] == 2) {
            ++duplicates;
            twice_in.insert(message[n]);
        }
    }
    INFO(before.events.size() << " events before the kill, " << after.events.size() << " after, " << duplicates
                              << " twice, in " << published << " messages");
    CHECK(twice_in.size() <= 1);  // at most the one message that was being handled
    if (!twice_in.empty()) CHECK(duplicates <= size[*twice_in.begin()]);
    CHECK(duplicates <= 10);
    CHECK(after.events.size() <= total - before.events.size() + 10);
}

}  // namespace transport_conformance
