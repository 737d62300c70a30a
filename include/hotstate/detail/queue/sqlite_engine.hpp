// The SQLite backend's job queues: one table in the backend's database file,
// one connection of their own (synchronous = FULL: a committed enqueue is on
// disk), every state change one BEGIN IMMEDIATE transaction, so threads and
// processes sharing the file agree. Blocked claims of this process wake on
// its enqueues at once; enqueues by other processes are seen within a second.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/detail/queue/claim_signal.hpp>
#include <hotstate/detail/queue/types.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::queue {

/// All queues of one SQLite database (states: 0 waiting, 1 delayed, 2 active, 3 dead).
class sqlite_engine {
public:
    explicit sqlite_engine(const std::string& path) {
        const std::string file = path.empty() ? ":memory:" : path;
        const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
        if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
            const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            db_ = nullptr;
            throw error(errc::storage, "hotstate: sqlite queue: cannot open the database: " + why);
        }
        sqlite3_busy_timeout(db_, 10000);
        exec("PRAGMA journal_mode = WAL");
        exec("PRAGMA synchronous = FULL");
        exec("CREATE TABLE IF NOT EXISTS hotstate_jobs (queue BLOB NOT NULL, id BLOB NOT NULL, payload BLOB NOT NULL, "
             "priority INTEGER NOT NULL, seq INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
             "state INTEGER NOT NULL, due INTEGER NOT NULL DEFAULT 0, owner BLOB NOT NULL DEFAULT x'', "
             "error BLOB NOT NULL DEFAULT x'', died INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (queue, id)) WITHOUT ROWID");
        exec("CREATE INDEX IF NOT EXISTS hotstate_jobs_order ON hotstate_jobs (queue, state, priority DESC, seq)");
        exec("CREATE INDEX IF NOT EXISTS hotstate_jobs_due ON hotstate_jobs (queue, state, due)");
    }
    sqlite_engine(const sqlite_engine&) = delete;
    sqlite_engine& operator=(const sqlite_engine&) = delete;
    ~sqlite_engine() { sqlite3_close(db_); }

    std::vector<bool> enqueue(std::string_view queue, std::span<const job_spec> specs, std::int64_t now_ms) {
        std::vector<bool> added;
        {
            std::scoped_lock guard(mutex_);
            transaction t(*this);
            std::int64_t seq = scalar("SELECT coalesce(max(seq), 0) FROM hotstate_jobs WHERE queue = ?1", {queue});
            for (const auto& s : specs) {
                statement st(*this, "INSERT INTO hotstate_jobs (queue, id, payload, priority, seq, state, due) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING");
                st.blob(1, queue).blob(2, s.id).blob(3, s.payload).integer(4, s.priority).integer(5, ++seq);
                st.integer(6, s.delay_ms > 0 ? 1 : 0).integer(7, s.delay_ms > 0 ? now_ms + s.delay_ms : 0);
                st.done();
                added.push_back(sqlite3_changes(db_) == 1);
            }
            t.commit();
        }
        signal_.notify();
        return added;
    }

    std::optional<raw_claim> claim(std::string_view queue, std::string_view owner, std::int64_t lease_ms,
                                   std::int64_t max_attempts, std::int64_t now_ms) {
        std::scoped_lock guard(mutex_);
        transaction t(*this);
        // due (a delay or a retry): the back of its priority, in due order
        run("UPDATE hotstate_jobs SET state = 0, seq = m.top + r.n "
            "FROM (SELECT id AS rid, row_number() OVER (ORDER BY due, seq) AS n FROM hotstate_jobs "
            "      WHERE queue = ?1 AND state = 1 AND due <= ?2) AS r, "
            "     (SELECT coalesce(max(seq), 0) AS top FROM hotstate_jobs WHERE queue = ?1) AS m "
            "WHERE hotstate_jobs.queue = ?1 AND hotstate_jobs.id = r.rid",
            queue, now_ms);
        {
            statement st(*this, "UPDATE hotstate_jobs SET state = 3, owner = x'', died = ?3, "
                                "error = 'lease expired on the last attempt (worker lost)' "
                                "WHERE queue = ?1 AND state = 2 AND due <= ?2 AND attempts >= ?4");
            st.blob(1, queue).integer(2, now_ms).integer(3, now_ms).integer(4, max_attempts).done();
        }
        run("UPDATE hotstate_jobs SET state = 0, owner = x'' WHERE queue = ?1 AND state = 2 AND due <= ?2", queue, now_ms);
        std::optional<raw_claim> out;
        {
            statement st(*this, "SELECT id, payload, attempts FROM hotstate_jobs WHERE queue = ?1 AND state = 0 "
                                "ORDER BY priority DESC, seq LIMIT 1");
            st.blob(1, queue);
            if (st.row()) out = raw_claim{st.text(0), st.text(1), st.column(2) + 1, now_ms + lease_ms};
        }
        if (out) {
            statement st(*this, "UPDATE hotstate_jobs SET state = 2, owner = ?3, attempts = attempts + 1, due = ?4 "
                                "WHERE queue = ?1 AND id = ?2");
            st.blob(1, queue).blob(2, out->id).blob(3, owner).integer(4, out->lease_until_ms).done();
        }
        t.commit();
        return out;
    }

    owner_check heartbeat(std::string_view queue, std::string_view id, std::string_view owner, std::int64_t lease_ms,
                          std::int64_t now_ms) {
        return owned(queue, id, owner, [&] {
            statement st(*this, "UPDATE hotstate_jobs SET due = ?3 WHERE queue = ?1 AND id = ?2");
            st.blob(1, queue).blob(2, id).integer(3, now_ms + lease_ms).done();
        });
    }

    owner_check ack(std::string_view queue, std::string_view id, std::string_view owner) {
        return owned(queue, id, owner, [&] {
            statement st(*this, "DELETE FROM hotstate_jobs WHERE queue = ?1 AND id = ?2");
            st.blob(1, queue).blob(2, id).done();
        });
    }

    owner_check fail(std::string_view queue, std::string_view id, std::string_view owner, std::string_view message,
                     std::optional<std::int64_t> retry_ms, std::int64_t now_ms) {
        return owned(queue, id, owner, [&] {
            statement st(*this, "UPDATE hotstate_jobs SET state = ?3, due = ?4, owner = x'', error = ?5, died = ?6 "
                                "WHERE queue = ?1 AND id = ?2");
            st.blob(1, queue).blob(2, id).integer(3, retry_ms ? 1 : 3).integer(4, retry_ms ? now_ms + *retry_ms : 0);
            st.blob(5, message).integer(6, now_ms).done();
        });
    }

    owner_check release(std::string_view queue, std::string_view id, std::string_view owner) {
        const auto result = owned(queue, id, owner, [&] {
            statement st(*this, "UPDATE hotstate_jobs SET state = 0, owner = x'', attempts = attempts - 1 "
                                "WHERE queue = ?1 AND id = ?2");
            st.blob(1, queue).blob(2, id).done();
        });
        wake_all();
        return result;
    }

    raw_counts counts(std::string_view queue) {
        std::scoped_lock guard(mutex_);
        raw_counts c;
        statement st(*this, "SELECT state, count(*) FROM hotstate_jobs WHERE queue = ?1 GROUP BY state");
        st.blob(1, queue);
        while (st.row()) {
            const auto n = static_cast<std::uint64_t>(st.column(1));
            switch (st.column(0)) {
                case 0: c.waiting = n; break;
                case 1: c.delayed = n; break;
                case 2: c.active = n; break;
                default: c.dead = n; break;
            }
        }
        return c;
    }

    std::vector<raw_dead> dead(std::string_view queue, std::size_t limit) {
        std::scoped_lock guard(mutex_);
        std::vector<raw_dead> out;
        statement st(*this, "SELECT id, payload, attempts, error FROM hotstate_jobs WHERE queue = ?1 AND state = 3 "
                            "ORDER BY died, seq LIMIT ?2");
        st.blob(1, queue).integer(2, static_cast<std::int64_t>(limit));
        while (st.row()) out.push_back({st.text(0), st.text(1), st.column(2), st.text(3)});
        return out;
    }

    std::uint64_t requeue_dead(std::string_view queue, std::optional<std::string_view> id) {
        std::uint64_t moved = 0;
        {
            std::scoped_lock guard(mutex_);
            // requeued: the back of its priority, in death order
            statement st(*this, id ? "UPDATE hotstate_jobs SET state = 0, attempts = 0, error = x'', seq = m.top + 1 "
                                     "FROM (SELECT coalesce(max(seq), 0) AS top FROM hotstate_jobs WHERE queue = ?1) AS m "
                                     "WHERE queue = ?1 AND state = 3 AND id = ?2"
                                   : "UPDATE hotstate_jobs SET state = 0, attempts = 0, error = x'', seq = m.top + r.n "
                                     "FROM (SELECT id AS rid, row_number() OVER (ORDER BY died, seq) AS n "
                                     "      FROM hotstate_jobs WHERE queue = ?1 AND state = 3) AS r, "
                                     "     (SELECT coalesce(max(seq), 0) AS top FROM hotstate_jobs WHERE queue = ?1) AS m "
                                     "WHERE hotstate_jobs.queue = ?1 AND hotstate_jobs.id = r.rid");
            st.blob(1, queue);
            if (id) st.blob(2, *id);
            st.done();
            moved = static_cast<std::uint64_t>(sqlite3_changes(db_));
        }
        signal_.notify();
        return moved;
    }

    std::uint64_t purge(std::string_view queue) {
        std::scoped_lock guard(mutex_);
        statement st(*this, "DELETE FROM hotstate_jobs WHERE queue = ?1");
        st.blob(1, queue).done();
        return static_cast<std::uint64_t>(sqlite3_changes(db_));
    }

    std::uint64_t generation() const { return signal_.generation(); }

    void wait(std::string_view, std::uint64_t seen, std::chrono::steady_clock::time_point until) const {
        signal_.wait(seen, until);
    }

    void wake_all() { signal_.notify(); }

