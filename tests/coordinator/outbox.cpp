// The coordinator's send side without threads or I/O: batching limits, sequence and
// event numbering, and the retry/drop policy of failed sends with its connection_events.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <hotstate/detail/coordinator/outbox.hpp>
#include <hotstate/detail/coordinator/sequence_tracker.hpp>
#include <hotstate/detail/coordinator/wire.hpp>

using namespace hotstate;
using namespace hotstate::detail;
using namespace std::chrono_literals;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

outbox_settings settings(bool durable, std::size_t max_events = 100, std::size_t max_bytes = 64 * 1024) {
    outbox_settings s;
    s.node = 7;
    s.incarnation = 0xabc;
    s.max_batch_events = max_events;
    s.max_batch_bytes = max_bytes;
    s.max_pending_events = 1000;
    s.durable = durable;
    s.backoff = {100ms, 800ms};
    return s;
}

/// Pushes `n` events whose payloads are "e<number>".
void push_events(outbox& box, int from, int n) {
    for (int i = from; i < from + n; ++i) box.push(1, "e" + std::to_string(i));
}

/// The message of the batch in flight, parsed: its header and its payloads.
struct sent_message {
    std::string bytes;
    message_header header;
    std::vector<std::string> payloads;
};

sent_message in_flight(const outbox& box) {
    sent_message m;
    box.encode(m.bytes);
    std::vector<event_view> events;
    parse_message(m.bytes, m.header, events);
    for (const auto& e : events) m.payloads.emplace_back(e.payload);
    return m;
}

/// Takes the front batch, "sends" it successfully, returns what went out.
sent_message send_ok(outbox& box, std::chrono::steady_clock::time_point at = t0) {
    box.begin_send();
    sent_message m = in_flight(box);
    CHECK_FALSE(box.sent(at, at + 1ms));
    CHECK_FALSE(box.end_send());
    return m;
}

const error refused(errc::connection, "hotstate: redis 127.0.0.1:1: PUBLISH: connect: Connection refused");
const error timed_out(errc::timeout, "hotstate: redis 127.0.0.1:1: XADD: no reply within 1000 ms");

}  // namespace

TEST_CASE("outbox: a batch closes at max_batch_events", "[coordinator][outbox]") {
    outbox box(settings(false, 3));
    push_events(box, 1, 7);
    CHECK(box.queued_batches() == 3);
    CHECK(box.pending_events() == 7);
    CHECK(send_ok(box).payloads == std::vector<std::string>{"e1", "e2", "e3"});
    CHECK(send_ok(box).payloads == std::vector<std::string>{"e4", "e5", "e6"});
    CHECK(send_ok(box).payloads == std::vector<std::string>{"e7"});
    CHECK(box.pending_events() == 0);
    CHECK_FALSE(box.has_queued());
}

TEST_CASE("outbox: the default limits are 100 events and 64 KiB per message", "[coordinator][outbox]") {
    outbox small_events(settings(false));
    push_events(small_events, 1, 250);
    CHECK(small_events.queued_batches() == 3);  // 100 + 100 + 50
    CHECK(send_ok(small_events).header.count == 100);

    outbox big_events(settings(false));
    const std::string payload(10 * 1024, 'x');  // 10 KiB + 4-byte tag + 2-byte length each
    for (int i = 0; i < 14; ++i) big_events.push(1, payload);
    // a batch closes once its body reaches 64 KiB: the 7th event crosses it and stays in
    CHECK(big_events.queued_batches() == 2);
    const auto first = send_ok(big_events);
    CHECK(first.header.count == 7);
    CHECK(first.bytes.size() > 64 * 1024);
    CHECK(first.bytes.size() < 64 * 1024 + payload.size() + 64);
}

TEST_CASE("outbox: push asks to wake the sender only for the first event of an idle queue",
          "[coordinator][outbox]") {
    outbox box(settings(false, 2));
    CHECK(box.push(1, "a"));        // idle sender: wake it
    CHECK_FALSE(box.push(1, "b"));  // it is woken already
    CHECK_FALSE(box.push(1, "c"));  // a second batch: likewise
    (void)send_ok(box);
    (void)send_ok(box);
    CHECK(box.push(1, "d"));  // idle again
    box.begin_send();
    CHECK_FALSE(box.push(1, "e"));  // the sender is busy and will look at the queue when done
    (void)box.sent(t0, t0);
    box.end_send();
}

