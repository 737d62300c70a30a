// hotstate/backends/sqlite.hpp: the persistent backend on SQLite (the seeds' "Default" variant).
//
// State lives in one database file, so it survives restarts and is shared by
// every thread and process on the host that opens the same file; no server to
// run. The price: writes are slower than the embedded store or Redis, and
// expired rows stay on disk until purged. Readers never see them (every read
// filters on the expiry column); purge() deletes them in bounded batches along
// an index on that column, and a background thread can run it on a schedule
// (the seeds' dataCleanupSchedule), so the table stays bounded under a steady
// stream of short-lived keys.
//
// Concurrency: WAL mode, so readers never wait for writers. Every operation is
// one transaction, atomic across threads and processes: counters and lock
// acquisition are one guarded UPSERT each (a write statement holds the write
// lock from before its read to its commit); the other read-modify-writes
// (GCRA, lookups, counters over decimal text) run under BEGIN IMMEDIATE, which
// takes the write lock before reading. Writers of one process queue on a
// mutex; writers of different processes on SQLite's lock, with a busy handler
// that backs off from a yield to 1 ms until busy_timeout, then fails with
// errc::timeout. Statements are prepared once per connection; a small pool
// gives each concurrently operating thread its own connection, so reads run
// in parallel. Open a new backend in a child process rather than carrying one
// across fork().
//
// Link hotstate::sqlite (SQLite::SQLite3).
#pragma once

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/base/extensions.hpp>
#include <hotstate/detail/sqlite/connection.hpp>
#include <hotstate/detail/sqlite/logic.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>

namespace hotstate::backends {

/// Settings of the SQLite backend.
struct sqlite_config {
    /// Database file, created when missing; ":memory:" (or "") for a private in-memory
    /// database (tests; one connection, gone with the backend). SQLite URIs
    /// ("file:...?...") are accepted.
    std::string path = ":memory:";
    /// How long an operation waits for another process's write lock before
    /// failing with errc::timeout.
    std::chrono::milliseconds busy_timeout{5000};
    /// Rows deleted per purge transaction: bounds how long a purge holds the
    /// write lock, so other writers interleave with a long purge.
    std::size_t purge_batch = 1000;
    /// Interval of the background purge (the seeds' dataCleanupSchedule);
    /// 0: no thread, call purge() yourself.
    std::chrono::milliseconds purge_interval{0};
    /// How long a lock's fencing state outlives its lease.
    std::chrono::milliseconds fence_retention{std::chrono::minutes{10}};
    /// Connections opened at most (one per concurrently operating thread).
    std::size_t max_connections = 8;
    /// fsync on every commit (PRAGMA synchronous = FULL). The default (NORMAL)
    /// loses no commit when the process crashes, but may lose the last ones
    /// when the machine loses power.
    bool sync_every_commit = false;
    /// Run PRAGMA quick_check when opening an existing file, so a damaged file
    /// is refused at once rather than at the first query that meets the damage.
    /// Costs a scan of the file: turn it off for large databases.
    bool check_on_open = true;
};

/// The persistent backend with clock policy `C`.
/// @tparam C a Clock: system_clock in production, manual_clock in tests. Every
///           process sharing a file must use the same time source: expiry is
///           stored as absolute milliseconds.
template <Clock C = system_clock>
class basic_sqlite {
public:
    using clock_type = C;

    /// Opens (or creates) the database. Throws hotstate::error naming the file
    /// when it cannot be opened, is corrupt, belongs to another application or
    /// was written by a newer hotstate.
    explicit basic_sqlite(sqlite_config config = {}, C clock = C())
        : config_(validated(std::move(config))), clock_(std::move(clock)),
          pool_(detail::sqlite::connection_settings{config_.path, config_.busy_timeout, config_.sync_every_commit,
                                                    config_.check_on_open, config_.max_connections}) {
        if (config_.purge_batch == 0) config_.purge_batch = 1;
        if (config_.purge_interval.count() > 0)
            purger_ = std::jthread([this](std::stop_token stop) { purge_loop(stop); });
    }

