// hotstate/async_backend.hpp: the AsyncStoreBackend concept, the role of the
// asynchronous store's backends.
//
// Models (each static_asserts the concept):
//
//   | model                          | header                              | when                                  |
//   |--------------------------------|-------------------------------------|---------------------------------------|
//   | backends::async_redis          | hotstate/backends/async_redis.hpp   | one Redis server (TCP, Unix, TLS):    |
//   |                                |                                     | one multiplexed, pipelined connection |
//   | backends::async_redis_cluster  | hotstate/backends/async_redis_cluster.hpp | a Redis Cluster: one multiplexed |
//   |                                |                                     | connection per node, slot routing     |
#pragma once

#include <utility>  // g++ 12: before boost/asio headers

#include <cstdint>
#include <exception>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include <hotstate/backend.hpp>
#include <hotstate/redis/async_options.hpp>

namespace hotstate {

/// A backend the asynchronous store can run on: multiplexed connections and
/// the executor completions default to. Models: backends::async_redis (one
/// standalone server), backends::async_redis_cluster (a Redis Cluster).
template <class B>
concept AsyncStoreBackend = requires(B& b, std::string key, std::uint64_t fence, release_attempt attempt,
                                     void (*handler)(std::exception_ptr, bool)) {
    { b.get_executor() } -> std::convertible_to<boost::asio::any_io_executor>;
    b.close();
    b.async_kv_del(redis::async_label{}, key, handler);
    b.async_lock_release(redis::async_label{}, key, key, fence, attempt, handler);
};

}  // namespace hotstate
