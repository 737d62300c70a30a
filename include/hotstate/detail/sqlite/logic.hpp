// hotstate/detail/sqlite/logic.hpp: the SQLite backend's decisions, without I/O.
//
// Everything here is a pure function so it can be unit-tested without opening a
// database: which range of keys a prefix covers, what to do with a file given
// its header pragmas, which hotstate::errc a SQLite result code maps to, and how
// long a writer backs off while another process holds the write lock.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <hotstate/error.hpp>

namespace hotstate::detail::sqlite {

/// `PRAGMA application_id` of a hotstate database: "HSTA" in ASCII. It tells
/// our files from every other SQLite database without reading any table.
inline constexpr std::int32_t application_id = 0x48535441;

/// `PRAGMA user_version` this build writes and understands.
inline constexpr std::int32_t schema_version = 1;

/// What opening a file must do, decided from its header pragmas.
enum class schema_state : std::uint8_t {
    empty,    ///< a new or empty database: create the schema
    current,  ///< a hotstate database of this schema version: use it
    newer,    ///< a hotstate database from a later version: refuse, never downgrade it
    foreign,  ///< some other application's database: refuse, never touch it
};

/// Classifies a database from `PRAGMA application_id`, `PRAGMA user_version`
/// and the number of entries in sqlite_schema.
[[nodiscard]] constexpr schema_state classify_schema(std::int64_t app_id, std::int64_t user_version,
                                                     std::int64_t schema_objects) noexcept {
    if (app_id == application_id) {
        if (user_version == schema_version) return schema_state::current;
        if (user_version > schema_version) return schema_state::newer;
        return schema_state::foreign;  // ours by id but never finished: do not guess
    }
    if (app_id == 0 && user_version == 0 && schema_objects == 0) return schema_state::empty;
    return schema_state::foreign;
}

/// The smallest byte string greater than every string starting with `prefix`,
/// or nullopt when no such bound exists (empty prefix, or only 0xff bytes):
/// delete-by-prefix becomes the index range [prefix, successor).
[[nodiscard]] inline std::optional<std::string> prefix_successor(std::string_view prefix) {
    std::string bound(prefix);
    while (!bound.empty() && static_cast<unsigned char>(bound.back()) == 0xff) bound.pop_back();
    if (bound.empty()) return std::nullopt;
    bound.back() = static_cast<char>(static_cast<unsigned char>(bound.back()) + 1);
    return bound;
}

/// The hotstate error kind of a (primary) SQLite result code.
[[nodiscard]] constexpr errc errc_of(int primary_code) noexcept {
    switch (primary_code) {
        case 5:   // SQLITE_BUSY
        case 6:   // SQLITE_LOCKED
            return errc::timeout;
        case 18:  // SQLITE_TOOBIG
        case 25:  // SQLITE_RANGE
            return errc::invalid_argument;
        case 7:   // SQLITE_NOMEM
            return errc::memory_limit;
        default:  // CORRUPT, NOTADB, IOERR, FULL, CANTOPEN, READONLY, PERM, ...
            return errc::storage;
    }
}

/// `base + span` in milliseconds, clamped instead of overflowing, so an absurd
/// TTL means "practically never" rather than undefined behaviour.
[[nodiscard]] constexpr std::int64_t saturating_add(std::int64_t base, std::int64_t span) noexcept {
    std::int64_t result = 0;
    if (__builtin_add_overflow(base, span, &result))
        return span > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
    return result;
}

/// The expiry column for a TTL: 0 means never (ttl 0), else now + ttl.
[[nodiscard]] constexpr std::int64_t expires_at(std::int64_t now_ms, std::chrono::milliseconds ttl) noexcept {
    return ttl.count() > 0 ? saturating_add(now_ms, ttl.count()) : 0;
}

/// How long the `attempt`-th retry (0-based) waits while another process
/// holds the write lock. SQLite's default handler sleeps a whole millisecond
/// or more from the first retry; a write transaction here lasts microseconds,
/// so yield first and grow the sleep from 20 us to 1 ms.
[[nodiscard]] constexpr std::chrono::microseconds busy_backoff(int attempt) noexcept {
    if (attempt < 8) return std::chrono::microseconds{0};  // 0: just yield
    const int step = std::min(attempt - 8, 6);
    return std::chrono::microseconds{std::min<std::int64_t>(1000, std::int64_t{20} << step)};
}

}  // namespace hotstate::detail::sqlite
