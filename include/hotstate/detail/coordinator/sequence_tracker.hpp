// The loss detector: per-publisher sequence tracking as a pure state machine.
//
// Every message carries (node, incarnation, sequence, first event, event
// count). Within one incarnation sequences go 1, 2, 3... and event numbers run
// on across messages; the tracker remembers the last sequence and the next
// expected event number per node and classifies each new message. When
// messages were lost it says which ones and how many events they held (the
// difference between the event number expected and the one that arrived), so
// a receiver knows the size of a loss whatever the batching was. It never
// looks at a clock or a socket, so every transition is unit-tested directly.
#pragma once

#include <cstdint>
#include <unordered_map>

namespace hotstate::detail {

/// How one message relates to what was seen before from its publisher.
enum class sequence_verdict : std::uint8_t {
    first_contact,  ///< publisher never seen: deliver, nothing to compare with
    in_order,       ///< next expected sequence: deliver
    skipped,        ///< later than expected: deliver, messages [missing_first, missing_last] were lost
    duplicate,      ///< already seen (or older): drop
    restarted,      ///< new incarnation of a known publisher: deliver; if it does not start at 1, the
                    ///< messages [missing_first, missing_last] of the new incarnation were lost
};

/// The outcome of sequence_tracker::observe.
struct sequence_observation {
    sequence_verdict verdict = sequence_verdict::first_contact;
    std::uint64_t missing_first = 0;  ///< first lost sequence, 0 when nothing was lost
    std::uint64_t missing_last = 0;   ///< last lost sequence, inclusive
    std::uint64_t lost_events = 0;    ///< events the lost messages held

    /// Whether the message should reach handlers.
    [[nodiscard]] constexpr bool deliver() const noexcept { return verdict != sequence_verdict::duplicate; }
    /// Whether messages were lost before this one.
    [[nodiscard]] constexpr bool lost() const noexcept { return missing_first != 0; }
};

/// Remembers the last sequence per publisher; not thread-safe (one receive thread owns it).
class sequence_tracker {
public:
    /// Classifies a message (`events` events numbered from `first_event`) and records it when it is new.
    sequence_observation observe(std::uint64_t node, std::uint64_t incarnation, std::uint64_t sequence,
                                 std::uint64_t first_event, std::uint64_t events) {
        const peer now{incarnation, sequence, first_event + events};
        auto [it, inserted] = peers_.try_emplace(node, now);
        if (inserted) return {sequence_verdict::first_contact};
        peer& known = it->second;
        if (known.incarnation != incarnation) {
            known = now;
            if (sequence > 1) return {sequence_verdict::restarted, 1, sequence - 1, first_event - 1};
            return {sequence_verdict::restarted};
        }
        if (sequence <= known.last) return {sequence_verdict::duplicate};
        const std::uint64_t expected = known.last + 1;
        // a sender that numbered inconsistently gets no negative count
        const std::uint64_t lost = first_event > known.next_event ? first_event - known.next_event : 0;
        known = now;
        if (sequence == expected) return {sequence_verdict::in_order};
        return {sequence_verdict::skipped, expected, sequence - 1, lost};
    }

    /// Publishers seen so far.
    [[nodiscard]] std::size_t publishers() const noexcept { return peers_.size(); }

private:
    struct peer {
        std::uint64_t incarnation;
        std::uint64_t last;        // last sequence delivered
        std::uint64_t next_event;  // event number the next message should start at
    };
    std::unordered_map<std::uint64_t, peer> peers_;
};

}  // namespace hotstate::detail
