// Pure pieces of the Redis backend, no server: RESP encoding, SHA-1 of the
// scripts, glob escaping, error classification.
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/proto/glob.hpp>
#include <hotstate/detail/redis/proto/resp.hpp>
#include <hotstate/detail/redis/proto/scripts.hpp>
#include <hotstate/detail/redis/proto/sha1.hpp>
#include <hotstate/redis/connection.hpp>

namespace redis = hotstate::detail::redis;

namespace {
std::string ours(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    std::size_t payload = 0;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
        payload += a.size();
    }
    std::string out(payload + redis::resp_overhead(args.size()), '\0');
    out.resize(redis::format_command(out.data(), args.size(), argv.data(), lengths.data()));
    return out;
}
std::string hiredis(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    char* target = nullptr;
    const int size = redisFormatCommandArgv(&target, static_cast<int>(args.size()), argv.data(), lengths.data());
    std::string out(target, static_cast<std::size_t>(size));
    redisFreeCommand(target);
    return out;
}
}  // namespace

TEST_CASE("RESP encoding is byte-for-byte hiredis's", "[redis][unit]") {
    CHECK(ours({"PING"}) == "*1\r\n$4\r\nPING\r\n");
    const std::vector<std::vector<std::string>> commands = {
        {"GET", "k"},
        {"SET", std::string("\x01k\0y", 4), std::string("\0\r\n\xff", 4), "PX", "60000"},
        {"SET", "", ""},
        {"HSET", "h", "f", std::string(300, 'x')},
        {"EVALSHA", std::string(redis::gcra_check.sha_view()), "1", "key", "1767225600000000", "100000", "300000",
         "1", "1000"},
    };
    for (const auto& command : commands) CHECK(ours(command) == hiredis(command));
    std::vector<std::string> many(120, "arg");
    CHECK(ours(many) == hiredis(many));
    CHECK(redis::resp_overhead(1) >= std::string("*1\r\n$18446744073709551615\r\n\r\n").size());
}

TEST_CASE("integer arguments are formatted exactly", "[redis][unit]") {
    using hotstate::redis::int_arg;
    for (const std::int64_t value : {std::int64_t{0}, std::int64_t{7}, std::int64_t{-7}, std::int64_t{42}, std::int64_t{99},
                                     std::int64_t{100}, std::int64_t{-100}, std::int64_t{60000},
                                     std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()})
        CHECK(int_arg(value).view() == std::to_string(value));
    CHECK(int_arg(std::numeric_limits<std::uint64_t>::max()).view() == "18446744073709551615");
}

TEST_CASE("compile-time SHA-1 of the scripts", "[redis][unit]") {
    CHECK(std::string_view(redis::sha1_hex("The quick brown fox jumps over the lazy dog").data(), 40) ==
          "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
    const std::string long_text(1000, 'a');
    CHECK(std::string_view(redis::sha1_hex(long_text).data(), 40) == "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    for (const auto* s : redis::all_scripts) CHECK(s->sha_view().size() == 40);
}

TEST_CASE("glob patterns escape every metacharacter of a binary prefix", "[redis][unit]") {
    CHECK(redis::glob_prefix_pattern("abc") == "abc*");
    CHECK(redis::glob_prefix_pattern("a*b?c[d]e\\") == "a\\*b\\?c\\[d\\]e\\\\*");
    CHECK(redis::glob_prefix_pattern(std::string("\x01\0z", 3)) == std::string("\x01\0z*", 4));
    CHECK(redis::glob_prefix_pattern("") == "*");
}

TEST_CASE("server error replies map to typed errors", "[redis][unit]") {
    using hotstate::errc;
    CHECK(redis::classify_server_error("WRONGTYPE Operation against a key holding the wrong kind of value") ==
          errc::wrong_type);
    CHECK(redis::classify_server_error("ERR value is not an integer or out of range") == errc::wrong_type);
    CHECK(redis::classify_server_error("OOM command not allowed when used memory > 'maxmemory'.") == errc::memory_limit);
    CHECK(redis::classify_server_error("NOAUTH Authentication required.") == errc::authentication);
    CHECK(redis::classify_server_error("WRONGPASS invalid username-password pair or user is disabled.") ==
          errc::authentication);
    CHECK(redis::classify_server_error("LOADING Redis is loading the dataset in memory") == errc::connection);
    CHECK(redis::classify_server_error("ERR increment or decrement would overflow") == errc::invalid_argument);
    CHECK(redis::classify_server_error("ERR unknown command 'FOO'") == errc::server);
    CHECK(redis::is_noscript("NOSCRIPT No matching script. Please use EVAL."));
    const auto e = redis::server_error("127.0.0.1:6379", "GET", "WRONGTYPE Operation");
    CHECK(e.kind() == errc::wrong_type);
    CHECK(std::string_view(e.what()).starts_with("redis 127.0.0.1:6379: GET: WRONGTYPE Operation"));
    CHECK(redis::io_error("h:1", "GET", 1, "Resource temporarily unavailable", EAGAIN).kind() == errc::timeout);
    CHECK(redis::io_error("h:1", "GET", 3, "Server closed the connection", 0).kind() == errc::connection);
}
