// hotstate/detail/sqlite/connection.hpp: RAII over sqlite3 for the SQLite backend.
//
// A connection owns its sqlite3 handle and every statement the backend runs,
// prepared once when it opens (SQLITE_PREPARE_PERSISTENT) and reused for the
// connection's lifetime. A small pool hands one connection to one thread at a
// time, so the handles are opened without SQLite's per-connection mutex.
// Opening the first connection also checks the file: a foreign or corrupt
// database is refused with an error that names the file, and is not modified.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include <hotstate/detail/sqlite/logic.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::sqlite {

/// What an entry row holds; stored in hotstate_entries.kind.
enum class kind : std::int64_t { bytes = 0, integer = 1, set = 2, map = 3, lock = 4 };

/// Every statement a connection prepares, in the order of `statement_text`.
enum class sql : std::uint8_t {
    begin,
    commit,
    rollback,
    upsert,
    get,
    exists,
    head,
    del,
    take,
    count_range,
    count_from,
    del_range,
    del_from,
    counter_add,
    counter_add_expire,
    lock_take,
    lock_release,
    lock_extend,
    set_contains,
    map_get,
    member_add,
    member_put,
    member_del,
    members_any,
    entry_del,
    purge,
    count_entries,
    count_members,
    count_  // number of statements
};

// Liveness test shared by every read: expired rows are invisible whether purged or not.
#define HOTSTATE_SQLITE_LIVE(now) "(expires_at = 0 OR expires_at > " now ")"

