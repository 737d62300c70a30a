// The embedded backend's job queues: every queue of one backend under one
// mutex, ordered sets per state, and a claim_signal that wakes blocked
// claimers on enqueue. Times are the backend clock's milliseconds, passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <hotstate/detail/queue/claim_signal.hpp>
#include <hotstate/detail/queue/types.hpp>

namespace hotstate::detail::queue {

/// All queues of one memory backend.
class memory_engine {
public:
    /// Enqueues every spec; per spec, whether it was added (false: its id is
    /// already waiting, delayed, active or dead there).
    std::vector<bool> enqueue(std::string_view queue, std::span<const job_spec> specs, std::int64_t now_ms) {
        std::vector<bool> added;
        added.reserve(specs.size());
        {
            std::scoped_lock guard(mutex_);
            state& q = queues_[std::string(queue)];
            for (const job_spec& spec : specs) {
                auto [it, fresh] = q.jobs.try_emplace(std::string(spec.id));
                added.push_back(fresh);
                if (!fresh) continue;
                job& j = it->second;
                j.payload.assign(spec.payload);
                j.priority = spec.priority;
                j.seq = q.next_seq++;
                if (spec.delay_ms > 0) {
                    j.where = place::delayed;
                    j.due_ms = now_ms + spec.delay_ms;
                    q.delayed.emplace(j.due_ms, j.seq, it->first);
                } else {
                    make_waiting(q, it->first, j);
                }
            }
        }
        signal_.notify();
        return added;
    }

    /// Promotes due delayed jobs and expired leases (dead-lettering those out
    /// of attempts), then leases the first waiting job to `owner`.
    std::optional<raw_claim> claim(std::string_view queue, std::string_view owner, std::int64_t lease_ms,
                                   std::int64_t max_attempts, std::int64_t now_ms) {
        std::scoped_lock guard(mutex_);
        auto found = queues_.find(queue);
        if (found == queues_.end()) return std::nullopt;
        state& q = found->second;
        while (!q.delayed.empty() && std::get<0>(*q.delayed.begin()) <= now_ms) {
            const std::string id = std::get<2>(*q.delayed.begin());
            q.delayed.erase(q.delayed.begin());
            job& j = q.jobs.at(id);
            j.seq = q.next_seq++;  // due (a delay or a retry): the back of its priority
            make_waiting(q, id, j);
        }
        while (!q.active.empty() && q.active.begin()->first <= now_ms) {
            const std::string id = q.active.begin()->second;
            q.active.erase(q.active.begin());
            job& j = q.jobs.at(id);
            j.owner.clear();
            if (j.attempts >= max_attempts) {
                j.last_error = "lease expired on the last attempt (worker lost)";
                make_dead(q, id, j);
            } else {
                make_waiting(q, id, j);
            }
        }
        if (q.waiting.empty()) return std::nullopt;
        const std::string id = std::get<2>(*q.waiting.begin());
        q.waiting.erase(q.waiting.begin());
        job& j = q.jobs.at(id);
        j.where = place::active;
        j.owner.assign(owner);
        ++j.attempts;
        j.due_ms = now_ms + lease_ms;
        q.active.emplace(j.due_ms, id);
        return raw_claim{id, j.payload, j.attempts, j.due_ms};
    }

    /// Extends the owner's lease to `now + lease`.
    owner_check heartbeat(std::string_view queue, std::string_view id, std::string_view owner, std::int64_t lease_ms,
                          std::int64_t now_ms) {
        std::scoped_lock guard(mutex_);
        return with_owned(queue, id, owner, [&](state& q, const std::string& key, job& j) {
            q.active.erase({j.due_ms, key});
            j.due_ms = now_ms + lease_ms;
            q.active.emplace(j.due_ms, key);
        });
    }

    /// Completes the owner's job: it is gone.
    owner_check ack(std::string_view queue, std::string_view id, std::string_view owner) {
        std::scoped_lock guard(mutex_);
        return with_owned(queue, id, owner, [&](state& q, const std::string& key, job& j) {
            q.active.erase({j.due_ms, key});
            q.jobs.erase(std::string(key));  // a copy: `key` lives in the node being erased
        });
    }

    /// Fails the owner's job: delayed by `retry_ms`, or dead-lettered when
    /// `retry_ms` is empty; `error` is kept as its last error.
    owner_check fail(std::string_view queue, std::string_view id, std::string_view owner, std::string_view error,
                     std::optional<std::int64_t> retry_ms, std::int64_t now_ms) {
        std::scoped_lock guard(mutex_);
        return with_owned(queue, id, owner, [&](state& q, const std::string& key, job& j) {
            q.active.erase({j.due_ms, key});
            j.owner.clear();
            j.last_error.assign(error);
            if (!retry_ms) {
                make_dead(q, key, j);
            } else {
                j.where = place::delayed;
                j.due_ms = now_ms + *retry_ms;
                q.delayed.emplace(j.due_ms, j.seq, key);
            }
        });
    }

