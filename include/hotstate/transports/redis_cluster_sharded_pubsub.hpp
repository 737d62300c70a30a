// hotstate/transports/redis_cluster_sharded_pubsub.hpp: coordinator messages
// over sharded pub/sub (Redis 7: SPUBLISH / SSUBSCRIBE) on a Redis Cluster.
//
//   auto transport = hotstate::transports::make_redis_cluster_sharded_pubsub(cluster_settings, options);
//
// Classic pub/sub on a cluster broadcasts every message over the cluster bus
// to every node; sharded pub/sub keeps a channel's messages on the nodes of
// its slot, which scales with the number of shards. The channel is routed like
// a key: SPUBLISH goes to the master of the channel's slot (through the
// cluster router, retried across a failover), the subscriber SSUBSCRIBEs on
// that master, and when the node dies or the slot moves (the server then ends
// the subscription with "sunsubscribe") it resubscribes where the slot lives
// now and reports the outage, as redis_pubsub does after any reconnect.
#pragma once

#include <utility>

#include <hotstate/detail/redis/link/cluster_link.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/transports/redis_pubsub.hpp>

namespace hotstate::transports {

/// Sharded pub/sub on a Redis Cluster (see the banner above).
using redis_cluster_sharded_pubsub = basic_redis_pubsub<detail::redis::link::cluster_link, sharded_pubsub_commands>;

/// A sharded pub/sub transport on the cluster `settings` names, routed by the channel.
[[nodiscard]] inline redis_cluster_sharded_pubsub make_redis_cluster_sharded_pubsub(
    const redis::cluster_config& settings, redis_pubsub_options options = {}) {
    detail::redis::link::cluster_link link(settings, options.channel);
    return redis_cluster_sharded_pubsub(std::move(link), std::move(options));
}

static_assert(Transport<redis_cluster_sharded_pubsub>);

}  // namespace hotstate::transports
