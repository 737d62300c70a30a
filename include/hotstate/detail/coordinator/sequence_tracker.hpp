// The loss detector: per-publisher sequence tracking as a pure state machine.
//
// Every message carries (node, incarnation, sequence). Within one incarnation
// sequences go 1, 2, 3...; the tracker remembers the last one seen per node
// and classifies each new message. It never looks at a clock or a socket, so
// every transition is unit-tested directly.
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

    /// Whether the message should reach handlers.
    [[nodiscard]] constexpr bool deliver() const noexcept { return verdict != sequence_verdict::duplicate; }
    /// Whether messages were lost before this one.
    [[nodiscard]] constexpr bool lost() const noexcept { return missing_first != 0; }
};

/// Remembers the last sequence per publisher; not thread-safe (one receive thread owns it).
class sequence_tracker {
public:
    /// Classifies a message and records it when it is new.
    sequence_observation observe(std::uint64_t node, std::uint64_t incarnation, std::uint64_t sequence) {
        auto [it, inserted] = peers_.try_emplace(node, peer{incarnation, sequence});
        if (inserted) return {sequence_verdict::first_contact};
        peer& known = it->second;
        if (known.incarnation != incarnation) {
            known = peer{incarnation, sequence};
            if (sequence > 1) return {sequence_verdict::restarted, 1, sequence - 1};
            return {sequence_verdict::restarted};
        }
        if (sequence <= known.last) return {sequence_verdict::duplicate};
        const std::uint64_t expected = known.last + 1;
        known.last = sequence;
        if (sequence == expected) return {sequence_verdict::in_order};
        return {sequence_verdict::skipped, expected, sequence - 1};
    }

    /// Publishers seen so far.
    [[nodiscard]] std::size_t publishers() const noexcept { return peers_.size(); }

private:
    struct peer {
        std::uint64_t incarnation;
        std::uint64_t last;
    };
    std::unordered_map<std::uint64_t, peer> peers_;
};

}  // namespace hotstate::detail
