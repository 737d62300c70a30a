// Commands as pure values, without a server: each command's request bytes,
// and its interpretation of every reply shape (value, nil, wrong type, error,
// another type), the replies parsed by hiredis's redisReader from RESP bytes.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/error.hpp>

#include "support/command_testing.hpp"

namespace {

namespace cmd = hotstate::detail::redis::commands;
using hotstate::errc;
using hotstate::redis::reply;
using hotstate::testing::bytes_of;
using hotstate::testing::error_of;
using hotstate::testing::parse;
using namespace std::string_view_literals;

constexpr std::string_view where = "127.0.0.1:6379";

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

namespace {

/// The fallback request a command would send in place of its first one.
template <class C>
std::string fallback_bytes_of(const C& command) {
    std::string out;
    command.write_fallback(out);
    return out;
}

const std::string noscript = "-NOSCRIPT No matching script. Please use EVAL.\r\n";

}  // namespace

TEST_CASE("commands: the host of a reply's address, for redirects to \":port\"", "[redis][commands][unit]") {
    CHECK(cmd::host_of("10.0.0.5:6380") == "10.0.0.5");
    CHECK(cmd::host_of("[::1]:6380") == "::1");
    CHECK(cmd::host_of("[fe80::1%eth0]:7000") == "fe80::1%eth0");
    CHECK(cmd::host_of("/tmp/redis.sock") == "/tmp/redis.sock");  // a socket path has no host: itself
}

TEST_CASE("commands: GET as a counter", "[redis][commands][unit]") {
    CHECK(bytes_of(cmd::get_integer("c")) == "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
    CHECK(cmd::get_integer("c").interpret(parse("$2\r\n42\r\n"), where) == 42);
    CHECK(cmd::get_integer("c").interpret(parse("$2\r\n-7\r\n"), where) == -7);
    CHECK(cmd::get_integer("c").interpret(parse(nil), where) == 0);
    for (const char* bad : {"$3\r\nabc\r\n", "$0\r\n\r\n", "$3\r\n12x\r\n", "$20\r\n99999999999999999999\r\n"})
        CHECK(error_of([&] { (void)cmd::get_integer("c").interpret(parse(bad), where); }).kind() == errc::wrong_type);
    check_errors(cmd::get_integer("c"));
}

TEST_CASE("commands: take falls back to the GET + DEL script on a server without GETDEL", "[redis][commands][unit]") {
    std::atomic<bool> old_server{false};
    const cmd::take take("k", &old_server);
    CHECK(bytes_of(take) == "*2\r\n$6\r\nGETDEL\r\n$1\r\nk\r\n");
    CHECK_FALSE(take.fallback_on(parse("$1\r\nv\r\n")));
    CHECK_FALSE(take.fallback_on(parse(nil)));
    CHECK_FALSE(take.fallback_on(parse(wrongtype)));
    CHECK_FALSE(old_server.load());
    CHECK(take.fallback_on(parse("-ERR unknown command 'GETDEL', with args beginning with: 'k'\r\n")));
    CHECK(old_server.load());  // remembered: later takes send the script at once
    const std::string script = std::string(hotstate::detail::redis::take_fallback.text);
    const std::string eval = "*4\r\n$4\r\nEVAL\r\n$" + std::to_string(script.size()) + "\r\n" + script + "\r\n$1\r\n1\r\n$1\r\nk\r\n";
    CHECK(fallback_bytes_of(take) == eval);
    CHECK(bytes_of(take) == eval);
    CHECK(take.interpret(parse("$1\r\nv\r\n"), where) == "v"sv);
    STATIC_REQUIRE_FALSE(cmd::take::idempotent);
}

TEST_CASE("commands: increment, with an expiry a MULTI/EXEC transaction", "[redis][commands][unit]") {
    CHECK(bytes_of(cmd::increment("c", 5)) == bytes_of(cmd::incr_by("c", 5)));
    CHECK(cmd::increment("c", 5).replies() == 1);
    CHECK(bytes_of(cmd::increment("c", 5, 60000)) ==
          "*1\r\n$5\r\nMULTI\r\n" + bytes_of(cmd::incr_by("c", 5)) +
              "*3\r\n$7\r\nPEXPIRE\r\n$1\r\nc\r\n$5\r\n60000\r\n*1\r\n$4\r\nEXEC\r\n");
    CHECK(cmd::increment("c", 5, 60000).replies() == 4);
    CHECK(cmd::increment("c", 5).interpret(parse(":42\r\n"), where) == 42);
    // EXEC's [new value, PEXPIRE's 1]; exact at the int64 edge
    CHECK(cmd::increment("c", 1, 1).interpret(parse("*2\r\n:9223372036854775807\r\n:1\r\n"), where) == INT64_MAX);
    // an error inside the transaction (the value is not a number) keeps its classification
    CHECK(error_of([] {
              (void)cmd::increment("c", 1, 1).interpret(
                  parse("*2\r\n-ERR value is not an integer or out of range\r\n:1\r\n"), where);
          }).kind() == errc::wrong_type);
    // EXECABORT and the other shapes
    CHECK(error_of([] {
              (void)cmd::increment("c", 1, 1).interpret(
                  parse("-EXECABORT Transaction discarded because of previous errors.\r\n"), where);
          }).kind() == errc::server);
    for (const char* bad : {"*1\r\n:1\r\n", "*2\r\n$1\r\n1\r\n:1\r\n", "$-1\r\n", "*-1\r\n"})
        CHECK(error_of([&] { (void)cmd::increment("c", 1, 1).interpret(parse(bad), where); }).kind() == errc::server);
    check_errors(cmd::increment("c", 1, 1));
    STATIC_REQUIRE_FALSE(cmd::increment::idempotent);
}

TEST_CASE("commands: scripts run by EVALSHA, EVAL on NOSCRIPT", "[redis][commands][unit]") {
    const auto sha = std::string(hotstate::detail::redis::lock_release_again.sha_view());
    const cmd::lock_release_again release("l", "o", 42);
    CHECK(bytes_of(release) ==
          "*6\r\n$7\r\nEVALSHA\r\n$40\r\n" + sha + "\r\n$1\r\n1\r\n$1\r\nl\r\n$1\r\no\r\n$2\r\n42\r\n");
    const std::string text(hotstate::detail::redis::lock_release_again.text);
    CHECK(fallback_bytes_of(release) == "*6\r\n$4\r\nEVAL\r\n$" + std::to_string(text.size()) + "\r\n" + text +
                                            "\r\n$1\r\n1\r\n$1\r\nl\r\n$1\r\no\r\n$2\r\n42\r\n");
    CHECK(release.fallback_on(parse(noscript)));
    CHECK_FALSE(release.fallback_on(parse(wrongtype)));
    CHECK_FALSE(release.fallback_on(parse(":1\r\n")));
    // a script's errors name the operation
    CHECK_THAT(error_of([&] { (void)release.interpret(parse(wrongtype), where); }).message(), Catch::Contains("release"));
    STATIC_REQUIRE_FALSE(cmd::gcra::idempotent);
    STATIC_REQUIRE(cmd::lock_acquire::idempotent);
    STATIC_REQUIRE(cmd::lock_release::idempotent);
    STATIC_REQUIRE(cmd::lock_extend::idempotent);
}

TEST_CASE("commands: GCRA's three integers", "[redis][commands][unit]") {
    const cmd::gcra step("r", 1000000, 20000, 100000, 1);
    const auto sha = std::string(hotstate::detail::redis::gcra_check.sha_view());
    CHECK(bytes_of(step) == "*9\r\n$7\r\nEVALSHA\r\n$40\r\n" + sha +
                                "\r\n$1\r\n1\r\n$1\r\nr\r\n$7\r\n1000000\r\n$5\r\n20000\r\n$6\r\n100000\r\n$1\r\n1\r\n$4\r\n1000\r\n");
    const auto allowed = step.interpret(parse("*3\r\n:1\r\n:0\r\n:4\r\n"), where);
    CHECK(allowed.allowed);
    CHECK(allowed.remaining == 4);
    const auto denied = step.interpret(parse("*3\r\n:0\r\n:250\r\n:0\r\n"), where);
    CHECK_FALSE(denied.allowed);
    CHECK(denied.retry_after == std::chrono::milliseconds{250});
    for (const char* bad : {"*2\r\n:1\r\n:0\r\n", "*3\r\n:1\r\n$1\r\n0\r\n:4\r\n", ":1\r\n", "$-1\r\n"})
        CHECK(error_of([&] { (void)step.interpret(parse(bad), where); }).kind() == errc::server);
    CHECK(error_of([&] { (void)step.interpret(parse(wrongtype), where); }).kind() == errc::wrong_type);
}

TEST_CASE("commands: lock scripts", "[redis][commands][unit]") {
    const cmd::lock_acquire acquire("l", "owner-1", 5000, 86400000);
    const auto sha = std::string(hotstate::detail::redis::lock_acquire.sha_view());
    // the retention is not sent: the fence lives as long as the lock's hash
    CHECK(bytes_of(acquire) == "*6\r\n$7\r\nEVALSHA\r\n$40\r\n" + sha +
                                   "\r\n$1\r\n1\r\n$1\r\nl\r\n$7\r\nowner-1\r\n$4\r\n5000\r\n");
    CHECK(acquire.interpret(parse("$16\r\n1700000000123456\r\n"), where) == std::uint64_t{1700000000123456});
    CHECK_FALSE(acquire.interpret(parse(nil), where).has_value());
    CHECK(error_of([&] { (void)acquire.interpret(parse("$3\r\nabc\r\n"), where); }).kind() == errc::decode);
    CHECK(error_of([&] { (void)acquire.interpret(parse(":1\r\n"), where); }).kind() == errc::server);
    check_errors(acquire);

    // the release is HDEL of the owner's field, no script; a re-send is the script
    const cmd::lock_release release("l", "owner-1", 1700000000123456);
    CHECK(bytes_of(release) == "*3\r\n$4\r\nHDEL\r\n$1\r\nl\r\n$7\r\nowner-1\r\n");  // the fence is not sent
    const auto again = release.resend();  // the fence is, in the re-send
    STATIC_REQUIRE(std::is_same_v<decltype(again), const cmd::lock_release_again>);
    CHECK(bytes_of(again) == "*6\r\n$7\r\nEVALSHA\r\n$40\r\n" +
                                 std::string(hotstate::detail::redis::lock_release_again.sha_view()) +
                                 "\r\n$1\r\n1\r\n$1\r\nl\r\n$7\r\nowner-1\r\n$16\r\n1700000000123456\r\n");
    const cmd::lock_extend extend("l", "owner-1", 5000, 1000);
    CHECK(bytes_of(extend) == "*6\r\n$7\r\nEVALSHA\r\n$40\r\n" +
                                  std::string(hotstate::detail::redis::lock_extend.sha_view()) +
                                  "\r\n$1\r\n1\r\n$1\r\nl\r\n$7\r\nowner-1\r\n$4\r\n5000\r\n");
    for (const auto* answer : {":1\r\n", ":0\r\n"}) {
        CHECK(release.interpret(parse(answer), where) == (answer[1] == '1'));
        CHECK(again.interpret(parse(answer), where) == (answer[1] == '1'));
        CHECK(extend.interpret(parse(answer), where) == (answer[1] == '1'));
    }
    CHECK(error_of([&] { (void)release.interpret(parse(nil), where); }).kind() == errc::server);
    CHECK(error_of([&] { (void)again.interpret(parse(nil), where); }).kind() == errc::server);
    // a key that is no lock (WRONGTYPE) is "not yours", as the extend script's pcall says; other errors throw
    CHECK_FALSE(release.interpret(parse(wrongtype), where));
    CHECK(error_of([&] { (void)release.interpret(parse("-OOM command not allowed\r\n"), where); }).kind() ==
          errc::memory_limit);
    CHECK(error_of([&] { (void)release.interpret(parse("*1\r\n:1\r\n"), where); }).kind() == errc::server);
    check_errors(again);
    check_errors(extend);
    STATIC_REQUIRE_FALSE(cmd::HasFallback<cmd::lock_release>);
    CHECK(again.fallback_on(parse(noscript)));
}

namespace {

/// Twelve keys, as the queue's queue_keys gives its eight: a count and operator[].
struct twelve_keys {
    static constexpr std::size_t count = 12;
    std::string_view operator[](std::size_t i) const noexcept { return "k0k1k2k3k4k5k6k7k8k9kAkB"sv.substr(2 * i, 2); }
};

/// A script on several keys, its ARGV as a pack.
struct many_keys_script : cmd::script_command<many_keys_script> {
    using result_type = bool;
    static constexpr const hotstate::detail::redis::script& code = hotstate::detail::redis::lock_extend;
    [[maybe_unused]] static constexpr std::string_view name = "many";
    [[maybe_unused]] static constexpr bool idempotent = true;
    const twelve_keys* keys;
    explicit many_keys_script(const twelve_keys& k) noexcept : keys(&k) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        return g("a"sv, "bc"sv);
    }
    [[nodiscard]] result_type interpret(hotstate::redis::reply_view, cmd::reply_context) const { return true; }
};

/// A script on one key, its ARGV counted at run time.
struct runtime_argv_script : cmd::script_command<runtime_argv_script> {
    using result_type = bool;
    static constexpr const hotstate::detail::redis::script& code = hotstate::detail::redis::lock_extend;
    [[maybe_unused]] static constexpr std::string_view name = "runtime";
    [[maybe_unused]] static constexpr bool idempotent = true;
    std::string_view key;
    std::vector<std::string_view> args;
    runtime_argv_script(std::string_view k, std::vector<std::string_view> a) : key(k), args(std::move(a)) {}
    template <class G>
    decltype(auto) with_script_argv(G&& g) const {
        return g(std::span<const std::string_view>(args));
    }
    [[nodiscard]] result_type interpret(hotstate::redis::reply_view, cmd::reply_context) const { return true; }
};

std::string resp_of(std::initializer_list<std::string_view> parts) {
    std::string out = "*" + std::to_string(parts.size()) + "\r\n";
    for (const auto part : parts) out.append("$" + std::to_string(part.size()) + "\r\n").append(part).append("\r\n");
    return out;
}

}  // namespace

TEST_CASE("commands: the one script runner: one key or several, ARGV as a pack or counted at run time",
          "[redis][commands][unit]") {
    STATIC_REQUIRE(cmd::decimal_constant<0>::text == "0");
    STATIC_REQUIRE(cmd::decimal_constant<8>::text == "8");
    STATIC_REQUIRE(cmd::decimal_constant<12>::text == "12");
    STATIC_REQUIRE(cmd::decimal_constant<1234567>::text == "1234567");
    const auto& code = hotstate::detail::redis::lock_extend;
    const twelve_keys keys;
    const many_keys_script many(keys);
    CHECK(bytes_of(many) == resp_of({"EVALSHA", code.sha_view(), "12", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
                                     "k8", "k9", "kA", "kB", "a", "bc"}));
    CHECK(fallback_bytes_of(many) == resp_of({"EVAL", code.text, "12", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
                                              "k8", "k9", "kA", "kB", "a", "bc"}));
    CHECK(many.fallback_on(parse(noscript)));
    const runtime_argv_script counted("l", {"x", "", "yz"});
    CHECK(bytes_of(counted) == resp_of({"EVALSHA", code.sha_view(), "1", "l", "x", "", "yz"}));
    CHECK(fallback_bytes_of(counted) == resp_of({"EVAL", code.text, "1", "l", "x", "", "yz"}));
    const runtime_argv_script bare("l", {});
    CHECK(bytes_of(bare) == resp_of({"EVALSHA", code.sha_view(), "1", "l"}));
}

TEST_CASE("commands: PING, ASKING, SCRIPT LOAD", "[redis][commands][unit]") {
    CHECK(bytes_of(cmd::ping{}) == "*1\r\n$4\r\nPING\r\n");
    CHECK(bytes_of(cmd::asking{}) == "*1\r\n$6\r\nASKING\r\n");
    CHECK(cmd::ping{}.interpret(parse("+PONG\r\n"), where));
    CHECK(error_of([] { (void)cmd::ping{}.interpret(parse("-NOAUTH Authentication required.\r\n"), where); }).kind() ==
          errc::authentication);
    CHECK(error_of([] { (void)cmd::ping{}.interpret(parse(":1\r\n"), where); }).kind() == errc::server);
    const cmd::script_load load(hotstate::detail::redis::lock_extend);
    const std::string text(hotstate::detail::redis::lock_extend.text);
    CHECK(bytes_of(load) ==
          "*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$" + std::to_string(text.size()) + "\r\n" + text + "\r\n");
    CHECK(load.interpret(parse("$40\r\n" + std::string(hotstate::detail::redis::lock_extend.sha_view()) + "\r\n"), where));
    check_errors(load);
}

TEST_CASE("commands: SCAN pages and UNLINK of a page", "[redis][commands][unit]") {
    const cmd::scan page("0", "p:*");
    CHECK(bytes_of(page) ==
          "*6\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nMATCH\r\n$3\r\np:*\r\n$5\r\nCOUNT\r\n$4\r\n1000\r\n");
    const reply r = parse("*2\r\n$2\r\n17\r\n*2\r\n$3\r\np:a\r\n$3\r\np:b\r\n");
    const auto result = page.interpret(r, where);
    CHECK(result.cursor == "17"sv);
    REQUIRE(result.keys.size() == 2);
    CHECK(result.keys[1].text() == "p:b"sv);
    CHECK(bytes_of(cmd::unlink_keys(result.keys)) == "*3\r\n$6\r\nUNLINK\r\n$3\r\np:a\r\n$3\r\np:b\r\n");
    CHECK(cmd::unlink_keys(result.keys).interpret(parse(":2\r\n"), where) == 2);
    for (const char* bad : {"*1\r\n$1\r\n0\r\n", "*2\r\n$1\r\n0\r\n:1\r\n", "*2\r\n$1\r\n0\r\n*1\r\n:1\r\n", ":0\r\n"})
        CHECK(error_of([&] { (void)page.interpret(parse(bad), where); }).kind() == errc::server);
    check_errors(page);
}

TEST_CASE("commands: redirects reach a router only when it follows them", "[redis][commands][unit]") {
    const auto moved = parse("-MOVED 3999 127.0.0.1:7001\r\n");
    // a standalone server: an error like any other
    CHECK(error_of([&] { (void)cmd::get("k").interpret(moved, where); }).kind() == errc::server);
    // a cluster router: redirected, with the target
    try {
        (void)cmd::get("k").interpret(moved, cmd::reply_context(where, true));
        FAIL("no redirect");
    } catch (const cmd::redirected& r) {
        CHECK(r.what.kind == hotstate::detail::redis::routing::failure_kind::moved);
        CHECK(r.what.slot == 3999);
        REQUIRE(r.what.target.has_value());
        CHECK(r.what.target->port == 7001);
        CHECK(r.address == std::string(where));
    }
    // "MOVED 1 :7002" (an unknown endpoint) means the replying host
    try {
        (void)cmd::incr_by("c", 1).interpret(parse("-ASK 1 :7002\r\n"), cmd::reply_context(where, true));
        FAIL("no redirect");
    } catch (const cmd::redirected& r) {
        CHECK(r.what.kind == hotstate::detail::redis::routing::failure_kind::ask);
        REQUIRE(r.what.target.has_value());
        CHECK(r.what.target->host == "127.0.0.1");
    }
    // an ordinary error stays an error for a router too
    CHECK(error_of([&] { (void)cmd::get("k").interpret(parse(wrongtype), cmd::reply_context(where, true)); }).kind() ==
          errc::wrong_type);
}
