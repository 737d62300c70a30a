// The coordinator's message format and loss detector, without any I/O.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/detail/base/backoff.hpp>
#include <hotstate/detail/coordinator/link_monitor.hpp>
#include <hotstate/detail/coordinator/sequence_tracker.hpp>
#include <hotstate/detail/redis/proto/stream_id.hpp>
#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/events.hpp>

using namespace hotstate;
using namespace hotstate::detail;

namespace {

std::string sample_message(std::uint64_t sequence = 3) {
    std::string body;
    std::string payload;
    struct_wire<events::state_change>::encode({42, 9001, 5}, payload);
    append_event(body, channels::state_changes::tag, payload);
    payload.clear();
    struct_wire<events::certificate_available>::encode({"mail.example.org", "cert-7"}, payload);
    append_event(body, channels::certificates::tag, payload);
    std::string message;
    encode_message(message, {7, 0xfeedface, sequence, 2, 11}, body);
    return message;
}

}  // namespace

TEST_CASE("a batch round-trips: header, tags and payloads", "[coordinator][wire]") {
    const std::string message = sample_message();
    message_header header;
    std::vector<event_view> events;
    parse_message(message, header, events);
    CHECK(header.node == 7);
    CHECK(header.incarnation == 0xfeedface);
    CHECK(header.sequence == 3);
    CHECK(header.count == 2);
    CHECK(header.first_event == 11);
    REQUIRE(events.size() == 2);
    CHECK(events[0].tag == channels::state_changes::tag);
    CHECK(events[1].tag == channels::certificates::tag);

    wire_reader first(events[0].payload);
    const auto change = struct_wire<events::state_change>::decode(first);
    first.expect_end();
    CHECK(change.account_id == 42);
    CHECK(change.change_id == 9001);
    CHECK(change.changed_types == 5);
    CHECK(change.has(events::changed_type::email));
    CHECK_FALSE(change.has(events::changed_type::mailbox));

    wire_reader second(events[1].payload);
    const auto cert = struct_wire<events::certificate_available>::decode(second);
    CHECK(cert.domain == "mail.example.org");
    CHECK(cert.certificate_id == "cert-7");
}

TEST_CASE("the format is compact: a small event costs a few bytes over its fields", "[coordinator][wire]") {
    // magic, version, node 7, incarnation (5 bytes), seq, first event, count, tag (4), length, 3 varints
    const std::string message = sample_message();
    CHECK(message.size() < 64);
}

TEST_CASE("every truncation of a valid message is rejected with errc::decode", "[coordinator][wire]") {
    const std::string message = sample_message();
    message_header header;
    std::vector<event_view> events;
    for (std::size_t length = 0; length < message.size(); ++length) {
        INFO("length " << length);
        try {
            parse_message(std::string_view(message).substr(0, length), header, events);
            FAIL("truncated message accepted");
        } catch (const error& e) {
            CHECK(e.kind() == errc::decode);
            CHECK(std::string(e.what()).find("coordinator message") != std::string::npos);
        }
    }
}

