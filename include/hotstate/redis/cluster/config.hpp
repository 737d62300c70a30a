// hotstate/redis/cluster/config.hpp: settings of the Redis Cluster and Redis
// Sentinel backends, as plain data.
//
// Field names follow the seeds' RedisCluster variant (urls, timeout, the pool
// fields, authUsername/authSecret, maxRetries/minRetryWait/maxRetryWait,
// readFromReplicas, protocolVersion). What this build's hiredis cannot do
// (RESP3, TLS) is refused when the backend is constructed, with the same
// errc::configuration messages as the standalone backend. URLs follow
// redis/config.hpp's rules, and every way of printing these configs
// (to_string, fmt) shows the passwords as ***.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <hotstate/detail/cluster/redirect.hpp>
#include <hotstate/redis/config.hpp>

namespace hotstate::redis {

/// Settings of the Redis Cluster backend.
struct cluster_config {
    /// Seed nodes, `redis://[user[:password]@]host:port` (user and password
    /// percent-decoded, as redis::config's url); any reachable one is enough
    /// to learn the whole cluster (CLUSTER SLOTS).
    std::vector<std::string> urls{"redis://127.0.0.1:7000"};
    /// Bound on connecting and on every command's round trip, per node.
    std::chrono::milliseconds timeout{std::chrono::seconds{10}};
    /// Per node: at most this many connections.
    std::size_t pool_max_connections = 10;
    /// Per node: bound on opening a new pooled connection.
    std::chrono::milliseconds pool_timeout_create{std::chrono::seconds{30}};
    /// Per node: how long a caller waits for a free connection.
    std::chrono::milliseconds pool_timeout_wait{std::chrono::seconds{30}};
    /// Per node: a connection idle longer than this is PINGed before reuse.
    std::chrono::milliseconds pool_timeout_recycle{std::chrono::seconds{30}};
    /// ACL user name for every node; overrides the URLs'.
    std::optional<std::string> auth_username{};
    /// Password for every node; overrides the URLs'. Never printed.
    std::optional<std::string> auth_secret{};
    /// Retries after the first attempt (redirects, TRYAGAIN, CLUSTERDOWN, connection errors).
    unsigned max_retries = 10;
    /// First backoff wait; doubles on each further wait.
    std::chrono::milliseconds min_retry_wait{10};
    /// Cap of the backoff wait.
    std::chrono::milliseconds max_retry_wait{2000};
    /// Send reads (GET, EXISTS, counter reads, lookups) to replicas. Off by
    /// default, unlike the seeds: a replica lags its master, so a read right
    /// after a write may miss it, which the store contract does not allow.
    bool read_from_replicas = false;
    /// RESP2 only with hiredis 0.14; resp3 is a configuration error.
    protocol_version protocol = protocol_version::resp2;
    /// TCP keep-alive on every connection.
    bool tcp_keepalive = true;
    /// How long a lock's fencing state outlives its lease.
    std::chrono::milliseconds fence_retention{std::chrono::minutes{10}};
    /// TLS for every node (redis-server `--tls-cluster yes`); `rediss://` seed
    /// URLs turn `tls.enabled` on.
    tls_options tls{};

