// hotstate/detail/memory/table.hpp: the embedded backend's sharded table: entries, their
// accounting overheads and the hash that spreads keys over shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <hotstate/detail/base/fast_hash.hpp>
#include <hotstate/detail/base/open_table.hpp>
#include <hotstate/detail/base/shard_mutex.hpp>

namespace hotstate::detail::memory {

// Encoded keys are built on the caller's stack just before the lookup: one
// byte store for the prefix, then a copy of the key. A load that spans both
// stores cannot be forwarded and stalls, so the first byte is folded into the
// seed and every wide load starts after it.
inline std::uint64_t hash_bytes(std::string_view text) noexcept {
    if (text.empty()) return process_hash_seed();
    const auto first = static_cast<std::uint64_t>(static_cast<unsigned char>(text[0]));
    return fast_hash(text.substr(1), process_hash_seed() ^ (first * 0x9e3779b97f4a7c15ULL));
}

struct transparent_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return static_cast<std::size_t>(hash_bytes(text)); }
};

using set_type = std::unordered_set<std::string, transparent_hash, std::equal_to<>>;
using map_type = std::unordered_map<std::string, std::string, transparent_hash, std::equal_to<>>;

struct lock_state {
    std::string owner;           // empty: released
    std::int64_t until_ms = 0;   // lease end
    std::uint64_t fence = 0;     // last fencing token handed out
};

struct entry {
    // containers and locks live behind a pointer: the common entries (bytes,
    // counters) stay small, and small entries are what the cache holds most of
    std::variant<std::string, std::int64_t, std::unique_ptr<set_type>, std::unique_ptr<map_type>,
                 std::unique_ptr<lock_state>>
        value;
    std::int64_t expires_at_ms = 0;  // 0: never
    std::size_t charge = 0;          // bytes accounted against the limit
};

inline constexpr std::size_t entry_overhead = 64;
inline constexpr std::size_t member_overhead = 32;

/// The current time, read from the clock only if an operation needs it: most
/// reads and writes of keys without expiry never look at the clock.
template <class C>
class lazy_now {
public:
    explicit lazy_now(const C& clock) noexcept : clock_(clock) {}
    std::int64_t get() {
        if (!known_) {
            value_ = clock_.now().time_since_epoch().count();
            known_ = true;
        }
        return value_;
    }
    operator std::int64_t() { return get(); }

private:
    const C& clock_;
    std::int64_t value_ = 0;
    bool known_ = false;
};

using table = open_table<entry>;
using node = table::node;

struct alignas(64) shard {
    mutable shard_mutex mutex;
    table entries;
    std::size_t sweep_cursor = 0;  // next slot the sweep looks at
};

}  // namespace hotstate::detail::memory