inline constexpr std::array<const char*, static_cast<std::size_t>(sql::count_)> statement_text = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    // upsert(key, kind, value, number, owner, until_ms, expires_at): replaces the row
    "INSERT INTO hotstate_entries(key, kind, value, number, owner, until_ms, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, "
    "value = excluded.value, number = excluded.number, owner = excluded.owner, "
    "until_ms = excluded.until_ms, expires_at = excluded.expires_at",
    // get(key, now)
    "SELECT kind, value, number FROM hotstate_entries WHERE key = ?1 AND " HOTSTATE_SQLITE_LIVE("?2"),
    // exists(key, now)
    "SELECT 1 FROM hotstate_entries WHERE key = ?1 AND " HOTSTATE_SQLITE_LIVE("?2"),
    // head(key, now): everything a read-modify-write needs, without loading large values
    "SELECT kind, number, owner, until_ms, expires_at, CASE WHEN kind = 0 AND length(value) <= 64 THEN value END "
    "FROM hotstate_entries WHERE key = ?1 AND " HOTSTATE_SQLITE_LIVE("?2"),
    // del(key, now): one row, tells whether it was live
    "DELETE FROM hotstate_entries WHERE key = ?1 RETURNING " HOTSTATE_SQLITE_LIVE("?2"),
    // take(key, now): deletes a bytes or integer row and returns it with its liveness;
    // a row of another kind stays (take of it is a wrong_type error, as get is)
    "DELETE FROM hotstate_entries WHERE key = ?1 AND kind IN (0, 1) RETURNING kind, value, number, "
    HOTSTATE_SQLITE_LIVE("?2"),
    // count_range(low, high, now): live rows under a prefix, as an index range
    "SELECT count(*) FROM hotstate_entries WHERE key >= ?1 AND key < ?2 AND " HOTSTATE_SQLITE_LIVE("?3"),
    // count_from(low, -, now): the same without an upper bound
    "SELECT count(*) FROM hotstate_entries WHERE key >= ?1 AND " HOTSTATE_SQLITE_LIVE("?3"),
    // del_range(low, high)
    "DELETE FROM hotstate_entries WHERE key >= ?1 AND key < ?2",
    // del_from(low)
    "DELETE FROM hotstate_entries WHERE key >= ?1",
    // counter_add(key, by, -, now, INT64_MAX, INT64_MIN): creates or adds to a live
    // integer in one statement, leaving its expiry alone: naming expires_at in the
    // SET would rewrite its index entry, one more page per commit. No row back:
    // expired, another kind, or the sum would overflow.
    "INSERT INTO hotstate_entries(key, kind, value, number, owner, until_ms, expires_at) "
    "VALUES (?1, 1, NULL, ?2, NULL, NULL, 0) ON CONFLICT(key) DO UPDATE SET number = number + ?2 "
    "WHERE kind = 1 AND " HOTSTATE_SQLITE_LIVE("?4") " AND "
    "CASE WHEN ?2 >= 0 THEN number <= ?5 - ?2 ELSE number >= ?6 - ?2 END RETURNING number",
    // counter_add_expire(key, by, new_expiry, now, INT64_MAX, INT64_MIN): creates,
    // restarts (expired) or adds to a live integer and sets the new expiry. No row
    // back: a row of another kind, or the sum would overflow.
    "INSERT INTO hotstate_entries(key, kind, value, number, owner, until_ms, expires_at) "
    "VALUES (?1, 1, NULL, ?2, NULL, NULL, ?3) ON CONFLICT(key) DO UPDATE SET "
    "number = CASE WHEN " HOTSTATE_SQLITE_LIVE("?4") " THEN number + ?2 ELSE ?2 END, expires_at = ?3 "
    "WHERE kind = 1 AND (NOT " HOTSTATE_SQLITE_LIVE("?4") " OR "
    "CASE WHEN ?2 >= 0 THEN number <= ?5 - ?2 ELSE number >= ?6 - ?2 END) RETURNING number",
    // lock_take(key, now_us, owner, until_ms, expires_at, now): takes a free lock in one
    // statement; fence = max(previous + 1, now_us) where a live lock state exists, else
    // now_us. The owner of a live lease taking it again (an acquire sent again after a
    // lost reply) gets it renewed and keeps its fence. No row back means another
    // owner's live lease or a live row of another kind.
    "INSERT INTO hotstate_entries(key, kind, value, number, owner, until_ms, expires_at) "
    "VALUES (?1, 4, NULL, ?2, ?3, ?4, ?5) ON CONFLICT(key) DO UPDATE SET kind = 4, value = NULL, "
    "number = CASE WHEN " HOTSTATE_SQLITE_LIVE("?6") " AND kind = 4 AND length(?3) > 0 AND owner = ?3 AND until_ms > ?6 "
    "THEN number WHEN " HOTSTATE_SQLITE_LIVE("?6") " THEN max(number + 1, ?2) ELSE ?2 END, "
    "owner = ?3, until_ms = ?4, expires_at = ?5 "
    "WHERE NOT " HOTSTATE_SQLITE_LIVE("?6") " OR (kind = 4 AND (owner IS NULL OR length(owner) = 0 OR until_ms <= ?6 "
    "OR (length(?3) > 0 AND owner = ?3))) "
    "RETURNING number",
    // lock_release(key, owner, now)
    "UPDATE hotstate_entries SET owner = NULL, until_ms = 0 WHERE key = ?1 AND kind = 4 AND owner = ?2 "
    "AND until_ms > ?3 AND " HOTSTATE_SQLITE_LIVE("?3"),
    // lock_extend(key, owner, now, until_ms, expires_at)
    "UPDATE hotstate_entries SET until_ms = ?4, expires_at = ?5 WHERE key = ?1 AND kind = 4 AND owner = ?2 "
    "AND until_ms > ?3 AND " HOTSTATE_SQLITE_LIVE("?3"),
    // set_contains(key, member, now)
    "SELECT kind, EXISTS (SELECT 1 FROM hotstate_members m WHERE m.key = ?1 AND m.member = ?2) "
    "FROM hotstate_entries WHERE key = ?1 AND " HOTSTATE_SQLITE_LIVE("?3"),
    // map_get(key, field, now): field values are never NULL, so NULL means absent
    "SELECT e.kind, m.value FROM hotstate_entries e LEFT JOIN hotstate_members m "
    "ON m.key = e.key AND m.member = ?2 WHERE e.key = ?1 AND (e.expires_at = 0 OR e.expires_at > ?3)",
    // member_add(key, member, value)
    "INSERT INTO hotstate_members(key, member, value) VALUES (?1, ?2, ?3) ON CONFLICT(key, member) DO NOTHING",
    // member_put(key, member, value)
    "INSERT INTO hotstate_members(key, member, value) VALUES (?1, ?2, ?3) "
    "ON CONFLICT(key, member) DO UPDATE SET value = excluded.value",
    // member_del(key, member)
    "DELETE FROM hotstate_members WHERE key = ?1 AND member = ?2",
    // members_any(key)
    "SELECT EXISTS (SELECT 1 FROM hotstate_members WHERE key = ?1)",
    // entry_del(key)
    "DELETE FROM hotstate_entries WHERE key = ?1",
    // purge(now, batch): walks the partial expiry index, never the whole table
    "DELETE FROM hotstate_entries WHERE key IN (SELECT key FROM hotstate_entries "
    "WHERE expires_at > 0 AND expires_at <= ?1 LIMIT ?2)",
    "SELECT count(*) FROM hotstate_entries",
    "SELECT count(*) FROM hotstate_members",
};

