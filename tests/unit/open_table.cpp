#include <cstdint>
#include <map>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/detail/base/open_table.hpp>

namespace {
using table = hotstate::detail::open_table<int>;
// A deliberately poor hash makes long probe runs and wrap-around common.
std::uint64_t weak_hash(const std::string& key) { return key.empty() ? 0 : static_cast<unsigned char>(key.back()) % 7; }
}  // namespace

TEST_CASE("open table: insert, find, erase, and probe runs that wrap around", "[unit][table]") {
    table t;
    CHECK(t.find("x", 1) == nullptr);
    for (int i = 0; i < 100; ++i) {
        const std::string key = "k" + std::to_string(i);
        t.insert(key, weak_hash(key)).value = i;
    }
    CHECK(t.size() == 100);
    for (int i = 0; i < 100; ++i) {
        const std::string key = "k" + std::to_string(i);
        auto* found = t.find(key, weak_hash(key));
        REQUIRE(found != nullptr);
        CHECK(found->value == i);
        CHECK(found->key() == key);
    }
    for (int i = 0; i < 100; i += 3) {
        const std::string key = "k" + std::to_string(i);
        CHECK(t.erase(key, weak_hash(key)));
        CHECK_FALSE(t.erase(key, weak_hash(key)));
    }
    for (int i = 0; i < 100; ++i) {
        const std::string key = "k" + std::to_string(i);
        CHECK((t.find(key, weak_hash(key)) != nullptr) == (i % 3 != 0));
    }
}

TEST_CASE("open table: matches std::map under random churn", "[unit][table]") {
    table t;
    std::map<std::string, int> model;
    std::mt19937_64 random(42);
    for (int step = 0; step < 200000; ++step) {
        const std::string key = std::string(1, '\0') + std::to_string(random() % 500);
        // some keys get a 6-bit hash, so collisions and long probe runs are common
        const std::uint64_t h = (key.size() % 2 == 0) ? std::hash<std::string>{}(key) : std::hash<std::string>{}(key) & 0x3f;
        switch (random() % 3) {
            case 0:
                if (t.find(key, h) == nullptr) {
                    t.insert(key, h).value = step;
                    model[key] = step;
                }
                break;
            case 1:
                REQUIRE(t.erase(key, h) == (model.erase(key) == 1));
                break;
            default: {
                auto* found = t.find(key, h);
                auto it = model.find(key);
                REQUIRE((found != nullptr) == (it != model.end()));
                if (found) REQUIRE(found->value == it->second);
            }
        }
        REQUIRE(t.size() == model.size());
    }
    std::size_t seen = 0;
    for (std::size_t i = 0; i < t.slot_count(); ++i) seen += t.node_at(i) != nullptr;
    CHECK(seen == model.size());
}

TEST_CASE("open table: binary keys and the empty key", "[unit][table]") {
    table t;
    const std::string binary("\0\xff\0", 3);
    t.insert(binary, 5).value = 1;
    t.insert("", 5).value = 2;
    CHECK(t.find(binary, 5)->value == 1);
    CHECK(t.find("", 5)->value == 2);
    CHECK(t.find(std::string("\0\xff", 2), 5) == nullptr);
}
