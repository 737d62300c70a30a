// A channel's codec: a user's codec<Event> specialisation is honoured, the JSON
// codec writes what other languages read (and reads what they write), and the
// bytes on the wire are what the channel's codec made.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <hotstate/coordinator.hpp>
#include <hotstate/json_codec.hpp>
#include <hotstate/transports/local.hpp>

#include "support/eventually.hpp"
#include "test_events.hpp"
#include "wire_tap.hpp"

using namespace hotstate;
using hotstate::testing::eventually;

/// Not a Hana struct: only its codec makes it an event.
struct temperature {
    double celsius = 0;
};

template <>
struct hotstate::codec<temperature> {
    static void encode(const temperature& t, std::string& out) {
        char text[32];
        const int n = std::snprintf(text, sizeof text, "T:%.1f", t.celsius);
        out.append(text, static_cast<std::size_t>(n));
    }
    static temperature decode(std::string_view in) {
        if (in.substr(0, 2) != "T:") throw error(errc::decode, "temperature: no T: prefix");
        return temperature{std::strtod(std::string(in.substr(2)).c_str(), nullptr)};
    }
};

namespace {

enum class color : std::uint8_t { red = 1, green = 2 };

struct inner {
    BOOST_HANA_DEFINE_STRUCT(inner, (std::string, label), (std::vector<std::int32_t>, values));
};

struct user_renamed {
    BOOST_HANA_DEFINE_STRUCT(user_renamed, (std::uint64_t, user), (std::string, name));
};

struct everything {
    BOOST_HANA_DEFINE_STRUCT(everything, (bool, flag), (std::int16_t, small), (double, ratio), (color, hue),
                             (std::optional<std::string>, maybe), (std::optional<std::int32_t>, absent),
                             (std::chrono::milliseconds, wait), (inner, nested), (std::array<std::uint8_t, 2>, pair));
};

using temperatures = channel<"temperature", temperature>;
using renames = channel<"user-renamed", user_renamed, json_codec<user_renamed>>;

using coord_test::wire_tap;

}  // namespace

TEST_CASE("channel codec: a user's codec<Event> specialisation is what goes on the wire", "[coordinator][codec]") {
    static_assert(CodecFor<codec<temperature>, temperature>);
    static_assert(std::is_same_v<temperatures::codec_type, codec<temperature>>);
    auto bus = std::make_shared<transports::local_bus>();
    wire_tap tap;
    transports::local observer(bus);
    observer.start(tap);
    coordinator<transports::local, temperatures> sender({.node_id = 1}, transports::local(bus));
    coordinator<transports::local, temperatures> receiver({.node_id = 2}, transports::local(bus));
    std::atomic<double> got{0};
    receiver.subscribe<temperature>([&](const temperature& t) { got = t.celsius; });
    receiver.start();
    sender.start();
    sender.publish(temperature{21.5});
    REQUIRE(eventually([&] { return got.load() == 21.5; }));
    CHECK(tap.payloads() == std::vector<std::string>{"T:21.5"});
    observer.stop();
}

TEST_CASE("channel codec: JSON events, written as other languages read them and read as they write them",
          "[coordinator][codec][json]") {
    static_assert(CodecFor<json_codec<user_renamed>, user_renamed>);
    auto bus = std::make_shared<transports::local_bus>();
    wire_tap tap;
    transports::local observer(bus);
    observer.start(tap);
    coordinator<transports::local, renames, coord_test::pings> sender({.node_id = 1}, transports::local(bus));
    coordinator<transports::local, renames> receiver({.node_id = 2}, transports::local(bus));
    std::mutex mutex;
    std::vector<std::string> names;
    receiver.subscribe<user_renamed>([&](const user_renamed& e) {
        std::lock_guard lock(mutex);
        names.push_back(std::to_string(e.user) + "=" + e.name);
    });
    receiver.start();
    sender.start();
    sender.publish(user_renamed{42, "ada"});
    REQUIRE(eventually([&] {
        std::lock_guard lock(mutex);
        return names.size() == 1;
    }));
    CHECK(tap.payloads() == std::vector<std::string>{R"({"user":42,"name":"ada"})"});

    // what a Go service might send: keys in another order, a field this node does not know
    std::string body, message;
    detail::append_event(body, renames::tag, R"({"name":"grace","extra":[1,2],"user":7})");
    detail::append_event(body, renames::tag, R"({"name":"no user"})");  // missing field: refused
    detail::append_event(body, renames::tag, R"(not json)");
    detail::encode_message(message, {99, 1, 1, 3, 1}, body);
    transports::local(bus).send(message);
    REQUIRE(eventually([&] {
        std::lock_guard lock(mutex);
        return names.size() == 2;
    }));
    {
        // not held while stopping: a delivery holds the bus and waits for this mutex
        std::lock_guard lock(mutex);
        CHECK(names[1] == "7=grace");
    }
    CHECK(receiver.stats().malformed_events == 2);
    observer.stop();
}

