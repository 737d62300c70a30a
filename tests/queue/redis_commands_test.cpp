// The Redis queue's operations as command values, without a server: each
// command's request bytes (EVALSHA with the queue's eight keys, EVAL as the
// NOSCRIPT fallback) and its reading of every reply shape (value, nil, error,
// redirect, wrong shape), the replies parsed by hiredis's redisReader.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/detail/queue/redis_commands.hpp>
#include <hotstate/error.hpp>

#include "support/command_testing.hpp"

namespace {

namespace qc = hotstate::detail::queue::commands;
namespace rc = hotstate::detail::redis::commands;
using hotstate::errc;
using hotstate::detail::queue::owner_check;
using hotstate::redis::reply;
using hotstate::testing::bytes_of;
using hotstate::testing::error_of;
using hotstate::testing::fallback_bytes_of;
using hotstate::testing::parse;

constexpr std::string_view where = "127.0.0.1:6379";

/// RESP of an argv.
std::string resp(const std::vector<std::string_view>& argv) {
    std::string out = "*" + std::to_string(argv.size()) + "\r\n";
    for (const auto a : argv) out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
    return out;
}

const std::string base = "{Q}";  // an encoded, hash-tagged queue key

/// The fixed head of every queue script request, then `argv`.
std::string script_request(std::string_view verb, std::string_view body, std::vector<std::string_view> argv) {
    std::vector<std::string_view> all{verb, body, "8"};
    static const std::vector<std::string> keys{"{Q}W", "{Q}D", "{Q}A", "{Q}X", "{Q}Q", "{Q}S", "{Q}J", "{Q}L"};
    for (const auto& k : keys) all.push_back(k);
    all.insert(all.end(), argv.begin(), argv.end());
    return resp(all);
}

/// A command's reaction to error replies: NOSCRIPT asks for the fallback;
/// WRONGTYPE is a typed error naming the command and the address; MOVED is
/// `redirected` for a router that follows redirects, an error otherwise; an
/// unexpected shape is errc::server.
template <class C>
void check_errors(const C& command, std::string_view wrong_shape) {
    CHECK(command.fallback_on(parse("-NOSCRIPT No matching script. Please use EVAL.\r\n")));
    CHECK_FALSE(command.fallback_on(parse(":0\r\n")));
    const auto wrong = error_of([&] {
        (void)command.interpret(parse("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"), where);
    });
    CHECK(wrong.kind() == errc::wrong_type);
    CHECK_THAT(wrong.message(), Catch::Contains(std::string(where)) && Catch::Contains(std::string(C::name)));
    const auto moved = parse("-MOVED 3999 127.0.0.1:7001\r\n");
    CHECK_THROWS_AS(command.interpret(moved, rc::reply_context(where, true)), rc::redirected);
    CHECK_THROWS_AS(command.interpret(moved, where), hotstate::error);
    const auto shape = error_of([&] { (void)command.interpret(parse(wrong_shape), where); });
    CHECK(shape.kind() == errc::server);
    CHECK_THAT(shape.message(), Catch::Contains("unexpected") && Catch::Contains(std::string(C::name)));
}

}  // namespace

TEST_CASE("queue commands: keys share the queue's hash tag, one buffer", "[queue][commands][unit]") {
    const qc::queue_keys k(base);
    CHECK(k[0] == "{Q}W");
    CHECK(k[6] == "{Q}J");
    CHECK(k[7] == "{Q}L");
    CHECK(k.route() == "{Q}W");
    CHECK(k.wake_list() == "{Q}S");
}

