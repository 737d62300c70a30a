// A child process owned by a test: started with posix_spawnp, its output sent
// to a log file, stopped (SIGTERM, then SIGKILL after a grace period) and reaped
// when the object dies, so a failing test never leaves a server behind.
//
//   hotstate::testing::process server({"redis-server", "/tmp/x/redis.conf"}, "/tmp/x/redis.log");
//   server.running();   // false once it exited (reaped without blocking)
//   server.stop();      // SIGTERM, wait, SIGKILL if needed
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

extern char** environ;

namespace hotstate::testing {

/// An owned child process; move-only, stopped and reaped on destruction.
class process {
public:
    process() = default;

    /// Starts `argv[0]` (looked up in PATH) with `argv`; stdout and stderr go to
    /// `log_file` (appended), or to /dev/null when it is empty.
    explicit process(std::vector<std::string> argv, std::filesystem::path log_file = {})
        : argv_(std::move(argv)), log_(std::move(log_file)) {
        if (argv_.empty()) throw std::invalid_argument("process: empty argv");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        const std::string target = log_.empty() ? std::string("/dev/null") : log_.string();
        posix_spawn_file_actions_addopen(&actions, 1, target.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawnattr_t attributes;
        posix_spawnattr_init(&attributes);
        // its own process group, so a Ctrl-C aimed at the test reaches us first and we clean up
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attributes, 0);
        std::vector<char*> raw;
        raw.reserve(argv_.size() + 1);
        for (auto& arg : argv_) raw.push_back(arg.data());
        raw.push_back(nullptr);
        pid_t child = 0;
        const int rc = posix_spawnp(&child, raw[0], &actions, &attributes, raw.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
        if (rc != 0) throw std::runtime_error("process: cannot start " + argv_[0] + ": " + std::strerror(rc));
        pid_ = child;
    }

    process(const process&) = delete;
    process& operator=(const process&) = delete;
    process(process&& other) noexcept
        : argv_(std::move(other.argv_)), log_(std::move(other.log_)), pid_(std::exchange(other.pid_, -1)),
          status_(other.status_) {}
    process& operator=(process&& other) noexcept {
        if (this != &other) {
            stop();
            argv_ = std::move(other.argv_);
            log_ = std::move(other.log_);
            pid_ = std::exchange(other.pid_, -1);
            status_ = other.status_;
        }
        return *this;
    }
    ~process() { stop(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] const std::filesystem::path& log_file() const noexcept { return log_; }

    /// Whether the child is still alive; reaps it without blocking when it exited.
    [[nodiscard]] bool running() {
        if (pid_ <= 0) return false;
        int status = 0;
        const pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == 0) return true;
        if (done == pid_) status_ = status;
        pid_ = -1;
        return false;
    }

    /// The raw wait status once the child exited.
    [[nodiscard]] std::optional<int> exit_status() const noexcept { return status_; }

    /// Sends `signal` to the child (SIGSTOP/SIGCONT freeze and thaw a server).
    void signal(int signal_number) const {
        if (pid_ > 0) ::kill(pid_, signal_number);
    }

    /// Asks the child to stop (`signal_number`), waits up to `grace`, then kills it; always reaps.
    void stop(int signal_number = SIGTERM, std::chrono::milliseconds grace = std::chrono::seconds{5}) noexcept {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGCONT);  // a stopped child would never handle SIGTERM
        ::kill(pid_, signal_number);
        const auto until = std::chrono::steady_clock::now() + grace;
        for (;;) {
            int status = 0;
            const pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_ || (done < 0 && errno != EINTR)) {
                if (done == pid_) status_ = status;
                break;
            }
            if (std::chrono::steady_clock::now() >= until) {
                ::kill(pid_, SIGKILL);
                if (::waitpid(pid_, &status, 0) == pid_) status_ = status;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{2});  // polling a child's exit, not synchronisation
        }
        pid_ = -1;
    }

    /// Kills the child at once (SIGKILL) and reaps it: a crash, as a test sees it.
    void kill() noexcept { stop(SIGKILL, std::chrono::seconds{5}); }

    /// The log file's content (for failure messages).
    [[nodiscard]] std::string log() const {
        if (log_.empty()) return {};
        std::ifstream in(log_);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

private:
    std::vector<std::string> argv_;
    std::filesystem::path log_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace hotstate::testing
