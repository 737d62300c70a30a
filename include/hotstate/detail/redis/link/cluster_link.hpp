// hotstate/detail/redis/link/cluster_link.hpp: where the coordinator's Redis
// transports connect when the Redis is a cluster: the cluster model of the
// Link concept (detail/coordinator/link.hpp), beside detail::redis_link.
//
// Commands (PUBLISH, XADD) go through the cluster router: to the master of the
// routing key's slot, with the router's retries, so a publisher follows a
// failover like the store does. Pub/sub is cluster-wide on Redis Cluster: a
// PUBLISH on any node reaches subscribers on every node, so the dedicated
// subscriber connection may be opened on any live node. It prefers the master
// of the routing key's slot, then the other masters, then the replicas; when
// the node it used dies, the transport's reconnect loop calls it again and it
// moves on to the next node that answers. A stream reader must be on the
// stream's master: it is the first candidate (after a refresh), and a reader
// that landed elsewhere gets MOVED and reconnects.
#pragma once

#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/routing/cluster_router.hpp>
#include <hotstate/detail/redis/routing/router_support.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/detail/coordinator/link.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::redis::link {

/// A cluster router plus what is needed to open a dedicated connection on a live node.
class cluster_link {
public:
    /// Its own router over `settings` (validated: errc::configuration);
    /// `routing_key` picks the node commands go to (e.g. the channel name).
    cluster_link(const ::hotstate::redis::cluster_config& settings, std::string routing_key)
        : router_(std::make_shared<routing::cluster_router>(settings)), key_(std::move(routing_key)) {}

    /// Runs command value `command` as an exchange on the master of the
    /// routing key's slot: a MOVED or an ASK (the slot was resharded) is
    /// followed, a connection error retried within the router's budget, and a
    /// request that may have reached the server is sent again only when the
    /// command is idempotent (PUBLISH and XADD are not: a lost reply is the
    /// transport's send failure, which it handles: a durable one sends again,
    /// receivers drop repeated messages by their sequence numbers).
    template <class Command>
    typename Command::result_type execute(const Command& command) {
        auto ex = proto::exchange_of<true>(command, router_->retry_budget());
        return router_->execute(key_, routing::access::write, ex, Command::name, [&](::hotstate::redis::connection& c) {
            return detail::redis::attempt(c, ex, command);
        });
    }

    /// A new connection of its own on a live node, for a blocking reader.
    /// `read_timeout` zero means reads block until data or shutdown.
    [[nodiscard]] ::hotstate::redis::connection open_dedicated(std::chrono::milliseconds read_timeout) const {
        router_->refresh(router_->generation());  // a failover may have changed the nodes since
        std::string problems;
        for (const std::uint16_t index : candidates()) {
            auto& pool = router_->pool_of(index);
            try {
                ::hotstate::redis::connection conn = pool.open();
                conn.set_timeout(read_timeout);
                {
                    std::scoped_lock guard(*address_mutex_);
                    last_address_ = conn.address();
                }
                return conn;
            } catch (const error& e) {
                if (e.kind() == errc::authentication || e.kind() == errc::configuration) throw;
                if (!problems.empty()) problems += "; ";
                problems += routing::message_of(e);
            }
        }
        throw error(errc::connection, "hotstate: redis_cluster: no node accepted a connection (" +
                                          (problems.empty() ? std::string("no node known") : problems) + ")");
    }

    /// The node last opened for a dedicated connection (or the routing key's master), "host:port".
    [[nodiscard]] std::string address() const {
        {
            std::scoped_lock guard(*address_mutex_);
            if (!last_address_.empty()) return last_address_;
        }
        const auto master = router_->master_index(routing::key_slot(key_));
        return master == routing::slot_map::unassigned ? std::string("cluster") : router_->address_of(master).to_string();
    }
    /// The timeout configured for commands.
    [[nodiscard]] std::chrono::milliseconds command_timeout() const { return router_->settings().node.timeout; }
    /// The router (topology, counters).
    [[nodiscard]] routing::cluster_router& router() const noexcept { return *router_; }

private:
    /// Nodes in the order a subscriber tries them.
    std::vector<std::uint16_t> candidates() const {
        std::vector<std::uint16_t> order;
        const auto preferred = router_->master_index(routing::key_slot(key_));
        if (preferred != routing::slot_map::unassigned) order.push_back(preferred);
        for (const auto index : router_->current_masters())
            if (index != preferred) order.push_back(index);
        const auto known = router_->node_count();
        for (std::uint16_t index = 0; index < known; ++index)
            if (std::find(order.begin(), order.end(), index) == order.end()) order.push_back(index);
        return order;
    }

    std::shared_ptr<routing::cluster_router> router_;
    std::string key_;
    std::unique_ptr<std::mutex> address_mutex_ = std::make_unique<std::mutex>();
    mutable std::string last_address_;  // guarded by address_mutex_
};

static_assert(Link<cluster_link>);

}  // namespace hotstate::detail::redis::link
