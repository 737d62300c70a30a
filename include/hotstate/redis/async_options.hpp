// hotstate/redis/async_options.hpp: the settings of the asynchronous client's
// one connection (backends::async_redis), and the label its operations' error
// messages carry; apart from the backend, so its connection (detail/async/)
// runs on these settings without a copy of them.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace hotstate::redis {

/// How the asynchronous client's one connection behaves.
struct async_options {
    /// Connecting + logging in, and every operation from its start to its reply
    /// (a request past it fails with errc::timeout).
    std::chrono::milliseconds timeout{std::chrono::seconds{10}};
    /// Operations queued or awaiting their reply at once; one more fails at
    /// once with errc::timeout ("queue full"), not sent.
    std::size_t max_pending = 65536;
    /// A PING when nothing was read for this long (0: never), so a server that
    /// went silent is noticed between operations.
    std::chrono::milliseconds health_interval{std::chrono::seconds{1}};
    /// First and largest wait between reconnect attempts (doubling).
    std::chrono::milliseconds min_backoff{10};
    /// The cap of the reconnect backoff.
    std::chrono::milliseconds max_backoff{1000};
};

/// What an asynchronous operation's error messages name: "hotstate: <operation>
/// on category '<category>': ..." (nothing added when `operation` is empty).
struct async_label {
    std::string_view operation{};  ///< e.g. "get"
    std::string_view category{};   ///< the key category's name
};

}  // namespace hotstate::redis