TEST_CASE("json codec: every field type round-trips; missing, mistyped and out-of-range fields name the field",
          "[coordinator][codec][json]") {
    const everything value{true, -12, 0.25, color::green, "here", std::nullopt, std::chrono::milliseconds{1500},
                           inner{"in", {1, -2, 3}}, {9, 8}};
    std::string out;
    json_codec<everything>::encode(value, out);
    CHECK(out == R"({"flag":true,"small":-12,"ratio":0.25,"hue":2,"maybe":"here","absent":null,"wait":"1.500s",)"
                 R"("nested":{"label":"in","values":[1,-2,3]},"pair":[9,8]})");
    const everything back = json_codec<everything>::decode(out);
    CHECK(back.flag);
    CHECK(back.small == -12);
    CHECK(back.ratio == 0.25);
    CHECK(back.hue == color::green);
    CHECK(back.maybe == std::optional<std::string>("here"));
    CHECK_FALSE(back.absent);
    CHECK(back.wait == std::chrono::milliseconds{1500});
    CHECK(back.nested.values == std::vector<std::int32_t>{1, -2, 3});
    CHECK(back.pair == std::array<std::uint8_t, 2>{9, 8});

    const auto refused = [](std::string_view json, std::string_view says) {
        try {
            (void)json_codec<user_renamed>::decode(json);
            FAIL("accepted " << json);
        } catch (const error& e) {
            CHECK(e.kind() == errc::decode);
            CHECK_THAT(e.message(), Catch::Contains(std::string(says)));
        }
    };
    refused(R"({"name":"x"})", "'user': missing");
    refused(R"({"user":"seven","name":"x"})", "'user': expected an integer");
    refused(R"({"user":"-","name":"x"})", "'user': expected an integer");
    refused(R"({"user":"18446744073709551616","name":"x"})", "'user': integer out of range");
    refused(R"({"user":-1,"name":"x"})", "'user': integer out of range");
    refused(R"({"user":1,"name":5})", "'name': expected a string");
    refused(R"([1,2])", "expected an object");
    refused(R"({"user":1,)", "not valid JSON");
    CHECK(json_codec<everything>::decode(R"({"flag":false,"small":1,"ratio":1,"hue":1,"wait":0,)"
                                         R"("nested":{"label":"","values":[]},"pair":[0,0]})")
              .maybe == std::nullopt);  // a missing optional reads as empty
}

namespace {

struct measured {
    BOOST_HANA_DEFINE_STRUCT(measured, (double, value), (float, single), (std::uint64_t, id), (std::int64_t, offset),
                             (std::chrono::nanoseconds, took), (std::chrono::seconds, ttl),
                             (std::chrono::system_clock::time_point, at), (hotstate::time_point, at_ms));
};

measured decode_measured(std::string_view json) { return json_codec<measured>::decode(json); }

}  // namespace

TEST_CASE("json codec: NaN and the infinities are written as strings and read back", "[coordinator][codec][json]") {
    measured value{};
    value.value = std::numeric_limits<double>::quiet_NaN();
    value.single = -std::numeric_limits<float>::infinity();
    std::string out;
    json_codec<measured>::encode(value, out);
    CHECK_THAT(out, Catch::StartsWith(R"({"value":"NaN","single":"-Infinity",)"));
    const measured back = json_codec<measured>::decode(out);  // was: written as null, then refused
    CHECK(std::isnan(back.value));
    CHECK(std::isinf(back.single));
    CHECK(back.single < 0);
    value.value = std::numeric_limits<double>::infinity();
    value.single = 0.1f;
    out.clear();
    json_codec<measured>::encode(value, out);
    const measured again = json_codec<measured>::decode(out);
    CHECK(again.value == std::numeric_limits<double>::infinity());
    CHECK(again.single == 0.1f);  // the float itself, not a neighbour
}