    /// Returns the owner's job to the waiting jobs as it was before the claim.
    owner_check release(std::string_view queue, std::string_view id, std::string_view owner) {
        owner_check result;
        {
            std::scoped_lock guard(mutex_);
            result = with_owned(queue, id, owner, [&](state& q, const std::string& key, job& j) {
                q.active.erase({j.due_ms, key});
                j.owner.clear();
                --j.attempts;
                make_waiting(q, key, j);
            });
        }
        signal_.notify();
        return result;
    }

    raw_counts counts(std::string_view queue) {
        std::scoped_lock guard(mutex_);
        auto found = queues_.find(queue);
        if (found == queues_.end()) return {};
        const state& q = found->second;
        return {q.waiting.size(), q.delayed.size(), q.active.size(), q.dead.size()};
    }

    /// Up to `limit` dead jobs, oldest death first.
    std::vector<raw_dead> dead(std::string_view queue, std::size_t limit) {
        std::scoped_lock guard(mutex_);
        std::vector<raw_dead> out;
        auto found = queues_.find(queue);
        if (found == queues_.end()) return out;
        for (const auto& [order, id] : found->second.dead) {
            if (out.size() >= limit) break;
            const job& j = found->second.jobs.at(id);
            out.push_back({id, j.payload, j.attempts, j.last_error});
        }
        return out;
    }

    /// Moves the dead job `id` (every dead job when `id` is empty) back to
    /// waiting with its attempts reset; how many moved.
    std::uint64_t requeue_dead(std::string_view queue, std::optional<std::string_view> id) {
        std::uint64_t moved = 0;
        {
            std::scoped_lock guard(mutex_);
            auto found = queues_.find(queue);
            if (found == queues_.end()) return 0;
            state& q = found->second;
            for (auto it = q.dead.begin(); it != q.dead.end();) {
                if (id && it->second != *id) {
                    ++it;
                    continue;
                }
                const std::string key = it->second;
                it = q.dead.erase(it);
                job& j = q.jobs.at(key);
                j.attempts = 0;
                j.seq = q.next_seq++;  // requeued: the back of its priority, in death order
                make_waiting(q, key, j);
                ++moved;
            }
        }
        signal_.notify();
        return moved;
    }

    /// Deletes every job of the queue, in every state; how many.
    std::uint64_t purge(std::string_view queue) {
        std::scoped_lock guard(mutex_);
        auto found = queues_.find(queue);
        if (found == queues_.end()) return 0;
        const std::uint64_t n = found->second.jobs.size();
        queues_.erase(found);
        return n;
    }

    /// A number that changes whenever a job may have become claimable.
    std::uint64_t generation() const { return signal_.generation(); }

    /// Blocks until the generation moves past `seen` or `until` passes (any queue's change wakes it).
    void wait(std::string_view, std::uint64_t seen, std::chrono::steady_clock::time_point until) const {
        signal_.wait(seen, until);
    }

    /// Wakes every blocked claimer (a worker pool stopping).
    void wake_all() { signal_.notify(); }

private:
    enum class place : std::uint8_t { waiting, delayed, active, dead };
    struct job {
        std::string payload;
        std::string owner;
        std::string last_error;
        std::int64_t priority = 0;
        std::uint64_t seq = 0;
        std::int64_t attempts = 0;
        std::int64_t due_ms = 0;  // delayed: when due; active: lease end
        place where = place::waiting;
    };
    struct state {
        std::unordered_map<std::string, job> jobs;
        std::set<std::tuple<std::int64_t, std::uint64_t, std::string>> waiting;  // (-priority, seq, id)
        std::set<std::tuple<std::int64_t, std::uint64_t, std::string>> delayed;  // (due, seq, id)
        std::set<std::pair<std::int64_t, std::string>> active;                   // (lease end, id)
        std::set<std::pair<std::uint64_t, std::string>> dead;                    // (death order, id)
        std::uint64_t next_seq = 0;
        std::uint64_t next_death = 0;
    };

    static void make_waiting(state& q, const std::string& id, job& j) {
        j.where = place::waiting;
        q.waiting.emplace(-j.priority, j.seq, id);
    }
    static void make_dead(state& q, const std::string& id, job& j) {
        j.where = place::dead;
        q.dead.emplace(q.next_death++, id);
    }

    template <class F>
    owner_check with_owned(std::string_view queue, std::string_view id, std::string_view owner, F&& change) {
        auto found = queues_.find(queue);
        if (found == queues_.end()) return owner_check::missing;
        state& q = found->second;
        auto it = q.jobs.find(std::string(id));
        if (it == q.jobs.end()) return owner_check::missing;
        if (it->second.where != place::active || it->second.owner != owner) return owner_check::not_owner;
        change(q, it->first, it->second);
        return owner_check::ok;
    }

    struct transparent_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };

    std::mutex mutex_;
    claim_signal signal_;
    std::unordered_map<std::string, state, transparent_hash, std::equal_to<>> queues_;
};

}  // namespace hotstate::detail::queue
