// The coordinator's send side as a pure state machine: batching, sequence
// numbering, and what happens to a batch whose send fails.
//
// Published events are appended to the last open batch; a batch is closed at
// max_batch_events events or once its body reaches max_batch_bytes, and when
// it has been numbered (a numbered batch may go out again after a failed send,
// and a message sent again must be the same message, or a receiver that got
// the first copy would drop the second as a duplicate along with the events
// added since). One batch at a time is "in flight" (the sender thread or a
// publishing caller holds it), so sequence numbers go out in order. A batch
// gets its sequence number and first event number when it is first taken; they
// never change afterwards.
//
// After a failed send (failed()):
//   - a transport that is not durable (pub/sub) drops the batch: receivers see
//     the skipped sequence number, and the next send waits one backoff step;
//   - a durable transport (streams) keeps it with its numbers: the sender
//     thread retries it after a backoff step; a publishing caller puts it back
//     at the front of the queue for the sender thread;
//   - while stopping, every transport drops it (stop() makes one attempt per
//     batch), and the caller drops the rest (drop_queued()).
// The first failed send, every change of error, and the first success after
// failures each yield one connection_event (send_failed, send_recovered):
// a durable transport retrying every backoff step reports once, not per try.
//
// The outbox has no clock, lock, thread or socket: callers pass the time and
// serialise the calls (the coordinator holds its mutex), so every transition
// is unit-tested directly (tests/coordinator/outbox.cpp). Reading the batch in
// flight (encode()) needs no lock: nobody else touches it until end_send().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/detail/base/backoff.hpp>
#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::detail {

/// Limits and policy of one outbox.
struct outbox_settings {
    std::uint64_t node = 0;           ///< written into every message header
    std::uint64_t incarnation = 0;    ///< likewise
    std::size_t max_batch_events = 100;
    std::size_t max_batch_bytes = 64 * 1024;
    std::size_t max_pending_events = 100000;
    bool durable = false;             ///< the transport's: retry failed sends (true) or drop them
    backoff_policy backoff{};         ///< wait between failed sends
};

/// What the outbox counted; the coordinator's stats() copies them.
struct outbox_counters {
    std::uint64_t published_events = 0;  ///< accepted by push()
    std::uint64_t sent_messages = 0;     ///< sends that succeeded
    std::uint64_t send_failures = 0;     ///< sends that failed
    std::uint64_t dropped_messages = 0;  ///< batches given up
};

/// Pending batches of encoded events and the one being sent (see the banner above).
class outbox {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// Who holds the batch in flight: it decides what a durable transport does after a failure.
    enum class sender : std::uint8_t {
        background,  ///< the sender thread: it keeps the batch and retries it after a wait
        caller,      ///< a publishing caller (one attempt): the batch goes back to the queue's front
    };

    /// What becomes of the batch in flight after a failed send.
    enum class next_step : std::uint8_t {
        retry,    ///< send it again after `wait` (durable, background, not stopping); still in flight
        requeue,  ///< end_send() puts it back at the queue's front, numbers kept
        drop,     ///< end_send() gives it up (counted in dropped_messages)
    };

    /// The decision failed() takes.
    struct failure_decision {
        next_step step = next_step::drop;
        std::chrono::milliseconds wait{0};           ///< retry: how long to wait first
        std::optional<connection_event> report;      ///< send_failed, when this failure is news
    };

    /// Refuses (errc::configuration) limits that would make empty or unreadable batches.
    explicit outbox(outbox_settings settings) : settings_(settings) {
        if (settings_.max_batch_events == 0 || settings_.max_batch_bytes == 0)
            throw error(errc::configuration, "hotstate coordinator: max_batch_events and max_batch_bytes must be positive");
        if (settings_.max_batch_events > coordinator_max_events_per_message)
            throw error(errc::configuration, "hotstate coordinator: max_batch_events above " +
                                                 std::to_string(coordinator_max_events_per_message) +
                                                 " would make batches every receiver refuses");
    }

