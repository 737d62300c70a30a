// What a redis_streams reader decides about its position, as a pure state
// machine: where to start, whether the retention took entries it had not read
// (reported once per trim, however often it checks before catching up), and
// which cursor save is due when (the cursor contract of redis_streams.hpp: the
// save of a handled message goes out before the next message is handled, the
// last one's rides with the next XREAD). The transport does the I/O (XINFO,
// GET, SET, XREAD) and the locking; every decision is unit-tested here.
#pragma once

#include <cstdint>
#include <optional>

#include <hotstate/detail/redis/proto/stream_id.hpp>

namespace hotstate::detail {

/// The outcome of stream_progress::judge.
struct retention_step {
    enum class action : std::uint8_t {
        adopt,     ///< the reader had no position: take `position` (the stream's end, or 0-0 for its start)
        intact,    ///< nothing lost
        trimmed,   ///< entries after the position were removed unread: report it (first_entry is the oldest left)
        reset,     ///< the stream ends before the position (deleted, lost): report it, read from `position` (0-0)
    };
    action what = action::intact;
    stream_id position{};  ///< adopt, reset: the new position
};

/// The reader thread's view of its progress through the stream (see the banner above).
class stream_progress {
public:
    /// Compares the reader's `position` (none before it positioned itself) with the stream.
    /// `from_start`: without a position, start at the stream's start rather than its end.
    /// A trim is reported once: later checks that find the same oldest entry say intact.
    retention_step judge(const std::optional<stream_id>& position, const stream_state& info, bool from_start) {
        if (!position) return {retention_step::action::adopt, from_start ? stream_id{} : info.last_generated};
        switch (check_resume(*position, info)) {
            case resume_verdict::intact: return {};
            case resume_verdict::trimmed_unread: {
                const stream_id oldest = info.first_entry ? *info.first_entry : info.last_generated;
                if (oldest <= reported_oldest_) return {};
                reported_oldest_ = oldest;
                return {retention_step::action::trimmed};
            }
            case resume_verdict::stream_reset:
                reported_oldest_ = {};
                return {retention_step::action::reset, stream_id{}};
        }
        return {};
    }

    /// Before handling the message `id`: the save that must happen first (the previous
    /// handled message's), if any. `persist`: the reader has a cursor key.
    [[nodiscard]] std::optional<stream_id> save_due_before_next(bool persist) const noexcept {
        return persist ? unsaved_ : std::nullopt;
    }

    /// The message `id` was handled; with a cursor key its save is now pending.
    void handled(stream_id id, bool persist) noexcept {
        if (persist) unsaved_ = id;
    }

    /// The pending save, if any (sent with the next XREAD, or at stop).
    [[nodiscard]] const std::optional<stream_id>& pending_save() const noexcept { return unsaved_; }

    /// The pending save was written.
    void saved() noexcept { unsaved_.reset(); }

private:
    stream_id reported_oldest_{};         // oldest retained entry when a trim was last reported
    std::optional<stream_id> unsaved_;    // the last handled message whose cursor is not saved yet
};

}  // namespace hotstate::detail
