// The meta protocol without a server: keys as memcached takes them, each
// command's request bytes, and replies parsed from bytes (whole, cut short,
// malformed), each a row of a table.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/detail/memcached/proto/meta.hpp>

namespace proto = hotstate::detail::memcached::proto;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

TEST_CASE("keys: printable ASCII as it is, anything else base64 with the b flag, too long refused", "[memcached][unit]") {
    struct row {
        std::string key;
        std::string wire;  // empty: refused
    };
    const std::vector<row> table = {
        {"user:42", "user:42"},
        {std::string(250, 'k'), std::string(250, 'k')},
        {std::string(251, 'k'), "base64"},  // too long as text; 251 bytes is too long for base64 too
        {"a b", "YSBi b"},
        {std::string("\x01" "k", 2), "AWs= b"},
        {std::string("\0", 1), "AA== b"},
        {"\x7f", "fw== b"},
        {"", " b"},  // the empty key: base64 of nothing, refused by the server, never by truncation
        {std::string(186, '\xff'), std::string(248, '/') + " b"},
        {std::string(187, '\xff'), ""},
    };
    for (const auto& [key, wire] : table) {
        INFO("key of " << key.size() << " bytes");
        if (wire.empty() || (wire == "base64" && key.size() > proto::binary_key_limit)) {
            try {
                const proto::wire_key k(key, "set");
                FAIL("accepted");
            } catch (const hotstate::error& e) {
                CHECK(e.kind() == hotstate::errc::invalid_argument);
                CHECK_THAT(e.what(), Catch::Contains("set: the key is " + std::to_string(key.size()) + " bytes"));
                CHECK_THAT(e.what(), Catch::Contains("never truncates"));
            }
            continue;
        }
        const proto::wire_key k(key, "set");
        proto::request out;
        k.write(out);
        CHECK(out.view() == wire);
    }
}

TEST_CASE("TTL tokens: whole seconds rounded up; past 30 days a Unix time", "[memcached][unit]") {
    constexpr std::int64_t now = 1'700'000'000;
    CHECK(proto::ttl_token(0ms, now) == 0);
    CHECK(proto::ttl_token(1ms, now) == 1);
    CHECK(proto::ttl_token(1000ms, now) == 1);
    CHECK(proto::ttl_token(1001ms, now) == 2);
    CHECK(proto::ttl_token(std::chrono::hours{24 * 30}, now) == 2'592'000);
    CHECK(proto::ttl_token(std::chrono::hours{24 * 30} + 1s, now) == now + 2'592'001);
}

TEST_CASE("commands: the bytes each request is", "[memcached][unit]") {
    const proto::wire_key plain("k1", "test");
    const proto::wire_key binary(std::string("\x01k", 2), "test");
    struct row {
        std::string written;
        std::string_view expected;
    };
    const auto bytes = [](const auto& command) {
        proto::request out;
        command.write(out);
        return std::string(out.view());
    };
    const std::vector<row> table = {
        {bytes(proto::get{plain}), "mg k1 v\r\n"},
        {bytes(proto::get{plain, false}), "mg k1\r\n"},
        {bytes(proto::get{binary, true, true, true, true}), "mg AWs= b v f c t\r\n"},
        {bytes(proto::set{plain, "abc"}), "ms k1 3\r\nabc\r\n"},
        {bytes(proto::set{plain, std::string_view("a\0\r\n", 4), 60, 1, proto::store_mode::add}),
         "ms k1 4 T60 F1 ME\r\na\0\r\n\r\n"sv},
        {bytes(proto::set{binary, "", 0, 0, proto::store_mode::set, 77}), "ms AWs= 0 b C77\r\n\r\n"},
        {bytes(proto::remove{plain}), "md k1\r\n"},
        {bytes(proto::remove{plain, 12}), "md k1 C12\r\n"},
        {bytes(proto::arithmetic{plain, 5, true, 0, 0}), "ma k1 N0 J5 D5 v\r\n"},
        {bytes(proto::arithmetic{plain, 1, true, 10, 10}), "ma k1 N10 J1 D1 T10 v\r\n"},
        {bytes(proto::arithmetic{plain, 3, false, 0, 0, true}), "ma k1 D3 MD v\r\n"},
        {bytes(proto::noop{}), "mn\r\n"},
    };
    for (const auto& [written, expected] : table) CHECK(written == expected);
}