private:
    [[noreturn]] void fail_sql(std::string_view what) const {
        const int code = sqlite3_errcode(db_) & 0xff;
        throw error(code == SQLITE_BUSY ? errc::timeout : errc::storage,
                    std::string("hotstate: sqlite queue: ").append(what).append(": ").append(sqlite3_errmsg(db_)));
    }

    void exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail_sql("setup");
    }

    class statement {
    public:
        statement(sqlite_engine& owner, const char* sql) : owner_(owner) {
            if (sqlite3_prepare_v2(owner.db_, sql, -1, &stmt_, nullptr) != SQLITE_OK) owner.fail_sql("prepare");
        }
        statement(const statement&) = delete;
        statement& operator=(const statement&) = delete;
        ~statement() { sqlite3_finalize(stmt_); }
        statement& blob(int i, std::string_view v) {
            sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
            return *this;
        }
        statement& integer(int i, std::int64_t v) {
            sqlite3_bind_int64(stmt_, i, v);
            return *this;
        }
        bool row() {
            const int rc = sqlite3_step(stmt_);
            if (rc == SQLITE_ROW) return true;
            if (rc != SQLITE_DONE) owner_.fail_sql("step");
            return false;
        }
        void done() {
            while (row()) {
            }
        }
        std::int64_t column(int i) const { return sqlite3_column_int64(stmt_, i); }
        std::string text(int i) const {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
            return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
        }

    private:
        sqlite_engine& owner_;
        sqlite3_stmt* stmt_ = nullptr;
    };

    class transaction {
    public:
        explicit transaction(sqlite_engine& owner) : owner_(owner) {
            if (sqlite3_exec(owner.db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
                owner.fail_sql("begin");
        }
        transaction(const transaction&) = delete;
        transaction& operator=(const transaction&) = delete;
        void commit() {
            if (sqlite3_exec(owner_.db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) owner_.fail_sql("commit");
            committed_ = true;
        }
        ~transaction() {
            if (!committed_) sqlite3_exec(owner_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
        }

    private:
        sqlite_engine& owner_;
        bool committed_ = false;
    };

    void run(const char* sql, std::string_view queue, std::int64_t now_ms) {
        statement st(*this, sql);
        st.blob(1, queue).integer(2, now_ms).done();
    }

    std::int64_t scalar(const char* sql, std::initializer_list<std::string_view> blobs) {
        statement st(*this, sql);
        int i = 1;
        for (auto b : blobs) st.blob(i++, b);
        return st.row() ? st.column(0) : 0;
    }

    template <class F>
    owner_check owned(std::string_view queue, std::string_view id, std::string_view owner, F&& change) {
        std::scoped_lock guard(mutex_);
        transaction t(*this);
        statement st(*this, "SELECT state, owner FROM hotstate_jobs WHERE queue = ?1 AND id = ?2");
        st.blob(1, queue).blob(2, id);
        if (!st.row()) return owner_check::missing;
        if (st.column(0) != 2 || st.text(1) != owner) return owner_check::not_owner;
        change();
        t.commit();
        return owner_check::ok;
    }

    sqlite3* db_ = nullptr;
    std::mutex mutex_;
    claim_signal signal_;
};

}  // namespace hotstate::detail::queue