TEST_CASE("json codec: integers beyond 2^53 are decimal strings, exact; smaller ones numbers",
          "[coordinator][codec][json]") {
    measured value{};
    value.id = 9007199254740991;       // 2^53 - 1: a double holds it exactly
    value.offset = -9007199254740991;
    std::string out;
    json_codec<measured>::encode(value, out);
    CHECK_THAT(out, Catch::Contains(R"("id":9007199254740991,"offset":-9007199254740991,)"));
    value.id = 18446744073709551615ULL;  // 2^64 - 1
    value.offset = std::numeric_limits<std::int64_t>::min();
    out.clear();
    json_codec<measured>::encode(value, out);
    CHECK_THAT(out, Catch::Contains(R"("id":"18446744073709551615","offset":"-9223372036854775808",)"));
    const measured back = json_codec<measured>::decode(out);
    CHECK(back.id == 18446744073709551615ULL);
    CHECK(back.offset == std::numeric_limits<std::int64_t>::min());
    // what JavaScript's BigInt.toString() writes for a small one reads too
    CHECK(decode_measured(R"({"value":0,"single":0,"id":"7","offset":"-7","took":"0s","ttl":"0s",)"
                          R"("at":"1970-01-01T00:00:00Z","at_ms":"1970-01-01T00:00:00Z"})")
              .offset == -7);
}

TEST_CASE("json codec: durations are seconds strings, system clock times RFC 3339, exact to the nanosecond",
          "[coordinator][codec][json]") {
    using namespace std::chrono;
    measured value{};
    value.took = nanoseconds{-1};
    value.ttl = seconds{90};
    value.at = std::chrono::system_clock::time_point{nanoseconds{1796666024123456789}};
    value.at_ms = hotstate::time_point{milliseconds{-1}};
    std::string out;
    json_codec<measured>::encode(value, out);
    CHECK_THAT(out, Catch::EndsWith(R"("took":"-0.000000001s","ttl":"90s","at":"2026-12-07T17:53:44.123456789Z",)"
                                    R"("at_ms":"1969-12-31T23:59:59.999Z"})"));
    const measured back = json_codec<measured>::decode(out);
    CHECK(back.took == nanoseconds{-1});
    CHECK(back.ttl == seconds{90});
    CHECK(back.at == value.at);
    CHECK(back.at_ms == value.at_ms);

    const std::string rest = R"("value":0,"single":0,"id":0,"offset":0,)";
    // an offset instead of Z, and the integer counts this codec wrote before
    const measured other = decode_measured("{" + rest + R"("took":1500,"ttl":"1.000s","at":"2026-12-07T18:53:44+01:00",)" +
                                           R"("at_ms":1796666024123})");
    CHECK(other.took == nanoseconds{1500});
    CHECK(other.ttl == seconds{1});
    CHECK(other.at == std::chrono::system_clock::time_point{seconds{1796666024}});
    CHECK(other.at_ms == hotstate::time_point{milliseconds{1796666024123}});

    const auto refused = [&](const std::string& fields, std::string_view says) {
        try {
            (void)decode_measured("{" + rest + fields + "}");
            FAIL("accepted " << fields);
        } catch (const error& e) {
            CHECK(e.kind() == errc::decode);
            CHECK_THAT(e.message(), Catch::Contains(std::string(says)));
        }
    };
    const std::string times = R"("at":"2026-12-07T18:33:44Z","at_ms":"2026-12-07T18:33:44Z")";
    refused(R"("took":"1.5","ttl":"1s",)" + times, "'took': expected a duration");
    refused(R"("took":"1s","ttl":"1.5s",)" + times, "'ttl': finer than the field's unit");
    refused(R"("took":"1s","ttl":"1s","at":"2026-02-30T00:00:00Z","at_ms":"2026-12-07T18:33:44Z")",
            "'at': expected a time");
    refused(R"("took":"1s","ttl":"1s","at":"2026-12-07T18:33:44Z","at_ms":"2026-12-07T18:33:44.0001Z")",
            "'at_ms': finer than the field's unit");
    refused(R"("took":"99999999999s","ttl":"1s",)" + times, "'took': out of range");
}