TEST_CASE("trailing bytes, bad magic, unknown versions and absurd counts are refused", "[coordinator][wire]") {
    message_header header;
    std::vector<event_view> events;
    const std::string good = sample_message();
    auto rejects = [&](const std::string& input, const char* reason) {
        INFO(reason);
        try {
            parse_message(input, header, events);
            FAIL("accepted");
        } catch (const error& e) {
            CHECK(e.kind() == errc::decode);
            CHECK(std::string(e.what()).find(reason) != std::string::npos);
        }
    };
    rejects(good + "x", "trailing bytes");
    std::string bad_magic = good;
    bad_magic[0] = 'G';
    rejects(bad_magic, "bad magic");
    std::string bad_version = good;
    bad_version[1] = 9;
    rejects(bad_version, "unsupported format version 9");
    std::string version_one = good;  // the format before event numbers: refused, not misread
    version_one[1] = 1;
    rejects(version_one, "unsupported format version 1");

    std::string huge_count;
    huge_count.push_back(static_cast<char>(coordinator_magic));
    huge_count.push_back(static_cast<char>(coordinator_wire_version));
    put_varint(huge_count, 1);
    put_varint(huge_count, 1);
    put_varint(huge_count, 1);
    put_varint(huge_count, 1);
    put_varint(huge_count, 1u << 30);
    rejects(huge_count, "exceeds what the message can hold");

    std::string zero_seq;
    encode_message(zero_seq, {1, 1, 0, 1, 1}, "");
    rejects(zero_seq, "sequence number 0");
    std::string zero_event;
    encode_message(zero_event, {1, 1, 1, 1, 0}, "");
    rejects(zero_event, "event number 0");
    std::string empty;
    encode_message(empty, {1, 1, 1, 0, 1}, "");
    rejects(empty, "empty batch");

    // event numbers that would wrap around: refused before any event is read
    std::string body;
    append_event(body, channels::state_changes::tag, "x");
    append_event(body, channels::state_changes::tag, "y");
    std::string wrapping;
    encode_message(wrapping, {1, 1, 1, 2, ~std::uint64_t{0}}, body);
    rejects(wrapping, "event numbers overflow");
    std::string last_numbers;  // the highest numbers that fit are fine
    encode_message(last_numbers, {1, 1, 1, 2, ~std::uint64_t{0} - 2}, body);
    CHECK_NOTHROW(parse_message(last_numbers, header, events));
}

TEST_CASE("random garbage never crashes the parser and is almost always refused", "[coordinator][wire]") {
    std::mt19937_64 random(12345);
    message_header header;
    std::vector<event_view> events;
    int refused = 0;
    constexpr int rounds = 20000;
    for (int i = 0; i < rounds; ++i) {
        std::string input(random() % 64, '\0');
        for (auto& c : input) c = static_cast<char>(random());
        if (i % 2 == 0 && !input.empty()) input[0] = static_cast<char>(coordinator_magic);  // get past the first check
        if (i % 4 == 0 && input.size() > 1) input[1] = static_cast<char>(coordinator_wire_version);
        try {
            parse_message(input, header, events);
            // accepted: then it must at least be internally consistent
            CHECK(events.size() == header.count);
        } catch (const error& e) {
            CHECK(e.kind() == errc::decode);
            ++refused;
        }
    }
    CHECK(refused > rounds * 9 / 10);
}

TEST_CASE("mutating single bytes of a valid message: refused or consistent, never a crash", "[coordinator][wire]") {
    const std::string good = sample_message();
    message_header header;
    std::vector<event_view> events;
    for (std::size_t at = 0; at < good.size(); ++at)
        for (int value : {0x00, 0x7f, 0x80, 0xff}) {
            std::string input = good;
            input[at] = static_cast<char>(value);
            try {
                parse_message(input, header, events);
                CHECK(events.size() == header.count);
            } catch (const error& e) {
                CHECK(e.kind() == errc::decode);
            }
        }
}

TEST_CASE("stock events round-trip through the struct wire", "[coordinator][wire][events]") {
    events::blocked_ip blocked{{192, 0, 2, 0}, 24, time_point{std::chrono::milliseconds{1767225600000}}};
    std::string bytes;
    struct_wire<events::blocked_ip>::encode(blocked, bytes);
    wire_reader in(bytes);
    const auto back = struct_wire<events::blocked_ip>::decode(in);
    in.expect_end();
    CHECK(back.address == blocked.address);
    CHECK(back.prefix_length == 24);
    REQUIRE(back.until.has_value());
    CHECK(*back.until == *blocked.until);

    events::cache_invalidation invalidation{events::cache_kind::credentials, 77};
    bytes.clear();
    struct_wire<events::cache_invalidation>::encode(invalidation, bytes);
    wire_reader in2(bytes);
    const auto back2 = struct_wire<events::cache_invalidation>::decode(in2);
    CHECK(back2.what == events::cache_kind::credentials);
    CHECK(back2.id == 77);

    // stock channel names are distinct and so are their tags
    CHECK(channels::state_changes::tag != channels::push_triggers::tag);
    CHECK(channels::blocked_ips::tag != channels::settings_reloads::tag);
    CHECK(fnv1a_32("") == 2166136261u);
    CHECK(fnv1a_32("a") == 0xe40c292cu);  // published FNV-1a test vector
}