TEST_CASE("queue commands: request bytes and the EVAL fallback", "[queue][commands][unit]") {
    const qc::queue_keys k(base);
    using hotstate::detail::queue::job_spec;
    const qc::enqueue one(k, 1000, job_spec{"id-1", "payload", -3, 250});
    const auto sha = hotstate::detail::queue::redis_enqueue.sha_view();
    CHECK(bytes_of(one) == script_request("EVALSHA", sha, {"1000", "id-1", "payload", "-3", "250"}));
    CHECK(fallback_bytes_of(one) ==
          script_request("EVAL", hotstate::detail::queue::redis_enqueue.text, {"1000", "id-1", "payload", "-3", "250"}));

    const std::vector<job_spec> jobs{{"a", "pa"}, {"b", "pb"}};
    const qc::enqueue_bulk bulk(k, 7, 2, 0, jobs);
    CHECK(bytes_of(bulk) == script_request("EVALSHA", hotstate::detail::queue::redis_enqueue_bulk.sha_view(),
                                           {"7", "2", "0", "a", "pa", "b", "pb"}));
    CHECK(fallback_bytes_of(bulk) == script_request("EVAL", hotstate::detail::queue::redis_enqueue_bulk.text,
                                                    {"7", "2", "0", "a", "pa", "b", "pb"}));
    // priority 0, no delay: the jobs after the first as whole line entries (NUL, id, NUL, payload)
    using namespace std::string_literals;
    const std::string binary = "p\0c"s;  // job_spec holds views: the payload outlives it
    const std::vector<job_spec> plain{{"a", "pa"}, {"b", "pb"}, {"c", binary}};
    CHECK(bytes_of(qc::enqueue_bulk(k, 7, 0, 0, plain)) ==
          script_request("EVALSHA", hotstate::detail::queue::redis_enqueue_bulk.sha_view(),
                         {"7", "0", "0", "a", "pa", "\0b\0pb"s, "\0c\0p\0c"s}));

    CHECK(bytes_of(qc::claim(k, "me", 5, 30000, 3)) ==
          script_request("EVALSHA", hotstate::detail::queue::redis_claim.sha_view(), {"5", "me", "30005", "3"}));
    CHECK(bytes_of(qc::ack_claim(k, "j", "me", "next", 5, 100, 2)) ==
          script_request("EVALSHA", hotstate::detail::queue::redis_ack_claim.sha_view(),
                         {"j", "me", "5", "next", "105", "2"}));
    CHECK(bytes_of(qc::fail(k, "j", "me", "HTTP 503", std::nullopt)) ==
          script_request("EVALSHA", hotstate::detail::queue::redis_fail.sha_view(), {"j", "me", "HTTP 503", ""}));
    CHECK(bytes_of(qc::fail(k, "j", "me", "HTTP 503", 9000)) ==
          script_request("EVALSHA", hotstate::detail::queue::redis_fail.sha_view(), {"j", "me", "HTTP 503", "9000"}));
    CHECK(bytes_of(qc::heartbeat(k, "j", "me", 42)) ==
          script_request("EVALSHA", hotstate::detail::queue::redis_heartbeat.sha_view(), {"j", "me", "42"}));
    CHECK(bytes_of(qc::requeue_dead(k, "")) ==
          script_request("EVALSHA", hotstate::detail::queue::redis_requeue_dead.sha_view(), {""}));
    CHECK(bytes_of(qc::purge(k)) == script_request("EVALSHA", hotstate::detail::queue::redis_purge.sha_view(), {}));
    CHECK(bytes_of(qc::wait_replicas(1, 500)) == resp({"WAIT", "1", "500"}));
    CHECK(bytes_of(qc::wait_wake(k.wake_list(), "0.250")) == resp({"BLPOP", "{Q}S", "0.250"}));
}

TEST_CASE("queue commands: the at-most-once tags", "[queue][commands][unit]") {
    // re-sent after a lost reply: enqueues (a second run adds nothing), reads, WAIT
    STATIC_REQUIRE(qc::enqueue::idempotent && qc::enqueue_bulk::idempotent && qc::counts::idempotent &&
                   qc::dead::idempotent && qc::wait_replicas::idempotent);
    // never re-sent: a second run would lease another job, or answer "lease lost"
    STATIC_REQUIRE(!qc::claim::idempotent && !qc::ack_claim::idempotent && !qc::ack::idempotent &&
                   !qc::fail::idempotent && !qc::heartbeat::idempotent && !qc::release::idempotent &&
                   !qc::requeue_dead::idempotent && !qc::purge::idempotent && !qc::wait_wake::idempotent);
}

