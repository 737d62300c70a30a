// Behaviour particular to the SQLite backend: schema and file checks, purge,
// persistence, typed errors, lock contention and threads.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <hotstate/backends/sqlite.hpp>
#include <hotstate/store.hpp>

#include "sqlite/sqlite_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using hotstate::testing::eventually;
using namespace sqlite_test;
using hotstate::backends::sqlite_config;

namespace {

/// A plain sqlite3 handle on the same file, to look at or tamper with it from outside.
class raw_db {
public:
    explicit raw_db(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
            FAIL("cannot open " << path);
    }
    raw_db(const raw_db&) = delete;
    raw_db& operator=(const raw_db&) = delete;
    ~raw_db() { sqlite3_close_v2(db_); }

    void exec(const std::string& sql) {
        char* message = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
        const std::string text = message != nullptr ? message : "";
        sqlite3_free(message);
        if (rc != SQLITE_OK) FAIL("sql failed: " << sql << ": " << text);
    }
    /// Every row of `sql`, columns joined by '|', rows by '\n'.
    std::string query(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) FAIL("prepare failed: " << sql);
        std::string out;
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            if (!out.empty()) out += '\n';
            for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
                if (i > 0) out += '|';
                if (const auto* t = sqlite3_column_text(stmt, i)) out += reinterpret_cast<const char*>(t);
            }
        }
        sqlite3_finalize(stmt);
        return out;
    }

private:
    sqlite3* db_ = nullptr;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& bytes, std::streamoff at = 0) {
    std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
    if (!out) out.open(path, std::ios::binary | std::ios::out);
    out.seekp(at);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string garbage(std::size_t size, unsigned seed) {
    std::string bytes(size, '\0');
    for (auto& b : bytes) {
        seed = seed * 1103515245u + 12345u;
        b = static_cast<char>(seed >> 16);
    }
    return bytes;
}

auto kind_is(hotstate::errc expected) {
    return Catch::Matchers::Predicate<hotstate::error>(
        [expected](const hotstate::error& e) { return e.kind() == expected; }, "error kind matches");
}

}  // namespace

TEST_CASE("sqlite: a new file gets WAL, a versioned schema, and purge walks the expiry index", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("state.db");
    {
        manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{});
        CHECK(s.backend().journal_mode() == "wal");
        s.set<text>("k", "v");
    }
    raw_db raw(path);
    CHECK(raw.query("PRAGMA application_id") == std::to_string(hotstate::detail::sqlite::application_id));
    CHECK(raw.query("PRAGMA user_version") == std::to_string(hotstate::detail::sqlite::schema_version));
    CHECK(raw.query("PRAGMA journal_mode") == "wal");
    // the purge's inner query: a range scan of the partial expiry index, not a table scan
    const std::string plan =
        raw.query("EXPLAIN QUERY PLAN SELECT key FROM hotstate_entries WHERE expires_at > 0 AND expires_at <= 5 LIMIT 10");
    CHECK_THAT(plan, Catch::Contains("hotstate_entries_expiry"));
    CHECK_THAT(plan, !Catch::Contains("SCAN hotstate_entries"));
}

TEST_CASE("sqlite: expired rows are invisible at once and purged in bounded batches", "[sqlite]") {
    temp_dir dir;
    hotstate::manual_clock clock;
    manual_store s(sqlite_config{.path = dir.file("state.db"), .purge_batch = 100}, clock);
    for (int i = 0; i < 1000; ++i) s.set<text>("k" + std::to_string(i), "v", 1s);
    for (int i = 0; i < 10; ++i) s.set<text>("keep" + std::to_string(i), "v");
    (void)s.increment<hits>("counted", 1, 1s);
    CHECK(s.backend().entry_count() == 1011);

    clock.advance(1s);
    // invisible before any purge
    CHECK_FALSE(s.exists<text>("k5"));
    CHECK_FALSE(s.get<text>("k999").has_value());
    CHECK(s.counter<hits>("counted") == 0);
    CHECK(s.backend().entry_count() == 1011);

    CHECK(s.backend().purge_step() == 100);  // one batch, no more
    CHECK(s.backend().entry_count() == 911);
    CHECK(s.backend().purge() == 901);
    CHECK(s.backend().entry_count() == 10);
    CHECK(s.get<text>("keep3") == "v");
    CHECK(s.backend().purge() == 0);
}