#undef HOTSTATE_SQLITE_LIVE

/// Schema version 1. Containers (kinds 2 and 3) keep their members in
/// hotstate_members; triggers drop the members with the entry, so purge,
/// delete-by-prefix and overwrites never leave orphans behind.
inline constexpr const char* schema_sql =
    "CREATE TABLE hotstate_entries ("
    "  key BLOB NOT NULL PRIMARY KEY,"
    "  kind INTEGER NOT NULL,"
    "  value BLOB,"
    "  number INTEGER,"
    "  owner BLOB,"
    "  until_ms INTEGER,"
    "  expires_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX hotstate_entries_expiry ON hotstate_entries(expires_at) WHERE expires_at > 0;"
    "CREATE TABLE hotstate_members ("
    "  key BLOB NOT NULL,"
    "  member BLOB NOT NULL,"
    "  value BLOB,"
    "  PRIMARY KEY (key, member)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER hotstate_entries_drop_members AFTER DELETE ON hotstate_entries "
    "WHEN old.kind IN (2, 3) BEGIN DELETE FROM hotstate_members WHERE key = old.key; END;"
    "CREATE TRIGGER hotstate_entries_retype AFTER UPDATE OF kind ON hotstate_entries "
    "WHEN old.kind IN (2, 3) AND new.kind <> old.kind BEGIN DELETE FROM hotstate_members WHERE key = old.key; END;";

/// How connections open the file; fixed for the backend's lifetime.
struct connection_settings {
    std::string path;
    std::chrono::milliseconds busy_timeout{5000};
    bool sync_every_commit = false;
    bool check_on_open = true;
    std::size_t max_connections = 8;

    [[nodiscard]] bool in_memory() const noexcept { return path == ":memory:" || path.empty(); }
};

/// One sqlite3 handle and its prepared statements; used by one thread at a time.
class connection {
public:
    /// Opens `settings.path`; the `bootstrap` connection also checks the file
    /// and creates the schema in a new one.
    connection(const connection_settings& settings, bool bootstrap) : settings_(&settings) {
        const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
        const int rc = sqlite3_open_v2(settings.in_memory() ? ":memory:" : settings.path.c_str(), &db_, flags, nullptr);
        if (rc != SQLITE_OK) {
            const std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
            sqlite3_close_v2(db_);
            db_ = nullptr;
            throw error(errc_of(rc & 0xff), where() + ": cannot open: " + reason);
        }
        try {
            sqlite3_busy_handler(db_, &connection::on_busy, this);
            // Some waits never reach the busy handler: switching a new file to WAL
            // while others read it, another connection's WAL recovery or its
            // clean-up as the last one to close. Opening retries them itself.
            retry_while_busy([&] {
                if (bootstrap) check_and_create();
                exec(settings.sync_every_commit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                     "open: settings");
                // the WAL file is reused after each checkpoint; this caps what a burst leaves behind on disk
                exec("PRAGMA journal_size_limit = 16777216", "open: settings");
                prepare_all();
            });
            handler_gave_up_ = false;
        } catch (...) {
            close();
            throw;
        }
    }

    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() { close(); }

    /// The raw handle, for sqlite3_* calls on this connection.
    [[nodiscard]] sqlite3* handle() const noexcept { return db_; }
    /// The prepared statement `which`, reused for the connection's lifetime.
    [[nodiscard]] sqlite3_stmt* statement(sql which) const noexcept { return statements_[static_cast<std::size_t>(which)]; }

