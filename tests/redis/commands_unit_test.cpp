// Commands as pure values, without a server: each command's request bytes,
// and its interpretation of every reply shape (value, nil, wrong type, error,
// another type), the replies parsed by hiredis's redisReader from RESP bytes.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/commands.hpp>
#include <hotstate/error.hpp>

namespace {

namespace cmd = hotstate::detail::redis::commands;
using hotstate::errc;
using hotstate::redis::reply;
using namespace std::string_view_literals;

constexpr std::string_view where = "127.0.0.1:6379";

/// The reply `resp` encodes, parsed as the connection parses replies.
reply parse(std::string_view resp) {
    std::unique_ptr<redisReader, hotstate::detail::redis::reader_deleter> reader(redisReaderCreate());
    REQUIRE(redisReaderFeed(reader.get(), resp.data(), resp.size()) == REDIS_OK);
    void* raw = nullptr;
    REQUIRE(redisReaderGetReply(reader.get(), &raw) == REDIS_OK);
    REQUIRE(raw != nullptr);
    return reply(static_cast<redisReply*>(raw));
}

template <class C>
std::string bytes_of(const C& command) {
    std::string out;
    command.write(out);
    return out;
}

hotstate::error error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const hotstate::error& e) {
        return e;
    }
    FAIL("no error");
    return hotstate::error(errc::server, "unreachable");
}

const std::string nil = "$-1\r\n";
const std::string wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/// Every command's reaction to a WRONGTYPE error and to an array it never expects.
template <class C>
void check_errors(const C& command) {
    const auto wrong = error_of([&] { (void)command.interpret(parse(wrongtype), where); });
    CHECK(wrong.kind() == errc::wrong_type);
    CHECK_THAT(wrong.message(), Catch::Contains(std::string(where)) && Catch::Contains(std::string(C::name)) &&
                                    Catch::Contains("WRONGTYPE"));
    const auto oom = error_of([&] { (void)command.interpret(parse("-OOM command not allowed\r\n"), where); });
    CHECK(oom.kind() == errc::memory_limit);
    const auto shape = error_of([&] { (void)command.interpret(parse("*1\r\n:1\r\n"), where); });
    CHECK(shape.kind() == errc::server);
    CHECK_THAT(shape.message(), Catch::Contains("unexpected array reply") && Catch::Contains(std::string(C::name)));
}

}  // namespace