TEST_CASE("queue commands: reply shapes", "[queue][commands][unit]") {
    const qc::queue_keys k(base);
    const qc::enqueue one(k, 1, {"id", "p"});
    CHECK(one.interpret(parse("*1\r\n:1\r\n"), where));
    CHECK_FALSE(one.interpret(parse("*1\r\n:0\r\n"), where));
    check_errors(one, ":1\r\n");

    const std::vector<hotstate::detail::queue::job_spec> jobs{{"a", "pa"}, {"b", "pb"}};
    const qc::enqueue_bulk bulk(k, 1, 0, 0, jobs);
    CHECK(bulk.interpret(parse(":2\r\n"), where) == 2);
    check_errors(bulk, "$-1\r\n");

    const qc::claim claim(k, "me", 1, 10, 3);
    CHECK_FALSE(claim.interpret(parse("$-1\r\n"), where));
    const auto got = claim.interpret(parse("*4\r\n$2\r\nj1\r\n$3\r\npay\r\n:2\r\n$5\r\n10001\r\n"), where);
    REQUIRE(got);
    CHECK(got->id == "j1");
    CHECK(got->payload == "pay");
    CHECK(got->attempt == 2);
    CHECK(got->lease_until_ms == 10001);
    const auto bare = claim.interpret(parse("*4\r\n$2\r\nj1\r\n$-1\r\n:1\r\n$1\r\n5\r\n"), where);
    REQUIRE(bare);
    CHECK(bare->payload.empty());  // dead-lettered by the decoder instead of blocking every claim
    check_errors(claim, "*2\r\n$2\r\nj1\r\n:1\r\n");
    CHECK(error_of([&] { (void)claim.interpret(parse("*4\r\n$2\r\nj1\r\n$1\r\np\r\n:1\r\n$2\r\nxx\r\n"), where); })
              .kind() == errc::server);  // a lease end that is not a number

    const qc::ack_claim step(k, "j", "me", "next", 1, 10, 3);
    const auto both = step.interpret(parse("*2\r\n:0\r\n*4\r\n$2\r\nj2\r\n$1\r\np\r\n:1\r\n$2\r\n11\r\n"), where);
    CHECK(both.acked == owner_check::ok);
    REQUIRE(both.next);
    CHECK(both.next->id == "j2");
    const auto lost = step.interpret(parse("*2\r\n:1\r\n$-1\r\n"), where);
    CHECK(lost.acked == owner_check::not_owner);
    CHECK_FALSE(lost.next);
    check_errors(step, "*1\r\n:0\r\n");
    CHECK(error_of([&] { (void)step.interpret(parse("*2\r\n:7\r\n$-1\r\n"), where); }).kind() == errc::server);

    const qc::ack ack(k, "j", "me");
    CHECK(ack.interpret(parse(":0\r\n"), where) == owner_check::ok);
    CHECK(ack.interpret(parse(":1\r\n"), where) == owner_check::not_owner);
    CHECK(ack.interpret(parse(":2\r\n"), where) == owner_check::missing);
    check_errors(ack, ":3\r\n");
    check_errors(qc::release(k, "j", "me"), "$-1\r\n");
    check_errors(qc::heartbeat(k, "j", "me", 5), "*0\r\n");
    check_errors(qc::fail(k, "j", "me", "x", std::nullopt), "+OK\r\n");

    const qc::counts counts(k);
    const auto c = counts.interpret(parse("*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n"), where);
    CHECK((c.waiting == 1 && c.delayed == 2 && c.active == 3 && c.dead == 4));
    check_errors(counts, "*3\r\n:1\r\n:2\r\n:3\r\n");

    const qc::dead dead(k, 10);
    const auto d = dead.interpret(parse("*4\r\n$1\r\na\r\n$2\r\npa\r\n$1\r\n3\r\n$4\r\nboom\r\n"), where);
    REQUIRE(d.size() == 1);
    CHECK((d[0].id == "a" && d[0].payload == "pa" && d[0].attempts == 3 && d[0].last_error == "boom"));
    CHECK(dead.interpret(parse("*0\r\n"), where).empty());
    check_errors(dead, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");

    CHECK(qc::purge(k).interpret(parse(":101\r\n"), where) == 101);
    check_errors(qc::purge(k), "$-1\r\n");
    CHECK(qc::requeue_dead(k, "").interpret(parse(":0\r\n"), where) == 0);

    const qc::wait_replicas wait(1, 100);
    CHECK(wait.interpret(parse(":1\r\n"), where) == 1);
    CHECK(error_of([&] { (void)wait.interpret(parse("$-1\r\n"), where); }).kind() == errc::server);
    const qc::wait_wake wake("{Q}s", "0.5");
    CHECK_FALSE(wake.interpret(parse("*-1\r\n"), where));
    CHECK(wake.interpret(parse("*2\r\n$4\r\n{Q}s\r\n$1\r\n1\r\n"), where));
    CHECK(error_of([&] { (void)wake.interpret(parse(":1\r\n"), where); }).kind() == errc::server);
}