    /// "sqlite database '<path>'": how every message names the file.
    [[nodiscard]] std::string where() const { return "sqlite database '" + settings_->path + "'"; }

    /// Throws the hotstate::error for result code `rc` of `operation`.
    [[noreturn]] void fail(int rc, std::string_view operation) const {
        const int primary = rc & 0xff;
        std::string message = where();
        message.append(": ").append(operation).append(": ");
        if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
            message += "the database stayed locked by another connection for the whole busy_timeout of " +
                       std::to_string(settings_->busy_timeout.count()) + " ms";
        } else if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
            message += "the file is corrupt or is not a SQLite database (";
            message += sqlite3_errmsg(db_);
            message += ')';
        } else {
            message += sqlite3_errmsg(db_);
        }
        throw error(errc_of(primary), message);
    }

    /// Runs SQL without results (pragmas, schema).
    void exec(const char* text, std::string_view operation) {
        const int rc = sqlite3_exec(db_, text, nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) fail(rc, operation);
    }

    /// The first column of the first row of `text` as text ("" when none).
    std::string query_text(const char* text, std::string_view operation) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v2(db_, text, -1, &stmt, nullptr);
        if (rc != SQLITE_OK) fail(rc, operation);
        std::string result;
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            if (const auto* chars = sqlite3_column_text(stmt, 0)) result = reinterpret_cast<const char*>(chars);
            rc = SQLITE_DONE;
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_DONE) fail(rc, operation);
        return result;
    }

    /// Backs off before retry number `attempt` while another connection holds a lock.
    static void pause(int attempt) {
        const auto wait = busy_backoff(attempt);
        if (wait.count() == 0)
            std::this_thread::yield();
        else
            std::this_thread::sleep_for(wait);  // backoff while another process writes
    }

    /// Whether statements run outside an explicit transaction (each one its own).
    [[nodiscard]] bool autocommit() const noexcept { return sqlite3_get_autocommit(db_) != 0; }
    /// How long a statement may wait for another connection's lock.
    [[nodiscard]] std::chrono::milliseconds busy_timeout() const noexcept { return settings_->busy_timeout; }
    /// Whether the busy handler has waited out busy_timeout since last asked (and forgets it).
    bool take_gave_up() noexcept { return std::exchange(handler_gave_up_, false); }

