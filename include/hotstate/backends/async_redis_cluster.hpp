// hotstate/backends/async_redis_cluster.hpp: backends::async_redis_cluster,
// the asynchronous store backend for a Redis Cluster, on the user's executor.
//
// Which asynchronous backend:
//   - backends::async_redis: one standalone server (or a Unix socket, or TLS);
//     one multiplexed connection; pipelines (async_pipeline) too.
//   - backends::async_redis_cluster: a Redis Cluster; one multiplexed
//     connection per master (and replica, when reading from replicas),
//     opened when first used; each operation goes to
//     the master of its key's slot and follows MOVED/ASK, retries TRYAGAIN,
//     CLUSTERDOWN, LOADING and unreachable nodes with the cluster_config's
//     retry policy (the blocking redis_cluster's rules), and finds a promoted
//     replica by itself after a failover (detail/async/routing/cluster_route.hpp).
//     With read_from_replicas, reads (GET, EXISTS, counter reads, lookups)
//     go to a replica of the slot's master (its connections log in with
//     READONLY), a failed one retried on the master; a replica lags its
//     master, so a read right after a write may miss it.
//     Not supported: async_pipeline (its keys may span slots; calling it is a
//     compile error naming the alternative). erase_all SCANs every master
//     there is when it starts; a failure of a node during it fails it
//     (errc::connection) rather than retrying.
//
// Each connection behaves as async_redis's (bounded queue, timeouts, health
// checks, reconnect, at most once: detail/async/io/connection.hpp), except that
// requests queued for a node that cannot be reached fail over to the retry
// path at once instead of waiting out their deadline.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <cstdint>
#include <memory>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hotstate/async_backend.hpp>
#include <hotstate/detail/async/routing/cluster_route.hpp>
#include <hotstate/detail/async/io/connection.hpp>
#include <hotstate/detail/async/routing/redis_operations.hpp>
#include <hotstate/redis/async_options.hpp>
#include <hotstate/redis/cluster/config.hpp>

namespace hotstate::backends {

/// A Redis Cluster through one multiplexed connection per master, run on the
/// executor given; for hotstate::async_store. The operations (async_kv_get,
/// async_counter_incr, async_lock_acquire...) are
/// detail::async::redis_operations', each routed by its key's slot.
class async_redis_cluster : public detail::async::redis_operations<async_redis_cluster> {
    friend class detail::async::redis_operations<async_redis_cluster>;
    using base = detail::async::redis_operations<async_redis_cluster>;

    [[nodiscard]] detail::async::cluster_route route_of(std::string_view key, bool read) { return cluster_->route_of(key, read); }
    /// A prefix is scanned on every master of a topology read now.
    [[nodiscard]] boost::asio::awaitable<std::vector<std::shared_ptr<detail::async::connection>>> scan_nodes() {
        const bool read = co_await cluster_->read_topology();  // g++ 12: not inside && (miscompiled)
        if (!read && cluster_->generation() == 0)
            throw error(errc::connection, "hotstate: async_redis_cluster: erase_all: no node answered CLUSTER SLOTS");
        co_return cluster_->master_links();
    }

public:
    /// Learns the cluster from `settings.urls` (any reachable seed) in the
    /// background, on `executor`; `options` are every node connection's
    /// (timeout per attempt, queue bound, health checks, reconnect backoff).
    /// Throws errc::configuration for settings the blocking backend refuses.
    async_redis_cluster(boost::asio::any_io_executor executor, const hotstate::redis::cluster_config& settings,
                        hotstate::redis::async_options options = {})
        : base(executor, settings.locks.fence_retention.count()),
          cluster_(std::make_shared<detail::async::cluster_state>(executor, settings, options)) {
        cluster_->start();
    }
    async_redis_cluster(const async_redis_cluster&) = delete;
    async_redis_cluster& operator=(const async_redis_cluster&) = delete;
    /// Closes every connection (see close()).
    ~async_redis_cluster() { cluster_->close(); }

    /// Closes every node's connection: their loops end, so io_context::run()
    /// returns once nothing else is pending; operations still waiting fail with
    /// errc::connection, and later ones fail at once. Thread-safe; closing twice
    /// is harmless.
    void close() { cluster_->close(); }

    /// Topology reads applied (CLUSTER SLOTS).
    [[nodiscard]] std::uint64_t refresh_count() const noexcept { return cluster_->refresh_count(); }
    /// Attempts sent again (redirects, backoffs).
    [[nodiscard]] std::uint64_t retry_count() const noexcept { return cluster_->retry_count(); }
    /// MOVED replies followed.
    [[nodiscard]] std::uint64_t moved_count() const noexcept { return cluster_->moved_count(); }
    /// ASK replies followed.
    [[nodiscard]] std::uint64_t ask_count() const noexcept { return cluster_->ask_count(); }
    /// Nodes known (seeds, masters, replicas, redirect targets).
    [[nodiscard]] std::size_t node_count() const { return cluster_->node_count(); }

    /// Not on a cluster: a pipeline's keys may live on different masters.
    template <class Token, class... Ops>
    auto async_pipeline(std::tuple<Ops...>, Token&&) {
        static_assert(sizeof(Token) == 0,
                      "hotstate: async_pipeline is not supported by backends::async_redis_cluster (the operations' "
                      "keys may live on different masters); issue the operations one by one, they are pipelined "
                      "on each master's connection anyway");
    }

private:
    std::shared_ptr<detail::async::cluster_state> cluster_;
};

static_assert(AsyncStoreBackend<async_redis_cluster>);

}  // namespace hotstate::backends