TEST_CASE("outbox: messages are numbered 1, 2, 3 and events run on across them", "[coordinator][outbox]") {
    outbox box(settings(false, 3));
    push_events(box, 1, 8);
    const auto a = send_ok(box), b = send_ok(box), c = send_ok(box);
    CHECK(a.header.node == 7);
    CHECK(a.header.incarnation == 0xabc);
    CHECK((a.header.sequence == 1 && a.header.first_event == 1 && a.header.count == 3));
    CHECK((b.header.sequence == 2 && b.header.first_event == 4 && b.header.count == 3));
    CHECK((c.header.sequence == 3 && c.header.first_event == 7 && c.header.count == 2));
    CHECK(box.counters().published_events == 8);
    CHECK(box.counters().sent_messages == 3);
}

TEST_CASE("outbox: max_pending_events counts events until they are sent or dropped", "[coordinator][outbox]") {
    auto s = settings(false, 2);
    s.max_pending_events = 3;
    outbox box(s);
    push_events(box, 1, 3);
    CHECK(box.full());
    box.begin_send();  // in flight still counts: the transport may be down
    CHECK(box.full());
    (void)box.sent(t0, t0);
    box.end_send();
    CHECK_FALSE(box.full());
    CHECK(box.pending_events() == 1);
}

TEST_CASE("outbox: pub/sub drops a failed batch, reports once, backs off, and numbers on",
          "[coordinator][outbox]") {
    outbox box(settings(false, 2));
    push_events(box, 1, 8);  // four batches: sent, lost, lost, sent
    const auto first = send_ok(box);

    box.begin_send();
    const auto lost = in_flight(box);
    auto decision = box.failed(refused, t0 + 1s, outbox::sender::background, false);
    CHECK(decision.step == outbox::next_step::drop);
    REQUIRE(decision.report);
    CHECK(decision.report->state == connection_state::send_failed);
    REQUIRE(decision.report->problem);
    CHECK(decision.report->problem->kind() == errc::connection);
    CHECK(box.end_send());  // dropped
    CHECK(box.failures() == 1);
    CHECK(box.retry_delay() == 100ms);
    CHECK_FALSE(box.idle());  // a caller does not send inline after a failure

    // the same error again (the server stays down) is not news; the wait doubles
    box.begin_send();
    decision = box.failed(refused, t0 + 2s, outbox::sender::background, false);
    CHECK(decision.step == outbox::next_step::drop);
    CHECK_FALSE(decision.report);
    CHECK(box.end_send());
    CHECK(box.retry_delay() == 200ms);

    // back: one send_recovered, with how long sends failed
    box.begin_send();
    const auto back = in_flight(box);
    const auto recovered = box.sent(t0 + 5s, t0 + 5s + 1ms);
    REQUIRE(recovered);
    CHECK(recovered->state == connection_state::send_recovered);
    CHECK(recovered->down_for == 4001ms);
    CHECK_FALSE(box.end_send());
    CHECK(box.failures() == 0);
    CHECK(box.retry_delay() == 0ms);
    CHECK(box.counters().send_failures == 2);
    CHECK(box.counters().dropped_messages == 2);
    CHECK(box.pending_events() == 0);

    // a receiver sees exactly what was lost: two messages of two events
    sequence_tracker tracker;
    (void)tracker.observe(first.header.node, first.header.incarnation, first.header.sequence, first.header.first_event,
                          first.header.count);
    CHECK(lost.header.sequence == 2);
    const auto seen = tracker.observe(back.header.node, back.header.incarnation, back.header.sequence,
                                      back.header.first_event, back.header.count);
    CHECK(seen.verdict == sequence_verdict::skipped);
    CHECK(seen.missing_first == 2);
    CHECK(seen.missing_last == 3);
    CHECK(seen.lost_events == 4);
}

TEST_CASE("outbox: a durable transport retries the same bytes, reporting changes only", "[coordinator][outbox]") {
    outbox box(settings(true, 3));
    push_events(box, 1, 3);
    box.begin_send();
    const auto original = in_flight(box);
    std::vector<std::chrono::milliseconds> waits;
    for (int attempt = 0; attempt < 5; ++attempt) {
        const error& problem = attempt < 3 ? refused : timed_out;
        const auto decision = box.failed(problem, t0 + std::chrono::seconds(attempt), outbox::sender::background, false);
        REQUIRE(decision.step == outbox::next_step::retry);
        waits.push_back(decision.wait);
        // reported: the first failure, and the first of another kind
        CHECK(decision.report.has_value() == (attempt == 0 || attempt == 3));
        CHECK(box.in_flight());
        CHECK(in_flight(box).bytes == original.bytes);  // same sequence, same events
    }
    CHECK(waits == std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 800ms, 800ms});
    push_events(box, 4, 1);  // published meanwhile: a new batch
    const auto recovered = box.sent(t0 + 10s, t0 + 10s);
    REQUIRE(recovered);
    CHECK(recovered->down_for == 10s);
    CHECK_FALSE(box.end_send());
    CHECK(box.counters().dropped_messages == 0);
    CHECK(box.counters().send_failures == 5);
    const auto next = send_ok(box);
    CHECK((next.header.sequence == 2 && next.header.first_event == 4 && next.header.count == 1));
}