    basic_sqlite(const basic_sqlite&) = delete;
    basic_sqlite& operator=(const basic_sqlite&) = delete;

    /// Stops the background purge (at once: it sleeps on a stop token) and closes every connection.
    ~basic_sqlite() {
        if (purger_.joinable()) {
            purger_.request_stop();
            purger_.join();
        }
    }

    /// Current time by the clock expiry and windows are computed with.
    [[nodiscard]] time_point now() const { return clock_.now(); }
    /// The clock policy object.
    [[nodiscard]] const C& clock() const noexcept { return clock_; }
    /// The database file as configured.
    [[nodiscard]] const std::string& path() const noexcept { return config_.path; }

    /// State a capability add-on keeps with this backend (the job queues of
    /// hotstate/queue.hpp): one `T` per backend, constructed from the database
    /// path on first use and destroyed with the backend.
    template <class T>
    T& extension() {
        return extensions_.get_or_make<T>(config_.path);
    }

    // ---- KeyValueBackend ----------------------------------------------------

    /// Stores `value` (replacing any kind of value) with `ttl` (0: no expiry). One UPSERT.
    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        detail::sqlite::cursor q(*c, sql::upsert);
        q.blob(1, key).integer(2, kind_code(kind::bytes)).blob(3, value).integer(7, detail::sqlite::expires_at(now, ttl));
        q.run("set");
    }

    /// Hands the live value's bytes to `sink` (counters as decimal text); false when
    /// missing or expired. `sink` must not call back into this backend.
    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        detail::sqlite::cursor q(*c, sql::get);
        q.blob(1, key).integer(2, now);
        if (!q.step("get")) return false;
        switch (kind_of(q.column_int(0))) {
            case kind::bytes: sink(q.column_bytes(1)); break;
            case kind::integer: {
                char buffer[24];
                const auto end = std::to_chars(buffer, buffer + sizeof buffer, q.column_int(2)).ptr;
                sink(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
                break;
            }
            default: throw wrong_type("get");
        }
        return true;
    }