TEST_CASE("sequence tracker: first contact, in order, skip, duplicate", "[coordinator][loss]") {
    sequence_tracker tracker;
    // (node, incarnation, sequence, first event, events)
    auto seen = tracker.observe(1, 100, 5, 41, 3);  // events 41..43
    CHECK(seen.verdict == sequence_verdict::first_contact);
    CHECK(seen.deliver());
    CHECK_FALSE(seen.lost());

    seen = tracker.observe(1, 100, 6, 44, 1);
    CHECK(seen.verdict == sequence_verdict::in_order);
    CHECK_FALSE(seen.lost());
    CHECK(seen.lost_events == 0);

    // messages 7..9 held events 45..56: twelve events lost in three messages
    seen = tracker.observe(1, 100, 10, 57, 2);
    CHECK(seen.verdict == sequence_verdict::skipped);
    CHECK(seen.deliver());
    CHECK(seen.missing_first == 7);
    CHECK(seen.missing_last == 9);
    CHECK(seen.lost_events == 12);

    seen = tracker.observe(1, 100, 10, 57, 2);
    CHECK(seen.verdict == sequence_verdict::duplicate);
    CHECK_FALSE(seen.deliver());
    seen = tracker.observe(1, 100, 8, 50, 1);  // late, older than the last delivered: dropped
    CHECK(seen.verdict == sequence_verdict::duplicate);
    CHECK(seen.lost_events == 0);

    seen = tracker.observe(1, 100, 11, 59, 100);
    CHECK(seen.verdict == sequence_verdict::in_order);
    seen = tracker.observe(1, 100, 13, 160, 1);  // after 59..158, the lost message 12 held one event: 159
    CHECK(seen.verdict == sequence_verdict::skipped);
    CHECK(seen.lost_events == 1);
}

TEST_CASE("sequence tracker: a sender that numbers events inconsistently never yields a negative loss",
          "[coordinator][loss]") {
    sequence_tracker tracker;
    CHECK(tracker.observe(1, 100, 1, 1, 10).verdict == sequence_verdict::first_contact);
    const auto seen = tracker.observe(1, 100, 3, 5, 1);  // event numbers went backwards
    CHECK(seen.verdict == sequence_verdict::skipped);
    CHECK(seen.missing_first == 2);
    CHECK(seen.lost_events == 0);
}

TEST_CASE("sequence tracker: publishers are independent; restarts are not duplicates", "[coordinator][loss]") {
    sequence_tracker tracker;
    CHECK(tracker.observe(1, 100, 1, 1, 1).verdict == sequence_verdict::first_contact);
    CHECK(tracker.observe(2, 200, 1, 1, 1).verdict == sequence_verdict::first_contact);
    CHECK(tracker.observe(1, 100, 2, 2, 1).verdict == sequence_verdict::in_order);
    CHECK(tracker.observe(2, 200, 2, 2, 1).verdict == sequence_verdict::in_order);
    CHECK(tracker.publishers() == 2);

    // node 1 restarts: a new incarnation starting at 1 is delivered, no loss
    auto seen = tracker.observe(1, 101, 1, 1, 4);
    CHECK(seen.verdict == sequence_verdict::restarted);
    CHECK(seen.deliver());
    CHECK_FALSE(seen.lost());
    CHECK(tracker.observe(1, 101, 2, 5, 1).verdict == sequence_verdict::in_order);

    // node 2 restarts and its first two messages (seven events) were lost
    seen = tracker.observe(2, 201, 3, 8, 1);
    CHECK(seen.verdict == sequence_verdict::restarted);
    CHECK(seen.lost());
    CHECK(seen.missing_first == 1);
    CHECK(seen.missing_last == 2);
    CHECK(seen.lost_events == 7);
}

