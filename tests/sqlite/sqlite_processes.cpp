// Several processes on one database file: counters and locks stay atomic,
// and what a process wrote survives its death.
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <csignal>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sqlite/sqlite_fixture.hpp"
#include "support/eventually.hpp"

extern char** environ;

using namespace std::chrono_literals;
using hotstate::testing::eventually;
using namespace sqlite_test;
using hotstate::backends::sqlite_config;

namespace {

/// A running sqlite_worker; killed and reaped on destruction if still running.
class worker {
public:
    explicit worker(std::vector<std::string> args) {
        args.insert(args.begin(), HOTSTATE_SQLITE_WORKER);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    }
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;
    ~worker() {
        if (pid_ > 0 && !status_) {
            kill(pid_, SIGKILL);
            int ignored = 0;
            waitpid(pid_, &ignored, 0);
        }
    }
    [[nodiscard]] bool started() const noexcept { return pid_ > 0; }
    /// The exit status once it has exited (-1 when killed by a signal).
    std::optional<int> poll() {
        if (!status_ && pid_ > 0) {
            int raw = 0;
            if (waitpid(pid_, &raw, WNOHANG) == pid_) status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
        }
        return status_;
    }
    /// Waits (with a deadline) for the exit status.
    std::optional<int> finish(std::chrono::milliseconds deadline = 120s) {
        eventually([&] { return poll().has_value(); }, deadline);
        return status_;
    }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace

TEST_CASE("sqlite: two processes incrementing one counter 10,000 times each lose nothing", "[sqlite][processes]") {
    temp_dir dir;
    const std::string path = dir.file("shared.db");
    system_store s(sqlite_config{.path = path});  // creates the file before the workers race to
    worker a({"increment", path, "10000"});
    worker b({"increment", path, "10000"});
    REQUIRE(a.started());
    REQUIRE(b.started());
    s.set<text>("go", "1");
    CHECK(a.finish() == 0);
    CHECK(b.finish() == 0);
    CHECK(s.counter<hits>("shared") == 20000);
}

TEST_CASE("sqlite: processes racing to create the same new file all get one schema", "[sqlite][processes]") {
    temp_dir dir;
    const std::string path = dir.file("fresh.db");
    std::vector<std::unique_ptr<worker>> workers;
    for (int i = 0; i < 4; ++i) workers.push_back(std::make_unique<worker>(std::vector<std::string>{"increment", path, "500"}));
    system_store s(sqlite_config{.path = path});  // races them too
    s.set<text>("go", "1");
    for (auto& w : workers) CHECK(w->finish() == 0);
    CHECK(s.counter<hits>("shared") == 2000);
}

TEST_CASE("sqlite: a lock excludes other processes; fencing tokens only grow", "[sqlite][processes]") {
    temp_dir dir;
    const std::string path = dir.file("shared.db");
    system_store s(sqlite_config{.path = path});
    worker a({"lock", path, "2000"});
    worker b({"lock", path, "2000"});
    REQUIRE(a.started());
    REQUIRE(b.started());
    s.set<text>("go", "1");
    CHECK(a.finish() == 0);
    CHECK(b.finish() == 0);
    const auto acquired = s.counter<hits>("acquired");
    INFO("acquisitions: " << acquired);
    CHECK(acquired > 0);
    CHECK(s.get<numbers>("value") == acquired);  // no read-then-write was interleaved
    CHECK(s.counter<hits>("regressions") == 0);
    CHECK(s.counter<hits>("lost") == 0);
}

TEST_CASE("sqlite: a GCRA limit shared by two processes admits exactly its burst", "[sqlite][processes]") {
    temp_dir dir;
    const std::string path = dir.file("shared.db");
    system_store s(sqlite_config{.path = path});
    // one request a day with bursts of 1000: 2 x 1000 attempts within seconds
    // admit exactly 1000, unless two read-compute-writes interleave
    worker a({"gcra", path, "1000"});
    worker b({"gcra", path, "1000"});
    REQUIRE(a.started());
    REQUIRE(b.started());
    s.set<text>("go", "1");
    CHECK(a.finish() == 0);
    CHECK(b.finish() == 0);
    CHECK(s.counter<hits>("allowed") == 1000);
}

TEST_CASE("sqlite: three processes taking the same 1,000 codes get each exactly once", "[sqlite][processes]") {
    temp_dir dir;
    const std::string path = dir.file("shared.db");
    system_store s(sqlite_config{.path = path});
    for (int i = 0; i < 1000; ++i) s.set<text>("code-" + std::to_string(i), "grant", 1h);
    worker a({"take", path, "1000"});
    worker b({"take", path, "1000"});
    worker c({"take", path, "1000"});
    REQUIRE(a.started());
    REQUIRE(b.started());
    REQUIRE(c.started());
    s.set<text>("go", "1");
    CHECK(a.finish() == 0);
    CHECK(b.finish() == 0);
    CHECK(c.finish() == 0);
    CHECK(s.counter<hits>("taken") == 1000);  // a code taken twice would count twice
    CHECK_FALSE(s.exists<text>("code-0"));
    CHECK_FALSE(s.exists<text>("code-999"));
}

TEST_CASE("sqlite: what a process wrote survives its death, its lock included", "[sqlite][processes]") {
    temp_dir dir;
    const std::string path = dir.file("restart.db");
    {
        worker w({"write", path});
        REQUIRE(w.started());
        REQUIRE(w.finish() == 0);
    }
    system_store s(sqlite_config{.path = path});
    CHECK(s.get<text>("forever") == "kept");
    CHECK(s.get<text>("for-an-hour") == "kept too");
    CHECK(s.counter<hits>("logins") == 42);
    CHECK(s.lookup_contains<domains>("blocked", "spam.example"));
    CHECK(s.lookup_get<domains>("redirect", "t.co") == "twitter");
    // the dead process's lease still holds: nobody else gets the lock before it runs out
    CHECK_FALSE(s.try_lock<guard>("job", 1min).has_value());
    CHECK(s.get<numbers>("fence").value_or(0) > 0);
}
