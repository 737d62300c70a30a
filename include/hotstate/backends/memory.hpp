// hotstate/backends/memory.hpp: the embedded in-process backend (the default).
//
// No server, no hiredis, no Asio: a sharded hash table, one mutex per shard, so
// threads touching different keys rarely meet. Expired entries are invisible at
// once (lazy expiry on every read) and are reclaimed by sweep(), which a
// background thread can run on a schedule. A memory limit refuses writes with
// errc::memory_limit instead of evicting anything (the seeds' noeviction rule).
// Time comes from the Clock policy, so tests drive TTLs with a manual_clock.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <climits>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/base/extensions.hpp>
#include <hotstate/detail/memory/table.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>

namespace hotstate::backends {

/// Settings of the embedded backend.
struct memory_config {
    /// Upper bound on the bytes held (keys, values and a fixed per-entry
    /// overhead); writes beyond it fail with errc::memory_limit. 0: no limit.
    std::size_t memory_limit = 0;
    /// Number of independently locked shards (rounded up to a power of two).
    std::size_t shards = 64;
    /// Interval of the background sweep of expired entries; 0: no thread, call sweep().
    std::chrono::milliseconds sweep_interval{0};
    /// Entries examined per sweep step, which bounds the time a sweep holds a shard.
    std::size_t sweep_budget = 4096;
    /// How long a lock's fencing state outlives its lease.
    std::chrono::milliseconds fence_retention{std::chrono::minutes{10}};
};


/// The embedded backend with clock policy `C`.
/// @tparam C a Clock: system_clock in production, manual_clock in tests
template <Clock C = system_clock>
class basic_memory {
public:
    using clock_type = C;

    explicit basic_memory(memory_config config = {}, C clock = C())
        : config_(config), clock_(std::move(clock)),
          shard_count_(std::bit_ceil(std::max<std::size_t>(1, config.shards))),
          shards_(std::make_unique<detail::memory::shard[]>(shard_count_)) {
        if (config_.sweep_interval.count() > 0)
            sweeper_ = std::jthread([this](std::stop_token stop) { sweep_loop(stop); });
    }

    basic_memory(const basic_memory&) = delete;
    basic_memory& operator=(const basic_memory&) = delete;

    ~basic_memory() {
        if (sweeper_.joinable()) {
            sweeper_.request_stop();
            sweeper_.join();
        }
    }

    [[nodiscard]] time_point now() const { return clock_.now(); }
    [[nodiscard]] const C& clock() const noexcept { return clock_; }

    /// State a capability add-on keeps in this backend (the job queues of
    /// hotstate/queue.hpp): one `T` per backend, default-constructed on first
    /// use and destroyed with the backend. Callers keep the reference.
    template <class T>
    T& extension() {
        return extensions_.get_or_make<T>();
    }

    // ---- KeyValueBackend ----------------------------------------------------

    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        const std::size_t charge = key.size() + value.size() + detail::memory::entry_overhead;
        reserve(a, charge, found != nullptr ? found->value.charge : 0, "set");
        if (found == nullptr) found = &a.s.entries.insert(key, a.hash);
        auto& e = found->value;
        if (auto* text = std::get_if<std::string>(&e.value))
            text->assign(value);  // reuses the old value's capacity
        else
            e.value.template emplace<std::string>(value);
        e.expires_at_ms = ttl.count() > 0 ? a.now + ttl.count() : 0;
        e.charge = charge;
    }

    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        if (found == nullptr) return false;
        const auto& e = found->value;
        if (const auto* text = std::get_if<std::string>(&e.value)) {
            sink(std::string_view(*text));
        } else if (const auto* number = std::get_if<std::int64_t>(&e.value)) {
            char buffer[24];
            const auto end = std::to_chars(buffer, buffer + sizeof buffer, *number).ptr;
            sink(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
        } else {
            throw wrong_type("get");
        }
        return true;
    }