TEST_CASE("link monitor: connected once, failures reported on change, the return with its downtime",
          "[coordinator][connection]") {
    using namespace std::chrono_literals;
    link_monitor monitor;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    const error refused(errc::connection, "hotstate redis_pubsub: 127.0.0.1:1: connect: Connection refused");
    const error wrong_password(errc::authentication, "hotstate: redis 127.0.0.1:1: AUTH: the server refused");

    // the server is down at start: reported once, however often the loop retries
    auto event = monitor.down(refused, false, t0);
    REQUIRE(event);
    CHECK(event->state == connection_state::connect_failed);
    REQUIRE(event->problem);
    CHECK(event->problem->kind() == errc::connection);
    CHECK_FALSE(monitor.down(refused, false, t0 + 100ms));
    CHECK_FALSE(monitor.down(refused, false, t0 + 300ms));
    // a different failure is news
    event = monitor.down(wrong_password, false, t0 + 700ms);
    REQUIRE(event);
    CHECK(event->problem->kind() == errc::authentication);

    auto up = monitor.up(t0 + 2s);
    CHECK(up.state == connection_state::connected);  // the first connection, after failures
    CHECK(up.down_for == 2s);
    CHECK_FALSE(up.problem);
    CHECK_FALSE(monitor.is_down());

    // an established connection drops: always reported, then the retries once
    const error reset(errc::connection, "hotstate redis_pubsub: 127.0.0.1:1: SUBSCRIBE: connection lost");
    event = monitor.down(reset, true, t0 + 10s);
    REQUIRE(event);
    CHECK(event->state == connection_state::lost);
    CHECK(monitor.is_down());
    CHECK(monitor.down_since() == t0 + 10s);
    event = monitor.down(refused, false, t0 + 10100ms);
    REQUIRE(event);  // the first refused reconnect is news after the loss
    CHECK(event->state == connection_state::connect_failed);
    CHECK_FALSE(monitor.down(refused, false, t0 + 10300ms));

    up = monitor.up(t0 + 13s);
    CHECK(up.state == connection_state::reconnected);
    CHECK(up.down_for == 3s);
    // up again without a failure in between (a restart of the loop): no downtime
    CHECK(monitor.up(t0 + 14s).down_for == 0ms);
}

TEST_CASE("link monitor: foreign exceptions become connection errors", "[coordinator][connection]") {
    const auto typed = as_error(error(errc::timeout, "x: read timed out"), "where");
    CHECK(typed.kind() == errc::timeout);
    CHECK(typed.message() == "x: read timed out");
    const auto foreign = as_error(std::runtime_error("boom"), "hotstate redis_pubsub");
    CHECK(foreign.kind() == errc::connection);
    CHECK(foreign.message() == "hotstate redis_pubsub: boom");
}

TEST_CASE("backoff doubles from the initial wait and stops at the cap", "[coordinator][backoff]") {
    using std::chrono::milliseconds;
    constexpr backoff_policy policy{milliseconds{100}, milliseconds{3200}};
    static_assert(policy.delay(0) == milliseconds{100});
    CHECK(policy.delay(1) == milliseconds{200});
    CHECK(policy.delay(2) == milliseconds{400});
    CHECK(policy.delay(5) == milliseconds{3200});
    CHECK(policy.delay(6) == milliseconds{3200});
    CHECK(policy.delay(1000) == milliseconds{3200});  // no overflow for long outages
    constexpr backoff_policy odd{milliseconds{300}, milliseconds{1000}};
    CHECK(odd.delay(1) == milliseconds{600});
    CHECK(odd.delay(2) == milliseconds{1000});
    CHECK(backoff_policy{milliseconds{0}, milliseconds{5}}.delay(3) == milliseconds{0});
}