    // ---- publishing ----------------------------------------------------------------------

    /// Whether max_pending_events events wait already (push() must not be called then).
    [[nodiscard]] bool full() const noexcept { return pending_events_ >= settings_.max_pending_events; }

    /// Events accepted and not yet sent or dropped (the one in flight included).
    [[nodiscard]] std::size_t pending_events() const noexcept { return pending_events_; }

    /// Appends an encoded event to the last open batch, or to a new one. Returns true when
    /// it is the only event waiting and nothing is in flight: an idle sender must be woken.
    bool push(std::uint32_t tag, std::string_view payload) {
        if (queue_.empty() || closed(queue_.back())) {
            queue_.emplace_back();
            if (!spare_bodies_.empty()) {
                queue_.back().body = std::move(spare_bodies_.back());
                spare_bodies_.pop_back();
            }
            queue_.back().ticket = ++tickets_issued_;
        }
        batch& open = queue_.back();
        append_event(open.body, tag, payload);
        ++open.count;
        ++pending_events_;
        ++counters_.published_events;
        return queue_.size() == 1 && open.count == 1 && !in_flight_;
    }

    /// Whether a caller may send the queue itself: nothing in flight, the last send did
    /// not fail, and exactly one batch waits.
    [[nodiscard]] bool idle() const noexcept { return !in_flight_ && failures_ == 0 && queue_.size() == 1; }

    /// Whether the last successful send ended longer ago than it took (not a burst).
    [[nodiscard]] bool quiet_at(time_point now) const noexcept { return now - last_send_end_ >= last_send_took_; }

    // ---- sending -------------------------------------------------------------------------

    /// Whether a batch waits to be taken.
    [[nodiscard]] bool has_queued() const noexcept { return !queue_.empty(); }
    /// Whether a batch is being sent (between begin_send() and end_send()).
    [[nodiscard]] bool in_flight() const noexcept { return in_flight_; }
    /// Consecutive failed sends (0 after a success).
    [[nodiscard]] std::uint32_t failures() const noexcept { return failures_; }
    /// How long to wait before the next send after failures (0 when the last send worked).
    [[nodiscard]] std::chrono::milliseconds retry_delay() const noexcept {
        return failures_ == 0 ? std::chrono::milliseconds{0} : settings_.backoff.delay(failures_ - 1);
    }

    /// Takes the front batch for sending and numbers it unless it was numbered before.
    /// Precondition: has_queued() && !in_flight().
    void begin_send() {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        in_flight_ = true;
        step_ = next_step::drop;
        if (current_.sequence == 0) {
            current_.sequence = ++sequence_;
            current_.first_event = events_numbered_ + 1;
            events_numbered_ += current_.count;
        }
    }

    /// The header of the batch in flight.
    [[nodiscard]] message_header header() const noexcept {
        return {settings_.node, settings_.incarnation, current_.sequence, current_.count, current_.first_event};
    }

    /// Appends the message of the batch in flight to `out` (see wire.hpp).
    void encode(std::string& out) const { encode_message(out, header(), current_.body); }

    /// The send of the batch in flight worked (it ran from `began` to `ended`). Returns the
    /// send_recovered event when sends had been failing. Call end_send() next.
    std::optional<connection_event> sent(time_point began, time_point ended) {
        ++counters_.sent_messages;
        failures_ = 0;
        last_send_end_ = ended;
        last_send_took_ = ended - began;
        done_sent_ = true;
        if (!problem_) [[likely]]
            return std::nullopt;
        problem_.reset();
        connection_event event;
        event.state = connection_state::send_recovered;
        event.down_for = std::chrono::duration_cast<std::chrono::milliseconds>(ended - failing_since_);
        return event;
    }

