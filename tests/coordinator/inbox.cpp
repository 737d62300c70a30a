// The coordinator's receive classification without handlers or threads.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <hotstate/detail/coordinator/inbox.hpp>
#include <hotstate/detail/coordinator/wire.hpp>

using namespace hotstate::detail;

namespace {

std::string message(std::uint64_t node, std::uint64_t incarnation, std::uint64_t sequence, std::uint64_t first_event,
                    std::uint64_t count) {
    std::string body;
    for (std::uint64_t i = 0; i < count; ++i) append_event(body, 9, "p" + std::to_string(first_event + i));
    std::string out;
    encode_message(out, {node, incarnation, sequence, count, first_event}, body);
    return out;
}

}  // namespace

TEST_CASE("inbox: own, malformed, new, duplicate and lost messages", "[coordinator][inbox]") {
    inbox box(1);
    CHECK(box.accept(message(1, 5, 1, 1, 1)).what == receipt::status::own);
    const receipt garbage = box.accept("not a coordinator message");
    CHECK(garbage.what == receipt::status::malformed);
    CHECK(garbage.problem.find("bad magic byte") != std::string::npos);  // why, for the report
    CHECK(box.events().empty());

    const std::string first = message(2, 7, 1, 1, 2);
    auto got = box.accept(first);
    CHECK(got.what == receipt::status::deliver);
    CHECK_FALSE(got.seen.lost());
    REQUIRE(box.events().size() == 2);
    CHECK(box.events()[1].payload == "p2");
    CHECK(box.events()[0].tag == 9);

    CHECK(box.accept(first).what == receipt::status::duplicate);  // a durable transport's second copy

    got = box.accept(message(2, 7, 4, 9, 1));  // messages 2 and 3 (events 3..8) never arrived
    CHECK(got.what == receipt::status::deliver);
    CHECK(got.seen.verdict == sequence_verdict::skipped);
    CHECK(got.seen.missing_first == 2);
    CHECK(got.seen.missing_last == 3);
    CHECK(got.seen.lost_events == 6);
    CHECK(got.header.node == 2);

    got = box.accept(message(2, 8, 2, 3, 1));  // node 2 restarted; its first message is lost
    CHECK(got.what == receipt::status::deliver);
    CHECK(got.seen.verdict == sequence_verdict::restarted);
    CHECK(got.seen.lost_events == 2);
}
