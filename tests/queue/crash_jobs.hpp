// What the crash test's driver and its worker processes share.
#pragma once

#include <chrono>

#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/queue.hpp>

namespace crash_test {

using namespace std::chrono_literals;

/// Jobs are their own number, as text.
struct jobs : hotstate::queue_category<70, "crash-jobs"> {};
using redis_store = hotstate::store<hotstate::backends::redis, jobs>;

/// Short leases so that a killed worker's jobs come back within the test.
inline const hotstate::queue_options options{.lease = 2s, .max_attempts = 1000, .backoff_base = 10ms,
                                             .backoff_max = 100ms};

/// The hash counting runs per job: field job, value how many times it ran.
inline constexpr const char* runs_key = "crash-test:runs";

/// Threads per worker process: the jobs one kill can leave half done.
inline constexpr std::size_t threads_per_worker = 2;

}  // namespace crash_test
