// transports::json_envelope: what goes on the wire is one JSON document per
// message that a JSON parser reads alone (checked here with nlohmann-json and
// nothing of hotstate), a document written by hand as another language would
// write it is delivered, a malformed one is reported with why, and a binary
// frame from a node without the adapter is still read.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <nlohmann/json.hpp>

#include <hotstate/coordinator.hpp>
#include <hotstate/json_codec.hpp>
#include <hotstate/transports/json_envelope.hpp>
#include <hotstate/transports/local.hpp>

#include "test_events.hpp"
#include "wire_tap.hpp"

using namespace hotstate;
using coord_test::ping;

namespace {

struct user_renamed {
    BOOST_HANA_DEFINE_STRUCT(user_renamed, (std::uint64_t, user), (std::string, name));
};
using renames = channel<"user-renamed", user_renamed, json_codec<user_renamed>>;
using enveloped = transports::json_envelope<transports::local>;
using node = coordinator<enveloped, renames, coord_test::pings>;

static_assert(Transport<enveloped>);
static_assert(enveloped::durable == transports::local::durable);

using coord_test::wire_tap;

/// What a receiving node got.
struct received {
    std::mutex mutex;
    std::vector<std::string> renames;  // "user=name from publisher"
    std::vector<std::uint64_t> pings;
    std::vector<gap> gaps;

    template <class Node>
    void attach(Node& n) {
        n.template subscribe<user_renamed>([this](const user_renamed& e, const delivery& from) {
            std::lock_guard lock(mutex);
            renames.push_back(std::to_string(e.user) + "=" + e.name + " from " + std::to_string(from.publisher));
        });
        n.on_gap([this](const gap& g) {
            std::lock_guard lock(mutex);
            gaps.push_back(g);
        });
    }
};

/// A started receiving node (id 2) on a bus of its own, what it got, and the bus to inject into.
struct receiving {
    std::shared_ptr<transports::local_bus> bus = std::make_shared<transports::local_bus>();
    node receiver{{.node_id = 2}, enveloped(transports::local(bus))};
    received got;
    receiving() {
        got.attach(receiver);
        receiver.start();
    }
    void inject(std::string_view bytes) { transports::local(bus).send(bytes); }
};

}  // namespace

TEST_CASE("json envelope: each message is one JSON document a JSON parser reads alone", "[coordinator][json]") {
    auto bus = std::make_shared<transports::local_bus>();
    wire_tap tap;
    transports::local observer(bus);
    observer.start(tap);
    node sender({.node_id = 7}, enveloped(transports::local(bus)));
    node receiver({.node_id = 2}, enveloped(transports::local(bus)));
    received got;
    got.attach(receiver);
    std::vector<std::uint64_t> pings;
    receiver.subscribe<ping>([&](const ping& p) { pings.push_back(p.n); });
    receiver.start();
    sender.start();
    sender.publish(user_renamed{42, "ada"});
    REQUIRE(sender.flush());
    sender.publish(ping{7, 300, "hi"});
    REQUIRE(sender.flush());
    {
        std::lock_guard lock(got.mutex);
        CHECK(got.renames == std::vector<std::string>{"42=ada from 7"});
    }
    CHECK(pings == std::vector<std::uint64_t>{300});
    observer.stop();

    std::lock_guard lock(tap.mutex);
    REQUIRE(tap.messages.size() == 2);
    // nlohmann-json alone, as a service in another language reads it
    const auto first = nlohmann::json::parse(tap.messages[0]);
    INFO(tap.messages[0]);
    CHECK(first["hotstate"] == 2);
    CHECK(first["node"] == 7);
    const auto& incarnation = first["incarnation"];  // random: a number, or digits beyond 2^53
    if (incarnation.is_string())
        CHECK(incarnation.get<std::string>().find_first_not_of("0123456789") == std::string::npos);
    else
        CHECK(incarnation.get<std::uint64_t>() <= (std::uint64_t{1} << 53) - 1);
    CHECK(first["sequence"] == 1);
    CHECK(first["first_event"] == 1);
    REQUIRE(first["events"].size() == 1);
    CHECK(first["events"][0]["channel"] == "user-renamed");
    CHECK(first["events"][0]["tag"] == 3678988237u);  // FNV-1a 32 of the name
    CHECK(first["events"][0]["event"] == nlohmann::json{{"user", 42}, {"name", "ada"}});

    const auto second = nlohmann::json::parse(tap.messages[1]);
    CHECK(second["sequence"] == 2);
    CHECK(second["first_event"] == 2);
    CHECK(second["events"][0]["channel"] == "test-ping");
    CHECK(second["events"][0]["bytes"] == "B6wCAmhp");  // the binary codec's 07 ac 02 02 68 69, base64
    CHECK_FALSE(second["events"][0].contains("event"));
}