    bool kv_del(std::string_view key) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        if (find_live(a) == nullptr) return false;
        erase(a);
        return true;
    }

    /// Gets and deletes in one critical section; the sink is called after the
    /// shard is released, with the bytes moved out of the entry.
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink) {
        access a(*this, key);
        std::string taken;
        char digits[24];
        std::string_view bytes;
        {
            std::scoped_lock guard(a.s.mutex);
            auto* found = find_live(a);
            if (found == nullptr) return false;
            auto& e = found->value;
            if (auto* text = std::get_if<std::string>(&e.value)) {
                taken = std::move(*text);
                bytes = taken;
            } else if (const auto* number = std::get_if<std::int64_t>(&e.value)) {
                const auto end = std::to_chars(digits, digits + sizeof digits, *number).ptr;
                bytes = std::string_view(digits, static_cast<std::size_t>(end - digits));
            } else {
                throw wrong_type("take");
            }
            erase(a);
        }
        sink(bytes);
        return true;
    }

    bool kv_exists(std::string_view key) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        return find_live(a) != nullptr;
    }

    std::uint64_t kv_del_prefix(std::string_view prefix) {
        const std::int64_t now = now_ms();
        std::uint64_t removed = 0;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            auto& s = shards_[i];
            std::scoped_lock guard(s.mutex);
            scan_and_erase(s, 0, s.entries.slot_count(), [&](const detail::memory::node& n) {
                if (!n.key().starts_with(prefix)) return false;
                if (!expired(n.value, now)) ++removed;
                return true;
            });
        }
        return removed;
    }

    // ---- CounterBackend -----------------------------------------------------

    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        if (found == nullptr) {
            const std::size_t charge = key.size() + sizeof(std::int64_t) + detail::memory::entry_overhead;
            reserve(a, charge, 0, "increment");
            found = &a.s.entries.insert(key, a.hash);
            found->value.value.template emplace<std::int64_t>(0);
            found->value.charge = charge;
        }
        auto* number = std::get_if<std::int64_t>(&found->value.value);  // the common case, inline
        std::int64_t& counter = number != nullptr ? *number : counter_of(found->value, "increment");
        std::int64_t result = 0;
        if (__builtin_add_overflow(counter, by, &result))
            throw error(errc::invalid_argument, "increment would overflow a 64-bit counter");
        counter = result;
        if (expiry.count() > 0) found->value.expires_at_ms = a.now + expiry.count();
        return result;
    }

    std::int64_t counter_get(std::string_view key) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        if (found == nullptr) return 0;
        return counter_of(found->value, "counter");
    }

    // ---- RateLimitBackend ---------------------------------------------------

    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        std::optional<std::int64_t> stored;
        if (found != nullptr) stored = counter_of(found->value, "check_rate");
        const std::int64_t now = a.now;
        const auto outcome = rate_math::gcra_step(stored, now * 1000, params, cost);
        if (outcome.decision.allowed) {
            if (found == nullptr) {
                const std::size_t charge = key.size() + sizeof(std::int64_t) + detail::memory::entry_overhead;
                reserve(a, charge, 0, "check_rate");
                found = &a.s.entries.insert(key, a.hash);
                found->value.charge = charge;
            }
            found->value.value.template emplace<std::int64_t>(outcome.new_tat_us);
            found->value.expires_at_ms = now + std::max<std::int64_t>(1, outcome.ttl.count());
        }
        return outcome.decision;
    }

    // ---- LockBackend --------------------------------------------------------

    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        const std::int64_t now = a.now;
        std::uint64_t previous_fence = 0;
        if (found != nullptr) {
            auto& state = lock_of(found->value, "try_lock");
            if (!state.owner.empty() && state.until_ms > now) {
                if (owner.empty() || state.owner != owner) return std::nullopt;
                // the owner taking it again (an acquire sent again): renewed, the same fence
                state.until_ms = now + lease.count();
                found->value.expires_at_ms = now + lease.count() + config_.fence_retention.count();
                return state.fence;
            }
            previous_fence = state.fence;
        }
        const std::size_t charge = key.size() + owner.size() + sizeof(detail::memory::lock_state) +
                                   detail::memory::entry_overhead;
        reserve(a, charge, found != nullptr ? found->value.charge : 0, "try_lock");
        if (found == nullptr) found = &a.s.entries.insert(key, a.hash);
        const std::uint64_t fence = std::max(previous_fence + 1, static_cast<std::uint64_t>(now) * 1000);
        found->value.value = std::make_unique<detail::memory::lock_state>(
            detail::memory::lock_state{std::string(owner), now + lease.count(), fence});
        found->value.expires_at_ms = now + lease.count() + config_.fence_retention.count();
        found->value.charge = charge;
        return fence;
    }

    /// The fence and the attempt are not needed here: a release's answer is never lost.
    bool lock_release(std::string_view key, std::string_view owner, std::uint64_t /*fence*/, release_attempt /*attempt*/) {
        return with_owned_lock(key, owner, [](detail::memory::entry&, detail::memory::lock_state& state, std::int64_t) {
            state.owner.clear();
            state.until_ms = 0;
        });
    }

    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        return with_owned_lock(key, owner,
                               [&](detail::memory::entry& e, detail::memory::lock_state& state, std::int64_t now) {
                                   state.until_ms = now + lease.count();
                                   e.expires_at_ms = state.until_ms + config_.fence_retention.count();
                               });
    }

    // ---- LookupBackend ------------------------------------------------------

    bool set_add(std::string_view key, std::string_view member) {
        return with_container<detail::memory::set_type>(key, "lookup_add", true, [&](access& a, auto& set, auto& e) {
            if (set.find(member) != set.end()) return false;
            reserve(a, member.size() + detail::memory::member_overhead, 0, "lookup_add");
            set.emplace(member);
            e.charge += member.size() + detail::memory::member_overhead;
            return true;
        });
    }

    bool set_remove(std::string_view key, std::string_view member) {
        return with_container<detail::memory::set_type>(key, "lookup_remove", false, [&](access&, auto& set, auto& e) {
            auto found = set.find(member);
            if (found == set.end()) return false;
            release_charge(member.size() + detail::memory::member_overhead);
            e.charge -= member.size() + detail::memory::member_overhead;
            set.erase(found);
            return true;
        });
    }

    bool set_contains(std::string_view key, std::string_view member) {
        return with_container<detail::memory::set_type>(key, "lookup_contains", false,
                                                       [&](access&, auto& set, auto&) { return set.find(member) != set.end(); });
    }

    void map_set(std::string_view key, std::string_view field, std::string_view value) {
        with_container<detail::memory::map_type>(key, "lookup_set", true, [&](access& a, auto& map, auto& e) {
            auto found = map.find(field);
            const std::size_t charge = field.size() + value.size() + detail::memory::member_overhead;
            const std::size_t old_charge =
                found != map.end() ? found->first.size() + found->second.size() + detail::memory::member_overhead : 0;
            reserve(a, charge, old_charge, "lookup_set");
            if (found == map.end()) found = map.try_emplace(std::string(field)).first;
            found->second.assign(value);
            e.charge = e.charge + charge - old_charge;
            return true;
        });
    }

    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        return with_container<detail::memory::map_type>(key, "lookup_get", false, [&](access&, auto& map, auto&) {
            auto found = map.find(field);
            if (found == map.end()) return false;
            sink(std::string_view(found->second));
            return true;
        });
    }

    bool map_remove(std::string_view key, std::string_view field) {
        return with_container<detail::memory::map_type>(key, "lookup_erase", false, [&](access&, auto& map, auto& e) {
            auto found = map.find(field);
            if (found == map.end()) return false;
            const std::size_t charge = found->first.size() + found->second.size() + detail::memory::member_overhead;
            release_charge(charge);
            e.charge -= charge;
            map.erase(found);
            return true;
        });
    }

    // ---- maintenance --------------------------------------------------------

    /// Removes expired entries, examining at most `budget` entries; returns how
    /// many it removed. Cheap to call often: each shard is held only briefly.
    std::size_t sweep(std::size_t budget) {
        const std::int64_t now = now_ms();
        const std::size_t share = std::max<std::size_t>(1, budget / shard_count_);
        std::size_t removed = 0;
        for (std::size_t visited = 0; visited < shard_count_; ++visited) {
            auto& s = shards_[next_sweep_shard_.fetch_add(1, std::memory_order_relaxed) & (shard_count_ - 1)];
            std::scoped_lock guard(s.mutex);
            const std::size_t slots = s.entries.slot_count();
            if (slots == 0) continue;
            if (s.sweep_cursor >= slots) s.sweep_cursor = 0;
            const std::size_t begin = s.sweep_cursor;
            const std::size_t end = std::min(slots, begin + share);
            removed += scan_and_erase(s, begin, end, [&](const detail::memory::node& n) { return expired(n.value, now); });
            s.sweep_cursor = end;
        }
        return removed;
    }

    /// Removes every expired entry now.
    std::size_t sweep_all() {
        const std::int64_t now = now_ms();
        std::size_t removed = 0;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            std::scoped_lock guard(shards_[i].mutex);
            removed += purge_shard(shards_[i], now);
        }
        return removed;
    }

    /// Entries held, expired ones not yet swept included.
    [[nodiscard]] std::size_t entry_count() const {
        std::size_t total = 0;
        for (std::size_t i = 0; i < shard_count_; ++i) {
            std::scoped_lock guard(shards_[i].mutex);
            total += shards_[i].entries.size();
        }
        return total;
    }

    /// Bytes accounted against memory_limit.
    [[nodiscard]] std::size_t memory_used() const noexcept { return used_.load(std::memory_order_relaxed); }

