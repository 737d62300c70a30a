// The connection settings tests use: every wait short and bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <hotstate/redis/config.hpp>
#include <hotstate/redis/node_settings.hpp>

namespace hotstate::testing {

/// A node's settings for a test: a request times out after `timeout`, at most
/// `pool` connections; with `bounded_pool`, opening one and waiting for a free
/// one are bounded by `timeout` too.
inline redis::node_settings test_node(std::chrono::milliseconds timeout, std::size_t pool = 4, bool bounded_pool = true) {
    redis::node_settings node;
    node.timeout = timeout;
    node.pool_max_connections = pool;
    if (bounded_pool) {
        node.pool_timeout_create = timeout;
        node.pool_timeout_wait = timeout;
    }
    return node;
}

/// The config the transports' tests reach the server at `url` with: requests time out after 2 s.
inline redis::config transport_config(std::string url) {
    redis::config settings;
    settings.url = std::move(url);
    settings.node.timeout = std::chrono::seconds{2};
    return settings;
}
/// The same for a test server (support/redis_server.hpp) of the test's own.
template <class Server>
    requires requires(const Server& server) { server.url(); }
redis::config transport_config(const Server& server) {
    return transport_config(server.url());
}

}  // namespace hotstate::testing
