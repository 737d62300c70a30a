// The SQLite queue keeps every enqueue that returned when the writing process
// is SIGKILLed mid-run: the writer prints each id after its enqueue returned,
// the test kills it at a random point and finds every printed id in the file.
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/queue/sqlite_queue.hpp>

#include "sqlite/sqlite_fixture.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"

namespace {

struct jobs : hotstate::queue_category<70, "crash-jobs"> {};

std::vector<std::string> lines_of(const std::string& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

TEST_CASE("queue on SQLite: a writer SIGKILLed mid-run loses no acknowledged enqueue") {
    sqlite_test::temp_dir dir;
    const std::string db = dir.file("queue.db"), log = dir.file("writer.log");
    std::mt19937 random(std::random_device{}());
    const std::size_t kill_after = 100 + random() % 400;
    hotstate::testing::process writer({HOTSTATE_QUEUE_SQLITE_WRITER, db}, log);
    REQUIRE(hotstate::testing::eventually([&] { return lines_of(log).size() >= kill_after; }, std::chrono::seconds{60}));
    writer.kill();
    auto acknowledged = lines_of(log);
    if (!acknowledged.empty() && acknowledged.back().empty()) acknowledged.pop_back();
    hotstate::store<hotstate::backends::sqlite, jobs> store(hotstate::backends::sqlite_config{.path = db});
    auto queue = hotstate::queue<jobs>(store);
    const auto counts = queue.counts();
    CHECK(counts.waiting >= acknowledged.size());
    std::size_t lost = 0;
    for (const auto& id : acknowledged) lost += queue.enqueue("again", {.id = id}).enqueued;
    CHECK(lost == 0);
    INFO("acknowledged " << acknowledged.size() << ", stored " << counts.waiting);
}

}  // namespace
