// The Redis job queue's operations as command values (the Command concept of
// detail/redis/proto/commands.hpp): each knows its request bytes and the meaning of
// its reply, and does no I/O, so the Redis engine runs them with the one
// runner every Redis operation uses (detail/redis/io/run.hpp: EVALSHA, EVAL after
// NOSCRIPT, redirects thrown for the router) and tests check both sides
// without a server (tests/queue/redis_commands_test.cpp).
//
// Every script command is an rc::script_command (EVALSHA, EVAL after
// NOSCRIPT: the store's scripts run the same way) whose KEYS are the queue's
// eight keys (queue_keys, in the order redis_scripts.hpp lists). `idempotent` is the effect tag
// the router honours after a lost reply: only enqueues (a second run adds
// nothing while the jobs exist), counts and dead (reads) and WAIT are re-sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/queue/redis_scripts.hpp>
#include <hotstate/detail/queue/types.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::queue::commands {

namespace rc = detail::redis::commands;
using rc::reply_context;
using rc::reply_view;
using ::hotstate::redis::int_arg;

/// The keys of one queue (its encoded, hash-tagged base plus one letter
/// each), in one buffer: one allocation per operation.
class queue_keys {
public:
    /// How many keys every queue script gets.
    static constexpr std::size_t count = 8;
    /// The letters, in KEYS order (see redis_scripts.hpp).
    static constexpr std::string_view letters = "WDAXQSJL";

    explicit queue_keys(std::string_view base) : base_size_(base.size()) {
        buffer_.reserve((base.size() + 1) * count);
        for (const char letter : letters) {
            buffer_.append(base);
            buffer_.push_back(letter);
        }
    }
    /// Key `i` (0-based: KEYS[i + 1]).
    [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept {
        return std::string_view(buffer_).substr(i * (base_size_ + 1), base_size_ + 1);
    }
    /// The key a router routes by (every key has the same slot).
    [[nodiscard]] std::string_view route() const noexcept { return (*this)[0]; }
    /// The wake-up list blocked claimers BLPOP.
    [[nodiscard]] std::string_view wake_list() const noexcept { return (*this)[5]; }

private:
    std::string buffer_;
    std::size_t base_size_;
};

/// An integer reply, or a decimal bulk string (Lua hands numbers either way).
[[nodiscard]] inline std::int64_t integer_of(reply_context where, std::string_view command, reply_view r) {
    if (r.is_integer()) return r.integer();
    if (r.is_string())
        if (const auto value = parse_decimal<std::int64_t>(r.text())) return *value;
    rc::unexpected(where, command, r);
}

/// The answer of an owner-checked script: 0, 1 or 2 (see redis_scripts.hpp).
[[nodiscard]] inline owner_check owner_check_of(reply_context where, std::string_view command, reply_view r) {
    if (r.is_integer() && r.integer() >= 0 && r.integer() <= 2) [[likely]]
        return r.integer() == 0 ? owner_check::ok : r.integer() == 1 ? owner_check::not_owner : owner_check::missing;
    rc::unexpected(where, command, r);
}

/// A claim's answer: nil (nothing claimable), or {id, payload, attempt, lease end}.
[[nodiscard]] inline std::optional<raw_claim> claim_of(reply_context where, std::string_view command, reply_view r) {
    if (r.is_nil()) return std::nullopt;
    if (!r.is_array() || r.size() != 4 || !r[0].is_string() || !(r[1].is_string() || r[1].is_nil())) [[unlikely]]
        rc::unexpected(where, command, r);
    // a payload missing beside its id (a hand-edited queue) reads as empty: it
    // fails to decode and is dead-lettered instead of stopping every claim
    return raw_claim{std::string(r[0].text()), r[1].is_nil() ? std::string() : std::string(r[1].text()),
                     integer_of(where, command, r[2]), integer_of(where, command, r[3])};
}

/// Enqueue one job (deduplicated by id): whether it was added. Idempotent in
/// effect while the job exists (a re-send finds its id and adds nothing).
struct enqueue : rc::script_command<enqueue> {
    using result_type = bool;
    static constexpr const detail::redis::script& code = redis_enqueue;
    static constexpr std::string_view name = "queue enqueue";
    static constexpr bool idempotent = true;
    const queue_keys* keys;
    std::int64_t now_ms;
    job_spec job;
    enqueue(const queue_keys& k, std::int64_t now, job_spec spec) noexcept : keys(&k), now_ms(now), job(spec) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        const int_arg now(now_ms), priority(job.priority), delay(job.delay_ms);
        return g(now.view(), job.id, job.payload, priority.view(), delay.view());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() || r.size() != 1 || !r[0].is_integer()) [[unlikely]]
            rc::unexpected(where, name, r);
        return r[0].integer() == 1;
    }
};

