// A redis_streams reader's decisions without a server: where it starts, which trims it
// reports (once each), and when each cursor save is due.
#include <catch2/catch.hpp>

#include <optional>

#include <hotstate/detail/coordinator/stream_progress.hpp>

using namespace hotstate::detail;
using action = retention_step::action;

TEST_CASE("stream progress: a reader without a position starts at the end, or the start", "[coordinator][streams]") {
    stream_progress progress;
    const stream_state info{{200, 3}, {}, stream_id{150, 0}};
    auto step = progress.judge(std::nullopt, info, false);
    CHECK(step.what == action::adopt);
    CHECK(step.position == stream_id{200, 3});
    step = progress.judge(std::nullopt, info, true);
    CHECK(step.what == action::adopt);
    CHECK(step.position == stream_id{});
}

TEST_CASE("stream progress: a trim is reported once, a later trim again", "[coordinator][streams]") {
    stream_progress progress;
    const stream_id read{100, 5};
    CHECK(progress.judge(read, {{200, 0}, {}, stream_id{90, 0}}, false).what == action::intact);
    CHECK(progress.judge(read, {{200, 0}, {}, stream_id{150, 0}}, false).what == action::trimmed);
    // the reader checks again before it caught up: the same trim, not news
    CHECK(progress.judge(read, {{210, 0}, {}, stream_id{150, 0}}, false).what == action::intact);
    // the retention moved on past more unread entries: reported
    CHECK(progress.judge(read, {{300, 0}, {}, stream_id{180, 0}}, false).what == action::trimmed);
    // an emptied stream: the oldest is what was generated last
    CHECK(progress.judge(read, {{400, 0}, {}, std::nullopt}, false).what == action::trimmed);
    CHECK(progress.judge(read, {{400, 0}, {}, std::nullopt}, false).what == action::intact);
}

TEST_CASE("stream progress: a stream behind the reader resets it to 0-0 and forgets reported trims",
          "[coordinator][streams]") {
    stream_progress progress;
    CHECK(progress.judge(stream_id{100, 5}, {{200, 0}, {}, stream_id{150, 0}}, false).what == action::trimmed);
    const auto step = progress.judge(stream_id{100, 5}, {{10, 0}, {}, stream_id{1, 0}}, false);
    CHECK(step.what == action::reset);
    CHECK(step.position == stream_id{});
    // the new stream is trimmed past the reader's new position later: news again
    CHECK(progress.judge(stream_id{5, 0}, {{200, 0}, {}, stream_id{150, 0}}, false).what == action::trimmed);
}

TEST_CASE("stream progress: each handled message's save is due before the next one is handled",
          "[coordinator][streams]") {
    stream_progress progress;
    CHECK_FALSE(progress.save_due_before_next(true));  // nothing handled yet
    progress.handled({1, 0}, true);
    CHECK(progress.pending_save() == stream_id{1, 0});
    CHECK(progress.save_due_before_next(true) == stream_id{1, 0});
    progress.saved();
    CHECK_FALSE(progress.pending_save());
    progress.handled({2, 0}, true);
    progress.handled({3, 0}, true);  // only the last handled one is pending
    CHECK(progress.pending_save() == stream_id{3, 0});

    stream_progress memory_only;  // no cursor key: nothing is ever due
    memory_only.handled({1, 0}, false);
    CHECK_FALSE(memory_only.pending_save());
    CHECK_FALSE(memory_only.save_due_before_next(false));
}
