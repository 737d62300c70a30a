// hotstate/redis/cluster/config.hpp: settings of the Redis Cluster and Redis
// Sentinel backends, as plain data.
//
// Both are built from the parts in redis/node_settings.hpp (node_settings,
// retry_policy, lock_options), so their field names follow Stalwart's
// RedisCluster settings (urls, timeout, the pool fields,
// authUsername/authSecret, maxRetries/minRetryWait/maxRetryWait,
// readFromReplicas, protocolVersion). What this build's hiredis cannot do
// (RESP3, TLS) is refused when the backend is constructed, with the same
// errc::configuration messages as the standalone backend. URLs follow
// redis/config.hpp's rules, and every way of printing these configs
// (to_string, hotstate/redis/fmt.hpp) shows the passwords as ***.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <hotstate/detail/base/print_fields.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/node_settings.hpp>
#include <hotstate/secret.hpp>

namespace hotstate::redis {

/// Settings of the Redis Cluster backend.
struct cluster_config {
    /// Seed nodes, `redis://[user[:password]@]host:port` (user and password
    /// percent-decoded, as redis::config's url); any reachable one is enough
    /// to learn the whole cluster (CLUSTER SLOTS).
    std::vector<std::string> urls{"redis://127.0.0.1:7000"};
    /// Per node: timeouts, pool bounds, credentials (override the URLs'),
    /// protocol, keep-alive, TLS.
    node_settings node{};
    /// Backoff of redirects, TRYAGAIN, CLUSTERDOWN and connection errors.
    retry_policy retry{};
    /// Fence retention of the lock operations.
    lock_options locks{};
    /// Send reads (GET, EXISTS, counter reads, lookups) to replicas. Off by
    /// default, unlike EmailEngine's: a replica lags its master, so a read
    /// right after a write may miss it, which the store contract does not allow.
    bool read_from_replicas = false;
};

/// Settings of the Redis Sentinel backend.
struct sentinel_config {
    /// The name the sentinels monitor the master under (`sentinel monitor <name> ...`).
    std::string service_name = "mymaster";
    /// Sentinels, `redis://[user[:password]@]host:port` (percent-decoded
    /// credentials, as redis::config's url); asked in order.
    std::vector<std::string> sentinel_urls{"redis://127.0.0.1:26379"};
    /// ACL user name for the sentinels; overrides the URLs'.
    std::optional<std::string> sentinel_username{};
    /// Password for the sentinels; overrides the URLs'. Printed as ***.
    std::optional<secret> sentinel_secret{};
    /// Database SELECTed on the master.
    std::uint32_t db = 0;
    /// The master's connections: timeouts, pool bounds, credentials,
    /// protocol, keep-alive, TLS. The sentinels are asked with the same
    /// settings and their own credentials.
    node_settings node{};
    /// Backoff of connection errors, READONLY and LOADING.
    retry_policy retry{};
    /// Fence retention of the lock operations.
    lock_options locks{};
};

/// The cluster config for logs, from its field list: every secret printed as
/// ***, and `tls.enabled` as it takes effect (on when a seed URL is rediss://).
[[nodiscard]] inline std::string to_string(const cluster_config& settings) {
    cluster_config shown = settings;
    for (const auto& url : settings.urls) shown.node.tls.enabled = shown.node.tls.enabled || tls_in_url(url);
    return detail::print_fields("redis_cluster", shown, detail::redis::url_text::shown_string);
}

/// The sentinel config for logs, from its field list: every secret printed as ***.
[[nodiscard]] inline std::string to_string(const sentinel_config& settings) {
    return detail::print_fields("redis_sentinel", settings, detail::redis::url_text::shown_string);
}

}  // namespace hotstate::redis

BOOST_HANA_ADAPT_STRUCT(hotstate::redis::cluster_config, urls, node, retry, locks, read_from_replicas);
BOOST_HANA_ADAPT_STRUCT(hotstate::redis::sentinel_config, service_name, sentinel_urls, sentinel_username,
                        sentinel_secret, db, node, retry, locks);
