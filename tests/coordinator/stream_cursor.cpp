// A stored stream cursor judged before a reader resumes after it, without a server:
// an id that names no entry (ahead of the stream, or between its ids with nothing
// deleted there) is refused; what trimming or XDEL may have removed is not.
#include <catch2/catch.hpp>

#include <optional>

#include <hotstate/detail/redis/proto/stream_id.hpp>

using namespace hotstate::detail;

namespace {
// entries 100-0 .. 200-3 retained, nothing ever removed
const stream_state whole{.last_generated = {200, 3}, .max_deleted = {}, .first_entry = stream_id{100, 0},
                         .length = 50, .entries_added = 50};
}  // namespace

TEST_CASE("stream cursor: the id of an entry, the last generated id and 0-0 are usable", "[coordinator][streams]") {
    CHECK(check_cursor({150, 2}, whole, true) == cursor_verdict::usable);
    CHECK(check_cursor({200, 3}, whole, false) == cursor_verdict::usable);  // read last, then deleted or trimmed
    CHECK(check_cursor({}, whole, false) == cursor_verdict::usable);
}

TEST_CASE("stream cursor: an id beyond the stream's last id names nothing", "[coordinator][streams]") {
    CHECK(check_cursor({200, 4}, whole, false) == cursor_verdict::ahead);
    CHECK(check_cursor({900, 0}, whole, false) == cursor_verdict::ahead);
    // a stream that does not exist (deleted, or lost by a restart without persistence)
    CHECK(check_cursor({5, 0}, stream_state{}, false) == cursor_verdict::ahead);
}

TEST_CASE("stream cursor: an id between the stream's entries that none has, with nothing deleted there, names nothing",
          "[coordinator][streams]") {
    CHECK(check_cursor({150, 9}, whole, false) == cursor_verdict::names_nothing);
}

TEST_CASE("stream cursor: what trimming or XDEL may have removed is usable", "[coordinator][streams]") {
    stream_state trimmed = whole;
    trimmed.first_entry = stream_id{160, 0};
    CHECK(check_cursor({150, 9}, trimmed, false) == cursor_verdict::usable);  // below the oldest: a trim (reported)
    CHECK(check_resume({150, 9}, trimmed) == resume_verdict::intact);          // entries_added says nothing was lost...
    trimmed.entries_added = 60;
    CHECK(check_resume({150, 9}, trimmed) == resume_verdict::trimmed_unread);  // ...until it says otherwise

    stream_state deleted = whole;
    deleted.max_deleted = {170, 0};
    CHECK(check_cursor({150, 9}, deleted, false) == cursor_verdict::usable);       // may be an XDEL'd entry
    CHECK(check_cursor({180, 0}, deleted, false) == cursor_verdict::names_nothing);  // above every deletion

    stream_state emptied = whole;
    emptied.first_entry.reset();
    emptied.length = 0;
    CHECK(check_cursor({150, 9}, emptied, false) == cursor_verdict::usable);
}

TEST_CASE("stream id: parses ms-seq and a bare ms, refuses anything else", "[coordinator][streams]") {
    CHECK(stream_id::parse("1700000000000-7") == stream_id{1700000000000, 7});
    CHECK(stream_id::parse("42") == stream_id{42, 0});
    CHECK(stream_id::parse("18446744073709551615-18446744073709551615") ==
          stream_id{18446744073709551615ULL, 18446744073709551615ULL});
    CHECK_FALSE(stream_id::parse(""));
    CHECK_FALSE(stream_id::parse("-1"));
    CHECK_FALSE(stream_id::parse("1-"));
    CHECK_FALSE(stream_id::parse("+1-2"));
    CHECK_FALSE(stream_id::parse("1-2-3"));
    CHECK_FALSE(stream_id::parse("18446744073709551616-0"));
    CHECK_FALSE(stream_id::parse("1 -2"));
}
