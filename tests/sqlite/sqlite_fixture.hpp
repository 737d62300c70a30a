// Shared helpers of the SQLite backend's tests: a temporary directory that
// removes itself, the conformance fixtures, and the categories the worker
// processes and the tests agree on.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <hotstate/backends/sqlite.hpp>
#include <hotstate/category.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

#include "laws/fixture.hpp"

namespace sqlite_test {

/// A fresh directory under /tmp, removed with everything in it on destruction.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "hotstate-sqlite-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

struct text : hotstate::category<1, "text"> {};
struct hits : hotstate::category<2, "hits", std::int64_t> {};
struct guard : hotstate::category<3, "guard"> {};
struct domains : hotstate::category<4, "domains"> {};
struct numbers : hotstate::category<5, "numbers", std::int64_t> {};

using manual_backend = hotstate::backends::basic_sqlite<hotstate::manual_clock>;
using manual_store = hotstate::store<manual_backend, text, hits, guard, domains, numbers>;
using system_store = hotstate::store<hotstate::backends::sqlite, text, hits, guard, domains, numbers>;

}  // namespace sqlite_test

/// Conformance fixture: a database file in a fresh temp dir, manual clock.
struct sqlite_file_fixture : laws::manual_clock_only {
    sqlite_test::temp_dir dir;

    template <class... Categories>
    auto make_store() {
        return store_on<sqlite_test::manual_backend, Categories...>(
            hotstate::backends::sqlite_config{.path = dir.file("conformance.db")});
    }
};

/// Conformance fixture: a private ":memory:" database, manual clock.
struct sqlite_memory_fixture : laws::manual_clock_only {
    template <class... Categories>
    auto make_store() {
        return store_on<sqlite_test::manual_backend, Categories...>(hotstate::backends::sqlite_config{.path = ":memory:"});
    }
};