/// Enqueue many jobs with fresh random ids (no NUL byte), one priority and one
/// delay, in one script: how many were added (all, or 0 when the request had
/// run already). Idempotent in effect while its first job exists. Jobs of
/// priority 0 without delay travel as line entries (redis_scripts.hpp).
struct enqueue_bulk : rc::script_command<enqueue_bulk> {
    using result_type = std::uint64_t;
    static constexpr const detail::redis::script& code = redis_enqueue_bulk;
    static constexpr std::string_view name = "queue enqueue_bulk";
    static constexpr bool idempotent = true;
    const queue_keys* keys;
    std::int64_t now_ms, priority, delay_ms;
    std::span<const job_spec> jobs;  ///< ids and payloads (their priority and delay are ignored)
    enqueue_bulk(const queue_keys& k, std::int64_t now, std::int64_t prio, std::int64_t delay,
                 std::span<const job_spec> specs) noexcept
        : keys(&k), now_ms(now), priority(prio), delay_ms(delay), jobs(specs) {}
    /// Variable arity: the ARGV in a span, so the request is built on the heap.
    template <class G>
    decltype(auto) with_script_argv(G&& g) const {
        const int_arg now(now_ms), prio(priority), delay(delay_ms);
        std::vector<std::string_view> argv{now.view(), prio.view(), delay.view()};
        argv.reserve(3 + 2 * jobs.size());
        if (priority != 0 || delay_ms > 0 || jobs.empty()) {
            for (const auto& job : jobs) {
                argv.push_back(job.id);
                argv.push_back(job.payload);
            }
            return g(std::span<const std::string_view>(argv));
        }
        // priority 0, no delay: the first job as id and payload, the others as
        // the line entries the script pushes as they are (NUL, id, NUL, payload)
        argv.push_back(jobs.front().id);
        argv.push_back(jobs.front().payload);
        std::size_t bytes = 0;
        for (const auto& job : jobs.subspan(1)) bytes += 2 + job.id.size() + job.payload.size();
        std::string entries;
        entries.reserve(bytes);  // the views below stay valid: no reallocation
        for (const auto& job : jobs.subspan(1)) {
            const std::size_t at = entries.size();
            entries.push_back('\0');
            entries.append(job.id);
            entries.push_back('\0');
            entries.append(job.payload);
            argv.push_back(std::string_view(entries).substr(at));
        }
        return g(std::span<const std::string_view>(argv));
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_integer() || r.integer() < 0) [[unlikely]]
            rc::unexpected(where, name, r);
        return static_cast<std::uint64_t>(r.integer());
    }
};

/// Claim the next job: it or nullopt. Not re-sent (a second run would lease another job).
struct claim : rc::script_command<claim> {
    using result_type = std::optional<raw_claim>;
    static constexpr const detail::redis::script& code = redis_claim;
    static constexpr std::string_view name = "queue claim";
    static constexpr bool idempotent = false;
    const queue_keys* keys;
    std::string_view owner;
    std::int64_t now_ms, lease_ms, max_attempts;
    claim(const queue_keys& k, std::string_view who, std::int64_t now, std::int64_t lease, std::int64_t max) noexcept
        : keys(&k), owner(who), now_ms(now), lease_ms(lease), max_attempts(max) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        const int_arg now(now_ms), lease_end(now_ms + lease_ms), max(max_attempts);
        return g(now.view(), owner, lease_end.view(), max.view());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const { return claim_of(where, name, r); }
};

/// What ack_claim found: the ack's answer and the next job, if any.
struct raw_ack_claim {
    owner_check acked = owner_check::ok;
    std::optional<raw_claim> next;
};

