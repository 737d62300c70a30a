// Redis Stream entry ids ("<ms>-<seq>") as values: parsing, ordering, printing.
// Pure, so the resume, retention and cursor decisions of redis_streams are unit-tested.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <hotstate/detail/base/text.hpp>

namespace hotstate::detail {

/// A stream entry id; 0-0 sorts before every real entry.
struct stream_id {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;

    auto operator<=>(const stream_id&) const = default;

    /// "ms-seq".
    [[nodiscard]] std::string str() const { return std::to_string(ms) + "-" + std::to_string(seq); }

    /// Parses "ms-seq" (or a bare "ms", as Redis accepts); nullopt for anything else.
    [[nodiscard]] static std::optional<stream_id> parse(std::string_view text) noexcept {
        const auto dash = text.find('-');
        const auto ms = parse_decimal<std::uint64_t>(text.substr(0, dash));
        if (!ms) return std::nullopt;
        if (dash == std::string_view::npos) return stream_id{*ms, 0};
        const auto seq = parse_decimal<std::uint64_t>(text.substr(dash + 1));
        if (!seq) return std::nullopt;
        return stream_id{*ms, *seq};
    }
};

/// What a reader resuming from `last_read` learns from the stream's XINFO.
enum class resume_verdict : std::uint8_t {
    intact,          ///< nothing this reader had not read is gone
    trimmed_unread,  ///< entries after last_read were removed before it read them
    stream_reset,    ///< the stream is behind last_read: it was deleted or the server lost it
};

/// The parts of XINFO STREAM a resume decision needs.
struct stream_state {
    stream_id last_generated{};              ///< last-generated-id; 0-0 when the stream does not exist
    stream_id max_deleted{};                 ///< max-deleted-entry-id (XDEL; trimming leaves it alone)
    std::optional<stream_id> first_entry{};  ///< oldest retained entry; empty when the stream is empty
    std::uint64_t length = 0;                ///< entries retained
    std::optional<std::uint64_t> entries_added{};  ///< entries ever added (Redis 7); empty when unknown
};

/// Decides how a resume from `last_read` relates to the stream (pure).
/// Trimming removes the oldest entries and records nothing, so the test is on
/// the oldest retained entry: if even the entry this reader read last is gone,
/// the trim reached past it and (but for the rare case where it stopped exactly
/// there) took unread entries too. Erring that way costs a needless resync;
/// the other way would hide a loss. A stream that never lost an entry
/// (entries-added equals its length) is intact. A reader at 0-0 (reading all
/// that is retained) is never behind.
[[nodiscard]] constexpr resume_verdict check_resume(stream_id last_read, const stream_state& stream) noexcept {
    if (stream.last_generated < last_read) return resume_verdict::stream_reset;
    if (last_read == stream_id{}) return resume_verdict::intact;
    if (last_read < stream.max_deleted) return resume_verdict::trimmed_unread;
    // every entry ever added is still there: nothing was removed, whatever the ids say
    if (stream.entries_added && *stream.entries_added == stream.length) return resume_verdict::intact;
    if (!stream.first_entry) {
        // empty stream: anything generated after last_read was removed
        return last_read < stream.last_generated ? resume_verdict::trimmed_unread : resume_verdict::intact;
    }
    return last_read < *stream.first_entry ? resume_verdict::trimmed_unread : resume_verdict::intact;
}

/// What a stored cursor names in the stream a reader is to resume.
enum class cursor_verdict : std::uint8_t {
    usable,         ///< an entry, or an id whose entry trimming or XDEL may have removed: resume after it
    ahead,          ///< beyond the stream's last generated id: no entry had it, and entries the stream
                    ///< adds before it passes that id would be skipped
    names_nothing,  ///< within the stream's ids, but no entry has it and none there was deleted:
                    ///< resuming after it would skip the entries before it
};

/// Judges a cursor read from its key before the reader resumes after it (pure).
/// `entry_exists`: the stream holds an entry with exactly that id (XRANGE id id).
/// A cursor is the id of an entry the node handled, so one that names no entry
/// was written by hand, under a clock that ran ahead, or belongs to another copy
/// of the stream (a restore, a stream deleted or lost since): XREAD after it
/// would silently pass over every entry below it. Only the removals the stream
/// records explain a missing entry: trimming (the id is below the oldest
/// retained entry; check_resume reports that as a trim) and XDEL (the id is at or
/// below max-deleted-entry-id). last-generated-id is always usable, as is 0-0.
[[nodiscard]] constexpr cursor_verdict check_cursor(stream_id cursor, const stream_state& stream,
                                                    bool entry_exists) noexcept {
    if (entry_exists || cursor == stream_id{} || cursor == stream.last_generated) return cursor_verdict::usable;
    if (stream.last_generated < cursor) return cursor_verdict::ahead;
    if (!stream.first_entry || cursor < *stream.first_entry) return cursor_verdict::usable;  // trimmed away, maybe
    if (cursor <= stream.max_deleted) return cursor_verdict::usable;                          // XDEL'd, maybe
    return cursor_verdict::names_nothing;
}

/// What a reader found in its cursor key.
struct cursor_lookup {
    enum class outcome : std::uint8_t {
        absent,   ///< no key: a first start
        found,    ///< a saved position
        invalid,  ///< something else: reported, never taken for "absent"
    };
    outcome result = outcome::absent;
    stream_id id{};         ///< found: the saved position
    std::string problem{};  ///< invalid: what the key holds instead (its size, never its content)
};

/// Interprets the answer to `GET cursor_key` (pure): `wrong_type` when the
/// server answered WRONGTYPE, else the value (nullopt for nil).
[[nodiscard]] inline cursor_lookup interpret_cursor(bool wrong_type, std::optional<std::string_view> value) {
    if (wrong_type) return {cursor_lookup::outcome::invalid, {}, "holds a key of another type than a string (WRONGTYPE)"};
    if (!value) return {};
    if (const auto id = stream_id::parse(*value)) return {cursor_lookup::outcome::found, *id, {}};
    return {cursor_lookup::outcome::invalid, {}, "holds " + std::to_string(value->size()) + " bytes that are not a stream id"};
}

}  // namespace hotstate::detail
