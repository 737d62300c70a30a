#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <catch2/catch.hpp>

#include <hotstate/codec.hpp>

using namespace std::string_literals;

namespace {
enum class level : std::uint8_t { low = 1, high = 200 };

struct inner {
    BOOST_HANA_DEFINE_STRUCT(inner, (std::uint32_t, id), (std::string, label));
};

struct everything {
    BOOST_HANA_DEFINE_STRUCT(everything, (bool, flag), (std::int64_t, signed_value), (std::uint64_t, unsigned_value),
                             (std::int8_t, small), (level, severity), (double, ratio), (std::string, text),
                             (std::vector<std::uint8_t>, blob), (std::optional<std::string>, maybe),
                             (std::vector<inner>, children), (std::array<std::uint8_t, 4>, address),
                             (std::chrono::milliseconds, delay),
                             (std::chrono::sys_time<std::chrono::seconds>, when));
};

template <class T>
std::string encode(const T& value) {
    std::string out;
    hotstate::codec<T>::encode(value, out);
    return out;
}

bool is_decode_error(const hotstate::error& e) { return e.kind() == hotstate::errc::decode; }
}  // namespace

TEST_CASE("wire: varints are LEB128 and zigzag for signed values", "[unit][codec]") {
    std::string out;
    hotstate::detail::put_varint(out, 0);
    hotstate::detail::put_varint(out, 127);
    hotstate::detail::put_varint(out, 128);
    hotstate::detail::put_varint(out, 300);
    CHECK(out == "\x00\x7f\x80\x01\xac\x02"s);
    CHECK(hotstate::detail::zigzag_encode(0) == 0);
    CHECK(hotstate::detail::zigzag_encode(-1) == 1);
    CHECK(hotstate::detail::zigzag_encode(1) == 2);
    CHECK(hotstate::detail::zigzag_decode(hotstate::detail::zigzag_encode(INT64_MIN)) == INT64_MIN);
    CHECK(hotstate::detail::zigzag_decode(hotstate::detail::zigzag_encode(INT64_MAX)) == INT64_MAX);

    hotstate::detail::wire_reader reader(out);
    CHECK(reader.varint() == 0);
    CHECK(reader.varint() == 127);
    CHECK(reader.varint() == 128);
    CHECK(reader.varint() == 300);
    CHECK(reader.at_end());
}

TEST_CASE("wire: overlong and truncated varints are refused", "[unit][codec]") {
    std::string max;
    hotstate::detail::put_varint(max, UINT64_MAX);
    CHECK(max.size() == 10);
    CHECK(hotstate::detail::wire_reader(max).varint() == UINT64_MAX);
    const std::string overflow = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"s;
    CHECK_THROWS_MATCHES(hotstate::detail::wire_reader(overflow).varint(), hotstate::error,
                         Catch::Matchers::Predicate<hotstate::error>(is_decode_error));
    const std::string eleven = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s;
    CHECK_THROWS_AS(hotstate::detail::wire_reader(eleven).varint(), hotstate::error);
    CHECK_THROWS_AS(hotstate::detail::wire_reader("\x80"s).varint(), hotstate::error);
    CHECK_THROWS_AS(hotstate::detail::wire_reader(""s).varint(), hotstate::error);
}

TEST_CASE("codec: integers are decimal ASCII like Redis counters", "[unit][codec]") {
    CHECK(encode<std::int64_t>(-42) == "-42");
    CHECK(encode<std::uint16_t>(65535) == "65535");
    CHECK(hotstate::codec<std::int64_t>::decode("123") == 123);
    CHECK(hotstate::codec<std::int64_t>::decode("-9223372036854775808") == INT64_MIN);
    CHECK_THROWS_AS(hotstate::codec<std::int64_t>::decode("12x"), hotstate::error);
    CHECK_THROWS_AS(hotstate::codec<std::int64_t>::decode(""), hotstate::error);
    CHECK_THROWS_AS(hotstate::codec<std::uint8_t>::decode("256"), hotstate::error);
    CHECK_THROWS_AS(hotstate::codec<std::int64_t>::decode("99999999999999999999"), hotstate::error);
}

TEST_CASE("codec: Hana structs round-trip every supported field type", "[unit][codec]") {
    const everything value{true,
                           -1234567890123,
                           UINT64_MAX,
                           -128,
                           level::high,
                           0.25,
                           std::string("with\0nul", 8),
                           {0, 1, 255},
                           "present",
                           {{1, "a"}, {4000000000U, "b"}},
                           {192, 0, 2, 1},
                           std::chrono::milliseconds{-1500},
                           std::chrono::sys_time<std::chrono::seconds>{std::chrono::seconds{1767225600}}};
    const std::string bytes = encode(value);
    const auto back = hotstate::codec<everything>::decode(bytes);
    CHECK(back.flag == value.flag);
    CHECK(back.signed_value == value.signed_value);
    CHECK(back.unsigned_value == value.unsigned_value);
    CHECK(back.small == value.small);
    CHECK(back.severity == value.severity);
    CHECK(back.ratio == value.ratio);
    CHECK(back.text == value.text);
    CHECK(back.blob == value.blob);
    CHECK(back.maybe == value.maybe);
    REQUIRE(back.children.size() == 2);
    CHECK(back.children[1].id == 4000000000U);
    CHECK(back.children[1].label == "b");
    CHECK(back.address == value.address);
    CHECK(back.delay == value.delay);
    CHECK(back.when == value.when);

    SECTION("compact: small values take a byte or so") {
        CHECK(encode(inner{5, "x"}) == "\x05\x01x"s);
    }
    SECTION("every truncation is refused, never read past the end") {
        for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
            CAPTURE(cut);
            CHECK_THROWS_MATCHES(hotstate::codec<everything>::decode(std::string_view(bytes).substr(0, cut)),
                                 hotstate::error, Catch::Matchers::Predicate<hotstate::error>(is_decode_error));
        }
    }
    SECTION("trailing bytes are refused") {
        CHECK_THROWS_AS(hotstate::codec<everything>::decode(bytes + "x"), hotstate::error);
    }
    SECTION("garbage never crashes: it decodes or throws decode errors") {
        std::uint64_t state = 0x9e3779b97f4a7c15ULL;
        for (int round = 0; round < 20000; ++round) {
            std::string garbage(static_cast<std::size_t>(state % 64), '\0');
            for (auto& c : garbage) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                c = static_cast<char>(state >> 56);
            }
            try {
                (void)hotstate::codec<everything>::decode(garbage);
            } catch (const hotstate::error& e) {
                REQUIRE(e.kind() == hotstate::errc::decode);
            }
        }
    }
    SECTION("a huge element count in garbage does not allocate") {
        const std::string lying = "\x05\x01\xff\xff\xff\xff\x0f"s;
        CHECK_THROWS_AS(hotstate::codec<inner>::decode(lying), hotstate::error);
        std::string vector_bytes;
        hotstate::detail::put_varint(vector_bytes, 1ULL << 60);
        hotstate::detail::wire_reader reader(vector_bytes);
        CHECK_THROWS_AS(hotstate::detail::struct_wire<std::vector<inner>>::decode(reader), hotstate::error);
    }
    SECTION("bad bool and out-of-range integers are refused") {
        CHECK_THROWS_AS(hotstate::codec<inner>::decode("\x80\x80\x80\x80\x20\x00"s), hotstate::error);
        std::string bad_flag = bytes;
        bad_flag[0] = '\x02';
        CHECK_THROWS_AS(hotstate::codec<everything>::decode(bad_flag), hotstate::error);
    }
}