TEST_CASE("sqlite: purge keeps the table bounded over 100,000 short-lived keys", "[sqlite]") {
    temp_dir dir;
    hotstate::manual_clock clock;
    manual_store s(sqlite_config{.path = dir.file("state.db"), .purge_batch = 500}, clock);
    s.set<text>("permanent", "v");
    // A steady stream: one key per millisecond, each living one second, so
    // about 1000 are live at any time; a purge every 250 keys.
    constexpr int total = 100000;
    std::uint64_t largest = 0;
    for (int i = 0; i < total; ++i) {
        s.set<text>("session:" + std::to_string(i), "payload", 1s);
        clock.advance(1ms);
        if (i % 250 == 249) {
            s.backend().purge();
            largest = std::max(largest, s.backend().entry_count());
        }
    }
    INFO("largest table seen: " << largest);
    CHECK(largest <= 1001 + 250);  // live keys + one purge interval, never the stream's length
    // freed pages are reused, so the file stays the size of the live set (100,000 rows would need megabytes)
    const auto file_size = std::filesystem::file_size(dir.file("state.db"));
    INFO("database file: " << file_size << " bytes");
    CHECK(file_size < 512 * 1024);
    CHECK(s.exists<text>("session:99999"));
    clock.advance(1s);
    s.backend().purge();
    CHECK(s.backend().entry_count() == 1);
    CHECK(s.get<text>("permanent") == "v");
}

TEST_CASE("sqlite: the background purge runs on its schedule and stops promptly", "[sqlite]") {
    temp_dir dir;
    hotstate::manual_clock clock;
    {
        manual_store s(sqlite_config{.path = dir.file("state.db"), .purge_interval = 1ms}, clock);
        for (int i = 0; i < 500; ++i) s.set<text>("k" + std::to_string(i), "v", 1s);
        s.set<text>("keep", "v");
        clock.advance(5s);
        CHECK(eventually([&] { return s.backend().entry_count() == 1; }));
        CHECK(s.backend().purge_failures() == 0);
    }
    // A long schedule must not delay shutdown by its interval.
    const auto start = std::chrono::steady_clock::now();
    {
        manual_store s(sqlite_config{.path = dir.file("state.db"), .purge_interval = 1h}, clock);
        CHECK(s.get<text>("keep") == "v");
    }
    CHECK(std::chrono::steady_clock::now() - start < 30s);
}

TEST_CASE("sqlite: data survives closing and reopening the file", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("state.db");
    hotstate::manual_clock clock;
    std::uint64_t fence = 0;
    {
        manual_store s(sqlite_config{.path = path}, clock);
        s.set<text>("forever", "kept");
        s.set<text>("brief", "gone soon", 1min);
        s.set<text>(std::string("bin\0\xff", 5), std::string("\0\x01", 2));
        (void)s.increment<hits>("logins", 41);
        (void)s.increment<hits>("logins");
        (void)s.lookup_add<domains>("blocked", "spam.example");
        s.lookup_set<domains>("redirect", "t.co", "twitter");
        auto held = s.try_lock<guard>("job", 1h);
        REQUIRE(held.has_value());
        fence = held->fencing_token();
    }
    {
        manual_store s(sqlite_config{.path = path}, clock);
        CHECK(s.get<text>("forever") == "kept");
        CHECK(s.get<text>("brief") == "gone soon");
        CHECK(s.get<text>(std::string("bin\0\xff", 5)) == std::string("\0\x01", 2));
        CHECK(s.counter<hits>("logins") == 42);
        CHECK(s.lookup_contains<domains>("blocked", "spam.example"));
        CHECK(s.lookup_get<domains>("redirect", "t.co") == "twitter");
        // the fencing state outlived the close (same clock time): the next token is larger
        auto next = s.try_lock<guard>("job", 1h);
        REQUIRE(next.has_value());
        CHECK(next->fencing_token() > fence);
        // and expiry times were stored as absolute times
        clock.advance(1min);
        CHECK_FALSE(s.exists<text>("brief"));
        CHECK(s.exists<text>("forever"));
    }
}

TEST_CASE("sqlite: a file that is not a database is refused with an error naming it", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("garbage.db");
    const std::string bytes = garbage(8192, 7);
    write_file(path, bytes);
    try {
        manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{});
        FAIL("opening garbage must throw");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::storage);
        CHECK_THAT(e.what(), Catch::Contains(path));
        CHECK_THAT(e.what(), Catch::Contains("not a SQLite database"));
    }
    CHECK(read_file(path) == bytes);  // and it was not modified
}

TEST_CASE("sqlite: another application's database is refused and left untouched", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("app.db");
    {
        raw_db raw(path);
        raw.exec("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'alice')");
    }
    CHECK_THROWS_MATCHES(manual_store(sqlite_config{.path = path}, hotstate::manual_clock{}), hotstate::error,
                         kind_is(hotstate::errc::configuration));
    try {
        manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{});
    } catch (const hotstate::error& e) {
        CHECK_THAT(e.what(), Catch::Contains(path));
        CHECK_THAT(e.what(), Catch::Contains("another application"));
    }
    raw_db raw(path);
    CHECK(raw.query("SELECT name FROM sqlite_schema ORDER BY name") == "users");
    CHECK(raw.query("SELECT name FROM users") == "alice");
    CHECK(raw.query("PRAGMA journal_mode") == "delete");
}

