// hotstate/redis/node_settings.hpp: the parts the Redis configs share.
//
// redis::config, redis::cluster_config and redis::sentinel_config are built
// from these by composition, so a timeout, a pool bound, a credential, TLS or
// keep-alive means the same in each and is validated, printed and (later)
// loaded from JSON by one field list:
//   node_settings   how each connection to one server is opened and pooled
//   retry_policy    how the cluster and sentinel routers back off and give up
//   lock_options    how long a lock's fencing state outlives its lease
//
//   hotstate::redis::config config{.url = "redis://10.0.0.5:6379/2",
//                                  .node = {.timeout = 2s, .pool_max_connections = 16}};
//
// Every struct here is a Hana Struct (BOOST_HANA_ADAPT_STRUCT at the end), and
// passwords are hotstate::secret, so every printout shows them as ***.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/hana/adapt_struct.hpp>

#include <hotstate/secret.hpp>
#include <hotstate/tls.hpp>

namespace hotstate::redis {

/// TLS settings of a connection to a Redis server (redis-server's `tls-port`):
/// hotstate's one TLS settings type (hotstate/tls.hpp). A program that uses
/// them includes hotstate/redis/tls.hpp in one translation unit.
using tls_options = ::hotstate::tls_options;

/// The most connections a pool may have (`pool_max_connections`): Redis's own
/// default `maxclients`, so one process cannot be configured to take every
/// connection a default server accepts and more.
inline constexpr std::size_t max_pool_connections = 10000;

/// The wire protocol to speak. hiredis 0.14 only has RESP2.
enum class protocol_version : std::uint8_t { resp2, resp3 };

/// "resp2" or "resp3".
[[nodiscard]] constexpr std::string_view to_string(protocol_version version) noexcept {
    return version == protocol_version::resp2 ? "resp2" : "resp3";
}

/// How each connection to one Redis server is opened, pooled and logged in to.
/// In a cluster or behind sentinels, every node gets the same settings.
struct node_settings {
    /// Bound on connecting and on every command's round trip.
    std::chrono::milliseconds timeout{std::chrono::seconds{10}};
    /// At most this many connections to the server: 1..max_pool_connections (10000).
    std::size_t pool_max_connections = 10;
    /// Bound on connecting a new pooled connection (its AUTH, SELECT and script
    /// load are commands, each bounded by `timeout`).
    std::chrono::milliseconds pool_timeout_create{std::chrono::seconds{30}};
    /// How long a caller waits for a free connection before a timeout error.
    std::chrono::milliseconds pool_timeout_wait{std::chrono::seconds{30}};
    /// A connection idle longer than this is checked with PING before reuse.
    std::chrono::milliseconds pool_timeout_recycle{std::chrono::seconds{30}};
    /// ACL user name (`AUTH user pass`); overrides the URL's.
    std::optional<std::string> auth_username{};
    /// Password; overrides the URL's. Printed as ***.
    std::optional<secret> auth_secret{};
    /// RESP2 only with hiredis 0.14; resp3 is a configuration error.
    protocol_version protocol = protocol_version::resp2;
    /// TCP keep-alive on every connection (deployments commonly set tcp-keepalive 300).
    bool tcp_keepalive = true;
    /// TLS to the server (support compiled in by hotstate/redis/tls.hpp).
    tls_options tls{};
};

/// How a router retries what failed without running (redirects, TRYAGAIN,
/// CLUSTERDOWN, READONLY, LOADING, connections that could not be opened).
struct retry_policy {
    /// Retries after the first attempt.
    unsigned max_retries = 10;
    /// First backoff wait; doubles on each further wait.
    std::chrono::milliseconds min_retry_wait{10};
    /// Cap of the backoff wait.
    std::chrono::milliseconds max_retry_wait{2000};
};

/// Settings of the lock operations (try_lock, extend).
struct lock_options {
    /// How long a lock's fencing state outlives its lease (as backends::memory_config's).
    /// The Redis lock no longer needs it (detail/redis/proto/scripts.hpp): its fence lives as
    /// long as the lease's expiry, and a new lock's fences start at the server's TIME.
    std::chrono::milliseconds fence_retention{std::chrono::minutes{10}};
};

}  // namespace hotstate::redis

BOOST_HANA_ADAPT_STRUCT(hotstate::redis::tls_options, enabled, ca_file, ca_path, cert_file, key_file, server_name,
                        verify_peer);
BOOST_HANA_ADAPT_STRUCT(hotstate::redis::node_settings, timeout, pool_max_connections, pool_timeout_create,
                        pool_timeout_wait, pool_timeout_recycle, auth_username, auth_secret, protocol, tcp_keepalive,
                        tls);
BOOST_HANA_ADAPT_STRUCT(hotstate::redis::retry_policy, max_retries, min_retry_wait, max_retry_wait);
BOOST_HANA_ADAPT_STRUCT(hotstate::redis::lock_options, fence_retention);