    /// Deletes the row; true when it was live. One DELETE ... RETURNING.
    bool kv_del(std::string_view key) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        detail::sqlite::cursor q(*c, sql::del);
        q.blob(1, key).integer(2, now);
        bool live = false;
        while (q.step("erase")) live = q.column_int(0) != 0;
        return live;
    }

    /// Gets and deletes the row in one statement (DELETE ... RETURNING, one
    /// transaction): of concurrent takes, in any process, exactly one sees the
    /// value. False when missing or expired (an expired row is deleted too).
    /// The row is gone even when `sink` throws. `sink` must not call back into
    /// this backend.
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        bool live = false;
        std::exception_ptr failure;
        {
            detail::sqlite::cursor q(*c, sql::take);
            q.blob(1, key).integer(2, now);
            if (q.step("take")) {
                live = q.column_int(3) != 0;
                if (live) {
                    try {
                        if (kind_of(q.column_int(0)) == kind::bytes) {
                            sink(q.column_bytes(1));
                        } else {
                            char buffer[24];
                            const auto end = std::to_chars(buffer, buffer + sizeof buffer, q.column_int(2)).ptr;
                            sink(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
                        }
                    } catch (...) {
                        failure = std::current_exception();
                    }
                }
                // running the statement to its end commits the delete, whatever the sink did
                while (q.step("take")) {
                }
            } else if (read_head(*c, key, now)) {
                throw wrong_type("take");  // a live set, map or lock: left alone
            }
        }
        if (failure) std::rethrow_exception(failure);
        return live;
    }

    /// Whether a live row exists, of any kind.
    bool kv_exists(std::string_view key) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        detail::sqlite::cursor q(*c, sql::exists);
        q.blob(1, key).integer(2, now);
        return q.step("exists");
    }

    /// Deletes every row whose key starts with `prefix` (an index range scan);
    /// returns how many of them were live.
    std::uint64_t kv_del_prefix(std::string_view prefix) {
        const std::int64_t now = now_ms();
        const auto bound = detail::sqlite::prefix_successor(prefix);
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        // count, then delete, in one transaction: constant memory however many rows match
        detail::sqlite::write_transaction tx(*c, "erase_all");
        std::uint64_t live = 0;
        {
            detail::sqlite::cursor q(*c, bound ? sql::count_range : sql::count_from);
            q.blob(1, prefix).integer(3, now);
            if (bound) q.blob(2, *bound);
            if (q.step("erase_all")) live = static_cast<std::uint64_t>(q.column_int(0));
        }
        {
            detail::sqlite::cursor q(*c, bound ? sql::del_range : sql::del_from);
            q.blob(1, prefix);
            if (bound) q.blob(2, *bound);
            q.run("erase_all");
        }
        tx.commit("erase_all");
        return live;
    }

    // ---- CounterBackend -----------------------------------------------------

    /// Adds `by` and returns the new value, (re)applying `expiry` when non-zero.
    /// Missing and live integers take one UPSERT; decimal text is converted
    /// (as Redis INCRBY does) inside a BEGIN IMMEDIATE transaction.
    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
        const std::int64_t now = now_ms();
        const std::int64_t new_expiry = detail::sqlite::expires_at(now, expiry);
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        {
            // Missing or a live integer that does not overflow (and, with an
            // expiry, an expired integer): one statement.
            detail::sqlite::cursor q(*c, new_expiry > 0 ? sql::counter_add_expire : sql::counter_add);
            q.blob(1, key).integer(2, by).integer(3, new_expiry).integer(4, now);
            q.integer(5, std::numeric_limits<std::int64_t>::max()).integer(6, std::numeric_limits<std::int64_t>::min());
            if (q.step("increment")) {
                const std::int64_t result = q.column_int(0);
                while (q.step("increment")) {
                }
                return result;
            }
        }
        // The rest (decimal text, another kind, overflow, expired rows of other
        // kinds) needs a look at the row first.
        detail::sqlite::write_transaction tx(*c, "increment");
        const auto head = read_head(*c, key, now);
        std::int64_t current = 0;
        std::int64_t expires = new_expiry;
        if (head) {
            current = integer_of(*head, "increment");
            if (expires == 0) expires = head->expires_at;
        }
        std::int64_t result = 0;
        if (__builtin_add_overflow(current, by, &result))
            throw error(errc::invalid_argument, "increment would overflow a 64-bit counter");
        write_number(*c, key, result, expires, "increment");
        tx.commit("increment");
        return result;
    }

    /// The counter's value; 0 when missing or expired.
    std::int64_t counter_get(std::string_view key) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        const auto head = read_head(*c, key, now);
        return head ? integer_of(*head, "counter") : 0;
    }

    // ---- RateLimitBackend ---------------------------------------------------

    /// One rate_math::gcra_step on the stored arrival time, under BEGIN IMMEDIATE.
    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        detail::sqlite::write_transaction tx(*c, "check_rate");
        const auto head = read_head(*c, key, now);
        std::optional<std::int64_t> stored;
        if (head) stored = integer_of(*head, "check_rate");
        const auto outcome = rate_math::gcra_step(stored, now * 1000, params, cost);
        if (outcome.decision.allowed)
            write_number(*c, key, outcome.new_tat_us,
                         detail::sqlite::saturating_add(now, std::max<std::int64_t>(1, outcome.ttl.count())),
                         "check_rate");
        tx.commit("check_rate");
        return outcome.decision;
    }

    // ---- LockBackend --------------------------------------------------------

    /// Takes the lock unless another owner's live lease exists; returns the
    /// fencing token (max(previous + 1, now in microseconds); the owner taking
    /// its live lease again keeps its fence). One guarded UPSERT.
    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease) {
        const std::int64_t now = now_ms();
        const std::int64_t until = detail::sqlite::saturating_add(now, lease.count());
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        {
            detail::sqlite::cursor q(*c, sql::lock_take);
            q.blob(1, key).integer(2, now * 1000).blob(3, owner).integer(4, until);
            q.integer(5, detail::sqlite::saturating_add(until, config_.fence_retention.count())).integer(6, now);
            if (q.step("try_lock")) {
                const auto fence = static_cast<std::uint64_t>(q.column_int(0));
                while (q.step("try_lock")) {
                }
                return fence;
            }
        }
        // Not taken: a live lease, or a live value of another kind (as of that
        // statement; a concurrent change since is no different from losing the race).
        const auto head = read_head(*c, key, now);
        if (head && head->what != kind::lock) throw wrong_type("try_lock");
        return std::nullopt;
    }

    /// Ends `owner`'s live lease (the fencing state stays); false otherwise.
    /// The fence and the attempt are not needed here: a release's answer is never lost.
    bool lock_release(std::string_view key, std::string_view owner, std::uint64_t /*fence*/, release_attempt /*attempt*/) {
        if (owner.empty()) return false;
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        detail::sqlite::cursor q(*c, sql::lock_release);
        q.blob(1, key).blob(2, owner).integer(3, now);
        return q.run("release") == 1;
    }

    /// Renews `owner`'s live lease to `lease` from now; false otherwise.
    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        if (owner.empty()) return false;
        const std::int64_t now = now_ms();
        const std::int64_t until = detail::sqlite::saturating_add(now, lease.count());
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        detail::sqlite::cursor q(*c, sql::lock_extend);
        q.blob(1, key).blob(2, owner).integer(3, now).integer(4, until);
        q.integer(5, detail::sqlite::saturating_add(until, config_.fence_retention.count()));
        return q.run("extend") == 1;
    }

    // ---- LookupBackend ------------------------------------------------------

    /// Adds `member` to the set `key`; true when it was not there.
    bool set_add(std::string_view key, std::string_view member) {
        return with_container(key, kind::set, "lookup_add", true, [&](detail::sqlite::connection& c) {
            detail::sqlite::cursor q(c, sql::member_add);
            q.blob(1, key).blob(2, member);
            return q.run("lookup_add") == 1;
        });
    }

    /// Removes `member`; true when it was there. An emptied set disappears.
    bool set_remove(std::string_view key, std::string_view member) {
        return with_container(key, kind::set, "lookup_remove", false, [&](detail::sqlite::connection& c) {
            detail::sqlite::cursor q(c, sql::member_del);
            q.blob(1, key).blob(2, member);
            return q.run("lookup_remove") == 1;
        });
    }

    /// Whether `member` is in the set `key`.
    bool set_contains(std::string_view key, std::string_view member) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        detail::sqlite::cursor q(*c, sql::set_contains);
        q.blob(1, key).blob(2, member).integer(3, now);
        if (!q.step("lookup_contains")) return false;
        if (kind_of(q.column_int(0)) != kind::set) throw wrong_type("lookup_contains");
        return q.column_int(1) != 0;
    }

    /// Sets `field` of the map `key` to `value`.
    void map_set(std::string_view key, std::string_view field, std::string_view value) {
        with_container(key, kind::map, "lookup_set", true, [&](detail::sqlite::connection& c) {
            detail::sqlite::cursor q(c, sql::member_put);
            q.blob(1, key).blob(2, field).blob(3, value);
            q.run("lookup_set");
            return true;
        });
    }

    /// Hands the value of `field` to `sink`; false when absent.
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        detail::sqlite::cursor q(*c, sql::map_get);
        q.blob(1, key).blob(2, field).integer(3, now);
        if (!q.step("lookup_get")) return false;
        if (kind_of(q.column_int(0)) != kind::map) throw wrong_type("lookup_get");
        if (q.column_null(1)) return false;
        sink(q.column_bytes(1));
        return true;
    }

    /// Removes `field`; true when it was there. An emptied map disappears.
    bool map_remove(std::string_view key, std::string_view field) {
        return with_container(key, kind::map, "lookup_erase", false, [&](detail::sqlite::connection& c) {
            detail::sqlite::cursor q(c, sql::member_del);
            q.blob(1, key).blob(2, field);
            return q.run("lookup_erase") == 1;
        });
    }

    // ---- maintenance --------------------------------------------------------

    /// Deletes at most `purge_batch` expired rows in one transaction; returns
    /// how many. Walks the expiry index, so it costs the rows it deletes, not
    /// the table's size.
    std::size_t purge_step() {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        detail::sqlite::cursor q(*c, sql::purge);
        q.integer(1, now).integer(2, static_cast<std::int64_t>(config_.purge_batch));
        return static_cast<std::size_t>(q.run("purge"));
    }

    /// Deletes every row expired by now, one batch per transaction (other
    /// writers get the lock between batches); returns how many.
    std::size_t purge() {
        std::size_t total = 0;
        for (;;) {
            const std::size_t removed = purge_step();
            total += removed;
            if (removed < config_.purge_batch) return total;
        }
    }

    /// Rows in the entry table, expired ones not yet purged included.
    [[nodiscard]] std::uint64_t entry_count() { return count(sql::count_entries); }
    /// Members of all lookups (set members and map fields).
    [[nodiscard]] std::uint64_t member_count() { return count(sql::count_members); }
    /// Connections opened so far (at most max_connections).
    [[nodiscard]] std::size_t connection_count() const { return pool_.size(); }
    /// Background purges that failed (e.g. the file became unwritable); the
    /// thread keeps going and tries again at the next interval.
    [[nodiscard]] std::uint64_t purge_failures() const noexcept { return purge_failures_.load(); }
    /// The journal mode in effect: "wal" for files, "memory" for ":memory:".
    [[nodiscard]] std::string journal_mode() {
        auto c = pool_.acquire();
        return c->query_text("PRAGMA journal_mode", "journal_mode");
    }