/// Ack `id` and claim the next job in one round trip (a worker's loop). Not re-sent.
struct ack_claim : rc::script_command<ack_claim> {
    using result_type = raw_ack_claim;
    static constexpr const detail::redis::script& code = redis_ack_claim;
    static constexpr std::string_view name = "queue ack_claim";
    static constexpr bool idempotent = false;
    const queue_keys* keys;
    std::string_view id, owner, next_owner;
    std::int64_t now_ms, lease_ms, max_attempts;
    ack_claim(const queue_keys& k, std::string_view job, std::string_view who, std::string_view next,
              std::int64_t now, std::int64_t lease, std::int64_t max) noexcept
        : keys(&k), id(job), owner(who), next_owner(next), now_ms(now), lease_ms(lease), max_attempts(max) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        const int_arg now(now_ms), lease_end(now_ms + lease_ms), max(max_attempts);
        return g(id, owner, now.view(), next_owner, lease_end.view(), max.view());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() || r.size() != 2) [[unlikely]]
            rc::unexpected(where, name, r);
        return {owner_check_of(where, name, r[0]), claim_of(where, name, r[1])};
    }
};

/// The owner-checked one-job scripts (heartbeat, ack, fail, release). Not re-sent:
/// a second ack would find the job gone and report the lease lost.
template <const detail::redis::script& Code, class Derived>
struct owner_checked : rc::script_command<Derived> {
    using result_type = owner_check;
    static constexpr const detail::redis::script& code = Code;
    static constexpr bool idempotent = false;
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        return owner_check_of(where, Derived::name, r);
    }
};

/// Extend the lease of `id` to `until_ms`.
struct heartbeat : owner_checked<redis_heartbeat, heartbeat> {
    static constexpr std::string_view name = "queue heartbeat";
    const queue_keys* keys;
    std::string_view id, owner;
    std::int64_t until_ms;
    heartbeat(const queue_keys& k, std::string_view job, std::string_view who, std::int64_t until) noexcept
        : keys(&k), id(job), owner(who), until_ms(until) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        const int_arg until(until_ms);
        return g(id, owner, until.view());
    }
};

/// Complete `id`.
struct ack : owner_checked<redis_ack, ack> {
    static constexpr std::string_view name = "queue ack";
    const queue_keys* keys;
    std::string_view id, owner;
    ack(const queue_keys& k, std::string_view job, std::string_view who) noexcept : keys(&k), id(job), owner(who) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        return g(id, owner);
    }
};

/// Fail `id` with `message`: retried at `retry_at_ms`, or dead-lettered (nullopt).
struct fail : owner_checked<redis_fail, fail> {
    static constexpr std::string_view name = "queue fail";
    const queue_keys* keys;
    std::string_view id, owner, message;
    std::optional<std::int64_t> retry_at_ms;
    fail(const queue_keys& k, std::string_view job, std::string_view who, std::string_view why,
         std::optional<std::int64_t> at) noexcept
        : keys(&k), id(job), owner(who), message(why), retry_at_ms(at) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        if (!retry_at_ms) return g(id, owner, message, std::string_view());
        const int_arg at(*retry_at_ms);
        return g(id, owner, message, at.view());
    }
};

/// Give `id` back untouched.
struct release : owner_checked<redis_release, release> {
    static constexpr std::string_view name = "queue release";
    const queue_keys* keys;
    std::string_view id, owner;
    release(const queue_keys& k, std::string_view job, std::string_view who) noexcept
        : keys(&k), id(job), owner(who) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        return g(id, owner);
    }
};

/// Jobs per state. A read: re-sent after a lost reply.
struct counts : rc::script_command<counts> {
    using result_type = raw_counts;
    static constexpr const detail::redis::script& code = redis_counts;
    static constexpr std::string_view name = "queue counts";
    static constexpr bool idempotent = true;
    const queue_keys* keys;
    explicit counts(const queue_keys& k) noexcept : keys(&k) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        return g();
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() || r.size() != 4) [[unlikely]]
            rc::unexpected(where, name, r);
        for (std::size_t i = 0; i < 4; ++i)
            if (!r[i].is_integer() || r[i].integer() < 0) [[unlikely]]
                rc::unexpected(where, name, r[i]);
        const auto at = [&](std::size_t i) { return static_cast<std::uint64_t>(r[i].integer()); };
        return {at(0), at(1), at(2), at(3)};
    }
};