private:
    using now_type = detail::memory::lazy_now<C>;

    /// One operation's view of its key: the hash (computed once), the shard it
    /// picks, and the time (read only if needed).
    struct access {
        access(const basic_memory& owner, std::string_view k)
            : key(k), hash(detail::memory::hash_bytes(k)), s(owner.shard_of(hash)), now(owner.clock_) {}
        std::string_view key;
        std::uint64_t hash;
        detail::memory::shard& s;
        now_type now;
    };

    std::int64_t now_ms() const { return clock_.now().time_since_epoch().count(); }

    static bool expired(const detail::memory::entry& e, std::int64_t now) noexcept {
        return e.expires_at_ms != 0 && e.expires_at_ms <= now;
    }

    detail::memory::shard& shard_of(std::uint64_t hash) const noexcept {
        // the shard's table uses the low bits of the same hash: pick the shard from mixed high bits
        return shards_[((hash ^ (hash >> 29)) * 0x9e3779b97f4a7c15ull >> 40) & (shard_count_ - 1)];
    }

    /// The live node for the key, or nullptr; an expired one is erased on the way.
    detail::memory::node* find_live(access& a) {
        auto* found = a.s.entries.find(a.key, a.hash);
        if (found != nullptr && found->value.expires_at_ms != 0 && found->value.expires_at_ms <= a.now.get()) {
            erase(a);
            return nullptr;
        }
        return found;
    }

    void erase(access& a) {
        const std::size_t slot = a.s.entries.find_slot(a.key, a.hash);
        release_charge(a.s.entries.node_at(slot)->value.charge);
        a.s.entries.erase_at(slot);
    }

    /// Erases the nodes in slots [begin, end) that `doomed` picks; returns how many.
    template <class Predicate>
    std::size_t scan_and_erase(detail::memory::shard& s, std::size_t begin, std::size_t end, Predicate&& doomed) {
        std::size_t removed = 0;
        for (std::size_t slot = begin; slot < end && slot < s.entries.slot_count();) {
            auto* n = s.entries.node_at(slot);
            if (n != nullptr && doomed(*n)) {
                release_charge(n->value.charge);
                s.entries.erase_at(slot);  // a later entry may shift into this slot: look again
                ++removed;
            } else {
                ++slot;
            }
        }
        return removed;
    }

    void release_charge(std::size_t bytes) noexcept { used_.fetch_sub(bytes, std::memory_order_relaxed); }

    /// Accounts a write that grows an entry from `old_charge` to `new_charge`
    /// bytes; over the limit it first reclaims expired entries, then refuses.
    void reserve(access& a, std::size_t new_charge, std::size_t old_charge, std::string_view operation) {
        if (new_charge <= old_charge) {
            if (new_charge != old_charge) release_charge(old_charge - new_charge);
            return;
        }
        const std::size_t growth = new_charge - old_charge;
        if (try_charge(growth)) return;
        // full: reclaim this shard's expired entries (never a live one) and try again
        const std::int64_t now = a.now.get();
        purge_shard(a.s, now);
        if (try_charge(growth)) return;
        // then the other shards' (at most once per clock second, so a store full of
        // live data refuses writes quickly instead of rescanning for each one)
        if (claim_global_purge(now)) {
            for (std::size_t i = 0; i < shard_count_; ++i) {
                auto& other = shards_[i];
                // try_lock: we hold our own shard, and waiting for another could deadlock
                if (&other == &a.s || !other.mutex.try_lock()) continue;
                purge_shard(other, now);
                other.mutex.unlock();
            }
            if (try_charge(growth)) return;
        }
        throw error(errc::memory_limit, std::string(operation) + ": memory limit of " +
                                            std::to_string(config_.memory_limit) +
                                            " bytes reached; writes are refused, nothing is evicted");
    }

    bool claim_global_purge(std::int64_t now) noexcept {
        std::int64_t last = last_global_purge_ms_.load(std::memory_order_relaxed);
        return now - last >= 1000 &&
               last_global_purge_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed);
    }

    bool try_charge(std::size_t growth) noexcept {
        const std::size_t before = used_.fetch_add(growth, std::memory_order_relaxed);
        if (config_.memory_limit == 0 || before + growth <= config_.memory_limit) return true;
        release_charge(growth);
        return false;
    }

    /// Erases every expired entry of the shard.
    std::size_t purge_shard(detail::memory::shard& s, std::int64_t now) {
        return scan_and_erase(s, 0, s.entries.slot_count(),
                              [&](const detail::memory::node& n) { return expired(n.value, now); });
    }

    static error wrong_type(std::string_view operation) {
        return error(errc::wrong_type, std::string(operation) + ": the key holds a value of another kind");
    }

    static std::int64_t& counter_of(detail::memory::entry& e, std::string_view operation) {
        if (auto* number = std::get_if<std::int64_t>(&e.value)) return *number;
        if (auto* text = std::get_if<std::string>(&e.value)) {
            if (const auto parsed = detail::parse_decimal<std::int64_t>(*text)) {
                e.value.template emplace<std::int64_t>(*parsed);
                return std::get<std::int64_t>(e.value);
            }
            throw error(errc::wrong_type, std::string(operation) + ": the value is not an integer");
        }
        throw wrong_type(operation);
    }

    static detail::memory::lock_state& lock_of(detail::memory::entry& e, std::string_view operation) {
        if (auto* state = std::get_if<std::unique_ptr<detail::memory::lock_state>>(&e.value)) return **state;
        throw wrong_type(operation);
    }

    template <class F>
    bool with_owned_lock(std::string_view key, std::string_view owner, F&& change) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        if (found == nullptr) return false;
        auto* holder = std::get_if<std::unique_ptr<detail::memory::lock_state>>(&found->value.value);
        auto* state = holder != nullptr ? holder->get() : nullptr;
        const std::int64_t now = a.now;
        if (state == nullptr || state->owner.empty() || state->owner != owner || state->until_ms <= now) return false;
        change(found->value, *state, now);
        return true;
    }

    /// Runs `body(access, container, entry)` on the set or map under `key`;
    /// creates it when `create`, answers false when it is missing otherwise, and
    /// drops it once empty (as Redis does).
    template <class Container, class F>
    bool with_container(std::string_view key, std::string_view operation, bool create, F&& body) {
        access a(*this, key);
        std::scoped_lock guard(a.s.mutex);
        auto* found = find_live(a);
        if (found == nullptr) {
            if (!create) return false;
            const std::size_t charge = key.size() + detail::memory::entry_overhead;
            reserve(a, charge, 0, operation);
            found = &a.s.entries.insert(key, a.hash);
            found->value.value.template emplace<std::unique_ptr<Container>>(std::make_unique<Container>());
            found->value.charge = charge;
        }
        auto* holder = std::get_if<std::unique_ptr<Container>>(&found->value.value);
        if (holder == nullptr) throw wrong_type(operation);
        Container& container = **holder;
        bool result = false;
        try {
            result = body(a, container, found->value);
        } catch (...) {
            if (container.empty()) erase(a);
            throw;
        }
        if (container.empty()) erase(a);
        return result;
    }

    void sweep_loop(std::stop_token stop) {
        std::mutex idle;
        std::condition_variable_any wake;
        std::unique_lock guard(idle);
        while (!stop.stop_requested()) {
            wake.wait_for(guard, stop, config_.sweep_interval, [] { return false; });
            if (stop.stop_requested()) break;
            sweep(config_.sweep_budget);
        }
    }

    memory_config config_;
    C clock_;
    std::size_t shard_count_;
    std::unique_ptr<detail::memory::shard[]> shards_;
    std::atomic<std::size_t> used_{0};
    std::atomic<std::size_t> next_sweep_shard_{0};
    std::atomic<std::int64_t> last_global_purge_ms_{INT64_MIN / 2};
    detail::extension_registry extensions_;
    std::jthread sweeper_;
};

/// The embedded backend on the system clock.
using memory = basic_memory<system_clock>;

static_assert(KeyValueBackend<memory> && PrefixEraseBackend<memory> && TakeBackend<memory> && CounterBackend<memory> && RateLimitBackend<memory> &&
              LockBackend<memory> && LookupBackend<memory>);

}  // namespace hotstate::backends
