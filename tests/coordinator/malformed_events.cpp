// What a node does with events it cannot take: a payload that does not decode
// (bad JSON, a missing field, a wrong type: the codec's own message), an event
// larger than max_event_bytes (the bound publish() keeps, kept on receipt), and a
// message that does not parse at all. Each is refused, counted and reported to
// on_gap (malformed_event with the publisher and the channel, malformed_message),
// and the events around it are delivered.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <hotstate/coordinator.hpp>
#include <hotstate/fmt.hpp>
#include <hotstate/json_codec.hpp>
#include <hotstate/transports/local.hpp>

using namespace hotstate;

namespace {

struct price {
    BOOST_HANA_DEFINE_STRUCT(price, (std::string, sku), (std::int64_t, cents));
};
using prices = channel<"prices", price, json_codec<price>>;
using node = coordinator<transports::local, prices>;

struct inbox_log {
    std::mutex mutex;
    std::vector<price> delivered;
    std::vector<gap> gaps;

    void attach(node& n) {
        n.subscribe<price>([this](const price& p) {
            std::lock_guard lock(mutex);
            delivered.push_back(p);
        });
        n.on_gap([this](const gap& g) {
            std::lock_guard lock(mutex);
            gaps.push_back(g);
        });
    }
};

/// A message of node 42 (incarnation 1, message `sequence`) holding `payloads` on channel "prices".
std::string message_of(std::uint64_t sequence, const std::vector<std::string>& payloads) {
    std::string body, out;
    for (const auto& payload : payloads) detail::append_event(body, prices::tag, payload);
    detail::encode_message(out, {42, 1, sequence, payloads.size(), sequence}, body);
    return out;
}

}  // namespace

TEST_CASE("malformed events: bad JSON, a missing field, a wrong type are reported with the codec's message",
          "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    node receiver({.node_id = 2}, transports::local(bus));
    inbox_log log;
    log.attach(receiver);
    receiver.start();
    transports::local(bus).send(message_of(
        1, {R"({"sku":"a","cents":100})", R"({"sku":)", R"({"sku":"b"})", R"({"sku":"c","cents":"twelve"})",
            R"({"sku":"d","cents":400})"}));
    std::lock_guard lock(log.mutex);
    REQUIRE(log.delivered.size() == 2);  // the good ones around the bad ones
    CHECK(log.delivered[0].sku == "a");
    CHECK(log.delivered[1].sku == "d");
    REQUIRE(log.gaps.size() == 3);
    const std::vector<std::string> why{"payload is not valid JSON", "field 'cents': missing",
                                       "field 'cents': expected an integer"};
    for (std::size_t i = 0; i < 3; ++i) {
        INFO(to_string(log.gaps[i]));
        CHECK(log.gaps[i].kind == gap_kind::malformed_event);
        CHECK(log.gaps[i].publisher == 42);
        CHECK(log.gaps[i].channel == "prices");
        CHECK_THAT(log.gaps[i].detail, Catch::Contains(why[i]));
        CHECK_THAT(log.gaps[i].detail, Catch::Contains("event of node 42 on channel 'prices' (message 1) refused"));
    }
    CHECK(receiver.stats().malformed_events == 3);
    CHECK(receiver.stats().delivered_events == 2);
}

TEST_CASE("malformed events: an event over max_event_bytes is refused on receipt as publish() refuses it",
          "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    node receiver({.node_id = 2, .max_event_bytes = 1024}, transports::local(bus));
    node sender({.node_id = 3, .max_event_bytes = 1024}, transports::local(bus));
    inbox_log log;
    log.attach(receiver);
    receiver.start();
    sender.start();
    const price big{std::string(2000, 'x'), 1};
    CHECK_THROWS_WITH(sender.publish(big), Catch::Contains("exceeds max_event_bytes (1024)"));

    std::string payload;
    json_codec<price>::encode(big, payload);
    transports::local(bus).send(message_of(1, {payload, R"({"sku":"small","cents":1})"}));
    std::lock_guard lock(log.mutex);
    REQUIRE(log.delivered.size() == 1);
    CHECK(log.delivered[0].sku == "small");
    REQUIRE(log.gaps.size() == 1);
    CHECK(log.gaps[0].kind == gap_kind::malformed_event);
    CHECK(log.gaps[0].channel == "prices");
    CHECK_THAT(log.gaps[0].detail, Catch::Contains("an event of 2020 bytes exceeds max_event_bytes (1024)"));
}

TEST_CASE("malformed events: a message that does not parse is reported with why and where", "[coordinator][local]") {
    auto bus = std::make_shared<transports::local_bus>();
    node receiver({.node_id = 2}, transports::local(bus));
    inbox_log log;
    log.attach(receiver);
    receiver.start();
    transports::local(bus).send("not a coordinator message");
    std::string truncated = message_of(1, {R"({"sku":"a","cents":1})"});
    truncated.resize(truncated.size() - 3);
    transports::local(bus).send(truncated);
    std::lock_guard lock(log.mutex);
    REQUIRE(log.gaps.size() == 2);
    CHECK(log.gaps[0].kind == gap_kind::malformed_message);
    CHECK(log.gaps[0].publisher == 0);
    CHECK_THAT(log.gaps[0].detail, Catch::Contains("a message of 25 bytes does not parse"));
    CHECK_THAT(log.gaps[0].detail, Catch::Contains("bad magic byte"));
    CHECK(log.gaps[1].kind == gap_kind::malformed_message);
    CHECK(receiver.stats().malformed_messages == 2);
    CHECK(log.delivered.empty());
}