/// Up to `limit` dead jobs. A read: re-sent after a lost reply.
struct dead : rc::script_command<dead> {
    using result_type = std::vector<raw_dead>;
    static constexpr const detail::redis::script& code = redis_dead;
    static constexpr std::string_view name = "queue dead";
    static constexpr bool idempotent = true;
    const queue_keys* keys;
    std::size_t limit;
    dead(const queue_keys& k, std::size_t n) noexcept : keys(&k), limit(n) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        const int_arg n(static_cast<std::int64_t>(limit));
        return g(n.view());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() || r.size() % 4 != 0) [[unlikely]]
            rc::unexpected(where, name, r);
        result_type out;
        out.reserve(r.size() / 4);
        for (std::size_t i = 0; i < r.size(); i += 4) {
            if (!r[i].is_string() || !r[i + 1].is_string() || !r[i + 3].is_string()) [[unlikely]]
                rc::unexpected(where, name, r);
            out.push_back({std::string(r[i].text()), std::string(r[i + 1].text()), integer_of(where, name, r[i + 2]),
                           std::string(r[i + 3].text())});
        }
        return out;
    }
};

/// A script answering a count (requeue_dead, purge). Not re-sent.
template <const detail::redis::script& Code, class Derived>
struct counted : rc::script_command<Derived> {
    using result_type = std::uint64_t;
    static constexpr const detail::redis::script& code = Code;
    static constexpr bool idempotent = false;
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_integer() || r.integer() < 0) [[unlikely]]
            rc::unexpected(where, Derived::name, r);
        return static_cast<std::uint64_t>(r.integer());
    }
};

/// Move dead job `id` (nullopt: every dead job) back to waiting: how many moved.
struct requeue_dead : counted<redis_requeue_dead, requeue_dead> {
    static constexpr std::string_view name = "queue requeue_dead";
    const queue_keys* keys;
    std::string_view id;  ///< empty: every dead job
    requeue_dead(const queue_keys& k, std::string_view job) noexcept : keys(&k), id(job) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        return g(id);
    }
};

/// Delete every job: how many there were.
struct purge : counted<redis_purge, purge> {
    static constexpr std::string_view name = "queue purge";
    const queue_keys* keys;
    explicit purge(const queue_keys& k) noexcept : keys(&k) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        return g();
    }
};

/// WAIT replicas timeout: how many replicas acknowledged. Re-sent freely (it changes nothing).
struct wait_replicas : rc::command_base<wait_replicas> {
    using result_type = std::int64_t;
    static constexpr std::string_view name = "WAIT";
    static constexpr bool idempotent = true;
    std::int64_t replicas, timeout_ms;
    wait_replicas(std::int64_t n, std::int64_t timeout) noexcept : replicas(n), timeout_ms(timeout) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        const int_arg n(replicas), timeout(timeout_ms);
        return rc::pass_args(f, name, n.view(), timeout.view());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_integer()) [[unlikely]]
            rc::unexpected(where, name, r);
        return r.integer();
    }
};

/// BLPOP's answer read as "did a token come": nil when the timeout passed.
[[nodiscard]] inline bool woken(reply_context where, std::string_view command, reply_view r) {
    if (r.is_nil()) return false;
    if (!r.is_array() || r.size() != 2) [[unlikely]]
        rc::unexpected(where, command, r);
    return true;
}

/// BLPOP of the queue's wake-up list for up to a timeout in seconds (text,
/// "0.250"): whether a token came (an enqueue happened) before it. Not re-sent.
using wait_wake = rc::key_command<"BLPOP", false, woken, 1>;

static_assert(rc::Command<enqueue> && rc::HasFallback<enqueue> && rc::HasFallback<enqueue_bulk> &&
              rc::HasFallback<claim> && rc::HasFallback<ack_claim> && rc::HasFallback<heartbeat> &&
              rc::HasFallback<ack> && rc::HasFallback<fail> && rc::HasFallback<release> && rc::HasFallback<counts> &&
              rc::HasFallback<dead> && rc::HasFallback<requeue_dead> && rc::HasFallback<purge> &&
              rc::Command<wait_replicas> && rc::Command<wait_wake> && !rc::HasFallback<wait_wake>);

}  // namespace hotstate::detail::queue::commands