    /// The retry settings as the redirect state machine takes them.
    [[nodiscard]] detail::cluster::retry_policy retries() const noexcept {
        return {max_retries, min_retry_wait, max_retry_wait};
    }
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
    /// Password for the sentinels; overrides the URLs'. Never printed.
    std::optional<std::string> sentinel_secret{};
    /// ACL user name for the master.
    std::optional<std::string> auth_username{};
    /// Password for the master. Never printed.
    std::optional<std::string> auth_secret{};
    /// Database SELECTed on the master.
    std::uint32_t db = 0;
    /// Bound on connecting and on every command's round trip.
    std::chrono::milliseconds timeout{std::chrono::seconds{10}};
    /// At most this many connections to the master.
    std::size_t pool_max_connections = 10;
    /// Bound on opening a new pooled connection.
    std::chrono::milliseconds pool_timeout_create{std::chrono::seconds{30}};
    /// How long a caller waits for a free connection.
    std::chrono::milliseconds pool_timeout_wait{std::chrono::seconds{30}};
    /// A connection idle longer than this is PINGed before reuse.
    std::chrono::milliseconds pool_timeout_recycle{std::chrono::seconds{30}};
    /// Retries after the first attempt (connection errors, READONLY, LOADING).
    unsigned max_retries = 10;
    /// First backoff wait; doubles on each further wait.
    std::chrono::milliseconds min_retry_wait{10};
    /// Cap of the backoff wait.
    std::chrono::milliseconds max_retry_wait{2000};
    /// RESP2 only with hiredis 0.14; resp3 is a configuration error.
    protocol_version protocol = protocol_version::resp2;
    /// TCP keep-alive on every connection.
    bool tcp_keepalive = true;
    /// How long a lock's fencing state outlives its lease.
    std::chrono::milliseconds fence_retention{std::chrono::minutes{10}};
    /// TLS settings. The master (and its replicas) are spoken to over TLS when
    /// `tls.enabled`; a sentinel when its URL is `rediss://`, with the same files.
    tls_options tls{};

    /// The retry settings as the retry state machine takes them.
    [[nodiscard]] detail::cluster::retry_policy retries() const noexcept {
        return {max_retries, min_retry_wait, max_retry_wait};
    }
};

/// The cluster config for logs: every secret printed as ***.
[[nodiscard]] inline std::string to_string(const cluster_config& settings) {
    std::string out = "redis_cluster{urls=[";
    for (std::size_t i = 0; i < settings.urls.size(); ++i) {
        if (i) out += ", ";
        out += detail_config::redact(settings.urls[i]);
    }
    out += "], timeout=" + std::to_string(settings.timeout.count()) + "ms";
    out += ", pool_max_connections=" + std::to_string(settings.pool_max_connections);
    if (settings.auth_username) out += ", auth_username=" + detail_config::quote(*settings.auth_username);
    if (settings.auth_secret) out += ", auth_secret=***";
    out += ", max_retries=" + std::to_string(settings.max_retries);
    out += ", min_retry_wait=" + std::to_string(settings.min_retry_wait.count()) + "ms";
    out += ", max_retry_wait=" + std::to_string(settings.max_retry_wait.count()) + "ms";
    out += settings.read_from_replicas ? ", read_from_replicas=on" : ", read_from_replicas=off";
    out += settings.protocol == protocol_version::resp2 ? ", protocol=resp2}" : ", protocol=resp3}";
    return out;
}

/// The sentinel config for logs: every secret printed as ***.
[[nodiscard]] inline std::string to_string(const sentinel_config& settings) {
    std::string out = "redis_sentinel{service_name=" + detail_config::quote(settings.service_name) + ", sentinel_urls=[";
    for (std::size_t i = 0; i < settings.sentinel_urls.size(); ++i) {
        if (i) out += ", ";
        out += detail_config::redact(settings.sentinel_urls[i]);
    }
    out += "]";
    if (settings.sentinel_username) out += ", sentinel_username=" + detail_config::quote(*settings.sentinel_username);
    if (settings.sentinel_secret) out += ", sentinel_secret=***";
    if (settings.auth_username) out += ", auth_username=" + detail_config::quote(*settings.auth_username);
    if (settings.auth_secret) out += ", auth_secret=***";
    out += ", timeout=" + std::to_string(settings.timeout.count()) + "ms";
    out += ", max_retries=" + std::to_string(settings.max_retries) + "}";
    return out;
}

}  // namespace hotstate::redis

#ifdef HOTSTATE_REDIS_HAS_FMT
/// Formats a redis::cluster_config with its secrets masked (same text as to_string).
template <>
struct fmt::formatter<hotstate::redis::cluster_config> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const hotstate::redis::cluster_config& settings, FormatContext& ctx) const {
        const std::string text = hotstate::redis::to_string(settings);
        return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};
/// Formats a redis::sentinel_config with its secrets masked (same text as to_string).
template <>
struct fmt::formatter<hotstate::redis::sentinel_config> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const hotstate::redis::sentinel_config& settings, FormatContext& ctx) const {
        const std::string text = hotstate::redis::to_string(settings);
        return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};
#endif