TEST_CASE("replies: parsed from bytes, whole, cut short or malformed", "[memcached][unit]") {
    using state = proto::parsed::state;
    struct row {
        std::string_view bytes;
        state what;
        proto::code status;
        std::string_view flags;
        std::string_view data;
        std::size_t consumed;
    };
    const std::vector<row> table = {
        {"HD\r\n", state::complete, proto::code::done, "", "", 4},
        {"HD c5\r\nEN\r\n", state::complete, proto::code::done, "c5", "", 7},
        {"EN\r\n", state::complete, proto::code::miss, "", "", 4},
        {"NF\r\n", state::complete, proto::code::not_found, "", "", 4},
        {"NS\r\n", state::complete, proto::code::not_stored, "", "", 4},
        {"EX\r\n", state::complete, proto::code::exists, "", "", 4},
        {"MN\r\n", state::complete, proto::code::noop, "", "", 4},
        {"VA 3 f1 c9 t-1\r\nabc\r\n", state::complete, proto::code::value, "f1 c9 t-1", "abc", 21},
        {"VA 0\r\n\r\n", state::complete, proto::code::value, "", "", 8},
        {"VA 4\r\na\r\nb\r\n", state::complete, proto::code::value, "", "a\r\nb", 12},
        {"ERROR\r\n", state::complete, proto::code::error, "", "", 7},
        {"CLIENT_ERROR bad command line format\r\n", state::complete, proto::code::client_error, "",
         "bad command line format", 38},
        {"SERVER_ERROR object too large for cache\r\n", state::complete, proto::code::server_error, "",
         "object too large for cache", 41},
        {"", state::incomplete, proto::code::done, "", "", 0},
        {"HD", state::incomplete, proto::code::done, "", "", 0},
        {"VA 3\r\nab", state::incomplete, proto::code::done, "", "", 0},
        {"VA 3\r\nabc\r", state::incomplete, proto::code::done, "", "", 0},
        {"VA 3\r\nabcd\r\n", state::malformed, proto::code::done, "", "", 0},
        {"VA x\r\n", state::malformed, proto::code::done, "", "", 0},
        {"ZZ\r\n", state::malformed, proto::code::done, "", "", 0},
        {"HDX\r\n", state::malformed, proto::code::done, "", "", 0},
        {"HD\n", state::malformed, proto::code::done, "", "", 0},
        {"VA 2 f1\r\nab\r\nHD\r\n", state::complete, proto::code::value, "f1", "ab", 13},
    };
    for (const auto& r : table) {
        INFO("reply " << std::string(r.bytes));
        const proto::parsed got = proto::parse_reply(r.bytes);
        CHECK(got.what == r.what);
        if (r.what != state::complete) continue;
        CHECK(got.answer.status == r.status);
        CHECK(got.answer.flags == r.flags);
        CHECK(got.answer.data == r.data);
        CHECK(got.consumed == r.consumed);
    }
}

TEST_CASE("replies: returned flags and what each command makes of its reply", "[memcached][unit]") {
    const proto::wire_key k("k", "test");
    const auto parse = [](std::string_view bytes) { return proto::parse_reply(bytes).answer; };

    const auto hit = proto::get{k, true, true, true, true}.interpret(parse("VA 2 f1 c42 t7\r\nhi\r\n"));
    REQUIRE(hit.has_value());
    CHECK(hit->value == "hi");
    CHECK(hit->client_flags == 1);
    CHECK(hit->cas == 42);
    CHECK(hit->ttl_s == 7);
    CHECK_FALSE(proto::get{k}.interpret(parse("EN\r\n")).has_value());
    CHECK(proto::get{k, false}.interpret(parse("HD\r\n")).has_value());

    CHECK(proto::set{k, "v"}.interpret(parse("HD\r\n")) == proto::stored::yes);
    CHECK(proto::set{k, "v"}.interpret(parse("NS\r\n")) == proto::stored::not_stored);
    CHECK(proto::set{k, "v"}.interpret(parse("EX\r\n")) == proto::stored::exists);
    CHECK(proto::set{k, "v"}.interpret(parse("NF\r\n")) == proto::stored::not_found);
    CHECK(proto::remove{k}.interpret(parse("HD\r\n")) == proto::deleted::yes);
    CHECK(proto::remove{k}.interpret(parse("NF\r\n")) == proto::deleted::not_found);
    CHECK(proto::remove{k, 3}.interpret(parse("EX\r\n")) == proto::deleted::exists);
    CHECK(proto::arithmetic{k}.interpret(parse("VA 2\r\n17\r\n")) == 17u);
    CHECK_FALSE(proto::arithmetic{k}.interpret(parse("NF\r\n")).has_value());
    CHECK(proto::noop{}.interpret(parse("MN\r\n")));

    CHECK(proto::kind_of(parse("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n")) ==
          hotstate::errc::wrong_type);
    CHECK(proto::kind_of(parse("SERVER_ERROR object too large for cache\r\n")) == hotstate::errc::invalid_argument);
    CHECK(proto::kind_of(parse("SERVER_ERROR out of memory storing object\r\n")) == hotstate::errc::memory_limit);
    CHECK(proto::kind_of(parse("ERROR\r\n")) == hotstate::errc::server);
    const auto e = proto::server_error("127.0.0.1:11211", "ms", parse("SERVER_ERROR object too large for cache\r\n"));
    CHECK_THAT(e.what(), Catch::StartsWith("memcached 127.0.0.1:11211: ms: the value is larger than the server's item "
                                           "size limit"));
}