TEST_CASE("stream ids parse, order and print", "[coordinator][streams]") {
    const auto id = stream_id::parse("1767225600000-7");
    REQUIRE(id);
    CHECK(id->ms == 1767225600000u);
    CHECK(id->seq == 7);
    CHECK(id->str() == "1767225600000-7");
    CHECK(stream_id::parse("42") == stream_id{42, 0});
    CHECK_FALSE(stream_id::parse(""));
    CHECK_FALSE(stream_id::parse("-1"));
    CHECK_FALSE(stream_id::parse("1-"));
    CHECK_FALSE(stream_id::parse("1-2-3"));
    CHECK_FALSE(stream_id::parse("abc"));
    CHECK_FALSE(stream_id::parse("99999999999999999999999-0"));  // overflows 64 bits
    CHECK(stream_id{1, 9} < stream_id{2, 0});
    CHECK(stream_id{2, 1} > stream_id{2, 0});
}

TEST_CASE("resume decisions: intact, trimmed past the reader, stream reset", "[coordinator][streams]") {
    const stream_id read{100, 5};
    // the entry read last is still there: nothing unread was trimmed
    CHECK(check_resume(read, {{200, 0}, {}, stream_id{100, 5}}) == resume_verdict::intact);
    CHECK(check_resume(read, {{200, 0}, {}, stream_id{50, 0}}) == resume_verdict::intact);
    // the oldest retained entry is newer than what was read: the trim went past the reader
    CHECK(check_resume(read, {{200, 0}, {}, stream_id{150, 0}}) == resume_verdict::trimmed_unread);
    // an XDEL of an unread entry
    CHECK(check_resume(read, {{200, 0}, {120, 0}, stream_id{50, 0}}) == resume_verdict::trimmed_unread);
    CHECK(check_resume(read, {{200, 0}, {90, 0}, stream_id{50, 0}}) == resume_verdict::intact);
    // empty stream: lost if anything was generated after the reader's position
    CHECK(check_resume(read, {{100, 5}, {}, std::nullopt}) == resume_verdict::intact);
    CHECK(check_resume(read, {{100, 6}, {}, std::nullopt}) == resume_verdict::trimmed_unread);
    // the stream is behind the reader: deleted, or the server lost it
    CHECK(check_resume(read, {{0, 0}, {}, std::nullopt}) == resume_verdict::stream_reset);
    CHECK(check_resume(read, {{100, 4}, {}, stream_id{1, 0}}) == resume_verdict::stream_reset);
    // a stream that never lost an entry is intact, even if its ids jumped past the reader
    stream_state fresh{{300, 0}, {}, stream_id{250, 0}};
    fresh.length = 3;
    fresh.entries_added = 3;
    CHECK(check_resume(read, fresh) == resume_verdict::intact);
    fresh.entries_added = 4;  // one removed
    CHECK(check_resume(read, fresh) == resume_verdict::trimmed_unread);
    // a reader at 0-0 wants whatever is retained
    CHECK(check_resume(stream_id{}, {{200, 0}, {}, stream_id{150, 0}}) == resume_verdict::intact);
}

TEST_CASE("cursor lookups: absent, found, and anything else invalid, never absent", "[coordinator][streams]") {
    CHECK(interpret_cursor(false, std::nullopt).result == cursor_lookup::outcome::absent);
    const auto found = interpret_cursor(false, std::string_view("1767225600000-7"));
    CHECK(found.result == cursor_lookup::outcome::found);
    CHECK(found.id == stream_id{1767225600000u, 7});
    for (const std::string_view garbage : {"", "not-a-cursor", "1-2-3", "-1", "99999999999999999999999-0"}) {
        INFO("'" << garbage << "'");
        const auto seen = interpret_cursor(false, garbage);
        CHECK(seen.result == cursor_lookup::outcome::invalid);
        CHECK(seen.problem == "holds " + std::to_string(garbage.size()) + " bytes that are not a stream id");
    }
    const auto hash = interpret_cursor(true, std::nullopt);
    CHECK(hash.result == cursor_lookup::outcome::invalid);
    CHECK(hash.problem.find("WRONGTYPE") != std::string::npos);
}
