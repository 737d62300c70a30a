// Golden bytes of the coordinator's wire format (docs/wire-format.md): the
// exact message the send side (detail::outbox, as the coordinator runs it)
// frames around events encoded by the stock binary codec and by json_codec.
// Another implementation written from the document must produce these bytes.
#include <catch2/catch.hpp>

#include <string>

#include <hotstate/codec.hpp>
#include <hotstate/detail/coordinator/outbox.hpp>
#include <hotstate/detail/coordinator/wire.hpp>

#include "test_events.hpp"

using namespace hotstate;

namespace {

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const char c : bytes) {
        if (!out.empty()) out += ' ';
        out += digits[static_cast<unsigned char>(c) >> 4];
        out += digits[static_cast<unsigned char>(c) & 15];
    }
    return out;
}

/// The one message an outbox of node 7, incarnation 0x1234, sends for `payload` on test-ping.
std::string framed(std::string_view payload) {
    detail::outbox_settings settings;
    settings.node = 7;
    settings.incarnation = 0x1234;
    detail::outbox box(settings);
    box.push(coord_test::pings::tag, std::string(payload));
    box.begin_send();
    std::string message;
    box.encode(message);
    return message;
}

}  // namespace

TEST_CASE("golden bytes: the channel tag is FNV-1a 32 of the name, little endian on the wire", "[coordinator][wire]") {
    CHECK(coord_test::pings::tag == 0xe2786a90u);
}

TEST_CASE("golden bytes: a binary-codec event in a message", "[coordinator][wire]") {
    std::string payload;
    codec<coord_test::ping>::encode(coord_test::ping{7, 300, "hi"}, payload);
    CHECK(hex(payload) == "07 ac 02 02 68 69");  // from=7, n=300 (LEB128), note: length 2, "hi"
    CHECK(hex(framed(payload)) ==
          "c7 02 "            // magic, version 2
          "07 b4 24 "         // node 7, incarnation 0x1234 (LEB128)
          "01 01 01 "         // sequence 1, first event 1, 1 event
          "90 6a 78 e2 "      // tag of "test-ping"
          "06 07 ac 02 02 68 69");  // payload length 6, payload
}

TEST_CASE("golden bytes: a negative integer is zigzag encoded, a double is 8 bytes little endian",
          "[coordinator][wire]") {
    std::string out;
    codec<coord_test::other>::encode(coord_test::other{-3}, out);
    CHECK(hex(out) == "05");  // zigzag(-3) = 5
    out.clear();
    detail::struct_wire<double>::encode(1.0, out);
    CHECK(hex(out) == "00 00 00 00 00 00 f0 3f");
}
