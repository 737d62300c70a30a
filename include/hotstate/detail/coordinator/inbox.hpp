// The coordinator's receive side before any handler runs, as a pure state
// machine: a message is parsed and validated whole, then classified as
// malformed, this node's own, a duplicate, or to deliver (with what was lost
// before it, by the publisher's sequence and event numbers). The coordinator
// decodes and dispatches the events of a message to deliver; the inbox never
// sees a handler, a thread or a socket, so it is unit-tested directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/detail/coordinator/sequence_tracker.hpp>
#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail {

/// What the inbox made of one message.
struct receipt {
    enum class status : std::uint8_t {
        malformed,  ///< the frame failed to parse: counted, nothing delivered
        own,        ///< this node sent it
        duplicate,  ///< already delivered (or older)
        deliver,    ///< new: hand inbox::events() to the handlers
    };
    status what = status::malformed;
    message_header header{};      ///< parsed header (own, duplicate, deliver)
    sequence_observation seen{};  ///< deliver: what was lost before it, if anything
    std::string problem{};        ///< malformed: why the frame does not parse, and where
};

/// Classifies received messages for one node; not thread-safe (one receive thread owns it).
class inbox {
public:
    /// An inbox for node `self`, whose own messages it recognises.
    explicit inbox(std::uint64_t self) noexcept : self_(self) {}

    /// Parses and classifies `message`; on deliver, events() holds its events (views into `message`).
    receipt accept(std::string_view message) {
        receipt result;
        try {
            parse_message(message, result.header, events_);
        } catch (const error& problem) {
            events_.clear();
            result.problem = problem.message();
            return result;
        }
        if (result.header.node == self_) {
            result.what = receipt::status::own;
            return result;
        }
        const message_header& h = result.header;
        result.seen = tracker_.observe(h.node, h.incarnation, h.sequence, h.first_event, h.count);
        result.what = result.seen.deliver() ? receipt::status::deliver : receipt::status::duplicate;
        return result;
    }

    /// The events of the message accepted last (valid while that message is).
    [[nodiscard]] const std::vector<event_view>& events() const noexcept { return events_; }

private:
    std::uint64_t self_;
    sequence_tracker tracker_;
    std::vector<event_view> events_;  // reused: no allocation per message
};

}  // namespace hotstate::detail