TEST_CASE("sqlite: a database from a newer hotstate is refused", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("state.db");
    { manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{}); }
    { raw_db(path).exec("PRAGMA user_version = 99"); }
    try {
        manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{});
        FAIL("a newer schema must be refused");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::configuration);
        CHECK_THAT(e.what(), Catch::Contains(path));
        CHECK_THAT(e.what(), Catch::Contains("newer"));
    }
}

TEST_CASE("sqlite: a damaged hotstate file gives storage errors, never a crash", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("state.db");
    {
        manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{});
        for (int i = 0; i < 200; ++i) s.set<text>("k" + std::to_string(i), std::string(100, 'x'));
    }
    const auto size = read_file(path).size();
    REQUIRE(size > 8192);
    write_file(path, garbage(size - 4096, 11), 4096);  // keep page 1 (header, schema), wreck the rest

    SECTION("checked on open") {
        try {
            manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{});
            FAIL("a damaged file must be refused");
        } catch (const hotstate::error& e) {
            CHECK(e.kind() == hotstate::errc::storage);
            CHECK_THAT(e.what(), Catch::Contains(path));
        }
    }
    SECTION("unchecked: the first query meeting the damage fails with a typed error") {
        manual_store s(sqlite_config{.path = path, .check_on_open = false}, hotstate::manual_clock{});
        CHECK_THROWS_MATCHES(s.get<text>("k1"), hotstate::error, kind_is(hotstate::errc::storage));
        CHECK_THROWS_AS(s.set<text>("k1", "v"), hotstate::error);
        CHECK_THROWS_AS(s.increment<hits>("c"), hotstate::error);
    }
}

TEST_CASE("sqlite: a file that cannot be opened names itself", "[sqlite]") {
    const std::string path = "/nonexistent-hotstate-dir/sub/state.db";
    try {
        manual_store s(sqlite_config{.path = path}, hotstate::manual_clock{});
        FAIL("opening in a missing directory must throw");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::storage);
        CHECK_THAT(e.what(), Catch::Contains(path));
    }
}

TEST_CASE("sqlite: meaningless settings are refused before the file is touched", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("never.db");
    CHECK_THROWS_MATCHES(manual_store(sqlite_config{.path = path, .busy_timeout = -1ms}, hotstate::manual_clock{}),
                         hotstate::error, kind_is(hotstate::errc::configuration));
    CHECK_THROWS_MATCHES(manual_store(sqlite_config{.path = path, .fence_retention = -1s}, hotstate::manual_clock{}),
                         hotstate::error, kind_is(hotstate::errc::configuration));
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("sqlite: another process holding the write lock: reads go on, writes time out", "[sqlite]") {
    temp_dir dir;
    const std::string path = dir.file("state.db");
    manual_store s(sqlite_config{.path = path, .busy_timeout = 100ms}, hotstate::manual_clock{});
    s.set<text>("k", "before");
    raw_db other(path);
    other.exec("BEGIN IMMEDIATE");
    CHECK(s.get<text>("k") == "before");  // WAL: readers never wait for the writer
    try {
        s.set<text>("k", "during");
        FAIL("a write must not get through a held write lock");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::timeout);
        CHECK_THAT(e.what(), Catch::Contains(path));
        CHECK_THAT(e.what(), Catch::Contains("text"));  // the category
        CHECK_THAT(e.what(), Catch::Contains("100 ms"));
    }
    CHECK_THROWS_MATCHES(s.increment<hits>("c"), hotstate::error, kind_is(hotstate::errc::timeout));
    CHECK_THROWS_MATCHES(s.try_lock<guard>("g", 1min), hotstate::error, kind_is(hotstate::errc::timeout));
    other.exec("COMMIT");
    s.set<text>("k", "after");
    CHECK(s.get<text>("k") == "after");
    CHECK(s.increment<hits>("c") == 1);
}