private:
    static int on_busy(void* self, int attempt) noexcept {
        auto& c = *static_cast<connection*>(self);
        const auto now = std::chrono::steady_clock::now();
        if (attempt == 0) c.busy_since_ = now;
        if (now - c.busy_since_ >= c.settings_->busy_timeout) {
            c.handler_gave_up_ = true;
            return 0;
        }
        pause(attempt);
        return 1;
    }

    schema_state read_schema_state() {
        // One statement, so one snapshot: read separately, the three could
        // straddle another process's schema creation. The first read of a
        // file that is not a database fails here with SQLITE_NOTADB.
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v2(db_,
                                    "SELECT (SELECT application_id FROM pragma_application_id), "
                                    "(SELECT user_version FROM pragma_user_version), "
                                    "(SELECT count(*) FROM sqlite_schema)",
                                    -1, &stmt, nullptr);
        if (rc != SQLITE_OK) fail(rc, "open: read the header");
        rc = sqlite3_step(stmt);
        schema_state state = schema_state::foreign;
        if (rc == SQLITE_ROW) {
            state = classify_schema(sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                                    sqlite3_column_int64(stmt, 2));
            rc = SQLITE_DONE;
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_DONE) fail(rc, "open: read the header");
        return state;
    }

    /// Runs `body` again while it fails with errc::timeout, until busy_timeout.
    template <class F>
    void retry_while_busy(F&& body) {
        const auto deadline = std::chrono::steady_clock::now() + settings_->busy_timeout;
        for (int attempt = 0;; ++attempt) {
            try {
                body();
                return;
            } catch (const error& failure) {
                if (failure.kind() != errc::timeout || std::chrono::steady_clock::now() >= deadline) throw;
            }
            pause(attempt);
        }
    }

    void refuse(schema_state state) const {
        if (state == schema_state::newer)
            throw error(errc::configuration,
                        where() + ": written by a newer hotstate (schema version above " +
                            std::to_string(schema_version) + "); refusing to open it");
        if (state == schema_state::foreign)
            throw error(errc::configuration, where() +
                                                 ": is a SQLite database of another application (no hotstate "
                                                 "schema); refusing to use or modify it");
    }

    void check_and_create() {
        schema_state state = read_schema_state();
        refuse(state);
        if (state == schema_state::current && settings_->check_on_open) {
            const std::string verdict = query_text("PRAGMA quick_check", "open: integrity check");
            if (verdict != "ok")
                throw error(errc::storage, where() + ": open: the file is corrupt (quick_check: " + verdict + ")");
        }
        if (!settings_->in_memory() && query_text("PRAGMA journal_mode", "open: journal mode") != "wal") {
            if (query_text("PRAGMA journal_mode = WAL", "open: switch to WAL") != "wal")
                throw error(errc::storage, where() + ": open: cannot switch to write-ahead logging (WAL)");
        }
        if (state != schema_state::empty) return;
        // Another process may be creating the schema right now: decide again
        // under the write lock.
        exec("BEGIN IMMEDIATE", "create schema");
        try {
            state = read_schema_state();
            refuse(state);
            if (state == schema_state::empty) {
                exec(schema_sql, "create schema");
                exec(("PRAGMA application_id = " + std::to_string(application_id)).c_str(), "create schema");
                exec(("PRAGMA user_version = " + std::to_string(schema_version)).c_str(), "create schema");
            }
            exec("COMMIT", "create schema");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    void prepare_all() {
        for (std::size_t i = 0; i < statements_.size(); ++i) {
            if (statements_[i] != nullptr) continue;  // prepared before a retry
            const int rc = sqlite3_prepare_v3(db_, statement_text[i], -1, SQLITE_PREPARE_PERSISTENT, &statements_[i],
                                              nullptr);
            if (rc != SQLITE_OK) fail(rc, "prepare");
        }
    }

    void close() noexcept {
        for (auto*& stmt : statements_) {
            sqlite3_finalize(stmt);
            stmt = nullptr;
        }
        if (db_ != nullptr) sqlite3_close_v2(db_);
        db_ = nullptr;
    }

    const connection_settings* settings_;
    sqlite3* db_ = nullptr;
    std::array<sqlite3_stmt*, static_cast<std::size_t>(sql::count_)> statements_{};
    std::chrono::steady_clock::time_point busy_since_{};
    bool handler_gave_up_ = false;
};

/// One use of a prepared statement: bind, step, read columns; resets the
/// statement and clears its bindings when it goes out of scope, so borrowed
/// bytes (SQLITE_STATIC) are never referenced after the call.
class cursor {
public:
    cursor(connection& c, sql which) noexcept : connection_(c), stmt_(c.statement(which)) {}
    cursor(const cursor&) = delete;
    cursor& operator=(const cursor&) = delete;
    ~cursor() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    /// Binds bytes as a BLOB (never NULL, even when empty), so keys compare as memcmp.
    cursor& blob(int index, std::string_view bytes) {
        static constexpr char none = 0;
        check(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &none : bytes.data(), bytes.size(), SQLITE_STATIC));
        return *this;
    }
    cursor& integer(int index, std::int64_t value) {
        check(sqlite3_bind_int64(stmt_, index, value));
        return *this;
    }

    /// Steps once: true with a row, false when done; throws on errors.
    bool step(std::string_view operation) {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        if ((rc & 0xff) == SQLITE_BUSY && !connection_.take_gave_up() && connection_.autocommit()) rc = retry_busy();
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        connection_.fail(rc, operation);
    }

    /// Steps to completion; returns the rows changed (triggers not counted).
    std::int64_t run(std::string_view operation) {
        while (step(operation)) {
        }
        return sqlite3_changes64(connection_.handle());
    }

    [[nodiscard]] std::int64_t column_int(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }
    [[nodiscard]] bool column_null(int column) const noexcept {
        return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
    }
    [[nodiscard]] std::string_view column_bytes(int column) const noexcept {
        const void* data = sqlite3_column_blob(stmt_, column);
        const int size = sqlite3_column_bytes(stmt_, column);
        if (data == nullptr || size <= 0) return {};
        return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
    }

private:
    void check(int rc) const {
        if (rc != SQLITE_OK) connection_.fail(rc, "bind");
    }

    /// SQLITE_BUSY that skipped the busy handler (another connection's WAL
    /// recovery or last-close clean-up): a statement outside a transaction
    /// had no effect, so run it again until busy_timeout.
    int retry_busy() {
        const auto deadline = std::chrono::steady_clock::now() + connection_.busy_timeout();
        int rc = SQLITE_BUSY;
        for (int attempt = 0; (rc & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline; ++attempt) {
            sqlite3_reset(stmt_);
            connection::pause(attempt);
            rc = sqlite3_step(stmt_);
        }
        (void)connection_.take_gave_up();
        return rc;
    }

    connection& connection_;
    sqlite3_stmt* stmt_;
};

/// BEGIN IMMEDIATE ... COMMIT: takes the database's write lock up front, so a
/// read-modify-write can never be overtaken between its read and its write,
/// neither by a thread nor by another process. Rolls back unless committed.
class write_transaction {
public:
    write_transaction(connection& c, std::string_view operation) : connection_(c) {
        cursor(c, sql::begin).step(operation);
    }
    write_transaction(const write_transaction&) = delete;
    write_transaction& operator=(const write_transaction&) = delete;
    ~write_transaction() {
        if (!open_) return;
        try {
            cursor(connection_, sql::rollback).step("rollback");
        } catch (...) {
            // SQLite may have rolled back already (it does after I/O errors); nothing left to undo
        }
    }
    void commit(std::string_view operation) {
        cursor(connection_, sql::commit).step(operation);
        open_ = false;
    }

private:
    connection& connection_;
    bool open_ = true;
};

/// Connections for the threads of one process: a thread borrows one per
/// operation. Grows up to max_connections, then makes threads wait; a
/// ":memory:" database is private to its connection, so it has exactly one.
class connection_pool {
public:
    explicit connection_pool(connection_settings settings) : settings_(std::move(settings)) {
        if (settings_.in_memory()) settings_.max_connections = 1;
        if (settings_.max_connections == 0) settings_.max_connections = 1;
        idle_.reserve(settings_.max_connections);
        idle_.push_back(std::make_unique<connection>(settings_, true));
        total_ = 1;
    }

    connection_pool(const connection_pool&) = delete;
    connection_pool& operator=(const connection_pool&) = delete;

    /// A borrowed connection, returned to the pool when destroyed.
    class lease {
    public:
        lease(connection_pool& pool, std::unique_ptr<connection> c) noexcept : pool_(&pool), connection_(std::move(c)) {}
        lease(lease&& other) noexcept = default;
        lease& operator=(lease&&) = delete;
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease() {
            if (connection_) pool_->give_back(std::move(connection_));
        }
        connection& operator*() const noexcept { return *connection_; }
        connection* operator->() const noexcept { return connection_.get(); }

    private:
        connection_pool* pool_;
        std::unique_ptr<connection> connection_;
    };

    lease acquire() {
        std::unique_lock guard(mutex_);
        for (;;) {
            if (!idle_.empty()) {
                auto c = std::move(idle_.back());
                idle_.pop_back();
                return lease(*this, std::move(c));
            }
            if (total_ < settings_.max_connections) break;
            available_.wait(guard);
        }
        ++total_;
        guard.unlock();
        try {
            return lease(*this, std::make_unique<connection>(settings_, false));
        } catch (...) {
            guard.lock();
            --total_;
            available_.notify_one();
            throw;
        }
    }

    [[nodiscard]] const connection_settings& settings() const noexcept { return settings_; }

    /// Connections opened so far.
    [[nodiscard]] std::size_t size() const {
        std::scoped_lock guard(mutex_);
        return total_;
    }

private:
    void give_back(std::unique_ptr<connection> c) noexcept {
        {
            std::scoped_lock guard(mutex_);
            idle_.push_back(std::move(c));  // capacity reserved: never grows past total_
        }
        available_.notify_one();
    }

    connection_settings settings_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::size_t total_ = 0;
};

}  // namespace hotstate::detail::sqlite
