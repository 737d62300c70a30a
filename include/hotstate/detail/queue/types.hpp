// The raw vocabulary every queue engine speaks: encoded queue keys, job ids
// and payload bytes, times in milliseconds of the backend's clock. The typed
// front end (hotstate/queue.hpp) builds on it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hotstate::detail::queue {

/// One job to enqueue, as bytes.
struct job_spec {
    std::string_view id;
    std::string_view payload;
    std::int64_t priority = 0;
    std::int64_t delay_ms = 0;
};

/// A job handed to a worker.
struct raw_claim {
    std::string id;
    std::string payload;
    std::int64_t attempt = 0;          ///< 1 on the first claim
    std::int64_t lease_until_ms = 0;   ///< by the backend's clock
};

/// What an owner-checked call found.
enum class owner_check : std::uint8_t {
    ok,         ///< the caller held the lease; the change was made
    not_owner,  ///< the job exists but is not leased to this owner (taken over, released, retried)
    missing,    ///< no such job (acked, purged, or never there)
};

/// Jobs per state.
struct raw_counts {
    std::uint64_t waiting = 0;
    std::uint64_t delayed = 0;
    std::uint64_t active = 0;
    std::uint64_t dead = 0;
};

/// A dead-lettered job.
struct raw_dead {
    std::string id;
    std::string payload;
    std::int64_t attempts = 0;
    std::string last_error;
};

}  // namespace hotstate::detail::queue