private:
    using sql = detail::sqlite::sql;
    using kind = detail::sqlite::kind;

    /// What a read-modify-write needs to know about a live row.
    struct row_head {
        kind what = kind::bytes;
        std::int64_t number = 0;
        std::string owner;                      // locks only
        std::int64_t until_ms = 0;              // locks only
        std::int64_t expires_at = 0;
        std::optional<std::string> short_text;  // bytes of at most 64: maybe an integer
    };

    std::int64_t now_ms() const { return clock_.now().time_since_epoch().count(); }

    /// Refuses settings that cannot mean anything, before any file is touched.
    static sqlite_config validated(sqlite_config config) {
        const auto refuse = [&](const char* what) {
            throw error(errc::configuration, "sqlite database '" + config.path + "': sqlite_config." + what);
        };
        if (config.busy_timeout.count() < 0) refuse("busy_timeout must not be negative");
        if (config.purge_interval.count() < 0) refuse("purge_interval must not be negative");
        if (config.fence_retention.count() < 0) refuse("fence_retention must not be negative");
        return config;
    }

    static constexpr std::int64_t kind_code(kind k) noexcept { return static_cast<std::int64_t>(k); }
    static constexpr kind kind_of(std::int64_t code) noexcept { return static_cast<kind>(code); }

    static error wrong_type(std::string_view operation) {
        return error(errc::wrong_type, std::string(operation) + ": the key holds a value of another kind");
    }

    static std::optional<row_head> read_head(detail::sqlite::connection& c, std::string_view key, std::int64_t now) {
        detail::sqlite::cursor q(c, sql::head);
        q.blob(1, key).integer(2, now);
        if (!q.step("read")) return std::nullopt;
        row_head h;
        h.what = kind_of(q.column_int(0));
        h.number = q.column_int(1);
        if (h.what == kind::lock) h.owner.assign(q.column_bytes(2));
        h.until_ms = q.column_int(3);
        h.expires_at = q.column_int(4);
        if (h.what == kind::bytes && !q.column_null(5)) h.short_text.emplace(q.column_bytes(5));
        return h;
    }

    /// The row as a counter: integers as they are, decimal text parsed (as
    /// Redis INCR does), anything else a wrong_type error.
    static std::int64_t integer_of(const row_head& h, std::string_view operation) {
        if (h.what == kind::integer) return h.number;
        if (h.what != kind::bytes) throw wrong_type(operation);
        if (h.short_text)
            if (const auto parsed = detail::parse_decimal<std::int64_t>(*h.short_text)) return *parsed;
        throw error(errc::wrong_type, std::string(operation) + ": the value is not an integer");
    }

    static void write_number(detail::sqlite::connection& c, std::string_view key, std::int64_t number,
                             std::int64_t expires, std::string_view operation) {
        detail::sqlite::cursor q(c, sql::upsert);
        q.blob(1, key).integer(2, kind_code(kind::integer)).integer(4, number).integer(7, expires);
        q.run(operation);
    }

    /// Runs `body(connection)` on the set or map under `key` in one write
    /// transaction; creates it when `create`, answers false when it is missing
    /// otherwise, and drops it once its last member is gone (as Redis does).
    template <class F>
    bool with_container(std::string_view key, kind wanted, std::string_view operation, bool create, F&& body) {
        const std::int64_t now = now_ms();
        auto c = pool_.acquire();
        std::scoped_lock writer(write_mutex_);
        detail::sqlite::write_transaction tx(*c, operation);
        const auto head = read_head(*c, key, now);
        if (!head) {
            if (!create) {
                tx.commit(operation);
                return false;
            }
            detail::sqlite::cursor q(*c, sql::upsert);
            q.blob(1, key).integer(2, kind_code(wanted)).integer(7, 0);
            q.run(operation);
        } else if (head->what != wanted) {
            throw wrong_type(operation);
        }
        const bool result = body(*c);
        if (!create && result) {
            bool any = false;
            {
                detail::sqlite::cursor q(*c, sql::members_any);
                q.blob(1, key);
                any = q.step(operation) && q.column_int(0) != 0;
            }
            if (!any) {
                detail::sqlite::cursor q(*c, sql::entry_del);
                q.blob(1, key);
                q.run(operation);
            }
        }
        tx.commit(operation);
        return result;
    }

    std::uint64_t count(sql which) {
        auto c = pool_.acquire();
        detail::sqlite::cursor q(*c, which);
        return q.step("count") ? static_cast<std::uint64_t>(q.column_int(0)) : 0;
    }

    void purge_loop(std::stop_token stop) {
        std::mutex idle;
        std::condition_variable_any wake;
        std::unique_lock guard(idle);
        while (!stop.stop_requested()) {
            wake.wait_for(guard, stop, config_.purge_interval, [] { return false; });
            if (stop.stop_requested()) break;
            try {
                purge();
            } catch (...) {
                purge_failures_.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }

    sqlite_config config_;
    C clock_;
    detail::sqlite::connection_pool pool_;
    std::mutex write_mutex_;  // writers of this process queue here, not on SQLite's busy handler
    std::atomic<std::uint64_t> purge_failures_{0};
    std::jthread purger_;
    detail::extension_registry extensions_;
};

/// The SQLite backend on the system clock.
using sqlite = basic_sqlite<system_clock>;

static_assert(KeyValueBackend<sqlite> && PrefixEraseBackend<sqlite> && TakeBackend<sqlite> && CounterBackend<sqlite> && RateLimitBackend<sqlite> &&
              LockBackend<sqlite> && LookupBackend<sqlite>);

}  // namespace hotstate::backends