TEST_CASE("outbox: a caller's failed durable send goes back to the front, numbers and bytes kept",
          "[coordinator][outbox]") {
    outbox box(settings(true, 100));
    push_events(box, 1, 2);
    REQUIRE(box.idle());
    box.begin_send();
    const auto original = in_flight(box);
    const auto decision = box.failed(refused, t0, outbox::sender::caller, false);
    CHECK(decision.step == outbox::next_step::requeue);
    CHECK(decision.report);
    CHECK_FALSE(box.end_send());
    CHECK(box.queued_batches() == 1);
    CHECK(box.pending_events() == 2);
    // events published after the failure must not join the numbered batch: a receiver that
    // got the first copy would drop the second as a duplicate, and the new events with it
    push_events(box, 3, 2);
    CHECK(box.queued_batches() == 2);
    box.begin_send();
    CHECK(in_flight(box).bytes == original.bytes);
    CHECK(box.sent(t0 + 1s, t0 + 1s));
    box.end_send();
    const auto next = send_ok(box);
    CHECK((next.header.sequence == 2 && next.header.first_event == 3));
    CHECK(next.payloads == std::vector<std::string>{"e3", "e4"});
}

TEST_CASE("outbox: stopping drops a failed batch whatever the transport, and the rest with drop_queued",
          "[coordinator][outbox]") {
    outbox box(settings(true, 1));
    push_events(box, 1, 3);
    const auto target = box.last_ticket();
    box.begin_send();
    const auto decision = box.failed(refused, t0, outbox::sender::background, true);
    CHECK(decision.step == outbox::next_step::drop);
    CHECK(box.end_send());
    CHECK_FALSE(box.settled(target));
    box.drop_queued();
    CHECK(box.settled(target));
    CHECK(box.counters().dropped_messages == 3);
    CHECK(box.pending_events() == 0);
    CHECK_FALSE(box.has_queued());
}

TEST_CASE("outbox: a retry abandoned at stop is a drop", "[coordinator][outbox]") {
    outbox box(settings(true));
    push_events(box, 1, 1);
    box.begin_send();
    REQUIRE(box.failed(refused, t0, outbox::sender::background, false).step == outbox::next_step::retry);
    box.give_up();
    CHECK(box.end_send());
    CHECK(box.counters().dropped_messages == 1);
    CHECK(box.settled(box.last_ticket()));
}

TEST_CASE("outbox: flush tickets settle in order", "[coordinator][outbox]") {
    outbox box(settings(false, 1));
    push_events(box, 1, 1);
    const auto first = box.last_ticket();
    push_events(box, 2, 1);
    const auto second = box.last_ticket();
    CHECK_FALSE(box.settled(first));
    (void)send_ok(box);
    CHECK(box.settled(first));
    CHECK_FALSE(box.settled(second));
    (void)send_ok(box);
    CHECK(box.settled(second));
}

TEST_CASE("outbox: idle and quiet decide whether a caller may send inline", "[coordinator][outbox]") {
    outbox box(settings(false));
    push_events(box, 1, 1);
    CHECK(box.idle());
    CHECK(box.quiet_at(t0));  // never sent: quiet
    box.begin_send();
    CHECK_FALSE(box.idle());  // in flight
    (void)box.sent(t0, t0 + 2ms);
    box.end_send();
    push_events(box, 2, 1);
    CHECK(box.idle());
    CHECK_FALSE(box.quiet_at(t0 + 3ms));  // 1 ms after a 2 ms send: a burst, leave it to the sender thread
    CHECK(box.quiet_at(t0 + 4ms));
    push_events(box, 3, 100);
    CHECK_FALSE(box.idle());  // two batches wait
}

TEST_CASE("outbox: limits that make empty or unreadable batches are refused", "[coordinator][outbox]") {
    auto zero = settings(false, 0);
    CHECK_THROWS_MATCHES(outbox(zero), error, Catch::Predicate<error>([](const error& e) {
                             return e.kind() == errc::configuration &&
                                    std::string(e.what()).find("max_batch_events") != std::string::npos;
                         }));
    auto huge = settings(false, coordinator_max_events_per_message + 1);
    CHECK_THROWS_AS(outbox(huge), error);
    CHECK_NOTHROW(outbox(settings(false, coordinator_max_events_per_message)));
}