TEST_CASE("json envelope: a document another language wrote is delivered; big integers as strings",
          "[coordinator][json]") {
    receiving side;
    auto& got = side.got;
    // what a Node.js service writes from docs/wire-format.md: a node id beyond 2^53 as a string,
    // the channel by name only, keys in its own order, a 64-bit field as a string
    side.inject(R"({"events":[{"event":{"name":"grace","user":"7"},"channel":"user-renamed"}],)"
                R"("first_event":1,"sequence":1,"incarnation":"18446744073709551615",)"
                R"("node":"9007199254740993","hotstate":2})");
    std::lock_guard lock(got.mutex);
    CHECK(got.renames == std::vector<std::string>{"7=grace from 9007199254740993"});
    CHECK(got.gaps.empty());
}

TEST_CASE("json envelope: a malformed document is reported with why; a binary frame is still read",
          "[coordinator][json]") {
    receiving side;
    auto& got = side.got;
    const std::string header = R"("hotstate":2,"node":5,"incarnation":1,"sequence":1,"first_event":1)";
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"hotstate":2,"node":5})", "field 'incarnation': missing"},
        {R"({"hotstate":1,"node":5,"incarnation":1,"sequence":1,"first_event":1,"events":[]})",
         "field 'hotstate': expected the envelope version 2"},
        {"{" + header + R"(,"events":[]})", "field 'events': expected a non-empty array"},
        {"{" + header + R"(,"events":[{"channel":"user-renamed","tag":1,"event":{}}]})",
         "events[0]: tag 1 is not the channel name's"},
        {"{" + header + R"(,"events":[{"channel":"user-renamed"}]})", "events[0]: needs one of 'event' and 'bytes'"},
        {"{" + header + R"(,"events":[{"tag":3799542416,"bytes":"B6w"}]})", "events[0].bytes: not base64"},
        {R"({"hotstate":2,)", "not valid JSON"},
    };
    for (const auto& [document, why] : cases) side.inject(document);
    {
        std::lock_guard lock(got.mutex);
        REQUIRE(got.gaps.size() == cases.size());
        for (std::size_t i = 0; i < cases.size(); ++i) {
            INFO(cases[i].first);
            CHECK(got.gaps[i].kind == gap_kind::malformed_message);
            CHECK_THAT(got.gaps[i].detail, Catch::Contains("hotstate json_envelope: " + cases[i].second));
        }
    }
    CHECK(side.receiver.stats().malformed_messages == cases.size());

    // a node without the adapter: its binary frames are read as they are
    coordinator<transports::local, renames> plain({.node_id = 5}, transports::local(side.bus));
    plain.start();
    plain.publish(user_renamed{1, "binary"});
    REQUIRE(plain.flush());
    std::lock_guard lock(got.mutex);
    CHECK(got.renames == std::vector<std::string>{"1=binary from 5"});
}

TEST_CASE("json envelope: base64 both ways", "[coordinator][json][unit]") {
    using namespace transports::detail_envelope;
    for (const std::string& bytes : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x80", 3)}) {
        std::string text;
        append_base64(text, bytes);
        CHECK(decode_base64(text) == bytes);
    }
    std::string text;
    append_base64(text, "foobar");
    CHECK(text == "Zm9vYmFy");
    CHECK_FALSE(decode_base64("Zm9"));
    CHECK_FALSE(decode_base64("Zm=v"));
    CHECK_FALSE(decode_base64("Zm9v!A=="));
}