TEST_CASE("sqlite: a key holding another kind of value is a typed error", "[sqlite]") {
    hotstate::manual_clock clock;
    manual_store s(sqlite_config{}, clock);
    auto& b = s.backend();
    const auto wrong = kind_is(hotstate::errc::wrong_type);

    (void)s.lookup_add<text>("ns", "member");
    CHECK_THROWS_MATCHES(s.get<text>("ns"), hotstate::error, wrong);
    CHECK_THROWS_MATCHES(s.lookup_get<text>("ns", "member"), hotstate::error, wrong);
    CHECK_THROWS_MATCHES(s.try_lock<text>("ns", 1min), hotstate::error, wrong);
    CHECK_THROWS_MATCHES(b.counter_incr(hotstate::encode_key<text>("ns"), 1, 0ms), hotstate::error, wrong);

    s.lookup_set<text>("map", "f", "v");
    CHECK_THROWS_MATCHES(s.lookup_contains<text>("map", "f"), hotstate::error, wrong);
    CHECK_THROWS_MATCHES(s.lookup_add<text>("map", "f"), hotstate::error, wrong);

    auto held = s.try_lock<guard>("lock", 1min);
    REQUIRE(held.has_value());
    CHECK_THROWS_MATCHES(s.get<guard>("lock"), hotstate::error, wrong);
    CHECK_FALSE(b.lock_release(hotstate::encode_key<guard>("ns"), held->owner_token(), held->fencing_token(), hotstate::release_attempt::first));  // not a lock: just no

    (void)s.increment<hits>("n", 5);
    CHECK_THROWS_MATCHES(s.try_lock<hits>("n", 1min), hotstate::error, wrong);
    CHECK(s.get<hits>("n") == 5);  // counters read as decimal text

    SECTION("decimal text counts as a counter, other text does not") {
        s.set<text>("t", "41");
        CHECK(b.counter_incr(hotstate::encode_key<text>("t"), 1, 0ms) == 42);
        CHECK(s.get<text>("t") == "42");
        s.set<text>("t", std::string(100, '1'));
        CHECK_THROWS_MATCHES(b.counter_incr(hotstate::encode_key<text>("t"), 1, 0ms), hotstate::error, wrong);
    }
    SECTION("an increment past 64 bits is refused and changes nothing") {
        (void)s.increment<numbers>("big", INT64_MAX - 1);
        CHECK(s.increment<numbers>("big") == INT64_MAX);
        CHECK_THROWS_MATCHES(s.increment<numbers>("big"), hotstate::error, kind_is(hotstate::errc::invalid_argument));
        CHECK(s.counter<numbers>("big") == INT64_MAX);
        (void)s.increment<numbers>("small", INT64_MIN);
        CHECK_THROWS_AS(s.increment<numbers>("small", -1), hotstate::error);
        CHECK(s.counter<numbers>("small") == INT64_MIN);
    }
    SECTION("overwriting or erasing a lookup drops its members") {
        (void)s.lookup_add<text>("ns", "other");
        CHECK(b.member_count() == 3);
        s.set<text>("ns", "now text");
        CHECK(b.member_count() == 1);
        CHECK(s.erase_all<text>() == 2);
        CHECK(b.member_count() == 0);
        CHECK_FALSE(s.lookup_contains<text>("ns", "member"));
    }
}

TEST_CASE("sqlite: delete by prefix covers 0xff bytes and the empty prefix", "[sqlite]") {
    hotstate::manual_clock clock;
    manual_backend b(sqlite_config{}, clock);
    b.kv_set(std::string("\xff\xff" "a", 3), "1", 0ms);
    b.kv_set(std::string("\xff\x01", 2), "2", 0ms);
    b.kv_set(std::string("\xff", 1), "3", 1s);
    b.kv_set(std::string("\xfe\xff", 2), "4", 0ms);
    clock.advance(1s);  // the third one expired: removed but not counted
    CHECK(b.kv_del_prefix(std::string("\xff", 1)) == 2);
    CHECK(b.kv_exists(std::string("\xfe\xff", 2)));
    CHECK(b.entry_count() == 1);
    CHECK(b.kv_del_prefix("") == 1);
    CHECK(b.entry_count() == 0);
}

TEST_CASE("sqlite: threads of one process never lose an increment nor share a lock", "[sqlite][concurrency]") {
    temp_dir dir;
    system_store s(sqlite_config{.path = dir.file("state.db"), .max_connections = 4});
    constexpr int thread_count = 4;
    constexpr int per_thread = 1500;
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> acquired{0};
    std::atomic<int> errors{0};
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < thread_count; ++t) {
            threads.emplace_back([&, t] {
                try {
                    for (int i = 0; i < per_thread; ++i) {
                        (void)s.increment<hits>("shared");
                        (void)s.increment<hits>("own-" + std::to_string(t));
                        if (i % 3 != 0) continue;
                        auto held = s.try_lock<guard>("the-one", 1min);
                        if (!held) continue;
                        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
                        acquired.fetch_add(1);
                        inside.fetch_sub(1);
                        if (!held->release()) errors.fetch_add(1);
                    }
                } catch (...) {
                    errors.fetch_add(1);
                }
            });
        }
    }
    CHECK(errors.load() == 0);
    CHECK(overlaps.load() == 0);
    CHECK(acquired.load() > 0);
    CHECK(s.counter<hits>("shared") == thread_count * per_thread);
    for (int t = 0; t < thread_count; ++t) CHECK(s.counter<hits>("own-" + std::to_string(t)) == per_thread);
    CHECK(s.backend().connection_count() <= 4);
}