    /// The send of the batch in flight failed with `problem` at `now`; `stopping`: the
    /// coordinator is stopping. Says what to do (see the banner above); unless it is
    /// retry, call end_send() next.
    failure_decision failed(const error& problem, time_point now, sender who, bool stopping) {
        ++counters_.send_failures;
        ++failures_;
        done_sent_ = false;
        failure_decision decision;
        if (!problem_ || problem_->kind() != problem.kind() || problem_->message() != problem.message()) {
            if (!problem_) failing_since_ = now;
            problem_ = problem;
            decision.report = connection_event{connection_state::send_failed, problem, std::chrono::milliseconds{0}};
        }
        if (!settings_.durable || stopping) decision.step = next_step::drop;
        else if (who == sender::caller) decision.step = next_step::requeue;
        else {
            decision.step = next_step::retry;
            decision.wait = retry_delay();
        }
        step_ = decision.step;
        return decision;
    }

    /// A retry the caller will not make after all (it is stopping): the batch is dropped at end_send().
    void give_up() noexcept {
        done_sent_ = false;
        step_ = next_step::drop;
    }

    /// Ends the send in flight: a sent or dropped batch is settled (flush() waiters may
    /// return), a requeued one waits at the front. Returns true when it was dropped.
    bool end_send() {
        in_flight_ = false;
        if (!done_sent_ && step_ == next_step::requeue) {
            queue_.push_front(std::move(current_));
            current_ = batch{};
            return false;
        }
        const bool dropped = !done_sent_;
        if (dropped) ++counters_.dropped_messages;
        settle(current_);
        done_sent_ = false;
        return dropped;
    }

    /// Drops every queued batch (stopping, and the transport fails); not the one in flight.
    void drop_queued() {
        for (auto& rest : queue_) {
            ++counters_.dropped_messages;
            pending_events_ -= rest.count;
            tickets_done_ = rest.ticket;
        }
        queue_.clear();
    }

    // ---- flush and statistics ------------------------------------------------------------

    /// The number of the last batch opened: flush() waits until it is settled.
    [[nodiscard]] std::uint64_t last_ticket() const noexcept { return tickets_issued_; }
    /// Whether every batch up to `ticket` was sent or dropped.
    [[nodiscard]] bool settled(std::uint64_t ticket) const noexcept { return tickets_done_ >= ticket; }
    /// The counters so far.
    [[nodiscard]] const outbox_counters& counters() const noexcept { return counters_; }
    /// Batches waiting (not the one in flight).
    [[nodiscard]] std::size_t queued_batches() const noexcept { return queue_.size(); }

private:
    struct batch {
        std::string body;
        std::size_t count = 0;
        std::uint64_t ticket = 0;
        std::uint64_t sequence = 0;     // assigned when first taken; a retry keeps it
        std::uint64_t first_event = 0;  // likewise
    };

    [[nodiscard]] bool closed(const batch& b) const noexcept {
        return b.sequence != 0 || b.count >= settings_.max_batch_events || b.body.size() >= settings_.max_batch_bytes;
    }

    void settle(batch& b) {
        pending_events_ -= b.count;
        tickets_done_ = b.ticket;
        b.body.clear();
        if (spare_bodies_.size() < 8) spare_bodies_.push_back(std::move(b.body));
        b = batch{};
    }

    outbox_settings settings_;
    std::deque<batch> queue_;
    std::vector<std::string> spare_bodies_;  // cleared bodies kept for reuse: no allocation per batch
    batch current_;                          // the batch in flight
    bool in_flight_ = false;
    bool done_sent_ = false;                 // the batch in flight was sent
    next_step step_ = next_step::drop;       // after a failure: what end_send() does
    std::size_t pending_events_ = 0;
    std::uint64_t tickets_issued_ = 0;
    std::uint64_t tickets_done_ = 0;
    std::uint64_t sequence_ = 0;         // last sequence number assigned
    std::uint64_t events_numbered_ = 0;  // last event number assigned
    std::uint32_t failures_ = 0;         // consecutive failed sends
    time_point last_send_end_{};
    std::chrono::steady_clock::duration last_send_took_{};
    std::optional<error> problem_;       // the failure reported last, until a send succeeds
    time_point failing_since_{};
    outbox_counters counters_;
};

}  // namespace hotstate::detail
