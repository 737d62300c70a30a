// An io_context run by threads of its own until stop() or the end of the
// object: what the asynchronous tests and their adapters run operations on.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace hotstate::testing {

/// `count` threads running `io` (kept busy by a work guard) until stop().
class io_threads {
public:
    explicit io_threads(int count = 1) {
        for (int i = 0; i < count; ++i) runners_.emplace_back([this] { io.run(); });
    }
    ~io_threads() { stop(); }
    io_threads(const io_threads&) = delete;
    io_threads& operator=(const io_threads&) = delete;

    /// Stops the context and joins its threads (once; later calls do nothing).
    void stop() {
        work_.reset();
        io.stop();
        for (auto& runner : runners_)
            if (runner.joinable()) runner.join();
    }
    [[nodiscard]] boost::asio::io_context::executor_type get_executor() noexcept { return io.get_executor(); }

    boost::asio::io_context io;

private:
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io.get_executor()};
    std::vector<std::thread> runners_;
};

}  // namespace hotstate::testing