TEST_CASE("commands: request bytes", "[redis][commands][unit]") {
    CHECK(bytes_of(cmd::get("k")) == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    CHECK(bytes_of(cmd::getdel("key")) == "*2\r\n$6\r\nGETDEL\r\n$3\r\nkey\r\n");
    CHECK(bytes_of(cmd::set("k", "v")) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    CHECK(bytes_of(cmd::set("k", "v", 1500)) == "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nPX\r\n$4\r\n1500\r\n");
    CHECK(bytes_of(cmd::incr_by("c", -7)) == "*3\r\n$6\r\nINCRBY\r\n$1\r\nc\r\n$2\r\n-7\r\n");
    CHECK(bytes_of(cmd::incr_by("c", INT64_MIN)) ==
          "*3\r\n$6\r\nINCRBY\r\n$1\r\nc\r\n$20\r\n-9223372036854775808\r\n");
    CHECK(bytes_of(cmd::unlink("k")) == "*2\r\n$6\r\nUNLINK\r\n$1\r\nk\r\n");
    CHECK(bytes_of(cmd::exists("k")) == "*2\r\n$6\r\nEXISTS\r\n$1\r\nk\r\n");
    CHECK(bytes_of(cmd::sadd("s", "m")) == "*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$1\r\nm\r\n");
    CHECK(bytes_of(cmd::srem("s", "m")) == "*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$1\r\nm\r\n");
    CHECK(bytes_of(cmd::sismember("s", "m")) == "*3\r\n$9\r\nSISMEMBER\r\n$1\r\ns\r\n$1\r\nm\r\n");
    CHECK(bytes_of(cmd::hset("h", "f", "v")) == "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n");
    CHECK(bytes_of(cmd::hget("h", "f")) == "*3\r\n$4\r\nHGET\r\n$1\r\nh\r\n$1\r\nf\r\n");
    CHECK(bytes_of(cmd::hdel("h", "f")) == "*3\r\n$4\r\nHDEL\r\n$1\r\nh\r\n$1\r\nf\r\n");
    SECTION("binary-safe: NUL, CR LF and an empty value") {
        const std::string value("a\0\r\nb", 5);
        CHECK(bytes_of(cmd::set("k", value)) == std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0\r\nb\r\n", 31));
        CHECK(bytes_of(cmd::set("k", "")) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
    SECTION("write appends: a pipeline is the concatenation") {
        std::string out;
        cmd::get("a").write(out);
        cmd::unlink("b").write(out);
        CHECK(out == bytes_of(cmd::get("a")) + bytes_of(cmd::unlink("b")));
    }
    SECTION("idempotence as the pool needs it") {
        STATIC_REQUIRE(cmd::get::idempotent);
        STATIC_REQUIRE(cmd::set::idempotent);
        STATIC_REQUIRE_FALSE(cmd::incr_by::idempotent);
        STATIC_REQUIRE_FALSE(cmd::getdel::idempotent);
    }
}

TEST_CASE("commands: values and nil", "[redis][commands][unit]") {
    for (const auto& command : {cmd::get("k")}) {
        CHECK(command.interpret(parse("$5\r\nhello\r\n"), where) == "hello"sv);
        CHECK(command.interpret(parse("$0\r\n\r\n"), where) == ""sv);
        CHECK_FALSE(command.interpret(parse(nil), where).has_value());
        check_errors(command);
    }
    CHECK(cmd::getdel("k").interpret(parse("$1\r\nv\r\n"), where) == "v"sv);
    CHECK_FALSE(cmd::getdel("k").interpret(parse(nil), where).has_value());
    check_errors(cmd::getdel("k"));
    CHECK(cmd::hget("h", "f").interpret(parse("$1\r\nv\r\n"), where) == "v"sv);
    CHECK_FALSE(cmd::hget("h", "f").interpret(parse(nil), where).has_value());
    check_errors(cmd::hget("h", "f"));
    // an integer where bytes belong is a shape error too
    CHECK(error_of([] { (void)cmd::get("k").interpret(parse(":1\r\n"), where); }).kind() == errc::server);
}

TEST_CASE("commands: SET wants a status", "[redis][commands][unit]") {
    CHECK(cmd::set("k", "v").interpret(parse("+OK\r\n"), where));
    check_errors(cmd::set("k", "v"));
    // SET ... NX/GET would answer nil or bytes: not what this command sent
    CHECK(error_of([] { (void)cmd::set("k", "v").interpret(parse(nil), where); }).kind() == errc::server);
}

TEST_CASE("commands: INCRBY's integer and its errors", "[redis][commands][unit]") {
    CHECK(cmd::incr_by("c", 5).interpret(parse(":42\r\n"), where) == 42);
    CHECK(cmd::incr_by("c", -5).interpret(parse(":-3\r\n"), where) == -3);
    check_errors(cmd::incr_by("c", 1));
    const auto not_integer =
        error_of([] { (void)cmd::incr_by("c", 1).interpret(parse("-ERR value is not an integer or out of range\r\n"), where); });
    CHECK(not_integer.kind() == errc::wrong_type);
    const auto overflow =
        error_of([] { (void)cmd::incr_by("c", 1).interpret(parse("-ERR increment or decrement would overflow\r\n"), where); });
    CHECK(overflow.kind() == errc::invalid_argument);
    CHECK(error_of([] { (void)cmd::incr_by("c", 1).interpret(parse(nil), where); }).kind() == errc::server);
}

TEST_CASE("commands: integer flags", "[redis][commands][unit]") {
    const auto check_flag = [](const auto& command) {
        CHECK(command.interpret(parse(":1\r\n"), where));
        CHECK_FALSE(command.interpret(parse(":0\r\n"), where));
        CHECK(error_of([&] { (void)command.interpret(parse(nil), where); }).kind() == errc::server);
        check_errors(command);
    };
    check_flag(cmd::unlink("k"));
    check_flag(cmd::exists("k"));
    check_flag(cmd::sadd("s", "m"));
    check_flag(cmd::srem("s", "m"));
    check_flag(cmd::sismember("s", "m"));
    check_flag(cmd::hset("h", "f", "v"));
    check_flag(cmd::hdel("h", "f"));
}
