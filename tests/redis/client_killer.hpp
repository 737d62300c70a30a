// A client that kills every other normal client of a server in a loop
// (CLIENT KILL TYPE normal SKIPME yes), paced by the progress of the code under
// test, and the bounds of such a loop. Used by the at-most-once tests of the
// standalone and cluster backends.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <random>
#include <string>
#include <thread>

#include "support/redis_server.hpp"

namespace hotstate::testing {

/// Whether a kill loop has done enough: `kills` kills over at least `min_ops`
/// operations, or `max_ops` operations, or a minute (the bounds of every loop here).
struct kill_budget {
    std::uint64_t kills = 300, min_ops = 2000, max_ops = 40000;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    [[nodiscard]] bool done(std::uint64_t ops, std::uint64_t killed) const {
        return (killed >= kills && ops >= min_ops) || ops >= max_ops || std::chrono::steady_clock::now() >= deadline;
    }
};

/// Kills every normal client but its own, paced by the worker's progress: after
/// every 1 to 8 operations the worker finishes (a random count), so the kills
/// land at every point of an operation whatever the machine's speed, and the
/// worker always makes progress. Stops at stop().
class killer {
public:
    killer(const redis_server& server, std::atomic<std::uint64_t>& progress)
        : client_(server.host(), server.port()), progress_(progress), thread_([this] { loop(); }) {}
    killer(const killer&) = delete;
    killer& operator=(const killer&) = delete;
    ~killer() { stop(); }

    void stop() {
        if (!thread_.joinable()) return;
        stop_.store(true);
        advance(progress_);  // wakes the wait below (it returns on a changed value only)
        thread_.join();
    }
    [[nodiscard]] std::uint64_t kills() const noexcept { return kills_.load(); }
    /// Call after each operation of the worker.
    static void advance(std::atomic<std::uint64_t>& progress) {
        progress.fetch_add(1);
        progress.notify_all();
    }

private:
    void loop() {
        std::mt19937 random(20261201);
        while (!stop_.load()) {
            const std::uint64_t target = progress_.load() + 1 + random() % 8;
            for (std::uint64_t seen = progress_.load(); seen < target && !stop_.load(); seen = progress_.load())
                progress_.wait(seen);
            if (stop_.load()) break;
            try {
                client_.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
            } catch (const std::exception&) {
                return;  // the server is gone: kills() stops growing, which the test checks
            }
            kills_.fetch_add(1);
        }
    }

    raw_client client_;
    std::atomic<std::uint64_t>& progress_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> kills_{0};
    std::thread thread_;
};

}  // namespace hotstate::testing
